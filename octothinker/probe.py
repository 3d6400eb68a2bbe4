"""RL-readiness probe: how a model behaves on RL prompts before any RL.

    octo probe runs/demo/decay-long/final --prompts runs/demo/world/problems/train.jsonl --k 8
    octo probe MODEL --prompts gsm8k --data-dir benchmarks

On a sample of prompts, rendered with the RL template and sampled k times at the RL temperature:
pass@1 and pass@k (unbiased), the share of responses with an answer the task can read and the share
with a `\\boxed{}` answer (what the study's reward reads), the share cut at the length limit, the mean
response length, and the share caught in n-gram loops. The study's diagnosis of Llama under RL (no
final answer, runaway length, repetition) is what these measure. Answers are graded by the one scoring
path (`tasks.scoring`), exactly as `octo eval` grades them.
"""

from __future__ import annotations

import random
from pathlib import Path

from octothinker.errors import DataError
from octothinker.eval.config import SCORING_BATCH, ProbeSampling
from octothinker.eval.generation import SamplingParams, make_generator
from octothinker.eval.metrics import pass_at_k
from octothinker.eval.task import generate_and_grade, scored_task
from octothinker.eval.records import ProbeReport
from octothinker.rl.config import RLConfig
from octothinker.runs import atomic_write_json, derive_seed
from octothinker.runs.files import ensure_writable
from octothinker.runs.metrics import Progress
from octothinker.tasks.benchmarks import BENCHMARKS, get_benchmark, load_problems
from octothinker.tasks.extract import count_boxed
from octothinker.tasks.rewards import has_repetition
from octothinker.tasks.templates import DEFAULT_TEMPLATE, get_template


def probe_task(prompts: str) -> str:
    """A JSONL file of question/answer records is the task `probe=FILE`; anything else a benchmark name.
    A name that reads as a file (a folder in it, a file suffix) and is not there is a missing file."""
    if Path(prompts).is_file():
        return f"probe={prompts}"
    if prompts not in BENCHMARKS and "=" not in prompts and ("/" in prompts or Path(prompts).suffix):
        raise DataError(f"{prompts}: prompts file not found")
    return prompts


# The probe samples as RL does: by default at RL's temperature, declared in RLConfig.
RL_TEMPERATURE = RLConfig.model_fields["temperature"].default


def probe(model: str, prompts: str, data_dir: str | None = None, sampling: ProbeSampling = ProbeSampling(),
          template: str = DEFAULT_TEMPLATE, temperature: float = RL_TEMPERATURE, seed: int = 0, out: str | None = None,
          generator=None, release_dir: str | None = None) -> dict:
    k, limit, max_new_tokens, cutoff = sampling.k, sampling.limit, sampling.max_new_tokens, sampling.cutoff
    tpl = get_template(template, release_dir)
    spec = probe_task(prompts)
    task = get_benchmark(spec)
    problems = load_problems(spec, data_dir)
    random.Random(derive_seed(seed, "probe", "sample")).shuffle(problems)
    problems = problems[:limit]
    if out:
        ensure_writable(Path(out).parent)
    generator = generator or make_generator(model, backend="auto", seed=seed, max_batch=SCORING_BATCH)
    tpl = tpl.bind(getattr(generator, "tokenizer", None), model)
    bar = Progress(len(problems), "probe", every=max(1, len(problems) // 4), unit="prompt")
    graded = generate_and_grade(
        scored_task(task, problems, [tpl.render(p.question) for p in problems], tpl.stop, cutoff), generator,
        SamplingParams(max_new_tokens=max_new_tokens, temperature=temperature, n=k, stop=tpl.stop,
                       seed=derive_seed(seed, "probe", "sampling")), on_batch=bar.update)
    bar.close()
    comps, verdicts = [g.completion for g in graded], [g.verdict for g in graded]
    correct = [sum(v.correct for v in verdicts[i * k:(i + 1) * k]) for i in range(len(problems))]
    report = ProbeReport(
        model=model, prompts=prompts, problems=len(problems), k=k, template=template, temperature=temperature,
        max_new_tokens=max_new_tokens, seed=seed, cutoff=cutoff,
        pass_at_1=100.0 * sum(pass_at_k(k, c, 1) for c in correct) / len(problems),
        pass_at_k=100.0 * sum(pass_at_k(k, c, k) for c in correct) / len(problems),
        answer_extracted=100.0 * sum(v.extracted is not None for v in verdicts) / len(verdicts),
        boxed=100.0 * sum(count_boxed(c.text) > 0 for c in comps) / len(comps),
        truncated=100.0 * sum(c.finish == "length" for c in comps) / len(comps),
        mean_response_tokens=sum(c.tokens for c in comps) / len(comps),
        repetition=100.0 * sum(has_repetition(c.text) for c in comps) / len(comps),
        correct_per_problem=correct).as_json()
    if out:
        atomic_write_json(out, report)
    return report
