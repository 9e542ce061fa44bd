"""The optional judge stage against a loopback OpenAI-compatible server.

The server's "model" judges like a strict reader (its reply depends on the prompt's answer and
labels: "yes" only when the answer names every label value and holds no hedge), so the test shows
that the prompt carries the answer and the labels, that the reply is parsed and recorded next to
the rules' decision, that `when: ambiguous` asks only about ambiguous answers, that a failing
server is recorded rather than raised, and that the run config wires it into generation.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
from openai_server import LoopbackServer, parse_messages  # noqa: E402

from vstar_data.config import run_config_from_dict  # noqa: E402
from vstar_data.errors import ConfigError  # noqa: E402
from vstar_data.generation.pipeline import GenerationConfig, make_verifier  # noqa: E402
from vstar_data.verify.judge import Judge  # noqa: E402
from vstar_data.verify.verifier import Verifier  # noqa: E402

ACTION = {"type": "category", "name": "action", "value": "abseiling"}
HEDGES = re.compile(r"\b(maybe|perhaps|might|possibly|probably|or)\b", re.I)


class JudgeServer(LoopbackServer):
    """A loopback 'LLM' that answers the judge prompt from its content."""

    prompts: list[str]

    def complete(self, body: dict[str, Any]) -> str:
        prompt, _ = parse_messages(body, decode=False)
        self.prompts.append(prompt)
        labels = re.findall(r"^- \w+ \(\w+\): (.+)$", prompt, re.M)
        answer = prompt.split('"""')[1]
        ok = all(v.lower() in answer.lower() for v in labels) and not HEDGES.search(answer)
        return "Yes." if ok else "No, it does not commit."


@pytest.fixture
def server():
    with JudgeServer(model_name="judge-llm") as srv:
        srv.prompts = []
        yield srv


def _judge(srv: LoopbackServer, when: str = "ambiguous") -> Judge:
    return Judge("openai", "judge-llm", when, {"base_url": srv.url, "backoff": 0.01, "max_backoff": 0.05})


def test_judge_is_asked_about_ambiguous_answers_only(server) -> None:
    v = Verifier("default", judge=_judge(server))
    plain = v.verify([ACTION], "The climber is abseiling down the cliff.")
    assert plain.accepted and not plain.ambiguous and plain.judge is None and server.requests == 0
    hedged = v.verify([ACTION], "The climber might be abseiling.")
    assert not hedged.accepted and hedged.reason == "hedged" and hedged.ambiguous
    assert hedged.judge["verdict"] == "no" and hedged.judge["agrees"] is True and server.requests == 1
    assert "The climber might be abseiling." in server.prompts[-1] and "action (category): abseiling" in server.prompts[-1]
    assert "yes or no" in server.prompts[-1]
    d = hedged.to_dict()
    assert d["ambiguous"] is True and d["judge"]["verdict"] == "no" and d["accepted"] is False


def test_judge_always_and_disagreement_recorded(server) -> None:
    v = Verifier("default", judge=_judge(server, "always"))
    ok = v.verify([ACTION], "The climber is abseiling down the cliff.")
    assert ok.judge["verdict"] == "yes" and ok.judge["agrees"] is True
    # the rules reject (another class named as strongly), this judge does not know the vocabulary
    rival = v.verify([{**ACTION, "vocabulary": ["abseiling", "rock climbing"]}],
                     "Abseiling. Rock climbing.")
    assert not rival.accepted and rival.reason == "competing_value"
    assert rival.judge["verdict"] == "yes" and rival.judge["agrees"] is False
    assert server.requests == 2 and v.judge.counts == {"yes": 2}


def test_judge_failure_is_recorded_not_raised() -> None:
    with JudgeServer(model_name="judge-llm", rule=lambda body, attempt: "error500") as srv:
        srv.prompts = []
        v = Verifier("default", judge=Judge("openai", "judge-llm", "always",
                                            {"base_url": srv.url, "backoff": 0.01, "max_backoff": 0.02,
                                             "max_retries": 1}))
        verdict = v.verify([ACTION], "He is abseiling.")
    assert verdict.accepted and verdict.judge["verdict"] is None and "error" in verdict.judge
    assert v.judge.counts["failed"] == 1


@pytest.mark.parametrize("reply, said", [("Yes.", "yes"), ("no - it hedges", "no"), (" NO", "no"),
                                         ("I think so", None), ("", None)])
def test_reply_parsing(reply: str, said: str | None) -> None:
    assert Judge.parse(reply) == said


def test_judge_config_is_validated_and_off_by_default(tmp_path: Path) -> None:
    base = {"sources": [{"adapter": "kinetics700", "annotations": "a.csv"}], "model": {"pretrained": "m"}}
    assert run_config_from_dict(base, base=tmp_path).judge is None
    assert make_verifier(GenerationConfig(adapter="kinetics700", annotations="a.csv")).judge is None
    rc = run_config_from_dict({**base, "verifier": {"judge": {"backend": "openai", "model": "j", "when": "always"}}},
                              base=tmp_path)
    assert rc.judge == {"backend": "openai", "model": "j", "when": "always"}
    with pytest.raises(ConfigError, match="when"):
        run_config_from_dict({**base, "verifier": {"judge": {"backend": "openai", "when": "sometimes"}}},
                             base=tmp_path)
    with pytest.raises(ConfigError, match="backend"):
        run_config_from_dict({**base, "verifier": {"judge": {"model": "j"}}}, base=tmp_path)
    with pytest.raises(ConfigError, match="when"):
        GenerationConfig(adapter="kinetics700", annotations="a.csv", judge={"backend": "openai", "when": "x"})
    # a run without a judge keeps its signature; a judge changes it
    plain = GenerationConfig(adapter="kinetics700", annotations="a.csv")
    judged = GenerationConfig(adapter="kinetics700", annotations="a.csv", judge={"backend": "openai"})
    assert plain.signature() != judged.signature()


def test_generation_rows_record_the_judge(server, tmp_path: Path, videos_dir: Path) -> None:
    """A generation run with `judge: {when: always}` records the judge's reply on every attempt row
    and counts the replies in the run summary."""
    import json
    import shutil

    from vstar_data.generation.engines.local import LocalEngine

    vdir = tmp_path / "videos"
    vdir.mkdir()
    shutil.copy(videos_dir / "yoga.mp4", vdir / "yoga.mp4")
    csv = tmp_path / "clips.csv"
    csv.write_text("label,youtube_id,time_start,time_end,split\nyoga,yoga,0,10,validate\n")
    cfg = GenerationConfig(adapter="kinetics700", annotations=str(csv), videos=str(vdir), num_frames=2,
                           frame_size=32, progress=False,
                           judge={"backend": "openai", "model": "judge-llm", "when": "always",
                                  "options": {"base_url": server.url}})
    summary = LocalEngine().run(cfg, tmp_path / "run")
    rows = [json.loads(line) for p in sorted((tmp_path / "run" / "attempts").glob("*.jsonl"))
            for line in p.read_text().splitlines() if line.strip()]
    assert rows and all(r["verifier_judge"]["verdict"] in ("yes", "no") for r in rows)
    assert sum(summary.judged[k] for k in ("yes", "no")) == len(rows) == server.requests
    assert summary.to_dict()["judged"]
