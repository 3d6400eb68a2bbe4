"""Where a study's time went: its manifest's stage times, summed by kind, as a Markdown table.

    python scripts/stage_times.py runs/demo
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# a stage's kind, from its name (seed-<s>/ and arm prefixes dropped)
KINDS = [("data", r"^(world|data\..*)$"), ("pre-training (base)", r"^base$"), ("stable", r"^stable$"),
         ("decay branches", r"^decay-"), ("probes", r"^probe-"), ("evaluation before RL", r"^eval-(?!rl-)"),
         ("RL (incl. its periodic held-out evaluation)", r"^rl-"), ("evaluation after RL", r"^eval-rl-"),
         ("report", r"^report$")]


def wall_seconds(stages: dict) -> float:
    """The time some stage was running: the union of the stages' intervals (a run with `jobs` > 1 runs
    some side by side; the gaps between a stopped run and its resumption do not count)."""
    spans = sorted((s["started"], s["started"] + s["seconds"]) for s in stages.values()
                   if s.get("started") is not None and s.get("seconds") is not None)
    total, end = 0.0, float("-inf")
    for start, stop in spans:
        total += max(0.0, stop - max(start, end))
        end = max(end, stop)
    return total


def table(run: Path) -> str:
    stages = json.loads((run / "manifest.json").read_text())["stages"]
    totals = {kind: 0.0 for kind, _ in KINDS}
    for name, stage in stages.items():
        short = name.rsplit("/", 1)[-1]
        kind = next(k for k, pattern in KINDS if re.search(pattern, short))
        totals[kind] += stage.get("seconds") or 0.0
    rows = [f"| {kind} | {seconds:.0f} |" for kind, seconds in totals.items() if seconds]
    rows.append(f"| **all stages** | **{sum(totals.values()):.0f}** |")
    wall = wall_seconds(stages)
    if wall < sum(totals.values()) - 1:
        rows.append(f"| **wall time of the stages** (some ran side by side) | **{wall:.0f}** |")
    return "\n".join(["| part | seconds |", "|---|---|", *rows])


if __name__ == "__main__":
    print(table(Path(sys.argv[1])))
