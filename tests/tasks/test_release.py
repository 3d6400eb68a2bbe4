"""The release harness (tasks.release): reading a release checkout without running it, the question
cleaning, extraction and verdicts with the release's quirks, and what it refuses to execute.

The checkout here is a stand-in written by the tests, in the release's shapes (a config, prompt modules,
a `process_utils.py`) with text of our own; bench/release_parity.py checks the real one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from octothinker.errors import DataError
from octothinker.tasks.release import ReleaseHarness, ReleaseProblem
from octothinker.tasks.release.answers import EXTRACT, answers, boxed_answers, extract_math_answer, strip_string
from octothinker.tasks.release.equivalence import (INVALID, antlr_paths, is_correct, math_equal, normalize_numeric,
                                                   normalize_tex, parse_expr)

ENTRIES = {
    "gsm8k-cot": ("process_gsm8k_test", "extract_gsm_few_shot_cot_answer", "eval_last_single_answer", "QAPrompt"),
    "math-cot": ("process_math_test", "extract_math_few_shot_cot_answer", "eval_math", "WorkedPrompt"),
    "mathqa-cot": ("process_mathqa", "extract_mathqa_few_shot_answer", "eval_mathqa", "WorkedPrompt"),
    "ocw-courses-cot": ("process_ocwcourses", "extract_ocwcourses_few_shot_answer", "eval_ocwcourses", "WorkedPrompt"),
    "svamp-cot": ("process_svamp", "extract_gsm_few_shot_cot_answer", "eval_last_single_answer", "QAPrompt"),
}

QA_MODULE = '''
from .base import Base

few_shot_prompt = """
Q: One plus one?
A: It is 2. The answer is 2.
""".strip()

class QAPrompt(Base):
    def format_prompt(self, task_input, task_output):
        prompt = f"{few_shot_prompt}\\n\\nQ: {task_input}\\nA: {task_output}"
        return prompt.rstrip()

    def stop_words(self):
        return ["\\nQ:"]
'''

WORKED_MODULE = '''
few_shot_prompt = "first version"
few_shot_prompt = "Problem:\\nTwo times three?\\nSolution:\\nSix.\\nFinal Answer: The final answer is $6$. I hope it is correct."

class WorkedPrompt:
    def format_prompt(self, task_input, task_output):
        prompt = f"{few_shot_prompt}\\n\\nProblem:\\n{task_input}\\n\\nSolution:\\n{task_output}"
        return prompt.rstrip()

    def stop_words(self):
        return ["\\nProblem:"]
'''

PROCESS_MODULE = '''
def process_mathqa(item):
    question = item['problem'].strip()
    question = f"{question}\\nPick one.\\n{options}"

def process_svamp(item):
    question = f'{body} {item["Question"].strip()}'
'''


RL_DATASET_MODULE = '''
cpt_base = """Question:
[PROMPT]
Answer:
"""

orz_base = "Between User and Assistant, in our own words. User: put it in \\\\boxed{}.\\n[PROMPT]\\nAssistant:"
'''


def make_release(root: Path, worked: str = WORKED_MODULE) -> Path:
    (root / "rl" / "verl" / "utils" / "dataset").mkdir(parents=True)
    (root / "rl" / "verl" / "utils" / "dataset" / "rl_dataset.py").write_text(RL_DATASET_MODULE)
    (root / "eval" / "configs").mkdir(parents=True)
    (root / "eval" / "few_shot_prompts").mkdir(parents=True)
    (root / "eval" / "data_processing").mkdir(parents=True)
    config = {key: {"test_path": "x", "tasks": ["cot"], "process_fn": p, "answer_extraction_fn": a, "eval_fn": e,
                    "few_shot_prompt": c} for key, (p, a, e, c) in ENTRIES.items()}
    (root / "eval" / "configs" / "en_math_cot_few_shot_test_configs.json").write_text(json.dumps(config))
    (root / "eval" / "few_shot_prompts" / "qa.py").write_text(QA_MODULE)
    (root / "eval" / "few_shot_prompts" / "worked.py").write_text(worked)
    (root / "eval" / "data_processing" / "process_utils.py").write_text(PROCESS_MODULE)
    return root


@pytest.fixture
def release(tmp_path) -> Path:
    return make_release(tmp_path / "release")


def write_benchmark(data: Path, name: str, records: list[dict]) -> None:
    (data / name).mkdir(parents=True, exist_ok=True)
    (data / name / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def test_prompts_and_stop_words_are_read_from_the_checkout(release, tmp_path):
    data = tmp_path / "data"
    write_benchmark(data, "gsm8k", [{"question": "Two plus two?", "answer": "1,004"}])
    write_benchmark(data, "mathqa", [{"problem": "what is x ?", "options": "a ) 12 , b ) 16 , c ) 18 , d ) 24 , e ) 26",
                                      "correct": "e"}])
    write_benchmark(data, "svamp", [{"Body": "Ann has 3 pens", "Question": " How many? ", "Answer": 3.0}])
    harness = ReleaseHarness(release)
    gsm = harness.task("gsm8k")
    [problem] = gsm.problems(data)
    assert gsm.prompt(problem) == "Q: One plus one?\nA: It is 2. The answer is 2.\n\nQ: Two plus two?\nA:"
    assert gsm.stop == ("\nQ:",) and problem.gold == "1004"
    mathqa = harness.task("mathqa")
    [problem] = mathqa.problems(data)
    # the later module-level assignment wins; the question is capitalised, the options re-lettered
    assert mathqa.prompt(problem).startswith("Problem:\nTwo times three?")
    assert mathqa.prompt(problem).endswith(
        "Problem:\nWhat is x ?\nPick one.\n(A) 12, (B) 16, (C) 18, (D) 24, (E) 26\n\nSolution:")
    [problem] = harness.task("svamp").problems(data)
    assert problem.question == "Ann has 3 pens. How many?" and problem.gold == "3.0"   # a full stop added
    # MATH-500 is wired as MATH (the release's config has no entry for it)
    assert harness.task("math500").eval_fn == "eval_math"


def test_a_prompt_class_that_would_have_to_run_is_refused(tmp_path):
    release = make_release(tmp_path / "release", WORKED_MODULE.replace("return prompt.rstrip()",
                                                                       "return open('/etc/passwd').read()"))
    with pytest.raises(DataError, match=r"worked.py:\d+: prompt class WorkedPrompt cannot be read without running it"):
        ReleaseHarness(release).task("math500")


def test_a_folder_that_is_no_release_is_named(tmp_path):
    with pytest.raises(DataError, match="not found; is .* a checkout of GAIR-NLP/OctoThinker"):
        ReleaseHarness(tmp_path)


def test_strip_string_known_values():
    assert strip_string("\\dfrac{1}{2}") == "\\frac{1}{2}"
    assert strip_string("\\frac12") == "\\frac{1}{2}"
    assert strip_string("3/4") == "\\frac{3}{4}"
    assert strip_string("5\\text{ apples}") == "5"
    assert strip_string("90^\\circ") == "90"
    assert strip_string("$1,000.00$") == "1,000"
    assert strip_string(".5") == "0.5"
    assert strip_string("\\sqrt2") == "\\sqrt{2}"
    assert strip_string("2j") == "2i"


def test_extraction_known_values_and_quirks():
    assert answers("so $\\boxed{3}$ and then $\\boxed{\\frac{1}{2}}$") == ["3", "\\frac{1}{2}"]
    assert boxed_answers("\\boxed{50}%") == ["50}"]      # a box followed by % keeps its brace
    assert answers("Final Answer: The final answer is $7$. I hope it is correct.") == ["7"]
    assert answers("the total is 1,234 apples") == ["1234"]
    assert extract_math_answer("List them, separated by commas.", "\\boxed{1, 2}") == ["1", "2"]
    # the last number before the next exemplar, its full stop kept (float("12.") is 12)
    assert EXTRACT["extract_gsm_few_shot_cot_answer"]("q", "It is 12. The answer is 12.\n\nQ: next 99") == "12."
    assert EXTRACT["extract_gsm_few_shot_cot_answer"]("q", "no number") == "[invalid]"
    # MathQA's pattern is a-d only: an "(E)" is never read
    assert EXTRACT["extract_mathqa_few_shot_answer"]("q", "The final answer is (E).") == "placeholder"
    assert EXTRACT["extract_mathqa_few_shot_answer"]("q", "The final answer is (d).") == "D"
    assert EXTRACT["extract_mmlu_stem"]("q", "not (a) but (c)") == "C"
    assert EXTRACT["extract_ocwcourses_few_shot_answer"]("q", "final answer is 4.5. I hope it is correct.") == "4.5"
    assert EXTRACT["extract_olympiad_math_answer"]("q", "Final Answer: The final answer is $x=2$.") == ["\\boxed{$x=2$.}"]


def test_release_equality_quirks_without_latex():
    assert is_correct("70000.0004", "70000")          # 1e-3 absolute
    assert not is_correct("70001", "70000")
    assert math_equal("0.27", "27")                   # a gold read as a percentage
    assert math_equal("2700", "27")
    assert is_correct(["5"], ["5", "6"]) is False     # every gold must be matched ...
    assert is_correct(["5", "5"], ["5"])              # ... and every prediction
    assert not is_correct(["4", "5"], "5")            # two different boxes: wrong, as in the release


def test_ocw_arithmetic_is_evaluated_never_executed(tmp_path):
    assert normalize_numeric("6.5 \\mathrm{~m}") == 6.5
    assert normalize_numeric("3/4") == 0.75
    assert normalize_numeric("2^3") == 1.0            # Python's `^` is exclusive or, as in the release's eval
    marker = tmp_path / "ran"
    attack = f"__import__('os').system('touch {marker}')"
    assert normalize_numeric(attack) == INVALID
    with pytest.raises(ValueError):
        parse_expr(attack)
    with pytest.raises(ValueError):
        parse_expr("().__class__")
    # a symbol's name is a string without quotes, and sympify evaluates strings: no attribute access, and
    # none of sympy's string readers (a review found `sympify(len.name)(abc.name)` evaluated to 3)
    for attack in ("sympify(len.name)(abc.name)", "(x). name", "S(x.name)"):
        with pytest.raises(ValueError):
            parse_expr(attack)
    with pytest.raises(Exception):
        parse_expr("sympify(x)(y)")    # no sympify in the names it sees: x is a symbol, not callable
    assert not marker.exists()
    assert normalize_tex("x = 5 km") == "5"


def test_parse_expr_reads_mathematics():
    import sympy

    x = sympy.Symbol("x")
    assert parse_expr("2*x + 1") == 2 * x + 1
    assert parse_expr("sqrt(4)") == 2
    assert parse_expr("abs(-3)") == 3


@pytest.mark.skipif(antlr_paths() is None, reason="ANTLR 4.11 for sympy's parse_latex (make install provides it)")
def test_verdicts_through_the_judging_workers(release, tmp_path):
    """The release's verdicts, LaTeX read by sympy's parse_latex in workers with ANTLR 4.11: its quirks
    included ("3, 5, 7" reads as 3, so "3" is accepted for it)."""
    task = ReleaseHarness(release).task("math500")
    golds = ["\\frac{1}{2}", "3, 5, 7", "90^\\circ", "\\frac{1}{2}", "2"]
    completions = ["Final Answer: The final answer is $0.5$. I hope it is correct.",
                   "so $\\boxed{3}$.", "so $\\boxed{90}$.", "$\\boxed{1}$ then $\\boxed{\\frac12}$",
                   "Final Answer: The final answer is $2n$. I hope it is correct."]
    problems = [ReleaseProblem(str(i), "q", g) for i, g in enumerate(golds)]
    verdicts = task.score(problems, completions)
    assert [v.correct for v in verdicts] == [True, True, False, False, False]
    assert verdicts[3].extracted == ["1", "\\frac{1}{2}"]
    ocw = ReleaseHarness(release).task("ocw")
    problems = [ReleaseProblem("0", "q", "1.6"), ReleaseProblem("1", "q", "1.6"), ReleaseProblem("2", "q", "1.6")]
    said = "final answer is {}. I hope it is correct."
    verdicts = ocw.score(problems, [said.format("1.6000001"), said.format("1.61"), said.format("__import__('os')")])
    assert [v.correct for v in verdicts] == [True, False, False]
    # Minerva's rule as written rejects an equal negative number: the release's quirk, kept here
    [negative] = ocw.score([ReleaseProblem("0", "q", "-10")], [said.format("-10.0")])
    assert negative.correct is False
    # no answer read: None, as our harness writes it ("[invalid]" in the release)
    [none] = ocw.score([ReleaseProblem("0", "q", "1.6")], ["no final answer here"])
    assert none.extracted is None and none.correct is False
    attack = "$\\boxed{(sympify(len.name)(abc.name))}$"
    [safe] = task.score([ReleaseProblem("0", "q", "3")], [attack])
    assert safe.correct is False


def test_missing_fields_are_named(release, tmp_path):
    data = tmp_path / "data"
    write_benchmark(data, "svamp", [{"Body": "x", "Answer": 1}])
    with pytest.raises(DataError, match=r"svamp/test.jsonl:1: missing field 'Question'"):
        ReleaseHarness(release).task("svamp").problems(data)


def test_eval_config_needs_the_checkout():
    from pydantic import ValidationError

    from octothinker.eval.config import EvalConfig

    with pytest.raises(ValidationError, match="give release_dir"):
        EvalConfig(model="m", harness="release")
    with pytest.raises(ValidationError, match="few-shot with the release's own exemplars only"):
        EvalConfig(model="m", harness="release", release_dir="x", mode="zero-shot")
