"""Mixture planning: shares of the token budget per source and the seeded choice of documents that fills
each share (the worked example is in test_components.py)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from octothinker.data.mixture import requested_tokens, select_documents
from octothinker.errors import DataError


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.integers(1, 50), min_size=1, max_size=5), st.integers(0, 100_000))
def test_each_share_is_its_weight_of_the_budget_rounded(weights, budget):
    named = {f"s{i}": float(w) for i, w in enumerate(weights)}
    shares = requested_tokens(named, budget)
    assert list(shares) == list(named)
    for name, w in named.items():
        assert abs(shares[name] - budget * w / sum(weights)) <= 0.5
    # rounding each share costs at most half a token per source
    assert abs(sum(shares.values()) - budget) <= len(weights) / 2


def test_rounding_of_shares_by_hand():
    # thirds of 100 round down to 33 each (the budget is not topped up); 2/3 of 100 rounds up to 67
    assert requested_tokens({"a": 1, "b": 1, "c": 1}, 100) == {"a": 33, "b": 33, "c": 33}
    assert requested_tokens({"a": 2, "b": 1}, 100) == {"a": 67, "b": 33}


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=8), st.integers(1, 400), st.integers(0, 3))
def test_selection_fills_the_share_overshooting_by_at_most_its_last_document(lengths, target, seed):
    doc_tokens = np.array(lengths)
    plan = select_documents("src", doc_tokens, target, repeat=True, seed=seed)
    assert plan.tokens == int(doc_tokens[plan.doc_ids].sum())
    assert plan.tokens >= target > plan.tokens - int(doc_tokens[plan.doc_ids[-1]])
    n = len(lengths)
    for start in range(0, len(plan.doc_ids), n):  # each pass reads every document once before any repeats
        epoch = plan.doc_ids[start:start + n]
        assert len(set(epoch)) == len(epoch)
    assert plan.epochs == pytest.approx(plan.tokens / doc_tokens.sum())


def test_the_plan_names_its_source_and_the_tokens_asked():
    plan = select_documents("web", np.array([4, 6]), 5, repeat=False, seed=1)
    assert (plan.name, plan.requested_tokens, plan.available_tokens) == ("web", 5, 10)


def test_a_zero_share_takes_nothing_even_from_an_empty_source():
    plan = select_documents("gone", np.zeros(0, dtype=int), 0, repeat=False, seed=0)
    assert (plan.doc_ids, plan.tokens, plan.epochs) == ([], 0, 0.0)
    assert select_documents("idle", np.array([3, 3]), 0, repeat=False, seed=0).doc_ids == []


def test_a_one_token_share_takes_one_document():
    plan = select_documents("tiny", np.array([5, 5, 5]), 1, repeat=False, seed=0)
    assert len(plan.doc_ids) == 1 and plan.tokens == 5


def test_a_source_exactly_its_share_is_read_once_without_repetition():
    plan = select_documents("exact", np.array([2, 3, 5]), 10, repeat=False, seed=0)
    assert sorted(plan.doc_ids) == [0, 1, 2] and plan.tokens == 10 and plan.epochs == 1.0
    with pytest.raises(DataError):
        select_documents("short", np.array([2, 3, 5]), 11, repeat=False, seed=0)


def test_a_source_too_small_names_both_remedies():
    # the message is what a user acts on: the setting to change, or the budget to lower
    with pytest.raises(DataError, match=r"^source 'small': has 10 tokens, the mixture asks for 11; allow repetition "
                                        r"\(mixture\.repeat: true\) or lower the budget$"):
        select_documents("small", np.array([4, 6]), 11, repeat=False, seed=0)
