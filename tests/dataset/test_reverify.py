"""`vstar-data reverify`: today's verifier over a published release.

Decisions written by hand before the code (category label `juggling`, profile `default`):
- "It is probably juggling."            -> removed, reason hedged, clause "It is probably juggling"
- "Juggling or dancing."                -> removed, reason competing_value, clause "Juggling or dancing"
- "The person is juggling three balls." -> kept (answer, labels, origin untouched; profile becomes today's)
- "He tosses three balls up in turn and catches each one: he juggles the balls." (rationalized) -> kept
  (issue 23: a rationalized answer needs echo_min_evidence words of visual description; the bare
  "He juggles the balls." this case first used is now a restated hint)
- with variants (cot + direct), the hedged sample leaves with both of its rows
- with --config kinetics700, config finediving keeps its shard files (same names, same bytes)
"""
from __future__ import annotations

import json

import pyarrow.parquet as pq
from typer.testing import CliRunner

from factory import attempt_row, make_attempts, write_rows_dir

JUGGLING = [{"type": "category", "name": "action", "value": "juggling"}]
ANSWERS = [("It is probably juggling.", "generated"), ("Juggling or dancing.", "generated"),
           ("The person is juggling three balls.", "generated"), ("He tosses three balls up in turn and catches each one: he juggles the balls.", "rationalized")]


def _rows(tmp_path, extra=()):
    rows = [attempt_row(i, source="kinetics700", split="train", answer=a, origin=o, labels=JUGGLING)
            for i, (a, o) in enumerate(ANSWERS)]
    return write_rows_dir(tmp_path / "rows", rows + list(extra), shards=1)


def _release(store, tag):
    from vstar_data.dataset.rows import from_record
    from vstar_data.dataset.store import checkout

    folder = checkout(store, tag, store.parent / f"co-{tag}")
    return folder, {(r["id"], r["variant"]): r for p in sorted((folder / "data").rglob("*.parquet"))
                    for r in map(from_record, pq.read_table(p).to_pylist())}


def test_reverify_removes_hedged_and_listed_answers_and_keeps_the_rest(tmp_path, cli_app):
    from vstar_data.dataset.store import publish

    store = tmp_path / "store"
    publish(_rows(tmp_path), store, "v1", "verifier of two versions ago")
    res = CliRunner().invoke(cli_app, ["reverify", "--store", str(store), "--from", "v1", "--tag", "v1-rv",
                                       "-m", "today's verifier"])
    assert res.exit_code == 0, res.output
    assert "re-verified 4 answers" in res.output and "rejected (hedged): 1" in res.output
    assert "rejected (competing_value): 1" in res.output
    _, old = _release(store, "v1")
    folder, new = _release(store, "v1-rv")
    assert set(new) == {("kinetics700/000002", "original"), ("kinetics700/000003", "original")}
    for key, row in new.items():
        for col in ("conversations", "labels", "origin", "question", "video", "model", "cycle"):
            assert row[col] == old[key][col]
        assert old[key]["verifier_profile"] == "strict" and row["verifier_profile"] == "default"
        assert [s["passed"] for s in row["verifier_scores"]] == [True]
    sidecar = [json.loads(x) for x in (folder / "reverify" / "v1-rv.jsonl").read_text().splitlines()]
    assert [(s["id"], s["config"], s["reason"], s["clause"]) for s in sidecar] == [
        ("kinetics700/000000", "kinetics700", "hedged", "It is probably juggling"),
        ("kinetics700/000001", "kinetics700", "competing_value", "Juggling or dancing")]
    # the release's history says where the source's rows were last re-verified, and how many remain
    history = json.loads((folder / "history.json").read_text())["sources"]["kinetics700"]
    assert history["tag"] == "v1-rv" and history["rows"] == 2 and history["verifier_profiles"] == ["default"]
    assert "v1-rv" in (folder / "README.md").read_text()
    from vstar_data.dataset.validate import validate_release

    assert validate_release(store, "v1-rv").problems == []     # counts, default, schema all agree


def test_reverify_one_config_keeps_the_others_files_and_drops_all_variants(tmp_path):
    from vstar_data.dataset.reverify import reverify
    from vstar_data.dataset.store import publish
    from vstar_data.dataset.variants import VariantOptions

    store = tmp_path / "store"
    diving = make_attempts(4, sources=("finediving",))
    publish(_rows(tmp_path, diving), store, "v1", "first", variants=VariantOptions.parse("cot,direct", 0))
    _, old = _release(store, "v1")
    assert ("kinetics700/000000", "cot") in old and ("kinetics700/000000", "direct") in old
    result = reverify(store, "v1", "v2", "re-verified kinetics", config="kinetics700")
    assert result.checked == 4 and result.rows_removed == 4      # two samples x (cot, direct)
    folder, new = _release(store, "v2")
    assert {k for k in new if k[0].startswith("kinetics700/")} == {
        (f"kinetics700/00000{i}", v) for i in (2, 3) for v in ("cot", "direct")}
    old_fd = sorted(p.name for p in (store.parent / "co-v1" / "data" / "finediving").iterdir())
    assert sorted(p.name for p in (folder / "data" / "finediving").iterdir()) == old_fd
    assert {k: v for k, v in new.items() if k[0].startswith("finediving/")} == \
        {k: v for k, v in old.items() if k[0].startswith("finediving/")}
    # the direct row states the label: it keeps its text, and takes the original answer's scores
    assert new[("kinetics700/000002", "direct")]["conversations"] == old[("kinetics700/000002", "direct")]["conversations"]


def test_reverify_refuses_a_vocabulary_without_config_and_an_unknown_tag(tmp_path):
    import pytest

    from vstar_data.dataset.reverify import reverify
    from vstar_data.dataset.store import publish
    from vstar_data.errors import ConfigError, VstarError

    store = tmp_path / "store"
    publish(_rows(tmp_path), store, "v1", "first")
    with pytest.raises(ConfigError, match="--config"):
        reverify(store, "v1", "v2", "x", vocabulary=["juggling", "dancing"])
    with pytest.raises(VstarError, match="no release tagged 'nope'"):
        reverify(store, "nope", "v2", "x")
    with pytest.raises(ConfigError, match="no config 'tal'"):
        reverify(store, "v1", "v2", "x", config="tal")
