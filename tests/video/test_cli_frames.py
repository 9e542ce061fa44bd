"""`vstar-data frames`: writes the sampled frames and a contact sheet, reports indices and mode."""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import vstar_data.cli.frames  # noqa: F401  (registers the command until cli/__init__ imports it)
from vstar_data.cli import app

from video_factory import make_clip, make_frame_folder, read_code

runner = CliRunner()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("cli") / "clip.mp4", n_frames=48, fps=24)


def _ints(line_name: str, output: str) -> list[int]:
    line = next(l for l in output.splitlines() if l.startswith(line_name))
    return [int(v) for v in line.split(":", 1)[1].split()]


def test_frames_writes_pngs_and_contact_sheet(clip, tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(app, ["frames", str(clip), "--num-frames", "6", "--size", "60",
                              "--start", "0.5", "--end", "1.5", "--out", str(out)])
    assert res.exit_code == 0, res.output
    indices = _ints("indices", res.output)
    assert indices == [14, 18, 22, 26, 30, 34]
    assert "decode mode: scan (requested auto)" in res.output
    times = next(l for l in res.output.splitlines() if l.startswith("timestamps")).split()[1:]
    assert [float(t) for t in times] == pytest.approx([i / 24 for i in indices], abs=1e-3)
    pngs = sorted(p.name for p in out.glob("frame_*.png"))
    assert pngs == [f"frame_{i:03d}.png" for i in range(6)]
    for i, name in zip(indices, pngs):
        img = np.asarray(Image.open(out / name))
        assert img.shape == (60, 80, 3) and read_code(img) == i
    with Image.open(out / "contact_sheet.png") as sheet:
        assert sheet.width >= 3 * 80 and sheet.height > 2 * 60  # 3 x 2 grid plus captions


def test_frames_seek_mode_and_hxw_size(clip, tmp_path):
    res = runner.invoke(app, ["frames", str(clip), "-n", "3", "--size", "32x48", "--mode", "seek",
                              "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "decode mode: seek (requested seek)" in res.output
    assert np.asarray(Image.open(tmp_path / "frame_002.png")).shape == (32, 48, 3)


def test_frames_folder_with_fps(tmp_path):
    folder = make_frame_folder(tmp_path / "frames", range(100, 120))
    res = runner.invoke(app, ["frames", str(folder), "-n", "4", "--fps", "10", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert _ints("indices", res.output) == [102, 107, 112, 117]
    assert "timestamps: 10.200 10.700 11.200 11.700" in res.output


def test_frames_clamped_window_and_repeats_are_reported(clip, tmp_path):
    res = runner.invoke(app, ["frames", str(clip), "-n", "4", "--start", "1.9", "--end", "9",
                              "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "clamped" in res.output and "frames repeat" in res.output
    assert len(list(tmp_path.glob("frame_*.png"))) == 4


def test_frames_unusable_video_exits_1_with_reason(tmp_path):
    res = runner.invoke(app, ["frames", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert "video_missing" in res.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args", [["--mode", "fast"], ["--size", "0"], ["--size", "axb"]])
def test_frames_bad_options_exit_2(clip, tmp_path, args):
    res = runner.invoke(app, ["frames", str(clip), "--out", str(tmp_path), *args])
    assert res.exit_code == 2


def test_frames_on_fixture_clip(videos_dir, tmp_path):
    res = runner.invoke(app, ["frames", str(videos_dir / "flipping_pancake.mkv"), "-n", "4",
                              "--size", "64", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert _ints("indices", res.output) == [39, 116, 194, 271]
    assert re.search(r"310 frames, 30\.000 fps", res.output)


def test_help_does_not_import_heavy_modules():
    code = ("import sys, vstar_data.cli.frames; "
            "print(sorted(m for m in ('av', 'PIL', 'numpy', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
