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


@pytest.mark.parametrize("bench", sorted(BENCHMARKS))
def test_each_exemplar_grades_as_correct_under_its_benchmark(bench):
    """An exemplar's own worked solution, read as a completion, must extract and grade to its answer."""
    b = BENCHMARKS[bench]
    items = []
    for ex in EXEMPLARS[b.style]:
        shot = render_shot(b.style, ex.question, ex.solution, ex.answer)
        completion = shot.split("\n", 1)[1] if b.style in ("gsm8k", "choice") else shot.split("Solution:\n", 1)[1]
        items.append(GradeItem(extract_answer(completion, b.family, b.letters), ex.answer, b.family, b.rel_tol))
    assert all(grade_many(items))


def test_prompt_ends_with_the_open_query():
    prompt = build_prompt("gsm8k", "What is 2 + 2?", EXEMPLARS["gsm8k"])
    assert prompt.endswith("Q: What is 2 + 2?\nA:")
    assert prompt.count("The answer is") == 8
    minerva = build_prompt("minerva", "Solve $x$.", EXEMPLARS["minerva"])
    assert minerva.endswith("Problem:\nSolve $x$.\n\nSolution:\n")
    assert build_prompt("zero", "Q?", []) == "Q: Q?\nA:"


def test_stops_cut_the_next_invented_question():
    for style, stops in STYLE_STOPS.items():
        assert stops, style


def test_fewshot_file(tmp_path):
    path = tmp_path / "shots.jsonl"
    path.write_text(json.dumps({"question": "1+1?", "solution": "1+1=2.", "answer": "2"}) + "\n")
    assert load_exemplars(path)[0].answer == "2"
    path.write_text(json.dumps({"question": "1+1?", "answer": "2"}) + "\n")
    with pytest.raises(DataError, match=r"shots.jsonl:1: missing field 'solution'"):
        load_exemplars(path)
