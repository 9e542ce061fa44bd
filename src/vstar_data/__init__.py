"""vstar-data: Video-STaR instruction-tuning data from any labeled video dataset.

Data flows one way, one package per stage: sources (adapter -> samples -> prompts) -> video
(frames) -> backends (answers) -> verify -> generation (engines) -> dataset (store) -> training
-> cycle. The names below are the public API that plugins and docs use; they load lazily, so
`import vstar_data` imports nothing heavy (torch and transformers load only when a model is used).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (AnnotationError, ConfigError, GenerationError, LabelSpecError, MissingDependencyError,  # noqa: F401
                     SkipRecord, TemplateError,
                     UnsafePathError, VstarError)
from .registry import ADAPTERS, BACKENDS, ENGINES, EXPORTERS, LABEL_TYPES

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "Adapter": "vstar_data.sources.adapter",
    "AdapterStats": "vstar_data.sources.adapter",
    "load_adapter": "vstar_data.sources.adapter",
    "safe_relpath": "vstar_data.sources.adapter",
    "resolve_under": "vstar_data.sources.adapter",
    "VIDEO_EXTS": "vstar_data.sources.annotations",
    "annotation_files": "vstar_data.sources.annotations",
    "read_csv_rows": "vstar_data.sources.annotations",
    "split_from_name": "vstar_data.sources.annotations",
    "finite_number": "vstar_data.sources.annotations",
    "is_plain_name": "vstar_data.sources.annotations",
    "check_options": "vstar_data.sources.options",
    "float_option": "vstar_data.sources.options",
    "int_option": "vstar_data.sources.options",
    "bool_option": "vstar_data.sources.options",
    "VideoIndex": "vstar_data.sources.lookup",
    "IndexedLookupMixin": "vstar_data.sources.lookup",
    "Sample": "vstar_data.sources.sample",
    "LabelSpec": "vstar_data.sources.sample",
    "validate_label_specs": "vstar_data.sources.sample",
    "safe_load": "vstar_data.sources.safe_pickle",
    "TemplateIndex": "vstar_data.sources.templates",
    "Frames": "vstar_data.video.frames",
    "sample_frames": "vstar_data.video.frames",
    "Backend": "vstar_data.backends.base",
    "Request": "vstar_data.backends.base",
    "LabelType": "vstar_data.verify.labels.base",
    "LabelResult": "vstar_data.verify.labels.base",
    "Profile": "vstar_data.verify.labels.base",
    "ScoreContext": "vstar_data.verify.labels.base",
    "Metric": "vstar_data.verify.metrics",
    "Verifier": "vstar_data.verify.verifier",
    "Verdict": "vstar_data.verify.verifier",
    "load_profile": "vstar_data.verify.verifier",
    "verify_profiles": "vstar_data.verify.verifier",
    "GenerationConfig": "vstar_data.generation.pipeline",
    "Engine": "vstar_data.generation.engines.base",
    "make_engine": "vstar_data.generation.engines.base",
    "score_answer": "vstar_data.rewards",
    "trl_reward": "vstar_data.rewards",
    "verl_compute_score": "vstar_data.rewards",
    "easyr1_compute_score": "vstar_data.rewards",
    "Exporter": "vstar_data.dataset.export.base",
    "RecordExporter": "vstar_data.dataset.export.base",
    "export": "vstar_data.dataset.export",
}

__all__ = sorted([*_LAZY, "verify_answer", "ADAPTERS", "BACKENDS", "ENGINES", "EXPORTERS", "LABEL_TYPES", "AnnotationError",
                  "ConfigError", "GenerationError", "LabelSpecError", "MissingDependencyError", "SkipRecord", "TemplateError",
                  "UnsafePathError", "VstarError", "__version__"])


def verify_answer(labels: Any, answer: str, origin: str = "generated", profile: Any = "default") -> Any:
    """Check one answer against its label specs under one verifier profile; returns a Verdict."""
    from .verify.verifier import Verifier

    return Verifier(profile).verify(list(labels), answer, origin)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vstar_data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from .backends.base import Backend, Request
    from .dataset.export import export
    from .dataset.export.base import Exporter, RecordExporter
    from .rewards import easyr1_compute_score, score_answer, trl_reward, verl_compute_score
    from .generation.pipeline import GenerationConfig
    from .sources.adapter import Adapter, AdapterStats, load_adapter, resolve_under, safe_relpath
    from .sources.annotations import (VIDEO_EXTS, annotation_files, finite_number, is_plain_name, read_csv_rows,
                                      split_from_name)
    from .sources.lookup import IndexedLookupMixin, VideoIndex
    from .sources.options import bool_option, check_options, float_option, int_option
    from .sources.safe_pickle import safe_load
    from .sources.sample import LabelSpec, Sample, validate_label_specs
    from .sources.templates import TemplateIndex
    from .verify.labels.base import LabelResult, LabelType, Profile, ScoreContext
    from .verify.metrics import Metric
    from .verify.verifier import Verdict, Verifier, load_profile, verify_profiles
    from .video.frames import Frames, sample_frames
