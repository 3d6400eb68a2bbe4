import json

import pytest

from octothinker.errors import DataError
from octothinker.tasks.benchmarks import BENCHMARKS
from octothinker.tasks.extract import extract_answer
from octothinker.tasks.fewshot import EXEMPLARS, STYLE_STOPS, build_prompt, load_exemplars, render_shot
from octothinker.tasks.grading import GradeItem, grade_many


def test_shot_counts_follow_the_study():
    assert len(EXEMPLARS["gsm8k"]) == 8
    assert len(EXEMPLARS["minerva"]) == 4
    assert len(EXEMPLARS["choice"]) == 4
    assert EXEMPLARS["zero"] == []


def _completion(style: str, shot: str) -> str:
    """What the model writes after the open query: the shot without its question."""
    return shot.split("\n", 1)[1] if style in ("gsm8k", "choice", "zero") else shot.split("Solution:\n", 1)[1]


@pytest.mark.parametrize("bench", sorted(b for b in BENCHMARKS if EXEMPLARS[BENCHMARKS[b].style]))
def test_each_exemplar_grades_as_correct_under_its_benchmark(bench):
    """An exemplar's own worked solution, read as a completion, must extract and grade to its answer."""
    b = BENCHMARKS[bench]
    items = []
    for ex in EXEMPLARS[b.style]:
        completion = _completion(b.style, render_shot(b.style, ex.question, ex.solution, ex.answer))
        items.append(GradeItem(extract_answer(completion, b.family, b.letters), ex.answer, b.family, b.tolerance))
    assert len(items) >= 4 and all(grade_many(items))


def test_zero_shot_style_answers_grade_under_amc23():
    """AMC23 is asked 0-shot (no exemplars): an answer written in its Q:/A: frame grades right, a wrong one wrong."""
    b = BENCHMARKS["amc23"]
    assert EXEMPLARS[b.style] == [] and build_prompt(b.style, "Q?", []) == "Q: Q?\nA:"
    right = _completion(b.style, render_shot(b.style, "Q?", "The sum is $27$.", "27"))
    wrong = _completion(b.style, render_shot(b.style, "Q?", "The sum is $26$.", "26"))
    verdicts = grade_many([GradeItem(extract_answer(c, b.family, b.letters), "27", b.family, b.tolerance)
                           for c in (right, wrong)])
    assert verdicts == [True, False]


def test_prompt_ends_with_the_open_query():
    prompt = build_prompt("gsm8k", "What is 2 + 2?", EXEMPLARS["gsm8k"])
    assert prompt.endswith("Q: What is 2 + 2?\nA:")
    assert prompt.count("The answer is") == 8
    minerva = build_prompt("minerva", "Solve $x$.", EXEMPLARS["minerva"])
    assert minerva.endswith("Problem:\nSolve $x$.\n\nSolution:\n")
    assert build_prompt("zero", "Q?", []) == "Q: Q?\nA:"


@pytest.mark.parametrize("style", sorted(STYLE_STOPS))
def test_stops_cut_the_next_invented_question(style):
    """A base model continues the few-shot pattern with a new question of its own: the style's stop
    strings must cut the completion right after its answer, so that the extracted answer is its own."""
    from octothinker.eval.generation import cut_at_stop

    first = render_shot(style, "What is 2 + 3?", "2 + 3 = 5.", "5")
    invented = render_shot(style, "What is 7 + 1?", "7 + 1 = 8.", "8")
    completion = _completion(style, first) + invented
    text, stopped = cut_at_stop(completion, STYLE_STOPS[style])
    assert stopped
    assert "7 + 1" not in text and "2 + 3 = 5." in text


def test_fewshot_file(tmp_path):
    path = tmp_path / "shots.jsonl"
    path.write_text(json.dumps({"question": "1+1?", "solution": "1+1=2.", "answer": "2"}) + "\n")
    assert load_exemplars(path)[0].answer == "2"
    path.write_text(json.dumps({"question": "1+1?", "answer": "2"}) + "\n")
    with pytest.raises(DataError, match=r"shots.jsonl:1: missing field 'solution'"):
        load_exemplars(path)
