"""Mixtures: turn source weights and a token budget into a deterministic selection of documents.

Each source gets `budget * weight / sum(weights)` tokens. Documents are taken in a seeded shuffled
order until the source's share is reached; a source smaller than its share is repeated (a new shuffle
per epoch) when repetition is allowed, and the epochs are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from octothinker.errors import DataError


@dataclass
class SourcePlan:
    name: str
    requested_tokens: int
    available_tokens: int
    doc_ids: list[int] = field(default_factory=list)
    tokens: int = 0

    @property
    def epochs(self) -> float:
        return self.tokens / self.available_tokens if self.available_tokens else 0.0


def requested_tokens(weights: dict[str, float], budget: int) -> dict[str, int]:
    total = sum(weights.values())
    return {name: int(round(budget * w / total)) for name, w in weights.items()}


def select_documents(name: str, doc_tokens: np.ndarray, target: int, repeat: bool, seed: int) -> SourcePlan:
    """Document indices whose token counts add up to `target` (the last one may overshoot it)."""
    available = int(doc_tokens.sum())
    plan = SourcePlan(name, target, available)
    if target <= 0:
        return plan
    if available == 0:
        raise DataError(f"source '{name}': no documents left after filtering; the mixture asks for {target} tokens")
    if available < target and not repeat:
        raise DataError(f"source '{name}': has {available} tokens, the mixture asks for {target}; "
                        "allow repetition (mixture.repeat: true) or lower the budget")
    rng = np.random.default_rng(seed)
    while plan.tokens < target:  # one seeded shuffle a pass over the source
        for i in rng.permutation(len(doc_tokens)):
            if plan.tokens >= target:
                break
            plan.doc_ids.append(int(i))
            plan.tokens += int(doc_tokens[i])
    return plan
