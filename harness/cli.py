"""`mlptune`: the command line. `mlptune tune` runs the search by hand.

Other packages add subcommands through the `mlptune.commands` entry-point group: the pytest
plugin adds `mlptune baselines`. The harness never imports the plugin; it only finds what is
registered there, so the layers depend one way (plugin -> harness).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from dataclasses import dataclass, replace
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from harness.argument_types import parse_non_negative_int, parse_positive_float, parse_positive_int
from harness.environment import installed_version
from harness.errors import InputError
from harness.initial_design import INITIAL_DESIGNS, default_initial_points
from harness.objective import OBJECTIVE_SCALES
from harness.pruning import (
    MEDIAN,
    PERCENTILE_DEFAULTS,
    TUNE_MEDIAN_MIN_TRIALS,
    every_epoch_but_the_last,
    format_epochs,
    parse_epochs,
    parse_rule,
)
from harness.pruning import RULES as PRUNE_RULES
from harness.threads import DEFAULT_THREADS
from harness.trial_runner import DEFAULT_TRIALS_PER_WORKER

COMMANDS_GROUP = "mlptune.commands"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

TUNE_DEFAULTS = {
    "dataset": "fashion-mnist", "data_dir": None, "validate_on": "split", "train_size": None,
    "n_calls": 50, "epochs": 5, "batch_size": 64, "seed": 0, "prune": "median", "prune_after": None,
    "prune_percentile": None, "prune_min_trials": None, "initial_design": "random", "initial_points": 5,
    "threads": DEFAULT_THREADS, "objective_scale": "accuracy",
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (problem and fix) and exit status 2."""

    def error(self, message: str):  # noqa: D102
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="mlptune",
                           description="Bayesian hyperparameter tuning of Keras models, and its regression tests.")
    version = installed_version(("pytest-mlptune",)) or "(not installed)"  # a source tree never installed
    parser.add_argument("--version", action="version", version=f"pytest-mlptune {version}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    tune = commands.add_parser("tune", help="run a hyperparameter search by hand",
                               description="Search the blog's MLP's hyperparameters with a Gaussian process (EI).")
    tune.add_argument("--dataset", choices=("fashion-mnist", "digits"), help="data to tune on (default fashion-mnist)")
    tune.add_argument("--data-dir", help="folder with the four Fashion-MNIST IDX files "
                      "(default /usr/share/datasets/fashion-mnist, then ~/.keras/datasets/fashion-mnist)")
    tune.add_argument("--n-calls", type=parse_positive_int, help="number of trials (default 50)")
    tune.add_argument("--epochs", type=parse_positive_int, help="training epochs per trial (default 5)")
    tune.add_argument("--batch-size", type=parse_positive_int, help="batch size (default 64)")
    tune.add_argument("--seed", type=parse_non_negative_int, help="search seed; same seed, same trials (default 0)")
    tune.add_argument("--validate-on", choices=("split", "test"),
                      help="split: score on a held-out sixth of the training set (default); "
                           "test: score on the test set, as the blog post did")
    tune.add_argument("--train-size", type=parse_positive_int,
                      help="use a stratified subset of this many training examples (default all)")
    tune.add_argument("--max-consecutive-failures", type=parse_positive_int, default=3, metavar="N",
                      help="stop the search after N failed trials in a row (default 3)")
    tune.add_argument("--trials-per-worker", type=parse_non_negative_int, default=DEFAULT_TRIALS_PER_WORKER,
                      metavar="N", help="train in a child process replaced every N trials, which bounds memory "
                      f"(default {DEFAULT_TRIALS_PER_WORKER}); 0 trains in this process. Trials are the same either way")
    tune.add_argument("--trial-timeout", type=parse_positive_float, default=None, metavar="SECONDS",
                      help="stop a trial that trains longer than this and count it as failed (default: no limit; "
                      "needs --trials-per-worker 1 or more). A search that hits it depends on the machine's speed")
    tune.add_argument("--workers", type=parse_positive_int, metavar="N",
                      help="run trials on an embedded Dask cluster of N worker processes (default: none, one at a time)")
    tune.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                      help="run trials on an existing Dask cluster (started with `dask scheduler` and `dask worker`)")
    tune.add_argument("--scheduler-file", metavar="FILE", help="the same, found through `dask scheduler --scheduler-file`")
    tune.add_argument("--trials-per-batch", type=parse_positive_int, metavar="Q",
                      help="ask Q points at once and train them in parallel (default: the number of workers, else 1); "
                      "Q is part of the search: the same seed and Q give the same trials on any number of workers")
    tune.add_argument("--prune", choices=PRUNE_RULES,
                      help="median: stop a trial whose validation accuracy after a checked epoch is below the "
                           "median of the earlier trials' there (default); percentile: the same below the "
                           "--prune-percentile; none: train every trial fully")
    tune.add_argument("--prune-after", metavar="EPOCHS",
                      help="the epochs the prune rule checks, comma-separated (default: every epoch but the "
                           "last for median, 1 for percentile)")
    tune.add_argument("--prune-percentile", type=float, metavar="P",
                      help=f"the percentile rule's threshold, 0 < P < 100 (default "
                           f"{PERCENTILE_DEFAULTS['percentile']:g}: about the top tenth train on)")
    tune.add_argument("--prune-min-trials", type=parse_positive_int, metavar="N",
                      help=f"earlier trials that must have reached an epoch before it is checked (default "
                           f"{TUNE_MEDIAN_MIN_TRIALS} for median, {PERCENTILE_DEFAULTS['min_trials']} for percentile)")
    tune.add_argument("--initial-points", type=parse_positive_int, metavar="N",
                      help="at most N points drawn before the Gaussian process steers, after the blog's default "
                           "point (default 5; the blog's is 10); a fifth of --n-calls when that is fewer")
    tune.add_argument("--initial-design", choices=INITIAL_DESIGNS,
                      help="how those points are drawn: random (default, as the blog) or lhs (a Latin hypercube)")
    tune.add_argument("--objective-scale", choices=OBJECTIVE_SCALES,
                      help="what the Gaussian process models: accuracy, as the blog (default), or log-error, the "
                           "log of 1 - accuracy: on the blog's protocol the same mean best with a third of the "
                           "spread over seeds, in 1.2x the time")
    tune.add_argument("--threads", type=parse_non_negative_int, metavar="N",
                      help=f"TensorFlow's intra-op threads in every process that trains (default {DEFAULT_THREADS}); "
                           "part of the search: with it fixed, a seed gives the same trials on any machine. "
                           "0: one per core, faster on a big machine but tied to its core count")
    tune.add_argument("--out", type=Path, help="run directory (default runs/<dataset>-<time>); must not exist yet")
    tune.add_argument("--resume", type=Path, metavar="DIR", help="continue the run in DIR after a crash or Ctrl-C")
    tune.add_argument("-v", "--verbose", action="store_true",
                      help="show TensorFlow's start-up and C++ log lines (hidden by default unless "
                           "TF_CPP_MIN_LOG_LEVEL is set)")

    for name, command in sorted(plugin_commands().items()):
        # listed in --help; the arguments are parsed by the command itself (see main)
        commands.add_parser(name, help=command.help, add_help=False)
    return parser


@dataclass(frozen=True)
class PluginCommand:
    """A subcommand another package registered: a function `main(argv) -> exit status`."""

    entry_point: Any

    @property
    def help(self) -> str:
        # said without loading the command: `mlptune tune` must not import the plugin for its --help
        where = self.entry_point.dist.name if self.entry_point.dist is not None else self.entry_point.module
        return f"a command of {where}; see mlptune {self.entry_point.name} --help"

    def main(self, argv: list[str]) -> int:
        return self.entry_point.load()(argv)


def plugin_commands() -> dict[str, PluginCommand]:
    return {point.name: PluginCommand(point) for point in entry_points(group=COMMANDS_GROUP) if point.name != "tune"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    plugins = plugin_commands()
    name = argv[0] if argv else None
    try:
        if name in plugins:
            # the command parses its own arguments (`baselines update` hands everything after it to pytest)
            return plugins[name].main(argv[1:])
        args = build_parser().parse_args(argv)
        return run_tune(args)
    except InputError as error:
        print(f"mlptune {name}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:  # a full disk, a folder that went away: the same one line, with the file
        print(f"mlptune {name}: error: {describe_os_error(error)}", file=sys.stderr)
        return EXIT_USAGE


def describe_os_error(error: OSError) -> str:
    where = f" ({error.filename})" if error.filename else ""
    return (f"{error.strerror or error}{where}; free space or fix the permissions, then rerun "
            "(a run folder that was started can be continued with --resume)")


def _import_tensorflow() -> None:
    from harness import native_logs

    native_logs.import_tensorflow()
    if native_logs.quiet_requested():
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)


def preflight() -> None:
    """Cheap checks before any folder is made or any budget is spent."""
    try:
        import tensorboard  # noqa: F401  - Keras' TensorBoard callback fails at the first batch without it
    except ImportError:
        raise InputError("tensorboard is not installed (TensorFlow 2.21 no longer brings it); pip install tensorboard") from None


def run_tune(args: argparse.Namespace) -> int:
    from harness.native_logs import request_quiet
    from harness.run_directory import RunDirectory, RunSettings, settings_differences

    request_quiet(verbose=args.verbose)  # before any worker starts: they inherit it

    given = {name: getattr(args, name) for name in TUNE_DEFAULTS if getattr(args, name) is not None}
    if args.resume is not None and args.out is not None and args.out != args.resume:
        raise InputError("--out and --resume name different folders; give only --resume DIR to continue a run")
    preflight()
    address = _cluster_address(args)
    if args.prune_after is not None:
        given["prune_after"] = format_epochs(parse_epochs(args.prune_after))  # "2,1" is "1,2"
    if args.threads is not None:
        given["threads"] = args.threads or None  # 0: TensorFlow's own default, recorded as null
    if args.trials_per_batch is not None:
        given["trials_per_batch"] = args.trials_per_batch
    elif args.resume is None and address.given:
        given["trials_per_batch"] = address.workers or _count_workers(address)
    if args.resume is not None:
        run = RunDirectory.resume(args.resume)
        try:
            merged = {k: v for k, v in run.settings.to_json().items() if k != "schema"}
            merged.update(given)
            differences = settings_differences(run.settings, RunSettings(**merged))
            if differences:
                raise InputError(f"cannot resume {run.path} with other settings ({'; '.join(differences)}); "
                                 "drop those options or start a new run")
            data = _load_data(run.settings)
            if run.data_fingerprint is not None and run.data_fingerprint != data.fingerprint:
                raise InputError(f"cannot resume {run.path}: the data changed since the run started "
                                 f"(fingerprint {run.data_fingerprint} -> {data.fingerprint}); start a new run")
        except BaseException:
            run.close()
            raise
    else:
        # the rule is written down in full, so a resume keeps it whatever later defaults are; a rule of
        # none with settings is refused here, before any folder is made
        settings = _settings_with_prune_rule(RunSettings(**{**TUNE_DEFAULTS, **given}))
        if args.prune_after is not None:
            _refuse_checks_after_the_last_epoch(parse_epochs(settings.prune_after), settings.epochs)
        out = args.out or Path("runs") / f"{settings.dataset}-{datetime.now():%Y%m%d-%H%M%S}"
        if out.exists() or out.is_symlink():  # said before the data loads; creating it below is the real test
            raise InputError(f"run directory {out} already exists; resume it with --resume {out} or choose another --out")
        data = _load_data(settings)  # bad data or a missing file: no folder is left behind to block a rerun
        run = RunDirectory.create(out, settings)
    with run:
        run.record_data_fingerprint(data.fingerprint)
        return _tune(args, run, data, address)


def _refuse_checks_after_the_last_epoch(after: tuple[int, ...], epochs: int) -> None:
    """A check asked for at or after the last epoch could stop nothing: said, rather than silently not made."""
    late = [epoch for epoch in after if epoch >= epochs]
    if not late:
        return
    fix = f"give e.g. --prune-after {format_epochs(every_epoch_but_the_last(epochs))}" if epochs > 1 \
        else "a one-epoch trial has none to check; drop --prune-after"
    raise InputError(f"--prune-after {format_epochs(late)}: a check must come before the last epoch ({epochs}), "
                     f"where a trial could still stop early; {fix}")


def _cluster_address(args):
    from harness.dask_runner import ClusterAddress

    address = ClusterAddress(workers=args.workers, scheduler=args.scheduler, scheduler_file=args.scheduler_file)
    named = [flag for flag, value in (("--workers", args.workers), ("--scheduler", args.scheduler),
                                      ("--scheduler-file", args.scheduler_file)) if value is not None]
    if len(named) > 1:
        raise InputError(f"give one of --workers, --scheduler and --scheduler-file, not {' and '.join(named)}")
    return address


def _count_workers(address) -> int:
    """The default batch size on an existing cluster: its workers now (checked reachable before any folder)."""
    from harness.dask_runner import connect

    client = connect(address)
    try:
        return max(1, len(client.scheduler_info()["workers"]))
    finally:
        client.close()


def _load_data(settings):
    from harness.data.loaders import load_dataset

    return load_dataset(settings.dataset, data_dir=settings.data_dir, validate_on=settings.validate_on,
                        train_size=settings.train_size)


def _tune(args: argparse.Namespace, run, data, address) -> int:
    import functools

    from harness.model import create_model
    from harness.search import SearchAborted, run_search

    if not args.trials_per_worker or address.given:
        # Trials, or the best model's final check, run in this process. After every input check,
        # so a usage error comes at once and alone. With trial workers this process never needs
        # TensorFlow: seconds saved on a small machine (harness.model_check).
        _import_tensorflow()
    settings, out, resumed = run.settings, run.path, len(run.trials)
    if resumed:
        print(f"resuming {out}: {resumed} of {settings.n_calls} trials already done")
    print(f"tuning on {data.name}: {len(data.y_train)} train / {len(data.y_val)} validation "
          f"({'test set' if settings.validate_on == 'test' else 'held out of training'}) / "
          f"{len(data.y_test) if data.has_test else 0} test; {settings.n_calls} calls, "
          f"{settings.epochs} epochs, batch {settings.batch_size}, seed {settings.seed}"
          f"{f', {settings.trials_per_batch} trials per batch' if settings.trials_per_batch > 1 else ''}"
          f"{_where(address)}, {_describe_initial_design(settings)}{_describe_prune(settings)}, "
          f"{_describe_threads(settings.threads)}{_describe_objective_scale(settings)}; writing {out}",
          flush=True)

    model_factory = functools.partial(create_model, input_shape=data.input_shape, num_classes=data.num_classes)
    progress = ProgressPrinter(n_calls=settings.n_calls, resumed=resumed)
    signal.signal(signal.SIGINT, progress.interrupt)
    try:
        result = run_search(create_model=model_factory, data=data, n_calls=settings.n_calls, seed=settings.seed,
                            epochs=settings.epochs, batch_size=settings.batch_size, out_dir=run,
                            trials_per_batch=settings.trials_per_batch, workers=address.workers,
                            scheduler=address.scheduler, scheduler_file=address.scheduler_file,
                            on_trial=progress, max_consecutive_failures=args.max_consecutive_failures,
                            trials_per_worker=args.trials_per_worker or None, trial_timeout=args.trial_timeout,
                            prune=_prune_rule(settings), initial_design=settings.initial_design, score_best_model=True,
                            n_initial_points=_initial_point_count(settings), threads=settings.threads,
                            objective_scale=settings.objective_scale)
    except SearchAborted as aborted:
        print(f"mlptune tune: error: search stopped: {aborted}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"\ninterrupted; finished trials are saved. Resume with: mlptune tune --resume {out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return report(result, run)


def _describe_threads(threads: int | None) -> str:
    if threads is None:
        return "TensorFlow's threads: one per core"
    return f"{threads} TensorFlow thread{'s' if threads != 1 else ''} per trial"


def _describe_objective_scale(settings) -> str:
    return "" if settings.objective_scale == "accuracy" else f", objective {settings.objective_scale}"


def _initial_point_count(settings) -> int:
    """The default point and the drawn ones: `mlptune tune` always searches the reference space from it."""
    return default_initial_points(settings.n_calls, has_x0=True, max_drawn=settings.initial_points)


def _describe_initial_design(settings) -> str:
    how = "Latin hypercube" if settings.initial_design == "lhs" else "random"
    return f"{_initial_point_count(settings)} initial points ({how})"


def _prune_rule(settings):
    return parse_rule(settings.prune, parse_epochs(settings.prune_after) if settings.prune_after else None,
                      percentile=settings.prune_percentile, min_trials=settings.prune_min_trials)


def _settings_with_prune_rule(settings):
    """The settings of a new run with the prune rule's defaults filled in (`mlptune tune`'s own for median).

    Written down, so a run folder resumes with the defaults it started with: one made before the
    median waited for 3 trials holds no count and resumes with the rule's own 5.
    """
    if settings.prune == "median":  # no percentile written: its run.json reads as before the percentile rule
        after = settings.prune_after or format_epochs(every_epoch_but_the_last(settings.epochs))
        return replace(settings, prune_after=after, prune_min_trials=settings.prune_min_trials or TUNE_MEDIAN_MIN_TRIALS)
    rule = _prune_rule(settings)
    if rule is None:
        return settings
    return replace(settings, prune_after=format_epochs(rule.after_epochs), prune_percentile=rule.percentile,
                   prune_min_trials=rule.min_trials)


def _describe_prune(settings) -> str:
    rule = _prune_rule(settings)
    checked = [epoch for epoch in rule.after_epochs if epoch < settings.epochs] if rule is not None else []
    if not checked:  # no rule, or only checks at or after the last epoch, which are never made
        return ""
    if rule.percentile == MEDIAN:
        return f", median pruning after epoch {format_epochs(checked)}"
    return (f", pruning below the {rule.percentile:g}th percentile after epoch {format_epochs(checked)} "
            f"(once {rule.min_trials} trials reached it)")


def _where(address) -> str:
    if address.workers:
        return f", on {address.workers} Dask worker{'s' if address.workers > 1 else ''}"
    if address.given:
        return f", on the Dask cluster at {address.scheduler or address.scheduler_file}"
    return ""


class ProgressPrinter:
    """One line per trial: k/N, params, score, best so far, elapsed, ETA."""

    def __init__(self, *, n_calls: int, resumed: int):
        self.n_calls = n_calls
        self.resumed = resumed
        self.started = time.perf_counter()
        self.interrupted = False

    def interrupt(self, signum, frame) -> None:
        # KeyboardInterrupt raised inside a finalizer (a weakref callback during TensorFlow's
        # garbage collection) is swallowed by Python; the flag makes sure the run still stops,
        # at the latest once the trial in flight is saved.
        self.interrupted = True
        raise KeyboardInterrupt

    def __call__(self, trial, result) -> None:
        done = trial.index + 1
        best = result.best
        elapsed = time.perf_counter() - self.started
        ran = done - self.resumed
        eta = elapsed / ran * (self.n_calls - done) if ran > 0 else 0.0
        score = f"{trial.score:.4f}" if trial.ok else (
            f"{trial.score:.4f} pruned after epoch {len(trial.epoch_scores)}" if trial.pruned else "FAILED")
        best_text = f"{best.score:.4f}" if best else "-"
        replayed = " (replayed)" if trial.index < self.resumed else f" {trial.seconds:5.1f}s"
        print(f"[{done:>{len(str(self.n_calls))}}/{self.n_calls}] val_acc {score}  best {best_text}  "
              f"{format_params(trial.params)}{replayed}  elapsed {_clock(elapsed)}  ETA {_clock(eta)}", flush=True)
        if trial.failed:
            print(f"    trial {trial.index} failed: {trial.error}", flush=True)
        if self.interrupted:
            raise KeyboardInterrupt


def format_params(params: dict) -> str:
    return " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def report(result, run) -> int:
    """The blog notebook's last cells: sorted trials, best point, and the reloaded best model's scores."""
    from harness.run_directory import BEST_MODEL_NAME, CHECKPOINT_NAME, PLOTS_NAME, RESULTS_NAME, TENSORBOARD_NAME

    out = run.path

    print("\ntrials by validation accuracy (best first):")
    for trial in result.sorted_trials():
        score = f"{trial.score:.4f}" if trial.ok else (
            f"{trial.score:.4f} (pruned after epoch {len(trial.epoch_scores)})" if trial.pruned else "failed")
        print(f"  {score:>7}  {list(trial.params.values())}")
    best = result.best
    if best is None:
        print("mlptune tune: error: no trial trained to the end (every one failed or was pruned); "
              "see the errors above and in results.json", file=sys.stderr)
        return EXIT_FAILED
    print(f"\nbest parameters (trial {best.index}): {format_params(best.params)}")
    print(f"best validation accuracy: {best.score:.4f}")
    summary = result.to_json()
    model_path = result.best_model_path
    check = summary.get("best_model_check")  # the search reloaded and scored the saved model (harness.model_check)
    if check is not None and check.get("sha256_matches") is False:
        print(f"mlptune tune: error: {model_path} changed after the search saved it (SHA-256 differs); "
              "not loading it. Rerun the search for a trusted model", file=sys.stderr)
        return EXIT_FAILED
    if check is not None:
        val_accuracy = check["val_accuracy_reloaded"]
        line = f"best model reloaded from {model_path}: validation accuracy {val_accuracy:.4f}"
        if "test_accuracy" in check:
            line += f", test loss {check['test_loss']:.4f}, test accuracy {check['test_accuracy']:.4f}"
        print(line)
        if not check["matches_recorded"]:
            print(f"warning: the reloaded model scores {val_accuracy:.6f}, the search recorded {best.score:.6f}",
                  file=sys.stderr)
    timing = summary["timing"]
    print(f"time: optimizer {timing['optimizer_seconds']:.1f} s, training {timing['training_seconds']:.1f} s, "
          f"wall {timing['wall_seconds']:.1f} s")
    for name, problem in summary.get("plot_problems", {}).items():
        print(f"note: {PLOTS_NAME}/{name}.png not written: {problem}")
    written = [RESULTS_NAME, CHECKPOINT_NAME, *([BEST_MODEL_NAME] if model_path else []), f"{PLOTS_NAME}/"]
    line = f"wrote {out}/: {', '.join(written)}"
    if run.tensorboard_dir is not None:
        line += f", {TENSORBOARD_NAME}/ (view with: tensorboard --logdir {run.tensorboard_dir})"
    print(line)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
