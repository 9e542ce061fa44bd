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


@pytest.mark.slow   # ~8 s: five fresh CLI processes (imports), the benchmark's point; N is 12
def test_tiny_dry_run_measures_every_stage(tmp_path: Path, videos_dir: Path, capsys: pytest.CaptureFixture) -> None:
    bench = _load()
    out = tmp_path / "scale.json"
    bench.main(["--sizes", "12,24", "--chunk", "5", "--work", str(tmp_path / "work"), "--keep",
                "--json", str(out)])
    results = json.loads(out.read_text())
    assert [r["n"] for r in results] == [12, 24]
    for r in results:
        assert set(r["stages"]) == set(bench.STAGES)
        for name, s in r["stages"].items():
            assert s["wall_s"] > 0 and s["cpu_s"] > 0 and s["peak_rss_mb"] > 10, (name, s)
            assert s["us_per_sample"] == pytest.approx(1e6 * s["cpu_s"] / r["n"])
        sizes = r["sizes"]
        assert all(sizes[k] > 0 for k in ("samples.jsonl", "plan.json", "manifests", "attempts", "store", "export"))
    for n, chunks in ((12, 3), (24, 5)):   # chunks of 5; the export holds one line per sample
        work = tmp_path / "work" / f"n{n}"
        assert len(list((work / "gen" / "chunks").glob("chunk-*.json"))) == chunks
        assert len((work / "lf" / "vstar.jsonl").read_text().splitlines()) == n
    printed = capsys.readouterr().out
    assert "CPU 12 -> 24 (2x N)" in printed and all(f" {s} " in printed for s in bench.STAGES)
