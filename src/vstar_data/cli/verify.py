"""CLI: verify answers against their labels and write accept/score fields next to each row."""
from __future__ import annotations

from pathlib import Path

import typer

from . import app
from ._common import console, print_counts


@app.command("verify")
def verify_cmd(
    in_jsonl: Path = typer.Argument(..., metavar="IN.jsonl",
                               help="JSONL of answers: each line has `labels`, `answer` and optionally "
                                    "`origin` (generated or rationalized)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output JSONL: every input field plus `accepted`, "
                                                      "`scores` (per label), `verifier_profile`, `reject_reason`."),
    profile: str = typer.Option("default", "--profile", "-p",
                                help="Verifier profile: paper, code, default, or a path to a YAML profile file."),
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
    verifier = Verifier(profile)
    total = accepted = 0
    rejects: Counter[str] = Counter()
    pending: list[tuple[dict, list, str, str]] = []

    def flush(fh) -> None:  # type: ignore[no-untyped-def]
        nonlocal total, accepted
        verifier.prepare((labels, answer) for _, labels, answer, _ in pending)   # text labels: one batch
        for obj, labels, answer, origin in pending:
            verdict = verifier.verify(labels, answer, origin)
            obj.update(accepted=verdict.accepted, scores=[r.to_dict() for r in verdict.results],
                       verifier_profile=verdict.profile, reject_reason=verdict.reason)
            fh.write(dumps(obj) + "\n")
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
            origin = obj.get("origin") or "generated"
            if origin not in ORIGINS:
                raise AnnotationError(f"`origin` must be one of {', '.join(ORIGINS)}, got {origin!r}",
                                      file=in_jsonl, row=lineno, key="origin")
            pending.append((obj, labels, answer, origin))
            if len(pending) >= 256:
                flush(fh)
        flush(fh)
    rate = f"{100.0 * accepted / total:.1f}%" if total else "n/a"
    counts = {"answers": total, "accepted": accepted, "accept rate": rate,
              **{f"rejected ({k})": v for k, v in sorted(rejects.items())}}
    print_counts(f"verify ({verifier.profile.name}): {out} in {time.perf_counter() - t0:.1f} s", counts)
    if not total:
        console().print(f"[yellow]{in_jsonl} holds no answers[/yellow]")
