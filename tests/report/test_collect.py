import json
import random

import pytest

from octothinker.report.collect import midtrain_curves
from octothinker.report.layout import RunLayout, read_layout
from octothinker.report.findings import (INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, TOO_FEW_MODELS, all_findings,
                                         before_after, load_results)
from octothinker.report.page import write_report


def _jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_midtrain_curves_continue_across_stages(tmp_path):
    _jsonl(tmp_path / "stable" / "metrics.jsonl", [{"tokens_seen": 100, "loss": 5.0}, {"tokens_seen": 200, "loss": 4.0}])
    _jsonl(tmp_path / "decay-long" / "metrics.jsonl", [{"tokens_seen": 50, "loss": 3.9}])
    curves = midtrain_curves(tmp_path)
    assert curves["stable"] == [(100, 5.0), (200, 4.0)] and curves["decay-long"] == [(250, 3.9)]


def _eval_row(step, correct, samples=4, tokens=30.0):
    n = len(correct)
    return {"step": step, "benchmark": "synth", "samples": samples, "accuracy": 100 * sum(correct) / (n * samples),
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
            probe.write_text(json.dumps({"k": 4, "problems": 64, "pass@1": 100 * sum(correct) / 256,
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
    assert "## Mid-training (first seed)" in summary and (out / "midtrain_loss.png").exists()
    # one set of sections, rendered twice: every heading, table and figure of one page is in the other
    import re
    page = (out / "index.html").read_text()
    assert re.findall(r"^## (.+)$", summary, re.M) == re.findall(r"<h2>(.+?)</h2>", page)
    assert summary.count("\n|---") == page.count("<table>")
    assert all(f"src=\"{f}\"" in page for f in re.findall(r"(\w+\.png)", summary))
    assert summary.index("## Findings") < summary.index("## Before and after RL")
    assert "reproduced" in summary and "[" in summary and "seed 1:" in summary
    assert (out / "rl_dynamics.png").exists() and (out / "rl_dynamics_arms.png").exists()
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
