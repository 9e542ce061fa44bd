"""The package layout is the data flow: a stage imports only from earlier stages and the ground
floor, there is no import cycle between modules, and nothing crosses a package boundary by a
private (underscore) name. Modules are split by job, not by size: there is no line cap.

Every import is read from the source (module level and the lazy ones inside functions), so a
backwards import cannot hide behind a function body.
"""
from __future__ import annotations

import ast
from pathlib import Path

import vstar_data

PKG = Path(vstar_data.__file__).resolve().parent
GROUND = {"errors", "registry", "config", "jsonl", "procs", "schemas", "__init__"}
STAGES = ["sources", "video", "backends", "verify", "rewards", "generation", "dataset", "training", "cycle", "cli", "testing"]
# (importing file, private name) pairs allowed for now; each entry must still be a real offender
# (the test fails on a stale one, so the list only shrinks).
# (module, private name) pairs still allowed: none. A new entry needs a reason; the test fails
# when one goes stale, so the list only shrinks.
KNOWN_PRIVATE_IMPORTS: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["vstar_data", *parts])


def _imports(path: Path, mod: str | None = None) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    mod = mod or _module_name(path)
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("vstar_data"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("vstar_data"):
                found.add(target)
                found.update(f"{target}.{a.name}" for a in node.names)
    return found


def _stage(module: str) -> int | None:
    """Index of a module's stage; -1 for the ground floor; None for plugins (vstar_data.adapters)."""
    parts = module.split(".")
    if len(parts) == 1:
        return -1
    top = parts[1]
    if top in STAGES:
        return STAGES.index(top)
    if top in GROUND or top.startswith("_"):
        return -1
    if top == "adapters":
        return None
    raise AssertionError(f"{module}: not in any stage package; add it to one")


def _modules() -> dict[str, Path]:
    mods = {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}
    plugins = PKG.parents[1] / "adapters"         # a checkout: top-level adapters/ is vstar_data.adapters
    if not (PKG / "adapters").is_dir() and plugins.is_dir():
        for p in sorted(plugins.rglob("*.py")):
            parts = list(p.relative_to(plugins).with_suffix("").parts)
            mods[".".join(["vstar_data", "adapters", *[x for x in parts if x != "__init__"]])] = p
    return mods


def test_no_package_imports_from_a_later_stage() -> None:
    known = _modules()
    problems = []
    for mod, path in known.items():
        here = _stage(mod)
        if here is None or mod == "vstar_data":   # the public API re-exports every stage lazily
            continue
        for target in _imports(path, mod):
            if target not in known and target.rsplit(".", 1)[0] not in known:
                continue
            if target not in known:
                target = target.rsplit(".", 1)[0]
            there = _stage(target)
            if there is not None and there > here:
                problems.append(f"{mod} ({STAGES[here] if here >= 0 else 'ground'}) imports {target}")
            if there is None and here < STAGES.index("cycle"):
                problems.append(f"{mod} imports the plugin package {target}")
    assert not problems, "\n".join(problems)


def test_no_import_cycle_between_modules() -> None:
    known = _modules()
    graph = {}
    for mod, path in known.items():
        edges = set()
        for target in _imports(path, mod):
            if target in known:
                edges.add(target)
            elif target.rsplit(".", 1)[0] in known:
                edges.add(target.rsplit(".", 1)[0])
        # a package's __init__ is loaded before its modules: that edge is not a cycle
        graph[mod] = {e for e in edges if e != mod and not mod.startswith(e + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for mod in sorted(graph):
        if mod not in state:
            visit(mod)


def _package_of(mod: str, known: dict[str, Path]) -> str:
    """The package a module lives in (its directory); a package's `__init__` lives in itself."""
    path = known.get(mod)
    if path is not None and path.name == "__init__.py":
        return mod
    return mod.rsplit(".", 1)[0]


def _private_imports(mod: str, path: Path, known: dict[str, Path]) -> list[str]:
    """The underscore-prefixed modules or attributes (dotted, up to that part) this module imports
    from a package other than its own."""
    here = _package_of(mod, known)
    found = []
    for target in sorted(_imports(path, mod)):
        parts = target.split(".")
        for i, part in enumerate(parts):
            if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
                owner = ".".join(parts[:i])          # the module or package that holds the name
                owner_pkg = owner if owner in known and known[owner].name == "__init__.py" else owner.rsplit(".", 1)[0]
                if owner_pkg != here:
                    found.append(".".join(parts[:i + 1]))
                break
    return sorted(set(found))


def test_no_private_name_crosses_a_package_boundary() -> None:
    """`from ..verify.labels.analysis import analyze` (from cycle/) or `from .sibling_pkg.mod import
    _helper` couples a package to another's internals; within one package a private name is fine."""
    known = _modules()
    problems, seen = [], set()
    for mod, path in known.items():
        rel = _rel(path)
        for target in _private_imports(mod, path, known):
            key = (rel, target.rsplit(".", 1)[-1])
            if key in KNOWN_PRIVATE_IMPORTS:
                seen.add(key)
                continue
            problems.append(f"{rel} imports the private name {target}")
    assert not problems, "make these public names of their package (or move the code there):\n" + "\n".join(problems)
    stale = KNOWN_PRIVATE_IMPORTS - seen
    assert not stale, f"fixed: remove from KNOWN_PRIVATE_IMPORTS: {sorted(stale)}"


def _rel(path: Path) -> str:
    """A module's path as shown in messages: under src/vstar_data/ or the top-level adapters/."""
    try:
        return path.relative_to(PKG).as_posix()
    except ValueError:
        return "adapters/" + path.relative_to(PKG.parents[1] / "adapters").as_posix()


def test_no_reach_into_adapter_or_backend_internals() -> None:
    """Plugins' and stages' code uses the public helpers: `adapter.skip` / `adapter.unwrite`, a
    backend's `generate_text`; only the owning module touches these (the adapter base its counts,
    the transformers backend its `hf_model`)."""
    banned = {"._skip(": None, ".stats.written -=": "vstar_data.sources.adapter",
              "hf_model": "vstar_data.backends.transformers"}
    problems = []
    for mod, path in _modules().items():
        text = path.read_text("utf-8")
        for word, owner in banned.items():
            if word in text and mod != owner:
                problems.append(f"{_rel(path)}: {word}")
    assert not problems, "\n".join(problems)


def test_each_stage_package_says_what_it_takes_and_gives() -> None:
    for stage in STAGES:
        init = PKG / stage / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text("utf-8")))
        assert doc and len(doc.splitlines()) >= 2, f"{init}: needs a docstring saying what the stage takes and gives"
        heavy = {t for t in _imports(init)} | {n.names[0].name for n in ast.walk(ast.parse(init.read_text()))
                                               if isinstance(n, ast.Import)}
        assert not heavy & {"torch", "transformers", "datasets"}, f"{init} imports something heavy"


def test_every_package_is_listed_in_setup_cfg() -> None:
    """`pip install .` (not editable) ships only the packages setup.cfg lists: a new stage package
    that is missing there works in a checkout and breaks for every user."""
    import configparser

    root = Path(__file__).resolve().parents[2]      # the checkout holding tests/ (CI installs non-editable)
    cfg_path, src = root / "setup.cfg", root / "src" / "vstar_data"
    if not cfg_path.exists() or not src.is_dir():
        import pytest

        pytest.skip("not a source checkout")
    cfg = configparser.ConfigParser()
    cfg.read(cfg_path)
    listed = set(cfg["options"]["packages"].split())
    on_disk = {".".join(["vstar_data", *p.parent.relative_to(src).parts]) for p in src.rglob("__init__.py")}
    assert on_disk <= listed, f"packages missing from setup.cfg [options] packages: {sorted(on_disk - listed)}"
    data = cfg["options.package_data"]
    for pkg in on_disk:
        folder = src.joinpath(*pkg.split(".")[1:])
        kinds = {p.suffix for p in folder.iterdir() if p.is_file() and p.suffix not in (".py", ".pyc")}
        if kinds:
            assert pkg in data, f"{pkg} holds {sorted(kinds)} files but has no [options.package_data] entry"
