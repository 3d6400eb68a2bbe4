"""RL-Zero: GRPO from a base model on verifiable math rewards, no SFT.

    octo rl recipe.yaml --policy runs/demo/decay-long/final
    octo rl recipe.yaml --policy MODEL --engine verl --dry-run      # multi-GPU: verl (see verl.py)

`train` reads top to bottom: prompts -> for each step: sample prompts, roll out a group of G responses
each, reward, advantages within each group, one or more epochs of clipped policy-gradient updates over
mini-batches, log, evaluate every N steps, checkpoint. Outputs in `out`: metrics.jsonl (one row a step),
eval.jsonl (one row per benchmark per evaluation: the RL-dynamics curves, graded as `octo eval` grades),
samples/step_N.jsonl (optional), checkpoints/, final/ (an HF folder).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch

from octothinker.eval.generation import Completion, HFGenerator, SamplingParams
from octothinker.eval.records import HeldOutEval
from octothinker.eval.stats import canonical_answer
from octothinker.eval.task import EvalTask, generate_and_grade, scored_task
from octothinker.rl.config import EvalSpec, RLConfig, RLError
from octothinker.rl.grpo import aggregate, clipped_policy_loss, group_advantages, informative_groups, kl_k3, token_entropy
from octothinker.rl.prompts import PromptSampler, load_prompts
from octothinker.runs import atomic_write_json, checkpoint as ckpt, derive_seed, run_metadata
from octothinker.runs.files import ensure_writable
from octothinker.runs.loop import Loop
from octothinker.runs.metrics import MetricsWriter
from octothinker.tasks.benchmarks import get_benchmark, load_problems
from octothinker.tasks.grading import VerifyPool, accepted
from octothinker.tasks.rewards import RewardConfig, Scored, reward
from octothinker.tasks.scoring import Verdict
from octothinker.tasks.templates import PromptTemplate


@dataclass
class Group:
    """One prompt's rollouts: G responses, their scores and (once computed) their advantages."""
    index: int                     # the prompt's position in the prompt list
    prompt: dict
    responses: list[Completion]
    scored: list[Scored]
    advantages: list[float]

    @property
    def rewards(self) -> list[float]:
        return [s.reward for s in self.scored]


# --- log-probabilities --------------------------------------------------------------------------------

def pack(prompt_ids: list[list[int]], response_ids: list[list[int]], pad_id: int, device):
    """Right-padded [prompt + response] rows, attention mask and the mask of response tokens."""
    width = max(len(p) + len(r) for p, r in zip(prompt_ids, response_ids))
    ids = torch.full((len(prompt_ids), width), pad_id, dtype=torch.long)
    attention = torch.zeros_like(ids)
    response = torch.zeros_like(ids, dtype=torch.bool)
    for i, (p, r) in enumerate(zip(prompt_ids, response_ids)):
        ids[i, :len(p) + len(r)] = torch.tensor(p + r, dtype=torch.long)
        attention[i, :len(p) + len(r)] = 1
        response[i, len(p):len(p) + len(r)] = True
    return ids.to(device), attention.to(device), response.to(device)


def token_logprobs(model, ids, attention, with_entropy: bool = False):
    """log pi(token_t | tokens_<t) for t >= 1, shape [rows, width - 1] (and the entropy there)."""
    logits = model(input_ids=ids, attention_mask=attention).logits[:, :-1].float()
    logp = torch.log_softmax(logits, dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return (logp, token_entropy(logits)) if with_entropy else (logp, None)


# --- evaluation during training -------------------------------------------------------------------------

def periodic_eval(generator, template: PromptTemplate, spec: EvalSpec, max_tokens: int, seed: int = 0,
                  stop: tuple[str, ...] | None = None, reward_cfg: RewardConfig | None = None) -> list[HeldOutEval]:
    """Zero-shot accuracy and response lengths per benchmark (the study's dynamics curves): greedy, or the
    mean over `spec.samples` sampled answers per problem (and greedy too with `spec.greedy`). Graded by
    the one scoring path, as `octo eval` grades (`grader: task`), or as the release's fork validates
    (`grader: reward`: the training reward `reward_cfg`, right when it is the full reward). One row per
    benchmark and decoding, with the per-problem counts that intervals and baselines are computed from,
    and the mean length of right answers (the release's `test_length_correct`) beside all answers'."""
    decodings = [("sampled", spec.temperature, spec.samples)] if spec.temperature > 0 else [("greedy", 0.0, 1)]
    if spec.greedy and spec.temperature > 0:
        decodings.append(("greedy", 0.0, 1))
    rows = []
    for task_spec in spec.tasks():
        task = get_benchmark(task_spec)
        problems = load_problems(task_spec, spec.data_dir, spec.limit)
        prompts, stops = [template.render(p.question) for p in problems], template.stop if stop is None else stop
        if spec.grader == "reward":  # as the fork (and verl's reward call) sees it: no truncation flag
            held_out = EvalTask(task.name, problems, prompts, stops, lambda probs, texts, cut: [
                Verdict(s.extracted, s.reward >= 1.0)
                for s in reward(texts, [p.gold for p in probs], [False] * len(texts), reward_cfg or RewardConfig())])
        else:
            held_out = scored_task(task, problems, prompts, stops, spec.cutoff)
        for decoding, temperature, n in decodings:
            graded = generate_and_grade(held_out, generator, SamplingParams(
                max_new_tokens=max_tokens, stop=stops, n=n, temperature=temperature, seed=seed))
            comps, verdicts = [g.completion for g in graded], [g.verdict for g in graded]
            correct = [v.correct for v in verdicts]
            lengths = [c.tokens for c in comps]
            right = [t for t, ok in zip(lengths, correct) if ok]
            rows.append(HeldOutEval(
                benchmark=task.name, decoding=decoding, accuracy=100.0 * sum(correct) / len(correct),
                problems=len(problems), samples=n,
                correct_per_problem=[sum(correct[i * n:(i + 1) * n]) for i in range(len(problems))],
                tokens_per_problem=[sum(lengths[i * n:(i + 1) * n]) / n for i in range(len(problems))],
                mean_response_tokens=sum(lengths) / len(lengths),
                mean_correct_response_tokens=sum(right) / len(right) if right else None,
                truncation_rate=100.0 * sum(c.finish == "length" for c in comps) / len(comps),
                # what answering without reading the questions scores: see eval.stats.question_independent
                answer_counts=dict(Counter(canonical_answer(v.extracted) for v in verdicts if v.extracted is not None)),
                unanswered=sum(v.extracted is None for v in verdicts),
                gold_counts=dict(Counter(canonical_answer(accepted(p.gold)[0]) for p in problems))))
    return rows


def update_policy(model, optimizer, rows: list[tuple[list[int], list[int], float]], cfg: RLConfig, max_len: int,
                  pad_id: int, device, reference=None) -> dict:
    """Clipped policy-gradient updates: `epochs` passes, one optimizer step per mini-batch of
    `mini_batch * group_size` responses, gradients accumulated over micro-batches. The loss of each
    mini-batch is verl's for the same inputs (token counts and sequence counts of the whole mini-batch).

    rows: (prompt token ids, response token ids, advantage) for every response that trains.
    """
    model.train()
    stats = {"loss": 0.0, "clip_fraction": 0.0, "kl": 0.0, "entropy": 0.0, "grad_norm": 0.0, "updates": 0}
    per_mini = cfg.mini_batch * cfg.group_size

    def tensors(micro):
        return pack([rows[i][0] for i in micro], [rows[i][1] for i in micro], pad_id, device)

    def by_length(indices):
        # Micro-batches of similar lengths pad little (verl's dynamic batch size packs by tokens for the
        # same reason): the mini model's update takes half the time it took on rows in rollout order
        # (bench/rl_update.py). The loss is normalised by the whole mini-batch, so the order changes
        # only how sums are rounded.
        return sorted(indices, key=lambda i: len(rows[i][0]) + len(rows[i][1]))

    # pi_old is the rollout policy. With one on-policy update it is the current policy (ratio 1, no
    # extra pass); otherwise its log-probs are computed once, before the first update.
    off_policy = cfg.epochs > 1 or len(rows) > per_mini
    old_logps: dict[int, torch.Tensor] = {}
    needed = by_length(i for i in range(len(rows)) if rows[i][2] != 0.0 or reference is not None)
    if off_policy:
        with torch.no_grad():
            for lo in range(0, len(needed), cfg.micro_batch):
                micro = needed[lo:lo + cfg.micro_batch]
                ids, attention, _ = tensors(micro)
                logp, _ = token_logprobs(model, ids, attention)
                lengths = attention.sum(dim=1) - 1
                old_logps.update({i: logp[r, :lengths[r]] for r, i in enumerate(micro)})
    for _epoch in range(cfg.epochs):
        for lo in range(0, len(rows), per_mini):
            mini = list(range(lo, min(lo + per_mini, len(rows))))
            total_tokens = sum(len(rows[i][1]) for i in mini)
            # A response with zero advantage adds nothing to the loss but its share of the normaliser
            # (kept above), so without a KL term its forward and backward passes are skipped.
            active = by_length(i for i in mini if rows[i][2] != 0.0 or reference is not None)
            for mlo in range(0, len(active), cfg.micro_batch):
                micro = active[mlo:mlo + cfg.micro_batch]
                ids, attention, resp = tensors(micro)
                mask = resp[:, 1:]
                logp, entropy = token_logprobs(model, ids, attention, with_entropy=True)
                if off_policy:  # stored unpadded; pad to this micro-batch's width
                    old = torch.zeros_like(logp)
                    for r, i in enumerate(micro):
                        old[r, :len(old_logps[i])] = old_logps[i]
                else:
                    old = logp.detach()
                adv = torch.tensor([rows[i][2] for i in micro], device=device)
                per_token, clipped = clipped_policy_loss(logp, old, adv, cfg.clip_low, cfg.clip_high,
                                                         cfg.clip_ratio_c, cfg.log_ratio_clamp)
                if reference is not None:
                    with torch.no_grad():
                        ref_logp, _ = token_logprobs(reference, ids, attention)
                    kl = kl_k3(logp, ref_logp)
                    per_token = per_token + cfg.kl_coef * kl
                    stats["kl"] += float((kl.detach() * mask).sum()) / max(total_tokens, 1)
                loss = aggregate(per_token, mask, cfg.aggregation, total_tokens=total_tokens,
                                 total_sequences=len(mini), norm_length=max_len)
                loss.backward()
                stats["loss"] += loss.item()
                stats["clip_fraction"] += float((clipped & mask).sum()) / max(total_tokens, 1)
                stats["entropy"] += float((entropy.detach() * mask).sum()) / max(total_tokens, 1)
            if not active:
                continue
            stats["grad_norm"] += float(torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip))
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            stats["updates"] += 1
    return stats


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


# --- the loop -------------------------------------------------------------------------------------------

def train(cfg: RLConfig, policy: str, resume: bool = True, force_resume: bool = False) -> Path:
    from octothinker.models import load_for_training, save_model, select_device

    if cfg.out is None:
        raise RLError("no output folder: set `out` in the recipe or pass --out")
    out = ensure_writable(cfg.out)
    device = select_device(cfg.device)
    torch.manual_seed(derive_seed(cfg.seed, "rl", "init"))
    loaded = load_for_training(policy)
    model, tokenizer = loaded.model.to(device), loaded.tokenizer
    reference = load_for_training(policy).model.to(device).eval() if cfg.kl_coef > 0 else None
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.999))
    template = cfg.prompt_template().bind(tokenizer, policy)
    stop = cfg.rollout_stop() if cfg.stop is not None else template.stop
    loop = Loop(out, "rl", cfg.steps, cfg.checkpoint_every, cfg.keep_checkpoints, cfg.logging, run_name=out.name)
    pool = VerifyPool()
    try:
        prompts, losses = load_prompts(cfg, template, tokenizer, pool)
        sampler = PromptSampler(len(prompts), cfg.seed)
        settings = cfg.resume_settings()

        def restore(latest: Path) -> int:
            model_state, optim_state, state = ckpt.load_checkpoint(latest)
            ckpt.check_resumable(latest, state, settings, force_resume)
            model.load_state_dict(model_state)
            optimizer.load_state_dict(optim_state)
            sampler.load_state_dict(state["sampler"])
            ckpt.restore_rng(latest)
            return state["step"]

        start_step = loop.start(resume, restore)
        atomic_write_json(out / "config.json", {"config": cfg.model_dump(), "policy": policy, **run_metadata(cfg.seed)})
        atomic_write_json(out / "summary.json", {"inputs": settings["inputs"], "losses": {"prompts": losses.record()}})
        evals = MetricsWriter(out, cfg.logging, start_step, filename="eval.jsonl", tb_prefix="eval/")
        generator = HFGenerator(model, tokenizer, max_batch=cfg.prompts_per_step * cfg.group_size)
        eval_generator = HFGenerator(model, tokenizer, max_batch=cfg.eval.batch) if cfg.eval else None
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        if start_step == 0 and cfg.eval:
            _log_eval(evals, 0, eval_generator, template, cfg)

        def train_step(step: int) -> dict:
            t0 = time.perf_counter()
            # 1. Sample prompts and roll out a group of G responses each.
            batch_idx = sampler.next(cfg.prompts_per_step)
            batch = [prompts[i] for i in batch_idx]
            max_len = cfg.response_length(step)
            model.eval()
            t_roll = time.perf_counter()
            rollouts = generator.generate([b["prompt"] for b in batch], SamplingParams(
                max_new_tokens=max_len, temperature=cfg.temperature, top_p=cfg.top_p, n=cfg.group_size,
                stop=stop, seed=derive_seed(cfg.seed, "rollout", step)))
            rollout_seconds = time.perf_counter() - t_roll

            # 2. Reward every response, then advantages within each group.
            flat = reward([c.text for g in rollouts for c in g],
                         [b["answer"] for b in batch for _ in range(cfg.group_size)],
                         [c.finish == "length" for g in rollouts for c in g], cfg.reward, pool)
            groups = [Group(i, b, responses, flat[k * cfg.group_size:(k + 1) * cfg.group_size], [])
                      for k, (i, b, responses) in enumerate(zip(batch_idx, batch, rollouts))]
            rewards = torch.tensor([g.rewards for g in groups], dtype=torch.float32)
            for g, adv in zip(groups, group_advantages(rewards, scale_by_std=cfg.advantage == "grpo").tolist()):
                g.advantages = adv
            keep = informative_groups(rewards).tolist() if cfg.dynamic_sampling else [True] * len(groups)
            if cfg.remove_solved:
                sampler.removed.update(g.index for g in groups if all(s.correct for s in g.scored))

            # 3. Policy-gradient updates on the responses that carry a learning signal.
            rows = []
            for g, kept in zip(groups, keep):
                prompt_ids = tokenizer(g.prompt["prompt"])["input_ids"]
                rows += [(prompt_ids, list(c.token_ids), a) for c, a in zip(g.responses, g.advantages)
                         if kept and c.token_ids and not (cfg.overlong_filter and c.finish == "length")]
            stats = update_policy(model, optimizer, rows, cfg, max_len, pad_id, device, reference)

            # 4. The step's row; its samples and the held-out evaluation when due.
            updates = max(stats.pop("updates"), 1)
            pairs = [(c, s) for g in groups for c, s in zip(g.responses, g.scored)]
            if cfg.save_samples:
                _save_samples(out, step, groups)
            if cfg.eval and (step + 1) % cfg.eval.every == 0:
                model.eval()
                _log_eval(evals, step + 1, eval_generator, template, cfg)
            return {
                "step": step + 1, "reward": rewards.mean().item(),
                "accuracy": 100.0 * sum(s.correct for _, s in pairs) / len(pairs),
                "response_length": _mean([c.tokens for c, _ in pairs]),
                "response_length_correct": _mean([c.tokens for c, s in pairs if s.correct]),
                "response_length_incorrect": _mean([c.tokens for c, s in pairs if not s.correct]),
                "truncation_rate": 100.0 * sum(c.finish == "length" for c, _ in pairs) / len(pairs),
                "repetition_rate": 100.0 * sum(s.repeated for _, s in pairs) / len(pairs),
                "max_response_tokens": max_len, "groups_kept": sum(keep), "sequences_trained": len(rows),
                "loss": stats["loss"] / updates, "clip_fraction": stats["clip_fraction"] / updates,
                "kl": stats["kl"] / updates, "entropy": stats["entropy"] / updates,
                "grad_norm": stats["grad_norm"] / updates, "lr": cfg.lr,
                "rollout_tokens": sum(c.tokens for c, _ in pairs),
                "rollout_tokens_per_s": sum(c.tokens for c, _ in pairs) / rollout_seconds,
                "step_seconds": time.perf_counter() - t0,
            }

        def save(tag: str, step: int) -> None:
            ckpt.save_checkpoint(loop.checkpoints, tag, {k: v.detach().cpu() for k, v in model.state_dict().items()},
                                 optimizer.state_dict(), {"step": step, "sampler": sampler.state_dict(),
                                                          "settings": settings})

        try:
            loop.run(start_step, train_step, save, lambda row: {
                "tokens": row["rollout_tokens"], "reward": round(row["reward"], 3), "acc": round(row["accuracy"], 1),
                "len": round(row["response_length"]), "cut": round(row["truncation_rate"])})
        finally:
            evals.close()
        save_model(model, tokenizer, out / "final")  # what a study and `octo eval` read; no optimizer is kept
    finally:
        pool.close()
    return out / "final"


def _save_samples(out: Path, step: int, groups: list[Group]) -> None:
    samples = [{"prompt": g.prompt["prompt"], "response": c.text, "reward": s.reward, "correct": s.correct,
                "extracted": s.extracted, "finish": c.finish}
               for g in groups for c, s in zip(g.responses, g.scored)]
    (out / "samples").mkdir(exist_ok=True)
    (out / "samples" / f"step_{step + 1}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in samples))


def _log_eval(writer: MetricsWriter, step: int, generator, template, cfg: RLConfig) -> None:
    # The same seed at every evaluation: sampled accuracies differ by the policy, not by the draw.
    for row in periodic_eval(generator, template, cfg.eval, cfg.eval.max_response_tokens or cfg.response_length(step),
                             seed=derive_seed(cfg.seed, "eval"),
                             stop=tuple(cfg.stop) if cfg.stop is not None else None, reward_cfg=cfg.reward):
        writer.log(row.model_copy(update={"step": step}).model_dump(), tag=f"{row.benchmark}/{row.decoding}/")
