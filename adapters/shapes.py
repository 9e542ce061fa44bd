"""`shapes`: a procedurally rendered world of coloured shapes, small enough for a CPU.

`render_world(out, n, seed)` writes real PyAV-encoded mp4 clips plus `annotations.csv` in the
style of the real sources; `ShapesAdapter` reads that CSV exactly as the Kinetics adapter reads
Kinetics, so the whole pipeline runs on it unchanged. Labels mirror the real sources' kinds:
category (direction, colour, shape: action recognition), number (object count, speed score: AQA),
interval (when the second object is on screen: TAL), sequence (order the colours appear).

Constraints (option ``constraints``, default ``colour,shape,count``; ``none`` for none): what the
world knows besides the requested labels, attached as ``"role": "constraint"`` specs so that an
answer stating another colour, shape or object count is rejected (``contradicts``). The colour
and shape are the moving object's: with several objects the other colours are ``allowed`` (they
are on screen too) and the shape constraint is left out (the others' shapes are not annotated).
A requested label is never also a constraint.
"""
from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from vstar_data import Adapter, AnnotationError, Sample, SkipRecord

COLOURS = {"red": (230, 40, 40), "green": (40, 200, 60), "blue": (50, 90, 240), "yellow": (235, 220, 40)}
SHAPES = ("square", "circle", "triangle")
DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
FIELDS = ["clip", "split", "direction", "colour", "shape", "count", "speed", "appear_order",
          "second_start", "second_end", "fps", "frames"]
LABEL_SETS = ("direction", "colour", "shape", "count", "speed", "second_on_screen", "appear_order")
CONSTRAINT_SETS = ("direction", "colour", "shape", "count", "appear_order")
DEFAULT_CONSTRAINTS = "colour,shape,count"
VOCABULARIES = {"direction": list(DIRECTIONS), "colour": list(COLOURS), "shape": list(SHAPES)}


# The circle is a disc 3/4 of the object's box across (32 of 64 pixels at 8 px; the triangle has
# 40, the square 64). A disc filling the box differs from the square by its 12 corner pixels only,
# which a patch-8 tiny vision tower could not learn: the warm-start model named the shape right on
# 40% of held-out clips (chance 33%), against 86% with this disc.
CIRCLE_SHARE = 0.75


def _mask(shape: str, size: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    c = (size - 1) / 2
    if shape == "circle":
        return (yy - c) ** 2 + (xx - c) ** 2 <= (size * CIRCLE_SHARE / 2) ** 2
    if shape == "triangle":
        return (yy >= 0) & (np.abs(xx - c) <= (yy + 1) / 2)
    return np.ones((size, size), bool)


def _draw(frame: np.ndarray, shape: str, colour: str, x: int, y: int, size: int) -> None:
    h, w = frame.shape[:2]
    m = _mask(shape, size)
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + size, w), min(y + size, h)
    if x1 <= x0 or y1 <= y0:
        return
    sub = m[y0 - y:y1 - y, x0 - x:x1 - x]
    frame[y0:y1, x0:x1][sub] = COLOURS[colour]


def render_clip(rng: random.Random, frames: int, size: int, objects: int) -> tuple[np.ndarray, dict[str, Any]]:
    """One clip (frames, size, size, 3) and its ground truth."""
    obj = size // 4
    direction = rng.choice(list(DIRECTIONS))
    speed = rng.choice((2, 3))  # px per frame: slower motion stays inside one vision token
    dx, dy = DIRECTIONS[direction]
    travel = speed * (frames - 1)
    lo, hi = 0, size - obj
    # start so that the whole path stays inside the frame
    sx = rng.randint(lo + max(0, -dx * travel), hi - max(0, dx * travel))
    sy = rng.randint(lo + max(0, -dy * travel), hi - max(0, dy * travel))
    colours = rng.sample(list(COLOURS), k=objects)
    shapes = [rng.choice(SHAPES) for _ in range(objects)]
    spans = [(0, frames)]
    for _ in range(1, objects):
        a = rng.randint(1, frames // 2)
        spans.append((a, rng.randint(a + 2, frames)))
    still = [(rng.randint(0, hi), rng.randint(0, hi)) for _ in range(objects)]
    video = np.zeros((frames, size, size, 3), np.uint8)
    for t in range(frames):
        for i in range(objects):
            a, b = spans[i]
            if not a <= t < b:
                continue
            x, y = (sx + dx * speed * t, sy + dy * speed * t) if i == 0 else still[i]
            _draw(video[t], shapes[i], colours[i], x, y, obj)
    order = [colours[i] for i in sorted(range(objects), key=lambda i: (spans[i][0], i))]
    truth = {"direction": direction, "colour": colours[0], "shape": shapes[0], "count": objects,
             "speed": speed, "appear_order": order,
             "second": spans[1] if objects > 1 else None}
    return video, truth


def _yuv444(rgb: np.ndarray) -> np.ndarray:
    """RGB (H, W, 3) -> planar BT.601 limited-range YUV 4:4:4 (3, H, W), in numpy: converting with
    swscale at encode time gave different pixels now and then (its SIMD path depends on where the
    frame sits in memory), so the same seed wrote different clips."""
    r, g, b = (rgb[..., k].astype(np.float64) for k in range(3))
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    return np.ascontiguousarray(np.clip(np.rint(np.stack([y, u, v])), 0, 255).astype(np.uint8))


def write_mp4(path: Path, video: np.ndarray, fps: int) -> None:
    """Encode RGB frames as h264 mp4 (near-lossless so colours survive at tiny sizes)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.mp4")
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = video.shape[2], video.shape[1]
        stream.pix_fmt = "yuv444p"
        stream.options = {"crf": "4", "preset": "veryfast", "threads": "1"}
        for arr in video:
            for packet in stream.encode(av.VideoFrame.from_ndarray(_yuv444(arr), format="yuv444p")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    tmp.replace(path)


def render_world(out: str | Path, n: int = 64, seed: int = 0, *, frames: int = 8, size: int = 32,
                 fps: int = 4, objects: int = 1, test_share: float = 0.25) -> Path:
    """Write `n` clips under out/videos and out/annotations.csv; same seed -> same files."""
    out = Path(out)
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        video, truth = render_clip(rng, frames, size, objects if objects > 0 else rng.randint(1, 3))
        name = f"shapes_{seed:03d}_{i:05d}"
        write_mp4(out / "videos" / f"{name}.mp4", video, fps)
        second = truth["second"]
        rows.append({"clip": name, "split": "test" if i < round(n * test_share) else "train",
                     "direction": truth["direction"], "colour": truth["colour"], "shape": truth["shape"],
                     "count": truth["count"], "speed": truth["speed"],
                     "appear_order": "|".join(truth["appear_order"]),
                     "second_start": "" if second is None else round(second[0] / fps, 3),
                     "second_end": "" if second is None else round(second[1] / fps, 3),
                     "fps": fps, "frames": frames})
    tmp = out / "annotations.csv.tmp"
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(out / "annotations.csv")
    return out


class ShapesAdapter(Adapter):
    """Reads a shapes world's annotations.csv (file or the folder holding it)."""

    name = "shapes"
    description = "Procedural coloured-shape clips (demo world; render with render_world)"
    license = "apache-2.0"  # rendered by this project's code
    tasks = ("shapes",)
    label_types = ("category", "number", "interval", "sequence")

    def read(self, root: Path) -> Iterator[Sample | SkipRecord]:
        path = root / "annotations.csv" if root.is_dir() else root
        if not path.is_file():
            raise AnnotationError("no annotations.csv here", file=path)
        wanted = [s.strip() for s in str(self.options.get("labels", "direction")).split(",") if s.strip()]
        unknown = [w for w in wanted if w not in LABEL_SETS]
        if unknown:
            raise AnnotationError(f"unknown shapes label(s) {unknown}; choose from {', '.join(LABEL_SETS)}",
                                  file=path, key="labels")
        raw = str(self.options.get("constraints", DEFAULT_CONSTRAINTS))
        constraints = [] if raw.strip().lower() in ("", "none") else [s.strip() for s in raw.split(",") if s.strip()]
        unknown = [c for c in constraints if c not in CONSTRAINT_SETS]
        if unknown:
            raise AnnotationError(f"unknown shapes constraint(s) {unknown}; choose from {', '.join(CONSTRAINT_SETS)} "
                                  f"or none", file=path, key="constraints")
        constraints = [c for c in constraints if c not in wanted]
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [f for f in FIELDS if f not in (reader.fieldnames or [])]
            if missing:
                raise AnnotationError(f"missing columns {missing}", file=path)
            for lineno, row in enumerate(reader, 2):
                try:
                    labels = [self._label(w, row) for w in wanted]
                    labels += [self._constraint(c, row) for c in constraints]
                except (KeyError, ValueError) as exc:
                    yield SkipRecord("malformed_row", f"{type(exc).__name__}: {exc}", file=path, row=lineno)
                    continue
                labels = [lab for lab in labels if lab is not None]
                if not any(lab.get("role") != "constraint" for lab in labels):
                    yield SkipRecord("no_labels", "none of the requested labels apply", file=path, row=lineno)
                    continue
                yield Sample(id=row["clip"], source=self.name, task="shapes", video=f"{row['clip']}.mp4",
                             labels=labels, split=row["split"],
                             metadata={"fps": float(row["fps"]), "frames": int(row["frames"])})

    @classmethod
    def warm_start(cls, out: str | Path, *, arch: str = "qwen2_vl", seed: int = 0, steps: int = 300) -> Path:
        """A tiny model pre-trained on this world's *other* skills (see _shapes_warmstart.py);
        fewer `steps` give a weaker model sooner (a quick world for tests)."""
        from vstar_data.adapters._shapes_warmstart import build_warm_start

        return build_warm_start(out, render_world, arch=arch, seed=seed, steps=steps)

    @classmethod
    def _constraint(cls, kind: str, row: dict[str, str]) -> dict[str, Any] | None:
        """`kind` as a constraint spec, or None where the annotation does not fix it."""
        present = [c for c in row["appear_order"].split("|") if c]
        several = int(row["count"]) > 1
        if kind == "shape" and several or kind == "appear_order" and len(present) < 2:
            return None
        spec = cls._label(kind, row)
        if spec is None:
            return None
        spec["role"] = "constraint"
        if kind in VOCABULARIES:
            spec["vocabulary"] = VOCABULARIES[kind]
        if kind == "colour" and several:
            spec["allowed"] = [c for c in present if c != row["colour"]]
        return spec

    @staticmethod
    def _label(kind: str, row: dict[str, str]) -> dict[str, Any] | None:
        if kind in ("direction", "colour", "shape"):
            if not row[kind]:
                raise ValueError(f"empty {kind}")
            return {"type": "category", "name": kind, "value": row[kind], "synonyms": []}
        if kind in ("count", "speed"):
            return {"type": "number", "name": kind, "value": float(row[kind]), "abs_tol": 0.0}
        if kind == "second_on_screen":
            if not row["second_start"]:
                return None
            return {"type": "interval", "name": "second_on_screen", "start": float(row["second_start"]),
                    "end": float(row["second_end"]), "min_iou": 0.5}
        return {"type": "sequence", "name": "appear_order", "value": row["appear_order"].split("|")}
