"""Why the demo (`jobs: 2`) trains one stage at a time on both threads and runs the stages that decode
two at a time, one thread each: on the demo's mini model, a training step (8 x 256 tokens, AdamW) and a
sampled decoding (the RL generator's loop: 64 rows, 160 new tokens at most), each timed in fresh
processes three ways: alone on two threads, alone on one, and two one-thread processes side by side.
Prints the work done per second of each way against one process on two threads.

    .venv/bin/python bench/threads.py          (on an idle machine: check `uptime` first)
    .venv/bin/python bench/threads.py --smoke  (every line at the least size, for tests: the numbers mean nothing)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cpu_kernels  # noqa: E402  (its neighbour in bench/, which is no package)
from cpu_kernels import TRAINING, sized  # noqa: E402

# the training step's sizes as cpu_kernels.py's; the decoding: 3 timed (after one of warm-up), of 160 new tokens at most
SIZES = {**cpu_kernels.SIZES, "GENERATIONS": 3, "NEW_TOKENS": 160}
SMOKE = cpu_kernels.SMOKE

CHILD = "import sys, torch\ntorch.set_num_threads(int(sys.argv[1]))\n" + TRAINING + r"""
from octothinker.eval.generation import HFGenerator, SamplingParams

class Tokens:  # the generator's tokenizer interface, over plain token ids (no stop strings: every row runs on)
    pad_token_id = eos_token_id = 0
    def __call__(self, ids, add_special_tokens=True):
        return {"input_ids": ids}
    def decode(self, ids, skip_special_tokens=True):
        return " ".join(map(str, ids))
    def __len__(self):
        return 1024
model.generation_config.eos_token_id = 0
generator = HFGenerator(model.eval(), Tokens(), max_batch=64)
prompts = torch.randint(1, 1024, (8, 30)).tolist()
params = SamplingParams(n=8, temperature=1.0, max_new_tokens=NEW_TOKENS, seed=0)
generator.generate(prompts, params)
start = time.perf_counter()
for _ in range(GENERATIONS):
    generator.generate(prompts, params)
decode = (time.perf_counter() - start) / GENERATIONS
print(json.dumps({"train_s": train, "decode_s": decode}))
"""


def _start(threads: int, sizes: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", sized(CHILD, sizes), str(threads)], stdout=subprocess.PIPE,
                            text=True)


def _result(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"child failed ({proc.returncode})")
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="the micro model, one step, decodings of 2 tokens: "
                                                             "a smoke test (the numbers mean nothing)")
    sizes = SMOKE if parser.parse_args().smoke else SIZES
    print(f"uptime: {os.getloadavg()}; {os.cpu_count()} cores")
    two = _result(_start(2, sizes))
    one = _result(_start(1, sizes))
    pair = [_result(p) for p in [_start(1, sizes), _start(1, sizes)]]
    print("| way | training step s | sampled decoding s | training work / s | decoding work / s |\n|---|---|---|---|---|")
    for label, r, n in [("one process, 2 threads", two, 1), ("one process, 1 thread", one, 1),
                        ("two processes side by side, 1 thread each", pair[0], 2)]:
        train = r["train_s"] if n == 1 else max(p["train_s"] for p in pair)
        decode = r["decode_s"] if n == 1 else max(p["decode_s"] for p in pair)
        print(f"| {label} | {train:.3f} | {decode:.2f} | {n * two['train_s'] / train:.2f}x | "
              f"{n * two['decode_s'] / decode:.2f}x |")


if __name__ == "__main__":
    main()
