"""Three pictures of a finished search, in the user's terms: validation accuracy, not skopt's objective.

scikit-optimize minimises -accuracy or the log of the error rate (`harness.objective`), and its
own plots show that number with tick labels that run into each other on a four-dimensional
space. These draw the same information as a user reads it: accuracy, higher is better, one
labelled panel per parameter, categories by name.

- convergence.png: each trial's validation accuracy, and the best so far.
- evaluations.png: accuracy against each parameter's value (colour: trial order; star: the best).
- objective.png: what the Gaussian process predicts, one parameter at a time with the others
  averaged out (partial dependence); needs a fitted model, so more calls than initial points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from harness.atomic import atomic_path

PLOT_NAMES = ("convergence", "objective", "evaluations")
ACCURACY = "validation accuracy"
PARTIAL_DEPENDENCE_SAMPLES = 250  # points the other parameters are averaged over (a fixed draw: same plot every time)


def write_plots(optimize_result, trials: Sequence, plots_dir: Path, objective_scale: str = "accuracy") -> dict[str, str]:
    """Write the three PNG files; return {name: problem} for any not written.

    `objective_scale` is the scale the Gaussian process was told (`harness.objective`), so its
    predictions can be drawn as accuracy.

    A plot that cannot be drawn is reported instead of failing a search whose budget is spent.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display on CI machines
    import matplotlib.pyplot as plt

    drawers = {
        "convergence": lambda: convergence_figure(trials),
        "objective": lambda: objective_figure(optimize_result, objective_scale),
        "evaluations": lambda: evaluations_figure(trials, optimize_result.space),
    }
    plots_dir.mkdir(parents=True, exist_ok=True)
    problems = {}
    for name in PLOT_NAMES:
        if name == "objective" and not optimize_result.models:
            problems[name] = "no Gaussian process was fitted (n_calls <= n_initial_points)"
            continue
        try:
            figure = drawers[name]()
            with atomic_path(plots_dir / f"{name}.png") as temporary:
                figure.savefig(temporary, dpi=90)
        except Exception as error:  # noqa: BLE001 - a plot must not cost the search its results
            problems[name] = f"{type(error).__name__}: {error}"
        finally:
            plt.close("all")
    return problems


def convergence_figure(trials: Sequence):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(figsize=(7, 4.2), layout="constrained")
    ok = [t for t in trials if t.ok]
    axes.scatter([t.index + 1 for t in ok], [t.score for t in ok], s=22, color="tab:blue", alpha=0.75, label="trial")
    best, best_so_far = -math.inf, []
    for trial in trials:
        best = max(best, trial.score) if trial.ok else best
        best_so_far.append(best if best > -math.inf else math.nan)
    axes.plot([t.index + 1 for t in trials], best_so_far, drawstyle="steps-post", color="tab:orange",
              linewidth=2, label="best so far")
    pruned = [t for t in trials if t.pruned]
    if pruned:
        axes.scatter([t.index + 1 for t in pruned], [t.score for t in pruned], s=22, facecolors="none",
                     edgecolors="tab:gray", label="pruned trial (score when stopped)")
    failed = [t.index + 1 for t in trials if t.failed]
    if failed:
        bottom = min((t.score for t in ok), default=0.0)
        axes.scatter(failed, [bottom] * len(failed), marker="x", color="tab:red", label="failed trial (no score)")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("trial")
    axes.set_ylabel(ACCURACY)
    axes.set_title("Search progress")
    axes.grid(alpha=0.3)
    # below the plot: pruned and failed trials can sit anywhere low, so no corner is always free
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=4, frameon=False)
    return figure


def _grid(count: int):
    import matplotlib.pyplot as plt

    columns = min(count, 2)
    rows = math.ceil(count / columns)
    # one accuracy scale for every panel, so a flat effect looks flat
    figure, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.6 * rows), layout="constrained", squeeze=False,
                                sharey=True)
    for spare in axes.flat[count:]:
        spare.set_visible(False)
    return figure, list(axes.flat[:count])


def _label_axis(axes, dimension) -> None:
    from skopt.space import Categorical, Real

    axes.set_xlabel(dimension.name)
    if isinstance(dimension, Categorical):
        axes.set_xticks(range(len(dimension.categories)), [str(c) for c in dimension.categories])
        axes.set_xlim(-0.5, len(dimension.categories) - 0.5)
    elif isinstance(dimension, Real) and dimension.prior == "log-uniform":
        axes.set_xscale("log")


def _position(dimension, value, jitter: float = 0.0) -> float:
    """Where a value sits on its panel's x axis; categories by their index, spread a little to be seen."""
    from skopt.space import Categorical

    if isinstance(dimension, Categorical):
        return dimension.categories.index(value) + jitter
    return value


def evaluations_figure(trials: Sequence, space):
    import matplotlib.pyplot as plt

    dimensions = list(space.dimensions)
    figure, panels = _grid(len(dimensions))
    ok = [t for t in trials if t.ok]
    best = max(ok, key=lambda t: (t.score, -t.index)) if ok else None
    colours = plt.get_cmap("viridis")
    last = max(len(trials) - 1, 1)
    for axes, dimension in zip(panels, dimensions):
        # a fixed spread from the trial's index, so equal categories do not hide each other
        xs = [_position(dimension, t.params[dimension.name], jitter=((t.index * 0.618) % 1 - 0.5) * 0.3) for t in ok]
        points = axes.scatter(xs, [t.score for t in ok], c=[t.index for t in ok], cmap=colours, vmin=0, vmax=last,
                              s=24, alpha=0.85)
        if best is not None:
            axes.scatter([_position(dimension, best.params[dimension.name])], [best.score], marker="*", s=180,
                         color="tab:red", edgecolor="black", linewidth=0.5, zorder=3, label="best")
        _label_axis(axes, dimension)
        axes.grid(alpha=0.3)
    for axes in panels[::2]:
        axes.set_ylabel(ACCURACY)
    if ok:
        figure.colorbar(points, ax=panels, label="trial", shrink=0.8)
        panels[0].legend(loc="lower left")
    figure.suptitle("Validation accuracy by parameter value")
    return figure


def objective_figure(optimize_result, objective_scale: str = "accuracy"):
    from skopt.plots import partial_dependence_1D

    from harness.objective import accuracy_from_objective

    space = optimize_result.space
    model = optimize_result.models[-1]
    samples = space.transform(space.rvs(n_samples=PARTIAL_DEPENDENCE_SAMPLES, random_state=0))
    figure, panels = _grid(len(space.dimensions))
    for index, (axes, dimension) in enumerate(zip(panels, space.dimensions)):
        xs, objectives = partial_dependence_1D(space, model, index, samples, n_points=40)
        predicted = accuracy_from_objective(objectives, objective_scale)
        axes.plot(xs, predicted, color="tab:blue", marker="o" if len(xs) <= 10 else None)
        best_value = _position(dimension, optimize_result.x[index])
        axes.axvline(best_value, color="tab:red", linestyle="--", linewidth=1, label="best trial's value")
        _label_axis(axes, dimension)
        axes.grid(alpha=0.3)
    for axes in panels[::2]:
        axes.set_ylabel(f"predicted {ACCURACY}")
    panels[0].legend(loc="lower left")
    figure.suptitle("What the Gaussian process predicts, one parameter at a time (the others averaged)")
    return figure
