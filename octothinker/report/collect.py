"""Read a run directory into plain tables (no plotting here, so tests can check the numbers)."""

from __future__ import annotations

import json
from pathlib import Path

from octothinker.runs import read_jsonl


def midtrain_curves(run: Path) -> dict[str, list[tuple[int, float]]]:
    """Stage -> [(tokens seen since the first stage, loss)]: stable continues from the base, each decay
    branch from the end of stable."""
    curves: dict[str, list[tuple[int, float]]] = {}
    end = {"base": 0, "stable": 0}
    for stage in ["base", "stable"] + sorted(p.name for p in run.glob("decay-*")):
        rows = read_jsonl(run / stage / "metrics.jsonl")
        if not rows:
            continue
        start = {"base": 0, "stable": end["base"]}.get(stage, end["stable"])
        curves[stage] = [(start + r["tokens_seen"], r["loss"]) for r in rows]
        if stage in end:
            end[stage] = curves[stage][-1][0]
    return curves


def eval_table(run: Path) -> dict[str, dict[str, dict]]:
    """Model -> benchmark -> summary, from eval/<model>/<mode>/summary.json (models before RL first)."""
    table: dict[str, dict[str, dict]] = {}
    found = sorted(run.glob("eval/*/*/summary.json"), key=lambda p: (p.parent.parent.name.startswith("rl-"),
                                                                      p.stat().st_mtime))
    for summary in found:
        model, mode = summary.parent.parent.name, summary.parent.name
        for bench, s in json.loads(summary.read_text()).items():
            table.setdefault(f"{model} ({mode})", {})[bench] = s
    return table


def rl_dynamics(run: Path) -> dict[str, dict[str, list[dict]]]:
    """Benchmark -> starting model -> rows of eval.jsonl (step, accuracy, lengths)."""
    out: dict[str, dict[str, list[dict]]] = {}
    for path in sorted(run.glob("rl-*/eval.jsonl")):
        model = path.parent.name[len("rl-"):]
        for row in read_jsonl(path):
            out.setdefault(row["benchmark"], {}).setdefault(model, []).append(row)
    return out


def rl_training(run: Path) -> dict[str, list[dict]]:
    return {p.parent.name[len("rl-"):]: read_jsonl(p) for p in sorted(run.glob("rl-*/metrics.jsonl"))}


def probes(run: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(run.glob("probe/*/probe.json"))}


def ranks(values: list[float]) -> list[float]:
    """Average ranks (ties share the mean rank)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(x: list[float], y: list[float]) -> float | None:
    """Spearman rank correlation (written out: ten lines do not justify a SciPy dependency)."""
    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    var = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return cov / var if var else None
