"""The study's plan: its stages in order (data, base, stable, decays, then per model RL starts from: probe,
evaluations, RL and the evaluation after it; last the report), each with what it reads, what it is made
from, the folder the layout gives it, and what it computes."""

from __future__ import annotations

from pathlib import Path

from octothinker.errors import OctoError
from octothinker.midtrain.config import LaunchSpec
from octothinker.recipe import RecipeError
from octothinker.rl.config import RLConfig
from octothinker.runs.engine import Input, Stage, Work, check_paths, external_paths, fixed_root, link, within
from octothinker.study.build import (BuildData, Evaluate, MakeWorld, Midtrain, Pretrain, Probe, Report, TrainRL,
                                     launched, probe_rl_settings, template_of)
from octothinker.study.recipe import EvalPlan, StudyRecipe
from octothinker.tasks.templates import template_file

# where and on how many tasks datatrove curates is how, not what: the shards do not depend on it
DATA_HOW = {"out", "executor", "tasks", "workers", "cluster"}


def plan(recipe: StudyRecipe) -> list[Stage]:
    layout = recipe.layout()
    pinned = recipe.threads is not None
    stages: list[Stage] = []

    # data: the synthetic world, then each data section's shards
    if recipe.world is not None:
        stages.append(Stage("world", {"world": recipe.world, "seed": recipe.seed}, [], layout.world,
                            MakeWorld(recipe.world, recipe.seed)))
    for name, data in recipe.data.items():
        stages.append(Stage(f"data.{name}", data.model_dump(exclude=DATA_HOW), _data_inputs(name, data),
                            Path(data.out), BuildData(data)))

    # models: per training seed, the main line and each arm's line: base, stable, decay branches (an arm
    # makes only the models whose settings differ from the main line's)
    for seed in recipe.training_seeds():
        prefix = layout.stage_prefix(seed) if recipe.per_seed == "training" else ""
        main, arms = recipe.lines(seed)
        needed = set(main.models()) if recipe.midtrain else set(recipe.rl_from) - set(recipe.given)
        for line, models in [(main, needed), *((arms[name], set(arm.models)) for name, arm in recipe.arms.items())]:
            m, head = line.midtrain, prefix + line.prefix
            wants_stable = bool(models - {"base"})
            pretrain = line.pretrain
            if line.own("base") and pretrain is not None and ("base" in models or (wants_stable and line.own("stable"))):
                stages.append(Stage(layout.model_stage("base", head), line.making("base"),
                                    [Input("pretrain.data", pretrain.data)], line.folder("base"),
                                    Pretrain(pretrain, m.train, line.seed),
                                    work=Work(pretrain.size, f"{pretrain.tokens:,} tokens", pretrain.tokens)))
            if m is None:
                continue
            if wants_stable and line.own("stable"):
                base = [Input("midtrain.base", m.base)] if isinstance(m.base, str) else []
                stages.append(Stage(layout.model_stage("stable", head), line.making("stable"),
                                    [Input("midtrain.stable.data", m.stable.data), *base], line.folder("stable"),
                                    Midtrain(m, pinned), launch=launched(m.launch),
                                    work=Work(_base_model(line), f"{m.stable.tokens:,} tokens", m.stable.tokens)))
            for branch, spec in (m.decay.branches if m.decay else {}).items():
                if branch in models and line.own(branch):
                    stable = line.folder("stable")
                    stages.append(Stage(layout.model_stage(branch, head), line.making(branch),
                                        [Input(f"midtrain.decay.branches.{branch}.data", spec.data),
                                         Input("midtrain.stable", str(stable))],
                                        line.folder(branch), Midtrain(m, pinned, branch, stable, layout.model_stage(branch)),
                                        launch=launched(m.launch),
                                        work=Work(_base_model(line), f"{m.decay.tokens:,} tokens", m.decay.tokens)))

    # per model RL starts from (and per model only evaluated, `eval_from`), of every seed: its probe, its
    # evaluations before RL, its RL run and the evaluation of the model RL made
    release = {"release_dir": recipe.release_dir} if recipe.release_dir else {}
    release_inputs = [Input("release_dir", recipe.release_dir)] if recipe.release_dir else []
    for s, with_rl in [*((s, True) for s in recipe.subjects()), *((s, False) for s in recipe.evaluated_only())]:
        rl, seeded = recipe.rl_for(s.key), {"seed": s.seed}
        prompt_file = template_file(template_of(rl))
        reads = [*([Input("rl.template", str(prompt_file))] if prompt_file else []), *release_inputs]
        if recipe.probe is not None and with_rl:
            p = recipe.probe
            prompts = [Input("probe.prompts", p.prompts)] if _is_path(p.prompts) else \
                _benchmark_inputs("probe.prompts", [p.prompts], p.data_dir)
            stages.append(Stage(s.stage(layout, "probe"), {"probe": p, "rl": probe_rl_settings(rl), **seeded},
                                [Input("rl_from", str(s.model)), *prompts, *reads], s.probe,
                                Probe(s.model, p.prompts, p.data_dir, p, rl, s.seed, recipe.release_dir),
                                work=Work(str(s.model), f"{p.limit} prompts x {p.k} samples",
                                          generated_tokens=p.limit * p.k * p.max_new_tokens)))
        e = recipe.eval
        for mode in e.before_rl if e is not None else []:
            stages.append(Stage(s.stage(layout, "eval", mode),
                                {"eval": e, "mode": mode, **seeded, "template": template_of(rl), **release},
                                [Input("rl_from", str(s.model)), *_eval_inputs(e), *reads], s.evaluation(mode),
                                _evaluate(recipe, s.model, mode, rl, s.seed), work=_eval_work(e, str(s.model))))
        if rl is not None and with_rl:
            rl_inputs = [Input("rl.prompts", rl.prompts)]
            if rl.eval:
                rl_inputs += [Input(f"rl.eval.files.{k}", v) for k, v in rl.eval.files.items()]
                rl_inputs += _benchmark_inputs("rl.eval", rl.eval.benchmarks, rl.eval.data_dir)
            stages.append(Stage(s.stage(layout, "rl"), {"rl": rl, **seeded},
                                [Input("rl_from", str(s.model)), *rl_inputs, *reads], s.rl,
                                TrainRL(rl.model_copy(update={"seed": s.seed}), s.model),
                                work=_rl_work(rl, str(s.model)), **_rl_launch(rl)))
            if e is not None:
                final = layout.final(s.rl)
                stages.append(Stage(s.stage(layout, "eval-rl"),
                                    {"eval": e, "mode": "zero-shot", **seeded, "template": template_of(rl), **release},
                                    [Input("rl_from", str(final)), *_eval_inputs(e), *reads],
                                    s.evaluation("zero-shot", after_rl=True),
                                    _evaluate(recipe, final, "zero-shot", rl, s.seed), work=_eval_work(e, str(s.model))))

    # the report reads every stage
    stages.append(Stage("report", {}, [Input(f"stage {st.name}", str(st.output)) for st in stages], layout.report,
                        Report(layout.run)))
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


def _evaluate(recipe: StudyRecipe, model: Path, mode: str, rl: RLConfig | None, seed: int) -> Evaluate:
    e = recipe.eval
    return Evaluate(model, tuple(e.benchmarks), e.data_dir, mode, template_of(rl), e.fewshot_file, e.limit,
                    e.max_new_tokens, e.cutoff, seed, recipe.release_dir)


def _base_model(line) -> str:
    """What a line's mid-training starts from, as `Work.model` names it."""
    if line.pretrain is not None:
        return line.pretrain.size
    return line.midtrain.base if isinstance(line.midtrain.base, str) else line.midtrain.base.size


def _data_inputs(name: str, data) -> list[Input]:
    inputs = [Input(f"data.{name}.sources.{s.name}.path", s.path) for s in data.sources]
    inputs.append(Input(f"data.{name}.tokenizer", data.tokenizer))
    if data.quality:
        inputs += [Input(f"data.{name}.quality.positive", data.quality.positive),
                   Input(f"data.{name}.quality.negative", data.quality.negative)]
    if data.decontam:
        inputs += [Input(f"data.{name}.decontam.files", f) for f in data.decontam.files]
        inputs += _benchmark_inputs(f"data.{name}.decontam", data.decontam.benchmarks, data.decontam.data_dir)
    return inputs


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


def _is_path(spec: str) -> bool:
    from octothinker.tasks.benchmarks import BENCHMARKS

    return spec not in BENCHMARKS and "=" not in spec


def _benchmark_inputs(key: str, names: list[str], data_dir: str | None) -> list[Input]:
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
        inputs.append(Input(f"{key}.benchmarks.{name.split('=')[0]}", str(path)))
    return inputs


def _eval_inputs(e: EvalPlan) -> list[Input]:
    exemplars = [Input("eval.fewshot_file", e.fewshot_file)] if e.fewshot_file else []
    return _benchmark_inputs("eval", e.benchmarks, e.data_dir) + exemplars


def preflight(recipe: StudyRecipe, stages: list[Stage], where: str) -> None:
    """Everything checkable before hours of compute (`runs.engine.check_paths`), as recipe errors."""
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
