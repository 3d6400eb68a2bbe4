"""Run plumbing: one writer per output folder, and progress lines that report averages."""

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from octothinker.runs.lock import FolderBusy, folder_lock
from octothinker.runs.metrics import Progress


def test_an_exclusive_lock_refuses_a_second_writer_and_names_the_first(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom octothinker.runs.lock import folder_lock\n"
        f"with folder_lock({str(out)!r}):\n    print('held', flush=True)\n    time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(FolderBusy, match=f"in use by another octo process \\(pid {holder.pid} on "):
            with folder_lock(out):
                pass
        with pytest.raises(FolderBusy):
            with folder_lock(out, shared=True):
                pass
    finally:
        holder.kill()
        holder.wait()
    with folder_lock(out):  # the kernel dropped the lock of the killed process: no stale lock
        pass


def test_shared_holders_exclude_a_whole_run_not_each_other(tmp_path):
    with folder_lock(tmp_path, shared=True):
        with folder_lock(tmp_path, shared=True):
            with pytest.raises(FolderBusy):
                with folder_lock(tmp_path):
                    pass
        with folder_lock(tmp_path, name="stage-rl-base"):  # a stage's own lock, beside the run's
            with pytest.raises(FolderBusy, match=r"\(stage-rl-base\): in use"):
                with folder_lock(tmp_path, name="stage-rl-base"):
                    pass


def test_a_folder_made_for_a_command_that_wrote_nothing_is_taken_away(tmp_path):
    with pytest.raises(RuntimeError):
        with folder_lock(tmp_path / "a" / "b" / "out"):
            raise RuntimeError("bad option")
    assert not (tmp_path / "a").exists()
    with folder_lock(tmp_path / "kept") as out:
        (out / "result.json").write_text("{}")
    assert (tmp_path / "kept" / "result.json").exists()


def test_progress_tokens_per_second_is_the_average_since_the_start(monkeypatch):
    now = [0.0]
    monkeypatch.setattr("octothinker.runs.metrics.time.perf_counter", lambda: now[0])
    stream = io.StringIO()
    bar = Progress(2, "rl", every=1, stream=stream)
    now[0] = 1.0
    bar.update(tokens=8000)    # 1 s in: 8000 tok/s
    now[0] = 10.0
    bar.update(tokens=2000)    # 10000 tokens over 10 s: 1000, whatever the last step's own rate
    lines = stream.getvalue().splitlines()
    assert "tok_s 8000" in lines[0] and "tok_s 1000" in lines[1], lines


def test_a_grading_worker_leaves_ctrl_c_to_its_parent():
    from octothinker.tasks.grading import VerifyPool

    pool = VerifyPool(workers=1)
    try:
        assert pool.verify_many([("2", "2")]) == [True]
        worker = pool._pool[0].process
        os.kill(worker.pid, signal.SIGINT)
        time.sleep(0.5)
        assert worker.is_alive() and pool.verify_many([("3", "3")]) == [True] and pool._pool[0].process is worker
    finally:
        pool.close()


def test_metrics_rows_after_the_checkpoint_go_and_a_run_starting_over_keeps_none(tmp_path):
    """A run resumed from step 2 keeps the rows up to 2; one killed before its first checkpoint starts
    over and keeps none: its evaluation at step 0 is logged again, not twice (bench/chaos.py found it)."""
    from octothinker.runs.metrics import MetricsWriter

    writer = MetricsWriter(tmp_path, filename="eval.jsonl")
    for step in (0, 1, 2, 3):
        writer.log({"step": step, "accuracy": 1.0})
    writer.close()
    with (tmp_path / "eval.jsonl").open("a") as fh:
        fh.write('{"step": 4, "acc')  # torn by the kill
    MetricsWriter(tmp_path, resume_step=2, filename="eval.jsonl").close()
    assert [json.loads(x)["step"] for x in (tmp_path / "eval.jsonl").read_text().splitlines()] == [0, 1, 2]
    MetricsWriter(tmp_path, resume_step=0, filename="eval.jsonl").close()
    assert (tmp_path / "eval.jsonl").read_text() == ""
