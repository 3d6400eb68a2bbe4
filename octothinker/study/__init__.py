"""`octo run RECIPE`: the whole study from one recipe, stage by stage, resumable.

    octo run octothinker/recipes/demo.yaml            # `octo demo` does this
    octo run my-study.yaml rl.steps=400                # re-runs the RL stages and what reads them

The package: `recipe` (the typed study), `layout` (every folder of a run, the one place that names
them), `lines` (lines of models and the models RL starts from), `planning` (the stages), `build` (what
each stage runs), `run` (running them).

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
