"""TempCompass-style multiple-choice / yes-no / caption-matching / captioning question files.

``--annotations`` is a folder holding the question files, the benchmark's root (whose
``questions/`` folder holds them, with ``meta_info.json`` beside that folder), or one file. One
file per task format, named by it: ``multi-choice.json``, ``yes_no.json``,
``caption_matching.json``, ``captioning.json``, each ``{video_id: {dimension: [{"question": ...,
"answer": ...}, ...]}}`` with dimensions ``action``, ``direction``, ``speed``, ``order``,
``attribute_change``. ``meta_info.json`` (``{video_id: {"eval_dim": {dimension: {...} | null},
"content": [...]}}``) is optional; its entry for a video goes into each sample's metadata.

One sample per question, id ``<video_id>/<format>/<dimension>/<index>`` (index: 0-based position
in the list), task = the dimension, label ``answer``:

- multi-choice: options ``A. ...`` are the question's lines; answer ``"B. <text>"`` -> `choice`;
- yes_no: answer ``"yes"`` / ``"no"`` -> `boolean`;
- caption_matching: options ``Option 1: ...``, ``Caption A: ...`` or ``Sentence B: ...``; the
  answer repeats the chosen line -> `choice`;
- captioning: options ``Information A: {'subject': ..., 'action': ...}``; the option text is the
  value that differs between the options; answer ``"B. <text>"`` -> `choice` with
  ``select_by: text`` (a caption must describe the right option, a letter alone does not count) and
  ``min_similarity: 0.3`` (a caption in other words is judged by meaning: needs the `text` extra).

An answer must name one option and agree with its text; anything else (no options, an answer that
names no option or disagrees with its text, a malformed entry) is a located skip. Videos are
``<video_id>.mp4`` (or ``.gif`` / ``.webm``), flat or under ``videos/``.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any, ClassVar, Iterator

from vstar_data import Adapter, AnnotationError, Sample, SkipRecord, check_options

FORMATS = ("multi-choice", "yes_no", "caption_matching", "captioning")
DIMENSIONS = ("action", "direction", "speed", "order", "attribute_change")
VIDEO_EXTS = (".mp4", ".gif", ".webm")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# captioning: a caption naming no option's words is judged by meaning (choice's semantic fallback)
CAPTION_MIN_SIMILARITY = 0.3
_VIDEO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_MC_LINE = re.compile(r"^\(?([A-Z])[.)]\s*(.+)$")
_CM_LINE = re.compile(r"^(Option\s+(\d+)|Caption\s+([A-Z])|Sentence\s+([A-Z]))\s*:\s*(.+)$")
_INFO_LINE = re.compile(r"^Information\s+([A-Z])\s*:\s*(\{.*\})\s*$")
_ANSWER_LETTER = re.compile(r"^\(?([A-Z])\)?(?:[.):]\s*(.*))?$", re.S)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().rstrip(".").strip().casefold()


class ParseError(Exception):
    """A question or answer this adapter cannot read (becomes a located skip)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def parse_multi_choice(question: str, answer: str) -> tuple[list[str], int]:
    lines = [ln.strip() for ln in question.splitlines() if ln.strip()]
    opts = [(m.group(1), m.group(2).strip()) for ln in lines[1:] if (m := _MC_LINE.match(ln))]
    return _pick_letter([o for o in opts], answer)


def _pick_letter(opts: list[tuple[str, str]], answer: str) -> tuple[list[str], int]:
    if len(opts) < 2:
        raise ParseError("no_options", "the question lists fewer than two options")
    letters = [k for k, _ in opts]
    if letters != list(LETTERS[:len(opts)]):
        raise ParseError("bad_options", f"options are labelled {letters}, expected A, B, C, ... in order")
    m = _ANSWER_LETTER.match(answer.strip())
    if not m:
        raise ParseError("answer_names_no_option", f"answer {answer!r} does not start with an option letter")
    k = LETTERS.find(m.group(1))
    if k >= len(opts):
        raise ParseError("answer_names_no_option", f"answer letter {m.group(1)} is not among the options")
    if m.group(2) and _norm(m.group(2)) != _norm(opts[k][1]) and not _close(m.group(2), opts, k):
        raise ParseError("answer_disagrees", f"answer {answer!r} does not match option {m.group(1)} "
                                             f"{opts[k][1]!r}")
    return [t for _, t in opts], k


def _close(text: str, opts: list[tuple[str, str]], k: int) -> bool:
    """The answer's text differs from its option's only by a typo or by being cut short (the
    benchmark has a few of each: 'curtainsd', 'reading a book' for '... while taking a bath'), and
    it is closer to that option than to any other: the letter's option stands."""
    from rapidfuzz import fuzz

    a = _norm(text)
    scores = [fuzz.ratio(a, _norm(t)) for _, t in opts]
    best = max(range(len(opts)), key=lambda i: scores[i])
    if best != k or sorted(scores)[-2] == scores[k]:
        return False
    return scores[k] >= 90 or (len(a) >= 8 and _norm(opts[k][1]).startswith(a))


def parse_caption_matching(question: str, answer: str) -> tuple[list[str], int, list[str]]:
    lines = [ln.strip() for ln in question.splitlines() if ln.strip()]
    opts: list[tuple[str, int, str]] = []                 # (line label, index, text)
    for ln in lines[1:]:
        m = _CM_LINE.match(ln)
        if not m:
            continue
        if m.group(2):
            idx = int(m.group(2)) - 1
        else:
            idx = LETTERS.find(m.group(3) or m.group(4))
        opts.append((m.group(1), idx, m.group(5).strip()))
    if len(opts) < 2:
        raise ParseError("no_options", "the question lists fewer than two `Option 1:` / `Caption A:` / "
                                       "`Sentence A:` lines")
    if [i for _, i, _ in opts] != list(range(len(opts))) or len({re.sub(r"\s.*", "", o[0]) for o in opts}) != 1:
        raise ParseError("bad_options", f"option labels {[o[0] for o in opts]} are not one style in order")
    m = _CM_LINE.match(answer.strip())
    if m:
        label, text = m.group(1), m.group(5)
    else:                                                  # "Caption A" / "Option 2" alone
        label, text = answer.strip().rstrip(".").strip(), None
    hit = [k for k, (lab, _, _) in enumerate(opts) if re.sub(r"\s+", " ", lab).lower() == re.sub(r"\s+", " ", label).lower()]
    if len(hit) != 1:
        raise ParseError("answer_names_no_option", f"answer {answer!r} repeats none of the option lines")
    k = hit[0]
    if text is not None and _norm(text) != _norm(opts[k][2]):
        raise ParseError("answer_disagrees", f"answer {answer!r} does not match {opts[k][0]!r}: {opts[k][2]!r}")
    return [t for _, _, t in opts], k, [lab for lab, _, _ in opts]


def parse_captioning(question: str, answer: str) -> tuple[list[str], int, list[dict[str, Any]]]:
    infos: list[tuple[str, dict[str, Any]]] = []
    for ln in question.splitlines():
        m = _INFO_LINE.match(ln.strip())
        if not m:
            continue
        try:
            value = ast.literal_eval(m.group(2))          # literals only: never code
        except (ValueError, SyntaxError) as exc:
            raise ParseError("bad_information", f"Information {m.group(1)} is not a literal dict: {exc}") from None
        if not isinstance(value, dict) or not value:
            raise ParseError("bad_information", f"Information {m.group(1)} is not a non-empty dict")
        infos.append((m.group(1), value))
    if len(infos) < 2:
        raise ParseError("no_options", "the question lists fewer than two `Information A: {...}` lines")
    keys = list(dict.fromkeys(k for _, d in infos for k in d))          # in the order the lines give them
    differing = [k for k in keys if len({json.dumps(d.get(k), sort_keys=True) for _, d in infos}) > 1]
    if not differing:
        raise ParseError("identical_options", "every Information line holds the same values")
    texts = [", ".join(str(d.get(k, "")) for k in differing) for _, d in infos]
    if len(set(map(_norm, texts))) != len(texts):
        raise ParseError("identical_options", "two options have the same distinguishing value")
    options, k = _pick_letter([(lab, t) for (lab, _), t in zip(infos, texts)], answer)
    return options, k, [d for _, d in infos]


def parse_yes_no(answer: str) -> bool:
    a = answer.strip().rstrip(".").strip().lower()
    if a not in ("yes", "no"):
        raise ParseError("bad_yes_no_answer", f"answer {answer!r} is neither yes nor no")
    return a == "yes"


class MCQAAdapter(Adapter):
    """TempCompass-style question files -> one `choice` or `boolean` sample per question."""

    name: ClassVar[str] = "mcqa"
    description: ClassVar[str] = ("TempCompass-style multiple choice, yes/no, caption matching and captioning "
                                  "questions (task = temporal dimension)")
    tasks: ClassVar[tuple[str, ...]] = DIMENSIONS
    label_types: ClassVar[tuple[str, ...]] = ("choice", "boolean")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        check_options(self.name, self.options, ("split",))
        self.split_name = str(self.options.get("split", "test"))

    def _files(self, root: Path) -> tuple[list[Path], Path | None]:
        if root.is_file():
            if root.stem not in FORMATS:
                raise AnnotationError(f"a TempCompass question file is named {', '.join(f + '.json' for f in FORMATS)}",
                                      file=root)
            meta = root.parent.parent / "meta_info.json" if root.parent.name == "questions" else root.parent / "meta_info.json"
            return [root], meta if meta.is_file() else None
        folder = root / "questions" if (root / "questions").is_dir() else root
        files = [folder / f"{f}.json" for f in FORMATS if (folder / f"{f}.json").is_file()]
        if not files:
            raise AnnotationError(f"no question files ({', '.join(f + '.json' for f in FORMATS)}) in this folder "
                                  f"or its questions/ folder", file=root)
        for meta in (root / "meta_info.json", folder / "meta_info.json", folder.parent / "meta_info.json"):
            if meta.is_file():
                return files, meta
        return files, None

    def read(self, root: Path) -> Iterator[Sample | SkipRecord]:
        files, meta_path = self._files(root)
        meta: dict[str, Any] = {}
        if meta_path is not None:
            meta = self._load(meta_path)
        for path in files:
            data = self._load(path)
            fmt = path.stem
            for vid, dims in data.items():
                if not isinstance(vid, str) or not _VIDEO_ID.match(vid) or ".." in vid:
                    yield SkipRecord("bad_video_id", f"video id {vid!r} is not a plain file stem", file=str(path),
                                     key=str(vid))
                    continue
                if not isinstance(dims, dict):
                    yield SkipRecord("malformed_entry", f"{vid}: expected {{dimension: [questions]}}, got "
                                                        f"{type(dims).__name__}", file=str(path), key=vid)
                    continue
                for dim, items in dims.items():
                    yield from self._dimension(path, fmt, vid, dim, items, meta.get(vid))

    @staticmethod
    def _load(path: Path) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AnnotationError(f"not a JSON file: {exc}", file=path) from exc
        if not isinstance(data, dict):
            raise AnnotationError(f"expected a JSON object keyed by video id, got {type(data).__name__}", file=path)
        return data

    def _dimension(self, path: Path, fmt: str, vid: str, dim: Any, items: Any,
                   meta: Any) -> Iterator[Sample | SkipRecord]:
        file = str(path)
        if dim not in DIMENSIONS:
            yield SkipRecord("unknown_dimension", f"{vid}: dimension {dim!r} is not one of {', '.join(DIMENSIONS)}",
                             file=file, key=f"{vid}/{dim}")
            return
        if not isinstance(items, list):
            yield SkipRecord("malformed_entry", f"{vid}/{dim}: expected a list of questions", file=file,
                             key=f"{vid}/{dim}")
            return
        for index, item in enumerate(items):
            sid = f"{vid}/{fmt}/{dim}/{index}"
            if not isinstance(item, dict) or not isinstance(item.get("question"), str) \
                    or not isinstance(item.get("answer"), str) or not item["question"].strip():
                yield SkipRecord("malformed_entry", "expected {\"question\": str, \"answer\": str}", file=file,
                                 key=sid, sample_id=sid)
                continue
            question, answer = item["question"].strip(), item["answer"]
            extra: dict[str, Any] = {"format": fmt, "dimension": dim, "video_id": vid, "index": index}
            try:
                if fmt == "yes_no":
                    label: dict[str, Any] = {"type": "boolean", "name": "answer", "value": parse_yes_no(answer)}
                elif fmt == "multi-choice":
                    options, k = parse_multi_choice(question, answer)
                    label = {"type": "choice", "name": "answer", "options": options, "correct": k}
                elif fmt == "caption_matching":
                    options, k, labels = parse_caption_matching(question, answer)
                    label = {"type": "choice", "name": "answer", "options": options, "correct": k}
                    extra["option_labels"] = labels
                else:
                    options, k, infos = parse_captioning(question, answer)
                    label = {"type": "choice", "name": "answer", "options": options, "correct": k,
                             "select_by": "text", "min_similarity": CAPTION_MIN_SIMILARITY}
                    extra["information"] = infos
            except ParseError as err:
                yield SkipRecord(err.reason, err.detail, file=file, key=sid, sample_id=sid)
                continue
            if label["type"] == "choice" and fmt != "caption_matching":
                m = _ANSWER_LETTER.match(answer.strip())
                if m and m.group(2) and _norm(m.group(2)) != _norm(label["options"][label["correct"]]):
                    self.stats.notes["answer_text_typo_or_cut_short_letter_kept"] += 1
            if isinstance(meta, dict):
                dims_meta = meta.get("eval_dim")
                extra["meta_info"] = {"eval_dim": dims_meta.get(dim) if isinstance(dims_meta, dict) else None,
                                      "content": meta.get("content")}
            yield Sample(id=sid, source=self.name, task=dim, video=f"{vid}.mp4", labels=[label],
                         split=self.split_name, context={"question": question}, metadata=extra)

    def video_candidates(self, sample: Sample) -> list[str]:
        """``<video_id>`` with .mp4 / .gif / .webm, flat or under ``videos/``."""
        vid = sample.metadata["video_id"]
        return [f"{folder}{vid}{ext}" for folder in ("", "videos/") for ext in VIDEO_EXTS]
