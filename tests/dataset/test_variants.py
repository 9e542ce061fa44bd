"""Row variants: chain-of-thought, direct and multiple-choice rows, seeded and deterministic."""
from __future__ import annotations

from collections import Counter

import pytest

from vstar_data.dataset.variants import COT_SUFFIXES, OPTION_STYLES, ValuePool, VariantOptions, make_variants
from vstar_data.errors import ConfigError
from vstar_data.verify.verifier import Verifier

ACTIONS = ["playing guitar", "yoga", "arm wrestling", "flipping pancake", "hitting baseball"]


def _row(i: int, value: str, source: str = "kinetics700") -> dict:
    return {"id": f"s{i}", "source": source, "question": "What is happening in this video?",
            "answer": f"Step by step: the person is {value}.",
            "labels": [{"type": "category", "name": "action", "value": value}]}


def _pool(rows) -> ValuePool:
    pool = ValuePool()
    for r in rows:
        pool.add(r)
    return pool


def test_three_variants_per_answer_and_their_shapes() -> None:
    rows = [_row(i, v) for i, v in enumerate(ACTIONS)]
    pool = _pool(rows)
    skipped: Counter = Counter()
    out = dict(make_variants(rows[0], VariantOptions(), pool, skipped))
    assert set(out) == {"cot", "direct", "mc"} and not skipped
    cot = out["cot"]
    assert cot["answer"] == rows[0]["answer"]
    assert cot["question"].split("\n")[1] in COT_SUFFIXES
    assert out["direct"]["answer"] == "Playing guitar." and out["direct"]["question"] == rows[0]["question"]
    mc = out["mc"]
    lines = mc["question"].split("\n")
    options = lines[1:5]
    assert len(options) == 4 and len(set(options)) == 4
    texts = [o.split(" ", 1)[1] if not o.startswith("Option") else o.split(": ", 1)[1] for o in options]
    assert "playing guitar" in texts and set(texts) <= set(ACTIONS)
    k = texts.index("playing guitar")
    assert mc["answer"] in ("ABCD"[k], "abcd"[k], str(k + 1))
    # the direct row is a valid answer for its own labels
    assert Verifier("default").verify(rows[0]["labels"], out["direct"]["answer"]).accepted


def test_seeded_and_deterministic() -> None:
    rows = [_row(i, v) for i, v in enumerate(ACTIONS)]
    pool = _pool(rows)
    first = [make_variants(r, VariantOptions(seed=1), pool, Counter()) for r in rows]
    assert first == [make_variants(r, VariantOptions(seed=1), pool, Counter()) for r in rows]
    other = [make_variants(r, VariantOptions(seed=2), pool, Counter()) for r in rows]
    assert first != other
    many = [dict(make_variants(_row(i, ACTIONS[i % 5]), VariantOptions(seed=0), pool, Counter()))
            for i in range(200)]
    assert len({m["cot"]["question"] for m in many}) >= 15          # the suffixes vary
    styles = {m["mc"]["question"].split("\n")[1][:3] for m in many}
    assert len(styles) >= 4 and len(COT_SUFFIXES) >= 20 and len(OPTION_STYLES) >= 4


def test_no_mc_row_is_counted() -> None:
    skipped: Counter = Counter()
    few = [_row(i, v) for i, v in enumerate(ACTIONS[:3])]             # only 2 other values
    assert [k for k, _ in make_variants(few[0], VariantOptions(), _pool(few), skipped)] == ["cot", "direct"]
    boolean = {**few[0], "labels": [{"type": "boolean", "name": "answer", "value": True}]}
    make_variants(boolean, VariantOptions(), _pool(few), skipped)
    two = {**few[0], "labels": few[0]["labels"] + [{"type": "number", "name": "score", "value": 3.0}]}
    out = dict(make_variants(two, VariantOptions(), _pool(few), skipped))
    assert out["direct"]["answer"] == "action: playing guitar. score: 3."
    assert skipped == {"mc_fewer_than_3_other_values": 1, "mc_boolean_label": 1, "mc_multi_label": 1}
    other_source = [_row(i, v, source="other") for i, v in enumerate(ACTIONS)]
    assert "mc" not in dict(make_variants(few[0], VariantOptions(), _pool(few + other_source), Counter()))


def test_options_parse_and_validate() -> None:
    assert VariantOptions.parse("all").kinds == ("cot", "direct", "mc")
    assert VariantOptions.parse("cot,mc", 4) == VariantOptions(("cot", "mc"), 4)
    assert VariantOptions.parse(None) is None and VariantOptions.parse("none") is None
    with pytest.raises(ConfigError, match="row variants"):
        VariantOptions.parse("cot,summary")


def test_write_shards_counts_answers_once_and_drops_duplicate_variants(tmp_path) -> None:
    """Two accepted attempts of one sample (a re-run appended rows): every variant of the loser is
    dropped, and the counts the card uses count answers, not variant rows."""
    import pyarrow.parquet as pq

    from factory import attempt_row, write_rows_dir
    from vstar_data.dataset.writer import write_shards

    rows = [attempt_row(i, source="kinetics700", split="train") for i in range(8)]
    rows.append(attempt_row(3, source="kinetics700", split="train", cycle=0, origin="rationalized"))
    rows_dir = write_rows_dir(tmp_path / "rows", rows)
    man = write_shards(rows_dir, tmp_path / "out", variants=VariantOptions(seed=5))
    assert man.duplicates_dropped == 1 and sum(man.counts.values()) == 8
    table = pq.read_table(sorted((tmp_path / "out" / "data" / "kinetics700").glob("*.parquet")))
    got = Counter(zip(table.column("id").to_pylist(), table.column("variant").to_pylist()))
    assert set(got.values()) == {1} and len(got) == 8 * 3                 # 7 distinct actions: mc for all
    kept = {o for i, o in zip(table.column("id").to_pylist(), table.column("origin").to_pylist())
            if i == "kinetics700/000003"}
    assert kept == {"generated"}
    plain = write_shards(rows_dir, tmp_path / "plain")
    assert plain.counts == man.counts and plain.duplicates_dropped == 1
