"""The dataset card: README.md YAML (configs, dataset_info, licences) and the Jinja body.

The YAML is produced by the libraries that read it back (`MetadataConfigs`, `DatasetInfosDict`,
`DatasetCardData`), never written by hand; the body is `cards/dataset_card.md.j2`, rendered with every quoted value escaped (HTML shows as
text: `md_text`, `md_code`). Every count in the card comes from the build's `Manifest`, the same
object that named the shards.
"""
from __future__ import annotations

import re
from collections import Counter
from importlib.resources import files
from typing import Any, Mapping, Sequence

from .stats import StatsForPlot, cycle_yields
from .writer import COUNT_COLUMNS, Manifest

PLOT_PATH = "assets/yield_per_cycle.png"
DEFAULT_CONFIG = "default"
# Licence of each source's annotations when its adapter does not declare one (`license` attribute).
KNOWN_LICENSES = {
    "kinetics700": ("cc-by-4.0", "Kinetics annotations: CC BY 4.0; videos are YouTube videos under their uploaders' terms"),
}
_SPLIT_ORDER = {"train": 0, "validation": 1, "validate": 1, "val": 1, "dev": 1, "test": 2}
# Index of each field in Manifest.counts keys.
_KEY = {name: i for i, name in enumerate(COUNT_COLUMNS)}


def ordered_splits(names: Any) -> list[str]:
    return sorted(set(names), key=lambda s: (_SPLIT_ORDER.get(s, 3), s))


def config_data_files(man: Manifest) -> dict[str, dict[str, list[str]]]:
    """config -> split -> shard paths; `default` lists every source's shards (no bytes duplicated)."""
    out: dict[str, dict[str, list[str]]] = {}
    every: dict[str, list[str]] = {}
    for source in sorted(man.configs):
        splits = man.configs[source]
        out[source] = {split: list(splits[split].files) for split in ordered_splits(splits)}
        for split, paths in out[source].items():
            every.setdefault(split, []).extend(paths)
    out[DEFAULT_CONFIG] = {split: every[split] for split in ordered_splits(every)}
    return out


def split_counts(man: Manifest) -> dict[str, dict[str, int]]:
    """config -> split -> rows, `default` included."""
    out = {src: {sp: f.num_examples for sp, f in splits.items()} for src, splits in man.configs.items()}
    total: Counter = Counter()
    for splits in out.values():
        total.update(splits)
    out[DEFAULT_CONFIG] = dict(total)
    return out


def source_licenses(sources: list[str], licenses: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """One row per source: a Hub licence id and a note; explicit > adapter attribute > known > other."""
    from ..registry import ADAPTERS

    rows = []
    for source in sources:
        lic, note = (licenses or {}).get(source), ""
        if lic is None and source in ADAPTERS:
            try:
                lic = getattr(ADAPTERS.get(source), "license", None)
            except Exception:  # a broken adapter must not stop a publish
                lic = None
        if lic is None and source in KNOWN_LICENSES:
            lic, note = KNOWN_LICENSES[source]
        if lic is None:
            lic, note = "other", "not recorded: check the source's own terms before use"
        rows.append({"source": source, "license": lic, "note": note})
    return rows


EVAL_CONFIG = "eval"   # held-out samples (questions + labels, no answers): config `eval`, split `eval`


def build_card_data(man: Manifest, *, licenses: Mapping[str, str] | None = None,
                    pretty_name: str = "VSTaR-1M", eval_files: Sequence[str] = ()) -> Any:
    """DatasetCardData with `configs` and `dataset_info` for every config, via datasets' own writers.
    `eval_files` (parquet, relative to the release root) become config `eval`, split `eval`."""
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    from .rows import features

    data_files = config_data_files(man)
    lic = sorted({row["license"] for row in source_licenses(sorted(man.configs), licenses)})
    card_data = DatasetCardData(
        pretty_name=pretty_name, license=lic[0] if len(lic) == 1 else lic, language=["en"],
        task_categories=["video-text-to-text", "visual-question-answering"],
        size_categories=[size_category(man.total)], tags=["video", "instruction-tuning", "video-star"])
    infos = {}
    for config, splits in data_files.items():
        sources = sorted(man.configs) if config == DEFAULT_CONFIG else [config]
        split_dict = SplitDict()
        for split in splits:
            parts = [man.configs[s][split] for s in sources if split in man.configs[s]]
            split_dict.add(SplitInfo(name=split, num_bytes=sum(p.num_bytes for p in parts),
                                     num_examples=sum(p.num_examples for p in parts)))
        download = sum(f.download_size for s in sources for f in man.configs[s].values())
        size = sum(f.num_bytes for s in sources for f in man.configs[s].values())
        infos[config] = DatasetInfo(config_name=config, features=features(), splits=split_dict,
                                    download_size=download, dataset_size=size)
    DatasetInfosDict(infos).to_dataset_card_data(card_data)
    configs = {
        config: {"data_files": [{"split": split, "path": paths} for split, paths in splits.items()],
                 **({"default": True} if config == DEFAULT_CONFIG else {})}
        for config, splits in data_files.items()
    }
    if eval_files:
        configs[EVAL_CONFIG] = {"data_files": [{"split": EVAL_CONFIG, "path": sorted(eval_files)}]}
    MetadataConfigs(configs).to_dataset_card_data(card_data)
    return card_data


def size_category(n: int) -> str:
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < bound:
            return label
    return "10M<n<100M"


def profile_thresholds(name: str, given: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Thresholds of a verifier profile: as given, else the shipped profile of that name, else {}."""
    if given and name in given:
        return dict(given[name])
    try:
        from ..verify.verifier import load_profile

        found = load_profile(name).to_dict()
    except Exception:  # a custom profile file that is not at hand: say "not recorded"
        return {}
    found.pop("name", None)
    return found


def _by(man: Manifest, field: str) -> list[tuple[Any, int]]:
    c: Counter = Counter()
    for key, n in man.counts.items():
        c[key[_KEY[field]]] += n
    return sorted(c.items(), key=lambda kv: (-kv[1], str(kv[0])))


def hallucination_rows(stats_for_plot: StatsForPlot = None) -> list[dict[str, Any]]:
    """Per cycle and constraint label: answers that contradicted it before filtering (direct,
    rationalized) and published rows that do, from the runner's `hallucination` entries; empty
    when no cycle checked constraints."""
    items = (list(stats_for_plot.values()) if isinstance(stats_for_plot, Mapping) else list(stats_for_plot or ()))
    out = []
    for st in items:
        h = st.get("hallucination") if isinstance(st, Mapping) else None
        if not isinstance(h, Mapping) or not h.get("constrained"):
            continue
        for source, counts in sorted((h.get("by_source") or {}).items()):
            answers = counts.get("answers") or {}
            for name, c in [("any", counts.get("contradicting") or {}), *sorted((counts.get("by_constraint") or {}).items())]:
                out.append({"cycle": st.get("cycle"), "source": source, "constraint": name,
                            **{k: f"{c.get(k, 0):,} of {answers.get(k, 0):,}"
                               for k in ("generated", "rationalized", "published")}})
    return out


def render_card(man: Manifest, *, tag: str, message: str = "", store_name: str = "vstar-1m",
                hub_repo: str | None = None, licenses: Mapping[str, str] | None = None,
                profiles: Mapping[str, Mapping[str, Any]] | None = None,
                stats_for_plot: StatsForPlot = None,
                pretty_name: str = "VSTaR-1M", eval_files: Sequence[str] = (),
                history: Mapping[str, Mapping[str, Any]] | None = None,
                onto: str | None = None, changes: Mapping[str, Any] | None = None,
                migrated: Mapping[str, int] | None = None, dropped_invalid: Mapping[str, int] | None = None) -> str:
    """README.md text for one release (YAML header + body). `history` (history.json's sources) says
    where each source's rows come from; `changes` (a diff against the base `onto`) what moved."""
    from huggingface_hub import DatasetCard

    counts = split_counts(man)
    all_splits = ordered_splits(counts[DEFAULT_CONFIG])
    config_rows = [{"name": c, "splits": counts[c], "total": sum(counts[c].values())}
                   for c in [DEFAULT_CONFIG, *sorted(man.configs)]]
    example = sorted(man.configs)[0]
    models: Counter = Counter()
    for key, n in man.counts.items():
        models[(key[_KEY["model"]], key[_KEY["model_revision"]])] += n
    template = files("vstar_data._cards").joinpath("dataset_card.md.j2").read_text("utf-8")
    card_data = build_card_data(man, licenses=licenses, pretty_name=pretty_name, eval_files=eval_files)
    body = _environment().from_string(template).render(
        card_data.to_dict(), card_data=_Raw(card_data.to_yaml()), eval_files=sorted(eval_files), eval_config=EVAL_CONFIG,
        pretty_name=pretty_name, tag=tag, message=message, total=man.total, sources=sorted(man.configs),
        all_splits=all_splits, config_rows=config_rows, store_name=store_name, hub_repo=hub_repo,
        example_config=example, example_split=ordered_splits(man.configs[example])[-1],
        count_tables=[{"title": t, "rows": _by(man, f)} for t, f in
                      (("source", "source"), ("task", "task"), ("origin", "origin"), ("cycle", "cycle"))],
        yields=cycle_yields(man, stats_for_plot), plot_path=PLOT_PATH,
        hallucination=hallucination_rows(stats_for_plot),
        profiles=[{"name": name, "rows": n, "thresholds": profile_thresholds(name, profiles)}
                  for name, n in _by(man, "verifier_profile")],
        models=[{"name": m, "revision": r, "rows": n} for (m, r), n in
                sorted(models.items(), key=lambda kv: -kv[1])],
        licences=source_licenses(sorted(man.configs), licenses),
        history=[{"source": src, **h} for src, h in sorted((history or {}).items())],
        onto=onto, migrated=dict(migrated or {}),
        dropped_invalid=dict(dropped_invalid or {}),
        changes=[{"config": c, "split": sp, **d} for c, splits in ((changes or {}).get("configs") or {}).items()
                 for sp, d in splits.items()] if changes is not None else None)
    return str(DatasetCard(body))


# --------------------------------------------------------------------------- escaping
# The card is Markdown rendered as HTML on the Hub; every value it quotes (release message, task,
# model and profile names, licence notes, ...) comes from user input and must show as text.

class _Raw(str):
    """Already-safe Markdown (the YAML header, a built code span): not escaped again."""


_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|", "\n": " ", "\r": " "})


def md_text(value: Any) -> str:
    """`value` as Markdown text: HTML characters as entities, `|` escaped (tables), on one line."""
    if isinstance(value, _Raw):
        return value
    return str(value).translate(_TEXT_ESCAPES) if value is not None else ""


def md_code(value: Any) -> _Raw:
    """`value` as an inline code span (HTML inside one shows as text): a backtick fence longer
    than any run of backticks in it, `|` escaped for tables, on one line."""
    text = str(value).replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return _Raw(f"{fence}{pad}{text}{pad}{fence}")


def _environment() -> Any:
    """Jinja with every `{{ value }}` escaped as Markdown text unless it is `_Raw`."""
    import jinja2

    env = jinja2.Environment(finalize=md_text)
    env.filters["code"] = md_code
    return env
