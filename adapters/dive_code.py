"""FINA dive codes ("407C", "5253B", "626C", "6245D") read as what they fix about a dive.

Groups 1-4 (forward, back, reverse, inward): group, flying digit, half somersaults, position
letter. Group 5 (twisting): 5, direction group, half somersaults, half twists, position. Group 6
(armstand): 6, direction group, half somersaults, optional half twists, position. Positions: A
straight, B pike, C tuck, D free. FineDiving's `action_type` is such a code, so its constraint
labels (somersaults, twists, position) come from here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

POSITIONS = {"A": "straight position", "B": "pike", "C": "tuck", "D": "free position"}
_CODE_RE = re.compile(r"^([1-6])(\d)(\d)(\d)?([A-D])$")


@dataclass(frozen=True, slots=True)
class Dive:
    """What a dive code fixes: somersaults and twists (in full turns) and the body position."""

    somersaults: float
    twists: float
    position: str


def parse_dive_code(code: str) -> Dive | None:
    """The dive a code names, or None for a code that does not follow the FINA scheme."""
    m = _CODE_RE.match(code.strip().upper())
    if m is None:
        return None
    group, second, halves, twist_halves, letter = m.groups()
    if group == "5" and twist_halves is None or group in "1234" and twist_halves is not None:
        return None
    if group in "1234" and second not in "01":
        return None                                       # the flying digit is 0 or 1
    return Dive(int(halves) / 2, int(twist_halves or 0) / 2, POSITIONS[letter])


def dive_constraints(code: str, wanted: tuple[str, ...] = ("somersaults", "twists", "position")) -> list[dict[str, Any]]:
    """Constraint label specs for `wanted` of what the code fixes (empty for an unreadable code)."""
    dive = parse_dive_code(code)
    if dive is None:
        return []
    specs = {"somersaults": {"type": "number", "name": "somersaults", "value": dive.somersaults, "abs_tol": 0.0,
                             "role": "constraint"},
             "twists": {"type": "number", "name": "twists", "value": dive.twists, "abs_tol": 0.0,
                        "role": "constraint"},
             "position": {"type": "category", "name": "position", "value": dive.position,
                          "vocabulary": list(POSITIONS.values()), "role": "constraint"}}
    return [specs[w] for w in wanted]
