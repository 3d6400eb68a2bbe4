"""Decontamination: drop training documents that share a long word n-gram with a benchmark question.

Default n = 13 words (the GPT-3 / Llama practice; MegaMath and datatrove use 12). Questions shorter than
n words are matched whole. Counts of removed documents are kept per benchmark.
"""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class Decontaminator:
    def __init__(self, n: int = 13):
        self.n = n
        self._owner: dict[tuple[str, ...], str] = {}
        self._lengths: set[int] = set()
        self.removed: Counter = Counter()

    def add(self, benchmark: str, question: str) -> None:
        ws = words(question)
        if len(ws) < self.n:
            if ws:
                self._owner.setdefault(tuple(ws), benchmark)
                self._lengths.add(len(ws))
            return
        self._lengths.add(self.n)
        for i in range(len(ws) - self.n + 1):
            self._owner.setdefault(tuple(ws[i:i + self.n]), benchmark)

    def __len__(self) -> int:
        return len(self._owner)

    def match(self, text: str) -> str | None:
        """The benchmark a document overlaps, or None."""
        if not self._owner:
            return None
        ws = words(text)
        for n in sorted(self._lengths):
            for i in range(len(ws) - n + 1):
                owner = self._owner.get(tuple(ws[i:i + n]))
                if owner is not None:
                    return owner
        return None

    def check(self, text: str) -> bool:
        """True (and counted) if `text` is contaminated."""
        owner = self.match(text)
        if owner is not None:
            self.removed[owner] += 1
            return True
        return False
