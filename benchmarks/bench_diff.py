"""`vstar-data diff` on two releases of N rows that differ in 1% (0.5% changed answers, 0.25% removed,
0.25% added): CPU seconds and peak memory of the diff process. Target at 1M rows: under a minute of
CPU and under 1 GB.

    python benchmarks/bench_diff.py --rows 100000      # default; --rows 1000000 for the real size

The two releases are written straight to parquet (publishing 1M rows takes minutes and is not what
is measured), committed to a store with the card YAML `diff` reads, and the diff runs as a child
process (`vstar-data diff --json`) so its CPU and peak RSS are its own.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "dataset"))


def build(n: int, root: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from factory import attempt_row

    from vstar_data.dataset.card import build_card_data
    from vstar_data.dataset.gitstore import Store
    from vstar_data.dataset.rows import COLUMNS, features, to_record
    from vstar_data.dataset.writer import Manifest, SplitFiles

    schema = features().arrow_schema
    template = attempt_row(0, source="finediving", split="train")

    def table(ids: range, changed: set[int]) -> pa.Table:
        recs = []
        for i in ids:
            row = dict(template, id=f"finediving/{i:08d}",
                       answer=("CHANGED " if i in changed else "") + f"Answer {i}: the diver " + "x" * (200 + i % 300))
            recs.append(to_record(row))
        return pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(zip(*recs), schema)], schema=schema)

    st = Store.open(root / "store")
    k = n // 400
    releases = {"a": (range(0, n), set()), "b": (range(k, n + k), set(range(n // 2, n // 2 + n // 200)))}
    for tag, (ids, changed) in releases.items():
        for old in (st.path / "data").rglob("*.parquet"):
            old.unlink()
        man = Manifest()
        rel = f"data/finediving/train-00000-of-00001-{tag}.parquet"
        (st.path / rel).parent.mkdir(parents=True, exist_ok=True)
        t = table(ids, changed)
        pq.write_table(t, st.path / rel, compression="zstd", row_group_size=10_000)
        man.configs["finediving"] = {"train": SplitFiles([rel], t.num_rows, t.nbytes, (st.path / rel).stat().st_size)}
        (st.path / "README.md").write_text(f"---\n{build_card_data(man).to_yaml()}\n---\n")
        st.git("add", "-A")
        st.git("commit", "-qm", tag)
        st.git("tag", "-a", tag, "-m", tag)
    assert COLUMNS
    return st.path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build_only:
        build(args.rows, args.build_only)
        return
    with tempfile.TemporaryDirectory(prefix="bench-diff-") as tmp:
        # built in a child too: a child forked from a big parent would report the parent's RSS
        t0 = time.time()
        subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--build-only", tmp], check=True)
        store = Path(tmp) / "store"
        built = time.time() - t0
        t0 = time.time()
        # the diff process reports its own CPU and peak RSS (RUSAGE_CHILDREN would mix in the build)
        code = ("import atexit, resource, sys\n"
                "def report():\n"
                "    r = resource.getrusage(resource.RUSAGE_SELF)\n"
                "    sys.stderr.write(f'RUSAGE {r.ru_utime + r.ru_stime} {r.ru_maxrss}\\n')\n"
                "atexit.register(report)\n"
                "import vstar_data.cli.store\nfrom vstar_data.cli import main\nmain()")
        proc = subprocess.run([sys.executable, "-c", code, "diff", "a", "b", "--store", str(store), "--json"],
                              capture_output=True, text=True, check=True)
        wall = time.time() - t0
    out = proc.stdout
    cpu_s, rss_kb = proc.stderr.rsplit("RUSAGE ", 1)[1].split()
    cpu = float(cpu_s)

    class after:  # noqa: N801
        ru_maxrss = int(rss_kb)
    d = json.loads(out)["configs"]["finediving"]["train"]
    print(json.dumps({"rows": args.rows, "added": d["added"], "removed": d["removed"], "changed": d["changed"],
                      "build_s": round(built, 1), "diff_wall_s": round(wall, 2), "diff_cpu_s": round(cpu, 2),
                      "diff_peak_rss_mb": round(after.ru_maxrss / 1024, 1),
                      "extrapolated_cpu_s_at_1m": round(cpu * 1_000_000 / args.rows, 1)}))


if __name__ == "__main__":
    main()
