import json

import pytest

from octothinker.errors import DataError
from octothinker.tasks.benchmarks import BENCHMARKS, get_benchmark, load_problems


def test_registry_has_the_13_benchmarks():
    assert set(BENCHMARKS) == {"gsm8k", "math", "math500", "olympiad_bench", "amc23", "asdiv", "mawps", "svamp",
                               "tabmwp", "mathqa", "sat", "mmlu_stem", "ocw"}


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_loader_reads_each_benchmarks_own_fields(benchmarks_dir, name):
    import json

    from octothinker.tasks.grading import accepted

    problems = load_problems(name, benchmarks_dir)
    first = json.loads((benchmarks_dir / name / "test.jsonl").read_text().splitlines()[0])
    assert len(problems) == 40 and len({p.id for p in problems}) == 40
    question = first.get("question") or first.get("problem") or first.get("input") or first.get("Question")
    assert question.split(".")[-1].strip() in problems[0].question
    golds = [accepted(p.gold)[0] for p in problems]
    if get_benchmark(name).family == "choice":
        assert set(golds) <= set(get_benchmark(name).letters) and "Answer Choices: (A)" in problems[0].question
    else:
        assert all(g.isdigit() for g in golds), golds  # 27.0 -> "27", "9 (apples)" -> "9", ["$2$"] -> "2"


def test_choice_benchmarks_list_their_options(tmp_path):
    _write(tmp_path / "mathqa" / "test.jsonl", [{"problem": "if log 8 x + log 8 1 / 6 = 1 / 3 , then x is :",
                                                  "options": "a ) 12 , b ) 16 , c ) 18 , d ) 24 , e ) 26", "correct": "a"}])
    _write(tmp_path / "sat" / "test.jsonl", [{"question": "Which must be true?", "Answer": "A",
                                               "options": "A) $f(-6)=0$ B) $f(6)=-6$ C) $f(-6)=6$ D) $f(0)=-6$"}])
    mathqa = load_problems("mathqa", tmp_path, limit=1)[0]
    assert mathqa.question.endswith("Answer Choices: (A) 12 (B) 16 (C) 18 (D) 24 (E) 26") and mathqa.gold == "A"
    sat = load_problems("sat", tmp_path, limit=1)[0]
    assert "(A) $f(-6)=0$ (B) $f(6)=-6$ (C) $f(-6)=6$ (D) $f(0)=-6$" in sat.question


def test_golds_are_clean_numbers(tmp_path):
    _write(tmp_path / "gsm8k" / "test.jsonl", [{"question": "q", "answer": "1,000"}, {"question": "r", "answer": 18.0},
                                                {"question": "s", "answer": "Some steps\n#### 42"}])
    assert [p.gold for p in load_problems("gsm8k", tmp_path)] == ["1000", "18", "42"]


def test_a_list_gold_is_accepted_answers_and_anything_else_is_named(tmp_path):
    _write(tmp_path / "t.jsonl", [{"question": "q", "answer": ["9"]}, {"question": "r", "answer": ["9", 9.5]}])
    assert [p.gold for p in load_problems(f"mine={tmp_path / 't.jsonl'}", None)] == ["9", ("9", "9.5")]
    _write(tmp_path / "t.jsonl", [{"question": "q", "answer": {"value": 9}}])
    with pytest.raises(DataError, match=r"t.jsonl:1: field 'answer' is a dict, not an answer"):
        load_problems(f"mine={tmp_path / 't.jsonl'}", None)


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
    with pytest.raises(DataError, match=r"math/test.jsonl: benchmark file not found \(or pass --hub"):
        load_problems("math", tmp_path)
    with pytest.raises(DataError, match=r"mawps/test.jsonl: benchmark file not found, and mawps has no known hub copy"):
        load_problems("mawps", tmp_path, hub=True)
    # no data folder: the hub copy; offline and not cached, one line says what to do
    with pytest.raises(DataError, match=r"^gsm8k: the hub copy openai/gsm8k could not be read \(.*\); pass "
                                        r"--data-dir DIR with DIR/gsm8k/test.jsonl, or run once with the network"):
        load_problems("gsm8k", None)


def test_file_benchmark_spec(tmp_path):
    _write(tmp_path / "held.jsonl", [{"question": "Ada has 3 apples. How many?", "answer": "3"},
                                     {"question": "Q2", "answer": 1200}])
    problems = load_problems(f"synth={tmp_path / 'held.jsonl'}", None)
    assert [p.gold for p in problems] == ["3", "1200"]
    bench = get_benchmark(f"synth={tmp_path / 'held.jsonl'}")
    assert bench.name == "synth" and bench.family == "number" and bench.style == "gsm8k"
    with pytest.raises(DataError, match="test file not found"):
        load_problems(f"synth={tmp_path / 'none.jsonl'}", None)
