"""Where a study's models and results lie in its run folder: written by `octo run` into manifest.json,
read by the report and its findings. One typed record, so the study and the report cannot disagree
about a path (it is made in `study.layout` and read here, nowhere else)."""

from __future__ import annotations

import json
from pathlib import Path


from octothinker.errors import Strict
from octothinker.runs.files import HUB_PREFIX, in_run


class SubjectPaths(Strict):
    """A model RL starts from, of one seed: where it is and where its probe, evaluations and RL run are."""
    key: str                 # "short", or "<arm>/short"
    seed: int
    model: str               # a folder, or an hf: id
    rl: str                  # the RL run's folder
    probe: str               # probe.json
    evals: str               # eval/<model>/<mode>/ below it


class ArmInfo(Strict):
    claim: str
    compare: str
    models: list[str]
    value: float | None = None           # what the arm sets the varied setting to (claim qa-share)
    compare_value: float | None = None   # and what the main line sets it to


class RunLayout(Strict):
    seeds: list[int]
    per_seed: str = "training"
    subjects: list[SubjectPaths]
    arms: dict[str, ArmInfo] = {}
    branches: list[str] = []             # compared with the base as mid-trained branches (finding (a))
    qwen: str | None = None              # compared with the base as the paper's Qwen2.5 (finding (g))
    models_root: str = "."               # base/, stable/, decay-*/ of the first seed that trains them

    def first_seed(self) -> list[SubjectPaths]:
        return [s for s in self.subjects if s.seed == self.seeds[0]]

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
        return self.model_copy(update={"subjects": subjects, "models_root": f(self.models_root)})


def _at(run: Path, recorded: str) -> str:
    """Manifests of earlier versions recorded paths from the folder `octo run` was started in: those are
    read as they were written."""
    path = Path(recorded)
    if not recorded or path.is_absolute() or recorded.startswith(HUB_PREFIX):
        return recorded
    here = run / path
    return str(path) if not here.exists() and path.exists() else str(here)


def read_layout(run: Path | str) -> RunLayout:
    """The layout `octo run` recorded in manifest.json, or, for stages laid out by hand (rl-<model>/,
    probe/<model>/probe.json, eval/, decay-<branch>/), the same read from the folders."""
    run = Path(run)
    manifest = run / "manifest.json"
    if manifest.is_file():
        recorded = json.loads(manifest.read_text())
        if "layout" in recorded:
            return RunLayout.model_validate(recorded["layout"]).located(run)
    subjects = [SubjectPaths(key=p.name[len("rl-"):], seed=0, model="", rl=str(p), evals=str(run / "eval"),
                             probe=str(run / "probe" / p.name[len("rl-"):] / "probe.json"))
                for p in sorted(run.glob("rl-*")) if p.is_dir()]
    branches = [p.name[len("decay-"):] for p in sorted(run.glob("decay-*")) if p.is_dir()]
    return RunLayout(seeds=[0], subjects=subjects, branches=branches, models_root=str(run))
