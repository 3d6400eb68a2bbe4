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

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from octothinker.data.pipeline import DataRecipe
from octothinker.data.synthetic import WorldSize
from octothinker.errors import OctoError, check_names
from octothinker.midtrain.stages import FINAL_LR, MidtrainRecipe
from octothinker.midtrain.torchrun import LaunchSpec
from octothinker.probe import ProbeSampling
from octothinker.report.layout import ArmInfo, RunLayout, SubjectPaths
from octothinker.recipe import RecipeError, Strict, merge
from octothinker.rl.trainer import RLConfig
from octothinker.runs import run_metadata
from octothinker.stages import (Stage, Work, check_paths, dump, external_paths, fixed_root, link, run_stages,
                                within)
from octothinker.tasks.scoring import DEFAULT_CUTOFF, CutoffRule
from octothinker.tasks.templates import template_file

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
    cutoff: CutoffRule = DEFAULT_CUTOFF        # how an answer cut at max_new_tokens is graded (tasks.scoring)
    fewshot_file: str | None = None            # few-shot exemplars (JSONL of question/solution/answer): the official ones, say
    before_rl: list[Literal["few-shot", "zero-shot"]] = Field(default_factory=lambda: ["few-shot"])  # after RL: zero-shot


class ProbePlan(ProbeSampling):
    prompts: str                               # JSONL of question/answer, or a benchmark name
    data_dir: str | None = None


CLAIMS = ("quality", "budget", "instruct", "qwen")


class ArmSpec(Strict):
    """A variant of the main mid-training recipe that tests one finding of the study against a model of
    the main line (`compare`): the arm's stages are made only where its settings differ from the main
    line's, the rest is shared."""
    claim: Literal["quality", "budget", "instruct", "qwen"]
    compare: str = "short"                      # the main model it is measured against
    pretrain: dict | None = None                # merged into `pretrain`: the arm has a base of its own
    midtrain: dict | None = None                # merged into `midtrain`
    models: list[str]                           # the arm's models that RL starts from


def _fill_defaults(data: dict) -> dict:
    """Study-level defaults for the sections: their folders under `out`, and the top-level seed."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    out, seed = data.get("out"), data.get("seed", 0)
    for name, section in (data.get("data") or {}).items():
        if isinstance(section, dict):
            data["data"][name] = {"name": name, "out": f"{out}/data/{name}", "seed": seed, **section}
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
    if isinstance(data.get("rl_per_model"), dict):  # `model: null` drops what a recipe it extends set
        data["rl_per_model"] = {k: v for k, v in data["rl_per_model"].items() if v is not None}
    return data


class StudyRecipe(Strict):
    name: str
    out: str
    seed: int = 0                               # every section's seed unless it sets its own
    seeds: list[int] | None = None              # run the seed-sensitive stages once per seed, in seed-<s>/
    per_seed: Literal["training", "rl"] = "training"  # with `seeds`: which stages run per seed (rl: RL, probe, eval)
    threads: int | None = Field(None, ge=1)     # torch threads: results are bit-exact only at one count
    world: WorldSize | None = None
    data: dict[str, DataRecipe] = Field(default_factory=dict)
    pretrain: PretrainSpec | None = None
    midtrain: MidtrainRecipe | None = None
    given: dict[str, str] = Field(default_factory=dict)  # models it does not make: name -> folder or hf: id
    rl: RLConfig | None = None                  # one run per model of `rl_from`, each in rl-<model>/
    rl_from: list[str] = Field(default_factory=lambda: ["base", "short", "long", "hybrid"])
    rl_per_model: dict[str, dict] = Field(default_factory=dict)  # a model's (or arm/model's) changes to `rl`
    eval_from: list[str] = Field(default_factory=list)  # models evaluated before RL though RL does not start from them
    eval: EvalPlan | None = None
    probe: ProbePlan | None = None
    arms: dict[str, ArmSpec] = Field(default_factory=dict)
    reference: str | None = None                # the paper's RL curves the report draws yours over (report/reference.py)
    qwen: str | None = None                     # a model of `rl_from` that plays the paper's Qwen2.5 against `base` (g)

    _defaults = model_validator(mode="before")(_fill_defaults)

    @field_validator("reference")
    @classmethod
    def _known_reference(cls, reference):
        from octothinker.report.reference import resolve

        if reference is not None:
            resolve(reference)
        return reference

    @field_validator("data", "arms", "given")
    @classmethod
    def _safe_names(cls, named):
        return check_names(named, "section name")

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds):
        if seeds is not None and (not seeds or len(set(seeds)) != len(seeds)):
            raise ValueError("seeds: a list of distinct seeds")
        return seeds

    @model_validator(mode="after")
    def _models_exist(self):
        if self.pretrain is not None and self.midtrain is None:
            raise ValueError("`pretrain` needs the `midtrain` section's `train` settings")
        if self.rl is not None and self.rl.out is not None:
            raise ValueError("rl.out: a study runs RL once per model, into rl-<model>/; leave `out` unset")
        made = Line("", Path(self.out), self.pretrain, self.midtrain).models()
        for model in self.given:
            if model in made:
                raise ValueError(f"given.{model}: this study makes a model of that name; give it another")
        known = self.models()
        for model in self.rl_from:
            if model not in known:
                raise ValueError(f"rl_from: {model!r} is not a model of this study (it has: {', '.join(known) or 'none'})")
        if self.qwen is not None and (self.qwen not in self.rl_from or "base" not in self.rl_from):
            raise ValueError(f"qwen: {self.qwen!r} is compared with `base` under RL, so both must be in rl_from")
        for model in self.eval_from:
            if model not in known or model in self.rl_from:
                raise ValueError(f"eval_from: {model!r} is not a model of this study, or RL starts from it (and so "
                                 "it is evaluated already)")
            if self.eval is None:
                raise ValueError("eval_from: there is no `eval` section to evaluate with")
        keys = [*self.rl_from, *(f"{name}/{m}" for name, arm in self.arms.items() for m in arm.models)]
        for key in self.rl_per_model:
            if key not in keys:
                raise ValueError(f"rl_per_model.{key}: not a model RL starts from (they are: {', '.join(keys)})")
            if self.rl is None:
                raise ValueError(f"rl_per_model.{key}: there is no `rl` section to change")
            try:
                if self.rl_for(key).out is not None:
                    raise ValueError("out: a study runs RL once per model, into rl-<model>/; leave `out` unset")
            except ValidationError as err:
                first = err.errors()[0]
                raise ValueError(f"rl_per_model.{key}.{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
        for name, arm in self.arms.items():
            if arm.compare not in known:
                raise ValueError(f"arms.{name}.compare: {arm.compare!r} is not a model of this study")
            line = self.arm_line(name, Path(self.out))
            for model in arm.models:
                if model not in line.models():
                    raise ValueError(f"arms.{name}.models: {model!r} is not a model of this arm")
        return self

    def rl_for(self, key: str) -> RLConfig | None:
        """The RL settings of one model's run: `rl` with its `rl_per_model` changes. A changed setting
        replaces the shared one (the hybrid's `length_schedule: {0: 4096}` is the whole schedule); only the
        sections (`eval`, `reward`, `verl`, `logging`) merge key by key."""
        changes = self.rl_per_model.get(key)
        if self.rl is None or not changes:
            return self.rl
        merged = self.rl.model_dump()
        for name, value in changes.items():
            section = isinstance(getattr(self.rl, name, None), BaseModel) and isinstance(value, dict)
            merged[name] = merge(merged[name], value) if section else value
        return type(self.rl).model_validate(merged)

    def seed_list(self) -> list[int]:
        return self.seeds or [self.seed]

    def models(self) -> list[str]:
        """The models this study makes (base, stable, every decay branch) or is given."""
        return [*Line("", Path(self.out), self.pretrain, self.midtrain).models(), *self.given]

    def main_line(self, seed: int, root: Path) -> Line:
        """The main line of models of one seed, made under `root`."""
        pretrain, midtrain = self.pretrain, self.midtrain
        if midtrain is not None:
            train = midtrain.train.model_copy(update={"seed": seed})
            base = str(root / "base" / "final") if pretrain is not None else midtrain.base
            midtrain = midtrain.model_copy(update={"out": str(root), "train": train, "base": base})
        return Line("", root, pretrain, midtrain, seed)

    def arm_line(self, name: str, root: Path, seed: int | None = None) -> Line:
        """An arm's line: the main recipe with the arm's changes merged in, made under root/arms/<name>."""
        arm, seed = self.arms[name], self.seed if seed is None else seed
        main = self.main_line(seed, root)
        pretrain = main.pretrain
        if arm.pretrain is not None:
            pretrain = PretrainSpec.model_validate(merge(main.pretrain.model_dump() if main.pretrain else {}, arm.pretrain))
        midtrain = main.midtrain
        if main.midtrain is not None:
            merged = merge(main.midtrain.model_dump(), arm.midtrain or {})
            if arm.pretrain is not None:
                merged["base"] = str(root / "arms" / name / "base" / "final")
            midtrain = type(main.midtrain).model_validate(merged)
        return Line(f"{name}/", root / "arms" / name, pretrain, midtrain, seed, shared=main)


@dataclass
class Line:
    """One line of models (base -> stable -> decay branches), the stages that make it and where each
    model lands. An arm's line shares every stage whose settings equal the main line's (`shared`)."""
    prefix: str
    root: Path
    pretrain: PretrainSpec | None
    midtrain: MidtrainRecipe | None
    seed: int = 0
    shared: "Line | None" = None

    def models(self) -> list[str]:
        if self.midtrain is None:
            return ["base"] if self.pretrain is not None else []
        return ["base", "stable", *(self.midtrain.decay.branches if self.midtrain.decay else {})]

    def making(self, model: str) -> dict:
        """What `model` is made from: the whole sections that make it, less only what makes other models
        (the decay section, for the stable model) or says where and how it runs (`out`, `launch`). A field
        added to a section reaches every model it could change: the model's stage re-runs, and an arm no
        longer shares it."""
        m = self.midtrain
        if model == "base":
            return {"pretrain": self.pretrain, "train": m.train if m else None, "seed": self.seed}
        stable = {"midtrain": m.model_dump(exclude={"decay", "out", "launch"}),
                  "base": self.making("base") if self.pretrain is not None else None}
        if model == "stable":
            return stable
        return {"stable": stable, "decay": m.decay.model_dump(exclude={"branches"}), "branch": m.decay.branches[model]}

    def own(self, model: str) -> bool:
        """Does this line make `model` itself (what makes it differs from the shared line's)?"""
        s = self.shared
        return s is None or dump(self.making(model)) != dump(s.making(model))

    def folder(self, model: str) -> Path:
        """The stage folder that makes `model`."""
        if not self.own(model):
            return self.shared.folder(model)
        return self.root / ("base" if model == "base" else "stable" if model == "stable" else f"decay-{model}")

    def path(self, model: str) -> Path:
        if model == "base" and self.pretrain is None and self.midtrain is not None and isinstance(self.midtrain.base, str):
            return Path(self.midtrain.base)
        return self.folder(model) / "final"


@dataclass
class Subject:
    """A model RL starts from, and the folders of its probe, evaluations and RL run."""
    key: str                             # "short", or "<arm>/short"
    seed: int
    model: Path
    rl: Path
    probe: Path
    evals: Path                          # eval/<model>/<mode>/ below it


def layout(recipe: StudyRecipe) -> RunLayout:
    """Where each seed's models and results are, relative to the run folder: what `octo report` reads."""
    first_line, _ = _lines(recipe, _training_seeds(recipe)[0])
    return RunLayout(
        seeds=recipe.seed_list(), per_seed=recipe.per_seed,
        subjects=[SubjectPaths(key=s.key, seed=s.seed, model=str(s.model), rl=str(s.rl),
                               probe=str(s.probe / "probe.json"), evals=str(s.evals)) for s in subjects(recipe)],
        arms={name: ArmInfo(claim=arm.claim, compare=arm.compare, models=arm.models) for name, arm in recipe.arms.items()},
        branches=branches(recipe), qwen=recipe.qwen, models_root=str(first_line.root)).relative_to(recipe.out)


def branches(recipe: StudyRecipe) -> list[str]:
    """The models compared with the base as mid-trained branches (finding (a)): the decay branches, or in a
    study of given models (the released bases), those RL starts from but the base and the Qwen arm."""
    if recipe.midtrain and recipe.midtrain.decay:
        return list(recipe.midtrain.decay.branches)
    return [m for m in recipe.rl_from if m in recipe.given and m not in ("base", recipe.qwen)]


def _seed_root(recipe: StudyRecipe, seed: int) -> Path:
    return Path(recipe.out) / f"seed-{seed}" if recipe.seeds else Path(recipe.out)


def _training_seeds(recipe: StudyRecipe) -> list[int]:
    return recipe.seed_list() if recipe.per_seed == "training" else [recipe.seed]


def _lines(recipe: StudyRecipe, seed: int) -> tuple[Line, dict[str, Line]]:
    """The main line and every arm's line that the models of `seed` come from: trained per seed, or
    once (with the top-level seed, in the run folder) when only RL and evaluation run per seed."""
    if recipe.per_seed == "training":
        root, train_seed = _seed_root(recipe, seed), seed
    else:
        root, train_seed = Path(recipe.out), recipe.seed
    return recipe.main_line(train_seed, root), {name: recipe.arm_line(name, root, train_seed) for name in recipe.arms}


def _main_subjects(recipe: StudyRecipe, seed: int, models: list[str]) -> list[Subject]:
    """`models` of the main line of `seed`, with their folders under the seed's root."""
    root, (main, _) = _seed_root(recipe, seed), _lines(recipe, seed)
    return [Subject(model, seed, Path(recipe.given[model]) if model in recipe.given else main.path(model),
                    root / f"rl-{model}", root / "probe" / model, root / "eval")
            for model in models]


def evaluated_only(recipe: StudyRecipe) -> list[Subject]:
    """The models of `eval_from`, per seed: evaluated before RL beside the others, no RL of their own."""
    return [s for seed in recipe.seed_list() for s in _main_subjects(recipe, seed, recipe.eval_from)]


def subjects(recipe: StudyRecipe) -> list[Subject]:
    out = []
    for seed in recipe.seed_list():
        root = _seed_root(recipe, seed)
        _, arms = _lines(recipe, seed)
        out += _main_subjects(recipe, seed, recipe.rl_from)
        for name, arm in recipe.arms.items():
            for model in arm.models:
                where = root / "arms" / name
                out.append(Subject(f"{name}/{model}", seed, arms[name].path(model), where / f"rl-{model}",
                                   where / "probe" / model, where / "eval"))
    return out


def _seed_prefix(recipe: StudyRecipe, seed: int) -> str:
    return f"seed-{seed}/" if recipe.seeds else ""


def _training_stages(recipe: StudyRecipe, line: Line, prefix: str, needed: set[str]) -> list[Stage]:
    """The stages that make the `needed` models of one line (and what they are made from)."""
    from octothinker.midtrain.stages import decay_run, stable_run

    stages = []
    m = line.midtrain
    wants_stable = bool(needed - {"base"})
    if line.own("base") and line.pretrain is not None and ("base" in needed or (wants_stable and line.own("stable"))):
        stages.append(Stage(f"{prefix}{line.prefix}base", line.making("base"),
                            [("pretrain.data", line.pretrain.data)], line.folder("base"),
                            lambda target, ln=line: _pretrain(ln, target),
                            work=Work(line.pretrain.size, f"{line.pretrain.tokens:,} tokens", line.pretrain.tokens)))
    if m is None:
        return stages
    if wants_stable and line.own("stable"):
        base = [("midtrain.base", m.base)] if isinstance(m.base, str) else []
        stages.append(Stage(f"{prefix}{line.prefix}stable", line.making("stable"),
                            [("midtrain.stable.data", m.stable.data), *base], line.folder("stable"),
                            lambda target, mt=m: _train(stable_run(mt, target), mt.launch, recipe.threads),
                            work=Work(_base_model(line), f"{m.stable.tokens:,} tokens", m.stable.tokens),
                            launch=_launched(m.launch)))
    for branch, spec in (m.decay.branches if m.decay else {}).items():
        if branch not in needed or not line.own(branch):
            continue
        stable_folder = line.folder("stable")
        mt = m.model_copy(update={"out": str(stable_folder.parent)})  # decay_run finds <out>/stable
        stages.append(Stage(f"{prefix}{line.prefix}decay-{branch}", line.making(branch),
                            [(f"midtrain.decay.branches.{branch}.data", spec.data), ("midtrain.stable", str(stable_folder))],
                            line.folder(branch),
                            lambda target, b=branch, mt=mt: _train(decay_run(mt, b, target), mt.launch, recipe.threads),
                            work=Work(_base_model(line), f"{m.decay.tokens:,} tokens", m.decay.tokens),
                            launch=_launched(m.launch)))
    return stages


def _launched(launch: LaunchSpec) -> LaunchSpec | None:
    return launch if launch.world_size > 1 else None


def _train(run, launch: LaunchSpec, threads: int | None) -> None:
    """One mid-training stage: in this process, or on `launch`'s ranks under torchrun."""
    from octothinker.midtrain.torchrun import run_launched
    from octothinker.midtrain.trainer import train_stage

    if _launched(launch):
        run_launched(run, launch, threads)
    else:
        train_stage(run)


def _base_model(line: Line) -> str:
    """What a line's mid-training starts from, as `Work.model` names it."""
    if line.pretrain is not None:
        return line.pretrain.size
    return line.midtrain.base if isinstance(line.midtrain.base, str) else line.midtrain.base.size


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
        # where and on how many tasks datatrove curates is how, not what: the shards do not depend on it
        how = {"out", "executor", "tasks", "workers", "cluster"}
        stages.append(Stage(f"data.{name}", data.model_dump(exclude=how), inputs, Path(data.out), build_data))

    for seed in _training_seeds(recipe):
        prefix = _seed_prefix(recipe, seed) if recipe.per_seed == "training" else ""
        main, arms = _lines(recipe, seed)
        needed = set(main.models()) if recipe.midtrain else set(recipe.rl_from) - set(recipe.given)
        stages += _training_stages(recipe, main, prefix, needed)
        for name, arm in recipe.arms.items():
            stages += _training_stages(recipe, arms[name], prefix, set(arm.models))

    for subject in subjects(recipe):
        stages += _subject_stages(recipe, subject)
    for subject in evaluated_only(recipe):
        stages += _subject_stages(recipe, subject, with_rl=False)
    made = [(s.name, str(s.output)) for s in stages]
    stages.append(Stage("report", {}, [(f"stage {n}", o) for n, o in made], run / "report",
                        lambda target: _report(recipe, target)))
    for stage in stages:  # results are bit-exact only at one thread count: every stage's fingerprint has it
        stage.context = {"threads": recipe.threads}
    link(stages)
    return stages


def _subject_stages(recipe: StudyRecipe, s: Subject, with_rl: bool = True) -> list[Stage]:
    """Probe, evaluations and RL of one model of one seed (without RL: its evaluations before RL only)."""
    name = f"{_seed_prefix(recipe, s.seed)}{s.key}"
    source = ("rl_from", str(s.model))
    rl = recipe.rl_for(s.key)
    prompt_file = template_file(_template(rl))
    prompt_files = [("rl.template", str(prompt_file))] if prompt_file else []
    seeded = {"seed": s.seed}
    stages = []
    if recipe.probe is not None and with_rl:
        p = recipe.probe
        prompts = _benchmark_inputs("probe.prompts", [p.prompts], p.data_dir) if not _is_path(p.prompts) \
            else [("probe.prompts", p.prompts)]
        stages.append(Stage(_stage_name(name, "probe"), {"probe": p, "rl": _probe_rl_settings(rl), **seeded},
                            [source, *prompts, *prompt_files], s.probe, lambda target, s=s: _probe(recipe, s, target),
                            work=Work(str(s.model), f"{p.limit} prompts x {p.k} samples",
                                      generated_tokens=p.limit * p.k * p.max_new_tokens)))
    if recipe.eval is not None:
        for mode in recipe.eval.before_rl:
            stages.append(Stage(_stage_name(name, "eval", mode), {"eval": recipe.eval, "mode": mode, **seeded,
                                                                  "template": _template(rl)},
                                [source, *_eval_inputs(recipe.eval), *prompt_files], s.evals / s.key.split("/")[-1] / mode,
                                lambda target, s=s, mode=mode: _evaluate(recipe, s, s.model, mode, target),
                                work=_eval_work(recipe.eval, str(s.model))))
    if rl is not None and with_rl:
        rl_inputs = [("rl.prompts", rl.prompts)]
        if rl.eval:
            rl_inputs += [(f"rl.eval.files.{k}", v) for k, v in rl.eval.files.items()]
            rl_inputs += _benchmark_inputs("rl.eval", rl.eval.benchmarks, rl.eval.data_dir)
        stages.append(Stage(_stage_name(name, "rl"), {"rl": rl, **seeded},
                            [source, *rl_inputs, *prompt_files], s.rl, lambda target, s=s: _rl(recipe, s, target),
                            work=_rl_work(rl, str(s.model)), **_rl_launch(rl)))
        if recipe.eval is not None:
            final = s.rl / "final"
            stages.append(Stage(_stage_name(name, "eval-rl"), {"eval": recipe.eval, "mode": "zero-shot", **seeded,
                                                               "template": _template(rl)},
                                [("rl_from", str(final)), *_eval_inputs(recipe.eval), *prompt_files],
                                s.evals / f"rl-{s.key.split('/')[-1]}" / "zero-shot",
                                lambda target, s=s: _evaluate(recipe, s, s.rl / "final", "zero-shot", target),
                                work=_eval_work(recipe.eval, str(s.model))))
    return stages


def _eval_work(e: EvalPlan, model: str) -> Work:
    problems = 0
    for _, path in _benchmark_inputs("eval", e.benchmarks, e.data_dir):
        try:
            with open(path, "rb") as f:
                count = sum(1 for line in f if line.strip())
        except OSError:  # not on this machine yet: the plan cannot price it
            return Work(model, f"{len(e.benchmarks)} benchmarks", generated_tokens=None)
        problems += min(count, e.limit or count)
    return Work(model, f"{problems:,} problems", generated_tokens=problems * e.max_new_tokens)


def _rl_launch(rl: RLConfig) -> dict:
    """verl's GPUs, for the plan and the Slurm job (verl starts its own workers on them)."""
    if rl.engine != "verl":
        return {}
    return {"launch": LaunchSpec(nproc_per_node=rl.verl.gpus_per_node, nnodes=rl.verl.nodes), "engine": "verl"}


def _rl_work(rl: RLConfig, model: str) -> Work:
    rollouts = rl.prompts_per_step * rl.group_size
    generated = rollouts * sum(rl.response_length(step) for step in range(rl.steps))
    evals = 0
    if rl.eval and rl.eval.every and rl.eval.limit:
        points = rl.steps // rl.eval.every + 1
        per_point = rl.eval.limit * max(len(rl.eval.tasks()), 1) * (rl.eval.samples + int(rl.eval.greedy))
        evals = points * per_point * (rl.eval.max_response_tokens or rl.response_length(rl.steps - 1))
    # trained: every response with its prompt, once an epoch (an upper bound, as for generation)
    trained = rl.epochs * (generated + rl.steps * rollouts * rl.max_prompt_tokens)
    stairs = "/".join(str(length) for _, length in sorted(rl.length_schedule.items())) or str(rl.max_response_tokens)
    removal = ", solved prompts removed" if rl.remove_solved else ""
    return Work(model, f"{rl.steps} steps x {rl.prompts_per_step} prompts x {rl.group_size}, responses to {stairs} "
                       f"tokens{removal}", trained, generated + evals)


def _stage_name(subject: str, kind: str, mode: str | None = None) -> str:
    """probe-short, eval-short (few-shot), eval-short-zero-shot, rl-short, eval-rl-short; arms and seeds
    keep their prefix: seed-1/unfiltered/rl-short."""
    head, _, model = subject.rpartition("/")
    name = f"{kind}-{model}" + (f"-{mode}" if mode and mode != "few-shot" else "")
    return f"{head}/{name}" if head else name


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
    exemplars = [("eval.fewshot_file", e.fewshot_file)] if e.fewshot_file else []
    return _benchmark_inputs("eval", e.benchmarks, e.data_dir) + exemplars


def preflight(recipe: StudyRecipe, stages: list[Stage], where: str) -> None:
    """Everything checkable before hours of compute (`stages.check_paths`), as recipe errors."""
    check_paths(stages, Path(recipe.out), where, RecipeError)


def check_data(recipe: StudyRecipe, stages: list[Stage], where: str, missing_ok: bool = False) -> None:
    """Before any stage runs (and for `--plan`, `missing_ok`: of the corpora already there): the first
    records of every source of every data section that no stage makes go through its format; most of
    them bad stops the run in one line naming section, source, file, record and field
    (`data.preview.check_sources`)."""
    from octothinker.data.preview import check_sources

    made = [s.output for s in stages if not s.name.startswith("data.")]
    outside = {}
    for name, section in recipe.data.items():
        sources = [src for src in section.sources if not any(within(fixed_root(src.path), m) for m in made)
                   and not (missing_ok and not external_paths(src.path))]
        if sources:
            outside[name] = section.model_copy(update={"sources": sources})
    check_sources(outside, where)


def _pretrain(line: Line, target: Path) -> None:
    from octothinker.midtrain.schedule import Schedule
    from octothinker.midtrain.stages import fresh_model
    from octothinker.midtrain.trainer import StageRun, train_stage

    p, train = line.pretrain, line.midtrain.train
    init = fresh_model(target / "init", p.size, p.data, line.seed)
    steps = p.tokens // train.global_batch_tokens
    warmup = min(p.warmup_tokens // train.global_batch_tokens, steps)
    decay = steps - warmup if p.final_lr < p.lr else 0
    train_stage(StageRun(name="base", data=p.data, init=str(init), tokens=p.tokens, out=str(target), train=train,
                         schedule=Schedule(peak_lr=p.lr, warmup_steps=warmup, stable_steps=steps - warmup - decay,
                                           decay_steps=decay, final_lr=p.final_lr, shape="cosine")))


def _template(rl: RLConfig | None) -> str:
    """The prompt a model is evaluated in zero-shot: the template of its RL run."""
    return rl.template if rl else RLConfig.model_fields["template"].default


def _probe_rl_settings(rl: RLConfig | None) -> dict:
    """The RL settings the probe imitates: its template and sampling temperature."""
    return {"template": _template(rl),
            "temperature": rl.temperature if rl else RLConfig.model_fields["temperature"].default}


def _probe(recipe: StudyRecipe, s: Subject, target: Path) -> None:
    from octothinker.probe import probe

    p, rl = recipe.probe, _probe_rl_settings(recipe.rl_for(s.key))
    probe(str(s.model), p.prompts, p.data_dir, ProbeSampling(**p.model_dump(exclude={"prompts", "data_dir"})),
          rl["template"], rl["temperature"], s.seed, out=str(target / "probe.json"))


def _evaluate(recipe: StudyRecipe, s: Subject, model: Path, mode: str, target: Path) -> None:
    from octothinker.eval.runner import EvalConfig, evaluate

    e = recipe.eval
    evaluate(EvalConfig(model=str(model), benchmarks=e.benchmarks, data_dir=e.data_dir, mode=mode,
                        template=_template(recipe.rl_for(s.key)), fewshot_file=e.fewshot_file, limit=e.limit,
                        max_new_tokens=e.max_new_tokens,
                        cutoff=e.cutoff, out=str(target), backend="auto", seed=s.seed))


def _rl(recipe: StudyRecipe, s: Subject, target: Path) -> None:
    from octothinker.rl import verl
    from octothinker.rl.trainer import train

    cfg = recipe.rl_for(s.key).model_copy(update={"out": str(target), "seed": s.seed})
    if cfg.engine == "verl":
        verl.launch(cfg, str(s.model))
    else:
        train(cfg, str(s.model))


def _report(recipe: StudyRecipe, target: Path) -> None:
    from octothinker.report.page import write_report

    write_report(recipe.out, target)


def load_study(path: str | Path, overrides: list[str] | None = None, section: str | None = None) -> StudyRecipe:
    """A study recipe, validated whole; overrides apply to `section` when one is named."""
    from octothinker.recipe import read_recipe, validate

    return validate(read_recipe(path, overrides, section), StudyRecipe, str(path))


def is_study(path: str | Path) -> bool:
    """A study recipe has study sections; a stage's own recipe file (data, midtrain, RL) has none."""
    from octothinker.recipe import load_yaml

    return bool({"world", "data", "pretrain", "midtrain", "rl", "rl_from", "probe"} & set(load_yaml(path)))


def run_study(recipe: StudyRecipe, log: Callable[[str], None] = print, where: str = "recipe",
              only: str | None = None) -> dict:
    """Every stage in order, skipping the finished ones; with `only`, that one stage, once every stage it
    reads is finished (how a scheduler runs a study: one job a stage, see `launch.emit_slurm`)."""
    stages = plan(recipe)
    if only is not None and only not in {s.name for s in stages}:
        raise RecipeError(f"{where}: no stage {only!r}; `octo run {where} --plan` lists them")
    preflight(recipe, stages, where)
    check_data(recipe, stages, where)
    if recipe.threads:
        import torch

        torch.set_num_threads(recipe.threads)
    head = {"recipe": recipe.model_dump(), **run_metadata(recipe.seed), "layout": layout(recipe).model_dump()}
    return run_stages(stages, recipe.out, head, log, only)
