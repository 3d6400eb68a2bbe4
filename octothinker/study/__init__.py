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
from functools import partial

from octothinker.recipe import RecipeError
from octothinker.runs import run_metadata
from octothinker.stages import run_stages
from octothinker.study.lines import Line, Subject, evaluated_only, layout, subjects
from octothinker.study.planning import check_data, check_templates, plan, preflight
from octothinker.study.recipe import ArmSpec, EvalPlan, ProbePlan, StudyRecipe, is_study, load_study

__all__ = ["ArmSpec", "EvalPlan", "Line", "ProbePlan", "StudyRecipe", "Subject", "check_data", "evaluated_only",
           "is_study", "layout", "load_study", "plan", "preflight", "run_study", "subjects"]


def run_study(recipe: StudyRecipe, log: Callable[[str], None] = print, where: str = "recipe",
              only: str | None = None) -> dict:
    """Every stage in order, skipping the finished ones (`jobs` of them at once when the recipe asks);
    with `only`, that one stage, once every stage it reads is finished (how a scheduler runs a study: one
    job a stage, see `launch.emit_slurm`)."""
    stages = plan(recipe)
    if only is not None and only not in {s.name for s in stages}:
        raise RecipeError(f"{where}: no stage {only!r}; `octo run {where} --plan` lists them")
    preflight(recipe, stages, where)
    check_data(recipe, stages, where)
    check_templates(recipe, where)
    head = {"recipe": recipe.model_dump(), **run_metadata(recipe.seed), "layout": layout(recipe).model_dump()}
    return run_stages(stages, recipe.out, head, log, only, jobs=recipe.jobs, cores=recipe.threads,
                      runner=partial(_stage_in_worker, recipe, where, head))


def _stage_in_worker(recipe: StudyRecipe, where: str, head: dict, name: str) -> None:
    """One stage of a `jobs` > 1 run, in a worker process: the run that started it holds the folder, and
    its manifest head (the command, the versions) is the one recorded."""
    stages = plan(recipe)
    run_stages(stages, recipe.out, head, print, only=name, worker=True)
