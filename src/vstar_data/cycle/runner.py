"""The self-training cycle (`vstar-data build`): generate -> verify -> rationalize -> verify ->
publish (tag cycle-N) -> train from the pre-trained checkpoint -> evaluate -> next cycle, until
the yield (or held-out accuracy) stops growing; then, with `store.final_exclude_rationalized`,
the paper's final step ("only direct answers are used to produce the final model"): tag `final`
holds only the last cycle's direct answers (origin `generated`), and the final model is trained on
exactly those rows from the pre-trained checkpoint and evaluated into stats.json["final"].
With `training.mix`, every training set (each cycle's and the final one) also holds the drawn
general instruction rows (training/mix.py), recorded per source in the stats entry.
Generation and evaluation run on the configured engine through the ENGINES registry; where every
file lives is cycle/layout.py's `RunLayout`.

With `training.method: grpo` each cycle trains with GRPO (training/grpo.py) instead: on every
sample's prompt of the cycle (accepted or not: the verifier's reward does the selecting), from the
model that generated the cycle (cycle 0: `model.initial`), so cycle N+1 generates with a policy
improved on cycle N's prompts; the cycle still publishes its verified rows as cycle-N, and the
final release stays the paper's SFT on direct answers from the pre-trained checkpoint.

Every step leaves a marker in run_dir/cycle-N/ (and run_dir/final/), so killing the process at any
point and running the same command again continues where it stopped: generation resumes chunk by
chunk, a published tag is not published twice, a finished training is not repeated.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Callable

import yaml

from ..config import RunConfig
from ..dataset.rows import conversations
from ..dataset.stats import plot_cycles, write_stats
from ..generation.attempts import copy_attempts, pick_winners
from ..generation.pipeline import GenerationConfig, Prepared, prepare
from ..jsonl import atomic_writer
from ..procs import exclusive_lock
from ..sources.storage import VideoStore, is_url
from ..training.mix import MIX_KEY, configured_mix, draw_mix
from . import reproducible
from .evaluation import evaluate_sources, source_vocabularies
from .hallucination import count_cycle
from .layout import RunLayout

FINAL_TAG = "final"

log = logging.getLogger(__name__)


def _video_root(videos: str | None) -> VideoStore:
    """A source's video root for training rows' absolute clip locations: a URL as written, a
    folder resolved (sources have different roots)."""
    return VideoStore(videos if is_url(videos) else Path(videos or ".").resolve())


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def _write_json(path: Path, obj: Any) -> None:
    with atomic_writer(path) as fh:
        json.dump(obj, fh, indent=2, default=str)


class CycleRunner:
    """Runs the cycles of one RunConfig, then the final release. The stage methods (`generate`,
    `publish`, `train`, `evaluate`, `final_release`) are the steps; tests may replace one."""

    def __init__(self, rc: RunConfig, *, echo: Callable[[str], None] = print) -> None:
        self.rc = rc
        self.echo = echo
        self.run_dir = rc.run_dir
        self.layout = RunLayout(rc.run_dir)
        self.stats: list[dict[str, Any]] = []
        self.final: dict[str, Any] | None = None   # the final release's record (store.final_exclude_rationalized)
        self.reproducibility: dict[str, Any] = {}

    # -- stages ----------------------------------------------------------------------------
    def run_engine(self, cfg: GenerationConfig, out: Path, prepared: Prepared | None = None) -> Any:
        """One generation run on the configured engine (ENGINES registry)."""
        from ..generation.engines import make_engine

        return make_engine(self.rc.engine).run(cfg, out, prepared=prepared)

    def generate(self, cycle: int, model: str) -> dict[str, Any]:
        """Answer generation + rationalization over every source with `model`."""
        keys = ("samples", "annotated", "found", "missing", "generated", "rationalized", "rejected", "skipped",
                "reused", "redone", "new", "retired")
        total: dict[str, Any] = {k: 0 for k in keys}
        total["skipped_by_reason"] = {}
        total["vocabulary_rejected"] = 0   # attempts only the sources' class lists rejected
        gen_dir = self.layout.generate_dir(self.layout.cycle(cycle))
        for i, src in enumerate(self.rc.sources):
            cfg = GenerationConfig.from_run_config(self.rc, src, model=model, cycle=cycle,
                                                   rationalize=self.rc.rationalize)
            d = self.run_engine(cfg, self.layout.source_dir(gen_dir, i, src.adapter)).to_dict()
            for k in keys:
                total[k] += d[k]
            total["vocabulary_rejected"] += d["vocabulary"]["rejected_attempts"]
            for k, v in d["skipped_by_reason"].items():
                total["skipped_by_reason"][k] = total["skipped_by_reason"].get(k, 0) + v
        return total

    def hallucination(self, cycle: int) -> dict[str, Any]:
        """Answers that contradicted a constraint label, per source and constraint, before filtering
        and in the rows this cycle publishes (cycle/hallucination.py)."""
        gen_dir = self.layout.generate_dir(self.layout.cycle(cycle))
        rows = {f"{i:02d}-{src.adapter}": self.layout.read_rows(self.layout.source_dir(gen_dir, i, src.adapter))[0]
                for i, src in enumerate(self.rc.sources)}
        counts = count_cycle(rows)
        if counts["constrained"]:
            a, c = counts["answers"], counts["contradicting"]
            self.echo(f"cycle {cycle}: answers contradicting a constraint: generated {c['generated']} of "
                      f"{a['generated']}, rationalized {c['rationalized']} of {a['rationalized']}; published "
                      f"rows {c['published']} of {a['published']} (constraints {self.rc.constraints}d)")
        return counts

    def evaluate(self, cycle: int, model: str, name: str, stage: Path | None = None) -> dict[str, Any] | None:
        """Held-out metrics of `model` (generation only, no hint) into `stage`/`name`.json
        (default: the cycle's folder); cycle/evaluation.py."""
        if not self.rc.eval:
            return None
        stage = stage or self.layout.cycle(cycle)
        marker = self.layout.marker(stage, name)
        if marker.exists():
            return _read_json(marker)
        runs = []
        for i, src in enumerate(self.rc.eval):
            cfg = GenerationConfig.from_run_config(self.rc, src, model=model, cycle=cycle, rationalize=False)
            out = self.layout.source_dir(stage / name, i, src.adapter)
            prepared = prepare(cfg)
            self.run_engine(cfg, out, prepared)
            runs.append((cfg, prepared, out))
        result = evaluate_sources(runs, profile=self.rc.profile)
        _write_json(marker, result)
        return result

    def eval_samples(self) -> dict[str, bytes]:
        """The held-out samples (questions + labels, no answers) as `eval/<NN-adapter>.parquet`,
        published with every release as config/split `eval`, so downstream teams evaluate on the
        same clips. Columns are the published rows' (same label struct), less the answers."""
        import io

        import pyarrow as pa
        import pyarrow.parquet as pq
        from datasets import Features

        from ..dataset.rows import features, label_to_struct

        cols = ("id", "source", "task", "split", "video", "clip_start", "clip_end", "question", "template_id",
                "labels")
        schema = Features({c: features()[c] for c in cols}).arrow_schema
        files: dict[str, bytes] = {}
        for i, src in enumerate(self.rc.eval):
            cfg = GenerationConfig.from_run_config(self.rc, src, model=self.rc.pretrained, cycle=0,
                                                   rationalize=False)
            rows = [{"id": ps.sample.id, "source": ps.sample.source, "task": ps.sample.task,
                     "split": ps.sample.split, "video": ps.sample.video, "clip_start": ps.sample.clip_start,
                     "clip_end": ps.sample.clip_end, "question": ps.question.text,
                     "template_id": ps.question.template_id,
                     "labels": [label_to_struct(x) for x in ps.sample.labels]} for ps in prepare(cfg).samples]
            buf = io.BytesIO()
            pq.write_table(pa.Table.from_pylist(rows, schema=schema), buf, compression="zstd")
            files[f"eval/{self.layout.source_dir(Path(), i, src.adapter).name}.parquet"] = buf.getvalue()
        return files

    def publish(self, cycle: int) -> dict[str, Any]:
        """Accepted rows of this cycle -> the store, tagged cycle-N (idempotent on re-run)."""
        from ..dataset.variants import VariantOptions

        stage = self.layout.cycle(cycle)
        history = self.stats_so_far(cycle) + [s for s in self.stats if s["cycle"] == cycle]
        variants = VariantOptions.parse(self.rc.store.get("variants"), self.rc.store.get("variant_seed") or 0)
        return self._publish(stage, f"cycle-{cycle}", f"cycle {cycle}: accepted rows", history,
                             empty="no accepted rows in this cycle: nothing to publish",
                             has_rows=bool(json.loads(self._training_rows(cycle).read_text("utf-8"))),
                             variants=variants)

    def _publish(self, stage: Path, tag: str, message: str, history: list[dict[str, Any]], *, empty: str,
                 has_rows: bool, variants: Any = None) -> dict[str, Any]:
        """Publish `stage`'s generation folder as `tag` with the run's extra files (run.yaml, the
        stats so far, the eval split), once: the stage's `published` marker holds the result."""
        from ..dataset.store import publish

        marker = self.layout.marker(stage, "published")
        if marker.exists():
            return _read_json(marker)
        if not has_rows:
            info: dict[str, Any] = {"tag": None, "skipped": empty}
        else:
            extras = {"run.yaml": self.layout.run_yaml.read_bytes(),
                      "stats.json": json.dumps({"cycles": history}, indent=2, default=str).encode(),
                      **self.eval_samples()}
            result = publish(self.layout.generate_dir(stage), self.rc.store["path"], tag=tag, message=message,
                             hub_repo=self.rc.store.get("hub_repo"), force=True, extra_files=extras,
                             stats_for_plot=history, variants=variants,
                             allow_leakage=bool(self.rc.store.get("allow_leakage")))
            info = result.to_dict()
        _write_json(marker, info)
        return info

    @property
    def method(self) -> str:
        """`training.method`: sft (the paper) or grpo."""
        return str(self.rc.training.get("method") or "sft")

    def train(self, cycle: int) -> dict[str, Any]:
        """SFT: instruction-tune the PRE-TRAINED checkpoint on this cycle's accepted rows (+ the
        mix). GRPO: train the model that generated this cycle on every sample's prompt, rewarded by
        the verifier."""
        stage = self.layout.cycle(cycle)
        if self.method == "grpo":
            return self.train_grpo(cycle)
        result = self.train_on(self._training_rows(cycle), self.layout.checkpoint(stage), f"cycle {cycle}")
        return {**result, **self.mix_stats(stage)}

    def mix_stats(self, stage: Path) -> dict[str, Any]:
        """The stats entry's `mix*` keys for a stage's training set ({} without `training.mix`)."""
        record = self.layout.mix_record(stage)
        return _read_json(record) if record.exists() else {}

    def _settings(self) -> dict[str, Any]:
        """TrainConfig fields from `training:` (`method`, `grpo` and `mix` taken out: the mix is
        already in the rows, training_rows), run defaults filled."""
        settings = {k: v for k, v in self.rc.training.items() if k not in ("method", "grpo", MIX_KEY)}
        settings.setdefault("seed", self.rc.seed)
        settings.setdefault("num_frames", self.rc.frames["num_frames"])
        settings.setdefault("frame_size", self.rc.frames.get("size"))
        settings.setdefault("videos_cache", dict(self.rc.videos_cache))   # the trainer's URL clips too
        if (self.rc.reproducibility or {}).get("torch_threads"):
            settings.setdefault("torch_threads", self.rc.reproducibility["torch_threads"])
        return settings

    def train_on(self, data: Path, output_dir: Path, what: str) -> dict[str, Any]:
        """Train from the pre-trained checkpoint on the LLaVA rows in `data` into `output_dir`."""
        from ..training.recipe import TrainConfig, train

        if not json.loads(data.read_text("utf-8")):
            log.warning("%s has no rows: nothing to train on; %s stays the model", what, self.rc.pretrained)
            return {"checkpoint": self.rc.pretrained, "train_loss": None, "steps": 0, "samples_per_s": None}
        result = train(TrainConfig(model=self.rc.pretrained, data=str(data), videos="/",
                                   output_dir=str(output_dir), **self._settings()))
        return {"checkpoint": str(result.output_dir), "train_loss": result.train_loss,
                "steps": result.steps, "samples_per_s": result.samples_per_s}

    def train_grpo(self, cycle: int) -> dict[str, Any]:
        """GRPO on this cycle's prompts from the model that generated it; the entry records the
        reward (`{"mean", "groups_with_reward", "groups"}`). `training.mix` rows carry no labels
        (nothing to reward): they are left out and counted in `mix_left_out`."""
        from ..training.grpo import GrpoSettings, train_grpo
        from ..training.recipe import TrainConfig

        stage = self.layout.cycle(cycle)
        start = next((s["model"] for s in self.stats if s["cycle"] == cycle), self.rc.initial)
        prompts = self.grpo_prompts(cycle)
        settings = self._settings()
        entry: dict[str, Any] = {"method": "grpo", "trained_from": start,
                                 "prompts": len(json.loads(prompts.read_text("utf-8")))}
        mix = configured_mix(self.rc.training)
        if mix:   # what SFT would have mixed into this cycle, per source
            entry["mix_left_out"] = {m.name: m.wanted(entry["prompts"]) for m in mix}
            self.echo(f"cycle {cycle}: training.mix left out under grpo (its rows carry no labels): "
                      + ", ".join(f"{k} {v} rows" for k, v in entry["mix_left_out"].items()))
        if not entry["prompts"]:
            log.warning("cycle %d has no prompts: nothing to train on; %s stays the model", cycle, start)
            return {**entry, "checkpoint": start, "train_loss": None, "steps": 0, "samples_per_s": None,
                    "reward": None}
        result = train_grpo(TrainConfig(model=start, data=str(prompts), videos="/",
                                        output_dir=str(self.layout.checkpoint(stage)), **settings),
                            GrpoSettings(**(self.rc.training.get("grpo") or {})), profile=self.rc.profile,
                            enforce_constraints=self.rc.constraints == "enforce",
                            vocabularies=source_vocabularies(self.rc.sources))
        self.echo(f"cycle {cycle}: GRPO on {entry['prompts']} prompts, mean reward {result.reward.get('mean')}, "
                  f"{result.reward.get('groups_with_reward')} of {result.reward.get('groups')} groups rewarded")
        return {**entry, "checkpoint": str(result.output_dir), "train_loss": result.train_loss,
                "steps": result.steps, "samples_per_s": result.samples_per_s, "reward": result.reward}

    def grpo_prompts(self, cycle: int) -> Path:
        """Every sample of this cycle's generation as a prompt row: its direct question (the user
        turn the SFT rows open with), clip and labels; absolute video paths, sorted by id."""
        stage = self.layout.cycle(cycle)
        path = self.layout.grpo_prompts(stage)
        if path.exists():
            return path
        gen_dir = self.layout.generate_dir(stage)
        chosen: dict[str, tuple[dict[str, Any], Path]] = {}
        for i, src in enumerate(self.rc.sources):
            rows, _ = self.layout.read_rows(self.layout.source_dir(gen_dir, i, src.adapter))
            root = _video_root(src.videos)
            for r in rows:
                key = f"{r['source']}/{r['id']}"
                if key not in chosen or (r.get("origin") == "generated" and chosen[key][0].get("origin") != "generated"):
                    chosen[key] = (r, root)
        items = [{"id": key, "video": root.location(r["video"]), "clip_start": r.get("clip_start"),
                  "clip_end": r.get("clip_end"), "conversations": conversations(r["question"], "")[:1],
                  "labels": r["labels"]} for key, (r, root) in sorted(chosen.items())]
        _write_json(path, items)
        return path

    def _training_rows(self, cycle: int) -> Path:
        """This cycle's training rows: exactly the rows its tag publishes (same winner rule), plus
        the `training.mix` rows drawn for this cycle."""
        stage = self.layout.cycle(cycle)
        return self.training_rows(self.layout.generate_dir(stage), self.layout.train_rows(stage), mix_cycle=cycle)

    def training_rows(self, gen_dir: Path, path: Path, *, mix_cycle: int | None = None) -> Path:
        """LLaVA-format rows (absolute video paths: sources have different video roots) of the
        winning accepted attempt of each sample under `gen_dir` (`pick_winners`: the rule the
        publisher applies to the same folder, so the tag holds exactly the rows trained on).
        With `mix_cycle` and `training.mix`, the mix rows drawn with seed + mix_cycle follow them
        (none when the stage has no rows of its own), and `mix.json` beside `path` counts them."""
        if path.exists():
            return path
        rows: list[dict[str, Any]] = []
        roots: dict[int, VideoStore] = {}
        for i, src in enumerate(self.rc.sources):
            r, _ = self.layout.read_rows(self.layout.source_dir(gen_dir, i, src.adapter))
            rows += r
            root = _video_root(src.videos)
            roots.update({id(x): root for x in r})
        chosen = pick_winners(rows)
        items = [{"id": f"{r['source']}/{sid}", "video": roots[id(r)].location(r["video"]),
                  "clip_start": r.get("clip_start"), "clip_end": r.get("clip_end"),
                  "conversations": conversations(r["question"], r["answer"], r.get("time_instruction"))}
                 for sid, r in ((sid, chosen[sid]) for sid in sorted(chosen))]
        sources = configured_mix(self.rc.training) if mix_cycle is not None else []
        if sources:
            mixed = draw_mix(sources, len(items), self.rc.seed + mix_cycle)
            _write_json(self.layout.mix_record(path.parent), mixed.record())  # before train.json: resume
            self.echo(f"{path.parent.name.replace('-', ' ')}: training rows: {len(items)} of its own + mix "
                      f"{mixed.summary()}")
            items += mixed.rows
        _write_json(path, items)
        return path

    def final_release(self, last_cycle: int) -> dict[str, Any]:
        """The paper's final step: tag `final` with only the last cycle's direct answers, the final
        model trained on exactly those rows, evaluated; returns stats.json's "final" record."""
        stage = self.layout.final
        done = self.layout.marker(stage, "stats")
        if done.exists():
            return _read_json(done)
        gen_dir = self.layout.generate_dir(stage)
        kept = copy_attempts(self.layout.generate_dir(self.layout.cycle(last_cycle)), gen_dir,
                             keep=lambda row: row.get("origin") == "generated")
        entry: dict[str, Any] = {"from_cycle": last_cycle, "rows": kept, "origin": "generated"}
        entry["publish"] = self._publish(
            stage, FINAL_TAG, f"final: direct answers of cycle {last_cycle} (no rationalized rows)", self.stats,
            empty=f"cycle {last_cycle} has no accepted direct answers", has_rows=bool(kept))
        published = f"published tag {FINAL_TAG}" if entry["publish"].get("tag") else "no direct answers to publish"
        self.echo(f"final: {kept} direct answers of cycle {last_cycle}; {published}; training from "
                  f"{self.rc.pretrained}")
        data = self.training_rows(gen_dir, self.layout.train_rows(stage), mix_cycle=last_cycle)
        entry.update(self.train_on(data, self.layout.checkpoint(stage), "the final release"))
        entry.update(self.mix_stats(stage))
        entry["eval"] = self.evaluate(last_cycle, entry["checkpoint"], "eval", stage=stage)
        acc = (entry["eval"] or {}).get("accuracy")
        self.echo(f"final: train loss {entry['train_loss']}, held-out accuracy "
                  f"{'n/a' if acc is None else f'{acc:.1%}'}; checkpoint {entry['checkpoint']}")
        _write_json(done, entry)
        return entry

    # -- the loop --------------------------------------------------------------------------
    def check(self) -> None:
        """What training will need, checked before anything is generated (training comes only
        after a whole cycle): every `training:` key known, and `model.pretrained` readable (the
        trainer's model; the generating backend's model is checked when the backend loads). All
        problems at once, as a ConfigError naming the key or the path."""
        from ..errors import ConfigError
        from ..training.checks import checkpoint_problems, settings_problems

        problems = settings_problems(self.rc.training) + checkpoint_problems(self.rc.pretrained)
        if self.method == "grpo" and self.rc.initial != self.rc.pretrained:   # GRPO's cycle 0 trains it
            problems += checkpoint_problems(self.rc.initial, key="model/initial")
        if problems:
            raise ConfigError("the run config cannot train (checked before cycle 0)", file=self.rc.file,
                              problems=problems)
        if self.rc.eval and not self.rc.store.get("allow_leakage"):
            self.check_leakage()

    def check_leakage(self) -> None:
        """Held-out clips must not be among the training sources (the same rule as `push` and
        `validate`: dataset/leakage.py); a leak stops the build before anything is generated."""
        from ..dataset.leakage import Clip, HeldOut, find_leaks, refuse

        def clips(sources: list[Any]) -> list[tuple[str, Any]]:
            out = []
            for src in sources:
                cfg = GenerationConfig.from_run_config(self.rc, src, model=self.rc.pretrained, cycle=0,
                                                       rationalize=False)
                root = VideoStore(src.videos or ".")   # two sources' relative paths compare as files
                out += [(src.adapter, ps.sample.id, Clip.of(root.location(ps.sample.video),
                                                             ps.sample.clip_start, ps.sample.clip_end))
                        for ps in prepare(cfg).samples]
            return out

        held_out = HeldOut((sid, clip) for _, sid, clip in clips(self.rc.eval))
        leaks = find_leaks(held_out, ((name, "sources", sid, clip) for name, sid, clip in clips(self.rc.sources)))
        refuse(leaks, "the run's eval sources share clips with its training sources (checked before cycle 0)",
               file=self.rc.file)

    def stats_so_far(self, cycle: int) -> list[dict[str, Any]]:
        return [s for s in self.stats if s["cycle"] < cycle]

    def run(self) -> list[dict[str, Any]]:
        """Every cycle, then the final release; one `build` per run directory at a time (a second
        one stops with a ConfigError naming the holder instead of racing it over the same files)."""
        rc = self.rc
        self.check()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(self.layout.lock, "run directory (one `vstar-data build` at a time)"):
            with atomic_writer(self.layout.run_yaml) as fh:
                yaml.safe_dump(json.loads(json.dumps(rc.raw, default=str)), fh, sort_keys=False)
            _write_json(self.layout.sources_json, {  # resolved video folders, for `vstar-data report`
                stage: {self.layout.source_dir(Path(), i, s.adapter).name: s.videos for i, s in enumerate(srcs)}
                for stage, srcs in (("generate", rc.sources), ("eval", rc.eval))})
            restore = reproducible.restore_point() if rc.reproducibility else None
            try:
                self.reproducibility = reproducible.apply(rc.reproducibility or {}, rc.seed)
                self.echo(reproducible.describe(self.reproducibility))
                return self._cycles()
            finally:
                if restore is not None:
                    restore()

    def _cycles(self) -> list[dict[str, Any]]:
        rc = self.rc
        model = rc.initial
        previous_eval = None
        self.final = None
        for cycle in range(rc.cycles["max"]):
            done = self.layout.marker(self.layout.cycle(cycle), "stats")
            if done.exists():
                entry = _read_json(done)
                self.echo(f"cycle {cycle}: already done (resumed)")
            else:
                entry = self._one_cycle(cycle, model, previous_eval)
                _write_json(done, entry)
            self.stats.append(entry)
            write_stats(self.layout.stats, self.stats)
            plot_cycles(self.stats, self.layout.plot)
            model = entry["checkpoint"]
            previous_eval = entry.get("eval")
            if self._plateau():
                self.echo(f"stopping after cycle {cycle}: {rc.cycles['plateau_metric']} grew by less than "
                          f"{rc.cycles['min_delta']:.3f}")
                break
        if rc.store.get("final_exclude_rationalized") and self.stats:
            self.final = self.final_release(self.stats[-1]["cycle"])
            write_stats(self.layout.stats, self.stats, final=self.final)
        return self.stats

    def _one_cycle(self, cycle: int, model: str, previous_eval: dict[str, Any] | None) -> dict[str, Any]:
        t0 = time.perf_counter()
        self.echo(f"cycle {cycle}: generating with {model}")
        gen = self.generate(cycle, model)
        n = max(gen["samples"], 1)
        self.echo(f"cycle {cycle}: annotated {gen['annotated']}, videos found {gen['found']}, missing "
                  f"{gen['missing']}; reused {gen['reused']}, redone {gen['redone']}, new {gen['new']}, "
                  f"retired {gen['retired']} stale rows")
        self.echo(f"cycle {cycle}: generated {gen['generated']}, rationalized {gen['rationalized']}, "
                  f"rejected {gen['rejected']}, skipped {gen['skipped']} of {gen['samples']}")
        eval_generator = previous_eval if cycle > 0 else self.evaluate(cycle, model, "eval-initial")
        hallucination = self.hallucination(cycle)
        entry: dict[str, Any] = {"cycle": cycle, "model": model, "engine": self.rc.engine.get("name", "local"),
                                 **gen, "hallucination": hallucination,
                                 "yield": (gen["generated"] + gen["rationalized"]) / n,
                                 "generation_yield": gen["generated"] / n, "eval_generator": eval_generator}
        self.stats.append(entry)  # visible to the card while publishing
        try:
            entry["publish"] = self.publish(cycle)
            published = f"published tag cycle-{cycle}" if entry["publish"].get("tag") else "no rows to publish"
            start = model if self.method == "grpo" else self.rc.pretrained
            self.echo(f"cycle {cycle}: {published}; training ({self.method}) from {start}")
            entry.update(self.train(cycle))
            entry["eval"] = self.evaluate(cycle, entry["checkpoint"], "eval")
        finally:
            self.stats.pop()
        entry["seconds"] = round(time.perf_counter() - t0, 2)
        if self.reproducibility:
            entry["reproducibility"] = self.reproducibility
        acc = (entry.get("eval") or {}).get("accuracy")
        self.echo(f"cycle {cycle}: train loss {entry['train_loss']}, held-out accuracy "
                  f"{'n/a' if acc is None else f'{acc:.1%}'} ({entry['seconds']:.0f} s)")
        return entry

    def _plateau(self) -> bool:
        if len(self.stats) < 2 or self.rc.cycles.get("min_delta") is None:
            return False
        metric = self.rc.cycles["plateau_metric"]

        def value(s: dict[str, Any]) -> float:
            if metric == "accuracy":   # the config check guarantees eval sources, hence an accuracy
                return float(s["eval"]["accuracy"])
            return float(s.get("generation_yield", 0.0))
        return value(self.stats[-1]) - value(self.stats[-2]) < float(self.rc.cycles["min_delta"])
