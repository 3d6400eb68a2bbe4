import json
import math

from octothinker.eval.generation import Completion
from octothinker.probe import ProbeSampling, probe


class Fixed:
    """Two samples per prompt: one right and boxed, one cut at the length limit."""

    def generate(self, prompts, params, on_batch=None):
        out = []
        for p in prompts:
            answer = p.split("#")[1].split(" ")[0]
            out.append([Completion(f"so \\boxed{{{answer}}}", 5, "eos"), Completion("and so on and so", 8, "length")])
        return out


def test_probe_metrics(tmp_path):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"question": f"#{i} what?", "answer": str(i)}) + "\n" for i in range(6)))
    report = probe("fixed", str(prompts), sampling=ProbeSampling(k=2, limit=4), template="simple", out=str(tmp_path / "r.json"),
                   generator=Fixed())
    assert report["problems"] == 4
    assert report["pass@1"] == 50.0 and report["pass@2"] == 100.0
    assert report["answer_extracted"] == 50.0 and report["truncated"] == 50.0
    assert report["mean_response_tokens"] == 6.5
    assert json.loads((tmp_path / "r.json").read_text())["pass@2"] == 100.0


def test_a_prompts_file_that_is_not_there_is_named_as_a_missing_file(tmp_path):
    from typer.testing import CliRunner

    from octothinker.cli import app

    result = CliRunner().invoke(app, ["probe", "some-model", "--prompts", "nope.jsonl"])
    assert result.exit_code == 1 and "nope.jsonl: prompts file not found" in result.output, result.output
    result = CliRunner().invoke(app, ["probe", "some-model", "--prompts", "gsm9k"])
    assert result.exit_code == 1 and "unknown benchmark 'gsm9k'" in result.output


def test_probe_reports_truncation_and_grades_cut_answers_by_the_rule(tmp_path):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"question": f"#{i} what?", "answer": "8"}) + "\n" for i in range(4)))

    class CutAtEight:
        def generate(self, prompts, params, on_batch=None):
            return [[Completion("the sum is 3 + 5 = 8 and 2 x", 8, "length")] * params.n for _ in prompts]

    strict = probe("fixed", str(prompts), sampling=ProbeSampling(k=2, limit=4), template="simple", generator=CutAtEight())
    loose = probe("fixed", str(prompts), sampling=ProbeSampling(k=2, limit=4, cutoff="as-complete"), template="simple",
                  generator=CutAtEight())
    assert strict["truncated"] == 100.0 and strict["cutoff"] == "final-answer" and strict["answer_extracted"] == 0.0
    assert loose["answer_extracted"] == 100.0  # "2", the last number it wrote before it was cut


def test_a_probe_report_is_typed_and_reads_older_reports(tmp_path):
    from octothinker.eval.records import ProbeReport

    old = {"model": "m", "prompts": "p.jsonl", "problems": 4, "k": 8, "pass@1": 25.0, "pass@8": 50.0,
           "truncated": 0.0, "mean_response_tokens": 30.0, "repetition": 0.0}   # before boxed and per-problem counts
    (tmp_path / "probe.json").write_text(json.dumps(old))
    report = ProbeReport.read(tmp_path / "probe.json")
    assert report.pass_at_k == 50.0 and report.correct_per_problem is None and math.isnan(report.boxed)
    again = report.as_json()
    assert again["pass@8"] == 50.0 and again["pass@1"] == 25.0 and "pass_at_k" not in again
