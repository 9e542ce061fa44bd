"""Where training rows come from: a dataset folder (parquet, HF no-code layout), a store release,
and the per-row fallbacks of the dataset (an undecodable clip is replaced, not fatal)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from vstar_data.errors import ConfigError
from vstar_data.training.recipe import DONE_FILE, TrainConfig, train
from vstar_data.training.data import VideoChatDataset, data_fingerprint, load_rows

from .conftest import llava_rows


def _write_parquet(folder: Path, rows: list[dict], split: str = "train") -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (folder / "data").mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([{**r, "source": "shapes", "clip_start": r.get("clip_start"),
                                   "clip_end": r.get("clip_end")} for r in rows])
    pq.write_table(table, folder / "data" / f"{split}-00000-of-00001.parquet")


def test_dataset_folder_rows_with_clip_windows(tmp_path, clip_root):
    rows = llava_rows(3)
    rows[1]["clip_start"], rows[1]["clip_end"] = 0.25, 0.75
    _write_parquet(tmp_path / "ds", rows)
    _write_parquet(tmp_path / "ds", llava_rows(1), split="test")
    got, skipped = load_rows(str(tmp_path / "ds"), split="train", videos=str(clip_root))
    assert [r["id"] for r in got] == ["s0", "s1", "s2"] and not skipped
    assert (got[1]["clip_start"], got[1]["clip_end"]) == (0.25, 0.75) and got[0]["clip_start"] is None
    assert got[0]["conversations"][1] == {"from": "assistant", "value": rows[0]["conversations"][1]["value"]}
    assert len(load_rows(str(tmp_path / "ds"), split="test", videos=str(clip_root))[0]) == 1
    with pytest.raises(ConfigError, match="split"):
        load_rows(str(tmp_path / "ds"), split="validation", videos=str(clip_root))


def test_fingerprint_follows_content_not_names(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(llava_rows(2)))
    b.write_text(json.dumps(llava_rows(2)))
    assert data_fingerprint(str(a)) == data_fingerprint(str(b))
    b.write_text(json.dumps(llava_rows(3)))
    assert data_fingerprint(str(a)) != data_fingerprint(str(b))


def _store_with_two_releases(path: Path) -> None:
    """A store whose `cycle-0` has 2 rows and `cycle-1` 4 (written through git, as publish does)."""
    from vstar_data.dataset.store import Store

    st = Store.open(path)
    for tag, n in (("cycle-0", 2), ("cycle-1", 4)):
        _write_parquet(path, llava_rows(n))
        st.git("add", "-A")
        st.git("commit", "-q", "-m", f"release {tag}")
        st.git("tag", tag)


def test_store_revision_trains_on_that_release(tiny_model, clip_root, tmp_path):
    store = tmp_path / "store"
    _store_with_two_releases(store)
    base = dict(model=str(tiny_model("qwen2_vl")), data=str(store), videos=str(clip_root), num_frames=2,
                frame_size=32, max_steps=1, global_batch_size=1, dataloader_workers=0)
    c0 = TrainConfig(**base, revision="cycle-0", output_dir=str(tmp_path / "c0"))
    c1 = TrainConfig(**base, revision="cycle-1", output_dir=str(tmp_path / "c1"))
    assert c0.signature() != c1.signature()
    assert train(c0).rows == 2 and train(c1).rows == 4
    assert json.loads((tmp_path / "c0" / DONE_FILE).read_text())["config"]["revision"] == "cycle-0"
    assert not list(tmp_path.glob(".c0.*")) and not list(tmp_path.glob(".c1.*"))  # checkouts removed
    with pytest.raises(ConfigError, match="no release tagged"):
        TrainConfig(**base, revision="cycle-9", output_dir=str(tmp_path / "c9")).signature()
    with pytest.raises(ConfigError, match="store folder"):
        TrainConfig(**{**base, "data": str(tmp_path / "c0")}, revision="cycle-0", output_dir=str(tmp_path / "x"))


def test_undecodable_clip_is_replaced_by_the_next_row(tiny_model, clip_root, tmp_path, caplog):
    from transformers import AutoProcessor

    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "c0.mp4").write_bytes(b"not a video")
    (tmp_path / "clips" / "c1.mp4").write_bytes((clip_root / "clips" / "c1.mp4").read_bytes())
    data = tmp_path / "rows.json"
    data.write_text(json.dumps(llava_rows(2)))
    rows, _ = load_rows(str(data), videos=str(tmp_path))
    ds = VideoChatDataset(rows, AutoProcessor.from_pretrained(tiny_model("qwen2_vl")), num_frames=2, frame_size=32)
    item = ds[0]                                      # row 0 cannot be decoded: row 1 stands in
    assert item["labels"].ne(-100).sum() > 0
    assert "s0 skipped" in caplog.text
    ds.max_length = 5                                 # every row is now too long: a clear error
    with pytest.raises(RuntimeError, match="consecutive training rows"):
        ds[1]
