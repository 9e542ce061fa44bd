"""activitynet_captions adapter: train.json / val_1.json / val_2.json, one sample per sentence."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from vstar_data.adapters.activitynet_captions import ActivityNetCaptionsAdapter, split_of
from vstar_data.sources.templates import TemplateIndex
from vstar_data.testing.adapters import AdapterContract

# In the shape of the real val_1.json: sentences with a leading space and a full stop, an end past
# the duration, a reversed pair, several sentences over one span.
VAL_1 = {
    "v_uqiMw7tQ1Cc": {"duration": 55.15, "timestamps": [[0.28, 55.15], [13.79, 54.32]],
                      "sentences": ["A weight lifting tutorial is given.",
                                    "  The coach helps the guy in red with the proper body placement and lifting technique."]},
    "v_bXdq2zI1Ms0": {"duration": 73.1, "timestamps": [[0, 10.23], [10.6, 39.17], [38.56, 80.0], [52.0, 41.5]],
                      "sentences": [" Three men are standing on a mat.", " The man in front begins to do karate on the mat.",
                                    " He gets down on the ground and flips around.", " The other men watch him."]},
    "v_FsS_NCZEfaI": {"duration": 127.97, "timestamps": [[0, 37.1], [0, 37.1]],
                      "sentences": [" A man is seen speaking to the camera.", " A man talks to the camera."]},
}
N_SENTENCES = sum(len(v["sentences"]) for v in VAL_1.values())


def _write(folder: Path, data: dict, name: str = "val_1.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(data), "utf-8")
    return path


class TestActivityNetCaptionsContract(AdapterContract):
    adapter = "activitynet_captions"

    @pytest.fixture
    def annotations(self, tmp_path: Path) -> Path:
        folder = tmp_path / "captions"
        folder.mkdir()
        _write(folder, VAL_1)
        _write(folder, VAL_1, "val_2.json")       # the same videos, captioned again
        _write(folder, {"v_train0001": VAL_1["v_uqiMw7tQ1Cc"]}, "train.json")
        return folder

    @pytest.fixture
    def videos(self, tmp_path: Path) -> Path:
        folder = tmp_path / "anet_videos"
        folder.mkdir()
        (folder / "uqiMw7tQ1Cc.mp4").write_bytes(b"")     # downloaded without the v_ prefix
        return folder


def test_one_sample_per_sentence_clipped_and_swapped(tmp_path: Path) -> None:
    ad = ActivityNetCaptionsAdapter(_write(tmp_path, VAL_1))
    samples = list(ad.samples())
    assert len(samples) == N_SENTENCES and not ad.stats.skipped
    assert len({s.id for s in samples}) == N_SENTENCES
    by_id = {s.id: s for s in samples}
    karate = by_id["v_bXdq2zI1Ms0_val_1_02"]
    assert (karate.labels[0]["start"], karate.labels[0]["end"]) == (38.56, 73.1)    # clipped to duration
    watch = by_id["v_bXdq2zI1Ms0_val_1_03"]
    assert (watch.labels[0]["start"], watch.labels[0]["end"]) == (41.5, 52.0)       # reversed, swapped
    assert dict(ad.stats.notes) == {"clipped_ends": 1, "reversed_timestamps": 1}
    assert karate.context["query"] == "He gets down on the ground and flips around."
    assert karate.split == "val_1" and karate.video == "v_bXdq2zI1Ms0.mp4"
    tpl = TemplateIndex().get("temporal_grounding")
    for s in samples:
        q = tpl.choose(s).text
        quoted = re.search(r'"([^"]+)"', q)
        assert quoted and re.findall(r"\w+", quoted.group(1).lower()) == \
            re.findall(r"\w+", s.context["query"].lower()), q


def test_bad_entries_are_located_skips_one_per_sentence_lost(tmp_path: Path) -> None:
    data = {"v_a": {"duration": 10.0, "timestamps": [[0, 5]], "sentences": ["one.", "two."]},
            "v_b": {"duration": "long", "timestamps": [[0, 5]], "sentences": ["x."]},
            "v_c": {"duration": 10.0, "timestamps": [[12, 15], [3, 3], ["a", 2], [1, 2]],
                    "sentences": ["late.", "empty.", "bad.", "  "]},
            "../v_d": {"duration": 10.0, "timestamps": [[0, 1]], "sentences": ["up."]},
            "v_e": {"duration": 10.0, "timestamps": [[1, 4]], "sentences": ["kept."]}}
    ad = ActivityNetCaptionsAdapter(_write(tmp_path, data))
    assert [s.id for s in ad.samples()] == ["v_e_val_1_00"]
    assert dict(ad.stats.skipped) == {"malformed_video": 2, "bad_duration": 1, "starts_after_end": 1,
                                      "empty_interval": 1, "bad_time": 1, "empty_sentence": 1,
                                      "unsafe_video_id": 1}
    late = next(s for s in ad.skips if s.reason == "starts_after_end")
    assert (late.row, late.key) == ("v_c", "timestamps[0]") and late.file.endswith("val_1.json")


def test_videos_with_or_without_the_prefix(tmp_path: Path) -> None:
    videos = tmp_path / "v"
    videos.mkdir()
    (videos / "uqiMw7tQ1Cc.mp4").write_bytes(b"")
    (videos / "v_FsS_NCZEfaI.mkv").write_bytes(b"")
    ad = ActivityNetCaptionsAdapter(_write(tmp_path, VAL_1), videos)
    assert sorted({s.video for s in ad.samples()}) == ["uqiMw7tQ1Cc.mp4", "v_FsS_NCZEfaI.mkv"]
    assert ad.stats.missing == 4


@pytest.mark.parametrize("name,split", [("val_1.json", "val_1"), ("val_2.json", "val_2"), ("train.json", "train"),
                                        ("captions_val.json", "val"), ("activitynet_captions_val1.json", "val_1"),
                                        ("val_12.json", "val"), ("mine.json", "all")])
def test_split_from_the_file_name(name: str, split: str) -> None:
    assert split_of(Path(name)) == split
