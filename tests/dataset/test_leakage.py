"""Held-out leakage (`dataset/leakage.py`) and `vstar-data validate`.

Decisions written by hand before the code:
- same video, no windows on either side               -> leak (a whole video holds every clip)
- same video, [0, 10] vs [9.5, 12]                     -> leak (they share half a second)
- same video, [0, 10] vs [10, 20]                      -> no leak (they only touch at 10 s)
- same video, whole video vs [40, 50]                  -> leak
- another video, same window                           -> no leak
- a release whose `eval` holds kinetics700/000001 (whole video) while config kinetics700 trains
  on it: `push` refuses naming that clip and config, `--allow-leakage` publishes it and the card
  says so, `validate` exits 2 naming the clip and the config; an `eval` on unseen videos is valid.
"""
from __future__ import annotations

import io
import math

import pytest

from vstar_data.dataset.leakage import Clip, HeldOut, find_leaks
from vstar_data.errors import VstarError


@pytest.mark.parametrize("a, b, leaks", [
    (("v.mp4", None, None), ("v.mp4", None, None), True),
    (("v.mp4", 0, 10), ("v.mp4", 9.5, 12), True),
    (("v.mp4", 0, 10), ("v.mp4", 10, 20), False),
    (("v.mp4", None, None), ("v.mp4", 40, 50), True),
    (("v.mp4", 0, 10), ("w.mp4", 0, 10), False),
    (("v.mp4", 30, None), ("v.mp4", 0, 31), True),
    (("v.mp4", 30, None), ("v.mp4", 0, 30), False),
])
def test_clips_leak_when_the_same_video_shares_time(a, b, leaks):
    ca, cb = Clip.of(*a), Clip.of(*b)
    assert ca.overlaps(cb) is leaks and cb.overlaps(ca) is leaks
    found = find_leaks(HeldOut([("e1", ca)]), [("cfg", "shard", "r1", cb)])
    assert bool(found) is leaks


def test_held_out_index_finds_every_overlap_among_many_windows():
    """The bisect shortcut must agree with checking every pair."""
    import random

    rng = random.Random(0)
    held = [(f"e{i}", Clip.of("v", s, s + rng.uniform(0.5, 8))) for i, s in
            enumerate(rng.uniform(0, 100) for _ in range(200))]
    held.append(("whole", Clip.of("w", None, None)))
    index = HeldOut(held)
    for _ in range(500):
        s = rng.uniform(-5, 105)
        clip = Clip.of(rng.choice("vw"), s, s + rng.uniform(0.1, 3))
        assert (index.match(clip) is not None) == any(clip.overlaps(c) for _, c in held)
    assert Clip.of("v", None, None).end == math.inf


def eval_parquet(rows: list[dict]) -> bytes:
    """An `eval/*.parquet` file as the cycle runner writes it (questions + labels, no answers)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Features

    from vstar_data.dataset.rows import features, label_to_struct

    cols = ("id", "source", "task", "split", "video", "clip_start", "clip_end", "question", "template_id", "labels")
    schema = Features({c: features()[c] for c in cols}).arrow_schema
    full = [{"source": "kinetics700", "task": "action_recognition", "split": "eval", "clip_start": None,
             "clip_end": None, "question": "What happens?", "template_id": "t@1",
             "labels": [label_to_struct({"type": "category", "name": "action", "value": "x"})], **r} for r in rows]
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(full, schema=schema), buf)
    return buf.getvalue()


LEAKY = [{"id": "held/1", "video": "kinetics700/videos/000001.mp4"},
         {"id": "held/2", "video": "tal/videos/000002.mp4", "clip_start": 20.0, "clip_end": 40.0}]


def test_push_refuses_a_release_whose_eval_shares_a_clip_unless_allowed(tmp_path, rows_v1):
    from vstar_data.dataset.store import publish, revisions

    store = tmp_path / "store"
    extras = {"eval/00-kinetics700.parquet": eval_parquet(LEAKY)}
    with pytest.raises(VstarError) as err:
        publish(rows_v1, store, "v1", "leaky", extra_files=extras)
    msg = str(err.value)
    assert "kinetics700/videos/000001.mp4 (whole video)" in msg and "config 'kinetics700'" in msg
    assert "tal/videos/000002.mp4 [1-31 s]" in msg and "held/2" in msg and "--allow-leakage" in msg
    assert not store.exists() or not revisions(store)             # nothing was published
    result = publish(rows_v1, store, "v1", "leaky on purpose", extra_files=extras, allow_leakage=True)
    assert result.tag == "v1"
    assert "**Held-out leakage allowed:**" in (store / "README.md").read_text()


def _main_exit(argv, capsys) -> tuple[int, str]:
    from vstar_data.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code, out.out + out.err


def test_cli_push_ships_an_eval_config_under_its_name_and_refuses_a_leak(tmp_path, rows_v1, capsys):
    """`--extra-file NAME=PATH` gives a file its place in the release (the `eval` config's
    eval/*.parquet); a leaking one is refused unless --allow-leakage."""
    held = tmp_path / "held.parquet"
    held.write_bytes(eval_parquet(LEAKY))
    store = tmp_path / "store"
    argv = ["push", str(rows_v1), "--store", str(store), "--tag", "v1", "-m", "m",
            "--extra-file", f"eval/00-kinetics700.parquet={held}"]
    code, out = _main_exit(argv, capsys)
    assert code == 2 and "share a clip with the held-out" in out and "--allow-leakage" in out
    code, out = _main_exit([*argv, "--allow-leakage"], capsys)
    assert code == 0, out
    assert (store / "eval" / "00-kinetics700.parquet").read_bytes() == held.read_bytes()
    code, out = _main_exit(["push", str(rows_v1), "--store", str(store), "--tag", "v2", "-m", "m",
                            "--extra-file", f"../outside={held}"], capsys)
    assert code == 2 and "not allowed" in out


def test_validate_names_the_leaking_clip_and_config_and_passes_a_clean_release(tmp_path, rows_v1, capsys):
    from vstar_data.dataset.store import publish

    store = tmp_path / "store"
    publish(rows_v1, store, "clean", "clean", extra_files={
        "eval/00-kinetics700.parquet": eval_parquet([{"id": "held/9", "video": "elsewhere/9.mp4"}])})
    publish(rows_v1, store, "leaky", "leaky", force=True, allow_leakage=True,
            extra_files={"eval/00-kinetics700.parquet": eval_parquet(LEAKY)})
    code, out = _main_exit(["validate", "--store", str(store), "--tag", "leaky"], capsys)
    assert code == 2
    assert "held-out leakage: config 'kinetics700', data/kinetics700/" in out
    assert "row 'kinetics700/000001': clip kinetics700/videos/000001.mp4 (whole video)" in out
    assert "config 'tal'" in out and "held/2" in out
    code, out = _main_exit(["validate", "--store", str(store), "--tag", "clean"], capsys)
    assert code == 0 and "valid (default=30" in out and "no held-out leakage" in out
    code, out = _main_exit(["validate", "--store", str(store), "--tag", "clean", "--video-root",
                            str(tmp_path / "no-videos")], capsys)
    assert code == 2 and "video 'kinetics700/videos/000001.mp4' not found" in out


def test_validate_reports_counts_default_and_duplicate_ids_each_located(tmp_path, rows_v1, capsys):
    """A hand-edited checkout: a card count off by one, `default` missing a shard, and a shard
    copied under a second name in its config (every id twice)."""
    import shutil

    import yaml

    from vstar_data.dataset.store import checkout, publish

    store = tmp_path / "store"
    publish(rows_v1, store, "v1", "first")
    folder = checkout(store, "v1", tmp_path / "co")
    readme = (folder / "README.md").read_text()
    head, body = readme.split("---\n", 2)[1:]
    meta = yaml.safe_load(head)
    fd = next(c for c in meta["configs"] if c["config_name"] == "finediving")
    shard = fd["data_files"][0]["path"][0]
    copy = shard.replace(".parquet", "-copy.parquet")
    shutil.copy(folder / shard, folder / copy)
    fd["data_files"][0]["path"].append(copy)
    default = next(c for c in meta["configs"] if c["config_name"] == "default")
    ks = next(c for c in meta["configs"] if c["config_name"] == "kinetics700")["data_files"][0]["path"][0]
    for df in default["data_files"]:
        df["path"] = [p for p in df["path"] if p != ks]
    info = next(i for i in meta["dataset_info"] if i["config_name"] == "tal")
    info["splits"][0]["num_examples"] += 1
    (folder / "README.md").write_text("---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n" + body)
    code, out = _main_exit(["validate", "--store", str(folder)], capsys)
    assert code == 2
    assert "id repeated in config 'finediving'" in out and copy in out
    assert f"config 'default', split" in out and f"does not list {ks}" in out
    assert "config 'tal', split" in out and "the card says" in out
