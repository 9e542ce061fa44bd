"""FineDiving constraint labels from the dive code (issue 26): what the code fixes (somersaults,
twists, position) is checked in every answer, so a right score with the wrong somersaults is
rejected as `contradicts`, and `vstar-data verify --explain` shows the span."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import finediving_factory as F  # noqa: E402

from vstar_data.adapters.dive_code import Dive, parse_dive_code  # noqa: E402
from vstar_data.errors import ConfigError  # noqa: E402
from vstar_data.sources.adapter import load_adapter  # noqa: E402
from vstar_data.sources.sample import is_constraint, validate_label_specs  # noqa: E402
from vstar_data.verify.verifier import Verifier  # noqa: E402

K0 = ("FINADivingWorldCup2021_Men3m_final_r1", 0)       # the factory's 407C, final score 65.6
WRONG_SOMERSAULTS = "The diver performs 2.5 somersaults in the tuck position and earns a score of 65.6 points."
RIGHT = "The diver performs 3.5 somersaults in the tuck position and earns a score of 65.6 points."


@pytest.mark.parametrize("code, dive", [
    ("407C", Dive(3.5, 0.0, "tuck")), ("107B", Dive(3.5, 0.0, "pike")), ("5253B", Dive(2.5, 1.5, "pike")),
    ("626C", Dive(3.0, 0.0, "tuck")), ("6245D", Dive(2.0, 2.5, "free position")),
    ("5152b", Dive(2.5, 1.0, "pike")), ("201A", Dive(0.5, 0.0, "straight position")),
])
def test_dive_codes_read_as_fina_defines_them(code: str, dive: Dive) -> None:
    assert parse_dive_code(code) == dive


@pytest.mark.parametrize("code", ["407", "407E", "5253", "40C7", "727C", "4071C", "x"])
def test_codes_outside_the_scheme_fix_nothing(code: str) -> None:
    assert parse_dive_code(code) is None


def _sample(tmp_path: Path, **options: str):
    adapter = load_adapter("finediving")(F.write_annotations(tmp_path), options={"labels": "final_score", **options})
    return {s.id: s for s in adapter.samples()}[f"finediving/{K0[0]}/{K0[1]}"], adapter


def test_adapter_emits_the_dive_codes_constraints_and_they_validate(tmp_path: Path) -> None:
    sample, _ = _sample(tmp_path)
    validate_label_specs(sample.labels)
    constraints = {s["name"]: s for s in sample.labels if is_constraint(s)}
    assert constraints["somersaults"]["value"] == 3.5 and constraints["twists"]["value"] == 0.0
    assert constraints["position"]["value"] == "tuck" and "pike" in constraints["position"]["vocabulary"]
    assert [s["name"] for s in sample.labels if not is_constraint(s)] == ["final_score"]


def test_right_score_wrong_somersaults_is_rejected_as_contradicts(tmp_path: Path) -> None:
    sample, _ = _sample(tmp_path)
    verifier = Verifier("default")
    bad = verifier.verify(sample.labels, WRONG_SOMERSAULTS)
    assert not bad.accepted and bad.reason == "contradicts"
    score, soms = (next(r for r in bad.results if r.name == n) for n in ("final_score", "somersaults"))
    assert score.passed and not soms.passed and soms.matched == "2.5"
    assert verifier.verify(sample.labels, RIGHT).accepted
    # without constraints the same answer is accepted: the target alone cannot see the error
    plain, _ = _sample(tmp_path / "plain", constraints="none")
    assert verifier.verify(plain.labels, WRONG_SOMERSAULTS).accepted


def test_unknown_constraint_option_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="constraints"):
        _sample(tmp_path, constraints="somersaults,armstand")


def test_verify_explain_shows_the_contradicting_span(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vstar_data.cli import app

    sample, _ = _sample(tmp_path)
    src = tmp_path / "answers.jsonl"
    src.write_text(json.dumps({"id": "d1", "labels": sample.labels, "answer": WRONG_SOMERSAULTS}) + "\n")
    result = CliRunner().invoke(app, ["verify", str(src), "--out", str(tmp_path / "v.jsonl"), "--explain"])
    assert result.exit_code == 0, result.output
    assert "REJECT (contradicts)" in result.output
    line = next(x for x in result.output.splitlines() if x.strip().startswith("somersaults"))
    start = WRONG_SOMERSAULTS.index("2.5")
    assert f"[{start}:{start + 3}] '2.5'" in line and "contradicts" in line and "constraint" in line
