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
    assert (kl_k3(torch.randn(100), torch.randn(100)) >= 0).all()
