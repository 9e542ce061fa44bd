"""Frame sampling: exact N frames, truthful indices/timestamps, seek == scan, frame folders, errors.

Synthetic clips (tests/video_factory.py) draw their frame number into every frame, so tests read
back *which* frame the sampler returned and compare it with the index it reported.
"""
from __future__ import annotations

import os
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from vstar_data.errors import SkipRecord
from vstar_data.video.frames import Frames, probe, sample_frames, select_indices
from vstar_data.video.probe import _cache

from video_factory import (garbage_file, make_audio_only, make_clip, make_frame_folder, open_fds,
                           read_code, truncated_copy, zero_byte_file)

FIXTURE_CLIPS = {  # name: (frames, fps) as measured by decoding every frame
    "arm_wrestling.mp4": (280, 28.0), "eye_makeup.avi": (164, 25.0),
    "pool_cleaning_1s.mp4": (32, 30.0), "basketball.mp4": (300, 30000 / 1001),
    "flipping_pancake.mkv": (310, 30.0), "hitting_baseball.mp4": (300, 30.0),
    "yoga.mp4": (300, 30.0), "playing_guitar.mp4": (300, 30.0),
}
VFR_MS = [i * 20 if i < 20 else 400 + (i - 20) * 90 for i in range(40)]
GAP_MS = [i * 40 if i < 20 else 2000 + (i - 20) * 40 for i in range(40)]

# name: (file name, make_clip kwargs, expected frame times in seconds or None for i / 24)
SYNTH = {
    "mp4": ("a.mp4", {}, None),
    "mkv_audio": ("a.mkv", {"audio": True}, None),
    "avi_mpeg4_audio": ("a.avi", {"audio": True}, None),
    "webm_vp9": ("a.webm", {}, None),
    "gif": ("a.gif", {"fps": 10, "n_frames": 15}, [i / 10 for i in range(15)]),
    "mov": ("a.mov", {}, None),
    "mpegts_offset_start": ("a.ts", {}, None),
    "portrait": ("portrait.mp4", {"width": 72, "height": 128}, None),
    "odd_size": ("odd.mp4", {"width": 97, "height": 61}, None),
    "fps60": ("f60.mp4", {"fps": 60, "n_frames": 90}, [i / 60 for i in range(90)]),
    "vfr": ("vfr.mkv", {"n_frames": 40, "pts_ms": VFR_MS}, [t / 1000 for t in VFR_MS]),
    "time_gap": ("gap.mp4", {"n_frames": 40, "pts_ms": GAP_MS}, [t / 1000 for t in GAP_MS]),
    "no_duration_header": ("live.mkv", {"mux_options": {"live": "1"}}, None),
    "header_one_more": ("blank.mp4", {"blank_packets": [47]}, None),
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    _cache.clear()
    yield
    _cache.clear()


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clips")
    return {key: make_clip(root / name, **kw) for key, (name, kw, _) in SYNTH.items()}


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    """20 s, 30 fps, a keyframe every second: seeking pays off."""
    return make_clip(tmp_path_factory.mktemp("long") / "long.mp4", n_frames=600, fps=30,
                     width=128, height=96, gop=30)


def assert_same(a: Frames, b: Frames) -> None:
    assert a.indices == b.indices
    assert a.timestamps == b.timestamps
    assert a.array.shape == b.array.shape
    assert np.array_equal(a.array, b.array)
    assert (a.total_frames, a.duration, a.fps) == (b.total_frames, b.duration, b.fps)


# ---------------------------------------------------------------- target selection

def test_segment_centres_uniform_and_ties_to_earlier():
    ticks = list(range(300))
    assert select_indices(ticks, Fraction(0), Fraction(300), 8) == [19, 56, 94, 131, 169, 206, 244, 281]
    # 280 frames / 8: centres fall exactly between two frames -> the earlier one
    assert select_indices(list(range(280)), Fraction(0), Fraction(280), 8)[0] == 17
    assert select_indices(list(range(32)), Fraction(0), Fraction(32), 32) == list(range(32))


def test_fewer_frames_than_n_repeat_in_order():
    out = select_indices([0, 10, 20], Fraction(0), Fraction(30), 8)
    assert len(out) == 8 and out == sorted(out) and set(out) == {0, 1, 2}


def test_collisions_pushed_apart_when_enough_frames():
    ticks = [i * 4 for i in range(20)] + [200 + i * 4 for i in range(20)]  # a long gap
    out = select_indices(ticks, Fraction(0), Fraction(280), 8)
    assert len(set(out)) == 8 and out == sorted(out)


def test_point_window_takes_the_frame_showing_then():
    assert select_indices(list(range(0, 100, 10)), Fraction(35), Fraction(35), 3) == [3, 3, 3]


# ---------------------------------------------------------------- the real fixture clips

@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIXTURE_CLIPS))
def test_fixture_clip_exact_n(videos_dir, name):
    frames, fps = FIXTURE_CLIPS[name]
    for n in (1, 8, 16, 32):
        fr = sample_frames(videos_dir / name, n, size=64)
        assert fr.array.shape[0] == n and fr.array.dtype == np.uint8 and fr.array.shape[3] == 3
        assert min(fr.array.shape[1:3]) == 64
        assert len(fr.indices) == len(fr.timestamps) == n
        assert fr.total_frames == frames and fr.fps == pytest.approx(fps, rel=1e-3)
        assert fr.indices == sorted(fr.indices) and len(set(fr.indices)) == n  # all have >= 32
        assert fr.timestamps == sorted(fr.timestamps)
        assert 0 <= fr.timestamps[0] and fr.timestamps[-1] < fr.duration
        md = fr.metadata()
        assert md["total_num_frames"] == frames and md["frames_indices"] == fr.indices
        assert (md["height"], md["width"]) == fr.array.shape[1:3]


@pytest.mark.parametrize("name", sorted(FIXTURE_CLIPS))
def test_fixture_clip_seek_equals_scan(videos_dir, name):
    scan = sample_frames(videos_dir / name, 8, mode="scan")
    seek = sample_frames(videos_dir / name, 8, mode="seek")
    assert_same(scan, seek)
    assert scan.extra["decode_mode"] == "scan"
    # the packed-B-frame AVI is the one clip whose decoded pts disagree with its packets
    assert seek.extra["decode_mode"] == ("scan" if name.endswith(".avi") else "seek")
    assert scan.array.shape[1:3] == (probe(videos_dir / name).height, probe(videos_dir / name).width)


def test_fixture_avi_out_of_order_timestamps(videos_dir):
    """eye_makeup.avi labels its decoded frames with shuffled pts (packed B-frames): indices follow
    the decoder's output order, timestamps stay monotonic, and seek mode notices and falls back."""
    seek = sample_frames(videos_dir / "eye_makeup.avi", 8, mode="seek")
    assert seek.extra["decode_mode"] == "scan" and "pts" in seek.extra["fallback"]
    assert seek.timestamps == [i / 25 for i in seek.indices]
    assert seek.duration == pytest.approx(6.56)


def test_fixture_window(videos_dir):
    fr = sample_frames(videos_dir / "yoga.mp4", 8, start=2.0, end=6.0, size=(50, 80))
    assert fr.array.shape == (8, 50, 80, 3)
    assert all(2.0 <= t < 6.0 for t in fr.timestamps)
    assert fr.indices == [67, 82, 97, 112, 127, 142, 157, 172]
    assert fr.extra["window"] == [2.0, 6.0] and not fr.extra["window_clamped"]


def test_fixture_short_clip_more_frames_than_it_has(videos_dir):
    fr = sample_frames(videos_dir / "pool_cleaning_1s.mp4", 40, size=32)
    assert fr.array.shape[0] == 40 and fr.extra["repeated"]
    assert set(fr.indices) == set(range(32)) and fr.indices == sorted(fr.indices)


# ---------------------------------------------------------------- synthetic containers and quirks

@pytest.mark.parametrize("key", sorted(SYNTH))
def test_synthetic_clip_indices_are_the_frames_returned(synth, key):
    path, (name, kw, times) = synth[key], SYNTH[key]
    n_frames = kw.get("n_frames", 48)
    scan = sample_frames(path, 8, mode="scan")
    seek = sample_frames(path, 8, mode="seek")
    assert_same(scan, seek)
    if key == "header_one_more":  # the header counts 48 frames, 47 exist and decode
        assert probe(path).header_frames == 48 and scan.total_frames == 47
        return
    assert scan.total_frames == n_frames
    assert [read_code(f) for f in scan.array] == scan.indices
    times = times or [i / 24 for i in range(n_frames)]
    assert scan.timestamps == pytest.approx([times[i] for i in scan.indices], abs=2e-3)


def test_variable_frame_rate_samples_uniformly_in_time(synth):
    fr = sample_frames(synth["vfr"], 8)
    dur = fr.duration
    centres = [(k + 0.5) * dur / 8 for k in range(8)]
    assert all(abs(t - c) <= 0.09 / 2 + 1e-6 for t, c in zip(fr.timestamps, centres))
    assert fr.indices[0] < 20 < fr.indices[-1]  # fast part sampled sparsely, slow part densely


def test_sizes_keep_aspect_or_force(synth):
    assert sample_frames(synth["mp4"], 2, size=60).array.shape == (2, 60, 80, 3)
    assert sample_frames(synth["portrait"], 2, size=36).array.shape == (2, 64, 36, 3)
    assert sample_frames(synth["odd_size"], 2).array.shape == (2, 61, 97, 3)
    assert sample_frames(synth["mp4"], 2, size=(30, 30)).array.shape == (2, 30, 30, 3)


@pytest.mark.slow
def test_1080p_clip(tmp_path):
    path = make_clip(tmp_path / "hd.mp4", n_frames=6, width=1920, height=1080, gop=3)
    scan = sample_frames(path, 3, size=224, mode="scan")
    assert_same(scan, sample_frames(path, 3, size=224, mode="seek"))
    assert scan.array.shape == (3, 224, 398, 3)
    assert [read_code(f) for f in scan.array] == scan.indices == [1, 3, 5]


def test_rotation_metadata_gives_upright_portrait(tmp_path):
    path = make_clip(tmp_path / "phone.mp4", rotation=90)
    fr = sample_frames(path, 4, size=60)
    assert fr.array.shape == (4, 80, 60, 3)
    assert [read_code(np.rot90(f, -1)) for f in fr.array] == fr.indices


def test_undecodable_packet_decoder_wins_and_modes_agree(tmp_path):
    path = make_clip(tmp_path / "bad.avi", blank_packets=[30])  # a packet the decoder rejects
    scan = sample_frames(path, 8, mode="scan")
    _cache.clear()
    seek = sample_frames(path, 8, mode="seek")
    assert_same(scan, seek)
    assert scan.total_frames == 47 and scan.extra.get("map_corrected")
    codes = [read_code(f) for f in scan.array]
    assert codes == sorted(codes) and len(set(codes)) == 8
    again = sample_frames(path, 8, mode="auto")  # the corrected map is cached: one pass now
    assert_same(scan, again) and not again.extra.get("map_corrected")


def test_long_clip_seek_equals_scan_and_auto_seeks(long_clip):
    for kw in ({"num_frames": 1}, {"num_frames": 8}, {"num_frames": 32},
               {"num_frames": 8, "start": 7.3, "end": 9.1}, {"num_frames": 5, "start": 19.5}):
        scan = sample_frames(long_clip, mode="scan", **kw)
        seek = sample_frames(long_clip, mode="seek", **kw)
        assert_same(scan, seek)
        assert seek.extra["decode_mode"] == "seek" and "fallback" not in seek.extra
        assert [read_code(f) for f in seek.array] == seek.indices
    auto = sample_frames(long_clip, 8)
    assert auto.extra["decode_mode"] == "seek" and auto.extra["decoded_frames"] < 600 / 2


def test_raw_stream_without_timestamps(tmp_path):
    """A raw .h264 stream has no pts: frames are numbered in decode order at the guessed rate and
    seek mode, which needs timestamps, falls back to a scan."""
    path = make_clip(tmp_path / "raw.h264")
    assert not probe(path).seekable
    fr = sample_frames(path, 8, mode="seek")
    assert fr.extra["decode_mode"] == "scan" and "fallback" in fr.extra
    assert [read_code(f) for f in fr.array] == fr.indices and fr.total_frames == 48
    assert fr.timestamps == pytest.approx([i / fr.fps for i in fr.indices])


def test_short_clip_auto_scans(synth):
    assert sample_frames(synth["mp4"], 8).extra["decode_mode"] == "scan"


# ---------------------------------------------------------------- windows

def test_window_inside_the_clip(synth):
    fr = sample_frames(synth["mp4"], 4, start=0.5, end=1.5)
    assert fr.indices == [15, 21, 27, 33] and all(0.5 <= t < 1.5 for t in fr.timestamps)


def test_window_end_past_the_video_is_clamped(synth):
    fr = sample_frames(synth["mp4"], 4, start=1.0, end=30.0)
    assert fr.extra["window_clamped"] and fr.extra["window"] == [1.0, 2.0]
    assert fr.indices == [27, 33, 39, 45]


@pytest.mark.parametrize("start,end", [(2.5, 3.0), (2.0, None), (-3.0, -1.0), (1.5, 1.0),
                                       (float("nan"), 1.0)])
def test_window_out_of_range(synth, start, end):
    with pytest.raises(SkipRecord) as err:
        sample_frames(synth["mp4"], 4, start=start, end=end)
    assert err.value.reason == "window_out_of_range" and err.value.file == str(synth["mp4"])


def test_zero_length_window_repeats_one_frame(synth):
    fr = sample_frames(synth["mp4"], 3, start=1.0, end=1.0)
    assert fr.indices == [24, 24, 24] and fr.extra["repeated"]


# ---------------------------------------------------------------- frame folders

def test_frame_folder_finediving_style(tmp_path):
    folder = make_frame_folder(tmp_path / "01" / "1", range(489, 593))
    (folder / "notes.txt").write_text("not a frame")
    fr = sample_frames(folder, 8)
    assert fr.indices == [495, 508, 521, 534, 547, 560, 573, 586]
    assert [read_code(f) for f in fr.array] == fr.indices
    assert fr.timestamps == pytest.approx([i / 25 for i in fr.indices])
    assert fr.total_frames == 104 and fr.duration == pytest.approx(104 / 25)
    assert fr.extra["decode_mode"] == "folder" and fr.array.shape == (8, 72, 96, 3)


def test_frame_folder_fps_window_size_and_repeats(tmp_path):
    folder = make_frame_folder(tmp_path / "f", [3, 1, 2, 10, 11], ext="png", digits=1)
    fr = sample_frames(folder, 7, fps=10, size=(24, 32))
    assert fr.array.shape == (7, 24, 32, 3) and fr.indices == sorted(fr.indices)
    assert set(fr.indices) <= {1, 2, 3, 10, 11} and fr.extra["repeated"]
    win = sample_frames(folder, 2, fps=10, start=0.95, end=1.2)  # same clock as timestamps
    assert win.indices == [10, 11] and win.timestamps == pytest.approx([1.0, 1.1])


def test_frame_folder_prefixed_names(tmp_path):
    folder = tmp_path / "tsn"
    folder.mkdir()
    for n in range(1, 21):
        shutil.copy(make_frame_folder(tmp_path / "src", [n]) / f"{n:05d}.jpg", folder / f"img_{n:05d}.jpg")
    assert sample_frames(folder, 4).indices == [3, 8, 13, 18]


def test_empty_and_corrupt_frame_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SkipRecord) as err:
        sample_frames(tmp_path / "empty", 4)
    assert err.value.reason == "empty_frame_folder" and err.value.file == str(tmp_path / "empty")
    folder = make_frame_folder(tmp_path / "bad", range(4))
    (folder / "00002.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(SkipRecord) as err:
        sample_frames(folder, 4)
    assert err.value.reason == "video_corrupt" and "00002.jpg" in err.value.detail


# ---------------------------------------------------------------- errors

@pytest.fixture(scope="module")
def broken(tmp_path_factory, synth) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("broken")
    faststart = make_clip(d / "fs.mp4", faststart=True)
    longer = make_clip(d / "longer.mkv", n_frames=120)
    return {
        "missing": d / "nope.mp4",
        "zero_byte": zero_byte_file(d / "zero.mp4"),
        "garbage": garbage_file(d / "garbage.mp4"),
        "truncated_mp4_no_moov": truncated_copy(synth["mp4"], d / "t1.mp4"),
        "truncated_mp4_faststart": truncated_copy(faststart, d / "t2.mp4"),
        "truncated_mkv": truncated_copy(longer, d / "t3.mkv"),
        "truncated_webm": truncated_copy(synth["webm_vp9"], d / "t4.webm"),
        "truncated_avi": truncated_copy(synth["avi_mpeg4_audio"], d / "t5.avi"),
        "truncated_gif": truncated_copy(synth["gif"], d / "t6.gif", 0.6),
        "audio_only_m4a": make_audio_only(d / "a.m4a"),
        "audio_only_wav": make_audio_only(d / "a.wav"),
    }


EXPECTED_REASON = {"missing": "video_missing", "audio_only_m4a": "no_video_stream",
                   "audio_only_wav": "no_video_stream"}


@pytest.mark.parametrize("case", ["missing", "zero_byte", "garbage", "truncated_mp4_no_moov",
                                  "truncated_mp4_faststart", "truncated_mkv", "truncated_webm",
                                  "truncated_avi", "truncated_gif", "audio_only_m4a",
                                  "audio_only_wav"])
@pytest.mark.parametrize("mode", ["scan", "seek"])
def test_unusable_video_is_skipped_with_a_located_reason(broken, case, mode):
    with pytest.raises(SkipRecord) as err:
        sample_frames(broken[case], 8, mode=mode)
    assert err.value.reason == EXPECTED_REASON.get(case, "video_corrupt")
    assert err.value.file == str(broken[case]) and err.value.detail


def test_no_file_handles_leak(broken, synth, long_clip):
    sample_frames(synth["mp4"], 2)  # warm imports before counting
    before = open_fds()
    for _ in range(3):
        for path in broken.values():
            with pytest.raises(SkipRecord):
                sample_frames(path, 4)
            _cache.clear()
        sample_frames(long_clip, 4, mode="seek")
        sample_frames(synth["avi_mpeg4_audio"], 4, mode="scan")
        _cache.clear()
    assert open_fds() == before


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    with pytest.raises(SkipRecord) as err:
        sample_frames(fifo, 4)
    assert err.value.reason == "video_unreadable"


def test_bad_arguments_are_programming_errors(synth):
    with pytest.raises(ValueError):
        sample_frames(synth["mp4"], 0)
    with pytest.raises(ValueError):
        sample_frames(synth["mp4"], 4, mode="fast")
    with pytest.raises(ValueError):
        sample_frames(synth["mp4"], 4, size=0)


def test_probe_is_cached_and_invalidated_by_a_new_file(tmp_path):
    path = make_clip(tmp_path / "c.mp4", n_frames=24)
    assert probe(path) is probe(path) and len(probe(path).pts) == 24
    make_clip(tmp_path / "c.mp4", n_frames=30)
    assert len(probe(path).pts) == 30
