"""`octo eval prompts` and `octo eval score` (both harnesses), and `octo eval run --harness release` on
the micro model: the run, the prompts command and a re-grade agree record for record."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from octothinker.cli import app
from octothinker.tasks.release.equivalence import antlr_paths
from tests.tasks.test_release import make_release

runner = CliRunner()


def _rows(path) -> list[dict]:
    return [json.loads(line) for line in open(path)]


def test_prompts_without_a_model(tmp_path, benchmarks_dir):
    out = tmp_path / "prompts.jsonl"
    result = runner.invoke(app, ["eval", "prompts", "--benchmarks", "gsm8k,sat", "--limit", "3",
                                 "--data-dir", str(benchmarks_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    assert [(r["benchmark"], r["id"]) for r in rows] == [("gsm8k", str(i)) for i in range(3)] + [("sat", str(i)) for i in range(3)]
    first = json.loads(open(benchmarks_dir / "gsm8k" / "test.jsonl").readline())
    assert rows[0]["prompt"].endswith(f"Q: {first['question'].strip()}\nA:") and rows[0]["stop"] == ["\nQ:", "\n\n"]


def test_score_reads_finish_and_writes_verdicts(tmp_path, benchmarks_dir):
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "0", "completion": "It is 5 + 3 = 8", "gold": "8", "finish": "stop"},
        {"id": "1", "completion": "It is 5 + 3 = 8", "gold": "8", "finish": "length"},  # cut: no stated answer
        {"id": "2", "completion": "The answer is 8.", "gold": "8", "finish": "length"},
    ]))
    out = tmp_path / "scored.jsonl"
    result = runner.invoke(app, ["eval", "score", str(preds), "--benchmark", "gsm8k", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [r["correct"] for r in _rows(out)] == [True, False, True]
    assert json.loads(result.stdout)["truncation_rate"] == pytest.approx(200 / 3)
    result = runner.invoke(app, ["eval", "score", str(preds), "--benchmark", "gsm8k", "--cutoff", "as-complete"])
    assert json.loads(result.stdout)["accuracy"] == 100.0


def test_release_harness_without_its_checkout_is_one_line(tmp_path, benchmarks_dir):
    result = runner.invoke(app, ["eval", "prompts", "--benchmarks", "gsm8k", "--harness", "release",
                                 "--data-dir", str(benchmarks_dir)])
    assert result.exit_code == 1 and "give release_dir (--release-dir)" in result.output
    assert "Traceback" not in result.output and "Value error" not in result.output


@pytest.mark.skipif(antlr_paths() is None, reason="ANTLR 4.11 for sympy's parse_latex (make install provides it)")
def test_release_run_prompts_and_rescore_agree(tmp_path, benchmarks_dir, micro_model_dir):
    release = make_release(tmp_path / "release")
    common = ["--harness", "release", "--release-dir", str(release), "--data-dir", str(benchmarks_dir)]
    out = tmp_path / "eval"
    result = runner.invoke(app, ["eval", str(micro_model_dir), "--benchmarks", "gsm8k,svamp", "--limit", "3",
                                 "--max-new-tokens", "6", "--out", str(out), *common])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["gsm8k"]["harness"] == "release" and summary["gsm8k"]["cutoff"] == "as-complete"
    assert "the release's harness" in (out / "summary.md").read_text()
    prompts = tmp_path / "prompts.jsonl"
    assert runner.invoke(app, ["eval", "prompts", "--benchmarks", "gsm8k", "--limit", "3", "--out", str(prompts),
                               *common]).exit_code == 0
    run_rows = _rows(out / "gsm8k.jsonl")
    assert [r["prompt"] for r in run_rows] == [r["prompt"] for r in _rows(prompts)]
    assert all(r["stop"] == ["\nQ:"] for r in _rows(prompts))
    rescored = tmp_path / "rescored.jsonl"
    result = runner.invoke(app, ["eval", "score", str(out / "gsm8k.jsonl"), "--benchmark", "gsm8k",
                                 "--out", str(rescored), *common])
    assert result.exit_code == 0, result.output
    assert [(r["extracted"], r["correct"]) for r in _rows(rescored)] == [(r["extracted"], r["correct"]) for r in run_rows]
    # a run under the release harness is not resumed under ours
    result = runner.invoke(app, ["eval", str(micro_model_dir), "--benchmarks", "gsm8k", "--limit", "3",
                                 "--max-new-tokens", "6", "--out", str(out), "--data-dir", str(benchmarks_dir)])
    assert result.exit_code == 1 and "other settings" in result.output


def test_score_says_once_when_truncation_is_unknown(tmp_path):
    """Records without `finish` (another tool's output): graded as complete, the cut-off rule cannot apply,
    and the command says so once, on stderr, with how many; the accuracy stays on stdout as JSON."""
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps(r) + "\n" for r in [
        {"completion": "It is 5 + 3 = 8", "gold": "8"}, {"completion": "The answer is 8.", "gold": "8"},
        {"completion": "The answer is 8.", "gold": "8", "finish": "length"}]))
    result = runner.invoke(app, ["eval", "score", str(preds), "--benchmark", "gsm8k"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("warning: ") == 1 and "2 of 3 records have no `finish`" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["truncation_rate"] == 100.0 and summary["accuracy"] == pytest.approx(100.0)  # of the 1 known
    preds.write_text(json.dumps({"completion": "The answer is 8.", "gold": "8", "finish": "stop"}) + "\n")
    result = runner.invoke(app, ["eval", "score", str(preds), "--benchmark", "gsm8k"])
    assert result.stderr == "" and json.loads(result.stdout)["truncation_rate"] == 0.0
    preds.write_text(json.dumps({"completion": "The answer is 8.", "gold": "8"}) + "\n")
    result = runner.invoke(app, ["eval", "score", str(preds), "--benchmark", "gsm8k"])
    assert json.loads(result.stdout)["truncation_rate"] is None and "1 of 1 records" in result.stderr
