"""Verifier throughput per label type, one core: answers/s on a realistic pass/fail mix.

Answers are 200-600 characters of scene description around a label statement that passes
(inflected, with stopwords), fails (another class, negated, a near-miss such as "playing bass
guitar", a wrong number, a number owned by another noun) or is absent. Category labels are the
real Kinetics-700 class names. Each answer is distinct, so the per-answer tokenisation cache never
helps; the per-label compile caches are warmed by one untimed pass, as they are in a real run.

    .venv/bin/python benchmarks/bench_verifier.py [--n 5000] [--labels PATH] [--profile default]

The `category+vocab` row runs the category suite with the Kinetics-700 class list given to the
Verifier as the source's vocabulary (rival classes are then looked up in every answer).
"""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from typing import Any, Callable

from vstar_data.registry import LABEL_TYPES
from vstar_data.verify.verifier import Verifier

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LABELS = ROOT.parent / "shared" / "fixtures" / "annotations" / "kinetics700" / "label_map_k700.txt"

FILLER = [
    "The video opens on a wide shot of an outdoor area with trees in the background.",
    "Lighting is natural and the camera is mostly steady, with a slight pan to the right.",
    "A second person stands nearby and watches, occasionally saying something.",
    "The clip lasts about ten seconds and there is some background noise.",
    "Looking closely at the motion of the arms and the posture, the activity becomes clear.",
    "The setting looks like a backyard, though it could also be a public park.",
    "Several objects are visible on the ground, including a bag and a water bottle.",
    "The person wears a dark shirt and light shorts, and moves with confidence.",
    "Step by step: first we identify the main subject, then we look at what they are doing.",
    "There are no captions or on-screen text that would give the answer away.",
    "The frames near the end show the same action repeated once more.",
    "Overall, the scene is calm and the main subject stays in the centre of the frame.",
]
OPENERS = ["In this video, the person is {x}.", "The main activity shown is {x}.", "Therefore, they are {x}.",
           "From the movements we can tell someone is {x}.", "The clip shows a man {x} in the yard."]
NEGATED = ["Nobody in the clip is {x}.", "The person is not {x}; they just stand there.",
           "Although it looks similar, he is not {x}."]


def _inflect(label: str, rng: random.Random) -> str:
    words = label.replace("(", "").replace(")", "").split()
    if words[0].endswith("ing") and len(words) > 1 and rng.random() < 0.5:
        words.insert(1, rng.choice(["a", "the", "his"]))
    return " ".join(words)


def _wrap(core: str, rng: random.Random) -> str:
    parts = rng.sample(FILLER, rng.randint(2, 6))
    parts.insert(rng.randint(0, len(parts)), core)
    text = " ".join(parts)
    while len(text) < 200:
        text += " " + rng.choice(FILLER)
    return text[:600]


def category_cases(labels: list[str], n: int, rng: random.Random) -> list[tuple[dict[str, Any], str]]:
    out = []
    for _ in range(n):
        label = rng.choice(labels)
        spec = {"type": "category", "name": "action", "value": label}
        roll = rng.random()
        if roll < 0.45:
            core = rng.choice(OPENERS).format(x=_inflect(label, rng))
        elif roll < 0.65:
            core = rng.choice(OPENERS).format(x=_inflect(rng.choice(labels), rng))
        elif roll < 0.8:
            core = rng.choice(NEGATED).format(x=_inflect(label, rng))
        elif roll < 0.9:
            words = label.split()
            core = rng.choice(OPENERS).format(x=" ".join(words[:1] + ["electric"] + words[1:]))
        else:
            core = "It is hard to say exactly what is happening here."
        out.append((spec, _wrap(core, rng)))
    return out


def number_cases(n: int, rng: random.Random) -> list[tuple[dict[str, Any], str]]:
    out = []
    for _ in range(n):
        dd = rng.choice([2.0, 2.6, 2.8, 3.0, 3.2, 3.4, 3.5, 3.6, 3.8])
        score = round(rng.uniform(30, 100), 1)
        which = rng.choice(["difficulty", "final_score"])
        spec = {"type": "number", "name": which, "value": dd if which == "difficulty" else score}
        roll = rng.random()
        if roll < 0.4:
            core = f"A dive with a difficulty of {dd} scored {score} points."
        elif roll < 0.55:
            core = f"The final score is {score} out of 100, and the degree of difficulty is {dd}."
        elif roll < 0.7:
            core = f"The diver performs {dd} somersaults and the score is {round(score * 0.8, 1)}."
        elif roll < 0.85:
            core = f"The difficulty is {round(dd + 0.6, 1)} and the final score is {round(score + 9, 1)}."
        else:
            core = "The entry is clean, with very little splash, so the judges should be pleased."
        out.append((spec, _wrap(core, rng)))
    return out


def interval_cases(n: int, rng: random.Random) -> list[tuple[dict[str, Any], str]]:
    out = []
    for _ in range(n):
        s = round(rng.uniform(0, 100), 1)
        e = round(s + rng.uniform(2, 20), 1)
        spec = {"type": "interval", "name": "segment", "start": s, "end": e}
        shift = rng.choice([0, 0, 0.5, 1.5, 6, 30])
        form = rng.choice(["from {a}s to {b} s", "between {a} and {b} seconds", "{a}-{b} seconds",
                           "starting at {a} seconds and ending at {b}"])
        core = "The action happens " + form.format(a=round(s + shift, 1), b=round(e + shift, 1)) + "."
        out.append((spec, _wrap(core, rng)))
    return out


def sequence_cases(n: int, rng: random.Random) -> list[tuple[dict[str, Any], str]]:
    starts, middles = ["Forward", "Back", "Reverse", "Inward"], ["2.5 Soms.Pike", "3.5 Soms.Tuck", "1.5 Soms.Pike"]
    out = []
    for _ in range(n):
        items = [rng.choice(starts), rng.choice(middles), "Entry"]
        spec = {"type": "sequence", "name": "sub_actions", "value": items}
        said = list(items)
        if rng.random() < 0.3:
            said[1] = rng.choice(middles)
        said[1] = said[1].replace("Soms.", "somersaults in the ").lower() + " position"
        core = f"The diver starts {said[0].lower()}, then performs {said[1]}, and finishes with the {said[2].lower()}."
        out.append((spec, _wrap(core, rng)))
    return out


def bench(cases: list[tuple[dict[str, Any], str]], fn: Callable[[dict[str, Any], str], bool],
          repeat: int = 3) -> tuple[float, float]:
    for spec, answer in cases:      # warm per-label compile caches (as a real run would)
        fn(spec, answer)
    best = float("inf")
    passed = 0
    for _ in range(repeat):
        t0 = time.process_time()
        passed = sum(fn(spec, answer) for spec, answer in cases)
        best = min(best, time.process_time() - t0)
    return len(cases) / best, passed / len(cases)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000, help="answers per label type")
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="Kinetics-700 label map")
    ap.add_argument("--profile", default="default")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    labels = [x.strip() for x in args.labels.read_text("utf-8").splitlines() if x.strip()]
    verifier = Verifier(args.profile)
    suites = {"category": category_cases(labels, args.n, rng), "number": number_cases(args.n, rng),
              "interval": interval_cases(args.n, rng), "sequence": sequence_cases(args.n, rng)}
    print(f"profile={verifier.profile.name}  answers/type={args.n}  (one core, best of 3)")
    print(f"{'type':<10} {'avg chars':>9} {'pass rate':>9} {'label type/s':>13} {'Verifier/s':>11} {'us/answer':>10}")
    for kind, cases in suites.items():
        lt = LABEL_TYPES.get(kind)()
        raw, rate = bench(cases, lambda s, a, lt=lt: lt.verify(s, a, verifier.profile).passed)
        full, _ = bench(cases, lambda s, a: verifier.verify([s], a).accepted)
        chars = sum(len(a) for _, a in cases) / len(cases)
        print(f"{kind:<10} {chars:>9.0f} {rate:>9.1%} {raw:>13,.0f} {full:>11,.0f} {1e6 / full:>10.1f}")
        if kind == "category":
            try:
                vocab = Verifier(args.profile, vocabulary=labels)
            except TypeError:                      # a Verifier without vocabulary support
                continue
            lt_spec = [(dict(s, vocabulary=labels), a) for s, a in cases]
            raw, rate = bench(lt_spec, lambda s, a, lt=lt: lt.verify(s, a, verifier.profile).passed)
            full, _ = bench(cases, lambda s, a: vocab.verify([s], a).accepted)
            print(f"{'+vocab':<10} {chars:>9.0f} {rate:>9.1%} {raw:>13,.0f} {full:>11,.0f} {1e6 / full:>10.1f}")


if __name__ == "__main__":
    main()
