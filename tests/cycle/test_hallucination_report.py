"""The hallucination counts reach the report (a table, examples with the contradicting span
marked; the per-cycle plot is decoded by the README demo test's image check, which pays for
matplotlib anyway) and the dataset card (issue 26)."""
from __future__ import annotations

from vstar_data.cycle.report import highlight
from vstar_data.cycle.report_hallucination import hallucination_view
from vstar_data.cycle._report_plots import hallucination_plot
from vstar_data.dataset.card import hallucination_rows

ANSWER = "A blue square moves to the left."
STATS = [{"cycle": c, "hallucination": {
    "constrained": True, "answers": {"generated": 10, "rationalized": 4, "published": 6},
    "contradicting": {"generated": 3 + c, "rationalized": 1, "published": 0},
    "by_source": {"00-shapes": {
        "answers": {"generated": 10, "rationalized": 4, "published": 6},
        "contradicting": {"generated": 3 + c, "rationalized": 1, "published": 0},
        "by_constraint": {"colour": {"generated": 3 + c, "rationalized": 1, "published": 0}},
        "examples": [{"id": "s1", "origin": "generated", "published": False, "answer": ANSWER,
                      "constraint": "colour", "span": [2, 6], "stated": "blue"}]}}}} for c in range(2)]


def test_report_view_marks_the_contradicting_span_and_tabulates_each_cycle() -> None:
    view = hallucination_view(STATS, highlight)
    assert [(r["cycle"], r["constraint"], r["generated"]) for r in view["rows"]] == [
        (0, "any", "3 of 10"), (0, "colour", "3 of 10"), (1, "any", "4 of 10"), (1, "colour", "4 of 10")]
    marked = [seg for seg in view["examples"][0]["segments"] if seg["mark"]]
    assert [seg["text"] for seg in marked] == ["blue"] and "contradicts" in marked[0]["title"]


def test_runs_without_constraints_show_no_section() -> None:
    plain = [{"cycle": 0, "hallucination": {"constrained": False}}, {"cycle": 1}]
    assert hallucination_view(plain, highlight) is None and hallucination_plot(plain) is None
    assert hallucination_rows(plain) == []


def test_card_rows_per_cycle_and_constraint() -> None:
    rows = hallucination_rows(STATS)
    assert rows[1] == {"cycle": 0, "source": "00-shapes", "constraint": "colour", "generated": "3 of 10",
                       "rationalized": "1 of 4", "published": "0 of 6"}
    assert [r["cycle"] for r in rows] == [0, 0, 1, 1]
