"""TAL adapter: THUMOS14 CSVs (real), ActivityNet-style JSON shapes, windows, both tasks."""
from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from vstar_data.adapters.tal import CLS, LOC, TALAdapter, humanize, place_window
from vstar_data.errors import AnnotationError, ConfigError
from vstar_data.testing.adapters import AdapterContract


def _thumos_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def thumos_head(thumos_dir: Path, tmp_path: Path) -> Path:
    """The first 300 rows of the real THUMOS14 validation annotations (a few dozen videos)."""
    lines = (thumos_dir / "val_Annotation.csv").read_text("utf-8").splitlines(keepends=True)[:301]
    path = tmp_path / "val_Annotation.csv"
    path.write_text("".join(lines), "utf-8")
    return path


def _anet(tmp_path: Path, db: dict, name: str = "anet.json", wrap: bool = True) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"version": "1.3", "database": db} if wrap else db), "utf-8")
    return path


ANET_DB = {
    "abc123": {"duration": 60.0, "subset": "validation", "annotations": [
        {"segment": [5.0, 12.5], "label": "Long jump"},
        {"segment": [30.0, 41.0], "label": "Long jump"},
        {"segment": [50.0, 65.0], "label": "Triple jump"}]},          # ends past the duration
    "def456": {"duration_second": 20.0, "subset": "training", "annotations": [
        {"segment": [0.0, 20.0], "label": "Ironing clothes"}]},
    "empty01": {"duration": 30.0, "subset": "testing", "annotations": []},
}


class TestTALThumosContract(AdapterContract):
    adapter = "tal"

    @pytest.fixture
    def annotations(self, thumos_head: Path) -> Path:
        return thumos_head


class TestTALActivityNetWindowContract(AdapterContract):
    adapter = "tal"

    @pytest.fixture
    def annotations(self, tmp_path: Path) -> Path:
        return _anet(tmp_path, ANET_DB)

    @pytest.fixture
    def options(self) -> dict:
        return {"window": "20"}

    @pytest.fixture
    def videos(self, tmp_path: Path) -> Path:
        folder = tmp_path / "videos"
        (folder / "validation").mkdir(parents=True)
        (folder / "validation" / "v_abc123.mp4").write_bytes(b"")
        return folder


# -- THUMOS14 CSV ----------------------------------------------------------------------------------

def test_thumos_full_both_files(thumos_dir: Path) -> None:
    ad = TALAdapter(thumos_dir, options={"tasks": "classification"})
    samples = list(ad.samples())
    rows = _thumos_rows(thumos_dir / "test_Annotation.csv") + _thumos_rows(thumos_dir / "val_Annotation.csv")
    ambiguous = sum(r["type"] == "Ambiguous" for r in rows)
    assert ambiguous == 188 and ad.stats.notes["ambiguous_segments"] == ambiguous
    assert len(samples) == len(rows) - ambiguous == 6365
    assert Counter(s.split for s in samples) == {
        "test": sum(r["type"] != "Ambiguous" for r in _thumos_rows(thumos_dir / "test_Annotation.csv")),
        "val": sum(r["type"] != "Ambiguous" for r in _thumos_rows(thumos_dir / "val_Annotation.csv"))}
    assert len({s.labels[0]["value"] for s in samples}) == 20
    assert len({s.id for s in samples}) == len(samples)
    s = next(x for x in samples if x.split == "val")
    assert s.video == "video_validation_0000051.mp4" and s.task == CLS
    assert s.labels == [{"type": "category", "name": "action", "value": "billiards", "synonyms": []}]
    assert s.context == {"start": "67.5s", "end": "75.9s"} and s.clip_start is None
    assert s.metadata["class"] == "Billiards" and s.metadata["segment"] == [67.5, 75.9]


def test_thumos_split_filter_and_ambiguous_option(thumos_dir: Path) -> None:
    val = list(TALAdapter(thumos_dir, split="val", options={"tasks": "classification"}).samples())
    assert {s.split for s in val} == {"val"}
    keep = TALAdapter(thumos_dir / "val_Annotation.csv",
                      options={"tasks": "classification", "include_ambiguous": "true"})
    values = Counter(s.labels[0]["value"] for s in keep.samples())
    assert values["ambiguous"] == 89 and not keep.stats.notes["ambiguous_segments"]


def test_humanized_class_names() -> None:
    assert humanize("CleanAndJerk") == "clean and jerk"
    assert humanize("Billiards") == "billiards"
    assert humanize("Long jump") == "Long jump" and humanize("BMX") == "BMX"


def test_localization_without_window_lists_every_instance(thumos_dir: Path) -> None:
    path = thumos_dir / "val_Annotation.csv"
    ad = TALAdapter(path, options={"tasks": "localization", "max_segments": "0"})
    samples = list(ad.samples())
    truth: dict[tuple[str, str], set] = defaultdict(set)
    for r in _thumos_rows(path):
        if r["type"] != "Ambiguous":
            truth[(r["video"], r["type"])].add((float(r["start"]), float(r["end"])))
    assert len(samples) == len(truth) and not ad.stats.skipped
    for s in samples:
        spans = [(lab["start"], lab["end"]) for lab in s.labels]
        assert spans == sorted(truth[(s.metadata["video_id"], s.metadata["class"])])
        assert [lab["name"] for lab in s.labels] == ["segment"] + [f"segment_{k}" for k in range(2, len(spans) + 1)]
        assert s.task == LOC and s.clip_start is None and s.context == {"action": humanize(s.metadata["class"])}


def test_localization_caps_instances_without_window(thumos_dir: Path) -> None:
    ad = TALAdapter(thumos_dir / "val_Annotation.csv", options={"tasks": "localization"})
    samples = list(ad.samples())
    assert samples and all(len(s.labels) <= 5 for s in samples)
    assert ad.stats.skipped["too_many_segments"] > 0
    assert len(samples) + ad.stats.skipped["too_many_segments"] == 227   # (video, class) pairs


def test_windowed_localization_is_complete_and_covers_every_instance(thumos_dir: Path) -> None:
    path = thumos_dir / "val_Annotation.csv"
    ad = TALAdapter(path, options={"tasks": "localization", "window": "30"})
    samples = list(ad.samples())
    assert not ad.stats.skipped
    truth: dict[tuple[str, str], list] = defaultdict(list)
    for r in _thumos_rows(path):
        if r["type"] != "Ambiguous":
            truth[(r["video"], r["type"])].append((float(r["start"]), float(r["end"])))
    covered: set = set()
    for s in samples:
        lo, hi = s.clip_start, s.clip_end
        assert 0 <= lo < hi and hi - lo <= 30 + 1e-9
        assert 1 <= len(s.labels) <= 5
        for lab in s.labels:      # relative to the window, inside it
            assert 0 <= lab["start"] <= lab["end"] <= round(hi - lo, 2) + 1e-9
        key = (s.metadata["video_id"], s.metadata["class"])
        overlapping = sorted({(a, b) for a, b in truth[key] if max(a, lo) < min(b, hi)})
        assert len(s.labels) == len(overlapping), f"{s.id}: an instance in view is unlabeled"
        for (a, b), lab in zip(overlapping, s.labels):
            assert lab["start"] == pytest.approx(max(a, lo) - lo, abs=0.011)
            assert lab["end"] == pytest.approx(min(b, hi) - lo, abs=0.011)
            covered.add((key, a, b))
    assert covered == {(key, a, b) for key, spans in truth.items() for a, b in spans}
    assert len({s.id for s in samples}) == len(samples)


def test_windowed_classification_times_are_relative(thumos_dir: Path) -> None:
    ad = TALAdapter(thumos_dir / "val_Annotation.csv", options={"tasks": "classification", "window": "20"})
    for s in ad.samples():
        a, b = s.metadata["segment"]
        assert s.clip_end - s.clip_start == pytest.approx(20) and s.clip_start >= 0
        assert (a + b) / 2 == pytest.approx((s.clip_start + s.clip_end) / 2, abs=0.01) or s.clip_start == 0
        assert float(s.context["start"][:-1]) == pytest.approx(max(a, s.clip_start) - s.clip_start, abs=0.051)
        assert float(s.context["end"][:-1]) == pytest.approx(min(b, s.clip_end) - s.clip_start, abs=0.051)
        assert s.id.endswith("_w20")
    assert ad.stats.notes["window_cut_segments"] > 0   # a few THUMOS segments are longer than 20 s


def test_malformed_csv_rows_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "test_Annotation.csv"
    path.write_text("video,type,type_idx,start,end,startFrame,endFrame\n"
                    "v1,HighJump,1,1.0,2.0,30,60\n"
                    "v1,HighJump,1,abc,2.0,30,60\n"       # line 3
                    "v1,HighJump,1,5.0,4.0,30,60\n"       # line 4
                    "v1,HighJump,1\n"                     # line 5
                    ",HighJump,1,1.0,2.0,30,60\n"         # line 6
                    "v1,HighJump,1,1.0,2.0,30,60\n", "utf-8")   # duplicate row
    ad = TALAdapter(path, options={"tasks": "classification"})
    assert [s.id for s in ad.samples()] == ["v1_tc000_highjump_1.00-2.00"]
    assert ad.stats.skipped == Counter({"bad_time": 1, "end_before_start": 1, "wrong_column_count": 1,
                                        "empty_field": 1})
    assert ad.stats.notes["duplicate_segments"] == 1
    assert sorted(s.row for s in ad.skips) == [3, 4, 5, 6]


def test_missing_columns_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("video,type,start\nv1,A,1\n", "utf-8")
    with pytest.raises(AnnotationError) as err:
        list(TALAdapter(path).samples())
    assert err.value.file == str(path) and "end" in err.value.message


# -- ActivityNet-style JSON ---------------------------------------------------------------------------

@pytest.mark.parametrize("wrap", [True, False])
def test_activitynet_shapes(tmp_path: Path, wrap: bool) -> None:
    ad = TALAdapter(_anet(tmp_path, ANET_DB, wrap=wrap))
    samples = list(ad.samples())
    cls = [s for s in samples if s.task == CLS]
    loc = [s for s in samples if s.task == LOC]
    assert [s.labels[0]["value"] for s in cls] == ["Long jump", "Long jump", "Triple jump", "Ironing clothes"]
    assert [(s.split, s.video) for s in cls][::3] == [("validation", "v_abc123.mp4"), ("training", "v_def456.mp4")]
    assert cls[2].context == {"start": "50.0s", "end": "60.0s"}       # clamped to the duration
    assert ad.stats.notes["clamped_segments"] == 1
    assert ad.stats.notes["videos_without_segments"] == 1
    assert cls[0].metadata["duration"] == 60.0 and cls[3].metadata["duration"] == 20.0
    jump = next(s for s in loc if s.context["action"] == "Long jump")
    assert jump.labels == [{"type": "interval", "name": "segment", "start": 5.0, "end": 12.5},
                           {"type": "interval", "name": "segment_2", "start": 30.0, "end": 41.0}]


def test_activitynet_without_subset(tmp_path: Path) -> None:
    db = {vid: {k: v for k, v in entry.items() if k != "subset"} for vid, entry in ANET_DB.items()}
    assert {s.split for s in TALAdapter(_anet(tmp_path, db)).samples()} == {"all"}
    assert {s.split for s in TALAdapter(_anet(tmp_path, db, "thumos_test.json")).samples()} == {"test"}
    opts = {"default_split": "train"}
    assert {s.split for s in TALAdapter(_anet(tmp_path, db), options=opts).samples()} == {"train"}
    side = tmp_path / "subsets.csv"
    side.write_text("video_id,subset\nv_abc123,Validation\ndef456,training\n", "utf-8")
    ad = TALAdapter(_anet(tmp_path, db), options={"subset_csv": str(side)})
    assert {s.metadata["video_id"]: s.split for s in ad.samples()} == {"abc123": "validation",
                                                                       "def456": "training"}
    # A side CSV inside an annotation folder is not read as annotations; a relative name works.
    folder = tmp_path / "folder"
    folder.mkdir()
    _anet(folder, db)
    (folder / "subsets.csv").write_text(side.read_text())
    ad = TALAdapter(folder, options={"subset_csv": "subsets.csv", "tasks": "classification"})
    assert len(list(ad.samples())) == 4
    with pytest.raises(ConfigError, match="subset_csv"):
        TALAdapter(folder, options={"subset_csv": "nope.csv"})


def test_activitynet_bad_entries(tmp_path: Path) -> None:
    db = {"ok": {"duration": 10, "annotations": [{"segment": [1, 2], "label": "A"},
                                                 {"segment": [1], "label": "A"},
                                                 {"segment": [3, 4]},
                                                 {"segment": [12, 14], "label": "A"},
                                                 {"segment": [5, "x"], "label": "A"}]},
          "str": "not an object", "dur": {"duration": "long", "annotations": []},
          "../escape": {"duration": 10, "annotations": [{"segment": [1, 2], "label": "A"}]}}
    ad = TALAdapter(_anet(tmp_path, db), options={"tasks": "classification"})
    assert [s.id for s in ad.samples()] == ["ok_tc000_a_1.00-2.00"]
    assert ad.stats.skipped == Counter({"malformed_segment": 2, "segment_after_end": 1, "bad_time": 1,
                                        "malformed_video": 1, "bad_duration": 1, "unsafe_video_id": 1})
    keys = {(s.reason, s.row, s.key) for s in ad.skips}
    assert ("malformed_segment", "ok", "annotations[1]") in keys


def test_invalid_json_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", "utf-8")
    with pytest.raises(AnnotationError) as err:
        list(TALAdapter(path).samples())
    assert err.value.file == str(path)
    path.write_text("[1, 2]", "utf-8")
    with pytest.raises(AnnotationError, match="database"):
        list(TALAdapter(path).samples())


def test_window_is_placed_inside_the_video() -> None:
    assert place_window(5.0, 30, 100.0) == (0.0, 30.0)
    assert place_window(95.0, 30, 100.0) == (70.0, 100.0)
    assert place_window(50.0, 30, 100.0) == (35.0, 65.0)
    assert place_window(5.0, 30, 20.0) == (0.0, 20.0)
    assert place_window(500.0, 30, None) == (485.0, 515.0)


def test_short_video_window_and_long_segment(tmp_path: Path) -> None:
    db = {"s": {"duration": 15.0, "subset": "val", "annotations": [{"segment": [2, 14], "label": "Run"}]},
          "l": {"duration": 300.0, "subset": "val", "annotations": [{"segment": [100, 200], "label": "Run"}]}}
    ad = TALAdapter(_anet(tmp_path, db), options={"window": "30"})
    by = {(s.metadata["video_id"], s.task): s for s in ad.samples()}
    short = by[("s", CLS)]
    assert (short.clip_start, short.clip_end, short.context) == (0.0, 15.0, {"start": "2.0s", "end": "14.0s"})
    long_loc = by[("l", LOC)]
    assert (long_loc.clip_start, long_loc.clip_end) == (135.0, 165.0)
    assert long_loc.labels == [{"type": "interval", "name": "segment", "start": 0.0, "end": 30.0}]


def test_video_lookup(tmp_path: Path) -> None:
    csv_path = tmp_path / "test_Annotation.csv"
    csv_path.write_text("video,type,type_idx,start,end,startFrame,endFrame\n"
                        "video_test_1,HighJump,1,1,2,30,60\nvideo_test_2,HighJump,1,1,2,30,60\n"
                        "video_test_3,HighJump,1,1,2,30,60\n", "utf-8")
    videos = tmp_path / "videos"
    (videos / "test").mkdir(parents=True)
    (videos / "video_test_1.mp4").write_bytes(b"")
    (videos / "test" / "video_test_2.mkv").write_bytes(b"")
    ad = TALAdapter(csv_path, videos, options={"tasks": "classification"})
    assert [s.video for s in ad.samples()] == ["video_test_1.mp4", "test/video_test_2.mkv"]
    assert (ad.stats.found, ad.stats.missing) == (2, 1)
    anet = _anet(tmp_path, {"abc": {"duration": 9, "subset": "val", "annotations": [{"segment": [1, 2], "label": "A"}]},
                            "v_def": {"duration": 9, "subset": "val", "annotations": [{"segment": [1, 2], "label": "A"}]}})
    (videos / "abc.webm").write_bytes(b"")
    (videos / "def.mp4").write_bytes(b"")
    ad = TALAdapter(anet, videos, options={"tasks": "localization"})
    assert [s.video for s in ad.samples()] == ["abc.webm", "def.mp4"]


def test_mixed_folder_and_duplicate_ids(tmp_path: Path) -> None:
    entry = {"duration": 9, "subset": "val", "annotations": [{"segment": [1, 2], "label": "A"}]}
    _anet(tmp_path, {"x": entry}, "a.json")
    _anet(tmp_path, {"x": entry, "y": entry}, "b.json")
    ad = TALAdapter(tmp_path, options={"tasks": "classification"})
    assert [s.metadata["video_id"] for s in ad.samples()] == ["x", "y"]
    assert ad.stats.skipped == Counter({"duplicate_id": 1})


def test_options_are_checked(tmp_path: Path) -> None:
    path = _anet(tmp_path, ANET_DB)
    assert {s.task for s in TALAdapter(path, options={"tasks": "loc"}).samples()} == {LOC}
    assert {s.task for s in TALAdapter(path, options={"tasks": "temporal_classification"}).samples()} == {CLS}
    with pytest.raises(ConfigError, match="Did you mean 'window'"):
        TALAdapter(path, options={"windw": "30"})
    with pytest.raises(ConfigError, match="tasks"):
        TALAdapter(path, options={"tasks": "detection"})
    for bad in ("abc", "0", "-5"):
        with pytest.raises(ConfigError, match="window"):
            TALAdapter(path, options={"window": bad})
    with pytest.raises(ConfigError, match="max_segments"):
        TALAdapter(path, options={"max_segments": "many"})
    with pytest.raises(ConfigError, match="include_ambiguous"):
        TALAdapter(path, options={"include_ambiguous": "perhaps"})
