"""Pure metric functions: unbiased pass@k, majority vote, per-benchmark summaries with intervals."""

from __future__ import annotations

from collections import Counter
from math import comb

from octothinker.eval.stats import bootstrap, canonical_answer, mean, question_independent, wilson
from octothinker.tasks.grading import normalize_text


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct (Chen et al. 2021): 1 - C(n-c, k) / C(n, k)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def majority_correct(samples: list[dict]) -> bool:
    """Is the most frequent extracted answer correct? Ties go to the earliest sample's answer."""
    answered = [s for s in samples if s.get("extracted") is not None]
    if not answered:
        return False
    keys = [normalize_text(str(s["extracted"])) for s in answered]
    top = max(Counter(keys).items(), key=lambda kv: (kv[1], -keys.index(kv[0])))[0]
    return bool(answered[keys.index(top)]["correct"])


def summarize(records: list[dict], n: int) -> dict:
    """Accuracy (pass@1 averaged over samples), maj@n, pass@k, lengths and failure rates."""
    by_problem: dict[str, list[dict]] = {}
    for rec in records:
        by_problem.setdefault(rec["id"], []).append(rec)
    problems = len(by_problem)
    if not problems:
        return {"problems": 0, "samples": 0}
    per_problem = [sum(s["correct"] for s in ss) / len(ss) for ss in by_problem.values()]
    if n == 1:  # one answer a problem: a proportion
        lo, hi = wilson(sum(per_problem), problems)
    else:       # several: the problems, not the samples, are what varies
        _, lo, hi = bootstrap([per_problem], mean)
    summary = {
        "problems": problems,
        "samples": len(records),
        "accuracy": 100.0 * sum(per_problem) / problems,
        "accuracy_ci": [100.0 * lo, 100.0 * hi],
        "baseline": question_independent(
            Counter(canonical_answer(r["extracted"]) for r in records if r["extracted"] is not None),
            Counter(canonical_answer(ss[0]["gold"]) for ss in by_problem.values()),
            sum(r["extracted"] is None for r in records)),
        "mean_response_tokens": sum(r["response_tokens"] for r in records) / len(records),
        "extraction_failure_rate": 100.0 * sum(r["extracted"] is None for r in records) / len(records),
        "truncation_rate": 100.0 * sum(r.get("finish") == "length" for r in records) / len(records),
    }
    if n > 1:
        summary[f"maj@{n}"] = 100.0 * sum(majority_correct(ss) for ss in by_problem.values()) / problems
        k = 1
        while k <= n:
            summary[f"pass@{k}"] = 100.0 * sum(
                pass_at_k(len(ss), sum(s["correct"] for s in ss), k) for ss in by_problem.values()) / problems
            k *= 2
    return summary
