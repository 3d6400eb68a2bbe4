"""bench/roofline.py: the machine's limits, the bound they put on a forward pass (known values), and the
generator's fractions of it, each printed fraction the ratio of the figures beside it; with --smoke on
the micro model (the numbers mean nothing)."""

import importlib.util

import pytest

from .runner import BENCH, Runs, line, ratio_within_rounding

pytestmark = pytest.mark.bench


def roofline():
    spec = importlib.util.spec_from_file_location("roofline", BENCH / "roofline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory, micro_model_dir):
    runs = Runs(request, tmp_path_factory, {
        "test_each_fraction_is_the_bound_over_the_time_beside_it": (
            "roofline.py", ("--smoke", "--model", str(micro_model_dir)), {}),
    })
    yield runs
    runs.close()


def test_each_part_of_a_forward_pass_is_bound_by_its_bytes_or_its_flops_and_the_parts_add_up():
    bench = roofline()
    # one head of 4 dims; 8 rows decode 1 token over 9 cached; reads at 1000 B/s, computes at 2000 FLOP/s
    shape = bench.Shape(blocks=100, head=50, layers=1, heads=1, kv_heads=1, head_dim=4, bytes_per=4)
    machine = bench.Machine(copy_bandwidth=1000.0, read_bandwidth=1000.0, matmul_rate=2000.0)
    # blocks: 400 B (0.4 s) or 2 x 100 x 8 = 1600 FLOPs (0.8 s): compute, 0.8 s. Attention: keys and
    # values 2 x 4 dims x 8 rows x 10 x 4 B = 2560 B (2.56 s) or 4 x 4 x 8 x 10 = 1280 FLOPs (0.64 s):
    # memory, 2.56 s. Logits: 200 B (0.2 s) or 2 x 50 x 8 = 800 FLOPs (0.4 s): 0.4 s.
    assert shape.bound(machine, rows=8, new=1, cached=9) == pytest.approx(0.8 + 2.56 + 0.4)
    # 5 of the cached tokens a prefix the rows share, held once: 5 + 8 x 5 = 45 tokens of keys and values
    assert shape.bound(machine, rows=8, new=1, cached=9, shared=5) == pytest.approx(0.8 + 2 * 4 * 45 * 4 / 1000 + 0.4)


def test_a_forward_pass_is_bound_by_its_bytes_or_its_flops_whichever_takes_longer():
    bench = roofline()
    # 100 block and 50 head parameters of 4 bytes; one layer, 2 query heads sharing 1 KV head of 4 dims
    shape = bench.Shape(blocks=100, head=50, layers=1, heads=2, kv_heads=1, head_dim=4, bytes_per=4)
    # 2 rows decode 1 token over 9 cached: weights 600 B and keys + values 2 x 4 dims x 10 x 2 rows x 4 B
    # = 640 B; FLOPs 2 x 100 x 2 + 2 x 50 x 2 (last token's logits) + 4 x 2 heads x 4 dims x 2 x 10 = 1240
    memory_bound = bench.Machine(copy_bandwidth=1000.0, read_bandwidth=500.0, matmul_rate=1e6)
    assert memory_bound.bandwidth == 1000.0  # weights are read: the faster figure is the bound
    assert shape.bound(memory_bound, rows=2, new=1, cached=9) == pytest.approx(1.24)
    compute_bound = bench.Machine(copy_bandwidth=1e6, read_bandwidth=1e6, matmul_rate=500.0)
    assert shape.bound(compute_bound, rows=2, new=1, cached=9) == pytest.approx(2.48)
    # a prefill of 3 new tokens a row: the blocks' FLOPs and the attention grow with them, the logits do not
    assert shape.bound(compute_bound, rows=2, new=3, cached=0) == pytest.approx(
        (2 * 100 * 2 * 3 + 2 * 50 * 2 + 4 * 2 * 4 * 2 * 3 * 3) / 500.0)


def test_each_fraction_is_the_bound_over_the_time_beside_it(runs):
    out = runs.result("test_each_fraction_is_the_bound_over_the_time_beside_it")
    assert out.returncode == 0, out.explain()
    line(out.stdout, r"machine: .+, torch \S+ \w+ kernels, \d+ threads, load [\d.]+")
    line(out.stdout, r"memory bandwidth: copy [\d.]+ GB/s, read [\d.]+ GB/s; matmul \(64x64 float32\): [\d.]+ GFLOP/s")
    for model in ("model", r"mini \(the demo's shape, random weights\)"):
        line(out.stdout, rf"{model}: [\d.]+M parameters read a step \(\d+ MB in float32\); decode bound at batch 2 "
                         r"and \d+ cached tokens \(\d+ of them a prefix all rows share\): \d+ tokens/s; prefill bound "
                         r"\d+ tokens/s")
    for without in ("packed weights", "the shared prefix held once", "prefill by length", "all three"):
        found = _all(out.stdout, rf"  greedy eval, batch 2, without {without}: decode forward +\d+ tokens/s, prefill "
                                 r"forward +[\d.]+ s; with it [\d.]+x the decode rate, [\d.]+x less prefill time; "
                                 r"completions identical ([0-2])/2")
        assert len(found) == 2, out.stdout  # one a model
    for label in ("greedy eval, batch 2", r"RL rollouts, 1 x 2"):
        prefills = [m for m in _all(out.stdout, rf"  {label}: prefill \d+ tokens +(\d+) tokens/s, bound +(\d+): "
                                                 r"+([\d.]+)% of it")]
        assert len(prefills) == 2, out.stdout  # one a model
        for rate, bound, percent in prefills:
            assert ratio_within_rounding(float(percent) / 100, int(rate), int(bound), 0.5, 0.5, 0.0005), out.stdout
        decodes = _all(out.stdout, rf"  {label}: decode \d+ tokens in \d+ steps \(mean batch [\d.]+\), forward +(\d+) "
                                   r"tokens/s, all +(\d+) tokens/s; bound +(\d+) tokens/s: forward +([\d.]+)%, all "
                                   r"+([\d.]+)% of it \(\d+% of the time is outside the forward\)")
        assert len(decodes) == 2, out.stdout
        for forward, everything, bound, forward_share, all_share in decodes:
            assert int(everything) <= int(forward)
            assert ratio_within_rounding(float(forward_share) / 100, int(forward), int(bound), 0.5, 0.5, 0.0005)
            assert ratio_within_rounding(float(all_share) / 100, int(everything), int(bound), 0.5, 0.5, 0.0005)


def _all(text: str, pattern: str) -> list[tuple]:
    import re

    return [m.groups() for m in (re.fullmatch(pattern, x.rstrip()) for x in text.splitlines()) if m]
