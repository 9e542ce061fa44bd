"""The published row schema: one Features, label/score structs that round-trip, the row check."""
from __future__ import annotations

import copy
import json

import pytest
from factory import SOURCES, attempt_row

from vstar_data.errors import VstarError
from vstar_data.dataset.rows import (COLUMNS, LABEL_FIELDS, _validators, check_row, features, from_record,
                             label_to_struct, score_to_struct, struct_to_label, struct_to_score, to_record)

SPECS = [
    {"type": "category", "name": "action", "value": "abseiling", "synonyms": ["rappelling"]},
    {"type": "category", "name": "bare", "value": "x"},
    {"type": "number", "name": "dive_score", "value": 81.5, "rel_tol": 0.05, "abs_tol": 1.0, "unit": "points"},
    {"type": "interval", "name": "segment", "start": 12.0, "end": 18.5, "min_iou": 0.5},
    {"type": "sequence", "name": "steps", "value": ["Forward", "Entry"]},
    {"type": "bbox", "name": "box", "value": {"x": 1, "y": 2}, "frame": 3},  # a plugin type: all in `extra`
]


def test_one_schema_with_the_required_columns():
    feats = features()
    assert tuple(feats) == COLUMNS
    for col in ("id", "video", "source", "task", "conversations", "labels", "origin", "cycle", "model",
                "template_id", "verifier_scores", "clip_start", "clip_end"):
        assert col in feats
    label_struct = feats["labels"].feature
    assert tuple(label_struct) == LABEL_FIELDS
    assert set(feats["conversations"].feature) == {"from", "value"}


@pytest.mark.parametrize("spec", SPECS, ids=[s["type"] + ":" + s["name"] for s in SPECS])
def test_label_round_trip(spec):
    struct = label_to_struct(spec)
    assert set(struct) == set(LABEL_FIELDS)
    assert struct_to_label(struct) == spec


def test_label_numbers_come_back_as_floats_and_fit_the_arrow_type():
    import pyarrow as pa

    spec = {"type": "number", "name": "n", "value": 3, "abs_tol": 1}
    struct = label_to_struct(spec)
    assert struct_to_label(struct) == {"type": "number", "name": "n", "value": 3.0, "abs_tol": 1.0}
    pa.array([[label_to_struct(s) for s in SPECS]], type=features().arrow_schema.field("labels").type)


def test_score_round_trip_keeps_extra_keys():
    score = {"name": "segment", "type": "interval", "passed": True, "score": 0.7, "span": [3, 9],
             "matched": "3 s to 9 s", "reason": None, "iou": 0.71}
    struct = score_to_struct(score)
    assert json.loads(struct["extra"]) == {"iou": 0.71}
    assert struct_to_score(struct) == score


def test_record_round_trip_through_arrow():
    import pyarrow as pa

    row = attempt_row(3, source="tal")
    schema = features().arrow_schema
    rec = to_record(row)
    batch = pa.RecordBatch.from_arrays([pa.array([v], type=f.type) for v, f in zip(rec, schema)], schema=schema)
    back = from_record(batch.to_pylist()[0])
    assert back["labels"] == row["labels"]
    assert back["conversations"] == [{"from": "human", "value": "<video>\n" + row["question"]},
                                     {"from": "gpt", "value": row["answer"]}]
    assert back["verifier_scores"][0]["span"] == [0, 5]


def _mutations(row):
    """Single-field edits of a valid row: deletions and wrong types at every level we check."""
    odd = [None, 5, -1, 2.5, "x", "", [], {}, True, [1, 2, 3], [-1, 2]]
    for key in list(row):
        r = copy.deepcopy(row)
        del r[key]
        yield r
        for value in odd:
            r = copy.deepcopy(row)
            r[key] = value
            yield r
    for i, spec in enumerate(row["labels"]):
        for key in [*spec, "value", "start", "end", "min_iou", "synonyms", "rel_tol"]:
            for value in odd + ["__delete__"]:
                r = copy.deepcopy(row)
                if value == "__delete__":
                    r["labels"][i].pop(key, None)
                else:
                    r["labels"][i][key] = value
                yield r
    for key in ["name", "type", "passed", "score", "span", "matched", "reason"]:
        for value in odd + [[1.5, 2], [3, 4]]:
            r = copy.deepcopy(row)
            r["verifier_scores"][0][key] = value
            yield r
    for value in ("generated", "rationalized", "other"):
        for accepted in (True, False):
            for answer in ("", "ok", None):
                r = copy.deepcopy(row)
                r.update(origin=value, accepted=accepted, answer=answer)
                yield r


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_compiled_check_agrees_with_jsonschema(source):
    fast, slow = _validators()
    base = attempt_row(4, source=source)
    assert fast(base) and slow.is_valid(base)
    n = disagreements = 0
    for row in _mutations(base):
        n += 1
        if fast(row) != slow.is_valid(row):
            disagreements += 1
            print(json.dumps(row)[:300])
    assert n > 300
    assert disagreements == 0


def test_bad_row_names_file_line_and_field():
    row = attempt_row(1)
    row["labels"][0]["value"] = 7
    with pytest.raises(VstarError) as err:
        check_row(row, file="worker-0/a.jsonl", line=12)
    assert err.value.file == "worker-0/a.jsonl" and err.value.row == 12
    assert err.value.key == "labels/0/value"
    missing = attempt_row(1)
    del missing["answer"]
    with pytest.raises(VstarError, match="'answer' is a required property"):
        check_row(missing, file="a.jsonl", line=3)
    unsafe = attempt_row(1, video="../../etc/passwd")
    with pytest.raises(VstarError) as err:
        check_row(unsafe)
    assert err.value.key == "video"


def test_semantic_checks_beyond_the_schema():
    row = attempt_row(2, source="tal")
    row["labels"][0]["end"] = 0.5
    with pytest.raises(VstarError, match="ends before it starts"):
        check_row(row)
    with pytest.raises(VstarError, match="clip_end is before clip_start"):
        check_row(attempt_row(2, source="tal", clip_start=9.0, clip_end=3.0))
    with pytest.raises(VstarError) as err:
        check_row(attempt_row(2, source="kinetics700") | {"source": "default"})
    assert err.value.key == "source"
    with pytest.raises(VstarError) as err:
        check_row(attempt_row(2, split="my-split"))
    assert err.value.key == "split"


def test_accepted_rows_need_an_answer_rejected_rows_may_lack_one():
    check_row(attempt_row(5, accepted=False, answer=""))
    with pytest.raises(VstarError) as err:
        check_row(attempt_row(5, accepted=True, answer=""))
    assert err.value.key == "answer"


def test_unsupported_schema_keyword_is_refused_by_the_compiler():
    from vstar_data.dataset.rows import compile_schema

    with pytest.raises(NotImplementedError, match="additionalProperties"):
        compile_schema({"type": "object", "additionalProperties": False}, {})
