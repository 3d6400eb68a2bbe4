"""bench/midtrain_throughput.py (our trainer against HF Trainer, on CPU) and bench/midtrain_gpu.py (eager
against compiled, on one GPU), each at the least size its options allow."""

import json

import pytest
import torch

from .runner import Runs, line, ratio_within_rounding

pytestmark = pytest.mark.bench

HAS_CUDA = torch.cuda.is_available()


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    # on CPU: 2 steps (the first is left out of tokens/s) of 2 sequences of 16 tokens, micro-batches of 1
    cpu = ("--size", "micro", "--steps", "2", "--seq-len", "16", "--batch-seqs", "2", "--micro-batch", "1")
    # on the GPU: 3 steps of 2 x 64 tokens, the first left out, both variants
    gpu = ("--size", "micro", "--seq-len", "64", "--micro-batch", "1", "--batch-seqs", "2", "--steps", "3",
           "--skip", "1", "--variants", "eager,compile", "--json", "results.json")
    runs = Runs(request, tmp_path_factory, {
        "test_midtrain_throughput_ours_against_hf_trainer": ("midtrain_throughput.py", cpu, {}),
        **({"test_midtrain_gpu_eager_and_compiled": ("midtrain_gpu.py", gpu, {"timeout": 500})} if HAS_CUDA else
           {"test_midtrain_gpu_without_a_gpu_says_so": ("midtrain_gpu.py", ("--size", "micro", "--steps", "2"), {})}),
    })
    yield runs
    runs.close()


def test_midtrain_throughput_ours_against_hf_trainer(runs):
    out = runs.result("test_midtrain_throughput_ours_against_hf_trainer")
    assert out.returncode == 0, out.explain()
    line(out.stdout, r"model micro \| seq 16 \| global batch 2 sequences \(32 tokens\), micro-batch 1 \| 2 steps \| "
                     r"fp32 \| torch threads \d+")
    ours = line(out.stdout, r"octothinker trainer +(\d+) tokens/s +final loss (\d+\.\d{3})")
    hf = line(out.stdout, r"HF Trainer \(WSD\) +(\d+) tokens/s +final loss (\d+\.\d{3})")
    ratio = float(line(out.stdout, r"ratio: (\d+\.\d\d)x")[1])
    for side in (ours, hf):
        assert int(side[1]) > 0
        assert 1 < float(side[2]) < 15  # a random model's loss over the world's vocabulary: about log(vocab)
    assert ratio_within_rounding(ratio, int(ours[1]), int(hf[1]), 0.5, 0.5), out.stdout
    # the same initial weights and schedule on both sides: one update later their losses are close
    assert abs(float(ours[2]) - float(hf[2])) < 0.5, out.stdout


def test_midtrain_gpu_without_a_gpu_says_so(runs):
    if HAS_CUDA:
        pytest.skip("a CUDA device is here: the benchmark runs (test_midtrain_gpu_eager_and_compiled)")
    out = runs.result("test_midtrain_gpu_without_a_gpu_says_so")
    assert out.returncode != 0
    assert "this benchmark needs a CUDA device" in out.stderr, out.explain()
    assert out.stdout == ""


def test_midtrain_gpu_eager_and_compiled(runs, tmp_path_factory):
    if not HAS_CUDA:
        pytest.skip("no CUDA device: bench/midtrain_gpu.py runs on one GPU")
    out = runs.result("test_midtrain_gpu_eager_and_compiled")
    assert out.returncode == 0, out.explain()
    rows = json.loads(out.cwd.joinpath("results.json").read_text())
    assert [r["variant"] for r in rows] == ["eager", "compile"]
    for r in rows:
        assert r["tokens_per_s"] > 0 and len(r["losses"]) == 3 and r["peak_memory_gb"] >= 0
        line(out.stdout, rf"{r['variant']} +\d+ tokens/s +MFU +[\d.na]+% +step .* loss [\d.]+ -> [\d.]+")
    ratio = float(line(out.stdout, r"compile / eager: (\d+\.\d\d)x")[1])
    assert ratio == pytest.approx(rows[1]["tokens_per_s"] / rows[0]["tokens_per_s"], abs=0.006)
