"""`vstar-data report`: one self-contained HTML page per run, checked by parsing it.

The run directory is built the way the cycle runner lays it out (real mp4 clips, attempt rows
scored by the real verifier, a real store with tags), so the report reads the same files it reads
after `build`; the demo test checks the report of a real run too.
"""
from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from vstar_data.cli import app
from vstar_data.cycle.report import build_report, highlight
from vstar_data.verify.verifier import Verifier

SECTIONS = ("summary", "plots", "label-types", "hint-echo", "config", "tags")


class Page(HTMLParser):
    """Collects section ids, images, <mark> contents and every external reference."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.images: list[str] = []
        self.marks: list[str] = []
        self.external: list[str] = []
        self._in_mark = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "img":
            self.images.append(a.get("src") or "")
        if tag == "mark":
            self._in_mark += 1
            self.marks.append("")
        if tag in ("script", "link", "iframe") or (tag != "img" and any(k in a for k in ("src", "href"))):
            self.external.append(f"{tag} {a}")

    def handle_endtag(self, tag):
        if tag == "mark":
            self._in_mark -= 1

    def handle_data(self, data):
        if self._in_mark:
            self.marks[-1] += data


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text("utf-8"))
    return page


def check_images(page: Page) -> None:
    """Every image is an embedded PNG that PIL decodes."""
    from PIL import Image

    assert page.images
    for src in page.images:
        assert src.startswith("data:image/png;base64,"), src[:60]
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as im:
            im.load()
            assert im.size[0] > 10 and im.size[1] > 10


def _row(sample: dict, answer: str, origin: str, cycle: int, question: str) -> dict:
    verdict = Verifier("default").verify(sample["labels"], answer, origin=origin).to_dict()
    return {"id": sample["id"], "source": "shapes", "task": "shapes", "video": sample["video"],
            "labels": sample["labels"], "question": question, "prompt": question, "answer": answer,
            "origin": origin, "attempt": int(origin == "rationalized"), "accepted": verdict["accepted"],
            "reject_reason": verdict["reason"], "verifier_profile": "default",
            "verifier_scores": verdict["scores"], "cycle": cycle, "clip_start": None, "clip_end": None,
            "frame_indices": list(range(8)), "split": "train", "template_id": "shapes/q01", "model": "m"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """Two cycles of attempt rows over real clips: direct, rationalized, rejected, hint echo."""
    from vstar_data.adapters.shapes import ShapesAdapter, render_world
    from vstar_data.dataset.store import publish

    tmp = tmp_path_factory.mktemp("report")
    world = render_world(tmp / "world", n=6, seed=4, test_share=0.0)
    samples = [s for s in ShapesAdapter(world, world / "videos", options={"labels": "direction,colour"}).samples()]
    run = tmp / "run"
    q = "What is happening in this video?"
    stats = []
    for cycle in (0, 1):
        rows = []
        for k, s in enumerate(d.to_dict() for d in samples):
            d, c = s["labels"][0]["value"], s["labels"][1]["value"]
            if k % 3 == cycle:
                rows.append(_row(s, f"The video shows a {c} shape that moves {d}.", "generated", cycle, q))
            else:
                rows.append(_row(s, f"The video shows a {c} shape.", "generated", cycle, q))
                answer = (f"As the answer states, the {c} shape moves {d}." if k == 4
                          else f"The {c} shape moves {d} across the frame." if k % 2 else "A shape.")
                rows.append(_row(s, answer, "rationalized", cycle, q))
        out = run / f"cycle-{cycle}" / "generate" / "00-shapes" / "attempts"
        out.mkdir(parents=True)
        (out / "chunk-000000.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
        publish(out.parent, run / "vstar-1m", tag=f"cycle-{cycle}", message=f"cycle {cycle}", force=True)
        acc = {"generated": sum(r["accepted"] and r["origin"] == "generated" for r in rows),
               "rationalized": sum(r["accepted"] and r["origin"] == "rationalized" for r in rows)}
        stats.append({"cycle": cycle, "samples": len(samples), **acc,
                      "rejected": len(samples) - sum(acc.values()), "skipped": 0, "train_loss": 1.0 - cycle / 4,
                      "eval_generator": {"accuracy": 0.1 * cycle}, "checkpoint": f"cycle-{cycle}/checkpoint",
                      "eval": {"accuracy": 0.3 + 0.2 * cycle, "n": 10,
                               "category": {"n": 10, "top1": 0.5 + cycle / 10, "acceptance": 0.4}}})
    (run / "stats.json").write_text(json.dumps(stats), "utf-8")
    (run / "run.yaml").write_text(yaml.safe_dump({"seed": 0, "frames": {"num_frames": 8, "size": None},
                                                  "store": {"path": str(run / "vstar-1m")},
                                                  "sources": [{"adapter": "shapes", "videos": "world/videos"}]}))
    return run


def test_report_sections_images_spans(run_dir, tmp_path):
    summary = build_report(run_dir, tmp_path / "r.html", per_kind=3)
    page = parse(summary.path)
    assert set(SECTIONS) | {"cycle-0", "cycle-1", "yield-plot", "accuracy-plot"} <= page.ids
    check_images(page)
    # 2 plots + one contact sheet per row shown (frames re-sampled from the mp4 through the
    # run.yaml's relative video folder: no sources.json in this run dir) + hint-echo rows
    assert summary.frames_missing == []
    assert len(page.images) == 2 + summary.rows_shown + min(summary.hint_echo, 12)
    assert page.external == []
    # the verifier's matched spans are marked: directions and colours, and the echo phrase
    marks = {m.lower() for m in page.marks}
    assert marks & {"left", "right", "up", "down"}
    assert marks & {"red", "green", "blue", "yellow"}
    assert summary.hint_echo == 1 and "as the answer states" in marks
    html = summary.path.read_text("utf-8")
    assert "cycle-0" in html and "cycle-1" in html  # store tags
    assert "top1" in html and "acceptance" in html  # metrics read as stats.json names them
    assert "not_found" in html  # rejection reasons


def test_report_highlight_segments_cover_the_answer():
    answer = "The red square moves left, not right."
    scores = [{"name": "direction", "type": "category", "passed": True, "span": [21, 25]},
              {"name": "colour", "type": "category", "passed": False, "reason": "negated", "span": [4, 7]},
              {"name": "overlap", "type": "category", "passed": True, "span": [5, 9]},
              {"name": "bogus", "type": "category", "passed": True, "span": [30, 99]}]
    segs = highlight(answer, scores)
    assert "".join(s["text"] for s in segs) == answer
    assert [(s["text"], s["mark"]) for s in segs if s["mark"]] == [("red", "bad"), ("left", "ok")]


def test_report_cli_and_missing_run(run_dir, tmp_path):
    res = CliRunner().invoke(app, ["report", str(run_dir), "--out", str(tmp_path / "x.html"), "--rows", "1"])
    assert res.exit_code == 0, res.output
    assert "x.html" in res.output
    page = parse(tmp_path / "x.html")
    assert len(page.images) == 2 + 2 * 3 + 1  # plots, one row per outcome and cycle, the hint echo
    res = CliRunner().invoke(app, ["report", str(tmp_path / "nope")])
    assert res.exit_code != 0
    assert "stats.json" in str(res.exception) or "stats.json" in res.output


def test_report_without_videos_says_so(run_dir, tmp_path):
    (tmp_path / "run").mkdir()
    for name in ("stats.json", "run.yaml"):
        (tmp_path / "run" / name).write_bytes((run_dir / name).read_bytes())
    import shutil

    shutil.copytree(run_dir / "cycle-0", tmp_path / "run" / "cycle-0")
    summary = build_report(tmp_path / "run", per_kind=1)
    assert summary.frames_missing and all("video" in m or "missing" in m for m in summary.frames_missing)
    page = parse(summary.path)
    assert "frames-missing" in page.ids
    check_images(page)
