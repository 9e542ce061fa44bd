"""Contact sheets: the sampled frames of one clip in a captioned grid (the `frames` command and
the run report show what the model saw)."""
from __future__ import annotations

import math
from typing import Any


def contact_sheet(frames: Any, captions: list[str], thumb_width: int = 256, *, min_width: int = 0) -> Any:
    """A grid of the frames (about square), each with its caption underneath.

    Frames wider than `thumb_width` are shrunk; frames narrower than `min_width` are enlarged
    with nearest-neighbour scaling (tiny demo frames stay readable, pixels stay sharp).
    """
    from PIL import Image, ImageDraw, ImageFont

    n = len(frames)
    h, w = frames[0].shape[:2]
    tw = max(min(thumb_width, w), min(min_width, thumb_width))
    th = max(1, round(h * tw / w))
    resample = Image.NEAREST if tw > w else Image.BILINEAR
    font = ImageFont.load_default(size=max(10, tw // 16))
    cap = max(14, tw // 16 + 6)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    pad = 4
    sheet = Image.new("RGB", (cols * (tw + pad) + pad, rows * (th + cap + pad) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for k, (arr, text) in enumerate(zip(frames, captions)):
        x = pad + (k % cols) * (tw + pad)
        y = pad + (k // cols) * (th + cap + pad)
        sheet.paste(Image.fromarray(arr).resize((tw, th), resample), (x, y))
        draw.text((x + 2, y + th + 1), text, fill="black", font=font)
    return sheet
