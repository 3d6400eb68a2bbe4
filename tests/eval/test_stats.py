import math

import pytest
from hypothesis import given, settings, strategies as st

from octothinker.eval.stats import bootstrap, canonical_answer, mean, question_independent, ranks, spearman, wilson


def test_wilson_known_values():
    # Wilson (1927) for 1 of 2: centre 0.5, half-width 0.4055 (z = 1.96)
    assert wilson(1, 2) == pytest.approx((0.0945, 0.9055), abs=1e-4)
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)  # never a negative lower bound
    assert wilson(50, 100) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)
    # the interval holds the proportion itself, exactly (rounding once left 0 of 3 outside it, by 5.6e-17)
    assert wilson(0, 3)[0] == 0.0 and wilson(3, 3)[1] == 1.0


def test_bootstrap_of_a_constant_and_of_a_paired_difference():
    assert bootstrap([[1.0] * 30], mean) == (1.0, 1.0, 1.0)
    end, start = [1.0] * 50 + [0.0] * 50, [0.0] * 100
    point, lo, hi = bootstrap([end, start], lambda e, s: mean(e) - mean(s), n_boot=1000)
    assert point == 0.5 and 0.39 < lo < 0.5 < hi < 0.61  # about +-1.96 * sqrt(0.25 / 100)
    # paired: the same problems in both columns, so a shared per-problem offset cancels
    noisy = [float(i % 7) for i in range(100)]
    point, lo, hi = bootstrap([[x + 1 for x in noisy], noisy], lambda a, b: mean(a) - mean(b))
    assert (point, lo, hi) == pytest.approx((1.0, 1.0, 1.0))
    with pytest.raises(ValueError):
        bootstrap([[1.0], [1.0, 2.0]], mean)


def test_bootstrap_is_seeded():
    values = [float(i % 3) for i in range(40)]
    assert bootstrap([values], mean, seed=4) == bootstrap([values], mean, seed=4)


def test_spearman_and_ranks():
    assert ranks([10, 20, 20, 30]) == [1.0, 2.5, 2.5, 4.0]
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2], [1, 2]) is None and spearman([1, 1, 1], [1, 2, 3]) is None
    # d = (0, 0, 1, -1): 1 - 6 * 2 / (4 * 15) = 0.8
    assert spearman([1, 2, 3, 4], [1, 2, 4, 3]) == pytest.approx(0.8)


def test_question_independent_baselines():
    golds = {"1": 3, "2": 1}                       # four problems
    answers = {"1": 2, "2": 2}                     # four samples; none unanswered
    b = question_independent(answers, golds)
    assert b["most_common"] == 75.0
    assert b["shuffled"] == pytest.approx(100 * (2 * 3 + 2 * 1) / 16)
    assert question_independent({"1": 2}, golds, unanswered=2)["shuffled"] == pytest.approx(100 * 6 / 16)
    assert math.isnan(question_independent({}, {})["most_common"])
    assert canonical_answer("1,000") == "1000" and canonical_answer("7.0") == "7" and canonical_answer("Yes") == "yes"


def test_spearman_interval():
    from octothinker.eval.stats import spearman_interval

    # three models whose probe and outcome agree perfectly and far apart: rho 1 in every resample
    probe = [[0.0] * 20, [0.5] * 20, [1.0] * 20]
    outcome = [[0.1] * 30, [0.4] * 30, [0.9] * 30]
    assert spearman_interval(probe, outcome, n_boot=200) == (1.0, 1.0, 1.0)
    # a model whose probe is noise between two others: the interval widens
    mixed = [[0.0] * 20, [float(i % 2) for i in range(20)], [1.0] * 20]
    rho, lo, hi = spearman_interval(mixed, [[0.1] * 30, [0.9] * 30, [0.4] * 30], n_boot=300)
    assert rho == pytest.approx(0.5) and lo <= 0.5 <= hi


def test_spearman_permutation_p_counts_the_orderings_as_good():
    from octothinker.eval.stats import spearman_permutation_p

    assert spearman_permutation_p([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1 / 24)  # the best 4 can do
    # rho 0.8: the identity and the three adjacent swaps reach it, 4 of 24 orderings
    assert spearman_permutation_p([1, 2, 3, 4], [1, 2, 4, 3]) == pytest.approx(4 / 24)
    assert spearman_permutation_p([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(1.0)
    assert spearman_permutation_p([1, 2, 3], [5, 5, 5]) is None
    # beyond exact_up_to models, random orderings: a perfect ranking of 10 is about 1/10! (none of 20,000)
    assert spearman_permutation_p(list(range(10)), list(range(10))) < 1e-3


def test_the_bootstrap_resamples_every_problem():
    """A bootstrap that never draws one of the problems (an off-by-one in its indices) would bias every
    interval: a problem that alone scores 1 must move the resampled means, both up and down."""
    for n in (2, 5, 40):
        for lone in (0, n - 1):
            values = [1.0 if i == lone else 0.0 for i in range(n)]
            point, lo, hi = bootstrap([values], mean, n_boot=4000)
            assert point == pytest.approx(1 / n)
            assert lo == 0.0 and hi > point  # resamples without it, and with it more than once


@settings(max_examples=50, deadline=None, derandomize=True)
@given(values=st.lists(st.floats(0, 1), min_size=1, max_size=60), seed=st.integers(0, 10))
def test_an_interval_covers_its_point(values, seed):
    point, lo, hi = bootstrap([values], mean, n_boot=200, seed=seed)
    assert lo - 1e-9 <= point <= hi + 1e-9
    successes = round(sum(values))
    low, high = wilson(successes, len(values))
    assert 0.0 <= low <= successes / len(values) <= high <= 1.0
