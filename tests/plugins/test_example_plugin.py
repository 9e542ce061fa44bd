"""A third-party plugin package written against the public API installs and runs.

`example_plugin/` is a normal package (pyproject with entry points for an adapter, a label type
and a backend). The test installs it with pip into a throwaway folder, then, in fresh processes
that see that folder: `vstar-data adapters` lists the plugin adapter, `vstar-data samples`
reads through it, `vstar-data verify` uses its label type, and the plugin's own test module (the
conformance suites of vstar_data.testing) passes.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parent / "example_plugin"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    site = tmp_path_factory.mktemp("plugin-site")
    src = tmp_path_factory.mktemp("plugin-src") / "example_plugin"
    shutil.copytree(PLUGIN, src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                           "--no-index", "--target", str(site), str(src)], capture_output=True, text=True)
    if proc.returncode != 0 and "setuptools" in proc.stderr and "No module named" in proc.stderr:
        pytest.skip(f"setuptools is needed to build the example plugin offline: {proc.stderr[-300:]}")
    assert proc.returncode == 0, proc.stderr
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
           "VSTAR_TEST_PLUGIN_SITE": str(site)}
    return env


def _cli(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vstar_data.cli", *args], env=env, capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_plugin_adapter_listed_and_reads(plugin_env: dict[str, str], tmp_path: Path) -> None:
    listed = _cli(plugin_env, "adapters")
    assert listed.returncode == 0, listed.stderr
    assert "colour_clips" in listed.stdout and "kinetics700" in listed.stdout

    ann = tmp_path / "clips.jsonl"
    ann.write_text('{"video": "a.mp4", "colour": "#FF0000"}\n{"video": "b.mp4", "colour": "blue"}\n'
                   '{"video": "c.mp4", "colour": "#00ff00", "split": "val"}\n', "utf-8")
    templates = Path(plugin_env["VSTAR_TEST_PLUGIN_SITE"]) / "vstar_example_plugin" / "templates"
    out = tmp_path / "samples.jsonl"
    proc = _cli(plugin_env, "samples", "colour_clips", "--annotations", str(ann), "--templates", str(templates),
                "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["labels"][0]["value"], r["split"]) for r in rows] == [("a", "#ff0000", "train"),
                                                                              ("c", "#00ff00", "val")]
    assert all(r["template_id"].startswith("dominant_colour/") for r in rows)
    assert "bad_colour" in proc.stdout + proc.stderr


def test_plugin_conformance_suites_pass(plugin_env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
                           str(PLUGIN), str(PLUGIN / "tests")], env=plugin_env, capture_output=True, text=True,
                          cwd=PLUGIN, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout


def test_plugin_label_type_in_verify(plugin_env: dict[str, str], tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    spec = {"type": "hex_colour", "name": "colour", "value": "#ff8000"}
    answers.write_text("\n".join(json.dumps({"id": i, "labels": [spec], "answer": a}) for i, a in
                                 enumerate(["It is #ff8000.", "It is #0000ff."])) + "\n", "utf-8")
    out = tmp_path / "verified.jsonl"
    proc = _cli(plugin_env, "verify", str(answers), "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["accepted"] for r in rows] == [True, False]
