"""Mid-training throughput: our trainer against Hugging Face `Trainer` (warmup_stable_decay schedule) on
the same model, the same packed shards and the same global batch, in one run.

    .venv/bin/python bench/midtrain_throughput.py --size tiny --steps 30

Data: a synthetic math world's web + QA mixture, packed by `octo data build`. Both sides start from the
same randomly initialised weights; tokens/s is measured over steps 2..N (the first step pays one-off
costs on both sides). Prints tokens/s for each, the ratio, and the final losses as a sanity check.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch


def prepare(tmp: Path, size: str) -> tuple[Path, Path]:
    from octothinker.data.config import DataRecipe
    from octothinker.data.pipeline import build
    from octothinker.data.synthetic import WorldSize, generate_world
    from octothinker.models import create_model, load_tokenizer, save_model

    generate_world(tmp / "world", WorldSize(problems=2000, test=100, web=1000, generic=200, instruct=100, seeds=100))
    build(DataRecipe.model_validate({
        "out": str(tmp / "shards"), "tokenizer": str(tmp / "world" / "tokenizer"),
        "sources": [{"name": "web", "path": str(tmp / "world/web/hq.jsonl"), "weight": 0.9},
                    {"name": "qa", "path": str(tmp / "world/qa/short_cot.jsonl"), "format": "qa", "weight": 0.1}],
        "dedup": {"near": False}, "mixture": {"tokens": 400_000}}))
    tok = load_tokenizer(tmp / "world" / "tokenizer")
    save_model(create_model(size, tok, seed=0), tok, tmp / "base")
    return tmp / "shards", tmp / "base"


def run_ours(shards: Path, base: Path, out: Path, args) -> dict:
    from octothinker.midtrain.schedule import Schedule
    from octothinker.midtrain.config import StageRun, TrainConfig
    from octothinker.midtrain.trainer import train_stage

    cfg = TrainConfig(seq_len=args.seq_len, global_batch_tokens=args.batch_seqs * args.seq_len,
                      micro_batch=args.micro_batch, checkpoint_every=10**9, device="cpu",
                      dtype="bf16" if args.bf16 else "fp32", compile=args.compile)
    warmup = args.steps // 10
    decay = args.steps // 5
    run = StageRun(name="ours", data=str(shards), init=str(base), tokens=args.steps * cfg.global_batch_tokens, out=str(out),
                   train=cfg, schedule=Schedule(peak_lr=1e-3, warmup_steps=warmup, stable_steps=args.steps - warmup - decay,
                                                decay_steps=decay, final_lr=0.0, shape="cosine"))
    train_stage(run, resume=False)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    seconds = sum(r["step_seconds"] for r in rows[1:])
    return {"tokens_per_s": cfg.global_batch_tokens * (len(rows) - 1) / seconds, "final_loss": rows[-1]["loss"]}


def run_hf(shards: Path, base: Path, out: Path, args) -> dict:
    from transformers import AutoModelForCausalLM, Trainer, TrainerCallback, TrainingArguments

    from octothinker.data.shards import ShardReader

    reader = ShardReader(shards, args.seq_len)
    total = args.steps * args.batch_seqs

    class Sequences(torch.utils.data.Dataset):
        """The same sequences, in the same order, as our reader yields (inputs and next-token labels)."""

        def __len__(self):
            return total

        def __getitem__(self, i):
            seq = torch.from_numpy(reader.sequence(i % reader.num_sequences).astype("int64"))
            return {"input_ids": seq[:-1], "labels": seq[:-1]}

    class Clock(TrainerCallback):
        def __init__(self):
            self.times, self.losses = [], []

        def on_step_end(self, *a, **k):
            self.times.append(time.perf_counter())

        def on_log(self, _args, _state, _control, logs=None, **k):
            if logs and "loss" in logs:
                self.losses.append(logs["loss"])

    warmup = args.steps // 10
    decay = args.steps // 5
    targs = TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=args.micro_batch,
        gradient_accumulation_steps=args.batch_seqs // args.micro_batch, max_steps=args.steps, learning_rate=1e-3,
        lr_scheduler_type="warmup_stable_decay", warmup_steps=warmup,
        lr_scheduler_kwargs={"num_stable_steps": args.steps - warmup - decay, "num_decay_steps": decay},
        weight_decay=0.1, adam_beta1=0.9, adam_beta2=0.95, max_grad_norm=1.0, logging_steps=1, save_strategy="no",
        report_to=[], use_cpu=True, dataloader_num_workers=0, disable_tqdm=True, seed=0, bf16=args.bf16)
    clock = Clock()
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    Trainer(model=model, args=targs, train_dataset=Sequences(), callbacks=[clock]).train()
    seconds = clock.times[-1] - clock.times[0]
    return {"tokens_per_s": args.batch_seqs * args.seq_len * (len(clock.times) - 1) / seconds,
            "final_loss": clock.losses[-1] if clock.losses else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--batch-seqs", type=int, default=16)
    parser.add_argument("--micro-batch", type=int, default=8)
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast on both sides (CPUs with bf16 units)")
    parser.add_argument("--compile", action="store_true",
                        help="our side with train.compile (its compilation falls in step 1, outside the average)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shards, base = prepare(tmp, args.size)
        print(f"model {args.size} | seq {args.seq_len} | global batch {args.batch_seqs} sequences "
              f"({args.batch_seqs * args.seq_len} tokens), micro-batch {args.micro_batch} | {args.steps} steps | "
              f"{'bf16 autocast' if args.bf16 else 'fp32'}{' | ours compiled' if args.compile else ''} | "
              f"torch threads {torch.get_num_threads()}")
        ours = run_ours(shards, base, tmp / "ours", args)
        hf = run_hf(shards, base, tmp / "hf", args)
    print(f"octothinker trainer      {ours['tokens_per_s']:9.0f} tokens/s   final loss {ours['final_loss']:.3f}")
    print(f"HF Trainer (WSD)         {hf['tokens_per_s']:9.0f} tokens/s   final loss {hf['final_loss']:.3f}")
    print(f"ratio: {ours['tokens_per_s'] / hf['tokens_per_s']:.2f}x")


if __name__ == "__main__":
    main()
