"""Records that one stage writes and the report reads, typed once: the held-out evaluation rows an RL
run writes (`eval.jsonl`; RL's periodic evaluation builds them) and the probe's report (`probe.json`).
Records of older runs, without the fields added since, read with the defaults below."""

from __future__ import annotations

import json
import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from octothinker.tasks.scoring import DEFAULT_CUTOFF, CutoffRule
from octothinker.tasks.templates import DEFAULT_TEMPLATE


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


class ProbeReport(BaseModel):
    """What the probe measured on one model (`probe.json`), typed once: the probe writes it, the report
    and the findings read it. Its JSON names pass@1 and pass@k as `pass@1` and `pass@<k>`; reports
    written before a field was added read with the defaults below."""
    model_config = ConfigDict(populate_by_name=True)

    model: str
    prompts: str
    problems: int
    k: int
    template: str = DEFAULT_TEMPLATE
    temperature: float = 1.0
    max_new_tokens: int | None = None
    seed: int = 0
    cutoff: CutoffRule = DEFAULT_CUTOFF
    pass_at_1: float = Field(alias="pass@1")
    pass_at_k: float                                 # `pass@<k>` in the JSON
    answer_extracted: float = math.nan               # % of responses whose answer the task reads
    boxed: float = math.nan                          # % with a \boxed{} answer (what the reward reads)
    truncated: float                                 # % cut at the length limit
    mean_response_tokens: float
    repetition: float                                # % caught in n-gram loops
    correct_per_problem: list[int] | None = None     # right samples of k, per prompt

    @model_validator(mode="before")
    @classmethod
    def _pass_at_k_by_its_name(cls, data):
        if isinstance(data, dict) and "pass_at_k" not in data and f"pass@{data.get('k')}" in data:
            data = {**data, "pass_at_k": data[f"pass@{data['k']}"]}
        return data

    def as_json(self) -> dict:
        out = self.model_dump(by_alias=True, exclude={"pass_at_k"})
        out[f"pass@{self.k}"] = self.pass_at_k
        return out

    @classmethod
    def read(cls, path: str | Path) -> "ProbeReport":
        return cls.model_validate(json.loads(Path(path).read_text()))
