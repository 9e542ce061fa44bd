"""Cost of a release built `--onto` a large one vs rebuilding it in full.

1. `gen`   N synthetic attempt rows (bench_publish's generator, three sources) and a 10k-row new
           source `extra`; the full rows folder is both together (hard links).
2. setup   (untimed) `publish` the N rows as release r1 into a store (and, with --hub, push r1 to a
           loopback test Hub, tests/dataset/hub_server.py).
3. `full`  `publish` the N+10k rows as a new release into a fresh store (and push to a fresh Hub repo).
4. `onto`  `publish(extra, onto="r1")` into r1's store (and push to r1's Hub repo, which then only
           receives the new shards, card and metadata).

Each timed job runs in a fresh subprocess; the figure is its CPU seconds (user + system, the process
and its children: git, helper processes), so the two cores shared with other work do not skew it.
Target: onto / full <= 5%.

    .venv/bin/python benchmarks/bench_onto.py [--rows 200000] [--extra 10000] [--hub] [--work DIR] [--keep]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_BASE, REPO_FULL = "bench/base", "bench/full"


def gen_extra(out: Path, n: int) -> None:
    """n rows of a source named `extra` (bench_publish's rows, renamed), one worker folder."""
    sys.path.insert(0, str(HERE))
    from bench_publish import gen

    tmp = out.with_name(out.name + "-raw")
    gen(tmp, n, seed=1)
    dst = out / "worker-extra" / "attempts-00000.jsonl"
    dst.parent.mkdir(parents=True, exist_ok=True)
    with dst.open("w", encoding="utf-8") as fh:
        for src in sorted(tmp.rglob("*.jsonl")):
            for line in src.open(encoding="utf-8"):
                row = json.loads(line)
                row["source"], row["id"] = "extra", "extra/" + row["id"].split("/", 1)[1]
                fh.write(json.dumps(row) + "\n")
    shutil.rmtree(tmp)


def child(job: str, args: list[str]) -> None:
    from vstar_data.dataset import writer as dataset_writer
    from vstar_data.dataset.store import publish

    dataset_writer._spare_core = lambda: False  # one figure, one meaning: no helper process
    hub = args[3] if len(args) > 3 else None
    t0 = time.perf_counter()
    if job == "gen":
        sys.path.insert(0, str(HERE))
        from bench_publish import gen

        gen(Path(args[0]), int(args[1]))
        info: dict[str, Any] = {}
    elif job == "gen-extra":
        gen_extra(Path(args[0]), int(args[1]))
        info = {}
    else:
        onto = "r1" if job == "onto" else None
        res = publish(args[0], args[1], args[2], f"bench {job}", onto=onto, hub_repo=hub)
        info = {"rows": sum(res.counts["default"].values()),
                "uploaded": len(res.hub.uploaded) if res.hub else None}
    info["wall_s"] = time.perf_counter() - t0
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    info["cpu_s"] = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    print("RESULT " + json.dumps(info), flush=True)


def run(env: dict[str, str], job: str, *args: Any) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", job, *map(str, args)], env=env,
                          capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{job} failed:\n{proc.stderr[-4000:]}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--extra", type=int, default=10_000)
    ap.add_argument("--hub", action="store_true", help="also push each release to a loopback test Hub")
    ap.add_argument("--work", type=Path, default=Path("/tmp/vstar-bench-onto"))
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(a.child[0], a.child[1:])
    shutil.rmtree(a.work, ignore_errors=True)
    a.work.mkdir(parents=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "USE_TORCH": "0"}
    base, extra, full = a.work / "rows-base", a.work / "rows-extra", a.work / "rows-full"
    run(env, "gen", base, a.rows)
    run(env, "gen-extra", extra, a.extra)
    for src in (base, extra):
        for f in src.rglob("*.jsonl"):
            (full / f.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
            os.link(f, full / f.relative_to(src))
    with ExitStack() as stack:
        hub_base = hub_full = ()
        if a.hub:
            sys.path.insert(0, str(HERE.parent / "tests" / "dataset"))
            from hub_server import HubServer

            server = stack.enter_context(HubServer(a.work / "hub", token="hf_bench"))
            env = {**env, **server.client_env()}
            hub_base, hub_full = (REPO_BASE,), (REPO_FULL,)
        setup = run(env, "publish", base, a.work / "store", "r1", *hub_base)
        full_res = run(env, "full", full, a.work / "store-full", "full", *hub_full)
        onto_res = run(env, "onto", extra, a.work / "store", "r2", *hub_base)
    ratio = onto_res["cpu_s"] / full_res["cpu_s"]
    print(f"rows: base {a.rows:,} + extra {a.extra:,}; hub push: {'yes (loopback test Hub)' if a.hub else 'no'}")
    print(f"setup  r1 ({setup['rows']:,} rows)     cpu {setup['cpu_s']:8.2f} s  wall {setup['wall_s']:8.2f} s")
    for name, r in (("full", full_res), ("onto", onto_res)):
        up = f"  files uploaded {r['uploaded']}" if r.get("uploaded") is not None else ""
        print(f"{name:6} ({r['rows']:,} rows)  cpu {r['cpu_s']:8.2f} s  wall {r['wall_s']:8.2f} s{up}")
    print(f"onto / full CPU: {ratio:.1%} (target <= 5%)")
    if not a.keep:
        shutil.rmtree(a.work, ignore_errors=True)


if __name__ == "__main__":
    main()
