"""The study's claims, measured on a run with their intervals, and a verdict for each.

Every model RL starts from is evaluated by its RL run at step 0 and at its last step, on the same
held-out problems with the same prompt and decoding (`rl.eval`): accuracy is the mean over the samples
of a problem, and intervals are 95% percentile bootstraps over the problems, paired across models and
seeds (every resample draws the same problems for all). With several seeds, an effect is the mean over
seeds. A verdict is:
- reproduced: the interval lies above zero in the pooled estimate and in every seed;
- not reproduced: the interval lies below zero (the opposite of the claim);
- inconclusive at this budget: otherwise (no measurable difference).

Claims: (a) RL from each mid-trained branch gains more than RL from the base, in sampled accuracy and,
where the run evaluates greedily too, in greedy accuracy (the paper's validation is greedy); (b) long-CoT
responses are longer than short-CoT ones, before and during RL; (c) the probe ranks the models as RL
does; (C4) long chain of thought makes RL less stable: a larger fall of held-out accuracy between
evaluations, or responses that run away in length; (C9) stable-then-decay raises the base's accuracy
before any RL; and, from the study's arms: (C3) QA data in the stable mix helps RL, (C7) the template
mid-training taught and a stair length schedule help RL, (C8) the QA share of the decay mix has an
optimum inside the shares tried, (d) quality-filtered web beats unfiltered web for RL, (e) a longer
stable stage raises what RL reaches, (f) instruction data in the decay mix helps RL, (g) a base that
saw QA data in pre-training ("Qwen-like") gains under RL where the "Llama-like" base does not, and the
Llama-like base's responses grow longer without its accuracy growing. The paper's label is data: each
finding's claim opens with it, in the report and findings.json; the functions that judge the claims are
named by what they measure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from octothinker.eval.records import HeldOutEval, ProbeReport
from octothinker.eval.stats import bootstrap, mean, question_independent, spearman_interval, spearman_permutation_p
from octothinker.study.layout import ArmInfo, RunLayout
from octothinker.runs import read_jsonl

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive at this budget"
TOO_FEW_MODELS = "too few models to judge"
# A rank correlation over models is judged only over enough models that chance rarely orders them as
# well: with 4 a perfect ranking has a permutation p of 1/24, and rho 0.4 comes one time in three.
MIN_MODELS, MAX_PERMUTATION_P = 5, 0.05


@dataclass
class Result:
    """One model of one seed: its RL run's evaluations (per problem) and its probe."""
    key: str
    seed: int
    benchmark: str
    samples: int
    steps: list[int]
    accuracy: list[list[float]]          # per evaluation: per-problem accuracy (0..1)
    length: list[list[float]]            # per evaluation: per-problem mean response tokens
    baselines: list[dict]                # per evaluation: question-independent accuracies (%)
    training: list[dict] = field(default_factory=list)
    greedy: list[list[float]] = field(default_factory=list)   # per evaluation, when sampled is the primary
    probe: ProbeReport | None = None
    truncated: list[float] = field(default_factory=list)      # per evaluation: % of answers cut at the limit

    @property
    def start(self) -> list[float]:
        return self.accuracy[0]

    @property
    def end(self) -> list[float]:
        return self.accuracy[-1]

    def series(self, decoding: str) -> list[list[float]]:
        """Per evaluation, per-problem accuracy: of the samples ("sampled", the primary decoding) or of
        the greedy answer ("greedy", when the run evaluated both)."""
        return self.greedy if decoding == "greedy" else self.accuracy

    def during_length(self) -> list[float]:
        """Per problem, the mean response length over the evaluations after step 0."""
        later = self.length[1:] or self.length
        return [mean(col) for col in zip(*later)]


def load_results(layout: RunLayout) -> dict[tuple[str, int], Result]:
    """Results of every model and seed the layout names (those whose RL run has an evaluation)."""
    results = {}
    for s in layout.subjects:
        rows = [HeldOutEval.model_validate(r) for r in read_jsonl(Path(s.rl) / "eval.jsonl")]
        if not rows or rows[0].correct_per_problem is None:
            continue
        benchmark, decoding = rows[0].benchmark, rows[0].decoding  # the primary decoding comes first
        greedy = [r for r in rows if r.benchmark == benchmark and r.decoding == "greedy" and decoding != "greedy"]
        rows = [r for r in rows if r.benchmark == benchmark and r.decoding == decoding]
        probe_path = Path(s.probe)
        results[(s.key, s.seed)] = Result(
            key=s.key, seed=s.seed, benchmark=benchmark, samples=rows[0].samples,
            steps=[r.step for r in rows],
            accuracy=[[c / r.samples for c in r.correct_per_problem] for r in rows],
            length=[r.tokens_per_problem for r in rows],
            baselines=[question_independent(r.answer_counts, r.gold_counts, r.unanswered) for r in rows],
            training=read_jsonl(Path(s.rl) / "metrics.jsonl"),
            greedy=[[c / r.samples for c in r.correct_per_problem] for r in greedy],
            truncated=[r.truncation_rate for r in rows],
            probe=ProbeReport.read(probe_path) if probe_path.is_file() else None)
    return results


@dataclass
class Finding:
    claim: str                      # the paper's label, then its claim: "(b) The long-CoT branch writes ..."
    measure: str                    # what the effect is, in words
    effect: tuple[float, float, float]   # pooled (point, lo, hi)
    per_seed: dict[int, tuple[float, float, float]]
    unit: str                       # "points", "tokens", "rho"
    verdict: str
    note: str = ""

    def effect_text(self, e: tuple[float, float, float] | None = None) -> str:
        point, lo, hi = e or self.effect
        if math.isnan(point):
            return "n/a"
        sign = "+" if self.unit != "rho" else ""
        return f"{point:{sign}.{1 if self.unit != 'rho' else 2}f} [{lo:{sign}.{1 if self.unit != 'rho' else 2}f}, " \
               f"{hi:{sign}.{1 if self.unit != 'rho' else 2}f}] {self.unit}"


def verdict(pooled: tuple[float, float, float], per_seed: dict[int, tuple[float, float, float]]) -> str:
    _, lo, hi = pooled
    if math.isnan(lo):
        return INCONCLUSIVE
    if lo > 0 and all(s[1] > 0 for s in per_seed.values()):
        return REPRODUCED
    if hi < 0:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def _paired(seeds: list[int], columns, statistic, scale: float):
    """Pooled and per-seed (point, lo, hi) of a statistic over per-problem columns, in `scale` units.
    `columns(seed)` gives a seed's columns; the pooled statistic is the mean of the seeds' statistics,
    all seeds resampled with the same problems (the bootstrap's own seed, so every claim draws alike)."""
    per_seed = {}
    for s in seeds:
        cols = columns(s)
        per_seed[s] = tuple(scale * v for v in bootstrap(cols, statistic))
    width = len(columns(seeds[0]))
    every = [c for s in seeds for c in columns(s)]

    def pooled_stat(*cols):  # the mean over seeds, element-wise (resamples stay apart)
        values = [statistic(*cols[i * width:(i + 1) * width]) for i in range(len(seeds))]
        return sum(values) / len(values)

    pooled = tuple(scale * v for v in bootstrap(every, pooled_stat))
    return pooled, per_seed


def _diff(a, b):
    return mean(a) - mean(b)


def _gain_diff(end_a, start_a, end_b, start_b):
    return (mean(end_a) - mean(start_a)) - (mean(end_b) - mean(start_b))


def _seeds_with(results: dict, *keys: str) -> list[int]:
    seeds = sorted({s for (_, s) in results})
    return [s for s in seeds if all((k, s) in results for k in keys)]


def branch_gains_more_under_rl(results: dict, branches: list[str], decoding: str = "sampled") -> list[Finding]:
    """(a) Per branch: its RL gain minus the base's, and its own gain above zero. With `decoding="greedy"`,
    the same rule on the greedy answers (only where every run of the pair evaluated them)."""
    def acc(key, s, i):
        return results[(key, s)].series(decoding)[i]

    out = []
    for branch in branches:
        seeds = [s for s in _seeds_with(results, branch, "base")
                 if decoding != "greedy" or (results[(branch, s)].greedy and results[("base", s)].greedy)]
        if not seeds:
            continue
        gain, gain_seeds = _paired(seeds, lambda s: [acc(branch, s, -1), acc(branch, s, 0)], _diff, 100)
        diff, diff_seeds = _paired(seeds, lambda s: [acc(branch, s, -1), acc(branch, s, 0),
                                                             acc("base", s, -1), acc("base", s, 0)], _gain_diff, 100)
        base_gain, _ = _paired(seeds, lambda s: [acc("base", s, -1), acc("base", s, 0)], _diff, 100)
        both = {s: (diff_seeds[s][0], min(diff_seeds[s][1], gain_seeds[s][1]), diff_seeds[s][2]) for s in seeds}
        v = verdict((diff[0], min(diff[1], gain[1]), diff[2]), both)
        greedy = " greedy" if decoding == "greedy" else ""
        out.append(Finding(f"(a{', greedy' if greedy else ''}) RL from the {branch} branch gains more held-out"
                           f"{greedy} accuracy than RL from the base",
                           f"{greedy.strip() + ' ' if greedy else ''}gain of {branch} minus gain of base", diff,
                           diff_seeds, "points", v,
                           note=f"gain of {branch}: {_fmt(gain)}; gain of base: {_fmt(base_gain)}"))
    return out


def branch_raises_accuracy_before_rl(results: dict, branches: list[str]) -> list[Finding]:
    """(C9) Per branch: held-out accuracy before any RL (the RL run's step-0 evaluation, the same prompt
    and decoding for every model), branch minus base. The paper's base-model table shows the same
    few-shot; here the prompt is the RL frame, zero-shot."""
    out = []
    for branch in branches:
        seeds = _seeds_with(results, branch, "base")
        if not seeds:
            continue
        effect, per_seed = _paired(seeds, lambda s: [results[(branch, s)].start, results[("base", s)].start],
                                   _diff, 100)
        note = ""
        greedy_seeds = [s for s in seeds if results[(branch, s)].greedy and results[("base", s)].greedy]
        if greedy_seeds == seeds:
            greedy, _ = _paired(seeds, lambda s: [results[(branch, s)].greedy[0],
                                                           results[("base", s)].greedy[0]], _diff, 100)
            note = f"greedy: {_fmt(greedy)}"
        out.append(Finding(f"(C9) Stable-then-decay ({branch} branch) raises the base's held-out accuracy before any RL",
                           f"accuracy before RL, {branch} minus base", effect, per_seed, "points",
                           verdict(effect, per_seed), note=note))
    return out


def _drawdown(*evaluations):
    """The largest fall of mean accuracy from one evaluation to any later one (0 when it never falls)."""
    means = [mean(e) for e in evaluations]
    fall = 0.0 * means[0]
    for i, earlier in enumerate(means):
        for later in means[i + 1:]:
            fall = np.maximum(fall, earlier - later)
    return fall


def _curve_points(results: dict, keys: tuple[str, ...], seeds: list[int]) -> int | None:
    """The number of evaluations every run of `keys` in `seeds` has, when they all have the same (>= 2)."""
    counts = {len(results[(key, s)].accuracy) for key in keys for s in seeds}
    return counts.pop() if len(counts) == 1 and min(counts) >= 2 else None


def _instability(k: int):
    """`_drawdown` of the first k columns minus that of the next k (long's evaluations, then short's)."""
    return lambda *cols: _drawdown(*cols[:k]) - _drawdown(*cols[k:])


def _growth(end_a, start_a, end_b, start_b):
    """Relative growth of mean length over RL, a minus b (in fractions: 0.5 is +50%)."""
    return (mean(end_a) / mean(start_a) - 1) - (mean(end_b) / mean(start_b) - 1)


def long_cot_destabilizes_rl(results: dict) -> list[Finding]:
    """(C4) Long chain of thought makes RL less stable than short, by two rules on the held-out curves:
    the largest fall of accuracy from one evaluation to a later one (a sudden drop, in points), and the
    relative growth of the mean response length over RL (a runaway length). The curves have as many
    points as the run's evaluations (`rl.eval.every`): a drop between two of them is not seen."""
    seeds = _seeds_with(results, "long", "short")
    k = _curve_points(results, ("long", "short"), seeds) if seeds else None
    if k is None:
        return []
    drop, drop_seeds = _paired(seeds, lambda s: [*results[("long", s)].accuracy, *results[("short", s)].accuracy],
                               _instability(k), 100)
    growth, growth_seeds = _paired(seeds, lambda s: [results[("long", s)].length[-1], results[("long", s)].length[0],
                                                              results[("short", s)].length[-1], results[("short", s)].length[0]],
                                   _growth, 100)
    trunc = {key: mean([results[(key, s)].truncated[-1] for s in seeds if results[(key, s)].truncated])
             for key in ("long", "short")}
    return [
        Finding("(C4) RL from the long branch suffers larger sudden drops of held-out accuracy than from the short",
                f"largest fall of accuracy between evaluations ({k} of them), long minus short", drop, drop_seeds,
                "points", verdict(drop, drop_seeds)),
        Finding("(C4) RL from the long branch lets response length run away more than from the short",
                "growth of mean response length over RL, long minus short", growth, growth_seeds, "%",
                verdict(growth, growth_seeds),
                note=f"answers cut at the limit after RL: long {trunc['long']:.1f}%, short {trunc['short']:.1f}%"),
    ]


def long_cot_writes_longer(results: dict) -> Finding | None:
    """(b) Mean response length, long minus short, before RL (step 0) and during it (the evaluations
    after step 0): reproduced only when both intervals lie above zero."""
    seeds = _seeds_with(results, "long", "short")
    if not seeds:
        return None
    before, before_seeds = _paired(seeds, lambda s: [results[("long", s)].length[0],
                                                              results[("short", s)].length[0]], _diff, 1)
    during, during_seeds = _paired(seeds, lambda s: [results[("long", s)].during_length(),
                                                              results[("short", s)].during_length()], _diff, 1)
    both = {s: (before_seeds[s][0], min(before_seeds[s][1], during_seeds[s][1]), before_seeds[s][2]) for s in seeds}
    v = verdict((before[0], min(before[1], during[1]), before[2]), both)
    return Finding("(b) The long-CoT branch writes longer responses than the short one, before and during RL",
                   "mean response length, long minus short, before RL", before, before_seeds, "tokens", v,
                   note=f"during RL (evaluations after step 0): {_fmt(during, 'tokens')}")


def probe_ranks_models_as_rl(results: dict) -> Finding | None:
    """(c) Spearman between the probe's pass@k and the accuracy RL reached, over every model of a seed.
    The bootstrap interval is over prompts and problems; whether the models' order could be chance is a
    permutation test over the models themselves (on the means over seeds), and with fewer than
    MIN_MODELS models there is no verdict to give."""
    seeds = sorted({s for (_, s) in results})
    per_seed, means = {}, {}
    for s in seeds:
        models = [k for (k, seed) in results if seed == s and results[(k, s)].probe
                  and results[(k, s)].probe.correct_per_problem is not None]
        if len(models) < 3:
            continue
        probe_cols = [[1.0 if c > 0 else 0.0 for c in results[(m, s)].probe.correct_per_problem] for m in models]
        rl_cols = [results[(m, s)].end for m in models]
        per_seed[s] = spearman_interval(probe_cols, rl_cols, seed=s)
        for m, p, o in zip(models, probe_cols, rl_cols):
            means.setdefault(m, []).append((mean(p), mean(o)))
    if not per_seed:
        return None
    values = list(per_seed.values())
    pooled = tuple(mean([v[i] for v in values]) for i in range(3))
    models = sorted(means)
    p = spearman_permutation_p([mean([a for a, _ in means[m]]) for m in models],
                               [mean([b for _, b in means[m]]) for m in models])
    if len(models) < MIN_MODELS:
        judged = TOO_FEW_MODELS
    else:
        judged = verdict(pooled, per_seed)
        if judged == REPRODUCED and (p is None or p >= MAX_PERMUTATION_P):
            judged = INCONCLUSIVE
    chance = f"permutation p over the {len(models)} models {p:.3f}" if p is not None else "no spread to rank"
    return Finding(f"(c) The RL-readiness probe ranks the {len(models)} models as RL does",
                   "Spearman's rho between probe pass@k and accuracy after RL", pooled, per_seed, "rho", judged,
                   note=f"interval: bootstrap over probe prompts and held-out problems; pooled: mean over seeds; "
                        f"{chance} (judged from {MIN_MODELS} models, at p < {MAX_PERMUTATION_P})")


# Per arm claim: the paper's label and the claim's words, and whether the arm holds the paper's choice
# (its effect is then the arm minus the main model it is compared with) or the main line does (the main
# model minus the arm).
_ARM_CLAIMS = {
    "qa": ("(C3) QA data in the stable mix (beside the math web) helps RL", False),
    "template": ("(C7) RL in the frame mid-training taught beats RL from a bare question", False),
    "schedule": ("(C7) A stair schedule of the response limit helps RL against a fixed limit", True),
    "quality": ("(d) Mid-training on quality-filtered math web beats unfiltered web for RL", False),
    "budget": ("(e) A longer stable stage raises what RL reaches", False),
    "instruct": ("(f) Instruction data in the decay mix helps RL", False),
    "instruct-frame": ("(f) Instruction data in the decay mix, in the RL prompt's own frame, helps RL", True),
}


def arm_choices_help_rl(results: dict, arms: dict[str, ArmInfo]) -> list[Finding]:
    """Per arm model: accuracy after RL of the line holding the paper's choice minus the other's (claims
    (C3), (C7), (d)-(f)); a Qwen-like arm is judged by `qwen_like_gains_more_under_rl`, and the arms of
    claim `qa-share` together, last, by `qa_share_has_interior_optimum`."""
    out = []
    for name, arm in arms.items():
        if arm.claim == "qwen":
            out += qwen_like_gains_more_under_rl(results, f"{name}/{arm.models[0]}")
            continue
        if arm.claim == "qa-share":
            continue  # judged over all its arms together (qa_share_has_interior_optimum)
        text, arm_holds_choice = _ARM_CLAIMS[arm.claim]
        for model in arm.models:
            key = f"{name}/{model}"
            seeds = _seeds_with(results, arm.compare, key)
            if not seeds:
                continue
            better, worse = (key, arm.compare) if arm_holds_choice else (arm.compare, key)
            effect, per_seed = _paired(seeds, lambda s: [results[(better, s)].end, results[(worse, s)].end],
                                       _diff, 100)
            gains, _ = _paired(seeds, lambda s: [results[(better, s)].end, results[(better, s)].start,
                                                          results[(worse, s)].end, results[(worse, s)].start], _gain_diff, 100)
            note = f"difference of RL gains: {_fmt(gains)}"
            k = _curve_points(results, (better, worse), seeds)
            if k is not None:
                calm, _ = _paired(seeds, lambda s: [*results[(worse, s)].accuracy, *results[(better, s)].accuracy],
                                  _instability(k), 100)
                note += f"; largest fall of accuracy between evaluations, {worse} minus {better}: {_fmt(calm)}"
            out.append(Finding(text, f"accuracy after RL, {better} minus {worse}", effect, per_seed, "points",
                               verdict(effect, per_seed), note=note))
    return out + qa_share_has_interior_optimum(results, arms)


def _interior_gain(n: int):
    """With n accuracy columns in order of the varied setting: the best interior one minus the better end."""
    def statistic(*cols):
        means = [mean(c) for c in cols]
        interior = means[1]
        for m in means[2:n - 1]:
            interior = np.maximum(interior, m)
        return interior - np.maximum(means[0], means[n - 1])
    return statistic


def qa_share_has_interior_optimum(results: dict, arms: dict[str, ArmInfo]) -> list[Finding]:
    """(C8) The QA share of the decay mix has an optimum inside the shares tried (the paper: about 30% of
    10-40%): the best interior share's accuracy after RL minus the better of the two ends, over the arms
    of claim `qa-share` and the main model they are compared with."""
    shares = {f"{n}/{m}": a.value for n, a in arms.items() if a.claim == "qa-share" for m in a.models}
    compare = {(a.compare, a.compare_value) for a in arms.values() if a.claim == "qa-share"}
    if not shares:
        return []
    shares.update(dict(compare))
    order = sorted(shares, key=lambda k: shares[k])
    seeds = _seeds_with(results, *order)
    if len(order) < 3 or not seeds:
        return []
    effect, per_seed = _paired(seeds, lambda s: [results[(k, s)].end for k in order], _interior_gain(len(order)), 100)
    each = ", ".join(f"{100 * shares[k]:.0f}% ({k}) {100 * mean([mean(results[(k, s)].end) for s in seeds]):.1f}"
                     for k in order)
    return [Finding(f"(C8) The QA share of the decay mix has an optimum inside the {len(order)} shares tried",
                    "accuracy after RL, best interior share minus the better end", effect, per_seed, "points",
                    verdict(effect, per_seed), note=f"after RL by share: {each}")]


def qwen_like_gains_more_under_rl(results: dict, qwen: str) -> list[Finding]:
    """(g) A Qwen-like base (`qwen`) gains more under RL than the Llama-like base."""
    seeds = _seeds_with(results, qwen, "base")
    if not seeds:
        return []
    diff, per_seed = _paired(seeds, lambda s: [results[(qwen, s)].end, results[(qwen, s)].start,
                                                        results[("base", s)].end, results[("base", s)].start],
                             _gain_diff, 100)
    return [Finding(f"(g) A Qwen-like base ({qwen}) gains more under RL than the Llama-like base",
                    f"gain of {qwen} minus gain of base", diff, per_seed, "points", verdict(diff, per_seed))]


def llama_like_length_runs_away(results: dict) -> list[Finding]:
    """(g)'s other half, about the Llama-like base alone (so judged once, however many Qwen-like bases
    it is compared with): its responses grow longer under RL without its accuracy growing."""
    seeds = _seeds_with(results, "base")
    if not seeds:
        return []
    growth, growth_seeds = _paired(seeds, lambda s: [results[("base", s)].length[-1],
                                                              results[("base", s)].length[0]], _diff, 1)
    base_gain, base_gain_seeds = _paired(seeds, lambda s: [results[("base", s)].end,
                                                                    results[("base", s)].start], _diff, 100)
    # Runaway: the length interval lies above zero while the accuracy gain's does not.
    runaway_seeds = {s: (growth_seeds[s][0], growth_seeds[s][1] if base_gain_seeds[s][1] <= 0 else -1.0,
                         growth_seeds[s][2]) for s in seeds}
    runaway = (growth[0], growth[1] if base_gain[1] <= 0 else -1.0, growth[2])
    return [Finding("(g) The Llama-like base's responses grow longer under RL without its accuracy growing",
                    "change of the base's mean response length over RL", growth, growth_seeds, "tokens",
                    verdict(runaway, runaway_seeds), note=f"the base's accuracy gain: {_fmt(base_gain)}")]


def _fmt(e: tuple[float, float, float], unit: str = "points") -> str:
    point, lo, hi = e
    return f"{point:+.1f} [{lo:+.1f}, {hi:+.1f}] {unit}"


def all_findings(results: dict, layout: RunLayout) -> list[Finding]:
    branches = [b for b in layout.branches if any(k == b for k, _ in results)]
    found = branch_gains_more_under_rl(results, branches)
    found += branch_gains_more_under_rl(results, branches, decoding="greedy")
    for extra in (long_cot_writes_longer(results), probe_ranks_models_as_rl(results)):
        if extra is not None:
            found.append(extra)
    found += long_cot_destabilizes_rl(results) + branch_raises_accuracy_before_rl(results, branches)
    if layout.qwen:
        found += qwen_like_gains_more_under_rl(results, layout.qwen)
    found += arm_choices_help_rl(results, layout.arms)
    if layout.qwen or any(arm.claim == "qwen" for arm in layout.arms.values()):
        found += llama_like_length_runs_away(results)
    return found


def model_keys(results: dict) -> list[str]:
    """Models in the order the layout lists them (main line first, then arms)."""
    seen = []
    for key, _ in results:
        if key not in seen:
            seen.append(key)
    return seen


def before_after(results: dict, key: str) -> dict:
    """Pooled over seeds: accuracy before and after RL, the gain (each with its interval, in %), the
    question-independent baselines and the response lengths."""
    seeds = _seeds_with(results, key)
    r0 = results[(key, seeds[0])]
    start, _ = _paired(seeds, lambda s: [results[(key, s)].start], mean, 100)
    end, _ = _paired(seeds, lambda s: [results[(key, s)].end], mean, 100)
    gain, _ = _paired(seeds, lambda s: [results[(key, s)].end, results[(key, s)].start], _diff, 100)
    greedy = {}
    if all(results[(key, s)].greedy for s in seeds):
        greedy = {"greedy_start": _paired(seeds, lambda s: [results[(key, s)].greedy[0]], mean, 100)[0],
                  "greedy_end": _paired(seeds, lambda s: [results[(key, s)].greedy[-1]], mean, 100)[0]}
    return {**greedy,"key": key, "seeds": seeds, "problems": len(r0.start), "samples": r0.samples, "benchmark": r0.benchmark,
            "start": start, "end": end, "gain": gain,
            "baseline_most_common": mean([results[(key, s)].baselines[0]["most_common"] for s in seeds]),
            "baseline_shuffled_start": mean([results[(key, s)].baselines[0]["shuffled"] for s in seeds]),
            "baseline_shuffled_end": mean([results[(key, s)].baselines[-1]["shuffled"] for s in seeds]),
            "length_start": mean([mean(results[(key, s)].length[0]) for s in seeds]),
            "length_end": mean([mean(results[(key, s)].length[-1]) for s in seeds]),
            "truncated_start": mean([(results[(key, s)].truncated or [math.nan])[0] for s in seeds]),
            "truncated_end": mean([(results[(key, s)].truncated or [math.nan])[-1] for s in seeds])}


def curve(results: dict, key: str) -> dict:
    """Per evaluation step: each seed's accuracy and length, and the mean over seeds with its interval."""
    seeds = _seeds_with(results, key)
    steps = results[(key, seeds[0])].steps
    out = {"steps": steps, "seeds": {}, "mean": [], "lo": [], "hi": [], "length_mean": []}
    for s in seeds:
        r = results[(key, s)]
        out["seeds"][s] = {"accuracy": [100 * mean(a) for a in r.accuracy], "length": [mean(x) for x in r.length],
                           "truncated": r.truncated}
    for i in range(len(steps)):
        if not all(i < len(results[(key, s)].accuracy) for s in seeds):
            break
        pooled, _ = _paired(seeds, lambda s: [results[(key, s)].accuracy[i]], mean, 100)
        out["mean"].append(pooled[0])
        out["lo"].append(pooled[1])
        out["hi"].append(pooled[2])
        out["length_mean"].append(mean([out["seeds"][s]["length"][i] for s in seeds]))
    return out
