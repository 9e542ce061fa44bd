"""STAR (situated reasoning in real-world videos, NeurIPS 2021): question files and class files.

``--annotations`` is a question file (``STAR_train.json``, ``STAR_val.json``, or a sample file of
the same structure holding one question object instead of a list) or a folder of them (its
``STAR_*.json`` files when it has any, so ``split_file.json`` beside them is not read). Each
question has ``question_id`` (``Interaction_T1_13``: type ``Interaction|Sequence|Prediction|
Feasibility`` + ``_T<n>_<k>``), ``question``, ``video_id``, ``start`` / ``end`` (seconds in the
Charades video), ``answer`` (text), ``choices`` (``{choice_id, choice, choice_program}``),
``question_program`` and ``situations`` (``{frame_id: {rel_pairs, rel_labels, actions, bbox,
bbox_labels}}``; frame ids are 1-based frame numbers of the video, so frame f is at
(f - 1) / fps seconds).

Class files (``action_classes.txt``: ``a000 hold some clothes``; ``object_classes.txt``,
``verb_classes.txt``, ``relationship_classes.txt``; ``action_mapping.txt``: ``a000 v004 o019``)
and ``video_fps`` (a pickle of ``{"<video_id>.mp4": fps}``, read with the restricted unpickler)
are looked up in option ``classes`` (a folder), else next to the question file, in its
``STAR_classes/`` or ``classes/`` subfolder, or the parent folder's. They are needed only for the
derived tasks; without them, pass ``tasks=star_qa,star_open_qa``.

Per question, samples (ids ``<question_id>``, ``/open``, ``/when``, ``/where``):

- ``star_qa``: the benchmark question and its choices (a `choice` label and a `text` label with the
  answer), clip windowed to [start, end];
- ``star_open_qa``: the same question open-ended (`text`), same clip;
- ``temporal_localization``: "when does <action> happen?" over the whole video, an `interval` label
  [start, end]; the action is the one most keyframes of the window show (fewest code on ties);
- ``object_localization``: "where is the <object> at <time>?", a `bbox` label (pixels, xyxy) from the
  middle keyframe of the window for an object boxed exactly once in it; time from the clip start.

Option ``constraints=objects`` (off by default: ``none``) adds to the QA samples a constraint
label (``"role": "constraint"``) of the objects the situation graph boxes in the question's
keyframes: an answer that asserts another object of ``object_classes.txt`` is rejected
(``contradicts``). Off by default because a situation graph lists only the objects of annotated
relations, so a true mention of an unlisted object would be rejected too. It needs
``object_classes.txt``; "person" is never a rival (someone is always there). Questions whose
keyframes box no known object get none (note ``objects_constraint_unavailable``).

Bad questions are located skips (file, index, reason); a derived sample that cannot exist for a
question (no action or no single-boxed object in its keyframes, or a repeat of one already made)
is counted in the summary's notes.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar, Iterator

from vstar_data import Adapter, AnnotationError, ConfigError, Sample, SkipRecord, check_options, safe_load

QA, OPEN, WHEN, WHERE = "star_qa", "star_open_qa", "temporal_localization", "object_localization"
TASKS = (QA, OPEN, WHEN, WHERE)
CLASS_FILES = ("action_classes.txt", "object_classes.txt", "verb_classes.txt", "relationship_classes.txt")
_QID = re.compile(r"^(Interaction|Sequence|Prediction|Feasibility)_T\d+_\d+$")
_VIDEO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_FRAME_ID = re.compile(r"^\d{1,7}$")
_CLASS_LINE = re.compile(r"^([avor]\d{3})\s+(\S.*)$")
_MAP_LINE = re.compile(r"^(a\d{3})\s+(v\d{3})\s+(o\d{3})$")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def read_classes(path: Path) -> dict[str, str]:
    """``code name`` lines -> {code: name}; a malformed line is an AnnotationError naming it."""
    out: dict[str, str] = {}
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        m = _CLASS_LINE.match(line.strip())
        if not m:
            raise AnnotationError(f"expected `<code> <name>` (e.g. `a000 hold some clothes`), got {line!r}",
                                  file=path, row=n)
        out[m.group(1)] = m.group(2).strip()
    return out


def read_mapping(path: Path) -> dict[str, tuple[str, str]]:
    """``a000 v004 o019`` lines -> {action: (verb, object)}."""
    out: dict[str, tuple[str, str]] = {}
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        m = _MAP_LINE.match(line.strip())
        if not m:
            raise AnnotationError(f"expected `<action> <verb> <object>` (e.g. `a000 v004 o019`), got {line!r}",
                                  file=path, row=n)
        out[m.group(1)] = (m.group(2), m.group(3))
    return out


def _num(v: Any) -> bool:
    return type(v) in (int, float) and v == v and v >= 0


class STARAdapter(Adapter):
    """STAR questions -> multiple-choice and open QA, action localization and object boxes."""

    name: ClassVar[str] = "star"
    description: ClassVar[str] = "STAR situated reasoning (Charades): QA with choices, open QA, when / where questions"
    tasks: ClassVar[tuple[str, ...]] = TASKS
    label_types: ClassVar[tuple[str, ...]] = ("choice", "text", "interval", "bbox", "category")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        check_options(self.name, self.options, ("classes", "tasks", "min_similarity", "constraints"))
        constraints = str(self.options.get("constraints", "none")).strip().lower()
        if constraints not in ("none", "objects"):
            raise ConfigError(f"adapter 'star': option constraints must be none or objects, got {constraints!r}",
                              key="constraints")
        self.object_constraints = constraints == "objects"
        raw = self.options.get("tasks")
        wanted = [t.strip() for t in raw.split(",")] if isinstance(raw, str) else list(raw or TASKS)
        unknown = [t for t in wanted if t not in TASKS]
        if unknown or not wanted:
            raise ConfigError(f"adapter 'star': unknown tasks {unknown}; choose from {', '.join(TASKS)}", key="tasks")
        self.wanted = tuple(t for t in TASKS if t in wanted)
        self.min_similarity = float(self.options.get("min_similarity", 0.5))
        self.actions: dict[str, str] = {}
        self.objects: dict[str, str] = {}
        self.verbs: dict[str, str] = {}
        self.relationships: dict[str, str] = {}
        self.mapping: dict[str, tuple[str, str]] = {}
        self.fps: dict[str, float] = {}

    # -- input files ------------------------------------------------------------------------------
    def _question_files(self, root: Path) -> list[Path]:
        if root.is_file():
            return [root]
        found = sorted(p for p in root.rglob("*.json") if p.is_file() and not p.name.startswith("."))
        named = [p for p in found if re.match(r"^STAR_\w+\.json$", p.name)]
        found = named or found         # beside STAR_*.json, split_file.json and the like are not questions
        if not found:
            raise AnnotationError("folder holds no STAR question files (*.json)", file=root)
        return found

    def _class_dir(self, root: Path) -> Path | None:
        if self.options.get("classes"):
            folder = Path(str(self.options["classes"]))
            if not folder.is_dir():
                raise AnnotationError("STAR classes folder does not exist", file=folder)
            return folder
        base = root if root.is_dir() else root.parent
        for folder in (base, base / "STAR_classes", base / "classes", base.parent, base.parent / "STAR_classes"):
            if (folder / "action_classes.txt").is_file() or (folder / "video_fps").is_file():
                return folder
        return None

    def _load_classes(self, root: Path) -> None:
        if not {WHEN, WHERE} & set(self.wanted) and not self.object_constraints:
            return
        folder = self._class_dir(root)
        need = ["action_classes.txt"] if WHEN in self.wanted else []
        need += ["object_classes.txt", "video_fps"] if WHERE in self.wanted else []
        need += ["object_classes.txt"] if self.object_constraints and "object_classes.txt" not in need else []
        missing = [n for n in need if folder is None or not (folder / n).is_file()]
        if missing:
            raise AnnotationError(f"STAR class files {missing} not found (looked in option `classes`, next to "
                                  f"the questions, STAR_classes/, classes/ and the parent folder); give "
                                  f"--option classes=DIR, or tasks={QA},{OPEN} to skip the when/where questions",
                                  file=root)
        assert folder is not None
        tables = {"action_classes.txt": "actions", "object_classes.txt": "objects", "verb_classes.txt": "verbs",
                  "relationship_classes.txt": "relationships"}
        for fname, attr in tables.items():
            if (folder / fname).is_file():
                setattr(self, attr, read_classes(folder / fname))
        if (folder / "action_mapping.txt").is_file():
            self.mapping = read_mapping(folder / "action_mapping.txt")
        if (folder / "video_fps").is_file():
            fps = safe_load(folder / "video_fps")
            if not isinstance(fps, dict) or not all(isinstance(k, str) and _num(v) and v > 0 for k, v in fps.items()):
                raise AnnotationError("video_fps must be a pickled dict {'<video_id>.mp4': fps > 0}",
                                      file=folder / "video_fps")
            self.fps = {k: float(v) for k, v in fps.items()}

    # -- reading --------------------------------------------------------------------------------
    def read(self, root: Path) -> Iterator[Sample | SkipRecord]:
        files = self._question_files(root)
        self._load_classes(root)
        self._seen_when: set[tuple] = set()
        self._seen_where: set[tuple] = set()
        for path in files:
            try:
                data = json.loads(path.read_text("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise AnnotationError(f"not a JSON file: {exc}", file=path) from exc
            questions = [data] if isinstance(data, dict) else data
            if not isinstance(questions, list):
                raise AnnotationError("a STAR question file holds a list of questions (or one question object)",
                                      file=path)
            m = re.match(r"^STAR_(\w+)$", path.stem)
            split = m.group(1).lower() if m else re.sub(r"\W", "_", path.stem)
            for index, q in enumerate(questions):
                yield from self._question(q, path, index, split)

    def _question(self, q: Any, path: Path, index: int, split: str) -> Iterator[Sample | SkipRecord]:
        file = str(path)

        def skip(reason: str, detail: str, key: str | None = None, sid: str | None = None) -> SkipRecord:
            return SkipRecord(reason, detail, file=file, row=index, key=key, sample_id=sid)

        if not isinstance(q, dict):
            yield skip("not_an_object", f"question #{index} is a {type(q).__name__}, not an object")
            return
        qid = q.get("question_id")
        if not isinstance(qid, str) or not _QID.match(qid):
            yield skip("bad_question_id", f"question_id {qid!r} is not <Interaction|Sequence|Prediction|"
                                          f"Feasibility>_T<n>_<k>", "question_id")
            return
        vid, question, answer = q.get("video_id"), q.get("question"), q.get("answer")
        start, end = q.get("start"), q.get("end")
        if not isinstance(vid, str) or not _VIDEO_ID.match(vid):
            yield skip("bad_video_id", f"video_id {vid!r} is not a Charades id", "video_id", qid)
            return
        if not isinstance(question, str) or not question.strip():
            yield skip("missing_question", "no question text", "question", qid)
            return
        if not isinstance(answer, str) or not answer.strip():
            yield skip("missing_answer", "no answer (the STAR test split ships none)", "answer", qid)
            return
        if not (_num(start) and _num(end)) or end <= start:
            yield skip("bad_window", f"start/end must be seconds with start < end, got {start!r}, {end!r}",
                       "start", qid)
            return
        start, end = float(start), float(end)
        base = dict(source=self.name, video=f"{vid}.mp4", split=split)
        meta = {"question_id": qid, "question_type": qid.split("_")[0], "video_id": vid, "start": start, "end": end,
                "file": path.name}
        if QA in self.wanted or OPEN in self.wanted:
            choices = q.get("choices")
            options = self._options(choices)
            if options is None:
                yield skip("bad_choices", "choices must be a list of >= 2 {choice_id, choice} with distinct ids "
                                          "and texts", "choices", qid)
            else:
                texts = [o.strip() for o in options]
                hits = [k for k, t in enumerate(texts) if t == answer.strip()]
                if len(hits) != 1:
                    yield skip("answer_not_in_choices", f"answer {answer!r} is not exactly one of the choices",
                               "answer", qid)
                else:
                    text_label = {"type": "text", "name": "answer_text", "value": answer.strip(),
                                  "min_similarity": self.min_similarity}
                    present = self._objects_present(q.get("situations")) if self.object_constraints else []
                    if QA in self.wanted:
                        rendered = "\n".join(f"{LETTERS[k]}. {t}" for k, t in enumerate(texts))
                        yield Sample(id=qid, task=QA, clip_start=start, clip_end=end, **base,
                                     labels=[{"type": "choice", "name": "answer", "options": texts,
                                              "correct": hits[0]}, text_label, *present],
                                     context={"question": question.strip(), "options": rendered}, metadata=meta)
                    if OPEN in self.wanted:
                        yield Sample(id=f"{qid}/open", task=OPEN, clip_start=start, clip_end=end, **base,
                                     labels=[dict(text_label), *present], context={"question": question.strip()},
                                     metadata=meta)
        situations = q.get("situations")
        if not ({WHEN, WHERE} & set(self.wanted)):
            return
        if not isinstance(situations, dict) or not situations \
                or not all(isinstance(k, str) and _FRAME_ID.match(k) and isinstance(v, dict)
                           for k, v in situations.items()):
            yield skip("bad_situations", "situations must map frame ids (digits) to objects", "situations", qid)
            return
        if WHEN in self.wanted:
            yield from self._when(qid, vid, start, end, situations, base, meta, skip)
        if WHERE in self.wanted:
            yield from self._where(qid, vid, start, end, situations, base, meta, skip)

    def _objects_present(self, situations: Any) -> list[dict[str, Any]]:
        """The `objects` constraint (one spec, or none): the known objects boxed in the keyframes."""
        codes: set[str] = set()
        for frame in (situations.values() if isinstance(situations, dict) else ()):
            labels = frame.get("bbox_labels") if isinstance(frame, dict) else None
            codes.update(c for c in labels or () if isinstance(c, str))
        names = sorted({self.objects[c] for c in codes if c in self.objects and c != "o000"})
        if not names:
            self.stats.notes["objects_constraint_unavailable"] += 1
            return []
        vocabulary = sorted({n for c, n in self.objects.items() if c != "o000"})
        return [{"type": "category", "name": "objects", "value": names[0], "allowed": names[1:],
                 "vocabulary": vocabulary, "role": "constraint"}]

    @staticmethod
    def _options(choices: Any) -> list[str] | None:
        if not isinstance(choices, list) or len(choices) < 2:
            return None
        rows = []
        for c in choices:
            if not isinstance(c, dict) or type(c.get("choice_id")) is not int or not isinstance(c.get("choice"), str) \
                    or not c["choice"].strip():
                return None
            rows.append((c["choice_id"], c["choice"]))
        ids = [i for i, _ in rows]
        texts = [t.strip() for _, t in rows]
        if len(set(ids)) != len(ids) or len(set(texts)) != len(texts):
            return None
        return [t for _, t in sorted(rows)]

    def _when(self, qid: str, vid: str, start: float, end: float, situations: dict, base: dict, meta: dict,
              skip: Any) -> Iterator[Sample | SkipRecord]:
        counts: Counter = Counter()
        for frame in situations.values():
            actions = frame.get("actions", [])
            if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
                yield skip("bad_situations", "a keyframe's `actions` is not a list of codes", "situations", qid)
                return
            counts.update(set(actions))
        if not counts:
            self.stats.notes["when_no_action_in_keyframes"] += 1
            return
        code = min(counts, key=lambda a: (-counts[a], a))
        if code not in self.actions:
            yield skip("unknown_action_code", f"action {code!r} is not in action_classes.txt", "situations",
                       f"{qid}/when")
            return
        key = (vid, code, start, end)
        if key in self._seen_when:
            self.stats.notes["when_duplicate_of_earlier_question"] += 1
            return
        self._seen_when.add(key)
        yield Sample(id=f"{qid}/when", task=WHEN, **base,
                     labels=[{"type": "interval", "name": "segment", "start": start, "end": end}],
                     context={"action": self.actions[code]},
                     metadata={**meta, "action_code": code, "verb_object": list(self.mapping.get(code, ()))})

    def _where(self, qid: str, vid: str, start: float, end: float, situations: dict, base: dict, meta: dict,
               skip: Any) -> Iterator[Sample | SkipRecord]:
        fps = self.fps.get(f"{vid}.mp4")
        if fps is None:
            yield skip("no_fps", f"video_fps has no entry {vid + '.mp4'!r}", "video_id", f"{qid}/where")
            return
        frames = sorted(situations, key=int)
        inside = [f for f in frames if start <= (int(f) - 1) / fps <= end]
        if not inside:
            self.stats.notes["where_no_keyframe_in_window"] += 1
            return
        fid = inside[len(inside) // 2]
        frame = situations[fid]
        boxes, labels = frame.get("bbox", []), frame.get("bbox_labels", [])
        if not isinstance(boxes, list) or not isinstance(labels, list) or len(boxes) != len(labels):
            yield skip("bad_situations", f"keyframe {fid}: bbox and bbox_labels must be lists of equal length",
                       "situations", f"{qid}/where")
            return
        tally = Counter(lab for lab in labels if isinstance(lab, str))
        pick = None
        for lab, box in sorted(zip(labels, boxes), key=lambda x: (str(x[0]) == "o000", str(x[0]))):
            if not isinstance(lab, str) or tally[lab] != 1 or lab not in self.objects:
                continue
            if isinstance(box, list) and len(box) == 4 and all(_num(v) for v in box) \
                    and box[2] > box[0] and box[3] > box[1]:
                pick = (lab, [round(float(v), 2) for v in box])
                break
        if pick is None:
            self.stats.notes["where_no_single_boxed_object"] += 1
            return
        lab, box = pick
        key = (vid, fid, lab)
        if key in self._seen_where:
            self.stats.notes["where_duplicate_of_earlier_question"] += 1
            return
        self._seen_where.add(key)
        t = round((int(fid) - 1) / fps - start, 3)
        t = max(0.0, min(t, round(end - start, 3)))
        yield Sample(id=f"{qid}/where", task=WHERE, clip_start=start, clip_end=end, **base,
                     labels=[{"type": "bbox", "name": "object", "box": box, "frame_time": t, "coords": "pixels"}],
                     context={"object": self.objects[lab], "time": f"{t:g}"},
                     metadata={**meta, "frame_id": fid, "object_code": lab, "fps": fps})

    def video_candidates(self, sample: Sample) -> list[str]:
        """``<video_id>.mp4`` flat or under ``Charades_v1_480/`` (the 480p release's folder)."""
        return [sample.video, f"Charades_v1_480/{sample.video}"]
