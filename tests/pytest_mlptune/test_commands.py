from pytest_mlptune.baseline import Spread, write_baseline
from pytest_mlptune.commands import drift_table

from .test_baseline import example


def test_drift_is_measured_against_the_newest_tensorflow(tmp_path):
    from pytest_mlptune.baseline import all_baselines

    write_baseline(tmp_path / "tf220" / "t.json", example(environment_key="k-tf2.20", value=0.86,
                                                            environment={"tensorflow": "2.20.0"},
                                                            spread=Spread(values=(0.86,), seeds=(0,))))
    write_baseline(tmp_path / "tf221" / "t.json", example(environment_key="k-tf2.21", value=0.88,
                                                            environment={"tensorflow": "2.21.0"},
                                                            spread=Spread(values=(0.87, 0.89), seeds=(0, 1))))
    write_baseline(tmp_path / "tf29" / "t.json", example(environment_key="k-tf2.9", value=0.80,
                                                           environment={"tensorflow": "2.9.1"},
                                                           spread=Spread(values=(0.80,), seeds=(0,))))
    lines = drift_table(all_baselines(tmp_path))
    assert lines[0].split() [:3] == ["test", "environment", "best"]
    rows = {line.split()[1]: line for line in lines[1:]}
    assert "-0.0800" in rows["k-tf2.9"] and "-0.0200" in rows["k-tf2.20"] and "(newest)" in rows["k-tf2.21"]
    assert "±0.0141 (n=2" in rows["k-tf2.21"]
    assert "0.8775 (2x2)" in rows["k-tf2.21"]  # the replayed configurations' mean score, configs x seeds


def test_mlptune_baselines_is_the_plugin_s_command_found_through_its_entry_point(tmp_path, capsys):
    from harness import cli

    assert "baselines" in cli.plugin_commands()
    assert cli.main(["baselines", "show", "--baselines-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "no baselines found\n"
    assert cli.main(["baselines", "show", "--baselines-dir", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.startswith("mlptune baselines: error: no baselines directory at ")


def test_show_lists_the_usable_baselines_and_exits_1_when_a_file_is_unusable(tmp_path, capsys):
    from harness import cli

    write_baseline(tmp_path / "env" / "good.json", example())
    assert cli.main(["baselines", "show", "--baselines-dir", str(tmp_path)]) == 0
    (tmp_path / "env" / "torn.json").write_text('{"test": "tests/test_x.py::te')  # cut short
    assert cli.main(["baselines", "show", "--baselines-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.count("(newest)") == 2  # the good file, in both tables
    assert out.rstrip().endswith(f"unusable: {tmp_path / 'env' / 'torn.json'}: not valid JSON (JSONDecodeError)")
