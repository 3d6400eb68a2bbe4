"""A run's RL curves beside the paper's: the figure (yours solid, the paper's dashed, per benchmark) and
the table (at a few steps both validated: yours with its interval, the paper's, the difference).
Lengths are compared like with like: the paper's is the release's `test_length_correct`, the mean
length of right answers, and so is yours beside it; the mean over all answers is shown too, labelled.

The paper's curves are single runs without intervals, on its own models and prompts: a paper value
inside your interval is no measurable difference; outside it, the runs differ at that step, which a
smaller budget, another base model or another template explains as readily as a defect.
"""

from __future__ import annotations

from pathlib import Path

from octothinker.eval.records import HeldOutEval
from octothinker.eval.stats import bootstrap, mean, wilson
from octothinker.report.plotting import pyplot
from octothinker.report.reference import Reference, companion, load_reference, resolve

TABLE_STEPS = 5   # steps of each curve shown in the table: the first, the last and evenly between


def pairs(curves: dict[str, dict[str, list[HeldOutEval]]], spec: str) -> list[tuple[str, str, str, Reference]]:
    """(model, benchmark, the paper's curve, reference) for every run curve the reference has a curve
    for: the model's own name (`octothinker-1b`), or one named curve for all (`octothinker-1b-long`)."""
    name, fixed = resolve(spec)
    out = []
    for model, benches in curves.items():
        ref, curve = load_reference(name), fixed or model
        if curve not in ref.curves():
            other = None if fixed else companion(name, model)   # base and Qwen: the Llama-vs-Qwen figure's
            if other is None:
                continue
            ref, curve = other
        out += [(model, bench, curve, ref) for bench in benches if bench in ref.benchmarks(curve)]
    return out


def _interval(row: HeldOutEval) -> tuple[float, float, float]:
    per_problem = [c / row.samples for c in row.correct_per_problem]
    if row.samples == 1:
        lo, hi = wilson(sum(per_problem), len(per_problem))
        return 100 * mean(per_problem), 100 * lo, 100 * hi
    return tuple(100 * v for v in bootstrap([per_problem], mean))


def _spread(steps: list[int], k: int) -> list[int]:
    if len(steps) <= k:
        return steps
    return sorted({steps[round(i * (len(steps) - 1) / (k - 1))] for i in range(k)})


def _tokens(value: float | None) -> str:
    return f"{value:.0f}" if value is not None else "-"


def table(curves: dict[str, dict[str, list[HeldOutEval]]], spec: str) -> tuple[list[str], list[list[str]]]:
    # the paper's length is the release's `test_length_correct`: the mean length of right answers only
    header = ["RL from", "benchmark", "step", "yours % [95% CI]", "paper %", "yours - paper", "paper inside your CI",
              "tokens of right answers: yours / paper", "tokens of all answers: yours"]
    rows = []
    for model, bench, curve, ref in pairs(curves, spec):
        mine = {r.step: r for r in curves[model][bench]}
        shared = _spread(sorted(s for s in mine if ref.at(curve, bench, "accuracy", s) is not None), TABLE_STEPS)
        for step in shared:
            point, lo, hi = _interval(mine[step])
            paper = ref.at(curve, bench, "accuracy", step)
            length = ref.at(curve, bench, "length", step)
            rows.append([model if curve == model else f"{model} (paper: {curve})", bench, str(step),
                         f"{point:.1f} [{lo:.1f}, {hi:.1f}]", f"{paper:.1f}", f"{point - paper:+.1f}",
                         "yes" if lo <= paper <= hi else "no",
                         _tokens(mine[step].mean_correct_response_tokens) + " / " + _tokens(length),
                         _tokens(mine[step].mean_response_tokens)])
    return header, rows


def plot(curves: dict[str, dict[str, list[HeldOutEval]]], spec: str, path: Path) -> bool:
    """Accuracy and response length per benchmark, each model's curve solid over the paper's dashed in
    the same colour; False (nothing drawn) when the run has no curve the reference has."""
    found = pairs(curves, spec)
    benches = sorted({b for _, b, _, _ in found})
    if not benches:
        return False
    plt = pyplot()
    fig, axes = plt.subplots(len(benches), 2, figsize=(11, 3.6 * len(benches)), squeeze=False)
    colors = {model: f"C{i % 10}" for i, model in enumerate(dict.fromkeys(m for m, _, _, _ in found))}
    for model, bench, curve, ref in found:
        row = axes[benches.index(bench)]
        mine = curves[model][bench]
        # length: right answers only, as the paper's (`test_length_correct`); all answers thin, labelled
        row[1].plot([r.step for r in mine], [r.mean_response_tokens for r in mine], color=colors[model], lw=0.8,
                    ls=":", label=f"{model} (yours, all answers)")
        for ax, metric, key in ((row[0], "accuracy", "accuracy"), (row[1], "length", "mean_correct_response_tokens")):
            ax.plot([r.step for r in mine], [getattr(r, key) if getattr(r, key) is not None else float("nan")
                                             for r in mine], color=colors[model], lw=2,
                    label=f"{model} (yours{', right answers' if metric == 'length' else ''})")
            paper = ref.series(curve, bench, metric)
            ax.plot([s for s, _ in paper], [v for _, v in paper], color=colors[model], lw=1.2, ls="--",
                    label=f"{curve} ({ref.name})")
    for bench, (acc, length) in zip(benches, axes):
        acc.set_title(f"{bench}: accuracy during RL")
        acc.set_ylabel("accuracy (%)")
        length.set_title(f"{bench}: mean length of right answers during RL")
        length.set_ylabel("tokens")
        for ax in (acc, length):
            ax.set_xlabel("RL step")
        acc.legend(fontsize=7)
        length.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
