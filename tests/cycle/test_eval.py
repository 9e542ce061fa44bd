"""Held-out evaluation with the metrics users recognise: category top-1 against the source's class
list, number MAE / Spearman / within tolerance, interval mIoU and R@1, sequence order; skipped
clips count as wrong; verifier acceptance is its own column."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from vstar_data.backends.template import TemplateBackend
from vstar_data.cli import app
from vstar_data.cycle.evaluation import edit_distance, evaluate, spearman


def test_spearman_matches_the_rank_definition():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486833, rel=1e-6)  # ties: mean ranks
    assert spearman([1], [2]) is None and spearman([1, 1], [1, 2]) is None
    assert edit_distance(["b", "a", "c"], ["a", "b", "c"]) == 2 and edit_distance([], ["a"]) == 1


def _sample(sid: str, *labels: dict, source: str = "src") -> dict:
    return {"id": sid, "source": source, "labels": list(labels)}


def _row(sid: str, answer: str, scores: list[dict] = (), accepted: bool = False, source: str = "src",
         origin: str = "generated") -> dict:
    return {"id": sid, "source": source, "answer": answer, "origin": origin, "accepted": accepted,
            "verifier_scores": list(scores)}


def test_interval_one_predicted_interval_per_answer_and_skips_count_as_misses():
    iv = {"type": "interval", "name": "segment", "start": 0.0, "end": 10.0}
    samples = [_sample(f"s{i}", iv) for i in range(4)]
    rows = [_row("s0", "It happens from 0 to 5 seconds."),                          # IoU 0.5
            _row("s1", "It happens from 0 to 10 seconds, or from 20 to 30 seconds."),  # two differing: miss
            _row("s2", "It happens from 1 to 10 seconds.")]                        # IoU 0.9; s3 skipped
    out = evaluate(samples, rows)["interval"]
    assert out["n"] == 4 and out["skipped"] == 1
    assert out["miou"] == pytest.approx((0.5 + 0 + 0.9 + 0) / 4)
    assert (out["r1@0.3"], out["r1@0.5"], out["r1@0.7"]) == (0.5, 0.5, 0.25)


def test_sequence_exact_order_and_normalised_edit_distance():
    seq = {"type": "sequence", "name": "steps", "value": ["jump", "spin", "land"]}
    samples = [_sample("a", seq), _sample("b", seq), _sample("c", seq)]
    rows = [_row("a", "First jump, then spin, then land."), _row("b", "First spin, then jump, then land.")]
    out = evaluate(samples, rows)["sequence"]
    assert out["exact_order"] == pytest.approx(1 / 3)
    assert out["edit_distance"] == pytest.approx((0 + 2 / 3 + 1) / 3)   # c was skipped: distance 1


def test_number_mae_spearman_within_tolerance_and_acceptance_column():
    def num(v: float) -> dict:
        return {"type": "number", "name": "score", "value": v}

    samples = [_sample("a", num(80.0)), _sample("b", num(70.0)), _sample("c", num(60.0)), _sample("d", num(50.0))]
    rows = [_row("a", "80", [{"name": "score", "type": "number", "passed": True, "value": 82.0}], accepted=True),
            _row("b", "60", [{"name": "score", "type": "number", "passed": False, "value": 60.0}]),
            _row("c", "55", [{"name": "score", "type": "number", "passed": False, "value": 55.0}]),
            _row("a", "80", [{"name": "score", "type": "number", "passed": True, "value": 80.0}],
                 accepted=True, origin="rationalized")]          # rationalized rows are not answers
    out = evaluate(samples, rows)
    assert out["number"]["mae"] == pytest.approx((2 + 10 + 5) / 3) and out["number"]["n_parsed"] == 3
    assert out["number"]["spearman"] == pytest.approx(1.0)
    assert out["number"]["within_tol"] == 0.25 and out["number"]["acceptance"] == 0.25
    assert out["number"]["skipped"] == 1 and out["skipped"] == 1 and out["acceptance"] == 0.25


def test_results_are_reported_per_source_too():
    cat = {"type": "category", "name": "action", "value": "yoga", "synonyms": []}
    samples = [_sample("a", cat, source="one"), _sample("b", cat, source="two")]
    rows = [_row("a", "A person doing yoga.", source="one"), _row("b", "Skiing.", source="two")]
    out = evaluate(samples, rows, {"one": {"action": ["yoga", "skiing"]}, "two": {"action": ["yoga", "skiing"]}})
    assert out["category"]["top1"] == 0.5 and out["accuracy"] == 0.5
    assert out["by_source"]["one"]["category"]["top1"] == 1.0
    assert out["by_source"]["two"]["category"]["top1"] == 0.0 and out["by_source"]["two"]["n"] == 1


class _LabelAnswer(TemplateBackend):
    """Answers from the request's labels (evaluation-metric tests only)."""

    def load(self) -> None:
        from pathlib import Path

        self.classes = [c for c in Path(self.model).read_text().splitlines() if c.strip()]   # --model: a class list
        self._loaded = True

    @property
    def model_name(self) -> str:
        return type(self).__name__


class ListsManyClasses(_LabelAnswer):
    def generate(self, requests):
        out = []
        for r in requests:
            gold = r.labels[0]["value"]
            others = [c for c in self.classes if c != gold][:40]
            out.append("It could be " + ", ".join(others[:20] + [gold] + others[20:]) + ".")
        return out


class NamesTheGoldClass(_LabelAnswer):
    def generate(self, requests):
        return [f"The person in the video is {r.labels[0]['value']}." for r in requests]


class NamesTheGoldClassAndAnother(_LabelAnswer):
    """Commits to the gold class, then names another class of the source: top-1 must not count it
    (the answer names two classes), and neither does generation's verifier, which is given the
    source's classes too (issue 23)."""

    def generate(self, requests):
        out = []
        for r in requests:
            gold = r.labels[0]["value"]
            other = next(c for c in self.classes if c != gold and gold not in c and c not in gold)
            out.append(f"The person in the video is {gold}. Afterwards the person is {other}.")
        return out


@pytest.mark.parametrize("backend, top1", [(ListsManyClasses, 0.0), (NamesTheGoldClass, 1.0),
                                           (NamesTheGoldClassAndAnother, 0.0)])
def test_eval_cli_top1_is_zero_for_class_lists_and_one_for_the_gold_class(backend, top1, clean_registries,
                                                                          kinetics_dir, videos_dir, tmp_path):
    from vstar_data.registry import BACKENDS

    BACKENDS.register("answers-from-labels", backend)
    out = tmp_path / "eval"
    res = CliRunner().invoke(app, ["eval", "kinetics700", "-a", str(kinetics_dir / "local_clips.csv"),
                                   "-v", str(videos_dir), "--split", "validate", "--backend",
                                   "answers-from-labels", "--model", str(kinetics_dir / "label_map_k700.txt"),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    result = json.loads((out / "eval.json").read_text())
    cat = result["category"]
    assert cat["n"] == 7 and cat["skipped"] == 0 and cat["top1"] == top1
    assert result["by_source"]["kinetics700"]["category"]["top1"] == top1
    assert {"top1", "acceptance", "n", "skipped"} <= set(cat)
    assert "top-1" in res.output and "verifier acceptance" in res.output
    if backend is NamesTheGoldClassAndAnother:      # the second class is a rival of the source's vocabulary
        assert cat["acceptance"] == 0.0
        rows = [json.loads(line) for p in sorted(out.rglob("attempts/*.jsonl")) for line in p.read_text().splitlines()]
        assert rows and all(r["reject_reason"] == "competing_value" and r["verifier_vocabulary_reject"]
                            for r in rows if r["origin"] == "generated")


def test_eval_of_a_split_without_rows_exits_non_zero(kinetics_dir, videos_dir, tmp_path):
    res = CliRunner().invoke(app, ["eval", "kinetics700", "-a", str(kinetics_dir / "local_clips.csv"),
                                   "-v", str(videos_dir), "--backend", "template", "--out", str(tmp_path / "e")])
    assert res.exit_code != 0                # the default split is test; this file holds validate only
    assert "split 'test' has no samples; splits present: validate (7)" in str(res.exception)
