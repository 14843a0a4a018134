import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_mlptune.baseline import (
    Baseline,
    BaselineError,
    Spread,
    all_baselines,
    baseline_path,
    file_name_for,
    read_baseline,
    write_baseline,
)


def example(**overrides) -> Baseline:
    fields = dict(test="tests/test_a.py::test_b", environment_key="linux-x86_64-py3.11-tf2.21-keras3", value=0.9,
                  spread=Spread(values=(0.9,), seeds=(0,)), budget={"n_calls": 10}, data={"validation_fingerprint": "v"},
                  space_fingerprint="s", best_params={"units": 8}, environment={"tensorflow": "2.21.0"},
                  created="2026-11-26T00:00:00+00:00")
    fields.update(overrides)
    return Baseline(**fields)


def test_round_trip(tmp_path):
    path = tmp_path / "b.json"
    write_baseline(path, example())
    assert read_baseline(path) == example()
    assert read_baseline(tmp_path / "missing.json") is None


def test_spread_statistics():
    spread = Spread(values=(0.8, 0.9, 1.0), seeds=(0, 1, 2))
    assert spread.mean == pytest.approx(0.9) and spread.std == pytest.approx(0.1)
    assert spread.to_json()["min"] == 0.8 and spread.to_json()["max"] == 1.0


@pytest.mark.parametrize(("text", "message"), [
    ("", "not valid JSON"),
    ("[]", "not a JSON object"),
    ('{"value": 1}', "no schema version"),
    ('{"schema": 2}', "schema 2 is newer"),
    ('{"schema": 0}', "schema 0 is older"),
    ('{"schema": 1}', "missing or malformed field"),
])
def test_unusable_files(tmp_path, text, message):
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(BaselineError, match=message):
        read_baseline(path)


def test_truncated_file_is_unusable(tmp_path):
    path = tmp_path / "b.json"
    write_baseline(path, example())
    path.write_text(path.read_text()[:40])
    with pytest.raises(BaselineError, match="not valid JSON"):
        read_baseline(path)


def test_value_out_of_range_is_unusable(tmp_path):
    path = tmp_path / "b.json"
    data = example().to_json()
    data["value"] = 7
    path.write_text(json.dumps(data))
    with pytest.raises(BaselineError, match="out of range"):
        read_baseline(path)


def test_readable_file_names():
    assert file_name_for("tests/tuning/test_x.py::test_y[a-1]") == "tests.tuning.test_x--test_y[a-1].json"
    assert file_name_for("tests/test_x.py::TestA::test_y") == "tests.test_x--TestA--test_y.json"


def test_unsafe_ids_are_hashed_so_they_stay_unique():
    first, second = file_name_for("t.py::test[a b]"), file_name_for("t.py::test[a_b]")
    assert first != second and first.startswith("t--test[a_b]-")


@given(st.text(min_size=1, max_size=200))
def test_no_test_id_escapes_the_baselines_directory(tmp_path_factory, nodeid):
    root = tmp_path_factory.getbasetemp() / "baselines"
    path = baseline_path(root, "linux-py3.11-tf2.21-keras3", nodeid)
    assert path.parent == (root / "linux-py3.11-tf2.21-keras3").resolve()
    assert path.name.endswith(".json") and "/" not in path.name and not path.name.startswith(".")


def test_all_baselines_lists_good_and_bad(tmp_path):
    write_baseline(tmp_path / "env" / "a.json", example())
    (tmp_path / "env" / "b.json").write_text("{")
    found = all_baselines(tmp_path)
    assert [p.name for p, _ in found] == ["a.json", "b.json"]
    assert isinstance(found[0][1], Baseline) and isinstance(found[1][1], BaselineError)
