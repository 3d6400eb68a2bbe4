"""Before a study runs: what each stage costs (`octo run --plan`) and a Slurm chain that runs it
(`octo run --emit slurm`).

The cost is an estimate from the recipe's sizes, stated so that it can be checked: training costs
6 * parameters * tokens FLOPs at the mid-training MFU measured in BENCHMARKS.md (a Llama-3.2-1B shape at
sequence 4096, compiled, on one H100: 41.7%); generation costs 2 * parameters * tokens at an assumed
decode MFU (decoding is bound by memory, not compute: 5% unless told otherwise), with every response
at its length limit, so generation is an upper bound. GPU-hours are H100 hours (989 dense bf16 TFLOPs).
"""

from __future__ import annotations

import json
import math
import shlex
from dataclasses import dataclass
from pathlib import Path

from octothinker.data.curate import stage_tasks
from octothinker.data.config import DataRecipe
from octothinker.errors import OctoError
from octothinker.midtrain.config import PEAK_BF16_TFLOPS
from octothinker.models import HUB_PREFIX, MODEL_SIZES, llama_parameters
from octothinker.runs.engine import Stage, Work, fingerprint, stage_done
from octothinker.study.planning import plan
from octothinker.study.recipe import StudyRecipe


def _finished(stages: list[Stage]) -> dict[str, bool]:
    """Which stages are finished under the recipe as it is now (their fingerprints, in order)."""
    made: dict[str, str] = {}
    done = {}
    for stage in stages:
        made[stage.name] = fingerprint(stage, made, stages)
        done[stage.name] = stage_done(stage, made[stage.name])
    return done

H100_PEAK_TFLOPS = PEAK_BF16_TFLOPS["H100"]   # the table mid-training computes its MFU with
TRAIN_MFU = 0.417          # BENCHMARKS.md, "Mid-training throughput": 41.7% compiled on one H100
DECODE_MFU = 0.05          # an assumption, not a measurement (see the module docstring)

# Published parameter counts, so that a plan needs no download. Any other hub model: run the plan where
# its config is in a local folder, or read the estimate as "unknown".
KNOWN_PARAMS = {"meta-llama/Llama-3.2-1B": 1.24e9, "meta-llama/Llama-3.2-3B": 3.21e9,
                "meta-llama/Llama-3.1-8B": 8.03e9, "Qwen/Qwen2.5-1.5B": 1.54e9, "Qwen/Qwen2.5-3B": 3.09e9, "Qwen/Qwen2.5-7B": 7.62e9}
# The released OctoThinker models are their Llama base mid-trained (and, -Zero, RL-trained): the same size.
KNOWN_PARAMS |= {f"OctoThinker/OctoThinker-{size}-{branch}-{kind}": KNOWN_PARAMS[llama]
                 for size, llama in (("1B", "meta-llama/Llama-3.2-1B"), ("3B", "meta-llama/Llama-3.2-3B"),
                                     ("8B", "meta-llama/Llama-3.1-8B"))
                 for branch in ("Short", "Long", "Hybrid") for kind in ("Base", "Zero")}


@dataclass
class Assumptions:
    train_mfu: float = TRAIN_MFU
    decode_mfu: float = DECODE_MFU
    peak_tflops: float = H100_PEAK_TFLOPS


def gpu_hours(params: float, work: Work, a: Assumptions) -> float:
    """GPU-hours of a stage: training at 6N FLOPs a token, generation at 2N, each at its MFU."""
    seconds = (6 * params * work.train_tokens / a.train_mfu + 2 * params * work.generated_tokens / a.decode_mfu) \
        / (a.peak_tflops * 1e12)
    return seconds / 3600


def _count_params(config) -> float:
    p = llama_parameters(config)
    return p["blocks"] + p["norms"] + p["vocab"] * (1 if p["tied"] else 2)


def model_params(spec: str, stages: list[Stage], vocab_size: int | None = None) -> float | None:
    """Parameters of the model a stage works on: a size name, a local folder with a config.json, a known
    hub model, or a folder an earlier stage of the study makes (traced back to what that stage trained)."""
    if spec in MODEL_SIZES:
        return _count_params({**MODEL_SIZES[spec], "vocab_size": vocab_size or 32000, "tie_word_embeddings": True})
    if spec.startswith(HUB_PREFIX):
        return KNOWN_PARAMS.get(spec.split(":", 1)[1])
    path = Path(spec)
    for stage in stages:
        if stage.work is not None and (path == stage.output or stage.output in path.parents):
            return model_params(stage.work.model, stages, vocab_size)
    config = path / "config.json"
    if config.is_file():
        try:
            return _count_params(json.loads(config.read_text()))
        except (KeyError, TypeError, ValueError):
            return None
    return None


def _short(n: float) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:.0f}"


def stage_command(recipe_path: str, overrides: list[str], stage: str) -> str:
    return shlex.join(["octo", "run", recipe_path, *overrides, "--stage", stage])


def describe(recipe: StudyRecipe, recipe_path: str, overrides: list[str], a: Assumptions | None = None) -> str:
    """The plan as a Markdown table: every stage, whether it would run, what it reads, its budget, the
    command that runs it alone, and its GPU-hours; then the totals."""
    a = a or Assumptions()
    stages = plan(recipe)
    vocab = recipe.world.vocab_size if recipe.world else None
    done = _finished(stages)
    rows, total, unknown = [], 0.0, []
    for stage in stages:
        state = "done" if done[stage.name] else "to run"
        reads = ", ".join(stage.depends) or ", ".join(spec for _, spec in stage.inputs[:2]) or "-"
        budget, hours = "-", "-"
        if stage.work is not None:
            params = model_params(stage.work.model, stages, vocab)
            budget = stage.work.budget
            if params is None or stage.work.generated_tokens is None:
                unknown.append(stage.name)
                hours = "?"
            else:
                h = gpu_hours(params, stage.work, a)
                hours = f"{h:,.1f}" if h >= 0.1 else f"{h:.2g}"
                budget += f" ({_short(params)} params)"
                total += h if state == "to run" else 0.0
        ranks = f" ({stage.engine}: {stage.launch.nnodes} x {stage.launch.nproc_per_node} GPUs)" if stage.launch else ""
        if (data := _data_section(recipe, stage)) is not None:
            ranks = f" (datatrove, {data.executor}: {data.tasks} tasks, {data.workers} at once)"
        rows.append(f"| {stage.name} | {state} | {reads} | {budget} | `{stage_command(recipe_path, overrides, stage.name)}`"
                    f"{ranks} | {hours} |")
    lines = ["| stage | state | reads | budget | launch | H100-hours |", "|---|---|---|---|---|---|", *rows, "",
             f"Stages to run: {sum('| to run |' in r for r in rows)} of {len(rows)}; about {total:,.0f} H100-hours "
             f"(training at {a.train_mfu:.1%} MFU, the measured mid-training figure; generation at an assumed "
             f"{a.decode_mfu:.0%} MFU, every response at its length limit; {a.peak_tflops:g} TFLOPs peak)."]
    if unknown:
        lines.append(f"Not priced (the model's size or the benchmark files are not known here): {', '.join(unknown)}.")
    if recipe.rl is not None and recipe.rl.template.startswith("release:") and not recipe.release_dir:
        lines.append(f"Before it runs: rl.template {recipe.rl.template} is read from your checkout of the release "
                     "(release_dir=PATH, a clone of GAIR-NLP/OctoThinker), or choose another (rl.template=complex).")
    elif recipe.release_dir:
        lines.append(f"Release copy: {recipe.release_dir} (RL's release templates; few-shot evaluation by the "
                     "release's own harness, docs/RELEASE_HARNESS.md).")
    return "\n".join(lines)


def _data_section(recipe: StudyRecipe, stage: Stage) -> DataRecipe | None:
    """The data recipe a `data.<name>` stage builds."""
    return recipe.data.get(stage.name[len("data."):]) if stage.name.startswith("data.") else None


def _slurm_hours(time: str) -> float:
    days, _, clock = time.rpartition("-")
    h, m, sec = (int(x) for x in clock.split(":"))
    return int(days or 0) * 24 + h + m / 60 + sec / 3600


def _data_job(data: DataRecipe) -> tuple[int, int]:
    """CPUs and wall hours of a data stage's job. On the local executor the job runs the tasks,
    `workers` at once, within `cluster.time`; on Ray it hands them to the Ray cluster and waits, on one
    CPU, as long. On datatrove's Slurm executor it submits their jobs and waits, on one CPU, as long as
    the chain can take: each stage's tasks in waves of `workers`, each wave within `cluster.time` (taking
    every source to have at least `tasks` files, the most tasks a stage gets)."""
    per_task = _slurm_hours(data.cluster.time)
    if data.executor != "slurm":
        return data.workers if data.executor == "local" else 1, math.ceil(per_task)
    waves = sum(math.ceil(n / data.workers) for _ in data.sources for n in stage_tasks(data, data.tasks))
    return 1, math.ceil(waves * per_task)


def emit_slurm(recipe: StudyRecipe, recipe_path: str, overrides: list[str], a: Assumptions | None = None) -> Path:
    """One sbatch script per stage still to run, and `submit.sh`, which submits them in order, each
    after the stages it reads (`--dependency=afterok`). Written to <out>/slurm/; nothing is submitted.
    A stage that runs on several processes (mid-training with `midtrain.launch`, under the torchrun that
    `octo run` starts; RL with `rl.engine: verl`) asks for its nodes and their GPUs; any other stage runs
    as one process and asks for one GPU, except curation (`_data_job`)."""
    a = a or Assumptions()
    stages = plan(recipe)
    vocab = recipe.world.vocab_size if recipe.world else None
    folder = recipe.layout().slurm
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("[0-9]*-*.sbatch"):  # an earlier plan's scripts: numbered otherwise, never to mix in
        stale.unlink()
    done = _finished(stages)
    todo = [stage for stage in stages if not done[stage.name]]
    if not todo:
        raise OctoError(f"{recipe.out}: every stage is finished; nothing to emit")
    workdir = Path.cwd().resolve()
    recipe_abs = str(Path(recipe_path).resolve())
    submit = ["#!/usr/bin/env bash", "# Submits the study's stages in order; each waits for the stages it reads.",
              "set -euo pipefail", 'cd "$(dirname "$0")"', "declare -A job"]
    names = {s.name for s in todo}
    for i, stage in enumerate(todo):
        script = f"{i:02d}-{stage.name.replace('/', '-')}.sbatch"
        gpus = stage.launch.nproc_per_node if stage.launch else 1 if stage.work is not None else 0
        nodes = stage.launch.nnodes if stage.launch else 1
        params = model_params(stage.work.model, stages, vocab) if stage.work is not None else None
        priced = params and stage.work.generated_tokens is not None
        hours = gpu_hours(params, stage.work, a) if priced else 0.0
        # the GPU-hours spread over the job's GPUs, and half again, for the slack Slurm kills without
        wall = max(1, int(hours / max(1, gpus * nodes) * 1.5) + 1)
        cpus = []
        if (data := _data_section(recipe, stage)) is not None:
            cpus_per_task, wall = _data_job(data)
            cpus = [f"#SBATCH --cpus-per-task={cpus_per_task}"]
        lines = ["#!/usr/bin/env bash", f"#SBATCH --job-name=octo-{stage.name.replace('/', '-')}", f"#SBATCH --nodes={nodes}",
                 *([f"#SBATCH --gpus-per-node={gpus}"] if gpus else []), *cpus, f"#SBATCH --time={wall}:00:00",
                 f"#SBATCH --output={(folder / 'logs').resolve()}/%x-%j.out", "set -euo pipefail",
                 f"cd {shlex.quote(str(workdir))}", stage_command(recipe_abs, overrides, stage.name), ""]
        (folder / script).write_text("\n".join(lines))
        after = [d for d in stage.depends if d in names]
        dependency = (" --dependency=afterok:" + ":".join(f"${{job[{shlex.quote(d)}]}}" for d in after)) if after else ""
        submit.append(f"job[{shlex.quote(stage.name)}]=$(sbatch --parsable{dependency} {script})")
    submit.append('echo "submitted ${#job[@]} jobs"')
    (folder / "submit.sh").write_text("\n".join(submit) + "\n")
    (folder / "submit.sh").chmod(0o755)
    return folder
