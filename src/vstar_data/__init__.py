"""vstar-data: Video-STaR instruction-tuning data from any labeled video dataset.

Data flows one way: adapter -> samples -> prompts -> backend -> verifier -> store -> trainer.
This module imports nothing heavy; torch and transformers load only when a model is used.
"""
from __future__ import annotations

from .sources.adapter import Adapter, load_adapter
from .errors import SkipRecord, VstarError
from .sources.sample import LabelSpec, Sample

__version__ = "0.1.0"
__all__ = ["Adapter", "LabelSpec", "Sample", "SkipRecord", "VstarError", "load_adapter", "__version__"]
