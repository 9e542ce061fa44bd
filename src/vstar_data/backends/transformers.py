"""The transformers backend: any video VLM with a processor and a chat template (Qwen2-VL,
Qwen2.5-VL, Qwen3-VL, LLaVA-NeXT-Video, LLaVA-OneVision, Video-LLaVA, ...).

Frames are decoded and sampled by vstar_data (frames.py); the processor receives them as uint8
arrays together with their video metadata (fps, frame indices, duration) and is told not to
sample again (``do_sample_frames=False``), so every model sees exactly the recorded frames and
timestamp-aware models (Qwen2.5-VL, Qwen3-VL) get real times. Prompts go through the model's own
chat template with one video content part; batches are left-padded and only new tokens are
decoded. Everything that can be wrong with the model folder (missing, offline, no processor, no
chat template) is reported once, by `load()`, as a ConfigError that says how to fix it.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import re
from pathlib import Path
from typing import Any, Iterator

from ..errors import ConfigError, MissingDependencyError, VstarError
from .base import Backend, GenerationError, Request

log = logging.getLogger(__name__)
DTYPES = {"bf16": "bfloat16", "bfloat16": "bfloat16", "fp16": "float16", "float16": "float16",
          "half": "float16", "fp32": "float32", "float32": "float32", "float": "float32"}
_SNAPSHOT_RE = re.compile(r"models--(?P<org>[^/\\]+?)--(?P<name>[^/\\]+)[/\\]snapshots[/\\](?P<commit>[0-9a-f]{40})")
_TEXT_SUFFIXES = (".json", ".jinja", ".txt", ".model", ".tiktoken")


class TransformersBackend(Backend):
    """Local inference with transformers. Options (besides the common ones, see Backend):
    ``revision`` (Hub branch/tag/commit), ``attn_implementation`` (default "sdpa"),
    ``system_prompt``, ``chat_template`` (a .jinja path or template text overriding the model's),
    ``trust_remote_code`` (default False), ``cache_dir`` (Hugging Face cache, default the usual)."""

    name = "transformers"

    def __init__(self, *, revision: str | None = None, attn_implementation: str | None = None,
                 system_prompt: str | None = None, chat_template: str | None = None,
                 trust_remote_code: bool = False, cache_dir: str | None = None, **options: Any) -> None:
        super().__init__(**options)
        if self.dtype is not None and str(self.dtype).lower() not in (*DTYPES, "auto"):
            raise ConfigError(f"backend 'transformers': unknown dtype {self.dtype!r}; use one of "
                              f"bfloat16, float16, float32, auto")
        self.revision = revision
        self.attn_implementation = attn_implementation
        self.system_prompt = system_prompt
        self.chat_template = chat_template
        self.trust_remote_code = bool(trust_remote_code)
        self.cache_dir = cache_dir
        self.processor: Any = None
        self.hf_model: Any = None
        self.model_path: Path | None = None
        self._hub_id: str | None = None
        self._commit: str | None = None
        self._revision_cache: str | None = None
        self._strip: list[str] = []
        self._reads_times = False

    # ------------------------------------------------------------------ loading
    def load(self) -> None:
        if self._loaded:
            return
        if not self.model:
            raise ConfigError("backend 'transformers' needs a model: pass --model with a local model "
                              "directory or a Hugging Face Hub id (e.g. Qwen/Qwen2-VL-2B-Instruct)")
        try:
            import torch
            import transformers  # noqa: F401
        except ImportError as exc:
            raise MissingDependencyError(f"backend 'transformers' needs torch and transformers ({exc}); "
                                         "install them with: pip install torch transformers") from exc
        source = self._resolve()
        self.processor = self._load_processor(source)
        self._check_chat_template()
        self._reads_times = self._probe_frame_times()
        self.hf_model = self._load_model(source, torch)
        self._loaded = True

    def _resolve(self) -> str:
        """A local folder for `self.model`, or the Hub id to download when online."""
        from huggingface_hub import is_offline_mode, snapshot_download

        text = str(self.model)
        path = Path(text).expanduser()
        if path.is_dir():
            self.model_path = path.resolve()
            m = _SNAPSHOT_RE.search(str(self.model_path))
            if m:
                self._hub_id, self._commit = f"{m['org']}/{m['name']}", m["commit"]
            _check_model_dir(self.model_path, text)
            return str(self.model_path)
        if path.exists() or text.startswith((".", "/", "~")) or text.count("/") > 1 or "\\" in text:
            raise ConfigError(f"model {text!r} is not a model directory (it does not exist or is a file); "
                              "pass the folder that holds config.json, or a Hub id such as org/name")
        self._hub_id = text
        try:
            snap = Path(snapshot_download(text, revision=self.revision, local_files_only=True,
                                          cache_dir=self.cache_dir))
        except Exception:  # not cached: download if we may
            snap = None
        if snap is not None and (snap / "config.json").is_file():
            self.model_path = snap
            m = _SNAPSHOT_RE.search(str(snap))
            self._commit = m["commit"] if m else None
            _check_model_dir(snap, text)
            return str(snap)
        fix = (f"Fix: download it where there is internet (`hf download {text}`) and copy the cache folder "
               "(~/.cache/huggingface/hub), or pass --model /path/to/model_dir")
        if is_offline_mode():
            raise ConfigError(f"model {text!r} is not a local directory and is not in the Hugging Face cache, "
                              f"and the Hub is offline (HF_HUB_OFFLINE=1). {fix}, or unset HF_HUB_OFFLINE")
        self._probe_hub(text, fix)
        return text

    def _probe_hub(self, repo_id: str, fix: str) -> None:
        """One quick request before downloading, so an unreachable Hub or a wrong id is one clear
        error instead of minutes of retries per file."""
        from huggingface_hub import HfApi
        from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

        try:
            HfApi().model_info(repo_id, revision=self.revision, timeout=15)
        except GatedRepoError:
            raise ConfigError(f"model {repo_id!r} is gated: accept its licence on the Hub and log in "
                              "(`hf auth login`), or pass a local directory") from None
        except RepositoryNotFoundError:
            raise ConfigError(f"model {repo_id!r} does not exist on the Hugging Face Hub (or is private: log in "
                              "with `hf auth login`); check the id, or pass a local model directory") from None
        except RevisionNotFoundError:
            raise ConfigError(f"model {repo_id!r} has no revision {self.revision!r}") from None
        except Exception as exc:
            raise ConfigError(f"model {repo_id!r} is not in the local Hugging Face cache and the Hub cannot be "
                              f"reached ({type(exc).__name__}: {exc}). {fix}; set HF_HUB_OFFLINE=1 when "
                              "working without network") from None

    def _from_pretrained(self, what: str, fn: Any, source: str, **kw: Any) -> Any:
        try:
            return fn(source, revision=self.revision, trust_remote_code=self.trust_remote_code,
                      cache_dir=self.cache_dir, **kw)
        except Exception as exc:  # whatever transformers raises, the user gets one located message
            offline_hint = ("; if the Hub is unreachable, download the model where there is internet "
                            f"(`hf download {self._hub_id}`) and pass its folder, or set HF_HUB_OFFLINE=1 "
                            "with a filled cache") if self._hub_id and self.model_path is None else ""
            raise ConfigError(f"cannot load the {what} of model {self.model!r}: {type(exc).__name__}: "
                              f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}{offline_hint}") from exc

    def _load_processor(self, source: str) -> Any:
        from transformers import AutoProcessor

        processor = self._from_pretrained("processor", AutoProcessor.from_pretrained, source)
        if getattr(processor, "video_processor", None) is None or getattr(processor, "tokenizer", None) is None:
            raise ConfigError(
                f"model {self.model!r} has no video processor ({type(processor).__name__} was found): the "
                "folder must hold a video VLM saved with processor.save_pretrained (processor_config.json, "
                "video_preprocessor_config.json, tokenizer files)")
        if self.chat_template:
            tpl = Path(self.chat_template).expanduser()
            processor.chat_template = tpl.read_text("utf-8") if tpl.is_file() else self.chat_template
        tok = processor.tokenizer
        tok.padding_side = "left"             # decoder-only generation needs left padding
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        marks = [getattr(processor, "video_token", None), getattr(processor, "image_token", None),
                 "<video>", "<image>", *getattr(tok, "all_special_tokens", [])]
        self._strip = sorted({m for m in marks if m}, key=len, reverse=True)
        return processor

    def _check_chat_template(self) -> None:
        if not getattr(self.processor, "chat_template", None):
            raise ConfigError(
                f"model {self.model!r} has no chat template (no chat_template.jinja or chat_template in its "
                "processor/tokenizer config). Fix: save the processor with a template (processor.chat_template "
                "= ...; processor.save_pretrained(dir)) or pass the backend option chat_template=FILE.jinja")
        try:
            text = self._render("probe")
        except Exception as exc:
            raise ConfigError(f"the chat template of model {self.model!r} does not render a video message: "
                              f"{type(exc).__name__}: {exc}") from exc
        token = getattr(self.processor, "video_token", None)
        if token and token not in text:
            raise ConfigError(f"the chat template of model {self.model!r} drops video content parts (no "
                              f"{token!r} in {text[:200]!r}); use a template that renders {{'type': 'video'}}")

    def _load_model(self, source: str, torch: Any) -> Any:
        from transformers import AutoConfig, AutoModelForImageTextToText, AutoModelForMultimodalLM
        from transformers.models.auto.modeling_auto import (MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING,
                                                            MODEL_FOR_MULTIMODAL_LM_MAPPING)

        config = self._from_pretrained("config", AutoConfig.from_pretrained, source)
        if type(config) in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING:
            auto = AutoModelForImageTextToText
        elif type(config) in MODEL_FOR_MULTIMODAL_LM_MAPPING:
            auto = AutoModelForMultimodalLM
        else:
            raise ConfigError(f"model {self.model!r} ({config.model_type}) is not an image/video-text-to-text "
                              "model transformers knows; use a video VLM such as Qwen2-VL or LLaVA-OneVision")
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = DTYPES.get(str(self.dtype).lower(), "auto") if self.dtype else (
            "bfloat16" if str(device).startswith("cuda") else "float32")
        kw: dict[str, Any] = {"dtype": dtype if dtype == "auto" else getattr(torch, dtype),
                              "attn_implementation": self.attn_implementation or "sdpa"}
        if device == "auto":
            kw["device_map"] = "auto"
        model = self._from_pretrained("weights", auto.from_pretrained, source, config=config, **kw)
        if device != "auto":
            model.to(device)
        model.eval()
        self._commit = self._commit or getattr(model.config, "_commit_hash", None)
        return model

    def _probe_frame_times(self) -> bool:
        """Whether the processor uses the frames' times: a small clip is processed twice with
        the same pixels and indices, once at twice the fps; a processor that reads times
        (Qwen2.5-VL's temporal positions, Qwen3-VL's timestamp text) gives different inputs."""
        import numpy as np

        n = 2 * max(1, int(getattr(self.processor.video_processor, "temporal_patch_size", 1) or 1))
        array = np.full((n, 64, 64, 3), 128, np.uint8)
        text = self._render("probe")

        def inputs(fps: float) -> dict[str, Any]:
            meta = {"total_num_frames": 4 * n, "fps": fps, "duration": 4 * n / fps,
                    "frames_indices": list(range(0, 4 * n, 4)), "height": 64, "width": 64,
                    "video_backend": "pyav"}
            return dict(self.processor(text=[text], videos=[array], video_metadata=[meta],
                                       do_sample_frames=False, return_tensors="pt"))

        try:
            a, b = inputs(2.0), inputs(4.0)
        except Exception as exc:  # a processor that cannot take the probe: state the times in words
            log.warning("could not tell whether %s reads frame times (%s: %s); assuming it does not",
                        self.model, type(exc).__name__, exc)
            return False
        return a.keys() != b.keys() or any(not _same(a[k], b[k]) for k in a)

    @property
    def reads_frame_times(self) -> bool:
        """True when this model's processor places the frames in time from fps and frame indices
        (found by `_probe_frame_times` at load)."""
        return self._reads_times

    # ------------------------------------------------------------------ provenance
    @property
    def model_name(self) -> str:
        if self._hub_id:
            return self._hub_id
        if self.model_path is not None:
            return self.model_path.name
        return str(self.model)

    @property
    def model_revision(self) -> str | None:
        """The Hub commit for cached snapshots; otherwise a hash of the folder's config/tokenizer/
        template files (contents) and weight files (names and sizes)."""
        if self._commit:
            return self._commit
        if self.model_path is None or not self.model_path.is_dir():
            return None
        if self._revision_cache is None:
            self._revision_cache = folder_fingerprint(self.model_path)
        return self._revision_cache

    # ------------------------------------------------------------------ generation
    def _render(self, prompt: str) -> str:
        content = [{"type": "video"}, {"type": "text", "text": prompt}]
        messages: list[dict[str, Any]] = []
        if self.system_prompt:
            messages.append({"role": "system", "content": [{"type": "text", "text": self.system_prompt}]})
        messages.append({"role": "user", "content": content})
        return self.processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def _clean(self, prompt: str) -> str:
        """User text must not carry control or placeholder tokens (they would break the
        placeholder count or the turn structure)."""
        for mark in self._strip:
            prompt = prompt.replace(mark, "")
        return prompt

    def generate(self, requests: list[Request]) -> list[Any]:
        self.ensure_loaded()
        out: list[Any] = [None] * len(requests)
        todo: list[tuple[int, str]] = []
        for i, req in enumerate(requests):
            frames = req.frames
            if frames is None or getattr(frames, "array", None) is None or len(frames.array) == 0:
                out[i] = GenerationError("no_frames", "the request has no frames", sample_id=req.sample_id)
                continue
            try:
                todo.append((i, self._render(self._clean(req.prompt))))
            except Exception as exc:
                out[i] = GenerationError("generation_failed", f"chat template: {type(exc).__name__}: {exc}",
                                         sample_id=req.sample_id)
        # Batches hold clips of one frame count: several processors (LLaVA family) stack videos.
        buckets: dict[int, list[tuple[int, str]]] = {}
        for i, text in todo:
            buckets.setdefault(len(requests[i].frames.array), []).append((i, text))
        for items in buckets.values():
            for start in range(0, len(items), self.batch_size):
                part = items[start:start + self.batch_size]
                for i, res in zip([i for i, _ in part], self._batch_safe(requests, part)):
                    out[i] = res
        return out

    def generate_text(self, prompts: list[str], sample_ids: list[str] | None = None) -> list[Any]:
        """Text-only chat (no frames), for the judge and question generation: one prompt at a
        time with this backend's sampling settings, seeded per prompt from (seed, id, prompt) so
        the same call gives the same text. One entry per prompt: the text or a GenerationError."""
        import torch

        self.ensure_loaded()
        model, tok = self.hf_model, self.processor.tokenizer
        gen = copy.deepcopy(model.generation_config)
        gen.max_new_tokens, gen.max_length = self.max_new_tokens, None
        gen.pad_token_id = gen.pad_token_id if gen.pad_token_id is not None else tok.pad_token_id
        if self.temperature > 0:
            gen.do_sample, gen.temperature, gen.top_p = True, self.temperature, self.top_p
        else:
            gen.do_sample, gen.temperature, gen.top_p, gen.top_k = False, None, None, None
        out: list[Any] = []
        for prompt, sid in zip(prompts, sample_ids or [""] * len(prompts)):
            messages: list[dict[str, Any]] = []
            if self.system_prompt:
                messages.append({"role": "system", "content": [{"type": "text", "text": self.system_prompt}]})
            messages.append({"role": "user", "content": [{"type": "text", "text": prompt}]})
            try:
                text = self.processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
                enc = tok([text], return_tensors="pt", add_special_tokens=False).to(model.device)
                key = f"{self.seed}\x00{sid}\x00{prompt}".encode()
                devices = [model.device.index or 0] if model.device.type == "cuda" else []
                with torch.inference_mode(), torch.random.fork_rng(devices=devices):
                    torch.manual_seed(int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") % 2**63)
                    ids_out = model.generate(**enc, generation_config=gen)
                out.append(tok.decode(ids_out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True).strip())
            except Exception as exc:  # one failed prompt is one failure, as in generate()
                out.append(GenerationError("generation_failed", f"{type(exc).__name__}: {exc}", sample_id=sid))
        return out

    def _batch_safe(self, requests: list[Request], part: list[tuple[int, str]]) -> list[Any]:
        """Run one batch; if it fails, run its items one by one so one bad item costs one row."""
        try:
            return self._run_batch(requests, part)
        except (KeyboardInterrupt, VstarError):
            raise
        except Exception as exc:
            if len(part) == 1:
                return [GenerationError("generation_failed", f"{type(exc).__name__}: {exc}",
                                        sample_id=requests[part[0][0]].sample_id)]
            log.warning("batch of %d failed (%s: %s); retrying one by one", len(part), type(exc).__name__, exc)
            return [r for item in part for r in self._batch_safe(requests, [item])]

    def _run_batch(self, requests: list[Request], part: list[tuple[int, str]]) -> list[Any]:
        import numpy as np
        import torch

        reqs = [requests[i] for i, _ in part]
        videos = [self._video_input(r.frames, np) for r in reqs]
        inputs = self.processor(
            text=[t for _, t in part], videos=[v for v, _ in videos], video_metadata=[m for _, m in videos],
            do_sample_frames=False, padding=True, return_tensors="pt")
        limit = self._max_positions()
        lengths = inputs["attention_mask"].sum(dim=1).tolist()
        too_long = [n + self.max_new_tokens > limit for n in lengths] if limit else [False] * len(reqs)
        if any(too_long):
            keep = [item for item, bad in zip(part, too_long) if not bad]
            kept = iter(self._run_batch(requests, keep) if keep else [])
            return [GenerationError("prompt_too_long", f"{n} prompt tokens + max_new_tokens "
                                    f"{self.max_new_tokens} exceed the model's {limit} positions",
                                    sample_id=r.sample_id) if bad else next(kept)
                    for r, n, bad in zip(reqs, lengths, too_long)]
        model = self.hf_model
        inputs = inputs.to(model.device)
        for key, value in inputs.items():   # pixels follow the model's dtype (bf16 on GPU); times stay fp32
            if key.startswith("pixel_values") and torch.is_tensor(value) and value.is_floating_point():
                inputs[key] = value.to(model.dtype)
        gen = self._generation_config()
        with torch.inference_mode(), self._seeded(reqs, torch):
            output = model.generate(**inputs, generation_config=gen)
        new_tokens = output[:, inputs["input_ids"].shape[1]:]
        texts = self.processor.batch_decode(new_tokens, skip_special_tokens=True,
                                            clean_up_tokenization_spaces=False)
        return [t.strip() for t in texts]

    def _video_input(self, frames: Any, np: Any) -> tuple[Any, dict[str, Any]]:
        """The frames as the processor gets them. A clip shorter than the model's temporal patch
        (1 frame for Qwen3-VL's 2) repeats its last frame, as qwen-vl-utils does; nothing else
        is added or dropped."""
        array, meta = np.ascontiguousarray(frames.array), frames.metadata()
        need = int(getattr(self.processor.video_processor, "temporal_patch_size", 1) or 1)
        if len(array) < need:
            extra = need - len(array)
            array = np.concatenate([array, np.repeat(array[-1:], extra, axis=0)])
            meta["frames_indices"] = list(meta["frames_indices"]) + [meta["frames_indices"][-1]] * extra
        return array, meta

    def _max_positions(self) -> int | None:
        cfg = self.hf_model.config
        text_cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
        return getattr(text_cfg, "max_position_embeddings", None)

    def _generation_config(self) -> Any:
        gen = copy.deepcopy(self.hf_model.generation_config)
        tok = self.processor.tokenizer
        gen.max_new_tokens = self.max_new_tokens
        gen.max_length = None
        gen.pad_token_id = gen.pad_token_id if gen.pad_token_id is not None else tok.pad_token_id
        if gen.eos_token_id is None:
            gen.eos_token_id = tok.eos_token_id
        if self.temperature > 0:
            gen.do_sample, gen.temperature, gen.top_p = True, self.temperature, self.top_p
        else:
            gen.do_sample = False
            gen.temperature = gen.top_p = gen.top_k = None
        return gen

    @contextlib.contextmanager
    def _seeded(self, reqs: list[Request], torch: Any) -> Iterator[None]:
        """Sampling RNG seeded from (seed, the batch's sample ids and prompts): reruns and resumed
        runs draw the same tokens for the same batch, whatever ran before."""
        if self.temperature <= 0:
            yield
            return
        key = "\x00".join([str(self.seed), *(f"{r.sample_id}\x01{r.prompt}" for r in reqs)])
        seed = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") % (2**63)
        device = self.hf_model.device
        with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            yield


def _same(a: Any, b: Any) -> bool:
    """Equal processor outputs (tensors by shape and value, anything else by ==)."""
    import torch

    if torch.is_tensor(a) and torch.is_tensor(b):
        return a.shape == b.shape and bool(torch.equal(a, b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except Exception:
        return False


def _check_model_dir(path: Path, name: str) -> None:
    """A model folder needs config.json and a processor config: say so before transformers does."""
    if not (path / "config.json").is_file():
        raise ConfigError(f"model {name!r}: {path} has no config.json, so it is not a transformers model folder")
    if not any((path / f).is_file() for f in ("processor_config.json", "preprocessor_config.json",
                                               "video_preprocessor_config.json")):
        raise ConfigError(f"model {name!r}: {path} has no processor (processor_config.json, "
                          "preprocessor_config.json or video_preprocessor_config.json); save the model's processor "
                          "there with processor.save_pretrained(dir)")


def folder_fingerprint(folder: Path) -> str:
    """Stable hash of a model folder: text files by content, everything else by name and size."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".cache" not in p.parts):
        rel = path.relative_to(folder).as_posix()
        if path.suffix in _TEXT_SUFFIXES and path.stat().st_size < 64 * 2**20:
            h.update(f"{rel}\x00".encode() + hashlib.sha256(path.read_bytes()).digest())
        else:
            h.update(f"{rel}\x00{path.stat().st_size}\x00".encode())
    return h.hexdigest()[:16]
