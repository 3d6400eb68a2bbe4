"""A study that survives being killed anywhere: a reduced embedded study (every stage, small budgets) run
once uninterrupted, then again in another folder, killed with SIGKILL (the run and every process it
started) at `--kills` moments drawn from a seed, and re-run with `octo run` after each kill until it
finishes. Most kills land at a random moment of a stage drawn from those not yet done (a data build,
mid-training, RL, an evaluation, the probe), spread over the plan; the second of every four is a failpoint (`runs.files.fault_point`) at a moment a random kill
seldom lands on: mid-write of a checkpoint, between a checkpoint's two renames, between a stage folder's
two renames. At the end it compares `findings.json`, every model's final weights and every data
section's shards with the uninterrupted run's, at the same thread count, and looks for what a kill can
leave behind: `.partial`, `.old`, `.staging`, `.tmp` files and folders, and lock files still held.

    .venv/bin/python bench/chaos.py                       20 kills, the bench size (about 3 minutes a study)
    .venv/bin/python bench/chaos.py --kills 3 --size smoke  what `make test` runs (tests/bench/test_chaos.py)
    .venv/bin/python bench/chaos.py --keep                the two run folders kept, to look into

Exits non-zero unless every output is identical and nothing is left behind.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from octothinker.runs.files import PROVENANCE
from octothinker.runs.lock import LOCK_FILE

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "octothinker" / "recipes" / "demo.yaml"
FAULTS = ("checkpoint-write", "checkpoint-swap", "stage-swap")
# What a kill can leave behind, by name: a half-made folder or file, or a swap not undone.
LEFTOVER_SUFFIXES = (".partial", ".old", ".staging", ".tmp")
LEFTOVER_PREFIXES = (".tmp-", ".old-")

# The demo, scaled down: every stage of it, a base, two decay branches, RL from three models.
SIZES = {
    "bench": dict(world=dict(problems=1000, test=100, web=800, generic=800, instruct=200, seeds=150, vocab_size=1024),
                  model="mini", mixture=200000, pretrain=400000, stable=300000, decay=100000, seq_len=256, batch=2048,
                  rl_steps=12, response=64, eval_limit=200, probe_limit=32),
    "smoke": dict(world=dict(problems=200, test=30, web=120, generic=120, instruct=40, seeds=60, vocab_size=400),
                  model="micro", mixture=4096, pretrain=2048, stable=2048, decay=1024, seq_len=64, batch=512,
                  rl_steps=2, response=8, eval_limit=4, probe_limit=2),
}


def recipe(out: Path, size: str, threads: int) -> dict:
    s = SIZES[size]
    d = yaml.safe_load(DEMO.read_text())
    d.update(out=str(out), threads=threads, jobs=1)  # one stage at a time: results bit-exact at one thread count
    d["world"].update(s["world"])
    for section in d["data"].values():
        section["mixture"]["tokens"] = s["mixture"]
        section.pop("workers", None)
    d["pretrain"].update(tokens=s["pretrain"], size=s["model"])
    d["midtrain"]["train"].update(seq_len=s["seq_len"], global_batch_tokens=s["batch"], micro_batch=8, checkpoint_every=2)
    d["midtrain"]["stable"]["tokens"] = s["stable"]
    d["midtrain"]["decay"]["tokens"] = s["decay"]
    branches = d["midtrain"]["decay"]["branches"]
    d["midtrain"]["decay"]["branches"] = {b: branches[b] for b in ("short", "long")}
    d["rl_from"] = ["base", "short", "long"]
    d["rl"].update(steps=s["rl_steps"], prompts_per_step=2, group_size=2, mini_batch=2,
                   max_response_tokens=s["response"], checkpoint_every=1)
    d["rl"]["eval"].update(every=s["rl_steps"], limit=s["eval_limit"])
    d["rl_per_model"] = {}
    d["eval"].update(limit=s["eval_limit"], max_new_tokens=s["response"], before_rl=["zero-shot"])
    d["probe"].update(k=2, limit=s["probe_limit"], max_new_tokens=s["response"])
    return d


def start(side: Path, log, fault: str | None = None) -> subprocess.Popen:
    """`octo run recipe.yaml` in `side`, whose study is `side/run`: both sides' recipes and settings are
    the same, relative paths included, so their provenance keys and files can be compared."""
    env = {k: v for k, v in os.environ.items() if k != "OCTO_FAULT"}
    if fault:
        env["OCTO_FAULT"] = fault
    return subprocess.Popen([sys.executable, "-c", "from octothinker.cli import main; main()", "run", "recipe.yaml"],
                            cwd=side, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL to the run and every process it started (datatrove's, the graders'), as a power cut."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def running_stage(run: Path) -> str:
    stages = stages_of(run)
    if not stages:
        return "(before the first stage)"
    return next((name for name, s in stages.items() if s.get("status") == "running"), "(between stages)")


def uninterrupted(side: Path) -> float:
    begin = time.perf_counter()
    with open(side / "run.log", "w") as log:
        proc = start(side, log)
        if proc.wait() != 0:
            raise SystemExit(f"the uninterrupted run failed: see {side / 'run.log'}")
    return time.perf_counter() - begin


TRAINING = ("base", "stable", "decay-", "rl-")  # stages that write checkpoints
KINDS = {"world": "world", "data": "data build", "base": "mid-training", "stable": "mid-training",
         "decay": "mid-training", "probe": "probe", "eval": "evaluation", "rl": "RL", "report": "report"}


def stages_of(run: Path) -> dict:
    try:
        return json.loads((run / "manifest.json").read_text())["stages"]
    except (OSError, ValueError, KeyError):
        return {}


def failpoint(kill: int, pending: list[str]) -> str:
    """The failpoint of the kill: cycling through FAULTS, a checkpoint's only while a training stage is left."""
    fault = FAULTS[(kill // 4) % len(FAULTS)]
    trains = any(name.split("/")[-1].startswith(TRAINING) for name in pending)
    return f"{fault if trains or fault == 'stage-swap' else 'stage-swap'}:1"


def wait_for(proc: subprocess.Popen, run: Path, target: str, since: float, delay: float) -> None:
    """Until `target` has run `delay` seconds in this attempt (or has finished: then at once), or the run ends."""
    started = None
    while proc.poll() is None:
        entry = stages_of(run).get(target, {})
        if entry.get("status") == "done" and entry.get("started", 0) >= since:
            return
        if started is None and entry.get("status") == "running" and entry.get("started", 0) >= since:
            started = time.perf_counter()
        if started is not None and time.perf_counter() - started >= delay:
            return
        time.sleep(0.02)


def killed_run(side: Path, kills: int, seed: int, order: list[str], seconds: dict[str, float]) -> list[dict]:
    """Kill after kill, then a last run to the end. The second of every four kills is a failpoint; each
    other is aimed at a stage, one drawn from each of as many equal slices of the plan, and lands a random
    share of that stage's uninterrupted time into it."""
    rng = random.Random(seed)
    aimed = sum(1 for k in range(kills) if k % 4 != 1)
    # one stage a slice of the plan, each slice as long as the others: the kills cover it from end to end
    # (the last stage aside: a kill aimed at it could come after the study has finished)
    targets = iter(order[min(int((j + rng.random()) * (len(order) - 1) / aimed), len(order) - 2)] for j in range(aimed))
    run, record, attempt = side / "run", [], 0
    with open(side / "run.log", "w") as log:
        while len(record) < kills:
            attempt += 1
            done = {n for n, s in stages_of(run).items() if s.get("status") == "done"}
            pending = [n for n in order if n not in done]
            fault = target = None
            if len(record) % 4 == 1:
                fault = failpoint(len(record), pending)
            else:  # the next target; one already done (a failpoint or a late kill ran past it): the next not done
                target = next(targets)
                target = next((n for n in order[order.index(target):] if n not in done), pending[-1])
            delay = rng.uniform(0.05, 0.9) * seconds.get(target, 0.0)
            log.write(f"\n=== attempt {attempt}: " + (f"failpoint {fault}" if fault else
                                                     f"kill {delay:.1f} s into {target}") + "\n")
            log.flush()
            since = time.time()
            proc = start(side, log, fault)
            if fault:
                proc.wait()
            else:
                wait_for(proc, run, target, since, delay)
            stage = running_stage(run)
            finished = proc.poll() == 0
            kill_group(proc)
            if finished:  # it finished before this kill: later kills would find nothing to kill
                raise SystemExit(f"attempt {attempt}: the study finished before kill {len(record) + 1}; "
                                 "a bigger --size, or fewer --kills")
            if fault and proc.returncode != -signal.SIGKILL:
                raise SystemExit(f"attempt {attempt}: the run failed (exit {proc.returncode}) before the failpoint "
                                 f"{fault}: see {side / 'run.log'}")
            record.append({"kill": len(record) + 1, "how": f"failpoint {fault}" if fault else
                           f"SIGKILL {time.time() - since:.1f} s after start", "stage": stage})
        log.write("\n=== last run, to the end\n")
        log.flush()
        proc = start(side, log)
        if proc.wait() != 0:
            raise SystemExit(f"the re-run after {kills} kills failed: see {side / 'run.log'}")
    return record


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()[:16]


def outputs(run: Path) -> dict[str, str]:
    """What the study made, by content: findings.json (its provenance stamp aside), every model's final
    weights, every data section's shards."""
    findings = json.loads((run / "report" / "findings.json").read_text())
    made = {"report/findings.json": hashlib.sha256(json.dumps(findings, sort_keys=True).encode()).hexdigest()[:16]}
    for path in sorted(run.rglob("*")):
        rel = path.relative_to(run).as_posix()
        weights = path.name.endswith(".safetensors") and path.parent.name == "final"
        shards = rel.startswith("data/") and path.suffix in (".bin", ".npy") or rel.startswith("data/") and path.name == "index.json"
        if path.is_file() and (weights or shards):
            made[rel] = digest(path)
    return made


def leftovers(run: Path) -> list[str]:
    """Anything a kill left: half-made files and folders, swaps not undone, lock files still held."""
    found = []
    for path in sorted(run.rglob("*")):
        name = path.name
        if name.endswith(LEFTOVER_SUFFIXES) or name.startswith(LEFTOVER_PREFIXES):
            found.append(path.relative_to(run).as_posix())
        elif (name.startswith(LOCK_FILE) or name.endswith(".lock")) and path.is_file():
            with open(path, "a") as fh:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(fh, fcntl.LOCK_UN)
                except BlockingIOError:
                    found.append(f"{path.relative_to(run).as_posix()} (still locked)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", choices=sorted(SIZES), default="bench")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the two run folders (printed)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="octo-chaos-"))
    sides = {name: work / name for name in ("reference", "killed")}
    for side in sides.values():
        side.mkdir()
        (side / "recipe.yaml").write_text(yaml.safe_dump(recipe(Path("run"), args.size, args.threads), sort_keys=False))
    reference, killed = sides["reference"] / "run", sides["killed"] / "run"
    print(f"load before: {os.getloadavg()[0]:.2f}; work folder {work}", flush=True)

    seconds = uninterrupted(sides["reference"])
    manifest = json.loads((reference / "manifest.json").read_text())
    print(f"uninterrupted: {seconds:.0f} s, {len(manifest['stages'])} stages, {args.threads} threads", flush=True)

    record = killed_run(sides["killed"], args.kills, args.seed, list(manifest["stages"]),
                        {name: s.get("seconds", 0.0) for name, s in manifest["stages"].items()})
    for r in record:
        print(f"kill {r['kill']:>2}: {r['how']:<34} during {r['stage']}")
    kinds = {}
    for r in record:
        kind = KINDS.get(r["stage"].split("-")[0].split(".")[0], "other")
        kinds[kind] = kinds.get(kind, 0) + 1
    print("kills by kind of stage: " + ", ".join(f"{k} {n}" for k, n in kinds.items()))

    ours, theirs = outputs(killed), outputs(reference)
    differ = sorted(k for k in theirs.keys() | ours.keys() if ours.get(k) != theirs.get(k))
    left = leftovers(killed)
    same_key = json.loads((killed / "manifest.json").read_text())[PROVENANCE] == manifest[PROVENANCE]
    identical = not differ and same_key
    print(f"outputs compared: {len(theirs)} (findings.json, final weights, data shards); provenance key "
          f"{'the same' if same_key else 'DIFFERENT'}")
    print(f"identical outputs after {len(record)} of {args.kills} kills: {'yes' if identical else 'NO: ' + ', '.join(differ[:5])}")
    print(f"left behind: {', '.join(left[:5]) if left else 'nothing'}")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    if not identical or left:
        sys.exit(1)


if __name__ == "__main__":
    main()
