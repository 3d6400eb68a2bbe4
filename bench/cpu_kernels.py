"""What torch's AVX2 kernels cost against the CPU's own (AVX-512 where it has them), on the demo's mini
model: a training step (8 x 256 tokens, AdamW) and a sampled generation (64 prompts x 40 new tokens),
each in a fresh process with `ATEN_CPU_CAPABILITY` set, side by side, with their ratio.

    .venv/bin/python bench/cpu_kernels.py          (on an idle machine: check `uptime` first)
    .venv/bin/python bench/cpu_kernels.py --smoke  (every line at the least size, for tests: the numbers mean nothing)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

# The demo's mini model and its timed training step (8 x 256 tokens, AdamW; bench/threads.py times the
# same step), for a child process that sets its torch threads first, after its sizes (`sized`).
TRAINING = r"""
import json, sys, time, torch
from transformers import LlamaConfig, LlamaForCausalLM
from octothinker.models import MODEL_SIZES
torch.manual_seed(0)
model = LlamaForCausalLM(LlamaConfig(vocab_size=1024, **MODEL_SIZES[SIZE]))
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
x = torch.randint(0, 1024, (8, 256))
def step():
    model(input_ids=x, labels=x).loss.backward(); opt.step(); opt.zero_grad()
for _ in range(3):
    step()
start = time.perf_counter()
for _ in range(STEPS):
    step()
train = (time.perf_counter() - start) / STEPS
"""

CHILD = "import torch\ntorch.set_num_threads(2)\n" + TRAINING + r"""
model.eval()
prompts = torch.randint(0, 1024, (64, 40))
with torch.no_grad():
    start = time.perf_counter()
    for _ in range(GENERATIONS):
        model.generate(prompts, max_new_tokens=NEW_TOKENS, do_sample=True, pad_token_id=0)
generate = (time.perf_counter() - start) / GENERATIONS
print(json.dumps({"kernels": torch.backends.cpu.get_cpu_capability(), "train_ms": 1000 * train,
                  "generate_ms": 1000 * generate}))
"""


# What the children time: the mini model, 30 training steps (after 3 of warm-up), 5 generations of 40 new
# tokens. SMOKE: the least that runs every line, for tests (its numbers mean nothing).
SIZES = {"SIZE": "mini", "STEPS": 30, "GENERATIONS": 5, "NEW_TOKENS": 40}
SMOKE = {"SIZE": "micro", "STEPS": 1, "GENERATIONS": 1, "NEW_TOKENS": 2}


def sized(code: str, sizes: dict) -> str:
    """`code` after the lines that set its sizes."""
    return "".join(f"{name} = {value!r}\n" for name, value in sizes.items()) + code


def measure(capability: str | None, sizes: dict = SIZES) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"}
    if capability:
        env["ATEN_CPU_CAPABILITY"] = capability
    out = subprocess.run([sys.executable, "-c", sized(CHILD, sizes)], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="the micro model, one step, one generation of 2 "
                                                             "tokens: a smoke test (the numbers mean nothing)")
    sizes = SMOKE if parser.parse_args().smoke else SIZES
    print(f"uptime: {os.getloadavg()}")
    native, avx2 = measure(None, sizes), measure("avx2", sizes)
    print("| kernels | training step ms | generation ms |\n|---|---|---|")
    for r in (native, avx2):
        print(f"| {r['kernels']} | {r['train_ms']:.0f} | {r['generate_ms']:.0f} |")
    print(f"| ratio AVX2 / {native['kernels']} | {avx2['train_ms'] / native['train_ms']:.2f}x | "
          f"{avx2['generate_ms'] / native['generate_ms']:.2f}x |")


if __name__ == "__main__":
    main()
