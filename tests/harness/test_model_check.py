"""The saved best model, loaded again and scored: the same numbers as the model that was saved."""

import dataclasses

import pytest

from harness.model_check import best_model_check, score_saved_model

PARAMS = dict(learning_rate=0.01, num_layers=3, num_nodes=8, hidden_activation="relu")


@pytest.fixture(scope="module")
def saved(digits, digits_model, tmp_path_factory):
    model = digits_model(**PARAMS)
    model.fit(digits.x_train, digits.y_train, epochs=1, batch_size=64, verbose=0)
    path = tmp_path_factory.mktemp("model") / "best_model.keras"
    model.save(path)
    _, val_accuracy = model.evaluate(digits.x_val, digits.y_val, verbose=0)
    _, test_accuracy = model.evaluate(digits.x_test, digits.y_test, verbose=0)
    return path, val_accuracy, test_accuracy


def test_a_reloaded_model_scores_what_the_saved_one_did_on_both_sets(digits, saved):
    path, val_accuracy, test_accuracy = saved
    scores = score_saved_model(path, digits)
    assert scores["val_accuracy"] == pytest.approx(val_accuracy, abs=1e-7)
    assert scores["test_accuracy"] == pytest.approx(test_accuracy, abs=1e-7)
    assert scores["val_loss"] > 0 and scores["test_loss"] > 0


def test_data_without_a_test_set_is_scored_on_validation_only(digits, saved):
    path, val_accuracy, _ = saved
    no_test = dataclasses.replace(digits, x_test=None, y_test=None)
    assert not no_test.has_test
    scores = score_saved_model(path, no_test)
    assert set(scores) == {"val_loss", "val_accuracy"} and scores["val_accuracy"] == pytest.approx(val_accuracy, abs=1e-7)


def test_the_check_says_whether_the_reload_matches_the_recorded_score():
    scores = {"val_loss": 0.5, "val_accuracy": 0.875, "test_loss": 0.6, "test_accuracy": 0.86}
    assert best_model_check(scores, 0.875) == {"val_accuracy_reloaded": 0.875, "matches_recorded": True,
                                               "test_loss": 0.6, "test_accuracy": 0.86}
    assert best_model_check(scores, 0.8749)["matches_recorded"] is False
    assert "test_accuracy" not in best_model_check({"val_loss": 0.5, "val_accuracy": 0.875}, 0.875)
