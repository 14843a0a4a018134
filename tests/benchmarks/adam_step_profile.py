"""How much of a training step is Adam's update: Keras's update, TensorFlow's fused kernel, none.

    .venv/bin/python -m tests.benchmarks.adam_step_profile [LAYERS NODES] ...

For each network (default: the blog's default point's shape, a middle, a wide and the largest
one), one TensorFlow thread, 938 steps of batch 64 (one Fashion-MNIST epoch's worth, cycling over
the first 3,200 training images) in one compiled loop, three ways: forward and backward with
Keras's Adam update, with `harness.fused_adam`'s update, and with no update (the gradients are
summed so that TensorFlow cannot drop their computation). The last column is the largest weight
difference between the two updates after the loop (not zero: the fused kernel rounds 1 - beta_1
otherwise, and training amplifies it).
"""

from __future__ import annotations

import sys
import time

SHAPES = [(3, 16), (4, 125), (3, 299), (9, 300)]
STEPS = 938


def profile(layers: int, nodes: int, data) -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    from harness import create_model

    x_all, y_all = tf.constant(data.x_train[:3200]), tf.constant(data.y_train[:3200])
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    def run(update: str):
        keras.utils.set_random_seed(0)
        model = create_model(learning_rate=3e-4, num_layers=layers, num_nodes=nodes, hidden_activation="relu",
                             fused_adam=update == "fused")
        optimizer, variables = model.optimizer, model.trainable_variables
        optimizer.build(variables)

        @tf.function
        def loop(steps):
            total = tf.constant(0.0)
            for step in tf.range(steps):
                start = (step % 50) * 64
                with tf.GradientTape() as tape:
                    loss = loss_fn(y_all[start:start + 64], model(x_all[start:start + 64], training=True))
                gradients = tape.gradient(loss, variables)
                if update == "none":
                    total += tf.add_n([tf.reduce_sum(g) for g in gradients])
                else:
                    optimizer.apply(gradients, variables)
            return total

        loop(tf.constant(1))  # trace
        started = time.perf_counter()
        loop(tf.constant(STEPS))
        return time.perf_counter() - started, [v.numpy() for v in variables]

    keras_seconds, keras_weights = run("keras")
    fused_seconds, fused_weights = run("fused")
    none_seconds, _ = run("none")
    apart = max(float(np.max(np.abs(a - b))) for a, b in zip(keras_weights, fused_weights))
    return {"keras": keras_seconds, "fused": fused_seconds, "none": none_seconds, "apart": apart}


def main() -> None:
    from harness.threads import pin_threads

    pin_threads(1)  # imports TensorFlow without its start-up noise, one intra-op thread
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(1)
    from harness import load_fashion_mnist

    data = load_fashion_mnist(validate_on="test")
    numbers = [int(a) for a in sys.argv[1:]]
    shapes = list(zip(numbers[::2], numbers[1::2])) or SHAPES
    print(f"| network | Keras's Adam | fused Adam | no update | Adam's share | fused / Keras | weights apart after {STEPS} |")
    print("|---|---|---|---|---|---|---|")
    for layers, nodes in shapes:
        row = profile(layers, nodes, data)
        share = 1 - row["none"] / row["keras"]
        print(f"| {layers}x{nodes} | {row['keras']:.2f} s | {row['fused']:.2f} s | {row['none']:.2f} s | {share:.0%} | "
              f"{row['fused'] / row['keras']:.2f} | {row['apart']:.2g} |", flush=True)


if __name__ == "__main__":
    main()
