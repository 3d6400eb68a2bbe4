"""The study's plan: the stages that make its data, models, probes, evaluations, RL runs and report,
each with what it reads, what it is made from and what it computes."""

from __future__ import annotations

from pathlib import Path

from octothinker.errors import OctoError
from octothinker.midtrain.torchrun import LaunchSpec
from octothinker.recipe import RecipeError
from octothinker.rl.trainer import RLConfig
from octothinker.stages import Stage, Work, check_paths, external_paths, fixed_root, link, within
from octothinker.study.build import (build_base, build_eval, build_midtrain, build_probe, build_report, build_rl,
                                     launched, probe_rl_settings, template_of)
from octothinker.study.lines import (Line, Subject, lines_of, seed_prefix, training_seeds, evaluated_only,
                                     subjects)
from octothinker.study.recipe import EvalPlan, StudyRecipe
from octothinker.tasks.templates import template_file


def _training_stages(recipe: StudyRecipe, line: Line, prefix: str, needed: set[str]) -> list[Stage]:
    """The stages that make the `needed` models of one line (and what they are made from)."""
    from octothinker.midtrain.stages import decay_run, stable_run

    stages = []
    m = line.midtrain
    wants_stable = bool(needed - {"base"})
    if line.own("base") and line.pretrain is not None and ("base" in needed or (wants_stable and line.own("stable"))):
        stages.append(Stage(f"{prefix}{line.prefix}base", line.making("base"),
                            [("pretrain.data", line.pretrain.data)], line.folder("base"),
                            lambda target, ln=line: build_base(ln, target),
                            work=Work(line.pretrain.size, f"{line.pretrain.tokens:,} tokens", line.pretrain.tokens)))
    if m is None:
        return stages
    if wants_stable and line.own("stable"):
        base = [("midtrain.base", m.base)] if isinstance(m.base, str) else []
        stages.append(Stage(f"{prefix}{line.prefix}stable", line.making("stable"),
                            [("midtrain.stable.data", m.stable.data), *base], line.folder("stable"),
                            lambda target, mt=m: build_midtrain(stable_run(mt, target), mt.launch, recipe.threads is not None),
                            work=Work(_base_model(line), f"{m.stable.tokens:,} tokens", m.stable.tokens),
                            launch=launched(m.launch)))
    for branch, spec in (m.decay.branches if m.decay else {}).items():
        if branch not in needed or not line.own(branch):
            continue
        stable_folder = line.folder("stable")
        mt = m.model_copy(update={"out": str(stable_folder.parent)})  # decay_run finds <out>/stable
        stages.append(Stage(f"{prefix}{line.prefix}decay-{branch}", line.making(branch),
                            [(f"midtrain.decay.branches.{branch}.data", spec.data), ("midtrain.stable", str(stable_folder))],
                            line.folder(branch),
                            lambda target, b=branch, mt=mt: build_midtrain(decay_run(mt, b, target), mt.launch, recipe.threads is not None),
                            work=Work(_base_model(line), f"{m.decay.tokens:,} tokens", m.decay.tokens),
                            launch=launched(m.launch)))
    return stages


def _base_model(line: Line) -> str:
    """What a line's mid-training starts from, as `Work.model` names it."""
    if line.pretrain is not None:
        return line.pretrain.size
    return line.midtrain.base if isinstance(line.midtrain.base, str) else line.midtrain.base.size


def plan(recipe: StudyRecipe) -> list[Stage]:
    run = Path(recipe.out)
    stages: list[Stage] = []
    if recipe.world is not None:
        def synth(target: Path, spec=recipe.world):
            from octothinker.data.synthetic import generate_world

            generate_world(target, spec, seed=recipe.seed)
        stages.append(Stage("world", {"world": recipe.world, "seed": recipe.seed}, [], run / "world", synth))
    for name, data in recipe.data.items():
        def build_data(target: Path, data=data):
            from octothinker.data.pipeline import build

            build(data.model_copy(update={"out": str(target)}), staged=True)
        inputs = [(f"data.{name}.sources.{s.name}.path", s.path) for s in data.sources]
        inputs.append((f"data.{name}.tokenizer", data.tokenizer))
        if data.quality:
            inputs += [(f"data.{name}.quality.positive", data.quality.positive),
                       (f"data.{name}.quality.negative", data.quality.negative)]
        if data.decontam:
            inputs += [(f"data.{name}.decontam.files", f) for f in data.decontam.files]
            inputs += _benchmark_inputs(f"data.{name}.decontam", data.decontam.benchmarks, data.decontam.data_dir)
        # where and on how many tasks datatrove curates is how, not what: the shards do not depend on it
        how = {"out", "executor", "tasks", "workers", "cluster"}
        stages.append(Stage(f"data.{name}", data.model_dump(exclude=how), inputs, Path(data.out), build_data))

    for seed in training_seeds(recipe):
        prefix = seed_prefix(recipe, seed) if recipe.per_seed == "training" else ""
        main, arms = lines_of(recipe, seed)
        needed = set(main.models()) if recipe.midtrain else set(recipe.rl_from) - set(recipe.given)
        stages += _training_stages(recipe, main, prefix, needed)
        for name, arm in recipe.arms.items():
            stages += _training_stages(recipe, arms[name], prefix, set(arm.models))

    for subject in subjects(recipe):
        stages += _subject_stages(recipe, subject)
    for subject in evaluated_only(recipe):
        stages += _subject_stages(recipe, subject, with_rl=False)
    made = [(s.name, str(s.output)) for s in stages]
    stages.append(Stage("report", {}, [(f"stage {n}", o) for n, o in made], run / "report",
                        lambda target: build_report(recipe, target)))
    for stage in stages:
        stage.threads = stage_threads(recipe, stage)
        stage.context = {"threads": stage.threads}  # results are bit-exact only at one thread count
    link(stages)
    return stages


def stage_threads(recipe: StudyRecipe, stage: Stage) -> int | None:
    """A stage's torch threads, from what it does alone: never from the plan around it (a stage the demo
    and its arms share is then the same stage in both) nor from which stages happen to overlap. With
    `jobs` > 1, a stage that trains and generates nothing (pre-training, stable, decay) runs alone with
    all `threads`: in the demo, two such stages side by side on one thread each did 1.09x the work of one
    on two. The rest (data, probes, RL, evaluations, report) run `jobs` at a time, `threads // jobs` each:
    the mini model's sampled decoding is barely faster on two threads than on one (BENCHMARKS.md)."""
    if recipe.threads is None:
        return None
    trains_only = stage.work is not None and stage.work.train_tokens > 0 and stage.work.generated_tokens == 0
    return recipe.threads if recipe.jobs == 1 or trains_only else max(1, recipe.threads // recipe.jobs)


def _subject_stages(recipe: StudyRecipe, s: Subject, with_rl: bool = True) -> list[Stage]:
    """Probe, evaluations and RL of one model of one seed (without RL: its evaluations before RL only)."""
    name = f"{seed_prefix(recipe, s.seed)}{s.key}"
    source = ("rl_from", str(s.model))
    rl = recipe.rl_for(s.key)
    prompt_file = template_file(template_of(rl))
    prompt_files = [("rl.template", str(prompt_file))] if prompt_file else []
    seeded = {"seed": s.seed}
    # a named release copy changes what the evaluations run (the release's harness) and read
    release = {"release_dir": recipe.release_dir} if recipe.release_dir else {}
    release_inputs = [("release_dir", recipe.release_dir)] if recipe.release_dir else []
    stages = []
    if recipe.probe is not None and with_rl:
        p = recipe.probe
        prompts = _benchmark_inputs("probe.prompts", [p.prompts], p.data_dir) if not _is_path(p.prompts) \
            else [("probe.prompts", p.prompts)]
        stages.append(Stage(_stage_name(name, "probe"), {"probe": p, "rl": probe_rl_settings(rl), **seeded},
                            [source, *prompts, *prompt_files, *release_inputs], s.probe, lambda target, s=s: build_probe(recipe, s, target),
                            work=Work(str(s.model), f"{p.limit} prompts x {p.k} samples",
                                      generated_tokens=p.limit * p.k * p.max_new_tokens)))
    if recipe.eval is not None:
        for mode in recipe.eval.before_rl:
            stages.append(Stage(_stage_name(name, "eval", mode), {"eval": recipe.eval, "mode": mode, **seeded,
                                                                  "template": template_of(rl), **release},
                                [source, *_eval_inputs(recipe.eval), *prompt_files, *release_inputs], s.evals / s.key.split("/")[-1] / mode,
                                lambda target, s=s, mode=mode: build_eval(recipe, s, s.model, mode, target),
                                work=_eval_work(recipe.eval, str(s.model))))
    if rl is not None and with_rl:
        rl_inputs = [("rl.prompts", rl.prompts)]
        if rl.eval:
            rl_inputs += [(f"rl.eval.files.{k}", v) for k, v in rl.eval.files.items()]
            rl_inputs += _benchmark_inputs("rl.eval", rl.eval.benchmarks, rl.eval.data_dir)
        stages.append(Stage(_stage_name(name, "rl"), {"rl": rl, **seeded},
                            [source, *rl_inputs, *prompt_files, *release_inputs], s.rl, lambda target, s=s: build_rl(recipe, s, target),
                            work=_rl_work(rl, str(s.model)), **_rl_launch(rl)))
        if recipe.eval is not None:
            final = s.rl / "final"
            stages.append(Stage(_stage_name(name, "eval-rl"), {"eval": recipe.eval, "mode": "zero-shot", **seeded,
                                                               "template": template_of(rl), **release},
                                [("rl_from", str(final)), *_eval_inputs(recipe.eval), *prompt_files, *release_inputs],
                                s.evals / f"rl-{s.key.split('/')[-1]}" / "zero-shot",
                                lambda target, s=s: build_eval(recipe, s, s.rl / "final", "zero-shot", target),
                                work=_eval_work(recipe.eval, str(s.model))))
    return stages


def _eval_work(e: EvalPlan, model: str) -> Work:
    problems = 0
    for _, path in _benchmark_inputs("eval", e.benchmarks, e.data_dir):
        try:
            with open(path, "rb") as f:
                count = sum(1 for line in f if line.strip())
        except OSError:  # not on this machine yet: the plan cannot price it
            return Work(model, f"{len(e.benchmarks)} benchmarks", generated_tokens=None)
        problems += min(count, e.limit or count)
    return Work(model, f"{problems:,} problems", generated_tokens=problems * e.max_new_tokens)


def _rl_launch(rl: RLConfig) -> dict:
    """verl's GPUs, for the plan and the Slurm job (verl starts its own workers on them)."""
    if rl.engine != "verl":
        return {}
    return {"launch": LaunchSpec(nproc_per_node=rl.verl.gpus_per_node, nnodes=rl.verl.nodes), "engine": "verl"}


def _rl_work(rl: RLConfig, model: str) -> Work:
    rollouts = rl.prompts_per_step * rl.group_size
    generated = rollouts * sum(rl.response_length(step) for step in range(rl.steps))
    evals = 0
    if rl.eval and rl.eval.every and rl.eval.limit:
        points = rl.steps // rl.eval.every + 1
        per_point = rl.eval.limit * max(len(rl.eval.tasks()), 1) * (rl.eval.samples + int(rl.eval.greedy))
        evals = points * per_point * (rl.eval.max_response_tokens or rl.response_length(rl.steps - 1))
    # trained: every response with its prompt, once an epoch (an upper bound, as for generation)
    trained = rl.epochs * (generated + rl.steps * rollouts * rl.max_prompt_tokens)
    stairs = "/".join(str(length) for _, length in sorted(rl.length_schedule.items())) or str(rl.max_response_tokens)
    removal = ", solved prompts removed" if rl.remove_solved else ""
    return Work(model, f"{rl.steps} steps x {rl.prompts_per_step} prompts x {rl.group_size}, responses to {stairs} "
                       f"tokens{removal}", trained, generated + evals)


def _stage_name(subject: str, kind: str, mode: str | None = None) -> str:
    """probe-short, eval-short (few-shot), eval-short-zero-shot, rl-short, eval-rl-short; arms and seeds
    keep their prefix: seed-1/unfiltered/rl-short."""
    head, _, model = subject.rpartition("/")
    name = f"{kind}-{model}" + (f"-{mode}" if mode and mode != "few-shot" else "")
    return f"{head}/{name}" if head else name


def _is_path(spec: str) -> bool:
    from octothinker.tasks.benchmarks import BENCHMARKS

    return spec not in BENCHMARKS and "=" not in spec


def _benchmark_inputs(key: str, names: list[str], data_dir: str | None) -> list[tuple[str, str]]:
    """The files behind benchmark names (checked against the registry here, before any stage runs)."""
    from octothinker.tasks.benchmarks import benchmark_path

    inputs = []
    for name in names:
        try:
            path = benchmark_path(name, data_dir)
        except OctoError as err:
            raise RecipeError(f"{key}: {err}") from None
        if path is None:
            raise RecipeError(f"{key}: benchmark {name!r} needs a data_dir (the folder of <name>/test.jsonl files)")
        inputs.append((f"{key}.benchmarks.{name.split('=')[0]}", str(path)))
    return inputs


def _eval_inputs(e: EvalPlan) -> list[tuple[str, str]]:
    exemplars = [("eval.fewshot_file", e.fewshot_file)] if e.fewshot_file else []
    return _benchmark_inputs("eval", e.benchmarks, e.data_dir) + exemplars


def preflight(recipe: StudyRecipe, stages: list[Stage], where: str) -> None:
    """Everything checkable before hours of compute (`stages.check_paths`), as recipe errors."""
    check_paths(stages, Path(recipe.out), where, RecipeError)


def check_templates(recipe: StudyRecipe, where: str) -> None:
    """The templates RL prompts with can be read (a `release:` one needs the recipe's `release_dir`)."""
    from octothinker.tasks.templates import TemplateError

    for key in [None, *recipe.rl_per_model]:
        rl = recipe.rl_for(key) if key else recipe.rl
        if rl is not None:
            try:
                rl.prompt_template()
            except TemplateError as err:
                raise RecipeError(f"{where}: rl{'_per_model.' + key if key else ''}.{err}") from None


def check_data(recipe: StudyRecipe, stages: list[Stage], where: str, missing_ok: bool = False) -> None:
    """Before any stage runs (and for `--plan`, `missing_ok`: of the corpora already there): the first
    records of every source of every data section that no stage makes go through its format; most of
    them bad stops the run in one line naming section, source, file, record and field
    (`data.preview.check_sources`)."""
    from octothinker.data.preview import check_sources

    made = [s.output for s in stages if not s.name.startswith("data.")]
    outside = {}
    for name, section in recipe.data.items():
        sources = [src for src in section.sources if not any(within(fixed_root(src.path), m) for m in made)
                   and not (missing_ok and not external_paths(src.path))]
        if sources:
            outside[name] = section.model_copy(update={"sources": sources})
    check_sources(outside, where)
