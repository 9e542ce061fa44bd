"""FineDiving adapter on pickles with the real structure (built by tests/finediving_factory.py)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import finediving_factory as F  # noqa: E402

from vstar_data.sources.adapter import Adapter, load_adapter  # noqa: E402
from vstar_data.errors import AnnotationError, ConfigError  # noqa: E402
from vstar_data.sources.safe_pickle import UnsafePickleError  # noqa: E402
from vstar_data.sources.sample import Sample, target_labels, validate_label_specs  # noqa: E402

K0 = ("FINADivingWorldCup2021_Men3m_final_r1", 0)
K11 = ("FINADivingWorldCup2021_Men3m_final_r1", 11)
K16 = ("FullMenSynchronised10mPlatform_Tokyo2020Replays_2", 16)
K01 = ("01", 1)


def sid(key: tuple[str, int]) -> str:
    return f"finediving/{key[0]}/{key[1]}"


def run(annotations: Path, videos: Path | None = None, **kw) -> tuple[Adapter, dict[str, Sample]]:
    adapter = load_adapter("finediving")(annotations, videos, **kw)
    samples = {s.id: s for s in adapter.samples()}
    return adapter, samples


def labels(sample: Sample) -> dict[str, dict]:
    return {spec["name"]: spec for spec in sample.labels}


def test_registered_with_task_and_label_types() -> None:
    cls = load_adapter("finediving")
    assert cls.name == "finediving" and cls.tasks == ("action_quality",)
    assert set(cls.label_types) == {"sequence", "number", "category"}


def test_default_labels_are_the_papers_set_in_hint_order(tmp_path: Path) -> None:
    adapter, samples = run(F.write_annotations(tmp_path))
    assert len(samples) == 4 and adapter.stats.written == 4 and not adapter.skips
    s = samples[sid(K0)]
    assert [spec["name"] for spec in target_labels(s.labels)] == ["action_sequence", "action_difficulty", "final_score"]
    assert target_labels(s.labels) == [
        {"type": "sequence", "name": "action_sequence", "value": ["Inward", "3.5 Soms.Tuck", "Entry"]},
        {"type": "number", "name": "action_difficulty", "value": 3.2},
        {"type": "number", "name": "final_score", "value": 65.6},
    ]   # no tolerance keys: the verifier profile's defaults apply
    assert s.task == "action_quality" and s.source == "finediving" and s.split == "train"
    assert s.video == "FINADivingWorldCup2021_Men3m_final_r1/0"
    assert s.clip_start is None and s.clip_end is None
    assert s.metadata["start_frame"] == 489 and s.metadata["end_frame"] == 592
    assert s.metadata["judge_scores"] == [7.0, 6.5, 7.0, 7.0, 6.5, 7.5, 6.5]
    assert s.metadata["dive_code"] == "407C"
    assert s.metadata["steps_transit_frames"] == [40, 84]
    assert samples[sid(K11)].metadata["steps_transit_frames"] == [6, 34, -1]
    for sample in samples.values():   # plain JSON types only (numpy values must not leak out)
        validate_label_specs(sample.labels)
        assert json.loads(json.dumps(sample.to_dict())) == sample.to_dict()


def test_hint_renders_like_the_paper(tmp_path: Path) -> None:
    pytest.importorskip("vstar_data.verify.labels.number", reason="label types not implemented yet")
    pytest.importorskip("vstar_data.verify.labels.sequence", reason="label types not implemented yet")
    from vstar_data.sources.templates import render_hint

    _, samples = run(F.write_annotations(tmp_path))
    assert render_hint(samples[sid(K0)].labels) == (
        "action sequence: Inward, 3.5 Soms.Tuck, Entry. action difficulty: 3.2. final score: 65.6")


def test_sequence_is_in_time_order_not_id_order(tmp_path: Path) -> None:
    # ids: Back 2, 2.5 Soms.Pike 12, 1.5 Twists 24, Entry 0; id order would put Entry first.
    _, samples = run(F.write_annotations(tmp_path))
    seq = labels(samples[sid(K01)])["action_sequence"]["value"]
    assert seq == ["Back", "2.5 Soms.Pike", "1.5 Twists", "Entry"]
    assert seq != [F.SUB_ACTIONS[i] for i in sorted({2, 12, 24, 0})]


def test_background_and_minus_one_dropped_and_runs_collapsed(tmp_path: Path) -> None:
    dive = F.Dive("v", 3, "107B", 3.0, 60.0, 10,
                  [(38, 3), (-1, 2), (1, 5), (38, 1), (1, 4), (14, 6), (-1, 1), (0, 3), (38, 2)],
                  [7.0, 7.0, 7.0])
    fine_patch = {dive.key: {"sub-action_types": {np.int64(1): "Forward", np.int64(14): "3.5 Soms.Pike",
                                                  np.int64(0): "Entry", np.int64(38): "Background"}}}
    adapter, samples = run(F.write_annotations(tmp_path, [dive], fine_patch=fine_patch))
    assert labels(samples[sid(dive.key)])["action_sequence"]["value"] == ["Forward", "3.5 Soms.Pike", "Entry"]
    assert "recurring_sub_action" not in adapter.stats.notes


def test_names_come_from_the_sample_dict_or_else_the_table(tmp_path: Path) -> None:
    patch = {K0: {"sub-action_types": None},                                   # table fallback
             K11: {"sub-action_types": {np.int64(1): "Forward (own name)"}}}   # sample's own wins
    _, samples = run(F.write_annotations(tmp_path, fine_patch=patch))
    assert labels(samples[sid(K0)])["action_sequence"]["value"] == ["Inward", "3.5 Soms.Tuck", "Entry"]
    assert labels(samples[sid(K11)])["action_sequence"]["value"][0] == "Forward (own name)"


def test_labels_option_selects_and_orders_labels(tmp_path: Path) -> None:
    root = F.write_annotations(tmp_path)
    _, samples = run(root, options={"labels": "final_score, dive_code,judge_scores,difficulty"})
    s = samples[sid(K11)]
    assert [spec["name"] for spec in target_labels(s.labels)] == ["final_score", "dive_code", "judge_scores",
                                                   "action_difficulty"]
    assert labels(s)["dive_code"] == {"type": "category", "name": "dive_code", "value": "107B"}
    assert labels(s)["judge_scores"] == {"type": "sequence", "name": "judge_scores",
                                         "value": ["8.0", "8.5", "8.0", "8.5", "9.0"]}
    assert len(labels(samples[sid(K16)])["judge_scores"]["value"]) == 3
    with pytest.raises(ConfigError, match="unknown label 'height'"):
        load_adapter("finediving")(root, options={"labels": "final_score,height"})
    with pytest.raises(ConfigError, match="unknown finediving option"):
        load_adapter("finediving")(root, options={"lables": "final_score"})


def test_tolerance_options(tmp_path: Path) -> None:
    root = F.write_annotations(tmp_path)
    _, samples = run(root, options={"abs_tol": "0.5", "final_score.rel_tol": "0.05",
                                    "final_score.abs_tol": "2"})
    lab = labels(samples[sid(K0)])
    assert lab["action_difficulty"] == {"type": "number", "name": "action_difficulty", "value": 3.2,
                                        "abs_tol": 0.5}
    assert lab["final_score"]["abs_tol"] == 2.0 and lab["final_score"]["rel_tol"] == 0.05
    with pytest.raises(ConfigError, match="abs_tol"):
        load_adapter("finediving")(root, options={"abs_tol": "-1"})


def test_splits_filter_unassigned_and_conflicts(tmp_path: Path) -> None:
    dives = F.default_dives()
    dives[3].split = None                                   # in neither split file
    root = F.write_annotations(tmp_path / "a", dives)
    adapter, samples = run(root)
    assert {k: s.split for k, s in samples.items()} == {
        sid(K0): "train", sid(K11): "train", sid(K16): "test", sid(K01): "unassigned"}
    assert adapter.stats.notes["unassigned_split"] == 1
    _, test_only = run(root, split="test")
    assert list(test_only) == [sid(K16)]
    adapter, samples = run(root, options={"unassigned": "skip"})
    assert sid(K01) not in samples and adapter.stats.skipped["unassigned_split"] == 1

    root = F.write_annotations(tmp_path / "b")
    F.dump([K0, K16, K01], root / "Annotations" / F.TEST)      # K0 now in train and test
    adapter, samples = run(root)
    assert sid(K0) not in samples and adapter.stats.skipped["split_conflict"] == 1
    assert adapter.skips[0].key == repr(K0)


def test_video_lookup_frame_folders_and_mp4(tmp_path: Path) -> None:
    root = F.write_annotations(tmp_path / "ann")
    videos = tmp_path / "FineDiving"
    dives = {d.key: d for d in F.default_dives()}
    folder = F.write_frames(videos, dives[K0])
    assert sorted(p.name for p in folder.iterdir())[:2] == ["00489.jpg", "00490.jpg"]
    assert (folder / "00592.jpg").exists()
    F.write_clip(videos, dives[K16])
    adapter, samples = run(root, videos)
    assert adapter.stats.found == 2 and adapter.stats.missing == 2
    assert samples[sid(K0)].video == "FINADivingWorldCup2021_Men3m_final_r1/0"
    assert samples[sid(K16)].video == "FullMenSynchronised10mPlatform_Tokyo2020Replays_2/16.mp4"
    assert set(samples) == {sid(K0), sid(K16)}


def test_video_name_escaping_the_video_dir_is_skipped(tmp_path: Path) -> None:
    dives = F.default_dives()[:2]
    dives[0].video_name = "../outside"
    (tmp_path / "outside" / "0").mkdir(parents=True)         # exists, but outside the video dir
    videos = tmp_path / "videos"
    F.write_frames(videos, dives[1])
    adapter, samples = run(F.write_annotations(tmp_path / "ann", dives), videos)
    assert list(samples) == [sid(K11)]
    assert adapter.stats.skipped["invalid_row"] == 1 and adapter.stats.found == 1


@pytest.mark.parametrize("layout", ["annotations", "flat"])
def test_dataset_root_annotations_folder_and_pickle_path(tmp_path: Path, layout: str) -> None:
    root = F.write_annotations(tmp_path, layout=layout, protocol=3, numpy1=True)
    folder = root / "Annotations" if layout == "annotations" else root
    for path in (root, folder, folder / F.FINE):
        _, samples = run(path)
        assert len(samples) == 4


@pytest.mark.parametrize("missing", [F.FINE, F.TEST])
def test_missing_required_pickle_names_the_file(tmp_path: Path, missing: str) -> None:
    root = F.write_annotations(tmp_path, omit=(missing,))
    with pytest.raises(AnnotationError, match=missing.replace(".", r"\.")):
        run(root)


def test_unsafe_annotation_pickle_is_refused(tmp_path: Path) -> None:
    root = F.write_annotations(tmp_path)
    (root / "Annotations" / F.TABLE).write_bytes(b"cos\nsystem\n(S'true'\ntR.")
    with pytest.raises(UnsafePickleError, match=r"Sub_action_Types_Table\.pkl.*'os\.system'"):
        run(root)


def test_malformed_entries_are_skipped_with_reason_and_the_rest_written(tmp_path: Path) -> None:
    patch = {K11: {"dive_score": None}, K16: {"difficulty": "hard"}}
    coarse_patch = {K01: {"end_frame": 9999}}                 # length mismatch: a note only
    adapter, samples = run(F.write_annotations(tmp_path, fine_patch=patch, coarse_patch=coarse_patch))
    assert set(samples) == {sid(K0), sid(K01)}
    assert adapter.stats.skipped == {"missing_field": 1, "invalid_value": 1}
    by_key = {s.key: s for s in adapter.skips}
    assert "dive_score" in by_key[repr(K11)].detail and by_key[repr(K11)].sample_id == sid(K11)
    assert "difficulty" in by_key[repr(K16)].detail and F.FINE in str(by_key[repr(K16)])
    assert adapter.stats.notes["frames_labels_length_mismatch"] == 1


def test_cli_samples(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vstar_data.cli import app

    root = F.write_annotations(tmp_path / "data")
    out = tmp_path / "f.jsonl"
    result = CliRunner().invoke(app, ["samples", "finediving", "--annotations", str(root),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [sid(K0), sid(K11), sid(K16), sid(K01)]
    for row in rows:
        assert row["task"] == "action_quality" and row["template_id"].startswith("action_quality/")
        assert "65.6" not in row["question"] and "Entry" not in row["question"]
        assert [lab["name"] for lab in target_labels(row["labels"])] == ["action_sequence", "action_difficulty",
                                                          "final_score"]
    out2 = tmp_path / "g.jsonl"
    result = CliRunner().invoke(app, ["samples", "finediving", "--annotations", str(root / "Annotations"),
                                      "--out", str(out2), "--split", "test",
                                      "--option", "labels=final_score,judge_scores"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out2.read_text().splitlines()]
    assert [r["split"] for r in rows] == ["test", "test"]
    assert [lab["name"] for lab in target_labels(rows[0]["labels"])] == ["final_score", "judge_scores"]


def test_other_row_problems_each_skip_one_row(tmp_path: Path) -> None:
    dives = F.default_dives()
    dives[0].runs = [(38, 104)]                                  # only Background: no steps
    patch = {K11: {"frames_labels": np.array([1, 1, 99, 0], dtype=np.int64)},   # id 99 unknown
             K16: {"action_type": 205}}                          # a dive code must be a string
    root = F.write_annotations(tmp_path, dives, fine_patch=patch)
    folder = root / "Annotations"
    coarse = {d.key: d.coarse() for d in dives if d.key != K01}   # K01 lacks its coarse entry
    coarse[("coarse_only", 2)] = dives[0].coarse()
    F.dump(coarse, folder / F.COARSE)
    fine = {**{d.key: d.fine() for d in dives}, ("bad key",): {}}
    fine[K11].update(patch[K11])
    fine[K16].update(patch[K16])
    F.dump(fine, folder / F.FINE)
    adapter, samples = run(root)
    assert samples == {}
    assert adapter.stats.skipped == {"empty_sequence": 1, "unknown_sub_action": 1, "invalid_value": 1,
                                     "missing_coarse_entry": 1, "malformed_key": 1,
                                     "missing_fine_grained_entry": 1}
    reasons = {s.reason: s for s in adapter.skips}
    assert "99" in reasons["unknown_sub_action"].detail
    assert reasons["missing_fine_grained_entry"].key == repr(("coarse_only", 2))
    # without the sequence label, an all-Background row is still a usable sample
    _, samples = run(root, options={"labels": "final_score"})
    assert set(samples) == {sid(K0), sid(K11)}
