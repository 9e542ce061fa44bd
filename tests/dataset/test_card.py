"""The dataset card: library-made YAML, counts that match the rows, the plot, loading, citation."""
from __future__ import annotations

import re
from collections import Counter

from factory import make_attempts, published, write_rows_dir
from huggingface_hub import DatasetCard

from vstar_data.dataset.card import PLOT_PATH, render_card, size_category
from vstar_data.dataset.stats import cycle_yields
from vstar_data.dataset.writer import write_shards
from vstar_data.dataset.store import publish


def _table(text: str, title: str) -> dict[str, int]:
    """The `| key | rows | share |` table under the `**Rows per <title>**` heading."""
    block = text.split(f"**Rows per {title}**", 1)[1].split("\n\n\n", 1)[0]
    return {m.group(1): int(m.group(2).replace(",", ""))
            for m in re.finditer(r"^\| ([^|]+?) \| ([\d,]+) \| [\d.]+% \|$", block, re.M)}


def test_card_counts_match_the_rows(tmp_path):
    rows = make_attempts(15, cycle=1) + make_attempts(5, cycle=2, sources=["tal"], tag="late ")
    store = tmp_path / "vstar-1m"
    publish(write_rows_dir(tmp_path / "rows", rows), store, "v0.1.0", "first release", hub_repo=None)
    text = (store / "README.md").read_text()
    # the rows as the loader sees them
    import pyarrow.parquet as pq

    got = [r for p in (store / "data").rglob("*.parquet") for r in pq.read_table(p).to_pylist()]
    assert len(got) == len(published(rows))
    for title, key in (("source", "source"), ("task", "task"), ("origin", "origin"), ("cycle", "cycle")):
        assert _table(text, title) == {str(k): v for k, v in Counter(r[key] for r in got).items()}, title
    assert f"**{len(got):,} rows**" in text
    card = DatasetCard.load(store / "README.md").data.to_dict()
    infos = {i["config_name"]: i for i in card["dataset_info"]}
    assert set(infos) == {"default", "kinetics700", "finediving", "tal"}
    for config, info in infos.items():
        want = Counter(r["split"] for r in got if config == "default" or r["source"] == config)
        assert {s["name"]: s["num_examples"] for s in info["splits"]} == dict(want)
    configs = {c["config_name"]: c for c in card["configs"]}
    assert configs["default"].get("default") is True
    default_files = sorted(p for d in configs["default"]["data_files"] for p in d["path"])
    source_files = sorted(p for c in configs.values() if c["config_name"] != "default"
                          for d in c["data_files"] for p in d["path"])
    assert default_files == source_files  # `default` points at the sources' shards: no bytes duplicated


def test_card_yaml_is_valid_metadata_made_by_the_libraries(tmp_path, rows_v1):
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs

    store = tmp_path / "vstar-1m"
    publish(rows_v1, store, "v0.1.0", "first")
    data = DatasetCard.load(store / "README.md").data
    configs = MetadataConfigs.from_dataset_card_data(data)
    assert configs.get_default_config_name() == "default"
    infos = DatasetInfosDict.from_dataset_card_data(data)
    assert len({str(info.features) for info in infos.values()}) == 1  # one schema everywhere
    d = data.to_dict()
    assert d["license"] == ["cc-by-4.0", "other"]
    assert d["task_categories"] == ["video-text-to-text", "visual-question-answering"]
    assert d["size_categories"] == ["n<1K"]


def test_card_text_plot_loading_licences_citation(tmp_path, rows_v1):
    store = tmp_path / "vstar-1m"
    publish(rows_v1, store, "v0.1.0", "first")
    assert "load_dataset(\"ORG/NAME\", revision=\"v0.1.0\")" in (store / "README.md").read_text()
    text = render_card(write_shards(rows_v1, tmp_path / "out"), tag="v0.1.0", message="first",
                       hub_repo="org/vstar-1m", profiles={"strict": {"fuzzy_threshold": 90, "min_iou": 0.6}})
    png = store / PLOT_PATH
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    assert f"![Yield per cycle]({PLOT_PATH})" in text and PLOT_PATH == "assets/yield_per_cycle.png"
    assert 'load_dataset("vstar-1m")' in text and 'load_dataset("vstar-1m", "finediving", split="test")' in text
    assert 'load_dataset("org/vstar-1m", revision="v0.1.0")' in text
    assert "vstar-data checkout v0.1.0" in text
    assert "**Videos are not included.**" in text
    assert "| kinetics700 | cc-by-4.0 |" in text and "| finediving | other |" in text
    assert "Profile **strict**" in text and "`fuzzy_threshold` = 90" in text and "`min_iou` = 0.6" in text
    assert "arXiv:2407.06189" in text and "Zohar, Orr and Wang, Xiaohan" in text and "Yeung-Levy, Serena" in text
    assert "Video-STaR: Self-Training Enables Video Instruction Tuning with Any Supervision" in text


def test_shipped_profile_thresholds_are_shown(tmp_path):
    rows = [dict(r, verifier_profile="default") for r in make_attempts(3, sources=["tal"])]
    store = tmp_path / "s"
    publish(write_rows_dir(tmp_path / "rows", rows), store, "v1", "m")
    text = (store / "README.md").read_text()
    assert re.search(r"Profile \*\*default\*\* \(\d+ rows\): `fuzzy_threshold` = 85", text)


def test_yield_per_cycle_from_rows_and_from_runner_stats(tmp_path):
    rows = make_attempts(12, cycle=3, sources=["kinetics700"])
    man = write_shards(write_rows_dir(tmp_path / "rows", rows), tmp_path / "out")
    (only,) = cycle_yields(man)
    assert only.cycle == 3 and only.samples == 12
    assert only.generated == sum(1 for r in rows if r["origin"] == "generated" and r["accepted"])
    assert only.published == len(published(rows))
    history = [{"cycle": 1, "samples": 100, "generated": 40, "rationalized": 20},
               {"cycle": 2, "samples": 100, "generated": 55, "rationalized": 15}]
    ys = cycle_yields(man, history)
    assert [y.cycle for y in ys] == [1, 2, 3] and ys[0].yield_ == 0.6 and ys[1].published == 70
    assert [y.cycle for y in cycle_yields(man, {0: {"samples": 10, "accepted_generated": 5}})] == [0, 3]


def test_size_categories():
    assert [size_category(n) for n in (5, 5_000, 50_000, 500_000, 1_000_000)] == [
        "n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M"]


def test_html_in_quoted_values_shows_as_text(tmp_path):
    """Release message, task, model, revision and profile names come from users; the Hub renders
    the card's Markdown as HTML, so none of their tags may survive as HTML."""
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)"> a|b & c'
    rows = make_attempts(6, cycle=1)
    for r in rows:
        r.update(task=f"task {evil}", model=f"model {evil}", model_revision=f"rev `{evil}`",
                 verifier_profile=f"prof {evil}")
    store = tmp_path / "vstar-1m"
    publish(write_rows_dir(tmp_path / "rows", rows), store, "v0.1.0", f"first\n\n# {evil}", hub_repo=None,
            pretty_name=f"Name {evil}", profiles={f"prof {evil}": {"rel_tol": evil}})
    text = (store / "README.md").read_text()
    body = text.split("\n---\n", 1)[1]
    prose = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", re.sub(r"```.*?```", "", body, flags=re.S))  # no code
    assert "<script" not in prose and "<img" not in prose and "&lt;script&gt;alert(1)&lt;/script&gt;" in prose
    assert "\n# " not in body.split("# Name", 1)[1]   # the message's newline cannot start a heading
    assert "a\\|b &amp; c" in body                    # a pipe cannot split a table cell
    task_rows = body.split("**Rows per task**", 1)[1].split("\n\n\n", 1)[0].splitlines()[4:]
    assert [r.rsplit(" | ", 2)[0] for r in task_rows if r] == [
        "| task &lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=\"alert(2)\"&gt; a\\|b &amp; c"]
    models = body.split("Models: ", 1)[1].split("\n", 1)[0]
    assert models.startswith("`model <script>") and "`` rev `<script>" in models  # code spans: shown as typed
    assert DatasetCard.load(store / "README.md").data.to_dict()["pretty_name"] == f"Name {evil}"


def test_markdown_escapers():
    from vstar_data.dataset.card import md_code, md_text

    assert md_text("<b>x</b> & y|z\nw") == "&lt;b&gt;x&lt;/b&gt; &amp; y\\|z w"
    assert md_code("a<b>") == "`a<b>`" and md_code("x ``y`` z") == "```x ``y`` z```"
    assert md_code("`q") == "`` `q ``" and md_code("a|b\nc") == "`a\\|b c`"
