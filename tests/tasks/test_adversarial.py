"""Nothing a model writes may crash or stall a run: adversarial completions through every entry point
of the one scoring path, within a stated time bound.

Time bounds: an in-process parse (extraction, cheap grading) of any completion takes well under a
second; an answer math-verify cannot decide costs at most its 2 s limit in one worker.
"""

import importlib.util
import json
import logging
import math
import time

import pytest

from octothinker.eval.generation import Completion
from octothinker.tasks.benchmarks import BENCHMARKS, get_benchmark
from octothinker.tasks.extract import MAX_ANSWER_CHARS, extract_answer, to_number
from octothinker.tasks.grading import GradeItem, VerifyPool, grade_many
from octothinker.tasks.rewards import RewardConfig, reward
from octothinker.tasks.scoring import score

TOWER = "\\boxed{9^{9^{9^{9^{9^{9}}}}}}"
ADVERSARIAL = {
    "huge integer": "\\boxed{" + "9" * 5000 + "}",
    "huge fraction": "\\boxed{" + "9" * 400 + "/3}",
    "huge latex fraction": "\\boxed{\\frac{" + "9" * 400 + "}{3}}",
    "huge exponent": "\\boxed{1e999999}",
    "100k-char answer": "\\boxed{1 " + "a " * 50_000 + "!}",
    "100k digits": "The answer is " + "1" * 100_000,
    "deep nesting": "\\boxed{" + "{" * 5000 + "1" + "}" * 5000 + "}",
    "unbalanced braces": "\\boxed{" + "{" * 20_000,
    "NUL bytes": "\\boxed{1\x00 2}\x00\x00",
    "comma run": "1," * 50_000,
    "repeated marker": "The answer is " * 20_000,
    "letter soup": "(A) " * 30_000 + "answer: " * 10_000,
    "exponent tower": TOWER,
}


def test_in_process_parsing_is_total_and_fast():
    for name, text in ADVERSARIAL.items():
        for family in ("number", "math", "choice"):
            start = time.perf_counter()
            answer = extract_answer(text, family)
            to_number(answer)
            assert time.perf_counter() - start < 1.0, (name, family)
    assert to_number("9" * 400 + "/3") is None  # too long to be a number we grade: wrong, not a crash
    assert to_number("1" * 300) is None


@pytest.mark.parametrize("bench", ["gsm8k", "math500", "mathqa", "ocw"])
def test_every_family_grades_adversarial_completions_wrong_in_bounded_time(bench):
    texts = list(ADVERSARIAL.values())
    start = time.perf_counter()
    verdicts = score(get_benchmark(bench), texts, ["3"] * len(texts))
    assert not any(v.correct for v in verdicts)
    assert time.perf_counter() - start < 30  # one tower: at most its 2 s limit, plus the workers' start


def test_training_reward_both_answer_modes():
    texts = list(ADVERSARIAL.values())
    for answer in ("last_boxed", "task"):
        start = time.perf_counter()
        scored = reward(texts, ["3"] * len(texts), [False] * len(texts), RewardConfig(answer=answer, family="math"))
        assert [s.reward for s in scored] == [-1.0] * len(texts)
        assert time.perf_counter() - start < 30


def test_eval_score_periodic_eval_probe_and_verl_reward(tmp_path):
    """The remaining entry points: `octo eval score`, RL's periodic evaluation, the probe, and the verl
    reward module (training and validation rows)."""
    from octothinker.eval.runner import EvalConfig, score_predictions
    from octothinker.probe import ProbeSampling, probe
    from octothinker.rl.config import EvalSpec, RLConfig
    from octothinker.rl.trainer import periodic_eval
    from octothinker.rl.verl import write_reward_module
    from octothinker.tasks.templates import get_template

    texts = list(ADVERSARIAL.values())
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"completion": t, "gold": "3"}) + "\n" for t in texts))
    assert score_predictions(preds, EvalConfig(model="-", benchmarks=["math500"]))["accuracy"] == 0.0

    questions = tmp_path / "q.jsonl"
    questions.write_text("".join(json.dumps({"question": f"q{i}", "answer": "3"}) + "\n" for i in range(len(texts))))

    class Adversary:
        def generate(self, prompts, params, on_batch=None):
            return [[Completion(texts[i % len(texts)], 9, "length") for _ in range(params.n)]
                    for i, _ in enumerate(prompts)]

    start = time.perf_counter()
    result = periodic_eval(Adversary(), get_template("simple"), EvalSpec(benchmarks=[], files={"q": str(questions)}), 8)
    assert result[0].accuracy == 0.0
    report = probe("adversary", str(questions), sampling=ProbeSampling(k=2, limit=len(texts)), generator=Adversary())
    assert report["pass@1"] == 0.0 and report["problems"] == len(texts)
    assert time.perf_counter() - start < 60

    cfg = RLConfig.model_validate({"out": str(tmp_path / "rl"), "prompts": str(questions), "steps": 1,
                                   "eval": {"benchmarks": ["math500"], "files": {"q": str(questions)}}})
    write_reward_module(cfg, tmp_path / "reward.py")
    spec = importlib.util.spec_from_file_location("reward", tmp_path / "reward.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for text in texts:
        assert module.compute_score("train", text, "3") == -1.0
        assert module.compute_score("math500", text, "3", {"split": "test"}) == 0.0


def test_a_timeout_costs_one_worker_and_is_named_briefly(caplog):
    pool = VerifyPool(workers=2, timeout_s=0.5)
    try:
        pool._run(math.factorial, [(1,), (2,)])  # both workers started
        before = {w.process.pid for w in pool._pool}
        assert len(before) == 2
        start = time.perf_counter()
        with caplog.at_level(logging.WARNING, logger="octothinker.grading"):
            results = pool._run(math.factorial, [(10**8,), (3,), (4,), (5,), (6,)])
        assert results == [False, 6, 24, 120, 720]
        assert time.perf_counter() - start < 10
        after = {w.process.pid for w in pool._pool}
        assert len(after & before) == 1  # the other worker kept going: only the hung one was replaced
        assert pool.timeouts == 1
        assert len(caplog.records) == 1 and len(caplog.records[0].getMessage()) < 200
    finally:
        pool.close()


def test_towers_cost_their_limit_each_not_a_pool_restart():
    pool = VerifyPool(workers=2, timeout_s=1.0)
    try:
        start = time.perf_counter()
        results = grade_many([GradeItem("9^{9^{9^{9^{9}}}}", "3")] * 6 + [GradeItem("\\frac{1}{2}", "0.5")], pool)
        assert results == [False] * 6 + [True]
        assert time.perf_counter() - start < 3 * 1.0 + 8  # six towers over two workers, plus start-up
    finally:
        pool.close()


def test_answers_longer_than_the_cap_are_wrong_without_parsing():
    long = "1" + "+0" * MAX_ANSWER_CHARS
    assert grade_many([GradeItem(long, "1", "math")]) == [False]


@pytest.mark.parametrize("text, letter", [
    ("The answer is (b).", "B"),
    ("the answer is b", "B"),
    ("Answer: (c)", "C"),
    ("Answer: C", "C"),
    ("answer: d.", "D"),
    ("The final answer is D", "D"),
    ("final answer is (a)", "A"),
    ("So the final answer is: E.", "E"),
    ("\\boxed{b}", "B"),
    ("\\boxed{(C)}", "C"),
    ("\\boxed{\\text{D}}", "D"),
    ("I pick (b) here", "B"),
    ("The answer is a number near 5, so (C)", "C"),  # "a number" names no option
    ("The answer is $(B)$", "B"),
])
def test_choice_letter_forms_models_write(text, letter):
    assert extract_answer(text, "choice") == letter
    assert set(BENCHMARKS["mathqa"].letters) >= {letter}
