"""`octo run RECIPE`: the whole study from one recipe, stage by stage, resumable.

    octo run octothinker/recipes/demo.yaml            # `octo demo` does this
    octo run my-study.yaml rl.steps=400                # a changed section re-runs its stage and all after it

Stages, in order: world (synthetic data) -> data.<mixture> -> base (pre-training a fresh model, when
the recipe has one) -> stable -> decay-<branch> -> probe-<model> and eval-<model> (few-shot, before RL)
-> rl-<model> -> eval-rl-<model> (zero-shot, after RL) -> report. Each stage's fingerprint is its own
recipe section plus the fingerprint of the stage before it, so a change re-runs that stage and every
later one; an unchanged, finished stage is skipped; a killed stage resumes from its checkpoints.
`manifest.json` records the recipe, versions, git revision, seeds and every stage's status and timing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from octothinker.data.pipeline import DataRecipe
from octothinker.midtrain.stages import MidtrainRecipe
from octothinker.runs import atomic_write_json, run_metadata


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorldSpec(Strict):
    problems: int = 4000
    test: int = 400
    web: int = 3000
    generic: int = 3000
    instruct: int = 1000
    seeds: int = 400
    min_steps: int = 1
    max_steps: int = 3
    max_operand: int = 9
    vocab_size: int = 1024


class PretrainSpec(Strict):
    """Pre-train a fresh model into the study's "base" (the demo's stand-in for a general base model)."""
    data: str
    tokens: int = Field(gt=0)
    lr: float = Field(gt=0)
    warmup_tokens: int = Field(0, ge=0)
    final_lr: float = Field(0.0, ge=0)
    size: str = "tiny"


class EvalPlan(Strict):
    benchmarks: list[str]                      # registry names or NAME=FILE
    data_dir: str | None = None
    limit: int | None = Field(None, ge=1)
    max_new_tokens: int = Field(256, ge=1)


class ProbePlan(Strict):
    prompts: str
    k: int = Field(8, ge=1)
    limit: int = Field(64, ge=1)
    max_new_tokens: int = Field(128, ge=1)


class StudyRecipe(Strict):
    name: str
    out: str
    seed: int = 0
    world: WorldSpec | None = None
    data: dict[str, DataRecipe] = Field(default_factory=dict)
    pretrain: PretrainSpec | None = None
    midtrain: MidtrainRecipe | None = None
    rl: dict | None = None                      # an RLConfig without `out` (one run per starting model)
    rl_from: list[str] = Field(default_factory=lambda: ["base", "short", "long", "hybrid"])
    eval: EvalPlan | None = None
    probe: ProbePlan | None = None


@dataclass
class Stage:
    name: str
    section: object            # what this stage is made from (its part of the recipe)
    outputs: list[Path]        # removed before a re-run with a changed fingerprint
    done: Path                 # exists once the stage finished
    run: Callable[[], None]


def model_path(run: Path, model: str) -> Path:
    return run / ("base" if model == "base" else "stable" if model == "stable" else f"decay-{model}") / "final"


def _dump(section) -> object:
    return section.model_dump() if isinstance(section, BaseModel) else section


def plan(recipe: StudyRecipe) -> list[Stage]:
    run = Path(recipe.out)
    stages: list[Stage] = []
    if recipe.world is not None:
        def synth(spec=recipe.world):
            from octothinker.data.synthetic import WorldSize, generate_world

            size = WorldSize(**spec.model_dump(exclude={"vocab_size"}))
            generate_world(run / "world", size, seed=recipe.seed, tokenizer_vocab=spec.vocab_size)
        stages.append(Stage("world", recipe.world, [run / "world"], run / "world" / "world.json", synth))
    for name, data in recipe.data.items():
        def build_data(data=data):
            from octothinker.data.pipeline import build

            build(data)
        stages.append(Stage(f"data.{name}", data, [Path(data.out)], Path(data.out) / "index.json", build_data))
    if recipe.pretrain is not None:
        if recipe.midtrain is None:
            raise ValueError("`pretrain` needs the `midtrain` section's `train` settings")
        stages.append(Stage("base", recipe.pretrain, [run / "base", run / "base-init"], run / "base" / "final" / "config.json",
                            lambda: _pretrain(recipe)))
    if recipe.midtrain is not None:
        from octothinker.midtrain.stages import decay_run, stable_run
        from octothinker.midtrain.trainer import train_stage

        m = recipe.midtrain
        stages.append(Stage("stable", {"stable": m.stable, "train": m.train, "base": m.base},
                            [run / "stable"], run / "stable" / "final" / "config.json",
                            lambda: train_stage(stable_run(m))))
        for branch in (m.decay.branches if m.decay else {}):
            stages.append(Stage(f"decay-{branch}", {"decay": m.decay, "branch": branch}, [run / f"decay-{branch}"],
                                run / f"decay-{branch}" / "final" / "config.json",
                                lambda b=branch: train_stage(decay_run(m, b))))
    models = recipe.rl_from
    if recipe.probe is not None:
        for model in models:
            out = run / "probe" / f"{model}.json"
            stages.append(Stage(f"probe-{model}", recipe.probe, [out], out, lambda mo=model, o=out: _probe(recipe, mo, o)))
    if recipe.eval is not None:
        for model in models:
            out = run / "eval" / model / "few-shot"
            stages.append(Stage(f"eval-{model}", recipe.eval, [out], out / "summary.json",
                                lambda mo=model, o=out: _evaluate(recipe, str(model_path(run, mo)), "few-shot", o)))
    if recipe.rl is not None:
        for model in models:
            out = run / f"rl-{model}"
            stages.append(Stage(f"rl-{model}", recipe.rl, [out], out / "final" / "config.json",
                                lambda mo=model, o=out: _rl(recipe, mo, o)))
        if recipe.eval is not None:
            for model in models:
                out = run / "eval" / f"rl-{model}" / "zero-shot"
                stages.append(Stage(f"eval-rl-{model}", recipe.eval, [out], out / "summary.json",
                                    lambda mo=model, o=out: _evaluate(recipe, str(run / f"rl-{mo}" / "final"),
                                                                      "zero-shot", o)))
    stages.append(Stage("report", {}, [run / "report"], run / "report" / "index.html", lambda: _report(run)))
    return stages


def _pretrain(recipe: StudyRecipe) -> None:
    from octothinker.midtrain.schedule import Schedule
    from octothinker.midtrain.stages import fresh_model
    from octothinker.midtrain.trainer import StageRun, train_stage

    run, p, train = Path(recipe.out), recipe.pretrain, recipe.midtrain.train
    init = fresh_model(run / "base-init", p.size, p.data, recipe.seed)
    steps = p.tokens // train.global_batch_tokens
    warmup = min(p.warmup_tokens // train.global_batch_tokens, steps)
    decay = steps - warmup if p.final_lr < p.lr else 0
    train_stage(StageRun(name="base", data=p.data, init=str(init), tokens=p.tokens, out=str(run / "base"), train=train,
                         schedule=Schedule(peak_lr=p.lr, warmup_steps=warmup, stable_steps=steps - warmup - decay,
                                           decay_steps=decay, final_lr=p.final_lr, shape="cosine")))


def _probe(recipe: StudyRecipe, model: str, out: Path) -> None:
    from octothinker.probe import probe

    p = recipe.probe
    template = (recipe.rl or {}).get("template", "complex")
    probe(str(model_path(Path(recipe.out), model)), p.prompts, None, p.k, p.limit, template,
          temperature=(recipe.rl or {}).get("temperature", 1.0), max_new_tokens=p.max_new_tokens, seed=recipe.seed,
          out=str(out))


def _evaluate(recipe: StudyRecipe, model: str, mode: str, out: Path) -> None:
    from octothinker.eval.runner import EvalConfig, evaluate

    e = recipe.eval
    evaluate(EvalConfig(model=model, benchmarks=e.benchmarks, data_dir=e.data_dir, mode=mode,
                        template=(recipe.rl or {}).get("template", "complex"), limit=e.limit,
                        max_new_tokens=e.max_new_tokens, out=str(out), backend="auto", seed=recipe.seed))


def _rl(recipe: StudyRecipe, model: str, out: Path) -> None:
    from octothinker.rl.trainer import RLConfig, train

    train(RLConfig.model_validate({**recipe.rl, "out": str(out)}), str(model_path(Path(recipe.out), model)))


def _report(run: Path) -> None:
    from octothinker.report.page import write_report

    write_report(run)


def fingerprint(section, previous: str) -> str:
    payload = json.dumps(_dump(section), sort_keys=True, default=str) + previous
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def run_study(recipe: StudyRecipe, log: Callable[[str], None] = print) -> dict:
    run = Path(recipe.out)
    run.mkdir(parents=True, exist_ok=True)
    manifest_path = run / "manifest.json"
    old = json.loads(manifest_path.read_text()).get("stages", {}) if manifest_path.exists() else {}
    manifest = {"recipe": recipe.model_dump(), **run_metadata(recipe.seed), "stages": {}}
    previous = ""
    for stage in plan(recipe):
        key = fingerprint(stage.section, previous)
        previous = key
        before = old.get(stage.name, {})
        if before.get("fingerprint") == key and before.get("status") == "done" and stage.done.exists():
            manifest["stages"][stage.name] = before
            log(f"[skip] {stage.name} (finished, recipe unchanged)")
            continue
        if before.get("fingerprint") not in (None, key):
            for path in stage.outputs:  # its recipe changed: stale checkpoints must not be resumed
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        manifest["stages"][stage.name] = {"fingerprint": key, "status": "running", "started": time.time()}
        atomic_write_json(manifest_path, manifest)
        log(f"[run ] {stage.name}")
        start = time.perf_counter()
        try:
            stage.run()
        except BaseException:
            manifest["stages"][stage.name]["status"] = "failed"
            atomic_write_json(manifest_path, manifest)
            raise
        manifest["stages"][stage.name].update(status="done", seconds=round(time.perf_counter() - start, 1))
        atomic_write_json(manifest_path, manifest)
        log(f"[done] {stage.name} in {manifest['stages'][stage.name]['seconds']} s")
    return manifest
