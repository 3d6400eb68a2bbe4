"""One task object and one generate-and-grade step, shared by `octo eval`, RL's held-out evaluation and the
RL-readiness probe (nanochat's task objects): each builds an `EvalTask` (its problems, prompts, stop words
and grader) and gets its graded samples from `generate_and_grade`, so the three cannot grade apart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from octothinker.eval.generation import Completion, Generator, SamplingParams
from octothinker.tasks.benchmarks import Benchmark, Problem
from octothinker.tasks.scoring import CutoffRule, score


@dataclass
class EvalTask:
    """One benchmark under one harness and prompt: its problems, prompts, stop words and verdicts. `grade`
    maps (problems, completions, cut at the token limit) to verdicts with `.extracted` and `.correct`."""
    name: str
    problems: list            # tasks.benchmarks.Problem or tasks.release.ReleaseProblem
    prompts: list[str]
    stop: tuple[str, ...]
    grade: Callable[[list, list[str], list[bool]], list]


@dataclass
class GradedSample:
    problem: int              # index into the task's problems
    sample: int               # 0 .. n-1
    completion: Completion
    verdict: object           # tasks.scoring.Verdict, or the release harness's verdict


def scored_task(bench: Benchmark, problems: list[Problem], prompts: list[str], stop: tuple[str, ...],
                cutoff: CutoffRule) -> EvalTask:
    """A registry benchmark graded by the one scoring path (`tasks.scoring`) under `cutoff`."""
    return EvalTask(bench.name, problems, prompts, stop,
                    lambda probs, texts, cut: score(bench, texts, [p.gold for p in probs], cut=cut, cutoff=cutoff))


def generate_and_grade(task: EvalTask, generator: Generator, params: SamplingParams,
                       indices: Sequence[int] | None = None, on_batch=None) -> list[GradedSample]:
    """`params.n` completions of each problem of `indices` (default: all) and their verdicts, problem by
    problem, sample by sample."""
    indices = range(len(task.problems)) if indices is None else indices
    outs = generator.generate([task.prompts[i] for i in indices], params, on_batch=on_batch)
    flat = [(i, s, c) for i, comps in zip(indices, outs) for s, c in enumerate(comps)]
    verdicts = task.grade([task.problems[i] for i, _, _ in flat], [c.text for _, _, c in flat],
                          [c.finish == "length" for _, _, c in flat])
    return [GradedSample(i, s, c, v) for (i, s, c), v in zip(flat, verdicts)]
