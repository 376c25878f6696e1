"""Saved and recorded files: bounded names, no symlink followed, nothing overwritten, no crash."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from engine.savefile import bounded, fresh_stem, replace_file, save_set, write_new
from engine.worker import Recorder


def test_write_new_refuses_a_symlink_even_a_dangling_one(tmp_path: Path) -> None:
    target = tmp_path / "target"
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(FileExistsError):
        write_new(tmp_path / "link", b"data")
    assert not target.exists()


def test_replace_file_replaces_a_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_bytes(b"keep")
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / "x.b64").symlink_to(outside)
    replace_file(folder / "x.b64", b"new")
    assert outside.read_bytes() == b"keep"
    assert not (folder / "x.b64").is_symlink()
    assert (folder / "x.b64").read_bytes() == b"new"
    assert sorted(p.name for p in folder.iterdir()) == ["x.b64"]


def test_save_set_takes_a_fresh_stem_for_the_whole_set(tmp_path: Path) -> None:
    (tmp_path / "a.response.b64").write_bytes(b"old")
    assert fresh_stem(tmp_path, "a", [".b64", ".response.b64"]) == "a-2"
    paths = save_set(tmp_path, "a", {".b64": b"1", ".response.b64": b"2"})
    assert [p.name for p in paths] == ["a-2.b64", "a-2.response.b64"]
    assert (tmp_path / "a.response.b64").read_bytes() == b"old"


def test_bounded_names_keep_long_ones_apart() -> None:
    one, two = "x" * 300 + "1", "x" * 300 + "2"
    assert bounded("short", "short", 80) == "short"
    assert len(bounded(one, one, 80)) == 80
    assert bounded(one, one, 80) != bounded(two, two, 80)


def test_recorder_names_stay_short_for_huge_ids_and_names(tmp_path: Path) -> None:
    recorder = Recorder(str(tmp_path))
    stem = recorder.stem(1, "activity", "é" * 200 + "\t" * 50, "n" * 300)
    recorder.request(stem, b"req")
    recorder.response(stem, b"resp")
    recorder.abandoned(stem, "why")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 3 and all(len(n.encode()) < 255 for n in names)
    assert base64.b64decode((tmp_path / f"{stem}.b64").read_bytes()) == b"req"
    assert not recorder.suspended


def test_a_failing_write_is_logged_once_and_suspends_recording(tmp_path: Path) -> None:
    lines: list[str] = []
    folder = tmp_path / "rec"
    recorder = Recorder(str(folder), lines.append)
    os.rmdir(folder)  # the record folder removed while the worker runs
    for number in range(3):
        stem = recorder.stem(number, "turn", "i", "")
        recorder.request(stem, b"r")
        recorder.abandoned(stem, "why")
    assert recorder.suspended
    assert len(lines) == 1 and lines[0].startswith("recording suspended: cannot write ")
    assert not folder.exists()
