"""Rule-based math rewards, graded by the evaluation grader (one code path for RL and evaluation).

The study's training reward (its verl fork's math verifier): the last `\\boxed{}` answer, +1 when it is
equivalent to the gold, -1 when it is wrong or missing; validation reports 0/1 accuracy. Optional
shaping from its variants: a format penalty unless there is exactly one box, a repetition penalty for
n-gram loops, and an overlong penalty for responses cut at the length limit.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from octothinker.eval.extract import count_boxed, last_boxed
from octothinker.eval.grading import GradeItem, VerifyPool, grade_many


class RewardConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scheme: Literal["pm1", "01"] = "pm1"      # +1/-1 (the study's training reward) or 1/0
    format_penalty: float | None = None        # reward when the response has no box or several (e.g. -1)
    repetition_penalty: float | None = None    # reward when the response loops (e.g. -2)
    overlong_penalty: float | None = None      # reward when the response hit the length limit
    family: Literal["number", "math"] = "math"


@dataclass(frozen=True)
class Scored:
    reward: float
    correct: bool
    extracted: str | None
    boxes: int
    repeated: bool


_WORD = re.compile(r"\S+")


def has_repetition(text: str, n: int = 8, times: int = 4) -> bool:
    """An n-word sequence occurring `times` times or more: the loops Llama falls into under RL."""
    words = _WORD.findall(text)
    if len(words) < n * times:
        return False
    counts = Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    return max(counts.values()) >= times


def score(completions: list[str], golds: list[str], truncated: list[bool], cfg: RewardConfig,
          pool: VerifyPool | None = None) -> list[Scored]:
    extracted = [last_boxed(c) for c in completions]
    correct = grade_many([GradeItem(e, g, cfg.family) for e, g in zip(extracted, golds)], pool)
    hit, miss = (1.0, -1.0) if cfg.scheme == "pm1" else (1.0, 0.0)
    out = []
    for text, ext, ok, cut in zip(completions, extracted, correct, truncated):
        boxes = count_boxed(text)
        repeated = cfg.repetition_penalty is not None and has_repetition(text)
        reward = hit if ok else miss
        if cfg.format_penalty is not None and boxes != 1:
            reward = min(reward, cfg.format_penalty)
        if repeated:
            reward = min(reward, cfg.repetition_penalty)
        if cut and cfg.overlong_penalty is not None:
            reward = min(reward, cfg.overlong_penalty)
        out.append(Scored(reward, ok, ext, boxes, repeated))
    return out
