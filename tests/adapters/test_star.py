"""STAR adapter: the question file / class files / video_fps shapes, every derived task, located skips."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa_factory import FPS, star_questions, write_star
from video_factory import contract_inputs, placeholder_videos
from vstar_data.adapters.star import STARAdapter
from vstar_data.cli import app
from vstar_data.errors import AnnotationError, ConfigError
from vstar_data.sources.safe_pickle import UnsafePickleError
from vstar_data.testing.adapters import AdapterContract


class TestSTARContract(contract_inputs(lambda tmp: write_star(tmp / "star"),     # 6H78U is found; YSE1G is missing
                                       lambda tmp: placeholder_videos(tmp / "Charades", ["Charades_v1_480/6H78U.mp4"])),
                       AdapterContract):
    adapter = "star"


def _samples(path: Path, **kw) -> tuple[list, STARAdapter]:
    ad = STARAdapter(path, **kw)
    return list(ad.samples()), ad


def test_every_task_from_one_question(tmp_path: Path) -> None:
    samples, ad = _samples(write_star(tmp_path))
    by_id = {s.id: s for s in samples}
    qa = by_id["Interaction_T1_13"]
    assert qa.task == "star_qa" and qa.split == "val" and qa.video == "6H78U.mp4"
    assert (qa.clip_start, qa.clip_end) == (11.1, 19.6)
    assert qa.labels == [{"type": "choice", "name": "answer", "correct": 0,
                          "options": ["The clothes.", "The bag.", "The broom.", "The picture."]},
                         {"type": "text", "name": "answer_text", "value": "The clothes.", "min_similarity": 0.5}]
    assert qa.context["question"] == "Which object was put down by the person?"
    assert qa.context["options"].splitlines()[1] == "B. The bag."
    open_qa = by_id["Interaction_T1_13/open"]
    assert open_qa.task == "star_open_qa" and open_qa.labels == [qa.labels[1]]
    when = by_id["Interaction_T1_13/when"]
    assert when.task == "temporal_localization" and when.clip_start is None
    assert when.labels == [{"type": "interval", "name": "segment", "start": 11.1, "end": 19.6}]
    assert when.context == {"action": "put clothes somewhere"}       # a001: in all three keyframes
    assert when.metadata["verb_object"] == ["v007", "o019"]
    where = by_id["Interaction_T1_13/where"]
    # middle keyframe 000330 at (330 - 1) / 24 fps = 13.708 s, 2.608 s into the clip; o014 is boxed once
    assert where.labels == [{"type": "bbox", "name": "object", "box": [5.0, 5.0, 60.0, 90.0], "frame_time": 2.608,
                             "coords": "pixels"}]
    assert where.context == {"object": "bag", "time": "2.608"} and where.metadata["frame_id"] == "000330"


def test_skips_and_notes_are_located_and_counted(tmp_path: Path) -> None:
    samples, ad = _samples(write_star(tmp_path))
    # question 5: its answer is not a choice, and it has no keyframes for the when/where questions
    assert dict(ad.stats.skipped) == {"answer_not_in_choices": 1, "bad_situations": 1, "bad_video_id": 1}
    assert all(s.file and s.row is not None for s in ad.skips)
    assert {s.row for s in ad.skips} == {5, 6}
    # Prediction_T3_42 boxes the clothes twice; Interaction_T2_8 repeats Feasibility_T5_3's when and where
    assert dict(ad.stats.notes) == {"where_no_single_boxed_object": 1, "when_duplicate_of_earlier_question": 1,
                                    "where_duplicate_of_earlier_question": 1}
    assert "Prediction_T3_42/where" not in {s.id for s in samples}
    assert len(samples) == 5 * 2 + 4 + 3


def test_a_single_question_object_and_qa_tasks_without_class_files(tmp_path: Path) -> None:
    one = star_questions()[0]
    path = tmp_path / "sample.json"
    path.write_text(json.dumps(one), "utf-8")
    with pytest.raises(AnnotationError, match="class files"):
        list(STARAdapter(path).samples())
    samples, _ = _samples(path, options={"tasks": "star_qa,star_open_qa"})
    assert [s.id for s in samples] == ["Interaction_T1_13", "Interaction_T1_13/open"]
    assert samples[0].split == "sample"
    with pytest.raises(ConfigError, match="unknown tasks"):
        STARAdapter(path, options={"tasks": "star_qa,when"})


def test_video_fps_is_read_with_the_restricted_unpickler(tmp_path: Path) -> None:
    path = write_star(tmp_path)
    fps_file = tmp_path / "STAR_classes" / "video_fps"

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    fps_file.write_bytes(pickle.dumps({"6H78U.mp4": Evil()}))
    with pytest.raises(UnsafePickleError, match="builtins.print"):
        list(STARAdapter(path).samples())
    fps_file.write_bytes(pickle.dumps(["not", "a", "dict"]))
    with pytest.raises(AnnotationError, match="video_fps must be"):
        list(STARAdapter(path).samples())
    fps_file.write_bytes(pickle.dumps({k: v for k, v in FPS.items() if k != "YSE1G.mp4"}))
    samples, ad = _samples(path)
    assert ad.stats.skipped["no_fps"] == 3 and "Feasibility_T5_3/where" not in {s.id for s in samples}


def test_bad_class_line_is_named(tmp_path: Path) -> None:
    path = write_star(tmp_path)
    (tmp_path / "STAR_classes" / "action_classes.txt").write_text("a000 hold some clothes\nbroken\n", "utf-8")
    with pytest.raises(AnnotationError, match=r"action_classes.txt, row 2: expected"):
        list(STARAdapter(path).samples())


@pytest.mark.parametrize("change, reason", [
    ({"question_id": "Counting_T1_1"}, "bad_question_id"), ({"start": 5.0, "end": 5.0}, "bad_window"),
    ({"answer": None}, "missing_answer"), ({"choices": [{"choice_id": 0, "choice": "x"}]}, "bad_choices"),
    ({"situations": {"frame-1": {}}}, "bad_situations"), ({"video_id": "a/b"}, "bad_video_id"),
])
def test_malformed_questions_are_located_skips(tmp_path: Path, change: dict, reason: str) -> None:
    q = {**star_questions()[0], **change}
    _, ad = _samples(write_star(tmp_path, questions=[q]))
    assert ad.stats.skipped[reason] == 1 and ad.skips[0].row == 0


def test_cli_samples_on_a_folder_has_no_unexplained_skips(tmp_path: Path) -> None:
    clean = [q for q in star_questions() if q["question_id"] not in ("Interaction_T1_99", "Interaction_T1_100")]
    root = tmp_path / "star"
    write_star(root, questions=clean)
    (root / "split_file.json").write_text(json.dumps({"train": [], "val": ["6H78U"]}), "utf-8")   # not questions
    out = tmp_path / "samples.jsonl"
    res = CliRunner().invoke(app, ["samples", "star", "--annotations", str(root), "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(rows) == 17 and "skipped" not in res.output
    assert {r["task"] for r in rows} == {"star_qa", "star_open_qa", "temporal_localization", "object_localization"}


def test_objects_present_as_an_opt_in_constraint(tmp_path: Path) -> None:
    """Option constraints=objects (issue 26): the QA samples carry the objects the situation
    graph boxes; an answer asserting another known object contradicts it, a boxed one does not."""
    from vstar_data.verify.verifier import Verifier

    path = write_star(tmp_path)
    plain = {s.id: s for s in _samples(path)[0]}
    samples, _ = _samples(path, options={"constraints": "objects"})
    qa = {s.id: s for s in samples}["Interaction_T1_13"]
    assert qa.labels[:2] == plain["Interaction_T1_13"].labels         # targets unchanged
    (objects,) = qa.labels[2:]
    present = [objects["value"], *objects["allowed"]]
    assert objects["role"] == "constraint" and "bag" in present and "person" not in objects["vocabulary"]
    absent = next(n for n in objects["vocabulary"] if n not in present and " " not in n and "/" not in n)
    verifier = Verifier("default")          # (a category target: the text label would load an embedder)
    target = {"type": "category", "name": "held", "value": present[0]}
    assert verifier.verify([target, objects], f"The person holds the {present[0]}.").accepted
    bad = verifier.verify([target, objects], f"The person holds the {present[0]} and the {absent}.")
    assert bad.reason == "contradicts" and bad.results[1].matched == absent
    with pytest.raises(ConfigError, match="constraints"):
        STARAdapter(path, options={"constraints": "everything"})
