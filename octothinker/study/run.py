"""`octo run RECIPE`: the study's stages, run in order by the stage engine (`runs.engine`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from octothinker.recipe import RecipeError
from octothinker.runs import run_metadata
from octothinker.runs.engine import run_stages
from octothinker.study.planning import check_data, check_templates, plan, preflight
from octothinker.study.recipe import StudyRecipe


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
    head = {"recipe": recipe.model_dump(), **run_metadata(recipe.seed), "layout": recipe.recorded_layout().model_dump()}
    return run_stages(stages, recipe.out, head, log, only, jobs=recipe.jobs, cores=recipe.threads,
                      runner=partial(_stage_in_worker, recipe, where, head))


def _stage_in_worker(recipe: StudyRecipe, where: str, head: dict, name: str) -> None:
    """One stage of a `jobs` > 1 run, in a worker process: the run that started it holds the folder, and
    its manifest head (the command, the versions) is the one recorded."""
    stages = plan(recipe)
    run_stages(stages, recipe.out, head, print, only=name, worker=True)
