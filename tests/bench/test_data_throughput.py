"""bench/data_throughput.py, curation on datatrove against the hand-written path it replaced: 20 documents
(and 2 planted near-duplicates) at x1 and x4, one datatrove task."""

import importlib.util

import pytest

from .runner import line, run

pytestmark = pytest.mark.bench

TOY = ("--docs", "20", "--tasks", "1")
BUILD = (r"x{scale} {label} +(\d+) docs: +(\d+) docs/s, peak RSS +(\d+) MB; removed: quality (\d+), "
         r"duplicates (\d+), contaminated (\d+)")


def check_datatrove_lines(stdout: str) -> None:
    for scale in (1, 4):
        read, per_s, rss, quality, duplicates, _ = map(int, line(stdout, BUILD.format(
            scale=scale, label=r"datatrove, 1 task\(s\)")).groups())
        assert read == scale * 22  # 20 documents and 2 near-duplicates of them, times the scale
        assert rss > 0 and quality + duplicates < read
    assert int(line(stdout, BUILD.format(scale=4, label=r"datatrove, 1 task\(s\)"))[5]) > 0  # planted ones found
    assert stdout.count("    per step: ") == 2 and "MinHash" in stdout


def test_datatrove_alone(tmp_path):
    out = run("data_throughput.py", *TOY, "--no-old", cwd=tmp_path)
    assert out.returncode == 0, out.explain()
    line(out.stdout, r"machine: .+, \d+ cores; load [\d.]+")
    check_datatrove_lines(out.stdout)
    assert "hand-written" not in out.stdout


def test_datatrove_against_the_hand_written_path(tmp_path):
    if importlib.util.find_spec("datasketch") is None:
        pytest.skip("datasketch is not installed: the hand-written path (the package at ee44f04) needs it")
    out = run("data_throughput.py", *TOY, cwd=tmp_path)  # a git worktree of ee44f04, removed at the end
    assert out.returncode == 0, out.explain()
    check_datatrove_lines(out.stdout)
    for scale in (1, 4):
        assert int(line(out.stdout, BUILD.format(scale=scale, label=r"hand-written \(old\)"))[1]) == scale * 22


def test_the_demo_world_needs_the_old_path(tmp_path):
    out = run("data_throughput.py", "--no-old", "--demo-world", cwd=tmp_path)
    assert out.returncode == 2 and "--demo-world compares with the old path" in out.stderr, out.explain()
