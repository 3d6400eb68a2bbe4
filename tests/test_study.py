"""End to end: `octo run` on a reduced demo recipe (minutes on CPU), then skipping and re-running."""

import json
import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from octothinker.cli import app
from octothinker.models import load_model

runner = CliRunner()
DEMO = Path(__file__).resolve().parents[1] / "octothinker" / "recipes" / "demo.yaml"


def reduced_demo(tmp_path: Path, out: str | None = None) -> Path:
    d = yaml.safe_load(DEMO.read_text())
    d["out"] = out or str(tmp_path / "run")
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
    d["eval"].update(limit=6, max_new_tokens=8, before_rl=["zero-shot"])
    d["probe"].update(k=2, limit=4, max_new_tokens=8)
    d["jobs"] = 1  # one stage at a time, in this process (monkeypatched stages reach it); side by side: below
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path


@contextmanager
def _cwd(folder: Path):
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


@pytest.fixture(scope="module")
def shared_study(tmp_path_factory):
    """The reduced demo, run once for the module. Its `out` is relative (`run`, beside the recipe), so a copy
    of its folder is the same study, finished: what `own_study` hands a test that changes it."""
    tmp = tmp_path_factory.mktemp("study")
    recipe = reduced_demo(tmp, out="run")
    with _cwd(tmp):
        result = runner.invoke(app, ["run", str(recipe)])
    assert result.exit_code == 0, result.output
    return tmp, result.output


@pytest.fixture
def study(shared_study, monkeypatch):
    """The shared study, for tests that only read it: (run folder, recipe, the first run's output)."""
    tmp, output = shared_study
    monkeypatch.chdir(tmp)
    return tmp / "run", tmp / "study.yaml", output


@pytest.fixture
def own_study(shared_study, tmp_path, monkeypatch):
    """A copy of the finished shared study for a test that changes it, so that every other test, in any
    order, finds the shared one as it was made."""
    tmp, output = shared_study
    shutil.copytree(tmp, tmp_path / "study")
    monkeypatch.chdir(tmp_path / "study")
    return tmp_path / "study" / "run", tmp_path / "study" / "study.yaml", output


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


def test_stages_side_by_side_make_what_each_makes_alone(tmp_path, capfd):
    """`jobs: 2`, as the demo runs: every model and evaluation is the one its stage makes run alone at the
    threads the plan gave it (`octo run --stage`, one after another), whatever ran beside it."""
    from octothinker.study.planning import plan
    from octothinker.study.recipe import load_study

    recipe = reduced_demo(tmp_path)
    shape = ["jobs=2", "threads=2", "rl_from=[base,short]"]
    side = runner.invoke(app, ["run", str(recipe), *shape, f"out={tmp_path / 'side'}"])
    assert side.exit_code == 0, side.output
    workers = capfd.readouterr().out  # the workers' lines go to the terminal, not through typer
    assert "[run ] base (2 threads)" in workers and "[run ] rl-short (1 thread)" in workers  # base: read by both
    assert "2 (and 1 each for the stages run 2 at a time) torch threads" in (tmp_path / "side" / "report" / "summary.md").read_text()
    stages = plan(load_study(str(recipe), [*shape, f"out={tmp_path / 'alone'}"]))
    for stage in stages:
        alone = runner.invoke(app, ["run", str(recipe), *shape, f"out={tmp_path / 'alone'}", "--stage", stage.name])
        assert alone.exit_code == 0, alone.output
    manifest = json.loads((tmp_path / "side" / "manifest.json").read_text())
    assert list(manifest["stages"]) == [s.name for s in stages]
    assert {n: s["status"] for n, s in manifest["stages"].items()} == {s.name: "done" for s in stages}
    weights = sorted(p.relative_to(tmp_path / "side") for p in (tmp_path / "side").glob("*/final/model.safetensors"))
    assert {"base", "stable", "decay-short", "rl-base", "rl-short"} <= {w.parts[0] for w in weights}
    for rel in weights + [Path("rl-short/eval.jsonl"), Path("eval/rl-short/zero-shot/synth.jsonl")]:
        assert (tmp_path / "side" / rel).read_bytes() == (tmp_path / "alone" / rel).read_bytes(), rel


def test_second_run_skips_and_a_changed_section_reruns_from_there(own_study):
    run, recipe, _ = own_study
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
    return {line.split()[2] for line in output.splitlines() if line.startswith("[run ]")}  # [run ] name (n threads)


def _fingerprints(recipe: Path, overrides: list[str]) -> dict[str, str]:
    from octothinker.runs.engine import fingerprint
    from octothinker.study.planning import plan
    from octothinker.study.recipe import load_study

    stages = plan(load_study(recipe, overrides))
    made: dict[str, str] = {}
    for stage in stages:
        made[stage.name] = fingerprint(stage, made, stages)
    return made


def test_a_field_added_to_a_section_reruns_every_stage_it_can_change():
    """Fingerprints hash whole sections: a setting nobody listed still re-runs what it can change (and
    arms stop sharing the models it makes), never silently nothing."""
    from octothinker.midtrain.config import MidtrainRecipe
    from octothinker.rl.config import RLConfig
    from octothinker.runs.engine import fingerprint
    from octothinker.study.planning import plan
    from octothinker.study.recipe import load_study

    class MidtrainPlus(MidtrainRecipe):
        new_knob: int = 0

    class RLPlus(RLConfig):
        new_knob: int = 0

    def keys(section: str, value: int) -> dict[str, str]:
        recipe = load_study(DEMO.parent / "demo-arms.yaml")
        cls = MidtrainPlus if section == "midtrain" else RLPlus
        recipe = recipe.model_copy(update={section: cls(**getattr(recipe, section).model_dump(), new_knob=value)})
        stages = plan(recipe)
        made: dict[str, str] = {}
        for stage in stages:
            made[stage.name] = fingerprint(stage, made, stages)
        return made

    before, after = keys("midtrain", 0), keys("midtrain", 1)
    changed = {name for name in before if before[name] != after[name]}
    assert {"stable", "decay-short", "decay-long", "decay-hybrid", "probe-short", "rl-short", "eval-rl-long",
            "unfiltered/stable", "unfiltered/rl-short", "report"} <= changed
    assert not changed & {"world", "data.stable", "base", "rl-base", "probe-base", "qwen-like/base", "qwen-like/rl-base"}
    before, after = keys("rl", 0), keys("rl", 1)
    changed = {name for name in before if before[name] != after[name]}
    assert {"rl-base", "rl-short", "eval-rl-short", "unfiltered/rl-short", "report"} <= changed
    # what reads only the RL template and temperature (the probe) stays, and so do the models
    assert not changed & {"stable", "decay-short", "base", "probe-short", "unfiltered/probe-short"}


def test_a_study_of_given_models_runs_rl_and_evaluation_from_them(study, tmp_path):
    """The released-models recipes' shape: no data or mid-training; the models are named (a folder here,
    `hf:OctoThinker/...` there), RL starts from some, others are only evaluated."""
    run, recipe, _ = study
    kept = {k: v for k, v in yaml.safe_load(recipe.read_text()).items() if k in ("name", "seed", "rl", "eval")}
    d = yaml.safe_load(yaml.safe_dump(kept).replace("{out}/world", str(run / "world")))
    d.update(out=str(tmp_path / "given"), given={"base": str(run / "base" / "final"),
                                                 "short": str(run / "decay-short" / "final"),
                                                 "qwen": str(run / "decay-long" / "final"),
                                                 "trained": str(run / "rl-long" / "final")},
             rl_from=["base", "short", "qwen"], eval_from=["trained"], qwen="qwen")
    path = tmp_path / "given.yaml"
    path.write_text(yaml.safe_dump(d))
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 0, result.output
    assert _ran(result.output) == {f"{s}-{m}" for s in ("eval", "rl", "eval-rl") for m in ("base", "short", "qwen")} \
        - {"eval-base", "eval-short", "eval-qwen"} | {"eval-base-zero-shot", "eval-short-zero-shot",
                                                      "eval-qwen-zero-shot", "eval-trained-zero-shot", "report"}
    config = json.loads((tmp_path / "given" / "rl-short" / "config.json").read_text())
    assert Path(config["policy"]) == run / "decay-short" / "final"
    report = (tmp_path / "given" / "report" / "summary.md").read_text()
    assert "| trained (zero-shot) |" in report
    # the findings of the embedded study, by the same code: (a) for a given branch, (g) for the Qwen arm
    claims = [f["claim"] for f in json.loads((tmp_path / "given" / "report" / "findings.json").read_text())["findings"]]
    assert any(c.startswith("(a) RL from the short branch") for c in claims)
    assert any(c.startswith("(g) A Qwen-like base (qwen)") for c in claims)
    assert not any("(a) RL from the qwen" in c for c in claims)
    with pytest.raises(Exception, match="given.long: this study makes a model of that name"):
        from octothinker.study.recipe import load_study
        load_study(recipe, [f"given.long={run}"])


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
    # where datatrove curates is how, not what (tests/data/test_curate.py: the same shards)
    assert changed("data.short.executor=slurm", "data.short.tasks=4", "data.short.workers=2",
                   "data.short.cluster.partition=cpu") == set()


def test_a_failing_stage_deletes_nothing(own_study, monkeypatch):
    run, recipe, _ = own_study
    (run / "notes.txt").write_text("mine")
    finished = (run / "rl-base" / "final" / "model.safetensors").read_bytes()
    stages_before = set(json.loads((run / "manifest.json").read_text())["stages"])

    def broken(job, target):
        (target / "half-written").write_text("x")
        raise RuntimeError("killed mid-stage")

    with monkeypatch.context() as patched:  # only the stage is patched back; the copy stays the folder we are in
        patched.setattr("octothinker.study.build.TrainRL.__call__", broken)
        result = runner.invoke(app, ["run", str(recipe), "rl.lr=0.001"])
    assert result.exit_code != 0
    assert (run / "rl-base" / "final" / "model.safetensors").read_bytes() == finished
    assert (run / "notes.txt").read_text() == "mine"
    manifest = json.loads((run / "manifest.json").read_text())
    assert set(manifest["stages"]) == stages_before and manifest["stages"]["rl-base"]["status"] == "failed"
    again = runner.invoke(app, ["run", str(recipe)])  # the last finished settings: nothing to do
    assert again.exit_code == 0 and _ran(again.output) == set(), again.output
    statuses = {k: s["status"] for k, s in json.loads((run / "manifest.json").read_text())["stages"].items()}
    assert set(statuses.values()) == {"done"}, [k for k, v in statuses.items() if v != "done"]


def test_everything_is_checked_before_any_stage_runs(own_study):
    run, recipe, _ = own_study
    for override, message in [("rl.prompts=/nope/p.jsonl", "rl.prompts: /nope/p.jsonl does not exist"),
                              ("eval.benchmarks=[gsm9k]", "unknown benchmark 'gsm9k'"),
                              ("rl.steps=abc", "rl.steps: Input should be a valid integer"),
                              ("rl.stepz=3", "rl.stepz: unknown key; did you mean 'steps'?"),
                              ("rl_from=[base,mystery]", "'mystery' is not a model of this study"),
                              ("data.stable.sources.0.name=../../x", "source name '../../x'"),
                              ("rl.prompts_per_step=3", "multiple of mini_batch"),
                              ("reference=octothinker-2b", "reference 'octothinker-2b'")]:
        result = runner.invoke(app, ["run", str(recipe), override])
        assert result.exit_code == 1 and message in result.output, (override, result.output)
        assert "[run ]" not in result.output and "Traceback" not in result.output
    (run / "stranger").mkdir()
    result = runner.invoke(app, ["run", str(recipe), f"data.long.out={run / 'stranger'}"])
    assert result.exit_code == 1 and "was not made by this study" in result.output
    assert (run / "stranger").is_dir()


def test_stage_commands_of_the_recipe_header_run_as_written(study, tmp_path):
    run, recipe, _ = study
    rl = runner.invoke(app, ["rl", str(recipe), "steps=1", "--policy", str(run / "decay-long" / "final"),
                             "--out", str(tmp_path / "rl")])
    assert rl.exit_code == 0, rl.output
    steps = [json.loads(line)["step"] for line in (tmp_path / "rl" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1]  # the override reached the run: one step, from the policy named
    load_model(tmp_path / "rl" / "final", device="cpu")  # the final policy is a model that loads
    build = runner.invoke(app, ["data", "build", str(recipe), "--section", "data.long", "mixture.tokens=4096",
                                f"out={tmp_path / 'long'}"])
    assert build.exit_code == 0, build.output
    assert json.loads((tmp_path / "long" / "index.json").read_text())["tokens"] >= 4096


def test_plan_prices_stages_and_runs_nothing(study):
    run, recipe, _ = study
    before = (run / "manifest.json").read_text()
    result = runner.invoke(app, ["run", str(recipe), "rl.steps=5", "--plan"])
    assert result.exit_code == 0, result.output
    rows = {line.split("|")[1].strip(): line for line in result.output.splitlines() if line.startswith("| ")}
    assert "| done |" in rows["stable"] and "| to run |" in rows["rl-short"] and "| done |" in rows["probe-short"]
    assert "--stage rl-short" in rows["rl-short"] and "5 steps x 2 prompts x 2" in rows["rl-short"]
    assert "Stages to run: " in result.output and "H100-hours" in result.output
    assert (run / "manifest.json").read_text() == before and not (run / "rl-short.staging").exists()


def test_one_stage_at_a_time_and_a_slurm_chain(own_study):
    run, recipe, _ = own_study
    blocked = runner.invoke(app, ["run", str(recipe), "rl.steps=4", "--stage", "eval-rl-short"])
    assert blocked.exit_code == 1 and "reads rl-short, not finished" in blocked.output, blocked.output
    one = runner.invoke(app, ["run", str(recipe), "rl.steps=4", "--stage", "rl-short"])
    assert one.exit_code == 0 and _ran(one.output) == {"rl-short"}, one.output
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["stages"]["rl-short"]["status"] == "done" and manifest["stages"]["rl-base"]["status"] == "done"
    (run / "slurm").mkdir(exist_ok=True)
    (run / "slurm" / "07-rl-gone.sbatch").write_text("# an earlier plan's script\n")
    emitted = runner.invoke(app, ["run", str(recipe), "rl.steps=4", "--emit", "slurm"])
    assert emitted.exit_code == 0, emitted.output
    assert not (run / "slurm" / "07-rl-gone.sbatch").exists()  # never mixed in with this plan's scripts
    submit = (run / "slurm" / "submit.sh").read_text()
    jobs = [line for line in submit.splitlines() if line.startswith("job[")]
    # rl-short is finished under these settings; the other RL runs and what reads them are not
    assert not any("job[rl-short]" in j for j in jobs) and any(j.startswith("job[rl-base]") for j in jobs)
    report = next(j for j in jobs if j.startswith("job[report]"))
    assert "--dependency=afterok:" in report and "${job[rl-base]}" in report
    script = next((run / "slurm").glob("*-rl-base.sbatch")).read_text()
    assert "--stage rl-base" in script and "rl.steps=4" in script and "#SBATCH --gpus-per-node=1" in script
    bad = runner.invoke(app, ["run", str(recipe), "--emit", "pbs"])
    assert bad.exit_code == 1 and "slurm" in bad.output


@pytest.mark.skipif(sys.platform != "linux", reason="torchrun with gloo")
def test_midtrain_on_two_cpu_ranks_through_octo_run_matches_one_process(study, tmp_path):
    """`midtrain.launch` makes `octo run` start the stable and decay stages under torchrun (2 gloo ranks
    here); the losses are the single-process run's (its global batch, split across the ranks)."""
    one, recipe, _ = study
    d = yaml.safe_load(recipe.read_text())
    d["out"] = str(tmp_path / "ranks")
    d["midtrain"]["launch"] = {"nproc_per_node": 2}
    launched = tmp_path / "ranks.yaml"
    launched.write_text(yaml.safe_dump(d, sort_keys=False))
    for stage in ["world", "data.pretrain", "data.stable", "data.short", "base", "stable", "decay-short"]:
        result = runner.invoke(app, ["run", str(launched), "--stage", stage])
        assert result.exit_code == 0, result.output
    two = tmp_path / "ranks"
    for stage in ["stable", "decay-short"]:
        a, b = ([json.loads(line)["loss"] for line in (run / stage / "metrics.jsonl").read_text().splitlines()]
                for run in (one, two))
        assert len(a) == len(b) > 1 and a == pytest.approx(b, rel=1e-4, abs=1e-5)
        assert not (two / stage / "torchrun_stage.json").exists()
    manifest = json.loads((two / "manifest.json").read_text())
    assert manifest["stages"]["decay-short"]["status"] == "done"
    # the launch is how, not what: the fingerprints are the single-process recipe's
    single = tmp_path / "single.yaml"
    single.write_text(yaml.safe_dump({**d, "midtrain": {k: v for k, v in d["midtrain"].items() if k != "launch"}}))
    assert _fingerprints(launched, []) == _fingerprints(single, [])

    d["midtrain"]["launch"] = {"nproc_per_node": 4, "nnodes": 2}
    launched.write_text(yaml.safe_dump(d, sort_keys=False))
    emitted = runner.invoke(app, ["run", str(launched), "--emit", "slurm"])
    assert emitted.exit_code == 0, emitted.output
    script = next((two / "slurm").glob("*-decay-long.sbatch")).read_text()
    assert "#SBATCH --nodes=2" in script and "#SBATCH --gpus-per-node=4" in script
    assert "#SBATCH --nodes=1" in next((two / "slurm").glob("*-rl-base.sbatch")).read_text()
    plan = runner.invoke(app, ["run", str(launched), "--plan"])
    assert "(torchrun: 2 x 4 GPUs)" in plan.output


def test_rl_engine_verl_goes_through_the_verl_launcher(own_study, monkeypatch):
    run, recipe, _ = own_study
    calls = []

    def fake_launch(cfg, policy, dry_run=False):  # verl itself needs GPUs: check what octo run hands it
        calls.append((cfg.out, policy, cfg.seed))
        (Path(cfg.out) / "final").mkdir(parents=True)

    monkeypatch.setattr("octothinker.rl.verl.launch", fake_launch)
    overrides = ["rl.engine=verl", "rl.verl.gpus_per_node=8"]
    result = runner.invoke(app, ["run", str(recipe), *overrides, "--stage", "rl-short"])
    assert result.exit_code == 0, result.output
    assert [(os.path.abspath(out), os.path.abspath(policy), seed) for out, policy, seed in calls] == \
        [(str(run / "rl-short.staging"), str(run / "decay-short" / "final"), 0)]
    plan = runner.invoke(app, ["run", str(recipe), *overrides, "--plan"])
    assert "--stage rl-base` (verl: 1 x 8 GPUs)" in plan.output


def test_torchrun_commands():
    from octothinker.midtrain.config import LaunchSpec
    from octothinker.midtrain.torchrun import torchrun_command

    one = torchrun_command(LaunchSpec(nproc_per_node=8), Path("/r/stable.staging/spec.json"), "octo-stable-1")
    assert one[1:] == ["-m", "torch.distributed.run", "--nproc-per-node", "8", "--standalone",
                       "-m", "octothinker.midtrain.torchrun", "/r/stable.staging/spec.json"]
    many = torchrun_command(LaunchSpec(nproc_per_node=8, nnodes=4, rdzv_endpoint="node0:29400"), Path("s.json"), "id")
    assert many[:3] == ["srun", "--nodes=4", "--ntasks-per-node=1"]
    assert {"--nnodes=4", "--rdzv-backend=c10d", "--rdzv-endpoint=node0:29400", "--rdzv-id=id"} <= set(many)
    with pytest.raises(ValueError, match="host:port"):
        LaunchSpec(nproc_per_node=2, rdzv_endpoint="node0")


def test_gpu_hours_of_a_known_budget():
    from octothinker.launch import Assumptions, gpu_hours, model_params
    from octothinker.runs.engine import Work

    # 1B parameters x 1B tokens x 6 FLOPs at 50% of 1000 TFLOPs: 12,000 s
    a = Assumptions(train_mfu=0.5, decode_mfu=0.1, peak_tflops=1000.0)
    assert gpu_hours(1e9, Work("m", "", train_tokens=1e9), a) == pytest.approx(12_000 / 3600)
    assert gpu_hours(1e9, Work("m", "", generated_tokens=1e9), a) == pytest.approx(20_000 / 3600)
    assert model_params("hf:meta-llama/Llama-3.2-1B", []) == 1.24e9 and model_params("hf:someone/else", []) is None
    from octothinker.models import create_model

    built = create_model("micro", None, vocab_size=400)
    assert model_params("micro", [], vocab_size=400) == sum(p.numel() for p in built.parameters())


def test_a_data_stage_job_asks_for_its_curation(tmp_path):
    """Local curation: the job runs `workers` tasks at once within `cluster.time`. datatrove's Slurm
    executor: the job waits on one CPU for the chain of stages, each in waves of `workers` tasks."""
    from octothinker.launch import _data_job, emit_slurm
    from octothinker.study.recipe import load_study

    path = Path(__file__).resolve().parents[1] / "octothinker" / "recipes" / "octothinker-1b.yaml"
    recipe = load_study(path, [f"out={tmp_path}"])
    stable = recipe.data["stable"]  # 5 sources on Slurm, 256 tasks at once, 2 h each at most
    assert _data_job(stable) == (1, 5 * (1 + 1 + 1 + 1) * 2)
    fewer = stable.model_copy(update={"workers": 100, "cluster": stable.cluster.model_copy(update={"time": "0-00:30:00"})})
    assert _data_job(fewer) == (1, 5 * (3 + 1 + 1 + 3) // 2)
    assert _data_job(stable.model_copy(update={"executor": "local", "workers": 16})) == (16, 2)
    folder = emit_slurm(recipe, str(path), [f"out={tmp_path}"])
    script = next(folder.glob("*-data.stable.sbatch")).read_text()
    assert "#SBATCH --cpus-per-task=1" in script and "#SBATCH --time=40:00:00" in script
    assert "--gpus-per-node" not in script and "--stage data.stable" in script


def test_a_moved_run_folder_keeps_its_report(study, tmp_path, monkeypatch):
    import shutil

    run, _, _ = study
    layout = json.loads((run / "manifest.json").read_text())["layout"]
    assert layout["subjects"][0]["rl"] == "rl-base"  # relative to the run folder, not to where it was started
    copy = tmp_path / "elsewhere" / "demo-copy"
    shutil.copytree(run, copy)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 0, result.output
    summary = (copy / "report" / "summary.md").read_text()
    assert "No RL evaluations" not in summary and "(a) RL from the short branch" in summary
    # the report names the prompts (the demo's RL template is a string: quoted, on one line)
    assert 'Prompts: RL: template "Question: {question}\\nAnswer:"; evaluation zero-shot: template "Question:' in summary
    assert (copy / "report" / "findings.json").read_text() != ""

    shutil.rmtree(copy / "rl-long")  # a stage folder lost: the fuller report stays
    before = (copy / "report" / "summary.md").read_text()
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 1 and "the report there holds more than this run now gives" in result.output
    assert (copy / "report" / "summary.md").read_text() == before

    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["stages"]["rl-short"]["status"] = "failed"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 1 and "not a finished run: rl-short (failed) not done" in result.output


def test_report_refuses_a_folder_that_holds_no_run(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 1 and "not a run folder" in result.output
    assert list(tmp_path.iterdir()) == []


def _world_only(tmp_path: Path, out: Path) -> Path:
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump({"name": "w", "out": str(out), "rl_from": [], "world": {
        "problems": 40, "test": 10, "web": 20, "generic": 20, "instruct": 10, "seeds": 10, "vocab_size": 300}}))
    return path


def test_run_refuses_a_folder_it_did_not_make_and_a_folder_in_use(tmp_path):
    from octothinker.runs.lock import folder_lock

    data = tmp_path / "corpus"
    data.mkdir()
    (data / "web.jsonl").write_text('{"text": "mine"}\n')
    result = runner.invoke(app, ["run", str(_world_only(tmp_path, data))])
    assert result.exit_code == 1 and "was not made by octo run (no manifest.json)" in result.output, result.output
    assert sorted(p.name for p in data.iterdir()) == ["web.jsonl"]

    recipe = _world_only(tmp_path, tmp_path / "run")
    with folder_lock(tmp_path / "run"):
        busy = runner.invoke(app, ["run", str(recipe)])
        stage = runner.invoke(app, ["run", str(recipe), "--stage", "world"])
    assert busy.exit_code == 1 and "in use by another octo process (pid" in busy.output
    assert stage.exit_code == 1 and "in use by another octo process" in stage.output


def test_ctrl_c_during_a_run_says_what_finished_and_how_to_resume(tmp_path, monkeypatch):
    recipe = _world_only(tmp_path, tmp_path / "run")

    def interrupted(job, target):
        raise KeyboardInterrupt

    monkeypatch.setattr("octothinker.study.build.Report.__call__", interrupted)
    result = runner.invoke(app, ["run", str(recipe)])
    assert result.exit_code == 130
    assert "[stop] interrupted during report; finished: world (1 of 2 stages). Run the same command again to " \
           "resume" in result.output and "Traceback" not in result.output
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["stages"]["report"]["status"] == "interrupted" and manifest["stages"]["world"]["status"] == "done"
