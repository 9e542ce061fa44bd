"""One cycle's data generation, as the paper's Figure 2 reads:

    read -> prompt -> frames -> generate -> verify -> rationalize -> verify -> write

`GenerationConfig` says what to run; `prepare` turns it into a deterministic sequence of prompted
samples (spilled to a temporary file in blocks as the adapter yields them: memory O(block), not
O(N)); `ChunkProcessor.process` runs the model stages over one chunk and returns attempt rows
and skip rows; `make_backend` / `make_verifier` build what it runs. The engine base
(engines/base.py) plans, resumes and writes; each engine decides only how chunks are executed.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..config import RunConfig, SourceConfig
from ..sources.adapter import AdapterStats, load_adapter
from ..errors import AnnotationError, ConfigError, SkipRecord, VstarError
from ..sources.prompts import PromptedSample, prompted_samples
from ..sources.sample import target_labels
from ..sources.storage import VideoStore
from ..sources.templates import TemplateIndex
from ..video.time_instruction import MODES as TIME_MODES, time_instruction, with_time_instruction

# Knobs that change speed, not rows: excluded from the run signature so a resumed run may change them.
PERFORMANCE_KNOBS = frozenset({"batch_size", "decode_workers", "device", "progress", "num_shards",
                               "shard_index", "torch_threads", "videos_cache"})


@dataclass
class GenerationConfig:
    """Everything that decides which rows a generation run writes."""

    adapter: str
    annotations: str
    videos: str | None = None
    split: str | None = None
    limit: int | None = None
    adapter_options: dict[str, Any] = field(default_factory=dict)
    templates: list[str] = field(default_factory=list)
    backend: str = "template"
    model: str | None = None
    backend_options: dict[str, Any] = field(default_factory=dict)
    num_frames: int = 8
    frame_size: int | None = 336
    time_instruction: str = "auto"       # auto | always | never (video/time_instruction.py)
    max_new_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0
    cycle: int = 0
    profile: str = "default"
    judge: dict[str, Any] | None = None     # verifier.judge: {backend, model, when, options} (verify/judge.py)
    constraints: str = "enforce"            # verifier.constraints: enforce | measure (constraint labels)
    rationalize: bool = True
    chunk_size: int = 8
    batch_size: int = 8
    decode_workers: int = 2
    device: str | None = None
    num_shards: int = 1
    shard_index: int = 0
    progress: bool = True
    torch_threads: int | None = None     # CPU: torch intra-op threads (None: the cores decoding leaves)
    videos_cache: dict[str, Any] | None = None   # {dir, max_gb}: where clips from a video URL are kept

    def __post_init__(self) -> None:
        problems = []
        if self.num_frames < 1:
            problems.append(f"num_frames must be >= 1, got {self.num_frames}")
        if self.batch_size < 1 or self.chunk_size < 1:
            problems.append("batch_size and chunk_size must be >= 1")
        if not 0 <= self.shard_index < max(self.num_shards, 1):
            problems.append(f"shard_index {self.shard_index} is not in [0, num_shards={self.num_shards})")
        unknown = _unknown_backend(self.backend)
        if unknown:
            problems.append(unknown)
        elif self.backend != "template" and not self.model and not _backend_attr(self.backend, "model_optional"):
            problems.append(f"backend {self.backend!r} needs --model (a local directory or a Hub id)")
        if self.temperature < 0:
            problems.append("temperature must be >= 0")
        if self.time_instruction not in TIME_MODES:
            problems.append(f"time_instruction must be one of {', '.join(TIME_MODES)}, "
                            f"got {self.time_instruction!r}")
        if self.constraints not in ("enforce", "measure"):
            problems.append(f"constraints must be enforce or measure, got {self.constraints!r}")
        if self.judge is not None:
            from ..verify.judge import Judge

            try:
                Judge.from_config(self.judge)
            except ConfigError as exc:
                problems.append(str(exc))
        if problems:
            raise ConfigError("invalid generation settings", problems=problems)

    def signature(self) -> str:
        """Hash of the settings that decide the rows (performance knobs excluded)."""
        data = {k: v for k, v in asdict(self).items() if k not in PERFORMANCE_KNOBS}
        if data.get("judge") is None:
            data.pop("judge", None)            # runs without a judge keep their signature
        if data.get("constraints") == "enforce":
            data.pop("constraints")            # as do runs that enforce constraints (the default)
        speed_only = _backend_performance_options(self.backend)
        data["backend_options"] = {k: v for k, v in self.backend_options.items() if k not in speed_only}
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_run_config(cls, rc: RunConfig, source: SourceConfig, *, model: str | None, cycle: int,
                        rationalize: bool, progress: bool = False, num_shards: int = 1,
                        shard_index: int = 0) -> "GenerationConfig":
        """The one way from a run config's sections (backend, frames, templates, verifier, seed,
        reproducibility) and one of its sources to a generation run. `vstar-data build` and the
        CLI's `generate` / `eval` (config.cli_run_config) both come through here, so the same
        settings give the same signature whichever way they were written down."""
        b = rc.backend
        return cls(
            adapter=source.adapter, annotations=source.annotations, videos=source.videos, split=source.split,
            limit=source.limit, adapter_options=dict(source.options), templates=list(rc.templates),
            backend=b["name"], model=model, backend_options=dict(b.get("options") or {}),
            num_frames=rc.frames["num_frames"], frame_size=rc.frames.get("size"),
            time_instruction=rc.frames.get("time_instruction", "auto"),
            max_new_tokens=b["max_new_tokens"], temperature=b["temperature"], seed=rc.seed, cycle=cycle,
            profile=rc.profile, judge=rc.judge, constraints=rc.constraints, rationalize=rationalize, chunk_size=b["batch_size"],
            batch_size=b["batch_size"], decode_workers=b["decode_workers"], num_shards=num_shards,
            shard_index=shard_index, progress=progress,
            torch_threads=(rc.reproducibility or {}).get("torch_threads"),
            videos_cache=dict(rc.videos_cache) if rc.videos_cache else None)


def _unknown_backend(name: str) -> str | None:
    """The registry's "unknown backend ... Did you mean ...? Available: ..." message when `name` is
    not a registered backend (checked before "needs --model", which would mislead for a typo)."""
    from ..registry import BACKENDS

    if name in BACKENDS:
        return None
    try:
        BACKENDS.get(name)
    except ConfigError as exc:
        return str(exc)
    return None


def _backend_attr(name: str, attr: str) -> Any:
    """A class attribute of a registered backend (None when the backend is unknown: it fails
    later with its own clear error)."""
    from ..registry import BACKENDS

    try:
        return getattr(BACKENDS.get(name), attr, None)
    except Exception:
        return None


def _backend_performance_options(name: str) -> frozenset[str]:
    """Backend options that change speed, not answers (e.g. the openai backend's concurrency)."""
    from ..registry import BACKENDS

    try:
        return frozenset(getattr(BACKENDS.get(name), "performance_options", ()))
    except Exception:  # an unknown backend fails later, with its own clear error
        return frozenset()


@dataclass
class Prepared:
    """The run's inputs, resolved once: samples in a fixed order (a list, or `SpilledSamples`:
    on disk, read back by block) and the template index."""

    samples: Sequence[PromptedSample]
    templates: TemplateIndex
    adapter_stats: AdapterStats
    adapter_skips: list[SkipRecord]
    # Filled by Engine.plan (content-keyed resume): id -> content digest, the model's
    # fingerprint, and the ids whose earlier rows were retired as stale.
    digests: dict[str, str] = field(default_factory=dict)
    model_fingerprint: dict[str, Any] = field(default_factory=dict)
    redone: set[str] = field(default_factory=set)
    # category label name -> every class of the source (`Adapter.label_vocabulary`): the verifier
    # knows the rival classes, as evaluation does
    vocabulary: dict[str, list[str]] = field(default_factory=dict)


def prepare(cfg: GenerationConfig) -> Prepared:
    """Read annotations, choose questions; the order is deterministic (adapter order)."""
    cls = load_adapter(cfg.adapter)
    adapter = cls(cfg.annotations, cfg.videos, split=cfg.split, limit=cfg.limit,
                  options=cfg.adapter_options)
    from .spill import SpilledSamples

    templates = TemplateIndex(cfg.templates)
    samples = SpilledSamples(prompted_samples(adapter, templates, cfg.seed))
    check_inputs(adapter.stats, cfg)
    return Prepared(samples, templates, adapter.stats, adapter.skips, vocabulary=adapter.label_vocabulary() or {})


def check_inputs(stats: AdapterStats, cfg: GenerationConfig) -> None:
    """Zero work because the inputs were not found is an error, never an empty success: a split
    with no samples names the splits present; no video found names the folder and a path looked for."""
    if cfg.split is not None and not stats.splits.get(cfg.split):
        present = ", ".join(f"{k} ({v})" for k, v in sorted(stats.splits.items())) or "none"
        raise AnnotationError(f"split {cfg.split!r} has no samples; splits present: {present}",
                              file=cfg.annotations)
    if cfg.videos is not None and stats.found == 0 and stats.missing > 0:
        raise AnnotationError(f"none of the {stats.annotated} annotated videos was found under the video "
                              f"folder {cfg.videos} (looked for e.g. {stats.missing_example}); check --videos",
                              file=cfg.videos)


def chunks_of(n: int, size: int, num_shards: int = 1, shard_index: int = 0) -> list[range]:
    """Sample index ranges per chunk; chunk k belongs to shard k % num_shards."""
    out = [range(i, min(i + size, n)) for i in range(0, n, size)]
    return [r for k, r in enumerate(out) if k % num_shards == shard_index]


def skip_row(ps: PromptedSample | None, skip: SkipRecord, cfg: GenerationConfig) -> dict[str, Any]:
    """A skipped sample as a row: its id, where and why, so nothing disappears silently."""
    row = skip.to_dict()
    if ps is not None:
        row.update(id=ps.sample.id, source=ps.sample.source, video=ps.sample.video)
    row["cycle"] = cfg.cycle
    return row


class ChunkProcessor:
    """Runs the model stages over chunks: frames (given), generate, verify, rationalize, verify."""

    def __init__(self, cfg: GenerationConfig, templates: TemplateIndex, backend: Any,
                 verifier: Any) -> None:
        self.cfg = cfg
        self.templates = templates
        self.backend = backend
        self.verifier = verifier

    def take_events(self) -> dict[str, int]:
        """The backend's events since the last call (failovers, ...; {} for backends without)."""
        take = getattr(self.backend, "take_events", None)
        return dict(take()) if take is not None else {}

    def _generate(self, requests: list[Any]) -> list[str | BaseException]:
        """Batched generation in slices of batch_size; a failing batch is retried item by item
        so one bad request costs one row, not the batch. A VstarError (SetupError: a refused
        request, a server that is down) is about the setup, not a clip: it stops the run."""
        out: list[str | BaseException] = []
        bs = self.cfg.batch_size
        for i in range(0, len(requests), bs):
            part = requests[i:i + bs]
            try:
                out.extend(self.backend.generate(part))
            except (KeyboardInterrupt, VstarError):   # a setup error stops the run, not one row
                raise
            except Exception:
                for req in part:
                    try:
                        out.extend(self.backend.generate([req]))
                    except (KeyboardInterrupt, VstarError):
                        raise
                    except Exception as exc:  # recorded as a skip row with its reason
                        out.append(exc)
        return out

    def process(self, items: list[tuple[PromptedSample, Any]]) -> tuple[list[dict], list[dict]]:
        """`items` are (sample, Frames or SkipRecord). Returns (attempt rows, skip rows)."""
        from ..backends.base import Request

        cfg = self.cfg
        rows: list[dict] = []
        skips: list[dict] = []
        live: list[tuple[PromptedSample, Any, float]] = []
        for ps, frames in items:
            if isinstance(frames, SkipRecord):
                skips.append(skip_row(ps, frames, cfg))
            else:
                live.append((ps, frames[0], frames[1]))
        if not live:
            return rows, skips

        def requests(prompts: list[str], which: list[int], origin: str) -> list[Any]:
            return [Request(frames=live[i][1], prompt=p, sample_id=live[i][0].sample.id,
                            labels=live[i][0].sample.labels, task=live[i][0].sample.task,
                            metadata={"origin": origin})
                    for i, p in zip(which, prompts)]

        tpl = [self.templates.get(ps.sample.task) for ps, _, _ in live]
        told = [self.time_text(ps, frames) for ps, frames, _ in live]
        gen_prompts = [with_time_instruction(told[i], t.generation_prompt(ps.question))
                       for i, (t, (ps, _, _)) in enumerate(zip(tpl, live))]
        t0 = time.perf_counter()
        answers = self._generate(requests(gen_prompts, list(range(len(live))), "generated"))
        gen_time = (time.perf_counter() - t0) / len(live)

        prepare = getattr(self.verifier, "prepare", None)
        if prepare is not None:       # label types that batch (text embeddings) see the whole chunk first
            prepare((ps.sample.labels, a) for (ps, _, _), a in zip(live, answers) if isinstance(a, str))
        failed: list[int] = []
        for i, ((ps, frames, decode_s), prompt, answer) in enumerate(zip(live, gen_prompts, answers)):
            if isinstance(answer, BaseException):
                skips.append(skip_row(ps, _as_skip(answer, "generation_failed"), cfg))
                continue
            row = self._row(ps, frames, prompt, answer, "generated", 0,
                            {"decode_s": round(decode_s, 4), "generate_s": round(gen_time, 4)}, told[i])
            rows.append(row)
            if not row["accepted"] and cfg.rationalize:
                failed.append(i)

        if failed:
            hint_prompts = [with_time_instruction(told[i], tpl[i].rationalization_prompt(
                live[i][0].question, live[i][0].sample.labels)) for i in failed]
            t0 = time.perf_counter()
            answers = self._generate(requests(hint_prompts, failed, "rationalized"))
            gen_time = (time.perf_counter() - t0) / len(failed)
            for i, prompt, answer in zip(failed, hint_prompts, answers):
                ps, frames, _ = live[i]
                if isinstance(answer, BaseException):
                    skips.append(skip_row(ps, _as_skip(answer, "rationalization_failed"), cfg))
                    continue
                rows.append(self._row(ps, frames, prompt, answer, "rationalized", 1,
                                      {"generate_s": round(gen_time, 4)}, told[i]))
        return rows, skips

    def time_text(self, ps: PromptedSample, frames: Any) -> str | None:
        """The time instruction this sample's prompt opens with, or None: `always` for every clip
        with frames; `auto` when a label is answered in seconds (interval, timestamp: the label
        type's `in_seconds`) and the backend does not give the model the frames' times itself."""
        mode = self.cfg.time_instruction
        if mode == "never" or frames is None or not len(getattr(frames, "timestamps", ()) or ()):
            return None
        if mode == "auto":
            from ..registry import LABEL_TYPES

            if getattr(self.backend, "reads_frame_times", False) or not any(
                    getattr(LABEL_TYPES.get(spec["type"]), "in_seconds", False) for spec in ps.sample.labels):
                return None
        return time_instruction(frames)

    def _row(self, ps: PromptedSample, frames: Any, prompt: str, answer: str, origin: str,
             attempt: int, timing: dict[str, float], told: str | None = None) -> dict[str, Any]:
        t0 = time.perf_counter()
        verdict = self.verifier.verify(ps.sample.labels, answer, origin=origin).to_dict()
        judged = {"verifier_judge": verdict["judge"]} if "judge" in verdict else {}
        if verdict.get("ambiguous"):
            judged["verifier_ambiguous"] = True
        if not verdict["accepted"] and self.verifier.vocabulary and \
                self.verifier.verify(ps.sample.labels, answer, origin=origin,
                                     vocabulary=_without_targets(self.verifier.vocabulary, ps.sample.labels)).accepted:
            judged["verifier_vocabulary_reject"] = True      # only the source's class list rejects it
        timing = {**timing, "verify_s": round(time.perf_counter() - t0, 6)}
        row = ps.to_dict()
        row.pop("context", None)
        row.update(clip_start=ps.sample.clip_start, clip_end=ps.sample.clip_end, prompt=prompt,
                   answer=answer, origin=origin, attempt=attempt, accepted=bool(verdict["accepted"]),
                   reject_reason=verdict.get("reason"), verifier_profile=verdict["profile"],
                   verifier_scores=verdict["scores"], model=self.backend.model_name,
                   model_revision=getattr(self.backend, "model_revision", None), cycle=self.cfg.cycle,
                   frame_indices=list(frames.indices), frame_timestamps=[round(t, 4) for t in frames.timestamps],
                   timing=timing, **judged)
        if told:   # what the user turn opened with; published rows and the trainer repeat it
            row["time_instruction"] = told
        return row


def _without_targets(vocabulary: Any, labels: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The source's classes with the target labels' taken out: what the verifier would decide if
    only the targets' vocabulary were unknown (constraints still need theirs to find a rival)."""
    if not isinstance(vocabulary, dict):
        return {}
    targets = {spec.get("name") for spec in target_labels(labels)}
    return {k: v for k, v in vocabulary.items() if k not in targets}


def make_verifier(cfg: GenerationConfig, vocabulary: dict[str, list[str]] | None = None) -> Any:
    """The run's Verifier: its profile, the source's class `vocabulary` (`Prepared.vocabulary`:
    another class of the source named as strongly as the label is a rival) and, when configured,
    its judge (built lazily)."""
    from ..verify.judge import Judge
    from ..verify.verifier import Verifier

    return Verifier(cfg.profile, vocabulary=vocabulary or None, judge=Judge.from_config(cfg.judge),
                    enforce_constraints=cfg.constraints != "measure")


def make_backend(cfg: GenerationConfig, prepared: Prepared) -> Any:
    """The configured backend, loaded once (a broken model setup fails here, not per sample);
    every engine builds its backend(s) this way, the Ray engine once per actor."""
    from ..registry import BACKENDS

    options = dict(cfg.backend_options)
    if cfg.backend == "template":
        options.setdefault("templates", prepared.templates)
    backend = BACKENDS.get(cfg.backend)(model=cfg.model, batch_size=cfg.batch_size,
                                        max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature,
                                        seed=cfg.seed, device=cfg.device, **options)
    backend.load()
    return backend


def _as_skip(exc: BaseException, reason: str) -> SkipRecord:
    """A backend's per-request failure as a skip: keep its own reason when it has one."""
    if isinstance(exc, SkipRecord):
        return exc
    return SkipRecord(reason, f"{type(exc).__name__}: {exc}")


def decode_one(ps: PromptedSample, cfg: GenerationConfig,
               uses_frames: bool = True) -> tuple[Any, float] | SkipRecord:
    """Frames for one sample (timed), or the SkipRecord saying why not. A backend that does not
    look at frames (the template baseline) gets none, but the clip is still probed (opens, has a
    video stream, the window lies in it, one frame decodes) with the decoding path's skip reasons:
    no backend writes a row for a clip nobody can open."""
    from ..video.check import check_clip
    from ..video.frames import Frames, sample_frames

    if cfg.videos is None:
        return SkipRecord("no_video_dir", "generation needs --videos", sample_id=ps.sample.id)
    t0 = time.perf_counter()
    store = VideoStore(cfg.videos)
    try:
        path = store.local_path(ps.sample.video, cfg.videos_cache)   # a URL's clip: via the local cache
        if not uses_frames:
            import numpy as np

            check_clip(path, ps.sample.clip_start, ps.sample.clip_end)
            return Frames(np.zeros((0, 1, 1, 3), np.uint8), [], [], 0.0, 0.0, 0), time.perf_counter() - t0
        frames = sample_frames(path, cfg.num_frames,
                               start=ps.sample.clip_start, end=ps.sample.clip_end, size=cfg.frame_size)
    except SkipRecord as skip:
        skip.sample_id = ps.sample.id
        if store.remote:
            skip.file = store.location(ps.sample.video)   # name the object, not its cache copy
        return skip
    except Exception as exc:  # never let one odd file stop a long run
        return SkipRecord("video_unreadable", f"{type(exc).__name__}: {exc}",
                          file=store.location(ps.sample.video), sample_id=ps.sample.id)
    return frames, time.perf_counter() - t0


def render_dry_run(prepared: Prepared, n: int = 3) -> Iterable[str]:
    """The first rendered prompts (generation and rationalization), for --dry-run."""
    for ps in prepared.samples[:n]:
        tpl = prepared.templates.get(ps.sample.task)
        yield (f"# {ps.sample.id} ({ps.question.template_id}) video={ps.sample.video}\n"
               f"[generation]\n{tpl.generation_prompt(ps.question)}\n"
               f"[rationalization]\n{tpl.rationalization_prompt(ps.question, ps.sample.labels)}\n")


ProgressFn = Callable[[int, int, int], None]
