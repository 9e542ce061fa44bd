"""`vstar-data`'s one error boundary: input, disk and environment errors (OSError, bad JSON /
YAML, undecodable text, unreadable Arrow data) become one located line and exit 2; anything else
is a bug and keeps its traceback. Also the causes fixed where they arise: a FIFO is not "missing",
a lone surrogate is named by row, stats.json's wrong types by entry and key."""
from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import pytest

from vstar_data.cli import input_error_message, main

LABELS = [{"name": "action", "type": "category", "value": "yoga"}]


def _run(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    return exit_.value.code, capsys.readouterr().err


def _answers(path: Path, *answers: str) -> Path:
    path.write_text("".join(json.dumps({"id": f"s{i}", "labels": LABELS, "answer": a}) + "\n"
                            for i, a in enumerate(answers)))
    return path


def test_the_boundary_maps_each_family_to_a_located_line_and_nothing_else():
    import pyarrow as pa
    import yaml

    assert input_error_message(OSError(errno.ENOSPC, "No space left on device", "/o/x.json"), "vstar-data push") \
        == "/o/x.json: no space left on the device: free some space or write elsewhere, then run again"
    assert input_error_message(OSError(errno.EROFS, "Read-only file system"), "vstar-data export").startswith(
        "vstar-data export: the file system is read-only")
    try:
        json.loads('{"a": ')
    except ValueError as exc:
        assert "not valid JSON (line 1" in input_error_message(exc, "c")
    try:
        yaml.safe_load("!!python/object:os.system x")
    except yaml.YAMLError as exc:
        assert input_error_message(exc, "vstar-data generate").startswith("vstar-data generate: not valid YAML")
    assert "not valid UTF-8" in input_error_message(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates"), "c")
    assert "Arrow / Parquet" in input_error_message(pa.ArrowInvalid("bad footer"), "c")
    for bug in (KeyError("x"), TypeError("y"), AttributeError("z"), ValueError("plain")):
        assert input_error_message(bug, "c") is None


def test_a_bug_keeps_its_traceback(monkeypatch, tmp_path):
    import vstar_data.cli.verify as verify_cli

    monkeypatch.setattr(verify_cli, "print_counts", lambda *a, **k: {}["boom"])
    with pytest.raises(KeyError):
        main(["verify", str(_answers(tmp_path / "a.jsonl", "yoga")), "--out", str(tmp_path / "v.jsonl")])


def test_a_read_only_disk_during_verify_is_one_line(tmp_path, capsys, monkeypatch):
    real = os.replace

    def replace(src, dst, *a, **kw):
        raise OSError(errno.EROFS, "Read-only file system", str(dst))
    monkeypatch.setattr(os, "replace", replace)
    out = tmp_path / "v.jsonl"
    status, err = _run(capsys, "verify", str(_answers(tmp_path / "a.jsonl", "yoga")), "--out", str(out))
    monkeypatch.setattr(os, "replace", real)
    assert status == 2 and "read-only" in err and str(out) in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["a.jsonl"]   # no temp file left


def test_a_fifo_or_a_folder_as_input_is_not_reported_missing(tmp_path, capsys):
    fifo = tmp_path / "answers.jsonl"
    os.mkfifo(fifo)
    status, err = _run(capsys, "verify", str(fifo), "--out", str(tmp_path / "v.jsonl"))
    assert status == 2 and "is not a regular file (it is a FIFO" in err and "does not exist" not in err
    status, err = _run(capsys, "verify", str(tmp_path), "--out", str(tmp_path / "v.jsonl"))
    assert status == 2 and "is not a regular file (it is a folder)" in err


def test_a_fifo_as_run_config_or_template_is_named_not_read(tmp_path, capsys):
    """Reading a FIFO blocks until a writer comes: `build --config` and a templates folder would
    hang; both name the file for what it is (the test would time out if they read it)."""
    config = tmp_path / "run.yaml"
    os.mkfifo(config)
    status, err = _run(capsys, "build", "--config", str(config))
    assert status == 2 and "run.yaml" in err and "FIFO" in err
    from vstar_data.errors import TemplateError
    from vstar_data.sources.templates import Template

    os.mkfifo(tmp_path / "my_task.yaml")
    with pytest.raises(TemplateError, match="FIFO") as err:
        Template.load(tmp_path / "my_task.yaml")
    assert "my_task.yaml" in str(err.value)


def test_a_device_as_output_is_refused_not_replaced(tmp_path, capsys):
    dev = tmp_path / "full"
    try:
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 7))      # our own /dev/full
    except (PermissionError, OSError):
        pytest.skip("cannot create a device node here")
    status, err = _run(capsys, "verify", str(_answers(tmp_path / "a.jsonl", "yoga")), "--out", str(dev))
    assert status == 2 and "is not a regular file (it is a device)" in err
    assert stat.S_ISCHR(dev.stat().st_mode)                          # still the device


def test_a_lone_surrogate_in_an_answer_is_named_by_row(tmp_path, capsys):
    src = tmp_path / "a.jsonl"
    src.write_text(json.dumps({"id": "ok", "labels": LABELS, "answer": "yoga"}) + "\n"
                   + '{"id": "bad", "labels": ' + json.dumps(LABELS) + ', "answer": "yo\\ud800ga"}\n')
    status, err = _run(capsys, "verify", str(src), "--out", str(tmp_path / "v.jsonl"))
    assert status == 2 and "row 2" in err and "'answer'" in err and "lone surrogate" in err


def test_a_yaml_tag_in_a_backend_option_names_the_option(tmp_path, capsys):
    status, err = _run(capsys, "generate", "kinetics700", "-a", str(tmp_path), "--out", str(tmp_path / "o"),
                       "--backend-option", "x=!!python/object/apply:os.system [echo hi]", "--dry-run")
    assert status == 2 and "--backend-option x" in err and "not plain YAML" in err


def _run_dir(tmp_path: Path, entry: dict) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / "stats.json").write_text(json.dumps({"cycles": [entry]}))
    return run


@pytest.mark.parametrize("entry, words", [
    ({"cycle": "zero"}, "`cycle`: must be a whole number"),
    ({"cycle": 0, "samples": "12"}, "`samples`: must be a whole number >= 0, got '12' (str)"),
    ({"cycle": 0, "eval": [0.5]}, "`eval`: must be an object"),
    ({"cycle": 0, "skipped_by_reason": {"video_missing": "3"}}, "`skipped_by_reason.video_missing`"),
    ({"cycle": 0, "train_loss": "low"}, "`train_loss`: must be a number"),
])
def test_report_names_the_entry_and_key_of_a_wrong_type_in_stats_json(tmp_path, capsys, entry, words):
    run = _run_dir(tmp_path, entry)
    status, err = _run(capsys, "report", str(run))
    assert status == 2 and "cycle entry 0" in err and words in err and str(run / "stats.json") in err
    assert not (run / "report.html").exists()


def test_report_names_a_broken_sources_json(tmp_path, capsys):
    run = _run_dir(tmp_path, {"cycle": 0})
    (run / "sources.json").write_text('["not", "a", "map"]')
    status, err = _run(capsys, "report", str(run))
    assert status == 2 and "sources.json" in err and "generate" in err
