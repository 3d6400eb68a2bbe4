"""Rule-based math rewards for RL training, graded by the task grader.

The training reward is a named choice, `answer`:
- `last_boxed` (default, the study's: its verl fork's math verifier) reads only the last `\\boxed{}`;
  +1 when it is equivalent to the gold, -1 when it is wrong or missing. It rewards the answer format
  the RL template asks for, so a response without a box earns nothing even if its last line is right.
- `task` reads the answer as evaluation does (`\\boxed{}`, then "the answer is", then the last number).
Evaluation during RL always grades as `octo eval` does (tasks.scoring), whatever the training reward.
Optional shaping from the study's variants: a format penalty unless there is exactly one box, a
repetition penalty for n-gram loops, and an overlong penalty for responses cut at the length limit.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal


from octothinker.errors import Strict
from octothinker.tasks.extract import count_boxed, extract_answer, last_boxed
from octothinker.tasks.grading import GradeItem, VerifyPool, grade_many


class RewardConfig(Strict):

    answer: Literal["last_boxed", "task"] = "last_boxed"  # what counts as the response's answer (see above)
    scheme: Literal["pm1", "01"] = "pm1"      # +1/-1 (the study's training reward) or 1/0
    format_penalty: float | None = None        # reward when the response has no box or several (e.g. -1)
    repetition_penalty: float | None = None    # reward when the response loops (e.g. -2)
    overlong_penalty: float | None = None      # reward when the response hit the length limit
    family: Literal["number", "math"] = "math"  # how answers are compared (numbers, or math-verify)


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


def reward(completions: list[str], golds: list[str], truncated: list[bool], cfg: RewardConfig,
          pool: VerifyPool | None = None) -> list[Scored]:
    if cfg.answer == "last_boxed":
        extracted = [last_boxed(c) for c in completions]
    else:
        extracted = [extract_answer(c, cfg.family) for c in completions]
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
