"""What each stage of the plan runs: a thin call into the stage's own entry point."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from octothinker.midtrain.torchrun import LaunchSpec
from octothinker.rl.trainer import RLConfig

if TYPE_CHECKING:
    from octothinker.study.lines import Line, Subject
    from octothinker.study.recipe import StudyRecipe


def launched(launch: LaunchSpec) -> LaunchSpec | None:
    return launch if launch.world_size > 1 else None


def build_midtrain(run, launch: LaunchSpec, pinned: bool) -> None:
    """One mid-training stage: in this process, or on `launch`'s ranks under torchrun, which share the
    threads the stage was given when the recipe pins them (the stage engine set this process's count)."""
    import torch

    from octothinker.midtrain.torchrun import run_launched
    from octothinker.midtrain.trainer import train_stage

    if launched(launch):
        run_launched(run, launch, torch.get_num_threads() if pinned else None)
    else:
        train_stage(run)


def build_base(line: Line, target: Path) -> None:
    from octothinker.midtrain.schedule import for_tokens
    from octothinker.midtrain.stages import fresh_model
    from octothinker.midtrain.trainer import StageRun, train_stage

    p, train = line.pretrain, line.midtrain.train
    init = fresh_model(target / "init", p.size, p.data, line.seed)
    schedule = for_tokens(p.tokens, train.global_batch_tokens, p.lr, p.warmup_tokens, decay=p.final_lr < p.lr,
                          final_lr=p.final_lr)
    train_stage(StageRun(name="base", data=p.data, init=str(init), tokens=p.tokens, out=str(target), train=train,
                         schedule=schedule))


def template_of(rl: RLConfig | None) -> str:
    """The prompt a model is evaluated in zero-shot: the template of its RL run."""
    return rl.template if rl else RLConfig.model_fields["template"].default


def probe_rl_settings(rl: RLConfig | None) -> dict:
    """The RL settings the probe imitates: its template and sampling temperature."""
    return {"template": template_of(rl),
            "temperature": rl.temperature if rl else RLConfig.model_fields["temperature"].default}


def build_probe(recipe: StudyRecipe, s: Subject, target: Path) -> None:
    from octothinker.probe import probe

    p, rl = recipe.probe, probe_rl_settings(recipe.rl_for(s.key))
    probe(str(s.model), p.prompts, p.data_dir, p,  # a ProbePlan is the probe's sampling settings and its prompts
          rl["template"], rl["temperature"], s.seed, out=str(target / "probe.json"), release_dir=recipe.release_dir)


def build_eval(recipe: StudyRecipe, s: Subject, model: Path, mode: str, target: Path) -> None:
    from octothinker.eval.runner import EvalConfig, evaluate

    e = recipe.eval
    # with a release copy named, few-shot evaluation is the release's own harness (its numbers stand beside
    # the paper's); its exemplars are the release's, so the recipe's own few-shot file is not used then
    harness = "release" if recipe.release_dir and mode == "few-shot" else "ours"
    evaluate(EvalConfig(model=str(model), benchmarks=e.benchmarks, data_dir=e.data_dir, mode=mode,
                        harness=harness, release_dir=recipe.release_dir,
                        template=template_of(recipe.rl_for(s.key)),
                        fewshot_file=e.fewshot_file if harness == "ours" else None, limit=e.limit,
                        max_new_tokens=e.max_new_tokens,
                        cutoff=e.cutoff, out=str(target), backend="auto", seed=s.seed))


def build_rl(recipe: StudyRecipe, s: Subject, target: Path) -> None:
    from octothinker.rl import verl
    from octothinker.rl.trainer import train

    cfg = recipe.rl_for(s.key).model_copy(update={"out": str(target), "seed": s.seed})
    if cfg.engine == "verl":
        verl.launch(cfg, str(s.model))
    else:
        train(cfg, str(s.model))


def build_report(recipe: StudyRecipe, target: Path) -> None:
    from octothinker.report.page import write_report

    write_report(recipe.out, target)
