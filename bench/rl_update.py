"""RL's policy update (`rl.trainer.update_policy`) on the demo's mini model, one step's 64 responses, two
ways in one run: in one micro-batch of 64 (the demo's setting until 96ec9fe: every row padded to the
longest) and in micro-batches of 16 among responses of similar lengths (now). One thread, as the demo's
RL runs beside another stage. Responses are random tokens of lengths drawn like the long branch's (20 to
160 tokens after a 35-token prompt; lengths, not weights, decide the cost). Prints ms per update each
way and their ratio.

    .venv/bin/python bench/rl_update.py          (on an idle machine: check `uptime` first)
    .venv/bin/python bench/rl_update.py --smoke  (the micro model, once each way, for tests: the numbers mean nothing)
"""

from __future__ import annotations

import argparse
import os
import random
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true",
                        help="the micro model, one timed update each way: a smoke test (the numbers mean nothing)")
    size, repeats = ("micro", 1) if parser.parse_args().smoke else ("mini", 5)

    from transformers import LlamaConfig, LlamaForCausalLM

    from octothinker.models import MODEL_SIZES
    from octothinker.rl.config import RLConfig
    from octothinker.rl.trainer import update_policy

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=1024, **MODEL_SIZES[size]))
    rng = random.Random(0)
    prompt = [rng.randrange(1, 1024) for _ in range(35)]
    rows = [(prompt, [rng.randrange(1, 1024) for _ in range(rng.randint(20, 160))], rng.choice([-1.0, 1.0]))
            for _ in range(64)]
    start = {k: v.clone() for k, v in model.state_dict().items()}
    print(f"uptime: {os.getloadavg()}")
    results = {}
    for label, micro in (("one micro-batch of 64", 64), ("micro-batches of 16 by length", 16)):
        model.load_state_dict(start)
        cfg = RLConfig(prompts="-", steps=1, prompts_per_step=8, group_size=8, mini_batch=8, micro_batch=micro)
        optimizer = torch.optim.AdamW(model.parameters(), lr=2.5e-4)
        update_policy(model, optimizer, rows, cfg, 160, 0, "cpu")  # warm-up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            update_policy(model, optimizer, rows, cfg, 160, 0, "cpu")
            times.append(time.perf_counter() - t0)
        results[label] = 1000 * sorted(times)[len(times) // 2]
    print(f"| update | ms (median of {repeats}) |\n|---|---|")
    for label, ms in results.items():
        print(f"| {label} | {ms:.0f} |")
    one, sorted_ = results.values()
    print(f"\nby length: {one / sorted_:.2f}x faster")


if __name__ == "__main__":
    main()
