"""The held-out evaluation rows an RL run writes (`eval.jsonl`), typed once: RL's periodic evaluation
builds them, the report reads them. Rows of older runs, without the fields added since, read with the
defaults below."""

from __future__ import annotations

import math

from pydantic import BaseModel


class HeldOutEval(BaseModel):
    """One benchmark at one step, one decoding: the accuracy and the per-problem counts that intervals
    and the question-independent baselines are computed from."""
    step: int = 0
    benchmark: str
    decoding: str | None = None               # "sampled" or "greedy"; None in the oldest runs
    accuracy: float
    problems: int | None = None               # None in the oldest runs
    samples: int
    correct_per_problem: list[int] | None = None   # None in runs that predate the report's intervals
    tokens_per_problem: list[float] = []
    mean_response_tokens: float
    mean_correct_response_tokens: float | None = None
    truncation_rate: float = math.nan
    answer_counts: dict[str, int] = {}        # canonical answer -> samples that gave it
    unanswered: int = 0
    gold_counts: dict[str, int] = {}
