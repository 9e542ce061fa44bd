"""charades_sta adapter: the official `VIDEO_ID START END##sentence` lines, durations, ids, lookup."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from vstar_data.adapters.charades_sta import CharadesSTAAdapter, read_durations
from vstar_data.errors import AnnotationError, ConfigError
from vstar_data.sources.templates import TemplateIndex
from vstar_data.testing.adapters import AdapterContract

# Lines in the shape of the real charades_sta_test.txt: full stops or none, a leading space, odd
# capitals, several sentences for one video and span, an end past the video's length.
LINES = [
    "3MSZA 24.3 30.4##person turn a light on.",
    "3MSZA 24.3 30.4##person flipped the light switch near the door.",
    "3MSZA 24.3 30.4##person turn the light on.",
    "3MSZA 0.0 7.0## The person opens the door",
    "O5QX8 11.9 19.2##A Person is putting a book on a shelf.",
    "O5QX8 28.5 36.0##person takes a phone out of a bag.",
    "KZ1W0 2.1 37.9##person sitting on the couch.",      # KZ1W0 is 32.0 s long
]
CSV = ("id,subject,scene,quality,relevance,verified,script,objects,descriptions,actions,length\n"
       '3MSZA,HR43,Bedroom,6,7,Yes,"A person turns on a light.",light;door,"A person turns a light on.",'
       '"c104 24.30 30.40",33.67\n'
       'KZ1W0,AB12,Living room,5,7,Yes,"Sits.",sofa,"Sits on the couch.","c059 2.10 32.00",32.0\n')


def _write(tmp_path: Path, lines: list[str], name: str = "charades_sta_test.txt") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


class TestCharadesSTAContract(AdapterContract):
    adapter = "charades_sta"

    @pytest.fixture
    def annotations(self, tmp_path: Path) -> Path:
        folder = tmp_path / "sta"
        folder.mkdir()
        _write(folder, LINES[:4])
        _write(folder, LINES[4:], "charades_sta_train.txt")
        return folder

    @pytest.fixture
    def videos(self, tmp_path: Path) -> Path:
        folder = tmp_path / "Charades_v1_480"
        folder.mkdir()
        (folder / "3MSZA.mp4").write_bytes(b"")
        return folder


def test_one_sample_per_line_with_unique_ids_and_the_sentence_words(tmp_path: Path) -> None:
    ad = CharadesSTAAdapter(_write(tmp_path, LINES))
    samples = list(ad.samples())
    assert len(samples) == len(LINES) and not ad.stats.skipped
    assert [s.id for s in samples[:3]] == ["3MSZA_24.30-30.40", "3MSZA_24.30-30.40_2", "3MSZA_24.30-30.40_3"]
    assert len({s.id for s in samples}) == len(samples)
    assert {s.split for s in samples} == {"test"} and samples[0].video == "3MSZA.mp4"
    assert samples[0].labels == [{"type": "interval", "name": "moment", "start": 24.3, "end": 30.4}]
    tpl = TemplateIndex().get("temporal_grounding")
    for sample, line in zip(samples, LINES):
        question = tpl.choose(sample).text
        quoted = re.search(r'"([^"]+)"', question)
        assert quoted, question
        words = re.findall(r"[a-z]+", line.partition("##")[2].lower())
        assert re.findall(r"[a-z]+", quoted.group(1).lower()) == words, question


def test_malformed_lines_are_located_counted_skips(tmp_path: Path) -> None:
    lines = ["3MSZA 24.3 30.4 person turn a light on.", "3MSZA 24.3##no end", "3MSZA 1.0 2.0##   ",
             "3MSZA x 2.0##bad start", "3MSZA 9.0 4.0##reversed", "../up 1.0 2.0##escape", "", LINES[0]]
    ad = CharadesSTAAdapter(_write(tmp_path, lines))
    out = list(ad.samples())
    assert [s.id for s in out] == ["3MSZA_24.30-30.40"]
    assert dict(ad.stats.skipped) == {"malformed_line": 2, "empty_sentence": 1, "bad_time": 1,
                                      "end_not_after_start": 1, "unsafe_video_id": 1}
    assert [s.row for s in ad.skips] == [1, 2, 3, 4, 5, 6]
    assert all(s.file and s.file.endswith("charades_sta_test.txt") for s in ad.skips)


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_durations_clip_ends(tmp_path: Path, kind: str) -> None:
    if kind == "csv":
        (tmp_path / "Charades_v1_test.csv").write_text(CSV, "utf-8")
        option = "Charades_v1_test.csv"          # found beside the annotations
    else:
        (tmp_path / "d.json").write_text(json.dumps({"3MSZA": {"duration": 33.67}, "KZ1W0": {"duration": 32}}))
        option = str(tmp_path / "d.json")
    lines = LINES + ["KZ1W0 32.5 40.0##person stands up."]
    ad = CharadesSTAAdapter(_write(tmp_path, lines), options={"durations": option})
    by_id = {s.id: s for s in ad.samples()}
    couch = by_id["KZ1W0_2.10-37.90"]
    assert (couch.labels[0]["start"], couch.labels[0]["end"]) == (2.1, 32.0)
    assert couch.metadata["duration"] == 32.0 and couch.metadata["span"] == [2.1, 37.9]
    assert by_id["3MSZA_24.30-30.40"].labels[0]["end"] == 30.4          # inside: unchanged
    assert ad.stats.notes["clipped_ends"] == 1 and ad.stats.notes["no_duration"] == 2   # O5QX8 x2
    assert dict(ad.stats.skipped) == {"empty_after_clipping": 1}
    assert ad.skips[0].row == len(lines) and "KZ1W0_32.50-40.00" == ad.skips[0].sample_id


def test_durations_options_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, LINES)
    with pytest.raises(ConfigError, match="durations"):
        CharadesSTAAdapter(path, options={"durations": "nope.csv"})
    with pytest.raises(ConfigError, match="no option 'duration'"):
        CharadesSTAAdapter(path, options={"duration": "x.csv"})
    bad = tmp_path / "bad.csv"
    bad.write_text("id,length\n3MSZA,33.6\nKZ1W0,n/a\n", "utf-8")
    with pytest.raises(AnnotationError) as err:
        read_durations(bad)
    assert err.value.row == 3 and err.value.key == "length"
    two = tmp_path / "more.json"
    two.write_text(json.dumps({"O5QX8": {"duration": 30.0}}))
    (tmp_path / "ok.csv").write_text("id,length\n3MSZA,33.6\n", "utf-8")
    ad = CharadesSTAAdapter(path, options={"durations": "ok.csv, more.json"})
    assert ad.durations() == {"3MSZA": 33.6, "O5QX8": 30.0}


def test_videos_found_by_id_with_any_extension(tmp_path: Path) -> None:
    videos = tmp_path / "v"
    videos.mkdir()
    (videos / "O5QX8.mkv").write_bytes(b"")
    ad = CharadesSTAAdapter(_write(tmp_path, LINES), videos)
    assert [s.video for s in ad.samples()] == ["O5QX8.mkv", "O5QX8.mkv"]
    assert ad.stats.missing == 5


def test_template_backend_answers_pass_the_interval_verifier(tmp_path: Path) -> None:
    """The shipped temporal_grounding answers state the moment so the real verifier accepts it."""
    from vstar_data.backends.base import Request
    from vstar_data.backends.template import TemplateBackend
    from vstar_data.verify.verifier import Verifier

    samples = list(CharadesSTAAdapter(_write(tmp_path, LINES)).samples())
    backend = TemplateBackend()
    backend.load()
    answers = backend.generate([Request(frames=None, prompt="q", sample_id=s.id, labels=s.labels, task=s.task)
                                for s in samples])
    verifier = Verifier("default")
    for sample, answer in zip(samples, answers):
        assert isinstance(answer, str) and verifier.verify(sample.labels, answer, "generated").accepted, answer


def test_the_adapters_fixes_reach_the_generation_summary(tmp_path: Path, videos_dir: Path) -> None:
    """What the adapter fixed (ends clipped to the video's length) is counted where a user of
    `generate` looks: the run summary (summary-*.json, the printed table), not only `samples`."""
    from vstar_data.generation.engines.local import LocalEngine
    from vstar_data.generation.pipeline import GenerationConfig

    (tmp_path / "d.json").write_text(json.dumps({"3MSZA": {"duration": 33.67}, "KZ1W0": {"duration": 32}}))
    clips = tmp_path / "clips"
    clips.mkdir()
    for vid in ("3MSZA", "KZ1W0", "O5QX8"):
        (clips / f"{vid}.mp4").symlink_to(videos_dir / "yoga.mp4")
    cfg = GenerationConfig(adapter="charades_sta", annotations=str(_write(tmp_path, LINES)), videos=str(clips),
                           adapter_options={"durations": str(tmp_path / "d.json")}, backend="template",
                           progress=False)
    summary = LocalEngine().plan(cfg, tmp_path / "run").summary.to_dict()
    assert summary["adapter_notes"] == {"clipped_ends": 1, "no_duration": 2}
    assert summary["samples"] == len(LINES)
