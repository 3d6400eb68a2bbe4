"""Uncertainty for every accuracy we report: pure functions, tested with known values.

- `wilson`: the 95% Wilson score interval of a proportion (Wilson 1927), right near 0% and 100%
  where the normal approximation is not.
- `bootstrap`: a percentile bootstrap over problems (Efron 1979) of any statistic of per-problem
  values. Problems are the unit that varies: resampling them keeps each problem's samples, and each
  model's or seed's value for it, together (a paired bootstrap).
- `spearman`: rank correlation with average ranks for ties (written out: ten lines do not justify a
  SciPy dependency).
- `question_independent`: what answering without reading the question scores, the baseline every
  accuracy sits next to.

    lo, hi = wilson(37, 200)                                   # 0.13.. 0.24..
    point, lo, hi = bootstrap([per_problem_end, per_problem_start], lambda e, s: mean(e) - mean(s))
    # vectorised: the statistic gets [n_boot, problems] arrays and returns one value per resample
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
from collections.abc import Callable, Sequence

Z95 = 1.959963984540054


def wilson(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval of a proportion, as fractions in [0, 1]."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # the interval holds p, exactly: rounding once put 0 of 3 under a lower bound of 5.6e-17 (Hypothesis)
    return (min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half)))


def mean(values):
    """Mean over the last axis: a number for a list of values, one mean per row for a 2-D array (which
    is how `bootstrap` evaluates every resample at once)."""
    values = np.asarray(values, dtype=float)
    if values.shape[-1] == 0:
        return float("nan")
    out = values.mean(axis=-1)
    return float(out) if out.ndim == 0 else out


def bootstrap(columns: Sequence[Sequence[float]], statistic: Callable, n_boot: int = 2000, seed: int = 0,
              level: float = 0.95) -> tuple[float, float, float]:
    """(point, lo, hi): the statistic of the per-problem `columns` (each a list over the same problems)
    and its percentile interval over `n_boot` resamples of the problems. The statistic is built from
    `mean` and arithmetic, so that it evaluates all resamples at once on [n_boot, problems] arrays;
    undefined (nan) resamples are skipped."""
    cols = [np.asarray(c, dtype=float) for c in columns]
    n = len(cols[0])
    if any(len(c) != n for c in cols):
        raise ValueError("every column needs one value per problem")
    if not 0 < level <= 1:
        raise ValueError(f"level {level}: an interval's level is above 0 and at most 1")
    point = statistic(*cols)
    if point is None or n == 0:
        return (float("nan"),) * 3
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    draws = np.asarray(statistic(*(c[idx] for c in cols)), dtype=float)
    draws = np.sort(draws[~np.isnan(draws)])
    if not len(draws):
        return (float(point), float("nan"), float("nan"))
    tail = (1 - level) / 2
    # 1e-9: (1 - 0.9) / 2 is 0.0499..., which would leave one draw fewer outside each side than asked.
    # For a level in (0, 1] both indices fall within the draws: lo at most half-way, hi at most the last.
    lo = draws[int(math.floor(tail * len(draws) + 1e-9))]
    hi = draws[int(math.ceil((1 - tail) * len(draws) - 1e-9)) - 1]
    return (float(point), float(lo), float(hi))


def ranks(values: Sequence[float]) -> list[float]:
    """Average ranks (ties share the mean rank), 1-based."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman rank correlation; None with fewer than 3 points or no spread."""
    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    rx, ry = ranks(x), ranks(y)
    mx, my = mean(rx), mean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    var = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return cov / var if var else None


def spearman_permutation_p(x: Sequence[float], y: Sequence[float], exact_up_to: int = 8, draws: int = 20_000,
                           seed: int = 0) -> float | None:
    """One-sided p-value of Spearman's rho over the models themselves: the share of orderings of `y`
    against `x` whose rho is at least the observed one (all n! orderings up to `exact_up_to` models, else
    `draws` random ones). With n models no ranking can do better than 1/n!: with 4, 1/24."""
    observed = spearman(x, y)
    if observed is None:
        return None
    if len(y) <= exact_up_to:
        orders = list(itertools.permutations(y))
    else:
        rng = random.Random(seed)
        orders = [rng.sample(list(y), len(y)) for _ in range(draws)]
    at_least = sum(1 for order in orders if (spearman(x, order) or 0.0) >= observed - 1e-12)
    return at_least / len(orders)


def question_independent(answer_counts: dict[str, int], gold_counts: dict[str, int], unanswered: int = 0) -> dict:
    """Two accuracies of answering without reading the question, in %:
    - `most_common`: always giving the test set's most common gold answer (the best constant answer);
    - `shuffled`: the model's own answers given to random other problems (its answer distribution,
      detached from the questions), exact over all permutations: sum_v n_answers(v) n_golds(v) / (N n),
      N counting unanswered samples too. Counts are of canonical answers (`canonical_answer`)."""
    n = sum(gold_counts.values())
    samples = sum(answer_counts.values()) + unanswered
    if n == 0 or samples == 0:
        return {"most_common": float("nan"), "shuffled": float("nan")}
    shuffled = sum(c * gold_counts.get(v, 0) for v, c in answer_counts.items()) / (samples * n)
    return {"most_common": 100.0 * max(gold_counts.values()) / n, "shuffled": 100.0 * shuffled}


def canonical_answer(answer: str) -> str:
    """An answer as a constant or shuffled answer could match it: numbers without separators or a
    trailing .0, other text lower-cased."""
    text = str(answer).strip().replace(",", "")
    try:
        value = float(text)
    except (ValueError, OverflowError):
        return text.lower()
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def spearman_interval(probe: Sequence[Sequence[float]], outcome: Sequence[Sequence[float]], n_boot: int = 2000,
                      seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """(rho, lo, hi): Spearman between the models' mean probe score and mean outcome, each a list of
    per-problem values for every model; the interval resamples the probe's problems and the outcome's
    problems (two different sets) independently, the same draw for every model."""
    def rho(p_idx, o_idx):
        return spearman([mean([col[i] for i in p_idx]) for col in probe],
                        [mean([col[i] for i in o_idx]) for col in outcome])

    n_p, n_o = len(probe[0]), len(outcome[0])
    point = rho(range(n_p), range(n_o))
    rng = random.Random(seed)
    draws = sorted(v for v in (rho([rng.randrange(n_p) for _ in range(n_p)], [rng.randrange(n_o) for _ in range(n_o)])
                               for _ in range(n_boot)) if v is not None)
    if point is None or not draws:
        return (float("nan"), float("nan"), float("nan"))
    tail = (1 - level) / 2
    return (point, draws[int(math.floor(tail * len(draws)))], draws[int(math.ceil((1 - tail) * len(draws))) - 1])
