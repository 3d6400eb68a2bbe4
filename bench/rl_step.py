"""One GRPO step: our RL loop against TRL's `GRPOTrainer`, same model, prompts, group size, response
length and batch, in one run.

    .venv/bin/python bench/rl_step.py --steps 4           # needs `pip install trl`

Model: a tiny Llama over the synthetic world's tokenizer (random weights: both sides generate the full
response length; every reward is -1, so every advantage is 0), or `--policy` a trained one (the demo's
decay-short model gets about 9% right, so updates carry signal). Batch: 8 prompts x 8 rollouts = 64 completions of up to 64
tokens, one optimizer update per step, KL coefficient 0, temperature 1. Prints seconds per step (steps
2..N, the first pays one-off costs on both sides), the ratio, and our rollout tokens/s.

`--busy` runs one other CPU-bound process beside both sides for the whole comparison: the shared
2-core machine a user has while something else runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing as mp
import tempfile
import time
from pathlib import Path

import torch

# ours at the top: a renamed function of ours fails here, loudly, not as "TRL: not installed"
from octothinker.tasks.rewards import RewardConfig, reward as our_reward
from octothinker.tasks.templates import get_template


def prepare(tmp: Path, size: str) -> tuple[Path, Path]:
    from octothinker.data.synthetic import WorldSize, generate_world
    from octothinker.models import create_model, load_tokenizer, save_model

    generate_world(tmp / "world", WorldSize(problems=500, test=50, web=50, generic=50, instruct=20, seeds=20))
    tok = load_tokenizer(tmp / "world" / "tokenizer")
    save_model(create_model(size, tok, seed=0), tok, tmp / "policy")
    return tmp / "world" / "problems" / "train.jsonl", tmp / "policy"


def run_ours(prompts: Path, policy: Path, out: Path, args) -> dict:
    from octothinker.rl.config import RLConfig
    from octothinker.rl.trainer import train

    cfg = RLConfig(out=str(out), prompts=str(prompts), template="simple", steps=args.steps, prompts_per_step=args.prompts,
                   group_size=args.group, mini_batch=args.prompts, micro_batch=args.group * args.prompts,
                   max_response_tokens=args.length, lr=1e-6, temperature=1.0, device="cpu", checkpoint_every=10**6)
    train(cfg, str(policy), resume=False)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return {"seconds_per_step": sum(r["step_seconds"] for r in rows[1:]) / (len(rows) - 1),
            "rollout_tokens_per_s": sum(r["rollout_tokens_per_s"] for r in rows[1:]) / (len(rows) - 1),
            "mean_length": sum(r["response_length"] for r in rows) / len(rows)}


def run_trl(prompts: Path, policy: Path, out: Path, args) -> dict:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    template = get_template("simple")
    rows = [json.loads(line) for line in prompts.read_text().splitlines()]
    data = Dataset.from_list([{"prompt": template.render(r["question"]), "answer": r["answer"]} for r in rows])

    def reward(completions, answer, **_):
        return [s.reward for s in our_reward(completions, answer, [False] * len(completions), RewardConfig())]

    class Clock(TrainerCallback):
        times: list[float] = []

        def on_step_end(self, *a, **k):
            self.times.append(time.perf_counter())

    clock = Clock()
    config = GRPOConfig(
        output_dir=str(out), per_device_train_batch_size=args.prompts * args.group, num_generations=args.group,
        max_completion_length=args.length, learning_rate=1e-6, beta=0.0, temperature=1.0, top_p=1.0,
        max_steps=args.steps, logging_steps=1, save_strategy="no", report_to=[], use_cpu=True, seed=0,
        disable_tqdm=True, use_vllm=False,
        # TRL 1.16 turns activation checkpointing on by default (and with it the KV cache off): 46 s a step
        # here. We checkpoint nothing, so TRL does not either, and generates with its KV cache, in fp32 as we do.
        gradient_checkpointing=False, activation_checkpointing=False, use_cache=True, bf16=False)
    tokenizer = AutoTokenizer.from_pretrained(policy)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(policy, dtype=torch.float32)
    trainer = GRPOTrainer(model=model, reward_funcs=reward, args=config, train_dataset=data,
                          processing_class=tokenizer, callbacks=[clock])
    start = time.perf_counter()
    trainer.train()
    times = [start] + clock.times
    return {"seconds_per_step": (times[-1] - times[1]) / (len(times) - 2)}


def _spin() -> None:
    while True:  # one busy core's worth of someone else's work
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--group", type=int, default=8)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--policy", help="a trained model (default: a random tiny one; its rewards are all -1, "
                                         "so every advantage is 0)")
    parser.add_argument("--prompts-file", help="JSONL of question/answer (with --policy)")
    parser.add_argument("--busy", action="store_true", help="one other CPU-bound process runs beside both sides")
    args = parser.parse_args()
    busy = mp.get_context("spawn").Process(target=_spin, daemon=True) if args.busy else None
    if busy is not None:
        busy.start()
    try:
        compare(args)
    finally:
        if busy is not None:
            busy.terminate()


def compare(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        prompts, policy = prepare(tmp, args.size)
        if args.policy:
            policy, prompts = Path(args.policy), Path(args.prompts_file or prompts)
        print(f"model {args.policy or args.size} | {args.prompts} prompts x {args.group} rollouts, {args.length} new tokens | "
              f"{args.steps} steps | torch threads {torch.get_num_threads()}"
              f"{' | one other busy process' if args.busy else ''}")
        ours = run_ours(prompts, policy, tmp / "ours", args)
        print(f"octothinker GRPO step   {ours['seconds_per_step']:7.2f} s/step   rollout "
              f"{ours['rollout_tokens_per_s']:.0f} tokens/s   mean response {ours['mean_length']:.0f} tokens")
        if importlib.util.find_spec("trl") is None:  # only the peer's absence is "not installed"
            print("TRL: not installed (pip install trl), not compared")
            return
        trl = run_trl(prompts, policy, tmp / "trl", args)
        print(f"TRL GRPOTrainer         {trl['seconds_per_step']:7.2f} s/step")
        print(f"speed-up: {trl['seconds_per_step'] / ours['seconds_per_step']:.2f}x")


if __name__ == "__main__":
    main()
