"""benchmarks/bench_scale.py (the 1M-sample dry run) runs end to end at a tiny N: every stage
(samples -> generate -> push -> export -> load_dataset) in its own process, each with its figures,
and the N rows arrive in `load_dataset` (the script checks the count)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_scale.py"


def _load():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_scale", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow   # ~8 s on a quiet machine: five fresh CLI processes (their imports), the benchmark's point
def test_tiny_dry_run_measures_every_stage(tmp_path: Path, videos_dir: Path, capsys: pytest.CaptureFixture) -> None:
    bench = _load()
    out = tmp_path / "scale.json"
    bench.main(["--sizes", "12", "--chunk", "5", "--work", str(tmp_path / "work"), "--keep",
                "--json", str(out)])
    results = json.loads(out.read_text())
    assert [r["n"] for r in results] == [12]
    for r in results:
        assert set(r["stages"]) == set(bench.STAGES)
        for name, s in r["stages"].items():
            assert s["wall_s"] > 0 and s["cpu_s"] > 0 and s["peak_rss_mb"] > 10, (name, s)
            assert s["us_per_sample"] == pytest.approx(1e6 * s["cpu_s"] / r["n"])
        sizes = r["sizes"]
        assert all(sizes[k] > 0 for k in ("samples.jsonl", "plan.json", "manifests", "attempts", "store", "export"))
    work = tmp_path / "work" / "n12"       # chunks of 5: 3 manifests; the export holds one line per sample
    assert len(list((work / "gen" / "chunks").glob("chunk-*.json"))) == 3
    assert len((work / "lf" / "vstar.jsonl").read_text().splitlines()) == 12
    printed = capsys.readouterr().out
    assert all(f" {s} " in printed for s in bench.STAGES)
    ratios = bench.table(results + [{**results[0], "n": 24}])   # same figures at twice N: half the cost per sample
    assert "CPU 12 -> 24 (2x N): samples 1.0x (0.50 per sample)" in ratios
