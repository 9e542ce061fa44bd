"""Fault campaign: bad input, full or read-only disks, special files, run as `vstar-data` processes.

Each case runs one command in a fresh process against tiny inputs (the template backend over
three fixture clips, a store published from its rows) and is judged by what a user sees: the
exit status (0 done, 2 a located input/config/environment problem, anything else a bug) and
whether the output holds a Python traceback. Families:

- disk     ENOSPC / EROFS / EACCES while a file is renamed into place (injected into the child:
           as root, chmod makes neither), a device node (our own /dev/full) or a FIFO as output;
- extra    a missing, folder or device `push --extra-file`;
- shard    a truncated, corrupt or deleted shard read by `export`;
- stats    wrong types or shapes in a run's stats.json / sources.json for `report`;
- unicode  a lone surrogate in an answer (`verify`, `push`);
- yaml     a YAML tag or broken YAML in `generate --backend-option`;
- fifo     a FIFO where an input file is expected;
- other    missing files, malformed JSON / YAML, wrong types, a folder where a file is expected.

Prints one line per case and the summary line "N runs, T tracebacks"; exits 1 when any case
ended in a traceback, an unexpected status or a timeout.

    .venv/bin/python benchmarks/fault_campaign.py [--python PYTHON] [--only FAMILY] [--json out.json]

`--python` runs the cases with another interpreter (e.g. another checkout's venv) for a before /
after comparison; the inputs are always built with this checkout.
"""
from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"
TRACEBACK = "Traceback (most recent call last)"

# The child: optionally make os.replace fail with FAULT_ERRNO for destinations containing
# FAULT_MATCH (the moment a finished file is renamed into place), then run the real entry point.
LAUNCHER = """
import os, sys
if os.environ.get("FAULT_ERRNO"):
    code, match, real = int(os.environ["FAULT_ERRNO"]), os.environ.get("FAULT_MATCH", ""), os.replace
    def replace(src, dst, *a, **kw):
        if match in str(dst):
            raise OSError(code, os.strerror(code), str(dst))
        return real(src, dst, *a, **kw)
    os.replace = replace
sys.argv[0] = "vstar-data"
from vstar_data.cli import main
main()
"""


@dataclass
class Case:
    family: str
    name: str
    argv: list[str]
    expect: int = 2
    inject: tuple[int, str] | None = None          # (errno, destination substring)
    keep: list[Path] = field(default_factory=list)  # must still exist afterwards (work not lost)
    timeout: float = 120.0


@dataclass
class Result:
    case: Case
    status: int | None
    traceback: bool
    seconds: float
    kept: bool
    last_line: str

    @property
    def ok(self) -> bool:
        return self.status == self.case.expect and not self.traceback and self.kept


def run_case(python: str, case: Case, cwd: Path) -> Result:
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", NO_COLOR="1", TOKENIZERS_PARALLELISM="false")
    env.pop("FAULT_ERRNO", None)
    if case.inject:
        env["FAULT_ERRNO"], env["FAULT_MATCH"] = str(case.inject[0]), case.inject[1]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([python, "-c", LAUNCHER, *case.argv], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=case.timeout, stdin=subprocess.DEVNULL)
        status, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        status, output = None, f"TIMEOUT after {case.timeout:.0f} s " + str(exc.stderr or "")
    lines = [ln for ln in output.strip().splitlines() if ln.strip()]
    return Result(case, status, TRACEBACK in output, time.perf_counter() - t0, all(p.exists() for p in case.keep),
                  lines[-1].strip()[:160] if lines else "")


# ------------------------------------------------------------------------------------- inputs

def vstar(*argv: str, cwd: Path) -> str:
    """Run a command that must succeed (building the campaign's valid inputs)."""
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, *argv], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1"))
    if proc.returncode:
        raise SystemExit(f"setup failed: vstar-data {' '.join(argv)}\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def build_inputs(w: Path) -> dict[str, Path]:
    """Valid tiny inputs: a generation run (3 clips), its rows published as store tag v1, a
    checkout, a verify input, a finished-looking run directory, a FIFO and a device node."""
    k = FIXTURES / "annotations" / "kinetics700"
    p = {"csv": k / "local_clips.csv", "videos": FIXTURES / "videos", "gen": w / "gen", "store": w / "store",
         "co": w / "co", "answers": w / "answers.jsonl", "run": w / "run", "fifo": w / "pipe", "dev": w / "full",
         "dir": w / "a-folder"}
    if not p["csv"].is_file():
        raise SystemExit(f"fixtures not found under {FIXTURES} (see shared/fixtures/README.md)")
    tiny = ["--num-frames", "2", "--frame-size", "32", "--limit", "3", "--batch-size", "1"]
    vstar("generate", "kinetics700", "-a", str(p["csv"]), "-v", str(p["videos"]), "--out", str(p["gen"]), *tiny, cwd=w)
    vstar("push", str(p["gen"]), "--store", str(p["store"]), "-t", "v1", "-m", "campaign", cwd=w)
    vstar("checkout", "v1", "--store", str(p["store"]), "--out", str(p["co"]), cwd=w)
    labels = [{"name": "action", "type": "category", "value": "yoga"}]
    p["answers"].write_text(json.dumps({"id": "a", "labels": labels, "answer": "A person doing yoga."}) + "\n")
    p["run"].mkdir()
    (p["run"] / "stats.json").write_text(json.dumps({"cycles": [{"cycle": 0, "samples": 3, "generated": 3}]}))
    os.mkfifo(p["fifo"])
    p["dir"].mkdir()
    try:
        os.mknod(p["dev"], stat.S_IFCHR | 0o666, os.makedev(1, 7))   # our own /dev/full: replaceable
    except OSError:
        p["dev"] = Path("/dev/full")          # not root: nothing can replace the real one either
    return p


def variant(w: Path, base: Path, name: str, edit) -> Path:  # type: ignore[no-untyped-def]
    """A copy of `base` (file or folder) changed by `edit(copy)`."""
    dest = w / name
    if base.is_dir():
        shutil.copytree(base, dest)
    else:
        shutil.copy(base, dest)
    edit(dest)
    return dest


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def cases(w: Path, p: dict[str, Path]) -> list[Case]:
    gen = ["generate", "kinetics700", "-a", str(p["csv"]), "-v", str(p["videos"]), "--num-frames", "2",
           "--frame-size", "32", "--limit", "3", "--batch-size", "1"]
    stores = iter(range(1000))

    def push(rows: Path, *more: str) -> list[str]:
        """A push of `rows` into a store of its own (cases run in parallel)."""
        return ["push", str(rows), "--store", str(w / f"store-{next(stores)}"), "-t", "v1", "-m", "x", *more]

    outs = iter(range(1000))

    def verify(src: Path, *more: str, out: Path | None = None) -> list[str]:
        return ["verify", str(src), "--out", str(out or w / f"verified-{next(outs)}.jsonl"), *more]
    export = lambda src, out, *more: ["export", str(src), "--out", str(out), *more]  # noqa: E731
    shard = sorted(p["co"].rglob("*.parquet"))[0].relative_to(p["co"])
    rows_file = sorted(p["gen"].rglob("attempts/*.jsonl"))[0].relative_to(p["gen"])

    def surrogate(d: Path) -> None:
        f = d / rows_file
        rows = [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
        text = "".join(json.dumps({**r, "answer": r["answer"] + "\ud800"}) + "\n" for r in rows)
        f.write_text(text)

    def bad_json_line(d: Path) -> None:
        with (d / rows_file).open("a") as fh:
            fh.write('{"id": "x", "answer": \n')

    def truncate(path: Path) -> None:
        data = (path / shard).read_bytes()
        (path / shard).write_bytes(data[: len(data) // 2])

    def stats_run(name: str, stats: Any, sources: Any = None) -> Path:
        run = w / name
        write(run / "stats.json", stats if isinstance(stats, str) else json.dumps(stats))
        if sources is not None:
            write(run / "sources.json", json.dumps(sources))
        return run

    def config(name: str, body: str) -> Path:
        return write(w / name, body)

    good_cfg = ("run_dir: {run}\nsources: [{{adapter: kinetics700, annotations: {csv}, videos: {v}}}]\n"
                "model: {{pretrained: {w}/none}}\nbackend: {{name: template}}\n")
    C = Case
    out: list[Case] = [
        # disk: full / read-only / permission while renaming into place; devices and FIFOs as outputs
        C("disk", "push, disk full", push(p["gen"]), inject=(errno.ENOSPC, "")),
        C("disk", "push, read-only store", push(p["gen"]), inject=(errno.EROFS, "")),
        C("disk", "export llava, disk full", export(p["store"], w / "x1.json"), inject=(errno.ENOSPC, "x1.json")),
        C("disk", "export jsonl, read-only", export(p["store"], w / "x2.jsonl", "-f", "jsonl"),
          inject=(errno.EROFS, "x2.jsonl")),
        C("disk", "generate, disk full at chunk 1 (chunk 0 kept)", gen + ["--out", str(w / "g-full")],
          inject=(errno.ENOSPC, "chunk-000001"), keep=[w / "g-full" / "attempts" / "chunk-000000.jsonl"]),
        C("disk", "generate, read-only out", gen + ["--out", str(w / "g-ro")], inject=(errno.EROFS, "")),
        C("disk", "verify, permission denied", verify(p["answers"]), inject=(errno.EACCES, "")),
        C("disk", "report, disk full", ["report", str(p["run"])], inject=(errno.ENOSPC, "report.html")),
        C("disk", "export to a device node (/dev/full)", export(p["store"], p["dev"])),
        C("disk", "verify --out a device node (/dev/full)", verify(p["answers"], out=p["dev"])),
        C("disk", "report --out a device node (/dev/full)", ["report", str(p["run"]), "--out", str(p["dev"])]),
        # extra files of push
        C("extra", "push --extra-file missing", push(p["gen"], "--extra-file", str(w / "nope.json"))),
        C("extra", "push --extra-file a folder", push(p["gen"], "--extra-file", str(p["dir"]))),
        C("extra", "push --extra-file a device", push(p["gen"], "--extra-file", str(p["dev"]))),
        # shards read by export
        C("shard", "export, truncated shard", export(variant(w, p["co"], "co-trunc", truncate), w / "s1.json")),
        C("shard", "export, corrupt shard",
          export(variant(w, p["co"], "co-bad", lambda d: (d / shard).write_bytes(b"PAR1" + b"\0" * 300 + b"PAR1")),
                 w / "s2.json")),
        C("shard", "export, deleted shard", export(variant(w, p["co"], "co-del", lambda d: (d / shard).unlink()),
                                                  w / "s3.json")),
        C("shard", "export, shard is a folder",
          export(variant(w, p["co"], "co-dir", lambda d: ((d / shard).unlink(), (d / shard).mkdir())), w / "s4.json")),
        # report's stats.json / sources.json
        C("stats", "report, samples is a string", ["report", str(stats_run("r1", {"cycles": [{"cycle": 0, "samples": "3"}]}))]),
        C("stats", "report, eval is a list", ["report", str(stats_run("r2", [{"cycle": 0, "eval": [0.5]}]))]),
        C("stats", "report, cycle is null", ["report", str(stats_run("r3", [{"cycle": None}]))]),
        C("stats", "report, skipped_by_reason is a list", ["report", str(stats_run("r4", [{"cycle": 0, "skipped_by_reason": [1]}]))]),
        C("stats", "report, stats.json not JSON", ["report", str(stats_run("r5", "{cycles: ["))]),
        C("stats", "report, stats.json a string", ["report", str(stats_run("r6", '"done"'))]),
        C("stats", "report, sources.json a list", ["report", str(stats_run("r7", [{"cycle": 0}], ["x"]))]),
        C("stats", "report, run.yaml a tag", ["report", str(variant(w, p["run"], "r8", lambda d: write(d / "run.yaml", "!!python/name:os.system x\n")))]),
        # lone surrogates
        C("unicode", "verify, lone surrogate in an answer",
          verify(write(w / "sur.jsonl", '{"id": "s", "labels": [{"name": "a", "type": "category", "value": "yoga"}], '
                                        '"answer": "yo\\ud800ga"}\n'))),
        C("unicode", "push, lone surrogate in an answer", push(variant(w, p["gen"], "gen-sur", surrogate))),
        # YAML in --backend-option
        C("yaml", "generate --backend-option with a python tag",
          gen + ["--out", str(w / "g-y1"), "--backend-option", "x=!!python/object/apply:os.system [id]"]),
        C("yaml", "generate --backend-option broken YAML", gen + ["--out", str(w / "g-y2"), "--backend-option", "x=[1,"]),
        # FIFOs where a file is expected
        C("fifo", "verify, input is a FIFO", verify(p["fifo"])),
        C("fifo", "verify --vocabulary a FIFO", verify(p["answers"], "--vocabulary", str(p["fifo"]))),
        C("fifo", "verify --profile a FIFO (.yaml)", verify(p["answers"], "--profile", str(_fifo(w / "profile.yaml")))),
        C("fifo", "generate --annotations a FIFO", gen[:2] + ["-a", str(p["fifo"])] + gen[4:] + ["--out", str(w / "g-f")]),
        C("fifo", "build --config a FIFO", ["build", "--config", str(_fifo(w / "cfg.yaml"))], timeout=20),
        # everything else: missing files, malformed JSON / YAML, wrong types, folders for files
        C("other", "verify, input missing", verify(w / "nope.jsonl")),
        C("other", "verify, input a folder", verify(p["dir"])),
        C("other", "verify, malformed JSON line", verify(write(w / "m.jsonl", '{"id": 1, "labels": [\n'))),
        C("other", "verify, labels a string", verify(write(w / "l.jsonl", '{"id": 1, "labels": "yoga", "answer": "x"}\n'))),
        C("other", "verify, answer a number", verify(write(w / "n.jsonl", json.dumps(
            {"id": 1, "labels": [{"name": "a", "type": "category", "value": "yoga"}], "answer": 3}) + "\n"))),
        C("other", "push, rows folder missing", push(w / "no-rows")),
        C("other", "push, malformed JSON row", push(variant(w, p["gen"], "gen-bad", bad_json_line))),
        C("other", "push, store is a file", ["push", str(p["gen"]), "--store", str(p["answers"]), "-t", "v1", "-m", "x"]),
        C("other", "export, unknown format", export(p["store"], w / "u.json", "-f", "csv")),
        C("other", "export, not a dataset folder", export(p["dir"], w / "u2.json")),
        C("other", "export, folder format into a non-empty folder", export(p["store"], p["gen"], "-f", "llamafactory",
                                                                          "--video-root", str(p["videos"]))),
        C("other", "export, README configs broken", export(variant(
            w, p["co"], "co-readme", lambda d: write(d / "README.md", "---\nconfigs: [\n---\n")), w / "u3.json")),
        C("other", "checkout, unknown tag", ["checkout", "v9", "--store", str(p["store"]), "--out", str(w / "c9")]),
        C("other", "revisions, store missing", ["revisions", "--store", str(w / "no-store")]),
        C("other", "generate, annotations missing", gen[:2] + ["-a", str(w / "nope.csv")] + gen[4:] + ["--out", str(w / "g-m")]),
        C("other", "generate, videos is a file", gen[:4] + ["-v", str(p["answers"])] + gen[6:] + ["--out", str(w / "g-v")]),
        C("other", "generate, malformed CSV", gen[:2] + ["-a", str(write(w / "bad.csv", "a,b\n\"x,1\n"))] + gen[4:]
          + ["--out", str(w / "g-c")]),
        C("other", "build --config missing", ["build", "--config", str(w / "nope.yaml")]),
        C("other", "build --config a folder", ["build", "--config", str(p["dir"])]),
        C("other", "build --config malformed YAML", ["build", "--config", str(config("c1.yaml", "sources: [\n"))]),
        C("other", "build --config wrong types", ["build", "--config", str(config("c2.yaml", good_cfg.format(
            run=w / "b2", csv=p["csv"], v=p["videos"], w=w) + "cycles: {max: many}\n"))]),
        C("other", "report, run dir missing", ["report", str(w / "no-run")]),
    ]
    return out


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs the cases")
    ap.add_argument("--only", help="run one family (disk, extra, shard, stats, unicode, yaml, fifo, other)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    t0 = time.perf_counter()
    w = Path(tempfile.mkdtemp(prefix="fault-campaign-"))
    try:
        p = build_inputs(w)
        todo = [c for c in cases(w, p) if not args.only or c.family == args.only]
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda c: run_case(args.python, c, w), todo))
    finally:
        shutil.rmtree(w, ignore_errors=True)
    width = max(len(r.case.name) for r in results)
    for r in results:
        status = "TIMEOUT" if r.status is None else str(r.status)
        flags = ("TRACEBACK " if r.traceback else "") + ("" if r.kept else "LOST-WORK ") + \
                ("" if r.status == r.case.expect else f"(expected {r.case.expect}) ")
        print(f"{'ok ' if r.ok else 'BAD'} {r.case.family:8} {r.case.name:{width}}  exit {status:7} {r.seconds:5.1f}s  "
              f"{flags}{r.last_line}")
    tracebacks = sum(r.traceback for r in results)
    bad = [r for r in results if not r.ok]
    print(f"{len(results)} runs, {tracebacks} tracebacks, {len(bad)} not as expected "
          f"({time.perf_counter() - t0:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps([{"family": r.case.family, "case": r.case.name, "exit": r.status,
                                          "traceback": r.traceback, "kept": r.kept, "seconds": round(r.seconds, 2),
                                          "last_line": r.last_line} for r in results], indent=2))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
