"""`scripts/plan_fingerprints.py`: one line a stage, in plan order, the same on every call."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_stage_once_with_its_fingerprint(tmp_path):
    def lines():
        out = subprocess.run([sys.executable, str(ROOT / "scripts" / "plan_fingerprints.py"),
                              str(ROOT / "octothinker" / "recipes" / "demo.yaml")],
                             capture_output=True, text=True, cwd=tmp_path, check=True).stdout
        return [line.split("\t") for line in out.splitlines()]

    first = lines()
    names = [row[1] for row in first]
    assert names[0] == "world" and names[-1] == "report" and len(names) == len(set(names)) > 10
    assert {"stable", "decay-short", "rl-short", "eval-rl-short"} <= set(names)
    assert all(len(row) == 5 and len(row[2]) == 16 for row in first)
    assert lines() == first
