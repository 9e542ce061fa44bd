'''`lmms-eval`: a task folder for lmms-eval's own runner, scoring a model on the store's held-out
split with our verifier. The folder holds `TASK.yaml` (the task config: local JSON docs, one video
per doc, greedy generation, `process_results` and two mean metrics), `utils.py` (doc_to_visual /
doc_to_text / doc_to_target / process_results; process_results calls `vstar_data.rewards.score_answer`,
so vstar-data must be installed where lmms-eval runs) and `TASK.jsonl` (the docs: id, video as an
absolute path, question, reference answer, labels as a JSON string).

Run: ``python -m lmms_eval --model MODEL --model_args ... --tasks TASK --include_path OUT``.
Metrics: `vstar_accepted` (share of answers the verifier accepts: every label committed to) and
`vstar_score` (mean graded score, see vstar_data.rewards). lmms-eval models read whole videos:
rows with `clip_start` / `clip_end` are counted in the report.
'''
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from .base import RecordExporter, has_window, labels_json, question_and_answer

#: split names taken as held out, in order, when --split is not given
HELD_OUT = ("eval", "test", "validation", "validate", "val")

UTILS = """\"\"\"lmms-eval task utilities written by `vstar-data export --format lmms-eval` (vstar-data).

process_results scores each answer with vstar-data's Parser-Verifier (profile {profile!r}), so
vstar-data must be importable where lmms-eval runs (`pip install vstar-data`).
\"\"\"
import json

PROFILE = {profile!r}


def doc_to_visual(doc):
    return [doc["video"]]


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    kwargs = lmms_eval_specific_kwargs or {{}}
    return f"{{kwargs.get('pre_prompt', '')}}{{doc['question']}}{{kwargs.get('post_prompt', '')}}"


def doc_to_target(doc):
    return doc["answer"]


def process_results(doc, results):
    try:
        from vstar_data.rewards import score_answer
    except ImportError as exc:  # pragma: no cover - depends on the lmms-eval environment
        raise ImportError("this task scores answers with vstar-data's verifier: pip install vstar-data") from exc
    answer = results[0] if results else ""
    scored = score_answer(json.loads(doc["labels"]), answer, profile=PROFILE)
    return {{"vstar_accepted": float(scored["accepted"]), "vstar_score": float(scored["score"])}}
"""

YAML = """# lmms-eval task written by `vstar-data export --format lmms-eval` (vstar-data)
task: {task}
dataset_path: json
dataset_kwargs:
  data_files:
    {split}: {data_file}
test_split: {split}
output_type: generate_until
doc_to_visual: !function utils.doc_to_visual
doc_to_text: !function utils.doc_to_text
doc_to_target: !function utils.doc_to_target
generation_kwargs:
  max_new_tokens: 512
  temperature: 0
  do_sample: false
process_results: !function utils.process_results
metric_list:
  - metric: vstar_accepted
    aggregation: mean
    higher_is_better: true
  - metric: vstar_score
    aggregation: mean
    higher_is_better: true
lmms_eval_specific_kwargs:
  default:
    pre_prompt: ""
    post_prompt: ""
metadata:
  - version: 0.0
"""


def held_out_split(available: list[str]) -> str:
    """The held-out split of a store: the first of HELD_OUT it has."""
    for name in HELD_OUT:
        if name in available:
            return name
    raise ConfigError(f"no held-out split ({', '.join(HELD_OUT)}) in the store; it has "
                      f"{', '.join(available) or 'none'}; name one with --split", key="split")


class LmmsEvalExporter(RecordExporter):
    name = "lmms-eval"
    kind = "folder"
    absolute_paths = True
    description = "lmms-eval task folder (task YAML + utils.py scoring with our verifier) for one held-out split"
    profile = "default"

    @classmethod
    def select_splits(cls, available: list[str], requested: list[str] | None) -> list[str] | None:
        return [held_out_split(available)] if not requested else requested

    def begin(self) -> None:
        splits = self.options.splits
        if not splits or len(splits) != 1:
            raise ConfigError("format 'lmms-eval' scores one held-out split: pass --split once "
                              f"(e.g. --split test; held-out names: {', '.join(HELD_OUT)})", key="split")
        self.split = splits[0]
        task = self.options.task_name or f"vstar_{self.split}"
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", task):
            raise ConfigError(f"task name {task!r} must be letters, digits and underscores", key="task_name")
        self.task = task
        super().begin()

    def data_path(self) -> Path:
        return self.staging / f"{self.task}.jsonl"

    def record(self, row: dict[str, Any], video: str | None, video_file: Any) -> dict[str, Any]:
        question, answer = question_and_answer(row)
        if has_window(row):
            self.report.notes["use the whole clip (lmms-eval models read whole videos)"] += 1
        return {"id": row["id"], "source": row.get("source"), "task": row.get("task"),
                "video": video, "question": question, "answer": answer, "labels": labels_json(row)}

    def finish(self) -> None:
        super().finish()
        data_file = self.out.resolve() / f"{self.task}.jsonl"
        (self.staging / f"{self.task}.yaml").write_text(
            YAML.format(task=self.task, split=self.split, data_file=json.dumps(str(data_file))), "utf-8")
        (self.staging / "utils.py").write_text(UTILS.format(profile=self.profile), "utf-8")
