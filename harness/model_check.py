"""The saved best model, loaded again and scored: proof that `best_model.keras` is the model the search reported.

`mlptune tune` ends as the blog's notebook did, by reloading the best model and scoring it on
the validation and test sets. Loading needs TensorFlow, which takes seconds to import; where
trials run in a worker process, the worker already has it, so the search asks the worker to do
this (`harness.trial_runner`) and the `mlptune` process never imports TensorFlow at all (about
3.5 s less per run on one core, docs/performance.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.data.dataset import Dataset

EVALUATION_BATCH_SIZE = 1024  # scoring only: a large batch is fewer steps for the same counts


def score_saved_model(path: str | Path, data: Dataset) -> dict[str, float]:
    """Load the model saved at `path` (Keras' safe mode) and score it on the validation set, and on
    the test set when the data has one."""
    from harness.native_logs import import_tensorflow

    import_tensorflow()
    import keras

    model = keras.models.load_model(path, safe_mode=True)
    val_loss, val_accuracy = model.evaluate(data.x_val, data.y_val, batch_size=EVALUATION_BATCH_SIZE, verbose=0)
    scores = {"val_loss": float(val_loss), "val_accuracy": float(val_accuracy)}
    if data.has_test:
        test_loss, test_accuracy = model.evaluate(data.x_test, data.y_test, batch_size=EVALUATION_BATCH_SIZE,
                                                  verbose=0)
        scores.update(test_loss=float(test_loss), test_accuracy=float(test_accuracy))
    return scores


def best_model_check(scores: dict[str, float], recorded: float) -> dict[str, Any]:
    """What `results.json` keeps of the reload: its scores, and whether it matches what the search recorded."""
    check: dict[str, Any] = {"val_accuracy_reloaded": scores["val_accuracy"],
                             "matches_recorded": abs(scores["val_accuracy"] - recorded) < 1e-6}
    if "test_accuracy" in scores:
        check.update(test_loss=scores["test_loss"], test_accuracy=scores["test_accuracy"])
    return check
