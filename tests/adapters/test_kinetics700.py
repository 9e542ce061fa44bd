"""Kinetics-700 adapter: the real CSV lists, Kinetics-400/600 shapes, bad rows, video lookup."""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from vstar_data.adapters.kinetics700 import Kinetics700Adapter
from vstar_data.errors import AnnotationError, ConfigError, SkipRecord
from vstar_data.testing.adapters import AdapterContract
from video_factory import contract_inputs

HEADER = "label,youtube_id,time_start,time_end,split\n"


class TestKinetics700Contract(contract_inputs("kinetics_dir/local_clips.csv", "videos_dir"), AdapterContract):
    """The conformance suite on the real clips: local_clips.csv plus the fixture videos folder."""

    adapter = "kinetics700"


def _write(tmp_path: Path, text: str, name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def _read_all(path: Path, **kw) -> list:
    return list(Kinetics700Adapter(path, **kw).read(path))


def test_full_validation_list(kinetics_dir: Path) -> None:
    ad = Kinetics700Adapter(kinetics_dir / "validate.csv")
    samples = list(ad.samples())
    assert len(samples) == 34_173 == ad.stats.written == ad.stats.read
    labels = {s.labels[0]["value"] for s in samples}
    official = set((kinetics_dir / "label_map_k700.txt").read_text("utf-8").split("\n")) - {""}
    assert len(labels) == 700 and labels == official
    assert len({s.id for s in samples}) == 34_173
    assert {s.split for s in samples} == {"validate"} and not ad.stats.skipped
    first = samples[0]
    assert first.id == "---QUuC4vJs_000084_000094"
    assert first.video == "---QUuC4vJs_000084_000094.mp4"
    assert first.task == "action_recognition" and first.source == "kinetics700"
    assert first.labels == [{"type": "category", "name": "action", "value": "testifying", "synonyms": []}]
    assert first.metadata == {"youtube_id": "---QUuC4vJs", "time_start": 84, "time_end": 94}
    assert first.clip_start is None and first.clip_end is None


def test_real_clips_are_found(kinetics_dir: Path, videos_dir: Path) -> None:
    ad = Kinetics700Adapter(kinetics_dir / "local_clips.csv", videos_dir)
    by_label = {s.labels[0]["value"]: s.video for s in ad.samples()}
    assert by_label["arm wrestling"] == "arm_wrestling.mp4"
    assert by_label["putting on eyeliner"] == "eye_makeup.avi"
    assert by_label["flipping pancake"] == "flipping_pancake.mkv"
    assert len(by_label) == 7 and ad.stats.found == 7 and ad.stats.missing == 0


def test_quoted_labels_with_punctuation(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + '"massaging person\'s head",abc,1,11,train\n'
                  '"punching person (boxing)",def,0,10,train\n'
                  '"dancing, ballet",ghi,5,15,train\n'
                  '"say ""cheese""",jkl,5,15,train\n')
    values = [s.labels[0]["value"] for s in _read_all(path)]
    assert values == ["massaging person's head", "punching person (boxing)", "dancing, ballet",
                      'say "cheese"']


def test_kinetics400_shape_with_is_cc_and_reordered_columns(tmp_path: Path) -> None:
    k400 = _write(tmp_path, "label,youtube_id,time_start,time_end,split,is_cc\n"
                  "abseiling,0347ZoDXyP0,14,24,val,0\nair drumming,04RPhZvWBfI,0,10,val,1\n", "k400_val.csv")
    samples = list(Kinetics700Adapter(k400, split="val").samples())
    assert [(s.id, s.split, s.labels[0]["value"]) for s in samples] == [
        ("0347ZoDXyP0_000014_000024", "val", "abseiling"), ("04RPhZvWBfI_000000_000010", "val", "air drumming")]
    reordered = _write(tmp_path, "youtube_id,split,time_end,time_start,is_cc,label\n"
                       "0347ZoDXyP0,val,24,14,0,abseiling\n", "reordered.csv")
    assert [s.id for s in _read_all(reordered)] == ["0347ZoDXyP0_000014_000024"]


def test_no_split_column_uses_file_stem(tmp_path: Path) -> None:
    path = _write(tmp_path, "label,youtube_id,time_start,time_end\nyoga,abc,0,10\n", "train.csv")
    assert [s.split for s in _read_all(path)] == ["train"]


def test_missing_columns_error_names_file_and_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "youtube_id,time_start,time_end,split\nabc,0,10,test\n", "test.csv")
    with pytest.raises(AnnotationError) as err:
        _read_all(path)
    assert err.value.file == str(path) and "label" in str(err.value) and str(path) in str(err.value)


def test_empty_file_and_missing_path_are_errors(tmp_path: Path) -> None:
    with pytest.raises(AnnotationError, match="empty"):
        _read_all(_write(tmp_path, ""))
    with pytest.raises(AnnotationError):
        Kinetics700Adapter(tmp_path / "nope.csv")


def test_malformed_rows_are_skipped_with_line_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER +
                  "yoga,good1,0,10,train\n"          # line 2
                  "yoga,short,0,10\n"                # 3: wrong column count
                  "yoga,nonint,0.5,10,train\n"       # 4: non-integer time
                  "yoga,text,abc,10,train\n"         # 5: not a number
                  ",nolabel,0,10,train\n"            # 6: empty label
                  "yoga,backwards,20,10,train\n"     # 7: end before start
                  "\n"                               # 8: blank, ignored
                  "yoga,float_ok,3.0,13.0,train\n"   # 9: whole numbers written as floats are fine
                  '"multi\nline",ml,0,10,train\n'    # 10-11: a quoted newline in the label
                  "yoga,good2,0,10,train\n")         # 12
    ad = Kinetics700Adapter(path)
    items = list(ad.read(path))
    skips = [(i.reason, i.row) for i in items if isinstance(i, SkipRecord)]
    assert skips == [("wrong_column_count", 3), ("bad_time", 4), ("bad_time", 5), ("empty_label", 6),
                     ("end_before_start", 7)]
    assert all(i.file == str(path) for i in items if isinstance(i, SkipRecord))
    samples = list(ad.samples())
    assert [s.id for s in samples] == ["good1_000000_000010", "float_ok_000003_000013",
                                       "ml_000000_000010", "good2_000000_000010"]
    assert ad.stats.skipped == Counter({"wrong_column_count": 1, "bad_time": 2, "empty_label": 1,
                                        "end_before_start": 1})
    assert ad.stats.read == 9


def test_unsafe_video_ids_are_skipped(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "yoga,../../etc/passwd,0,10,train\nyoga,/abs,0,10,train\n"
                  "yoga,fine,0,10,train\n")
    ad = Kinetics700Adapter(path)
    assert [s.id for s in ad.samples()] == ["fine_000000_000010"]
    assert ad.stats.skipped == Counter({"invalid_row": 2})


def test_video_layouts(tmp_path: Path) -> None:
    rows = ["yoga,flat,0,10,validate", "playing guitar,nested,5,15,validate",
            "playing guitar,under,5,15,validate", "yoga,bare,0,10,validate", "yoga,absent,0,10,validate",
            "yoga,labeldir,0,10,validate"]
    path = _write(tmp_path, HEADER + "\n".join(rows) + "\n")
    videos = tmp_path / "videos"
    for rel in ["flat_000000_000010.mp4", "validate/playing guitar/nested_000005_000015.mkv",
                "validate/playing_guitar/under_000005_000015.webm", "bare.avi",
                "yoga/labeldir_000000_000010.mp4", "absent_000000_000011.mp4"]:
        (videos / rel).parent.mkdir(parents=True, exist_ok=True)
        (videos / rel).write_bytes(b"")
    ad = Kinetics700Adapter(path, videos)
    found = {s.metadata["youtube_id"]: s.video for s in ad.samples()}
    assert found == {"flat": "flat_000000_000010.mp4",
                     "nested": "validate/playing guitar/nested_000005_000015.mkv",
                     "under": "validate/playing_guitar/under_000005_000015.webm",
                     "bare": "bare.avi", "labeldir": "yoga/labeldir_000000_000010.mp4"}
    assert (ad.stats.found, ad.stats.missing) == (5, 1)


def test_folder_of_symlinks_gives_the_same_samples_as_the_folder_itself(tmp_path: Path, videos_dir: Path,
                                                                         kinetics_dir: Path) -> None:
    links = tmp_path / "links"
    links.mkdir()
    for clip in videos_dir.iterdir():      # how large datasets are laid out: links to the real files
        (links / clip.name).symlink_to(clip)
    csv = kinetics_dir / "local_clips.csv"
    real = [s.to_dict() for s in Kinetics700Adapter(csv, videos_dir).samples()]
    linked = Kinetics700Adapter(csv, links)
    assert [s.to_dict() for s in linked.samples()] == real and len(real) == 7
    assert (linked.stats.found, linked.stats.missing) == (7, 0)


def test_annotation_paths_leaving_the_video_folder_are_skips_with_reasons(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    (tmp_path / "secret_000000_000010.mp4").write_bytes(b"x")
    # the label is a folder candidate: "../secret_000000_000010.mp4" climbs out of the video folder
    path = _write(tmp_path, HEADER + "..,secret,0,10,train\n")
    ad = Kinetics700Adapter(path, videos)
    assert list(ad.samples()) == []
    assert ad.stats.skipped["unsafe_video_path"] == 1 and ad.stats.missing == 0
    assert "escapes the video directory" in ad.skips[0].detail


def test_video_folder_is_listed_once_not_per_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = "".join(f"yoga,clip{i},0,10,validate\n" for i in range(300))
    path = _write(tmp_path, HEADER + rows)
    videos = tmp_path / "videos"
    (videos / "validate" / "yoga").mkdir(parents=True)
    for i in range(0, 300, 2):
        (videos / "validate" / "yoga" / f"clip{i}_000000_000010.mp4").write_bytes(b"")
    calls = Counter()
    real_scandir = os.scandir

    def counting_scandir(p):  # type: ignore[no-untyped-def]
        calls["scandir"] += 1
        return real_scandir(p)

    def no_exists(self):  # type: ignore[no-untyped-def]
        raise AssertionError("Path.exists must not be called per candidate")

    ad = Kinetics700Adapter(path, videos)   # before patching: __init__ checks its paths exist
    monkeypatch.setattr(os, "scandir", counting_scandir)
    monkeypatch.setattr(Path, "exists", no_exists)
    samples = list(ad.samples())
    assert len(samples) == 150 and ad.stats.missing == 150
    assert calls["scandir"] == 3      # videos/, videos/validate/, videos/validate/yoga/


def test_folder_of_csvs_is_read_in_sorted_order(tmp_path: Path) -> None:
    folder = tmp_path / "lists"
    folder.mkdir()
    _write(folder, HEADER + "yoga,b,0,10,validate\n", "validate.csv")
    _write(folder, HEADER + "yoga,a,0,10,train\n", "train.csv")
    (folder / "notes.txt").write_text("ignored")
    ad = Kinetics700Adapter(folder)
    assert [(s.id, s.split) for s in ad.samples()] == [("a_000000_000010", "train"),
                                                       ("b_000000_000010", "validate")]
    assert [s.id for s in Kinetics700Adapter(folder, split="validate").samples()] == ["b_000000_000010"]


def test_unknown_option_is_a_config_error(kinetics_dir: Path) -> None:
    with pytest.raises(ConfigError, match="no option 'window'"):
        Kinetics700Adapter(kinetics_dir / "local_clips.csv", options={"window": "30"})


def test_label_vocabulary_is_the_class_list_else_the_classes_in_the_annotations(tmp_path: Path,
                                                                                 kinetics_dir: Path) -> None:
    shipped = Kinetics700Adapter(kinetics_dir / "local_clips.csv").label_vocabulary()
    assert len(shipped["action"]) == 700 and "arm wrestling" in shipped["action"]   # label_map_k700.txt beside it
    path = _write(tmp_path, HEADER + "yoga,a,0,10,train\nskiing,b,0,10,validate\nyoga,c,0,10,validate\n")
    assert Kinetics700Adapter(path, split="train").label_vocabulary() == {"action": ["skiing", "yoga"]}
