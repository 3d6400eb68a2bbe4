import importlib.util
import json

import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from octothinker.cli import app
from octothinker.errors import OctoError
from octothinker.models import load_tokenizer
from octothinker.rl.trainer import RLConfig
from octothinker.rl.verl import PASSTHROUGH_CHAT_TEMPLATE, overrides, prepare, segments

runner = CliRunner()


def cfg_dict(world_dir, out, **changes):
    d = {"out": str(out), "prompts": str(world_dir / "problems/train.jsonl"), "template": "complex", "steps": 200,
         "prompts_per_step": 256, "group_size": 16, "mini_batch": 16, "lr": 1e-6, "max_prompt_tokens": 400,
         "length_schedule": {0: 2048, 100: 4096, 160: 8192}, "clip_high": 0.28, "aggregation": "token-mean",
         "eval": {"every": 4, "benchmarks": [], "files": {"synth": str(world_dir / "problems/test.jsonl")}, "limit": 20},
         "verl": {"gpus_per_node": 8}}
    d.update(changes)
    return d


def test_length_schedule_becomes_segments(world, tmp_path):
    world_dir, _ = world
    cfg = RLConfig.model_validate(cfg_dict(world_dir, tmp_path))
    assert segments(cfg) == [(100, 2048), (160, 4096), (200, 8192)]
    assert segments(RLConfig.model_validate(cfg_dict(world_dir, tmp_path, length_schedule={}, max_response_tokens=4096))) \
        == [(200, 4096)]


def test_overrides_map_the_recipe(world, tmp_path):
    world_dir, _ = world
    cfg = RLConfig.model_validate(cfg_dict(world_dir, tmp_path, advantage="dr_grpo", aggregation="seq-mean-token-sum-norm"))
    o = dict(x.split("=", 1) for x in overrides(cfg, "/p", tmp_path, 100, 2048))
    assert o["algorithm.adv_estimator"] == "grpo" and o["algorithm.norm_adv_by_std_in_grpo"] == "False"
    assert o["actor_rollout_ref.rollout.n"] == "16" and o["data.train_batch_size"] == "256"
    assert o["actor_rollout_ref.actor.ppo_mini_batch_size"] == "16" and o["actor_rollout_ref.actor.optim.lr"] == "1e-06"
    assert o["actor_rollout_ref.actor.kl_loss_coef"] == "0.0" and o["actor_rollout_ref.actor.clip_ratio_high"] == "0.28"
    assert o["actor_rollout_ref.actor.loss_agg_mode"] == "seq-mean-token-sum-norm"
    assert o["data.max_response_length"] == "2048" and o["data.max_prompt_length"] == "400"
    assert o["trainer.total_training_steps"] == "100" and o["trainer.test_freq"] == "4"
    assert o["actor_rollout_ref.rollout.val_kwargs.do_sample"] == "False"


def test_sampled_validation_maps_to_val_kwargs(world, tmp_path):
    world_dir, _ = world
    d = cfg_dict(world_dir, tmp_path)
    d["eval"] = {**d["eval"], "temperature": 1.0, "samples": 4}
    o = dict(x.split("=", 1) for x in overrides(RLConfig.model_validate(d), "/p", tmp_path, 100, 2048))
    assert o["actor_rollout_ref.rollout.val_kwargs.do_sample"] == "True"
    assert o["actor_rollout_ref.rollout.val_kwargs.temperature"] == "1.0"
    assert o["actor_rollout_ref.rollout.val_kwargs.n"] == "4"


def test_dry_run_writes_verl_files(world, policy, tmp_path):
    world_dir, _ = world
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(cfg_dict(world_dir, tmp_path / "run")))
    result = runner.invoke(app, ["rl", str(tmp_path / "r.yaml"), "--policy", str(policy), "--engine", "verl", "--dry-run"])
    assert result.exit_code == 0, result.output
    work = tmp_path / "run" / "verl"
    train = pq.read_table(work / "train.parquet").to_pylist()
    assert len(train) == 600
    row = train[0]
    assert row["prompt"][0]["role"] == "user" and row["prompt"][0]["content"].startswith("A dialogue between")
    assert row["reward_model"] == {"style": "rule", "ground_truth": row["reward_model"]["ground_truth"]}
    val = pq.read_table(work / "val.parquet").to_pylist()
    assert {r["data_source"] for r in val} == {"synth"} and len(val) == 20
    # the reward module is importable and calls our grader
    spec = importlib.util.spec_from_file_location("reward", work / "reward.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.compute_score("train", "so \\boxed{12}", "12") == 1.0
    assert module.compute_score("train", "so \\boxed{13}", "12") == -1.0
    # the base tokenizer has no chat template: verl gets one that passes our prompt through
    tok = load_tokenizer(work / "policy")
    assert tok.chat_template == PASSTHROUGH_CHAT_TEMPLATE
    assert tok.apply_chat_template([{"role": "user", "content": "X {y}"}], tokenize=False) == "X {y}"
    commands = (work / "command.sh").read_text().splitlines()[2:]
    assert len(commands) == 3 and all("verl.trainer.main_ppo" in c for c in commands)
    assert json.loads((work / "prompts.json").read_text())["train"] == 600


def test_unsupported_options_are_refused(world, policy, tmp_path):
    world_dir, _ = world
    with pytest.raises(OctoError, match="dynamic_sampling"):
        prepare(RLConfig.model_validate(cfg_dict(world_dir, tmp_path, dynamic_sampling=True)), str(policy))


@pytest.mark.skipif(importlib.util.find_spec("verl") is None, reason="verl is not installed")
def test_verl_accepts_the_overrides(world, policy, tmp_path):
    from hydra import compose, initialize_config_module

    world_dir, _ = world
    cfg = RLConfig.model_validate(cfg_dict(world_dir, tmp_path))
    with initialize_config_module(config_module="verl.trainer.config", version_base=None):
        composed = compose(config_name="ppo_trainer", overrides=overrides(cfg, str(policy), tmp_path, 100, 2048))
    assert composed.actor_rollout_ref.rollout.n == 16


def test_settings_verl_cannot_express_are_refused(world, policy, tmp_path):
    world_dir, _ = world
    with pytest.raises(OctoError, match="log_ratio_clamp: verl fixes it at 20"):
        prepare(RLConfig.model_validate(cfg_dict(world_dir, tmp_path, log_ratio_clamp=5.0)), str(policy))
