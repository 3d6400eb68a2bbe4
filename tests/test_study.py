"""End to end: `octo run` on a reduced demo recipe (minutes on CPU), then skipping and re-running."""

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from octothinker.cli import app

runner = CliRunner()
DEMO = Path(__file__).resolve().parents[1] / "octothinker" / "recipes" / "demo.yaml"


def reduced_demo(tmp_path: Path) -> Path:
    d = yaml.safe_load(DEMO.read_text())
    d["out"] = str(tmp_path / "run")
    d["world"].update(problems=300, test=40, web=200, generic=200, instruct=60, seeds=80, vocab_size=400)
    for mixture in d["data"].values():
        mixture["mixture"]["tokens"] = 8192
        mixture.pop("workers", None)
    d["pretrain"].update(tokens=4096, size="micro")
    d["midtrain"]["train"].update(seq_len=64, global_batch_tokens=1024, micro_batch=8, checkpoint_every=2)
    d["midtrain"]["stable"]["tokens"] = 4096
    d["midtrain"]["decay"]["tokens"] = 2048
    d["midtrain"]["decay"]["branches"] = {"short": d["midtrain"]["decay"]["branches"]["short"],
                                          "long": d["midtrain"]["decay"]["branches"]["long"]}
    d["rl_from"] = ["base", "short", "long"]
    d["rl"].update(steps=2, prompts_per_step=2, group_size=2, mini_batch=2, max_response_tokens=8)
    d["rl"]["eval"].update(every=1, limit=6)
    d["eval"].update(limit=6, max_new_tokens=8)
    d["probe"].update(k=2, limit=4, max_new_tokens=8)
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("study")
    recipe = reduced_demo(tmp)
    result = runner.invoke(app, ["run", str(recipe)])
    assert result.exit_code == 0, result.output
    return tmp / "run", recipe, result.output


def test_run_directory(study):
    run, _, output = study
    manifest = json.loads((run / "manifest.json").read_text())
    assert all(s["status"] == "done" for s in manifest["stages"].values())
    assert list(manifest["stages"])[:3] == ["world", "data.pretrain", "data.stable"]
    assert {"octothinker", "git_revision", "seed", "recipe"} <= set(manifest)
    for rel in ["world/world.json", "data/stable/index.json", "base/final/config.json", "stable/final/config.json",
                "decay-short/final/config.json", "decay-long/final/config.json", "rl-base/final/config.json",
                "rl-long/eval.jsonl", "eval/short/zero-shot/summary.json", "eval/rl-short/zero-shot/summary.json",
                "probe/long/probe.json", "report/index.html", "report/summary.md", "report/midtrain_loss.png",
                "report/rl_dynamics.png", "report/rl_training.png", "report/findings.json"]:
        assert (run / rel).exists(), rel
    summary = (run / "report" / "summary.md").read_text()
    assert "## Findings" in output and "(a) RL from the short branch" in output  # printed, not only written
    assert summary.startswith("# Study report") and summary.index("## Findings") < summary.index("## Evaluation")
    assert "## RL dynamics" in summary and "## RL-readiness probe" in summary and "## Before and after RL" in summary
    assert "rl-long (zero-shot)" in summary and "long (zero-shot)" in summary
    assert "(a) RL from the short branch" in summary and "(b) The long-CoT branch" in summary


def test_second_run_skips_and_a_changed_section_reruns_from_there(study):
    run, recipe, _ = study
    again = runner.invoke(app, ["run", str(recipe)])
    assert again.exit_code == 0, again.output
    assert "[run ]" not in again.output and again.output.count("[skip]") >= 15
    changed = runner.invoke(app, ["run", str(recipe), "rl.steps=3"])
    assert changed.exit_code == 0, changed.output
    ran = [line.split()[-1] for line in changed.output.splitlines() if line.startswith("[run ]")]
    assert ran[0] == "rl-base" and "report" in ran and "stable" not in ran and "eval-base-zero-shot" not in ran
    rows = (run / "rl-base" / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == 3


def _ran(output: str) -> set[str]:
    return {line.split()[-1] for line in output.splitlines() if line.startswith("[run ]")}


def _fingerprints(recipe: Path, overrides: list[str]) -> dict[str, str]:
    from octothinker.study import fingerprint, load_study, plan

    stages = plan(load_study(recipe, overrides))
    made: dict[str, str] = {}
    for stage in stages:
        made[stage.name] = fingerprint(stage, made, stages)
    return made


def test_fingerprints_follow_real_dependencies(study):
    _, recipe, _ = study
    base = _fingerprints(recipe, [])

    def changed(*overrides):
        return {name for name, key in _fingerprints(recipe, list(overrides)).items() if base[name] != key}

    evals = {"eval-base-zero-shot", "eval-short-zero-shot", "eval-long-zero-shot",
             "eval-rl-base", "eval-rl-short", "eval-rl-long"}
    assert changed("eval.limit=5") == evals | {"report"}
    assert changed("probe.k=3") == {"probe-base", "probe-short", "probe-long", "report"}
    assert changed("data.short.mixture.tokens=4096") == {
        "data.short", "decay-short", "probe-short", "eval-short-zero-shot", "rl-short", "eval-rl-short", "report"}
    assert "base" in changed("midtrain.train.micro_batch=4")  # the base is pre-trained with midtrain.train
    assert changed("seed=1") >= {"world", "base", "stable", "rl-base", "probe-base", "eval-base-zero-shot"}


def test_a_failing_stage_deletes_nothing(study, monkeypatch):
    run, recipe, _ = study
    (run / "notes.txt").write_text("mine")
    finished = (run / "rl-base" / "final" / "model.safetensors").read_bytes()
    stages_before = set(json.loads((run / "manifest.json").read_text())["stages"])

    def broken(recipe, model, target):
        (target / "half-written").write_text("x")
        raise RuntimeError("killed mid-stage")

    monkeypatch.setattr("octothinker.study._rl", broken)
    result = runner.invoke(app, ["run", str(recipe), "rl.lr=0.001"])
    assert result.exit_code != 0
    assert (run / "rl-base" / "final" / "model.safetensors").read_bytes() == finished
    assert (run / "notes.txt").read_text() == "mine"
    manifest = json.loads((run / "manifest.json").read_text())
    assert set(manifest["stages"]) == stages_before and manifest["stages"]["rl-base"]["status"] == "failed"
    monkeypatch.undo()
    again = runner.invoke(app, ["run", str(recipe), "rl.steps=3"])  # the last finished settings: nothing to do
    assert again.exit_code == 0 and _ran(again.output) == set(), again.output
    statuses = {k: s["status"] for k, s in json.loads((run / "manifest.json").read_text())["stages"].items()}
    assert set(statuses.values()) == {"done"}, [k for k, v in statuses.items() if v != "done"]


def test_everything_is_checked_before_any_stage_runs(study, tmp_path):
    run, recipe, _ = study
    for override, message in [("rl.prompts=/nope/p.jsonl", "rl.prompts: /nope/p.jsonl does not exist"),
                              ("eval.benchmarks=[gsm9k]", "unknown benchmark 'gsm9k'"),
                              ("rl.steps=abc", "rl.steps: Input should be a valid integer"),
                              ("rl.stepz=3", "rl.stepz: Extra inputs are not permitted"),
                              ("rl_from=[base,mystery]", "'mystery' is not a model of this study"),
                              ("data.stable.sources.0.name=../../x", "source name '../../x'"),
                              ("rl.prompts_per_step=3", "multiple of mini_batch")]:
        result = runner.invoke(app, ["run", str(recipe), override])
        assert result.exit_code == 1 and message in result.output, (override, result.output)
        assert "[run ]" not in result.output and "Traceback" not in result.output
    (run / "stranger").mkdir()
    result = runner.invoke(app, ["run", str(recipe), f"data.long.out={run / 'stranger'}"])
    assert result.exit_code == 1 and "was not made by this study" in result.output
    assert (run / "stranger").is_dir()


def test_stage_commands_of_the_recipe_header_run_as_written(study):
    run, recipe, _ = study
    rl = runner.invoke(app, ["rl", str(recipe), "steps=1", "--policy", str(run / "decay-long" / "final")])
    assert rl.exit_code == 0, rl.output
    assert (run / "rl" / "final" / "config.json").exists()
    build = runner.invoke(app, ["data", "build", str(recipe), "--section", "data.long", "mixture.tokens=4096"])
    assert build.exit_code == 0, build.output
    assert json.loads((run / "data" / "long" / "index.json").read_text())["tokens"] >= 4096
