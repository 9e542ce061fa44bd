"""CLI: verify answers against their labels and write accept/score fields next to each row."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from . import app
from ._common import console, print_counts, read_vocabulary


@app.command("verify")
def verify_cmd(
    in_jsonl: Path = typer.Argument(..., metavar="IN.jsonl",
                               help="JSONL of answers: each line has `labels`, `answer` and optionally "
                                    "`origin` (generated or rationalized)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output JSONL: every input field plus `accepted`, "
                                                      "`scores` (per label), `verifier_profile`, `reject_reason`."),
    profile: str = typer.Option("default", "--profile", "-p",
                                help="Verifier profile: paper, code, default, or a path to a YAML profile file."),
    explain: bool = typer.Option(False, "--explain",
                                 help="Print, per answer and label, the decision, the span, the reason and, "
                                      "for a rejection, the clause that failed; for a failed interval, "
                                      "number or bbox also the measured IoU or error and the threshold "
                                      "(the label's own, else the profile's)."),
    vocabulary: Path = typer.Option(None, "--vocabulary", metavar="CLASSES.txt",
                                    help="The source's class list (one per line): another class stated as "
                                         "strongly as the label rejects the answer (competing_value)."),
) -> None:
    """Check each answer states every label (category, number, interval, sequence, choice, boolean,
    text, bbox, timestamp: see docs/label-types.md) and, for
    rationalized answers, that it does not merely echo the hint. Prints the accept rate and the
    rejects by reason.

    Example: vstar-data verify answers.jsonl --out verified.jsonl --profile paper
    """
    import time
    from collections import Counter

    from ..errors import AnnotationError, LabelSpecError
    from ..jsonl import atomic_writer, dumps, read_jsonl
    from ..sources.sample import validate_label_specs
    from ..verify.verifier import ORIGINS, Verifier

    t0 = time.perf_counter()
    vocab = read_vocabulary(vocabulary)
    verifier = Verifier(profile, vocabulary=vocab)
    total = accepted = 0
    rejects: Counter[str] = Counter()
    pending: list[tuple[dict, list, str, str, int]] = []

    def flush(fh) -> None:  # type: ignore[no-untyped-def]
        nonlocal total, accepted
        verifier.prepare((labels, answer) for _, labels, answer, _, _ in pending)   # text labels: one batch
        for obj, labels, answer, origin, lineno in pending:
            verdict = verifier.verify(labels, answer, origin)
            obj.update(accepted=verdict.accepted, scores=[r.to_dict() for r in verdict.results],
                       verifier_profile=verdict.profile, reject_reason=verdict.reason)
            fh.write(dumps(obj) + "\n")
            if explain:
                print_explanation(obj.get("id", f"line {lineno}"), answer, verdict, labels, verifier.profile)
            total += 1
            accepted += verdict.accepted
            if not verdict.accepted:
                rejects[verdict.reason or "failed"] += 1
        pending.clear()

    with atomic_writer(out) as fh:
        for lineno, obj in read_jsonl(in_jsonl):
            if "labels" not in obj:
                raise LabelSpecError("line has no `labels`", file=in_jsonl, row=lineno, key="labels")
            labels = validate_label_specs(obj["labels"], file=str(in_jsonl), row=lineno)
            answer = obj.get("answer")
            if not isinstance(answer, str):
                raise AnnotationError("line has no `answer` string" if answer is None else
                                      f"`answer` must be a string, got {type(answer).__name__}",
                                      file=in_jsonl, row=lineno, key="answer")
            try:
                answer.encode("utf-8")
            except UnicodeEncodeError as exc:   # JSON "\ud800": a lone surrogate, no character at all
                raise AnnotationError(f"`answer` holds a lone surrogate ({answer[exc.start]!r} at character "
                                      f"{exc.start}), which is not text: fix the writer of this file",
                                      file=in_jsonl, row=lineno, key="answer") from None
            origin = obj.get("origin") or "generated"
            if origin not in ORIGINS:
                raise AnnotationError(f"`origin` must be one of {', '.join(ORIGINS)}, got {origin!r}",
                                      file=in_jsonl, row=lineno, key="origin")
            pending.append((obj, labels, answer, origin, lineno))
            if len(pending) >= 256:
                flush(fh)
        flush(fh)
    rate = f"{100.0 * accepted / total:.1f}%" if total else "n/a"
    counts = {"answers": total, "accepted": accepted, "accept rate": rate,
              **{f"rejected ({k})": v for k, v in sorted(rejects.items())}}
    print_counts(f"verify ({verifier.profile.name}): {out} in {time.perf_counter() - t0:.1f} s", counts)
    if not total:
        console().print(f"[yellow]{in_jsonl} holds no answers[/yellow]")


def print_explanation(row_id: Any, answer: str, verdict: Any, labels: list[dict[str, Any]] | None = None,
                      profile: Any = None) -> None:
    """One block per answer: per label the decision, the span and matched text, the reason and, for
    a rejection, the clause that failed (and a rival value, if one was stated as strongly), and for
    a failed interval, number or bbox what was measured against which threshold."""
    out = console()
    head = "ACCEPT" if verdict.accepted else f"REJECT ({verdict.reason})"
    out.print(f"{row_id}: {head}", markup=False, highlight=False)
    for r in verdict.results:
        span = f"[{r.span[0]}:{r.span[1]}] {r.matched!r}" if r.span else "-"
        role = ", constraint" if r.extra.get("role") == "constraint" else ""
        line = f"  {r.name} ({r.type}{role}): {'pass' if r.passed else 'fail'}  span {span}  reason {r.reason or '-'}"
        out.print(line, markup=False, highlight=False)
        if not r.passed:
            clause = r.extra.get("clause") or (answer if r.reason in ("not_found", "empty_answer") else r.matched)
            if clause:
                out.print(f"    clause: {clause!r}", markup=False, highlight=False)
            if r.extra.get("rival"):
                out.print(f"    rival: {r.extra['rival']!r}", markup=False, highlight=False)
            spec = next((l for l in labels or () if l.get("name") == r.name), None)
            measured = measured_text(spec, r, profile) if spec is not None and profile is not None else None
            if measured:
                out.print(f"    measured: {measured}", markup=False, highlight=False)
            if r.reason == "contradicts":
                out.print(f"    states {r.extra.get('stated')!r}, the source knows {r.extra.get('expected')!r}",
                          markup=False, highlight=False)
    if verdict.reason == "hint_echo" and verdict.echo:
        out.print(f"  hint echo: {verdict.echo!r}", markup=False, highlight=False)
    if verdict.judge is not None:
        out.print(f"  judge: {verdict.judge.get('verdict')}", markup=False, highlight=False)


def _num(v: float) -> str:
    return f"{v:.4g}"


def measured_text(spec: dict[str, Any], result: Any, profile: Any) -> str | None:
    """What the verifier measured for a failed interval, number or bbox and the threshold it was held
    to (the label's own, else the profile's): "IoU 0.21 < min_iou 0.5 (profile default): stated
    2-5 s, label 12.4-18.9 s". None when nothing was measured (no value stated)."""
    kind, extra = spec.get("type"), result.extra or {}
    if kind in ("interval", "bbox"):
        own = "min_iou" in spec
        threshold = float(spec["min_iou"]) if own else float(profile.min_iou)
        where = "label" if own else f"profile {profile.name}"
        if kind == "interval" and "start" in extra:
            stated = f"stated {_num(extra['start'])}-{_num(extra['end'])} s, label {_num(spec['start'])}-{_num(spec['end'])} s"
        elif kind == "bbox" and "stated" in extra:
            stated = f"stated box {[_num(v) for v in extra['stated']]}, label {[_num(v) for v in spec['box']]}"
        else:
            return None
        op = ">=" if result.score >= threshold - 1e-9 else "<"
        return f"IoU {result.score:.3f} {op} min_iou {_num(threshold)} ({where}): {stated}"
    if kind == "number" and "value" in extra:
        target, value = float(spec["value"]), float(extra["value"])
        rel, ab = spec.get("rel_tol"), spec.get("abs_tol")
        where = "label"
        if rel is None and ab is None:
            rel, ab, where = profile.rel_tol, profile.abs_tol, f"profile {profile.name}"
        allowed = []
        if rel is not None:
            allowed.append(f"{_num(100 * rel)}% of {_num(target)} = {_num(rel * abs(target))}")
        if ab is not None:
            allowed.append(f"{_num(ab)} absolute")
        error = abs(value - target)
        relative = f" ({_num(100 * error / abs(target))}%)" if target else ""
        return (f"stated {_num(value)}, label {_num(target)}: error {_num(error)}{relative}; allowed "
                f"{' or '.join(allowed) or 'none'} ({where})")
    return None
