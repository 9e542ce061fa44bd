"""The self-training run config (`vstar-data build --config run.yaml`): YAML in, validated by the
shipped JSON Schema, every problem reported at once, relative paths resolved against the file."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, VstarError, file_problem

DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "reproducibility": {"torch_threads": None, "deterministic": False},
    "backend": {"name": "transformers", "batch_size": 8, "max_new_tokens": 256, "temperature": 0.0,
                "decode_workers": 2, "options": {}},
    "frames": {"num_frames": 8, "size": 336, "time_instruction": "auto"},
    "templates": [],
    "verifier": {"profile": "default"},
    "rationalize": True,
    "training": {},
    "store": {"path": None, "hub_repo": None, "final_exclude_rationalized": False, "variants": None,
              "variant_seed": 0, "allow_leakage": False},
    "cycles": {"max": 3, "plateau_metric": "yield", "min_delta": 0.01},
    "eval": [],
    "engine": {"name": "local", "address": None},
    "videos_cache": {"dir": None, "max_gb": 20},
}


@dataclass
class SourceConfig:
    adapter: str
    annotations: str
    videos: str | None = None
    split: str | None = None
    limit: int | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunConfig:
    """A validated run config; `raw` keeps the merged dict (written to the run dir as run.yaml)."""

    run_dir: Path
    seed: int
    sources: list[SourceConfig]
    eval: list[SourceConfig]
    pretrained: str
    initial: str
    backend: dict[str, Any]
    frames: dict[str, Any]
    templates: list[str]
    profile: str
    rationalize: bool
    judge: dict[str, Any] | None
    training: dict[str, Any]
    store: dict[str, Any]
    cycles: dict[str, Any]
    raw: dict[str, Any]
    engine: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS["engine"]))
    reproducibility: dict[str, Any] = field(default_factory=dict)
    file: str | None = None                # the config file, for messages (None: built in code)
    constraints: str = "enforce"           # verifier.constraints: enforce | measure (constraint labels)
    videos_cache: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS["videos_cache"]))


def cli_run_config(source: SourceConfig, *, backend: dict[str, Any], frames: dict[str, Any],
                   templates: list[str] | None = None, seed: int = 0, profile: str = "default",
                   model: str | None = None, videos_cache: dict[str, Any] | None = None) -> RunConfig:
    """The RunConfig that the CLI's `generate` / `eval` flags stand for: one source, the backend and
    frames sections merged over DEFAULTS (so a flag left out means what the run config's default
    means), no cycles. GenerationConfig.from_run_config turns it into the run, as for `build`."""
    merged = _merge(DEFAULTS, {"seed": seed, "backend": backend, "frames": frames,
                               "templates": list(templates or []), "verifier": {"profile": profile},
                               "sources": [vars(source)], "model": {"pretrained": model or ""},
                               "videos_cache": {k: v for k, v in (videos_cache or {}).items() if v is not None}})
    return RunConfig(
        run_dir=Path("."), seed=seed, sources=[source], eval=[], pretrained=model or "", initial=model or "",
        backend=merged["backend"], frames=merged["frames"], templates=merged["templates"], profile=profile,
        rationalize=bool(merged["rationalize"]), judge=None, training={}, store=dict(merged["store"]),
        cycles=dict(merged["cycles"]), raw=merged, engine=dict(merged["engine"]),
        reproducibility=dict(merged["reproducibility"]), videos_cache=dict(merged["videos_cache"]))


def _merge(defaults: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    out = dict(defaults)
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(defaults.get(key), dict):
            out[key] = _merge(defaults[key], value)
        else:
            out[key] = value
    return out


def _resolve(base: Path, value: str | None) -> str | None:
    """Paths in a config are relative to the config file; Hub ids (org/name, not on disk) stay as is."""
    if value is None:
        return None
    p = Path(value).expanduser()
    if p.is_absolute():
        return str(p)
    candidate = base / p
    return str(candidate) if candidate.exists() or not _looks_like_hub_id(value) else value


def _resolve_mix(base: Path, training: dict[str, Any]) -> dict[str, Any]:
    """`training.mix` paths are local files and folders: relative ones are against the config file."""
    if isinstance(training.get("mix"), list):
        training["mix"] = [{**m, **{k: str(base / Path(m[k]).expanduser()) for k in ("path", "media_root")
                                    if isinstance(m.get(k), str) and m[k]}}   # base / absolute = absolute
                           if isinstance(m, dict) else m for m in training["mix"]]
    return training


def _resolve_videos(base: Path, value: str | None) -> str | None:
    """A source's `videos`: a folder (resolved like any path) or an fsspec URL (kept as written)."""
    if value is not None and "://" in value and not value.startswith("file://"):
        return value
    return _resolve(base, value[len("file://"):] if value and value.startswith("file://") else value)


def _looks_like_hub_id(value: str) -> bool:
    parts = value.split("/")
    return len(parts) == 2 and all(parts) and not value.startswith(".")


def load_run_config(path: str | Path, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Read, merge with defaults, validate (all problems at once) and resolve paths."""
    path = Path(path)
    problem = file_problem(path)   # a FIFO would block the read: name it instead
    if problem is not None:
        raise ConfigError(f"config file {problem}", file=path)
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigError("config file does not exist", file=path) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=path) from exc
    return run_config_from_dict(data, base=path.parent, name=path.stem, file=path, overrides=overrides)


def run_config_from_dict(data: dict[str, Any], *, base: Path, name: str = "run",
                         file: str | Path | None = None,
                         overrides: dict[str, Any] | None = None) -> RunConfig:
    from .schemas import validator

    if not isinstance(data, dict):
        raise ConfigError("the config must be a YAML mapping", file=file)
    data = _merge(data, overrides or {})
    errors = sorted(validator("run_config").iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("invalid run config", file=file, problems=[
            f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors])
    merged = _merge(DEFAULTS, data)
    problems = []
    if merged["cycles"]["plateau_metric"] == "accuracy" and not merged["eval"]:
        problems.append("cycles/plateau_metric: 'accuracy' needs held-out `eval` sources (there are none); "
                        "add eval sources or use plateau_metric: yield")
    from .registry import ENGINES

    if merged["engine"]["name"] not in ENGINES.names():
        problems.append(f"engine/name: unknown engine {merged['engine']['name']!r}; known: "
                        f"{', '.join(ENGINES.names())}")
    elif any(v is not None for k, v in merged["engine"].items() if k != "name"):   # the engine's options
        try:
            known = ENGINES.options_of(merged["engine"]["name"])
        except VstarError as exc:
            problems.append(f"engine/name: {exc}")
        else:
            problems += [f"engine/{k}: engine {merged['engine']['name']!r} has no option {k!r}; it takes "
                         f"{', '.join(known) or 'no options'}"
                         for k, v in sorted(merged["engine"].items())
                         if k != "name" and v is not None and known is not None and k not in known]
    if problems:
        raise ConfigError("invalid run config", file=file, problems=problems)

    def source(d: dict[str, Any]) -> SourceConfig:
        return SourceConfig(adapter=_resolve(base, d["adapter"]) if d["adapter"].endswith(".py") else d["adapter"],
                            annotations=_resolve(base, d["annotations"]) or "",
                            videos=_resolve_videos(base, d.get("videos")), split=d.get("split"),
                            limit=d.get("limit"), options=dict(d.get("options") or {}))

    run_dir = Path(_resolve(base, merged.get("run_dir")) or base / f"{name}-run")
    store = dict(merged["store"])
    store["path"] = _resolve(base, store.get("path")) or str(run_dir / "vstar-1m")
    pretrained = _resolve(base, merged["model"]["pretrained"]) or ""
    return RunConfig(
        run_dir=run_dir, seed=int(merged["seed"]), sources=[source(s) for s in merged["sources"]],
        eval=[source(s) for s in merged["eval"]], pretrained=pretrained,
        initial=_resolve(base, merged["model"].get("initial")) or pretrained,
        backend=merged["backend"], frames=merged["frames"],
        templates=[_resolve(base, t) or t for t in merged["templates"]],
        profile=merged["verifier"]["profile"], rationalize=bool(merged["rationalize"]),
        judge=dict(merged["verifier"]["judge"]) if merged["verifier"].get("judge") else None,
        training=_resolve_mix(base, dict(merged["training"])), store=store, cycles=merged["cycles"], raw=merged,
        engine=dict(merged["engine"]), reproducibility=dict(merged["reproducibility"]),
        file=str(file) if file is not None else None,
        constraints=str(merged["verifier"].get("constraints", "enforce")),
        videos_cache={**merged["videos_cache"], "dir": str(base / Path(merged["videos_cache"]["dir"]).expanduser())
                      if merged["videos_cache"].get("dir") else None})
