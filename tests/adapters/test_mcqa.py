"""TempCompass-style adapter: the four question formats, meta_info.json, ids and located skips."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa_factory import TEMPCOMPASS_SKIPS, write_tempcompass
from video_factory import contract_inputs, placeholder_videos
from vstar_data.adapters.mcqa import MCQAAdapter, parse_captioning
from vstar_data.cli import app
from vstar_data.errors import AnnotationError
from vstar_data.testing.adapters import AdapterContract
from vstar_data.verify.verifier import Verifier


class TestMCQAContract(contract_inputs(lambda tmp: write_tempcompass(tmp / "TempCompass"),
                                       lambda tmp: placeholder_videos(tmp / "videos_root",
                                                                      ["videos/1034419625.mp4", "2222.gif"])),
                       AdapterContract):
    adapter = "mcqa"


def _by_id(root: Path) -> tuple[dict, MCQAAdapter]:
    ad = MCQAAdapter(root)
    return {s.id: s for s in ad.samples()}, ad


def test_formats_become_labels(tmp_path: Path) -> None:
    s, ad = _by_id(write_tempcompass(tmp_path))
    mc = s["1034419625/multi-choice/action/1"]
    assert mc.task == "action" and mc.split == "test" and mc.video == "1034419625.mp4"
    assert mc.labels == [{"type": "choice", "name": "answer", "correct": 2,
                          "options": ["passing a basketball", "dribbling a basketball", "dunking a basketball"]}]
    assert mc.context["question"].startswith("Which activity is the man engaged in?\nA. passing")
    assert mc.metadata["meta_info"] == {"eval_dim": {"subject": "man", "action": "dunking",
                                                     "type": "fine-grained action"}, "content": ["people"]}
    assert s["1034419625/yes_no/action/1"].labels == [{"type": "boolean", "name": "answer", "value": False}]
    cm = s["1034419625/caption_matching/action/0"]
    assert cm.labels[0]["options"] == ["The man is dribbling a basketball.", "A man is dunking a basketball."]
    assert cm.labels[0]["correct"] == 1 and cm.metadata["option_labels"] == ["Option 1", "Option 2"]
    assert s["1034419625/caption_matching/action/1"].labels[0]["correct"] == 0
    assert s["2222/caption_matching/order/0"].labels[0]["correct"] == 1
    cap = s["1034419625/captioning/action/0"]
    assert cap.labels == [{"type": "choice", "name": "answer", "correct": 1, "select_by": "text", "min_similarity": 0.3,
                           "options": ["dribbling a basketball", "dunking a basketball", "passing a basketball"]}]
    assert s["2222/captioning/attribute_change/0"].labels[0]["options"] == ["turning brighter", "turning darker"]
    assert s["1034419625_reverse/multi-choice/direction/0"].task == "direction"


def test_skips_are_located(tmp_path: Path) -> None:
    s, ad = _by_id(write_tempcompass(tmp_path))
    assert dict(ad.stats.skipped) == TEMPCOMPASS_SKIPS
    keys = {sk.key for sk in ad.skips}
    assert {"2222/multi-choice/speed/1", "2222/multi-choice/speed/2", "2222/yes_no/speed/0",
            "2222/tempo"} == keys
    assert all(sk.file.endswith(".json") for sk in ad.skips)
    assert len(s) == 13


def test_a_folder_of_question_files_or_one_file(tmp_path: Path) -> None:
    root = write_tempcompass(tmp_path / "tc")
    from_folder, _ = _by_id(root / "questions")
    assert len(from_folder) == 13 and from_folder["1034419625/multi-choice/action/0"].metadata["meta_info"]
    one, _ = _by_id(root / "questions" / "yes_no.json")
    assert sorted(one) == ["1034419625/yes_no/action/0", "1034419625/yes_no/action/1"]
    with pytest.raises(AnnotationError, match="no question files"):
        list(MCQAAdapter(tmp_path).samples())


@pytest.mark.parametrize("answer, reason", [("D. dunking a basketball", "answer_names_no_option"),
                                            ("A. swimming", "answer_disagrees"), ("dunking", "answer_names_no_option")])
def test_answers_that_name_no_option_are_skipped(tmp_path: Path, answer: str, reason: str) -> None:
    q = "What is the man doing?\nA. dunking a basketball\nB. dribbling a basketball\nC. passing a basketball"
    qdir = tmp_path / "questions"
    qdir.mkdir()
    (qdir / "multi-choice.json").write_text(json.dumps({"v1": {"action": [{"question": q, "answer": answer}]}}))
    s, ad = _by_id(tmp_path)
    assert not s and ad.stats.skipped[reason] == 1


def test_captioning_option_text_is_the_differing_value() -> None:
    q = ("Caption it.\nInformation A: {'subject': 'man', 'direction': 'moving left'}\n"
         "Information B: {'subject': 'woman', 'direction': 'moving right'}\nGenerated Caption:")
    options, k, infos = parse_captioning(q, "B. woman, moving right")
    assert options == ["man, moving left", "woman, moving right"]
    assert k == 1 and infos[1]["subject"] == "woman"


def test_template_answers_verify_and_wrong_ones_do_not(tmp_path: Path) -> None:
    """The labels are what the verifier checks: the right letter, line or caption passes, others fail."""
    s, _ = _by_id(write_tempcompass(tmp_path))
    v = Verifier("default")
    cases = [("1034419625/multi-choice/action/1", "C", "A"),
             ("1034419625/yes_no/action/1", "No, he is not.", "Yes."),
             ("1034419625/caption_matching/action/0", "Option 2", "Option 1: The man is dribbling a basketball."),
             ("1034419625/captioning/action/0", "A man dunks a basketball.", "B"),
             ("2222/caption_matching/order/0", "Caption B: The car starts, then stops.", "Caption A")]
    for sid, good, bad in cases:
        assert v.verify(s[sid].labels, good).accepted, (sid, good)
        assert not v.verify(s[sid].labels, bad).accepted, (sid, bad)


def test_cli_samples_on_the_benchmark_root_has_no_unexplained_skips(tmp_path: Path) -> None:
    root = write_tempcompass(tmp_path / "TempCompass", clean=True)
    out = tmp_path / "samples.jsonl"
    res = CliRunner().invoke(app, ["samples", "mcqa", "--annotations", str(root), "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(rows) == 13 and "skipped" not in res.output
    assert {r["task"] for r in rows} == {"action", "direction", "speed", "order", "attribute_change"}
    assert all(r["id"].count("/") == 3 for r in rows)
