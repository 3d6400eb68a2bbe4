"""scripts/paste_results.py: README and BENCHMARKS numbers are copied from a run, never typed."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "paste_results.py"
spec = importlib.util.spec_from_file_location("paste_results", SCRIPT)
paste_results = importlib.util.module_from_spec(spec)
spec.loader.exec_module(paste_results)


def test_sections_are_copied_into_the_block_and_nothing_else_changes(tmp_path):
    run = tmp_path / "run"
    (run / "report").mkdir(parents=True)
    (run / "report" / "summary.md").write_text("# Study report\n\n## Findings\n\n| a |\n\nseeds 0\n\n## Evaluation\n\nx\n")
    (run / "manifest.json").write_text(json.dumps({"command": "octo demo", "stages": {"a": {"seconds": 120}},
                                                   "cpu": "AMD EPYC", "cpu_count": 2, "cpu_kernels": "AVX2"}))
    page = tmp_path / "README.md"
    page.write_text("intro\n<!-- results:demo -->\nold numbers\n<!-- /results:demo -->\nafter\n")
    paste_results.main([str(run), str(page), "--block", "demo", "--sections", "Findings"])
    text = page.read_text()
    assert text.startswith("intro\n<!-- results:demo -->\n") and text.endswith("<!-- /results:demo -->\nafter\n")
    assert "old numbers" not in text and "#### Findings" in text and "seeds 0" in text and "Evaluation" not in text
    assert "`octo demo`" in text and "2.0 min" in text
    # which machine made it, and that numbers (not verdicts) move with its kernels
    assert "on AMD EPYC (2 cores, torch kernels AVX2)" in text and "vary with the CPU's kernel set" in text
    with pytest.raises(SystemExit, match="no section Missing"):
        paste_results.main([str(run), str(page), "--block", "demo", "--sections", "Missing"])
    with pytest.raises(SystemExit, match="no block"):
        paste_results.main([str(run), str(page), "--block", "other"])


def test_stages_side_by_side_are_timed_by_the_wall_clock_too():
    stages = {"a": {"started": 0.0, "seconds": 10.0}, "b": {"started": 10.0, "seconds": 30.0},
              "c": {"started": 12.0, "seconds": 20.0}, "d": {"started": 500.0, "seconds": 5.0},  # resumed later
              "e": {"status": "failed"}}
    assert paste_results.wall_seconds(stages) == 45.0
