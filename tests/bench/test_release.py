"""bench/release_parity.py and its referee bench/release_referee.py: `octo eval --harness release` against the
OctoThinker release's own evaluation code. Both need a checkout of GAIR-NLP/OctoThinker (OCTO_RELEASE_DIR,
its test files in <checkout>/eval/datasets) and the parity run its referee's venv, .venv-release (the
release's pins; release_parity.py makes it with pip, which a test does not do): without them only the
command lines are checked."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from .runner import REPO, line, run

pytestmark = pytest.mark.bench

REFEREE_VENV = REPO / ".venv-release"


def release_checkout() -> Path:
    root = os.environ.get("OCTO_RELEASE_DIR")
    if not root:
        pytest.skip("no checkout of GAIR-NLP/OctoThinker: set OCTO_RELEASE_DIR to one")
    root = Path(root)
    assert (root / "eval" / "configs" / "en_math_cot_few_shot_test_configs.json").is_file(), \
        f"OCTO_RELEASE_DIR={root} is no checkout of GAIR-NLP/OctoThinker"
    return root


def referee_python() -> str:
    python = REFEREE_VENV / "bin" / "python"
    if not python.exists():
        pytest.skip(f"no {REFEREE_VENV} (the referee's venv with the release's pins: bench/release_parity.py "
                    "makes it, with pip)")
    return str(python)


def test_referee_command_lines(tmp_path):
    out = run("release_referee.py", "--help", cwd=tmp_path)
    assert out.returncode == 0 and "{prompts,score}" in out.stdout, out.explain()
    out = run("release_referee.py", "score", "--release-dir", "R", "--data-dir", "D", "--out", "F", cwd=tmp_path)
    assert out.returncode == 2 and "--benchmark" in out.stderr and "--predictions" in out.stderr, out.explain()


def test_parity_command_line(tmp_path):
    out = run("release_parity.py", "--help", cwd=tmp_path)
    assert out.returncode == 0, out.explain()
    for option in ("--release-dir", "--data-dir", "--benchmarks", "--per-kind", "--prompts", "--real", "--work",
                   "--venv", "--paste"):
        assert option in out.stdout
    out = run("release_parity.py", "--data-dir", "D", cwd=tmp_path)
    assert out.returncode == 2 and "--release-dir" in out.stderr, out.explain()


def test_referee_prompts_and_verdicts_on_the_release(tmp_path):
    release = release_checkout()
    python = referee_python()
    data = release / "eval" / "datasets"
    common = ["--release-dir", str(release), "--data-dir", str(data)]
    referee = [python, str(REPO / "bench" / "release_referee.py")]
    subprocess.run([*referee, "prompts", *common, "--benchmarks", "gsm8k", "--limit", "2",
                    "--out", str(tmp_path / "prompts.jsonl")], check=True, cwd=tmp_path, timeout=120)
    problems = [json.loads(x) for x in (data / "gsm8k" / "test.jsonl").read_text().splitlines()[:2]]
    prompts = [json.loads(x) for x in (tmp_path / "prompts.jsonl").read_text().splitlines()]
    assert [p["id"] for p in prompts] == ["0", "1"] and all(p["benchmark"] == "gsm8k" for p in prompts)
    for prompt, problem in zip(prompts, problems):
        assert problem["question"].strip() in prompt["prompt"] and prompt["stop"]
    gold = problems[0]["answer"]
    (tmp_path / "completions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in (
        {"id": "0", "completion": f" So the answer is {gold}."},
        {"id": "0", "completion": f" So the answer is {int(gold) + 1}."})))
    subprocess.run([*referee, "score", *common, "--benchmark", "gsm8k", "--predictions",
                    str(tmp_path / "completions.jsonl"), "--out", str(tmp_path / "verdicts.jsonl")],
                   check=True, cwd=tmp_path, timeout=120, stdout=subprocess.DEVNULL)
    verdicts = [json.loads(x) for x in (tmp_path / "verdicts.jsonl").read_text().splitlines()]
    assert [v["correct"] for v in verdicts] == [True, False]
    # the release's reading of each (it keeps the full stop: one of its quirks)
    assert [v["prediction"].rstrip(".") for v in verdicts] == [gold, str(int(gold) + 1)]


def test_parity_on_the_release(tmp_path):
    release = release_checkout()
    referee_python()
    work = tmp_path / "work"
    out = run("release_parity.py", "--release-dir", str(release), "--data-dir", str(release / "eval" / "datasets"),
              "--benchmarks", "gsm8k", "--per-kind", "1", "--prompts", "2", "--work", str(work),
              "--venv", str(REFEREE_VENV), cwd=tmp_path)
    assert out.returncode == 0, out.explain()
    agree, seen = map(int, line(out.stdout, r"gsm8k: (\d+)/(\d+) verdicts agree").groups())
    assert seen == 4  # one completion of each made kind: right, wrong, boxed, cut off
    table = (work / "parity.md").read_text()
    # our prompts and stop words are the release's, and the verdict counts are those printed
    assert "| gsm8k | 2/2 | 2/2 | " in table and table.split("\n")[2].endswith(f"| {agree}/{seen} |"), table
    disagreements = (work / "disagreements.jsonl").read_text().splitlines()
    assert len(disagreements) == seen - agree and f"Disagreements: {seen - agree}" in table
    assert table.strip() in out.stdout
