"""The findings' rules with known values, on runs built in memory.

Most runs here score the same on every problem of an evaluation, so that every resample of the problems
gives the same statistic: each interval is then its point, and the effect, the per-seed effects and the
verdict follow by hand."""

import json
import math
import random

import numpy as np
import pytest

from octothinker.eval.records import ProbeReport
from octothinker.eval.stats import bootstrap, question_independent
from octothinker.report.findings import (INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, TOO_FEW_MODELS, Finding, Result,
                                         _curve_points, _diff, _drawdown, _fmt, _gain_diff, _growth, _instability,
                                         _interior_gain, _paired, _seeds_with, all_findings, arm_choices_help_rl,
                                         before_after, branch_gains_more_under_rl, branch_raises_accuracy_before_rl,
                                         curve, llama_like_length_runs_away, load_results, long_cot_destabilizes_rl,
                                         long_cot_writes_longer, model_keys, probe_ranks_models_as_rl,
                                         qa_share_has_interior_optimum, qwen_like_gains_more_under_rl)
from octothinker.study.layout import ArmInfo, RunLayout

N = 4  # problems of a held-out evaluation


def _col(v, n=N):
    return list(v) if isinstance(v, (list, tuple)) else [float(v)] * n


def _result(key, seed=0, acc=(0.0, 0.0), length=None, greedy=(), truncated=(), probe=None, baselines=None, n=N):
    """One model's RL run of one seed over n problems, evaluated len(acc) times: each a number (the same
    on every problem) or a per-problem list."""
    length = length or [30.0] * len(acc)
    return Result(key=key, seed=seed, benchmark="synth", samples=4, steps=[10 * i for i in range(len(acc))],
                  accuracy=[_col(a, n) for a in acc], length=[_col(x, n) for x in length],
                  baselines=baselines or [{"most_common": 50.0, "shuffled": 25.0}] * len(acc),
                  greedy=[_col(g, n) for g in greedy], truncated=list(truncated), probe=probe)


def _mirrored(centre, spread, n=20):
    """Per-problem values of seeds 0 and 1 that swing by +-spread around centre in opposite directions:
    each seed's interval is wide, but every resample of the problems draws the same problems in both, so
    the mean over the two seeds is `centre` in every resample (a pooled interval that is its point)."""
    return {0: [centre + spread, centre - spread] * (n // 2), 1: [centre - spread, centre + spread] * (n // 2)}


def _runs(*results):
    return {(r.key, r.seed): r for r in results}


def _exact(value):
    """A degenerate interval: every resample gives the point."""
    return pytest.approx((value, value, value))


def _layout(**fields):
    return RunLayout.model_validate({"seeds": [0, 1], "subjects": [], **fields})


# --- one run --------------------------------------------------------------------------------------------


def test_a_result_reads_its_first_and_last_evaluation():
    r = _result("short", acc=([0.5, 0.25], [0.0, 0.0], [1.0, 0.0]), length=([10, 20], [30, 50], [50, 70]),
                greedy=([1, 0], [0, 0], [1, 1]))
    assert r.start == [0.5, 0.25] and r.end == [1.0, 0.0]
    assert r.series("greedy") == [[1, 0], [0, 0], [1, 1]] and r.series("sampled") == r.accuracy
    # during RL: per problem, the mean over the evaluations after step 0
    assert r.during_length() == [40.0, 60.0]
    # a run evaluated once has no "during": its one evaluation stands for it
    assert _result("short", acc=(0.5,), length=([10, 20],)).during_length() == [10.0, 20.0]


def _row(step, correct, decoding, samples=4, benchmark="synth", **extra):
    return {"step": step, "benchmark": benchmark, "decoding": decoding, "samples": samples, "accuracy": 0.0,
            "correct_per_problem": correct, "tokens_per_problem": [10.0 + step] * len(correct or []),
            "mean_response_tokens": 10.0 + step, "truncation_rate": float(step), **extra}


def _subject(tmp_path, key, rows, probe=None, metrics=()):
    rl = tmp_path / f"rl-{key}"
    rl.mkdir()
    (rl / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (rl / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in metrics))
    if probe is not None:
        (rl / "probe.json").write_text(json.dumps(probe))
    return {"key": key, "seed": 0, "model": "", "rl": str(rl), "probe": str(rl / "probe.json"), "evals": str(tmp_path)}


def test_load_results_reads_the_primary_decoding_of_the_first_benchmark(tmp_path):
    counts = {"answer_counts": {"1": 6, "7": 2}, "unanswered": 4, "gold_counts": {"1": 2, "2": 1}}
    probe = {"model": "short", "prompts": "train.jsonl", "problems": 3, "k": 4, "pass@1": 50.0, "pass@4": 66.7,
             "truncated": 0.0, "mean_response_tokens": 12.0, "repetition": 0.0, "correct_per_problem": [4, 0, 2]}
    rows = [_row(0, [4, 2, 0], "sampled", **counts), _row(0, [1, 0, 0], "greedy", samples=1),
            _row(0, [0, 0, 0], "sampled", benchmark="other"), _row(10, [4, 4, 2], "sampled", **counts),
            _row(10, [1, 1, 0], "greedy", samples=1), _row(10, [0, 0, 0], "greedy", samples=1, benchmark="other")]
    # runs without per-problem counts (older than the intervals) or without evaluations are left out
    subjects = [_subject(tmp_path, "no-counts", [_row(0, None, "sampled")]), _subject(tmp_path, "no-evals", []),
                _subject(tmp_path, "short", rows, probe=probe, metrics=[{"step": 1, "reward": 0.5}]),
                # greedy the primary: its rows are the accuracy, and there is no separate greedy series
                _subject(tmp_path, "greedy-only", [_row(0, [1, 0, 1], "greedy", samples=1)])]
    results = load_results(RunLayout.model_validate({"seeds": [0], "subjects": subjects}))
    assert sorted(results) == [("greedy-only", 0), ("short", 0)]

    r = results[("short", 0)]
    assert (r.key, r.seed, r.benchmark, r.samples, r.steps) == ("short", 0, "synth", 4, [0, 10])
    assert r.accuracy == [[1.0, 0.5, 0.0], [1.0, 1.0, 0.5]]   # right samples of 4
    assert r.greedy == [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]     # right of 1, the first benchmark's only
    assert r.length == [[10.0] * 3, [20.0] * 3] and r.truncated == [0.0, 10.0]
    assert r.baselines == [question_independent({"1": 6, "7": 2}, {"1": 2, "2": 1}, 4)] * 2
    assert r.baselines[0]["shuffled"] == pytest.approx(100 * 6 * 2 / (12 * 3))  # unanswered count as samples
    assert r.training == [{"step": 1, "reward": 0.5}]
    assert r.probe.correct_per_problem == [4, 0, 2] and r.probe.pass_at_k == 66.7

    g = results[("greedy-only", 0)]
    assert g.accuracy == [[1.0, 0.0, 1.0]] and g.greedy == [] and g.samples == 1 and g.probe is None


# --- text -----------------------------------------------------------------------------------------------


def test_an_effect_reads_with_its_sign_and_unit_and_rho_plainly():
    points = Finding("c", "m", (1.26, -0.54, 3.0), {0: (2.0, 1.0, 3.0)}, "points", REPRODUCED)
    assert points.effect_text() == "+1.3 [-0.5, +3.0] points"
    assert points.effect_text((2.0, 1.0, 3.04)) == "+2.0 [+1.0, +3.0] points"  # a seed's, in the same form
    rho = Finding("c", "m", (0.5, -0.134, 0.876), {}, "rho", INCONCLUSIVE)
    assert rho.effect_text() == "0.50 [-0.13, 0.88] rho"
    assert Finding("c", "m", (math.nan,) * 3, {}, "points", INCONCLUSIVE).effect_text() == "n/a"
    assert _fmt((1.0, -2.0, 3.04)) == "+1.0 [-2.0, +3.0] points" and _fmt((0.0, 0.0, 0.0), "tokens") == \
        "+0.0 [+0.0, +0.0] tokens"


# --- the statistics the claims are made of ----------------------------------------------------------------


def test_differences_of_means_gains_and_relative_growth_by_hand():
    assert _diff([1.0, 0.0], [0.0, 0.0]) == 0.5
    assert _gain_diff([0.9], [0.5], [0.3], [0.2]) == pytest.approx(0.4 - 0.1)
    # +100% against +50%: 0.5; the same growth from different lengths: 0
    assert _growth([120.0], [60.0], [45.0], [30.0]) == pytest.approx(0.5)
    assert _growth([90.0], [60.0], [30.0], [20.0]) == pytest.approx(0.0)


def test_drawdown_is_the_largest_fall_to_any_later_evaluation():
    assert _drawdown([0.5], [0.8], [0.3], [0.6]) == pytest.approx(0.5)   # 0.8 to 0.3, not 0.5 to 0.3
    assert _drawdown([0.9], [0.5], [0.7]) == pytest.approx(0.4)
    assert _drawdown([0.1], [0.2], [0.3]) == 0.0                          # never falls
    assert _drawdown([0.0], [0.5]) == 0.0 and _drawdown([0.4]) == 0.0    # from zero accuracy; one evaluation
    # vectorised: one drawdown per resample (row)
    falls = _drawdown(np.array([[0.5, 0.5], [0.2, 0.2]]), np.array([[0.3, 0.3], [0.4, 0.4]]))
    assert falls.tolist() == pytest.approx([0.2, 0.0])
    # long's evaluations, then short's: 0.2 against 0.05
    assert _instability(2)([0.5], [0.3], [0.5], [0.45]) == pytest.approx(0.15)


def test_interior_gain_is_the_best_interior_share_against_the_better_end():
    assert _interior_gain(3)([0.4], [0.3], [0.2]) == pytest.approx(-0.1)
    assert _interior_gain(4)([0.2], [0.5], [0.4], [0.3]) == pytest.approx(0.2)
    assert _interior_gain(4)([0.2], [0.3], [0.6], [0.1]) == pytest.approx(0.4)
    assert _interior_gain(5)([0.1], [0.2], [0.3], [0.7], [0.1]) == pytest.approx(0.6)   # the last interior one
    assert _interior_gain(5)([0.5], [0.6], [0.1], [0.2], [0.55]) == pytest.approx(0.05)  # the better end is the last
    assert _interior_gain(4)([0.2], [0.3], [0.4], [0.6]) == pytest.approx(-0.2)          # an end is no interior share
    means = _interior_gain(3)(np.array([[0.4], [0.1]]), np.array([[0.3], [0.5]]), np.array([[0.2], [0.2]]))
    assert means.tolist() == pytest.approx([-0.1, 0.3])


def test_seeds_with_every_key_and_curves_of_equal_length():
    results = _runs(_result("a", 1), _result("b", 1), _result("a", 0), _result("b", 2, acc=(0.1, 0.2, 0.3)))
    assert _seeds_with(results, "a", "b") == [1] and _seeds_with(results, "a") == [0, 1]
    assert _seeds_with(results, "a", "c") == []
    three = _runs(*(_result(k, s, acc=(0.1, 0.2, 0.3)) for k in ("long", "short") for s in (0, 1)))
    assert _curve_points(three, ("long", "short"), [0, 1]) == 3
    assert _curve_points({**three, ("short", 1): _result("short", 1)}, ("long", "short"), [0, 1]) is None
    once = _runs(*(_result(k, 0, acc=(0.1,)) for k in ("long", "short")))
    assert _curve_points(once, ("long", "short"), [0]) is None  # one evaluation is no curve


def test_paired_pools_the_mean_of_the_seeds_statistics():
    results = _runs(_result("a", 0, acc=(0.0, 0.5)), _result("b", 0, acc=(0.0, 0.4)),
                    _result("a", 1, acc=(0.0, 0.7)), _result("b", 1, acc=(0.0, 0.4)),
                    _result("a", 2, acc=(0.0, 0.6)), _result("b", 2, acc=(0.0, 0.6)))
    pooled, per_seed = _paired([0, 1, 2], lambda s: [results[("a", s)].end, results[("b", s)].end], _diff, 100)
    assert per_seed == {0: _exact(10), 1: _exact(30), 2: _exact(0)} and pooled == _exact(40 / 3)


def test_a_seeds_interval_is_the_bootstrap_of_its_columns_in_the_units_asked():
    a, b = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.5, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0, 0.5, 0.0, 0.0]
    results = _runs(_result("a", 3, acc=(0.0, a)), _result("b", 3, acc=(0.0, b)))
    pooled, per_seed = _paired([3], lambda s: [results[("a", s)].end, results[("b", s)].end], _diff, 100)
    assert per_seed[3] == pytest.approx(tuple(100 * v for v in bootstrap([a, b], _diff)))
    assert pooled == pytest.approx(per_seed[3])


def test_paired_resamples_the_same_problems_in_every_seed():
    # two seeds alike: one statistic resampled twice with the same draws is that statistic's interval; seeds
    # resampled apart would average their noise and narrow it
    a, b = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.5, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0, 0.5, 0.0, 0.0]
    results = _runs(*(_result(k, s, acc=(0.0, v)) for s in (0, 1) for k, v in (("a", a), ("b", b))))
    pooled, per_seed = _paired([0, 1], lambda s: [results[("a", s)].end, results[("b", s)].end], _diff, 100)
    assert per_seed[0] == per_seed[1] and pooled == pytest.approx(per_seed[0])
    assert pooled[1] < pooled[0] < pooled[2]


# --- (a) and (C9): the branches against the base ---------------------------------------------------------


def test_a_branch_gain_is_its_gain_minus_the_bases_per_seed_and_pooled():
    # the gain is from the first evaluation to the last (the middle one is no end)
    results = _runs(_result("base", 0, acc=(0.1, 0.9, 0.2)), _result("base", 1, acc=(0.1, 0.9, 0.2)),
                    _result("short", 0, acc=(0.3, 0.0, 0.6)), _result("short", 1, acc=(0.3, 0.0, 0.7)),
                    _result("short", 2, acc=(0.3, 0.0, 0.9)))   # no base in seed 2: not compared there
    [found] = branch_gains_more_under_rl(results, ["long", "short"])  # long has no run: no finding
    assert found.claim == "(a) RL from the short branch gains more held-out accuracy than RL from the base"
    assert found.measure == "gain of short minus gain of base" and found.unit == "points"
    assert found.per_seed == {0: _exact(20), 1: _exact(30)} and found.effect == _exact(25)
    assert found.verdict == REPRODUCED
    assert found.note == "gain of short: +35.0 [+35.0, +35.0] points; gain of base: +10.0 [+10.0, +10.0] points"


@pytest.mark.parametrize("short_end, expected", [
    ((0.7, 0.45), INCONCLUSIVE),     # beats the base in both seeds, but loses accuracy itself in seed 1
    ((0.4, 0.4), INCONCLUSIVE),      # beats a base that falls further, while falling itself
    ((0.7, 0.6), REPRODUCED),
])
def test_a_branch_must_gain_itself_in_every_seed(short_end, expected):
    results = _runs(*(_result("base", s, acc=(0.5, 0.2)) for s in (0, 1)),
                    *(_result("short", s, acc=(0.5, e)) for s, e in zip((0, 1), short_end)))
    [found] = branch_gains_more_under_rl(results, ["short"])
    assert found.effect[0] > 0 and all(e[0] > 0 for e in found.per_seed.values())
    assert found.verdict == expected


def test_a_branch_gain_needs_its_own_gain_interval_above_zero_in_every_seed():
    # the branch gains 10 points pooled in every resample, but each seed's gain swings around it with the
    # problems drawn (-30..+50 a problem): a seed's interval of its own gain reaches below zero
    base = {s: _result("base", s, acc=(0.5, 0.2), n=20) for s in (0, 1)}
    ends = _mirrored(0.4, 0.4)
    results = _runs(*base.values(), *(_result("short", s, acc=(0.3, ends[s]), n=20) for s in (0, 1)))
    [found] = branch_gains_more_under_rl(results, ["short"])
    assert found.effect == _exact(40) and all(e[1] > 0 for e in found.per_seed.values())
    assert found.note.startswith("gain of short: +10.0 [+10.0, +10.0] points")
    assert found.verdict == INCONCLUSIVE


def test_a_branch_gain_needs_its_difference_interval_above_zero_in_every_seed():
    # as above, with the base gaining 20 points: each seed's own gain stays above zero, its difference
    # from the base's does not
    base = {s: _result("base", s, acc=(0.1, 0.3), n=20) for s in (0, 1)}
    ends = _mirrored(0.5, 0.4)
    results = _runs(*base.values(), *(_result("short", s, acc=(0.2, ends[s]), n=20) for s in (0, 1)))
    [found] = branch_gains_more_under_rl(results, ["short"])
    assert found.effect == _exact(10) and all(e[1] < 0 for e in found.per_seed.values())
    assert found.verdict == INCONCLUSIVE


def test_a_branch_that_gains_less_than_the_base_is_not_reproduced():
    results = _runs(*(_result("base", s, acc=(0.1, 0.5)) for s in (0, 1)),
                    *(_result("short", s, acc=(0.3, 0.4)) for s in (0, 1)))
    [found] = branch_gains_more_under_rl(results, ["short"])
    assert found.effect == _exact(-30) and found.verdict == NOT_REPRODUCED


def test_greedy_gains_use_the_greedy_answers_of_the_seeds_that_have_them():
    results = _runs(_result("base", 0, acc=(0.1, 0.5), greedy=(0.2, 0.2)), _result("base", 1, acc=(0.1, 0.5)),
                    _result("short", 0, acc=(0.1, 0.2), greedy=(0.5, 0.8)),
                    _result("short", 1, acc=(0.1, 0.2), greedy=(0.5, 0.9)),
                    _result("long", 0, acc=(0.1, 0.2)), _result("long", 1, acc=(0.1, 0.2)))
    [found] = branch_gains_more_under_rl(results, ["short", "long"], decoding="greedy")  # long has no greedy
    assert found.claim == "(a, greedy) RL from the short branch gains more held-out greedy accuracy than RL from the base"
    assert found.measure == "greedy gain of short minus gain of base"
    assert found.per_seed == {0: _exact(30)} and found.effect == _exact(30) and found.verdict == REPRODUCED
    assert found.note == "gain of short: +30.0 [+30.0, +30.0] points; gain of base: +0.0 [+0.0, +0.0] points"
    # the same runs, sampled: the base gains 40, the branch 10
    [sampled] = branch_gains_more_under_rl(results, ["short"])
    assert sampled.effect == _exact(-30) and set(sampled.per_seed) == {0, 1}


def test_accuracy_before_rl_is_the_branch_start_minus_the_base_start():
    results = _runs(_result("base", 0, acc=(0.1, 0.9), greedy=(0.4, 0.1)), _result("base", 1, acc=(0.1, 0.9), greedy=(0.4, 0.1)),
                    _result("short", 0, acc=(0.4, 0.1), greedy=(0.6, 0.1)), _result("short", 1, acc=(0.5, 0.1), greedy=(0.6, 0.1)))
    [found] = branch_raises_accuracy_before_rl(results, ["long", "short"])
    assert found.claim == "(C9) Stable-then-decay (short branch) raises the base's held-out accuracy before any RL"
    assert found.measure == "accuracy before RL, short minus base" and found.unit == "points"
    assert found.per_seed == {0: _exact(30), 1: _exact(40)} and found.effect == _exact(35)
    assert found.verdict == REPRODUCED and found.note == "greedy: +20.0 [+20.0, +20.0] points"
    # greedy only where every seed of both has it
    results[("base", 1)] = _result("base", 1, acc=(0.1, 0.9))
    results[("short", 2)] = _result("short", 2, acc=(0.9, 0.9), greedy=(0.9, 0.9))  # no base to compare in seed 2
    [found] = branch_raises_accuracy_before_rl(results, ["short"])
    assert found.note == "" and found.effect == _exact(35) and set(found.per_seed) == {0, 1}


# --- (b) and (C4): long against short --------------------------------------------------------------------


def _long_short(long_acc, short_acc, long_len, short_len, seeds=(0, 1), **extra):
    return _runs(*(_result("long", s, acc=long_acc, length=long_len, **extra.get("long", {})) for s in seeds),
                 *(_result("short", s, acc=short_acc, length=short_len, **extra.get("short", {})) for s in seeds))


def test_long_cot_instability_by_hand():
    results = _long_short((0.3, 0.6, 0.35), (0.4, 0.5, 0.45), (60, 90, 120), (30, 36, 45),
                          long={"truncated": (1.0, 2.0, 12.0)})
    results[("short", 0)].truncated = [0.0, 0.0, 2.0]   # seed 1 recorded no truncation: left out of the mean
    results[("long", 1)].truncated = [1.0, 2.0, 13.0]
    drop, growth = long_cot_destabilizes_rl(results)
    assert drop.claim == "(C4) RL from the long branch suffers larger sudden drops of held-out accuracy than from the short"
    assert drop.measure == "largest fall of accuracy between evaluations (3 of them), long minus short"
    # long falls 0.6 -> 0.35, short 0.5 -> 0.45
    assert drop.effect == _exact(20) and drop.per_seed == {0: _exact(20), 1: _exact(20)}
    assert drop.unit == "points" and drop.verdict == REPRODUCED
    assert growth.claim == "(C4) RL from the long branch lets response length run away more than from the short"
    assert growth.measure == "growth of mean response length over RL, long minus short" and growth.unit == "%"
    assert growth.effect == _exact(50) and growth.verdict == REPRODUCED   # +100% against +50%
    assert growth.per_seed == {0: _exact(50), 1: _exact(50)}
    assert growth.note == "answers cut at the limit after RL: long 12.5%, short 2.0%"


def test_long_cot_instability_needs_curves_of_the_same_evaluations():
    assert long_cot_destabilizes_rl(_long_short((0.3, 0.6, 0.35), (0.4, 0.5), (60, 90, 120), (30, 45))) == []
    assert long_cot_destabilizes_rl(_runs(_result("long", 0, acc=(0.3, 0.6, 0.35)))) == []
    steady = long_cot_destabilizes_rl(_long_short((0.3, 0.4), (0.4, 0.5), (60, 60), (30, 30)))
    assert [f.verdict for f in steady] == [INCONCLUSIVE, INCONCLUSIVE] and steady[0].effect == _exact(0)


def test_long_cot_writes_longer_before_and_during_rl():
    found = long_cot_writes_longer(_long_short((0.3, 0.3, 0.3), (0.3, 0.3, 0.3), (60, 80, 100), (30, 50, 40)))
    assert found.claim == "(b) The long-CoT branch writes longer responses than the short one, before and during RL"
    assert found.measure == "mean response length, long minus short, before RL" and found.unit == "tokens"
    assert found.effect == _exact(30) and found.per_seed == {0: _exact(30), 1: _exact(30)}
    assert found.verdict == REPRODUCED
    assert found.note == "during RL (evaluations after step 0): +45.0 [+45.0, +45.0] tokens"  # 90 against 45
    # longer before RL, shorter during it: not both
    shorter = long_cot_writes_longer(_long_short((0.3, 0.3), (0.3, 0.3), (60, 40), (30, 50)))
    assert shorter.effect == _exact(30) and shorter.verdict == INCONCLUSIVE
    assert long_cot_writes_longer(_runs(_result("long", 0))) is None


@pytest.mark.parametrize("swinging", ["before", "during"])
def test_long_cot_writes_longer_needs_both_intervals_above_zero_in_every_seed(swinging):
    # pooled, long writes 20 tokens more before RL and during it in every resample; each seed's difference
    # swings by 60 tokens a problem with the problems drawn, before RL or during it
    swing = _mirrored(100.0, 60.0)
    steady = [100.0] * 20
    results = _runs(*(_result("short", s, length=(80, 80), n=20) for s in (0, 1)),
                    *(_result("long", s, length=(swing[s], steady) if swinging == "before" else (steady, swing[s]), n=20)
                      for s in (0, 1)))
    found = long_cot_writes_longer(results)
    assert found.effect == _exact(20) and found.note.startswith("during RL (evaluations after step 0): +20.0 [+20.0")
    assert found.verdict == INCONCLUSIVE


def test_long_cot_writes_longer_in_every_seed():
    results = _runs(_result("long", 0, length=(60, 100)), _result("short", 0, length=(30, 40)),
                    _result("long", 1, length=(60, 40)), _result("short", 1, length=(30, 50)))
    found = long_cot_writes_longer(results)  # during RL: +60 in seed 0, -10 in seed 1, +25 pooled
    assert found.effect == _exact(30) and found.note.startswith("during RL (evaluations after step 0): +25.0")
    assert found.verdict == INCONCLUSIVE


# --- (c): the probe's ranking ----------------------------------------------------------------------------


def _probe(key, right):
    return ProbeReport(model=key, prompts="train.jsonl", problems=len(right or []), k=4, pass_at_1=0.0, pass_at_k=0.0,
                       truncated=0.0, mean_response_tokens=30.0, repetition=0.0, correct_per_problem=right)


def _ranked(after_rl, seed=0, probes=None):
    """Models m0.. whose probe solves (pass@4) 0, 1/4, 2/4.. of 40 prompts, with accuracy after RL as given."""
    out = []
    for i, end in enumerate(after_rl):
        probe = _probe(f"m{i}", [2] * (10 * i) + [0] * (40 - 10 * i)) if probes is None else probes[i]
        out.append(_result(f"m{i}", seed, acc=(0.0, end), probe=probe))
    return out


def test_the_probe_scores_a_prompt_solved_by_any_sample():
    # pass@4 per prompt: m1 solves 1 of 4 prompts (3 samples of it), m2 two (1 sample each): m1 < m2 by
    # pass@4, m1 > m2 by samples right; RL ranks them by pass@4
    probes = [_probe("m0", [0, 0, 0, 0]), _probe("m1", [3, 0, 0, 0]), _probe("m2", [1, 1, 0, 0]),
              _probe("m3", [1, 1, 1, 0]), _probe("m4", [2, 2, 2, 2])]
    found = probe_ranks_models_as_rl(_runs(*_ranked((0.1, 0.2, 0.3, 0.4, 0.5), probes=probes)))
    assert found.claim == "(c) The RL-readiness probe ranks the 5 models as RL does"
    assert found.effect[0] == 1.0 and found.per_seed[0][0] == 1.0 and found.unit == "rho"
    assert "permutation p over the 5 models 0.008" in found.note  # 1 of 5! = 120 orderings


def test_the_probe_claim_needs_enough_models_and_an_order_chance_rarely_gives():
    found = probe_ranks_models_as_rl(_runs(*_ranked((0.1, 0.2, 0.3, 0.4, 0.5))))
    assert found.effect[0] == 1.0 and found.effect[1] > 0.5 and found.verdict == REPRODUCED
    assert found.measure == "Spearman's rho between probe pass@k and accuracy after RL"
    assert found.note == ("interval: bootstrap over probe prompts and held-out problems; pooled: mean over seeds; "
                          "permutation p over the 5 models 0.008 (judged from 5 models, at p < 0.05)")
    # one adjacent swap: rho 0.9, reached by 5 of 120 orderings (p 0.042)
    assert probe_ranks_models_as_rl(_runs(*_ranked((0.1, 0.2, 0.4, 0.3, 0.5)))).verdict == REPRODUCED
    # two swaps: rho 0.8, its interval above zero, but 8 of 120 orderings do as well (p 0.067)
    chance = probe_ranks_models_as_rl(_runs(*_ranked((0.2, 0.1, 0.3, 0.5, 0.4))))
    assert chance.effect[0] == pytest.approx(0.8) and chance.effect[1] > 0 and chance.verdict == INCONCLUSIVE
    # four models ordered perfectly: 1 of 24, too likely by chance to judge
    four = probe_ranks_models_as_rl(_runs(*_ranked((0.1, 0.2, 0.3, 0.4))))
    assert four.verdict == TOO_FEW_MODELS and four.effect[0] == 1.0
    assert "permutation p over the 4 models 0.042" in four.note


def test_the_probe_claim_pools_seeds_and_skips_models_without_a_probe():
    runs = _runs(*_ranked((0.1, 0.2, 0.3, 0.4, 0.5), seed=0), *_ranked((0.1, 0.2, 0.3, 0.5, 0.4), seed=1),
                 _result("unprobed", 0, acc=(0.0, 0.9)), _result("old-probe", 0, acc=(0.0, 0.9), probe=_probe("x", None)))
    found = probe_ranks_models_as_rl(runs)
    assert set(found.per_seed) == {0, 1} and found.per_seed[0][0] == 1.0 and found.per_seed[1][0] == pytest.approx(0.9)
    assert found.effect == pytest.approx(tuple((found.per_seed[0][i] + found.per_seed[1][i]) / 2 for i in range(3)))
    # p over the models' means over seeds: m3 and m4 tie at 0.45, 2 of 120 orderings (each tie order) as good
    assert "permutation p over the 5 models 0.017" in found.note
    # a seed with fewer than 3 probed models is left out; with none, there is no finding
    two = _runs(*_ranked((0.1, 0.2), seed=0), *_ranked((0.1, 0.2, 0.3), seed=1))
    assert set(probe_ranks_models_as_rl(two).per_seed) == {1}
    assert probe_ranks_models_as_rl(_runs(*_ranked((0.1, 0.2)))) is None


def test_the_probe_claim_without_spread_has_no_order_to_test():
    same = [_probe(f"m{i}", [2, 0, 2, 0]) for i in range(5)]
    found = probe_ranks_models_as_rl(_runs(*_ranked((0.1, 0.2, 0.3, 0.4, 0.5), probes=same)))
    assert math.isnan(found.effect[0]) and found.verdict == INCONCLUSIVE
    assert found.note.endswith("; no spread to rank (judged from 5 models, at p < 0.05)")


def test_a_permutation_p_of_exactly_the_threshold_is_not_below_it():
    # the three best RL outcomes tie: 3! = 6 of the 120 orderings rank as well, p = 0.05
    found = probe_ranks_models_as_rl(_runs(*_ranked((0.1, 0.2, 0.3, 0.3, 0.3))))
    assert "permutation p over the 5 models 0.050" in found.note and found.effect[1] > 0
    assert found.verdict == INCONCLUSIVE


def test_each_seeds_probe_interval_is_drawn_from_that_seed():
    from octothinker.eval.stats import spearman_interval

    # six models, 8 prompts and 4 problems each, noisy: the interval depends on which ones are drawn (over
    # 30 seeds' draws, no interval comes up more than 9 times)
    rng = random.Random(0)
    right = [[2 if rng.random() < (i + 1) / 7 else 0 for _ in range(8)] for i in range(6)]
    after_rl = [[rng.random() * 0.2 + 0.1 * i for _ in range(N)] for i in range(6)]
    seeds = (0, 1, 2, 3)
    found = probe_ranks_models_as_rl(_runs(*(_result(f"m{i}", s, acc=(0.0, after_rl[i]), probe=_probe(f"m{i}", right[i]))
                                             for s in seeds for i in range(6))))
    cols = [[1.0 if c > 0 else 0.0 for c in r] for r in right]
    assert found.per_seed == {s: spearman_interval(cols, after_rl, seed=s) for s in seeds}
    assert len(set(found.per_seed.values())) > 1   # the same runs, each seed's own draws


# --- the arms --------------------------------------------------------------------------------------------

ARM_CLAIMS = [
    ("qa", "(C3) QA data in the stable mix (beside the math web) helps RL", False),
    ("template", "(C7) RL in the frame mid-training taught beats RL from a bare question", False),
    ("schedule", "(C7) A stair schedule of the response limit helps RL against a fixed limit", True),
    ("quality", "(d) Mid-training on quality-filtered math web beats unfiltered web for RL", False),
    ("budget", "(e) A longer stable stage raises what RL reaches", False),
    ("instruct", "(f) Instruction data in the decay mix helps RL", False),
    ("instruct-frame", "(f) Instruction data in the decay mix, in the RL prompt's own frame, helps RL", True),
]


@pytest.mark.parametrize("claim, text, arm_holds_choice", ARM_CLAIMS)
def test_an_arm_is_judged_in_the_direction_of_the_papers_choice(claim, text, arm_holds_choice):
    # the arm reaches 0.6 after RL, the main model it is compared with 0.4
    results = _runs(*(_result(k, s, acc=(0.3, end)) for s in (0, 1) for k, end in (("arm/short", 0.6), ("short", 0.4))),
                    _result("arm/short", 2, acc=(0.3, 0.9)))   # the main model has no seed 2: not compared there
    # the arm's long model has no run: no finding for it, the short one still judged
    [found] = arm_choices_help_rl(results, {"arm": ArmInfo(claim=claim, compare="short", models=["long", "short"])})
    better, worse = ("arm/short", "short") if arm_holds_choice else ("short", "arm/short")
    assert found.claim == text and found.measure == f"accuracy after RL, {better} minus {worse}"
    assert found.unit == "points"
    effect = 20 if arm_holds_choice else -20
    assert found.effect == _exact(effect) and found.per_seed == {0: _exact(effect), 1: _exact(effect)}
    assert found.verdict == (REPRODUCED if arm_holds_choice else NOT_REPRODUCED)


def test_an_arm_note_gives_the_gains_and_the_falls_between_evaluations():
    results = _runs(*(_result("short", s, acc=(0.3, 0.5, 0.6)) for s in (0, 1)),
                    *(_result("unfiltered/short", s, acc=(0.3, 0.5, 0.4)) for s in (0, 1)),
                    *(_result("long", s, acc=(0.3, 0.4)) for s in (0, 1)),
                    *(_result("stair/long", s, acc=(0.2, 0.3, 0.6)) for s in (0, 1)))
    arms = {"unfiltered": ArmInfo(claim="quality", compare="short", models=["short"]),
            "stair": ArmInfo(claim="schedule", compare="long", models=["long"])}
    quality, stair = arm_choices_help_rl(results, arms)
    assert quality.effect == _exact(20) and quality.verdict == REPRODUCED
    # gains 30 and 10; the unfiltered arm falls 0.5 -> 0.4, the main model never
    assert quality.note == ("difference of RL gains: +20.0 [+20.0, +20.0] points; largest fall of accuracy between "
                            "evaluations, unfiltered/short minus short: +10.0 [+10.0, +10.0] points")
    # curves of different lengths: no falls to compare
    assert stair.effect == _exact(20) and stair.note == "difference of RL gains: +30.0 [+30.0, +30.0] points"


def test_qwen_and_qa_share_arms_are_judged_by_their_own_rules():
    # among other arms, before and after them: the Qwen-like arm in turn, the QA shares together and last
    arms = {"unfiltered": ArmInfo(claim="quality", compare="short", models=["short"]),
            "qwen-like": ArmInfo(claim="qwen", compare="base", models=["base"]),
            "qa-10": ArmInfo(claim="qa-share", compare="short", models=["short"], value=0.1, compare_value=0.5),
            "qa-30": ArmInfo(claim="qa-share", compare="short", models=["short"], value=0.3, compare_value=0.5),
            "short-stable": ArmInfo(claim="budget", compare="short", models=["short"])}
    results = _runs(*(_result(k, s, acc=(0.1, end)) for s in (0, 1) for k, end in
                      (("base", 0.1), ("qwen-like/base", 0.4), ("short", 0.45), ("qa-10/short", 0.4),
                       ("qa-30/short", 0.6), ("unfiltered/short", 0.35), ("short-stable/short", 0.3))))
    found = arm_choices_help_rl(results, arms)
    assert [f.claim for f in found] == ["(d) Mid-training on quality-filtered math web beats unfiltered web for RL",
                                       "(g) A Qwen-like base (qwen-like/base) gains more under RL than the Llama-like base",
                                       "(e) A longer stable stage raises what RL reaches",
                                       "(C8) The QA share of the decay mix has an optimum inside the 3 shares tried"]
    assert [f.effect for f in found] == [_exact(10), _exact(30), _exact(15), _exact(15)]


def test_the_qa_share_optimum_by_hand():
    # the main model holds the middle share; by name it would sort last
    arms = {"less-qa": ArmInfo(claim="qa-share", compare="short", models=["short"], value=0.2, compare_value=0.4),
            "more-qa": ArmInfo(claim="qa-share", compare="short", models=["short"], value=0.6, compare_value=0.4),
            "stair": ArmInfo(claim="schedule", compare="long", models=["long"])}
    ends = {"short": (0.6, 0.5), "more-qa/short": (0.45, 0.45), "less-qa/short": (0.4, 0.4)}
    results = _runs(*(_result(k, s, acc=(0.1, e[s])) for k, e in ends.items() for s in (0, 1)))
    [found] = qa_share_has_interior_optimum(results, arms)
    assert found.claim == "(C8) The QA share of the decay mix has an optimum inside the 3 shares tried"
    assert found.measure == "accuracy after RL, best interior share minus the better end" and found.unit == "points"
    # in order of the share: 20% 0.4, 40% 0.6 or 0.5, 60% 0.45
    assert found.per_seed == {0: _exact(15), 1: _exact(5)} and found.effect == _exact(10)
    assert found.verdict == REPRODUCED
    assert found.note == "after RL by share: 20% (less-qa/short) 40.0, 40% (short) 55.0, 60% (more-qa/short) 45.0"
    # two shares are no interior; a share without runs, no seeds to judge
    assert qa_share_has_interior_optimum(results, {"less-qa": arms["less-qa"]}) == []
    assert qa_share_has_interior_optimum({k: v for k, v in results.items() if k[0] != "short"}, arms) == []
    assert qa_share_has_interior_optimum(results, {"stair": arms["stair"]}) == []


# --- (g): the Qwen-like and the Llama-like base ------------------------------------------------------------


def test_a_qwen_like_base_gain_is_its_gain_minus_the_bases():
    results = _runs(*(_result("base", s, acc=(0.1, 0.2)) for s in (0, 1)),
                    _result("q/base", 0, acc=(0.2, 0.5)), _result("q/base", 1, acc=(0.2, 0.7)),
                    _result("q/base", 2, acc=(0.2, 0.9)))   # no base in seed 2: not compared there
    [found] = qwen_like_gains_more_under_rl(results, "q/base")
    assert found.claim == "(g) A Qwen-like base (q/base) gains more under RL than the Llama-like base"
    assert found.measure == "gain of q/base minus gain of base" and found.unit == "points"
    assert found.per_seed == {0: _exact(20), 1: _exact(40)} and found.effect == _exact(30)
    assert found.verdict == REPRODUCED
    assert qwen_like_gains_more_under_rl(results, "other/base") == []


@pytest.mark.parametrize("ends, lengths, expected", [
    ((0.2, 0.2), (60, 60), REPRODUCED),       # longer, no more accurate
    ((0.4, 0.4), (60, 60), INCONCLUSIVE),     # longer, and more accurate: no runaway
    ((0.205, 0.18), (60, 60), INCONCLUSIVE),  # half a point more accurate in seed 0 (-0.75 pooled): not every seed
    ((0.205, 0.205), (60, 60), INCONCLUSIVE), # more accurate by half a point is more accurate
    ((0.2, 0.2), (20, 20), NOT_REPRODUCED),   # shorter
])
def test_the_llama_like_base_runs_away_in_length_without_gaining(ends, lengths, expected):
    # from the first evaluation to the last, whatever came between
    results = _runs(*(_result("base", s, acc=(0.2, 0.9, e), length=(30, 99, x))
                      for s, e, x in zip((0, 1), ends, lengths)))
    [found] = llama_like_length_runs_away(results)
    assert found.claim == "(g) The Llama-like base's responses grow longer under RL without its accuracy growing"
    assert found.measure == "change of the base's mean response length over RL" and found.unit == "tokens"
    assert found.effect == _exact(lengths[0] - 30) and found.per_seed == {0: _exact(lengths[0] - 30),
                                                                         1: _exact(lengths[1] - 30)}
    gain = round(100 * (sum(ends) / 2 - 0.2), 6)
    assert found.note == f"the base's accuracy gain: {gain:+.1f} [{gain:+.1f}, {gain:+.1f}] points"
    assert found.verdict == expected
    assert llama_like_length_runs_away(_runs(_result("short"))) == []


def test_a_runaway_needs_the_accuracy_gain_not_above_zero_pooled_or_in_any_seed():
    # pooled, accuracy rises half a point in every resample; each seed's gain swings around it
    lengths = {s: (30, 60) for s in (0, 1)}
    ends = _mirrored(0.205, 0.2)
    results = _runs(*(_result("base", s, acc=(0.2, ends[s]), length=lengths[s], n=20) for s in (0, 1)))
    [found] = llama_like_length_runs_away(results)
    assert found.note == "the base's accuracy gain: +0.5 [+0.5, +0.5] points" and found.effect == _exact(30)
    assert found.verdict == INCONCLUSIVE


def test_a_runaway_with_an_accuracy_gain_that_may_be_zero():
    # one seed: lengths double, accuracy moves +-20 points a problem around no change: not a gain
    results = _runs(_result("base", 0, acc=(0.4, [0.6, 0.2] * 10), length=(30, 60), n=20))
    [found] = llama_like_length_runs_away(results)
    assert found.note.startswith("the base's accuracy gain: ") and " [-" in found.note  # its interval reaches below 0
    assert found.verdict == REPRODUCED


def test_a_runaway_needs_the_length_interval_above_zero_in_every_seed():
    # pooled, lengths grow 10 tokens in every resample; each seed's growth swings 30 tokens around it
    swing = _mirrored(40.0, 30.0)
    results = _runs(*(_result("base", s, acc=(0.2, 0.2), length=(30, swing[s]), n=20) for s in (0, 1)))
    [found] = llama_like_length_runs_away(results)
    assert found.effect == _exact(10) and all(e[1] < 0 for e in found.per_seed.values())
    assert found.verdict == INCONCLUSIVE


# --- the board -------------------------------------------------------------------------------------------


def test_all_findings_in_order_and_only_for_what_the_run_has():
    runs = [_result(k, s, acc=acc, length=length) for s in (0, 1) for k, acc, length in
            (("base", (0.1, 0.2), (30, 40)), ("short", (0.3, 0.6), (30, 30)), ("long", (0.3, 0.5), (60, 90)))]
    results = _runs(*runs)
    claims = [f.claim for f in all_findings(results, _layout(branches=["short", "long", "hybrid"]))]
    assert claims == [
        "(a) RL from the short branch gains more held-out accuracy than RL from the base",
        "(a) RL from the long branch gains more held-out accuracy than RL from the base",
        "(b) The long-CoT branch writes longer responses than the short one, before and during RL",
        "(C4) RL from the long branch suffers larger sudden drops of held-out accuracy than from the short",
        "(C4) RL from the long branch lets response length run away more than from the short",
        "(C9) Stable-then-decay (short branch) raises the base's held-out accuracy before any RL",
        "(C9) Stable-then-decay (long branch) raises the base's held-out accuracy before any RL"]
    # a Qwen-like base, named by the layout or by an arm, brings (g) and its Llama-like half (once)
    qwen = _runs(*runs, *(_result("q/base", s, acc=(0.2, 0.6)) for s in (0, 1)))
    for layout in (_layout(branches=["short"], qwen="q/base"),
                   _layout(branches=["short"], arms={"q": {"claim": "qwen", "compare": "base", "models": ["base"]}})):
        claims = [f.claim for f in all_findings(qwen, layout)]
        assert claims == [
            "(a) RL from the short branch gains more held-out accuracy than RL from the base",
            "(b) The long-CoT branch writes longer responses than the short one, before and during RL",
            "(C4) RL from the long branch suffers larger sudden drops of held-out accuracy than from the short",
            "(C4) RL from the long branch lets response length run away more than from the short",
            "(C9) Stable-then-decay (short branch) raises the base's held-out accuracy before any RL",
            "(g) A Qwen-like base (q/base) gains more under RL than the Llama-like base",
            "(g) The Llama-like base's responses grow longer under RL without its accuracy growing"]


def test_greedy_and_probe_findings_join_the_board_when_the_run_has_them():
    runs = _runs(*_ranked((0.1, 0.2, 0.3, 0.4, 0.5)))
    runs.update(_runs(_result("base", 0, acc=(0.1, 0.2), greedy=(0.1, 0.2)), _result("short", 0, acc=(0.2, 0.5), greedy=(0.2, 0.6))))
    claims = [f.claim for f in all_findings(runs, _layout(branches=["short"]))]
    assert claims == ["(a) RL from the short branch gains more held-out accuracy than RL from the base",
                      "(a, greedy) RL from the short branch gains more held-out greedy accuracy than RL from the base",
                      "(c) The RL-readiness probe ranks the 5 models as RL does",  # base and short have no probe
                      "(C9) Stable-then-decay (short branch) raises the base's held-out accuracy before any RL"]


def test_model_keys_in_the_order_the_runs_come():
    assert model_keys(_runs(_result("b", 0), _result("a", 0), _result("b", 1), _result("c", 1))) == ["b", "a", "c"]


def test_before_and_after_rl_pooled_over_seeds():
    # three evaluations: before RL is the first, after RL the last
    middle = {"most_common": 50.0, "shuffled": 90.0}
    baselines = {0: [{"most_common": 50.0, "shuffled": 20.0}, middle, {"most_common": 50.0, "shuffled": 30.0}],
                 1: [{"most_common": 60.0, "shuffled": 22.0}, middle, {"most_common": 60.0, "shuffled": 34.0}]}
    results = _runs(_result("short", 0, acc=(0.2, 0.9, 0.5), length=(30, 99, 60), greedy=(0.3, 0.9, 0.4),
                            truncated=(1.0, 9.0, 5.0), baselines=baselines[0]),
                    _result("short", 1, acc=(0.4, 0.9, 0.7), length=(50, 99, 80), greedy=(0.5, 0.9, 0.8),
                            truncated=(3.0, 9.0, 7.0), baselines=baselines[1]),
                    _result("long", 2, acc=(0.0, 0.0)))
    table = before_after(results, "short")
    expected = {"key": "short", "seeds": [0, 1], "problems": N, "samples": 4, "benchmark": "synth",
                "start": _exact(30), "end": _exact(60), "gain": _exact(30),
                "greedy_start": _exact(40), "greedy_end": _exact(60),
                "baseline_most_common": pytest.approx(55.0), "baseline_shuffled_start": pytest.approx(21.0),
                "baseline_shuffled_end": pytest.approx(32.0), "length_start": pytest.approx(40.0),
                "length_end": pytest.approx(70.0), "truncated_start": pytest.approx(2.0),
                "truncated_end": pytest.approx(6.0)}
    assert table == expected
    # a seed without greedy answers: no greedy columns; runs that predate truncation: nan
    results[("short", 1)] = _result("short", 1, acc=(0.4, 0.9, 0.7), baselines=baselines[1])
    results[("short", 0)].truncated = []
    table = before_after(results, "short")
    assert "greedy_start" not in table and "greedy_end" not in table
    assert math.isnan(table["truncated_start"]) and math.isnan(table["truncated_end"])
    # one seed
    one = before_after(_runs(_result("short", 5, acc=(0.2, 0.6))), "short")
    assert one["seeds"] == [5] and one["gain"] == _exact(40) and one["problems"] == N


def test_a_curve_pools_each_evaluation_every_seed_reached():
    results = _runs(_result("short", 0, acc=(0.2, 0.5, 0.6), length=(30, 40, 50), truncated=(1.0, 2.0, 3.0)),
                    _result("short", 1, acc=(0.4, 0.7), length=(50, 60)), _result("long", 2, acc=(0.9, 0.9)))
    c = curve(results, "short")
    assert c["steps"] == [0, 10, 20]
    assert c["seeds"][0] == {"accuracy": pytest.approx([20, 50, 60]), "length": [30, 40, 50], "truncated": [1.0, 2.0, 3.0]}
    assert c["seeds"][1] == {"accuracy": pytest.approx([40, 70]), "length": [50, 60], "truncated": []}
    # seed 1 stops after two evaluations: the pooled curve with it
    assert c["mean"] == pytest.approx([30, 60]) and c["lo"] == pytest.approx([30, 60]) and c["hi"] == pytest.approx([30, 60])
    assert c["length_mean"] == pytest.approx([40, 50])
    # problems that differ: each evaluation's interval is around its mean, below and above it
    noisy = curve(_runs(_result("short", 0, acc=([0.0, 1.0, 0.5, 1.0], [1.0, 1.0, 0.0, 0.0]))), "short")
    assert noisy["mean"] == pytest.approx([62.5, 50.0])
    assert all(lo < m < hi for lo, m, hi in zip(noisy["lo"], noisy["mean"], noisy["hi"]))


def test_a_verdict_needs_every_lower_bound_strictly_above_zero():
    from octothinker.report.findings import verdict

    above, touching = (1.0, 0.5, 2.0), (1.0, 0.0, 2.0)
    assert verdict(touching, {0: above, 1: above}) == INCONCLUSIVE
    assert verdict(above, {0: above, 1: touching}) == INCONCLUSIVE
    assert verdict(above, {0: above, 1: above}) == REPRODUCED
