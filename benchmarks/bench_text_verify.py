"""`text` label verification throughput on CPU (answers/s), against `category` verification of
the same answers in the same run (the baseline).

Answers are 2-5 sentences of scene description around a statement that paraphrases the reference,
contradicts it or is unrelated; every sentence of every answer is distinct (no sentence-cache hits;
the embedding cache and prepare's remembered word decisions are cleared before each timed pass, so
isolated-word vectors start cold too). Figures are wall-clock and per CPU second of all the
process's threads (`time.process_time`: the machine may be shared). `text` runs in two ways: one
`verify` call per answer (each embeds its own sentences) and `prepare` + `verify` (the verifier's
batched path: undecided sentences go to the encoder in groups while the next answers are decided). Two reference paths run in the same
process: every sentence embedded (no gate, no word decisions) and the gated sentences with
similarity deciding every gated answer (no word decisions: the figure before words decided first);
each prints the sentences encoded per answer and how many verdicts differ from the shipped path.
The shipped path runs the encoder on ONNX Runtime when it is installed; a third reference path then
runs it on PyTorch (same gate, same word decisions), and the verdicts of the two are compared.
The model load (and the ONNX export) is timed on its own. `--threads` (default: torch's, one per
core) sets the encoder's threads for both backends: ONNX Runtime runs one batch per thread side by
side, PyTorch one batch at a time on a lock-step thread team, which slows down many times over
when another process holds a core (use `--threads 1` to compare the two on a shared machine).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_text_verify.py [--n 500] [--batch 64] [--threads 2]
"""
from __future__ import annotations

import argparse
import random
import time
from typing import Callable

REFS = ["The person put the cup on the shelf.", "A man opens the closet door.", "The woman is washing dishes.",
        "Someone throws a pillow onto the bed.", "The child takes a book from the table."]
PARA = ["Someone placed the mug onto the shelf.", "A guy pulls the cupboard door open.",
        "A lady cleans the plates in the sink.", "A cushion gets tossed onto the bed.",
        "The kid picks up a book lying on the table."]
FILLER = ["The room is lit by a {adj} window on the {side}.", "The camera stays {still} for about {n} seconds.",
          "There is a {colour} {thing} in the background near the {place}.",
          "Step {n}: we first look at the {part} of the {who}.", "The clip is short, roughly {n} seconds long.",
          "A radio plays {softly} in the {place} next door.",
          "The floor is {adj} and there is a {colour} rug by the {place}."]
SLOTS = {"adj": "wooden bright dim large narrow tall dusty clean".split(), "side": "left right far side back".split(),
         "still": "still steady fixed level".split(), "colour": "red blue green grey white black brown".split(),
         "thing": "sofa lamp plant chair shelf poster clock".split(), "place": "door wall corner stairs hallway".split(),
         "part": "hands feet face arms shoulders".split(), "who": "person actor subject man woman".split(),
         "softly": "quietly softly faintly loudly".split()}
LEADS = ["At {n} seconds, ", "Around the {n}-second mark, ", "In shot {n}, ", "About {n} seconds in, "]
UNRELATED = ["A dog runs across a park.", "Cars drive down a busy highway.", "A chef slices onions quickly."]


def _fill(rng: random.Random, template: str) -> str:
    return template.format(n=rng.randint(2, 999), **{k: rng.choice(v) for k, v in SLOTS.items()})


def make_answers(n: int, seed: int = 0) -> list[tuple[int, str]]:
    """n answers whose sentences are all distinct (a sentence cache cannot carry the figure)."""
    rng = random.Random(seed)
    seen: set[str] = set()

    def unique(make: "Callable[[], str]") -> str:
        while True:
            text = make()
            if text not in seen:
                seen.add(text)
                return text

    out = []
    for i in range(n):
        k = i % len(REFS)
        core = rng.choice([PARA[k], PARA[k].replace(".", " again."), UNRELATED[i % 3], REFS[(k + 1) % len(REFS)]])
        core = unique(lambda: _fill(rng, rng.choice(LEADS)) + core[0].lower() + core[1:])
        body = [unique(lambda: _fill(rng, rng.choice(FILLER))) for _ in range(rng.randint(1, 4))] + [core]
        rng.shuffle(body)
        out.append((k, " ".join(body)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=0, help="encoder threads (0: torch's default, one per core)")
    args = ap.parse_args()

    import torch

    from vstar_data.verify.labels import _embed
    from vstar_data.verify.labels.base import Profile
    from vstar_data.verify.labels.category import CategoryLabel
    from vstar_data.verify.labels import text as text_mod
    from vstar_data.verify.labels.text import TextLabel

    if args.threads:
        torch.set_num_threads(args.threads)
    profile = Profile("default")
    answers = make_answers(args.n)
    cat_specs = [{"type": "category", "name": "action", "value": v} for v in
                 ("putting cup on shelf", "opening closet", "washing dishes", "throwing pillow", "taking book")]
    txt_specs = [{"type": "text", "name": "answer", "value": r} for r in REFS]

    cat = CategoryLabel()
    for k, a in answers[:50]:
        cat.verify(cat_specs[k], a, profile)                       # warm the name compile cache
    cat_v, cat_w, cat_c = _timed(lambda: [cat.verify(cat_specs[k], a, profile).passed for k, a in answers])

    t0 = time.perf_counter()
    _embed.embed(["warm up"])
    load_s = time.perf_counter() - t0
    shipped = _embed.backend()
    text = TextLabel()

    def single() -> list[bool]:
        text_mod.clear_cache()
        return [text.verify(txt_specs[k], a, profile).passed for k, a in answers]

    def batched() -> list[bool]:
        text_mod.clear_cache()
        out: list[bool] = []
        for b in range(0, len(answers), args.batch):
            chunk = answers[b:b + args.batch]
            text.prepare([txt_specs[k] for k, _ in chunk], [a for _, a in chunk])
            out += [text.verify(txt_specs[k], a, profile).passed for k, a in chunk]
        return out

    encoded = {"n": 0}
    encode = _embed._encode

    def counting(texts: list[str]):  # type: ignore[no-untyped-def]
        encoded["n"] += sum(" " in t for t in texts)          # sentences (isolated words are a vocabulary)
        return encode(texts)

    _embed._encode = counting
    gated, settle = text_mod._candidates, text_mod._settle
    text_mod._candidates = lambda refs, answer, units: list(range(len(units)))      # every sentence embedded
    text_mod._settle = lambda *a: None                                               # and similarity decides
    all_v, all_w, all_c = _timed(batched)
    all_n, encoded["n"] = encoded["n"], 0
    text_mod._candidates = gated
    enc_v, enc_w, enc_c = _timed(batched)                       # the gate, then similarity decides
    enc_n, encoded["n"] = encoded["n"], 0
    text_mod._settle = settle
    bat_v, bat_w, bat_c = _timed(batched)                       # the gate, words, then similarity
    bat_n, encoded["n"] = encoded["n"], 0
    one_v, one_w, one_c = _timed(single)
    assert one_v == bat_v
    ref_rows = []
    if shipped != "torch":                                      # the same path with the encoder on PyTorch
        _embed.set_backend("torch")
        _embed.embed(["warm up"])
        encoded["n"] = 0
        pt_v, pt_w, pt_c = _timed(batched)
        pt_n, encoded["n"] = encoded["n"], 0
        ref_rows.append(("text, prepare + verify, PyTorch encoder", pt_w, pt_c, pt_n))
        _embed.set_backend(shipped)

    n = len(answers)
    print(f"answers: {n} (text accepted {sum(bat_v)}; verdicts that differ from embedding every sentence: "
          f"{sum(a != b for a, b in zip(all_v, bat_v))}, from letting similarity decide every gated answer: "
          f"{sum(a != b for a, b in zip(enc_v, bat_v))}"
          + (f", from the PyTorch encoder: {sum(a != b for a, b in zip(pt_v, bat_v))}" if ref_rows else "")
          + f"), encoder on {shipped}, {torch.get_num_threads()} thread(s)")
    print(f"{'':48s} {'answers/s':>10s} {'per CPU-s':>10s} {'sentences encoded/answer':>25s}")
    for name, w, c, k in (("category (baseline)", cat_w, cat_c, None),
                          ("text, every sentence embedded", all_w, all_c, all_n),
                          ("text, gated sentences, similarity decides", enc_w, enc_c, enc_n),
                          *ref_rows,
                          ("text, one call per answer", one_w, one_c, None),
                          ("text, prepare + verify", bat_w, bat_c, bat_n)):
        per = f"{k / n:25.2f}" if k is not None else " " * 25
        print(f"{name:48s} {n / w:10.1f} {n / c:10.1f} {per}   ({cat_w / w:.4f}x category wall, {cat_c / c:.4f}x CPU)")
    print(f"model load (once per process{', with the ONNX export' if shipped == 'onnx' else ''}): {load_s:.1f} s")


def _timed(fn: "Callable[[], list[bool]]") -> tuple[list[bool], float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


if __name__ == "__main__":
    main()
