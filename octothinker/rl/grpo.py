"""GRPO and its variants as pure functions over tensors (unit-tested with hand-computed values).

- Advantages: GRPO normalises each group's rewards by the group mean and standard deviation (Shao et
  al. 2024, DeepSeekMath); Dr. GRPO drops the division by the standard deviation (Liu et al. 2025,
  "Understanding R1-Zero-Like Training").
- Policy loss: verl's (0.9.1, `compute_policy_loss_vanilla`): PPO clipping with separate low/high
  ranges (DAPO's "clip-higher", Yu et al. 2025), the dual-clip bound for negative advantages (Ye et al.
  2020: the loss of a token with A < 0 is at most -A * clip_ratio_c), and the log-ratio clamped to
  +-20 before the exponential, so a stale token cannot overflow.
- Aggregation, one named function per normaliser: `token-mean` (DAPO: every token of the mini-batch
  weighs the same), `seq-mean-token-mean` (the original GRPO: each sequence's mean, then the mean over
  sequences) and `seq-mean-token-sum-norm` (Dr. GRPO: token sums divided by a constant length, so long
  answers are not favoured).
- KL: the k3 estimator of KL(pi || pi_ref) (Schulman 2020), as in GRPO, with verl's clamps (`low_var_kl`);
  the study ran with coefficient 0.
"""

from __future__ import annotations

import torch

from octothinker.rl.config import CLIP_RATIO_C, LOG_RATIO_CLAMP, Aggregation


def group_advantages(rewards: torch.Tensor, scale_by_std: bool = True, eps: float = 1e-6) -> torch.Tensor:
    """rewards [prompts, group] -> advantages of the same shape (every token of a response shares it).

    The standard deviation is the unbiased one (torch's default, as in verl and TRL).
    """
    centered = rewards - rewards.mean(dim=1, keepdim=True)
    if not scale_by_std:
        return centered
    return centered / (rewards.std(dim=1, keepdim=True) + eps)


def informative_groups(rewards: torch.Tensor) -> torch.Tensor:
    """Dynamic sampling (DAPO): a group whose rewards are all equal has zero advantage; drop it."""
    return rewards.max(dim=1).values != rewards.min(dim=1).values


def aggregate(per_token: torch.Tensor, mask: torch.Tensor, mode: Aggregation, *, total_tokens: float | None = None,
              total_sequences: float | None = None, norm_length: float | None = None) -> torch.Tensor:
    """Reduce per-token losses [seqs, tokens] over the response mask.

    The totals let a micro-batch contribute its exact share of a whole mini-batch's loss (gradient
    accumulation): pass the mini-batch's token or sequence count; without them the micro-batch is the
    whole batch.
    """
    mask = mask.to(per_token.dtype)
    if mode == "token-mean":
        return (per_token * mask).sum() / (total_tokens if total_tokens is not None else mask.sum().clamp(min=1))
    n = total_sequences if total_sequences is not None else per_token.shape[0]
    if mode == "seq-mean-token-mean":
        return ((per_token * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)).sum() / n
    if mode == "seq-mean-token-sum-norm":
        if norm_length is None:
            raise ValueError("seq-mean-token-sum-norm needs norm_length (the maximum response length)")
        return ((per_token * mask).sum(dim=1) / norm_length).sum() / n
    raise ValueError(f"unknown aggregation {mode!r}")


def clipped_policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor,
                        clip_low: float = 0.2, clip_high: float = 0.2, clip_ratio_c: float = CLIP_RATIO_C,
                        log_ratio_clamp: float = LOG_RATIO_CLAMP) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token dual-clip PPO loss and a per-token "was clipped" flag (verl's pg_clipfrac).

    logp, old_logp [seqs, tokens]; advantages [seqs] (one per response). With r = exp(clamp(logp -
    old_logp)): loss = max(-A r, -A clip(r, 1 - low, 1 + high)); for A < 0 it is further capped at
    -A * clip_ratio_c.
    """
    ratio = torch.exp(torch.clamp(logp - old_logp, -log_ratio_clamp, log_ratio_clamp))
    adv = advantages.unsqueeze(1)
    unclipped = -adv * ratio
    clipped = -adv * torch.clamp(ratio, 1.0 - clip_low, 1.0 + clip_high)
    loss = torch.maximum(unclipped, clipped)
    dual = torch.minimum(-adv * clip_ratio_c, loss)
    return torch.where(adv < 0, dual, loss), clipped > unclipped


def kl_k3(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(pi || pi_ref): exp(r) - r - 1 with r = ref_logp - logp (never negative),
    r clamped to +-20 and the estimate to 10, as verl's `low_var_kl` does."""
    r = torch.clamp(ref_logp - logp, -20.0, 20.0)
    return torch.clamp(torch.exp(r) - r - 1.0, max=10.0)


def token_entropy(logits: torch.Tensor) -> torch.Tensor:
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -(logp.exp() * logp).sum(dim=-1)
