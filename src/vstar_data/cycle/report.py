"""`vstar-data report RUN_DIR`: one static, self-contained HTML page a person reads instead of
stats.json.

It shows the yield per cycle (direct / rationalized / rejected / skipped) and held-out accuracy as
plots, per-label-type tables (whatever metrics the run's evaluation wrote), a sample of accepted,
rationalized and rejected rows per cycle with a contact sheet of the frames the model saw
(re-sampled from the row's provenance: video, window, frame count), the answer with the
verifier's matched spans marked, the rejection reason, the hint-echo rejections, the run config
and the store's tags. Images are PNG `data:` URIs; there is no script, stylesheet link or font to
fetch, so the file opens anywhere, offline. The page is rendered by the Jinja template
`report.html.j2` shipped beside this module.
"""
from __future__ import annotations

import json
import logging
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Callable

import yaml

from ..sources.storage import is_url
from ..errors import VstarError, output_problem
from ._report_plots import accuracy_of, png_uri, accuracy_plot, hallucination_plot, yield_plot
from .report_hallucination import hallucination_view
from .layout import RunLayout

log = logging.getLogger(__name__)
TEMPLATE = "report.html.j2"
KINDS = (("direct", "accepted, answered directly"), ("rationalized", "accepted after label rationalization"),
         ("rejected", "rejected"))


@dataclass
class ReportSummary:
    """What the report holds, for the command's closing summary."""

    path: Path
    cycles: int
    rows_shown: int
    hint_echo: int
    frames_missing: list[str] = field(default_factory=list)  # "row id: reason"
    size_bytes: int = 0


# -- tables ------------------------------------------------------------------------------------
def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, (int, float, str)) or value is None:
        out[prefix] = value


def label_type_tables(stats: list[dict[str, Any]], attempts: dict[int, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One table per label type: per cycle, the share of that type's labels each origin passed
    during generation, then every held-out metric the evaluation wrote for it (names as written,
    values formatted as the label type declares: percent, number or count)."""
    types: list[str] = []
    gen: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for cycle, rows in sorted(attempts.items()):
        count: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for row in rows:
            for score in row.get("verifier_scores") or []:
                c = count[(score.get("type", "?"), row.get("origin", "generated"))]
                c[0] += bool(score.get("passed"))
                c[1] += 1
        for (t, origin), (passed, n) in count.items():
            gen[t].setdefault(cycle, {})[f"generation: {origin} passed"] = f"{passed}/{n}"
    evals: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for s in stats:
        ev = s.get("eval") or {}
        for t, v in ev.items():
            if isinstance(v, dict):
                flat: dict[str, Any] = {}
                _flatten("", v, flat)
                fmt = _metric_formats(t) if t != "by_source" else {}
                evals[t][s["cycle"]] = {f"held-out: {k}": fmt[k](x) if k in fmt else x for k, x in flat.items()}
    for t in list(gen) + list(evals):
        if t not in types:
            types.append(t)
    tables = []
    for t in sorted(types):
        cycles = sorted(set(gen[t]) | set(evals[t]))
        columns: list[str] = []
        for c in cycles:
            for k in list(gen[t].get(c, {})) + list(evals[t].get(c, {})):
                if k not in columns:
                    columns.append(k)
        rows = [[str(c)] + [_fmt(({**gen[t].get(c, {}), **evals[t].get(c, {})}).get(k)) for k in columns]
                for c in cycles]
        tables.append({"type": t, "columns": ["cycle"] + columns, "rows": rows})
    return tables


def _metric_formats(type_name: str) -> dict[str, Callable[[Any], str]]:
    """metric name -> formatter (percent, number, count) as the registered label type declares its
    metrics; {} for a type not installed here (its values are shown as written)."""
    from ..registry import LABEL_TYPES

    try:
        metrics = LABEL_TYPES.get(type_name).metrics
    except VstarError:
        return {}
    return {m.name: m.format_value for m in metrics}


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


# -- rows --------------------------------------------------------------------------------------
def highlight(answer: str, scores: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answer as segments: plain text, and the verifier's spans (passed or failed) marked."""
    spans = []
    for s in scores or []:
        span = s.get("span")
        if isinstance(span, (list, tuple)) and len(span) == 2 and 0 <= span[0] < span[1] <= len(answer):
            spans.append((int(span[0]), int(span[1]), bool(s.get("passed")),
                          f"{s.get('name')} ({s.get('type')}): {'passed' if s.get('passed') else s.get('reason') or 'failed'}"))
    spans.sort()
    segments: list[dict[str, Any]] = []
    pos = 0
    for a, b, ok, title in spans:
        if a < pos:  # overlapping spans: the first one wins
            continue
        if a > pos:
            segments.append({"text": answer[pos:a], "mark": None})
        segments.append({"text": answer[a:b], "mark": "ok" if ok else "bad", "title": title})
        pos = b
    if pos < len(answer):
        segments.append({"text": answer[pos:], "mark": None})
    return segments


def _echo_segments(answer: str) -> list[dict[str, Any]]:
    from ..verify.verifier import is_hint_echo

    found, phrase = is_hint_echo(answer)
    if not found or not phrase:
        return [{"text": answer, "mark": None}]
    a = answer.find(phrase)
    return ([{"text": answer[:a], "mark": None}, {"text": phrase, "mark": "bad", "title": "hint echo"},
             {"text": answer[a + len(phrase):], "mark": None}])


class _Frames:
    """Re-samples the frames of a row from its provenance (video, window, frame count)."""

    def __init__(self, num_frames: int, size: Any, thumb: int) -> None:
        self.num_frames, self.size, self.thumb = num_frames, size, thumb
        self.missing: list[str] = []

    def sheet(self, row: dict[str, Any], videos: Path | str | None) -> tuple[str | None, str | None]:
        from ..errors import SkipRecord
        from ..video.frames import sample_frames
        from ..video.sheet import contact_sheet

        if videos is None:
            return self._miss(row, "the source's video folder is unknown")
        if isinstance(videos, str):   # a video URL: the clip's cached copy (VideoStore keeps it under the URL)
            from ..errors import UnsafePathError
            from ..sources.storage import VideoStore

            try:
                path = VideoStore(videos).local_path(str(row.get("video", "")))
            except UnsafePathError:
                return self._miss(row, "video path leaves the source's video folder")
            except Exception as exc:   # unreachable server, gone object: a note, never a failed report
                return self._miss(row, f"{type(exc).__name__}: {exc}")
            videos = path.parent
        else:
            path = videos / str(row.get("video", ""))
        try:
            path.resolve().relative_to(videos.resolve())
        except ValueError:
            return self._miss(row, "video path leaves the source's video folder")
        n = len(row.get("frame_indices") or []) or self.num_frames
        try:
            fr = sample_frames(path, n, start=row.get("clip_start"), end=row.get("clip_end"), size=self.size)
        except SkipRecord as exc:
            return self._miss(row, f"{exc.reason}: {path}")
        except Exception as exc:  # a report never fails on one odd clip
            return self._miss(row, f"{type(exc).__name__}: {exc}")
        note = None
        if row.get("frame_indices") and list(fr.indices) != list(row["frame_indices"]):
            note = "re-sampled frames differ from the recorded ones (the video changed?)"
        captions = [f"#{i} {t:.2f}s" for i, t in zip(fr.indices, fr.timestamps)]
        return png_uri(contact_sheet(fr.array, captions, thumb_width=self.thumb, min_width=min(96, self.thumb))), note

    def _miss(self, row: dict[str, Any], why: str) -> tuple[None, str]:
        self.missing.append(f"{row.get('id')}: {why}")
        return None, why


def _outcomes(pairs: list[tuple[str, dict[str, Any]]]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Each sample once, by its outcome: answered directly, accepted after rationalization, or
    rejected (shown by its last attempt, the rationalized one when there was one)."""
    def rank(r: dict[str, Any]) -> tuple[bool, bool, int]:
        accepted = bool(r.get("accepted"))
        return accepted and r.get("origin") != "rationalized", accepted, int(r.get("attempt") or 0)

    last: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for sub, r in pairs:
        key = (sub, str(r.get("id")))
        if key not in last or rank(r) > rank(last[key][1]):
            last[key] = (sub, r)
    out: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for sub, r in last.values():
        kind = ("rejected" if not r.get("accepted") else
                "rationalized" if r.get("origin") == "rationalized" else "direct")
        out[kind].append((sub, r))
    return out


def _row_view(row: dict[str, Any], frames: _Frames, videos: Path | str | None, *, echo: bool = False) -> dict[str, Any]:
    answer = str(row.get("answer") or "")
    sheet, note = frames.sheet(row, videos)
    return {"id": row.get("id"), "source": row.get("source"), "origin": row.get("origin"),
            "accepted": bool(row.get("accepted")), "reason": row.get("reject_reason"),
            "question": row.get("question"), "prompt": row.get("prompt"),
            "segments": _echo_segments(answer) if echo else highlight(answer, row.get("verifier_scores") or []),
            "labels": ", ".join(f"{l.get('name')}={_label_value(l)}" for l in row.get("labels") or []),
            "scores": [{"name": s.get("name"), "type": s.get("type"), "passed": s.get("passed"),
                        "matched": s.get("matched"), "reason": s.get("reason")}
                       for s in row.get("verifier_scores") or []],
            "sheet": sheet, "frames_note": note, "video": row.get("video")}


def _label_value(spec: dict[str, Any]) -> str:
    if "value" in spec:
        v = spec["value"]
        return ", ".join(map(str, v)) if isinstance(v, list) else str(v)
    if "start" in spec:
        return f"{spec['start']}-{spec.get('end')} s"
    return "?"


# -- the run -----------------------------------------------------------------------------------
def _read_run(run_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    layout = RunLayout(run_dir)
    stats_path = layout.stats
    if not stats_path.is_file():
        raise VstarError("no stats.json here: not a finished cycle of `vstar-data build` / `demo`", file=run_dir)
    try:
        stats = json.loads(stats_path.read_text("utf-8"))
    except ValueError as exc:
        raise VstarError(f"stats.json is not valid JSON: {exc}", file=stats_path) from exc
    if isinstance(stats, dict):   # {"cycles": [...], "final": {...}} (dataset/stats.write_stats)
        stats = stats.get("cycles")
    if not isinstance(stats, list) or not all(isinstance(s, dict) and "cycle" in s for s in stats):
        raise VstarError("stats.json must be a list of per-cycle objects with a `cycle`", file=stats_path)
    problems = [p for i, s in enumerate(stats) for p in _entry_problems(i, s)]
    if problems:
        raise VstarError("stats.json has values of the wrong type (it was edited, or written by another "
                         "tool):\n" + "\n".join(f"  - {p}" for p in problems), file=stats_path)
    config_text = layout.run_yaml.read_text("utf-8") if layout.run_yaml.is_file() else ""
    try:
        config = (yaml.safe_load(config_text) or {}) if config_text else {}
    except yaml.YAMLError as exc:
        raise VstarError(f"not valid YAML: {' '.join(str(exc).split())}", file=layout.run_yaml) from None
    if not isinstance(config, dict):
        raise VstarError(f"run.yaml must be a mapping, got {type(config).__name__}", file=layout.run_yaml)
    return stats, config, config_text


_COUNTS = ("cycle", "samples", "generated", "rationalized", "rejected", "skipped")


def _entry_problems(index: int, entry: dict[str, Any]) -> list[str]:
    """What in one per-cycle entry the report cannot read: the counts must be whole numbers, the
    evaluations objects, the loss and seconds numbers (each may be absent or null but `cycle`)."""
    where = f"cycle entry {index}"

    def kind(v: Any) -> str:
        return f"{v!r} ({type(v).__name__})"

    out = []
    for key in _COUNTS:
        v = entry.get(key)
        if (v is None and key != "cycle") or (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
            continue
        out.append(f"{where}, `{key}`: must be a whole number >= 0, got {kind(v)}")
    for key in ("eval", "eval_generator", "skipped_by_reason", "reproducibility"):
        v = entry.get(key)
        if v is not None and not isinstance(v, dict):
            out.append(f"{where}, `{key}`: must be an object, got {kind(v)}")
    reasons = entry.get("skipped_by_reason")
    if isinstance(reasons, dict):
        out += [f"{where}, `skipped_by_reason.{k}`: must be a whole number, got {kind(v)}"
                for k, v in reasons.items() if not isinstance(v, int) or isinstance(v, bool)]
    for key in ("train_loss", "seconds"):
        v = entry.get(key)
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)):
            out.append(f"{where}, `{key}`: must be a number, got {kind(v)}")
    return out


def _video_roots(run_dir: Path, config: dict[str, Any], stage: str) -> dict[str, Path | str | None]:
    """Generation subfolder name (NN-adapter) -> that source's video folder (a URL stays a str)."""
    recorded = RunLayout(run_dir).sources_json
    if recorded.is_file():
        try:
            data = json.loads(recorded.read_text("utf-8"))
        except ValueError as exc:
            raise VstarError(f"not valid JSON: {exc}", file=recorded) from None
        folders = (data.get(stage) or {}) if isinstance(data, dict) else None
        if not isinstance(folders, dict) or not all(isinstance(v, str) or v is None for v in folders.values()):
            raise VstarError(f"must map `generate` and `eval` to {{subfolder: video folder}}; `{stage}` does not",
                             file=recorded)
        return {d: (v if is_url(v) else Path(v) if v else None) for d, v in folders.items()}
    out: dict[str, Path | str | None] = {}  # older runs: run.yaml paths, relative ones from the run's parent
    for i, src in enumerate(config.get("sources" if stage == "generate" else "eval") or []):
        videos = src.get("videos")
        if is_url(videos):
            out[RunLayout.source_dir(Path(), i, str(src.get("adapter"))).name] = videos
            continue
        p = Path(videos) if videos else None
        if p is not None and not p.is_absolute():
            p = run_dir.parent / p
        out[RunLayout.source_dir(Path(), i, str(src.get("adapter"))).name] = p
    return out


def _attempts_by_source(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    if not folder.is_dir():
        return out
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        rows, _ = RunLayout.read_rows(sub)
        out += [(sub.name, r) for r in rows]
    return out


def _store_tags(config: dict[str, Any], run_dir: Path) -> tuple[str | None, list[dict[str, Any]], str | None]:
    from ..dataset.store import revisions

    path = (config.get("store") or {}).get("path") or str(run_dir / "vstar-1m")
    p = Path(path) if Path(path).is_absolute() else run_dir.parent / path
    if not p.exists():
        return str(p), [], "the store does not exist (no cycle accepted rows yet?)"
    try:
        revs = revisions(p)
    except VstarError as exc:
        return str(p), [], str(exc)
    return str(p), [{"tag": r.tag, "date": r.date, "commit": r.commit[:12], "message": r.message,
                     "rows": ", ".join(f"{c}={sum(s.values()):,}" for c, s in r.counts.items())} for r in revs], None


def build_report(run_dir: str | Path, out: str | Path | None = None, *, per_kind: int = 4,
                 max_echo: int = 12, seed: int = 0, thumb: int = 160) -> ReportSummary:
    """Write the report of a run directory (default RUN_DIR/report.html) and say what it holds."""
    from jinja2 import Environment, StrictUndefined

    run_dir = Path(run_dir)
    stats, config, config_text = _read_run(run_dir)
    layout = RunLayout(run_dir)
    out = Path(out) if out else layout.report
    problem = output_problem(out)
    if problem:
        raise VstarError(f"--out {problem}: name a new or regular .html file", file=out)
    frames_cfg = config.get("frames") or {}
    frames = _Frames(int(frames_cfg.get("num_frames") or 8), frames_cfg.get("size"), thumb)
    roots = _video_roots(run_dir, config, "generate")
    attempts: dict[int, list[dict[str, Any]]] = {}
    cycles, echoes = [], []
    shown = 0
    for s in stats:
        c = int(s["cycle"])
        pairs = _attempts_by_source(layout.generate_dir(layout.cycle(c)))
        attempts[c] = [r for _, r in pairs]
        by_kind = _outcomes(pairs)
        groups = []
        rng = random.Random(f"{seed}/{c}")
        for kind, title in KINDS:
            pool = sorted(by_kind[kind], key=lambda p: (p[0], str(p[1].get("id")), p[1].get("attempt", 0)))
            pick = sorted(rng.sample(range(len(pool)), min(per_kind, len(pool))))
            views = [_row_view(pool[i][1], frames, roots.get(pool[i][0])) for i in pick]
            shown += len(views)
            groups.append({"kind": kind, "title": title, "total": len(pool), "rows": views})
        reasons = Counter(str(r.get("reject_reason")) for _, r in pairs if not r.get("accepted"))
        for sub, r in pairs:
            if r.get("reject_reason") == "hint_echo" and len(echoes) < max_echo:
                echoes.append({"cycle": c, **_row_view(r, frames, roots.get(sub), echo=True)})
        cycles.append({"cycle": c, "groups": groups, "reasons": sorted(reasons.items()),
                       "skipped_by_reason": sorted((s.get("skipped_by_reason") or {}).items()),
                       "entry": {k: _fmt(s.get(k)) for k in ("samples", "generated", "rationalized", "rejected",
                                                           "skipped", "train_loss", "checkpoint", "seconds")}})
    n_echo = sum(1 for rows in attempts.values() for r in rows if r.get("reject_reason") == "hint_echo")
    store_path, tags, store_note = _store_tags(config, run_dir)
    summary_rows = [{"cycle": s["cycle"], "samples": s.get("samples", 0), "direct": s.get("generated", 0),
                     "rationalized": s.get("rationalized", 0), "rejected": s.get("rejected", 0),
                     "skipped": s.get("skipped", 0), "acc_before": _pct(accuracy_of(s.get("eval_generator"))),
                     "acc_after": _pct(accuracy_of(s.get("eval")))} for s in stats]
    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(files("vstar_data.cycle").joinpath(TEMPLATE).read_text("utf-8"))
    html = template.render(
        title=f"vstar-data run report: {run_dir.name}", run_dir=str(run_dir.resolve()), summary=summary_rows,
        yield_plot=yield_plot(stats), accuracy_plot=accuracy_plot(stats),
        tables=label_type_tables(stats, attempts), cycles=cycles, echoes=echoes, n_echo=n_echo,
        config_text=config_text or "(run.yaml is missing)", store_path=store_path, tags=tags,
        store_note=store_note, frames_missing=frames.missing, determinism=_determinism(stats),
        hallucination=hallucination_view(stats, highlight), hallucination_plot=hallucination_plot(stats))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(html, "utf-8")
    tmp.replace(out)
    return ReportSummary(out, len(stats), shown, n_echo, frames.missing, out.stat().st_size)


def _pct(a: float | None) -> str:
    return "-" if a is None else f"{a:.1%}"


def _determinism(stats: list[dict[str, Any]]) -> str | None:
    for s in stats:
        d = s.get("reproducibility")
        if isinstance(d, dict):
            return ", ".join(f"{k}={v}" for k, v in d.items())
    return None
