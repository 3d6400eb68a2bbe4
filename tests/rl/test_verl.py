import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch
import yaml
from safetensors.torch import load_file
from typer.testing import CliRunner

from octothinker.cli import app
from octothinker.errors import OctoError
from octothinker.models import load_model, load_tokenizer
from octothinker.rl.config import RLConfig
from tests.rl.conftest import VERL_DIR
from octothinker.rl.verl import AGENT_LOOPS, PASSTHROUGH_CHAT_TEMPLATE, STOP_LOOP, overrides, prepare, segments
from octothinker.tasks.templates import get_template

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
    o = dict(x.split("=", 1) for x in overrides(cfg, "/p", tmp_path, 100, 2048, 600))
    assert o["algorithm.adv_estimator"] == "grpo" and o["algorithm.norm_adv_by_std_in_grpo"] == "False"
    assert o["actor_rollout_ref.rollout.n"] == "16" and o["data.train_batch_size"] == "256"
    assert o["actor_rollout_ref.actor.ppo_mini_batch_size"] == "16" and o["actor_rollout_ref.actor.optim.lr"] == "1e-06"
    assert o["actor_rollout_ref.actor.kl_loss_coef"] == "0.0" and o["actor_rollout_ref.actor.clip_ratio_high"] == "0.28"
    assert o["actor_rollout_ref.actor.loss_agg_mode"] == "seq-mean-token-sum-norm"
    assert o["data.max_response_length"] == "2048" and o["data.max_prompt_length"] == "400"
    assert o["trainer.total_training_steps"] == "100" and o["trainer.test_freq"] == "4"
    assert o["actor_rollout_ref.rollout.val_kwargs.do_sample"] == "False"
    # 600 prompts make 2 batches of 256 (verl drops the partial one): 100 steps need 50 epochs
    assert o["trainer.total_epochs"] == "50"


def test_sampled_validation_maps_to_val_kwargs(world, tmp_path):
    world_dir, _ = world
    d = cfg_dict(world_dir, tmp_path)
    d["eval"] = {**d["eval"], "temperature": 1.0, "samples": 4}
    o = dict(x.split("=", 1) for x in overrides(RLConfig.model_validate(d), "/p", tmp_path, 100, 2048, 600))
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
    assert len(commands) == 4 and all("verl.trainer.main_ppo" in c for c in commands[:3])
    assert "verl.model_merger merge --backend fsdp" in commands[3] and str(tmp_path / "run" / "final") in commands[3]
    assert json.loads((work / "prompts.json").read_text())["train"] == 600


def test_unsupported_options_are_refused(world, policy, tmp_path):
    world_dir, _ = world
    with pytest.raises(OctoError, match="dynamic_sampling"):
        prepare(RLConfig.model_validate(cfg_dict(world_dir, tmp_path, dynamic_sampling=True)), str(policy))


def test_settings_verl_cannot_express_are_refused(world, policy, tmp_path):
    world_dir, _ = world
    with pytest.raises(OctoError, match="log_ratio_clamp: verl fixes it at 20"):
        prepare(RLConfig.model_validate(cfg_dict(world_dir, tmp_path, log_ratio_clamp=5.0)), str(policy))


# --- against verl itself (the version `make install` puts in .verl) ---------------------------------

def _study_like(world_dir, out, **changes):
    """The study's RL settings (length schedule, clip-higher, sampled validation), on the demo world."""
    d = cfg_dict(world_dir, out, **changes)
    d["eval"] = {**d["eval"], "temperature": 1.0, "samples": 4}
    return RLConfig.model_validate(d)


def _compose(verl_tree, command: list[str]):
    from hydra import compose, initialize_config_dir

    assert command[1:3] == ["-m", "verl.trainer.main_ppo"]
    with initialize_config_dir(config_dir=str(verl_tree / "trainer" / "config"), version_base=None):
        return compose(config_name="ppo_trainer", overrides=command[3:])


@pytest.mark.parametrize("changes", [{}, {"advantage": "dr_grpo", "aggregation": "seq-mean-token-sum-norm"}])
def test_every_command_composes_against_verls_own_config(world, policy, tmp_path, verl_tree, changes):
    from hydra.errors import ConfigCompositionException

    world_dir, _ = world
    cfg = _study_like(world_dir, tmp_path / "run", **changes)
    work, commands = prepare(cfg, str(policy))
    for command, (end, length) in zip(commands[:-1], segments(cfg), strict=True):
        c = _compose(verl_tree, command)  # Hydra refuses any key verl's ppo_trainer.yaml does not declare
        assert c.data.max_response_length == length and c.trainer.total_training_steps == end
        assert c.actor_rollout_ref.rollout.n == 16 and c.data.train_batch_size == 256
        assert c.actor_rollout_ref.actor.clip_ratio_high == 0.28
        assert c.actor_rollout_ref.rollout.val_kwargs.n == 4
        assert c.reward.custom_reward_function.path == str(work / "reward.py")
        assert c.algorithm.norm_adv_by_std_in_grpo is (changes.get("advantage", "grpo") == "grpo")
    # the check can fail: a key verl does not have is refused
    with pytest.raises(ConfigCompositionException):
        _compose(verl_tree, commands[0] + ["actor_rollout_ref.actor.no_such_setting=1"])


def test_parquet_loads_through_verls_dataset_with_our_tokenizer(world, policy, tmp_path, verl_tree):
    from omegaconf import open_dict
    from verl.utils.dataset.rl_dataset import RLHFDataset

    world_dir, _ = world
    cfg = _study_like(world_dir, tmp_path / "run")
    work, commands = prepare(cfg, str(policy))
    data = _compose(verl_tree, commands[0]).data
    with open_dict(data):
        data.cache_dir = str(tmp_path / "verl-cache")
    tok = load_tokenizer(work / "policy")
    ours = pq.read_table(work / "train.parquet").to_pylist()
    dataset = RLHFDataset(data_files=[str(work / "train.parquet")], tokenizer=tok, config=data)
    assert len(dataset) == len(ours) == 600
    template = get_template(cfg.template)
    questions = [json.loads(line)["question"] for line in (world_dir / "problems/train.jsonl").read_text().splitlines()]
    for i in (0, 1, 599):
        item = dataset[i]
        # what verl's agent loop renders and tokenizes is our prompt, character for character
        rendered = tok.apply_chat_template(item["raw_prompt"], tokenize=False, add_generation_prompt=True)
        assert rendered == template.render(questions[i])
        assert item["reward_model"]["ground_truth"] == ours[i]["reward_model"]["ground_truth"]


def test_reward_module_scores_through_verls_call_as_the_local_trainer(world, policy, tmp_path, verl_tree):
    from verl.utils.import_utils import load_extern_object

    from octothinker.tasks.benchmarks import get_benchmark
    from octothinker.tasks.rewards import reward
    from octothinker.tasks.scoring import score as score_task

    world_dir, _ = world
    cfg = _study_like(world_dir, tmp_path / "run")
    work, commands = prepare(cfg, str(policy))
    c = _compose(verl_tree, commands[0])
    compute_score = load_extern_object(module_path=c.reward.custom_reward_function.path,
                                       object_name=c.reward.custom_reward_function.name)
    completions = ["so \\boxed{12}", "so \\boxed{13}", "no box: 12", "\\boxed{12} then \\boxed{7}", "\\boxed{12.0}",
                   "\\boxed{" * 50, "x" * 5000 + "\\boxed{12}"]
    for split, source in (("train", "train"), ("test", "synth")):
        rows = [r for r in pq.read_table(work / f"{'train' if split == 'train' else 'val'}.parquet").to_pylist()][:3]
        for row in rows:
            gold = row["reward_model"]["ground_truth"]
            texts = [t.replace("12", gold) for t in completions]
            # the keyword call verl 0.9.1's naive reward manager makes, with the extra_info it adds
            got = [compute_score(data_source=row["data_source"], solution_str=t, ground_truth=gold,
                                 extra_info={**row["extra_info"], "num_turns": None, "rollout_reward_scores": {}})
                   for t in texts]
            if split == "train":
                want = [s.reward for s in reward(texts, [gold] * len(texts), [False] * len(texts), cfg.reward)]
            else:
                want = [float(s.correct) for s in score_task(get_benchmark(cfg.eval.tasks()[0]), texts, [gold] * len(texts))]
            assert row["data_source"] == source and got == want
            assert got[0] == 1.0 and got[1] in (-1.0, 0.0)


def test_length_segments_resume_from_each_other_in_verl(world, policy, tmp_path, verl_tree):
    from verl.utils.checkpoint.checkpoint_manager import find_latest_ckpt_path, get_checkpoint_tracker_filename

    world_dir, _ = world
    cfg = _study_like(world_dir, tmp_path / "run")
    _, commands = prepare(cfg, str(policy))
    composed = [_compose(verl_tree, command) for command in commands[:-1]]
    batches_per_epoch = 600 // cfg.prompts_per_step  # verl's train loader drops the last partial batch
    for before, after in zip(composed, composed[1:]):
        t0, t1 = before.trainer, after.trainer
        assert t0.default_local_dir == t1.default_local_dir and t1.resume_mode == "auto"
        # verl saves at a segment's last step when save_freq > 0, so the next one finds that step ...
        assert t0.save_freq > 0 and t1.total_training_steps > t0.total_training_steps
        step_dir = Path(t0.default_local_dir) / f"global_step_{t0.total_training_steps}"
        step_dir.mkdir(parents=True, exist_ok=True)
        Path(get_checkpoint_tracker_filename(t0.default_local_dir)).write_text(str(t0.total_training_steps))
        found = find_latest_ckpt_path(t1.default_local_dir)
        assert int(found.split("global_step_")[-1]) == t0.total_training_steps
        # ... and restores the loader's position in the same seeded prompt order
        assert (before.data.seed, before.data.shuffle) == (after.data.seed, after.data.shuffle) == (cfg.seed, True)
        assert after.data.max_response_length > before.data.max_response_length
    for c in composed:  # verl's loop also ends after total_epochs: never before the segment's last step
        assert c.trainer.total_epochs * batches_per_epoch >= c.trainer.total_training_steps
    # the merge reads the checkpoint verl writes at the last segment's last step
    last = composed[-1].trainer
    merge = commands[-1]
    assert merge[1:5] == ["-m", "verl.model_merger", "merge", "--backend"]
    assert merge[merge.index("--local_dir") + 1] == str(Path(last.default_local_dir) / f"global_step_{last.total_training_steps}" / "actor")


@pytest.mark.parametrize("extra", [[], pytest.param(["actor_rollout_ref.actor.strategy=fsdp2"], marks=pytest.mark.slow)],
                         ids=["fsdp", "fsdp2"])
def test_verls_checkpoint_merges_into_the_model_octo_eval_loads(world, policy, tmp_path, verl_tree, extra):
    """The hand-back from verl: its actor's FSDP checkpoint (2 ranks, saved by verl's own checkpoint manager
    where the last segment's trainer saves it) goes through our merge command into `<out>/final`, which our
    loader reads as the policy's weights and tokenizer."""
    from omegaconf import OmegaConf

    world_dir, _ = world
    cfg = _study_like(world_dir, tmp_path / "run", verl={"gpus_per_node": 8, "extra_overrides": extra})
    _, commands = prepare(cfg, str(policy))
    actor_rollout = _compose(verl_tree, commands[-2]).actor_rollout_ref
    merge = commands[-1]
    entry = [str(Path(__file__).with_name("verl_entry.py")), str(verl_tree)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    checkpoint = json.dumps(OmegaConf.to_container(actor_rollout.actor.checkpoint, resolve=True))
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                    *entry, "save", actor_rollout.model.path, merge[merge.index("--local_dir") + 1],
                    actor_rollout.actor.strategy, checkpoint], check=True, env=env)
    assert merge[:3] == [sys.executable, "-m", "verl.model_merger"]
    subprocess.run([sys.executable, *entry, "module", *merge[2:]], check=True, env=env)

    final = load_model(Path(cfg.out) / "final")
    merged = final.model.state_dict()
    original = load_file(policy / "model.safetensors")
    assert set(original) <= set(merged)
    for name, weight in original.items():  # verl's merger writes bf16
        assert torch.equal(merged[name], weight.to(torch.bfloat16).to(merged[name].dtype)), name
    ours = load_tokenizer(policy)
    text = "Solve 12 + 30. \\boxed{42}"
    assert final.tokenizer(text)["input_ids"] == ours(text)["input_ids"]
    assert (final.tokenizer.eos_token, final.tokenizer.pad_token) == (ours.eos_token, ours.pad_token)


def test_the_pinned_extra_is_the_checked_version():
    from octothinker.rl.verl import VERL_VERSION

    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert f'verl = ["verl=={VERL_VERSION}"]' in pyproject


@pytest.mark.parametrize("name", ["octothinker-1b.yaml", "octothinker-3b.yaml"])
def test_packaged_study_recipes_compose_against_verls_own_config(name, tmp_path, verl_tree, release_copy):
    """The 1B and 3B recipes' RL, as `octo run` hands it to verl (their models and prompts are not here,
    so the overrides are made directly, for the study's 7,500 MATH training prompts): each of the
    release's settings, pinned in the composed configuration."""
    from octothinker.study.recipe import load_study

    recipe = Path(__file__).resolve().parents[2] / "octothinker" / "recipes" / name
    study = load_study(recipe, [f"release_dir={release_copy}"])
    cfg = study.rl_for("long").model_copy(update={"out": str(tmp_path / "rl-long")})  # as a study sets it
    assert cfg.engine == "verl"
    for end, length in segments(cfg):
        c = _compose(verl_tree, ["python", "-m", "verl.trainer.main_ppo",
                                 *overrides(cfg, "/policy", tmp_path, end, length, 7500)])
        assert c.data.max_response_length == length and c.trainer.n_gpus_per_node == cfg.verl.gpus_per_node
        assert c.data.custom_cls.name is None                 # the fork's easy-prompt filter removes nothing
        assert c.actor_rollout_ref.actor.optim.lr == 1e-6 and c.actor_rollout_ref.actor.optim.weight_decay == 0.01
        assert c.actor_rollout_ref.actor.grad_clip == 1.0 and c.actor_rollout_ref.actor.kl_loss_coef == 0
        assert c.data.max_prompt_length == 400 and c.actor_rollout_ref.rollout.val_kwargs.do_sample is False
        assert c.trainer.test_freq == 4 and c.trainer.total_training_steps == end
        # the fork's stop strings reach verl's rollout through our agent loop
        assert c.actor_rollout_ref.rollout.agent.default_agent_loop == STOP_LOOP
        assert c.actor_rollout_ref.rollout.agent.agent_loop_config_path == str(tmp_path / AGENT_LOOPS)
    assert segments(cfg)[-1][0] == study.rl_for("long").steps
    assert [e for e, _ in segments(study.rl_for("hybrid").model_copy(update={"out": "x"}))] == [study.rl_for("hybrid").steps]


def test_chat_template_prompts_are_the_user_turn_verl_renders_with_the_models_template(world, chat_policy, tmp_path,
                                                                                      verl_tree):
    from omegaconf import open_dict
    from verl.utils.dataset.rl_dataset import RLHFDataset

    world_dir, _ = world
    cfg = _study_like(world_dir, tmp_path / "run", template="chat")
    work, commands = prepare(cfg, str(chat_policy))
    data = _compose(verl_tree, commands[0]).data
    with open_dict(data):
        data.cache_dir = str(tmp_path / "verl-cache")
    tok = load_tokenizer(chat_policy)
    dataset = RLHFDataset(data_files=[str(work / "train.parquet")], tokenizer=tok, config=data)
    question = json.loads((world_dir / "problems/train.jsonl").read_text().splitlines()[0])["question"]
    rendered = tok.apply_chat_template(dataset[0]["raw_prompt"], tokenize=False, add_generation_prompt=True)
    # what verl renders is what the local engine and `octo eval --template chat` render
    assert rendered == get_template("chat").bind(tok).render(question)
    assert rendered.startswith("<|im_start|>user\n")


def test_solved_prompts_are_removed_through_verls_custom_dataset_class(world, policy, tmp_path, verl_tree):
    from omegaconf import open_dict
    from verl.utils.dataset.rl_dataset import get_dataset_class
    from verl.utils.import_utils import load_extern_object

    world_dir, _ = world
    cfg = _study_like(world_dir, tmp_path / "run", remove_solved=True, group_size=2)
    work, commands = prepare(cfg, str(policy))
    c = _compose(verl_tree, commands[0])  # the removal's settings are keys verl 0.9.1 declares
    assert c.data.dataloader_num_workers == 0
    with open_dict(c.data):
        c.data.cache_dir = str(tmp_path / "verl-cache")
    dataset_cls = get_dataset_class(c.data)  # verl's own loading of data.custom_cls
    tok = load_tokenizer(work / "policy")
    train = dataset_cls(data_files=[c.data.train_files], tokenizer=tok, config=c.data)
    val = dataset_cls(data_files=[c.data.val_files], tokenizer=tok, config=c.data)
    rows = pq.read_table(work / "train.parquet").to_pylist()
    compute_score = load_extern_object(module_path=c.reward.custom_reward_function.path,
                                       object_name=c.reward.custom_reward_function.name)

    def grade(i, right):
        row = rows[i]
        gold = row["reward_model"]["ground_truth"]
        compute_score(data_source=row["data_source"], solution_str=f"\\boxed{{{gold if right else 'x'}}}",
                      ground_truth=gold, extra_info={**row["extra_info"], "num_turns": None})

    drawn = lambda: {train[i]["extra_info"]["index"] for i in range(len(train))}  # noqa: E731
    assert drawn() == set(range(600))
    grade(3, True), grade(3, True)       # prompt 3: its whole group right
    grade(4, True), grade(4, False)      # prompt 4: half right
    assert drawn() == set(range(600)) - {3} and len(train) == 600  # verl's epoch keeps its length
    grade(4, True), grade(4, True)       # prompt 4's next group: all right
    assert 4 not in drawn()
    assert {val[i]["extra_info"]["index"] for i in range(len(val))} == set(range(len(val)))  # validation untouched
    # a run that starts over starts with every prompt in play; a resumed one keeps what was removed
    (work / "checkpoints").mkdir()
    (work / "checkpoints" / "latest_checkpointed_iteration.txt").write_text("4")
    prepare(cfg, str(policy))
    assert (work / "solved.log").read_text().split("\n")[:2] == ["3 1", "3 1"]
    (work / "checkpoints" / "latest_checkpointed_iteration.txt").unlink()
    prepare(cfg, str(policy))
    assert not (work / "solved.log").exists()
    (work / "solved.log").write_text("".join(f"{i} 1\n{i} 1\n" for i in range(600)))
    with pytest.raises(OctoError, match="every prompt was removed as solved"):
        train[0]


def test_release_settings_reach_verls_files(world, policy, tmp_path, release_copy, verl_tree):
    """The release's template, prompt-length margin, stop strings and validation grading, as the files
    verl reads carry them."""
    from omegaconf import OmegaConf
    from octothinker.models import load_tokenizer as tokenizer_of

    world_dir, _ = world
    tok = tokenizer_of(str(policy))
    template = get_template("release:orz_base", str(release_copy))
    questions = [json.loads(line)["question"] for line in open(world_dir / "problems/train.jsonl")]
    lengths = sorted(len(tok(template.render(q))["input_ids"]) for q in questions)
    limit = lengths[len(lengths) // 2] + 20   # about half the prompts fit once the margin of 20 is kept
    d = cfg_dict(world_dir, tmp_path / "run", template="release:orz_base", release_dir=str(release_copy),
                 stop=["User:", "Assistant:", "Question:", "Answer:"], prompt_margin=20, max_prompt_tokens=limit,
                 weight_decay=0.01, prompts_per_step=16, mini_batch=16)
    d["eval"] = {**d["eval"], "grader": "reward"}
    cfg = RLConfig.model_validate(d)
    work, commands = prepare(cfg, str(policy))
    train = pq.read_table(work / "train.parquet").to_pylist()
    prompts = [r["prompt"][0]["content"] for r in train]
    assert all(p.startswith("Between User and Assistant, in our own words.") and p.endswith("\nAssistant:") for p in prompts)
    # the fork's count: the templated prompt, BOS included, must fit the limit less 20 tokens
    assert len(prompts) == sum(n <= limit - 20 for n in lengths) < len(questions)
    dropped = json.loads((tmp_path / "run" / "summary.json").read_text())["losses"]["prompts"]["dropped"]
    assert dropped["too_long"] == len(questions) - len(prompts)
    loops = OmegaConf.load(work / AGENT_LOOPS)
    assert loops[0].name == STOP_LOOP and list(loops[0].stop) == ["User:", "Assistant:", "Question:", "Answer:"]
    assert loops[0]._target_ == "octothinker.rl.verl_agent.StopStringsAgentLoop"
    c = _compose(verl_tree, commands[0])
    assert c.actor_rollout_ref.rollout.agent.default_agent_loop == STOP_LOOP
    assert c.actor_rollout_ref.actor.optim.weight_decay == 0.01
    # validation graded as the fork's _validate: the training reward, right only at +1 (no box: wrong)
    spec = importlib.util.spec_from_file_location("reward", work / "reward.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    test = {"split": "test", "index": 0}
    assert module.compute_score("synth", "so \\boxed{12}", "12", test) == 1.0
    assert module.compute_score("synth", "the answer is 12", "12", test) == 0.0


def test_the_stop_string_agent_loop_adds_stop_strings_to_verls_requests(monkeypatch):
    """Our agent loop over verl 0.9.1's single-turn loop (its interface read from verl's source, the
    class itself stubbed: verl's agent loops import its whole runtime)."""
    import ast
    import asyncio
    import sys
    import types

    from octothinker.rl.verl import with_stop

    source = (VERL_DIR / "verl" / "experimental" / "agent_loop" / "single_turn_agent_loop.py")
    if not source.is_file():
        pytest.skip(f"verl is not installed apart in {VERL_DIR}")
    tree = ast.parse(source.read_text())
    run = next(n for c in tree.body if isinstance(c, ast.ClassDef) and c.name == "SingleTurnAgentLoop"
               for n in c.body if isinstance(n, ast.AsyncFunctionDef) and n.name == "run")
    assert [a.arg for a in run.args.args][:2] == ["self", "sampling_params"] and run.args.kwarg is not None

    seen = {}

    class SingleTurnAgentLoop:
        def __init__(self, *args, **kwargs):
            pass

        async def run(self, sampling_params, **kwargs):
            seen.update(sampling_params)
            return "output"

    stub = types.ModuleType("verl.experimental.agent_loop.single_turn_agent_loop")
    stub.SingleTurnAgentLoop = SingleTurnAgentLoop
    monkeypatch.setitem(sys.modules, stub.__name__, stub)
    monkeypatch.delitem(sys.modules, "octothinker.rl.verl_agent", raising=False)
    from octothinker.rl.verl_agent import StopStringsAgentLoop

    loop = StopStringsAgentLoop(stop=["User:", "Answer:"])
    assert asyncio.run(loop.run({"temperature": 1.0}, raw_prompt=[])) == "output"
    assert seen == {"temperature": 1.0, "stop": ["User:", "Answer:"], "include_stop_str_in_output": False}
    assert with_stop({"top_p": 1.0}, []) == {"top_p": 1.0}
