"""The study recipe, typed: its sections, its models (made or given), its arms and seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from octothinker.data.config import DataRecipe
from octothinker.data.synthetic import WorldSize
from octothinker.errors import Strict, check_names
from octothinker.eval.config import ProbeSampling
from octothinker.midtrain.config import MidtrainRecipe, PretrainSpec
from octothinker.recipe import merge
from octothinker.rl.config import RLConfig
from octothinker.study.layout import ArmInfo, EvalPaths, RunLayout, StudyLayout, SubjectPaths
from octothinker.study.lines import Line, Subject
from octothinker.tasks.scoring import DEFAULT_CUTOFF, CutoffRule


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


class ArmSpec(ArmInfo):
    """A variant of the main mid-training recipe that tests one finding of the study against a model of
    the main line (`compare`): the arm's stages are made only where its settings differ from the main
    line's, the rest is shared. What the report needs of it is its `ArmInfo` (claim, compare, models,
    value, compare_value), declared there once; an arm adds what makes its models."""
    compare: str = "short"                      # the model it is measured against: the main line's, or an arm's (arm/model)
    pretrain: dict | None = None                # merged into `pretrain`: the arm has a base of its own
    midtrain: dict | None = None                # merged into `midtrain`


def _fill_defaults(data: dict) -> dict:
    """Study-level defaults for the sections: their folders under `out`, the top-level seed and `strict`."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    out, seed, strict = data.get("out"), data.get("seed", 0), data.get("strict", False)
    layout = StudyLayout.of(str(out), None)
    for name, section in (data.get("data") or {}).items():
        if isinstance(section, dict):
            data["data"][name] = {"name": name, "out": str(layout.data(name)), "seed": seed, "strict": strict, **section}
    midtrain = data.get("midtrain")
    if isinstance(midtrain, dict):
        midtrain = {"out": out, **midtrain}
        if "base" not in midtrain and data.get("pretrain") is not None:
            midtrain["base"] = str(layout.final(layout.model_folder(layout.run, "base")))
        if isinstance(midtrain.get("train", {}), dict):
            midtrain["train"] = {"seed": seed, **midtrain.get("train", {})}
        data["midtrain"] = midtrain
    if isinstance(data.get("rl"), dict):
        data["rl"] = {"seed": seed, "strict": strict, **data["rl"]}
        if data.get("release_dir"):
            data["rl"] = {"release_dir": data["release_dir"], **data["rl"]}
    if isinstance(data.get("rl_per_model"), dict):  # `model: null` drops what a recipe it extends set
        data["rl_per_model"] = {k: v for k, v in data["rl_per_model"].items() if v is not None}
    return data


class StudyRecipe(Strict):
    name: str
    out: str
    seed: int = 0                               # every section's seed unless it sets its own
    strict: bool = False                        # every section's: a loss over its limit stops the stage (runs.losses)
    seeds: list[int] | None = None              # run the seed-sensitive stages once per seed, in seed-<s>/
    per_seed: Literal["training", "rl"] = "training"  # with `seeds`: which stages run per seed (rl: RL, probe, eval)
    threads: int | None = Field(None, ge=1)     # torch threads: results are bit-exact only at one count
    jobs: int = Field(1, ge=1)                  # stages at once (within `threads`), see planning.stage_threads
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
    # a checkout of GAIR-NLP/OctoThinker: RL's `release:` templates are read from it, and few-shot
    # evaluation runs the release's own harness (tasks.release), so the numbers stand beside the paper's
    release_dir: str | None = None
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
            if arm.claim == "qa-share" and (arm.value is None or arm.compare_value is None):
                raise ValueError(f"arms.{name}: a qa-share arm needs `value` and `compare_value` (its share and the "
                                 "main line's)")
            if arm.compare not in known and arm.compare not in keys:
                raise ValueError(f"arms.{name}.compare: {arm.compare!r} is not a model of this study, nor of an arm")
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

    def layout(self) -> StudyLayout:
        return StudyLayout.of(self.out, self.seeds)

    def training_seeds(self) -> list[int]:
        """The seeds models are trained with: every seed, or (`per_seed: rl`) the top-level one."""
        return self.seed_list() if self.per_seed == "training" else [self.seed]

    def models(self) -> list[str]:
        """The models this study makes (base, stable, every decay branch) or is given."""
        return [*Line("", Path(self.out), self.pretrain, self.midtrain).models(), *self.given]

    def main_line(self, seed: int, root: Path) -> Line:
        """The main line of models of one seed, made under `root`."""
        pretrain, midtrain = self.pretrain, self.midtrain
        if midtrain is not None:
            train = midtrain.train.model_copy(update={"seed": seed})
            base = str(StudyLayout.final(StudyLayout.model_folder(root, "base"))) if pretrain is not None else midtrain.base
            midtrain = midtrain.model_copy(update={"out": str(root), "train": train, "base": base})
        return Line("", root, pretrain, midtrain, seed)

    def arm_line(self, name: str, root: Path, seed: int | None = None) -> Line:
        """An arm's line: the main recipe with the arm's changes merged in, made under the arm's root."""
        arm, seed = self.arms[name], self.seed if seed is None else seed
        main, arm_root = self.main_line(seed, root), StudyLayout.arm_root(root, name)
        pretrain = main.pretrain
        if arm.pretrain is not None:
            pretrain = PretrainSpec.model_validate(merge(main.pretrain.model_dump() if main.pretrain else {}, arm.pretrain))
        midtrain = main.midtrain
        if main.midtrain is not None:
            merged = merge(main.midtrain.model_dump(), arm.midtrain or {})
            if arm.pretrain is not None:
                merged["base"] = str(StudyLayout.final(StudyLayout.model_folder(arm_root, "base")))
            midtrain = type(main.midtrain).model_validate(merged)
        return Line(f"{name}/", arm_root, pretrain, midtrain, seed, shared=main)

    def lines(self, seed: int) -> tuple[Line, dict[str, Line]]:
        """The main line and every arm's line that the models of `seed` come from: trained per seed, or
        once (with the top-level seed, in the run folder) when only RL and evaluation run per seed."""
        layout = self.layout()
        if self.per_seed == "training":
            root, train_seed = layout.seed_root(seed), seed
        else:
            root, train_seed = layout.run, self.seed
        return self.main_line(train_seed, root), {name: self.arm_line(name, root, train_seed) for name in self.arms}

    def _main_subjects(self, seed: int, models: list[str]) -> list[Subject]:
        main, _ = self.lines(seed)
        root = self.layout().seed_root(seed)
        return [Subject(model, seed, Path(self.given[model]) if model in self.given else main.path(model), root)
                for model in models]

    def subjects(self) -> list[Subject]:
        """The models RL starts from, of every seed: the main line's, then each arm's."""
        out = []
        for seed in self.seed_list():
            _, arms = self.lines(seed)
            out += self._main_subjects(seed, self.rl_from)
            for name, arm in self.arms.items():
                root = StudyLayout.arm_root(self.layout().seed_root(seed), name)
                out += [Subject(f"{name}/{model}", seed, arms[name].path(model), root) for model in arm.models]
        return out

    def evaluated_only(self) -> list[Subject]:
        """The models of `eval_from`, per seed: evaluated before RL beside the others, no RL of their own."""
        return [s for seed in self.seed_list() for s in self._main_subjects(seed, self.eval_from)]

    def branches(self) -> list[str]:
        """The models compared with the base as mid-trained branches (finding (a)): the decay branches, or in
        a study of given models (the released bases), those RL starts from but the base and the Qwen arm."""
        if self.midtrain and self.midtrain.decay:
            return list(self.midtrain.decay.branches)
        return [m for m in self.rl_from if m in self.given and m not in ("base", self.qwen)]

    def recorded_layout(self) -> RunLayout:
        """Where each seed's models and results are, relative to the run folder: what `octo report` reads."""
        first_line, _ = self.lines(self.training_seeds()[0])
        subjects = self.subjects()
        evaluations = []
        if self.eval is not None:
            first = self.seed_list()[0]
            for s, with_rl in [*((s, self.rl_for(s.key) is not None) for s in subjects),
                               *((s, False) for s in self.evaluated_only())]:
                if s.seed == first:
                    evaluations += [EvalPaths(label=StudyLayout.eval_label(s.key), mode=mode, folder=str(s.evaluation(mode)))
                                    for mode in self.eval.before_rl]
                    evaluations += [EvalPaths(label=StudyLayout.eval_label(s.key, after_rl=True), mode="zero-shot",
                                              folder=str(s.evaluation("zero-shot", after_rl=True)))] if with_rl else []
        return RunLayout(
            seeds=self.seed_list(), per_seed=self.per_seed,
            subjects=[SubjectPaths(key=s.key, seed=s.seed, model=str(s.model), rl=str(s.rl),
                                   probe=str(StudyLayout.probe_report(s.probe)), evals=str(s.evals))
                      for s in subjects],
            evaluations=evaluations,
            arms={name: ArmInfo.model_validate(arm.model_dump(include=set(ArmInfo.model_fields)))
                  for name, arm in self.arms.items()},
            branches=self.branches(), qwen=self.qwen, models_root=str(first_line.root)).relative_to(self.out)


def load_study(path: str | Path, overrides: list[str] | None = None, section: str | None = None) -> StudyRecipe:
    """A study recipe, validated whole; overrides apply to `section` when one is named."""
    from octothinker.recipe import read_recipe, validate

    return validate(read_recipe(path, overrides, section), StudyRecipe, str(path))


def is_study(path: str | Path) -> bool:
    """A study recipe has study sections; a stage's own recipe file (data, midtrain, RL) has none."""
    from octothinker.recipe import load_yaml

    return bool({"world", "data", "pretrain", "midtrain", "rl", "rl_from", "probe"} & set(load_yaml(path)))
