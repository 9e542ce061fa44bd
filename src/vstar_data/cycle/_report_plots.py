"""Plots of the run report (PNG data: URIs, drawn with matplotlib's Agg backend)."""
from __future__ import annotations

import base64
import io
from typing import Any


def png_uri(fig_or_image: Any) -> str:
    buf = io.BytesIO()
    if hasattr(fig_or_image, "savefig"):
        fig_or_image.savefig(buf, format="png", metadata={"Software": None})
    else:
        fig_or_image.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


# -- plots -------------------------------------------------------------------------------------
def yield_plot(stats: list[dict[str, Any]]) -> str:
    """Stacked shares of samples per cycle: direct, rationalized, rejected, skipped."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cycles = [s["cycle"] for s in stats]
    n = [max(int(s.get("samples", 0)), 1) for s in stats]
    parts = [("generated", "direct answer", "#3b7dd8"), ("rationalized", "rationalized", "#f2a541"),
             ("rejected", "rejected", "#c8553d"), ("skipped", "skipped", "#9a9a9a")]
    fig, ax = plt.subplots(figsize=(6, 3.4), dpi=100)
    bottom = [0.0] * len(stats)
    for key, label, colour in parts:
        share = [int(s.get(key, 0)) / k for s, k in zip(stats, n)]
        ax.bar(cycles, share, bottom=bottom, label=label, color=colour)
        bottom = [b + v for b, v in zip(bottom, share)]
    ax.set_xticks(cycles)
    ax.set_xlabel("cycle")
    ax.set_ylabel("share of samples")
    ax.set_ylim(0, 1.25)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.legend(fontsize=7, loc="upper center", ncol=4, frameon=False)
    ax.set_title("yield per cycle")
    fig.tight_layout()
    uri = png_uri(fig)
    plt.close(fig)
    return uri


def accuracy_plot(stats: list[dict[str, Any]]) -> str | None:
    """Held-out accuracy of the generating model and of the model trained in each cycle."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [(k, label, style) for k, label, style in (
        ("eval_generator", "generating model (before the cycle)", "o--"),
        ("eval", "trained in this cycle", "s-")) if any(accuracy_of(s.get(k)) is not None for s in stats)]
    if not series:
        return None
    cycles = [s["cycle"] for s in stats]
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    for key, label, style in series:
        acc = [accuracy_of(s.get(key)) for s in stats]
        ax.plot(cycles, [float("nan") if a is None else a for a in acc], style, color="#2a9d3f",
                alpha=0.55 if key == "eval_generator" else 1.0, label=label)
    return share_figure(fig, ax, cycles, "held-out accuracy", "held-out accuracy per cycle", "lower right")


def accuracy_of(ev: Any) -> float | None:
    if not isinstance(ev, dict):
        return None
    a = ev.get("accuracy")
    return float(a) if isinstance(a, (int, float)) and not isinstance(a, bool) else None


def hallucination_plot(stats: list[dict[str, Any]]) -> str | None:
    """Share of answers contradicting a constraint label per cycle: generated and rationalized
    answers before filtering, and the published rows (None: the run has no constraints)."""
    if not any((s.get("hallucination") or {}).get("constrained") for s in stats):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cycles = [s["cycle"] for s in stats]
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    for stage, label, style in (("generated", "direct answers (before filtering)", "o--"),
                                ("rationalized", "rationalized answers (before filtering)", "^--"),
                                ("published", "published rows", "s-")):
        share = []
        for s in stats:
            h = s.get("hallucination") or {}
            n = (h.get("answers") or {}).get(stage, 0)
            share.append((h.get("contradicting") or {}).get(stage, 0) / n if n else float("nan"))
        ax.plot(cycles, share, style, color="#c8553d", alpha=1.0 if stage == "published" else 0.55, label=label)
    return share_figure(fig, ax, cycles, "share contradicting a constraint", "hallucination per cycle", "upper left")


def share_figure(fig: Any, ax: Any, cycles: list[int], ylabel: str, title: str, legend: str) -> str:
    """Finish a per-cycle plot of a share (0..1) and return it as a PNG data URI."""
    import matplotlib.pyplot as plt

    ax.set_xticks(cycles)
    ax.set_xlabel("cycle")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7, loc=legend, frameon=False)
    ax.set_title(title)
    fig.tight_layout()
    uri = png_uri(fig)
    plt.close(fig)
    return uri
