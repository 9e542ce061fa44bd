"""Per-cycle statistics (stats.json) and the yield-per-cycle plot (the paper's Figure 4)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from ..jsonl import atomic_writer


def write_stats(path: str | Path, stats: Sequence[dict[str, Any]]) -> None:
    with atomic_writer(path) as fh:
        json.dump(list(stats), fh, indent=2)


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
