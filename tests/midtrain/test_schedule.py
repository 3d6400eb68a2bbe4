import math

import pytest

from octothinker.midtrain.schedule import Schedule, decay_factor, lr_at


def test_warmup_stable_decay_exact_values():
    s = Schedule(peak_lr=1.0, warmup_steps=4, stable_steps=2, decay_steps=4, final_lr=0.0, shape="linear")
    assert [lr_at(i, s) for i in range(10)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25]
    assert s.total_steps == 10


def test_decay_shapes():
    assert decay_factor(0.25, "cosine") == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))
    assert decay_factor(0.25, "linear") == 0.75
    assert decay_factor(0.25, "1-sqrt") == 0.5
    for shape in ("cosine", "linear", "1-sqrt"):
        assert decay_factor(0.0, shape) == 1.0 and decay_factor(1.0, shape) == pytest.approx(0.0)


def test_decay_stage_starts_at_the_stable_rate_without_warmup():
    s = Schedule(peak_lr=2e-5, decay_steps=100, final_lr=2e-6, shape="cosine")
    assert lr_at(0, s) == 2e-5
    assert lr_at(50, s) == pytest.approx(2e-6 + (2e-5 - 2e-6) * 0.5)
    assert lr_at(100, s) == pytest.approx(2e-6)
    assert all(lr_at(i, s) >= lr_at(i + 1, s) for i in range(100))


def test_constant_stage():
    s = Schedule(peak_lr=3e-4, stable_steps=10)
    assert {lr_at(i, s) for i in range(10)} == {3e-4}


def test_a_stage_of_tokens_in_steps():
    from octothinker.midtrain.schedule import for_tokens

    # 10 steps of 100 tokens (the remainder is not a step), 2 of them warmup, the rest at the peak
    s = for_tokens(1050, 100, 1e-3, warmup_tokens=250)
    assert (s.warmup_steps, s.stable_steps, s.decay_steps) == (2, 8, 0)
    # a decay branch: no warmup, every step decaying to the final rate
    d = for_tokens(1000, 100, 1e-3, decay=True, final_lr=1e-4, shape="linear")
    assert (d.warmup_steps, d.stable_steps, d.decay_steps, d.final_lr) == (0, 0, 10, 1e-4)
    # pre-training: warmup, then the rest decays; warmup longer than the stage is the whole stage
    p = for_tokens(1000, 100, 1e-3, warmup_tokens=300, decay=True)
    assert (p.warmup_steps, p.stable_steps, p.decay_steps) == (3, 0, 7)
    assert for_tokens(200, 100, 1e-3, warmup_tokens=900).warmup_steps == 2


def test_a_stage_of_tokens_has_no_warmup_and_decays_to_zero_by_cosine_unless_asked():
    from octothinker.midtrain.schedule import for_tokens

    s = for_tokens(10, 1, 1e-3, decay=True)  # steps of one token: a one-token default warmup would show
    assert (s.warmup_steps, s.decay_steps, s.final_lr, s.shape) == (0, 10, 0.0, "cosine")
    assert for_tokens(1000, 100, 1e-3, decay=True, shape="1-sqrt").shape == "1-sqrt"


@pytest.mark.parametrize("shape", ["cosine", "linear", "1-sqrt"])
def test_past_the_end_of_its_decay_the_rate_stays_at_the_final_rate(shape):
    assert decay_factor(1.5, shape) == pytest.approx(0.0) and decay_factor(-0.5, shape) == 1.0
    s = Schedule(peak_lr=1.0, decay_steps=1, final_lr=0.1, shape=shape)
    assert [lr_at(i, s) for i in range(3)] == [1.0, pytest.approx(0.1), pytest.approx(0.1)]


def test_a_constant_stage_stays_at_its_peak_past_its_planned_steps():
    s = Schedule(peak_lr=3e-4, warmup_steps=2, stable_steps=10)
    assert lr_at(11, s) == lr_at(50, s) == 3e-4  # no decay planned: nothing to divide by


def test_an_unknown_decay_shape_is_named():
    with pytest.raises(ValueError, match="unknown decay shape 'step'"):
        decay_factor(0.5, "step")
