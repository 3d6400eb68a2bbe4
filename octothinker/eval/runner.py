"""The evaluation loop: prompts -> generations -> extracted answers -> grades -> summary.

    octo eval MODEL --benchmarks gsm8k,math500 --data-dir benchmarks --limit 100 --out runs/eval

Outputs under `--out` (default `runs/eval/<model>/<mode>`): `<benchmark>.jsonl` (one record a sample),
`summary.json`, `summary.md` and `config.json`. Records are appended after every chunk, so a killed run
loses at most one chunk and a rerun with the same `--out` skips what is done; a rerun with another model
(told apart by a hash of its weights, not its path), other generation settings or other problems under
a benchmark's name (a hash of its test file) is refused. Generating and grading is `eval.task`'s one
step, which RL's held-out evaluation and the probe share.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from octothinker.errors import DataError, OctoError
from octothinker.eval.config import EvalConfig
from octothinker.eval.generation import Generator, SamplingParams
from octothinker.eval.metrics import summarize
from octothinker.eval.task import EvalTask, generate_and_grade, scored_task
from octothinker.runs import (atomic_write_json, atomic_write_text, derive_seed, jsonl_records, read_jsonl,
                             run_metadata)
from octothinker.runs.files import PROVENANCE, ensure_writable, file_digest
from octothinker.runs.metrics import Progress
from octothinker.tasks.benchmarks import Benchmark, Problem, benchmark_path, get_benchmark, load_problems
from octothinker.tasks.grading import gold_answer
from octothinker.tasks.fewshot import EXEMPLARS, STYLE_STOPS, build_prompt, load_exemplars
from octothinker.tasks.templates import get_template


def build_prompts(bench: Benchmark, problems: list[Problem], cfg: EvalConfig,
                  tokenizer=None) -> tuple[list[str], tuple[str, ...]]:
    if cfg.mode == "zero-shot":
        template = get_template(cfg.template, cfg.release_dir).bind(tokenizer, cfg.model)
        return [template.render(p.question) for p in problems], template.stop
    exemplars = load_exemplars(cfg.fewshot_file) if cfg.fewshot_file else EXEMPLARS[bench.style]
    return [build_prompt(bench.style, p.question, exemplars) for p in problems], STYLE_STOPS[bench.style]


def load_task(spec: str, cfg: EvalConfig, tokenizer=None, limit: int | None = None) -> EvalTask:
    """The task `spec` names (a registry benchmark or NAME=FILE) under `cfg.harness`."""
    limit = cfg.limit if limit is None else limit
    if cfg.harness == "release":
        from octothinker.tasks.release import ReleaseHarness

        bench = get_benchmark(spec)
        if cfg.data_dir is None and not bench.path:
            raise DataError(f"{spec}: the release harness reads test files: pass --data-dir DIR with DIR/{spec}/test.jsonl")
        task = ReleaseHarness(cfg.release_dir).task(bench.name)
        problems = task.problems(cfg.data_dir, limit, benchmark_path(spec, cfg.data_dir))
        return EvalTask(bench.name, problems, [task.prompt(p) for p in problems], task.stop,
                        lambda probs, comps, cut: task.score(probs, comps))
    bench = get_benchmark(spec)
    problems = load_problems(spec, cfg.data_dir, limit, cfg.hub)
    prompts, stop = build_prompts(bench, problems, cfg, tokenizer)
    return scored_task(bench, problems, prompts, stop, cfg.cutoff)


def input_digests(cfg: EvalConfig) -> dict[str, str]:
    """Each benchmark's test file (and the few-shot exemplars) by its contents: results made from other
    problems under the same name are not resumed as if they were these."""
    digests = {}
    for spec in cfg.benchmarks:
        path = benchmark_path(spec, cfg.data_dir)
        bench = get_benchmark(spec)
        digests[bench.name] = file_digest(path) if path is not None and path.is_file() else f"hub:{bench.hub}"
    if cfg.fewshot_file and cfg.mode == "few-shot":
        digests["fewshot_file"] = file_digest(cfg.fewshot_file)
    return digests


def _check_resumable(out: Path, key: dict, inputs: dict[str, str]) -> dict[str, str]:
    """Refuses an output folder holding results made with other settings or from other data; returns the
    inputs to record: the earlier benchmarks' (a rerun on fewer keeps their results) and these."""
    config_path = out / "config.json"
    if not config_path.exists():
        return inputs
    previous = json.loads(config_path.read_text())
    made_with = previous.get("generation_key", {})
    changed = sorted(k for k in {*key, *made_with} if made_with.get(k) != key.get(k))
    if changed:
        raise OctoError(f"{config_path}: this output folder holds results made with other settings "
                        f"({', '.join(changed)}); choose another --out")
    made_from = previous.get("inputs", {})
    for name, digest in inputs.items():
        if name in made_from and made_from[name] != digest:
            what = "the few-shot exemplars" if name == "fewshot_file" else f"{name}'s test file"
            raise OctoError(f"{config_path}: its {name} results were made from other data: {what} has changed "
                            f"since (sha256 {made_from[name]} then, {digest} now); choose another --out")
    return {**made_from, **inputs}


def evaluate_benchmark(spec: str, cfg: EvalConfig, generator: Generator, out: Path) -> dict:
    task = load_task(spec, cfg, getattr(generator, "tokenizer", None))
    problems, prompts, stop = task.problems, task.prompts, task.stop
    path = out / f"{task.name}.jsonl"
    done = {(r["id"], r["sample"]) for r in read_jsonl(path, repair=True)}
    todo = [i for i, p in enumerate(problems) if any((p.id, s) not in done for s in range(cfg.n))]
    params = SamplingParams(max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature, top_p=cfg.top_p,
                            n=cfg.n, stop=stop, seed=derive_seed(cfg.seed, "eval", task.name))
    start = time.perf_counter()
    chunk = max(cfg.batch_size, 1)
    bar = Progress(len(todo), task.name, every=max(chunk, 1), unit="problem")
    with path.open("a") as fh:
        for lo in range(0, len(todo), chunk):
            for g in generate_and_grade(task, generator, params, todo[lo:lo + chunk], on_batch=bar.update):
                i, comp = g.problem, g.completion
                if (problems[i].id, g.sample) in done:
                    continue
                fh.write(json.dumps({
                    "id": problems[i].id, "sample": g.sample, "prompt": prompts[i], "completion": comp.text,
                    "extracted": g.verdict.extracted, "gold": problems[i].gold, "correct": g.verdict.correct,
                    "response_tokens": comp.tokens, "finish": comp.finish,
                }) + "\n")
            fh.flush()
    bar.close()
    seconds = time.perf_counter() - start
    wanted = {p.id for p in problems}
    records = [r for r in read_jsonl(path) if r["id"] in wanted and r["sample"] < cfg.n]
    summary = summarize(records, cfg.n)
    summary["cutoff"] = cfg.cutoff if cfg.harness == "ours" else "as-complete"  # the release grades cut answers whole
    summary["harness"] = cfg.harness
    summary["seconds"] = seconds
    summary["problems_per_s"] = len(todo) / seconds if todo and seconds > 0 else None
    return summary


def format_summary_md(summaries: dict[str, dict], cfg: EvalConfig) -> str:
    extra = [k for k in next(iter(summaries.values()), {}) if k.startswith(("maj@", "pass@"))]
    head = ["benchmark", "problems", "accuracy", *extra, "mean response tokens", "no answer %", "truncated %"]
    rule = (f"is graded by the rule `{cfg.cutoff}` (tasks.scoring)" if cfg.harness == "ours"
            else "is graded whole, as the release grades it")
    lines = [f"# Evaluation of `{cfg.model}` ({cfg.mode}"
             + (f", template `{cfg.template}`" if cfg.mode == "zero-shot" else "")
             + (", the release's harness: its prompts, stop words and grading" if cfg.harness == "release" else "")
             + ")", "",
             f"A completion cut at {cfg.max_new_tokens} new tokens {rule}; \"truncated %\" is their share, "
             "\"no answer %\" the share without an answer.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, s in summaries.items():
        cells = [name, str(s["problems"]), f"{s['accuracy']:.1f}", *(f"{s[k]:.1f}" for k in extra),
                 f"{s['mean_response_tokens']:.0f}", f"{s['extraction_failure_rate']:.1f}",
                 f"{s['truncation_rate']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    if len(summaries) > 1:
        mean = sum(s["accuracy"] for s in summaries.values()) / len(summaries)
        lines.append("| " + " | ".join(["**mean**", "", f"{mean:.1f}"] + [""] * (len(head) - 3)) + " |")
    return "\n".join(lines) + "\n"


def evaluate(cfg: EvalConfig, generator: Generator | None = None) -> dict[str, dict]:
    """Evaluate `cfg.model` on every benchmark; returns {benchmark: summary} and writes the outputs."""
    if cfg.mode == "zero-shot":
        get_template(cfg.template, cfg.release_dir)
    elif cfg.fewshot_file:
        load_exemplars(cfg.fewshot_file)
    for spec in cfg.benchmarks:  # fail on a missing or malformed file (or release copy) before loading the model
        if cfg.harness == "release":
            load_task(spec, cfg)
        else:
            load_problems(spec, cfg.data_dir, cfg.limit, cfg.hub)
    if generator is None:  # a device or dtype this machine cannot give fails here, before anything is written
        from octothinker.models import select_device, select_dtype

        select_dtype(select_device(cfg.device), cfg.dtype)
    out = cfg.output_dir()
    key = cfg.generation_key()
    inputs = _check_resumable(out, key, input_digests(cfg))
    ensure_writable(out)
    if generator is None:
        from octothinker.eval.generation import make_generator

        generator = make_generator(cfg.model, cfg.backend, cfg.device, cfg.dtype, cfg.batch_size, cfg.seed)
    atomic_write_json(out / "config.json", {"config": cfg.model_dump(), "generation_key": key, "inputs": inputs,
                                            **run_metadata(cfg.seed)})
    summaries = {get_benchmark(spec).name: evaluate_benchmark(spec, cfg, generator, out) for spec in cfg.benchmarks}
    for name, summary in summaries.items():  # what each number was made from, beside it
        summary["data_sha256"] = inputs[name]
    # a rerun on fewer benchmarks keeps the others' results (same model and settings: _check_resumable)
    earlier = json.loads((out / "summary.json").read_text()) if (out / "summary.json").is_file() else {}
    everything = {**{k: v for k, v in earlier.items() if k not in summaries and k != PROVENANCE}, **summaries}
    # what made these numbers, as `octo run` stamps a stage (which replaces this with its stage's key)
    key_of = hashlib.sha256(json.dumps({"generation_key": key, "inputs": inputs}, sort_keys=True).encode())
    atomic_write_json(out / "summary.json", {**everything, PROVENANCE: {"key": key_of.hexdigest()[:16], "inputs": inputs}})
    atomic_write_text(out / "summary.md", format_summary_md(everything, cfg))
    return summaries


def write_prompts(cfg: EvalConfig, out: str | Path | None) -> int:
    """Every problem's prompt and stop words, without a model: one JSON record a problem,
    `{"benchmark", "id", "prompt", "stop"}` (lm-eval's `--write_out`); to stdout without `out`."""
    import sys

    lines = []
    for spec in cfg.benchmarks:
        task = load_task(spec, cfg)
        lines += [json.dumps({"benchmark": task.name, "id": p.id, "prompt": prompt, "stop": list(task.stop)})
                  for p, prompt in zip(task.problems, task.prompts)]
    text = "".join(line + "\n" for line in lines)
    if out:
        atomic_write_text(Path(out), text)
    else:
        sys.stdout.write(text)
    return len(lines)


def score_predictions(path: str | Path, cfg: EvalConfig, out: str | Path | None = None) -> dict:
    """Re-grade saved completions (records with `completion` and a `gold`, or an `id` to look one up; a
    `finish` of "length" marks a completion cut at the token limit) under `cfg`'s harness and cut-off
    rule. With `out`, each record is written back with `extracted` and `correct`."""
    spec = cfg.benchmarks[0]
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: predictions file not found")
    task = None
    records = list(jsonl_records(path))
    for where, rec in records:
        if not isinstance(rec.get("completion"), str):
            raise DataError(f"{where}: " + ("missing field 'completion'" if "completion" not in rec else
                                            f"field 'completion' is a {type(rec['completion']).__name__}, not text"))
        if "finish" in rec and rec["finish"] is not None and not isinstance(rec["finish"], str):
            raise DataError(f"{where}: field 'finish' is not text")
        if rec.get("gold") is None or cfg.harness == "release":  # the release's golds are its own cleaning's
            if "id" not in rec:
                raise DataError(f"{where}: missing field " + ("'id'" if cfg.harness == "release" else "'gold' (or 'id' to look it up)"))
            task = task or load_task(spec, cfg, limit=None)
    by_id = {p.id: p for p in task.problems} if task else {}
    problems = []
    for where, rec in records:
        if rec.get("gold") is not None and cfg.harness == "ours":
            problems.append(Problem(str(rec.get("id", "")), "", gold_answer(rec["gold"], where, "gold")))
        elif str(rec["id"]) in by_id:
            problems.append(by_id[str(rec["id"])])
        else:
            raise DataError(f"{where}: id {rec['id']!r} is not a {spec} problem")
    if not records:
        raise DataError(f"{path}: no predictions")
    if task is None:  # golds given with every record: no test file needed
        task = scored_task(get_benchmark(spec), problems, [], (), cfg.cutoff)
    grade = task.grade
    cut = [rec.get("finish") == "length" for _, rec in records]
    unknown = sum(rec.get("finish") is None for _, rec in records)
    verdicts = grade(problems, [rec["completion"] for _, rec in records], cut)
    if out:
        atomic_write_text(Path(out), "".join(
            json.dumps({**rec, "extracted": v.extracted, "correct": v.correct}) + "\n"
            for (_, rec), v in zip(records, verdicts)))
    n = len(records)
    return {"benchmark": get_benchmark(spec).name, "harness": cfg.harness, "samples": n,
            "cutoff": cfg.cutoff if cfg.harness == "ours" else "as-complete",
            "accuracy": 100.0 * sum(v.correct for v in verdicts) / n,
            # of the records that say how they ended: a record without `finish` may have been cut or not
            "truncation_rate": 100.0 * sum(cut) / (n - unknown) if unknown < n else None,
            "extraction_failure_rate": 100.0 * sum(v.extracted is None for v in verdicts) / n,
            "warnings": [f"{path}: {unknown} of {n} records have no `finish`: whether they were cut at the token "
                         "limit is unknown, so the cut-off rule cannot apply to them and they are graded as "
                         "complete"] if unknown else []}
