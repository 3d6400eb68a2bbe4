import math
import random

import numpy as np
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


def test_wilson_of_one_success_in_one():
    # k = n = 1: centre + half is exactly 1, and centre - half = 1 / (1 + z^2) = 0.2065 (z = 1.96): one trial
    # is still an interval, not the uninformative [0, 1] of no trial at all
    lo, hi = wilson(1, 1)
    assert lo == pytest.approx(1 / (1 + 1.959963984540054 ** 2)) and hi == 1.0


def test_wilson_never_leaves_zero_to_one():
    # at k = n the upper bound is 1 in exact arithmetic, and rounds above it for some n (16 is the first)
    for n in range(1, 200):
        assert wilson(n, n)[1] == 1.0 and wilson(0, n)[0] == 0.0


def test_mean_of_nothing_is_nan_and_of_a_list_a_plain_float():
    assert math.isnan(mean([]))
    # a plain float, not a numpy scalar (whose repr, under numpy 2, is `np.float64(1.5)`): the report's tables
    # and findings.json take the number as it is
    assert type(mean([1, 2])) is float and mean([1, 2]) == 1.5
    assert mean(np.array([[1.0, 2.0], [3.0, 5.0]])).tolist() == [1.5, 4.0]


def test_mean_accumulates_in_double_precision():
    # float32 per-problem values (e.g. token counts from a tensor): summed in float32, 1e8 + 1 rounds to 1e8
    values = np.array([1e8, 1.0, -1e8], dtype=np.float32)
    assert mean(values) == pytest.approx(1 / 3)


def test_bootstrap_of_boolean_columns_is_a_difference_of_rates():
    # right/wrong per problem as booleans: numpy refuses `-` on bool arrays, so columns are read as floats
    right = [True, False, True, True]
    before = [False, False, True, False]
    point, lo, hi = bootstrap([right, before], lambda a, b: mean(a - b), n_boot=200)
    assert point == 0.5 and 0.0 <= lo <= 0.5 <= hi <= 1.0


def _row_spearman(x, y):
    """Spearman over problems, one value per resample (None where a resample has no spread)."""
    if x.ndim == 1:
        return spearman(x, y)
    return [spearman(a, b) for a, b in zip(x, y)]


def test_undefined_resamples_are_skipped_not_counted():
    # 3 problems: a ninth of resamples draw one problem thrice, where rho is undefined (None); every
    # other resample ranks them in the same order (rho 1), so skipping leaves [1, 1], counting them would not
    assert bootstrap([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]], _row_spearman, n_boot=300) == (1.0, 1.0, 1.0)


def test_an_undefined_point_or_no_problems_give_no_estimate():
    for result in (bootstrap([[]], mean), bootstrap([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]], _row_spearman)):
        assert len(result) == 3 and all(math.isnan(v) for v in result)


def test_without_a_defined_resample_the_point_stands_alone():
    point, lo, hi = bootstrap([[0.0, 1.0, 1.0]], mean, n_boot=0)
    assert point == pytest.approx(2 / 3) and math.isnan(lo) and math.isnan(hi)


def _continuous(n, seed):
    rng = random.Random(seed)
    return [rng.random() for _ in range(n)]


def test_a_percentile_interval_leaves_its_tail_of_resamples_on_each_side():
    values = _continuous(60, 1)
    seen = []

    def recorded_mean(v):
        out = mean(v)
        seen.append(out)
        return out

    # (1 - 0.9) / 2 rounds to 0.04999.. in binary: still 5% of the resamples outside each side
    for n_boot, level, outside in ((2000, 0.95, 50), (2000, 0.5, 500), (1000, 0.95, 25), (1000, 0.9, 50)):
        seen.clear()
        point, lo, hi = bootstrap([values], recorded_mean, n_boot=n_boot, level=level)
        draws = np.asarray(seen[1])  # seen[0] is the point
        assert len(draws) == n_boot and len(set(draws.tolist())) == n_boot  # distinct: counts are exact
        assert (draws < lo).sum() == outside and (draws > hi).sum() == outside
    # with fewer than 40 resamples, 2.5% of them is less than one: the 95% interval spans them all
    seen.clear()
    _, lo, hi = bootstrap([values], recorded_mean, n_boot=20)
    assert (lo, hi) == (seen[1].min(), seen[1].max())


def test_any_level_on_any_number_of_resamples_picks_resamples_in_order():
    """Level 1 spans every resample, a level near 0 closes on the middle ones; with one or two resamples
    too. A level outside (0, 1] is refused."""
    values = _continuous(10, 3)
    for n_boot in (1, 2, 3, 40):
        seen = []
        for level in (0.01, 0.5, 0.95, 1.0):
            seen.clear()
            _, lo, hi = bootstrap([values], lambda v: seen.append(mean(v)) or seen[-1], n_boot=n_boot, level=level)
            draws = np.sort(seen[1])
            assert lo in draws and hi in draws and lo <= hi
            if level == 1.0:
                assert (lo, hi) == (draws[0], draws[-1])
            if level == 0.01:
                assert (lo, hi) == (draws[(n_boot - 1) // 2], draws[n_boot // 2])
    for level in (0.0, -0.5, 1.5):
        with pytest.raises(ValueError, match=f"^level {level}: "):
            bootstrap([values], mean, level=level)


def test_the_default_bootstrap_is_2000_resamples_of_every_problem_from_seed_0():
    values = _continuous(30, 2)
    shapes = []

    def recorded_mean(v):
        shapes.append(np.shape(v))
        return mean(v)

    assert bootstrap([values], recorded_mean) == bootstrap([values], mean, n_boot=2000, seed=0)
    assert shapes == [(30,), (2000, 30)]
    # the seed is what the interval depends on: another seed, another interval (of continuous values)
    assert bootstrap([values], mean, seed=1) != bootstrap([values], mean, seed=0)


def test_bootstrap_refuses_columns_of_different_problems():
    with pytest.raises(ValueError, match="^every column needs one value per problem$"):
        bootstrap([[1.0, 2.0], [1.0]], mean)


def _brute_ranks(values):
    # rank by definition: 1 + how many lie below, plus half of the others tied with it
    return [1 + sum(w < v for w in values) + (sum(w == v for w in values) - 1) / 2 for v in values]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(values=st.lists(st.integers(0, 4), min_size=1, max_size=9))
def test_ranks_are_average_ranks(values):
    assert ranks(values) == _brute_ranks(values)


def test_ties_at_the_top_share_their_rank():
    assert ranks([10, 20, 20]) == [1.0, 2.5, 2.5] and ranks([5, 5]) == [1.5, 1.5]


def test_spearman_with_ties_is_pearson_of_average_ranks():
    # ranks (1.5, 1.5, 3) against (1, 2, 3): cov 1.5, variances 1.5 and 2: rho = 1.5 / sqrt(3) = sqrt(3) / 2
    assert spearman([1, 1, 2], [1, 2, 3]) == pytest.approx(math.sqrt(3) / 2)
    assert spearman([1, 2, 3], [1, 1, 2]) == pytest.approx(math.sqrt(3) / 2)
    assert spearman([1, 2, 3], [7, 7, 7]) is None


@settings(max_examples=60, deadline=None, derandomize=True)
@given(pairs=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=3, max_size=9))
def test_spearman_is_pearson_of_average_ranks(pairs):
    x, y = [a for a, _ in pairs], [b for _, b in pairs]
    rho = spearman(x, y)
    if len(set(x)) < 2 or len(set(y)) < 2:
        assert rho is None
    else:
        assert rho == pytest.approx(np.corrcoef(_brute_ranks(x), _brute_ranks(y))[0, 1])


def test_enumeration_includes_exact_up_to_models():
    from octothinker.eval.stats import spearman_permutation_p

    # 4 models enumerated: exactly 1 of the 24 orderings; a sampled p could not land on 1/24 of 20,000 draws
    assert spearman_permutation_p([1, 2, 3, 4], [1, 2, 3, 4], exact_up_to=4) == 1 / 24


def test_beyond_8_models_the_p_value_is_a_share_of_seeded_random_orderings():
    from octothinker.eval.stats import spearman_permutation_p

    x, y = list(range(9)), [3, 0, 7, 1, 8, 2, 5, 4, 6]
    p = spearman_permutation_p(x, y, draws=300)
    assert 0 < p < 1 and (p * 300) == pytest.approx(round(p * 300))  # of 300 orderings, not of 9! = 362880
    # reproducible: the default seed is 0, and the seed is what the estimate depends on
    by_seed = [spearman_permutation_p(x, y, draws=300, seed=s) for s in range(4)]
    assert by_seed == [spearman_permutation_p(x, y, draws=300, seed=s) for s in range(4)]
    assert p == by_seed[0] and len(set(by_seed)) > 1


def test_the_sampled_p_value_draws_20000_orderings_by_default(monkeypatch):
    from octothinker.eval import stats

    # a rank correlation that only looks at the first model: counting calls, cheaply (9 models by spearman
    # 20,000 times takes seconds)
    calls = []
    monkeypatch.setattr(stats, "spearman", lambda x, y: calls.append(1) or float(y[0] == 0))
    p = stats.spearman_permutation_p(list(range(9)), list(range(9)))
    assert len(calls) == 1 + 20_000 and (p * 20_000) == pytest.approx(round(p * 20_000)) and 0.08 < p < 0.14


def test_question_independent_at_the_edges():
    # one problem, gold "1": always answering it scores 100%; half the samples say "1": shuffled 50%
    assert question_independent({"1": 2, "2": 2}, {"1": 1}) == {"most_common": 100.0, "shuffled": 50.0}
    # one sample, two problems: its "1" matches one gold of two
    assert question_independent({"1": 1}, {"1": 1, "2": 1}) == {"most_common": 50.0, "shuffled": 50.0}
    # an answer no problem has as gold matches nothing
    assert question_independent({"7": 3, "1": 1}, {"1": 2, "2": 2})["shuffled"] == pytest.approx(100 * 2 / 16)
    for answers, golds in (({"1": 3}, {}), ({}, {"1": 3})):
        empty = question_independent(answers, golds)
        assert set(empty) == {"most_common", "shuffled"} and all(math.isnan(v) for v in empty.values())


def test_canonical_answer_keeps_fractions_and_huge_numbers_as_written():
    assert canonical_answer("2.5") == "2.5" and canonical_answer(" -0.50 ") == "-0.5"
    assert canonical_answer("1e20") == "1e+20" and canonical_answer("inf") == "inf"
    assert canonical_answer("-3.0") == "-3" and canonical_answer("12") == "12"
    # the integer form up to below 1e15, where a float still holds every integer exactly
    assert canonical_answer("999999999999999") == "999999999999999" and canonical_answer("1e15") == "1000000000000000.0"


def _models(n_models, n_p, n_o, seed=0, noise=0.3):
    """Per-problem probe and outcome values of models whose skill both reflect, with noise."""
    rng = random.Random(seed)
    skill = [rng.random() for _ in range(n_models)]
    probe = [[s + rng.gauss(0, noise) for _ in range(n_p)] for s in skill]
    outcome = [[s + rng.gauss(0, noise) for _ in range(n_o)] for s in skill]
    return probe, outcome


def test_spearman_interval_is_2000_draws_from_seed_0(monkeypatch):
    from octothinker.eval import stats

    probe, outcome = _models(12, 8, 8)
    real, seen = stats.spearman, []
    monkeypatch.setattr(stats, "spearman", lambda x, y: seen.append(real(x, y)) or seen[-1])

    def draws(**kwargs):
        seen.clear()
        result = stats.spearman_interval(probe, outcome, **kwargs)
        return result, list(seen)

    default, default_draws = draws()
    assert len(default_draws) == 1 + 2000  # the point, then the resamples
    # the same resamples, in order: the interval of a report can be recomputed from its seed
    assert (default, default_draws) == draws(n_boot=2000, seed=0)
    assert draws(seed=1)[1] != default_draws


def test_spearman_interval_leaves_its_tail_of_resamples_on_each_side(monkeypatch):
    from octothinker.eval import stats

    # noisy enough that the resampled rhos spread out, with no tie at either tail's edge
    probe, outcome = _models(20, 8, 8, noise=1.0)
    real, seen = stats.spearman, []
    monkeypatch.setattr(stats, "spearman", lambda x, y: seen.append(real(x, y)) or seen[-1])
    for level, outside in ((0.95, 25), (0.5, 250)):
        seen.clear()
        rho, lo, hi = stats.spearman_interval(probe, outcome, n_boot=1000, level=level)
        draws = np.asarray(seen[1:])  # seen[0] is the point
        assert rho == seen[0] and len(draws) == 1000
        # lo is the resample with `outside` of them below it (ties aside), hi its mirror
        assert (draws < lo).sum() <= outside < (draws <= lo).sum()
        assert (draws > hi).sum() <= outside < (draws >= hi).sum()


def test_spearman_interval_without_a_point_is_nan():
    from octothinker.eval.stats import spearman_interval

    # the three probe means are equal (0.5): no order to correlate, though resamples of the problems have one
    probe = [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]
    result = spearman_interval(probe, [[0.1] * 4, [0.5] * 4, [0.9] * 4], n_boot=50)
    assert len(result) == 3 and all(math.isnan(v) for v in result)
