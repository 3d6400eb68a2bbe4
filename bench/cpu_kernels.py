"""What torch's AVX2 kernels cost against the CPU's own (AVX-512 where it has them), on the demo's mini
model: a training step (8 x 256 tokens, AdamW) and a sampled generation (64 prompts x 40 new tokens),
each in a fresh process with `ATEN_CPU_CAPABILITY` set, side by side, with their ratio.

    .venv/bin/python bench/cpu_kernels.py          (on an idle machine: check `uptime` first)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

# The demo's mini model and its timed training step (8 x 256 tokens, AdamW; bench/threads.py times the
# same step), for a child process whose first line sets its torch threads.
TRAINING = r"""
import json, sys, time, torch
from transformers import LlamaConfig, LlamaForCausalLM
from octothinker.models import MODEL_SIZES
torch.manual_seed(0)
model = LlamaForCausalLM(LlamaConfig(vocab_size=1024, **MODEL_SIZES["mini"]))
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
x = torch.randint(0, 1024, (8, 256))
def step():
    model(input_ids=x, labels=x).loss.backward(); opt.step(); opt.zero_grad()
for _ in range(3):
    step()
start = time.perf_counter()
for _ in range(30):
    step()
train = (time.perf_counter() - start) / 30
"""

CHILD = "import torch\ntorch.set_num_threads(2)\n" + TRAINING + r"""
model.eval()
prompts = torch.randint(0, 1024, (64, 40))
with torch.no_grad():
    start = time.perf_counter()
    for _ in range(5):
        model.generate(prompts, max_new_tokens=40, do_sample=True, pad_token_id=0)
generate = (time.perf_counter() - start) / 5
print(json.dumps({"kernels": torch.backends.cpu.get_cpu_capability(), "train_ms": 1000 * train,
                  "generate_ms": 1000 * generate}))
"""


def measure(capability: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"}
    if capability:
        env["ATEN_CPU_CAPABILITY"] = capability
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print(f"uptime: {os.getloadavg()}")
    native, avx2 = measure(None), measure("avx2")
    print("| kernels | training step ms | generation ms |\n|---|---|---|")
    for r in (native, avx2):
        print(f"| {r['kernels']} | {r['train_ms']:.0f} | {r['generate_ms']:.0f} |")
    print(f"| ratio AVX2 / {native['kernels']} | {avx2['train_ms'] / native['train_ms']:.2f}x | "
          f"{avx2['generate_ms'] / native['generate_ms']:.2f}x |")


if __name__ == "__main__":
    main()
