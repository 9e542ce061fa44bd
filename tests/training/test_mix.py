"""`training.mix`: general instruction rows (video, image, text only) drawn from LLaVA-format files
and dataset folders, read by row offsets, checked and counted; the trainer encodes all three kinds."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from vstar_data.errors import ConfigError, SkipRecord
from vstar_data.training import rowfile
from vstar_data.training.mix import configured_mix, draw_mix, mix_problems
from vstar_data.training.rowfile import RowFile

from .conftest import QUESTION, llava_rows


def _image(path: Path, seed: int = 0) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (40, 56, 3), dtype=np.uint8)).save(path)
    return path


def _instruction_rows(n_video: int, n_image: int, n_text: int) -> list[dict]:
    """LLaVA-665K / VideoInstruct shapes: `video` rows, multi-turn `image` rows, text-only rows."""
    rows = [{**r, "id": f"v{i}"} for i, r in enumerate(llava_rows(n_video))]
    rows += [{"id": f"i{i}", "image": f"coco/{i % 2}.png", "model": "",
              "conversations": [{"from": "human", "value": "<image>\nWhat colour dominates?"},
                                {"from": "gpt", "value": "Mostly grey."},
                                {"from": "human", "value": "Anything else?"},
                                {"from": "gpt", "value": "No."}]} for i in range(n_image)]
    rows += [{"id": f"t{i}", "conversations": [{"from": "human", "value": "Say hi."},
                                               {"from": "gpt", "value": "Hi!"}]} for i in range(n_text)]
    return rows


@pytest.fixture
def media(clip_root: Path) -> Path:
    """The clip root with two images beside the clips (coco/0.png, coco/1.png)."""
    for i in range(2):
        if not (clip_root / "coco" / f"{i}.png").exists():
            _image(clip_root / "coco" / f"{i}.png", seed=i)
    return clip_root


def test_mix_config_problems_are_all_reported_and_located(tmp_path):
    data = tmp_path / "llava.json"
    data.write_text("[]")
    bad = [{"path": str(data), "share": 0.5, "rows": 3},          # both
           {"path": str(data)},                                   # neither
           {"path": str(tmp_path / "gone.json"), "share": 0},     # missing file, share <= 0
           {"path": str(data), "rows": 2, "media_root": str(tmp_path / "nope"), "colour": 1},
           {"path": str(data), "rows": 1.5, "name": "llava"}]     # name clashes with the stem of [0]
    problems = mix_problems(bad)
    expect = ["training/mix/0: give exactly one of", "training/mix/1: give exactly one of",
              "training/mix/2/path: " + str(tmp_path / "gone.json") + " does not exist",
              "training/mix/2/share: a number > 0", "training/mix/3/colour: unknown key",
              "training/mix/3/media_root:", "training/mix/4/rows: an integer >= 1",
              "two sources are named 'llava'"]
    for needle in expect:
        assert any(needle in p for p in problems), (needle, problems)
    assert len(problems) == len(expect)
    with pytest.raises(ConfigError) as err:
        configured_mix({"mix": bad})
    assert err.value.problems == problems
    ok = configured_mix({"mix": [{"path": str(data), "share": 2}], "epochs": 1})
    assert [(s.name, s.media_root, s.wanted(10)) for s in ok] == [("llava", str(tmp_path), 20)]
    assert configured_mix({"epochs": 1}) == []


def test_json_list_rows_are_read_back_by_offset_across_chunks(tmp_path, monkeypatch):
    rows = _instruction_rows(3, 3, 3)
    rows[4]["conversations"][1]["value"] = "Grau, gr\u00fcn und \u6f22\u5b57 \u2013 " + "x" * 300
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=2), "utf-8")
    monkeypatch.setattr(rowfile, "CHUNK", 64)             # rows cut by the chunk many times over
    reads: list[int] = []
    real_open = Path.open

    def recording_open(self, *a, **k):
        fh = real_open(self, *a, **k)
        read = fh.read
        fh.read = lambda n=-1: reads.append(n) or read(n)
        return fh
    monkeypatch.setattr(Path, "open", recording_open)
    with RowFile(path) as table:
        longest = max(len(json.dumps(r, ensure_ascii=False, indent=2)) for r in rows) + 64
        assert len(reads) > 3 and max(reads) <= 2 * longest     # the scan holds about a row, never the file
        assert len(table) == len(rows)
        assert [table[i] for i in (8, 4, 0, 4)] == [rows[8], rows[4], rows[0], rows[4]]
    lines = tmp_path / "rows.jsonl"
    lines.write_text(json.dumps(rows[0]) + "\n\n{not json\n" + json.dumps(rows[1]) + "\n", "utf-8")
    with RowFile(lines) as table:
        assert len(table) == 3 and table[2] == rows[1]
        with pytest.raises(SkipRecord, match="row 1: malformed_row"):
            table[1]
    for text, needle in (('{"id": 1}', "does not start with '['"), ('[{"a": 1} {"b": 2}]', "after row 0"),
                         ('[{"a": 1},', "ends before its closing"), ('[{"a": tru}]', "row 0 is not valid JSON")):
        path.write_text(text)
        with pytest.raises(ConfigError, match=re.escape(needle)):
            RowFile(path)


def test_draw_mixes_share_of_cycle_rows_replacing_bad_rows_and_counting(tmp_path, media, caplog):
    rows = _instruction_rows(2, 3, 2)
    rows += [{"id": "gone", "image": "coco/missing.png", "conversations": rows[2]["conversations"]},
             {"id": "esc", "video": "../x.mp4", "conversations": rows[0]["conversations"]},
             {"id": "abs", "video": str(media / "clips" / "c0.mp4"), "conversations": rows[0]["conversations"]},
             {"id": "two", "video": ["clips/c0.mp4", "clips/c1.mp4"], "conversations": rows[0]["conversations"]}]
    path = tmp_path / "llava_mix.json"
    path.write_text(json.dumps(rows), "utf-8")
    src = configured_mix({"mix": [{"path": str(path), "media_root": str(media), "share": 0.5}]})
    draw = draw_mix(src, own_rows=10, seed=3)          # 5 of 7 usable rows
    ids = [r["id"] for r in draw.rows]
    assert len(ids) == 5 and len(set(ids)) == 5 and all(i.startswith("mix/llava_mix/") for i in ids)
    usable = {r["id"] for r in rows[:7]}
    assert {i.rsplit("/", 1)[1] for i in ids} <= usable
    by_id = {r["id"]: r for r in rows}
    for out in draw.rows:
        raw = by_id[out["id"].rsplit("/", 1)[1]]
        assert len(out["conversations"]) == len(raw["conversations"])    # every turn kept
        for kind in ("video", "image"):
            assert (kind in out) == (kind in raw)
            if kind in raw:
                assert out[kind] == str(media / raw[kind]) and Path(out[kind]).is_file()
    assert draw.counts == {"llava_mix": 5} and draw.short == {"llava_mix": 0}
    assert draw_mix(src, own_rows=10, seed=3).rows == draw.rows           # a re-run draws the same
    assert [r["id"] for r in draw_mix(src, own_rows=10, seed=4).rows] != ids  # the next cycle another draw
    everything = draw_mix(src, own_rows=40, seed=3)                       # asks for 20 of 7
    assert everything.counts == {"llava_mix": 7} and everything.short == {"llava_mix": 13}
    assert everything.skipped == {"llava_mix": {"image_missing": 1, "unsafe_path": 2, "multi_media": 1}}
    assert everything.summary() == "llava_mix 7 of 20 (13 short, 4 skipped)"
    assert "asks for 20 rows, but it has only 7 usable of 11" in caplog.text
    assert "coco/missing.png" in caplog.text                              # skips are located
    assert draw_mix(src, own_rows=0, seed=3).counts == {"llava_mix": 0}   # no rows of its own: no mix


def test_dataset_folder_source_with_rows_count(tmp_path, media):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _instruction_rows(2, 2, 2)
    (tmp_path / "vi" / "data").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([{"video": None, "image": None, **r} for r in rows]),
                   tmp_path / "vi" / "data" / "train-00000-of-00001.parquet")
    src = configured_mix({"mix": [{"path": str(tmp_path / "vi"), "media_root": str(media), "rows": 4,
                                   "name": "videoinstruct"}]})
    draw = draw_mix(src, own_rows=1, seed=0)
    assert draw.counts == {"videoinstruct": 4} and not draw.skipped["videoinstruct"]
    kinds = {("video" in r) + 2 * ("image" in r) for r in draw.rows}
    assert kinds <= {0, 1, 2} and all(r["id"].startswith("mix/videoinstruct/") for r in draw.rows)


def test_video_image_and_text_rows_encode_into_one_batch(tiny_model, media):
    """The trainer's dataset encodes the three kinds (an image as an image, or as a one-frame video
    for a processor without an image processor); the collator pads them into one batch that the
    model takes with a loss."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from vstar_data.training.data import IGNORE_INDEX, PadCollator, VideoChatDataset, check_row

    rows = [check_row(r, i, str(media)) for i, r in enumerate(_instruction_rows(1, 1, 1))]
    assert [r["media"] for r in rows] == ["video", "image", None]
    proc = AutoProcessor.from_pretrained(tiny_model("qwen2_vl"))
    ds = VideoChatDataset(rows, proc, num_frames=2, frame_size=32)
    items = [ds.encode_row(r) for r in rows]
    assert "pixel_values_videos" in items[0] and "pixel_values" in items[1]
    assert not {"pixel_values", "pixel_values_videos"} & set(items[2])
    for item, answer in zip(items, ("The person is playing guitar.", "Mostly grey.No.", "Hi!")):
        labels = item["labels"][0]
        said = proc.tokenizer.decode(labels[labels != IGNORE_INDEX]).replace("<|im_end|>", "")
        assert said.replace("\n", "") == answer                           # every assistant turn, nothing else
    batch = PadCollator(proc.tokenizer.pad_token_id)(items[::-1])          # text-only row first
    assert batch["input_ids"].shape[0] == 3 and {"pixel_values", "pixel_values_videos"} <= set(batch)
    model = AutoModelForImageTextToText.from_pretrained(tiny_model("qwen2_vl"))
    with torch.no_grad():
        assert torch.isfinite(model(**batch).loss)

    proc.image_processor = None                                            # a video-only model
    as_video = VideoChatDataset(rows, proc, num_frames=2, frame_size=32).encode_row(rows[1])
    assert "pixel_values_videos" in as_video and "pixel_values" not in as_video
    assert int(as_video["video_grid_thw"][0, 0]) == 1                      # one frame (one temporal patch)


@pytest.mark.parametrize("name", sorted(p.name for p in (Path(__file__).parents[2] / "configs").glob("run_*.yaml")))
def test_shipped_run_configs_use_only_real_training_settings(name):
    """A shipped GPU run config may name data that is not on this machine, nothing else."""
    from vstar_data.config import load_run_config
    from vstar_data.training.checks import settings_problems

    rc = load_run_config(Path(__file__).parents[2] / "configs" / name)
    problems = settings_problems(rc.training)
    assert all(p.endswith("does not exist") or "is not a directory" in p for p in problems), problems
    assert len(problems) == 2 * len(rc.training.get("mix", []))          # each mix source's file and folder
