"""Lines of models (the main line, each arm's) and the models RL starts from (subjects): what each is
made from and which folder of the layout it lands in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from octothinker.midtrain.config import MidtrainRecipe, PretrainSpec
from octothinker.runs.engine import dump
from octothinker.study.layout import StudyLayout


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
        return StudyLayout.model_folder(self.root, model)

    def path(self, model: str) -> Path:
        if model == "base" and self.pretrain is None and self.midtrain is not None and isinstance(self.midtrain.base, str):
            return Path(self.midtrain.base)
        return StudyLayout.final(self.folder(model))


@dataclass
class Subject:
    """A model RL starts from (or, `eval_from`, only evaluated), of one seed, and the folders of its probe,
    evaluations and RL run."""
    key: str                             # "short", or "<arm>/short"
    seed: int
    model: Path
    root: Path                           # the seed's root, or the arm's root in it

    @property
    def name(self) -> str:
        """The model's name within its line: "short" for "<arm>/short"."""
        return self.key.rpartition("/")[2]

    @property
    def rl(self) -> Path:
        return StudyLayout.rl(self.root, self.name)

    @property
    def probe(self) -> Path:
        return StudyLayout.probe(self.root, self.name)

    @property
    def evals(self) -> Path:
        return StudyLayout.evals(self.root)

    def evaluation(self, mode: str, after_rl: bool = False) -> Path:
        return StudyLayout.evaluation(self.evals, self.name, mode, after_rl)

    def stage(self, layout: StudyLayout, kind: str, mode: str | None = None) -> str:
        """The name of this subject's `kind` of stage (probe, eval, rl, eval-rl)."""
        arm = self.key.rpartition("/")[0]
        return layout.stage_name(kind, self.name, layout.stage_prefix(self.seed) + (f"{arm}/" if arm else ""), mode)
