"""Where a study's stages, models and results lie in its run folder: the one module that names a run's
folders or reads their names.

`StudyLayout` is derived from the recipe before anything else (the plan, the stages, the CLI read their
paths from it); `RunLayout` is the part the report needs, recorded in manifest.json by `octo run` and read
back through `read_layout`, so a moved or copied run reads the same and the report never guesses a path.

    <out>/world/  data/<name>/  report/  manifest.json
    <out>[/seed-<s>]/                       one root per seed when a recipe names `seeds`
        base/  stable/  decay-<branch>/     a line of models, each folder's model in final/
        rl-<model>/  probe/<model>/probe.json
        eval/<model>/<mode>/  eval/rl-<model>/zero-shot/
        arms/<arm>/...                      an arm's line and results, laid out alike
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from octothinker.errors import Strict
from octothinker.runs.engine import MANIFEST
from octothinker.runs.files import HUB_PREFIX, in_run

FINAL = "final"            # a stage's finished model (an HF folder) inside its folder
SEED_PREFIX = "seed-"
RL_PREFIX = "rl-"
DECAY_PREFIX = "decay-"

# The findings an arm can test (`ArmSpec.claim`), each judged by `report.findings`.
Claim = Literal["qa", "template", "schedule", "qa-share", "quality", "budget", "instruct", "instruct-frame", "qwen"]


def midtrain_folders(out: Path, branches) -> tuple[Path, dict[str, Path]]:
    """Where a line of mid-training under `out` writes its stable stage and each decay branch."""
    return out / "stable", {b: out / f"{DECAY_PREFIX}{b}" for b in branches}


@dataclass(frozen=True)
class StudyLayout:
    """Every folder of one study, from its recipe's `out` and `seeds`."""
    run: Path
    seeds: tuple[int, ...] | None = None       # a root per seed (seed-<s>/), or one root: the run folder

    @classmethod
    def of(cls, out: str | Path, seeds: list[int] | None) -> StudyLayout:
        return cls(Path(out), tuple(seeds) if seeds else None)

    @property
    def world(self) -> Path:
        return self.run / "world"

    @property
    def report(self) -> Path:
        return self.run / "report"

    @property
    def slurm(self) -> Path:
        """`octo run --emit slurm`'s scripts and their logs."""
        return self.run / "slurm"

    @property
    def manifest(self) -> Path:
        return self.run / MANIFEST

    def data(self, name: str) -> Path:
        return self.run / "data" / name

    def seed_root(self, seed: int | None) -> Path:
        """The folder of one seed's stages; `None`: the run folder (what is made once for every seed)."""
        return self.run / f"{SEED_PREFIX}{seed}" if self.seeds and seed is not None else self.run

    def stage_prefix(self, seed: int | None) -> str:
        return f"{SEED_PREFIX}{seed}/" if self.seeds and seed is not None else ""

    @staticmethod
    def arm_root(root: Path, arm: str) -> Path:
        return root / "arms" / arm

    @staticmethod
    def model_folder(root: Path, model: str) -> Path:
        """The stage folder of a line's `model` under the line's root: base, stable or a decay branch."""
        return root / (model if model in ("base", "stable") else f"{DECAY_PREFIX}{model}")

    @staticmethod
    def final(folder: Path) -> Path:
        return folder / FINAL

    @staticmethod
    def rl(root: Path, model: str) -> Path:
        return root / f"{RL_PREFIX}{model}"

    @staticmethod
    def probe(root: Path, model: str) -> Path:
        return root / "probe" / model

    @staticmethod
    def probe_report(folder: Path) -> Path:
        """The probe's report (`eval.records.ProbeReport`) in its stage folder."""
        return folder / "probe.json"

    @staticmethod
    def evals(root: Path) -> Path:
        return root / "eval"

    @staticmethod
    def evaluation(evals: Path, model: str, mode: str, after_rl: bool = False) -> Path:
        """One evaluation's folder: a model before RL in `mode`, or the model RL made from it."""
        return evals / (f"{RL_PREFIX}{model}" if after_rl else model) / mode

    @staticmethod
    def eval_label(key: str, after_rl: bool = False) -> str:
        """How the report names an evaluation of a subject ("short", "<arm>/short"), or of the model RL made
        from it ("rl-short", "<arm>/rl-short")."""
        arm, _, model = key.rpartition("/")
        name = f"{RL_PREFIX}{model}" if after_rl else model
        return f"{arm}/{name}" if arm else name

    @staticmethod
    def stage_name(kind: str, model: str, prefix: str = "", mode: str | None = None) -> str:
        """probe-short, eval-short (few-shot), eval-short-zero-shot, rl-short, eval-rl-short; a stage of a seed
        or an arm keeps its prefix: seed-1/unfiltered/rl-short."""
        return f"{prefix}{kind}-{model}" + (f"-{mode}" if mode and mode != "few-shot" else "")

    @staticmethod
    def model_stage(model: str, prefix: str = "") -> str:
        """The name of the stage that makes a line's `model`: base, stable, decay-<branch>."""
        return prefix + (model if model in ("base", "stable") else f"{DECAY_PREFIX}{model}")


# --- what the report reads: recorded in manifest.json ----------------------------------------------------

class SubjectPaths(Strict):
    """A model RL starts from, of one seed: where it is and where its probe, evaluations and RL run are."""
    key: str                 # "short", or "<arm>/short"
    seed: int
    model: str               # a folder, or an hf: id
    rl: str                  # the RL run's folder
    probe: str               # probe.json
    evals: str               # the evaluations' root: StudyLayout.evaluation below it


class EvalPaths(Strict):
    """One evaluation of the first seed: the report's row "<label> (<mode>)"."""
    label: str               # "short", "rl-short" (after RL), "<arm>/rl-short"
    mode: str
    folder: str


class ArmInfo(Strict):
    """What the report needs of an arm (`study.recipe.ArmSpec` adds what makes its models)."""
    claim: Claim
    compare: str
    models: list[str]
    value: float | None = None           # what the arm sets the varied setting to (claim qa-share)
    compare_value: float | None = None   # and what the main line sets it to


class RunLayout(Strict):
    seeds: list[int]
    per_seed: str = "training"
    subjects: list[SubjectPaths]
    evaluations: list[EvalPaths] | None = None  # None: found below each subject's `evals` (older manifests)
    arms: dict[str, ArmInfo] = {}
    branches: list[str] = []             # compared with the base as mid-trained branches (finding (a))
    qwen: str | None = None              # compared with the base as the paper's Qwen2.5 (finding (g))
    models_root: str = "."               # base/, stable/, decay-*/ of the first seed that trains them

    def first_seed(self) -> list[SubjectPaths]:
        return [s for s in self.subjects if s.seed == self.seeds[0]]

    def midtrain_stages(self) -> list[tuple[str, Path]]:
        """(stage, folder) of the first seed's main line of mid-training, in the order it trains."""
        root = Path(self.models_root)
        decays = sorted(StudyLayout.model_folder(root, b) for b in self.branches)
        return [(p.name, p) for p in [root / "base", root / "stable", *decays]]

    def first_seed_evaluations(self) -> list[EvalPaths]:
        """The first seed's evaluations, those before RL first."""
        if self.evaluations is not None:
            found = self.evaluations
        else:
            found = []
            for folder in sorted({Path(s.evals) for s in self.first_seed()}):
                arm = folder.parent.name if folder.parent.parent.name == "arms" else ""
                for summary in sorted(folder.glob("*/*/summary.json")):
                    model = summary.parent.parent.name
                    found.append(EvalPaths(label=f"{arm}/{model}" if arm else model, mode=summary.parent.name,
                                           folder=str(summary.parent)))
        return sorted(found, key=lambda e: (after_rl(e.label), e.folder))

    def relative_to(self, run: Path | str) -> RunLayout:
        """Every path relative to the run folder when it lies inside it (so a moved or copied run reads
        the same); otherwise absolute, or a hub id as given."""
        return self._mapped(lambda p: in_run(p, run))

    def located(self, run: Path | str) -> RunLayout:
        """Every recorded path read from the run folder wherever it now is."""
        return self._mapped(lambda p: _at(Path(run), p))

    def _mapped(self, f) -> RunLayout:
        subjects = [s.model_copy(update={k: f(getattr(s, k)) for k in ("model", "rl", "probe", "evals")})
                    for s in self.subjects]
        evaluations = None if self.evaluations is None else \
            [e.model_copy(update={"folder": f(e.folder)}) for e in self.evaluations]
        return self.model_copy(update={"subjects": subjects, "evaluations": evaluations,
                                       "models_root": f(self.models_root)})


def after_rl(label: str) -> bool:
    """Is an evaluation's label that of a model RL made?"""
    return label.rpartition("/")[2].startswith(RL_PREFIX)


def _at(run: Path, recorded: str) -> str:
    """Manifests of earlier versions recorded paths from the folder `octo run` was started in: those are
    read as they were written."""
    path = Path(recorded)
    if not recorded or path.is_absolute() or recorded.startswith(HUB_PREFIX):
        return recorded
    here = run / path
    return str(path) if not here.exists() and path.exists() else str(here)


def data_reports(run: Path) -> list[Path]:
    """The report.json of every data section a run built."""
    return sorted(StudyLayout.of(run, None).data("*").glob("report.json"))


def read_layout(run: Path | str) -> RunLayout:
    """The layout `octo run` recorded in manifest.json, or, for stages laid out by hand (rl-<model>/,
    probe/<model>/probe.json, eval/, decay-<branch>/), the same read from the folders."""
    run = Path(run)
    manifest = StudyLayout.of(run, None).manifest
    if manifest.is_file():
        recorded = json.loads(manifest.read_text())
        if "layout" in recorded:
            return RunLayout.model_validate(recorded["layout"]).located(run)
    models = [p.name[len(RL_PREFIX):] for p in sorted(run.glob(f"{RL_PREFIX}*")) if p.is_dir()]
    subjects = [SubjectPaths(key=m, seed=0, model="", rl=str(StudyLayout.rl(run, m)),
                             evals=str(StudyLayout.evals(run)), probe=str(StudyLayout.probe_report(StudyLayout.probe(run, m))))
                for m in models]
    branches = [p.name[len(DECAY_PREFIX):] for p in sorted(run.glob(f"{DECAY_PREFIX}*")) if p.is_dir()]
    return RunLayout(seeds=[0], subjects=subjects, branches=branches, models_root=str(run))
