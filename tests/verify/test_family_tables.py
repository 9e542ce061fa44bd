"""Issue 23's verifier families (tests/verify/data/family_cases.jsonl), hand-judged and committed
before the code: rationalized answers that only restate the hinted value (`echoed_values`), a zero
count said with a determiner (`zero_determiner`), an interval whose end is stated first in its own
clause (`end_first`), a prediction committed with a modal verb (`modal_prediction`) and a long
enumeration of class names with no vocabulary given (`long_enumeration`).

Same row shape as the development table (test_commitment_table.py); no row carries a vocabulary.
The test prints agreement and false accepts per family and asserts a floor per family: the
families generalise (held-out answers of each family are checked elsewhere), so no family may
lean on the others' rows.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from vstar_data.verify.verifier import Verifier

DATA = Path(__file__).parent / "data" / "family_cases.jsonl"
MIN_AGREEMENT, MAX_FALSE_ACCEPTS = 0.9, 1     # per family


def test_family_tables() -> None:
    rows = [json.loads(line) for line in DATA.read_text("utf-8").splitlines() if line.strip()]
    assert len(rows) >= 80 and {"echoed_values", "zero_determiner", "end_first", "modal_prediction",
                                "long_enumeration"} == {r["family"] for r in rows}
    verifier = Verifier("default")
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])   # rows, agree, negatives, false accepts
    misses: list[str] = []
    for r in rows:
        assert r["expected"] in ("accept", "reject") and r["why"].strip()
        got = verifier.verify(r["labels"], r["answer"], r["origin"])
        ok = got.accepted == (r["expected"] == "accept")
        stats = per[r["family"]]
        stats[0] += 1
        stats[1] += ok
        stats[2] += r["expected"] == "reject"
        stats[3] += got.accepted and r["expected"] == "reject"
        if not ok:
            misses.append(f"  {r['id']}: expected {r['expected']}, got {got.reason or 'accept'}: {r['answer']!r}")
    lines = [f"{'family':17} rows  agree  false accepts (of negatives)"]
    for fam, (n, agree, neg, fa) in sorted(per.items()):
        lines.append(f"{fam:17} {n:4} {agree / n:6.1%}  {fa} of {neg}")
    report = "\n".join(lines + (["disagreements:"] + misses if misses else []))
    print(report)
    for fam, (n, agree, neg, fa) in per.items():
        assert neg and n - neg, f"{fam}: needs both accepts and rejects"
        assert agree / n >= MIN_AGREEMENT and fa <= MAX_FALSE_ACCEPTS, report
