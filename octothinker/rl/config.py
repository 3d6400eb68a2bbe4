"""RL's settings: one declaration, read by `octo rl`, the trainer, the verl launcher and the study. Kept
apart from the trainer so that a recipe validates, and `--plan` and `--help` run, without importing torch."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from octothinker.errors import OctoError, Strict, check_names
from octothinker.eval.config import SCORING_BATCH
from octothinker.runs.files import file_digest
from octothinker.runs.losses import DEFAULT_LIMIT
from octothinker.runs.metrics import LoggingSpec
from octothinker.tasks.rewards import RewardConfig
from octothinker.tasks.scoring import DEFAULT_CUTOFF, CutoffRule
from octothinker.tasks.templates import DEFAULT_TEMPLATE, RELEASE, PromptTemplate, get_template

Aggregation = Literal["token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"]
LOG_RATIO_CLAMP = 20.0  # verl hard-codes it (core_algos.compute_policy_loss_vanilla)
CLIP_RATIO_C = 3.0      # verl's default `actor.clip_ratio_c`


class RLError(OctoError):
    pass


class EvalSpec(Strict):

    every: int = Field(4, ge=1)                  # the study validated every 4 steps
    data_dir: str | None = None                  # registry benchmarks: <data_dir>/<name>/test.jsonl
    benchmarks: list[str] = Field(default_factory=lambda: ["gsm8k", "math500", "olympiad_bench", "amc23"])
    files: dict[str, str] = Field(default_factory=dict)  # more test sets: name -> JSONL of question/answer
    limit: int | None = Field(100, ge=1)         # problems per benchmark
    max_response_tokens: int | None = None       # default: the training length at that step
    # Greedy by default (one answer per problem). With temperature > 0, `samples` answers per problem and
    # the accuracy is their mean: the pass@1 of the sampling policy that RL optimises (verl's val_kwargs).
    temperature: float = Field(0.0, ge=0)
    samples: int = Field(1, ge=1)
    greedy: bool = False                         # with temperature > 0: evaluate greedily as well
    cutoff: CutoffRule = DEFAULT_CUTOFF          # how an answer cut at the token limit is graded (tasks.scoring)
    batch: int = Field(SCORING_BATCH, ge=1)      # sequences decoded at once (see SCORING_BATCH)
    # task: graded as `octo eval` grades; reward: as the release's verl fork validates (`_validate`): the
    # training reward on the last box, correct when it is the full reward (negatives count as 0)
    grader: Literal["task", "reward"] = "task"

    @field_validator("files")
    @classmethod
    def _safe_names(cls, files):
        return check_names(files, "evaluation file name")

    def tasks(self) -> list[str]:
        """Registry names and NAME=FILE specs, the form `tasks.benchmarks.get_benchmark` reads."""
        return list(self.benchmarks) + [f"{name}={path}" for name, path in self.files.items()]


class VerlSpec(Strict):

    gpus_per_node: int = Field(8, ge=1)
    nodes: int = Field(1, ge=1)
    extra_overrides: list[str] = Field(default_factory=list)  # any other verl `key=value`


class RLConfig(Strict):

    out: str | None = None                       # run folder (`octo rl --out`; a study sets one per model)
    prompts: str                                 # JSONL of question/answer records
    question_field: str = "question"
    answer_field: str = "answer"
    template: str = DEFAULT_TEMPLATE
    release_dir: str | None = None               # a GAIR-NLP/OctoThinker checkout, for `template: release:NAME`
    stop: list[str] | None = None                # strings that end a rollout; default: the template's own
    steps: int = Field(ge=1)
    prompts_per_step: int = Field(8, ge=1)       # the study: 256 (scripts) or 128 (paper text)
    group_size: int = Field(8, ge=2)             # rollouts per prompt; the study: 16
    mini_batch: int = Field(8, ge=1)             # prompts per optimizer update; the study: 16 or 64
    epochs: int = Field(1, ge=1)                 # passes over each rollout batch
    micro_batch: int = Field(16, ge=1)           # sequences per forward/backward
    lr: float = Field(1e-6, gt=0)                # the study: 1e-6
    weight_decay: float = Field(0.0, ge=0)
    grad_clip: float = Field(1.0, gt=0)
    temperature: float = Field(1.0, gt=0)        # the study: 1.0
    top_p: float = Field(1.0, gt=0, le=1)
    max_prompt_tokens: int = Field(400, ge=8)    # the study: 400; longer prompts are dropped (counted)
    prompt_margin: int = Field(0, ge=0)          # a templated prompt must fit max_prompt_tokens - margin (the fork: 20)
    max_response_tokens: int = Field(512, ge=1)
    length_schedule: dict[int, int] = Field(default_factory=dict)  # step -> max response tokens, e.g. {0: 2048, 100: 4096, 160: 8192}
    advantage: Literal["grpo", "dr_grpo"] = "grpo"
    aggregation: Aggregation = "token-mean"
    clip_low: float = Field(0.2, ge=0)
    clip_high: float = Field(0.2, ge=0)          # DAPO clip-higher: 0.28
    clip_ratio_c: float = Field(CLIP_RATIO_C, gt=1)          # verl's dual-clip bound for A < 0
    log_ratio_clamp: float = Field(LOG_RATIO_CLAMP, gt=0)    # |log pi - log pi_old| before exp (verl: 20)
    kl_coef: float = Field(0.0, ge=0)            # the study: 0
    dynamic_sampling: bool = False               # drop groups whose rewards are all equal
    overlong_filter: bool = False                # truncated responses get no gradient
    remove_solved: bool = False                  # drop prompts whose whole group was right
    reward: RewardConfig = Field(default_factory=RewardConfig)
    eval: EvalSpec | None = None
    engine: Literal["local", "verl"] = "local"   # local: this process; verl: its launcher (`octo run`, `octo rl`)
    verl: VerlSpec = Field(default_factory=VerlSpec)  # engine verl only
    checkpoint_every: int = Field(20, ge=1)
    keep_checkpoints: int = Field(2, ge=1)
    save_samples: bool = False
    logging: LoggingSpec = Field(default_factory=LoggingSpec)
    # the share of prompts that may be dropped (no answer, one the grader cannot read, over
    # max_prompt_tokens) before it is said aloud: a WARNING, or with `strict` an error before training
    max_loss_share: float = Field(DEFAULT_LIMIT, ge=0, le=1)
    strict: bool = False
    seed: int = 0
    device: str | None = None

    @model_validator(mode="after")
    def _template_has_slot(self):
        # a `release:` template is read once a release copy is named: a recipe names it at run time
        # (`release_dir=`), and its other sections validate without one (`study.planning.preflight`)
        if not self.template.startswith(RELEASE) or self.release_dir:
            self.prompt_template()
        return self

    def prompt_template(self) -> PromptTemplate:
        return get_template(self.template, self.release_dir)

    def rollout_stop(self) -> tuple[str, ...]:
        """What ends a rollout: `stop` when the recipe sets it, else the template's own stop strings."""
        return tuple(self.stop) if self.stop is not None else self.prompt_template().stop

    @model_validator(mode="after")
    def _whole_mini_batches(self):
        if self.prompts_per_step % self.mini_batch:
            raise ValueError(f"prompts_per_step ({self.prompts_per_step}) must be a multiple of mini_batch ({self.mini_batch})")
        return self

    def response_length(self, step: int) -> int:
        """The stair schedule: the value of the largest key <= step (the study's long branch:
        {0: 2048, 100: 4096, 160: 8192}); max_response_tokens without one."""
        keys = [k for k in self.length_schedule if k <= step]
        return self.length_schedule[max(keys)] if keys else self.max_response_tokens

    def resume_settings(self) -> dict:
        """What a checkpoint must have been written under to be continued: everything that shapes the
        trajectory (not how long it runs, how it is evaluated, logged or checkpointed), and what its inputs
        hold: a prompts file or template edited under the same name is another run (`inputs.prompts`)."""
        return {**self.model_dump(exclude={"out", "steps", "eval", "engine", "verl", "checkpoint_every", "keep_checkpoints",
                                           "save_samples", "logging", "device", "strict", "max_loss_share"}),
                "inputs": self.input_digests()}

    def input_digests(self) -> dict[str, str]:
        """The contents of the prompts file and of the template's text (a file's, or the release's)."""
        text = self.prompt_template().text if not self.template.startswith(RELEASE) or self.release_dir else self.template
        return {"prompts": file_digest(self.prompts) if Path(self.prompts).is_file() else "missing",
                "template": hashlib.sha256(text.encode()).hexdigest()[:16]}
