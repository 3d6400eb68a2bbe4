"""Rule-based math rewards for RL training, graded by the task grader.

The training reward is a named choice, `answer`:
- `last_boxed` (default, the study's: its verl fork's math verifier) reads only the last `\\boxed{}`;
  +1 when it is equivalent to the gold, -1 when it is wrong or missing. It rewards the answer format
  the RL template asks for, so a response without a box earns nothing even if its last line is right.
- `task` reads the answer as evaluation does (`\\boxed{}`, then "the answer is", then the last number).
Evaluation during RL always grades as `octo eval` does (tasks.scoring), whatever the training reward.
The release's verl fork names its reward variants (`data.reward_type` of its `math_verifier.py`);
`variant` offers each, `default` being the one its scripts use:
- `default`: +1 right, -1 otherwise (no box, a wrong box);
- `v2.wformat`: -1 without exactly one box or when the response loops, +1 right, -0.5 boxed but wrong;
- `v3.repeatpenalty`: -2 when the response loops, else `default`;
- `v4.repeatpenalty`: -2 with two boxes or more, or when the response loops, else `default`.
"Loops" is the fork's rule: a run of five or more copies of one piece of five or more characters on one
line (`release_repetition`). Further shaping of our own: a format penalty unless there is exactly one
box, a repetition penalty for n-gram loops, an overlong penalty for responses cut at the length limit.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal


from pydantic import model_validator

from octothinker.errors import Strict
from octothinker.tasks.extract import count_boxed, extract_answer, last_boxed
from octothinker.tasks.grading import GradeItem, VerifyPool, grade_many


ReleaseVariant = Literal["default", "v2.wformat", "v3.repeatpenalty", "v4.repeatpenalty"]


class RewardConfig(Strict):

    answer: Literal["last_boxed", "task"] = "last_boxed"  # what counts as the response's answer (see above)
    variant: ReleaseVariant = "default"        # the release fork's reward variants (see above)
    scheme: Literal["pm1", "01"] = "pm1"      # +1/-1 (the study's training reward) or 1/0
    format_penalty: float | None = None        # reward when the response has no box or several (e.g. -1)
    repetition_penalty: float | None = None    # reward when the response loops (e.g. -2)
    overlong_penalty: float | None = None      # reward when the response hit the length limit
    family: Literal["number", "math"] = "math"  # how answers are compared (numbers, or math-verify)

    @model_validator(mode="after")
    def _variants_are_pm1(self):
        if self.variant != "default" and self.scheme != "pm1":
            raise ValueError(f"variant {self.variant}: the fork's variants are +1/-1 rewards (scheme: pm1)")
        return self


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


def release_repetition(text: str, unit: int = 5, copies: int = 5) -> bool:
    """The fork's loop rule, its regex `(.{5,}?)\\1{4,}` without its cost: `copies` consecutive copies of
    a piece of at least `unit` characters, within one line (the regex's `.` stops at line ends). For each
    period p, a run of at least (copies - 1) * p positions where a character equals the one p later is
    such a loop. numpy compares a whole line per period, so a long line costs a fraction of a second,
    where the backtracking regex takes its square."""
    import numpy as np

    for line in text.split("\n"):
        n = len(line)
        if n < unit * copies:
            continue
        codes = np.frombuffer(line.encode("utf-32-le"), dtype=np.uint32)
        for period in range(unit, n // copies + 1):
            same = codes[period:] == codes[:-period]
            need = (copies - 1) * period
            if same.sum() < need:
                continue
            # the longest run of True: positions where the run restarts, cumulative counts between them
            edges = np.flatnonzero(np.diff(np.concatenate(([0], same.view(np.int8), [0]))))
            if (edges[1::2] - edges[::2]).max(initial=0) >= need:
                return True
    return False


def _variant_reward(variant: str, ok: bool, boxes: int, text: str, miss: float) -> float:
    hit = 1.0
    if variant == "v2.wformat":
        if boxes != 1 or release_repetition(text):
            return -1.0
        return hit if ok else -0.5
    if variant == "v3.repeatpenalty" and release_repetition(text):
        return -2.0
    if variant == "v4.repeatpenalty" and (boxes >= 2 or release_repetition(text)):
        return -2.0
    return hit if ok else miss


def reward(completions: list[str], golds: list[str], truncated: list[bool], cfg: RewardConfig,
          pool: VerifyPool | None = None) -> list[Scored]:
    if cfg.answer == "last_boxed":
        extracted = [last_boxed(c) for c in completions]
    else:
        extracted = [extract_answer(c, cfg.family) for c in completions]
    correct = grade_many([GradeItem(e, g, cfg.family) for e, g in zip(extracted, golds)], pool)
    miss = -1.0 if cfg.scheme == "pm1" else 0.0
    out = []
    for text, ext, ok, cut in zip(completions, extracted, correct, truncated):
        boxes = count_boxed(text)
        repeated = cfg.repetition_penalty is not None and has_repetition(text)
        reward = _variant_reward(cfg.variant, ok, boxes, text, miss)
        if cfg.format_penalty is not None and boxes != 1:
            reward = min(reward, cfg.format_penalty)
        if repeated:
            reward = min(reward, cfg.repetition_penalty)
        if cut and cfg.overlong_penalty is not None:
            reward = min(reward, cfg.overlong_penalty)
        out.append(Scored(reward, ok, ext, boxes, repeated))
    return out
