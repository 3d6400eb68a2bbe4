"""The one loss rule. Every reader and filter that drops records (RL's prompts, a data source's records,
a data preview's sample, evaluation problems, the probe's prompts) accounts for them here: what came in,
what went out, why the rest was dropped, with the first example of each reason.

    losses = Losses("RL prompts", "prompts.jsonl", limit=0.10, came_in=100)
    losses.drop("too_long", "prompts.jsonl:3: 812 tokens, over 400")
    losses.settle(strict=False)          # over the limit: a WARNING line on stderr (strict: an error)
    summary["losses"] = {"prompts": losses.record()}

A share dropped over `limit` is said aloud: on the console, in the stage's summary (`warning`, read by
the report's setup section), and with `strict` it stops the stage before any work on what is left.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from octothinker.errors import DataError

# RL prompts and evaluation problems: the share that may be dropped before it is said aloud.
DEFAULT_LIMIT = 0.10


class LossError(DataError):
    """More was dropped than allowed, under `strict`."""


@dataclass
class Losses:
    what: str                             # "RL prompts", "source 'web'"
    source: str                           # the file (or files) read
    limit: float                          # the share that may be dropped without a warning
    came_in: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)

    def drop(self, reason: str, example: str, count: int = 1) -> None:
        if count <= 0:
            return
        self.dropped[reason] = self.dropped.get(reason, 0) + count
        self.examples.setdefault(reason, example)

    @property
    def went_out(self) -> int:
        return self.came_in - sum(self.dropped.values())

    @property
    def share(self) -> float:
        return sum(self.dropped.values()) / self.came_in if self.came_in else 0.0

    def message(self) -> str:
        """`RL prompts (p.jsonl): 90 of 100 dropped (90%, over the 10% allowed): too_long 90 (e.g. ...)`"""
        reasons = "; ".join(f"{r} {n} (e.g. {self.examples[r]})" for r, n in
                            sorted(self.dropped.items(), key=lambda kv: -kv[1]))
        return (f"{self.what} ({self.source}): {sum(self.dropped.values())} of {self.came_in} dropped "
                f"({self.share:.0%}, over the {self.limit:.0%} allowed): {reasons}")

    def warning(self) -> str | None:
        return self.message() if self.share > self.limit else None

    def record(self) -> dict:
        """What a stage's summary keeps: in, out, each reason's count and example, and the warning."""
        return {"in": self.came_in, "out": self.went_out, "dropped": dict(self.dropped),
                "examples": dict(self.examples), "limit": self.limit, "warning": self.warning()}

    def check(self, strict: bool = False) -> str | None:
        """The warning, or None; with `strict`, a loss over the limit is a LossError instead."""
        warning = self.warning()
        if warning is not None and strict:
            raise LossError(f"{warning} [strict: more dropped than allowed]")
        return warning

    def settle(self, strict: bool = False, log=None) -> str | None:
        """`check`, and a loss over the limit said once as a WARNING line (stderr, or `log`)."""
        warning = self.check(strict)
        if warning is not None:
            (log or (lambda line: print(line, file=sys.stderr, flush=True)))(f"WARNING: {warning}")
        return warning


def recorded_warnings(summary: dict) -> list[str]:
    """The loss warnings a stage's summary recorded (`losses: {name: record}`), for the report."""
    return [r["warning"] for r in (summary.get("losses") or {}).values() if isinstance(r, dict) and r.get("warning")]
