"""Curation on datatrove against the hand-written path it replaced, on the same documents, in one run.

    .venv/bin/python bench/data_throughput.py --docs 4000 [--old ee44f04] [--tasks 1,2] [--demo-world]
    .venv/bin/python bench/data_throughput.py --docs 20 --tasks 1 --no-old     (datatrove alone: a smoke test)

The old path is the package at revision `--old` (the last one before datatrove), checked out into a
temporary git worktree and imported from there in its own process (it needs `pip install datasketch`).

1. Throughput: synthetic web documents (about 90 words, 10% planted near-duplicates) through a data
   build with the fastText quality filter, MinHash dedup, decontamination, tokenize and pack; each path
   in a fresh process at x1 and x4 input: documents/s over the whole build (datatrove's per-step
   times are printed from its stats) and peak RSS of the build's processes.
2. `--demo-world`: the demo's five data builds (`make demo`'s world) with each path: the report's
   counts side by side, the realised mixture shares, and whether the shards are byte-identical.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHILD = """
import json, resource, sys, time
from octothinker.data.config import DataRecipe
from octothinker.data.pipeline import build
recipe = DataRecipe(**json.loads(sys.argv[1]))
start = time.perf_counter()
report = build(recipe)
seconds = time.perf_counter() - start
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": seconds, "steps": report["steps"], "peak_rss_mb": rss / 1024}))
"""


def make_corpus(folder: Path, docs: int) -> None:
    from octothinker.data.synthetic import WorldSize, hq_web_doc, lq_web_doc

    rng = random.Random(0)
    size = WorldSize()
    texts = [hq_web_doc(rng, size) if i % 4 else lq_web_doc(rng, size) for i in range(docs)]
    for i in range(docs // 10):  # planted near-duplicates: one word changed
        words = texts[i].split()
        words[rng.randrange(len(words))] = "indeed"
        texts.append(" ".join(words))
    folder.mkdir(parents=True)
    for part in range(2):  # two files, so that two tasks have one each
        with (folder / f"web-{part}.jsonl").open("w") as fh:
            for t in texts[part::2]:
                fh.write(json.dumps({"text": t}) + "\n")


def build_in_child(pythonpath: str | None, recipe: dict) -> dict:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    # cwd: python -c puts the working directory first on sys.path, which would shadow PYTHONPATH
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(recipe)], capture_output=True, text=True, env=env, cwd="/")
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def old_tree(rev: str, where: Path) -> Path:
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-f", str(where), rev], check=True,
                   capture_output=True)
    return where


def throughput(tmp: Path, docs: int, old: Path | None, tasks: list[int], world: Path) -> None:
    for scale in (1, 4):
        corpus = tmp / f"corpus-x{scale}"
        make_corpus(corpus, docs * scale)
        base = {"name": "bench", "tokenizer": str(world / "tokenizer"), "mixture": {"tokens": 100_000},
                "quality": {"positive": str(world / "seeds/positive.jsonl"),
                            "negative": str(world / "seeds/negative.jsonl")},
                "decontam": {"files": [str(world / "problems/test.jsonl")]},
                "sources": [{"name": "web", "path": str(corpus / "*.jsonl"), "weight": 1.0, "quality_filter": True}]}
        runs = [("hand-written (old)", str(old), dict(base, out=str(tmp / f"old-x{scale}")))] if old else []
        runs += [(f"datatrove, {n} task(s)", None, dict(base, out=str(tmp / f"dt{n}-x{scale}"), tasks=n, workers=n))
                 for n in tasks]
        for label, path, recipe in runs:
            r = build_in_child(path, recipe)
            web = r["steps"]["web"]
            read = web["read"]
            print(f"x{scale} {label:22s} {read:7d} docs: {read / r['seconds']:7.0f} docs/s, peak RSS "
                  f"{r['peak_rss_mb']:5.0f} MB; removed: quality {web['quality_removed']}, duplicates "
                  f"{web.get('near_duplicates', 0) + web.get('exact_duplicates', 0)}, contaminated {web['contaminated']}")
            logs = Path(recipe["out"]) / "curation" / "logs"
            if path is None and logs.is_dir():
                print("    per step: " + step_times(logs))


def step_times(logs: Path) -> str:
    """datatrove's own time per step, summed over tasks, from its stats files."""
    times: dict[str, float] = {}
    for stage in sorted(logs.glob("**/stats.json")):
        for step in json.loads(stage.read_text()):
            total = step.get("time_stats", {}).get("total", 0.0) if isinstance(step.get("time_stats"), dict) else 0.0
            if total:
                name = step["name"].split(" ", 1)[-1].strip()
                times[name] = times.get(name, 0.0) + total
    return ", ".join(f"{name} {seconds:.2f} s" for name, seconds in times.items())


def demo_world(tmp: Path, old: Path) -> None:
    """The demo's data builds with each path, from the same world."""
    import yaml

    recipe = yaml.safe_load((REPO / "octothinker/recipes/demo.yaml").read_text())
    cmd = [sys.executable, "-c", "from octothinker.cli import app; app()", "run", str(REPO / "octothinker/recipes/demo.yaml")]
    out_new, out_old = tmp / "demo-new", tmp / "demo-old"
    subprocess.run(cmd + [f"out={out_new}", "--stage", "world"], check=True, capture_output=True)
    for name in recipe["data"]:
        stage = f"data.{name}"
        timings = {}
        for label, out, path in (("new", out_new, None), ("old", out_old, str(old))):
            if label == "old" and not (out / "world").exists():
                (out).mkdir(parents=True, exist_ok=True)
                subprocess.run(["cp", "-r", str(out_new / "world"), str(out / "world")], check=True)
            section = json.dumps({k: v for k, v in recipe["data"][name].items()})
            section = section.replace("{out}", str(out))
            start = time.perf_counter()
            build_in_child(path, dict(json.loads(section), out=str(out / "data" / name), name=name))
            timings[label] = time.perf_counter() - start
        new, old_r = (json.loads((o / "data" / name / "report.json").read_text()) for o in (out_new, out_old))
        shards = [sorted((o / "data" / name).glob("shard_*.bin")) for o in (out_new, out_old)]
        same = [p.name for p in shards[0]] == [p.name for p in shards[1]] and all(
            a.read_bytes() == b.read_bytes() for a, b in zip(*shards))
        print(f"{stage}: shards identical: {same}; {timings['old']:.1f} s old, {timings['new']:.1f} s new")
        for src, s in new["steps"].items():
            o = old_r["steps"][src]
            print(f"  {src:10s} kept {o['kept']:6d} -> {s['kept']:6d}; quality removed {o['quality_removed']} -> "
                  f"{s['quality_removed']}; duplicates {o['exact_duplicates'] + o['near_duplicates']} -> "
                  f"{s['near_duplicates']}; contaminated {o['contaminated']} -> {s['contaminated']}; share "
                  f"{old_r['mixture'][src]['realised_share']:.3f} -> {new['mixture'][src]['realised_share']:.3f} "
                  f"(asked {new['mixture'][src]['requested_share']:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=4000)
    parser.add_argument("--old", default="ee44f04", help="the revision of the hand-written path")
    parser.add_argument("--tasks", default="1,2", help="datatrove task counts to run")
    parser.add_argument("--demo-world", action="store_true", help="also compare the demo's data builds")
    parser.add_argument("--no-old", action="store_true",
                        help="datatrove alone, without the old path (which needs datasketch): a smoke test")
    args = parser.parse_args()
    if args.no_old and args.demo_world:
        parser.error("--demo-world compares with the old path: leave out --no-old")
    print(f"machine: {os.uname().nodename}, {os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        old = None if args.no_old else old_tree(args.old, tmp / "old-tree")
        try:
            from octothinker.data.synthetic import WorldSize, generate_world

            world = tmp / "world"
            generate_world(world, WorldSize(problems=600, test=100, web=300, generic=300, instruct=100, seeds=150, vocab_size=512), seed=0)
            throughput(tmp, args.docs, old, [int(n) for n in args.tasks.split(",")], world)
            if args.demo_world:
                demo_world(tmp, old)
        finally:
            if old is not None:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(old)], capture_output=True)


if __name__ == "__main__":
    main()
