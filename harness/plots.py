"""scikit-optimize's three diagnostic plots of a finished search, as PNG files."""

from __future__ import annotations

from pathlib import Path

from harness.atomic import atomic_path

PLOT_NAMES = ("convergence", "objective", "evaluations")


def write_plots(optimize_result, plots_dir: Path) -> dict[str, str]:
    """Write convergence.png, objective.png and evaluations.png; return {name: problem} for any not written.

    A plot that cannot be drawn (objective needs a fitted Gaussian process, so more calls than
    initial points) is reported instead of failing a search whose budget is already spent.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display on CI machines
    import matplotlib.pyplot as plt
    from skopt import plots

    drawers = {
        "convergence": plots.plot_convergence,
        "objective": plots.plot_objective,
        "evaluations": plots.plot_evaluations,
    }
    plots_dir.mkdir(parents=True, exist_ok=True)
    problems = {}
    for name in PLOT_NAMES:
        if name == "objective" and not optimize_result.models:
            problems[name] = "no Gaussian process was fitted (n_calls <= n_initial_points)"
            continue
        try:
            axes = drawers[name](optimize_result)
            figure = _figure_of(axes)
            with atomic_path(plots_dir / f"{name}.png") as temporary:
                figure.savefig(temporary, dpi=90, bbox_inches="tight")
        except Exception as error:  # noqa: BLE001 - a plot must not cost the search its results
            problems[name] = f"{type(error).__name__}: {error}"
        finally:
            plt.close("all")
    return problems


def _figure_of(axes):
    import numpy as np

    first = np.asarray(axes).flat[0] if isinstance(axes, np.ndarray) else axes
    return first.get_figure()
