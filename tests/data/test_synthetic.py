import json

from octothinker.data.synthetic import WorldSize, generate_world, long_solution, make_problem, short_solution
from octothinker.tasks.extract import extract_answer

from tests.conftest import SMALL_WORLD as SMALL


def _jsonl(path):
    return [json.loads(line) for line in path.open()]


def test_same_seed_same_bytes(tmp_path, world):
    out, _ = world
    generate_world(tmp_path / "again", SMALL, seed=0)
    for rel in ["problems/train.jsonl", "problems/test.jsonl", "qa/long_cot.jsonl", "web/hq.jsonl", "web/lq.jsonl",
                "generic/generic.jsonl", "instruct/instructions.jsonl", "tokenizer/tokenizer.json"]:
        assert (out / rel).read_bytes() == (tmp_path / "again" / rel).read_bytes(), rel
    generate_world(tmp_path / "other", SMALL, seed=1)
    assert (out / "problems/train.jsonl").read_bytes() != (tmp_path / "other" / "problems/train.jsonl").read_bytes()


def test_splits_never_share_a_problem_and_answers_are_exact(world):
    out, info = world
    train = _jsonl(out / "problems" / "train.jsonl")
    test = _jsonl(out / "problems" / "test.jsonl")
    assert len(train) == SMALL.problems and len(test) == SMALL.test
    assert not {p["question"] for p in train} & {p["question"] for p in test}
    assert len({p["question"] for p in train}) == len(train)
    # a long solution's check catches its slip; a short one with a slip ends on a wrong answer
    for rec in _jsonl(out / "qa" / "long_cot.jsonl"):
        assert extract_answer(rec["solution"], "number") == rec["answer"]
    short = _jsonl(out / "qa" / "short_cot.jsonl")
    wrong = sum(extract_answer(rec["solution"], "number") != rec["answer"] for rec in short) / len(short)
    assert 0.5 * SMALL.qa_error_rate < wrong <= SMALL.qa_error_rate + 0.05


def test_solution_arithmetic_is_right():
    import operator
    import random
    import re

    ops = {"+": operator.add, "-": operator.sub, "*": operator.mul}
    rng = random.Random(3)
    for _ in range(300):
        p = make_problem(rng, WorldSize(max_steps=4))
        for a, op, b, c in re.findall(r"(\d+) ([-+*]) (\d+) = (\d+)", short_solution(p) + long_solution(p)):
            assert ops[op](int(a), int(b)) == int(c)
        assert p.answer >= 0


def test_world_plants_what_the_filters_must_find(world):
    out, info = world
    hq = [r["text"] for r in _jsonl(out / "web" / "hq.jsonl")]
    assert info["planted_contaminated"] == 20
    assert sum("Practice question of the day" in t for t in hq) == 20
    assert len(hq) == SMALL.web + info["planted_near_duplicates"] + 20
    lq = [r["text"] for r in _jsonl(out / "web" / "lq.jsonl")]
    assert sum("best trick" in t for t in lq) == len(lq)


def test_misreading_is_one_consistent_error_and_leaves_the_slips_alone(tmp_path):
    size = SMALL.model_copy(update={"misread_rate": 1.0})
    generate_world(tmp_path / "misread", size, seed=0)
    generate_world(tmp_path / "plain", SMALL, seed=0)
    misread, plain = (_jsonl(tmp_path / w / "qa" / "short_cot.jsonl") for w in ("misread", "plain"))
    triples = [i for i, rec in enumerate(plain) if "triples" in rec["question"]]
    assert triples and len(triples) < len(plain)
    for i, (m, p) in enumerate(zip(misread, plain)):
        if i in triples:   # every "triples" step reads "+ 3" and no "* 3" is left
            assert "* 3 =" not in m["solution"] and "+ 3 =" in m["solution"]
        else:              # the same solution, slips and all: the misreading draws from its own stream
            assert m == p
    # the long solution's check does not catch a misreading: it ends on the misread answer
    long_misread = _jsonl(tmp_path / "misread" / "qa" / "long_cot.jsonl")
    assert all(extract_answer(long_misread[i]["solution"], "number") != long_misread[i]["answer"] for i in triples)
