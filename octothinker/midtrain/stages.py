"""Mid-training's stages: stable from the base model, then each decay branch from the stable stage's final
checkpoint (weights and optimizer state), as in OctoThinker's stable-then-decay. Each stage writes into
the folder it is given (checkpoints/, metrics.jsonl and final/, an HF folder); where those folders lie is
the study's layout (`study.layout`), which `octo run` and `octo midtrain` both hand in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from octothinker.midtrain.config import MidtrainRecipe, StageRun
from octothinker.midtrain.parallel import destroy
from octothinker.midtrain.schedule import for_tokens
from octothinker.midtrain.trainer import TrainingError, train_stage


def fresh_model(out: Path, size: str, shards: str, seed: int) -> Path:
    """A randomly initialised model of `size` over the tokenizer the shards were made with (created once)."""
    from octothinker.data.shards import read_index
    from octothinker.models import create_model, load_tokenizer, save_model
    from octothinker.runs import derive_seed

    if not (out / "config.json").exists():
        tokenizer = load_tokenizer(read_index(shards)["tokenizer"]["name"])
        save_model(create_model(size, tokenizer, seed=derive_seed(seed, "init", size)), tokenizer, out)
    return out


def base_source(recipe: MidtrainRecipe, stable_out: Path) -> str:
    """The base model's folder; a fresh model is created (once) inside the stable stage, `<stable>/init`."""
    if isinstance(recipe.base, str):
        return recipe.base
    return str(fresh_model(stable_out / "init", recipe.base.size, recipe.stable.data, recipe.base.seed))


def stable_run(recipe: MidtrainRecipe, out: Path) -> StageRun:
    """The stable stage, written to `out`."""
    t, st = recipe.train, recipe.stable
    return StageRun(name="stable", data=st.data, init=base_source(recipe, out), tokens=st.tokens,
                    schedule=for_tokens(st.tokens, t.global_batch_tokens, st.lr, st.warmup_tokens),
                    out=str(out), train=t)


def decay_run(recipe: MidtrainRecipe, branch: str, stable: Path, out: Path, name: str) -> StageRun:
    """One decay branch from the final checkpoint of the stable stage in `stable`, written to `out`. `name`
    is the stage's (its data order and initial weights' RNG are seeded from it)."""
    if recipe.decay is None:
        raise TrainingError("the recipe has no `decay` section")
    if branch not in recipe.decay.branches:
        raise TrainingError(f"unknown branch {branch!r}; the recipe has {', '.join(recipe.decay.branches)}")
    spec = recipe.decay.branches[branch]
    tokens = spec.tokens or recipe.decay.tokens
    start = stable / "checkpoints" / "final"
    if not (start / "state.json").is_file():
        raise TrainingError(f"{out}: the stable stage's final checkpoint is missing: looked for {start} "
                            "(run the stable stage first)")
    return StageRun(name=name, data=spec.data, init=str(stable / "final"), init_checkpoint=str(start),
                    tokens=tokens,
                    # No new warmup: the decay starts at the stable learning rate (OctoThinker's schedule).
                    schedule=for_tokens(tokens, recipe.train.global_batch_tokens, recipe.stable.lr, decay=True,
                                        final_lr=recipe.decay.final_lr, shape=recipe.decay.shape),
                    out=str(out), train=recipe.train)


def run_midtrain(recipe: MidtrainRecipe, stable: Path, decays: dict[str, Path],
                 stage: Literal["all", "stable", "decay"] = "all", branch: str | None = None, resume: bool = True,
                 force_resume: bool = False) -> list[Path]:
    """Stable into `stable`, then the decay branches (all of them, or one) into their `decays` folders, each
    stage named after its folder; returns the final HF folders."""
    if stage == "decay" and recipe.decay is None:
        raise TrainingError("the recipe has no `decay` section")
    finals = []
    try:
        if stage in ("all", "stable"):
            finals.append(train_stage(stable_run(recipe, stable), resume=resume, force_resume=force_resume))
        if stage in ("all", "decay") and recipe.decay is not None:
            for name in [branch] if branch else list(recipe.decay.branches):
                finals.append(train_stage(decay_run(recipe, name, stable, decays[name], decays[name].name), resume=resume, force_resume=force_resume))
    finally:
        destroy()  # under torchrun: leave the process group cleanly
    return finals
