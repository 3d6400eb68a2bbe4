"""Learning-rate schedules as pure functions of the step (tested with exact values).

Warmup-stable-decay: linear warmup to the peak, constant, then decay to `final_lr` over `decay_steps`
in one of three shapes: cosine, linear, or 1-sqrt (Hägele et al. 2024, "Scaling Laws and
Compute-Optimal Training Beyond Fixed Training Durations"). OctoThinker's stable stage holds a constant
rate (no warmup reported); each decay branch starts from the stable checkpoint at the stable rate, with
no new warmup, and decays it (cosine in the paper).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from octothinker.errors import Strict

DecayShape = Literal["cosine", "linear", "1-sqrt"]


class Schedule(Strict):

    peak_lr: float = Field(gt=0)
    warmup_steps: int = Field(0, ge=0)
    stable_steps: int = Field(0, ge=0)     # steps at peak_lr after warmup
    decay_steps: int = Field(0, ge=0)
    final_lr: float = Field(0.0, ge=0)
    shape: DecayShape = "cosine"

    @property
    def total_steps(self) -> int:
        return self.warmup_steps + self.stable_steps + self.decay_steps


def for_tokens(tokens: int, batch_tokens: int, peak_lr: float, warmup_tokens: int = 0, decay: bool = False,
               final_lr: float = 0.0, shape: DecayShape = "cosine") -> Schedule:
    """A stage of `tokens` in optimizer steps of `batch_tokens`: warmup (at most the whole stage), then the
    peak rate, or with `decay` the rest of the stage decaying to `final_lr` (a decay branch: no warmup)."""
    steps = tokens // batch_tokens
    warmup = min(warmup_tokens // batch_tokens, steps)
    decay_steps = steps - warmup if decay else 0
    return Schedule(peak_lr=peak_lr, warmup_steps=warmup, stable_steps=steps - warmup - decay_steps,
                    decay_steps=decay_steps, final_lr=final_lr, shape=shape)


def decay_factor(progress: float, shape: DecayShape) -> float:
    """1 at the start of the decay, 0 at its end; `progress` in [0, 1]."""
    progress = min(max(progress, 0.0), 1.0)
    if shape == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    if shape == "linear":
        return 1.0 - progress
    if shape == "1-sqrt":
        return 1.0 - math.sqrt(progress)
    raise ValueError(f"unknown decay shape {shape!r}")


def lr_at(step: int, s: Schedule) -> float:
    """Learning rate for optimizer step `step` (0-based)."""
    if step < s.warmup_steps:
        return s.peak_lr * (step + 1) / s.warmup_steps
    step -= s.warmup_steps
    if step < s.stable_steps or s.decay_steps == 0:
        return s.peak_lr
    progress = (step - s.stable_steps) / s.decay_steps
    return s.final_lr + (s.peak_lr - s.final_lr) * decay_factor(progress, s.shape)
