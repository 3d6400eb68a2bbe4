import pytest

from octothinker.eval.metrics import majority_correct, pass_at_k, summarize


def test_pass_at_k_known_values():
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 5) == 1.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)        # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert pass_at_k(5, 2, 4) == 1.0                       # n - c < k
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)


def test_majority_vote():
    samples = [{"extracted": "2", "correct": False}, {"extracted": "3", "correct": True},
               {"extracted": "3", "correct": True}, {"extracted": None, "correct": False}]
    assert majority_correct(samples)
    assert not majority_correct([{"extracted": None, "correct": False}])


def test_summarize():
    recs = [
        {"id": "0", "sample": 0, "correct": True, "extracted": "1", "gold": "1", "response_tokens": 10, "finish": "eos"},
        {"id": "0", "sample": 1, "correct": False, "extracted": None, "gold": "1", "response_tokens": 30, "finish": "length"},
        {"id": "1", "sample": 0, "correct": False, "extracted": "2", "gold": "5", "response_tokens": 20, "finish": "stop"},
        {"id": "1", "sample": 1, "correct": False, "extracted": "2", "gold": "5", "response_tokens": 20, "finish": "stop"},
    ]
    s = summarize(recs, n=2)
    assert s["problems"] == 2 and s["samples"] == 4
    assert s["accuracy"] == pytest.approx(25.0)
    assert s["pass@1"] == pytest.approx(25.0)
    assert s["pass@2"] == pytest.approx(50.0)
    assert s["maj@2"] == pytest.approx(50.0)
    assert s["mean_response_tokens"] == 20
    assert s["extraction_failure_rate"] == 25.0
    assert s["truncation_rate"] == 25.0
    lo, hi = s["accuracy_ci"]
    assert 0 <= lo <= 25.0 <= hi <= 50.0  # a bootstrap over the two problems (0.5 and 0.0 correct)
    # a constant answer: "1" or "5" each answer one problem of two; the model's answers ("1", "2", "2")
    # given to random problems: 1 of its 4 samples could meet the gold "1" half the time -> 1/8
    assert s["baseline"] == {"most_common": 50.0, "shuffled": 12.5}
    assert summarize(recs[::2], n=1)["accuracy_ci"] == pytest.approx([9.45, 90.55], abs=0.01)  # Wilson, 1 of 2
