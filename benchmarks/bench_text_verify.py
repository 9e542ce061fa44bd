"""`text` label verification throughput on CPU (answers/s), against `category` verification of
the same answers in the same run (the baseline).

Answers are 2-5 sentences of scene description around a statement that paraphrases the reference,
contradicts it or is unrelated; every answer is distinct (no embedding-cache hits). `text` runs in
two ways: one `verify` call per answer (each embeds its own sentences) and `prepare` + `verify`
(the verifier's batched path: one model call per batch). The model load is timed on its own.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_text_verify.py [--n 500] [--batch 64]
"""
from __future__ import annotations

import argparse
import random
import time

REFS = ["The person put the cup on the shelf.", "A man opens the closet door.", "The woman is washing dishes.",
        "Someone throws a pillow onto the bed.", "The child takes a book from the table."]
PARA = ["Someone placed the mug onto the shelf.", "A guy pulls the cupboard door open.",
        "A lady cleans the plates in the sink.", "A cushion gets tossed onto the bed.",
        "The kid picks up a book lying on the table."]
FILLER = ["The room is lit by a window on the left.", "The camera does not move during the clip.",
          "There is a sofa and a small lamp in the background.", "Step by step, we first look at the hands.",
          "The clip is short, about ten seconds long.", "A radio plays quietly in another room.",
          "The floor is wooden and there is a rug near the door."]
UNRELATED = ["A dog runs across a park.", "Cars drive down a busy highway.", "A chef slices onions quickly."]


def make_answers(n: int, seed: int = 0) -> list[tuple[int, str]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        k = i % len(REFS)
        core = rng.choice([PARA[k], PARA[k].replace(".", " again."), UNRELATED[i % 3], REFS[(k + 1) % len(REFS)]])
        body = rng.sample(FILLER, rng.randint(1, 4)) + [core]
        rng.shuffle(body)
        out.append((k, f"Answer {i}: " + " ".join(body)))          # distinct texts: no cache hits
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()

    import torch

    from vstar_data.verify.labels import _embed
    from vstar_data.verify.labels.base import Profile
    from vstar_data.verify.labels.category import CategoryLabel
    from vstar_data.verify.labels.text import TextLabel

    torch.set_num_threads(1)
    profile = Profile("default")
    answers = make_answers(args.n)
    cat_specs = [{"type": "category", "name": "action", "value": v} for v in
                 ("putting cup on shelf", "opening closet", "washing dishes", "throwing pillow", "taking book")]
    txt_specs = [{"type": "text", "name": "answer", "value": r} for r in REFS]

    cat = CategoryLabel()
    for k, a in answers[:50]:
        cat.verify(cat_specs[k], a, profile)                       # warm the name compile cache
    t0 = time.perf_counter()
    for k, a in answers:
        cat.verify(cat_specs[k], a, profile)
    cat_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    _embed.embed(["warm up"])
    load_s = time.perf_counter() - t0
    text = TextLabel()
    _embed.clear_cache()
    t0 = time.perf_counter()
    passed_single = sum(text.verify(txt_specs[k], a, profile).passed for k, a in answers)
    single_s = time.perf_counter() - t0
    _embed.clear_cache()
    t0 = time.perf_counter()
    passed_batched = 0
    for b in range(0, len(answers), args.batch):
        chunk = answers[b:b + args.batch]
        text.prepare([txt_specs[k] for k, _ in chunk], [a for _, a in chunk])
        passed_batched += sum(text.verify(txt_specs[k], a, profile).passed for k, a in chunk)
    batched_s = time.perf_counter() - t0
    assert passed_single == passed_batched

    n = len(answers)
    print(f"answers: {n} (text accepted {passed_batched}), 1 torch thread")
    print(f"category (baseline):      {n / cat_s:10.0f} answers/s")
    print(f"text, one call per answer:{n / single_s:10.1f} answers/s  ({cat_s / single_s:.5f}x category)")
    print(f"text, prepare + verify:   {n / batched_s:10.1f} answers/s  ({cat_s / batched_s:.5f}x category, "
          f"{single_s / batched_s:.1f}x one call per answer)")
    print(f"model load (once per process): {load_s:.1f} s")


if __name__ == "__main__":
    main()
