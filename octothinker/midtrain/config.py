"""Mid-training's settings: one declaration, read by `octo midtrain`, the trainer and the study. Kept apart
from the trainer so that a recipe validates, and `--plan` and `--help` run, without importing torch."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from octothinker.errors import Strict, check_names
from octothinker.midtrain.schedule import DecayShape, Schedule
from octothinker.runs.files import file_digest
from octothinker.runs.metrics import LoggingSpec

# Dense bf16 peaks (vendor data sheets): MFU against a sparse figure or a wrong device is meaningless
# (torchtitan#1201, nanoGPT#464).
PEAK_BF16_TFLOPS = {"H200": 989.4, "H100 PCIe": 756.0, "H100": 989.4, "A100": 312.0, "L40S": 362.0, "A10G": 125.0}


class LaunchSpec(Strict):
    nproc_per_node: int = Field(1, ge=1)    # processes (GPUs) per node
    nnodes: int = Field(1, ge=1)
    rdzv_endpoint: str | None = None        # host:port where the ranks meet (several nodes)

    @model_validator(mode="after")
    def _endpoint_form(self):
        if self.rdzv_endpoint is not None and not self.rdzv_endpoint.rpartition(":")[2].isdigit():
            raise ValueError(f"rdzv_endpoint {self.rdzv_endpoint!r} is not host:port")
        return self

    @property
    def world_size(self) -> int:
        return self.nproc_per_node * self.nnodes


class TrainConfig(Strict):

    seq_len: int = Field(512, ge=8)
    global_batch_tokens: int = Field(32768, gt=0)   # the study: 4M tokens (512 sequences of 8k)
    micro_batch: int = Field(8, ge=1)               # sequences per rank per forward pass
    betas: tuple[float, float] = (0.9, 0.95)
    weight_decay: float = Field(0.1, ge=0)          # not applied to norms and biases
    eps: float = Field(1e-8, gt=0)
    grad_clip: float = Field(1.0, gt=0)
    dtype: Literal["auto", "bf16", "fp32"] = "auto"  # auto: bf16 autocast on CUDA, fp32 on CPU
    compile: bool = False
    activation_checkpointing: bool = False
    seed: int = 0
    checkpoint_every: int = Field(100, ge=1)        # steps
    keep_checkpoints: int = Field(2, ge=1)
    device: str | None = None
    peak_tflops: float | None = Field(None, gt=0)   # overrides the device's dense bf16 peak for MFU
    logging: LoggingSpec = Field(default_factory=LoggingSpec)

    def resume_settings(self) -> dict:
        """What a checkpoint must have been written under to be continued (not how it is run or logged)."""
        return self.model_dump(exclude={"checkpoint_every", "keep_checkpoints", "device", "logging", "compile",
                                        "activation_checkpointing", "peak_tflops"})


class StageRun(Strict):

    name: str
    data: str                      # shard folder
    init: str                      # HF folder: config, tokenizer and (without init_checkpoint) weights
    init_checkpoint: str | None = None  # a checkpoint whose weights and optimizer state start this stage
    schedule: Schedule
    tokens: int
    out: str
    train: TrainConfig

    def resume_settings(self) -> dict:
        """The trainer's, the stage's own, and what its shard folder holds (its index names every shard
        with its documents and tokens): shards rebuilt from other data under the same folder are another run."""
        index = Path(self.data) / "index.json"
        return {**self.model_dump(include={"name", "data", "init", "init_checkpoint", "schedule", "tokens"}),
                "train": self.train.resume_settings(),
                "inputs": {"data": file_digest(index) if index.is_file() else "missing"}}


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


class PretrainSpec(Strict):
    """Pre-train a fresh model into the study's "base" (the demo's stand-in for a general base model)."""
    data: str
    tokens: int = Field(gt=0)
    lr: float = Field(gt=0)
    warmup_tokens: int = Field(0, ge=0)
    final_lr: float = Field(FINAL_LR, ge=0)
    size: str = "tiny"
