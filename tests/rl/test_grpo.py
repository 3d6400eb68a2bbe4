import math

import pytest
import torch

from octothinker.rl.grpo import aggregate, clipped_policy_loss, group_advantages, informative_groups, kl_k3


def test_grpo_advantages_hand_computed():
    rewards = torch.tensor([[1.0, -1.0, -1.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    adv = group_advantages(rewards)
    std = math.sqrt(4 / 3)  # unbiased std of [1, -1, -1, 1]
    assert adv[0].tolist() == pytest.approx([1 / std, -1 / std, -1 / std, 1 / std], rel=1e-5)
    assert adv[1].tolist() == [0.0, 0.0, 0.0, 0.0]
    dr = group_advantages(torch.tensor([[1.0, 0.0, 0.0, 0.0]]), scale_by_std=False)
    assert dr.tolist() == [[0.75, -0.25, -0.25, -0.25]]


def test_dynamic_sampling_drops_uniform_groups():
    rewards = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])
    assert informative_groups(rewards).tolist() == [False, True, False]


def test_clipped_loss_hand_computed():
    old = torch.zeros(1, 3)
    logp = torch.log(torch.tensor([[1.5, 0.5, 1.1]]))
    loss, clipped = clipped_policy_loss(logp, old, torch.tensor([1.0]), clip_low=0.2, clip_high=0.28)
    # A > 0: min(r, clip(r)) -> ratio 1.5 is clipped to 1.28; 0.5 stays (the min); 1.1 stays
    assert loss.tolist()[0] == pytest.approx([-1.28, -0.5, -1.1], rel=1e-6)
    assert clipped.tolist() == [[True, False, False]]
    loss, clipped = clipped_policy_loss(logp, old, torch.tensor([-2.0]), clip_low=0.2, clip_high=0.28)
    # A < 0: ratio 0.5 is clipped up to 0.8 (loss 2 * 0.8), 1.5 stays (loss 3)
    assert loss.tolist()[0] == pytest.approx([3.0, 1.6, 2.2], rel=1e-6)
    assert clipped.tolist() == [[False, True, False]]


def test_aggregations_differ_as_named():
    per_token = torch.tensor([[1.0, 1.0, 1.0, 1.0], [4.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 0, 0, 0]])
    assert aggregate(per_token, mask, "token-mean").item() == pytest.approx(8 / 5)
    assert aggregate(per_token, mask, "seq-mean-token-mean").item() == pytest.approx((1 + 4) / 2)
    assert aggregate(per_token, mask, "seq-mean-token-sum-norm", norm_length=8).item() == pytest.approx((4 / 8 + 4 / 8) / 2)
    with pytest.raises(ValueError):
        aggregate(per_token, mask, "seq-mean-token-sum-norm")


def test_micro_batches_with_totals_sum_to_the_whole_batch_loss():
    per_token = torch.rand(6, 5)
    mask = (torch.rand(6, 5) > 0.3).int()
    mask[:, 0] = 1
    for mode in ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"):
        whole = aggregate(per_token, mask, mode, norm_length=5)
        parts = sum(aggregate(per_token[i:i + 2], mask[i:i + 2], mode, total_tokens=float(mask.sum()),
                              total_sequences=6, norm_length=5) for i in (0, 2, 4))
        assert parts.item() == pytest.approx(whole.item(), rel=1e-6), mode


def test_kl_k3():
    logp = torch.log(torch.tensor([0.5, 0.25]))
    ref = torch.log(torch.tensor([0.25, 0.25]))
    r = math.log(0.5)
    assert kl_k3(logp, ref).tolist() == pytest.approx([math.exp(r) - r - 1, 0.0])
    # both directions of r by hand (k3 is not symmetric), and verl's clamp of the estimate to 10
    assert kl_k3(torch.tensor([0.0, 0.0]), torch.tensor([1.0, -1.0])).tolist() == pytest.approx(
        [math.e - 2, math.exp(-1)])
    assert kl_k3(torch.tensor([0.0, 3.0, 30.0]), torch.tensor([3.0, 0.0, 0.0])).tolist() == pytest.approx(
        [10.0, math.exp(-3) + 2, 10.0])


def test_dual_clip_and_log_ratio_clamp_match_verl_by_hand():
    """verl 0.9.1 compute_policy_loss_vanilla, worked by hand: r = exp(clamp(logp - old, -20, 20));
    L = max(-A r, -A clip(r, 1 - 0.2, 1 + 0.28)); for A < 0, L = min(L, -A * clip_ratio_c)."""
    old = torch.zeros(1, 4)
    logp = torch.log(torch.tensor([[0.5, 1.5, 4.0, 1.0]]))
    logp[0, 3] = 25.0  # a stale token: the log-ratio is clamped to 20 before the exponential
    neg, clipped = clipped_policy_loss(logp, old, torch.tensor([-2.0]), clip_low=0.2, clip_high=0.28, clip_ratio_c=3.0)
    # r=0.5: max(1.0, 2*0.8=1.6)=1.6; r=1.5: max(3.0, 2*1.28=2.56)=3.0; r=4: max(8, 2.56)=8 -> min(8, 6)=6;
    # r=e^20: 2e^20 -> 6 (the dual-clip bound -A * c)
    assert neg.tolist()[0] == pytest.approx([1.6, 3.0, 6.0, 6.0], rel=1e-6)
    assert clipped.tolist() == [[True, False, False, False]]
    pos, _ = clipped_policy_loss(logp, old, torch.tensor([1.0]), clip_low=0.2, clip_high=0.28, clip_ratio_c=3.0)
    # A > 0 has no dual bound: r=0.5 -> -0.5, r=1.5 -> -1.28, r=4 -> -1.28, r=e^20 -> -1.28
    assert pos.tolist()[0] == pytest.approx([-0.5, -1.28, -1.28, -1.28], rel=1e-6)
    # without the clamp exp(100) overflows float32 and a zero advantage would give 0 * inf = nan
    zero, _ = clipped_policy_loss(torch.full((1, 2), 100.0), torch.zeros(1, 2), torch.tensor([0.0]))
    assert torch.isfinite(zero).all() and zero.abs().sum() == 0
    bound, _ = clipped_policy_loss(logp, old, torch.tensor([-2.0]), clip_ratio_c=10.0)
    assert bound.tolist()[0][2] == pytest.approx(8.0)  # a looser dual bound lets r=4 through


def test_kl_clamps_as_verl_low_var_kl():
    # r = ref - logp = 30 is clamped to 20; exp(20) - 20 - 1 is then clamped to 10
    assert kl_k3(torch.tensor([0.0]), torch.tensor([30.0])).tolist() == [10.0]
    r = -1.0
    assert kl_k3(torch.tensor([1.0]), torch.tensor([0.0])).tolist() == pytest.approx([math.exp(r) - r - 1])


def test_recipe_exposes_verl_defaults_and_the_launcher_maps_them(tmp_path):
    from octothinker.rl.config import RLConfig
    from octothinker.rl.verl import overrides

    cfg = RLConfig.model_validate({"out": str(tmp_path), "prompts": "p.jsonl", "steps": 4, "eval": None,
                                   "aggregation": "seq-mean-token-sum-norm"})
    assert cfg.clip_ratio_c == 3.0 and cfg.log_ratio_clamp == 20.0
    o = dict(x.split("=", 1) for x in overrides(cfg, "/p", tmp_path, 4, 512, 64))
    assert o["actor_rollout_ref.actor.clip_ratio_c"] == "3.0"
    assert o["actor_rollout_ref.actor.loss_scale_factor"] == "512"  # Dr. GRPO's constant length
    with pytest.raises(ValueError, match="clip_ratio_c"):
        RLConfig.model_validate({"out": "x", "prompts": "p", "steps": 1, "clip_ratio_c": 1.0})
