"""The one scoring path: a completion's verdict under a task, the same for `octo eval`, RL's periodic
evaluation, the probe and the verl reward module's validation rows.

    verdicts = score(get_benchmark("gsm8k"), completions, golds, cut=[c.finish == "length" for c in comps])

A completion cut off at the token limit is graded by a named rule (`cutoff`, one setting of evaluation,
RL's evaluation and the probe):
- `final-answer` (default): only an answer it states as final counts: its last `\\boxed{}` (what the
  released verl reward reads from whatever was generated) or "the answer is"; never the last number it
  happened to write before it was cut (`... 152972 x 2 =` is no answer, not "2"). With none, no answer.
- `no-answer`: a cut-off completion is no answer at all (an evaluation harness's strictest reading).
- `as-complete`: graded like a finished completion, last-number fallback included (earlier versions).
A finished completion is always graded in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from octothinker.tasks.benchmarks import Benchmark
from octothinker.tasks.grading import GradeItem, VerifyPool, grade_many

CutoffRule = Literal["final-answer", "no-answer", "as-complete"]
DEFAULT_CUTOFF: CutoffRule = "final-answer"


@dataclass(frozen=True)
class Verdict:
    extracted: str | None
    correct: bool


def extract(task: Benchmark, completion: str, cut: bool, cutoff: CutoffRule = DEFAULT_CUTOFF) -> str | None:
    """The answer `task` reads from a completion, under the cut-off rule when it was cut (`cut`)."""
    if not cut or cutoff == "as-complete":
        return task.extract(completion)
    if cutoff == "no-answer":
        return None
    return task.extract(completion, fallback=False)


def score(task: Benchmark, completions: list[str], golds: list[str], pool: VerifyPool | None = None,
          cut: list[bool] | None = None, cutoff: CutoffRule = DEFAULT_CUTOFF) -> list[Verdict]:
    """Extract each completion's answer as the task does, then grade it against its gold. `cut` marks the
    completions that hit the token limit (none when not given)."""
    cut = cut if cut is not None else [False] * len(completions)
    extracted = [extract(task, c, k, cutoff) for c, k in zip(completions, cut)]
    correct = grade_many([GradeItem(e, g, task.family, task.tolerance) for e, g in zip(extracted, golds)], pool)
    return [Verdict(e, ok) for e, ok in zip(extracted, correct)]
