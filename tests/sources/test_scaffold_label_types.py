"""`vstar-data new-adapter --label-type T`: a working skeleton for each of the nine label types."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vstar_data.cli import app, main
from vstar_data.registry import LABEL_TYPES
from vstar_data.sources.adapter import load_adapter
from vstar_data.sources.sample import validate_label_specs
from vstar_data.sources.scaffold import KINDS
from vstar_data.sources.templates import TemplateIndex
from vstar_data.testing.adapters import AdapterContract

runner = CliRunner()
BUILT_IN = ("category", "number", "interval", "sequence", "choice", "boolean", "text", "bbox", "timestamp")
BAD_ROWS = {   # a row each kind must refuse as bad_label (types whose values are parsed)
    "number": "b.mp4,many", "interval": "b.mp4,9,3", "choice": "b.mp4,a;b,c", "boolean": "b.mp4,maybe",
    "bbox": "b.mp4,1,2,3,x,1", "timestamp": "b.mp4,soon",
}


def _scaffold(root: Path, label_type: str) -> tuple[Path, Path]:
    result = runner.invoke(app, ["new-adapter", f"my_{label_type}", "--label-type", label_type, "--out", str(root)])
    assert result.exit_code == 0, result.output
    return root / "adapters" / f"my_{label_type}.py", root / "templates"


def test_every_built_in_label_type_has_a_skeleton() -> None:
    assert set(KINDS) == set(BUILT_IN) and set(BUILT_IN) <= set(LABEL_TYPES.names())


@pytest.mark.parametrize("label_type", BUILT_IN)
def test_skeleton_reads_its_example_row_and_refuses_a_bad_one(tmp_path: Path, label_type: str) -> None:
    adapter_py, templates = _scaffold(tmp_path, label_type)
    kind = KINDS[label_type]
    assert "{{" not in adapter_py.read_text() and f"label_types: [{label_type}]" in \
        (templates / f"my_{label_type}.yaml").read_text()
    ann = tmp_path / "ann.csv"
    rows = [kind.example] + ([BAD_ROWS[label_type]] if label_type in BAD_ROWS else [])
    ann.write_text("video," + ",".join(kind.columns) + "\n" + "\n".join(
        ",".join(f'"{f}"' if " " in f else f for f in _fields(r)) for r in rows) + "\n", "utf-8")
    ad = load_adapter(str(adapter_py))(ann)
    samples = list(ad.samples())
    assert len(samples) == 1 and samples[0].labels[0]["type"] == label_type
    validate_label_specs(samples[0].labels)
    assert dict(ad.stats.skipped) == ({"bad_label": 1} if label_type in BAD_ROWS else {})
    if label_type in BAD_ROWS:
        assert ad.skips[0].row == 3
    question = TemplateIndex([templates]).get(f"my_{label_type}").choose(samples[0]).text
    assert not re.search(r"\{\w+\}", question), question


def _fields(row: str) -> list[str]:
    return row.split(",")


def test_unknown_label_type_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["new-adapter", "x", "--label-type", "box", "--out", str(tmp_path)])
    assert exit_.value.code == 2 and "the skeleton knows category, number" in capsys.readouterr().err
    assert not (tmp_path / "adapters").exists()


class TestScaffoldedChoiceAdapterContract(AdapterContract):
    """The conformance suite passes on an untouched `--label-type choice` skeleton (context-filled
    questions)."""

    @pytest.fixture
    def adapter_cls(self, tmp_path: Path):  # type: ignore[no-untyped-def]
        return load_adapter(str(_scaffold(tmp_path / "scaffold", "choice")[0]))

    @pytest.fixture
    def templates(self, tmp_path: Path) -> list[Path]:
        return [tmp_path / "scaffold" / "templates"]

    @pytest.fixture
    def annotations(self, tmp_path: Path) -> Path:
        path = tmp_path / "ann.csv"
        path.write_text("video,options,answer,split\na.mp4,a dog;a cat,a cat,train\nb.mp4,red;blue;green,red,val\n"
                        "c.mp4,up;down,down,train\n", "utf-8")
        return path
