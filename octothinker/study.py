"""`octo run RECIPE`: the whole study from one recipe, stage by stage, resumable.

    octo run octothinker/recipes/demo.yaml            # `octo demo` does this
    octo run my-study.yaml rl.steps=400                # re-runs the RL stages and what reads them

Stages: world (synthetic data) -> data.<mixture> -> base (pre-training a fresh model, when the recipe
has one) -> stable -> decay-<branch> -> probe-<model> and eval-<model> (few-shot, before RL) ->
rl-<model> -> eval-rl-<model> (zero-shot, after RL) -> report.

Before anything runs, the whole recipe is validated (every section typed), every input path must exist
or be made by an earlier stage, and every benchmark name must be known. Each stage declares the paths
it reads and the one folder it makes; its fingerprint is its own settings plus the fingerprints of the
stages whose folders it reads (and the size and time of the outside files it reads), so a change
re-runs exactly the stages that depend on it. A stage runs into `<folder>.staging` and replaces its
folder only once it has finished, so a failed or killed run never deletes finished work; a killed stage
resumes from its checkpoints in the staging folder. Folders the study did not make are never deleted:
each stage folder carries `.octo-stage.json`. `manifest.json` records the recipe, versions, git
revision, seeds and every stage's status and timing.
"""

from __future__ import annotations

import glob
import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from octothinker.data.pipeline import DataRecipe
from octothinker.data.synthetic import WorldSize
from octothinker.errors import OctoError, check_name
from octothinker.midtrain.stages import FINAL_LR, MidtrainRecipe
from octothinker.models import HUB_PREFIX
from octothinker.recipe import RecipeError, Strict
from octothinker.rl.trainer import RLConfig
from octothinker.runs import atomic_write_json, run_metadata
from octothinker.runs.files import ensure_writable, recover_dir, replace_dir

MARKER = ".octo-stage.json"


class PretrainSpec(Strict):
    """Pre-train a fresh model into the study's "base" (the demo's stand-in for a general base model)."""
    data: str
    tokens: int = Field(gt=0)
    lr: float = Field(gt=0)
    warmup_tokens: int = Field(0, ge=0)
    final_lr: float = Field(FINAL_LR, ge=0)
    size: str = "tiny"


class EvalPlan(Strict):
    benchmarks: list[str]                      # registry names or NAME=FILE
    data_dir: str | None = None
    limit: int | None = Field(None, ge=1)
    max_new_tokens: int = Field(256, ge=1)


class ProbePlan(Strict):
    prompts: str                               # JSONL of question/answer, or a benchmark name
    data_dir: str | None = None
    k: int = Field(8, ge=1)
    limit: int = Field(64, ge=1)
    max_new_tokens: int = Field(128, ge=1)


def _fill_defaults(data: dict) -> dict:
    """Study-level defaults for the sections: their folders under `out`, and the top-level seed."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    out, seed = data.get("out"), data.get("seed", 0)
    for name, section in (data.get("data") or {}).items():
        if isinstance(section, dict):
            data["data"][name] = {"out": f"{out}/data/{name}", "seed": seed, **section}
    midtrain = data.get("midtrain")
    if isinstance(midtrain, dict):
        midtrain = {"out": out, **midtrain}
        if "base" not in midtrain and data.get("pretrain") is not None:
            midtrain["base"] = f"{out}/base/final"
        if isinstance(midtrain.get("train", {}), dict):
            midtrain["train"] = {"seed": seed, **midtrain.get("train", {})}
        data["midtrain"] = midtrain
    if isinstance(data.get("rl"), dict):
        data["rl"] = {"seed": seed, **data["rl"]}
    return data


class StudyRecipe(Strict):
    name: str
    out: str
    seed: int = 0                               # every section's seed unless it sets its own
    world: WorldSize | None = None
    data: dict[str, DataRecipe] = Field(default_factory=dict)
    pretrain: PretrainSpec | None = None
    midtrain: MidtrainRecipe | None = None
    rl: RLConfig | None = None                  # one run per model of `rl_from`, each in rl-<model>/
    rl_from: list[str] = Field(default_factory=lambda: ["base", "short", "long", "hybrid"])
    eval: EvalPlan | None = None
    probe: ProbePlan | None = None

    _defaults = model_validator(mode="before")(_fill_defaults)

    @field_validator("data")
    @classmethod
    def _safe_data_names(cls, data):
        for name in data:
            check_name(name, "data section")
        return data

    @model_validator(mode="after")
    def _models_exist(self):
        if self.pretrain is not None and self.midtrain is None:
            raise ValueError("`pretrain` needs the `midtrain` section's `train` settings")
        if self.rl is not None and self.rl.out is not None:
            raise ValueError("rl.out: a study runs RL once per model, into rl-<model>/; leave `out` unset")
        known = self.models()
        for model in self.rl_from:
            if model not in known:
                raise ValueError(f"rl_from: {model!r} is not a model of this study (it has: {', '.join(known) or 'none'})")
        return self

    def models(self) -> list[str]:
        """The models this study makes or names: base, stable and every decay branch."""
        if self.midtrain is None:
            return ["base"] if self.pretrain is not None else []
        return ["base", "stable", *(self.midtrain.decay.branches if self.midtrain.decay else {})]

    def model_path(self, model: str) -> Path:
        run = Path(self.out)
        if model == "base":
            if self.pretrain is None and self.midtrain is not None and isinstance(self.midtrain.base, str):
                return Path(self.midtrain.base)
            return run / "base" / "final"
        return run / ("stable" if model == "stable" else f"decay-{model}") / "final"


@dataclass
class Stage:
    name: str
    settings: object                     # what the stage is made from, beyond the files it reads
    inputs: list[tuple[str, str]]        # (recipe key, path or glob) of everything it reads
    output: Path                         # the one folder it makes
    build: Callable[[Path], None]        # makes the stage into the folder it is given
    depends: list[str] = field(default_factory=list)   # filled by `plan`: stages whose folders it reads


def _dump(section) -> object:
    return section.model_dump() if hasattr(section, "model_dump") else section


def plan(recipe: StudyRecipe) -> list[Stage]:
    run = Path(recipe.out)
    stages: list[Stage] = []
    if recipe.world is not None:
        def synth(target: Path, spec=recipe.world):
            from octothinker.data.synthetic import generate_world

            generate_world(target, spec, seed=recipe.seed)
        stages.append(Stage("world", {"world": recipe.world, "seed": recipe.seed}, [], run / "world", synth))
    for name, data in recipe.data.items():
        def build_data(target: Path, data=data):
            from octothinker.data.pipeline import build

            build(data.model_copy(update={"out": str(target)}))
        inputs = [(f"data.{name}.sources.{s.name}.path", s.path) for s in data.sources]
        inputs.append((f"data.{name}.tokenizer", data.tokenizer))
        if data.quality:
            inputs += [(f"data.{name}.quality.positive", data.quality.positive),
                       (f"data.{name}.quality.negative", data.quality.negative)]
        if data.decontam:
            inputs += [(f"data.{name}.decontam.files", f) for f in data.decontam.files]
            inputs += _benchmark_inputs(f"data.{name}.decontam", data.decontam.benchmarks, data.decontam.data_dir)
        stages.append(Stage(f"data.{name}", data.model_dump(exclude={"out"}), inputs, Path(data.out), build_data))
    if recipe.pretrain is not None:
        stages.append(Stage("base", {"pretrain": recipe.pretrain, "train": recipe.midtrain.train, "seed": recipe.seed},
                            [("pretrain.data", recipe.pretrain.data)], run / "base",
                            lambda target: _pretrain(recipe, target)))
    if recipe.midtrain is not None:
        from octothinker.midtrain.stages import decay_run, stable_run
        from octothinker.midtrain.trainer import train_stage

        m = recipe.midtrain
        base = [("midtrain.base", m.base)] if isinstance(m.base, str) else []
        stages.append(Stage("stable", m.model_dump(include={"stable", "train", "base"}),
                            [("midtrain.stable.data", m.stable.data), *base], run / "stable",
                            lambda target: train_stage(stable_run(m, target))))
        for branch, spec in (m.decay.branches if m.decay else {}).items():
            stages.append(Stage(f"decay-{branch}", {"decay": m.decay.model_dump(exclude={"branches"}), "branch": spec,
                                                    "train": m.train},
                                [(f"midtrain.decay.branches.{branch}.data", spec.data), ("midtrain.stable", str(run / "stable"))],
                                run / f"decay-{branch}",
                                lambda target, b=branch: train_stage(decay_run(m, b, target))))
    for model in recipe.rl_from:
        source = ("rl_from", str(recipe.model_path(model)))
        if recipe.probe is not None:
            p = recipe.probe
            prompts = _benchmark_inputs("probe.prompts", [p.prompts], p.data_dir) if not _is_path(p.prompts) \
                else [("probe.prompts", p.prompts)]
            stages.append(Stage(f"probe-{model}", {"probe": p, "rl": _probe_rl_settings(recipe), "seed": recipe.seed},
                                [source, *prompts], run / "probe" / model,
                                lambda target, mo=model: _probe(recipe, mo, target)))
        if recipe.eval is not None:
            stages.append(Stage(f"eval-{model}", {"eval": recipe.eval, "mode": "few-shot", "seed": recipe.seed},
                                [source, *_eval_inputs(recipe.eval)], run / "eval" / model / "few-shot",
                                lambda target, mo=model: _evaluate(recipe, recipe.model_path(mo), "few-shot", target)))
    if recipe.rl is not None:
        rl_inputs = [("rl.prompts", recipe.rl.prompts)]
        if recipe.rl.eval:
            rl_inputs += [(f"rl.eval.files.{k}", v) for k, v in recipe.rl.eval.files.items()]
            rl_inputs += _benchmark_inputs("rl.eval", recipe.rl.eval.benchmarks, recipe.rl.eval.data_dir)
        for model in recipe.rl_from:
            stages.append(Stage(f"rl-{model}", recipe.rl.model_dump(exclude={"out"}),
                                [("rl_from", str(recipe.model_path(model))), *rl_inputs], run / f"rl-{model}",
                                lambda target, mo=model: _rl(recipe, mo, target)))
        if recipe.eval is not None:
            for model in recipe.rl_from:
                stages.append(Stage(f"eval-rl-{model}", {"eval": recipe.eval, "mode": "zero-shot",
                                                         "template": recipe.rl.template, "seed": recipe.seed},
                                    [("rl_from", str(run / f"rl-{model}" / "final")), *_eval_inputs(recipe.eval)],
                                    run / "eval" / f"rl-{model}" / "zero-shot",
                                    lambda target, mo=model: _evaluate(recipe, run / f"rl-{mo}" / "final", "zero-shot",
                                                                      target)))
    made = [(s.name, str(s.output)) for s in stages]
    stages.append(Stage("report", {}, [(f"stage {n}", o) for n, o in made], run / "report", lambda target: _report(run, target)))
    _link(stages)
    return stages


def _is_path(spec: str) -> bool:
    from octothinker.tasks.benchmarks import BENCHMARKS

    return spec not in BENCHMARKS and "=" not in spec


def _benchmark_inputs(key: str, names: list[str], data_dir: str | None) -> list[tuple[str, str]]:
    """The files behind benchmark names (checked against the registry here, before any stage runs)."""
    from octothinker.tasks.benchmarks import benchmark_path

    inputs = []
    for name in names:
        try:
            path = benchmark_path(name, data_dir)
        except OctoError as err:
            raise RecipeError(f"{key}: {err}") from None
        if path is None:
            raise RecipeError(f"{key}: benchmark {name!r} needs a data_dir (the folder of <name>/test.jsonl files)")
        inputs.append((f"{key}.benchmarks.{name.split('=')[0]}", str(path)))
    return inputs


def _eval_inputs(e: EvalPlan) -> list[tuple[str, str]]:
    return _benchmark_inputs("eval", e.benchmarks, e.data_dir)


def _within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _root(spec: str) -> Path:
    """The fixed part of a path or glob ("runs/demo/world/web/*.jsonl" -> runs/demo/world/web/)."""
    return Path(spec.split("*")[0].split("?")[0].split("[")[0] or ".")


def _link(stages: list[Stage]) -> None:
    """Each stage depends on the earlier stages whose folders hold something it reads."""
    for i, stage in enumerate(stages):
        for _, spec in stage.inputs:
            for earlier in stages[:i]:
                if _within(_root(spec), earlier.output) and earlier.name not in stage.depends:
                    stage.depends.append(earlier.name)


def _external_paths(spec: str) -> list[Path]:
    paths = [Path(p) for p in sorted(glob.glob(spec))] if any(c in spec for c in "*?[") else [Path(spec)]
    files = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file())[:10_000]
        elif path.exists():
            files.append(path)
    return files


def fingerprint(stage: Stage, made: dict[str, str], stages: list[Stage]) -> str:
    """Hash of the stage's settings, the fingerprints (`made`) of the stages it reads, and the size and time
    of every outside file it reads (so an edited corpus or a replaced base model re-runs it)."""
    outside = []
    for _, spec in stage.inputs:
        if not any(_within(_root(spec), s.output) for s in stages):
            outside += [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in _external_paths(spec)]
    payload = json.dumps({"settings": _dump(stage.settings), "depends": [made[d] for d in sorted(stage.depends)],
                          "outside": outside}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def preflight(recipe: StudyRecipe, stages: list[Stage], where: str) -> None:
    """Everything checkable before hours of compute: every input exists or an earlier stage makes it, and
    no stage folder is the run folder, holds another stage's folder, or holds an outside input."""
    run = Path(recipe.out).resolve()
    for i, stage in enumerate(stages):
        out = stage.output.resolve()
        if out == run or _within(run, out):
            raise RecipeError(f"{where}: stage {stage.name} would make {stage.output}, which holds the whole run folder")
        for other in stages[:i]:
            if _within(other.output, out) or _within(out, other.output):
                raise RecipeError(f"{where}: stages {other.name} and {stage.name} share the folder {stage.output}")
    for i, stage in enumerate(stages):
        for key, spec in stage.inputs:
            if spec.startswith(HUB_PREFIX):  # a hub model or dataset: read when the stage runs
                continue
            root = _root(spec)
            maker = next((s for s in stages[:i] if _within(root, s.output)), None)
            if maker is not None:
                continue
            if any(_within(root, s.output) for s in stages[i:]):
                raise RecipeError(f"{where}: {key}: {spec} is made by a later stage than {stage.name}")
            if not _external_paths(spec) and not Path(spec).exists():
                raise RecipeError(f"{where}: {key}: {spec} does not exist, and no stage of this study makes it")


def _pretrain(recipe: StudyRecipe, target: Path) -> None:
    from octothinker.midtrain.schedule import Schedule
    from octothinker.midtrain.stages import fresh_model
    from octothinker.midtrain.trainer import StageRun, train_stage

    p, train = recipe.pretrain, recipe.midtrain.train
    init = fresh_model(target / "init", p.size, p.data, recipe.seed)
    steps = p.tokens // train.global_batch_tokens
    warmup = min(p.warmup_tokens // train.global_batch_tokens, steps)
    decay = steps - warmup if p.final_lr < p.lr else 0
    train_stage(StageRun(name="base", data=p.data, init=str(init), tokens=p.tokens, out=str(target), train=train,
                         schedule=Schedule(peak_lr=p.lr, warmup_steps=warmup, stable_steps=steps - warmup - decay,
                                           decay_steps=decay, final_lr=p.final_lr, shape="cosine")))


def _probe_rl_settings(recipe: StudyRecipe) -> dict:
    """The RL settings the probe imitates: its template and sampling temperature."""
    rl = recipe.rl or RLConfig.model_construct()
    return {"template": rl.template if recipe.rl else RLConfig.model_fields["template"].default,
            "temperature": rl.temperature if recipe.rl else RLConfig.model_fields["temperature"].default}


def _probe(recipe: StudyRecipe, model: str, target: Path) -> None:
    from octothinker.probe import probe

    p, rl = recipe.probe, _probe_rl_settings(recipe)
    probe(str(recipe.model_path(model)), p.prompts, p.data_dir, p.k, p.limit, rl["template"], rl["temperature"],
          p.max_new_tokens, recipe.seed, out=str(target / "probe.json"))


def _evaluate(recipe: StudyRecipe, model: Path, mode: str, target: Path) -> None:
    from octothinker.eval.runner import EvalConfig, evaluate

    e = recipe.eval
    template = recipe.rl.template if recipe.rl else EvalConfig.model_fields["template"].default
    evaluate(EvalConfig(model=str(model), benchmarks=e.benchmarks, data_dir=e.data_dir, mode=mode, template=template,
                        limit=e.limit, max_new_tokens=e.max_new_tokens, out=str(target), backend="auto",
                        seed=recipe.seed))


def _rl(recipe: StudyRecipe, model: str, target: Path) -> None:
    from octothinker.rl.trainer import train

    train(recipe.rl.model_copy(update={"out": str(target)}), str(recipe.model_path(model)))


def _report(run: Path, target: Path) -> None:
    from octothinker.report.page import write_report

    write_report(run, target)


def _read_marker(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MARKER).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _staging(stage: Stage, key: str, made_before: bool) -> Path:
    """The folder the stage runs in: an unfinished attempt with the same fingerprint is resumed; one with
    another fingerprint (other settings) is discarded. Only folders carrying our marker are removed, and
    an existing output folder must carry it too, or be recorded as this stage's in the manifest
    (`made_before`)."""
    staging = stage.output.with_name(stage.output.name + ".staging")
    if staging.exists():
        marker = _read_marker(staging)
        if marker is None:
            raise OctoError(f"{staging}: exists and was not made by octo run; move it away")
        if marker.get("fingerprint") != key:
            shutil.rmtree(staging)
    if stage.output.exists() and _read_marker(stage.output) is None and not made_before:
        raise OctoError(f"{stage.output}: exists and was not made by this study (no {MARKER}); move it away or "
                        "choose another out")
    staging.mkdir(parents=True, exist_ok=True)
    atomic_write_json(staging / MARKER, {"stage": stage.name, "fingerprint": key, "status": "running"})
    return staging


def load_study(path: str | Path, overrides: list[str] | None = None, section: str | None = None) -> StudyRecipe:
    """A study recipe, validated whole; overrides apply to `section` when one is named."""
    from octothinker.recipe import read_recipe, validate

    return validate(read_recipe(path, overrides, section), StudyRecipe, str(path))


def is_study(path: str | Path) -> bool:
    """A study recipe has study sections; a stage's own recipe file (data, midtrain, RL) has none."""
    from octothinker.recipe import load_yaml

    return bool({"world", "data", "pretrain", "midtrain", "rl", "rl_from", "probe"} & set(load_yaml(path)))


def run_study(recipe: StudyRecipe, log: Callable[[str], None] = print, where: str = "recipe") -> dict:
    stages = plan(recipe)
    preflight(recipe, stages, where)
    run = ensure_writable(recipe.out)
    manifest_path = run / "manifest.json"
    old = json.loads(manifest_path.read_text()).get("stages", {}) if manifest_path.exists() else {}
    # Every stage's last known state: one not reached (a failure came first) keeps its entry.
    manifest = {"recipe": recipe.model_dump(), **run_metadata(recipe.seed), "stages": dict(old)}
    made: dict[str, str] = {}
    for stage in stages:
        recover_dir(stage.output)
        key = made[stage.name] = fingerprint(stage, made, stages)
        marker = _read_marker(stage.output)
        if marker and marker.get("fingerprint") == key and marker.get("status") == "done":
            before = old.get(stage.name, {})
            manifest["stages"][stage.name] = before if before.get("fingerprint") == key and before.get("status") == "done" \
                else {"fingerprint": key, "status": "done", "output": str(stage.output), "depends": stage.depends}
            log(f"[skip] {stage.name} (finished, nothing it depends on changed)")
            continue
        staging = _staging(stage, key, made_before=old.get(stage.name, {}).get("output") == str(stage.output))
        manifest["stages"][stage.name] = {"fingerprint": key, "status": "running", "started": time.time(),
                                          "output": str(stage.output), "depends": stage.depends}
        atomic_write_json(manifest_path, manifest)
        log(f"[run ] {stage.name}")
        start = time.perf_counter()
        try:
            stage.build(staging)
        except BaseException:
            manifest["stages"][stage.name]["status"] = "failed"
            atomic_write_json(manifest_path, manifest)
            raise
        atomic_write_json(staging / MARKER, {"stage": stage.name, "fingerprint": key, "status": "done"})
        replace_dir(staging, stage.output)
        manifest["stages"][stage.name].update(status="done", seconds=round(time.perf_counter() - start, 1))
        atomic_write_json(manifest_path, manifest)
        log(f"[done] {stage.name} in {manifest['stages'][stage.name]['seconds']} s")
    atomic_write_json(manifest_path, manifest)
    return manifest
