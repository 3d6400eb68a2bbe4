"""The one scoring path: a completion's verdict under a task, the same for `octo eval`, RL's periodic
evaluation, the probe and the verl reward module's validation rows.

    verdicts = score(get_benchmark("gsm8k"), completions, golds)     # [Verdict(extracted, correct)]
"""

from __future__ import annotations

from dataclasses import dataclass

from octothinker.tasks.benchmarks import Benchmark
from octothinker.tasks.grading import GradeItem, VerifyPool, grade_many


@dataclass(frozen=True)
class Verdict:
    extracted: str | None
    correct: bool


def score(task: Benchmark, completions: list[str], golds: list[str], pool: VerifyPool | None = None) -> list[Verdict]:
    """Extract each completion's answer as the task does, then grade it against its gold."""
    extracted = [task.extract(c) for c in completions]
    correct = grade_many([GradeItem(e, g, task.family, task.rel_tol) for e, g in zip(extracted, golds)], pool)
    return [Verdict(e, ok) for e, ok in zip(extracted, correct)]
