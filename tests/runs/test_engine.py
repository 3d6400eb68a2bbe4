"""The stage engine's side-by-side runs (`jobs` > 1): stages in worker processes, each at its own thread
count, a failure stopping what had not started and keeping what had."""

import json
import time
from functools import partial
from pathlib import Path

import pytest
import torch

from octothinker.runs.engine import Stage, link, run_stages


def _record(name: str, target: Path, fail: bool = False) -> None:
    started = time.time()
    if name in "bc":
        time.sleep(3.0)  # long enough for the other worker to start (spawn, imports) and begin beside it
    if fail:
        raise RuntimeError(f"{name} broke")
    (target / "stage.json").write_text(json.dumps({"threads": torch.get_num_threads(), "started": started,
                                                   "ended": time.time()}))


def _plan(run: Path, broken: str | None = None) -> list[Stage]:
    """a -> (b, c) -> d, where b and c read only a: b and c can run side by side, one thread each."""
    reads = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}
    stages = [Stage(name, {"name": name}, [(f"in.{d}", str(run / d)) for d in deps], run / name,
                    partial(_record, name, fail=name == broken), threads=2 if name in "ad" else 1)
              for name, deps in reads.items()]
    link(stages)
    return stages


def _one_stage(run: Path, broken: str | None, name: str) -> None:
    run_stages(_plan(run, broken), run, {}, print, only=name, worker=True)


def _side_by_side(run: Path, broken: str | None = None) -> dict:
    return run_stages(_plan(run, broken), run, {"head": 1}, lambda line: None, jobs=2, cores=2,
                      runner=partial(_one_stage, run, broken))


def test_independent_stages_run_side_by_side_each_at_its_own_thread_count(tmp_path):
    manifest = _side_by_side(tmp_path)
    record = {n: json.loads((tmp_path / n / "stage.json").read_text()) for n in "abcd"}
    assert {n: r["threads"] for n, r in record.items()} == {"a": 2, "b": 1, "c": 1, "d": 2}
    b, c = record["b"], record["c"]
    assert b["started"] < c["ended"] and c["started"] < b["ended"]  # they overlapped
    assert record["a"]["ended"] <= min(b["started"], c["started"]) and record["d"]["started"] >= max(b["ended"], c["ended"])
    assert list(manifest["stages"]) == ["a", "b", "c", "d"] and manifest["head"] == 1  # plan order, the run's head
    assert all(s["status"] == "done" for s in manifest["stages"].values())
    assert _side_by_side(tmp_path)["stages"] == manifest["stages"]  # finished: nothing runs again


def test_a_failure_beside_a_running_stage_keeps_its_work_and_starts_nothing_after(tmp_path):
    with pytest.raises(RuntimeError, match="b broke"):
        _side_by_side(tmp_path, broken="b")
    stages = json.loads((tmp_path / "manifest.json").read_text())["stages"]
    assert stages["a"]["status"] == "done" and stages["b"]["status"] == "failed"
    assert stages["c"]["status"] == "done" and (tmp_path / "c" / "stage.json").is_file()  # finished beside it
    assert "d" not in stages and not (tmp_path / "d").exists()
    c_before = (tmp_path / "c" / "stage.json").read_text()
    manifest = _side_by_side(tmp_path)  # mended: only b and then d run
    assert all(s["status"] == "done" for s in manifest["stages"].values())
    assert (tmp_path / "c" / "stage.json").read_text() == c_before


def test_one_stage_leaves_the_folders_of_the_others_alone(tmp_path):
    _side_by_side(tmp_path)
    # b's output in the middle of a swap, as another job replacing it leaves it for a moment
    (tmp_path / "b").rename(tmp_path / "b.old")
    (tmp_path / "d" / "stage.json").unlink()
    (tmp_path / "d" / ".octo-stage.json").unlink()
    with pytest.raises(Exception, match="reads b"):
        run_stages(_plan(tmp_path), tmp_path, {}, lambda line: None, only="d")
    assert (tmp_path / "b.old").exists() and not (tmp_path / "b").exists()
    run_stages(_plan(tmp_path), tmp_path, {}, lambda line: None, only="b")  # b's own job recovers it
    assert (tmp_path / "b" / "stage.json").exists() and not (tmp_path / "b.old").exists()


def _copy_stage(source: Path, target: Path) -> None:
    (target / "copy.txt").write_text(source.read_text())


def test_a_stage_is_keyed_by_its_inputs_contents_and_says_which_changed(tmp_path):
    """Issue 33: one provenance key per stage output, from a content hash of each input. An edit that
    keeps the file's size and time re-runs the stage, naming the input; a touch alone does not; the key
    shows in the stage's summary.json and the manifest, and the run's key in the manifest."""
    import os

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("first corpus")
    run = tmp_path / "run"

    def plan() -> list[Stage]:
        stages = [Stage("copy", {"v": 1}, [("data.corpus", str(corpus))], run / "copy", partial(_copy_stage, corpus)),
                  Stage("read", {}, [("stage copy", str(run / "copy"))], run / "read", lambda out: None)]
        link(stages)
        return stages

    logs: list[str] = []
    manifest = run_stages(plan(), run, {}, logs.append)
    entry = manifest["stages"]["copy"]
    stamped = json.loads((run / "copy" / "summary.json").read_text())["provenance"]
    assert stamped == {"key": entry["fingerprint"], "inputs": entry["inputs"]}
    assert manifest["stages"]["read"]["inputs"] == {"stage copy": f"copy@{entry['fingerprint']}"}
    assert len(manifest["provenance"]) == 16

    os.utime(corpus)  # touched, not changed
    logs.clear()
    assert run_stages(plan(), run, {}, logs.append)["provenance"] == manifest["provenance"]
    assert all(line.startswith("[skip]") for line in logs)

    stat = corpus.stat()
    corpus.write_text("other corpus")  # the same size, and the same time put back: only its contents differ
    os.utime(corpus, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    logs.clear()
    again = run_stages(plan(), run, {}, logs.append)
    assert "[redo] copy: its input data.corpus changed since it was made" in logs
    assert (run / "copy" / "copy.txt").read_text() == "other corpus"
    assert again["stages"]["copy"]["fingerprint"] != entry["fingerprint"]
    assert again["provenance"] != manifest["provenance"]
