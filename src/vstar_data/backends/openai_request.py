"""What one request to an OpenAI-compatible server carries: the frames encoded as images or one
vLLM frame-list video (`encode_frames`, `video_part`), their timing (`media_io_kwargs`), and the
sampling bias read from the model's generation_config.json. Sending it is openai_http.py's job.
"""
from __future__ import annotations

import base64
import io
from typing import Any

#: The data-URL label of a frame-list video. vLLM splits only lists labelled video/jpeg into frames
#: (any other video/* is decoded as one file) and decodes each frame with PIL, so PNG frames travel
#: under this label too.
VIDEO_MIME = "video/jpeg"


def video_part(images: list[str]) -> dict[str, Any]:
    """One `video_url` part holding every frame (base64 JPEG or PNG), as vLLM reads a frame list."""
    return {"type": "video_url", "video_url": {"url": f"data:{VIDEO_MIME};base64," + ",".join(images)}}


def media_io_kwargs(frames: Any) -> dict[str, Any]:
    """The frames' timing for vLLM (request field `media_io_kwargs`): without it the server
    assumes 1 fps and frames 0..N-1, and the model's temporal positions are wrong."""
    n = len(frames.array)
    total = max(int(getattr(frames, "total_frames", n) or n), n)
    fps = float(getattr(frames, "fps", 0) or 0) or 1.0
    duration = float(getattr(frames, "duration", 0) or 0) or total / fps
    return {"video": {"fps": fps, "frames_indices": [int(i) for i in frames.indices],
                      "total_num_frames": total, "duration": duration}}


def encode_frames(array: Any, fmt: str = "JPEG", quality: int = 90) -> list[str]:
    """Each uint8 RGB frame as base64 JPEG (lossy) or PNG (lossless, fast compression)."""
    from PIL import Image

    out = []
    for frame in array:
        buf = io.BytesIO()
        if fmt == "PNG":
            Image.fromarray(frame).save(buf, "PNG", compress_level=1)
        else:
            Image.fromarray(frame).save(buf, "JPEG", quality=quality)
        out.append(base64.b64encode(buf.getvalue()).decode("ascii"))
    return out


def generation_config_bias(path: Any) -> tuple[dict[str, int], int, list[int]]:
    """(logit_bias, min_tokens, begin-suppressed ids that cannot be sent) from a model's
    generation_config.json: vLLM ignores `suppress_tokens` / `begin_suppress_tokens` stored there.
    `suppress_tokens` become bias -100; a suppressed first end-of-sequence becomes min_tokens 1."""
    import json
    from pathlib import Path

    cfg = json.loads(Path(path).read_text("utf-8"))
    suppress = [int(t) for t in cfg.get("suppress_tokens") or []]
    begin = [int(t) for t in cfg.get("begin_suppress_tokens") or []]
    eos = cfg.get("eos_token_id")
    eos_ids = {int(e) for e in (eos if isinstance(eos, list) else [eos]) if e is not None}
    min_tokens = 1 if eos_ids and eos_ids & set(begin) else 0
    lost = sorted(set(begin) - set(suppress) - eos_ids)
    return {str(t): -100 for t in suppress}, min_tokens, lost


def find_generation_config(choice: str | None, model: str | None, served_root: str) -> Any:
    """The generation_config.json to read: `choice` (a file or folder; "none" for none), else the
    local model folder, else the served model's root when it is visible here; None if none."""
    from pathlib import Path

    from ..errors import ConfigError

    if choice is not None and str(choice).lower() == "none":
        return None
    for cand in filter(None, [choice] if choice else [model, served_root]):
        path = Path(str(cand))
        path = path / "generation_config.json" if path.is_dir() else path
        if path.is_file() and path.name.endswith(".json"):
            return path
    if choice:
        raise ConfigError(f"backend 'openai': generation_config {choice!r} is not a generation_config.json "
                          "or a folder holding one")
    return None
