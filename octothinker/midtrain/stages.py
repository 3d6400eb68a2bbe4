"""The mid-training recipe and its stages: stable from the base model, then each decay branch from the
stable stage's final checkpoint (weights and optimizer state), as in OctoThinker's stable-then-decay.

Run directory: `<out>/stable/` and `<out>/decay-<branch>/`, each with checkpoints/, metrics.jsonl and
final/ (an HF folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from octothinker.errors import Strict, check_names
from octothinker.midtrain.parallel import destroy
from octothinker.midtrain.schedule import DecayShape, Schedule, for_tokens
from octothinker.midtrain.torchrun import LaunchSpec
from octothinker.midtrain.trainer import StageRun, TrainConfig, TrainingError, train_stage

FINAL_LR = Schedule.model_fields["final_lr"].default  # declared once, in Schedule

class StableSpec(Strict):
    data: str                               # shard folder (octo data build)
    tokens: int = Field(gt=0)
    lr: float = Field(gt=0)                 # constant after warmup (OctoThinker 3B: 2e-5, no warmup reported)
    warmup_tokens: int = Field(0, ge=0)


class BranchSpec(Strict):
    data: str
    tokens: int | None = Field(None, gt=0)  # defaults to decay.tokens


class DecaySpec(Strict):
    tokens: int = Field(gt=0)               # per branch (OctoThinker: 20B)
    final_lr: float = Field(FINAL_LR, ge=0)
    shape: DecayShape = "cosine"
    branches: dict[str, BranchSpec]         # a branch's name names its folder, decay-<name>

    @field_validator("branches")
    @classmethod
    def _safe_names(cls, branches):
        return check_names(branches, "branch name")


class FreshBase(Strict):
    """A randomly initialised model of a named size over the stable data's tokenizer (pretraining)."""
    size: str
    seed: int = 0


class MidtrainRecipe(Strict):
    out: str                                # run directory (in a study recipe: the study's `out`)
    base: str | FreshBase                   # HF folder, .gguf, hub id, or {size: tiny} for a fresh model
    train: TrainConfig = Field(default_factory=TrainConfig)
    stable: StableSpec
    decay: DecaySpec | None = None
    # how `octo run` starts the stable and decay stages: under torchrun when more than one process
    # (`octo midtrain` itself is what torchrun starts, by hand); not part of a stage's fingerprint
    launch: LaunchSpec = Field(default_factory=LaunchSpec)


def stage_dir(recipe: MidtrainRecipe, stage: str, branch: str | None = None) -> Path:
    return Path(recipe.out) / ("stable" if stage == "stable" else f"decay-{branch}")


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


def stable_run(recipe: MidtrainRecipe, out: Path | None = None) -> StageRun:
    """The stable stage, written to `out` (default `<recipe.out>/stable`)."""
    t, st = recipe.train, recipe.stable
    out = out or stage_dir(recipe, "stable")
    return StageRun(name="stable", data=st.data, init=base_source(recipe, out), tokens=st.tokens,
                    schedule=for_tokens(st.tokens, t.global_batch_tokens, st.lr, st.warmup_tokens),
                    out=str(out), train=t)


def decay_run(recipe: MidtrainRecipe, branch: str, out: Path | None = None) -> StageRun:
    """One decay branch from the stable stage's final checkpoint, written to `out` (default
    `<recipe.out>/decay-<branch>`)."""
    if recipe.decay is None:
        raise TrainingError("the recipe has no `decay` section")
    if branch not in recipe.decay.branches:
        raise TrainingError(f"unknown branch {branch!r}; the recipe has {', '.join(recipe.decay.branches)}")
    spec = recipe.decay.branches[branch]
    tokens = spec.tokens or recipe.decay.tokens
    stable = stage_dir(recipe, "stable")
    start = stable / "checkpoints" / "final"
    if not (start / "state.json").is_file():
        raise TrainingError(f"decay-{branch}: the stable stage's final checkpoint is missing: looked for {start} "
                            "(run the stable stage first)")
    return StageRun(name=f"decay-{branch}", data=spec.data, init=str(stable / "final"), init_checkpoint=str(start),
                    tokens=tokens,
                    # No new warmup: the decay starts at the stable learning rate (OctoThinker's schedule).
                    schedule=for_tokens(tokens, recipe.train.global_batch_tokens, recipe.stable.lr, decay=True,
                                        final_lr=recipe.decay.final_lr, shape=recipe.decay.shape),
                    out=str(out or stage_dir(recipe, "decay", branch)), train=recipe.train)


def run_midtrain(recipe: MidtrainRecipe, stage: Literal["all", "stable", "decay"] = "all",
                 branch: str | None = None, resume: bool = True, force_resume: bool = False) -> list[Path]:
    """Stable, then the decay branches (all of them, or one); returns the final HF folders."""
    if stage == "decay" and recipe.decay is None:
        raise TrainingError("the recipe has no `decay` section")
    finals = []
    try:
        if stage in ("all", "stable"):
            finals.append(train_stage(stable_run(recipe), resume=resume, force_resume=force_resume))
        if stage in ("all", "decay") and recipe.decay is not None:
            for name in [branch] if branch else list(recipe.decay.branches):
                finals.append(train_stage(decay_run(recipe, name), resume=resume, force_resume=force_resume))
    finally:
        destroy()  # under torchrun: leave the process group cleanly
    return finals
