"""The decode step's own kernels. Packed fp32 linear layers: the same products as `F.linear` to
rounding, only above their size threshold, repacked after an in-place weight update, the model's own
layers back after. Shared-prefix attention: the softmax attention over the prefix and each row's own
keys, to rounding."""

import pytest
import torch

from octothinker.eval.generation import HFGenerator, PackedLinears, SamplingParams, shared_prefix_attention

needs_onednn = pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="needs oneDNN (mkldnn)")


def test_shared_prefix_attention_is_attention_over_the_prefix_then_each_rows_own_keys():
    torch.manual_seed(0)
    batch, groups, per, dim, prefix, own = 3, 2, 3, 8, 5, 4
    query = torch.randn(batch, groups * per, 1, dim)
    shared_k, shared_v = torch.randn(1, groups, prefix, dim), torch.randn(1, groups, prefix, dim)
    key, value = torch.randn(batch, groups, own, dim), torch.randn(batch, groups, own, dim)
    # row 1 has two padding positions among its own keys; row 2 sees only its last one
    mask = torch.ones(batch, 1, 1, own, dtype=torch.bool)
    mask[1, ..., :2] = False
    mask[2, ..., :3] = False
    got = shared_prefix_attention(query, key, value, mask, shared_k, shared_v, scale=0.3)
    full_k = torch.cat([shared_k.expand(batch, -1, -1, -1), key], dim=2).repeat_interleave(per, dim=1)
    full_v = torch.cat([shared_v.expand(batch, -1, -1, -1), value], dim=2).repeat_interleave(per, dim=1)
    full_mask = torch.cat([torch.ones(batch, 1, 1, prefix, dtype=torch.bool), mask], dim=-1)
    scores = (query @ full_k.transpose(-1, -2) * 0.3).masked_fill(~full_mask, float("-inf"))
    want = torch.softmax(scores, dim=-1) @ full_v  # [batch, heads, 1, dim]
    assert got.shape == (batch, groups, per, dim)
    assert torch.allclose(got.reshape(batch, groups * per, 1, dim), want, atol=1e-6)
    # large scores: the two parts' common maximum keeps the exponentials finite
    big = shared_prefix_attention(query * 100, key, value, mask, shared_k, shared_v, scale=0.3)
    assert torch.isfinite(big).all()


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(64, 96), torch.nn.ReLU(), torch.nn.Linear(96, 8, bias=False))


@needs_onednn
def test_packed_layers_give_the_linear_products_and_are_unswapped_after():
    model, x = _model(), torch.randn(5, 3, 64)
    want = model(x)
    packed = PackedLinears(min_bytes=0)
    with torch.inference_mode(), packed.on(model) as swapped:
        assert swapped == 2 and all("forward" in vars(m) for m in (model[0], model[2]))
        got = model(x)
    assert got.shape == want.shape and torch.allclose(got, want, rtol=1e-5, atol=1e-5)
    assert not any("forward" in vars(m) for m in model)  # the class's forward again
    assert torch.equal(model(x), want)


@needs_onednn
def test_only_matrices_at_the_threshold_or_above_are_packed():
    model = _model()
    first = model[0].weight.nbytes  # 96 x 64 x 4 bytes; the second layer's is smaller
    with torch.inference_mode(), PackedLinears(min_bytes=first).on(model) as swapped:
        assert swapped == 1 and "forward" in vars(model[0]) and "forward" not in vars(model[2])
    with torch.inference_mode(), PackedLinears(min_bytes=first + 1).on(model) as swapped:
        assert swapped == 0
    with torch.inference_mode(), PackedLinears(min_bytes=0).on(model.to(torch.bfloat16)) as swapped:
        assert swapped == 0  # fp32 only


@needs_onednn
def test_an_updated_weight_is_packed_again():
    model, x = _model(), torch.randn(4, 64)
    packed = PackedLinears(min_bytes=0)
    with torch.inference_mode(), packed.on(model):
        before = model(x)
    with torch.no_grad():
        model[2].weight.mul_(-1.0)  # an optimizer's in-place step
    with torch.inference_mode(), packed.on(model):
        after = model(x)
    assert torch.allclose(after, -before, rtol=1e-5, atol=1e-5)
    with torch.inference_mode(), packed.on(model):  # unchanged weights: the same packed copy, no repacking
        held = {k: v[2] for k, v in packed._packed.items()}
        model(x)
    assert all(packed._packed[k][2] is v for k, v in held.items())


@needs_onednn
def test_generator_with_every_layer_packed_completes_as_without(micro_model_dir):
    from octothinker.models import load_model

    loaded = load_model(micro_model_dir)
    prompts = ["Q: What is 2 + 3?\nA:", "Q: A long question about 17 apples and 4 pears?\nA:"]
    params = SamplingParams(max_new_tokens=12)
    plain = HFGenerator(loaded.model, loaded.tokenizer, pack_weights=False).generate(prompts, params)
    packed = HFGenerator(loaded.model, loaded.tokenizer)
    packed.packed.min_bytes = 0  # the micro model's matrices are all below the default threshold
    assert [c[0].text for c in packed.generate(prompts, params)] == [c[0].text for c in plain]
    assert packed.packed._packed  # it did pack
    assert not any("forward" in vars(m) for m in loaded.model.modules())


def test_prompts_prefilled_in_groups_of_similar_length_complete_as_one_padded_batch(micro_model_dir):
    """Five questions of very different lengths after an 8-shot prefix: prefilled in several groups
    (one forward pass each) and gathered into one cache, the completions are those of one prefill padded
    to the longest, greedy and sampled in groups of 3."""
    from octothinker.models import load_model
    from octothinker.tasks.fewshot import EXEMPLARS, build_prompt

    loaded = load_model(micro_model_dir)
    questions = ["x", "What is 2 + 3?", "Tom has 17 apples and gives 4 away. How many are left?",
                 "A shop sells 12 boxes of 9 pens and 3 boxes of 5 pens, then 7 more boxes of 9 pens. " * 3 + "Pens?",
                 "A train leaves at 3 and arrives at 7; another leaves at 4. " * 6 + "When?"]
    prompts = [build_prompt("gsm8k", q, EXEMPLARS["gsm8k"]) for q in questions]
    for params in (SamplingParams(max_new_tokens=10), SamplingParams(max_new_tokens=10, temperature=1.0, n=3, seed=2)):
        grouped = HFGenerator(loaded.model, loaded.tokenizer, max_batch=16)
        prefills = []
        hook = loaded.model.register_forward_pre_hook(
            lambda m, a, kw: prefills.append(kw["input_ids"].shape) if kw["input_ids"].shape[1] > 1 else None,
            with_kwargs=True)
        try:
            got = grouped.generate(prompts, params)
        finally:
            hook.remove()
        assert len(prefills) > 2  # the shared prefix, then more than one group
        assert sum(shape[0] for shape in prefills[1:]) == len(prompts)
        padded = HFGenerator(loaded.model, loaded.tokenizer, max_batch=16, prefill_by_length=False)
        assert [[c.text for c in comps] for comps in got] == \
            [[c.text for c in comps] for comps in padded.generate(prompts, params)]
