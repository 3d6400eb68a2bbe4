"""Mid-training speed on one GPU: a Llama-3.2-1B-shaped model (random weights), bf16 autocast,
sequences of 4096, through our trainer (`train_stage`, the code `octo midtrain` runs), with and
without `torch.compile`, in one run.

    python bench/midtrain_gpu.py --size llama-3.2-1b --seq-len 4096 --micro-batch 2 --batch-seqs 16 --steps 12

Data: random token ids over the model's full vocabulary, packed into shards (the speed of a step does
not depend on what the tokens say). Tokens/s and MFU are averaged over the steps after `--skip`
(compilation and allocator warm-up happen in the first ones). MFU counts 6N + 12 L H T FLOPs per
token (`flops_per_token`) against the device's dense bf16 peak.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def prepare(tmp: Path, size: str, seq_len: int, sequences: int) -> tuple[Path, Path]:
    from octothinker.data.shards import ShardWriter, token_dtype, tokenizer_hash
    from octothinker.models import create_model, save_model, train_tokenizer

    tok = train_tokenizer(["a tokenizer only to name the shards' owner: 1 + 2 = 3"], vocab_size=300)
    model = create_model(size, None, seed=0)
    vocab = model.config.vocab_size
    save_model(model, tok, tmp / "base")
    writer = ShardWriter(tmp / "shards", token_dtype(vocab))
    rng = np.random.default_rng(0)
    for _ in range(sequences + 1):
        writer.add(rng.integers(0, vocab, size=seq_len, dtype=np.int64))
    writer.close({"tokenizer": {"name": "random", "hash": tokenizer_hash(tok), "vocab_size": vocab}})
    return tmp / "shards", tmp / "base"


def run(shards: Path, base: Path, out: Path, args, compile: bool) -> dict:
    from octothinker.midtrain.schedule import Schedule
    from octothinker.midtrain.config import StageRun, TrainConfig
    from octothinker.midtrain.trainer import train_stage

    cfg = TrainConfig(seq_len=args.seq_len, global_batch_tokens=args.batch_seqs * args.seq_len,
                      micro_batch=args.micro_batch, checkpoint_every=10**9, compile=compile,
                      activation_checkpointing=args.activation_checkpointing)
    stage = StageRun(name="compile" if compile else "eager", data=str(shards), init=str(base), out=str(out),
                     tokens=args.steps * cfg.global_batch_tokens, train=cfg,
                     schedule=Schedule(peak_lr=3e-4, warmup_steps=2, stable_steps=args.steps))
    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    train_stage(stage, resume=False)
    wall = time.perf_counter() - start
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    shutil.rmtree(out)  # its checkpoint holds 16 bytes a parameter: keep the disk for the next variant
    timed = rows[args.skip:]
    seconds = sum(r["step_seconds"] for r in timed)
    tps = cfg.global_batch_tokens * len(timed) / seconds
    return {"variant": stage.name, "tokens_per_s": tps, "mfu": float(np.mean([r["mfu"] or np.nan for r in timed])),
            "first_step_s": rows[0]["step_seconds"], "step_s": seconds / len(timed),
            "peak_memory_gb": rows[-1]["peak_memory_gb"], "losses": [r["loss"] for r in rows],
            "wall_s_with_save": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="llama-3.2-1b")
    parser.add_argument("--seq-len", type=int, default=4096)
    parser.add_argument("--micro-batch", type=int, default=2)
    parser.add_argument("--batch-seqs", type=int, default=16)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--skip", type=int, default=3, help="steps left out of the averages")
    parser.add_argument("--variants", default="eager,compile")
    parser.add_argument("--activation-checkpointing", action="store_true")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("this benchmark needs a CUDA device")
    print(f"{torch.cuda.get_device_name()} | torch {torch.__version__} | {args.size} | seq {args.seq_len} | "
          f"global batch {args.batch_seqs} x {args.seq_len} tokens, micro-batch {args.micro_batch} | {args.steps} steps")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shards, base = prepare(tmp, args.size, args.seq_len, args.steps * args.batch_seqs)
        for variant in args.variants.split(","):
            results.append(run(shards, base, tmp / variant, args, compile=variant == "compile"))
            r = results[-1]
            print(f"{r['variant']:8s} {r['tokens_per_s']:9.0f} tokens/s  MFU {100 * r['mfu']:5.1f}%  "
                  f"step {r['step_s']:.2f} s (first {r['first_step_s']:.1f} s)  peak {r['peak_memory_gb']:.1f} GiB  "
                  f"loss {r['losses'][0]:.3f} -> {r['losses'][-1]:.3f}", flush=True)
    if len(results) == 2:
        print(f"compile / eager: {results[1]['tokens_per_s'] / results[0]['tokens_per_s']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
