"""One trial: train a model at one point of the space and score it on the validation set."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.dataset import Dataset

OK = "ok"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Trial:
    """The outcome of one call of the objective; `params` hold plain JSON types."""

    index: int
    params: dict[str, Any]
    seed: int
    status: str
    score: float | None  # validation accuracy after the last epoch; None when failed
    val_loss: float | None
    seconds: float
    error: str | None = None
    model_path: str | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == OK

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "params": self.params, "seed": self.seed, "status": self.status,
            "score": self.score, "val_loss": self.val_loss, "seconds": round(self.seconds, 3),
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Trial:
        return cls(
            index=data["index"], params=data["params"], seed=data["seed"], status=data["status"],
            score=data["score"], val_loss=data.get("val_loss"), seconds=data["seconds"], error=data.get("error"),
        )


def trial_seed(search_seed: int, index: int) -> int:
    """The training seed of trial `index`: derived from both, so trials never share a stream."""
    return int(np.random.SeedSequence([search_seed, index]).generate_state(1)[0] & 0x7FFFFFFF)


def trial_log_name(index: int, params: dict[str, Any]) -> str:
    """A TensorBoard run name that shows the hyperparameters, like the seed blog's log folders."""
    parts = [f"trial_{index:03d}"]
    for name, value in params.items():
        if isinstance(value, float):
            text = f"{value:.1e}"
        else:
            text = str(value)
        parts.append(f"{name}_{text}")
    return "_".join(parts).replace("/", "-")


def run_trial(
    *,
    create_model: Callable[..., Any],
    params: dict[str, Any],
    data: Dataset,
    index: int,
    seed: int,
    epochs: int,
    batch_size: int,
    log_dir: Path | None = None,
) -> tuple[Trial, Any]:
    """Train one model; return the trial and the trained model (None when the trial failed).

    Exceptions from the model or training, and NaN or infinite losses, make a failed trial
    rather than stopping the search. Ctrl-C is not caught.
    """
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    started = time.perf_counter()
    model = None
    try:
        model = create_model(**params)
        callbacks = []
        if log_dir is not None:
            callbacks.append(keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False))
        # The score is the last epoch's validation accuracy. Without TensorBoard curves to draw,
        # validating after the earlier epochs is wasted work; it draws no random numbers, so the
        # trained model and its score are the same either way (tested).
        history = model.fit(
            data.x_train, data.y_train,
            epochs=epochs, batch_size=batch_size,
            validation_data=(data.x_val, data.y_val), validation_freq=1 if log_dir is not None else epochs,
            shuffle=True, verbose=0, callbacks=callbacks,
        ).history
        if log_dir is not None:
            _write_hparams(log_dir, params, trial_id=log_dir.name)
        score = float(history["val_accuracy"][-1])
        val_loss = float(history["val_loss"][-1])
        losses = [float(v) for v in history["loss"]] + [val_loss, score]
        if not all(math.isfinite(v) for v in losses):
            raise FloatingPointError(f"training diverged: loss history {history['loss']}, val_loss {val_loss}")
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as error:  # noqa: BLE001 - any failure of a user's model is one failed trial
        seconds = time.perf_counter() - started
        text = str(error).strip()
        message = f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"
        del model
        failed = Trial(index=index, params=params, seed=seed, status=FAILED, score=None, val_loss=None,
                       seconds=seconds, error=message[:500])
        return failed, None
    seconds = time.perf_counter() - started
    return Trial(index=index, params=params, seed=seed, status=OK, score=score, val_loss=val_loss,
                 seconds=seconds), model


def _write_hparams(log_dir: Path, params: dict[str, Any], *, trial_id: str) -> None:
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    writer = tf.summary.create_file_writer(str(log_dir))
    with writer.as_default():
        hp.hparams(params, trial_id=trial_id)
    writer.close()


def write_hparams_config(tensorboard_dir: Path, space) -> None:
    """Declare the space and metrics once, so TensorBoard's HParams dashboard lists every trial."""
    import tensorflow as tf
    from skopt.space import Categorical, Integer
    from tensorboard.plugins.hparams import api as hp

    from harness.space import plain_value

    hparams = []
    for dimension in space:
        if isinstance(dimension, Categorical):
            domain = hp.Discrete([plain_value(c) for c in dimension.categories])
        elif isinstance(dimension, Integer):
            domain = hp.IntInterval(int(dimension.low), int(dimension.high))
        else:
            domain = hp.RealInterval(float(dimension.low), float(dimension.high))
        hparams.append(hp.HParam(dimension.name, domain))
    metrics = [
        hp.Metric("epoch_accuracy", group="validation", display_name="val accuracy"),
        hp.Metric("epoch_loss", group="validation", display_name="val loss"),
    ]
    tensorboard_dir.mkdir(parents=True, exist_ok=True)
    writer = tf.summary.create_file_writer(str(tensorboard_dir))
    with writer.as_default():
        hp.hparams_config(hparams=hparams, metrics=metrics)
    writer.close()
