"""Checking one constraint label (`"role": "constraint"`) against an answer, and counting them.

A constraint is what a source knows about a clip besides the target (the shapes world's colour,
a dive code's somersaults, STAR's objects present). The label type decides what contradicts it
(`LabelType.contradiction`, labels/contradiction.py); here a blank answer contradicts nothing and
`contradictions` turns a verdict's scores into the names of the constraints it contradicted, the
unit the cycle's hallucination counts are made of.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from .labels.base import LabelResult, LabelType, Profile
from .labels.contradiction import CONTRADICTS, consistent


def check_constraint(lt: LabelType, spec: dict[str, Any], answer: str, profile: Profile) -> LabelResult:
    """The constraint's result: passed unless the answer asserts a conflicting value."""
    if not (isinstance(answer, str) and answer.strip()):
        return consistent(spec, lt.type_name)
    result = lt.contradiction(spec, answer, profile)
    if result is None:        # validation refuses such specs; a spec built in code still gets an answer
        raise TypeError(f"label type {lt.type_name!r} cannot check a constraint (no `contradiction`)")
    return result


def contradictions(scores: Iterable[Mapping[str, Any]]) -> list[str]:
    """Names of the constraints a verdict's scores (`LabelResult.to_dict()` items) say were contradicted."""
    return [str(s.get("name")) for s in scores if s.get("reason") == CONTRADICTS]
