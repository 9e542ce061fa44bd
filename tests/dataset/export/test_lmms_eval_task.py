"""The lmms-eval export: a task folder whose YAML lmms-eval can load (read here with a loader that
resolves `!function` the way lmms-eval does), whose docs load with `datasets`, and whose
process_results scores answers with our verifier."""
from __future__ import annotations

import importlib.util
import json
import os

import pytest
import yaml
from factory import make_attempts, write_rows_dir

from vstar_data.dataset.export import export
from vstar_data.dataset.export.lmms_eval import held_out_split
from vstar_data.dataset.store import publish
from vstar_data.errors import ConfigError


def _load_task(folder, name):
    spec = importlib.util.spec_from_file_location(f"vstar_lmms_utils_{id(folder)}", folder / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!function", lambda loader, node: getattr(utils, loader.construct_scalar(node).split(".", 1)[1]))
    return yaml.load((folder / f"{name}.yaml").read_text(), Loader=Loader), utils


@pytest.fixture(scope="module")
def eval_store(tmp_path_factory, videos_dir):
    tmp = tmp_path_factory.mktemp("lmms")
    rows = make_attempts(3, cycle=1, sources=("kinetics700", "finediving"))
    for row in rows:
        row["video"] = "clips/yoga.mp4"
        if row["source"] == "kinetics700":       # publish as train / eval
            row["split"] = "eval" if row["split"] == "validate" else "train"
    publish(write_rows_dir(tmp / "rows", rows), tmp / "store", "v1", "first")
    (tmp / "videos" / "clips").mkdir(parents=True)
    os.symlink(videos_dir / "yoga.mp4", tmp / "videos" / "clips" / "yoga.mp4")
    return tmp / "store", tmp / "videos"


def test_task_folder_loads_and_scores_with_the_verifier(tmp_path, eval_store):
    store, root = eval_store
    report = export(store, tmp_path / "task", "lmms-eval", video_root=root, config="kinetics700")
    assert sorted(os.listdir(tmp_path / "task")) == ["utils.py", "vstar_eval.jsonl", "vstar_eval.yaml"]
    cfg, utils = _load_task(tmp_path / "task", "vstar_eval")      # eval chosen: the held-out split
    assert cfg["task"] == "vstar_eval" and cfg["test_split"] == "eval" and cfg["dataset_path"] == "json"
    assert cfg["output_type"] == "generate_until" and cfg["process_results"] is utils.process_results
    assert [m["metric"] for m in cfg["metric_list"]] == ["vstar_accepted", "vstar_score"]
    from datasets import load_dataset

    docs = load_dataset("json", data_files=cfg["dataset_kwargs"]["data_files"], cache_dir=str(tmp_path / "c"))
    docs = docs[cfg["test_split"]]
    assert len(docs) == report.rows > 0
    doc = docs[0]
    assert cfg["doc_to_visual"](doc) == [str((root / "clips" / "yoga.mp4").resolve())]
    assert cfg["doc_to_text"](doc, {"pre_prompt": "Q: ", "post_prompt": ""}) == "Q: " + doc["question"]
    value = json.loads(doc["labels"])[0]["value"]              # e.g. "action 1"
    assert cfg["process_results"](doc, [f"The person is doing {value}."]) == {"vstar_accepted": 1.0, "vstar_score": 1.0}
    assert cfg["process_results"](doc, ["Somebody waves."]) == {"vstar_accepted": 0.0, "vstar_score": 0.0}


def test_split_choice(tmp_path, eval_store):
    store, root = eval_store
    export(store, tmp_path / "t1", "lmms-eval", video_root=root, config="finediving", splits=["test"],
           task_name="dives")
    cfg, _ = _load_task(tmp_path / "t1", "dives")
    assert cfg["test_split"] == "test"
    with pytest.raises(ConfigError, match="pass --split once"):
        export(store, tmp_path / "t2", "lmms-eval", video_root=root, config="finediving", splits=["train", "test"])
    assert held_out_split(["train", "validation", "test"]) == "test"
    with pytest.raises(ConfigError, match="no held-out split"):
        held_out_split(["train"])
