"""What reads a recipe, prints a plan or writes a report imports no torch: `octo --help`, `octo run --plan`,
recipe validation and `octo report` start in a second and run where torch is not installed. Each runs
here in an interpreter in which importing torch raises."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.figures import curves_in
from tests.report.test_collect import _jsonl, _study

RECIPES = Path(__file__).resolve().parents[1] / "octothinker" / "recipes"

# Runs the CLI with torch (and everything that would import it) unimportable.
DRIVER = """
import sys

class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ImportError("torch must not be imported here")

sys.meta_path.insert(0, NoTorch())
sys.argv = ["octo", *sys.argv[1:]]
from octothinker.cli import main
main()
"""


def _octo_without_torch(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", DRIVER, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_the_driver_blocks_torch(tmp_path):
    result = subprocess.run([sys.executable, "-c", DRIVER.replace("from octothinker.cli import main\nmain()",
                                                                  "import torch")], capture_output=True, text=True)
    assert result.returncode != 0 and "torch must not be imported here" in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["eval", "--help"], ["rl", "--help"], ["midtrain", "--help"],
                                  ["data", "build", "--help"], ["probe", "--help"]], ids=" ".join)
def test_help_without_torch(tmp_path, args):
    result = _octo_without_torch(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage: octo" in result.stdout


@pytest.mark.parametrize("recipe", ["demo.yaml", "demo-arms.yaml", "octothinker-1b.yaml", "octothinker-3b-released.yaml"])
def test_plan_without_torch(tmp_path, recipe):
    result = _octo_without_torch("run", str(RECIPES / recipe), "--plan", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "| report | to run |" in result.stdout  # every stage listed, the report last


def test_a_bad_recipe_is_refused_without_torch(tmp_path):
    result = _octo_without_torch("run", str(RECIPES / "demo.yaml"), "rl.steps=zero", "--plan", cwd=tmp_path)
    assert result.returncode == 1 and "rl.steps" in result.stderr and "Traceback" not in result.stderr


def test_report_without_torch(tmp_path):
    run = tmp_path / "run"
    layout = _study(run, {"base": (0.05, 0.06, 30), "short": (0.4, 0.6, 30), "long": (0.3, 0.31, 70)})
    _jsonl(run / "stable" / "metrics.jsonl", [{"tokens_seen": 100, "loss": 5.0}, {"tokens_seen": 200, "loss": 4.0}])
    (run / "manifest.json").write_text(json.dumps({"layout": layout.relative_to(run).model_dump(), "stages": {}}))
    result = _octo_without_torch("report", str(run), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "## Findings" in result.stdout and "Findings" in (run / "report" / "index.html").read_text()
    assert curves_in(run / "report" / "midtrain_loss.png", panels=1) == [True]
