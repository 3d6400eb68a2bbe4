"""A small, generic stage engine: stages that each read paths and make one folder, run in order,
skipped when finished under the same fingerprint, resumable, recorded in a manifest. It knows nothing of
OctoThinker: `study` builds its plan from these stages and hands them to `run_stages`.

A stage's fingerprint hashes its whole settings (a typed config is dumped whole: a field added to a
section reaches every stage that reads the section), the fingerprints of the stages whose folders it
reads, and the size and time of every outside file it reads, so a change re-runs exactly the stages that
depend on it. A stage runs into `<folder>.staging` and replaces its folder only once it has finished, so
a failed or killed run never deletes finished work; a killed stage resumes from its checkpoints in the
staging folder. Folders the engine did not make are never deleted: each carries `.octo-stage.json`.
With `jobs` > 1, stages that do not read each other's folders run side by side in worker processes, each
with the torch threads its stage was given (`Stage.threads`).
"""

from __future__ import annotations

import glob
import hashlib
import json
import shutil
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from octothinker.errors import OctoError
from octothinker.runs import atomic_write_json
from octothinker.runs.files import (HUB_PREFIX, PROVENANCE, ensure_writable, file_digest, in_run, recover_dir,
                                   replace_dir)
from octothinker.runs.lock import LOCK_FILE, folder_lock

MARKER = ".octo-stage.json"
MANIFEST = "manifest.json"


@dataclass
class Work:
    """A stage's compute, as a plan prices it: tokens trained and tokens generated, by `model` (a size
    name, a folder, `hf:org/name`, or the stage that makes it)."""
    model: str
    budget: str                          # the recipe's own words: "1.6M tokens", "60 steps x 8 x 8"
    train_tokens: float = 0.0
    generated_tokens: float | None = 0.0  # upper bound: every response at its length limit; None: unknown


class Input(NamedTuple):
    """A path or glob a stage reads, and the recipe key that names it (what an error about it says)."""
    key: str
    path: str


@dataclass
class Stage:
    name: str
    settings: object                     # what the stage is made from, beyond the files it reads (dumped whole)
    inputs: list[Input]                  # everything it reads
    output: Path                         # the one folder it makes
    build: Callable[[Path], None]        # makes the stage into the folder it is given
    depends: list[str] = field(default_factory=list)   # filled by `link`: stages whose folders it reads
    work: Work | None = None             # what it computes, for a plan
    launch: object | None = None         # its nodes and GPUs when more than one process runs it
    engine: str = "torchrun"             # what starts those processes: torchrun (mid-training) or verl (RL)
    context: object = None               # run-wide settings every stage's result depends on (a thread count)
    threads: int | None = None           # torch threads it runs with (None: the process's own)


def dump(value) -> object:
    """Settings as plain data, every field of every typed config in them."""
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [dump(v) for v in value]
    return value


def within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def fixed_root(spec: str) -> Path:
    """The fixed part of a path or glob ("runs/demo/world/web/*.jsonl" -> runs/demo/world/web/)."""
    return Path(spec.split("*")[0].split("?")[0].split("[")[0] or ".")


def link(stages: list[Stage]) -> None:
    """Each stage depends on the earlier stages whose folders hold something it reads."""
    for i, stage in enumerate(stages):
        for _, spec in stage.inputs:
            for earlier in stages[:i]:
                if within(fixed_root(spec), earlier.output) and earlier.name not in stage.depends:
                    stage.depends.append(earlier.name)


def external_paths(spec: str) -> list[Path]:
    paths = [Path(p) for p in sorted(glob.glob(spec))] if any(c in spec for c in "*?[") else [Path(spec)]
    files = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file())[:10_000]
        elif path.exists():
            files.append(path)
    return files


def input_digest(spec: str, digests: dict) -> str:
    """The contents of an outside input (a file, a folder, a glob): one sha256 over its files' own, each
    file named relative to the input's root. `digests` caches each file's digest under its size, times
    and inode (the manifest keeps it), so a finished run's inputs are not read again to be skipped. A hub id is its own name: what it holds is the hub's to say."""
    if spec.startswith(HUB_PREFIX):
        return spec
    root = fixed_root(spec)
    total = hashlib.sha256()
    for path in external_paths(spec):
        stat = path.stat()
        # ctime and the inode too: any write, or a file replaced, changes one of them; an edit with its
        # size and modification time put back (rsync -t, a restore) still reads as changed
        seen = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
        known = digests.get(str(path.resolve()))
        if not known or known[:-1] != seen:
            known = digests[str(path.resolve())] = [*seen, file_digest(path)]
        name = path.relative_to(root).as_posix() if within(path, root) and path != root else path.name
        total.update(f"{name}\0{known[-1]}\n".encode())
    return total.hexdigest()[:16]


def stage_inputs(stage: Stage, made: dict[str, str], stages: list[Stage], digests: dict | None = None) -> dict[str, str]:
    """What each input of the stage holds: an earlier stage's output by that stage's key
    (`decay-short@<key>`), an outside file or folder by its contents (`input_digest`)."""
    inputs: dict[str, str] = {}
    for key, spec in stage.inputs:
        maker = next((s for s in stages if s.name in made and within(fixed_root(spec), s.output)), None)
        name = key if key not in inputs else f"{key}#{sum(k.split('#')[0] == key for k in inputs) + 1}"
        inputs[name] = f"{maker.name}@{made[maker.name]}" if maker else input_digest(spec, {} if digests is None else digests)
    return inputs


def fingerprint(stage: Stage, made: dict[str, str], stages: list[Stage], digests: dict | None = None,
                inputs: dict[str, str] | None = None) -> str:
    """The stage's provenance key: a hash of its settings, the run-wide context, the keys (`made`) of the
    stages it reads, and what each of its inputs holds (`stage_inputs`, or `inputs` when already taken).
    A changed corpus, prompt file, template, exemplar file, release copy or base model re-runs exactly
    the stages that read it, and the stages after them; a file only touched does not."""
    payload = json.dumps({"settings": dump(stage.settings), "context": dump(stage.context),
                          "depends": [made[d] for d in sorted(stage.depends)],
                          "inputs": inputs if inputs is not None else stage_inputs(stage, made, stages, digests)},
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def check_paths(stages: list[Stage], run: Path, where: str, error=OctoError) -> None:
    """Before hours of compute: every input exists or an earlier stage makes it, and no stage folder is the
    run folder, holds another stage's folder, or holds an outside input."""
    run = run.resolve()
    for i, stage in enumerate(stages):
        out = stage.output.resolve()
        if out == run or within(run, out):
            raise error(f"{where}: stage {stage.name} would make {stage.output}, which holds the whole run folder")
        for other in stages[:i]:
            if within(other.output, out) or within(out, other.output):
                raise error(f"{where}: stages {other.name} and {stage.name} share the folder {stage.output}")
    for i, stage in enumerate(stages):
        for key, spec in stage.inputs:
            if spec.startswith(HUB_PREFIX):  # a hub model or dataset: read when the stage runs
                continue
            root = fixed_root(spec)
            if any(within(root, s.output) for s in stages[:i]):
                continue
            if any(within(root, s.output) for s in stages[i:]):
                raise error(f"{where}: {key}: {spec} is made by a later stage than {stage.name}")
            if not external_paths(spec) and not Path(spec).exists():
                raise error(f"{where}: {key}: {spec} does not exist, and no stage of this study makes it")


def _read_marker(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MARKER).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def stage_done(stage: Stage, key: str | None) -> bool:
    """Is the stage's folder finished, under these settings and inputs (fingerprint `key`)?"""
    marker = _read_marker(stage.output)
    return bool(marker and marker.get("fingerprint") == key and marker.get("status") == "done")


def _staging(stage: Stage, key: str, made_before: bool) -> Path:
    """The folder the stage runs in: an unfinished attempt with the same fingerprint is resumed; one with
    another fingerprint (other settings) is discarded. Only folders carrying our marker are removed, and
    an existing output folder must carry it too, or be recorded as this stage's in the manifest
    (`made_before`)."""
    staging = stage.output.with_name(stage.output.name + ".staging")
    if staging.exists():
        marker = _read_marker(staging)
        if marker is None:
            raise OctoError(f"{staging}: exists and was not made by octo run; move it away")
        if marker.get("fingerprint") != key:
            shutil.rmtree(staging)
    if stage.output.exists() and _read_marker(stage.output) is None and not made_before:
        raise OctoError(f"{stage.output}: exists and was not made by this study (no {MARKER}); move it away or "
                        "choose another out")
    staging.mkdir(parents=True, exist_ok=True)
    atomic_write_json(staging / MARKER, {"stage": stage.name, "fingerprint": key, "status": "running"})
    return staging


def check_run_folder(out: str | Path) -> None:
    """The engine writes only into a folder it made (it has manifest.json) or an empty or new one: never
    into a data folder or a model folder named by mistake."""
    folder = Path(out)
    if not folder.is_dir() or (folder / MANIFEST).is_file():
        return
    foreign = sorted(p.name for p in folder.iterdir() if not p.name.startswith(LOCK_FILE))
    if foreign:
        raise OctoError(f"{folder}: exists, holds files ({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}) "
                        "and was not made by octo run (no manifest.json); choose another out")


def run_stages(stages: list[Stage], run: str | Path, head: dict, log: Callable[[str], None] = print,
               only: str | None = None, jobs: int = 1, cores: int | None = None,
               runner: Callable[[str], None] | None = None, worker: bool = False) -> dict:
    """Every stage in order, skipping the finished ones; with `only`, that one stage, once every stage it
    reads is finished (how a scheduler runs a plan: one job a stage). One run a folder at a time: `only`
    jobs share the folder's lock, each holding its stage's own. `head` is what the manifest records
    beside the stages (the recipe, versions, the layout). Returns the manifest as written.

    jobs > 1: up to `jobs` stages at once within `cores` threads, each run by `runner(name)` in a worker
    process (a picklable call that runs one stage as `only` does, with `worker=True`: this run holds the
    folder for it)."""
    check_run_folder(run)  # before the lock file goes into it
    with ExitStack() as held:
        if not worker:
            held.enter_context(folder_lock(run, shared=only is not None))
        if only is not None:
            held.enter_context(folder_lock(run, name=f"stage-{only.replace('/', '--')}"))
        if jobs > 1 and only is None:
            if runner is None:
                raise ValueError("run_stages: jobs > 1 needs a runner that runs one stage in a worker process")
            return _run_side_by_side(stages, ensure_writable(run), head, log, jobs, cores or jobs, runner)
        return _run(stages, ensure_writable(run), head, log, only, tells_resume=not worker)


def _previous(run: Path, head: dict) -> tuple[Path, dict, dict]:
    """The manifest's path, its stages as they were, and the manifest this run writes: every stage's last
    known state (one not reached because a failure came first keeps its entry), and the digests of the
    outside files read (`input_digest`'s cache)."""
    manifest_path = run / MANIFEST
    before = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    old = before.get("stages", {})
    return manifest_path, old, {**head, "digests": before.get("digests", {}), "stages": dict(old)}


def _skip(stage: Stage, key: str, run: Path, old: dict, manifest: dict, log) -> None:
    before = old.get(stage.name, {})
    manifest["stages"][stage.name] = before if before.get("fingerprint") == key and before.get("status") == "done" \
        else {"fingerprint": key, "status": "done", "output": in_run(stage.output, run), "depends": stage.depends}
    log(f"[skip] {stage.name} (finished, nothing it depends on changed)")


def changed_inputs(before: dict, inputs: dict[str, str]) -> list[str]:
    """The inputs whose contents differ from the finished run's, by their recipe keys."""
    made_from = before.get("inputs") or {}
    return [key for key, digest in inputs.items() if key in made_from and made_from[key] != digest]


def _unfinished(stages: list[Stage], run: Path, old: dict, manifest: dict, log, only: str | None = None
                ) -> tuple[dict[str, str], list[Stage]]:
    """Every stage's provenance key (its fingerprint, and what each input held, into the manifest), and
    the stages to run: those (or with `only`, that one) not finished under their key, a half-replaced
    output recovered first; the finished ones are logged as skipped. Keys read settings and inputs, never
    what a stage writes: all are taken before any runs. With `only`, no other stage's folder is touched:
    another job may be replacing it right now."""
    made: dict[str, str] = {}
    pending: list[Stage] = []
    for stage in stages:
        inputs = stage_inputs(stage, made, stages, manifest["digests"])
        made[stage.name] = fingerprint(stage, made, stages, inputs=inputs)
        if only is not None and stage.name != only:
            continue
        recover_dir(stage.output)
        if stage_done(stage, made[stage.name]):
            _skip(stage, made[stage.name], run, old, manifest, log)
            manifest["stages"][stage.name]["inputs"] = inputs
            continue
        changed = changed_inputs(old.get(stage.name, {}), inputs)
        if changed:
            log(f"[redo] {stage.name}: its input {', '.join(changed)} changed since it was made")
        manifest["stages"][stage.name] = {**manifest["stages"].get(stage.name, {}), "inputs": inputs}
        pending.append(stage)
    return made, pending


def stamp_summary(folder: Path, key: str, inputs: dict[str, str]) -> None:
    """The stage's provenance key and inputs, in its `summary.json` (beside what the stage wrote there):
    a folder copied out of the run still says what made it."""
    path = folder / "summary.json"
    summary = json.loads(path.read_text()) if path.is_file() else {}
    atomic_write_json(path, {**summary, PROVENANCE: {"key": key, "inputs": inputs}})


def run_key(made: dict[str, str]) -> str:
    """The whole run's provenance key: its stages' keys, in plan order (the report's setup line shows it)."""
    return hashlib.sha256(json.dumps(list(made.items())).encode()).hexdigest()[:16]


def _run(stages: list[Stage], run: Path, head: dict, log, only: str | None, tells_resume: bool = True) -> dict:
    manifest_path, old, manifest = _previous(run, head)
    made, pending = _unfinished(stages, run, old, manifest, log, only)
    manifest[PROVENANCE] = run_key(made)
    if only is not None and pending:
        missing = [d for d in pending[0].depends if not stage_done(next(s for s in stages if s.name == d), made[d])]
        if missing:
            raise OctoError(f"stage {only} reads {', '.join(missing)}, not finished under these settings: run "
                            "those stages first")
    for stage in pending:
        key, output = made[stage.name], in_run(stage.output, run)
        staging = _staging(stage, key, made_before=old.get(stage.name, {}).get("output") == output)
        manifest["stages"][stage.name] = {"fingerprint": key, "status": "running", "started": time.time(),
                                          "output": output, "depends": stage.depends,
                                          "inputs": manifest["stages"][stage.name]["inputs"]}
        _write_manifest(manifest_path, manifest, stage.name)
        log(f"[run ] {stage.name}" + (f" ({stage.threads} thread{'s' * (stage.threads > 1)})" if only and stage.threads else ""))
        start = time.perf_counter()
        if stage.threads:
            import torch

            torch.set_num_threads(stage.threads)
        try:
            stage.build(staging)
        except BaseException as err:
            interrupted = isinstance(err, KeyboardInterrupt)
            manifest["stages"][stage.name]["status"] = "interrupted" if interrupted else "failed"
            _write_manifest(manifest_path, manifest, stage.name)
            if interrupted and tells_resume:  # a worker's run says it once for all its stages
                finished = [s.name for s in stages if stage_done(s, made.get(s.name))]
                log(f"[stop] interrupted during {stage.name}; finished: {', '.join(finished) or 'none'} "
                    f"({len(finished)} of {len(stages)} stages). Run the same command again to resume: finished "
                    f"stages are skipped and {stage.name} continues from its last checkpoint.")
            raise
        stamp_summary(staging, key, manifest["stages"][stage.name]["inputs"])
        atomic_write_json(staging / MARKER, {"stage": stage.name, "fingerprint": key, "status": "done"})
        replace_dir(staging, stage.output)
        manifest["stages"][stage.name].update(status="done", seconds=round(time.perf_counter() - start, 1))
        _write_manifest(manifest_path, manifest, stage.name)
        log(f"[done] {stage.name} in {manifest['stages'][stage.name]['seconds']} s")
    return _write_manifest(manifest_path, manifest, *(s.name for s in stages if only in (None, s.name)))


def _run_side_by_side(stages: list[Stage], run: Path, head: dict, log, jobs: int, cores: int,
                      runner: Callable[[str], None]) -> dict:
    """The unfinished stages, up to `jobs` at once within `cores` threads, in worker processes. A stage
    starts once every stage it reads has finished; among those, plan order decides, and one that waits
    for threads holds back the later ones (so a stage many others read from, given every thread, is not
    kept waiting behind them). Each worker writes its stage's manifest entry; on a failure the running
    stages finish (their work is kept) and no further one starts, as `make -j` does."""
    manifest_path, old, manifest = _previous(run, head)
    made, pending = _unfinished(stages, run, old, manifest, log)
    manifest[PROVENANCE] = run_key(made)
    _write_manifest(manifest_path, manifest, *(s.name for s in stages if s not in pending))
    finished = {s.name for s in stages if s not in pending}
    running: dict = {}
    free, failure = cores, None
    # spawn, not fork: a forked child of a process whose torch has started its thread pool can hang
    import multiprocessing

    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            while pending or running:
                for stage in [s for s in pending if failure is None and all(d in finished for d in s.depends)]:
                    need = min(stage.threads or 1, cores)
                    if len(running) >= jobs or need > free:
                        break
                    pending.remove(stage)
                    free -= need
                    running[pool.submit(runner, stage.name)] = (stage, need)
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    stage, need = running.pop(future)
                    free += need
                    try:
                        future.result()
                        finished.add(stage.name)
                    except BaseException as err:  # the worker recorded it in the manifest
                        failure = failure or err
                        if running:
                            log(f"[fail] {stage.name}; waiting for {', '.join(s.name for s, _ in running.values())}")
        except KeyboardInterrupt:
            done_now = [s.name for s in stages if stage_done(s, made[s.name])]
            log(f"[stop] interrupted; finished: {', '.join(done_now) or 'none'} ({len(done_now)} of {len(stages)} "
                "stages). Run the same command again to resume: finished stages are skipped and the interrupted "
                "ones continue from their last checkpoints.")
            raise
    if failure is not None:
        raise failure
    return _write_manifest(manifest_path, {**head, PROVENANCE: manifest[PROVENANCE], "stages": {}},
                           order=[s.name for s in stages])


def _write_manifest(path: Path, manifest: dict, *names: str, order: list[str] | None = None) -> dict:
    """Write this run's entries for `names` into the manifest as it is on disk now: jobs running single
    stages at once (a Slurm chain's parallel branches) each keep the others' entries. `order`: the stages
    in plan order, however they finished."""
    import fcntl

    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            on_disk = json.loads(path.read_text()) if path.exists() else {}
        except json.JSONDecodeError:
            on_disk = {}
        current = on_disk.get("stages", {})
        merged = {**manifest, "digests": {**on_disk.get("digests", {}), **manifest.get("digests", {})},
                  "stages": {**current, **{n: manifest["stages"][n] for n in names if n in manifest["stages"]}}}
        if order:
            stages = merged["stages"]
            merged["stages"] = {**{n: stages[n] for n in order if n in stages}, **stages}
        atomic_write_json(path, merged)
    return merged
