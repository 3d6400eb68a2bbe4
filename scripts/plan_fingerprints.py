"""Every stage of a recipe's plan: its name, fingerprint, folder and thread count, one line each, so that two
commits' plans can be compared line by line. Equal lines mean a refactor moved no stage: a run made by one
commit is finished, unchanged, for the other.

    python scripts/plan_fingerprints.py octothinker/recipes/demo.yaml octothinker/recipes/demo-arms.yaml
"""

from __future__ import annotations

import importlib.util
import sys

if importlib.util.find_spec("octothinker.runs.engine"):
    from octothinker.runs.engine import fingerprint
    from octothinker.study.planning import plan
    from octothinker.study.recipe import load_study
else:  # a commit before issue 32 (stages.py, study/__init__), so that its plan can be set beside today's
    from octothinker.stages import fingerprint
    from octothinker.study import load_study, plan


def main(recipes: list[str]) -> None:
    for recipe in recipes:
        stages = plan(load_study(recipe))
        made: dict[str, str] = {}
        for stage in stages:
            made[stage.name] = fingerprint(stage, made, stages)
            print(recipe, stage.name, made[stage.name], stage.output, stage.threads, sep="\t")


if __name__ == "__main__":
    main(sys.argv[1:])
