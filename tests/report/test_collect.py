import json

import pytest

from octothinker.report.collect import midtrain_curves, ranks, rl_dynamics, spearman
from octothinker.report.page import probe_correlation


def test_ranks_and_spearman():
    assert ranks([10, 20, 20, 5]) == [2.0, 3.5, 3.5, 1.0]
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2], [1, 2]) is None
    assert spearman([1, 1, 1], [1, 2, 3]) is None


def _jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_curves_and_dynamics(tmp_path):
    _jsonl(tmp_path / "stable" / "metrics.jsonl", [{"tokens_seen": 100, "loss": 5.0}, {"tokens_seen": 200, "loss": 4.0}])
    _jsonl(tmp_path / "decay-long" / "metrics.jsonl", [{"tokens_seen": 50, "loss": 3.9}])
    curves = midtrain_curves(tmp_path)
    assert curves["stable"] == [(100, 5.0), (200, 4.0)] and curves["decay-long"] == [(250, 3.9)]
    for model, acc in (("base", 1.0), ("short", 20.0), ("long", 30.0)):
        _jsonl(tmp_path / f"rl-{model}" / "eval.jsonl", [
            {"step": 0, "benchmark": "synth", "accuracy": 0.0, "mean_response_tokens": 10},
            {"step": 5, "benchmark": "synth", "accuracy": acc, "mean_response_tokens": 12}])
    dyn = rl_dynamics(tmp_path)
    assert set(dyn["synth"]) == {"base", "short", "long"}
    probe = {"base": {"pass@1": 0.0, "pass@4": 1.0}, "short": {"pass@1": 5.0, "pass@4": 15.0},
             "long": {"pass@1": 9.0, "pass@4": 25.0}}
    corr = probe_correlation(probe, dyn, "synth")
    assert corr["probe_metric"] == "pass@4" and corr["spearman"] == pytest.approx(1.0)
