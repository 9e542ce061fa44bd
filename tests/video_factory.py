"""Synthetic test clips written with PyAV, so frame-sampling tests can check *which* frame came back.

Every frame carries its own number as a 12-bit code in the top band of the picture (white/black
columns, read back by `read_code`), over a moving gradient so encoders produce real P/B frames.
`read_code` survives lossy coding and resizing, which lets tests assert that the index a sampler
reports is the frame it returned, not just that seek and scan agree.
"""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Sequence, Union

import av
import numpy as np

BITS = 12

_CODECS = {".mp4": "libx264", ".mkv": "libx264", ".mov": "libx264", ".ts": "libx264", ".h264": "libx264",
           ".avi": "mpeg4", ".webm": "libvpx-vp9", ".gif": "gif"}
_AUDIO = {".mp4": "aac", ".mov": "aac", ".mkv": "libopus", ".webm": "libopus", ".avi": "libmp3lame",
          ".ts": "aac"}


def code_frame(i: int, width: int, height: int) -> np.ndarray:
    """An RGB frame showing number `i`: bit columns in the top quarter, a moving gradient below."""
    frame = np.empty((height, width, 3), np.uint8)
    xs = (np.arange(width)[None, :] * 2 + np.arange(height)[:, None] + 3 * i) % 200
    frame[..., 0] = xs
    frame[..., 1] = (xs * 3 // 4 + 40).astype(np.uint8)
    frame[..., 2] = 180 - xs // 2
    band = max(4, height // 4)
    edges = np.linspace(0, width, BITS + 1).astype(int)
    for b in range(BITS):
        frame[:band, edges[b]:edges[b + 1]] = 235 if (i >> (BITS - 1 - b)) & 1 else 16
    return frame


def read_code(img: np.ndarray) -> int:
    """The frame number drawn by `code_frame`, read from a decoded (possibly resized) RGB frame."""
    h, w = img.shape[:2]
    band = img[int(h * 0.04): max(int(h * 0.04) + 1, int(h * 0.2))].astype(np.float32).mean(axis=2)
    edges = np.linspace(0, w, BITS + 1)
    value = 0
    for b in range(BITS):
        lo, hi = edges[b], edges[b + 1]
        col = band[:, int(lo + (hi - lo) * 0.3): max(int(lo + (hi - lo) * 0.3) + 1, int(hi - (hi - lo) * 0.3))]
        value = (value << 1) | int(col.mean() > 125)
    return value


def make_clip(path: str | Path, *, n_frames: int = 48, fps: int = 24, width: int = 160,
              height: int = 120, gop: int | None = None, bframes: int = 2,
              pts_ms: Sequence[int] | None = None, audio: bool = False, rotation: int | None = None,
              faststart: bool = False, mux_options: dict[str, str] | None = None,
              blank_packets: Iterable[int] = ()) -> Path:
    """Write a clip whose codec follows the suffix (.mp4/.mkv/.mov/.ts h264, .avi mpeg4, .webm vp9,
    .gif). `gop` is the keyframe interval in frames (default: one second). `pts_ms` gives explicit
    presentation times in milliseconds (variable frame rate, gaps). `blank_packets` lists packets, in
    decode order, whose payload is replaced by garbage (a frame the header counts but that never
    decodes, as in real clips)."""
    path = Path(path)
    suffix = path.suffix.lower()
    codec = _CODECS[suffix]
    gop = gop or fps
    options = dict(mux_options or {})
    if faststart:
        options["movflags"] = "faststart"
    blank = set(blank_packets)
    with av.open(str(path), "w", options=options) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        cc = stream.codec_context
        if codec == "libx264":
            # 4:2:0 needs even sizes; odd-sized clips are stored 4:4:4 (as some screen captures are)
            stream.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
            cc.options = {"preset": "ultrafast", "x264-params":
                          f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}:b-adapt=0"}
        elif codec == "mpeg4":
            stream.pix_fmt = "yuv420p"
            cc.gop_size = gop
            cc.max_b_frames = bframes
            cc.bit_rate = 800_000
        elif codec == "libvpx-vp9":
            stream.pix_fmt = "yuv420p"
            cc.gop_size = gop
            cc.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0",
                          "g": str(gop), "keyint_min": str(gop)}
        else:  # gif
            stream.pix_fmt = "rgb8"
        if pts_ms is not None:
            if len(pts_ms) != n_frames:
                raise ValueError("pts_ms needs one entry per frame")
            cc.time_base = Fraction(1, 1000)
        if rotation:
            stream.set_display_rotation(rotation)
        astream = None
        if audio:
            astream = out.add_stream(_AUDIO[suffix], rate=48000 if suffix in (".mkv", ".webm") else 44100)
        packets: list[av.Packet] = []

        def emit(pkts: list[av.Packet]) -> None:
            for pkt in pkts:
                if len(packets) in blank:
                    pkt = _blank_like(pkt, stream)
                packets.append(pkt)
                out.mux(pkt)

        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(code_frame(i, width, height), format="rgb24")
            if pts_ms is not None:
                frame.pts, frame.time_base = int(pts_ms[i]), Fraction(1, 1000)
            else:
                frame.pts, frame.time_base = i, Fraction(1, fps)
            emit(stream.encode(frame))
        emit(stream.encode(None))
        if astream is not None:
            _write_tone(out, astream, seconds=n_frames / fps)
    return path


def _blank_like(pkt: av.Packet, stream: av.video.stream.VideoStream) -> av.Packet:
    """A packet with the same timing and a garbage payload. The h264 demuxers drop it (the header
    still counts it); vp9 and mpeg4 pass it to the decoder, which rejects it."""
    new = av.Packet(b"\x00\x00\x00\x0c" + bytes(range(0x81, 0x8d)))
    new.pts, new.dts, new.time_base, new.stream = pkt.pts, pkt.dts, pkt.time_base, stream
    return new


def _write_tone(out: av.container.OutputContainer, astream: av.audio.stream.AudioStream,
                seconds: float) -> None:
    rate = astream.codec_context.sample_rate
    fmt = astream.codec_context.format.name if astream.codec_context.format else "fltp"
    total = int(rate * seconds)
    chunk = 1024
    for start in range(0, total, chunk):
        t = (np.arange(start, min(total, start + chunk)) / rate).astype(np.float32)
        wave = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(wave, format="fltp", layout="mono")
        frame.sample_rate, frame.pts = rate, start
        if fmt != "fltp":
            frame = av.AudioResampler(format=fmt, layout="mono", rate=rate).resample(frame)[0]
        for pkt in astream.encode(frame):
            out.mux(pkt)
    for pkt in astream.encode(None):
        out.mux(pkt)


def make_audio_only(path: str | Path, seconds: float = 1.0) -> Path:
    """An audio-only file (.m4a aac or .wav pcm): a container with no video stream."""
    path = Path(path)
    codec = "pcm_s16le" if path.suffix.lower() == ".wav" else "aac"
    with av.open(str(path), "w") as out:
        astream = out.add_stream(codec, rate=44100)
        rate = 44100
        samples = (0.2 * np.sin(2 * np.pi * 440 * np.arange(int(rate * seconds)) / rate))
        for start in range(0, len(samples), 1024):
            chunk = samples[start:start + 1024].astype(np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = rate, start
            if codec == "pcm_s16le":
                frame = av.AudioResampler(format="s16", layout="mono", rate=rate).resample(frame)[0]
            for pkt in astream.encode(frame):
                out.mux(pkt)
        for pkt in astream.encode(None):
            out.mux(pkt)
    return path


def truncated_copy(src: str | Path, dst: str | Path, fraction: float = 0.5) -> Path:
    """The first `fraction` of `src`'s bytes, as a download cut short would leave it."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: int(len(data) * fraction)])
    return Path(dst)


def garbage_file(path: str | Path, n_bytes: int = 4096, seed: int = 0) -> Path:
    """Random bytes under a video file name."""
    Path(path).write_bytes(np.random.default_rng(seed).integers(0, 256, n_bytes, np.uint8).tobytes())
    return Path(path)


def zero_byte_file(path: str | Path) -> Path:
    Path(path).write_bytes(b"")
    return Path(path)


def make_frame_folder(folder: str | Path, numbers: Iterable[int], *, width: int = 96,
                      height: int = 72, ext: str = "jpg", digits: int = 5) -> Path:
    """A FineDiving-style folder of frames named by frame number (`00489.jpg` ...)."""
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for n in numbers:
        Image.fromarray(code_frame(n, width, height)).save(folder / f"{n:0{digits}d}.{ext}",
                                                           quality=95)
    return folder


def open_fds() -> int:
    """Open file descriptors of this process (for leak checks); -1 where /proc is unavailable."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


# ------------------------------------------------------------------ folders of clips for adapter tests
BROKEN = {"empty": b"", "garbage": None}       # stems that become a zero-byte / random-bytes ".mp4"
KINETICS_HEADER = "label,youtube_id,time_start,time_end,split\n"


def placeholder_videos(root: str | Path, relpaths: Iterable[str], data: bytes = b"\0") -> Path:
    """A video folder holding placeholder files at `relpaths` (adapters' video lookup checks
    presence only, so nothing needs to decode)."""
    root = Path(root)
    for rel in relpaths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def kinetics_clip_set(dest: str | Path, videos_dir: Path, rows: Sequence[tuple[str, str, float, float]],
                      split: str = "validate") -> tuple[Path, Path]:
    """(clips.csv, videos/) under `dest`: a Kinetics-style CSV of `rows` (label, youtube_id, start,
    end) in that order, each id a copy of the real fixture clip of that stem; the ids `empty` and
    `garbage` become a zero-byte and a random-bytes ``.mp4`` (videos that must be skipped)."""
    import shutil

    dest = Path(dest)
    vdir = dest / "videos"
    vdir.mkdir(parents=True, exist_ok=True)
    lines = [KINETICS_HEADER]
    for label, stem, start, end in rows:
        if stem in BROKEN:
            (vdir / f"{stem}.mp4").write_bytes(BROKEN[stem] if BROKEN[stem] is not None else os.urandom(4096))
        elif not any(vdir.glob(stem + ".*")):
            shutil.copy(next(videos_dir.glob(stem + ".*")), vdir)
        lines.append(f"{label},{stem},{start:g},{end:g},{split}\n")
    csv = dest / "clips.csv"
    csv.write_text("".join(lines))
    return csv, vdir


Input = Union[str, Callable[[Path], Path]]   # "fixture/rel/path" or a writer of tmp_path


def contract_inputs(annotations: Input, videos: Input | None = None) -> type:
    """A mixin giving AdapterContract its `annotations` / `videos` fixtures, so a contract test is
    the adapter name plus where its input is. Each is ``"fixture/rel/path"`` (the named fixture's
    folder joined with the rest) or a function of `tmp_path` that writes the input:
    ``class TestX(contract_inputs("world/annotations.csv", "world/videos"), AdapterContract)``."""
    import pytest

    def resolve(request: "pytest.FixtureRequest", spec: Input) -> Path:
        if callable(spec):
            return spec(request.getfixturevalue("tmp_path"))
        name, _, rel = spec.partition("/")
        base = Path(request.getfixturevalue(name))
        return base / rel if rel else base

    class Inputs:
        @pytest.fixture
        def annotations(self, request: "pytest.FixtureRequest") -> Path:
            return resolve(request, annotations)

        @pytest.fixture
        def videos(self, request: "pytest.FixtureRequest") -> Path | None:
            return None if videos is None else resolve(request, videos)

    return Inputs
