"""What each stage of the plan runs: a typed job (what the stage is made from, every field named) whose
call makes the stage into the folder it is given, through the stage's own entry point. Each imports its
stage's code only when it runs, so a plan is made and printed without torch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from octothinker.data.config import DataRecipe
from octothinker.data.synthetic import WorldSize
from octothinker.eval.config import ProbeSampling
from octothinker.midtrain.config import LaunchSpec, MidtrainRecipe, PretrainSpec, TrainConfig
from octothinker.rl.config import RLConfig
from octothinker.study.layout import StudyLayout


def launched(launch: LaunchSpec) -> LaunchSpec | None:
    return launch if launch.world_size > 1 else None


def template_of(rl: RLConfig | None) -> str:
    """The prompt a model is evaluated in zero-shot: the template of its RL run."""
    return rl.template if rl else RLConfig.model_fields["template"].default


def probe_rl_settings(rl: RLConfig | None) -> dict:
    """The RL settings the probe imitates: its template and sampling temperature."""
    return {"template": template_of(rl),
            "temperature": rl.temperature if rl else RLConfig.model_fields["temperature"].default}


@dataclass(frozen=True)
class MakeWorld:
    size: WorldSize
    seed: int

    def __call__(self, target: Path) -> None:
        from octothinker.data.synthetic import generate_world

        generate_world(target, self.size, seed=self.seed)


@dataclass(frozen=True)
class BuildData:
    recipe: DataRecipe

    def __call__(self, target: Path) -> None:
        from octothinker.data.pipeline import build

        build(self.recipe.model_copy(update={"out": str(target)}), staged=True)


@dataclass(frozen=True)
class Pretrain:
    """A fresh model of `spec.size`, pre-trained into the study's base."""
    spec: PretrainSpec
    train: TrainConfig
    seed: int

    def __call__(self, target: Path) -> None:
        from octothinker.midtrain.schedule import for_tokens
        from octothinker.midtrain.stages import fresh_model
        from octothinker.midtrain.config import StageRun
        from octothinker.midtrain.trainer import train_stage

        p, train = self.spec, self.train
        init = fresh_model(target / "init", p.size, p.data, self.seed)
        schedule = for_tokens(p.tokens, train.global_batch_tokens, p.lr, p.warmup_tokens, decay=p.final_lr < p.lr,
                              final_lr=p.final_lr)
        train_stage(StageRun(name="base", data=p.data, init=str(init), tokens=p.tokens, out=str(target), train=train,
                             schedule=schedule))


@dataclass(frozen=True)
class Midtrain:
    """The stable stage (no `branch`), or one decay branch from the stable stage in `stable`: in this
    process, or on `recipe.launch`'s ranks under torchrun, which share the threads the stage was given
    when the recipe pins them (`pinned`: the stage engine set this process's count)."""
    recipe: MidtrainRecipe
    pinned: bool
    branch: str | None = None
    stable: Path | None = None
    name: str | None = None                # a decay branch's stage name, which seeds its run

    def __call__(self, target: Path) -> None:
        import torch

        from octothinker.midtrain.stages import decay_run, stable_run
        from octothinker.midtrain.torchrun import run_launched
        from octothinker.midtrain.trainer import train_stage

        run = stable_run(self.recipe, target) if self.branch is None else \
            decay_run(self.recipe, self.branch, self.stable, target, self.name)
        if launched(self.recipe.launch):
            run_launched(run, self.recipe.launch, torch.get_num_threads() if self.pinned else None)
        else:
            train_stage(run)


@dataclass(frozen=True)
class Probe:
    model: Path
    prompts: str
    data_dir: str | None
    sampling: ProbeSampling
    rl: RLConfig | None                    # the RL run the probe imitates (its template and temperature)
    seed: int
    release_dir: str | None

    def __call__(self, target: Path) -> None:
        from octothinker.probe import probe

        rl = probe_rl_settings(self.rl)
        probe(str(self.model), self.prompts, self.data_dir, self.sampling, rl["template"], rl["temperature"],
              self.seed, out=str(StudyLayout.probe_report(target)), release_dir=self.release_dir)


@dataclass(frozen=True)
class Evaluate:
    model: Path
    benchmarks: tuple[str, ...]
    data_dir: str | None
    mode: str
    template: str
    fewshot_file: str | None
    limit: int | None
    max_new_tokens: int
    cutoff: str
    seed: int
    release_dir: str | None

    def __call__(self, target: Path) -> None:
        from octothinker.eval.runner import EvalConfig, evaluate

        # with a release copy named, few-shot evaluation is the release's own harness (its numbers stand
        # beside the paper's); its exemplars are the release's, so the recipe's own few-shot file is not used
        harness = "release" if self.release_dir and self.mode == "few-shot" else "ours"
        evaluate(EvalConfig(model=str(self.model), benchmarks=list(self.benchmarks), data_dir=self.data_dir,
                            mode=self.mode, harness=harness, release_dir=self.release_dir, template=self.template,
                            fewshot_file=self.fewshot_file if harness == "ours" else None, limit=self.limit,
                            max_new_tokens=self.max_new_tokens, cutoff=self.cutoff, out=str(target),
                            backend="auto", seed=self.seed))


@dataclass(frozen=True)
class TrainRL:
    config: RLConfig
    model: Path

    def __call__(self, target: Path) -> None:
        from octothinker.rl import verl
        from octothinker.rl.trainer import train

        cfg = self.config.model_copy(update={"out": str(target)})
        if cfg.engine == "verl":
            verl.launch(cfg, str(self.model))
        else:
            train(cfg, str(self.model))


@dataclass(frozen=True)
class Report:
    run: Path

    def __call__(self, target: Path) -> None:
        from octothinker.report.page import write_report

        write_report(self.run, target)
