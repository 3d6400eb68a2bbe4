"""The referee of bench/release_parity.py: the OctoThinker release's own evaluation code, imported from the
user's checkout and run in its own virtual environment (the release's pins: sympy 1.12, ANTLR 4.11), with
nothing of octothinker imported. It does what `eval/run_subset_parallel.py` and `eval/infer/run_cot_eval.py`
do around the model call, which needs vLLM and a GPU and is left out:

    python bench/release_referee.py prompts --release-dir R --data-dir D --benchmarks gsm8k,sat --limit 20 --out F
    python bench/release_referee.py score --release-dir R --data-dir D --benchmark gsm8k --predictions P --out F

`prompts` writes {"benchmark", "id", "prompt", "stop"} a problem; `score` reads {"id", "completion"} records
and writes each back with the release's `prediction` and `correct` (its 15 s limit per answer, a time-out
wrong, as its `evaluate` does; an exception, which stops the release's run, is recorded as `error`).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from concurrent.futures import TimeoutError
from pathlib import Path

# our benchmark name -> the release config's entry; MATH-500, which the config lacks, as MATH with its own cleaning
WIRING = {"gsm8k": "gsm8k-cot", "math": "math-cot", "math500": "math-cot", "olympiad_bench": "olympiad-bench-cot",
          "amc23": "amc-cot", "sat": "math_sat-cot", "ocw": "ocw-courses-cot", "mmlu_stem": "mmlu-stem-cot",
          "mathqa": "mathqa-cot", "svamp": "svamp-cot", "tabmwp": "tabmwp-cot", "asdiv": "asdiv-cot",
          "mawps": "mawps-cot"}


def _release(root: Path):
    sys.path.insert(0, str(root / "eval"))
    import data_processing.answer_extraction as extraction
    import data_processing.process_utils as processing
    import eval.eval_script as eval_script
    import few_shot_prompts

    config = json.loads((root / "eval/configs/en_math_cot_few_shot_test_configs.json").read_text())
    return config, processing, few_shot_prompts, extraction, eval_script


def _items(args, name: str, limit: int | None):
    config, processing, prompts, extraction, eval_script = _release(Path(args.release_dir))
    entry = config[WIRING[name]]
    process = getattr(processing, "process_math500" if name == "math500" else entry["process_fn"])
    items = []
    with open(Path(args.data_dir) / name / "test.jsonl") as fh:
        for i, line in enumerate(fh):
            if limit is not None and i >= limit:
                break
            sample = json.loads(line)
            sample["id"] = sample.get("id", f"{WIRING[name]}-{i}")
            item = next(iter(process(sample)))
            for message in item["messages"]:  # run_cot_eval empties the answer turn
                if message["role"] == "assistant":
                    message["content"] = ""
            items.append(item)
    prompting = getattr(prompts, entry["few_shot_prompt"])()
    return (items, prompting, getattr(extraction, entry["answer_extraction_fn"]),
            getattr(eval_script, entry["eval_fn"]))


def cmd_prompts(args) -> None:
    rows = []
    for name in args.benchmarks.split(","):
        items, prompting, _, _ = _items(args, name, args.limit)
        for i, item in enumerate(items):
            prompt = prompting.format_prompt(item["messages"][-2]["content"], item["messages"][-1]["content"])
            rows.append({"benchmark": name, "id": str(i), "prompt": prompt.lstrip(), "stop": prompting.stop_words()})
    Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in rows))


def cmd_score(args) -> None:
    from pebble import ProcessPool

    items, _, extract, eval_fn = _items(args, args.benchmark, None)
    records = [json.loads(line) for line in open(args.predictions) if line.strip()]
    tasks = []
    for rec in records:
        item = copy.deepcopy(items[int(rec["id"])])
        item["model_output"] = rec["completion"]
        item["prediction"] = extract(item["messages"][-2]["content"], rec["completion"], task="cot")
        tasks.append(item)
    verdicts = []
    with ProcessPool(max_workers=args.workers) as pool:
        results = pool.map(eval_fn, tasks, timeout=15).result()
        while True:
            try:
                verdicts.append(int(next(results)))
            except StopIteration:
                break
            except TimeoutError:
                verdicts.append(0)
            except Exception as err:  # noqa: BLE001  (the release stops here; we record it)
                verdicts.append(f"error: {type(err).__name__}")
    with open(args.out, "w") as fh:
        for rec, item, verdict in zip(records, tasks, verdicts):
            fh.write(json.dumps({**rec, "prediction": item["prediction"],
                                 "correct": verdict if isinstance(verdict, str) else bool(verdict)}) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("prompts", "score"):
        p = sub.add_parser(name)
        p.add_argument("--release-dir", required=True)
        p.add_argument("--data-dir", required=True)
        p.add_argument("--out", required=True)
    sub.choices["prompts"].add_argument("--benchmarks", required=True)
    sub.choices["prompts"].add_argument("--limit", type=int, default=20)
    sub.choices["score"].add_argument("--benchmark", required=True)
    sub.choices["score"].add_argument("--predictions", required=True)
    sub.choices["score"].add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    {"prompts": cmd_prompts, "score": cmd_score}[args.command](args)


if __name__ == "__main__":
    main()
