import json
import random

import pytest

from octothinker.report.collect import midtrain_curves
from tests.figures import curves_in
from octothinker.study.layout import RunLayout, read_layout
from octothinker.report.findings import (INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, TOO_FEW_MODELS, all_findings,
                                         before_after, load_results)
from octothinker.report.page import write_report


def _jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_midtrain_curves_continue_across_stages(tmp_path):
    _jsonl(tmp_path / "stable" / "metrics.jsonl", [{"tokens_seen": 100, "loss": 5.0}, {"tokens_seen": 200, "loss": 4.0}])
    _jsonl(tmp_path / "decay-long" / "metrics.jsonl", [{"tokens_seen": 50, "loss": 3.9}])
    curves = midtrain_curves(RunLayout(seeds=[0], subjects=[], branches=["long"], models_root=str(tmp_path)))
    assert curves["stable"] == [(100, 5.0), (200, 4.0)] and curves["decay-long"] == [(250, 3.9)]


def _eval_row(step, correct, samples=4, tokens=30.0):
    n = len(correct)
    return {"step": step, "benchmark": "synth", "samples": samples, "accuracy": 100 * sum(correct) / (n * samples),
            "truncation_rate": tokens / 10,
            "correct_per_problem": correct, "tokens_per_problem": [tokens] * n, "mean_response_tokens": tokens,
            "answer_counts": {"1": n * samples // 2}, "unanswered": 0, "gold_counts": {"1": n // 4, "2": n - n // 4}}


def _study(tmp_path, spec: dict[str, tuple[float, float, float]], seeds=(0, 1), n=200, arms=None) -> RunLayout:
    """A fake run: for each model, the chance a sample is right before and after RL, and its length."""
    subjects = []
    for seed in seeds:
        rng = random.Random(seed)
        for key, (before, after, tokens) in spec.items():
            rl = tmp_path / f"seed-{seed}" / f"rl-{key.replace('/', '-')}"
            start = [sum(rng.random() < before for _ in range(4)) for _ in range(n)]
            end = [sum(rng.random() < after for _ in range(4)) for _ in range(n)]
            _jsonl(rl / "eval.jsonl", [_eval_row(0, start, tokens=tokens), _eval_row(10, end, tokens=tokens * 1.1)])
            probe = tmp_path / f"seed-{seed}" / "probe" / key.replace("/", "-") / "probe.json"
            probe.parent.mkdir(parents=True)
            correct = [sum(rng.random() < after for _ in range(4)) for _ in range(64)]
            probe.write_text(json.dumps({"model": key, "prompts": "train.jsonl", "k": 4, "problems": 64, "pass@1": 100 * sum(correct) / 256,
                                         "pass@4": 100 * sum(c > 0 for c in correct) / 64, "truncated": 0.0,
                                         "mean_response_tokens": tokens, "repetition": 0.0, "boxed": 100.0,
                                         "correct_per_problem": correct}))
            subjects.append({"key": key, "seed": seed, "rl": str(rl), "probe": str(probe), "evals": str(tmp_path / "eval"),
                             "model": ""})
    return RunLayout.model_validate({"seeds": list(seeds), "subjects": subjects, "arms": arms or {}, "models_root": str(tmp_path),
                                     "branches": ["short", "long"]})


def test_findings_reproduce_a_real_effect_and_call_noise_inconclusive(tmp_path):
    layout = _study(tmp_path, {"base": (0.05, 0.06, 30), "short": (0.4, 0.6, 30), "long": (0.3, 0.31, 70)})
    results = load_results(layout)
    found = {f.claim: f for f in all_findings(results, layout)}
    short = found["(a) RL from the short branch gains more held-out accuracy than RL from the base"]
    assert short.verdict == REPRODUCED and 14 < short.effect[0] < 24 and short.effect[1] > 0
    assert set(short.per_seed) == {0, 1}
    long = found["(a) RL from the long branch gains more held-out accuracy than RL from the base"]
    assert long.verdict == INCONCLUSIVE and long.effect[1] < 0 < long.effect[2]  # a 0-point gain difference is noise
    lengths = found["(b) The long-CoT branch writes longer responses than the short one, before and during RL"]
    assert lengths.verdict == REPRODUCED and lengths.effect[0] == pytest.approx(40.0)
    table = before_after(results, "short")
    assert table["problems"] == 200 and table["samples"] == 4 and table["seeds"] == [0, 1]
    assert table["start"][1] < 40 < table["start"][2] and table["baseline_most_common"] == 75.0


def test_a_claim_contradicted_by_the_data_is_not_reproduced(tmp_path):
    layout = _study(tmp_path, {"base": (0.1, 0.5, 30), "short": (0.4, 0.4, 30)})
    found = all_findings(load_results(layout), layout)
    assert found[0].verdict == NOT_REPRODUCED


def test_curves_in_tells_a_blank_figure_from_a_drawn_one(tmp_path):
    from octothinker.report.plotting import pyplot

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    axes[0].plot([0, 1, 2], [0, 2, 1])
    axes[1].set_title("empty")
    fig.savefig(tmp_path / "f.png", dpi=80)
    plt.close(fig)
    assert curves_in(tmp_path / "f.png", panels=2) == [True, False]


def test_arm_claims_and_the_report(tmp_path):
    arms = {"unfiltered": {"claim": "quality", "compare": "short", "models": ["short"]},
            "qwen-like": {"claim": "qwen", "compare": "base", "models": ["base"]}}
    layout = _study(tmp_path, {"base": (0.05, 0.05, 30), "short": (0.4, 0.7, 30), "unfiltered/short": (0.2, 0.3, 30),
                               "qwen-like/base": (0.2, 0.5, 30)}, arms=arms)
    found = {f.claim: f for f in all_findings(load_results(layout), layout)}
    quality = found["(d) Mid-training on quality-filtered math web beats unfiltered web for RL"]
    assert quality.verdict == REPRODUCED and quality.effect[0] == pytest.approx(40, abs=6)
    assert found["(g) A Qwen-like base (qwen-like/base) gains more under RL than the Llama-like base"].verdict == REPRODUCED
    rho = found["(c) The RL-readiness probe ranks the 4 models as RL does"]
    assert rho.unit == "rho" and rho.effect[0] > 0.5
    assert rho.verdict == TOO_FEW_MODELS and "permutation p over the 4 models" in rho.note  # 1/24 at best

    # mid-training made once in the run folder, RL per seed in seed-<s>/ (the fidelity runs' per_seed: rl)
    _jsonl(tmp_path / "stable" / "metrics.jsonl", [{"tokens_seen": 100, "loss": 5.0}, {"tokens_seen": 200, "loss": 4.0}])
    (tmp_path / "manifest.json").write_text(json.dumps({"layout": layout.relative_to(tmp_path).model_dump(), "stages": {}}))
    out = write_report(tmp_path)
    summary = (out / "summary.md").read_text()
    assert "## Mid-training (first seed)" in summary and curves_in(out / "midtrain_loss.png", panels=1) == [True]
    # one set of sections, rendered twice: every heading, table and figure of one page is in the other
    import re
    page = (out / "index.html").read_text()
    assert re.findall(r"^## (.+)$", summary, re.M) == re.findall(r"<h2>(.+?)</h2>", page)
    assert summary.count("\n|---") == page.count("<table>")
    assert all(f"src=\"{f}\"" in page for f in re.findall(r"(\w+\.png)", summary))
    assert summary.index("## Findings") < summary.index("## Before and after RL")
    assert "reproduced" in summary and "[" in summary and "seed 1:" in summary
    # accuracy, length and truncation, each panel with its curves drawn (a blank figure has none)
    assert curves_in(out / "rl_dynamics.png", panels=3) == [True] * 3
    assert curves_in(out / "rl_dynamics_arms.png", panels=3) == [True] * 3
    assert json.loads((out / "findings.json").read_text())["findings"][0]["verdict"] == REPRODUCED


def test_layout_of_stages_laid_out_by_hand(tmp_path):
    (tmp_path / "rl-short").mkdir()
    (tmp_path / "decay-short").mkdir()
    layout = read_layout(tmp_path)
    assert [s.key for s in layout.subjects] == ["short"] and layout.branches == ["short"]


def test_the_probe_claim_is_judged_over_enough_models_and_against_chance(tmp_path):
    # six models whose probe and RL order agree, two seeds: enough models, an order chance rarely gives
    spec = {name: (p, p + 0.2, 30) for name, p in
            zip(["base", "short", "long", "hybrid", "arm/short", "arm/long"], [0.05, 0.2, 0.35, 0.5, 0.65, 0.8])}
    layout = _study(tmp_path, spec)
    rho = {f.claim: f for f in all_findings(load_results(layout), layout)}[
        "(c) The RL-readiness probe ranks the 6 models as RL does"]
    p = float(rho.note.split("permutation p over the 6 models ")[1].split()[0])
    assert rho.verdict == REPRODUCED and 1 / 720 <= p < 0.05


def _found(layout: RunLayout) -> dict:
    return {f.claim: f for f in all_findings(load_results(layout), layout)}


def _curves(tmp_path, spec: dict, seeds=(0, 1, 2), n=300, arms=None) -> RunLayout:
    """A fake run from each model's curves: per evaluation, the chance a sample is right and the mean
    length; `greedy` (optional) the chance the greedy answer is right, per evaluation."""
    subjects = []
    for seed in seeds:
        rng = random.Random(seed)
        for key, curve in spec.items():
            rl = tmp_path / f"seed-{seed}" / f"rl-{key.replace('/', '-')}"
            rows = []
            for step, (p, tokens) in enumerate(zip(curve["sampled"], curve["tokens"])):
                rows.append(_eval_row(10 * step, [sum(rng.random() < p for _ in range(4)) for _ in range(n)], tokens=tokens)
                            | {"decoding": "sampled"})
            for step, p in enumerate(curve.get("greedy", [])):
                rows.append(_eval_row(10 * step, [int(rng.random() < p) for _ in range(n)], samples=1) | {"decoding": "greedy"})
            _jsonl(rl / "eval.jsonl", rows)
            subjects.append({"key": key, "seed": seed, "rl": str(rl), "probe": str(rl / "none.json"),
                             "evals": str(tmp_path / "eval"), "model": ""})
    return RunLayout.model_validate({"seeds": list(seeds), "subjects": subjects, "arms": arms or {},
                                     "models_root": str(tmp_path), "branches": ["short", "long"]})


def test_greedy_gains_are_judged_apart_from_sampled_ones(tmp_path):
    # RL sharpens the short branch's sampling toward its greedy answer: sampled accuracy rises, greedy does not
    flat = {"tokens": [30, 30]}
    found = _found(_curves(tmp_path, {"base": {**flat, "sampled": [0.05, 0.05], "greedy": [0.1, 0.1]},
                                      "short": {**flat, "sampled": [0.4, 0.6], "greedy": [0.7, 0.7]},
                                      "long": {**flat, "sampled": [0.3, 0.5], "greedy": [0.5, 0.8]}}))
    assert found["(a) RL from the short branch gains more held-out accuracy than RL from the base"].verdict == REPRODUCED
    greedy_short = found["(a, greedy) RL from the short branch gains more held-out greedy accuracy than RL from the base"]
    assert greedy_short.verdict == INCONCLUSIVE and abs(greedy_short.effect[0]) < 8
    greedy_long = found["(a, greedy) RL from the long branch gains more held-out greedy accuracy than RL from the base"]
    assert greedy_long.verdict == REPRODUCED and greedy_long.effect[0] == pytest.approx(30, abs=8)
    before = found["(C9) Stable-then-decay (short branch) raises the base's held-out accuracy before any RL"]
    assert before.verdict == REPRODUCED and before.effect[0] == pytest.approx(35, abs=4) and before.note.startswith("greedy: +5")


def test_long_cot_instability_is_a_rule_on_the_curves(tmp_path):
    # the long branch's accuracy rises, falls back and its answers double; the short one climbs steadily
    spec = {"base": {"sampled": [0.05, 0.05, 0.05], "tokens": [30, 30, 30]},
            "short": {"sampled": [0.4, 0.5, 0.6], "tokens": [30, 30, 30]},
            "long": {"sampled": [0.3, 0.6, 0.35], "tokens": [60, 90, 120]}}
    found = _found(_curves(tmp_path, spec))
    drop = found["(C4) RL from the long branch suffers larger sudden drops of held-out accuracy than from the short"]
    assert drop.verdict == REPRODUCED and drop.effect[0] == pytest.approx(25, abs=4)
    runaway = found["(C4) RL from the long branch lets response length run away more than from the short"]
    assert runaway.verdict == REPRODUCED and runaway.effect[0] == pytest.approx(100) and runaway.unit == "%"

    steady = {**spec, "long": {"sampled": [0.3, 0.4, 0.5], "tokens": [60, 60, 60]}}
    found = _found(_curves(tmp_path / "b", steady))
    assert found["(C4) RL from the long branch suffers larger sudden drops of held-out accuracy than from the short"
                 ].verdict == INCONCLUSIVE


@pytest.mark.parametrize("middle, expected", [(0.6, REPRODUCED), (0.45, INCONCLUSIVE), (0.2, NOT_REPRODUCED)])
def test_an_optimum_share_is_the_best_interior_one_against_the_better_end(tmp_path, middle, expected):
    arms = {"qa-10": {"claim": "qa-share", "compare": "short", "models": ["short"], "value": 0.1, "compare_value": 0.5},
            "qa-30": {"claim": "qa-share", "compare": "short", "models": ["short"], "value": 0.3, "compare_value": 0.5},
            "stair": {"claim": "schedule", "compare": "long", "models": ["long"]}}
    flat = {"tokens": [30, 30]}
    spec = {"base": {**flat, "sampled": [0.05, 0.05]}, "short": {**flat, "sampled": [0.3, 0.45]},
            "long": {**flat, "sampled": [0.3, 0.4]},
            "qa-10/short": {**flat, "sampled": [0.3, 0.4]}, "qa-30/short": {**flat, "sampled": [0.3, middle]},
            "stair/long": {**flat, "sampled": [0.3, 0.6]}}
    found = _found(_curves(tmp_path, spec, arms=arms))
    optimum = found["(C8) The QA share of the decay mix has an optimum inside the 3 shares tried"]
    assert optimum.verdict == expected and optimum.effect[0] == pytest.approx(100 * (middle - 0.45), abs=4)
    assert optimum.note.startswith("after RL by share: 10% (qa-10/short)") and "50% (short)" in optimum.note
    # the stair arm holds the paper's choice: its effect is the arm minus the demo's fixed limit
    stair = found["(C7) A stair schedule of the response limit helps RL against a fixed limit"]
    assert stair.verdict == REPRODUCED and stair.measure == "accuracy after RL, stair/long minus long"


def test_two_qwen_like_bases_each_get_their_row_and_the_base_its_own_once(tmp_path):
    arms = {"qwen-like": {"claim": "qwen", "compare": "base", "models": ["base"]},
            "qwen-like-40": {"claim": "qwen", "compare": "base", "models": ["base"]}}
    layout = _study(tmp_path, {"base": (0.05, 0.05, 30), "qwen-like/base": (0.2, 0.5, 30),
                               "qwen-like-40/base": (0.1, 0.1, 30)}, arms=arms)
    claims = [f.claim for f in all_findings(load_results(layout), layout)]
    assert len(claims) == len(set(claims))
    assert sum(c.startswith("(g) A Qwen-like base") for c in claims) == 2
    assert "(g) The Llama-like base's responses grow longer under RL without its accuracy growing" in claims


def test_an_arm_measured_against_another_arm_is_judged_in_its_direction(tmp_path):
    arms = {"no-instruct": {"claim": "instruct", "compare": "short", "models": ["short"]},
            "framed": {"claim": "instruct-frame", "compare": "no-instruct/short", "models": ["short"]}}
    layout = _study(tmp_path, {"base": (0.05, 0.05, 30), "short": (0.4, 0.7, 30), "no-instruct/short": (0.4, 0.6, 30),
                               "framed/short": (0.4, 0.3, 30)}, arms=arms)
    found = {f.claim: f for f in all_findings(load_results(layout), layout)}
    assert found["(f) Instruction data in the decay mix helps RL"].effect[0] == pytest.approx(10, abs=6)
    # the framed arm holds the choice (instruction data, framed as RL asks): it minus the arm it is measured against
    framed = found["(f) Instruction data in the decay mix, in the RL prompt's own frame, helps RL"]
    assert framed.measure == "accuracy after RL, framed/short minus no-instruct/short"
    assert framed.effect[0] == pytest.approx(-30, abs=6) and framed.verdict == NOT_REPRODUCED


def test_a_claim_is_reproduced_only_when_every_seed_agrees():
    """The verdict rule the report's Findings rest on, with known intervals: the pooled interval above
    zero is not enough; every seed's must be too (one seed agreeing once passed for all)."""
    from octothinker.report.findings import verdict

    above, straddles, below = (2.0, 0.5, 3.5), (1.0, -0.5, 2.5), (-2.0, -3.5, -0.5)
    assert verdict(above, {0: above, 1: above, 2: above}) == REPRODUCED
    assert verdict(above, {0: above, 1: straddles, 2: above}) == INCONCLUSIVE
    assert verdict(above, {0: straddles, 1: straddles, 2: above}) == INCONCLUSIVE
    assert verdict(above, {0: above, 1: below}) == INCONCLUSIVE
    assert verdict(straddles, {0: above, 1: above}) == INCONCLUSIVE  # every seed, but not pooled
    assert verdict(below, {0: below, 1: straddles}) == NOT_REPRODUCED
    assert verdict((0.0, float("nan"), float("nan")), {0: above}) == INCONCLUSIVE
    # an interval touching zero does not lie above it
    assert verdict((1.0, 0.0, 2.0), {0: (1.0, 0.0, 2.0)}) == INCONCLUSIVE
