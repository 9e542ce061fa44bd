"""Every model is told the time (frames.time_instruction): a tiny LLaVA-OneVision, whose processor
takes no frame times, answers an interval question with the sampled frames' times stated before
the question; the attempt row's prompt shows it, and the published row, every export, the
trainer's examples and evaluation put the same text in the same turn."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from vstar_data.cli import app

FORM = re.compile(r"The video lasts for (\d+\.\d\d) seconds, and (\d+) frames are uniformly sampled from it\. "
                  r"These frames are located at (.*)\.")
FRAMES = 4


def _rows(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for p in sorted((out / "attempts").glob("*.jsonl")) for line in p.read_text().splitlines()]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four shapes clips (3 train, 1 test) with an interval label: when the second shape is on screen."""
    from vstar_data.adapters.shapes import render_world

    return render_world(tmp_path_factory.mktemp("world"), n=4, seed=3, objects=2)


@pytest.fixture(scope="module")
def told(world: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A tiny LLaVA-OneVision and one `generate` run on the interval world (laid out as a build's
    source folder, gen/00-shapes) whose every prompt the model renders is kept."""
    from vstar_data.backends.tiny import build_tiny_model
    from vstar_data.backends.transformers import TransformersBackend

    tmp = tmp_path_factory.mktemp("told")
    model = build_tiny_model("llava_onevision", tmp / "tiny-onevision")
    rendered: list[str] = []
    original = TransformersBackend._render

    def spy(self: Any, prompt: str) -> str:
        rendered.append(prompt)
        return original(self, prompt)

    out = tmp / "gen" / "00-shapes"
    mp = pytest.MonkeyPatch()
    mp.setattr(TransformersBackend, "_render", spy)
    try:
        res = CliRunner().invoke(app, ["generate", "shapes", "-a", str(world), "-v", str(world / "videos"), "--out",
                                       str(out), "--model", str(model), "--option", "labels=second_on_screen",
                                       "--split", "train", "--num-frames", str(FRAMES), "--frame-size", "32",
                                       "--max-new-tokens", "4"])
    finally:
        mp.undo()
    assert res.exit_code == 0, res.output
    return {"world": world, "model": model, "out": out, "rows": _rows(out), "rendered": rendered, "tmp": tmp}


def _check_stated(text: str, row: dict[str, Any]) -> None:
    """`text` states the clip's real length and the row's sampled frame times."""
    m = FORM.fullmatch(text)
    assert m, text
    with open(row["_world"] / "annotations.csv", newline="") as fh:
        clip = {r["clip"]: r for r in csv.DictReader(fh)}[row["id"]]
    assert float(m[1]) == pytest.approx(int(clip["frames"]) / float(clip["fps"]), abs=0.006)   # 8 frames at 4 fps
    assert int(m[2]) == FRAMES == len(row["frame_timestamps"])
    assert m[3] == ", ".join(f"{t:.2f}s" for t in row["frame_timestamps"])


def test_llava_onevision_on_an_interval_task_is_told_the_frame_times(told):
    rows = told["rows"]
    assert {r["origin"] for r in rows} >= {"generated"} and len({r["id"] for r in rows}) == 3
    for row in rows:
        _check_stated(row["time_instruction"], {**row, "_world": told["world"]})
        assert row["prompt"].startswith(row["time_instruction"] + "\n")
        assert row["prompt"][len(row["time_instruction"]) + 1:].find(row["question"]) >= 0
    # what the row shows is what the model was given: each prompt went through its chat template
    assert sorted(r["prompt"] for r in rows) == sorted(p for p in told["rendered"] if p != "probe")


def _user_texts(fmt: str, out: Path) -> list[str]:
    """The user turn's text of every exported record, media tags removed."""
    if fmt in ("llava", "llava-video"):
        items = [i["conversations"][0]["value"] for i in json.loads(out.read_text())]
    elif fmt == "llamafactory":
        items = [json.loads(line)["messages"][0]["content"] for line in (out / "vstar.jsonl").read_text().splitlines()]
    elif fmt == "swift":
        items = [json.loads(line)["messages"][0]["content"] for line in out.read_text().splitlines()]
    elif fmt in ("trl", "grpo"):
        recs = [json.loads(line) for line in (out / "data.jsonl").read_text().splitlines()]
        turns = [r["messages"][0] if fmt == "trl" else r["prompt"][0] for r in recs]
        items = [t["content"][-1]["text"] for t in turns]
    else:   # lmms-eval: the doc's question is what doc_to_text hands the model
        items = [json.loads(line)["question"] for line in next(out.glob("*.jsonl")).read_text().splitlines()]
    return [re.sub(r"^<(video|image)>\n?", "", t) for t in items]


def _publish(rows: list[dict[str, Any]], folder: Path, store: Path) -> list[dict[str, Any]]:
    """Publish the run's direct answers as accepted rows (the tiny model's gibberish is
    never accepted by the verifier; acceptance is not what these tests are about)."""
    from vstar_data.dataset.export import iter_rows
    from vstar_data.dataset.store import publish

    folder.mkdir(parents=True)
    (folder / "attempts.jsonl").write_text("".join(
        json.dumps({**r, "accepted": True, "reject_reason": None}) + "\n"
        for r in rows if r["origin"] == "generated"))
    publish(folder, store, "v1", "told")
    return list(iter_rows(store))


def test_published_rows_and_every_export_repeat_the_instruction(told, tmp_path):
    from vstar_data.dataset.export import export

    by_id = {r["id"]: r for r in told["rows"] if r["origin"] == "generated"}
    published = _publish(told["rows"], tmp_path / "rows", tmp_path / "store")
    assert len(published) == len(by_id)
    want = set()
    for p in published:
        user = f"{by_id[p['id']]['time_instruction']}\n{p['question']}"
        assert p["conversations"][0]["value"] == f"<video>\n{user}"
        want.add(user)
    videos = told["world"] / "videos"
    for fmt, target in (("llava", "x.json"), ("llava-video", "x.json"), ("llamafactory", "lf"),
                        ("swift", "x.jsonl"), ("trl", "trl"), ("grpo", "grpo")):
        out = tmp_path / fmt / target
        export(tmp_path / "store", out, fmt, video_root=videos, num_frames=FRAMES, frame_size=32)
        assert set(_user_texts(fmt, out)) == want, fmt
    # the evaluation side: the same rows as an lmms-eval task
    export(tmp_path / "store", tmp_path / "lmms", "lmms-eval", video_root=videos, splits=["train"])
    assert set(_user_texts("lmms-eval", tmp_path / "lmms")) == want


def test_the_trainer_encodes_the_instruction_in_the_user_turn(told, tmp_path):
    """The build's training rows (runner.training_rows) give the trainer the same user text,
    before the question and outside the loss."""
    from transformers import AutoProcessor

    from vstar_data.config import run_config_from_dict
    from vstar_data.cycle.runner import CycleRunner
    from vstar_data.training.data import IGNORE_INDEX, VideoChatDataset, load_rows

    world = told["world"]
    rc = run_config_from_dict({"sources": [{"adapter": "shapes", "annotations": str(world),
                                            "videos": str(world / "videos")}],
                               "model": {"pretrained": str(told["model"])}}, base=tmp_path)
    rows = {r["id"]: r for r in told["rows"]}
    accepted = [{**r, "accepted": True} for r in told["rows"] if r["origin"] == "generated"]
    gen = tmp_path / "gen" / "00-shapes" / "attempts"
    gen.mkdir(parents=True)
    (gen / "chunk-000000.jsonl").write_text("".join(json.dumps(r) + "\n" for r in accepted))
    path = CycleRunner(rc, echo=lambda s: None).training_rows(tmp_path / "gen", tmp_path / "train.json")
    train, skipped = load_rows(str(path), videos="/")
    assert len(train) == len(accepted) and not skipped
    processor = AutoProcessor.from_pretrained(told["model"])
    ds = VideoChatDataset(train, processor, num_frames=FRAMES, frame_size=32)
    for row in train:
        src = rows[row["id"].split("/", 1)[1]]
        enc = ds.encode_row(row)
        ids, labels = enc["input_ids"][0], enc["labels"][0]
        prompt_text = processor.tokenizer.decode(ids[labels == IGNORE_INDEX])
        stated = src["time_instruction"]
        assert f"{stated}\n{src['question']}" in prompt_text
        assert stated not in processor.tokenizer.decode(ids[labels != IGNORE_INDEX])


def test_evaluation_asks_with_the_same_instruction(told, tmp_path):
    out = tmp_path / "eval"
    world = told["world"]
    res = CliRunner().invoke(app, ["eval", "shapes", "-a", str(world), "-v", str(world / "videos"), "--out", str(out),
                                   "--model", str(told["model"]), "--option", "labels=second_on_screen",
                                   "--split", "test", "--num-frames", str(FRAMES), "--frame-size", "32",
                                   "--max-new-tokens", "4"])
    assert res.exit_code == 0, res.output
    rows = _rows(out)
    assert rows and all(r["origin"] == "generated" for r in rows)
    for row in rows:
        _check_stated(row["time_instruction"], {**row, "_world": world})
        assert row["prompt"].startswith(row["time_instruction"] + "\n")
    assert json.loads((out / "eval.json").read_text())["interval"]["n"] == len(rows)


class _Backend:
    """Only what the decision reads: whether the model is given the frames' times itself."""

    model_name = "stub"

    def __init__(self, reads: bool) -> None:
        self.reads_frame_times = reads


@pytest.mark.parametrize("mode, labels, reads, frames, told_expected", [
    ("auto", "second_on_screen", False, True, True),     # interval, model not given times: told
    ("auto", "timestamp", False, True, True),            # timestamp labels too
    ("auto", "second_on_screen", True, True, False),     # Qwen2.5-VL / a server with timing: not told
    ("auto", "direction", False, True, False),           # a category question asks for no seconds
    ("always", "direction", True, True, True),
    ("always", "second_on_screen", False, False, False),  # the template baseline sees no frames
    ("never", "second_on_screen", False, True, False),
])
def test_who_is_told_the_time(world, mode, labels, reads, frames, told_expected):
    from vstar_data.generation.pipeline import ChunkProcessor, GenerationConfig, decode_one, prepare
    from vstar_data.video.time_instruction import time_instruction

    cfg = GenerationConfig(adapter="shapes", annotations=str(world), videos=str(world / "videos"), split="train",
                           adapter_options={"labels": "direction" if labels == "timestamp" else labels},
                           time_instruction=mode, num_frames=FRAMES, frame_size=32, progress=False)
    prepared = prepare(cfg)
    ps = prepared.samples[0]
    if labels == "timestamp":
        ps.sample.labels = [{"type": "timestamp", "name": "moment", "value": 1.0}]
    sampled, _ = decode_one(ps, cfg, uses_frames=frames)
    text = ChunkProcessor(cfg, prepared.templates, _Backend(reads), verifier=None).time_text(ps, sampled)
    assert text == (time_instruction(sampled) if told_expected else None)


def test_the_setting_is_validated_and_decides_the_run(tmp_path):
    from vstar_data.config import run_config_from_dict
    from vstar_data.errors import ConfigError
    from vstar_data.generation.pipeline import GenerationConfig

    base = {"sources": [{"adapter": "shapes", "annotations": "w"}], "model": {"pretrained": "m"}}
    with pytest.raises(ConfigError) as err:
        run_config_from_dict({**base, "frames": {"time_instruction": "sometimes"}}, base=tmp_path)
    assert any(p.startswith("frames/time_instruction") for p in err.value.problems)
    rc = run_config_from_dict({**base, "frames": {"time_instruction": "never"}}, base=tmp_path)
    cfg = GenerationConfig.from_run_config(rc, rc.sources[0], model="m", cycle=0, rationalize=True)
    default = run_config_from_dict(base, base=tmp_path)
    auto = GenerationConfig.from_run_config(default, default.sources[0], model="m", cycle=0, rationalize=True)
    assert (cfg.time_instruction, auto.time_instruction) == ("never", "auto")
    assert cfg.signature() != auto.signature()     # rows of one setting are never resumed under another
    res = CliRunner().invoke(app, ["generate", "shapes", "-a", str(tmp_path), "--out", str(tmp_path / "o"),
                                   "--time-instruction", "sometimes", "--dry-run"])
    assert isinstance(res.exception, ConfigError)      # `vstar-data` turns it into exit status 2
    assert "time_instruction must be one of auto, always, never, got 'sometimes'" in str(res.exception)
