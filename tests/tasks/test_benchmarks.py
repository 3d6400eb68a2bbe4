import json

import pytest

from octothinker.errors import DataError
from octothinker.tasks.benchmarks import BENCHMARKS, get_benchmark, load_problems

# (name, problems in the shared file, first question starts with, first gold)
SHARED = [
    ("gsm8k", 1319, "Janet’s ducks lay 16 eggs", "18"),
    ("math500", 500, "Convert the point $(0,3)$", "\\left( 3, \\frac{\\pi}{2} \\right)"),
    ("olympiad_bench", 675, "Xenia and Sergey play", "2"),
    ("amc23", 40, "Cities $A$ and $B$", "27"),
    ("asdiv", 2215, "Seven red apples and two green apples are in the basket. How many", "9"),
    ("mawps", 2065, "Joan found 70 seashells", "43"),
    ("svamp", 1000, "There are 87 oranges and 290 bananas", "145"),
    ("mathqa", 1000, "if log 8 x + log 8 1 / 6 = 1 / 3", "A"),
    ("sat", 32, "The graph of the polynomial function", "A"),
    ("mmlu_stem", 3018, "Find the degree for the given field extension", "B"),
    ("ocw", 272, "Subproblem 0: Each of the two Magellan", "1.6"),
]


def test_registry_has_the_13_benchmarks():
    assert set(BENCHMARKS) == {"gsm8k", "math", "math500", "olympiad_bench", "amc23", "asdiv", "mawps", "svamp",
                               "tabmwp", "mathqa", "sat", "mmlu_stem", "ocw"}


@pytest.mark.parametrize("name, count, starts, gold", SHARED)
def test_loader_reads_the_shared_file(benchmarks_dir, name, count, starts, gold):
    problems = load_problems(name, benchmarks_dir)
    assert len(problems) == count
    assert problems[0].question.startswith(starts)
    assert problems[0].gold == gold
    assert len({p.id for p in problems}) == count
    assert all(p.gold.strip() for p in problems)


def test_choice_benchmarks_list_their_options(benchmarks_dir):
    mathqa = load_problems("mathqa", benchmarks_dir, limit=1)[0]
    assert mathqa.question.endswith("Answer Choices: (A) 12 (B) 16 (C) 18 (D) 24 (E) 26")
    sat = load_problems("sat", benchmarks_dir, limit=1)[0]
    assert "(A) $f(-6)=0$ (B) $f(6)=-6$ (C) $f(-6)=6$ (D) $f(0)=-6$" in sat.question
    assert {p.gold for p in load_problems("mathqa", benchmarks_dir)} == set("ABCDE")


def test_golds_are_clean_numbers(benchmarks_dir):
    golds = [p.gold for p in load_problems("gsm8k", benchmarks_dir)]
    assert "," not in "".join(golds)
    assert sum(float(g) >= 1000 for g in golds) > 100  # "1,000"-style golds read whole


def _write(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_math_loader_on_written_records(tmp_path):
    _write(tmp_path / "math" / "test.jsonl", [
        {"problem": "What is $1+1$?", "level": "Level 1", "type": "Algebra", "solution": "It is $\\boxed{2}$."},
        {"problem": "Half?", "solution": "$\\boxed{\\frac{1}{2}}$", "answer": "\\frac12"},
    ])
    problems = load_problems("math", tmp_path)
    assert [p.gold for p in problems] == ["2", "\\frac12"]


def test_tabmwp_loader_on_written_records(tmp_path):
    _write(tmp_path / "tabmwp" / "test.jsonl", [
        {"question": "How many more apples than pears?", "table_title": "Fruit", "table": "apples | 12\npears | 5",
         "answer": "7", "unit": None, "choices": None},
        {"question": "Which is cheaper?", "table": "pen | $1,200\ncar | $9", "answer": "car",
         "choices": ["pen", "car"], "unit": ""},
        {"question": "Total cost?", "table": "a | 1", "answer": "1,500", "unit": "dollars", "choices": None},
    ])
    problems = load_problems("tabmwp", tmp_path)
    assert "Fruit\napples | 12\npears | 5" in problems[0].question
    assert problems[1].question.endswith("Choose from: pen, car")
    assert "(Unit: dollars)" in problems[2].question
    assert [p.gold for p in problems] == ["7", "car", "1500"]


def test_hub_style_gsm8k_answer(tmp_path):
    _write(tmp_path / "gsm8k" / "test.jsonl", [{"question": "q", "answer": "work...\n#### 1,234"}])
    assert load_problems("gsm8k", tmp_path)[0].gold == "1234"


def test_limit(benchmarks_dir):
    assert len(load_problems("gsm8k", benchmarks_dir, limit=5)) == 5


def test_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "gsm8k" / "test.jsonl"
    path.parent.mkdir()
    path.write_text('{"question": "q", "answer": "1"}\n{not json\n')
    with pytest.raises(DataError, match=r"gsm8k/test.jsonl:2: invalid JSON"):
        load_problems("gsm8k", tmp_path)


def test_missing_answer_field_names_the_field(tmp_path):
    _write(tmp_path / "svamp" / "test.jsonl", [{"Body": "b", "Question": "q", "Answer": 1},
                                               {"Body": "b", "Question": "q"}])
    with pytest.raises(DataError, match=r"svamp/test.jsonl:2: missing field 'Answer'"):
        load_problems("svamp", tmp_path)


def test_non_utf8_line(tmp_path):
    path = tmp_path / "gsm8k" / "test.jsonl"
    path.parent.mkdir()
    path.write_bytes(b'{"question": "\xff", "answer": "1"}\n')
    with pytest.raises(DataError, match=r"test.jsonl:1: not valid UTF-8"):
        load_problems("gsm8k", tmp_path)


def test_unknown_benchmark():
    with pytest.raises(DataError, match="unknown benchmark 'gsm9k'"):
        get_benchmark("gsm9k")


def test_missing_file_is_named_and_the_hub_is_only_read_when_asked(tmp_path, monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the network was reached without being asked for")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(DataError, match=r"math/test.jsonl: benchmark file not found \(pass --data-dir, or --hub"):
        load_problems("math", tmp_path)
    with pytest.raises(DataError, match=r"mawps/test.jsonl: benchmark file not found, and mawps has no known hub copy"):
        load_problems("mawps", tmp_path, hub=True)


def test_file_benchmark_spec(tmp_path):
    _write(tmp_path / "held.jsonl", [{"question": "Ada has 3 apples. How many?", "answer": "3"},
                                     {"question": "Q2", "answer": 1200}])
    problems = load_problems(f"synth={tmp_path / 'held.jsonl'}", None)
    assert [p.gold for p in problems] == ["3", "1200"]
    bench = get_benchmark(f"synth={tmp_path / 'held.jsonl'}")
    assert bench.name == "synth" and bench.family == "number" and bench.style == "gsm8k"
    with pytest.raises(DataError, match="test file not found"):
        load_problems(f"synth={tmp_path / 'none.jsonl'}", None)
