"""`octo`: the command line. Each command is a thin wrapper over one entry function of a stage.

    octo --help
    octo eval MODEL --benchmarks gsm8k,math500 --data-dir ../shared/benchmarks --limit 50
    octo eval score runs/eval/gsm8k.jsonl --benchmark gsm8k
"""

from __future__ import annotations

import json
import sys
from functools import wraps
from typing import Annotated, Optional

import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from octothinker.errors import OctoError

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="octothinker: mid-train base models so that RL on math scales (the OctoThinker study).")


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def reports_errors(fn):
    """Bad input ends as one line on stderr and a non-zero exit, not a traceback."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OctoError as err:
            fail(str(err))
        except ValidationError as err:
            first = err.errors()[0]
            fail(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    return wrapper


class DefaultRunGroup(TyperGroup):
    """`octo eval MODEL ...` runs an evaluation; `octo eval score ...` re-grades saved completions."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


eval_app = typer.Typer(cls=DefaultRunGroup, no_args_is_help=True,
                       help="Evaluate a model on the study's math benchmarks (few-shot or zero-shot).")
app.add_typer(eval_app, name="eval")


@eval_app.command("run")
@reports_errors
def eval_run(
    model: Annotated[str, typer.Argument(help="HF folder, .gguf file, or hub id (online only).")],
    benchmarks: Annotated[str, typer.Option(help="Comma-separated registry names.")] = "gsm8k,math500",
    data_dir: Annotated[Optional[str], typer.Option(help="Folder with <name>/test.jsonl files.")] = None,
    mode: Annotated[str, typer.Option(help="few-shot (base models) or zero-shot (RL models).")] = "few-shot",
    template: Annotated[str, typer.Option(help="Zero-shot template: complex, simple, qa, or a '{question}' string.")] = "complex",
    fewshot_file: Annotated[Optional[str], typer.Option(help="JSONL of question/solution/answer exemplars.")] = None,
    n: Annotated[int, typer.Option(help="Samples per problem.")] = 1,
    temperature: Annotated[float, typer.Option(help="0 is greedy.")] = 0.0,
    top_p: Annotated[float, typer.Option()] = 1.0,
    max_new_tokens: Annotated[int, typer.Option()] = 1024,
    limit: Annotated[Optional[int], typer.Option(help="First N problems of each benchmark.")] = None,
    out: Annotated[str, typer.Option(help="Output folder; rerunning with the same one resumes.")] = "runs/eval",
    backend: Annotated[str, typer.Option(help="auto (vLLM when installed and on GPU), hf or vllm.")] = "auto",
    batch_size: Annotated[int, typer.Option(help="Prompts per generation batch.")] = 64,
    seed: Annotated[int, typer.Option()] = 0,
    device: Annotated[Optional[str], typer.Option(help="cpu, cuda, cuda:1 ... (default: cuda if present).")] = None,
    dtype: Annotated[Optional[str], typer.Option(help="float32, bfloat16 (default: bf16 on CUDA, fp32 on CPU).")] = None,
):
    """Generate, extract, grade; writes <out>/<benchmark>.jsonl, summary.json and summary.md."""
    from octothinker.eval.runner import EvalConfig, evaluate, format_summary_md

    cfg = EvalConfig(model=model, benchmarks=[b.strip() for b in benchmarks.split(",") if b.strip()],
                     data_dir=data_dir, mode=mode, template=template, fewshot_file=fewshot_file, n=n,
                     temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens, limit=limit, out=out,
                     backend=backend, batch_size=batch_size, seed=seed, device=device, dtype=dtype)
    summaries = evaluate(cfg)
    typer.echo(format_summary_md(summaries, cfg))


@eval_app.command("score")
@reports_errors
def eval_score(
    predictions: Annotated[str, typer.Argument(help="JSONL with `completion` and `gold` (or `id`).")],
    benchmark: Annotated[str, typer.Option(help="Registry name: decides extraction and grading.")],
    data_dir: Annotated[Optional[str], typer.Option(help="Where to look up golds by id.")] = None,
):
    """Re-grade saved completions and print the accuracy."""
    from octothinker.eval.runner import score_predictions

    result = score_predictions(predictions, benchmark, data_dir)
    typer.echo(json.dumps(result))


data_app = typer.Typer(no_args_is_help=True, help="Build mid-training corpora and shards; synthesise the math world.")
app.add_typer(data_app, name="data")


@data_app.command("build")
@reports_errors
def data_build(
    recipe: Annotated[str, typer.Argument(help="Data recipe YAML (or a study recipe with --section).")],
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key.path=value overrides.")] = None,
    section: Annotated[Optional[str], typer.Option(help="Use this section of a larger recipe.")] = None,
):
    """Corpora -> quality filter, dedup, decontamination, QA format, mixture -> packed shards + report."""
    from octothinker.data.pipeline import DataRecipe, build, format_report
    from octothinker.recipe import load_recipe

    report = build(load_recipe(recipe, DataRecipe, overrides or [], section=section))
    typer.echo(format_report(report))


@data_app.command("synth")
@reports_errors
def data_synth(
    out_dir: Annotated[str, typer.Argument(help="Folder to write the world into.")],
    problems: Annotated[int, typer.Option(help="Train problems.")] = 4000,
    test: Annotated[int, typer.Option(help="Held-out problems.")] = 400,
    web: Annotated[int, typer.Option(help="Documents per web corpus (high and low quality).")] = 3000,
    generic: Annotated[int, typer.Option(help="Generic non-math documents.")] = 3000,
    instruct: Annotated[int, typer.Option(help="Instruction records.")] = 1000,
    seeds: Annotated[int, typer.Option(help="Quality-classifier seed documents per class.")] = 400,
    min_steps: Annotated[int, typer.Option()] = 1,
    max_steps: Annotated[int, typer.Option()] = 3,
    max_operand: Annotated[int, typer.Option()] = 9,
    vocab_size: Annotated[int, typer.Option(help="Tokenizer vocabulary.")] = 1024,
    seed: Annotated[int, typer.Option()] = 0,
):
    """Write the synthetic math world: problems, QA, instructions, web and generic text, seeds, tokenizer."""
    from octothinker.data.synthetic import WorldSize, generate_world

    if min_steps < 1 or max_steps < min_steps or max_operand < 2:
        raise typer.BadParameter("need 1 <= --min-steps <= --max-steps and --max-operand >= 2")
    size = WorldSize(problems=problems, test=test, web=web, generic=generic, instruct=instruct, seeds=seeds,
                     min_steps=min_steps, max_steps=max_steps, max_operand=max_operand)
    world = generate_world(out_dir, size, seed=seed, tokenizer_vocab=vocab_size)
    typer.echo(json.dumps(world["files"], indent=2))


@app.command()
@reports_errors
def midtrain(
    recipe: Annotated[str, typer.Argument(help="Mid-training recipe YAML (or a study recipe: its `midtrain` section).")],
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key.path=value overrides.")] = None,
    stage: Annotated[str, typer.Option(help="all (stable, then every branch), stable, or decay.")] = "all",
    branch: Annotated[Optional[str], typer.Option(help="With --stage decay: one branch only.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue from the newest complete checkpoint.")] = True,
):
    """Stable stage, then decay branches (torchrun + FSDP2 beyond one device)."""
    from octothinker.midtrain.stages import MidtrainRecipe, run_midtrain
    from octothinker.recipe import load_stage_recipe

    if stage not in ("all", "stable", "decay"):
        raise typer.BadParameter("--stage is all, stable or decay")
    spec = load_stage_recipe(recipe, MidtrainRecipe, "midtrain", overrides)
    for final in run_midtrain(spec, stage=stage, branch=branch, resume=resume):
        typer.echo(f"wrote {final}")


@app.command()
@reports_errors
def rl(
    recipe: Annotated[str, typer.Argument(help="RL recipe YAML (or a study recipe: its `rl` section).")],
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key.path=value overrides.")] = None,
    policy: Annotated[str, typer.Option(help="The starting model: HF folder, .gguf, or hub id.")] = ...,
    engine: Annotated[str, typer.Option(help="local (this process) or verl (multi-GPU).")] = "local",
    dry_run: Annotated[bool, typer.Option(help="verl: write the files and print the command, do not launch.")] = False,
    resume: Annotated[bool, typer.Option(help="Continue from the newest complete checkpoint.")] = True,
):
    """RL-Zero with GRPO on verifiable math rewards (local, or verl for many GPUs)."""
    from octothinker.recipe import load_stage_recipe
    from octothinker.rl.trainer import RLConfig, train

    cfg = load_stage_recipe(recipe, RLConfig, "rl", overrides)
    if engine == "verl":
        from octothinker.rl.verl import launch

        launch(cfg, policy, dry_run=dry_run)
    elif engine == "local":
        typer.echo(f"wrote {train(cfg, policy, resume=resume)}")
    else:
        raise typer.BadParameter("--engine is local or verl")


@app.command()
@reports_errors
def probe(
    model: Annotated[str, typer.Argument(help="HF folder, .gguf file, or hub id.")],
    prompts: Annotated[str, typer.Option(help="JSONL of question/answer, or a benchmark name (with --data-dir).")],
    data_dir: Annotated[Optional[str], typer.Option(help="Benchmark folder.")] = None,
    k: Annotated[int, typer.Option(help="Samples per prompt.")] = 8,
    limit: Annotated[int, typer.Option(help="Prompts to sample.")] = 64,
    template: Annotated[str, typer.Option(help="RL template: complex, simple, qa, or a '{question}' string.")] = "complex",
    temperature: Annotated[float, typer.Option()] = 1.0,
    max_new_tokens: Annotated[int, typer.Option()] = 512,
    seed: Annotated[int, typer.Option()] = 0,
    out: Annotated[Optional[str], typer.Option(help="Write the report as JSON here.")] = None,
):
    """RL-readiness report: pass@1, pass@k, answer extraction, truncation, length, repetition."""
    from octothinker.probe import probe as run_probe

    if k < 1 or limit < 1:
        raise typer.BadParameter("--k and --limit must be at least 1")
    typer.echo(json.dumps(run_probe(model, prompts, data_dir, k, limit, template, temperature, max_new_tokens, seed,
                                    out), indent=2))


@app.command()
@reports_errors
def report(run_dir: Annotated[str, typer.Argument(help="A run directory (octo run, or stages laid out alike).")]):
    """Tables and plots (report/index.html, report/summary.md) for a run directory."""
    from pathlib import Path

    from octothinker.report.page import write_report

    if not Path(run_dir).is_dir():
        fail(f"{run_dir}: run directory not found")
    out = write_report(run_dir)
    typer.echo((out / "summary.md").read_text())
    typer.echo(f"wrote {out / 'index.html'}")


@app.command()
@reports_errors
def run(
    recipe: Annotated[str, typer.Argument(help="Study recipe YAML.")],
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key.path=value overrides.")] = None,
):
    """The whole study from one recipe, stage by stage, resumable (finished, unchanged stages are skipped)."""
    from octothinker.recipe import load_recipe
    from octothinker.study import StudyRecipe, run_study

    spec = load_recipe(recipe, StudyRecipe, overrides or [])
    run_study(spec, log=typer.echo)
    typer.echo(f"report: {spec.out}/report/index.html")


@app.command()
@reports_errors
def demo(
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key.path=value overrides.")] = None,
):
    """`octo run` on the packaged demo recipe (synthetic math world, tiny model, CPU, no downloads)."""
    from pathlib import Path

    run(str(Path(__file__).parent / "recipes" / "demo.yaml"), overrides)


def main() -> None:
    app(prog_name="octo")


if __name__ == "__main__":  # `torchrun -m octothinker.cli midtrain ...`
    sys.exit(main())
