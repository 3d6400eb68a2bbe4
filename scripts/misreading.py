"""Where RL's greedy gains in the toy world come from: greedy held-out accuracy before and after RL on the
problems the world's QA source misreads ("triples", computed as "three more") and on the rest, for every
model RL started from, as a Markdown table.

    python scripts/misreading.py runs/fidelity
    python scripts/misreading.py runs/demo --models short hybrid

An accuracy is the mean over the run's seeds; its interval is Wilson's over the problems of that kind (not
over problems x seeds: a model's greedy answers before RL are the same in every seed).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from octothinker.data.synthetic import misread_applies
from octothinker.eval.records import HeldOutEval
from octothinker.eval.stats import wilson
from octothinker.study.layout import read_layout


def greedy_rows(eval_file: Path) -> tuple[HeldOutEval, HeldOutEval]:
    if not eval_file.is_file():
        raise SystemExit(f"{eval_file}: missing (has this RL run finished?)")
    rows = [HeldOutEval.model_validate_json(line) for line in eval_file.open() if line.strip()]
    greedy = sorted((r for r in rows if r.decoding == "greedy"), key=lambda r: r.step)
    if not greedy or greedy[0].correct_per_problem is None:
        raise SystemExit(f"{eval_file}: no greedy evaluation with per-problem counts")
    return greedy[0], greedy[-1]


def accuracy(rows: list[HeldOutEval], kind: list[bool]) -> tuple[float, int]:
    """Mean over seeds of the greedy accuracy on the problems where `kind` holds, and their number."""
    n = sum(kind[: len(rows[0].correct_per_problem)])
    per_seed = [sum(c for c, k in zip(r.correct_per_problem, kind) if k) / n for r in rows]
    return sum(per_seed) / len(per_seed), n


def cell(rows: list[HeldOutEval], kind: list[bool]) -> str:
    p, n = accuracy(rows, kind)
    low, high = wilson(p * n, n)
    return f"{100 * p:.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def table(run: Path, questions: Path, models: list[str] | None) -> str:
    misread = [misread_applies(json.loads(line)["question"]) for line in questions.open() if line.strip()]
    rest = [not m for m in misread]
    layout = read_layout(run)
    keys = models or list(dict.fromkeys(s.key for s in layout.subjects if "/" not in s.key))
    lines = [f"| RL from | seeds | misread problems ({sum(misread)}): greedy % before -> after | "
             f"other problems ({sum(rest)}): greedy % before -> after |", "|---|---|---|---|"]
    for key in keys:
        pairs = [greedy_rows(Path(s.rl) / "eval.jsonl") for s in layout.subjects if s.key == key]
        if not pairs:
            raise SystemExit(f"{run}: no RL run from {key!r} (it has: {', '.join(keys)})")
        before, after = [p[0] for p in pairs], [p[1] for p in pairs]
        lines.append(f"| {key} | {len(pairs)} | {cell(before, misread)} -> {cell(after, misread)} | "
                     f"{cell(before, rest)} -> {cell(after, rest)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--questions", type=Path, help="the held-out set (default: the run's world's test.jsonl)")
    parser.add_argument("--models", nargs="*", help="models RL started from (default: the main line's)")
    args = parser.parse_args()
    print(table(args.run, args.questions or args.run / "world" / "problems" / "test.jsonl", args.models))


if __name__ == "__main__":
    main()
