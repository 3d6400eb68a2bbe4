"""The evaluation loop: prompts -> generations -> extracted answers -> grades -> summary.

    octo eval MODEL --benchmarks gsm8k,math500 --data-dir benchmarks --limit 100 --out runs/eval

Outputs under `--out` (default `runs/eval/<model>/<mode>`): `<benchmark>.jsonl` (one record a sample),
`summary.json`, `summary.md` and `config.json`. Records are appended after every chunk, so a killed run
loses at most one chunk and a rerun with the same `--out` skips what is done; a rerun with another model
(told apart by a hash of its weights, not its path) or other generation settings is refused.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from octothinker.errors import DataError, OctoError
from octothinker.eval.config import EvalConfig
from octothinker.eval.generation import Generator, SamplingParams
from octothinker.eval.metrics import summarize
from octothinker.runs import (atomic_write_json, atomic_write_text, derive_seed, jsonl_records, read_jsonl,
                             run_metadata)
from octothinker.runs.files import ensure_writable
from octothinker.runs.metrics import Progress
from octothinker.tasks.benchmarks import Benchmark, Problem, get_benchmark, load_problems
from octothinker.tasks.grading import gold_answer
from octothinker.tasks.fewshot import EXEMPLARS, STYLE_STOPS, build_prompt, load_exemplars
from octothinker.tasks.scoring import score
from octothinker.tasks.templates import get_template


def build_prompts(bench: Benchmark, problems: list[Problem], cfg: EvalConfig,
                  tokenizer=None) -> tuple[list[str], tuple[str, ...]]:
    if cfg.mode == "zero-shot":
        template = get_template(cfg.template).bind(tokenizer, cfg.model)
        return [template.render(p.question) for p in problems], template.stop
    exemplars = load_exemplars(cfg.fewshot_file) if cfg.fewshot_file else EXEMPLARS[bench.style]
    return [build_prompt(bench.style, p.question, exemplars) for p in problems], STYLE_STOPS[bench.style]


def _check_resumable(out: Path, key: dict) -> None:
    config_path = out / "config.json"
    if not config_path.exists():
        return
    previous = json.loads(config_path.read_text()).get("generation_key", {})
    changed = sorted(k for k in key if previous.get(k) != key[k])
    if changed:
        raise OctoError(f"{config_path}: this output folder holds results made with other settings "
                        f"({', '.join(changed)}); choose another --out")


def evaluate_benchmark(bench: Benchmark, spec: str, cfg: EvalConfig, generator: Generator, out: Path) -> dict:
    problems = load_problems(spec, cfg.data_dir, cfg.limit, cfg.hub)
    prompts, stop = build_prompts(bench, problems, cfg, getattr(generator, "tokenizer", None))
    path = out / f"{bench.name}.jsonl"
    done = {(r["id"], r["sample"]) for r in read_jsonl(path, repair=True)}
    todo = [i for i, p in enumerate(problems) if any((p.id, s) not in done for s in range(cfg.n))]
    params = SamplingParams(max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature, top_p=cfg.top_p,
                            n=cfg.n, stop=stop, seed=derive_seed(cfg.seed, "eval", bench.name))
    start = time.perf_counter()
    chunk = max(cfg.batch_size, 1)
    bar = Progress(len(todo), bench.name, every=max(chunk, 1), unit="problem")
    with path.open("a") as fh:
        for lo in range(0, len(todo), chunk):
            idx = todo[lo:lo + chunk]
            outs = generator.generate([prompts[i] for i in idx], params, on_batch=bar.update)
            flat = [(i, s, c) for i, comps in zip(idx, outs) for s, c in enumerate(comps)]
            verdicts = score(bench, [c.text for _, _, c in flat], [problems[i].gold for i, _, _ in flat],
                             cut=[c.finish == "length" for _, _, c in flat], cutoff=cfg.cutoff)
            for (i, s, comp), verdict in zip(flat, verdicts):
                if (problems[i].id, s) in done:
                    continue
                fh.write(json.dumps({
                    "id": problems[i].id, "sample": s, "prompt": prompts[i], "completion": comp.text,
                    "extracted": verdict.extracted, "gold": problems[i].gold, "correct": verdict.correct,
                    "response_tokens": comp.tokens, "finish": comp.finish,
                }) + "\n")
            fh.flush()
    bar.close()
    seconds = time.perf_counter() - start
    wanted = {p.id for p in problems}
    records = [r for r in read_jsonl(path) if r["id"] in wanted and r["sample"] < cfg.n]
    summary = summarize(records, cfg.n)
    summary["cutoff"] = cfg.cutoff
    summary["seconds"] = seconds
    summary["problems_per_s"] = len(todo) / seconds if todo and seconds > 0 else None
    return summary


def format_summary_md(summaries: dict[str, dict], cfg: EvalConfig) -> str:
    extra = [k for k in next(iter(summaries.values()), {}) if k.startswith(("maj@", "pass@"))]
    head = ["benchmark", "problems", "accuracy", *extra, "mean response tokens", "no answer %", "truncated %"]
    lines = [f"# Evaluation of `{cfg.model}` ({cfg.mode}"
             + (f", template `{cfg.template}`" if cfg.mode == "zero-shot" else "") + ")", "",
             f"A completion cut at {cfg.max_new_tokens} new tokens is graded by the rule `{cfg.cutoff}` "
             "(tasks.scoring); \"truncated %\" is their share, \"no answer %\" the share without an answer.", "",
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
    benches = [get_benchmark(name) for name in cfg.benchmarks]
    if cfg.mode == "zero-shot":
        get_template(cfg.template)
    elif cfg.fewshot_file:
        load_exemplars(cfg.fewshot_file)
    for spec in cfg.benchmarks:  # fail on a missing or malformed file before loading the model
        load_problems(spec, cfg.data_dir, cfg.limit, cfg.hub)
    if generator is None:  # a device or dtype this machine cannot give fails here, before anything is written
        from octothinker.models import select_device, select_dtype

        select_dtype(select_device(cfg.device), cfg.dtype)
    out = cfg.output_dir()
    key = cfg.generation_key()
    _check_resumable(out, key)
    ensure_writable(out)
    if generator is None:
        from octothinker.eval.generation import make_generator

        generator = make_generator(cfg.model, cfg.backend, cfg.device, cfg.dtype, cfg.batch_size, cfg.seed)
    atomic_write_json(out / "config.json", {"config": cfg.model_dump(), "generation_key": key,
                                            **run_metadata(cfg.seed)})
    summaries = {bench.name: evaluate_benchmark(bench, spec, cfg, generator, out)
                 for bench, spec in zip(benches, cfg.benchmarks)}
    # a rerun on fewer benchmarks keeps the others' results (same model and settings: _check_resumable)
    earlier = json.loads((out / "summary.json").read_text()) if (out / "summary.json").is_file() else {}
    everything = {**{k: v for k, v in earlier.items() if k not in summaries}, **summaries}
    atomic_write_json(out / "summary.json", everything)
    atomic_write_text(out / "summary.md", format_summary_md(everything, cfg))
    return summaries


def score_predictions(path: str | Path, benchmark: str, data_dir: str | None = None) -> dict:
    """Re-grade saved completions: records need `completion` and either `gold` or an `id` to look up."""
    bench = get_benchmark(benchmark)
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: predictions file not found")
    golds_by_id = None
    rows: list[tuple[str, str]] = []
    for where, rec in jsonl_records(path):
        if "completion" not in rec:
            raise DataError(f"{where}: missing field 'completion'")
        gold = rec.get("gold")
        if gold is None:
            if "id" not in rec:
                raise DataError(f"{where}: missing field 'gold' (or 'id' to look it up)")
            if golds_by_id is None:
                golds_by_id = {p.id: p.gold for p in load_problems(benchmark, data_dir)}
            if str(rec["id"]) not in golds_by_id:
                raise DataError(f"{where}: id {rec['id']!r} is not a {benchmark} problem")
            gold = golds_by_id[str(rec["id"])]
        if not isinstance(rec["completion"], str):
            raise DataError(f"{where}: field 'completion' is a {type(rec['completion']).__name__}, not text")
        rows.append((rec["completion"], gold_answer(gold, where, "gold")))
    if not rows:
        raise DataError(f"{path}: no predictions")
    verdicts = score(bench, [c for c, _ in rows], [g for _, g in rows])
    return {"benchmark": benchmark, "samples": len(rows),
            "accuracy": 100.0 * sum(v.correct for v in verdicts) / len(rows),
            "extraction_failure_rate": 100.0 * sum(v.extracted is None for v in verdicts) / len(rows)}
