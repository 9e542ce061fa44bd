"""Training rows -> model inputs: loading (LLaVA JSON / dataset directory), chat messages, the
assistant-only label mask, a map-style dataset that decodes frames in DataLoader workers, and a
padding collator. A row has one video, one image (LLaVA-665K's `image`) or no media (text only).

Labels are -100 everywhere except the assistant's tokens. The mask comes from the chat template's
`{% generation %}` blocks when it has them (transformers' `return_assistant_tokens_mask`); otherwise
each assistant turn is located as "what rendering it adds after the prompt with
add_generation_prompt=True" (trailing whitespace dropped), mapped to tokens by offsets.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from pathlib import Path
from typing import Any

from .. import resolve_under, safe_relpath
from ..errors import ConfigError, SkipRecord, UnsafePathError
from ..sources.storage import VideoStore, clip_exists, is_url, local_clip

log = logging.getLogger(__name__)
IGNORE_INDEX = -100
ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
         "system": "system"}
_GENERATION = re.compile(r"\{%-?\s*generation\s*-?%\}")
# Per-token tensors (padded); every other tensor is per-video and concatenated. None: pad token id.
SEQ_KEYS = {"input_ids": None, "attention_mask": 0, "labels": IGNORE_INDEX, "mm_token_type_ids": 0,
            "token_type_ids": 0}
DATA_SUFFIXES = (".json", ".jsonl", ".parquet", ".arrow", ".csv")
MEDIA_KINDS = ("video", "image")


# -- loading -------------------------------------------------------------------------------------
def _read_source(data: str, split: str) -> list[dict[str, Any]]:
    """Raw rows of a LLaVA JSON list, a JSONL file, or an HF no-code dataset directory."""
    path = Path(data)
    if path.is_file() and path.suffix == ".json":
        try:
            rows = json.loads(path.read_text("utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"not valid JSON: {exc.msg} (line {exc.lineno})", file=path) from exc
        if not isinstance(rows, list):
            raise ConfigError("a LLaVA export is a JSON list of rows", file=path)
        return rows
    if path.is_file() and path.suffix == ".jsonl":
        from ..jsonl import read_jsonl

        return [obj for _, obj in read_jsonl(path)]
    if path.is_dir():
        import datasets

        try:
            ds = datasets.load_dataset(str(path), split=split)
        except ValueError as exc:  # unknown split: the message lists the ones there are
            raise ConfigError(f"cannot load split {split!r}: {exc}", file=path) from exc
        return ds.to_list()
    raise ConfigError("training data must be a LLaVA .json/.jsonl file or a dataset directory",
                      file=path)


def _norm_row(raw: Any, idx: int) -> dict[str, Any]:
    """One row in the trainer's shape, or SkipRecord('malformed_row') saying what is wrong."""
    if not isinstance(raw, dict):
        raise SkipRecord("malformed_row", "row is not an object", row=idx)
    sid = str(raw.get("id", idx))
    conv = raw.get("conversations")
    if not isinstance(conv, list) or not conv:
        raise SkipRecord("malformed_row", "no 'conversations' list", row=idx, sample_id=sid)
    turns = []
    for t in conv:
        role = ROLES.get(str(t.get("from", t.get("role", ""))).lower()) if isinstance(t, dict) else None
        value = t.get("value", t.get("content")) if isinstance(t, dict) else None
        if role is None or not isinstance(value, str):
            raise SkipRecord("malformed_row", f"bad turn {t!r:.80}", row=idx, sample_id=sid)
        turns.append({"from": role, "value": value})
    if not any(t["from"] == "assistant" and t["value"].strip() for t in turns):
        raise SkipRecord("no_answer", "no non-empty assistant turn", row=idx, sample_id=sid)
    kind, media = row_media(raw, idx, sid)

    def _num(key: str) -> float | None:
        v = raw.get(key)
        return None if v is None or v != v else float(v)  # v != v: NaN from parquet nulls

    return {"id": sid, "media": kind, kind or "video": media, "conversations": turns,
            "clip_start": _num("clip_start"), "clip_end": _num("clip_end")}


def row_media(raw: dict[str, Any], idx: int, sid: str) -> tuple[str | None, str | None]:
    """("video" | "image", path) or (None, None) for a text-only row. Video-LLaVA's lists are
    accepted when they hold one item; two media in a row are a SkipRecord('multi_media')."""
    found = []
    for kind in MEDIA_KINDS:
        value = raw.get(kind)
        if isinstance(value, (list, tuple)) and len(value) <= 1:
            value = value[0] if value else None
        if value is None or value != value or value == "":     # None, NaN (parquet null), empty
            continue
        if found or isinstance(value, (list, tuple)):
            raise SkipRecord("multi_media", "the trainer takes one video or one image per row",
                             row=idx, sample_id=sid)
        if not isinstance(value, str):
            raise SkipRecord("malformed_row", f"{kind!r} is not a path: {value!r:.80}", row=idx, sample_id=sid)
        found.append((kind, value))
    return found[0] if found else (None, None)


def resolve_video(videos: str | None, video: str) -> Path | str:
    """Absolute paths and URLs are used as they are; relative ones must stay inside `videos` (a
    folder, or a URL: then the result is the clip's URL, read through the video cache)."""
    if is_url(video):
        return video
    if Path(video).is_absolute():
        return Path(video)
    if videos is None:
        raise UnsafePathError(f"relative video path {video!r} needs --videos")
    if is_url(videos):
        return VideoStore(videos).location(safe_relpath(video))
    return resolve_under(Path(videos), safe_relpath(video))


def check_row(raw: Any, idx: int, videos: str | None) -> dict[str, Any]:
    """One row in the trainer's shape with `path` (its media file, None for text only), or a
    SkipRecord: malformed, no answer, two media, an escaping path, a missing file."""
    row = _norm_row(raw, idx)
    path = None
    if row["media"]:
        try:
            path = resolve_video(videos, row[row["media"]])
        except UnsafePathError as exc:
            raise SkipRecord("unsafe_path", exc.message, row=idx, sample_id=row["id"]) from exc
        if not clip_exists(path):
            raise SkipRecord(f"{row['media']}_missing", str(path), row=idx, sample_id=row["id"])
    row["path"] = str(path) if path else None
    return row


def load_rows(data: str, *, split: str = "train", videos: str | None = None,
              limit: int | None = None) -> tuple[list[dict[str, Any]], Counter]:
    """Valid rows (media present on disk) and the count of skipped rows by reason."""
    rows, skipped = [], Counter()
    for idx, raw in enumerate(_read_source(data, split)):
        if limit is not None and len(rows) >= limit:
            break
        try:
            rows.append(check_row(raw, idx, videos))
        except SkipRecord as skip:
            skipped[skip.reason] += 1
            log.debug("skip %s", skip)
    return rows, skipped


def store_commit(store: str, tag: str) -> str:
    """The commit of release `tag` in the vstar-data store at `store` (a changed tag = new data)."""
    from ..dataset.store import Store

    commit = Store.open(store, create=False).resolve(f"refs/tags/{tag}")
    if commit is None:
        raise ConfigError(f"the store has no release tagged {tag!r}", file=store)
    return commit


def store_checkout(store: str, tag: str, parent: Path, name: str) -> Path:
    """Release `tag` as a dataset folder `.NAME.data-COMMIT` in `parent`, shared by all processes
    (checkout writes a temp folder and renames it, so concurrent callers cannot see half of it)."""
    from ..errors import VstarError
    from ..dataset.store import checkout

    target = parent / f".{name}.data-{store_commit(store, tag)[:12]}"
    if not target.is_dir():
        try:
            checkout(store, tag, target)
        except (VstarError, OSError):
            if not target.is_dir():  # another process won the race: use its copy
                raise
    return target


def data_fingerprint(data: str) -> str:
    """Content hash of the data file(s): a changed dataset means a different training."""
    path = Path(data)
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and p.suffix in DATA_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(path).parts))
    h = hashlib.sha256()
    for f in files:
        if path.is_dir():  # a single file is its content; a folder also its file layout
            h.update(str(f.relative_to(path)).encode())
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


# -- messages and labels -------------------------------------------------------------------------
def to_messages(turns: list[dict[str, str]], video: Any, *, kind: str = "video",
                tag: str | None = None) -> list[dict[str, Any]]:
    """LLaVA turns -> chat messages; the media (`kind` "video" or "image"; None: text only) goes
    where its `tag` is (default `<kind>`: `<video>` / `<image>`), else in the first user turn."""
    tag = tag or f"<{kind}>"
    target = next((i for i, t in enumerate(turns) if tag in t["value"]), None)
    if target is None:
        target = next((i for i, t in enumerate(turns) if t["from"] == "user"), 0)
    messages = []
    for i, t in enumerate(turns):
        if i != target or video is None:
            messages.append({"role": t["from"], "content": [{"type": "text", "text": t["value"]}]})
            continue
        before, _, after = t["value"].partition(tag) if tag in t["value"] else ("", "", t["value"])
        parts = [{"type": "text", "text": before.strip()}] if before.strip() else []
        parts.append({"type": kind, kind: video})
        text = after.replace(tag, "").strip()
        parts += [{"type": "text", "text": text}] if text else []
        messages.append({"role": t["from"], "content": parts})
    return messages


def has_generation_markers(processor: Any) -> bool:
    template = getattr(processor, "chat_template", None)
    if isinstance(template, dict):
        template = template.get("default")
    return bool(template) and bool(_GENERATION.search(template))


def assistant_char_spans(processor: Any, messages: list[dict[str, Any]]) -> tuple[str, list[tuple[int, int]]]:
    """Rendered text and each assistant turn's character span, found by prefix rendering."""
    render = processor.apply_chat_template
    full = render(messages, tokenize=False)
    spans = []
    for k, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        prompt = render(messages[:k], tokenize=False, add_generation_prompt=True) if k else ""
        upto = render(messages[:k + 1], tokenize=False)
        if not (upto.startswith(prompt) and full.startswith(upto)):
            raise ConfigError("the chat template does not render turns as prefixes of each other, "
                              "so assistant tokens cannot be located; use a template with "
                              "{% generation %} markers")
        end = len(prompt) + len(upto[len(prompt):].rstrip())
        spans.append((len(prompt), end))
    return full, spans


def _spans_to_mask(offsets: list[tuple[int, int]], replacements: list[dict[str, Any]],
                   spans: list[tuple[int, int]]) -> list[int]:
    """Token mask for character spans of the rendered text, shifted past expanded placeholders."""
    shifted = []
    for start, end in spans:
        gained = sum(r["new_span"][1] - r["span"][1] for r in replacements if r["span"][1] <= start)
        shifted.append((start + gained, end + gained))
    return [int(any(a < e and b > s for s, e in shifted)) for a, b in offsets]


def encode(processor: Any, messages: list[dict[str, Any]], video_metadata: dict | None = None,
           *, add_eos: bool = True) -> dict[str, Any]:
    """Processor outputs for one conversation (batch of 1) plus `labels` (assistant tokens only)."""
    import torch

    kw: dict[str, Any] = {}
    if video_metadata is not None:
        kw["videos_kwargs"] = {"video_metadata": [video_metadata], "do_sample_frames": False}
    if has_generation_markers(processor):
        out = processor.apply_chat_template(messages, tokenize=True, return_dict=True,
                                            return_assistant_tokens_mask=True, return_tensors="pt",
                                            processor_kwargs=kw)
        mask = torch.as_tensor(out.pop("assistant_masks")).reshape(1, -1)
    else:
        text, spans = assistant_char_spans(processor, messages)
        media = {kind: [c[kind] for m in messages for c in m["content"] if c["type"] == kind]
                 for kind in ("image", "video")}
        out = processor(text=[text], images=[media["image"]] if media["image"] else None,
                        videos=[media["video"]] if media["video"] else None, return_tensors="pt",
                        return_offsets_mapping=True, return_text_replacement_offsets=True, **kw)
        offsets = out.pop("offset_mapping")[0].tolist()
        repl = (out.pop("text_replacement_offsets", None) or [[]])[0]
        mask = torch.tensor([_spans_to_mask(offsets, repl, spans)])
    out = dict(out)
    ids = out["input_ids"]
    labels = torch.where(mask.bool(), ids, torch.full_like(ids, IGNORE_INDEX))
    if add_eos:
        out, labels = _end_with_eos(processor.tokenizer, out, labels)
    out["labels"] = labels
    return out


def _end_with_eos(tok: Any, out: dict[str, Any], labels: Any) -> tuple[dict[str, Any], Any]:
    """Templates that end an answer without an end token (vicuna style: "ASSISTANT: answer ")
    would teach the model never to stop: drop the trailing whitespace tokens and append EOS,
    labelled. Answers that already end in a special token (<|im_end|>, </s>, ...) are left alone."""
    import torch

    eos, ids = tok.eos_token_id, out["input_ids"]
    pos = (labels[0] != IGNORE_INDEX).nonzero().flatten()
    if eos is None or not len(pos):
        return out, labels
    last = int(pos[-1])
    if int(ids[0, last]) in set(tok.all_special_ids) or tok.decode(ids[0, last + 1:]).strip():
        return out, labels
    fills = {"input_ids": eos, "attention_mask": 1}
    for key, value in list(out.items()):
        if key in SEQ_KEYS and torch.is_tensor(value) and value.shape == ids.shape:
            out[key] = torch.cat([value[:, :last + 1], torch.full_like(value[:, :1], fills.get(key, 0))], dim=1)
    labels = torch.cat([labels[:, :last + 1], torch.tensor([[eos]])], dim=1)
    return out, labels


# -- images --------------------------------------------------------------------------------------
def load_image(path: str, size: int | None) -> Any:
    """An RGB PIL image, its short side brought down to `size` like video frames (never up)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            image = im.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise SkipRecord("image_unreadable", f"{type(exc).__name__}: {exc}", file=path) from exc
    short = min(image.size)
    if size and short > size:
        w, h = image.size
        image = image.resize((max(1, round(w * size / short)), max(1, round(h * size / short))),
                             Image.BILINEAR)
    return image


def image_as_video(image: Any) -> tuple[Any, dict[str, Any]]:
    """A one-frame video (array (1, H, W, 3) + metadata) for models whose processor takes no images."""
    import numpy as np

    array = np.asarray(image, dtype=np.uint8)[None]
    h, w = array.shape[1:3]
    return array, {"total_num_frames": 1, "fps": 1.0, "duration": 1.0, "frames_indices": [0],
                   "height": int(h), "width": int(w)}


# -- dataset and collator ------------------------------------------------------------------------
class VideoChatDataset:
    """Map-style dataset: __getitem__ decodes frames and encodes one row (runs in the workers).

    A row whose video cannot be decoded, or whose encoding is longer than `max_length`, is
    logged and replaced by the next row, so a batch never shrinks and one bad clip cannot stop
    a long training.
    """

    def __init__(self, rows: list[dict[str, Any]], processor: Any, *, num_frames: int,
                 frame_size: int | None, max_length: int | None = None, retries: int = 8,
                 cache_rows: int = 0, videos_cache: dict[str, Any] | None = None) -> None:
        self.rows, self.processor = rows, processor
        self.videos_cache = videos_cache    # clips named by URL come through this cache (it travels to the workers)
        self.num_frames, self.frame_size, self.max_length = num_frames, frame_size, max_length
        self.retries = retries
        # Encoding is deterministic, so many epochs over a small set (a demo world) may keep the
        # first `cache_rows` encoded rows instead of decoding the same clips every epoch.
        self.cache_rows = cache_rows
        self._cache: dict[int, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def encode_row(self, row: dict[str, Any]) -> dict[str, Any]:
        media = row.get("media", "video")
        if media is None:                                   # text only
            out = encode(self.processor, to_messages(row["conversations"], None))
        elif media == "image":
            image = load_image(str(local_clip(row["path"], self.videos_cache)), self.frame_size)
            if getattr(self.processor, "image_processor", None) is not None:
                out = encode(self.processor, to_messages(row["conversations"], image, kind="image"))
            else:                                           # a video-only model: a one-frame video
                array, meta = image_as_video(image)
                out = encode(self.processor, to_messages(row["conversations"], array, tag="<image>"), meta)
        else:
            frames = self._frames(row)
            out = encode(self.processor, to_messages(row["conversations"], frames.array), frames.metadata())
        if self.max_length and out["input_ids"].shape[1] > self.max_length:
            raise SkipRecord("too_long", f"{out['input_ids'].shape[1]} tokens > max_length {self.max_length}")
        if not (out["labels"] != IGNORE_INDEX).any():
            raise SkipRecord("no_answer_tokens", "no assistant token survived encoding")
        return out

    def _frames(self, row: dict[str, Any]) -> Any:
        from ..video.frames import sample_frames

        try:
            return sample_frames(local_clip(row["path"], self.videos_cache), self.num_frames, start=row["clip_start"],
                                 end=row["clip_end"], size=self.frame_size)
        except SkipRecord:
            raise
        except Exception as exc:
            raise SkipRecord("video_unreadable", f"{type(exc).__name__}: {exc}", file=row["path"]) from exc

    def __getitem__(self, idx: int) -> dict[str, Any]:
        import torch

        if torch.utils.data.get_worker_info() is not None:
            torch.set_num_threads(1)  # workers share the cores with the training step
        if idx in self._cache:
            return self._cache[idx]
        for attempt in range(self.retries):
            row = self.rows[(idx + attempt) % len(self.rows)]
            try:
                out = self.encode_row(row)
                if len(self._cache) < self.cache_rows:
                    self._cache[idx] = out
                return out
            except SkipRecord as skip:
                log.warning("training row %s skipped (%s): %s", row["id"], skip.reason, skip.detail)
        raise RuntimeError(f"{self.retries} consecutive training rows from index {idx} failed; "
                           "see the warnings above")


class PadCollator:
    """Right-pads per-token tensors; concatenates everything else (pixel values, grids) on dim 0."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        longest = max(it["input_ids"].shape[1] for it in items)
        batch: dict[str, Any] = {}
        keys = list(dict.fromkeys(k for it in items for k in it))  # a text-only row has no pixels
        for key in keys:
            values = [it[key] for it in items if key in it]
            if not torch.is_tensor(values[0]):
                batch[key] = [v for vs in values for v in (vs if isinstance(vs, list) else [vs])]
            elif key in SEQ_KEYS:
                fill = self.pad_token_id if SEQ_KEYS[key] is None else SEQ_KEYS[key]
                values = [it.get(key, torch.zeros_like(it["input_ids"])) for it in items]
                batch[key] = torch.cat([torch.nn.functional.pad(v, (0, longest - v.shape[1]), value=fill)
                                        for v in values])
            else:
                batch[key] = torch.cat(values)
        return batch
