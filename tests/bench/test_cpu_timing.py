"""The CPU timings, each with --smoke (every line runs, at the least size: the numbers mean nothing):
bench/cpu_kernels.py (torch's AVX2 kernels against the CPU's own), bench/threads.py (one process on two
threads, on one, and two side by side) and bench/rl_update.py (the policy update in one micro-batch
against micro-batches by length)."""

import platform
import re

import pytest

from .runner import Runs, line, ratio_within_rounding

pytestmark = pytest.mark.bench


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    runs = Runs(request, tmp_path_factory, {
        "test_cpu_kernels_side_by_side_with_their_ratio": ("cpu_kernels.py", ("--smoke",), {}),
        "test_threads_each_way_against_one_process_on_two_threads": ("threads.py", ("--smoke",), {}),
        "test_rl_update_one_micro_batch_against_micro_batches_by_length": ("rl_update.py", ("--smoke",), {}),
    })
    yield runs
    runs.close()


def test_cpu_kernels_side_by_side_with_their_ratio(runs):
    out = runs.result("test_cpu_kernels_side_by_side_with_their_ratio")
    assert out.returncode == 0, out.explain()
    line(out.stdout, r"uptime: \([\d.]+, [\d.]+, [\d.]+\)")
    rows = re.findall(r"(?m)^\| (?!ratio)(\w[\w ]*?) \| (\d+) \| (\d+) \|$", out.stdout)
    assert len(rows) == 2, out.stdout  # the CPU's own kernels, then the forced ones
    (native, native_train, native_generate), (forced, forced_train, forced_generate) = rows
    if platform.machine() in ("x86_64", "AMD64"):
        assert forced == "AVX2", out.stdout  # ATEN_CPU_CAPABILITY=avx2 reached the child
    train, generate = line(out.stdout, rf"\| ratio {forced} / {native} \| (\d+\.\d\d)x \| (\d+\.\d\d)x \|").groups()
    assert ratio_within_rounding(float(train), int(forced_train), int(native_train), 0.5, 0.5), out.stdout
    assert ratio_within_rounding(float(generate), int(forced_generate), int(native_generate), 0.5, 0.5), out.stdout


def test_threads_each_way_against_one_process_on_two_threads(runs):
    out = runs.result("test_threads_each_way_against_one_process_on_two_threads")
    assert out.returncode == 0, out.explain()
    line(out.stdout, r"uptime: \([\d.]+, [\d.]+, [\d.]+\); \d+ cores")
    row = r"\| {} \| (\d+\.\d{{3}}) \| (\d+\.\d\d) \| (\d+\.\d\d)x \| (\d+\.\d\d)x \|"
    two = line(out.stdout, row.format(r"one process, 2 threads"))
    one = line(out.stdout, row.format(r"one process, 1 thread"))
    pair = line(out.stdout, row.format(r"two processes side by side, 1 thread each"))
    assert two.groups()[2:] == ("1.00", "1.00")  # the way the others are measured against
    # one process on one thread: its training work per second is the two-thread time over its own
    assert ratio_within_rounding(float(one[3]), float(two[1]), float(one[1]), 0.0005, 0.0005), out.stdout
    # two processes do twice the work in the time of the slower one
    assert ratio_within_rounding(float(pair[3]), 2 * float(two[1]), float(pair[1]), 0.001, 0.0005), out.stdout
    assert all(float(x) > 0 for m in (one, pair) for x in m.groups()[2:])


def test_rl_update_one_micro_batch_against_micro_batches_by_length(runs):
    out = runs.result("test_rl_update_one_micro_batch_against_micro_batches_by_length")
    assert out.returncode == 0, out.explain()
    line(out.stdout, r"\| update \| ms \(median of 1\) \|")
    one = int(line(out.stdout, r"\| one micro-batch of 64 \| (\d+) \|")[1])
    by_length = int(line(out.stdout, r"\| micro-batches of 16 by length \| (\d+) \|")[1])
    speedup = float(line(out.stdout, r"by length: (\d+\.\d\d)x faster")[1])
    assert one > 0 and by_length > 0
    assert ratio_within_rounding(speedup, one, by_length, 0.5, 0.5), out.stdout
