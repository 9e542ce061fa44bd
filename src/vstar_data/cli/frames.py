"""CLI: sample frames from one video (or frame folder) and write them plus a captioned contact sheet."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app


def _parse_size(text: Optional[str]) -> int | tuple[int, int] | None:
    """`224` (short side, aspect kept) or `224x320` (height x width)."""
    if text is None:
        return None
    try:
        if "x" in text.lower():
            h, w = (int(v) for v in text.lower().split("x", 1))
            if h > 0 and w > 0:
                return (h, w)
        elif int(text) > 0:
            return int(text)
    except ValueError:
        pass
    raise typer.BadParameter(f"expected N or HxW with positive integers, got {text!r}", param_hint="--size")


@app.command("frames")
def frames_cmd(
    video: Path = typer.Argument(..., help="Video file (mp4/mkv/avi/webm/gif...) or folder of numbered frame images."),
    num_frames: int = typer.Option(8, "--num-frames", "-n", min=1, max=1024, help="Frames to sample (always exactly this many)."),
    start: Optional[float] = typer.Option(None, "--start", help="Window start, seconds (default: video start)."),
    end: Optional[float] = typer.Option(None, "--end", help="Window end, seconds (default: video end; clamped to it)."),
    size: Optional[str] = typer.Option(None, "--size", help="Short side in pixels (aspect kept), or HxW."),
    mode: str = typer.Option("auto", "--mode", help="auto | seek | scan (same frames; decides speed)."),
    fps: Optional[float] = typer.Option(None, "--fps", min=0.001, help="Frame rate of a frame folder (default 25)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder for frame_000.png ... and contact_sheet.png."),
) -> None:
    """Sample NUM_FRAMES frames uniformly (segment centres) from VIDEO, write them as PNGs with a
    contact sheet, and print the frame indices, timestamps and the decoding mode used.

    Example: vstar-data frames clip.mp4 --start 2 --end 6 -n 8 --size 224 --out frames/
    """
    import time

    from PIL import Image

    from ..errors import SkipRecord
    from ..video.frames import MODES, sample_frames
    from ..video.sheet import contact_sheet
    from ._common import console

    if mode not in MODES:
        raise typer.BadParameter(f"must be one of {', '.join(MODES)}", param_hint="--mode")
    t0 = time.perf_counter()
    try:
        fr = sample_frames(video, num_frames, start=start, end=end, size=_parse_size(size),
                           mode=mode, fps=fps)
    except SkipRecord as exc:
        typer.secho(f"cannot sample {video}: {exc.reason}: {exc.detail}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    elapsed = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    for i, arr in enumerate(fr.array):
        Image.fromarray(arr).save(out / f"frame_{i:03d}.png")
    contact_sheet(fr.array, [f"#{i}  {t:.2f}s" for i, t in zip(fr.indices, fr.timestamps)]
                  ).save(out / "contact_sheet.png")
    x = fr.extra
    con = console()
    con.print(f"{video}: {fr.total_frames} frames, {fr.fps:.3f} fps, {fr.duration:.2f} s; "
              f"window {x['window'][0]:.2f}-{x['window'][1]:.2f} s"
              + (" (clamped to the video)" if x.get("window_clamped") else ""), highlight=False, soft_wrap=True)
    con.print(f"decode mode: {x['decode_mode']} (requested {x['requested_mode']})"
              + (f"; fell back: {x['fallback']}" if x.get("fallback") else "")
              + f"; {elapsed * 1000:.0f} ms", highlight=False, soft_wrap=True)
    con.print("indices: " + " ".join(str(i) for i in fr.indices), highlight=False, soft_wrap=True)
    con.print("timestamps: " + " ".join(f"{t:.3f}" for t in fr.timestamps), highlight=False, soft_wrap=True)
    if x.get("repeated"):
        con.print(f"note: the window holds fewer than {num_frames} frames; frames repeat in order",
                  highlight=False)
    con.print(f"wrote {len(fr.array)} frames and contact_sheet.png to {out}", highlight=False, soft_wrap=True)

