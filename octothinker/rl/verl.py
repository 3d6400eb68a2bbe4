"""`octo rl --engine verl`: the same RL recipe on many GPUs through verl (the engine the study used).

Supported: verl 0.9.1 (`pip install "octothinker[verl]"` on the GPU machines). `make test` checks every
generated command against that version's own Hydra configuration, dataset class, reward call and
checkpoint tracker (tests/rl/test_verl.py).

    octo rl recipe.yaml --policy runs/demo/decay-long/final --engine verl --dry-run

Writes, under `<out>/verl/`: `train.parquet` and `val.parquet` in verl's RLHF dataset layout (the prompt
already rendered with our template; validation rows carry their benchmark as `data_source`, so verl
logs accuracy per benchmark), `reward.py` whose `compute_score` gives training rows the recipe's reward
and validation rows the task verdict (0/1, the one scoring path `octo eval` uses), a policy
folder whose tokenizer passes our prompt through unchanged when the base model has no chat template,
and `command.sh`. Then it runs `python -m verl.trainer.main_ppo` once per segment of the response-length
schedule: mainline verl has no step-keyed length, so each segment ends at the next key and the next one
auto-resumes from verl's checkpoint with the longer limit (the study's fork did this inside verl); verl's
model merger then writes the last checkpoint as an HF folder, `<out>/final`. In a study, `rl.engine: verl`
makes `octo run` take this path for every RL stage.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from octothinker.rl.config import LOG_RATIO_CLAMP, RLConfig, RLError
from octothinker.runs import atomic_write_json
from octothinker.tasks.benchmarks import get_benchmark, load_problems
from octothinker.tasks.templates import PromptTemplate

VERL_VERSION = "0.9.1"
ACCEPTED = "accepted answers"

# The prompt is already our template's text (but for `template: chat`): the chat template must add nothing.
PASSTHROUGH_CHAT_TEMPLATE = "{% for message in messages %}{{ message['content'] }}{% endfor %}"

_UNSUPPORTED = {"dynamic_sampling": "DAPO's dynamic sampling", "overlong_filter": "overlong filtering"}
AGENT_LOOPS = "agent_loops.yaml"  # the stop-string agent loop (rl/verl_agent.py), registered for verl
STOP_LOOP = "octothinker_stop"
LEDGER = "solved.log"          # training verdicts, `index correct` per line, for `remove_solved` (rl/verl_dataset.py)
REMOVAL_FILE = "removal.json"  # beside train.parquet: which file to filter, the ledger, group size, seed


def _rows(records: list[dict], split: str) -> list[dict]:
    return [{"data_source": r["source"], "prompt": [{"role": "user", "content": r["prompt"]}], "ability": "math",
             "reward_model": {"style": "rule", "ground_truth": encode_gold(r["answer"])},
             "extra_info": {"split": split, "index": i}} for i, r in enumerate(records)]


def encode_gold(gold) -> str:
    """verl's ground truth is one string column: several accepted answers travel as JSON, marked."""
    return json.dumps({ACCEPTED: list(gold)}) if isinstance(gold, tuple) else gold


def decode_gold(text: str):
    if text.startswith('{"' + ACCEPTED):
        return tuple(json.loads(text)[ACCEPTED])
    return text


def write_parquet(records: list[dict], path: Path, split: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(_rows(records, split)), path)


def with_stop(sampling_params: dict, stop: list[str]) -> dict:
    """A rollout request's sampling parameters with the recipe's stop strings; the text after a stop
    string is dropped, the string itself too (vLLM's `include_stop_str_in_output=False`, the fork's)."""
    if not stop:
        return sampling_params
    return {**sampling_params, "stop": list(stop), "include_stop_str_in_output": False}


def write_agent_loops(stop: tuple[str, ...], path: Path) -> None:
    """verl's agent-loop registry file: our stop-string loop, its stop strings as its argument."""
    entry = {"name": STOP_LOOP, "_target_": "octothinker.rl.verl_agent.StopStringsAgentLoop", "stop": list(stop)}
    path.write_text(json.dumps([entry], indent=1) + "\n")  # JSON is YAML: OmegaConf.load reads it


def write_reward_module(cfg: RLConfig, path: Path) -> None:
    tasks = {get_benchmark(spec).name: spec for spec in (cfg.eval.tasks() if cfg.eval else [])}
    ledger = str(path.parent / LEDGER) if cfg.remove_solved else None
    by_reward = cfg.eval is not None and cfg.eval.grader == "reward"
    path.write_text(f'''"""verl reward for octothinker (generated): training rows get the recipe's reward, validation
rows a verdict (0/1): the task's, graded exactly as `octo eval` grades, or with BY_REWARD the training
reward's, right when it is the full reward (as the release's fork validates). With `remove_solved`, each
training verdict is appended to LEDGER, which the dataset class reads to stop drawing solved prompts."""
from octothinker.rl.verl import decode_gold
from octothinker.tasks.benchmarks import get_benchmark
from octothinker.tasks.rewards import RewardConfig, reward
from octothinker.tasks.scoring import score as score_task

CONFIG = RewardConfig.model_validate_json({cfg.reward.model_dump_json()!r})
TASKS = {tasks!r}
LEDGER = {ledger!r}
BY_REWARD = {by_reward!r}


def compute_score(data_source, solution_str, ground_truth, extra_info=None):
    extra_info = extra_info or {{}}
    if data_source in TASKS and extra_info.get("split") == "test":
        if BY_REWARD:
            return float(reward([solution_str], [decode_gold(str(ground_truth))], [False], CONFIG)[0].reward >= 1.0)
        return float(score_task(get_benchmark(TASKS[data_source]), [solution_str], [decode_gold(str(ground_truth))])[0].correct)
    # verl passes no truncation flag, so the overlong penalty does not apply here.
    scored = reward([solution_str], [decode_gold(str(ground_truth))], [False], CONFIG)[0]
    if LEDGER is not None:
        # one short line in append mode: concurrent reward workers do not interleave within it
        with open(LEDGER, "a") as ledger:
            ledger.write(f"{{extra_info['index']}} {{int(scored.correct)}}\\n")
    return scored.reward
''')


def prepare_policy(policy: str, out: Path) -> str:
    """The policy folder verl loads; a copy of the tokenizer with a pass-through chat template if needed."""
    from octothinker.models import load_tokenizer, resolve_model_source

    source = Path(resolve_model_source(policy))
    tokenizer = load_tokenizer(source)
    if getattr(tokenizer, "chat_template", None) or not source.is_dir():
        return str(source)
    target = out / "policy"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for item in source.iterdir():
        if not item.name.startswith("tokenizer") and item.name != "special_tokens_map.json":
            (target / item.name).symlink_to(item.resolve())
    tokenizer.chat_template = PASSTHROUGH_CHAT_TEMPLATE
    tokenizer.save_pretrained(target)
    return str(target)


def segments(cfg: RLConfig) -> list[tuple[int, int]]:
    """(last step, max response tokens) per run of verl, from the length schedule."""
    keys = sorted(k for k in cfg.length_schedule if k < cfg.steps)
    if not keys or keys[0] != 0:
        keys = [0] + keys
    ends = keys[1:] + [cfg.steps]
    return [(end, cfg.response_length(start)) for start, end in zip(keys, ends)]


def epochs_for(cfg: RLConfig, steps: int, train_prompts: int) -> int:
    """Epochs over the training prompts that `steps` steps need: verl's loop also stops after
    `trainer.total_epochs` (30 by default), and its loader drops the last partial batch."""
    per_epoch = train_prompts // cfg.prompts_per_step
    if per_epoch == 0:
        raise RLError(f"{train_prompts} training prompts make no batch of prompts_per_step={cfg.prompts_per_step}")
    return -(-steps // per_epoch)


def overrides(cfg: RLConfig, policy_dir: str, work: Path, last_step: int, max_response: int,
              train_prompts: int) -> list[str]:
    """Our recipe as verl `main_ppo` overrides (verl 0.9.1's names for each setting)."""
    v = cfg.verl
    return [
        "algorithm.adv_estimator=grpo",
        f"algorithm.norm_adv_by_std_in_grpo={cfg.advantage == 'grpo'}",   # False: Dr. GRPO
        f"data.train_files={work / 'train.parquet'}",
        f"data.val_files={work / 'val.parquet'}",
        f"data.train_batch_size={cfg.prompts_per_step}",
        f"data.max_prompt_length={cfg.max_prompt_tokens}",
        f"data.max_response_length={max_response}",
        # seeded, so that each length segment restores the same prompt order from verl's loader state
        f"data.seed={cfg.seed}",
        f"actor_rollout_ref.model.path={policy_dir}",
        f"actor_rollout_ref.actor.optim.lr={cfg.lr}",
        f"actor_rollout_ref.actor.optim.weight_decay={cfg.weight_decay}",
        f"actor_rollout_ref.actor.grad_clip={cfg.grad_clip}",
        f"actor_rollout_ref.actor.ppo_mini_batch_size={cfg.mini_batch}",
        f"actor_rollout_ref.actor.ppo_epochs={cfg.epochs}",
        f"actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu={cfg.micro_batch}",
        f"actor_rollout_ref.actor.clip_ratio_low={cfg.clip_low}",
        f"actor_rollout_ref.actor.clip_ratio_high={cfg.clip_high}",
        f"actor_rollout_ref.actor.clip_ratio_c={cfg.clip_ratio_c}",
        f"actor_rollout_ref.actor.loss_agg_mode={cfg.aggregation}",
        # Dr. GRPO's constant: our local trainer divides token sums by the step's maximum response length.
        *([f"actor_rollout_ref.actor.loss_scale_factor={max_response}"]
          if cfg.aggregation == "seq-mean-token-sum-norm" else []),
        "actor_rollout_ref.actor.use_kl_loss=True",                      # the study: KL loss on, coefficient 0
        f"actor_rollout_ref.actor.kl_loss_coef={cfg.kl_coef}",
        "actor_rollout_ref.actor.kl_loss_type=low_var_kl",              # verl's name for the k3 estimator
        "actor_rollout_ref.actor.entropy_coeff=0",
        "actor_rollout_ref.rollout.name=vllm",
        f"actor_rollout_ref.rollout.n={cfg.group_size}",
        f"actor_rollout_ref.rollout.temperature={cfg.temperature}",
        f"actor_rollout_ref.rollout.top_p={cfg.top_p}",
        f"actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu={cfg.micro_batch}",
        f"actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu={cfg.micro_batch}",
        *_stop_kwargs(cfg, work),
        f"reward.custom_reward_function.path={work / 'reward.py'}",
        "reward.custom_reward_function.name=compute_score",
        f"trainer.total_training_steps={last_step}",
        f"trainer.total_epochs={epochs_for(cfg, last_step, train_prompts)}",
        f"trainer.test_freq={cfg.eval.every if cfg.eval else -1}",
        *_val_kwargs(cfg),
        f"trainer.save_freq={cfg.checkpoint_every}",
        "trainer.resume_mode=auto",
        f"trainer.default_local_dir={work / 'checkpoints'}",
        f"trainer.n_gpus_per_node={v.gpus_per_node}",
        f"trainer.nnodes={v.nodes}",
        "trainer.project_name=octothinker",
        f"trainer.experiment_name={Path(cfg.out).name}",
        "trainer.logger=[console]",
        *_removal_kwargs(cfg),
        *v.extra_overrides,
    ]


def _stop_kwargs(cfg: RLConfig, work: Path) -> list[str]:
    """The rollout's stop strings (the local engine's: `rl.stop`, else the template's), through our agent
    loop (verl_agent.py): verl has no setting for them."""
    if not cfg.rollout_stop():
        return []
    return [f"actor_rollout_ref.rollout.agent.agent_loop_config_path={work / AGENT_LOOPS}",
            f"actor_rollout_ref.rollout.agent.default_agent_loop={STOP_LOOP}"]


def _removal_kwargs(cfg: RLConfig) -> list[str]:
    """`remove_solved` through verl's custom dataset class; read in the main process, so that each draw
    sees the ledger as the last step left it (loader workers would read it batches ahead)."""
    if not cfg.remove_solved:
        return []
    return [f"data.custom_cls.path={Path(__file__).with_name('verl_dataset.py')}", "data.custom_cls.name=SolvedPromptsRemoved",
            "data.dataloader_num_workers=0"]


def _val_kwargs(cfg: RLConfig) -> list[str]:
    """Validation decoding: greedy, or `samples` answers per problem at `temperature`."""
    if cfg.eval is None or cfg.eval.temperature == 0:
        return ["actor_rollout_ref.rollout.val_kwargs.do_sample=False", "actor_rollout_ref.rollout.val_kwargs.n=1"]
    return ["actor_rollout_ref.rollout.val_kwargs.do_sample=True",
            f"actor_rollout_ref.rollout.val_kwargs.temperature={cfg.eval.temperature}",
            f"actor_rollout_ref.rollout.val_kwargs.n={cfg.eval.samples}"]


def _val_records(cfg: RLConfig, template) -> list[dict]:
    if cfg.eval is None:
        return []
    return [{"source": get_benchmark(spec).name, "prompt": template.render(p.question), "answer": p.gold}
            for spec in cfg.eval.tasks() for p in load_problems(spec, cfg.eval.data_dir, cfg.eval.limit)]


def prepare(cfg: RLConfig, policy: str) -> tuple[Path, list[list[str]]]:
    """Write every file verl needs; return the work folder and its commands: one per length segment, then
    the merge of the last checkpoint into `<out>/final`."""
    for field, what in _UNSUPPORTED.items():
        if getattr(cfg, field):
            raise RLError(f"{field}: {what} is not available through the verl launcher; turn it off or use --engine local")
    if cfg.log_ratio_clamp != LOG_RATIO_CLAMP:
        raise RLError(f"log_ratio_clamp: verl fixes it at {LOG_RATIO_CLAMP:g}; use --engine local for another value")
    if cfg.out is None:
        raise RLError("no output folder: set `out` in the recipe or pass --out")
    from octothinker.models import load_tokenizer
    from octothinker.rl.prompts import load_prompts
    from octothinker.tasks.grading import VerifyPool

    work = Path(cfg.out) / "verl"
    work.mkdir(parents=True, exist_ok=True)
    template = cfg.prompt_template()
    policy_dir = prepare_policy(policy, work)
    tokenizer = load_tokenizer(policy_dir)
    if template.chat:  # verl renders the user's turn with the model's own chat template
        template.bind(tokenizer, policy)
        template = PromptTemplate("chat (user turn)", template.text, ())
    pool = VerifyPool(workers=1)
    try:
        train_records, losses = load_prompts(cfg, template, tokenizer, pool)
    finally:
        pool.close()
    write_parquet([{"source": "train", **r} for r in train_records], work / "train.parquet", "train")
    val = _val_records(cfg, template)
    write_parquet(val or [{"source": "train", **r} for r in train_records[:64]], work / "val.parquet", "test")
    write_reward_module(cfg, work / "reward.py")
    if cfg.rollout_stop():
        write_agent_loops(cfg.rollout_stop(), work / AGENT_LOOPS)
    if cfg.remove_solved:
        # a run that starts over (no checkpoint of verl's to resume) starts with every prompt in play
        if not (work / "checkpoints" / "latest_checkpointed_iteration.txt").exists():
            (work / LEDGER).unlink(missing_ok=True)
        (work / REMOVAL_FILE).write_text(json.dumps({"train_file": "train.parquet", "ledger": str(work / LEDGER),
                                                        "group_size": cfg.group_size, "seed": cfg.seed}))
    commands = [[sys.executable, "-m", "verl.trainer.main_ppo",
                 *overrides(cfg, policy_dir, work, end, length, len(train_records))]
                for end, length in segments(cfg)]
    # the last checkpoint's FSDP shards as an HF folder, <out>/final, where `octo eval` and a study read it
    commands.append([sys.executable, "-m", "verl.model_merger", "merge", "--backend", "fsdp",
                     "--local_dir", str(work / "checkpoints" / f"global_step_{cfg.steps}" / "actor"),
                     "--target_dir", str(Path(cfg.out) / "final")])
    (work / "command.sh").write_text("#!/usr/bin/env bash\nset -e\n" + "".join(
        " ".join(shlex.quote(c) for c in cmd) + "\n" for cmd in commands))
    (work / "prompts.json").write_text(json.dumps({"train": len(train_records), "val": len(val)}))
    atomic_write_json(Path(cfg.out) / "summary.json", {"losses": {"prompts": losses.record()}})
    return work, commands


def launch(cfg: RLConfig, policy: str, dry_run: bool = False) -> Path:
    """Write verl's files, then run each length segment and the merge into `<out>/final`."""
    work, commands = prepare(cfg, policy)
    print(f"verl files in {work}; commands in {work / 'command.sh'}")
    if dry_run:
        print((work / "command.sh").read_text())
        return work
    try:
        import verl
    except ImportError:
        raise RLError(f'verl is not installed: pip install "octothinker[verl]" (verl {VERL_VERSION}, on the GPU '
                      "machines), or use --dry-run") from None
    if cfg.verl.nodes > 1 and not os.environ.get("RAY_ADDRESS"):
        raise RLError(f"verl.nodes={cfg.verl.nodes}: verl runs across nodes on a Ray cluster; start one over the "
                      "allocation (`ray start` on each node) and set RAY_ADDRESS, as verl's multi-node guide shows")
    if verl.__version__ != VERL_VERSION:
        print(f"warning: verl {verl.__version__} is installed; these commands are checked against {VERL_VERSION}")
    for cmd in commands:
        subprocess.run(cmd, check=True)
    return work
