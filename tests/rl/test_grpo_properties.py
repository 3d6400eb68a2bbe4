"""Properties of the GRPO maths beyond the worked examples of test_grpo.py: the edges of each clamp and
clip, the defaults a caller relies on, and the entropy the trainer logs. Every expected value is worked
by hand in the comment beside it."""

import math

import pytest
import torch
from hypothesis import given, settings, strategies as st

from octothinker.rl.grpo import aggregate, clipped_policy_loss, group_advantages, kl_k3, token_entropy


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(2, 6).flatmap(lambda size: st.lists(st.lists(st.integers(-3, 3), min_size=size, max_size=size),
                                                       min_size=1, max_size=4)))
def test_advantages_have_zero_mean_per_group_and_vanish_for_uniform_groups(groups):
    rewards = torch.tensor(groups, dtype=torch.float64)
    for scale in (True, False):
        adv = group_advantages(rewards, scale_by_std=scale)
        assert adv.mean(dim=1).abs().max().item() < 1e-9
        for row, group in zip(adv.tolist(), groups):
            if len(set(group)) == 1:
                assert row == [0.0] * len(group)
            else:  # the order of the rewards is kept: a better response never gets a lower advantage
                assert all((a - b) * (x - y) >= 0 for a, x in zip(row, group) for b, y in zip(row, group))


def test_eps_is_added_to_the_standard_deviation():
    # rewards [1, 0]: centred [0.5, -0.5], unbiased std sqrt(0.5); a large eps makes its sign visible
    adv = group_advantages(torch.tensor([[1.0, 0.0]]), eps=1.0)
    expected = 0.5 / (math.sqrt(0.5) + 1.0)
    assert adv.tolist()[0] == pytest.approx([expected, -expected], rel=1e-6)


def test_a_single_response_token_carries_its_own_loss_in_token_mean():
    per_token = torch.tensor([[0.0, 7.0, 0.0], [5.0, 5.0, 5.0]])
    mask = torch.tensor([[0, 1, 0], [0, 0, 0]])
    assert aggregate(per_token, mask, "token-mean").item() == pytest.approx(7.0)
    # an empty mask has no tokens to average: zero, not a division by zero
    assert aggregate(per_token, torch.zeros_like(mask), "token-mean").item() == 0.0


@pytest.mark.parametrize("mode", ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"])
@pytest.mark.parametrize("mask_dtype", [torch.bool, torch.int64, torch.float64])
def test_the_loss_keeps_the_dtype_of_the_per_token_losses_whatever_the_mask(mode, mask_dtype):
    per_token = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float32)
    mask = torch.tensor([[1, 1], [1, 0]]).to(mask_dtype)
    loss = aggregate(per_token, mask, mode, norm_length=2)
    assert loss.dtype == torch.float32
    # token-mean 6/3; seq-mean-token-mean (1.5 + 3) / 2; seq-mean-token-sum-norm (3/2 + 3/2) / 2
    assert loss.item() == pytest.approx({"token-mean": 2.0, "seq-mean-token-mean": 2.25,
                                         "seq-mean-token-sum-norm": 1.5}[mode])


def test_aggregation_errors_name_what_is_wrong():
    per_token, mask = torch.ones(1, 2), torch.ones(1, 2)
    with pytest.raises(ValueError, match="norm_length"):
        aggregate(per_token, mask, "seq-mean-token-sum-norm")
    with pytest.raises(ValueError, match="'sequence-mean'"):
        aggregate(per_token, mask, "sequence-mean")


def test_default_clip_range_is_ppos_symmetric_0_2():
    old = torch.zeros(1, 3)
    logp = torch.log(torch.tensor([[0.5, 1.5, 1.1]]))
    pos, pos_clipped = clipped_policy_loss(logp, old, torch.tensor([1.0]))
    # A = 1: -min(r, clip(r, 0.8, 1.2)) -> r=0.5 stays, 1.5 is cut to 1.2, 1.1 inside the range
    assert pos.tolist()[0] == pytest.approx([-0.5, -1.2, -1.1], rel=1e-6)
    assert pos_clipped.tolist() == [[False, True, False]]
    neg, neg_clipped = clipped_policy_loss(logp, old, torch.tensor([-1.0]))
    # A = -1: max(r, clip(r, 0.8, 1.2)) -> 0.5 is raised to 0.8, 1.5 stays (under the dual bound 3)
    assert neg.tolist()[0] == pytest.approx([0.8, 1.5, 1.1], rel=1e-6)
    assert neg_clipped.tolist() == [[True, False, False]]


def test_the_ratio_is_taken_from_the_difference_of_log_probabilities():
    # pi = 0.6 over pi_old = 0.5: r = 1.2 (inside 0.8..1.28), so the loss is -A r
    logp, old = torch.log(torch.tensor([[0.6]])), torch.log(torch.tensor([[0.5]]))
    loss, clipped = clipped_policy_loss(logp, old, torch.tensor([1.0]), clip_low=0.2, clip_high=0.28)
    assert loss.item() == pytest.approx(-1.2, rel=1e-6) and not clipped.item()
    # shifting both log-probabilities by the same constant changes nothing
    shifted, _ = clipped_policy_loss(logp - 3.0, old - 3.0, torch.tensor([1.0]), clip_low=0.2, clip_high=0.28)
    assert shifted.item() == pytest.approx(-1.2, rel=1e-5)


def test_the_log_ratio_is_clamped_from_below_too():
    # log r = -30 is clamped to -20: with A = 1 the loss is -exp(-20), not -exp(-30)
    loss, _ = clipped_policy_loss(torch.tensor([[-30.0]]), torch.zeros(1, 1), torch.tensor([1.0]))
    assert loss.item() == pytest.approx(-math.exp(-20), rel=1e-5)


def test_the_dual_bound_applies_to_negative_advantages_only():
    # A = 0.5, r = 1: the loss is -0.5; a dual bound (-A * 3 = -1.5) must not pull it down
    loss, _ = clipped_policy_loss(torch.zeros(1, 1), torch.zeros(1, 1), torch.tensor([0.5]))
    assert loss.item() == pytest.approx(-0.5)
    # A = -0.5, r = 10 (log 10 over 0): 5 is capped at -A * 3 = 1.5
    loss, _ = clipped_policy_loss(torch.log(torch.tensor([[10.0]])), torch.zeros(1, 1), torch.tensor([-0.5]))
    assert loss.item() == pytest.approx(1.5)


def test_kl_is_finite_where_the_policy_gives_a_token_no_probability():
    # r = ref - logp = +inf: clamped to 20 before exp, so 10 (the estimate's clamp), not inf - inf = nan
    kl = kl_k3(torch.tensor([-math.inf, 0.0]), torch.tensor([0.0, 0.0]))
    assert kl.tolist() == [10.0, 0.0]


def test_token_entropy_by_hand_over_the_vocabulary_axis():
    # batch 2 x tokens 2 x vocabulary 3 (three dimensions, so only the last axis is the vocabulary):
    # uniform logits -> log 3; probabilities (1/4, 3/4, 0-ish) -> -(1/4 ln 1/4 + 3/4 ln 3/4)
    two = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    logits = torch.tensor([[[0.0, 0.0, 0.0], [0.0, math.log(3.0), -1e4]],
                           [[0.0, math.log(3.0), -1e4], [5.0, 5.0, 5.0]]], dtype=torch.bfloat16)
    h = token_entropy(logits)
    assert h.shape == (2, 2) and h.dtype == torch.float32
    assert h.tolist() == [pytest.approx([math.log(3), two], rel=1e-2), pytest.approx([two, math.log(3)], rel=1e-2)]
