"""The optional judge stage: an instruction-tuned LLM answers a strict yes/no about commitment.

The rules decide; the judge is a second opinion recorded next to them (`Verdict.judge`, the row's
`verifier_judge`), for the answers the rules mark `ambiguous` (their decision rests on a hedge,
a rival value, a correction, an attribution or a paraphrased hint echo) or for every answer.
The released Video-STaR code planned such an LLM verifier and never wired it.

Run config (off by default):

    verifier:
      judge: {backend: openai, model: Qwen2.5-7B-Instruct, when: ambiguous,
              options: {base_url: "http://127.0.0.1:8000/v1"}}

Any backend that answers text-only prompts through its public `generate_text(prompts, sample_ids)`
works (`openai`, `transformers`). The backend is built and loaded on first use,
so a Verifier with a judge can be pickled to Ray actors before that.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any, Mapping

from ..errors import ConfigError
from ..sources.sample import target_labels

WHEN = ("ambiguous", "always")
PROMPT = """You are checking an answer about a video against its ground-truth labels.
Labels:
{labels}
Answer:
\"\"\"{answer}\"\"\"
Does the answer itself clearly assert every label value above as its own conclusion? Answer "no" if it
hedges, offers alternatives or a list, asks, negates, gives the value to another event or person,
corrects it away, or only repeats a hint it was given without describing the video.
Reply with exactly one word: yes or no."""
_WORD_RE = re.compile(r"[a-z]+")


class Judge:
    """Asks a backend a strict yes/no prompt per answer; counts its replies for the run summary."""

    def __init__(self, backend: str, model: str | None = None, when: str = "ambiguous",
                 options: Mapping[str, Any] | None = None, *, instance: Any = None) -> None:
        if when not in WHEN:
            raise ConfigError(f"verifier.judge.when must be one of {', '.join(WHEN)}, got {when!r}",
                              key="verifier.judge.when")
        if not isinstance(backend, str) or not backend:
            raise ConfigError("verifier.judge.backend must name a backend (openai, transformers, ...)",
                              key="verifier.judge.backend")
        self.backend_name, self.model, self.when = backend, model, when
        self.options = dict(options or {})
        self._backend = instance
        self._ask: Any = None
        self.counts: Counter[str] = Counter()

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> "Judge | None":
        """A Judge from the run config's `verifier.judge` mapping (None when absent)."""
        if not cfg:
            return None
        unknown = set(cfg) - {"backend", "model", "when", "options"}
        if unknown:
            raise ConfigError(f"verifier.judge: unknown key(s) {', '.join(sorted(unknown))} "
                              "(known: backend, model, when, options)", key="verifier.judge")
        return cls(cfg.get("backend", ""), cfg.get("model"), cfg.get("when", "ambiguous"), cfg.get("options"))

    def __getstate__(self) -> dict[str, Any]:          # pickle the settings, not a loaded model
        state = dict(self.__dict__)
        state["_backend"], state["_ask"] = None, None
        return state

    def load(self) -> None:
        """Build and load the backend once; it must answer text-only prompts."""
        if self._ask is not None:
            return
        from ..registry import BACKENDS

        if self._backend is None:
            kwargs = {**self.options}
            if self.model is not None:
                kwargs["model"] = self.model
            kwargs.setdefault("max_new_tokens", 4)
            kwargs.setdefault("temperature", 0.0)
            self._backend = BACKENDS.get(self.backend_name)(**kwargs)
        if hasattr(self._backend, "ensure_loaded"):
            self._backend.ensure_loaded()
        elif hasattr(self._backend, "load"):
            self._backend.load()
        if not hasattr(self._backend, "generate_text"):
            raise ConfigError(f"judge backend {self.backend_name!r} cannot answer text-only prompts "
                              "(it has no generate_text); use openai or transformers", key="verifier.judge.backend")
        self._ask = self._backend.generate_text

    def wants(self, verdict: Any) -> bool:
        """Ask about this verdict? (`when: always`, or the rules marked it ambiguous)."""
        return self.when == "always" or bool(getattr(verdict, "ambiguous", False))

    @staticmethod
    def prompt(labels: list[dict[str, Any]], answer: str) -> str:
        from ..registry import LABEL_TYPES

        lines = []
        for spec in target_labels(labels):
            try:
                value = LABEL_TYPES.get(spec["type"])().hint_text(spec)
            except Exception:
                value = str(spec.get("value", ""))
            lines.append(f"- {spec.get('name', spec['type'])} ({spec['type']}): {value}")
        return PROMPT.format(labels="\n".join(lines), answer=answer.replace('"""', '"'))

    @staticmethod
    def parse(text: str) -> str | None:
        """'yes' / 'no' from the reply's first word ("Yes.", "no - it hedges"), else None."""
        m = _WORD_RE.search(text.lower()) if isinstance(text, str) else None
        return m.group(0) if m and m.group(0) in ("yes", "no") else None

    def ask(self, labels: list[dict[str, Any]], answer: str, verdict: Any) -> dict[str, Any]:
        """The judge's verdict as recorded next to the rules': verdict, agrees, model, raw reply."""
        out: dict[str, Any] = {"backend": self.backend_name, "model": self.model, "when": self.when}
        try:
            self.load()
            reply = self._ask([self.prompt(labels, answer)], [""])[0]
        except ConfigError:
            raise
        except Exception as exc:                         # one failed request never stops a run
            reply = exc
        if isinstance(reply, BaseException):
            self.counts["failed"] += 1
            return {**out, "verdict": None, "error": f"{type(reply).__name__}: {reply}"[:300]}
        said = self.parse(reply)
        self.counts[said or "unparsed"] += 1
        accepted = bool(getattr(verdict, "accepted", False))
        return {**out, "verdict": said, "agrees": None if said is None else (said == "yes") == accepted,
                "raw": str(reply)[:200]}
