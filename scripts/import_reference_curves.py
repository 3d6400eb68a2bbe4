"""Carry the OctoThinker release's published RL curves (its `plot/data/`, W&B exports) into the project
as tidy CSV files, one per figure, read by `octothinker.report.reference`.

    git clone https://github.com/GAIR-NLP/OctoThinker /tmp/OctoThinker
    python scripts/import_reference_curves.py /tmp/OctoThinker

Only values are carried, with their source (repository, commit, file, W&B run) in each row; the
release's code is not. Each folder with the release's `acc_<benchmark>.csv` / `length_<benchmark>.csv`
layout becomes `octothinker/report/reference_data/<name>.csv`, columns `curve,benchmark,metric,step,value`
(accuracy in %, length in tokens), under `#` lines naming the source and each curve's W&B run. Folders exported under
W&B's own file names (`analysis_longcot`, `analysis_shortqa`) name the benchmark and metric in each
column's header instead (`... - val/test_score/MATH500`), which is read. The release's length is
`test_length_correct`: the mean length of right answers.

Two more tables, values only:
- `plot/data/cpt_results/stable.json`: the release's few-shot evaluation (its own harness) of its 1B
  mid-trained models, 13 benchmarks each, in labelled blocks -> `cpt-1b.csv` (label, block, benchmark,
  accuracy %, problems), under `tables/`;
- `plot/plot/pass_k.ipynb`: the pass@k values of its MATH-500 figure (the `performance` mapping, read from
  the notebook's cell as a literal, never run) -> `tables/pass-at-k-3b.csv` (model, k, pass@k %).
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "octothinker" / "report" / "reference_data"

# release folder -> reference name
FOLDERS = {
    "octothinker/1b": "octothinker-1b", "octothinker/3b": "octothinker-3b", "motivation": "llama-vs-qwen-3b",
    "analysis_data_quality": "ablation-data-quality", "analysis_data_quantity": "ablation-data-quantity",
    "analysis_qa": "ablation-qa", "analysis_instruction": "ablation-instruction",
    "analysis_longcot_instruction": "ablation-longcot-instruction", "analysis_longcot_template": "ablation-template",
    "analysis_length_scheduler": "ablation-length-scheduler", "3b_decay_ablation_shortqa_ratio": "ablation-decay-shortqa-ratio",
    "3b_decay_ablation_omi2_ratio": "ablation-decay-omi2-ratio", "3b_decay_ablation_openr1_ratio": "ablation-decay-openr1-ratio",
    "3b_decay_ablation_omi2_openr1_mix_ratio": "ablation-decay-omi2-openr1-mix",
    "analysis_longcot": "ablation-longcot", "analysis_shortqa": "ablation-shortqa",
}
HEADER_METRICS = {"val/test_score": "accuracy", "val_response_length/test_length_correct": "length"}
BENCHMARKS = {"gsm8k": "gsm8k", "math500": "math500", "olympiadbench": "olympiad_bench", "amc23": "amc23"}
# The OctoThinker figures' runs, by the decay branch in their W&B names (`long.short.mix` is the hybrid).
BRANCHES = [("decay_long.short.mix", "hybrid"), ("decay_long", "long"), ("decay_short", "short")]


def curve_name(run: str) -> str:
    """A short name for a W&B run: its decay branch where it has one, else its distinguishing middle
    (`rl.grpo_llama.3b_analysis_mm.web.pro.20B_math.8k_0411_1333` -> `mm.web.pro.20B`)."""
    for marker, branch in BRANCHES:
        if f"_{marker}." in run:
            return branch
    name = re.sub(r"_\d{4}_\d{4}$", "", run.removeprefix("rl.grpo_"))
    name = name.replace("_math.8k", "").replace("_orzbase", "").replace("_orztemplate", "_orz-template")
    return re.sub(r"^llama\.3b_(analysis_)?", "", name)


def _from_header(header: str) -> tuple[str, str] | None:
    """(metric, benchmark) a W&B column header names (`run - val/test_score/MATH500`), or None."""
    what = header.split(" - ", 1)[1]
    path, _, bench = what.rpartition("/")
    metric, bench = HEADER_METRICS.get(path), BENCHMARKS.get(bench.lower())
    return (metric, bench) if metric and bench else None


def rows_of(text: str, metric: str | None, benchmark: str | None) -> list[dict]:
    """The points of one W&B export; `metric`/`benchmark` None: read from each column's header."""
    reader = csv.reader(text.splitlines())
    header = next(reader)
    columns = [(i, h.split(" - ")[0], (metric, benchmark) if metric else _from_header(h)) for i, h in enumerate(header)
               if " - " in h and not h.endswith(("__MIN", "__MAX"))]
    rows = []
    for record in reader:
        for i, run, named in columns:
            if named is None:
                continue
            metric_i, benchmark_i = named
            if i < len(record) and record[i] != "":
                value = float(record[i])
                rows.append({"curve": curve_name(run), "benchmark": benchmark_i, "metric": metric_i,
                             "step": int(float(record[0])),
                             "value": round(100 * value, 3) if metric_i == "accuracy" else round(value, 2), "run": run})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("release", type=Path, help="a checkout of GAIR-NLP/OctoThinker")
    parser.add_argument("--out", type=Path, default=OUT, help="where the CSV files go (default: the package's)")
    parser.add_argument("--only", nargs="+", choices=sorted(FOLDERS), help="these release folders only")
    args = parser.parse_args(argv)
    commit = subprocess.run(["git", "-C", str(args.release), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    args.out.mkdir(parents=True, exist_ok=True)
    for folder, name in FOLDERS.items():
        if args.only and folder not in args.only:
            continue
        rows, exported = [], False
        for path in sorted((args.release / "plot" / "data" / folder).glob("*.csv")):
            metric, _, bench = path.stem.partition("_")
            if path.stem.startswith("wandb_export"):
                rows += rows_of(path.read_text(), None, None)
                exported = True
            elif metric in ("acc", "length") and bench in BENCHMARKS:
                rows += rows_of(path.read_text(), "accuracy" if metric == "acc" else "length", BENCHMARKS[bench])
        if not rows:
            sys.exit(f"{args.release}/plot/data/{folder}: no acc_/length_ files")
        with (args.out / f"{name}.csv").open("w", newline="") as fh:
            files = "wandb_export_*.csv (benchmark and metric from each column)" if exported else \
                "{acc,length}_<benchmark>.csv"
            fh.write(f"# GAIR-NLP/OctoThinker@{commit} (Apache-2.0), plot/data/{folder}/{files}: W&B validation curves\n")
            for curve, run in sorted({(r["curve"], r["run"]) for r in rows}):
                fh.write(f"# curve {curve}: W&B run {run}\n")
            writer = csv.DictWriter(fh, fieldnames=["curve", "benchmark", "metric", "step", "value"], extrasaction="ignore")
            writer.writeheader()
            writer.writerows(sorted(rows, key=lambda r: (r["curve"], r["benchmark"], r["metric"], r["step"])))
        print(f"{name}: {len(rows)} points, curves {sorted({r['curve'] for r in rows})}", file=sys.stderr)
    if not args.only:
        import_cpt(args.release, commit, args.out)
        import_pass_at_k(args.release, commit, args.out)


# the release's evaluation config keys -> our benchmark names
EVAL_KEYS = {"gsm8k-cot": "gsm8k", "math-cot": "math", "math-500-cot": "math500", "olympiad-bench-cot": "olympiad_bench",
             "amc-cot": "amc23", "math_sat-cot": "sat", "ocw-courses-cot": "ocw", "mmlu-stem-cot": "mmlu_stem",
             "mathqa-cot": "mathqa", "svamp-cot": "svamp", "tabmwp-cot": "tabmwp", "asdiv-cot": "asdiv",
             "mawps-cot": "mawps"}


def import_cpt(release: Path, commit: str, out: Path) -> None:
    """stable.json: JSON blocks, each under a label line ("1b long"); a label may come back (a second set)."""
    import json

    text = (release / "plot" / "data" / "cpt_results" / "stable.json").read_text()
    parts = re.split(r"(?m)^([0-9][^{}\n]*?)\s*$", text)
    rows, seen = [], {}
    for label, body in zip(parts[1::2], parts[2::2]):
        seen[label] = seen.get(label, 0) + 1
        for key, result in json.loads(body).items():
            cot = result.get("cot", {})
            if key in EVAL_KEYS and cot.get("n_samples"):
                rows.append({"label": label, "block": seen[label], "benchmark": EVAL_KEYS[key],
                             "accuracy": round(100 * cot["accuracy"], 3), "problems": cot["n_samples"]})
    (out / "tables").mkdir(exist_ok=True)
    with (out / "tables" / "cpt-1b.csv").open("w", newline="") as fh:
        fh.write(f"# GAIR-NLP/OctoThinker@{commit} (Apache-2.0), plot/data/cpt_results/stable.json: the release's "
                 "few-shot evaluation (its own harness) of its 1B mid-trained models, blocks in file order under "
                 "their labels (the file does not say what tells a label's second block from its first)\n")
        writer = csv.DictWriter(fh, fieldnames=["label", "block", "benchmark", "accuracy", "problems"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"cpt-1b: {len(rows)} results", file=sys.stderr)


def import_pass_at_k(release: Path, commit: str, out: Path) -> None:
    """The `performance` literal of pass_k.ipynb's cell ({model: {k: pass@k}}), read as a literal."""
    import ast
    import json

    notebook = json.loads((release / "plot" / "plot" / "pass_k.ipynb").read_text())
    performance = None
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse("".join(cell["source"]))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "performance" for t in node.targets):
                performance = ast.literal_eval(node.value)
    if performance is None:
        sys.exit(f"{release}/plot/plot/pass_k.ipynb: no `performance` mapping")
    (out / "tables").mkdir(exist_ok=True)
    with (out / "tables" / "pass-at-k-3b.csv").open("w", newline="") as fh:
        fh.write(f"# GAIR-NLP/OctoThinker@{commit} (Apache-2.0), plot/plot/pass_k.ipynb: pass@k on MATH-500 (its "
                 "figure's values; the notebook notes the Long-Zero model was trained at 8192 tokens and evaluated "
                 "at 4096, the others at 1024)\n")
        writer = csv.DictWriter(fh, fieldnames=["model", "k", "pass_at_k"])
        writer.writeheader()
        for model, values in performance.items():
            for k, value in sorted(values.items()):
                writer.writerow({"model": model, "k": k, "pass_at_k": round(100 * value, 3)})
    print(f"pass-at-k-3b: {sum(map(len, performance.values()))} values", file=sys.stderr)


if __name__ == "__main__":
    main()
