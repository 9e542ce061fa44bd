"""Exports for the tools people train and evaluate with: the exact layout of each format, the
video-path checks (a missing clip is skipped and counted, never written), frames written once per
clip, and the CLI's summary. Rows point at the real fixture clips through a video root of links."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from factory import make_attempts, write_rows_dir
from typer.testing import CliRunner

from vstar_data.dataset.export import export
from vstar_data.dataset.store import publish
from vstar_data.errors import ConfigError, VstarError

CLIPS = ("arm_wrestling.mp4", "playing_guitar.mp4", "pool_cleaning_1s.mp4")


@pytest.fixture(scope="module")
def world(tmp_path_factory, videos_dir):
    """A store of 4 samples per source whose rows use 3 real clips (plus one clip that is missing),
    and a video root holding links to those clips."""
    tmp = tmp_path_factory.mktemp("exports")
    rows = make_attempts(4, cycle=1, tag="t ")
    for row in rows:
        k = int(row["id"].rsplit("/", 1)[1])
        row["video"] = "clips/missing.mp4" if row["id"] == "kinetics700/000003" else f"clips/{CLIPS[k % 3]}"
    publish(write_rows_dir(tmp / "rows", rows), tmp / "store", "v1", "first")
    root = tmp / "videos"
    (root / "clips").mkdir(parents=True)
    for name in CLIPS:
        os.symlink(videos_dir / name, root / "clips" / name)
    from vstar_data.dataset.export import iter_rows

    published = list(iter_rows(tmp / "store"))
    return tmp / "store", root, published


def _expected(published, missing_ok=False):
    return [r for r in published if r["video"] != "clips/missing.mp4"]


def test_llamafactory_folder_registers_sharegpt_messages_and_videos(tmp_path, world):
    store, root, published = world
    report = export(store, tmp_path / "lf", "llamafactory", video_root=root)
    assert sorted(os.listdir(tmp_path / "lf")) == ["dataset_info.json", "vstar.jsonl"]
    info = json.loads((tmp_path / "lf" / "dataset_info.json").read_text())
    assert info == {"vstar": {"file_name": "vstar.jsonl", "formatting": "sharegpt",
                              "columns": {"messages": "messages", "videos": "videos"},
                              "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                                       "assistant_tag": "assistant"}}}
    items = [json.loads(line) for line in (tmp_path / "lf" / "vstar.jsonl").read_text().splitlines()]
    want = _expected(published)
    assert len(items) == report.rows == len(want) == len(published) - 1
    assert report.skipped == {"video_missing": 1} and "skipped 1 rows: video_missing" in report.summary()
    by_q = {(r["question"], r["conversations"][1]["value"]): r for r in want}
    for item in items:
        assert set(item) == {"messages", "videos"}
        user, assistant = item["messages"]
        assert set(user) == set(assistant) == {"role", "content"}
        assert (user["role"], assistant["role"]) == ("user", "assistant")
        assert user["content"].startswith("<video>") and user["content"].count("<video>") == len(item["videos"]) == 1
        assert "<video>" not in assistant["content"]
        row = by_q[(user["content"][len("<video>"):], assistant["content"])]
        assert item["videos"] == [str(root / row["video"])] and Path(item["videos"][0]).is_file()
    tal = sum(1 for r in want if r["clip_start"] is not None)
    assert report.notes == {"use the whole clip (LLaMA-Factory has no clip_start/clip_end)": tal}


def test_llamafactory_relative_root_resolves_from_the_export_folder(tmp_path, world):
    store, root, published = world
    out = tmp_path / "exports" / "lf"
    rel = os.path.relpath(root, out)          # as LLaMA-Factory joins it to dataset_dir
    export(store, out, "llamafactory", video_root=rel)
    items = [json.loads(line) for line in (out / "vstar.jsonl").read_text().splitlines()]
    assert all(not Path(i["videos"][0]).is_absolute() and (out / i["videos"][0]).is_file() for i in items)
    with pytest.raises(VstarError, match="every row was left out"):   # from the cwd that root is wrong
        export(store, tmp_path / "other", "swift", video_root=rel)
    assert not (tmp_path / "other").exists()


def test_swift_jsonl_rows(tmp_path, world):
    store, root, published = world
    report = export(store, tmp_path / "train.jsonl", "swift", video_root=root, exclude_rationalized=True)
    lines = (tmp_path / "train.jsonl").read_text().splitlines()
    want = [r for r in _expected(published) if r["origin"] == "generated"]
    assert len(lines) == report.rows == len(want) and report.excluded_rationalized > 0
    for line in lines:
        row = json.loads(line)
        assert set(row) == {"messages", "videos"}
        assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
        assert row["messages"][0]["content"].startswith("<video>") and len(row["videos"]) == 1
        assert not row["messages"][1]["content"].startswith("hinted")


def test_llava_video_json_uses_the_image_token(tmp_path, world):
    store, root, published = world
    export(store, tmp_path / "llava_video.json", "llava-video", video_root=root, config="finediving")
    items = json.loads((tmp_path / "llava_video.json").read_text())
    want = {r["id"]: r for r in published if r["source"] == "finediving"}
    assert {i["id"] for i in items} == set(want)
    for item in items:
        assert set(item) == {"id", "video", "conversations"}
        human, gpt = item["conversations"]
        assert human == {"from": "human", "value": "<image>\n" + want[item["id"]]["question"]}
        assert gpt == {"from": "gpt", "value": want[item["id"]]["conversations"][1]["value"]}
        assert item["video"] == str(root / want[item["id"]]["video"])


def test_trl_folder_frames_once_per_clip_and_loads_as_images(tmp_path, world):
    store, root, published = world
    report = export(store, tmp_path / "trl", "trl", video_root=root, num_frames=3, frame_size=32)
    assert sorted(os.listdir(tmp_path / "trl")) == ["data.jsonl", "frames"]
    want = _expected(published)
    windows = {(r["video"], r["clip_start"], r["clip_end"]) for r in want}
    clip_dirs = list((tmp_path / "trl" / "frames").iterdir())
    assert report.clips == len(clip_dirs) == len(windows) < len(want)      # shared, written once
    assert sum(len(os.listdir(d)) for d in clip_dirs) == report.frames == 3 * len(windows)
    from datasets import Image, List, load_dataset

    ds = load_dataset("json", data_files=str(tmp_path / "trl" / "data.jsonl"), split="train",
                      cache_dir=str(tmp_path / "cache"))
    ds = ds.cast_column("images", List(Image()))
    assert len(ds) == len(want)
    row = ds[0]
    user, assistant = row["messages"]
    assert [p["type"] for p in user["content"]] == ["image"] * 3 + ["text"]
    assert assistant["content"][0]["type"] == "text" and assistant["content"][0]["text"]
    assert len(row["images"]) == 3 and row["images"][0].size[1] == 32 or row["images"][0].size[0] == 32


def test_grpo_rows_are_prompts_with_labels_as_ground_truth(tmp_path, world):
    store, root, published = world
    export(store, tmp_path / "grpo", "grpo", video_root=root, num_frames=2, frame_size=32)
    rows = [json.loads(x) for x in (tmp_path / "grpo" / "data.jsonl").read_text().splitlines()]
    want = {r["id"]: r for r in _expected(published)}
    assert {r["id"] for r in rows} == set(want)
    for r in rows:
        assert "messages" not in r and [m["role"] for m in r["prompt"]] == ["user"]
        assert [p["type"] for p in r["prompt"][0]["content"]] == ["image", "image", "text"]
        assert r["prompt"][0]["content"][-1]["text"] == want[r["id"]]["question"]
        assert isinstance(r["labels"], str)
        specs = json.loads(r["labels"])
        assert [s["type"] for s in specs] == [s["type"] for s in want[r["id"]]["labels"]]
        assert Path(r["video"]).is_file() and all(Path(p).is_file() for p in r["images"])


def test_grpo_answer_format_think_asks_for_the_tags(tmp_path, world):
    from vstar_data.rewards import THINK_INSTRUCTION

    store, root, published = world
    export(store, tmp_path / "think", "grpo", video_root=root, num_frames=1, frame_size=16, answer_format="think")
    want = {r["id"]: r for r in _expected(published)}
    rows = [json.loads(x) for x in (tmp_path / "think" / "data.jsonl").read_text().splitlines()]
    assert rows and all(r["prompt"][0]["content"][-1]["text"] == f"{want[r['id']]['question']}\n{THINK_INSTRUCTION}"
                        for r in rows)
    with pytest.raises(ConfigError, match="answer-format"):   # only grpo writes prompts that ask for it
        export(store, tmp_path / "x.json", "llava", answer_format="think")


def test_needs_video_root_and_an_empty_out_folder(tmp_path, world):
    store, root, _ = world
    with pytest.raises(ConfigError, match="needs --video-root"):
        export(store, tmp_path / "x.jsonl", "swift")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(VstarError, match="new or empty folder"):
        export(store, tmp_path / "busy", "llamafactory", video_root=root)
    assert os.listdir(tmp_path / "busy") == ["keep.txt"]
    with pytest.raises(VstarError, match="is a file"):
        export(store, tmp_path / "busy", "swift", video_root=root)


def test_cli_export_prints_the_summary_and_fails_on_bad_input(tmp_path, world):
    from vstar_data.cli import app

    store, root, _ = world
    runner = CliRunner()
    res = runner.invoke(app, ["export", str(store), "--format", "llamafactory", "--video-root", str(root),
                              "--out", str(tmp_path / "lf")])
    assert res.exit_code == 0, res.output
    assert "skipped 1 rows: video_missing" in res.output and "dataset_info.json, vstar.jsonl" in res.output
    res = runner.invoke(app, ["export", str(store), "--format", "swift", "--out", str(tmp_path / "s.jsonl")])
    assert res.exit_code != 0 and "--video-root" in str(res.exception)    # main() prints it, exit 2
    res = runner.invoke(app, ["export", str(store), "--format", "swift", "--video-root", str(tmp_path / "nope"),
                              "--out", str(tmp_path / "s.jsonl")])
    assert res.exit_code != 0 and "video_missing" in str(res.exception) and not (tmp_path / "s.jsonl").exists()


def test_a_plugin_exporter_is_found_by_name(tmp_path, world, clean_registries):
    from vstar_data.dataset.export import Exporter
    from vstar_data.registry import EXPORTERS

    class Ids(Exporter):
        name = "ids"
        needs_video = False

        def begin(self):
            self.fh = self.staging.open("w")

        def add(self, row, video, video_file):
            self.fh.write(row["id"] + "\n")

        def finish(self):
            self.fh.close()

    EXPORTERS.register("ids", Ids)
    store, _, published = world
    report = export(store, tmp_path / "ids.txt", "ids", splits=["test"])
    assert (tmp_path / "ids.txt").read_text().split() == [r["id"] for r in published if r["split"] == "test"]
    assert report.rows == len([r for r in published if r["split"] == "test"])
