"""How far one configuration's score moves with its training seed alone, on the blog protocol.

    .venv/bin/python -m tests.benchmarks.training_seed_spread LEARNING_RATE LAYERS NODES ACTIVATION [--seeds 12]

Trains the configuration on full Fashion-MNIST validated on the test set (5 epochs, batch 64, one
thread) once per search seed 0..N-1, with the training seed that search gives its second trial
(`trial_seed(S, 1)`), and prints each score, then the mean, the spread and how many reached 0.875.
It measures what a time-to-accuracy threshold asks of luck: a search that has found the right
configuration still needs a training seed that carries it over the line.
"""

from __future__ import annotations

import argparse
import statistics

THRESHOLD = 0.875


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("learning_rate", type=float)
    parser.add_argument("num_layers", type=int)
    parser.add_argument("num_nodes", type=int)
    parser.add_argument("hidden_activation", choices=["sigmoid", "tanh", "relu"])
    parser.add_argument("--seeds", type=int, default=12, help="search seeds 0..N-1 (default 12)")
    args = parser.parse_args(argv)
    if args.seeds < 2:
        parser.error("--seeds needs 2 or more: one score has no spread")

    from harness.threads import pin_threads

    pin_threads(1)
    from harness import create_model, load_fashion_mnist
    from harness.trial import run_trial, trial_seed

    data = load_fashion_mnist(validate_on="test")
    params = dict(learning_rate=args.learning_rate, num_layers=args.num_layers, num_nodes=args.num_nodes,
                  hidden_activation=args.hidden_activation)
    scores = []
    for seed in range(args.seeds):
        trial, _ = run_trial(create_model=create_model, params=params, data=data, index=1, seed=trial_seed(seed, 1),
                             epochs=5, batch_size=64)
        scores.append(trial.score)
        print(f"search seed {seed}: {trial.score:.4f} ({trial.seconds:.1f} s)", flush=True)
    print(f"mean {statistics.mean(scores):.4f}, sd {statistics.stdev(scores):.4f}, range {min(scores):.4f}-"
          f"{max(scores):.4f}, >= {THRESHOLD} in {sum(s >= THRESHOLD for s in scores)} of {len(scores)}")


if __name__ == "__main__":
    main()
