"""bench/chaos.py at its smallest: a reduced study killed with SIGKILL 3 times (a random moment of each
half of the plan, and a failpoint mid-write of a checkpoint), re-run after each, to the same findings, weights and shards as one
run never killed, with nothing left behind (the bench's 20 kills: BENCHMARKS.md)."""

import pytest

from .runner import line, run

pytestmark = pytest.mark.bench


def test_a_study_killed_three_times_ends_as_one_never_killed(tmp_path):
    out = run("chaos.py", "--kills", "3", "--size", "smoke", cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.explain()
    kills = [line(out.stdout, rf"kill +{k}: (.+?) +during (.+)") for k in range(1, 4)]
    assert kills[1][1] == "failpoint checkpoint-write:1"
    assert kills[0][1].startswith("SIGKILL ") and kills[2][1].startswith("SIGKILL ")
    line(out.stdout, r"identical outputs after 3 of 3 kills: yes")
    line(out.stdout, r"left behind: nothing")
    assert int(line(out.stdout, r"outputs compared: (\d+) \(.*")[1]) >= 10
