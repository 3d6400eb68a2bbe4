"""The release's published curves as data, and a run's curves beside them in the report."""

import json

import pytest
from typer.testing import CliRunner

from octothinker.cli import app
from octothinker.errors import OctoError
from octothinker.report.reference import load_reference, names, resolve
from tests.figures import curves_in

runner = CliRunner()


def test_every_carried_figure_loads_with_its_source_and_runs():
    assert {"octothinker-1b", "octothinker-3b", "llama-vs-qwen-3b", "ablation-qa", "ablation-data-quality",
            "ablation-length-scheduler", "ablation-template", "ablation-instruction"} <= set(names())
    for name in names():
        ref = load_reference(name)
        assert ref.source.startswith("GAIR-NLP/OctoThinker@") and "Apache-2.0" in ref.source, name
        assert ref.curves() and all(ref.runs[c].startswith("rl.grpo_") for c in ref.curves())
        for curve in ref.curves():
            # every curve has accuracies; a W&B export may carry a benchmark's lengths alone
            assert any(ref.series(curve, b, "accuracy") for b in ref.benchmarks(curve)), (name, curve)
            for bench in ref.benchmarks(curve):
                acc, length = ref.series(curve, bench, "accuracy"), ref.series(curve, bench, "length")
                assert (acc or length) and all(0 <= v <= 100 for _, v in acc), (name, curve, bench)
                assert all(v >= 0 for _, v in length), (name, curve, bench)


def test_the_figures_exported_under_wandb_names_and_the_release_tables():
    """analysis_longcot / analysis_shortqa (benchmark and metric from each column's header), the 1B
    mid-trained models' evaluation (stable.json) and the pass@k figure's values."""
    from octothinker.report.reference import companion, load_table

    longcot = load_reference("ablation-longcot")
    assert longcot.curves() == ["mmwebpro.openr1.91", "mmwebpro.synqa.91"]
    assert longcot.at("mmwebpro.synqa.91", "olympiad_bench", "accuracy", 0) == 0.0
    assert longcot.series("mmwebpro.synqa.91", "math500", "length")     # test_length_correct
    source, rows = load_table("cpt-1b")
    assert "cpt_results/stable.json" in source and len(rows) == 78
    first = {(r["label"], r["block"], r["benchmark"]): r for r in rows}[("1b long", "1", "gsm8k")]
    assert float(first["accuracy"]) == pytest.approx(37.149) and first["problems"] == "1319"
    source, rows = load_table("pass-at-k-3b")
    values = {(r["model"], r["k"]): float(r["pass_at_k"]) for r in rows}
    assert values[("Llama-3.2-3B-Base", "1")] == pytest.approx(3.609) and values[("Octothinker-3B-Long-Zero", "256")] == 81.8
    # the 3B figure has no base or Qwen run: the Llama-vs-Qwen figure's curves stand in for them
    ref, curve = companion("octothinker-3b", "base")
    assert (ref.name, curve) == ("llama-vs-qwen-3b", "llama.3b") and companion("octothinker-1b", "base") is None


def test_known_values_of_the_1b_figure():
    ref = load_reference("octothinker-1b")
    assert ref.curves() == ["hybrid", "long", "short"]
    assert ref.benchmarks("long") == ["amc23", "gsm8k", "math500", "olympiad_bench"]
    # plot/data/octothinker/1b/acc_math500.csv, first rows: 0.066 and 0.084 for the long branch's run
    assert ref.at("long", "math500", "accuracy", 0) == pytest.approx(6.6)
    assert ref.at("long", "math500", "accuracy", 4) == pytest.approx(8.4)
    assert ref.at("long", "math500", "accuracy", 3) is None   # the paper validated every 4 steps
    assert ref.runs["hybrid"] == "rl.grpo_llama.1b_decay_long.short.mix.20B_math.8k_0421_1311"
    assert resolve("octothinker-1b") == ("octothinker-1b", None)
    assert resolve("octothinker-1b-long") == ("octothinker-1b", "long")
    with pytest.raises(OctoError, match="reference 'octothinker-2b'"):
        resolve("octothinker-2b")


def _eval_row(step, correct, tokens):
    return {"step": step, "benchmark": "math500", "decoding": "greedy", "samples": 1, "accuracy": 100 * sum(correct) / len(correct),
            "correct_per_problem": correct, "tokens_per_problem": [tokens] * len(correct), "mean_response_tokens": tokens,
            "answer_counts": {"1": 1}, "unanswered": 0, "gold_counts": {"1": 1}}


def test_the_report_draws_a_run_beside_the_paper(tmp_path):
    run = tmp_path / "run"
    # the long branch: 10% at step 0 (the paper's 6.6% lies inside [2.8, 30.1]); 60% at step 4 (8.4% does not)
    (run / "rl-long").mkdir(parents=True)
    rows = [_eval_row(0, [1] * 2 + [0] * 18, 300.0), _eval_row(4, [1] * 12 + [0] * 8, 280.0)]
    (run / "rl-long" / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = runner.invoke(app, ["report", str(run), "--reference", "octothinker-1b"])
    assert result.exit_code == 0, result.output
    summary = (run / "report" / "summary.md").read_text()
    assert "## Beside the paper (octothinker-1b)" in summary and "GAIR-NLP/OctoThinker@" in summary
    assert "| long | math500 | 0 | 10.0 [2.8, 30.1] | 6.6 | +3.4 | yes |" in summary
    assert "| long | math500 | 4 | 60.0 [38.7, 78.1] | 8.4 | +51.6 | no |" in summary
    assert curves_in(run / "report" / "reference.png", panels=2) == [True, True]  # accuracy, length: drawn
    # one curve for any model (a run whose folders are not named after the paper's branches)
    (run / "rl-mine").mkdir()
    (run / "rl-mine" / "eval.jsonl").write_text(json.dumps(_eval_row(0, [1] + [0] * 9, 100.0)) + "\n")
    result = runner.invoke(app, ["report", str(run), "--reference", "octothinker-1b-short"])
    assert result.exit_code == 0 and "| mine (paper: short) | math500 | 0 |" in (run / "report" / "summary.md").read_text()
    bad = runner.invoke(app, ["report", str(run), "--reference", "nope"])
    assert bad.exit_code == 1 and "reference 'nope'" in bad.output and "Traceback" not in bad.output
