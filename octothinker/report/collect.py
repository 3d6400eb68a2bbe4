"""Read a run directory into plain tables (no plotting here, so tests can check the numbers)."""

from __future__ import annotations

import json
from pathlib import Path

from octothinker.errors import OctoError
from octothinker.eval.records import HeldOutEval
from octothinker.runs import read_jsonl
from octothinker.runs.files import PROVENANCE
from octothinker.runs.losses import recorded_warnings
from octothinker.study.layout import RunLayout, StudyLayout, data_reports, read_layout
from octothinker.tasks.templates import TEMPLATES, template_file


def midtrain_curves(layout: RunLayout) -> dict[str, list[tuple[int, float]]]:
    """Stage -> [(tokens seen since the first stage, loss)]: stable continues from the base, each decay
    branch from the end of stable."""
    curves: dict[str, list[tuple[int, float]]] = {}
    end = {"base": 0, "stable": 0}
    for stage, folder in layout.midtrain_stages():
        rows = read_jsonl(folder / "metrics.jsonl")
        if not rows:
            continue
        start = {"base": 0, "stable": end["base"]}.get(stage, end["stable"])
        curves[stage] = [(start + r["tokens_seen"], r["loss"]) for r in rows]
        if stage in end:
            end[stage] = curves[stage][-1][0]
    return curves


def eval_table(layout: RunLayout) -> dict[str, dict[str, dict]]:
    """"<model> (<mode>)" -> benchmark -> summary, for the first seed (models before RL first)."""
    table: dict[str, dict[str, dict]] = {}
    for e in layout.first_seed_evaluations():
        summary = Path(e.folder) / "summary.json"
        if summary.is_file():
            for bench, s in json.loads(summary.read_text()).items():
                if bench == PROVENANCE:
                    continue
                table.setdefault(f"{e.label} ({e.mode})", {})[bench] = s
    return table


def rl_training(layout: RunLayout) -> dict[str, list[dict]]:
    """Model -> RL training rows (reward, length), for the first seed."""
    return {s.key: rows for s in layout.first_seed() for rows in [read_jsonl(Path(s.rl) / "metrics.jsonl")] if rows}


def loss_warnings(run: Path, layout: RunLayout) -> list[str]:
    """Every loss over its limit the run's stages recorded (the loss rule, `runs.losses`): the data
    sections' sources and RL's prompts, each said once with the stages it touched."""
    found: dict[str, list[str]] = {}
    for path in data_reports(run):
        for warning in recorded_warnings(json.loads(path.read_text())):
            found.setdefault(warning, []).append(f"data.{path.parent.name}")
    for s in layout.subjects:
        path = Path(s.rl) / "summary.json"
        if path.is_file():
            for warning in recorded_warnings(json.loads(path.read_text())):
                found.setdefault(warning, []).append(f"RL from {s.key}" + (f" (seed {s.seed})" if len(layout.seeds) > 1 else ""))
    return [f"{warning} [{', '.join(where)}]" for warning, where in found.items()]


def check_finished(run: Path) -> None:
    """`octo report` reads finished runs only: a folder without a run in it, or a run with stages not
    finished, is refused (a report of it would say less than the run will, or nothing at all)."""
    manifest = StudyLayout.of(run, None).manifest
    if manifest.is_file():
        try:
            stages = json.loads(manifest.read_text()).get("stages", {})
        except json.JSONDecodeError:
            raise OctoError(f"{manifest}: not valid JSON; is this a run folder?") from None
        open_ = [f"{name} ({entry.get('status')})" for name, entry in stages.items()
                 if name != "report" and entry.get("status") != "done"]
        if open_:
            raise OctoError(f"{run}: not a finished run: {', '.join(open_[:4])}{', ...' if len(open_) > 4 else ''} "
                            "not done; `octo run` on its recipe finishes it")
        return
    if not read_layout(run).subjects:
        raise OctoError(f"{run}: not a run folder (no manifest.json, no rl-<model>/ folders)")


def rl_eval_curves(layout: RunLayout) -> dict[str, dict[str, list[HeldOutEval]]]:
    """Model -> benchmark -> its RL run's evaluation rows of the primary decoding (the first a row has),
    by step, for the first seed."""
    curves: dict[str, dict[str, list[HeldOutEval]]] = {}
    for s in layout.first_seed():
        rows = [HeldOutEval.model_validate(r) for r in read_jsonl(Path(s.rl) / "eval.jsonl")]
        if not rows or rows[0].correct_per_problem is None:
            continue
        for r in rows:
            if r.decoding == rows[0].decoding:
                curves.setdefault(s.key, {}).setdefault(r.benchmark, []).append(r)
    return curves


def prompts_used(layout: RunLayout) -> list[str]:
    """The prompts the first seed's RL runs and evaluations were made with, as their config.json files
    record them: RL's template, and per evaluation mode its template or few-shot exemplars."""
    subjects = layout.first_seed()
    configs = [p for s in subjects for p in [Path(s.rl) / "config.json"] if p.is_file()]
    configs += sorted({p for e in layout.first_seed_evaluations() for p in [Path(e.folder) / "config.json"] if p.is_file()})

    def shown(template: str) -> str:  # a string template in quotes, its newlines escaped: one line of the report
        return template if template in TEMPLATES or template_file(template) else json.dumps(template)

    used = []
    for path in configs:
        cfg = json.loads(path.read_text()).get("config", {})
        if "mode" not in cfg:
            line = f"RL: template {shown(cfg.get('template', ''))}"
        elif cfg["mode"] == "zero-shot":
            line = f"evaluation zero-shot: template {shown(cfg.get('template', ''))}"
        else:
            line = f"evaluation few-shot: {'exemplars ' + cfg['fewshot_file'] if cfg.get('fewshot_file') else 'the per-benchmark exemplars of tasks/fewshot.py'}"
        if line not in used:
            used.append(line)
    return used
