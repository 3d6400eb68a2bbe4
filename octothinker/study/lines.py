"""Where a study's models come from and land: lines of models (the main line, each arm's), the models RL
starts from (subjects) and the run folder's layout the report reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from octothinker.midtrain.stages import MidtrainRecipe
from octothinker.report.layout import ArmInfo, RunLayout, SubjectPaths
from octothinker.stages import dump

if TYPE_CHECKING:
    from octothinker.study.recipe import PretrainSpec, StudyRecipe


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
    first_line, _ = lines_of(recipe, training_seeds(recipe)[0])
    return RunLayout(
        seeds=recipe.seed_list(), per_seed=recipe.per_seed,
        subjects=[SubjectPaths(key=s.key, seed=s.seed, model=str(s.model), rl=str(s.rl),
                               probe=str(s.probe / "probe.json"), evals=str(s.evals)) for s in subjects(recipe)],
        arms={name: ArmInfo(claim=arm.claim, compare=arm.compare, models=arm.models, value=arm.value,
                              compare_value=arm.compare_value) for name, arm in recipe.arms.items()},
        branches=branches(recipe), qwen=recipe.qwen, models_root=str(first_line.root)).relative_to(recipe.out)


def branches(recipe: StudyRecipe) -> list[str]:
    """The models compared with the base as mid-trained branches (finding (a)): the decay branches, or in a
    study of given models (the released bases), those RL starts from but the base and the Qwen arm."""
    if recipe.midtrain and recipe.midtrain.decay:
        return list(recipe.midtrain.decay.branches)
    return [m for m in recipe.rl_from if m in recipe.given and m not in ("base", recipe.qwen)]


def seed_root(recipe: StudyRecipe, seed: int) -> Path:
    return Path(recipe.out) / f"seed-{seed}" if recipe.seeds else Path(recipe.out)


def training_seeds(recipe: StudyRecipe) -> list[int]:
    return recipe.seed_list() if recipe.per_seed == "training" else [recipe.seed]


def lines_of(recipe: StudyRecipe, seed: int) -> tuple[Line, dict[str, Line]]:
    """The main line and every arm's line that the models of `seed` come from: trained per seed, or
    once (with the top-level seed, in the run folder) when only RL and evaluation run per seed."""
    if recipe.per_seed == "training":
        root, train_seed = seed_root(recipe, seed), seed
    else:
        root, train_seed = Path(recipe.out), recipe.seed
    return recipe.main_line(train_seed, root), {name: recipe.arm_line(name, root, train_seed) for name in recipe.arms}


def main_subjects(recipe: StudyRecipe, seed: int, models: list[str]) -> list[Subject]:
    """`models` of the main line of `seed`, with their folders under the seed's root."""
    root, (main, _) = seed_root(recipe, seed), lines_of(recipe, seed)
    return [Subject(model, seed, Path(recipe.given[model]) if model in recipe.given else main.path(model),
                    root / f"rl-{model}", root / "probe" / model, root / "eval")
            for model in models]


def evaluated_only(recipe: StudyRecipe) -> list[Subject]:
    """The models of `eval_from`, per seed: evaluated before RL beside the others, no RL of their own."""
    return [s for seed in recipe.seed_list() for s in main_subjects(recipe, seed, recipe.eval_from)]


def subjects(recipe: StudyRecipe) -> list[Subject]:
    out = []
    for seed in recipe.seed_list():
        root = seed_root(recipe, seed)
        _, arms = lines_of(recipe, seed)
        out += main_subjects(recipe, seed, recipe.rl_from)
        for name, arm in recipe.arms.items():
            for model in arm.models:
                where = root / "arms" / name
                out.append(Subject(f"{name}/{model}", seed, arms[name].path(model), where / f"rl-{model}",
                                   where / "probe" / model, where / "eval"))
    return out


def seed_prefix(recipe: StudyRecipe, seed: int) -> str:
    return f"seed-{seed}/" if recipe.seeds else ""
