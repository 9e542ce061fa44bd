"""`vstar-data verify`: fields kept, accept/score fields added, summary printed, clear errors."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vstar_data.cli import app, main
from vstar_data.errors import AnnotationError, ConfigError, LabelSpecError

runner = CliRunner()
ACTION = {"type": "category", "name": "action", "value": "playing guitar"}
SCORE = {"type": "number", "name": "final_score", "value": 65.6}

ROWS = [
    {"id": "a", "labels": [ACTION], "answer": "The man is playing guitar on a couch.", "question": "What?"},
    {"id": "b", "labels": [ACTION], "answer": "Nobody is playing guitar.", "origin": "generated"},
    {"id": "c", "labels": [ACTION], "answer": "As the answer states, he plays the guitar.", "origin": "rationalized"},
    {"id": "d", "labels": [ACTION, SCORE], "answer": "He plays guitar; the score is 60.", "meta": {"k": 1}},
]


def _write(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), "utf-8")
    return path


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_verify_writes_fields_and_summary(tmp_path: Path) -> None:
    src, out = _write(tmp_path / "in.jsonl", ROWS), tmp_path / "out" / "v.jsonl"
    result = runner.invoke(app, ["verify", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = _read(out)
    assert [r["id"] for r in rows] == ["a", "b", "c", "d"]
    for given, row in zip(ROWS, rows):
        assert {k: row[k] for k in given} == given                       # every input field kept
        assert row["verifier_profile"] == "default" and isinstance(row["accepted"], bool)
        assert [s["name"] for s in row["scores"]] == [s["name"] for s in given["labels"]]
    assert [r["accepted"] for r in rows] == [True, False, False, False]
    assert [r["reject_reason"] for r in rows] == [None, "negated", "hint_echo", "out_of_tolerance"]
    assert rows[0]["scores"][0]["matched"] == "playing guitar"
    assert "25.0%" in result.output and "rejected (hint_echo)" in result.output
    assert "rejected (negated)" in result.output


def test_profile_option_changes_acceptance(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", ROWS[3:])
    out = tmp_path / "v.jsonl"
    assert runner.invoke(app, ["verify", str(src), "-o", str(out), "--profile", "code"]).exit_code == 0
    assert _read(out)[0]["accepted"] is True and _read(out)[0]["verifier_profile"] == "code"
    prof = tmp_path / "tight.yaml"
    prof.write_text("rel_tol: 0.01\n", "utf-8")
    assert runner.invoke(app, ["verify", str(src), "-o", str(out), "-p", str(prof)]).exit_code == 0
    assert _read(out)[0]["accepted"] is False and _read(out)[0]["verifier_profile"] == "tight"


@pytest.mark.parametrize("bad, error, words", [
    ({"labels": [ACTION]}, AnnotationError, ["no `answer`"]),
    ({"answer": "x"}, LabelSpecError, ["no `labels`"]),
    ({"labels": [{"type": "category", "name": "action"}], "answer": "x"}, LabelSpecError, ["value"]),
    ({"labels": [{"type": "colour", "name": "c", "value": "red"}], "answer": "x"}, LabelSpecError, ["colour"]),
    ({"labels": [ACTION], "answer": "x", "origin": "guessed"}, AnnotationError, ["origin"]),
    ("{not json", AnnotationError, ["not valid JSON"]),
])
def test_bad_lines_name_file_and_line(tmp_path: Path, bad: object, error: type, words: list[str]) -> None:
    src = _write(tmp_path / "in.jsonl", [ROWS[0], bad])
    out = tmp_path / "v.jsonl"
    result = runner.invoke(app, ["verify", str(src), "--out", str(out)])
    assert isinstance(result.exception, error), result.output
    message = str(result.exception)
    assert str(src) in message and "row 2" in message and all(w in message for w in words)
    assert not out.exists()                                   # nothing half-written


def test_unknown_profile_and_entry_point_exit_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    src = _write(tmp_path / "in.jsonl", ROWS[:1])
    result = runner.invoke(app, ["verify", str(src), "--out", str(tmp_path / "v.jsonl"), "-p", "strict"])
    assert isinstance(result.exception, ConfigError) and "paper" in str(result.exception)
    monkeypatch.setattr(sys, "argv", ["vstar-data", "verify", str(src), "-o", str(tmp_path / "v.jsonl"),
                                      "-p", "strict"])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2 and capsys.readouterr().err.startswith("error: ")


def test_empty_input(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", [])
    out = tmp_path / "v.jsonl"
    result = runner.invoke(app, ["verify", str(src), "--out", str(out)])
    assert result.exit_code == 0 and out.read_text() == "" and "no answers" in result.output


def test_verify_explain_prints_decision_span_reason_and_failed_clause(tmp_path: Path) -> None:
    rows = [
        {"id": "ok", "labels": [{"type": "category", "name": "action", "value": "abseiling"}],
         "answer": "It looks like rock climbing at first, but it is abseiling."},
        {"id": "retracted", "labels": [{"type": "category", "name": "action", "value": "rock climbing"}],
         "answer": "It looks like rock climbing at first, but it is abseiling."},
        {"id": "list", "labels": [{"type": "category", "name": "action", "value": "abseiling"}],
         "answer": "Abseiling, rock climbing, ice climbing."},
        {"id": "other", "labels": [{"type": "number", "name": "final_score", "value": 65.6}],
         "answer": "The previous diver scored 65.6; this diver scores 48.0."},
        {"id": "missing", "labels": [{"type": "category", "name": "action", "value": "yoga"}],
         "answer": "A man rides a horse."},
    ]
    vocab = tmp_path / "classes.txt"
    vocab.write_text("abseiling\nrock climbing\nice climbing\nyoga\n", "utf-8")
    src, out = _write(tmp_path / "in.jsonl", rows), tmp_path / "v.jsonl"
    result = runner.invoke(app, ["verify", str(src), "--out", str(out), "--explain", "--vocabulary", str(vocab)])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "ok: ACCEPT" in text and "action (category): pass  span [48:57] 'abseiling'  reason -" in text
    assert "retracted: REJECT (retracted)" in text and "clause: 'It looks like rock climbing at first'" in text
    assert "list: REJECT (competing_value)" in text and "rival: 'rock climbing'" in text
    assert "other: REJECT (attributed_elsewhere)" in text and "clause: 'The previous diver scored 65.6'" in text
    assert "missing: REJECT (not_found)" in text and "clause: 'A man rides a horse.'" in text
    assert [r["reject_reason"] for r in _read(out)] == [None, "retracted", "competing_value",
                                                        "attributed_elsewhere", "not_found"]
    # without --explain nothing per answer is printed
    quiet = runner.invoke(app, ["verify", str(src), "--out", str(out)])
    assert "REJECT" not in quiet.output


def test_verify_vocabulary_file_must_exist(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", ROWS[:1])
    result = runner.invoke(app, ["verify", str(src), "--out", str(tmp_path / "o.jsonl"),
                                 "--vocabulary", str(tmp_path / "nope.txt")])
    assert result.exit_code != 0 and "nope.txt" in (result.output + str(result.exception))


@pytest.mark.parametrize("raw, shown", [
    ('{"type": "number", "name": "final_score", "value": 1e999}', "inf"),
    ('{"type": "number", "name": "final_score", "value": NaN}', "nan"),
    ('{"type": "number", "name": "final_score", "value": 65.6, "abs_tol": Infinity}', "inf"),
    ('{"type": "interval", "name": "seg", "start": 1, "end": 1e999}', "inf"),
    ('{"type": "number", "name": "final_score", "value": 65.6, "note": [NaN]}', "nan"),   # an extra key too
])
def test_non_finite_label_is_invalid_input_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture, raw: str, shown: str) -> None:
    """json.loads reads NaN / Infinity / 1e999 (-> inf): such a label would accept any answer."""
    src = _write(tmp_path / "in.jsonl", [ROWS[0], '{"id": "x", "labels": [' + raw + '], "answer": "It is 65.6."}'])
    out = tmp_path / "v.jsonl"
    result = runner.invoke(app, ["verify", str(src), "--out", str(out)])
    assert isinstance(result.exception, LabelSpecError), result.output
    message = str(result.exception)
    assert str(src) in message and "row 2" in message and f"{shown} is not a finite number" in message
    assert not out.exists()
    monkeypatch.setattr(sys, "argv", ["vstar-data", "verify", str(src), "-o", str(out)])
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.startswith("error: ") and "row 2" in err and "Traceback" not in err


def test_verify_explain_prints_measured_overlap_error_and_threshold(tmp_path: Path) -> None:
    rows = [
        {"id": "late", "labels": [{"type": "interval", "name": "moment", "start": 24.3, "end": 30.4}],
         "answer": "The person turns the light on from 10 s to 26 s."},
        {"id": "own", "labels": [{"type": "interval", "name": "moment", "start": 0, "end": 10, "min_iou": 0.9}],
         "answer": "It happens from 0 s to 8 s."},
        {"id": "far", "labels": [{"type": "number", "name": "score", "value": 80.0}],
         "answer": "The score is 90."},
        {"id": "box", "labels": [{"type": "bbox", "name": "cup", "box": [0, 0, 10, 10]}],
         "answer": "The cup is at [5, 5, 15, 15]."},
        {"id": "none", "labels": [{"type": "interval", "name": "moment", "start": 1, "end": 2}],
         "answer": "I cannot tell."},
    ]
    src, out = _write(tmp_path / "in.jsonl", rows), tmp_path / "v.jsonl"
    result = runner.invoke(app, ["verify", str(src), "--out", str(out), "--explain"])
    assert result.exit_code == 0, result.output
    text = result.output
    # IoU of [10, 26] with [24.3, 30.4]: 1.7 / 20.4
    assert f"measured: IoU {1.7 / 20.4:.3f} < min_iou 0.5 (profile default): stated 10-26 s, label 24.3-30.4 s" in text
    assert "measured: IoU 0.800 < min_iou 0.9 (label): stated 0-8 s, label 0-10 s" in text
    assert "measured: stated 90, label 80: error 10 (12.5%); allowed 5% of 80 = 4 (profile default)" in text
    assert f"measured: IoU {25 / 175:.3f} < min_iou 0.5 (profile default): stated box" in text
    assert text.count("measured:") == 4        # nothing measured when no interval is stated
    assert [r["reject_reason"] for r in _read(out)] == ["low_iou", "low_iou", "out_of_tolerance", "low_iou",
                                                        "not_found"]
