"""`vstar-data report RUN_A RUN_B`: two runs' curves side by side (e.g. the SFT and the GRPO demo),
one static self-contained HTML page: held-out accuracy and direct-answer yield per cycle of both
runs on shared axes, and a table per cycle (method, accuracy before / after, yield, GRPO reward,
seconds), plus each run's final release. Nothing is recomputed: it reads both stats.json files.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import VstarError, output_problem
from ._report_plots import accuracy_of, png_uri
from .report import _read_run

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td.l{text-align:left}</style>
</head><body><h1>{{ title }}</h1>
{% for r in runs %}<p><b>{{ r.name }}</b>: {{ r.path }} (method {{ r.method }}, {{ r.cycles }} cycles,
{{ r.seconds }} s in cycles)</p>{% endfor %}
<img src="{{ plot }}" alt="held-out accuracy and yield per cycle">
<table><tr><th>cycle</th>{% for r in runs %}<th>{{ r.name }}: acc. before</th><th>acc. after</th><th>direct yield</th>
<th>reward (mean / groups rewarded)</th><th>s</th>{% endfor %}</tr>
{% for row in rows %}<tr><td>{{ row.cycle }}</td>{% for c in row.cells %}<td>{{ c.before }}</td><td>{{ c.after }}</td>
<td>{{ c.yield }}</td><td>{{ c.reward }}</td><td>{{ c.seconds }}</td>{% endfor %}</tr>{% endfor %}
<tr><td class="l">final</td>{% for r in runs %}<td></td><td>{{ r.final }}</td><td></td><td></td><td></td>{% endfor %}</tr>
</table></body></html>
"""


@dataclass
class Comparison:
    path: Path
    rows: list[dict[str, Any]]     # per cycle: {"cycle", "cells": [one per run]}
    runs: list[dict[str, Any]]


def _pct(a: float | None) -> str:
    return "-" if a is None else f"{a:.1%}"


def _cell(s: dict[str, Any] | None) -> dict[str, str]:
    if s is None:
        return {"before": "", "after": "", "yield": "", "reward": "", "seconds": ""}
    reward = s.get("reward") if isinstance(s.get("reward"), dict) else None
    n = max(int(s.get("samples") or 0), 1)
    return {"before": _pct(accuracy_of(s.get("eval_generator"))), "after": _pct(accuracy_of(s.get("eval"))),
            "yield": _pct(int(s.get("generated") or 0) / n),
            "reward": "-" if not reward or reward.get("mean") is None else
            f"{reward['mean']:.3f} ({reward.get('groups_with_reward')}/{reward.get('groups')})",
            "seconds": f"{float(s.get('seconds') or 0):.0f}"}


def _final(run_dir: Path) -> float | None:
    import json

    doc = json.loads((run_dir / "stats.json").read_text("utf-8"))
    return accuracy_of(((doc.get("final") or {}) if isinstance(doc, dict) else {}).get("eval"))


def _plot(series: list[tuple[str, list[dict[str, Any]]]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (acc_ax, yield_ax) = plt.subplots(1, 2, figsize=(10, 3.4), dpi=100)
    for (name, stats), colour in zip(series, ("#3b7dd8", "#c8553d")):
        cycles = [s["cycle"] for s in stats]
        acc = [accuracy_of(s.get("eval")) for s in stats]
        acc_ax.plot(cycles, [float("nan") if a is None else a for a in acc], "s-", color=colour, label=name)
        yields = [int(s.get("generated") or 0) / max(int(s.get("samples") or 0), 1) for s in stats]
        yield_ax.plot(cycles, yields, "o-", color=colour, label=name)
    for ax, what in ((acc_ax, "held-out accuracy of the model trained in the cycle"),
                     (yield_ax, "direct-answer yield of the generating model")):
        ax.set_xlabel("cycle")
        ax.set_ylim(0, 1.05)
        ax.set_title(what, fontsize=9)
        ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    uri = png_uri(fig)
    plt.close(fig)
    return uri


def compare_runs(run_a: str | Path, run_b: str | Path, out: str | Path | None = None) -> Comparison:
    """Write the side-by-side page of two run directories (default: beside RUN_A,
    `compare-A-B.html`) and return what it shows."""
    from jinja2 import Environment, StrictUndefined

    dirs = [Path(run_a), Path(run_b)]
    stats = [_read_run(d)[0] for d in dirs]
    configs = [_read_run(d)[1] for d in dirs]
    out = Path(out) if out else dirs[0].parent / f"compare-{dirs[0].name}-{dirs[1].name}.html"
    problem = output_problem(out)
    if problem:
        raise VstarError(f"--out {problem}: name a new or regular .html file", file=out)
    names = [d.name if dirs[0].name != dirs[1].name else str(d) for d in dirs]
    runs = [{"name": n, "path": str(d.resolve()), "cycles": len(s),
             "method": str((c.get("training") or {}).get("method") or "sft"),
             "seconds": f"{sum(float(x.get('seconds') or 0) for x in s):.0f}", "final": _pct(_final(d))}
            for n, d, s, c in zip(names, dirs, stats, configs)]
    by_cycle = [{int(s["cycle"]): s for s in st} for st in stats]
    rows = [{"cycle": c, "cells": [_cell(b.get(c)) for b in by_cycle]}
            for c in sorted(set(by_cycle[0]) | set(by_cycle[1]))]
    env = Environment(autoescape=True, undefined=StrictUndefined)
    html = env.from_string(PAGE).render(title=f"vstar-data: {names[0]} vs {names[1]}", runs=runs, rows=rows,
                                        plot=_plot(list(zip(names, stats))))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(html, "utf-8")
    tmp.replace(out)
    return Comparison(out, rows, runs)
