"""The mid-training loop: one stage (stable, or one decay branch) from packed shards to an HF folder.

    octo midtrain recipe.yaml                          # stable, then every decay branch
    octo midtrain recipe.yaml --stage decay --branch long
    torchrun --nproc-per-node 8 -m octothinker.cli midtrain recipe.yaml     # FSDP2 across GPUs

`train_stage` reads top to bottom: set up -> resume or initialise -> for each step: learning rate,
micro-batches with gradient accumulation, clip, update, log, checkpoint -> export `final/`.
"""

from __future__ import annotations

import math
import resource
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from octothinker.data.shards import ShardReader
from octothinker.errors import OctoError
from octothinker.midtrain.config import PEAK_BF16_TFLOPS, StageRun, TrainConfig
from octothinker.midtrain.parallel import (Dist, barrier, full_state, init_distributed, load_full_state,
                                           max_across_ranks, mean_across_ranks, shard_model)
from octothinker.midtrain.schedule import lr_at
from octothinker.runs import atomic_write_json, checkpoint as ckpt, derive_seed, run_metadata
from octothinker.runs.files import ensure_writable
from octothinker.runs.loop import Loop


class TrainingError(OctoError):
    pass


def device_peak_tflops(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, value in PEAK_BF16_TFLOPS.items():
        if key in name:
            return value
    return None


def flops_per_token(config, seq_len: int) -> float:
    """Training FLOPs per token: 6 N (the blocks' matrices and the LM head, tied or not one matmul; forward
    and backward) + 12 L H T (attention scores)."""
    from octothinker.models import llama_parameters

    p = llama_parameters(config)
    return 6 * (p["blocks"] + p["vocab"]) + 12 * config.num_hidden_layers * config.hidden_size * seq_len


def causal_lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over every position (packed documents, EOS between them)."""
    return F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())


def forward_loss(model: torch.nn.Module, batch: torch.Tensor) -> torch.Tensor:
    """One micro-batch of packed sequences [B, T+1] -> loss. Compiled as one graph with `train.compile`,
    so that the head's logits, their fp32 upcast and the cross-entropy fuse instead of each being
    written out in full (at a 128k vocabulary those are the largest tensors of the step)."""
    return causal_lm_loss(model(input_ids=batch[:, :-1]).logits, batch[:, 1:])


def build_optimizer(model: torch.nn.Module, cfg: TrainConfig, lr: float) -> torch.optim.Optimizer:
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]  # norms and biases
    # fused: one kernel over all parameters (on this project's CPU, 6x faster than foreach per step).
    return torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=lr, betas=cfg.betas, eps=cfg.eps, fused=True)


def export_hf(model_state: dict, config, tokenizer, out: Path) -> None:
    """Write `final/` as a plain HF folder (rank 0, full weights)."""
    from transformers import AutoModelForCausalLM

    from octothinker.models import save_model

    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(model_state)
    save_model(model, tokenizer, out)


def train_stage(run: StageRun, resume: bool = True, force_resume: bool = False) -> Path:
    from octothinker.models import load_for_training

    cfg = run.train
    out = Path(run.out)
    d = init_distributed(cfg.device)
    if d.is_main:
        ensure_writable(out)
    torch.manual_seed(derive_seed(cfg.seed, "midtrain", run.name))
    loaded = load_for_training(run.init)
    model, tokenizer = loaded.model, loaded.tokenizer
    config = model.config
    # bf16 on CPU is opt-in: it is faster where the CPU has bf16 units (AVX512-BF16, AMX), slower elsewhere.
    bf16 = cfg.dtype == "bf16" or (cfg.dtype == "auto" and d.device.type == "cuda" and torch.cuda.is_bf16_supported())
    if cfg.activation_checkpointing:
        model.gradient_checkpointing_enable()
    model.to(d.device)
    model = shard_model(model, d, bf16)
    optimizer = build_optimizer(model, cfg, run.schedule.peak_lr)
    reader = ShardReader(run.data, cfg.seq_len, d.rank, d.world_size, tokenizer)

    seqs_per_step = cfg.global_batch_tokens // cfg.seq_len
    if cfg.global_batch_tokens % cfg.seq_len or seqs_per_step % (cfg.micro_batch * d.world_size):
        raise TrainingError(f"train.global_batch_tokens ({cfg.global_batch_tokens}) must be a multiple of "
                            f"seq_len x micro_batch x ranks ({cfg.seq_len} x {cfg.micro_batch} x {d.world_size})")
    accum = seqs_per_step // (cfg.micro_batch * d.world_size)
    steps = run.tokens // cfg.global_batch_tokens
    if steps < 1:
        raise TrainingError(f"{run.name}: {run.tokens} tokens are less than one global batch ({cfg.global_batch_tokens})")

    loop = Loop(out, run.name, steps, cfg.checkpoint_every, cfg.keep_checkpoints, cfg.logging, d.is_main)
    tokens_seen = 0

    def restore(latest: Path) -> int:  # this stage, resumed
        nonlocal tokens_seen
        model_state, optim_state, state = ckpt.load_checkpoint(latest) if d.is_main else ({}, {}, None)
        state = _broadcast_json(state, d)
        ckpt.check_resumable(latest, state, run.resume_settings(), force_resume)
        load_full_state(model, optimizer, model_state, optim_state, d)
        reader.load_state_dict(state["reader"])
        ckpt.restore_rng(latest)
        tokens_seen = state["tokens_seen"]
        return state["step"]

    start_step = loop.start(resume, restore)
    if start_step == 0 and run.init_checkpoint:  # a decay branch starts from stable's final checkpoint
        path = Path(run.init_checkpoint)
        if not (path / "state.json").is_file():
            raise TrainingError(f"{run.name}: starting checkpoint not found: looked for {path}")
        model_state, optim_state, _ = ckpt.load_checkpoint(path) if d.is_main else ({}, {}, None)
        load_full_state(model, optimizer, model_state, optim_state, d)
    step_loss = torch.compile(forward_loss, dynamic=False) if cfg.compile else forward_loss

    if d.is_main:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(out / "config.json", {"stage": run.model_dump(), **run_metadata(cfg.seed)})
    peak = cfg.peak_tflops or device_peak_tflops(d.device)
    fpt = flops_per_token(config, cfg.seq_len)
    model.train()

    def train_step(step: int) -> dict:
        nonlocal tokens_seen
        lr = lr_at(step, run.schedule)
        for group in optimizer.param_groups:
            group["lr"] = lr
        t0 = time.perf_counter()
        loss_sum = torch.zeros((), device=d.device)
        for _ in range(accum):
            batch = reader.next_batch(cfg.micro_batch).to(d.device, non_blocking=True)
            # One process: autocast to bf16. Under FSDP2 its mixed-precision policy casts parameters.
            with torch.autocast(d.device.type, dtype=torch.bfloat16, enabled=bf16 and not d.enabled):
                loss = step_loss(model, batch)
            (loss / accum).backward()
            loss_sum += loss.detach()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        grad_norm = float(grad_norm.full_tensor() if hasattr(grad_norm, "full_tensor") else grad_norm)
        loss_value = mean_across_ranks(loss_sum.item() / accum, d)
        if not (math.isfinite(loss_value) and math.isfinite(grad_norm)):
            optimizer.zero_grad(set_to_none=True)
            last = ckpt.latest_checkpoint(loop.checkpoints)
            raise TrainingError(f"{run.name}: non-finite loss ({loss_value}) or gradient norm ({grad_norm}) at step "
                                f"{step}; stopped before the update. Last good checkpoint: {last or 'none'}")
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if d.device.type == "cuda":
            torch.cuda.synchronize()
        seconds = max_across_ranks(time.perf_counter() - t0, d)
        tokens_seen += cfg.global_batch_tokens
        tps = cfg.global_batch_tokens / seconds
        return {"step": step + 1, "loss": loss_value, "lr": lr, "grad_norm": grad_norm, "tokens_seen": tokens_seen,
                "tokens_per_s": tps, "step_seconds": seconds,
                "mfu": tps * fpt / (peak * 1e12 * d.world_size) if peak else None,
                "peak_memory_gb": (torch.cuda.max_memory_allocated(d.device) if d.device.type == "cuda"
                                   else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024) / 2**30}

    def save(tag: str, step: int) -> dict:
        return _save(loop.checkpoints, tag, model, optimizer, d, step, tokens_seen, reader, run)

    loop.run(start_step, train_step, save, lambda row: {"tokens": cfg.global_batch_tokens,
                                                        "loss": round(row["loss"], 4), "lr": f"{row['lr']:.2e}"})
    model_state = save("final", steps)  # a decay branch starts from stable's
    if d.is_main:
        export_hf(model_state, config, tokenizer, out / "final")
    barrier(d)
    return out / "final"


def _save(root: Path, name: str, model, optimizer, d: Dist, step: int, tokens_seen: int, reader, run: StageRun) -> dict:
    model_state, optim_state = full_state(model, optimizer, d)
    if d.is_main:
        ckpt.save_checkpoint(root, name, model_state, optim_state, {
            "step": step, "tokens_seen": tokens_seen, "reader": reader.state_dict(), "stage": run.name,
            "settings": run.resume_settings()})
    barrier(d)
    return model_state


def _broadcast_json(obj, d: Dist):
    if not d.enabled:
        return obj
    import torch.distributed as dist

    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
