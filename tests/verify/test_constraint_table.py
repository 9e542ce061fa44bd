"""The constraint table (tests/verify/data/constraint_cases.jsonl): hand-judged answers for labels
with `"role": "constraint"` (issue 26), written before the check was built. A constraint need not
appear; an answer that *asserts* a conflicting value (another class of the attribute's vocabulary,
a number outside tolerance, the listed items in another order) is rejected as `contradicts`,
naming the constraint; negated, hedged, questioned or counterfactual mentions do not count. A
failing target keeps its own reason (labels are checked in order)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vstar_data.verify.verifier import Verifier

DATA = Path(__file__).parent / "data" / "constraint_cases.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text("utf-8").splitlines() if line.strip()]


def test_table_covers_every_constraint_type_and_both_decisions() -> None:
    kinds = {s["type"] for r in ROWS for s in r["labels"] if s.get("role") == "constraint"}
    assert kinds == {"category", "number", "sequence"}
    assert sum(r["expected"] == "reject" for r in ROWS) >= 15 and sum(r["expected"] == "accept" for r in ROWS) >= 15
    assert sum(r["reason"] == "contradicts" for r in ROWS) >= 12


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_constraint_case(row: dict[str, Any]) -> None:
    verdict = Verifier("default").verify(row["labels"], row["answer"], row["origin"])
    assert verdict.accepted == (row["expected"] == "accept"), (row["why"], verdict.to_dict())
    if row["reason"]:
        assert verdict.reason == row["reason"], (row["why"], verdict.to_dict())
        failed = next(r for r in verdict.results if not r.passed)
        assert failed.name == row["constraint"], (row["why"], verdict.to_dict())
        if row["reason"] == "contradicts":          # the span names the contradicting words
            assert failed.span and failed.matched == row["answer"][failed.span[0]:failed.span[1]]
