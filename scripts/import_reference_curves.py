"""Carry the OctoThinker release's published RL curves (its `plot/data/`, W&B exports) into the project
as tidy CSV files, one per figure, read by `octothinker.report.reference`.

    git clone https://github.com/GAIR-NLP/OctoThinker /tmp/OctoThinker
    python scripts/import_reference_curves.py /tmp/OctoThinker

Only values are carried, with their source (repository, commit, file, W&B run) in each row; the
release's code is not. Each folder with the release's `acc_<benchmark>.csv` / `length_<benchmark>.csv`
layout becomes `octothinker/report/reference_data/<name>.csv`, columns `curve,benchmark,metric,step,value`
(accuracy in %, length in tokens), under `#` lines naming the source and each curve's W&B run. Folders exported under
W&B's own file names (`analysis_longcot`, `analysis_shortqa`) name no benchmark or metric in their
files and are left out.
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
}
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


def rows_of(text: str, metric: str, benchmark: str) -> list[dict]:
    reader = csv.reader(text.splitlines())
    header = next(reader)
    columns = [(i, h.split(" - ")[0]) for i, h in enumerate(header) if " - " in h and not h.endswith(("__MIN", "__MAX"))]
    rows = []
    for record in reader:
        for i, run in columns:
            if i < len(record) and record[i] != "":
                value = float(record[i])
                rows.append({"curve": curve_name(run), "benchmark": benchmark, "metric": metric, "step": int(float(record[0])),
                             "value": round(100 * value, 3) if metric == "accuracy" else round(value, 2), "run": run})
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
        rows = []
        for path in sorted((args.release / "plot" / "data" / folder).glob("*.csv")):
            metric, _, bench = path.stem.partition("_")
            if metric not in ("acc", "length") or bench not in BENCHMARKS:
                continue
            rows += rows_of(path.read_text(), "accuracy" if metric == "acc" else "length", BENCHMARKS[bench])
        if not rows:
            sys.exit(f"{args.release}/plot/data/{folder}: no acc_/length_ files")
        with (args.out / f"{name}.csv").open("w", newline="") as fh:
            fh.write(f"# GAIR-NLP/OctoThinker@{commit} (Apache-2.0), plot/data/{folder}/{{acc,length}}_<benchmark>.csv: "
                     "W&B validation curves\n")
            for curve, run in sorted({(r["curve"], r["run"]) for r in rows}):
                fh.write(f"# curve {curve}: W&B run {run}\n")
            writer = csv.DictWriter(fh, fieldnames=["curve", "benchmark", "metric", "step", "value"], extrasaction="ignore")
            writer.writeheader()
            writer.writerows(sorted(rows, key=lambda r: (r["curve"], r["benchmark"], r["metric"], r["step"])))
        print(f"{name}: {len(rows)} points, curves {sorted({r['curve'] for r in rows})}", file=sys.stderr)


if __name__ == "__main__":
    main()
