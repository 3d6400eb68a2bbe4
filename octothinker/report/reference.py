"""The OctoThinker release's published RL curves, as data: what a run's own curves are drawn over.

    ref = load_reference("octothinker-1b")          # its 1B figure: curves short, long, hybrid
    ref.series("long", "math500", "accuracy")       # [(step, accuracy %)], the paper's W&B validation
    resolve("octothinker-1b-long")                  # ("octothinker-1b", "long"): one curve for every model

The values live in `reference_data/<name>.csv` (curve, benchmark, metric, step, value), carried from the
release's `plot/data/` by `scripts/import_reference_curves.py`; each file's `#` lines name the
repository, commit and licence, and each curve's W&B run. Each curve is one run of the paper: no
interval comes with it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from octothinker.errors import OctoError

DATA = Path(__file__).parent / "reference_data"


@dataclass(frozen=True)
class Reference:
    name: str
    source: str                                     # repository, commit, licence, folder
    runs: dict[str, str] = field(default_factory=dict)   # curve -> the paper's W&B run
    points: dict[tuple[str, str, str], list[tuple[int, float]]] = field(default_factory=dict)

    def curves(self) -> list[str]:
        return sorted(self.runs)

    def benchmarks(self, curve: str) -> list[str]:
        return sorted({b for c, b, _ in self.points if c == curve})

    def series(self, curve: str, benchmark: str, metric: str) -> list[tuple[int, float]]:
        return self.points.get((curve, benchmark, metric), [])

    def at(self, curve: str, benchmark: str, metric: str, step: int) -> float | None:
        """The paper's value at exactly `step`; None where it did not validate."""
        return dict(self.series(curve, benchmark, metric)).get(step)


# Curves another figure of the release has for models a reference's own figure lacks: the 3B figure has no
# run from Llama-3.2-3B itself or from Qwen2.5-3B; its Llama-vs-Qwen figure has both, under the same RL.
COMPANIONS = {"octothinker-3b": ("llama-vs-qwen-3b", {"base": "llama.3b", "qwen": "qwen.3b"})}


def names() -> list[str]:
    return sorted(p.stem for p in DATA.glob("*.csv"))


def companion(name: str, model: str) -> tuple["Reference", str] | None:
    """(reference, curve) of another figure for `model` where reference `name` has no curve of it."""
    if name in COMPANIONS and model in COMPANIONS[name][1]:
        other, curves = COMPANIONS[name]
        return load_reference(other), curves[model]
    return None


def load_table(name: str) -> tuple[str, list[dict]]:
    """A table of the release's values (`reference_data/tables/<name>.csv`): its source line and rows."""
    with (DATA / "tables" / f"{name}.csv").open() as fh:
        lines = list(fh)
    source = " ".join(line[1:].strip() for line in lines if line.startswith("#"))
    return source, list(csv.DictReader(line for line in lines if not line.startswith("#")))


@lru_cache(maxsize=None)
def load_reference(name: str) -> Reference:
    path = DATA / f"{name}.csv"
    if name not in names():
        raise OctoError(f"reference {name!r}: not one of the release's curves ({', '.join(names())})")
    source, runs, points = "", {}, {}
    with path.open() as fh:
        lines = [line for line in fh]
    for line in lines:
        if not line.startswith("#"):
            break
        text = line[1:].strip()
        if text.startswith("curve "):
            curve, _, run = text[len("curve "):].partition(": W&B run ")
            runs[curve] = run
        else:
            source = text
    for row in csv.DictReader(line for line in lines if not line.startswith("#")):
        points.setdefault((row["curve"], row["benchmark"], row["metric"]), []).append((int(row["step"]), float(row["value"])))
    return Reference(name, source, runs, {k: sorted(v) for k, v in points.items()})


def resolve(spec: str) -> tuple[str, str | None]:
    """`octothinker-1b` (each model beside the curve of its own name) or `octothinker-1b-long` (every
    model beside that one curve): the reference's name and the curve, checked."""
    if spec in names():
        return spec, None
    head, _, curve = spec.rpartition("-")
    if head in names() and curve in load_reference(head).curves():
        return head, curve
    raise OctoError(f"reference {spec!r}: use one of {', '.join(names())}, or one of them and a curve "
                    "(octothinker-1b-long)")
