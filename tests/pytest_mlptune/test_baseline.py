import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_mlptune.baseline import (
    Baseline,
    BaselineError,
    ReplayRecord,
    Spread,
    all_baselines,
    baseline_path,
    environment_named,
    file_name_for,
    read_baseline,
    recorded_environments,
    write_baseline,
)


def example(**overrides) -> Baseline:
    fields = dict(test="tests/test_a.py::test_b", environment_key="linux-x86_64-py3.11-tf2.21-keras3", value=0.9,
                  spread=Spread(values=(0.9,), seeds=(0,)),
                  replay=(ReplayRecord(params={"units": 8}, seeds=(11, 12), scores=(0.88, 0.9)),
                          ReplayRecord(params={"units": 9}, seeds=(13, 14), scores=(0.87, 0.86))),
                  budget={"n_calls": 10}, data={"validation_fingerprint": "v"},
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
    ('{"schema": true}', "no schema version"),
    ('{"schema": 3}', "schema 3 is newer"),
    ('{"schema": 1}', "schema 1 is older"),
    ('{"schema": 2}', "missing or malformed field"),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
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


def test_replay_mean_and_scores():
    baseline = example()
    assert baseline.replay_scores == [(0.88, 0.9), (0.87, 0.86)]
    assert baseline.replay_mean == pytest.approx((0.88 + 0.9 + 0.87 + 0.86) / 4)


def _broken(change) -> dict:
    data = example().to_json()
    change(data)
    return data


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["search"].update(value=7), "expected an accuracy between 0 and 1, got 7"),
    (lambda d: d["search"].update(value=float("nan")), "expected an accuracy between 0 and 1, got nan"),
    (lambda d: d["search"]["spread"].update(values=[0.0, float("inf")], seeds=[0, 1]), "got inf"),
    (lambda d: d["search"]["spread"].update(values=[0.9, 0.8]), "one seed per value"),
    (lambda d: d["search"]["spread"].update(values=[], seeds=[]), "one seed per value"),
    (lambda d: d["replay"]["configs"][0].update(scores=[0.5, 1.5]), "got 1.5"),
    (lambda d: d["replay"]["configs"][0].update(scores=[0.5]), "one score per seed"),
    (lambda d: d["replay"]["configs"][0].update(seeds=[-1, 2]), "non-negative integer seed"),
    (lambda d: d["replay"]["configs"][1].update(seeds=[1, 2, 3], scores=[0.1, 0.2, 0.3]), "same number of seeds"),
    (lambda d: d["replay"].update(configs=[]), "at least one configuration"),
    (lambda d: d["replay"].update(configs={"a": 1}), "expected a list"),
    (lambda d: d.update(test=3), "expected a string"),
    (lambda d: d.pop("replay"), "KeyError"),
])
def test_invalid_values_are_unusable(tmp_path, change, message):
    path = tmp_path / "b.json"
    path.write_text(json.dumps(_broken(change)))
    with pytest.raises(BaselineError, match=message.replace("(", r"\(")):
        read_baseline(path)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_load_or_raise_the_baseline_error(tmp_path_factory, content):
    path = tmp_path_factory.getbasetemp() / "fuzz.json"
    path.write_bytes(content)
    try:
        read_baseline(path)
    except BaselineError:
        pass


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


@pytest.mark.parametrize(("first", "second"), [
    ("tests/a.b/test_x.py::t", "tests/a/b/test_x.py::t"),
    ("test_x.py::t[a::b]", "test_x.py::t[a--b]"),
    ("test_x.py::T::t", "test_x.py::T--t"),
    ("my-tests/test_x.py::t", "my/tests/test_x.py::t"),
])
def test_ids_that_read_alike_get_different_files(first, second):
    assert file_name_for(first) != file_name_for(second)


NODE_IDS = st.text(alphabet="ab._-/:[]", min_size=1, max_size=16)


@given(NODE_IDS, NODE_IDS)
def test_file_names_are_injective_over_node_ids(first, second):
    if first != second:
        assert file_name_for(first) != file_name_for(second)


def test_a_value_that_its_spread_does_not_give_is_refused(tmp_path):
    path = tmp_path / "b.json"
    stored = example().to_json()
    stored["search"]["value"] = 0.5  # the single search's best is 0.9
    path.write_text(json.dumps(stored))
    with pytest.raises(BaselineError, match="is not what its spread gives"):
        read_baseline(path)


def test_a_killed_write_s_temporary_file_is_not_a_baseline(tmp_path):
    write_baseline(tmp_path / "env" / "a.json", example())
    (tmp_path / "env" / ".a.x1y2.tmp.json").write_text('{"sch')  # what atomic_path leaves after a SIGKILL
    assert [p.name for p, _ in all_baselines(tmp_path)] == ["a.json"]


KEYS = ["linux-x86_64-py3.11-tf2.9-keras2", "linux-x86_64-py3.11-tf2.10-keras2", "linux-x86_64-py3.11-tf2.15-keras2",
        "linux-x86_64-py3.11-tf2.21-keras3", "linux-aarch64-py3.11-tf2.21-keras3"]


@pytest.fixture
def recorded(tmp_path):
    for key in KEYS:
        (tmp_path / key).mkdir()
        (tmp_path / key / ("t--a.json" if "tf2.1" in key else "t--b.json")).write_text("{}")
    (tmp_path / "empty-tf3.0").mkdir()  # a folder without baselines is no recorded environment
    return tmp_path


def test_recorded_environments_are_listed_in_version_order_and_by_test(recorded):
    assert recorded_environments(recorded) == [
        "linux-aarch64-py3.11-tf2.21-keras3", "linux-x86_64-py3.11-tf2.9-keras2", "linux-x86_64-py3.11-tf2.10-keras2",
        "linux-x86_64-py3.11-tf2.15-keras2", "linux-x86_64-py3.11-tf2.21-keras3"]
    assert recorded_environments(recorded, "t.py::a") == ["linux-x86_64-py3.11-tf2.10-keras2",
                                                          "linux-x86_64-py3.11-tf2.15-keras2"]
    assert recorded_environments(recorded / "missing") == []


@pytest.mark.parametrize(("wanted", "found"), [
    ("linux-x86_64-py3.11-tf2.15-keras2", "linux-x86_64-py3.11-tf2.15-keras2"),
    ("tf2.15", "linux-x86_64-py3.11-tf2.15-keras2"),
    ("tf2.9", "linux-x86_64-py3.11-tf2.9-keras2"),
    ("x86_64-py3.11-tf2.21", "linux-x86_64-py3.11-tf2.21-keras3"),
    ("aarch64", "linux-aarch64-py3.11-tf2.21-keras3"),
])
def test_an_environment_is_named_by_its_key_or_a_run_of_its_parts(recorded, wanted, found):
    assert environment_named(recorded, wanted) == found


@pytest.mark.parametrize(("wanted", "message"), [
    ("tf2.1", "no environment under .* is 'tf2.1'; recorded: linux-aarch64-py3.11-tf2.21-keras3, "),
    ("tf3.0", "no environment under .* is 'tf3.0'"),
    ("tf2.21", "'tf2.21' names several environments \\(linux-aarch64-py3.11-tf2.21-keras3, "
               "linux-x86_64-py3.11-tf2.21-keras3\\); give more of the key"),
    ("keras2-x", "no environment"),
])
def test_a_name_that_is_no_recorded_environment_or_several_is_refused(recorded, wanted, message):
    with pytest.raises(BaselineError, match=message):
        environment_named(recorded, wanted)
    with pytest.raises(BaselineError, match="there are no baselines under"):
        environment_named(recorded / "missing", wanted)
