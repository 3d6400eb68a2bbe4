"""RL-readiness probe: how a model behaves on RL prompts before any RL.

    octo probe runs/demo/decay-long/final --prompts runs/demo/world/problems/train.jsonl --k 8
    octo probe MODEL --prompts gsm8k --data-dir ../shared/benchmarks

On a sample of prompts, rendered with the RL template and sampled k times at the RL temperature:
pass@1 and pass@k (unbiased), the share of responses with an extractable boxed answer, the share cut
at the length limit, the mean response length, and the share caught in n-gram loops. The study's
diagnosis of Llama under RL (no final answer, runaway length, repetition) is what these measure.
"""

from __future__ import annotations

import random
from pathlib import Path

from octothinker.data.readers import jsonl_records
from octothinker.errors import DataError
from octothinker.eval.generation import SamplingParams, make_generator
from octothinker.eval.metrics import pass_at_k
from octothinker.rl.rewards import RewardConfig, score
from octothinker.rl.templates import get_template
from octothinker.runs import atomic_write_json


def probe_prompts(prompts: str, data_dir: str | None, limit: int, seed: int) -> list[tuple[str, str]]:
    """(question, answer) pairs from a JSONL file or a registry benchmark; a seeded sample of `limit`."""
    path = Path(prompts)
    if path.is_file():
        pairs = []
        for where, rec in jsonl_records(path):
            if "question" not in rec or "answer" not in rec:
                raise DataError(f"{where}: missing field 'question' or 'answer'")
            pairs.append((str(rec["question"]), str(rec["answer"])))
    else:
        from octothinker.eval.benchmarks import load_problems

        pairs = [(p.question, p.gold) for p in load_problems(prompts, data_dir)]
    random.Random(seed).shuffle(pairs)
    return pairs[:limit]


def probe(model: str, prompts: str, data_dir: str | None = None, k: int = 8, limit: int = 64,
          template: str = "complex", temperature: float = 1.0, max_new_tokens: int = 512, seed: int = 0,
          out: str | None = None, generator=None) -> dict:
    tpl = get_template(template)
    pairs = probe_prompts(prompts, data_dir, limit, seed)
    generator = generator or make_generator(model, backend="auto", seed=seed)
    outs = generator.generate([tpl.render(q) for q, _ in pairs], SamplingParams(
        max_new_tokens=max_new_tokens, temperature=temperature, n=k, stop=tpl.stop, seed=seed))
    comps = [c for group in outs for c in group]
    golds = [a for _, a in pairs for _ in range(k)]
    scored = score([c.text for c in comps], golds, [c.finish == "length" for c in comps],
                   RewardConfig(family="math", repetition_penalty=-1.0))
    correct = [[scored[i * k + j].correct for j in range(k)] for i in range(len(pairs))]
    report = {
        "model": model, "prompts": prompts, "problems": len(pairs), "k": k, "template": template,
        "temperature": temperature, "max_new_tokens": max_new_tokens,
        "pass@1": 100.0 * sum(pass_at_k(k, sum(c), 1) for c in correct) / len(pairs),
        f"pass@{k}": 100.0 * sum(pass_at_k(k, sum(c), k) for c in correct) / len(pairs),
        "answer_extracted": 100.0 * sum(s.extracted is not None for s in scored) / len(scored),
        "truncated": 100.0 * sum(c.finish == "length" for c in comps) / len(comps),
        "mean_response_tokens": sum(c.tokens for c in comps) / len(comps),
        "repetition": 100.0 * sum(s.repeated for s in scored) / len(scored),
    }
    if out:
        atomic_write_json(out, report)
    return report
