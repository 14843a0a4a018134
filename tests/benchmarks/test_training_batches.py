"""A search trained on Keras's batches without tf.data's autotuning, against the same search trained from arrays.

Both arms run `mlptune tune` on the blog protocol (full Fashion-MNIST validated on the test set,
5 epochs, batch 64, one thread, trials in the default worker), seed 1, one after the other. The
arrays arm is the search as it was before `harness.training_batches`: a `sitecustomize` on its
PYTHONPATH, which the trial worker inherits, makes `training_batches` return None, so `fit` gets
the arrays and builds its autotuned pipeline. The trials must be the same, score for score; the
ratio is the search's wall time.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from harness.data import loaders

pytestmark = pytest.mark.skipif(not loaders.DEBIAN_FASHION_MNIST_DIR.is_dir(), reason="needs dataset-fashion-mnist")

N_CALLS = 12  # 5 full trials and 7 more, pruned or full, of 1-31 s each here

FROM_ARRAYS = """
import harness.trial
harness.trial.training_batches = lambda data, batch_size: None
"""


def search(out, *, from_arrays: bool, patch_dir) -> tuple[float, list]:
    environment = dict(os.environ)
    if from_arrays:
        (patch_dir / "sitecustomize.py").write_text(FROM_ARRAYS)
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(patch_dir), environment.get("PYTHONPATH")]))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "harness.cli", "tune", "--validate-on", "test", "--n-calls", str(N_CALLS),
                    "--seed", "1", "--threads", "1", "--out", str(out)],
                   env=environment, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    trials = json.loads((out / "results.json").read_text())["trials"]
    return seconds, [trial["epoch_scores"] for trial in trials]


def test_a_search_on_the_batches_against_the_same_search_from_arrays(benchmark, record_ratio, tmp_path):
    patch_dir = tmp_path / "patch"
    patch_dir.mkdir()
    arrays_seconds, arrays_scores = search(tmp_path / "arrays", from_arrays=True, patch_dir=patch_dir)
    batches_seconds, batches_scores = benchmark.pedantic(
        search, args=(tmp_path / "batches",), kwargs={"from_arrays": False, "patch_dir": patch_dir},
        rounds=1, iterations=1)
    assert batches_scores == arrays_scores  # the same trials, only sooner
    ratio = batches_seconds / arrays_seconds
    record_ratio(name=f"{N_CALLS}-call search, batches without autotuning / from arrays", value=ratio,
                 target="< 1", met=ratio < 1,
                 detail=f"from arrays {arrays_seconds:.1f} s, batches {batches_seconds:.1f} s, the same "
                        f"{len(batches_scores)} trials")
