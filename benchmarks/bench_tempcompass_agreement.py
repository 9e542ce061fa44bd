"""Agreement of `verify` on the mcqa adapter's labels with TempCompass's own judgements.

TempCompass publishes model answers (``predictions/<model>/<format>.json``) and its automatic
judgements of them (``auto_eval_results/<model>/<format>.json``, ``rating`` 1 or 0; rules first,
then an LLM judge for answers the rules could not match; captioning is judged by the LLM). This
script reads the benchmark's
question files with the `mcqa` adapter, verifies every prediction against the adapter's label
(profile `default`) and reports, per format and model, how often `accepted` equals `rating == 1`.
Nothing here is shipped with the project: point it at a checkout of the TempCompass repository.

    .venv/bin/python benchmarks/bench_tempcompass_agreement.py /path/to/TempCompass [--show 5]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

FORMATS = ("multi-choice", "yes_no", "caption_matching", "captioning")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path, help="TempCompass checkout (questions/, predictions/, auto_eval_results/)")
    ap.add_argument("--show", type=int, default=0, help="print this many disagreements per format")
    ap.add_argument("--formats", nargs="+", choices=FORMATS, default=FORMATS, help="only these formats")
    args = ap.parse_args()

    from vstar_data.adapters.mcqa import MCQAAdapter
    from vstar_data.verify.verifier import Verifier

    labels = {s.id: s.labels for s in MCQAAdapter(args.root).samples()}
    verifier = Verifier("default")
    models = sorted(p.name for p in (args.root / "auto_eval_results").iterdir() if p.is_dir())
    total: dict[str, Counter] = defaultdict(Counter)
    wrong: dict[str, list] = defaultdict(list)
    t0 = time.perf_counter()
    for model in models:
        for fmt in args.formats:
            path = args.root / "auto_eval_results" / model / f"{fmt}.json"
            if not path.is_file():
                continue
            judged = json.loads(path.read_text("utf-8"))
            verifier.prepare((labels[f"{vid}/{fmt}/{dim}/{i}"], item.get("video-llm-prediction"))
                             for vid, dims in judged.items() for dim, items in dims.items()
                             for i, item in enumerate(items) if f"{vid}/{fmt}/{dim}/{i}" in labels
                             and isinstance(item.get("video-llm-prediction"), str))   # one embedding batch
            for vid, dims in judged.items():
                for dim, items in dims.items():
                    for index, item in enumerate(items):
                        sid = f"{vid}/{fmt}/{dim}/{index}"
                        pred = item.get("video-llm-prediction")
                        if sid not in labels or not isinstance(pred, str) or "rating" not in item:
                            total[fmt]["unjudged"] += 1
                            continue
                        verdict = verifier.verify(labels[sid], pred)
                        ok = verdict.accepted
                        agree = ok == (item["rating"] == 1)
                        total[fmt]["answers"] += 1
                        total[fmt]["agree"] += agree
                        total[f"{fmt}/{model}"]["answers"] += 1
                        total[f"{fmt}/{model}"]["agree"] += agree
                        if not agree:
                            wrong[fmt].append((sid, model, item["rating"], pred[:600], labels[sid][0],
                                               verdict.results[0].to_dict()))
    dt = time.perf_counter() - t0
    for key in sorted(total):
        c = total[key]
        if c["answers"]:
            print(f"{key:40s} {c['agree']:6d}/{c['answers']:<6d} {100 * c['agree'] / c['answers']:6.2f}%"
                  + (f"  (not judged: {c['unjudged']})" if c["unjudged"] else ""))
    n = sum(total[f]["answers"] for f in args.formats)
    print(f"{n} answers verified in {dt:.1f} s ({n / dt:.0f} answers/s)")
    rng = random.Random(0)
    for fmt in args.formats:
        for sid, model, rating, pred, label, res in rng.sample(wrong[fmt], min(args.show, len(wrong[fmt]))):
            print(f"--- {sid} [{model}] benchmark rating {rating}\n    {pred!r}\n    {label}\n    {res}")


if __name__ == "__main__":
    sys.exit(main())
