"""bench/eval_throughput.py, our batched harness against a plain generate loop and lm-evaluation-harness:
on the micro model and the benchmarks' test files the tests write, 2 problems of 4 new tokens."""

import importlib.util

import pytest

from .runner import Runs, imports_of_ours, line, ratio_within_rounding

pytestmark = pytest.mark.bench

NOT_INSTALLED = "lm-evaluation-harness: not installed (pip install lm-eval==0.4.13), not compared"
RATE = (r"{name} +(\d+\.\d{{3}}) problems/s +\( *(\d+\.\d) s\) +accuracy \(our grader\) +(\d+\.\d)% "
        r"\[[\d.]+, [\d.]+\] \((\d+)/2\)")
HAS_LM_EVAL = importlib.util.find_spec("lm_eval") is not None
# a function of ours renamed: the first name the script imports from us (at the top, else anywhere) taken away
BROKEN = next(iter(imports_of_ours("eval_throughput.py", top_level_only=True)
                    or imports_of_ours("eval_throughput.py")), None)


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory, micro_model_dir, benchmarks_dir):
    toy = ("--model", str(micro_model_dir), "--data-dir", str(benchmarks_dir), "--benchmarks", "gsm8k",
           "--limit", "2", "--max-new-tokens", "4", "--batch-size", "2")
    jobs = {
        "test_ours_against_the_plain_loop_without_lm_eval": ("eval_throughput.py", toy, {"blocked": ("lm_eval",)}),
        **({"test_a_broken_import_of_ours_is_an_error_not_a_missing_lm_eval": (
            "eval_throughput.py", toy, {"broken": (BROKEN,)})} if BROKEN else {}),
        **({"test_against_lm_eval_each_harness_end_to_end": ("eval_throughput.py", (*toy, "--no-plain"), {}),
            "test_grader_check_both_graders_on_right_and_wrong_answers": (
                "eval_throughput.py", ("--grader-check", "--benchmarks", "gsm8k", "--limit", "3",
                                       "--data-dir", str(benchmarks_dir)), {})} if HAS_LM_EVAL else {}),
    }
    runs = Runs(request, tmp_path_factory, jobs)
    yield runs
    runs.close()


def test_ours_against_the_plain_loop_without_lm_eval(runs, micro_model_dir):
    out = runs.result("test_ours_against_the_plain_loop_without_lm_eval")  # lm-eval blocked, installed or not
    assert out.returncode == 0, out.explain()
    line(out.stdout, rf"model {micro_model_dir} \| gsm8k x 2 \| greedy, 4 new tokens \| torch threads \d+")
    assert out.stdout.count(NOT_INSTALLED) == 1
    ours = line(out.stdout, RATE.format(name=r"octothinker \(batched HF\)"))
    plain = line(out.stdout, RATE.format(name="plain generate loop"))
    ratio, identical, same = line(out.stdout, r"octothinker vs plain generate loop: (\d+\.\d\d)x; "
                                              r"identical completions (\d)/2; same verdict (\d)/2").groups()
    # the ratio is the plain loop's time over ours (problems/s printed to 3 decimals)
    assert ratio_within_rounding(float(ratio), float(ours[1]), float(plain[1]), 0.0005, 0.0005), out.stdout
    assert int(same) >= int(identical)  # identical completions get the same verdict
    for rate in (ours, plain):
        assert float(rate[3]) == pytest.approx(100 * int(rate[4]) / 2, abs=0.05)  # the % is the count's
    assert "lm-eval" not in out.stdout.replace(NOT_INSTALLED, "") and "end to end" not in out.stdout


def test_against_lm_eval_each_harness_end_to_end(runs):
    if not HAS_LM_EVAL:
        pytest.skip("lm-evaluation-harness is not installed (pip install lm-eval==0.4.13): no comparison to run")
    out = runs.result("test_against_lm_eval_each_harness_end_to_end")
    assert out.returncode == 0, out.explain()
    assert "not installed" not in out.stdout + out.stderr
    line(out.stdout, RATE.format(name=r"lm-eval [\w.]+ HFLM"))
    line(out.stdout, r"octothinker vs lm-eval [\w.]+ HFLM: \d+\.\d\dx; identical completions \d/2; same verdict \d/2")
    line(out.stdout, r"end to end: octo eval .*; lm-eval graded by lm-eval \(.*\) .*; "
                     r"graded alike on \d/2 problems \(\d+%\)")
    assert "plain generate loop" not in out.stdout


def test_grader_check_both_graders_on_right_and_wrong_answers(runs):
    if not HAS_LM_EVAL:
        pytest.skip("lm-evaluation-harness is not installed (pip install lm-eval==0.4.13): its grader is missing")
    out = runs.result("test_grader_check_both_graders_on_right_and_wrong_answers")
    assert out.returncode == 0, out.explain()
    # every gold answer, stated as the exemplars state one, is right by our grader
    line(out.stdout, r"gsm8k x 3, gold answer: ours graded 3/3 as right, lm-eval \(.*\) \d/3; the two agree on \d/3")
    # "gold+1" as text (a gold of 1 reads as right by both: the last number)
    line(out.stdout, r"gsm8k x 3, wrong answer \(gold \+ 1\): ours graded \d/3 as wrong, lm-eval \(.*\) \d/3; "
                     r"the two agree on \d/3")


def test_a_broken_import_of_ours_is_an_error_not_a_missing_lm_eval(runs):
    assert BROKEN, "bench/eval_throughput.py imports nothing of ours"
    out = runs.result("test_a_broken_import_of_ours_is_an_error_not_a_missing_lm_eval")
    module, name = BROKEN
    assert out.returncode != 0, out.explain()
    assert f"ImportError: cannot import name '{name}' from '{module}'" in out.stderr, out.explain()
    assert "not installed" not in out.stdout + out.stderr and "problems/s" not in out.stdout
