"""`octo`: the command line. Each command is a thin wrapper over one entry function of a stage.

    octo --help
    octo eval MODEL --benchmarks gsm8k,math500 --data-dir benchmarks --limit 50
    octo eval score runs/eval/gsm8k.jsonl --benchmark gsm8k

Option defaults come from the stage's typed config, where each setting is declared once.
"""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from functools import wraps
from typing import Annotated, Optional

import typer
from pydantic import BaseModel, ValidationError
from typer.core import TyperGroup

from octothinker.errors import OctoError
from octothinker.runs.lock import folder_lock  # torch-free, as all that `--help`, `--plan` and `octo report` import (tests/test_torch_free.py)

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="octothinker: mid-train base models so that RL on math scales (the OctoThinker study).")


def default(model: type[BaseModel], name: str):
    """The default of a config field: the CLI shows the one declared in the config."""
    return model.model_fields[name].get_default(call_default_factory=True)


@app.callback()
def _quiet() -> None:
    """Our commands print their own progress: third-party progress bars and deprecation notices go."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    logging.getLogger("octothinker").setLevel(logging.WARNING)
    logging.basicConfig(format="%(message)s")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def reports_errors(fn):
    """Bad input and OS errors end as one line on stderr and a non-zero exit, not a traceback."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OctoError as err:
            fail(str(err))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            message = first["msg"].removeprefix("Value error, ")
            fail(f"{where}: {message}" if where else message)
        except OSError as err:  # unwritable output, full disk: name the path, drop the traceback
            where = err.filename or ""
            fail(f"{where}: {err.strerror or err}" if where else str(err))
        except KeyboardInterrupt:
            fail("interrupted; what was written is kept, and the same command resumes it", 130)
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


def _eval_defaults():
    from octothinker.eval.config import EvalConfig

    return EvalConfig


_E = _eval_defaults()
HARNESS_HELP = ("ours, or release: the OctoThinker release's own prompts, stop words and grading (quirks kept), "
                "so numbers stand beside the paper's; needs --release-dir.")
RELEASE_DIR_HELP = "A checkout of GAIR-NLP/OctoThinker (the release harness reads its prompts from it)."


def _probe_defaults():
    from octothinker.eval.config import ProbeSampling

    return ProbeSampling


def _rl_defaults():
    from octothinker.rl.config import RLConfig

    return RLConfig


_P, _R = _probe_defaults(), _rl_defaults()


# Options that contradict each other, refused in one line before any work starts: the option given, the
# one it contradicts, and what to do. A setting the run would ignore must not be recorded as if it had
# been used (config.json would say `template: chat` for a few-shot run).
CONFLICTS = [
    (lambda o: o["mode"] == "few-shot" and o["template"] != default(_E, "template"),
     "--template {template} is a zero-shot prompt; a few-shot prompt is the exemplars (add --mode zero-shot, "
     "or leave out --template)"),
    (lambda o: o["mode"] == "zero-shot" and o.get("fewshot_file") is not None,
     "--fewshot-file is for --mode few-shot; a zero-shot prompt is the template (leave out --fewshot-file)"),
    (lambda o: o.get("n", 1) > 1 and o.get("temperature", 1.0) == 0,
     "--n {n} with --temperature 0 decodes the same greedy answer {n} times (give a temperature, or --n 1)"),
]


def refuse_conflicts(options: dict) -> None:
    for conflicts, message in CONFLICTS:
        if conflicts(options):
            fail(message.format(**options), code=2)  # a usage error, as typer's own


@eval_app.command("run")
@reports_errors
def eval_run(
    model: Annotated[str, typer.Argument(help="HF folder, .gguf file, or hf:org/name (downloads).")],
    benchmarks: Annotated[str, typer.Option(help="Comma-separated registry names, or NAME=FILE.")] = ",".join(default(_E, "benchmarks")),
    data_dir: Annotated[Optional[str], typer.Option(help="Folder with <name>/test.jsonl files.")] = None,
    hub: Annotated[bool, typer.Option(help="Read a missing benchmark file's hub copy (needs the network and the hub extra).")] = False,
    mode: Annotated[str, typer.Option(help="few-shot (base models) or zero-shot (RL models).")] = default(_E, "mode"),
    template: Annotated[str, typer.Option(help="Zero-shot template: complex, simple, qa, chat (the model's own chat "
                                               "template), or a '{question}' string.")] = default(_E, "template"),
    fewshot_file: Annotated[Optional[str], typer.Option(help="JSONL of question/solution/answer exemplars.")] = None,
    harness: Annotated[str, typer.Option(help=HARNESS_HELP)] = default(_E, "harness"),
    release_dir: Annotated[Optional[str], typer.Option(help=RELEASE_DIR_HELP)] = None,
    n: Annotated[int, typer.Option(help="Samples per problem.")] = default(_E, "n"),
    temperature: Annotated[float, typer.Option(help="0 is greedy.")] = default(_E, "temperature"),
    top_p: Annotated[float, typer.Option()] = default(_E, "top_p"),
    max_new_tokens: Annotated[int, typer.Option()] = default(_E, "max_new_tokens"),
    cutoff: Annotated[str, typer.Option(help="How a completion cut at max-new-tokens is graded: final-answer (its "
                                             "boxed or stated answer only), no-answer, or as-complete.")] = default(_E, "cutoff"),
    limit: Annotated[Optional[int], typer.Option(help="First N problems of each benchmark.")] = None,
    out: Annotated[Optional[str], typer.Option(help="Output folder (default runs/eval/<model>/<mode>); rerunning resumes.")] = None,
    backend: Annotated[str, typer.Option(help="auto (vLLM when installed and on GPU), hf or vllm.")] = default(_E, "backend"),
    batch_size: Annotated[int, typer.Option(help="Prompts per generation batch.")] = default(_E, "batch_size"),
    seed: Annotated[int, typer.Option()] = default(_E, "seed"),
    device: Annotated[Optional[str], typer.Option(help="cpu, cuda, cuda:1 ... (default: cuda if present).")] = None,
    dtype: Annotated[Optional[str], typer.Option(help="float32, bfloat16 (default: bf16 on CUDA, fp32 on CPU).")] = None,
):
    """Generate, extract, grade; writes <out>/<benchmark>.jsonl, summary.json and summary.md."""
    from octothinker.eval.runner import EvalConfig, evaluate, format_summary_md

    refuse_conflicts({"mode": mode, "template": template, "fewshot_file": fewshot_file, "n": n,
                      "temperature": temperature})

    cfg = EvalConfig(model=model, benchmarks=[b.strip() for b in benchmarks.split(",") if b.strip()],
                     data_dir=data_dir, hub=hub, mode=mode, template=template, fewshot_file=fewshot_file,
                     harness=harness, release_dir=release_dir, n=n,
                     temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens, cutoff=cutoff, limit=limit, out=out,
                     backend=backend, batch_size=batch_size, seed=seed, device=device, dtype=dtype)
    with folder_lock(cfg.output_dir()):
        summaries = evaluate(cfg)
    typer.echo(format_summary_md(summaries, cfg))
    typer.echo(f"wrote {cfg.output_dir()}")


@eval_app.command("prompts")
@reports_errors
def eval_prompts(
    benchmarks: Annotated[str, typer.Option(help="Comma-separated registry names, or NAME=FILE.")] = ",".join(default(_E, "benchmarks")),
    data_dir: Annotated[Optional[str], typer.Option(help="Folder with <name>/test.jsonl files.")] = None,
    limit: Annotated[Optional[int], typer.Option(help="First N problems of each benchmark.")] = None,
    mode: Annotated[str, typer.Option(help="few-shot or zero-shot.")] = default(_E, "mode"),
    template: Annotated[str, typer.Option(help="Zero-shot template (not chat: that needs the model).")] = default(_E, "template"),
    fewshot_file: Annotated[Optional[str], typer.Option(help="JSONL of question/solution/answer exemplars.")] = None,
    harness: Annotated[str, typer.Option(help=HARNESS_HELP)] = default(_E, "harness"),
    release_dir: Annotated[Optional[str], typer.Option(help=RELEASE_DIR_HELP)] = None,
    out: Annotated[Optional[str], typer.Option(help="JSONL file to write (default: standard output).")] = None,
):
    """Write each problem's prompt and stop words without loading a model: one JSON record a problem,
    {"benchmark", "id", "prompt", "stop"}; `id` is the problem's 0-based line in test.jsonl."""
    refuse_conflicts({"mode": mode, "template": template, "fewshot_file": fewshot_file})
    from octothinker.eval.runner import EvalConfig, write_prompts

    cfg = EvalConfig(model="(none)", benchmarks=[b.strip() for b in benchmarks.split(",") if b.strip()],
                     data_dir=data_dir, limit=limit, mode=mode, template=template, fewshot_file=fewshot_file,
                     harness=harness, release_dir=release_dir)
    count = write_prompts(cfg, out)
    if out:
        typer.echo(f"wrote {count} prompts to {out}")


@eval_app.command("score")
@reports_errors
def eval_score(
    predictions: Annotated[str, typer.Argument(help="JSONL with `completion`, `gold` or `id`, and optionally "
                                                    "`finish` (\"length\" for a completion cut at the limit).")],
    benchmark: Annotated[str, typer.Option(help="Registry name (or NAME=FILE): decides extraction and grading.")],
    data_dir: Annotated[Optional[str], typer.Option(help="Where to look up golds by id.")] = None,
    harness: Annotated[str, typer.Option(help=HARNESS_HELP)] = default(_E, "harness"),
    release_dir: Annotated[Optional[str], typer.Option(help=RELEASE_DIR_HELP)] = None,
    cutoff: Annotated[str, typer.Option(help="How a cut-off completion is graded (our harness): final-answer, "
                                             "no-answer or as-complete.")] = default(_E, "cutoff"),
    out: Annotated[Optional[str], typer.Option(help="Write each record back with `extracted` and `correct`.")] = None,
):
    """Re-grade saved completions and print the accuracy."""
    from octothinker.eval.runner import EvalConfig, score_predictions

    cfg = EvalConfig(model="(none)", benchmarks=[benchmark], data_dir=data_dir, harness=harness,
                     release_dir=release_dir, cutoff=cutoff)
    result = score_predictions(predictions, cfg, out)
    for warning in result["warnings"]:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(json.dumps(result))


data_app = typer.Typer(no_args_is_help=True, help="Build mid-training corpora and shards; synthesise the math world.")
app.add_typer(data_app, name="data")


@data_app.command("build")
@reports_errors
def data_build(
    recipe: Annotated[str, typer.Argument(help="Data recipe YAML (or a study recipe with --section).")],
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key.path=value overrides, relative to the section.")] = None,
    section: Annotated[Optional[str], typer.Option(help="The study recipe's data section, e.g. data.stable.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="A loss over its limit (runs.losses) is an error, not a warning.")] = False,
):
    """Corpora -> quality filter, dedup, decontamination, QA format, mixture -> packed shards + report."""
    from octothinker.data.config import DataRecipe
    from octothinker.data.pipeline import build, format_report
    from octothinker.recipe import RecipeError, load_recipe
    from octothinker.study.recipe import load_study

    if section is not None:
        if not section.startswith("data."):
            raise RecipeError(f"--section {section}: name a data section, e.g. data.stable")
        study = load_study(recipe, overrides or [], section)
        spec = study.data.get(section[len("data."):])
        if spec is None:
            raise RecipeError(f"{recipe}: no '{section}' section")
    else:
        spec = load_recipe(recipe, DataRecipe, overrides or [])
    if strict:
        spec = spec.model_copy(update={"strict": True})
    with folder_lock(spec.out):
        report = build(spec)
    typer.echo(format_report(report))
    typer.echo(f"wrote {spec.out}")


@data_app.command("preview")
@reports_errors
def data_preview(
    recipe: Annotated[str, typer.Argument(help="Data recipe YAML, or a study recipe (every data section).")],
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key.path=value overrides.")] = None,
    section: Annotated[Optional[str], typer.Option(help="One data section of a study recipe, e.g. data.long.")] = None,
    records: Annotated[int, typer.Option(min=1, help="Records read from each source.")] = 200,
    strict: Annotated[bool, typer.Option("--strict", help="A loss over its limit (runs.losses) is an error, not a warning.")] = False,
):
    """Per source: records read and kept (and why not), two formatted documents, token lengths, the
    share with a final boxed answer, and warnings; nothing is written."""
    from octothinker.data.config import DataRecipe
    from octothinker.data.preview import format_preview, preview
    from octothinker.recipe import RecipeError, load_recipe
    from octothinker.study.recipe import is_study, load_study

    if is_study(recipe):
        study = load_study(recipe, overrides or [])
        names = [section[len("data."):]] if section else list(study.data)
        for name in names:
            if name not in study.data:
                raise RecipeError(f"{recipe}: no 'data.{name}' section (it has: {', '.join(study.data)})")
        sections = [study.data[n] for n in names]
    else:
        sections = [load_recipe(recipe, DataRecipe, overrides or [])]
    for spec in sections:
        typer.echo(format_preview(preview(spec, records, strict)))


def _world_defaults():
    from octothinker.data.synthetic import WorldSize

    return WorldSize


_W = _world_defaults()


@data_app.command("synth")
@reports_errors
def data_synth(
    out_dir: Annotated[str, typer.Argument(help="Folder to write the world into.")],
    problems: Annotated[int, typer.Option(help="Train problems.")] = default(_W, "problems"),
    test: Annotated[int, typer.Option(help="Held-out problems.")] = default(_W, "test"),
    web: Annotated[int, typer.Option(help="Documents per web corpus (high and low quality).")] = default(_W, "web"),
    generic: Annotated[int, typer.Option(help="Generic non-math documents.")] = default(_W, "generic"),
    instruct: Annotated[int, typer.Option(help="Instruction records.")] = default(_W, "instruct"),
    seeds: Annotated[int, typer.Option(help="Quality-classifier seed documents per class.")] = default(_W, "seeds"),
    min_steps: Annotated[int, typer.Option()] = default(_W, "min_steps"),
    max_steps: Annotated[int, typer.Option()] = default(_W, "max_steps"),
    max_operand: Annotated[int, typer.Option()] = default(_W, "max_operand"),
    vocab_size: Annotated[int, typer.Option(help="Tokenizer vocabulary.")] = default(_W, "vocab_size"),
    qa_error_rate: Annotated[float, typer.Option(help="Share of QA solutions with a slip.")] = default(_W, "qa_error_rate"),
    misread_rate: Annotated[float, typer.Option(
        help="Share of QA solutions that read 'triples' as 'three more'.")] = default(_W, "misread_rate"),
    seed: Annotated[int, typer.Option()] = 0,
):
    """Write the synthetic math world: problems, QA, instructions, web and generic text, seeds, tokenizer."""
    from octothinker.data.synthetic import WorldSize, generate_world
    from octothinker.runs.files import ensure_writable

    size = WorldSize(problems=problems, test=test, web=web, generic=generic, instruct=instruct, seeds=seeds,
                     min_steps=min_steps, max_steps=max_steps, max_operand=max_operand, vocab_size=vocab_size,
                     qa_error_rate=qa_error_rate, misread_rate=misread_rate)
    with folder_lock(out_dir):
        world = generate_world(ensure_writable(out_dir), size, seed=seed)
    typer.echo(json.dumps(world["files"], indent=2))


@app.command()
@reports_errors
def midtrain(
    recipe: Annotated[str, typer.Argument(help="Mid-training recipe YAML (or a study recipe: its `midtrain` section).")],
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key.path=value overrides, relative to the section.")] = None,
    stage: Annotated[str, typer.Option(help="all (stable, then every branch), stable, or decay.")] = "all",
    branch: Annotated[Optional[str], typer.Option(help="With --stage decay: one branch only.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue from the newest complete checkpoint.")] = True,
    force_resume: Annotated[bool, typer.Option(help="Resume even a checkpoint written under other settings.")] = False,
):
    """Stable stage, then decay branches (torchrun + FSDP2 beyond one device)."""
    from octothinker.midtrain.config import MidtrainRecipe
    from octothinker.midtrain.stages import run_midtrain
    from pathlib import Path

    from octothinker.recipe import RecipeError, load_recipe
    from octothinker.study.layout import midtrain_folders
    from octothinker.study.recipe import is_study, load_study

    if stage not in ("all", "stable", "decay"):
        raise typer.BadParameter("--stage is all, stable or decay")
    if is_study(recipe):
        spec = load_study(recipe, overrides or [], "midtrain").midtrain
        if spec is None:
            raise RecipeError(f"{recipe}: no 'midtrain' section")
    else:
        spec = load_recipe(recipe, MidtrainRecipe, overrides or [])
    with folder_lock(spec.out):
        stable, decays = midtrain_folders(Path(spec.out), spec.decay.branches if spec.decay else {})
        for final in run_midtrain(spec, stable, decays, stage=stage, branch=branch, resume=resume,
                                  force_resume=force_resume):
            typer.echo(f"wrote {final}")


@app.command()
@reports_errors
def rl(
    recipe: Annotated[str, typer.Argument(help="RL recipe YAML (or a study recipe: its `rl` section).")],
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key.path=value overrides, relative to the section.")] = None,
    policy: Annotated[str, typer.Option(help="The starting model: HF folder, .gguf, or hf:org/name.")] = ...,
    out: Annotated[Optional[str], typer.Option(help="Output folder (default: the recipe's `out`; <study out>/rl for a study).")] = None,
    engine: Annotated[Optional[str], typer.Option(help="local (this process) or verl (multi-GPU); default: the recipe's rl.engine.")] = None,
    dry_run: Annotated[bool, typer.Option(help="verl: write the files and print the command, do not launch.")] = False,
    resume: Annotated[bool, typer.Option(help="Continue from the newest complete checkpoint.")] = True,
    force_resume: Annotated[bool, typer.Option(help="Resume even a checkpoint written under other settings.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="A loss over its limit (runs.losses) is an error, not a warning.")] = False,
):
    """RL-Zero with GRPO on verifiable math rewards (local, or verl for many GPUs)."""
    from octothinker.recipe import RecipeError, load_recipe
    from octothinker.rl.config import RLConfig
    from octothinker.rl.trainer import train
    from octothinker.study.recipe import is_study, load_study

    if engine not in (None, "local", "verl"):
        raise typer.BadParameter("--engine is local or verl")
    if is_study(recipe):
        study = load_study(recipe, overrides or [], "rl")
        if study.rl is None:
            raise RecipeError(f"{recipe}: no 'rl' section")
        cfg = study.rl.model_copy(update={"out": out or f"{study.out}/rl"})
    else:
        cfg = load_recipe(recipe, RLConfig, overrides or [])
        cfg = cfg.model_copy(update={"out": out or cfg.out})
    if strict:
        cfg = cfg.model_copy(update={"strict": True})
    with folder_lock(cfg.out) if cfg.out else nullcontext():  # no out: the trainer says so in one line
        if (engine or cfg.engine) == "verl":
            from octothinker.rl.verl import launch

            launch(cfg, policy, dry_run=dry_run)
        else:
            typer.echo(f"wrote {train(cfg, policy, resume=resume, force_resume=force_resume)}")


@app.command()
@reports_errors
def probe(
    model: Annotated[str, typer.Argument(help="HF folder, .gguf file, or hf:org/name.")],
    prompts: Annotated[str, typer.Option(help="JSONL of question/answer, or a benchmark name (with --data-dir).")],
    data_dir: Annotated[Optional[str], typer.Option(help="Benchmark folder.")] = None,
    k: Annotated[int, typer.Option(help="Samples per prompt.", min=1)] = default(_P, "k"),
    limit: Annotated[int, typer.Option(help="Prompts to sample.", min=1)] = default(_P, "limit"),
    template: Annotated[str, typer.Option(help="RL template: complex, simple, qa, chat, or a '{question}' string.")] = default(_R, "template"),
    temperature: Annotated[float, typer.Option(min=0.0, help="Default: RL's.")] = default(_R, "temperature"),
    max_new_tokens: Annotated[int, typer.Option(min=1)] = default(_P, "max_new_tokens"),
    cutoff: Annotated[str, typer.Option(help="How a completion cut at max-new-tokens is graded: final-answer, "
                                             "no-answer or as-complete.")] = default(_P, "cutoff"),
    seed: Annotated[int, typer.Option()] = 0,
    out: Annotated[Optional[str], typer.Option(help="Write the report as JSON here.")] = None,
):
    """RL-readiness report: pass@1, pass@k, answer extraction, truncation, length, repetition."""
    from octothinker.eval.config import ProbeSampling
    from octothinker.probe import probe as run_probe

    sampling = ProbeSampling(k=k, limit=limit, max_new_tokens=max_new_tokens, cutoff=cutoff)
    report = run_probe(model, prompts, data_dir, sampling, template, temperature, seed, out)
    report.pop("correct_per_problem")
    typer.echo(json.dumps(report, indent=2))


@app.command()
@reports_errors
def report(run_dir: Annotated[str, typer.Argument(help="A run directory (octo run, or stages laid out alike).")],
           reference: Annotated[Optional[str], typer.Option(
               help="Draw the run's RL curves over the paper's: octothinker-1b (each model beside the curve of its "
                    "name), octothinker-1b-long (all beside one), or another of the release's figures.")] = None):
    """Tables and plots (report/index.html, report/summary.md) for a run directory."""
    from pathlib import Path

    from octothinker.report.collect import check_finished
    from octothinker.report.page import write_report
    from octothinker.study.layout import StudyLayout

    if not Path(run_dir).is_dir():
        fail(f"{run_dir}: run directory not found")
    check_finished(Path(run_dir))
    with folder_lock(StudyLayout.of(run_dir, None).report):
        out = write_report(run_dir, reference=reference)
    typer.echo((out / "summary.md").read_text())
    typer.echo(f"wrote {out / 'index.html'}")


@app.command()
@reports_errors
def run(
    recipe: Annotated[str, typer.Argument(help="Study recipe YAML.")],
    overrides: Annotated[Optional[list[str]], typer.Argument(help="key.path=value overrides.")] = None,
    plan: Annotated[bool, typer.Option("--plan", help="Print every stage, its budget, launch command and "
                                                      "H100-hours; run nothing.")] = False,
    emit: Annotated[Optional[str], typer.Option(help="slurm: write one sbatch script per stage and submit.sh "
                                                     "to <out>/slurm/; run nothing.")] = None,
    stage: Annotated[Optional[str], typer.Option(help="Run this one stage (the stages it reads must be "
                                                      "finished).")] = None,
    rehearse: Annotated[bool, typer.Option("--rehearse", help="Every stage of the recipe's plan at a miniature "
                                                              "budget here: corpora in their published schemas made "
                                                              "here, SmolLM2-135M as the model, local engines.")] = False,
    out: Annotated[Optional[str], typer.Option(help="--rehearse: its folder (default: the recipe's out + "
                                                    "-rehearsal).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="A loss over its limit (runs.losses) is an error, not a warning.")] = False,
):
    """The whole study from one recipe, stage by stage, resumable (finished, unchanged stages are skipped)."""
    from octothinker.study.layout import StudyLayout
    from octothinker.study.recipe import load_study
    from octothinker.study.run import run_study

    overrides = [*(overrides or []), *(["strict=true"] if strict else [])]
    spec = load_study(recipe, overrides)
    if rehearse:
        from octothinker.rehearse import rehearse as rehearse_recipe

        if plan or emit or stage:
            fail("--rehearse runs every stage: leave out --plan, --emit and --stage")
        from octothinker.rehearse import rehearsal_root

        with folder_lock(rehearsal_root(spec.out, out)):
            manifest = rehearse_recipe(recipe, overrides or [], out, log=typer.echo)
        typer.echo(f"report: {StudyLayout.of(manifest['recipe']['out'], None).report / 'index.html'}")
        return
    if plan or emit:
        from octothinker.launch import describe, emit_slurm
        from octothinker.study.planning import check_data, plan as stage_plan

        check_data(spec, stage_plan(spec), str(recipe), missing_ok=True)

        if emit not in (None, "slurm"):
            fail(f"--emit {emit}: the one scheduler supported is slurm")
        if plan:
            typer.echo(describe(spec, recipe, overrides or []))
        if emit:
            typer.echo(f"wrote {emit_slurm(spec, recipe, overrides or [])}/submit.sh")
        return
    run_study(spec, log=typer.echo, where=str(recipe), only=stage)
    if stage is not None:
        return
    summary = spec.layout().report / "summary.md"
    if summary.is_file():  # the study's answer, where it is read first: its Findings and setup line
        typer.echo("\n" + summary.read_text().split("\n## ", 2)[1].join(["## ", "\n"]))
    typer.echo(f"report: {spec.layout().report / 'index.html'}")


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
