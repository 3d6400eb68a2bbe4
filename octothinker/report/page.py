"""`octo report RUN_DIR`: PNG figures (matplotlib) and a static index.html, plus summary.md.

Figures: mid-training loss per stage; RL dynamics per benchmark (accuracy and mean response length over
RL steps, one line per starting model, as in the study's figures); RL training reward and length.
Tables: every model x benchmark; the RL-readiness probe, with its rank correlation to the RL outcome.
"""

from __future__ import annotations

import html
from pathlib import Path

from octothinker.report.collect import eval_table, midtrain_curves, probes, rl_dynamics, rl_training, spearman
from octothinker.runs import atomic_write_text


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_midtrain(curves: dict, path: Path) -> None:
    plt = _plt()
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


def plot_pair(per_model: dict[str, list[dict]], left: tuple[str, str, str], right: tuple[str, str, str],
              path: Path, marker: str | None = None) -> None:
    """Two panels over RL steps, one line per starting model; each panel is (key, title, y label)."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for model, rows in per_model.items():
        steps = [r["step"] for r in rows]
        for ax, (key, _, _) in zip(axes, (left, right)):
            ax.plot(steps, [r[key] for r in rows], marker=marker, ms=3, label=model)
    for ax, (_, title, ylabel) in zip(axes, (left, right)):
        ax.set_title(title)
        ax.set_xlabel("RL step")
        ax.set_ylabel(ylabel)
    axes[0].legend(title="RL from")
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


def probe_correlation(probe: dict[str, dict], dynamics: dict[str, dict[str, list[dict]]], bench: str | None) -> dict:
    """Does the probe rank the models the way RL did? Spearman between probe pass@k and the last RL accuracy."""
    if not bench or bench not in dynamics:
        return {}
    final = {m: rows[-1]["accuracy"] for m, rows in dynamics[bench].items()}
    models = [m for m in probe if m in final]
    if len(models) < 3:
        return {"models": models, "spearman": None}
    k_key = next(k for k in probe[models[0]] if k.startswith("pass@") and k != "pass@1")
    return {"models": models, "benchmark": bench, "probe_metric": k_key,
            "spearman": spearman([probe[m][k_key] for m in models], [final[m] for m in models])}


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of `run_dir` into `out` (default `<run_dir>/report`)."""
    run = Path(run_dir)
    out = Path(out) if out is not None else run / "report"
    out.mkdir(parents=True, exist_ok=True)
    sections_html, sections_md = [], [f"# Study report: {run.name}\n"]

    curves = midtrain_curves(run)
    if curves:
        plot_midtrain(curves, out / "midtrain_loss.png")
        sections_html.append('<h2>Mid-training</h2><img src="midtrain_loss.png">')
        rows = [[stage, str(points[-1][0]), f"{points[0][1]:.3f}", f"{points[-1][1]:.3f}"] for stage, points in curves.items()]
        sections_md.append("## Mid-training\n\n" + _md_table(["stage", "tokens (end)", "first loss", "last loss"], rows))

    table = eval_table(run)
    if table:
        benches = sorted({b for s in table.values() for b in s})
        rows = [[model] + [f"{table[model][b]['accuracy']:.1f}" if b in table[model] else "" for b in benches]
                for model in table]
        sections_html.append("<h2>Evaluation (accuracy %)</h2>" + _html_table(["model"] + benches, rows))
        sections_md.append("## Evaluation (accuracy %)\n\nFew-shot for models before RL, zero-shot after RL.\n\n"
                           + _md_table(["model"] + benches, rows))

    dynamics = rl_dynamics(run)
    if dynamics:
        sections_html.append("<h2>RL dynamics</h2>")
        sections_md.append("## RL dynamics (accuracy %, mean response tokens; first -> last evaluation)\n")
        rows = []
        for bench, per_model in dynamics.items():
            name = f"rl_{bench}.png"
            plot_pair(per_model, ("accuracy", f"{bench}: accuracy during RL", "accuracy (%)"),
                      ("mean_response_tokens", f"{bench}: mean response length during RL", "tokens"), out / name, "o")
            sections_html.append(f'<h3>{html.escape(bench)}</h3><img src="{name}">')
            for model, r in per_model.items():
                rows.append([bench, model, f"{r[0]['accuracy']:.1f} -> {r[-1]['accuracy']:.1f}",
                             f"{r[0]['mean_response_tokens']:.0f} -> {r[-1]['mean_response_tokens']:.0f}"])
        sections_md.append(_md_table(["benchmark", "RL from", "accuracy", "mean length"], rows))
    training = rl_training(run)
    if training:
        plot_pair(training, ("reward", "training reward", "reward"),
                  ("response_length", "mean rollout length", "tokens"), out / "rl_training.png")
        sections_html.append('<h3>RL training</h3><img src="rl_training.png">')

    probe = probes(run)
    if probe:
        keys = [k for k in next(iter(probe.values())) if k.startswith("pass@")] + [
            "answer_extracted", "truncated", "mean_response_tokens", "repetition"]
        rows = [[m] + [f"{p[k]:.1f}" for k in keys] for m, p in probe.items()]
        corr = probe_correlation(probe, dynamics, next(iter(dynamics), None))
        if corr.get("spearman") is not None:
            verdict = (f"Spearman correlation between probe {corr['probe_metric']} and the last RL accuracy on "
                       f"{corr['benchmark']}, over {len(corr['models'])} models: {corr['spearman']:+.2f} "
                       + ("(the probe ranked the models as RL did)" if corr["spearman"] > 0.5 else
                          "(the probe did not rank the models as RL did)"))
        else:
            verdict = "Too few models (or no spread) to correlate the probe with the RL outcome."
        sections_html.append("<h2>RL-readiness probe (before RL)</h2>" + _html_table(["model"] + keys, rows)
                             + f"<p>{html.escape(verdict)}</p>")
        sections_md.append("## RL-readiness probe (before RL)\n\n" + _md_table(["model"] + keys, rows) + "\n" + verdict + "\n")

    page = ("<!doctype html><html><head><meta charset='utf-8'><title>octothinker report</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}img{max-width:100%}</style></head><body>"
            f"<h1>Study report: {html.escape(run.name)}</h1>" + "".join(sections_html) + "</body></html>")
    atomic_write_text(out / "index.html", page)
    atomic_write_text(out / "summary.md", "\n".join(sections_md))
    return out
