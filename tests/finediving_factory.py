"""Small FineDiving annotation sets with the real pickles' exact structure, built in tmp dirs.

The real `Annotations/` folder holds five pickles keyed by ``(video_name: str, instance_idx: int)``
(see ../shared/fixtures/README.md). These builders write the same containers and types: numpy int
arrays for `steps_transit_frames` (one with a -1) and `frames_labels`, numpy int keys in
`sub-action_types`, plain floats and ints elsewhere, so tests exercise what the adapter meets.
The sub-action ids are chosen so id order differs from time order ('Entry' has the lowest id).
"""
from __future__ import annotations

import pickle
import pickletools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from video_factory import placeholder_videos

FINE = "FineDiving_fine-grained_annotation.pkl"
COARSE = "FineDiving_coarse_annotation.pkl"
TABLE = "Sub_action_Types_Table.pkl"
TRAIN = "train_split.pkl"
TEST = "test_split.pkl"
BACKGROUND = 38

# 42 ids as the real table has; names follow the FineDiving lexicon, 38 is Background.
SUB_ACTIONS: dict[int, str] = {
    0: "Entry", 1: "Forward", 2: "Back", 3: "Reverse", 4: "Inward", 5: "Arm.Forward", 6: "Arm.Back",
    7: "Arm.Reverse", 8: "0.5 Som.Pike", 9: "1 Som.Pike", 10: "1.5 Soms.Pike", 11: "2 Soms.Pike",
    12: "2.5 Soms.Pike", 13: "3 Soms.Pike", 14: "3.5 Soms.Pike", 15: "4.5 Soms.Pike",
    16: "1.5 Soms.Tuck", 17: "2 Soms.Tuck", 18: "2.5 Soms.Tuck", 19: "3 Soms.Tuck",
    20: "3.5 Soms.Tuck", 21: "4.5 Soms.Tuck", 22: "0.5 Twist", 23: "1 Twist", 24: "1.5 Twists",
    25: "2 Twists", 26: "2.5 Twists", 27: "3 Twists", 28: "3.5 Twists", 29: "4 Twists",
    30: "1.5 Soms.Free", 31: "2.5 Soms.Free", 32: "1 Som.Tuck", 33: "0.5 Som.Tuck",
    34: "Arm.Inward", 35: "1.5 Soms.Layout", 36: "2.5 Soms.Layout", 37: "Handstand",
    38: "Background", 39: "3.5 Soms.Free", 40: "4.5 Soms.Free", 41: "0.5 Som.Layout",
}


@dataclass
class Dive:
    """One instance. `runs` are (sub-action id, frame count) in time order, Background included."""

    video_name: str
    idx: int
    code: str
    difficulty: float
    score: float
    start: int
    runs: list[tuple[int, int]]
    judges: list[float]
    split: str | None = "train"           # None: in neither split file
    steps: list[int] = field(default_factory=list)  # steps_transit_frames; derived when empty

    @property
    def key(self) -> tuple[str, int]:
        return (self.video_name, self.idx)

    @property
    def frames_labels(self) -> np.ndarray:
        return np.concatenate([np.full(n, sid, dtype=np.int64) for sid, n in self.runs])

    @property
    def end(self) -> int:
        return self.start + len(self.frames_labels) - 1

    def fine(self) -> dict[str, Any]:
        labels = self.frames_labels
        steps, at, started = list(self.steps), 0, False
        if not steps:   # offsets where one sub-action hands over to the next
            for sid, n in self.runs:
                if sid != BACKGROUND:
                    if started:
                        steps.append(at)
                    started = True
                at += n
        return {"action_type": self.code, "dive_score": self.score, "difficulty": self.difficulty,
                "steps_transit_frames": np.array(steps, dtype=np.int64), "frames_labels": labels,
                "sub-action_types": {np.int64(sid): SUB_ACTIONS[sid] for sid, _ in self.runs
                                     if sid in SUB_ACTIONS}}

    def coarse(self) -> dict[str, Any]:
        return {"action_type": self.code, "start_frame": self.start, "end_frame": self.end,
                "dive_score": self.score, "difficulty": self.difficulty, "judge_scores": list(self.judges)}


def default_dives() -> list[Dive]:
    """Four instances over three videos: 3, 5 and 7 judges, a -1 step, both splits."""
    return [
        Dive("FINADivingWorldCup2021_Men3m_final_r1", 0, "407C", 3.2, 65.6, 489,
             [(38, 10), (4, 30), (20, 44), (0, 12), (38, 8)],
             [7.0, 6.5, 7.0, 7.0, 6.5, 7.5, 6.5], "train"),
        Dive("FINADivingWorldCup2021_Men3m_final_r1", 11, "107B", 3.0, 75.0, 14425,
             [(38, 6), (1, 28), (14, 70), (0, 14)], [8.0, 8.5, 8.0, 8.5, 9.0], "train",
             steps=[6, 34, -1]),
        Dive("FullMenSynchronised10mPlatform_Tokyo2020Replays_2", 16, "205B", 3.0, 66.0, 2031,
             [(2, 25), (12, 60), (0, 15), (38, 5)], [7.5, 7.0, 7.5], "test"),
        Dive("01", 1, "5253B", 3.4, 71.4, 120,
             [(38, 4), (2, 20), (12, 30), (24, 26), (0, 10)], [7.0, 7.0, 7.0, 7.5, 6.5], "test"),
    ]


def as_numpy1(data: bytes) -> bytes:
    """Rewrite a pickle made under numpy 2 as numpy 1.x writes it (``numpy.core`` module names)."""
    for new, old in ((b"numpy._core.multiarray", b"numpy.core.multiarray"),
                     (b"numpy._core.numeric", b"numpy.core.numeric")):
        data = data.replace(bytes([0x8C, len(new)]) + new, bytes([0x8C, len(old)]) + old)
        data = data.replace(new + b"\n", old + b"\n")
    return pickletools.optimize(data)   # re-frames protocol 4+ after the length change


def dump(obj: Any, path: Path, *, protocol: int = 4, numpy1: bool = False) -> Path:
    data = pickle.dumps(obj, protocol=protocol)
    path.write_bytes(as_numpy1(data) if numpy1 else data)
    return path


def write_annotations(dest: Path, dives: list[Dive] | None = None, *, layout: str = "annotations",
                      protocol: int = 4, numpy1: bool = False, omit: tuple[str, ...] = (),
                      fine_patch: dict[tuple[str, int], dict[str, Any]] | None = None,
                      coarse_patch: dict[tuple[str, int], dict[str, Any]] | None = None) -> Path:
    """Write the five pickles; return the path a user passes as ``--annotations``.

    layout "annotations": `dest/Annotations/*.pkl`, returns `dest` (the dataset root);
    layout "flat": `dest/*.pkl`, returns `dest` (the Annotations folder itself).
    `fine_patch` / `coarse_patch` update (value None: delete) fields of one key's entry.
    """
    dives = default_dives() if dives is None else dives
    folder = dest / "Annotations" if layout == "annotations" else dest
    folder.mkdir(parents=True, exist_ok=True)
    fine = {d.key: d.fine() for d in dives}
    coarse = {d.key: d.coarse() for d in dives}
    for table, patch in ((fine, fine_patch), (coarse, coarse_patch)):
        for key, fields in (patch or {}).items():
            for name, value in fields.items():
                if value is None:
                    table[key].pop(name, None)
                else:
                    table[key][name] = value
    files = {FINE: fine, COARSE: coarse, TABLE: {np.int64(k): v for k, v in SUB_ACTIONS.items()},
             TRAIN: [d.key for d in dives if d.split == "train"],
             TEST: [d.key for d in dives if d.split == "test"]}
    for name, obj in files.items():
        if name not in omit:
            dump(obj, folder / name, protocol=protocol, numpy1=numpy1)
    return dest


_JPEG: bytes | None = None


def _tiny_jpeg() -> bytes:
    global _JPEG
    if _JPEG is None:
        import io

        from PIL import Image

        buf = io.BytesIO()
        Image.new("RGB", (8, 8), (20, 90, 160)).save(buf, format="JPEG")
        _JPEG = buf.getvalue()
    return _JPEG


def write_frames(videos: Path, dive: Dive) -> Path:
    """The frame folder `videos/<video_name>/<idx>/NNNNN.jpg`, named by untrimmed frame number."""
    folder = videos / dive.video_name / str(dive.idx)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(dive.start, dive.end + 1):
        (folder / f"{n:05d}.jpg").write_bytes(_tiny_jpeg())
    return folder


def write_clip(videos: Path, dive: Dive) -> Path:
    """A placeholder trimmed clip `videos/<video_name>/<idx>.mp4` (lookup checks presence only)."""
    rel = f"{dive.video_name}/{dive.idx}.mp4"
    return placeholder_videos(videos, [rel], b"\x00\x00\x00\x18ftypmp42") / rel
