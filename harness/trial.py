"""One trial: train a model at one point of the space and score it on the validation set."""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.data.dataset import Dataset
from harness.errors import InputError
from harness.training_batches import training_batches

OK = "ok"
FAILED = "failed"
PRUNED = "pruned"  # stopped early by the prune rule (harness.pruning): never the best, not a failure


@dataclass(frozen=True, slots=True)
class Trial:
    """The outcome of one call of the objective; `params` hold plain JSON types."""

    index: int
    params: dict[str, Any]
    seed: int
    status: str
    score: float | None  # validation accuracy after the last epoch trained (pruned: the epoch it stopped at); None when failed
    val_loss: float | None
    seconds: float
    error: str | None = None
    model_sha256: str | None = field(default=None, compare=False)  # of the best model file saved after this trial
    epoch_scores: tuple[float, ...] = ()  # validation accuracy after each epoch, kept when a prune rule is on

    @classmethod
    def failure(cls, *, index: int, params: dict[str, Any], seed: int, seconds: float, error: str) -> Trial:
        """A trial that failed, with its reason (at most 500 characters, so a trial log line stays readable)."""
        return cls(index=index, params=params, seed=seed, status=FAILED, score=None, val_loss=None, seconds=seconds,
                   error=error[:500])

    @property
    def ok(self) -> bool:
        """A full-budget trial with a score: the only kind that can be the best."""
        return self.status == OK

    @property
    def pruned(self) -> bool:
        return self.status == PRUNED

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    def to_json(self) -> dict[str, Any]:
        data = {
            "index": self.index, "params": self.params, "seed": self.seed, "status": self.status,
            "score": self.score, "val_loss": self.val_loss, "seconds": round(self.seconds, 3),
            "error": self.error,
        }
        if self.model_sha256 is not None:
            data["model_sha256"] = self.model_sha256
        if self.epoch_scores:  # absent without a prune rule: those trials' lines stay as they were
            data["epoch_scores"] = list(self.epoch_scores)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Trial:
        """A trial from its JSON line, checked field by field; TrialFormatError says what is wrong.

        An ok trial must have a finite score in [0, 1] (it may become the best result), a failed
        one no score; numbers are finite and the parameters plain JSON values.
        """
        if not isinstance(data, dict):
            raise TrialFormatError(f"a trial is a JSON object, got {type(data).__name__}")
        try:
            index, seed = _count(data["index"], "index"), _count(data["seed"], "seed")
            params, status = data["params"], data["status"]
            score, val_loss, seconds = data["score"], data.get("val_loss"), data["seconds"]
            error, digest = data.get("error"), data.get("model_sha256")
            epoch_scores = data.get("epoch_scores", [])
        except KeyError as missing:
            raise TrialFormatError(f"a trial needs the field {missing}") from None
        if not isinstance(params, dict) or not all(
                isinstance(k, str) and _plain(v) for k, v in params.items()):
            raise TrialFormatError("params must map names to numbers, strings or booleans")
        if not isinstance(epoch_scores, list) or not all(_finite(v) and 0.0 <= v <= 1.0 for v in epoch_scores):
            raise TrialFormatError("epoch_scores must be a list of accuracies between 0 and 1")
        if status in (OK, PRUNED):
            if not _finite(score) or not 0.0 <= score <= 1.0:
                raise TrialFormatError(f"an {status} trial needs a score between 0 and 1, got {score!r}")
            if status == PRUNED and (not epoch_scores or epoch_scores[-1] != score):
                raise TrialFormatError("a pruned trial needs its epoch_scores, the last one its score")
        elif status == FAILED:
            if score is not None:
                raise TrialFormatError("a failed trial has no score")
        else:
            raise TrialFormatError(f"status must be {OK!r}, {PRUNED!r} or {FAILED!r}, got {status!r}")
        if val_loss is not None and not _finite(val_loss):
            raise TrialFormatError(f"val_loss must be a finite number, got {val_loss!r}")
        if not _finite(seconds) or seconds < 0:
            raise TrialFormatError(f"seconds must be a finite number >= 0, got {seconds!r}")
        if error is not None and not isinstance(error, str):
            raise TrialFormatError("error must be text")
        if digest is not None and (not isinstance(digest, str) or len(digest) != 64
                                   or any(c not in "0123456789abcdef" for c in digest)):
            raise TrialFormatError("model_sha256 must be 64 hex digits")
        return cls(index=index, params=dict(params), seed=seed, status=status,
                   score=float(score) if score is not None else None,
                   val_loss=float(val_loss) if val_loss is not None else None, seconds=float(seconds),
                   error=error, model_sha256=digest, epoch_scores=tuple(float(v) for v in epoch_scores))


class TrialFormatError(ValueError):
    """A trial's JSON that cannot be a trial this package wrote."""


def _finite(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _plain(value: Any) -> bool:
    return isinstance(value, (str, bool)) or _finite(value)


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TrialFormatError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def trial_seed(search_seed: int, index: int) -> int:
    """The training seed of trial `index`: derived from both, so trials never share a stream."""
    return int(np.random.SeedSequence([search_seed, index]).generate_state(1)[0] & 0x7FFFFFFF)


def trial_log_name(index: int, params: dict[str, Any]) -> str:
    """A TensorBoard run name that shows the hyperparameters, like the blog post's log folders."""
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
    stop_below: dict[int, float] | None = None,
) -> tuple[Trial, Any]:
    """Train one model; return the trial and the trained model (None when the trial failed or was pruned).

    Exceptions from the model or training, and NaN or infinite losses, make a failed trial
    rather than stopping the search. Ctrl-C is not caught. With `stop_below` (a prune rule is
    on, even if it has no threshold yet) the model is validated after every epoch, the scores
    are kept, and training stops after epoch e when its score is below `stop_below[e]`.
    """
    import keras

    _freeze_long_lived_objects()
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    started = time.perf_counter()
    model = None
    try:
        model = create_model(**params)
        _build_training_state(model, data, batch_size=batch_size)
        # Without TensorBoard curves to draw or a prune rule to feed, only the last epoch is scored.
        scoring = _epoch_scoring(keras, data, epochs=epochs, every_epoch=log_dir is not None or stop_below is not None,
                               stop_below=stop_below or {})
        callbacks = [scoring]  # first: the callbacks after it (TensorBoard, History) see its val_ scores
        if log_dir is not None:
            callbacks.append(keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False))
        # the same batches either way; Keras's own pipeline made from the arrays waits at every epoch
        # boundary (harness.training_batches), and batches come shuffled, so fit must not shuffle them
        batches = training_batches(data, batch_size=batch_size)
        training_data = (dict(x=data.x_train, y=data.y_train, batch_size=batch_size, shuffle=True) if batches is None
                         else dict(x=batches, shuffle=False))
        history = model.fit(**training_data, epochs=epochs, verbose=0, callbacks=callbacks).history
        if log_dir is not None:
            _write_hparams(log_dir, params, trial_id=log_dir.name)
        if not scoring.scores:
            raise RuntimeError("training ended before any epoch was scored")
        score, val_loss = scoring.scores[-1], scoring.losses[-1]
        losses = [float(v) for v in history["loss"]] + [val_loss, score]
        if not all(math.isfinite(v) for v in losses):
            raise FloatingPointError(f"training diverged: loss history {history['loss']}, val_loss {val_loss}")
        epoch_scores = tuple(scoring.scores) if stop_below is not None else ()
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as error:  # noqa: BLE001 - any failure of a user's model is one failed trial
        seconds = time.perf_counter() - started
        text = str(error).strip()
        message = f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"
        del model
        return Trial.failure(index=index, params=params, seed=seed, seconds=seconds, error=message), None
    seconds = time.perf_counter() - started
    if len(epoch_scores) < epochs and stop_below is not None:
        del model  # a pruned model is never the best, so it is never saved
        return Trial(index=index, params=params, seed=seed, status=PRUNED, score=score, val_loss=val_loss,
                     seconds=seconds, epoch_scores=epoch_scores), None
    return Trial(index=index, params=params, seed=seed, status=OK, score=score, val_loss=val_loss,
                 seconds=seconds, epoch_scores=epoch_scores), model


_long_lived_frozen = False


def _freeze_long_lived_objects() -> None:
    """Once per process, before its first trial: hide what is alive by then from the garbage collector.

    Keras's `clear_session` runs a full collection before every trial, and with TensorFlow imported
    that walks several hundred thousand objects (modules, the data, the search's state) that outlive
    every trial: about 0.25 s of a 1-2 s small trial here (docs/performance.md). Frozen after one
    last collection, they are no longer walked; everything created later, each trial's model
    among it, is collected as before, and reference counting still frees frozen objects. No number
    changes: the collector never decides what a model computes.
    """
    global _long_lived_frozen
    if not _long_lived_frozen:
        gc.collect()
        gc.freeze()
        _long_lived_frozen = True


def _build_training_state(model, data: Dataset, *, batch_size: int) -> None:
    """Create the optimizer's slots and the loss and metric states before `fit` traces its train step.

    Left to `fit`, they are created inside the step's first trace, and TensorFlow then traces the
    step a second time without them: a third of a small trial's time here (docs/performance.md).
    Nothing here draws a random number or changes a weight, so the trial trains exactly as before.
    It only saves time, so a model it cannot prepare (a custom training loop, another Keras) is
    left for `fit` to build as it always did.
    """
    try:
        optimizer = model.optimizer
        # Keras 3 says `built`; Keras 2's optimizer (TensorFlow 2.15) sets `_built` only once built
        if optimizer is not None and not (getattr(optimizer, "built", False) or getattr(optimizer, "_built", False)):
            optimizer.build(model.trainable_variables)
        _accuracy_and_loss(model, data.x_train[:batch_size], data.y_train[:batch_size])  # builds loss and metrics
    except Exception:  # noqa: BLE001 - an optimisation only: fit builds whatever is still missing
        pass


VALIDATION_CHUNK = 1024
"""Rows scored per forward pass: bounds the activations held at once, whatever the validation set's size."""


def validation_scores(model, data: Dataset) -> tuple[float, float]:
    """The model's validation accuracy and loss, from its own compiled metric and loss.

    Keras's `fit(validation_data=...)` traces a test function for every new model, which costs
    more than scoring a validation set this size: about 0.4-0.8 s of a 2-3 s small trial here
    (docs/performance.md). Forward passes in eager mode, then the compiled metric (whatever
    "accuracy" resolved to for this model) and loss, give the same accuracy without it: the
    metric counts correct rows, so how the rows are batched does not change it.
    """
    return _accuracy_and_loss(model, data.x_val, data.y_val)


def _accuracy_and_loss(model, x, y) -> tuple[float, float]:
    """Eager forward passes over `x`, scored by the model's compiled accuracy metric and loss."""
    import tensorflow as tf  # tensors, not arrays: Keras 2's loss and metrics need them

    y = tf.convert_to_tensor(y)
    y_pred = tf.concat([model(x[start:start + VALIDATION_CHUNK], training=False)
                        for start in range(0, len(x), VALIDATION_CHUNK)], axis=0)
    model.reset_metrics()
    loss = float(model.compute_loss(x=x, y=y, y_pred=y_pred))
    metrics = model.compute_metrics(x, y, y_pred, sample_weight=None)
    model.reset_metrics()  # the next epoch (or a caller's evaluate) starts from clean metric states
    if "accuracy" not in metrics:
        raise InputError(f"the model from create_model reports {sorted(metrics)}, no accuracy; "
                         "compile it with metrics=['accuracy']")
    return float(metrics["accuracy"]), loss


def _epoch_scoring(keras, data: Dataset, *, epochs: int, every_epoch: bool, stop_below: dict[int, float]):
    """Scores the model after the epochs that need it, and ends training after epoch e when its
    validation accuracy is below `stop_below[e]` (the prune rule's threshold there)."""

    class EpochScores(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.scores: list[float] = []
            self.losses: list[float] = []

        def on_epoch_end(self, epoch, logs=None):
            if not every_epoch and epoch + 1 < epochs:
                return
            accuracy, loss = validation_scores(self.model, data)
            self.scores.append(accuracy)
            self.losses.append(loss)
            if logs is not None:
                logs.update(val_accuracy=accuracy, val_loss=loss)
            threshold = stop_below.get(epoch + 1)  # Keras counts epochs from 0
            if threshold is not None and accuracy < threshold:
                self.model.stop_training = True

    return EpochScores()


def _write_hparams(log_dir: Path, params: dict[str, Any], *, trial_id: str) -> None:
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    writer = tf.summary.create_file_writer(str(log_dir))
    with writer.as_default():
        hp.hparams(params, trial_id=trial_id)
    writer.close()


def write_hparams_config(tensorboard_dir: Path, space) -> None:
    """Declare the space and metrics once, so TensorBoard's HParams dashboard lists every trial.

    Written with TensorBoard's own event writer, not TensorFlow's: the search's process may run no
    trial (trial workers), and then it never imports TensorFlow (seconds saved; harness.model_check).
    """
    import os
    import socket
    import time

    from skopt.space import Categorical, Integer
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.plugins.hparams import summary_v2 as hp  # HParam, domains, Metric: no TensorFlow
    from tensorboard.summary.writer.record_writer import RecordWriter

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
    # TensorBoard's EventFileWriter would import TensorFlow for its file system layer: a plain file
    # holds the same two records (the file version, then the config at step 0, as tf.summary writes it).
    now = time.time()
    name = f"events.out.tfevents.{int(now):010d}.{socket.gethostname()}.{os.getpid()}.hparams"
    with open(tensorboard_dir / name, "wb") as handle:
        records = RecordWriter(handle)
        records.write(Event(wall_time=now, file_version="brain.Event:2").SerializeToString())
        config = hp.hparams_config_pb(hparams=hparams, metrics=metrics)
        records.write(Event(wall_time=now, step=0, summary=config).SerializeToString())
