"""scripts/misreading.py: greedy accuracy split by the kind of problem, from a run's evaluation rows."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "misreading.py"
spec = importlib.util.spec_from_file_location("misreading", SCRIPT)
misreading = importlib.util.module_from_spec(spec)
spec.loader.exec_module(misreading)


def _eval_row(step, decoding, correct):
    return {"step": step, "benchmark": "synth", "decoding": decoding, "accuracy": 100 * sum(correct) / len(correct),
            "problems": len(correct), "samples": 1, "correct_per_problem": correct, "mean_response_tokens": 9.0}


def test_greedy_accuracy_before_and_after_on_each_kind_of_problem(tmp_path):
    questions = tmp_path / "test.jsonl"
    kinds = ["Then it triples.", "Then it doubles.", "Then it triples.", "She gets 2 more."]
    questions.write_text("".join(json.dumps({"question": q, "answer": "1"}) + "\n" for q in kinds))
    rl = tmp_path / "run" / "rl-short"
    rl.mkdir(parents=True)
    rows = [_eval_row(0, "greedy", [0, 1, 0, 1]), _eval_row(0, "sampled", [1, 1, 1, 1]),
            _eval_row(60, "greedy", [1, 1, 0, 0])]
    (rl / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    table = misreading.table(tmp_path / "run", questions, None)
    # the two "triples" problems: 0 of 2 right before, 1 of 2 after; the rest: 2 of 2, then 1 of 2
    assert "misread problems (2)" in table and "other problems (2)" in table
    row = table.splitlines()[-1]
    assert row.startswith("| short | 1 | 0.0 [") and "-> 50.0 [" in row and "| 100.0 [" in row
    with pytest.raises(SystemExit, match="no RL run from 'long'"):
        misreading.table(tmp_path / "run", questions, ["long"])
