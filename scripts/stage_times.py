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


def table(run: Path) -> str:
    stages = json.loads((run / "manifest.json").read_text())["stages"]
    totals = {kind: 0.0 for kind, _ in KINDS}
    for name, stage in stages.items():
        short = name.rsplit("/", 1)[-1]
        kind = next(k for k, pattern in KINDS if re.search(pattern, short))
        totals[kind] += stage.get("seconds") or 0.0
    rows = [f"| {kind} | {seconds:.0f} |" for kind, seconds in totals.items() if seconds]
    return "\n".join(["| part | seconds |", "|---|---|", *rows, f"| **all stages** | **{sum(totals.values()):.0f}** |"])


if __name__ == "__main__":
    print(table(Path(sys.argv[1])))
