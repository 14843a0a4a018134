"""Where one trial's time goes: building, the first epoch, steady epochs, validation, TensorBoard, saving.

    .venv/bin/python -m tests.benchmarks.trial_profile [--point small|large] [--variant harness ...]

Each variant trains one trial of the blog protocol (full Fashion-MNIST validated on the test set,
5 epochs, batch 64) in a fresh process, the way `mlptune tune` does (`create_model` with XLA and
32 steps per execution, the TensorBoard callback, validation after every epoch), and a callback
stamps the time at each epoch's and each validation's start and end. The phases:

- build: `create_model` (layers and compile);
- epoch 1 training: includes tracing and compiling the train step;
- validation 1: includes tracing and compiling the test step;
- epoch 2..5 training and validation: the steady state, by epoch;
- save: `model.save` to a .keras file, as the best trial's model is saved.

Variants change one thing each: `no-xla`, `no-tensorboard`, `validate-last` (validation after the
last epoch only, as a search without TensorBoard or pruning does), `drop-remainder` (the 60,000
training images cut to a whole number of batches, so the last batch has the shape of the others).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

# the default point, a middle-sized one, a large one
POINTS = {"small": [0.01, 3, 16, "relu"], "medium": [0.001, 6, 150, "tanh"], "large": [0.0003, 9, 300, "relu"]}

SCRIPT = r"""
import json, sys, tempfile, time
point, variant = json.loads(sys.argv[1]), sys.argv[2]
from harness.native_logs import import_tensorflow
import_tensorflow()
import keras
from harness import create_model, load_fashion_mnist
data = load_fashion_mnist(validate_on="test")
x, y = data.x_train, data.y_train
if variant == "drop-remainder":
    keep = len(y) // 64 * 64
    x, y = x[:keep], y[:keep]
keras.utils.set_random_seed(1)
stamps = []

class Stamp(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None): stamps.append(("epoch_begin", epoch, time.perf_counter()))
    def on_test_begin(self, logs=None): stamps.append(("test_begin", None, time.perf_counter()))
    def on_test_end(self, logs=None): stamps.append(("test_end", None, time.perf_counter()))
    def on_epoch_end(self, epoch, logs=None): stamps.append(("epoch_end", epoch, time.perf_counter()))

started = time.perf_counter()
model = create_model(*point, jit_compile=variant != "no-xla")
built = time.perf_counter()
callbacks = [Stamp()]
with tempfile.TemporaryDirectory() as folder:
    if variant != "no-tensorboard":
        callbacks.append(keras.callbacks.TensorBoard(log_dir=folder, write_graph=False))
    history = model.fit(x, y, epochs=5, batch_size=64, shuffle=True, verbose=0, callbacks=callbacks,
                        validation_data=(data.x_val, data.y_val),
                        validation_freq=5 if variant == "validate-last" else 1)
    fitted = time.perf_counter()
    model.save(f"{folder}/model.keras")
    saved = time.perf_counter()
begins = [t for name, _, t in stamps if name == "epoch_begin"]
test_begins = [t for name, _, t in stamps if name == "test_begin"]
test_ends = [t for name, _, t in stamps if name == "test_end"]
ends = [t for name, _, t in stamps if name == "epoch_end"]
training, validation = [], []
for epoch, begin in enumerate(begins):
    tests = [(b, e) for b, e in zip(test_begins, test_ends) if begin <= b <= ends[epoch]]
    val = sum(e - b for b, e in tests)
    validation.append(val)
    training.append(ends[epoch] - begin - val)
print(json.dumps({"build": built - started, "training": training, "validation": validation,
                  "fit": fitted - built, "save": saved - fitted, "total": saved - started,
                  "val_accuracy": history.history["val_accuracy"][-1]}))
"""

VARIANTS = ("harness", "no-xla", "no-tensorboard", "validate-last", "drop-remainder")


def profile(point: list, variant: str) -> dict:
    run = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(point), variant], capture_output=True, text=True,
                         check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--point", choices=POINTS, nargs="+", default=list(POINTS))
    parser.add_argument("--variant", choices=VARIANTS, nargs="+", default=list(VARIANTS))
    args = parser.parse_args()
    print("| point | variant | build | epoch 1 (+ val) | epochs 2-5 training | validations 2-5 | save | total | "
          "val acc |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.point:
        for variant in args.variant:
            row = profile(POINTS[name], variant)
            later = " ".join(f"{t:.1f}" for t in row["training"][1:])
            val_later = sum(row["validation"][1:])
            print(f"| {name} {POINTS[name]} | {variant} | {row['build']:.1f} s | {row['training'][0]:.1f} "
                  f"(+ {row['validation'][0]:.1f}) s | {later} s | {val_later:.1f} s | {row['save']:.1f} s | "
                  f"{row['total']:.1f} s | {row['val_accuracy']:.4f} |", flush=True)


if __name__ == "__main__":
    main()
