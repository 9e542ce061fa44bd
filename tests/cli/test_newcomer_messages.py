"""Messages a newcomer meets first: `generate --help` on the template backend, a task without a
template."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from vstar_data.cli import app, main

runner = CliRunner()


def test_generate_help_says_the_template_backend_probes_clips() -> None:
    result = runner.invoke(app, ["generate", "--backend", "template", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.replace("│", " ").split())
    assert "its clips are probed, not decoded" in text and "--num-frames and --frame-size do not apply" in text


def test_a_task_without_a_template_names_the_templates_option(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    ann = tmp_path / "ann.csv"
    ann.write_text("video,label\na.mp4,juggling\n", "utf-8")
    result = runner.invoke(app, ["new-adapter", "ucf", "--task", "my_new_task", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    with pytest.raises(SystemExit) as exit_:
        main(["samples", str(tmp_path / "s" / "adapters" / "ucf.py"), "-a", str(ann), "--out", str(tmp_path / "o.jsonl")])
    err = " ".join(capsys.readouterr().err.split())
    assert exit_.value.code == 2
    assert "no template for task 'my_new_task'" in err and "pass its folder with --templates DIR" in err
    assert not (tmp_path / "o.jsonl").exists()
