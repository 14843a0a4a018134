"""The run folder's plots speak in validation accuracy (higher is better), never skopt's negated objective."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from harness.objective import objective  # noqa: E402
from harness.plots import (  # noqa: E402
    ACCURACY,
    PLOT_NAMES,
    convergence_figure,
    evaluations_figure,
    objective_figure,
    write_plots,
)
from harness.search import make_optimizer  # noqa: E402
from harness.space import REFERENCE_SPACE  # noqa: E402
from harness.trial import FAILED, OK, Trial  # noqa: E402

NAMES = [dimension.name for dimension in REFERENCE_SPACE]
POINTS = [(0.01, 3, 16, "relu"), (0.003, 5, 120, "tanh"), (0.05, 9, 290, "sigmoid"), (0.0004, 3, 64, "relu"),
          (0.0011, 4, 200, "tanh"), (0.02, 7, 30, "sigmoid"), (0.0002, 3, 90, "tanh")]
SCORES = [0.84, 0.86, None, 0.81, 0.88, 0.10, 0.85]  # None: the trial failed


def trials():
    return [Trial(index=i, params=dict(zip(NAMES, point)), seed=i, status=OK if score is not None else FAILED,
                  score=score, val_loss=None, seconds=1.0, error=None if score is not None else "boom")
            for i, (point, score) in enumerate(zip(POINTS, SCORES))]


@pytest.fixture
def optimize_result():
    optimizer = make_optimizer(REFERENCE_SPACE, n_initial_points=3, acq_func="EI", seed=0)
    ran = trials()
    optimizer.tell([[t.params[name] for name in NAMES] for t in ran], [objective(t) for t in ran])
    return optimizer.get_result()


def test_every_plot_is_written(optimize_result, tmp_path):
    assert write_plots(optimize_result, trials(), tmp_path) == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{name}.png" for name in PLOT_NAMES)


def test_convergence_shows_the_best_accuracy_so_far_and_marks_failed_trials():
    figure = convergence_figure(trials())
    [axes] = figure.axes
    assert axes.get_ylabel() == ACCURACY
    [best_so_far] = axes.get_lines()
    assert list(best_so_far.get_ydata()) == [0.84, 0.86, 0.86, 0.86, 0.88, 0.88, 0.88]
    assert "failed trial (no score)" in [text.get_text() for text in axes.get_legend().get_texts()]
    plt.close(figure)


def test_evaluations_label_categories_by_name_on_one_accuracy_scale(optimize_result):
    figure = evaluations_figure(trials(), optimize_result.space)
    panels = [axes for axes in figure.axes if axes.get_xlabel() in NAMES]
    assert [axes.get_xlabel() for axes in panels] == NAMES
    activation = panels[3]
    assert [label.get_text() for label in activation.get_xticklabels()] == ["sigmoid", "tanh", "relu"]
    assert len({axes.get_ylim() for axes in panels}) == 1
    assert panels[0].get_xscale() == "log"  # the learning rate's prior is log-uniform
    plt.close(figure)


@pytest.mark.parametrize("scale", ["accuracy", "log-error"])
def test_the_gaussian_process_prediction_is_drawn_as_accuracy_on_either_scale(scale):
    optimizer = make_optimizer(REFERENCE_SPACE, n_initial_points=3, acq_func="EI", seed=0)
    ran = trials()
    optimizer.tell([[t.params[name] for name in NAMES] for t in ran], [objective(t, scale=scale) for t in ran])
    figure = objective_figure(optimizer.get_result(), scale)
    predicted = [value for axes in figure.axes for line in axes.get_lines()[:1] for value in line.get_ydata()]
    # between the worst and best scores told (0 for the failed trial, 0.88), not -0.88 or log(0.12)
    assert predicted and all(0.0 <= value <= 0.9 for value in predicted)
    assert max(predicted) > 0.5
    plt.close(figure)
