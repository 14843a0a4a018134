import json
import os

import pytest

from harness.atomic import atomic_path, write_json_atomic


def test_json_is_sorted_indented_and_newline_terminated(tmp_path):
    write_json_atomic(tmp_path / "a.json", {"b": 1, "a": [1, 2]})
    assert (tmp_path / "a.json").read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "results.json"
    write_json_atomic(target, {"version": "old"})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_text('{"version": "ne')  # torn write, then the process dies
            raise RuntimeError("crash mid-write")
    assert json.loads(target.read_text()) == {"version": "old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_a_crash_between_temporary_and_rename_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "baseline.json"
    write_json_atomic(target, {"value": 0.9})

    def crash(*_):
        raise OSError("killed before rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="killed before rename"):
        write_json_atomic(target, {"value": 0.1})
    assert json.loads(target.read_text()) == {"value": 0.9}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline.json"]


def test_the_temporary_keeps_the_suffix_keras_needs(tmp_path):
    with atomic_path(tmp_path / "best_model.keras") as temporary:
        assert temporary.suffix == ".keras" and temporary.parent == tmp_path
        temporary.write_bytes(b"model")
    assert (tmp_path / "best_model.keras").read_bytes() == b"model"


def test_the_folder_is_synced_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.path.isdir(f"/proc/self/fd/{fd}")),
                                                 real_fsync(fd)))
    write_json_atomic(tmp_path / "a.json", {"a": 1})
    assert synced == [False, True]  # the file's data first, then the folder's entry for it


def test_a_symlink_at_the_target_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "a.json").symlink_to(victim)
    write_json_atomic(tmp_path / "a.json", {"a": 1})
    assert victim.read_text() == "precious" and not (tmp_path / "a.json").is_symlink()
