"""Curation on datatrove: MinHash keeps one of each near-duplicate group and every distinct problem,
and the shards do not depend on how many tasks ran."""

import json
import random

import pytest

from octothinker.data.config import DataRecipe
from octothinker.data.pipeline import build
from tests.shards import iter_documents
from octothinker.models import load_tokenizer


def _doc(rng, n=120):
    return " ".join(f"w{rng.randrange(5000)}" for _ in range(n))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, world):
    """Two files: distinct documents, near and exact copies of some, and problems that differ only in
    their numbers (distinct problems, which datatrove's default number normalisation would merge)."""
    world_dir, _ = world
    rng = random.Random(0)
    originals = [_doc(rng) for _ in range(160)]
    problems = [f"{a} plus {b} is {a + b} and {a} times {b} is {a * b} so we are done"
                for a in range(11, 16) for b in range(21, 26)]
    near = []
    for text in originals[:40]:
        words = text.split()
        words[rng.randrange(len(words))] = "changed"  # Jaccard of 5-gram shingles ~ 0.92
        near.append(" ".join(words))
    exact = originals[40:50]
    folder = tmp_path_factory.mktemp("corpus")
    first, second = originals[:80] + problems + near[:20], originals[80:] + near[20:] + exact
    for name, texts in (("a.jsonl", first), ("b.jsonl", second)):
        (folder / name).write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return world_dir, folder, set(originals) | set(problems)


def _build(corpus, out, tasks, workers=1):
    world_dir, folder, _ = corpus
    recipe = DataRecipe(name="curate", out=str(out), tokenizer=str(world_dir / "tokenizer"), tasks=tasks,
                        workers=workers, sources=[{"name": "web", "path": str(folder / "*.jsonl"), "weight": 1.0}],
                        mixture={"tokens": 20000, "repeat": False}, shard_tokens=5000)
    return build(recipe)


def test_minhash_keeps_one_of_each_near_duplicate_group_and_every_distinct_problem(corpus, tmp_path):
    world_dir, _, expected = corpus
    report = _build(corpus, tmp_path / "one", tasks=1)
    web = report["steps"]["web"]
    assert web["read"] == 160 + 25 + 40 + 10
    assert web["near_duplicates"] == 50
    tok = load_tokenizer(world_dir / "tokenizer")
    assert web["kept"] == len(expected)
    shard_docs = [tok.decode(ids[:-1]) for ids in iter_documents(tmp_path / "one")]  # the mixture's share
    assert shard_docs and set(shard_docs) <= expected and len(set(shard_docs)) == len(shard_docs)
    assert report["curation"] == {"executor": "local", "tasks": 1, "workers": 1}
    assert (tmp_path / "one" / "curation" / "logs").is_dir()  # datatrove's task logs and stats stay


def test_one_task_and_two_tasks_write_the_same_shards(corpus, tmp_path):
    one = _build(corpus, tmp_path / "one", tasks=1)
    two = _build(corpus, tmp_path / "two", tasks=2, workers=2)
    assert one["steps"] == two["steps"]
    shards = sorted(p.name for p in (tmp_path / "one").glob("shard_*.bin"))
    assert shards and shards == sorted(p.name for p in (tmp_path / "two").glob("shard_*.bin"))
    for name in shards:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


FAKE_SBATCH = """#!/usr/bin/env python3
# Runs an sbatch script's array tasks one after another, at once; prints a job id as sbatch does.
import os, re, subprocess, sys
script, env = sys.argv[-1], dict(os.environ, SLURM_NODELIST="localhost")
for arg in sys.argv[1:-1]:
    if arg.startswith("--export=ALL,"):
        env.update(kv.split("=", 1) for kv in arg[len("--export=ALL,"):].split(","))
last = re.search(r"#SBATCH --array=0-(\\d+)", open(script).read())
with open(os.environ["FAKE_SLURM_LOG"], "a") as log:
    for task in range(int(last.group(1)) + 1 if last else 1):
        subprocess.run(["bash", script], env=dict(env, SLURM_ARRAY_TASK_ID=str(task)), stdout=log, stderr=log,
                       check=True)
print("Submitted batch job 42")
"""
FAKE_SRUN = """#!/bin/bash
while [[ "$1" == -* ]]; do if [[ "$1" == -n ]]; then shift; fi; shift; done
exec "$@"
"""


def test_the_slurm_executor_writes_the_shards_of_the_local_one(corpus, tmp_path, monkeypatch):
    """datatrove's Slurm executor end to end, on stand-ins for sbatch/srun/squeue/scontrol that run each job's
    array tasks at once: the stages are submitted in dependency order and `octo data build` waits."""
    import os
    import sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("sbatch", FAKE_SBATCH), ("srun", FAKE_SRUN), ("squeue", "#!/bin/bash\n"),
                       ("scontrol", "#!/bin/bash\necho localhost\n")):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.path.dirname(sys.executable)}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM_LOG", str(tmp_path / "slurm.log"))
    world_dir, folder, _ = corpus
    common = dict(tokenizer=str(world_dir / "tokenizer"), tasks=2,
                  sources=[{"name": "web", "path": str(folder / "*.jsonl"), "weight": 1.0}],
                  mixture={"tokens": 20000, "repeat": False}, shard_tokens=5000)
    local = build(DataRecipe(name="local", out=str(tmp_path / "local"), **common))
    slurm = build(DataRecipe(name="slurm", out=str(tmp_path / "slurm"), executor="slurm",
                             cluster={"partition": "cpu", "time": "01:00:00"}, **common))
    assert slurm["steps"] == local["steps"]
    for shard in sorted((tmp_path / "local").glob("shard_*.bin")):
        assert (tmp_path / "slurm" / shard.name).read_bytes() == shard.read_bytes()
    script = (tmp_path / "slurm" / "curation" / "logs" / "web" / "minhash-buckets" / "launch_script.slurm").read_text()
    assert "#SBATCH --partition=cpu" in script and "#SBATCH --array=0-10" in script


def test_a_dedup_language_without_its_tokenizer_installed_is_a_one_line_error(corpus, tmp_path, monkeypatch):
    import sys

    from octothinker.errors import DataError

    monkeypatch.setitem(sys.modules, "spacy", None)  # as on an install without the `languages` extra
    world_dir, folder, _ = corpus
    recipe = DataRecipe(name="fr", out=str(tmp_path / "fr"), tokenizer=str(world_dir / "tokenizer"),
                        sources=[{"name": "web", "path": str(folder / "*.jsonl"), "weight": 1.0}],
                        dedup={"language": "fr"}, mixture={"tokens": 20000})
    with pytest.raises(DataError, match="dedup.language 'fr'.*spacy"):
        build(recipe)
    assert not (tmp_path / "fr").exists()


@pytest.mark.slow  # starts a local Ray instance
def test_the_ray_executor_writes_the_shards_of_the_local_one_and_names_a_bad_line(corpus, tmp_path):
    """datatrove's Ray executor on a local Ray instance, which the build starts and stops. A task that
    fails on bad input (Ray's executor only logs it) stops the build with the local executor's error."""
    import ray

    from octothinker.errors import DataError

    world_dir, folder, _ = corpus
    common = dict(tokenizer=str(world_dir / "tokenizer"), tasks=2, workers=2,
                  sources=[{"name": "web", "path": str(folder / "*.jsonl"), "weight": 1.0}],
                  mixture={"tokens": 20000, "repeat": False}, shard_tokens=5000)
    local = build(DataRecipe(name="local", out=str(tmp_path / "local"), **common))
    on_ray = build(DataRecipe(name="ray", out=str(tmp_path / "ray"), executor="ray", **common))
    assert on_ray["steps"] == local["steps"] and on_ray["curation"]["executor"] == "ray"
    shards = sorted((tmp_path / "local").glob("shard_*.bin"))
    assert shards
    for shard in shards:
        assert (tmp_path / "ray" / shard.name).read_bytes() == shard.read_bytes()
    assert not ray.is_initialized()
    assert (tmp_path / "ray" / "curation" / "logs" / "web" / "minhash-buckets" / "executor.json").is_file()

    bad = tmp_path / "bad.jsonl"
    bad.write_text((folder / "a.jsonl").read_text() + "{not json\n")
    lines = len(bad.read_text().splitlines())
    common.update(sources=[{"name": "web", "path": str(bad), "weight": 1.0}], on_bad_line="fail")
    for executor in ("local", "ray"):
        with pytest.raises(DataError, match=rf"^{bad}:{lines}: invalid JSON"):
            build(DataRecipe(name=executor, out=str(tmp_path / f"bad-{executor}"), executor=executor, **common))
    assert not ray.is_initialized()


def test_an_executor_that_is_not_installed_is_a_one_line_error(corpus, tmp_path, monkeypatch):
    import sys

    from octothinker.errors import DataError

    monkeypatch.setitem(sys.modules, "ray", None)  # as on an install without the `ray` extra
    world_dir, folder, _ = corpus
    recipe = DataRecipe(name="r", out=str(tmp_path / "r"), tokenizer=str(world_dir / "tokenizer"), executor="ray",
                        sources=[{"name": "web", "path": str(folder / "*.jsonl"), "weight": 1.0}],
                        mixture={"tokens": 20000})
    with pytest.raises(DataError, match=r'executor ray needs Ray: pip install "octothinker\[ray\]"'):
        build(recipe)
    assert not (tmp_path / "r").exists() and not (tmp_path / "r.partial").exists()


def test_merge_staging_puts_the_tasks_parts_in_key_order(tmp_path):
    import numpy as np

    from octothinker.data.curate import merge_staging

    # two tasks' parts: documents (key: tokens) 3:[7,8,2] and 0:[5,2] in one, 1:[9,2] in the other
    for rank, docs in ((0, {3: [7, 8, 2], 0: [5, 2]}), (1, {1: [9, 2]})):
        np.asarray([t for ids in docs.values() for t in ids], dtype=np.uint32).tofile(tmp_path / f"web.{rank:05d}.bin")
        np.save(tmp_path / f"web.{rank:05d}.lengths.npy", np.asarray([len(ids) for ids in docs.values()], dtype=np.int64))
        np.save(tmp_path / f"web.{rank:05d}.keys.npy", np.asarray(list(docs), dtype=np.int64))
    lengths = merge_staging(tmp_path, "web")
    assert lengths.tolist() == [2, 2, 3]
    assert np.fromfile(tmp_path / "web.bin", dtype=np.uint32).tolist() == [5, 2, 9, 2, 7, 8, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["web.bin"]  # the parts are gone
    # a source every document of which was filtered out
    assert merge_staging(tmp_path, "qa").tolist() == [] and (tmp_path / "qa.bin").read_bytes() == b""
