"""`octo report RUN_DIR`: the findings with intervals and verdicts, PNG figures (matplotlib), a static
index.html, summary.md and findings.json.

Sections: Findings (each claim of the study, its measured effect with a 95% interval, and a verdict);
the setup (seeds, problems, samples, threads, CPU, software); before and after RL (accuracy with
intervals next to the question-independent baselines); RL dynamics (each seed faint, the mean over
seeds bold with its interval band); evaluation; the RL-readiness probe; mid-training loss.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from octothinker.errors import OctoError
from octothinker.eval.records import ProbeReport
from octothinker.eval.stats import bootstrap, mean, wilson
from octothinker.report import paper
from octothinker.report.collect import (eval_table, loss_warnings, midtrain_curves, prompts_used, rl_eval_curves,
                                       rl_training)
from octothinker.report.plotting import pyplot
from octothinker.report.reference import load_reference, load_table, resolve
from octothinker.report.findings import Finding, all_findings, before_after, curve, load_results, model_keys
from octothinker.runs import atomic_write_json, atomic_write_text
from octothinker.runs.files import PROVENANCE
from octothinker.study.layout import RunLayout, StudyLayout, data_reports, read_layout


def _ci(e: tuple[float, float, float] | list, digits: int = 1) -> str:
    point, lo, hi = e
    if math.isnan(point):
        return "n/a"
    return f"{point:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def _signed(e: tuple[float, float, float]) -> str:
    point, lo, hi = e
    return "n/a" if math.isnan(point) else f"{point:+.1f} [{lo:+.1f}, {hi:+.1f}]"


def plot_midtrain(curves: dict, path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for stage, points in curves.items():
        ax.plot([t for t, _ in points], [loss for _, loss in points], label=stage)
    ax.set_xlabel("tokens")
    ax.set_ylabel("training loss")
    ax.set_title("Pre-training (base), stable stage and decay branches")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_dynamics(curves: dict[str, dict], benchmark: str, path: Path) -> None:
    """Accuracy, response length and the share of answers cut at the token limit over RL steps: each seed
    faint, the mean over seeds bold, and the 95% interval of the mean as a band."""
    plt = pyplot()
    fig, (acc, length, cut) = plt.subplots(1, 3, figsize=(16, 4))
    for i, (model, c) in enumerate(curves.items()):
        color = f"C{i % 10}"
        for seed_curve in c["seeds"].values():
            acc.plot(c["steps"][:len(seed_curve["accuracy"])], seed_curve["accuracy"], color=color, alpha=0.25, lw=1)
            length.plot(c["steps"][:len(seed_curve["length"])], seed_curve["length"], color=color, alpha=0.25, lw=1)
            cut.plot(c["steps"][:len(seed_curve["truncated"])], seed_curve["truncated"], color=color, lw=1.2,
                     label=model if seed_curve is next(iter(c["seeds"].values())) else None)
        steps = c["steps"][:len(c["mean"])]
        acc.plot(steps, c["mean"], color=color, lw=2.2, marker="o", ms=3, label=model)
        acc.fill_between(steps, c["lo"], c["hi"], color=color, alpha=0.15)
        length.plot(steps, c["length_mean"], color=color, lw=2.2, marker="o", ms=3, label=model)
    acc.set_title(f"{benchmark}: held-out accuracy during RL")
    acc.set_ylabel("accuracy (%)")
    length.set_title(f"{benchmark}: mean response length during RL")
    length.set_ylabel("tokens")
    cut.set_title(f"{benchmark}: answers cut at the token limit")
    cut.set_ylabel("% of answers")
    for ax in (acc, length, cut):
        ax.set_xlabel("RL step")
    acc.legend(title="RL from", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_training(training: dict[str, list[dict]], path: Path) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for model, rows in training.items():
        steps = [r["step"] for r in rows]
        axes[0].plot(steps, [r["reward"] for r in rows], label=model)
        axes[1].plot(steps, [r["response_length"] for r in rows], label=model)
        axes[2].plot(steps, [r.get("truncation_rate", float("nan")) for r in rows], label=model)
    for ax, title, ylabel in zip(axes, ("training reward", "mean rollout length", "rollouts cut at the length limit"),
                                 ("reward", "tokens", "%")):
        ax.set_title(title)
        ax.set_xlabel("RL step")
        ax.set_ylabel(ylabel)
    axes[0].legend(title="RL from", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                     + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def findings_rows(found: list[Finding]) -> list[list[str]]:
    rows = []
    for f in found:
        seeds = "; ".join(f"seed {s}: {f.effect_text(e)}" for s, e in f.per_seed.items())
        rows.append([f.claim, f"{f.measure}: {f.effect_text()}" + (f" ({f.note})" if f.note else ""), seeds,
                     f.verdict])
    return rows


def _setup(run: Path, layout: RunLayout, results: dict) -> str:
    path = StudyLayout.of(run, None).manifest
    manifest = json.loads(path.read_text()) if path.is_file() else {}
    first = next(iter(results.values()), None)
    parts = [f"seeds {', '.join(map(str, layout.seeds))}"]
    if first is not None:
        parts.append(f"held-out set `{first.benchmark}`: {len(first.start)} problems x {first.samples} "
                     f"sample(s) per evaluation")
    parts += [f"{k} {manifest[k]}" for k in ("octothinker", "torch", "transformers", "numpy", "python")
              if manifest.get(k)]
    recipe = manifest.get("recipe", {})
    threads = recipe.get("threads") or manifest.get("torch_threads")
    if recipe.get("jobs", 1) > 1 and recipe.get("threads"):
        threads = f"{threads} (and {max(1, threads // recipe['jobs'])} each for the stages run {recipe['jobs']} at a time)"
    kernels = f", torch kernels {manifest['cpu_kernels']}" if manifest.get("cpu_kernels") else ""
    parts.append(f"CPU {manifest.get('cpu', '?')} ({manifest.get('cpu_count', '?')} cores{kernels}), {threads} torch "
                 "threads (training results are bit-exact only at the same thread count and CPU kernels)")
    if manifest.get("git_revision"):
        parts.append(f"commit {manifest['git_revision'][:12]}")
    if manifest.get(PROVENANCE):
        parts.append(f"provenance key {manifest[PROVENANCE]} (of every stage's settings and inputs' contents: "
                     "manifest.json; each stage's own in its summary.json)")
    return "; ".join(parts) + "."


def probe_rows(layout: RunLayout) -> tuple[list[str], list[list[str]]]:
    rows, keys = [], []
    for s in layout.first_seed():
        path = Path(s.probe)
        if not path.is_file():
            continue
        p = ProbeReport.read(path)
        correct = p.correct_per_problem or []
        per_problem = [c / p.k for c in correct]
        interval = bootstrap([per_problem], mean) if per_problem else (float("nan"),) * 3
        lo, hi = wilson(sum(c > 0 for c in correct), p.problems)
        keys = ["pass@1 % [CI]", f"pass@{p.k} % [CI]", "boxed %", "truncated %", "mean tokens", "repetition %"]
        rows.append([s.key, _ci([100 * v for v in interval]), _ci([p.pass_at_k, 100 * lo, 100 * hi]),
                     f"{p.boxed:.1f}", f"{p.truncated:.1f}", f"{p.mean_response_tokens:.0f}", f"{p.repetition:.1f}"])
    return ["model (seed %d)" % layout.seeds[0], *keys], rows


def data_rows(run: Path) -> tuple[list[str], list[list[str]], list[str]]:
    """The sources of every data section the run built (`data/<section>/report.json`), and their warnings."""
    rows, warnings = [], []
    for path in data_reports(run):
        report = json.loads(path.read_text())
        for name, s in report["steps"].items():
            t = s.get("token_lengths", {})
            rejected = ", ".join(f"{reason} {n}" for reason, n in s.get("rejected", {}).items()) or "-"
            rows.append([path.parent.name, name, str(s["read"] + s.get("bad_json", 0)), str(s["kept"]), rejected,
                         f"{t.get('p10', '-')} / {t.get('p50', '-')} / {t.get('p90', '-')}",
                         f"{s.get('boxed_share', 0):.0%}"])
        warnings += [f"data.{path.parent.name}: {w}" for w in report.get("warnings", [])]
    header = ["section", "source", "records", "kept", "no document (why)", "tokens p10 / p50 / p90", "boxed answer"]
    return header, rows, warnings


CONTENTS = "contents.json"


def _recorded_reference(run: Path) -> str | None:
    """The paper's curves the run's recipe names (`reference:`), if any."""
    try:
        return json.loads(StudyLayout.of(run, None).manifest.read_text()).get("recipe", {}).get("reference")
    except (OSError, json.JSONDecodeError):
        return None


def _contents(results: dict, layout: RunLayout) -> dict[str, int]:
    """What a report is made of, counted: a new report of a run never has less than the one it replaces."""
    return {"RL evaluations": len(results), "evaluations": sum(len(b) for b in eval_table(layout).values()),
            "probes": len(probe_rows(layout)[1]), "RL training curves": len(rl_training(layout))}


@dataclass
class Section:
    """One section of the report, built once and rendered twice (summary.md, index.html)."""
    title: str
    note: str = ""                       # before the table
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    empty: str = ""                      # said instead of the table when it has no rows
    after: str = ""                      # after the table
    warnings: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    figure_note: str = ""


def _markdown(s: Section) -> str:
    parts = [f"## {s.title}\n"] + ([s.note + "\n"] if s.note else [])
    parts.append(_md_table(s.header, s.rows) if s.rows else s.empty + "\n" if s.empty else "")
    parts += [f"- WARNING: {w}" for w in s.warnings]
    parts += [s.after + "\n"] if s.after else []
    if s.figures:
        parts.append(f"Figures: {', '.join(s.figures)}" + (f" ({s.figure_note})" if s.figure_note else "") + ".\n")
    return "\n".join(p for p in parts if p)


def _html(s: Section) -> str:
    return (f"<h2>{html.escape(s.title)}</h2>" + (f"<p>{html.escape(s.note)}</p>" if s.note else "")
            + (_html_table(s.header, s.rows) if s.rows else f"<p>{html.escape(s.empty)}</p>" if s.empty else "")
            + "".join(f"<p>WARNING: {html.escape(w)}</p>" for w in s.warnings)
            + (f"<p>{html.escape(s.after)}</p>" if s.after else "")
            + (f"<p>{html.escape(s.figure_note)}</p>" if s.figures and s.figure_note else "")
            + "".join(f'<img src="{html.escape(f)}">' for f in s.figures))


def _findings_section(found: list[Finding], setup: str, warnings: list[str]) -> Section:
    """The findings, then what they rest on: the losses said aloud by the run's stages, and the setup."""
    return Section("Findings", header=["claim", "measured effect [95% interval]", "per seed", "verdict"],
                   rows=findings_rows(found), empty="No RL evaluations to measure claims on.", after=setup,
                   warnings=warnings)


def _rl_sections(results: dict, keys: list[str], table: list[dict], out: Path) -> list[Section]:
    header = ["RL from", "seeds", "problems x samples", "before RL % [CI]", "after RL % [CI]", "gain [CI]",
              "question-independent % (most common / model's shuffled, before -> after)", "mean tokens before -> after",
              "truncated % before -> after", "greedy % before -> after"]
    rows = [[t["key"], str(len(t["seeds"])), f"{t['problems']} x {t['samples']}", _ci(t["start"]), _ci(t["end"]),
             _signed(t["gain"]), f"{t['baseline_most_common']:.1f} / {t['baseline_shuffled_start']:.1f} -> "
             f"{t['baseline_shuffled_end']:.1f}", f"{t['length_start']:.0f} -> {t['length_end']:.0f}",
             f"{t['truncated_start']:.1f} -> {t['truncated_end']:.1f}",
             f"{_ci(t['greedy_start'])} -> {_ci(t['greedy_end'])}" if "greedy_start" in t else "-"] for t in table]
    note = (f"Held-out accuracy on `{table[0]['benchmark']}`, the same prompt and sampling before and after RL "
            "(the RL run's evaluation at step 0 and at its last step); with several seeds, the mean over seeds.")
    main = [k for k in keys if "/" not in k]
    arms = [k for k in keys if "/" in k]
    figures = []
    for name, group in (("rl_dynamics.png", main), ("rl_dynamics_arms.png", arms + [k for k in main if k == "base"])):
        if group and (name == "rl_dynamics.png" or arms):
            plot_dynamics({k: curve(results, k) for k in group}, table[0]["benchmark"], out / name)
            figures.append(name)
    return [Section("Before and after RL", note, header, rows),
            Section("RL dynamics", figures=figures, figure_note="each seed faint, the mean over seeds bold with its "
                                                                "95% interval")]


def _eval_section(layout: RunLayout) -> Section | None:
    evals = eval_table(layout)
    if not evals:
        return None
    benches = sorted({b for s in evals.values() for b in s})
    harness = {model: sorted({s.get("harness", "ours") for s in evals[model].values()}) for model in evals}
    rows = [[model, ", ".join(harness[model])] + [(_ci([s["accuracy"], *s["accuracy_ci"]]) + (f" (q-indep. {s['baseline']['most_common']:.0f})"
                                                                     if "baseline" in s else "")
                        + f"; cut {s.get('truncation_rate', float('nan')):.0f}%")
                       if (s := evals[model].get(b)) and "accuracy_ci" in s else
                       f"{evals[model][b]['accuracy']:.1f}" if b in evals[model] else "" for b in benches]
            for model in evals]
    used = prompts_used(layout)
    note = ("Accuracy % [95% interval] (the most common answer's accuracy in brackets); cut: the share of "
            "answers cut at the token limit, graded by the cut-off rule in each folder's summary.json; first seed. "
            "Harness: `ours`, or `release` (the release's own prompts, stop words and grading, quirks kept: "
            "the only numbers to set beside the paper's; docs/RELEASE_HARNESS.md)."
            + (f" Prompts: {'; '.join(used)}." if used else ""))
    return Section("Evaluation", note, ["model", "harness"] + benches, rows)


def _release_tables(reference: str) -> list[Section]:
    """The release's own reference tables for the reference's model size: its few-shot evaluation of its
    1B mid-trained models, its pass@k figure at 3B."""
    name = resolve(reference)[0]
    sections = []
    if name == "octothinker-1b":
        source, rows = load_table("cpt-1b")
        benches = sorted({r["benchmark"] for r in rows})
        blocks = list(dict.fromkeys((r["label"], r["block"]) for r in rows))
        cells = {(r["label"], r["block"], r["benchmark"]): r for r in rows}
        table = [[f"{label} ({block})"] + [f"{float(c['accuracy']):.1f} (n={c['problems']})"
                                           if (c := cells.get((label, block, b))) else "" for b in benches]
                 for label, block in blocks]
        sections.append(Section("The release's evaluation of its 1B mid-trained models", (
            f"Accuracy % as the release measured it with its own harness (the paper's own numbers, one run, no "
            f"interval; source: {source}). Beside the Evaluation table, only rows made with the release harness "
            "(`release_dir` named in the recipe) are measured alike."), ["model (block)"] + benches, table))
    if name == "octothinker-3b":
        source, rows = load_table("pass-at-k-3b")
        ks = sorted({int(r["k"]) for r in rows})
        models = list(dict.fromkeys(r["model"] for r in rows))
        cells = {(r["model"], int(r["k"])): float(r["pass_at_k"]) for r in rows}
        sections.append(Section("The release's pass@k on MATH-500 (3B)", (
            f"pass@k % from the release's figure (source: {source}); the probe's pass@k above is measured on "
            "its own prompts, so the two are read side by side, not subtracted."),
            ["model"] + [f"k={k}" for k in ks],
            [[m] + [f"{cells[(m, k)]:.1f}" if (m, k) in cells else "" for k in ks] for m in models]))
    return sections


def _probe_section(layout: RunLayout) -> Section | None:
    header, rows = probe_rows(layout)
    return Section("RL-readiness probe (before RL)", header=header, rows=rows) if rows else None


def _midtrain_section(layout: RunLayout, out: Path) -> Section | None:
    curves = midtrain_curves(layout)
    if not curves:
        return None
    plot_midtrain(curves, out / "midtrain_loss.png")
    rows = [[stage, str(points[-1][0]), f"{points[0][1]:.3f}", f"{points[-1][1]:.3f}"] for stage, points in curves.items()]
    return Section("Mid-training (first seed)", header=["stage", "tokens (end)", "first loss", "last loss"], rows=rows,
                   figures=["midtrain_loss.png"])


def _data_section(run: Path) -> Section | None:
    header, rows, warnings = data_rows(run)
    if not rows:
        return None
    return Section("Data", "Each data section's sources as built: records read and kept, why the rest made no "
                   "document, token lengths.", header, rows, warnings=warnings)


def _reference_section(layout: RunLayout, reference: str, out: Path) -> Section:
    curves = rl_eval_curves(layout)
    header, rows = paper.table(curves, reference)
    drawn = paper.plot(curves, reference, out / "reference.png")
    note = (f"Your RL curves beside the paper's ({reference}: {load_reference(resolve(reference)[0]).source}). The "
            "paper's values are one run each, without an interval, on its own models and budget: a paper value "
            "inside your interval is no measurable difference.")
    return Section(f"Beside the paper ({reference})", note, header, rows,
                   empty="No step that both your run and the paper validated.",
                   figures=["reference.png"] if drawn else [], figure_note="yours solid, the paper's dashed")


def _training_section(layout: RunLayout, out: Path) -> Section | None:
    training = rl_training(layout)
    if not training:
        return None
    plot_training(training, out / "rl_training.png")
    return Section("RL training", figures=["rl_training.png"],
                   figure_note="reward, response length and the share of cut responses per step, first seed")


def write_report(run_dir: str | Path, out: str | Path | None = None, reference: str | None = None) -> Path:
    """Write the report of `run_dir` into `out` (default `<run_dir>/report`), its RL curves beside the
    paper's `reference` (default: the one the run's recipe names). A report that would hold less than
    the one already in `out` (results missing: a folder moved without its stages, a stage removed) is
    refused, and the old one kept."""
    run = Path(run_dir)
    out = Path(out) if out is not None else StudyLayout.of(run, None).report
    layout = read_layout(run)
    reference = reference or _recorded_reference(run)
    if reference is not None:
        resolve(reference)  # an unknown name fails before anything is written
    results = load_results(layout)
    contents = _contents(results, layout)
    try:
        before = json.loads((out / CONTENTS).read_text())
    except (OSError, json.JSONDecodeError):
        before = {}
    fewer = [f"{k} {before[k]} -> {n}" for k, n in contents.items() if n < before.get(k, 0)]
    if fewer:
        raise OctoError(f"{out}: the report there holds more than this run now gives ({', '.join(fewer)}); kept "
                        "it. Are the run's stage folders all there?")
    out.mkdir(parents=True, exist_ok=True)
    found = all_findings(results, layout)
    sections = [_findings_section(found, _setup(run, layout, results), loss_warnings(run, layout))]
    keys = model_keys(results)
    if keys:
        table = [before_after(results, k) for k in keys]
        sections += _rl_sections(results, keys, table, out)
        atomic_write_json(out / "findings.json", {"findings": [f.__dict__ | {"effect": list(f.effect)} for f in found],
                                                  "before_after": table, "layout": layout.model_dump()})
    sections += [_eval_section(layout), _probe_section(layout), _midtrain_section(layout, out), _data_section(run)]
    if reference is not None:
        sections.append(_reference_section(layout, reference, out))
        sections += _release_tables(reference)
    sections.append(_training_section(layout, out))
    sections = [s for s in sections if s is not None]

    page = ("<!doctype html><html><head><meta charset='utf-8'><title>octothinker report</title><style>"
            "body{font-family:sans-serif;max-width:1200px;margin:2em auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}img{max-width:100%}"
            "</style></head><body>"
            f"<h1>Study report: {html.escape(run.name)}</h1>" + "".join(map(_html, sections)) + "</body></html>")
    atomic_write_text(out / "index.html", page)
    atomic_write_text(out / "summary.md", "\n".join([f"# Study report: {run.name}\n", *map(_markdown, sections)]))
    atomic_write_json(out / CONTENTS, contents)
    return out
