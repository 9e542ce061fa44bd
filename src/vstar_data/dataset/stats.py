"""Per-cycle statistics: stats.json, the yield bookkeeping of a release, and the yield-per-cycle plot
(the paper's Figure 4), shared by the cycle runner and the dataset card."""
from __future__ import annotations

import json
from pathlib import Path
from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping, Sequence, Union

from ..jsonl import atomic_writer
from .writer import COUNT_COLUMNS, Manifest

_CYCLE = COUNT_COLUMNS.index("cycle")


def write_stats(path: str | Path, stats: Sequence[dict[str, Any]], final: dict[str, Any] | None = None) -> None:
    """The run's stats.json: `{"cycles": [one object per cycle], "final": {...}}` ("final" only
    after the final release, see cycle/runner.py)."""
    doc: dict[str, Any] = {"cycles": list(stats)}
    if final is not None:
        doc["final"] = final
    with atomic_writer(path) as fh:
        json.dump(doc, fh, indent=2, default=str)


def read_stats(path: str | Path) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """(cycles, final) of a stats.json (also the older form, a bare list of cycles)."""
    doc = json.loads(Path(path).read_text("utf-8"))
    if isinstance(doc, list):
        return doc, None
    return list(doc.get("cycles") or []), doc.get("final")


def plot_cycles(stats: Sequence[dict[str, Any]], path: str | Path, title: str = "Video-STaR yield per cycle") -> Path:
    """Stacked bars of accepted answers per cycle (direct vs rationalized, as a share of samples)
    with held-out accuracy as a line; written as PNG with the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    cycles = [s["cycle"] for s in stats]
    n = [max(s.get("samples", 0), 1) for s in stats]
    gen = [s.get("generated", 0) / k for s, k in zip(stats, n)]
    rat = [s.get("rationalized", 0) / k for s, k in zip(stats, n)]
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=110)
    ax.bar(cycles, gen, label="answer generation (direct)", color="#3b7dd8")
    ax.bar(cycles, rat, bottom=gen, label="label rationalization", color="#f2a541")
    for key, style, label in (("eval_generator", "o--", "held-out accuracy of the generating model"),
                              ("eval", "s-", "held-out accuracy after this cycle's training")):
        acc = [(s.get(key) or {}).get("accuracy") for s in stats]
        if any(a is not None for a in acc):
            ax.plot(cycles, [a if a is not None else float("nan") for a in acc], style, color="#2a9d3f",
                    alpha=0.6 if key == "eval_generator" else 1.0, label=label)
    ax.set_xlabel("cycle")
    ax.set_ylabel("share of samples / accuracy")
    ax.set_ylim(0, 1.45)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_xticks(cycles)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper center", ncol=2, frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, format="png", metadata={"Software": None})  # same stats -> same bytes
    plt.close(fig)
    tmp.replace(path)
    return path


@dataclass
class CycleYield:
    cycle: int
    samples: int
    generated: int
    rationalized: int
    published: int

    @property
    def yield_(self) -> float:
        return self.published / self.samples if self.samples else 0.0


StatsForPlot = Union[Mapping[Any, Mapping[str, Any]], Sequence[Mapping[str, Any]], None]


def cycle_yields(man: Manifest, stats_for_plot: StatsForPlot = None) -> list[CycleYield]:
    """Per cycle: samples attempted, accepted per origin, published.

    `stats_for_plot` is the cycle runner's history, either `{cycle: {...}}` or its stats.json list
    of `{"cycle": n, ...}`, with `samples`, `generated` / `accepted_generated`, `rationalized` /
    `accepted_rationalized` and optionally `published`; it adds (or replaces) cycles that this
    rows folder does not cover or counts differently.
    """
    out: dict[int, CycleYield] = {}
    published: Counter = Counter()
    for key, n in man.counts.items():
        published[key[_CYCLE]] += n
    att = man.attempts
    for cycle in sorted({c for c, _, _ in att} | set(published)):
        out[cycle] = CycleYield(cycle, att[(cycle, "generated", True)] + att[(cycle, "generated", False)],
                                att[(cycle, "generated", True)], att[(cycle, "rationalized", True)],
                                published[cycle])
    items = (stats_for_plot.items() if isinstance(stats_for_plot, Mapping)
             else [(s["cycle"], s) for s in stats_for_plot or ()])
    for cycle, st in items:
        gen = int(st.get("accepted_generated", st.get("generated", 0)))
        rat = int(st.get("accepted_rationalized", st.get("rationalized", 0)))
        out[int(cycle)] = CycleYield(int(cycle), int(st.get("samples", 0)), gen, rat,
                                     int(st.get("published", gen + rat)))
    return [out[c] for c in sorted(out)]


def write_yield_plot(yields: list[CycleYield], path: str | Path) -> Path:
    """Bar chart of the share of samples accepted per cycle, direct vs rationalized (PNG): the
    run directory's plot (stats.plot_cycles), fed from the release's counts."""
    return plot_cycles([{"cycle": y.cycle, "samples": y.samples, "generated": y.generated,
                         "rationalized": y.rationalized} for y in yields], path)
