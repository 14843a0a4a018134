"""The blog post's own search, for side-by-side timing: `gp_minimize` over a plain Keras fitness.

    .venv/bin/python -m tests.benchmarks.blog_search --n-calls 11 [--seed 0] [--logs DIR]

What the blog's notebook does, written again here: the same four dimensions and default point,
`gp_minimize(acq_func="EI", n_calls=N, x0=default)` with its defaults otherwise (10 random
initial points, L-BFGS on the acquisition), and a fitness that builds the MLP with default
`compile` settings, trains 5 epochs at batch 64 with a TensorBoard callback, validates on the
test set after every epoch and returns -accuracy. The only additions are seeds (the notebook
trained unseeded), so two runs can be compared, and a line per call with its time.

Compare with `mlptune tune --validate-on test --n-calls N --seed S`, each pinned to a core of
its own (`taskset -c 0` / `taskset -c 1`) and started together, as
`tests/benchmarks/test_search_against_blog.py` does. The last line printed is JSON: wall and
training seconds, the best, and each call's accuracy and seconds.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def blog_model(learning_rate, num_layers, num_nodes, hidden_activation):
    """The notebook's MLP with Keras' default compile settings (no steps per execution, no XLA asked)."""
    import keras

    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten()])
    for _ in range(int(num_layers)):
        model.add(keras.layers.Dense(int(num_nodes), activation=str(hidden_activation)))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(keras.optimizers.Adam(learning_rate=float(learning_rate)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-calls", type=int, default=11)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--logs", type=Path, help="TensorBoard folder (default: a temporary one)")
    args = parser.parse_args()

    from harness.native_logs import import_tensorflow

    import_tensorflow()
    import keras
    from skopt import gp_minimize
    from skopt.space import Categorical, Integer, Real
    from skopt.utils import use_named_args

    from harness import load_fashion_mnist

    data = load_fashion_mnist(validate_on="test")
    dimensions = [Real(1e-4, 1e-1, prior="log-uniform", name="learning_rate"),
                  Integer(3, 10, name="num_layers"), Integer(10, 300, name="num_nodes"),
                  Categorical(["sigmoid", "tanh", "relu"], name="hidden_activation")]
    default_point = [1e-2, 3, 16, "relu"]
    logs = args.logs or Path(tempfile.mkdtemp(prefix="blog-search-"))
    keras.utils.set_random_seed(args.seed)
    started = time.perf_counter()
    calls = []

    @use_named_args(dimensions=dimensions)
    def fitness(learning_rate, num_layers, num_nodes, hidden_activation):
        tick = time.perf_counter()
        model = blog_model(learning_rate, num_layers, num_nodes, hidden_activation)
        name = f"lr_{learning_rate:.0e}_layers_{num_layers}_nodes_{num_nodes}_{hidden_activation}_{len(calls)}"
        history = model.fit(data.x_train, data.y_train, epochs=5, batch_size=64, verbose=0,
                            validation_data=(data.x_val, data.y_val),
                            callbacks=[keras.callbacks.TensorBoard(log_dir=str(logs / name))])
        accuracy = float(history.history["val_accuracy"][-1])
        del model
        keras.backend.clear_session()
        calls.append({"call": len(calls) + 1, "accuracy": accuracy, "seconds": time.perf_counter() - tick,
                      "elapsed": time.perf_counter() - started})
        best = max(c["accuracy"] for c in calls)
        print(f"[{len(calls)}/{args.n_calls}] val_acc {accuracy:.4f}  best {best:.4f}  "
              f"{[learning_rate, num_layers, num_nodes, hidden_activation]}  {calls[-1]['seconds']:.1f}s", flush=True)
        return -accuracy

    result = gp_minimize(func=fitness, dimensions=dimensions, acq_func="EI", n_calls=args.n_calls, x0=default_point,
                         random_state=args.seed)
    wall = time.perf_counter() - started
    print(json.dumps({"wall_seconds": round(wall, 1), "best": -result.fun, "best_point": [str(v) for v in result.x],
                      "training_seconds": round(sum(c["seconds"] for c in calls), 1),
                      "calls": [{"accuracy": c["accuracy"], "seconds": round(c["seconds"], 2)} for c in calls]}))


if __name__ == "__main__":
    main()
