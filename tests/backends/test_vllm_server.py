"""The openai backend against a REAL vLLM server on this CPU (opt-in: it installs a 3.5 GB server
venv in about 2 minutes, which does not fit CI's budget).

Run it with ``VSTAR_VLLM_TEST=1 pytest -m vllm tests/backends/test_vllm_server.py`` (builds the
server venv with ../shared/tools/vllm-cpu-venv.sh under the test's tmp folder), or point
``VSTAR_VLLM_VENV`` at a venv that script built to skip the install. ``VSTAR_VLLM_REPORT=PATH``
writes the figures (start-up seconds, requests/s, seconds per clip) as JSON.

It builds a tiny random Qwen2-VL with head_dim 32 (vLLM's CPU attention refuses 16), starts
``vllm serve`` on 127.0.0.1, runs ``generate --backend openai --backend-option image_format=png``
with no --model on the fixture clips (frames travel as one video by default), runs the
transformers backend on the same model, compares the greedy answers attempt by attempt, and stops
the server by its PID.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(os.environ.get("VSTAR_VLLM_SCRIPT", ROOT.parent / "shared" / "tools" / "vllm-cpu-venv.sh"))
ENABLED = os.environ.get("VSTAR_VLLM_TEST") or os.environ.get("VSTAR_VLLM_VENV")

pytestmark = [pytest.mark.slow, pytest.mark.vllm,
              pytest.mark.skipif(not ENABLED, reason="real vLLM server test is opt-in: set VSTAR_VLLM_TEST=1 "
                                                     "(or VSTAR_VLLM_VENV=<server venv>)")]

GEN = ["--num-frames", "8", "--frame-size", "64", "--max-new-tokens", "48"]


def _server_venv(tmp: Path) -> Path:
    given = os.environ.get("VSTAR_VLLM_VENV")
    if given and (Path(given) / "bin" / "vllm").is_file():
        return Path(given)
    if not SCRIPT.is_file():
        pytest.skip(f"{SCRIPT} is absent (set VSTAR_VLLM_SCRIPT)")
    venv = Path(given) if given else tmp / "vllm-venv"
    subprocess.run(["bash", str(SCRIPT), str(venv)], check=True, timeout=900)
    return venv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rows(out: Path) -> dict[tuple[str, str], dict]:
    from vstar_data.generation.attempts import read_attempts

    return {(r["id"], r["origin"]): r for r in read_attempts(out)[0]}


def _tiny_qwen(tmp_path: Path) -> Path:
    from vstar_data.backends.tiny import TinyOptions, build_tiny_model

    return build_tiny_model("qwen2_vl", tmp_path / "tiny-qwen2-vl-hd32", options=TinyOptions(text={
        "num_attention_heads": 2, "num_key_value_heads": 1,     # head_dim 64 / 2 = 32
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [4, 6, 6]}}))


@contextlib.contextmanager
def _vllm_serve(venv: Path, model: Path, tmp_path: Path, *, trust_mm_kwargs: bool) -> Iterator[tuple[str, float]]:
    """`vllm serve MODEL` on a free loopback port until ready; yields (base URL, start-up seconds)
    and stops the server by its PID."""
    port = _free_port()
    env = {**os.environ, "VLLM_HOST_IP": "127.0.0.1", "VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1"}
    logfile = tmp_path / f"vllm-{port}.log"
    log = logfile.open("wb")
    t0 = time.perf_counter()
    server = subprocess.Popen(
        [str(venv / "bin" / "vllm"), "serve", str(model), "--host", "127.0.0.1", "--port", str(port),
         "--max-model-len", "2048", "--dtype", "float32", "--enforce-eager",
         "--limit-mm-per-prompt", '{"image": 8, "video": 1}', *(["--trust-request-mm-kwargs"] * trust_mm_kwargs)],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 300
        while True:
            assert server.poll() is None, "vllm serve exited:\n" + logfile.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            assert time.time() < deadline, "vllm serve not ready in 300 s:\n" + logfile.read_text()[-3000:]
            time.sleep(1)
        yield f"http://127.0.0.1:{port}/v1", time.perf_counter() - t0
    finally:
        server.send_signal(signal.SIGTERM)          # stop the server by its PID
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_generate_through_a_real_vllm_server_matches_transformers(tmp_path, videos_dir, kinetics_dir, monkeypatch):
    from vstar_data.cli import app

    venv = _server_venv(tmp_path)
    model = _tiny_qwen(tmp_path)
    runner = CliRunner()
    common = ["generate", "kinetics700", "-a", str(kinetics_dir / "local_clips.csv"), "-v", str(videos_dir), *GEN]
    with _vllm_serve(venv, model, tmp_path, trust_mm_kwargs=True) as (url, startup_s):
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        t1 = time.perf_counter()
        res = runner.invoke(app, [*common, "--backend", "openai", "--backend-option", "image_format=png",
                                  "--out", str(tmp_path / "oa")])
        openai_s = time.perf_counter() - t1
        assert res.exit_code == 0, f"{res.output}\n{res.exception!r}"
    t2 = time.perf_counter()
    res = runner.invoke(app, [*common, "--backend", "transformers", "--model", str(model), "--out", str(tmp_path / "hf")])
    hf_s = time.perf_counter() - t2
    assert res.exit_code == 0, f"{res.output}\n{res.exception!r}"

    oa, hf = _rows(tmp_path / "oa"), _rows(tmp_path / "hf")
    clips = {k[0] for k in hf}
    assert {k[0] for k in oa if k[1] == "generated"} == clips, "every clip gets an attempt row through vLLM"
    summary = json.loads(next((tmp_path / "oa").glob("summary-*.json")).read_text())
    assert summary["skipped"] == 0 and summary["attempts"] == len(oa), summary
    assert all(r["model"] == str(model) for r in oa.values()), "the one served model, with no --model"
    same = sum(1 for k, r in hf.items() if k in oa and oa[k]["answer"] == r["answer"])
    assert len(hf) >= 14 and same >= 12 * len(hf) / 14, f"{same} of {len(hf)} greedy answers equal"
    report = {"clips": len(clips), "attempts": len(oa), "equal_answers": same, "startup_s": round(startup_s, 1),
              "openai_generate_s": round(openai_s, 2), "requests_per_s": round(len(oa) / openai_s, 2),
              "seconds_per_clip": round(openai_s / len(clips), 3), "transformers_generate_s": round(hf_s, 2)}
    print(json.dumps(report))
    if os.environ.get("VSTAR_VLLM_REPORT"):
        Path(os.environ["VSTAR_VLLM_REPORT"]).write_text(json.dumps(report, indent=2) + "\n")


def test_a_real_vllm_server_without_the_trust_flag_stops_the_run(tmp_path, videos_dir, kinetics_dir):
    """vLLM started without --trust-request-mm-kwargs refuses every request that carries the
    frames' timing: the run stops with exit 2 and one message naming the flag, and leaves no skip
    row; with video_timing=false the same server answers every clip."""
    venv = _server_venv(tmp_path)
    model = _tiny_qwen(tmp_path)
    common = [sys.executable, "-m", "vstar_data.cli", "generate", "kinetics700", "-a",
              str(kinetics_dir / "local_clips.csv"), "-v", str(videos_dir), *GEN, "--backend", "openai"]
    with _vllm_serve(venv, model, tmp_path, trust_mm_kwargs=False) as (url, _):
        env = {**os.environ, "OPENAI_BASE_URL": url, "COLUMNS": "200"}
        refused = subprocess.run([*common, "--out", str(tmp_path / "refused")], capture_output=True, text=True,
                                 env=env, timeout=600)
        plain = subprocess.run([*common, "--backend-option", "video_timing=false", "--out", str(tmp_path / "plain")],
                               capture_output=True, text=True, env=env, timeout=600)
    said = refused.stdout + refused.stderr
    assert refused.returncode == 2, said[-3000:]
    assert "--trust-request-mm-kwargs" in said and "Traceback" not in said, said[-3000:]
    assert said.count("refused the frames' timing") == 1, said[-3000:]
    skipped = list((tmp_path / "refused").glob("skipped/*.jsonl"))
    assert not any(p.read_text().strip() for p in skipped), "no skip row for a setup error"
    assert plain.returncode == 0, (plain.stdout + plain.stderr)[-3000:]
    assert {k[0] for k in _rows(tmp_path / "plain") if k[1] == "generated"}, "the same server answers without timing"
