"""One Registry class and five instances: the project's extension points.

Values are classes or lazy ``"module:attr"`` strings, so listing names imports nothing. Plugins
from other packages arrive through entry-point groups (``vstar_data.adapters`` and friends); a
broken plugin is reported when it is used, never when vstar_data is imported or listed.
"""
from __future__ import annotations

import difflib
import importlib
import logging
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from .errors import ConfigError, MissingDependencyError

T = TypeVar("T")
log = logging.getLogger(__name__)


class Registry(Generic[T]):
    """Name -> class, with lazy string targets, entry points and did-you-mean errors."""

    def __init__(self, kind: str, group: str, base: str | None = None,
                 package: str | None = None) -> None:
        self.kind = kind
        self.group = group
        self._package = package  # modules of this package register themselves by file name
        self._base = base  # "module:Class" checked on load, kept lazy to avoid import cycles
        self._items: dict[str, Any] = {}
        self._hints: dict[str, str] = {}
        self._entry_points_loaded = False

    def register(self, name: str, target: Any = None, *, install_hint: str | None = None,
                 override: bool = False) -> Any:
        """Register `target` (a class or "module:attr") under `name`; usable as a decorator."""

        def _do(obj: Any) -> Any:
            current = self._items.get(name)
            if current is not None and current is not obj and current != obj and not override:
                raise ConfigError(f"{self.kind} {name!r} is already registered ({_describe(current)}); "
                                  f"pass override=True to replace it")
            self._items[name] = obj
            if install_hint:
                self._hints[name] = install_hint
            return obj

        return _do if target is None else _do(target)

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)
        self._hints.pop(name, None)

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        if self._package:
            self._scan_package()
        try:
            eps = entry_points(group=self.group)
        except Exception as exc:  # a broken distribution must not break listing
            log.warning("could not read entry points %s: %s", self.group, exc)
            return
        for ep in eps:
            if ep.name not in self._items:
                self._items[ep.name] = ep.value

    def _scan_package(self) -> None:
        """Register every public module of the built-in package under its file name, lazily:
        adding a built-in is one file, no list to edit."""
        import importlib.util
        import pkgutil

        try:
            spec = importlib.util.find_spec(self._package)
        except ImportError:
            return
        if spec is None or not spec.submodule_search_locations:
            return
        for info in pkgutil.iter_modules(spec.submodule_search_locations):
            if not info.name.startswith("_") and info.name not in self._items:
                self._items[info.name] = f"{self._package}.{info.name}"

    def names(self) -> list[str]:
        """All registered names (built-ins and plugins), importing nothing."""
        self._load_entry_points()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return name in self._items

    def get(self, name: str) -> type[T]:
        """The class registered as `name`, imported on first use."""
        self._load_entry_points()
        if name not in self._items:
            raise ConfigError(self._unknown_message(name))
        obj = self._items[name]
        if isinstance(obj, str):
            obj = self._import(name, obj)
            self._items[name] = obj
        self._check_base(name, obj)
        return obj

    def options_of(self, name: str) -> list[str] | None:
        """The keyword options the class registered as `name` takes (None: any, it has **kwargs),
        so a config section's keys can be checked before the class is built."""
        import inspect

        params = inspect.signature(self.get(name).__init__).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return None
        return [k for k, p in params.items() if k != "self" and p.kind in (
            inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]

    def _import(self, name: str, target: str) -> Any:
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            hint = self._hints.get(name)
            msg = f"{self.kind} {name!r} could not be imported from {module_name!r}: {exc}"
            if hint:
                raise MissingDependencyError(f"{msg}. Install it with: {hint}") from exc
            raise ConfigError(msg) from exc
        if not attr:
            return self._only_subclass(name, module)
        obj = module
        for part in filter(None, attr.split(".")):
            try:
                obj = getattr(obj, part)
            except AttributeError as exc:
                raise ConfigError(f"{self.kind} {name!r}: {target!r} has no attribute {part!r}") from exc
        return obj

    def _only_subclass(self, name: str, module: Any) -> Any:
        """A module target ("pkg.mod", no attribute): its one subclass of the base class."""
        if self._base is None:
            raise ConfigError(f"{self.kind} {name!r}: target {module.__name__!r} names no attribute")
        base_mod, _, base_attr = self._base.partition(":")
        base = getattr(importlib.import_module(base_mod), base_attr)
        found = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, base)
                 and v is not base and v.__module__ == module.__name__]
        if len(found) != 1:
            raise ConfigError(f"{self.kind} {name!r}: {module.__name__} must define exactly one "
                              f"{base.__name__} subclass, found {[c.__name__ for c in found] or 'none'}")
        return found[0]

    def _check_base(self, name: str, obj: Any) -> None:
        if self._base is None:
            return
        module_name, _, attr = self._base.partition(":")
        base = getattr(importlib.import_module(module_name), attr)
        if not (isinstance(obj, type) and issubclass(obj, base)):
            raise ConfigError(f"{self.kind} {name!r} resolves to {obj!r}, which is not a subclass of "
                              f"{base.__module__}.{base.__qualname__}")

    def _unknown_message(self, name: str) -> str:
        names = sorted(self._items)
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        msg = f"unknown {self.kind} {name!r}."
        if close:
            msg += f" Did you mean {' or '.join(repr(c) for c in close)}?"
        return msg + f" Available: {', '.join(names) if names else '(none)'}"

    def snapshot(self) -> tuple[dict[str, Any], dict[str, str], bool]:
        """State for tests that register temporary entries (see ``restore``)."""
        return dict(self._items), dict(self._hints), self._entry_points_loaded

    def restore(self, state: tuple[dict[str, Any], dict[str, str], bool]) -> None:
        self._items, self._hints, self._entry_points_loaded = dict(state[0]), dict(state[1]), state[2]


def _describe(obj: Any) -> str:
    return obj if isinstance(obj, str) else f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}"


# The five extension points. Built-ins are declared in setup.cfg's entry points like any plugin;
# they are also registered here as strings so a source checkout works without installing.
# Built-in adapters need no line here: every module of vstar_data.adapters is found by name.
ADAPTERS: Registry[Any] = Registry("adapter", "vstar_data.adapters", base="vstar_data.sources.adapter:Adapter",
                                   package="vstar_data.adapters")
LABEL_TYPES: Registry[Any] = Registry("label type", "vstar_data.label_types", base="vstar_data.verify.labels.base:LabelType")
BACKENDS: Registry[Any] = Registry("backend", "vstar_data.backends", base="vstar_data.backends.base:Backend")
ENGINES: Registry[Any] = Registry("engine", "vstar_data.engines", base="vstar_data.generation.engines.base:Engine")
EXPORTERS: Registry[Any] = Registry("exporter", "vstar_data.exporters", base="vstar_data.dataset.export.base:Exporter")

for _n in ("category", "number", "interval", "sequence", "choice", "boolean", "text", "bbox", "timestamp"):
    LABEL_TYPES.register(_n, f"vstar_data.verify.labels.{_n}:{_n.capitalize()}Label")
BACKENDS.register("template", "vstar_data.backends.template:TemplateBackend")
BACKENDS.register("transformers", "vstar_data.backends.transformers:TransformersBackend",
                  install_hint="pip install 'vstar-data' (needs torch and transformers)")
BACKENDS.register("openai", "vstar_data.backends.openai:OpenAIBackend")
for _n, _cls in (("llava", "llava:LlavaExporter"), ("jsonl", "jsonl:JsonlExporter"),
                 ("llamafactory", "llamafactory:LlamaFactoryExporter"), ("swift", "swift:SwiftExporter"),
                 ("llava-video", "llava_video:LlavaVideoExporter"), ("trl", "trl:TrlExporter"),
                 ("grpo", "grpo:GrpoExporter"), ("lmms-eval", "lmms_eval:LmmsEvalExporter")):
    EXPORTERS.register(_n, f"vstar_data.dataset.export.{_cls}")
ENGINES.register("local", "vstar_data.generation.engines.local:LocalEngine")
ENGINES.register("ray", "vstar_data.generation.engines.ray:RayEngine", install_hint="pip install 'vstar-data[ray]'")
