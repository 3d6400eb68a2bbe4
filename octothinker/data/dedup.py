"""Exact and near-duplicate removal, streaming: memory grows with the signatures kept, not the text.

Near duplicates: MinHash over word 5-gram shingles with 128 permutations and an LSH index at Jaccard
0.8 (datasketch picks bands and rows for that threshold). The field's defaults: datatrove uses 5-word
shingles, 14 bands x 8 rows; MegaMath 11 x 10 (Jaccard ~0.79).
"""

from __future__ import annotations

import hashlib
import re

_WORD = re.compile(r"\w+")


class ExactDedup:
    def __init__(self):
        self._seen: set[bytes] = set()

    def seen(self, text: str) -> bool:
        """True if this exact (whitespace-normalised) text was seen before; records it otherwise."""
        key = hashlib.blake2b(" ".join(text.split()).encode("utf-8"), digest_size=16).digest()
        if key in self._seen:
            return True
        self._seen.add(key)
        return False


def shingles(text: str, n: int) -> set[bytes]:
    words = _WORD.findall(text.lower())
    if len(words) < n:
        return {" ".join(words).encode("utf-8")}
    return {" ".join(words[i:i + n]).encode("utf-8") for i in range(len(words) - n + 1)}


class MinHashDedup:
    def __init__(self, shingle: int = 5, num_perm: int = 128, threshold: float = 0.8, seed: int = 1):
        from datasketch import MinHashLSH

        self.shingle, self.num_perm, self.seed = shingle, num_perm, seed
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._count = 0

    def signature(self, text: str):
        from datasketch import MinHash

        m = MinHash(num_perm=self.num_perm, seed=self.seed)
        m.update_batch(list(shingles(text, self.shingle)))
        return m

    def seen(self, text: str) -> bool:
        """True if a kept document is a near duplicate of `text`; otherwise `text` is kept and indexed."""
        sig = self.signature(text)
        if self.lsh.query(sig):
            return True
        self.lsh.insert(str(self._count), sig)
        self._count += 1
        return False
