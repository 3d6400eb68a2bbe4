"""Quality filter (MegaMath-style recall): a fastText classifier trained on positive and negative seeds.

MegaMath keeps documents whose math score is at least 0.5; the threshold is the recipe's. Precision,
recall and accuracy are measured on a held-out share of the seeds and go into the data report.

fastText's default hashes word n-grams into 2M buckets of 100 floats: an 800 MB model whatever the
data. The buckets here are sized to the seeds' distinct n-grams (at most fastText's 2M), and the
embedding is `dim` wide, so the model written with every build is as large as its data needs.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import numpy as np


def normalize(text: str) -> str:
    """One line, as datatrove's fastText filter scores a document (`curate.QualityFilter`): fastText
    reads one example a line, so training sees each document as the filter will."""
    return text.strip().replace("\n", " ")


class QualityClassifier:
    LABEL = "__label__hq"

    def __init__(self, model):
        self.model = model

    @staticmethod
    def buckets_for(texts: list[str], word_ngrams: int, cap: int = 2_000_000) -> int:
        """Twice the distinct word n-grams (2..word_ngrams) of the training text, so that few collide."""
        if word_ngrams < 2:
            return 0
        seen: set[int] = set()
        for text in texts:
            words = normalize(text).split()
            for n in range(2, word_ngrams + 1):
                seen.update(hash(tuple(words[i:i + n])) for i in range(len(words) - n + 1))
            if 2 * len(seen) >= cap:
                return cap
        return max(1000, 2 * len(seen))

    @classmethod
    def train(cls, positives: list[str], negatives: list[str], seed: int = 0, holdout: float = 0.2,
              epochs: int = 10, lr: float = 0.5, word_ngrams: int = 2, threshold: float = 0.5, dim: int = 32):
        """Train on (1 - holdout) of the seeds; return the classifier and its held-out metrics."""
        import fasttext

        rng = random.Random(seed)
        labelled = [(t, 1) for t in positives] + [(t, 0) for t in negatives]
        rng.shuffle(labelled)
        cut = int(len(labelled) * (1 - holdout)) if holdout > 0 else len(labelled)
        train, held = labelled[:cut], labelled[cut:]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "train.txt"
            path.write_text("".join(f"{'__label__hq' if y else '__label__lq'} {normalize(t)}\n" for t, y in train),
                            encoding="utf-8")
            # thread=1 with a seed: fastText is deterministic only single-threaded.
            model = fasttext.train_supervised(input=str(path), epoch=epochs, lr=lr, wordNgrams=word_ngrams,
                                              thread=1, seed=seed, verbose=0, minCount=1, dim=dim,
                                              bucket=cls.buckets_for([t for t, _ in train], word_ngrams))
        clf = cls(model)
        metrics = clf.evaluate([t for t, _ in held], [y for _, y in held], threshold) if held else {}
        metrics.update({"train_examples": len(train), "heldout_examples": len(held)})
        return clf, metrics

    def scores(self, texts: list[str]) -> list[float]:
        """Probability of the high-quality label for each text."""
        out = []
        for text in texts:
            labels, probs = self.predict(normalize(text))
            out.append(float(dict(zip(labels, probs)).get(self.LABEL, 0.0)))
        return out

    def predict(self, line: str, k: int = -1) -> tuple[tuple[str, ...], np.ndarray]:
        """fastText's `predict` for one line, as datatrove's filter calls it. Through the low-level binding:
        fasttext-wheel's wrapper calls np.array(copy=False), which NumPy 2 rejects, and the NumPy 2 build
        of fastText (fasttext-numpy2-wheel) diverges to NaN when it trains on our seeds."""
        pairs = self.model.f.predict(line, k, 0.0, "replace")
        return tuple(label for _, label in pairs), np.asarray([p for p, _ in pairs])

    def evaluate(self, texts: list[str], labels: list[int], threshold: float) -> dict:
        predicted = [s >= threshold for s in self.scores(texts)]
        tp = sum(p and y for p, y in zip(predicted, labels))
        fp = sum(p and not y for p, y in zip(predicted, labels))
        fn = sum((not p) and y for p, y in zip(predicted, labels))
        correct = sum(p == bool(y) for p, y in zip(predicted, labels))
        return {"precision": tp / (tp + fp) if tp + fp else 0.0, "recall": tp / (tp + fn) if tp + fn else 0.0,
                "accuracy": correct / len(labels) if labels else 0.0, "threshold": threshold}

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        self.model.save_model(str(tmp))
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> "QualityClassifier":
        import fasttext

        return cls(fasttext.load_model(str(path)))
