import json
import shutil
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from octothinker.cli import app
from octothinker.data.config import DataRecipe
from octothinker.data.pipeline import build
from octothinker.midtrain.config import MidtrainRecipe
from octothinker.midtrain.stages import decay_run, run_midtrain
from octothinker.study.layout import midtrain_folders
from octothinker.midtrain.trainer import TrainingError, causal_lm_loss, flops_per_token
from octothinker.models import create_model, load_model, load_tokenizer, save_model, train_tokenizer

runner = CliRunner()
OCTO = [sys.executable, "-m", "octothinker.cli"]


@pytest.fixture(scope="module")
def setup(world, tmp_path_factory):
    """Shards from the synthetic world and a micro base model over the world's tokenizer."""
    world_dir, _ = world
    root = tmp_path_factory.mktemp("midtrain")
    data = DataRecipe.model_validate({
        "out": str(root / "shards"), "tokenizer": str(world_dir / "tokenizer"),
        "sources": [{"name": "web", "path": str(world_dir / "web/hq.jsonl"), "weight": 0.9},
                    {"name": "qa", "path": str(world_dir / "qa/short_cot.jsonl"), "format": "qa", "weight": 0.1}],
        "dedup": {"near": False}, "mixture": {"tokens": 60000}})
    build(data)
    tok = load_tokenizer(world_dir / "tokenizer")
    save_model(create_model("micro", tok, seed=0), tok, root / "base")
    return root


def recipe(setup, out, **train):
    t = {"seq_len": 64, "global_batch_tokens": 1024, "micro_batch": 4, "checkpoint_every": 4, "keep_checkpoints": 2,
         "device": "cpu", **train}
    return {"out": str(out), "base": str(setup / "base"), "train": t,
            "stable": {"data": str(setup / "shards"), "tokens": 16384, "lr": 3e-3, "warmup_tokens": 2048},
            "decay": {"tokens": 8192, "final_lr": 3e-4, "shape": "cosine",
                      "branches": {"short": {"data": str(setup / "shards")}, "long": {"data": str(setup / "shards")}}}}


def write(path: Path, d: dict) -> Path:
    path.write_text(yaml.safe_dump(d))
    return path


def losses(stage_dir: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (stage_dir / "metrics.jsonl").read_text().splitlines()]


def test_loss_and_flops_maths():
    logits = torch.zeros(1, 2, 4)
    assert causal_lm_loss(logits, torch.tensor([[0, 3]])).item() == pytest.approx(math.log(4))
    tok = train_tokenizer(["a b c"] * 3, vocab_size=270)
    cfg = create_model("micro", tok).config
    h, layers, inter, v = 64, 2, 176, len(tok)
    per_layer = 2 * h * h + 2 * h * 32 + 3 * h * inter
    assert flops_per_token(cfg, 128) == 6 * (layers * per_layer + v * h) + 12 * layers * h * 128


def test_stable_then_branches_loss_falls_and_branches_start_from_stable(setup, tmp_path):
    spec = MidtrainRecipe.model_validate(recipe(setup, tmp_path / "run"))
    finals = run_midtrain(spec, *midtrain_folders(tmp_path / "run", spec.decay.branches))
    assert [f.parent.name for f in finals] == ["stable", "decay-short", "decay-long"]
    stable = losses(tmp_path / "run" / "stable")
    assert len(stable) == 16 and stable[-1] < stable[0] - 0.5
    rows = [json.loads(line) for line in (tmp_path / "run" / "decay-short" / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["lr"] == 3e-3 and rows[-1]["lr"] < 1e-3  # decay starts at the stable rate, no warmup
    assert {"loss", "lr", "grad_norm", "tokens_per_s", "tokens_seen", "mfu", "peak_memory_gb"} <= set(rows[0])
    # the branch starts from the stable weights: its first loss is the stable stage's level, not the base's
    assert abs(rows[0]["loss"] - stable[-1]) < 0.5
    for final in finals:
        assert (final / "model.safetensors").exists() and (final / "tokenizer.json").exists()
        load_model(final, device="cpu")
    ckpts = sorted(p.name for p in (tmp_path / "run" / "stable" / "checkpoints").iterdir())
    assert ckpts == ["final", "step_00000008", "step_00000012"]  # the last two kept, and the final one
    optim = torch.load(tmp_path / "run" / "stable" / "checkpoints" / "final" / "optimizer.pt", weights_only=True)
    branch_optim = torch.load(tmp_path / "run" / "decay-long" / "checkpoints" / "final" / "optimizer.pt",
                              weights_only=True)
    first = next(iter(optim["state"]))
    assert float(branch_optim["state"][first]["step"]) == float(optim["state"][first]["step"]) + 8


def test_resume_after_kill_gives_the_same_losses(setup, tmp_path):
    base = recipe(setup, tmp_path / "ref", checkpoint_every=2)
    base["stable"]["tokens"] = 1024 * 30
    base["train"]["global_batch_tokens"] = 2048
    base["decay"] = None
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    subprocess.run(OCTO + ["midtrain", str(write(tmp_path / "ref.yaml", base))], check=True, env=env,
                   capture_output=True)
    reference = losses(tmp_path / "ref" / "stable")

    killed = {**base, "out": str(tmp_path / "killed")}
    path = write(tmp_path / "killed.yaml", killed)
    proc = subprocess.Popen(OCTO + ["midtrain", str(path)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpts = tmp_path / "killed" / "stable" / "checkpoints"
    deadline = time.time() + 120
    while not (ckpts / "step_00000004").exists() and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (ckpts / "final").exists(), "the run finished before it could be killed"
    subprocess.run(OCTO + ["midtrain", str(path)], check=True, env=env, capture_output=True)
    assert losses(tmp_path / "killed" / "stable") == reference


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(setup, tmp_path):
    d = recipe(setup, tmp_path / "run", grad_clip=1e30)
    d["stable"]["lr"] = 1e6  # diverges within a few steps
    d["decay"] = None
    spec = MidtrainRecipe.model_validate(d)
    with pytest.raises(TrainingError, match="non-finite loss"):
        run_midtrain(spec, *midtrain_folders(tmp_path / "run", {}))
    assert not (tmp_path / "run" / "stable" / "checkpoints" / "final").exists()
    assert not (tmp_path / "run" / "stable" / "final").exists()


def test_bad_input(setup, tmp_path):
    d = recipe(setup, tmp_path / "run")
    d["train"]["learning_rate"] = 1
    result = runner.invoke(app, ["midtrain", str(write(tmp_path / "bad.yaml", d))])
    assert result.exit_code == 1 and "train.learning_rate: unknown key; known keys: " in result.output
    d = recipe(setup, tmp_path / "run")
    d["stable"]["tokens"] = "many"
    result = runner.invoke(app, ["midtrain", str(write(tmp_path / "bad.yaml", d))])
    assert result.exit_code == 1 and "stable.tokens" in result.output

    spec = MidtrainRecipe.model_validate(recipe(setup, tmp_path / "fresh"))
    with pytest.raises(TrainingError, match=r"looked for .*fresh/stable/checkpoints/final"):
        stable, decays = midtrain_folders(tmp_path / "fresh", spec.decay.branches)
        decay_run(spec, "short", stable, decays["short"], "decay-short")

    other = train_tokenizer(["something else entirely"] * 5, vocab_size=280)
    save_model(create_model("micro", other), other, tmp_path / "other-base")
    d = recipe(setup, tmp_path / "run2")
    d["base"] = str(tmp_path / "other-base")
    result = runner.invoke(app, ["midtrain", str(write(tmp_path / "tok.yaml", d)), "--stage", "stable"])
    assert result.exit_code == 1 and "another tokenizer" in result.output


def test_resume_refuses_other_settings_and_survives_a_torn_metrics_line(setup, tmp_path):
    d = recipe(setup, tmp_path / "run")
    d["decay"] = None
    d["stable"]["tokens"] = 1024 * 6  # 6 steps; a checkpoint at step 4
    path = write(tmp_path / "r.yaml", d)
    assert runner.invoke(app, ["midtrain", str(path)]).exit_code == 0
    metrics = tmp_path / "run" / "stable" / "metrics.jsonl"
    with metrics.open("a") as fh:  # a kill (or a full disk) in the middle of a row
        fh.write('{"step": 7, "loss": 1.')
    again = runner.invoke(app, ["midtrain", str(path)])
    assert again.exit_code == 0, again.output
    assert [json.loads(line)["step"] for line in metrics.read_text().splitlines()] == [1, 2, 3, 4, 5, 6]

    d["stable"]["lr"] = 1e-2
    changed = runner.invoke(app, ["midtrain", str(write(tmp_path / "r.yaml", d))])
    assert changed.exit_code == 1
    assert "written under other settings (schedule.peak_lr)" in changed.output and "--force-resume" in changed.output
    forced = runner.invoke(app, ["midtrain", str(path), "--force-resume"])
    assert forced.exit_code == 0, forced.output
    assert runner.invoke(app, ["midtrain", str(path), "--no-resume"]).exit_code == 0

    # the same shard folder, rebuilt from other data: not the run its checkpoint continues (issue 33)
    shards = tmp_path / "shards"
    shutil.copytree(setup / "shards", shards)
    d = {**d, "out": str(tmp_path / "own"), "stable": {**d["stable"], "data": str(shards), "lr": 3e-3}}
    assert runner.invoke(app, ["midtrain", str(write(tmp_path / "own.yaml", d))]).exit_code == 0
    index = json.loads((shards / "index.json").read_text())
    (shards / "index.json").write_text(json.dumps({**index, "documents": index["documents"] + 1}))
    rebuilt = runner.invoke(app, ["midtrain", str(write(tmp_path / "own.yaml", d))])
    assert rebuilt.exit_code == 1 and "other settings (inputs.data)" in rebuilt.output, rebuilt.output


def test_progress_lines_when_output_is_not_a_terminal(setup, tmp_path):
    d = recipe(setup, tmp_path / "run")
    d["decay"] = None
    d["stable"]["tokens"] = 1024 * 4
    d["train"]["logging"] = {"every": 2}
    result = subprocess.run(OCTO + ["midtrain", str(write(tmp_path / "p.yaml", d))], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("[stable]")]
    assert [line.split()[1] for line in lines] == ["2/4", "4/4"]
    assert all("loss" in line and "tok_s" in line and "eta" in line for line in lines)
    assert "Loading weights" not in result.stderr and "Warning" not in result.stderr
