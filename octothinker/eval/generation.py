"""Text generation backends behind one small interface, shared by evaluation and RL rollouts.

`HFGenerator` (default): batched `model.generate` with KV cache, the prompts' shared prefix (few-shot
exemplars) encoded once, prompts sorted by length so a batch wastes little padding, a token budget per
batch, and stop strings that end each sequence on its own. `VLLMGenerator` is used when vLLM is importable and a GPU is present.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch

MIN_SHARED_PREFIX = 16  # shorter shared prefixes are not worth a cache copy per batch


@dataclass(frozen=True)
class SamplingParams:
    max_new_tokens: int = 1024
    temperature: float = 0.0          # 0 means greedy
    top_p: float = 1.0
    n: int = 1                        # samples per prompt
    stop: tuple[str, ...] = ()
    seed: int = 0


@dataclass(frozen=True)
class Completion:
    text: str
    tokens: int                       # response tokens up to the stop string / EOS
    finish: str                       # "stop" (stop string), "eos", or "length" (cut at max_new_tokens)


class Generator(Protocol):
    def generate(self, prompts: list[str], params: SamplingParams,
                 on_batch: Callable[[int], None] | None = None) -> list[list[Completion]]:
        """`n` completions for each prompt, in prompt order."""


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class HFGenerator:
    def __init__(self, model, tokenizer, max_batch: int = 64, batch_tokens: int = 262_144):
        self.model = model
        self.tokenizer = tokenizer
        self.max_batch = max_batch
        self.batch_tokens = batch_tokens  # prompt + new tokens, summed over a batch's sequences

    def _batches(self, lengths: list[int], params: SamplingParams) -> list[list[int]]:
        """Indices grouped longest-first so that each batch pads little and memory peaks first."""
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        batches, current = [], []
        for i in order:
            width = lengths[current[0]] if current else lengths[i]
            if current and (len(current) + 1) * params.n * (width + params.max_new_tokens) > self.batch_tokens \
                    or len(current) * params.n >= self.max_batch:
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
        return batches

    @staticmethod
    def shared_prefix(encoded: list[list[int]]) -> int:
        """Tokens every prompt starts with (at least one token of each prompt is left out of it)."""
        if len(encoded) < 2:
            return 0
        limit = min(len(e) for e in encoded) - 1
        first = encoded[0]
        n = 0
        while n < limit and all(e[n] == first[n] for e in encoded):
            n += 1
        return n if n >= MIN_SHARED_PREFIX else 0

    @torch.inference_mode()
    def generate(self, prompts, params, on_batch=None):
        tok = self.tokenizer
        encoded = [tok(p, add_special_tokens=True)["input_ids"] for p in prompts]
        results: list[list[Completion]] = [[] for _ in prompts]
        device = next(self.model.parameters()).device
        pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        eos_ids = self.model.generation_config.eos_token_id
        eos_ids = set(eos_ids if isinstance(eos_ids, list) else [eos_ids]) | {tok.eos_token_id}
        # Few-shot prompts share their exemplars: encode that prefix once and start every batch from a
        # copy of its KV cache, so prefill costs only each question (the bulk of CPU time otherwise).
        prefix = self.shared_prefix(encoded)
        prefix_cache = None
        if prefix:
            from transformers import DynamicCache

            prefix_cache = DynamicCache(config=self.model.config)
            self.model(input_ids=torch.tensor([encoded[0][:prefix]], device=device), past_key_values=prefix_cache,
                       use_cache=True)
        for batch_no, batch in enumerate(self._batches([len(e) for e in encoded], params)):
            rows = [i for i in batch for _ in range(params.n)]
            width = max(len(encoded[i]) - prefix for i in batch)
            input_ids = torch.full((len(rows), prefix + width), pad_id, dtype=torch.long)
            attention = torch.zeros((len(rows), prefix + width), dtype=torch.long)
            for row, i in enumerate(rows):
                # [shared prefix][padding][rest of the prompt]: every prompt ends where generation starts.
                rest = encoded[i][prefix:]
                input_ids[row, :prefix] = torch.tensor(encoded[i][:prefix], dtype=torch.long)
                attention[row, :prefix] = 1
                input_ids[row, prefix + width - len(rest):] = torch.tensor(rest, dtype=torch.long)
                attention[row, prefix + width - len(rest):] = 1
            cache = None
            if prefix_cache is not None:
                cache = copy.deepcopy(prefix_cache)
                cache.batch_repeat_interleave(len(rows))
            sampling = params.temperature > 0
            if sampling:
                # HF generate samples from the global RNG; seeding per batch keeps runs repeatable.
                torch.manual_seed(params.seed * 1_000_003 + batch_no)
            out = self.model.generate(
                input_ids=input_ids.to(device), attention_mask=attention.to(device), past_key_values=cache,
                max_new_tokens=params.max_new_tokens, do_sample=sampling,
                temperature=params.temperature if sampling else None, top_p=params.top_p if sampling else None,
                top_k=None, pad_token_id=pad_id,
                stop_strings=list(params.stop) or None, tokenizer=tok if params.stop else None,
            )
            generated = out[:, prefix + width:].tolist()
            for row, ids in enumerate(generated):
                results[rows[row]].append(self._completion(ids, eos_ids, pad_id, params))
            if on_batch:
                on_batch(len(batch))
        return results

    def _completion(self, ids: list[int], eos_ids: set, pad_id: int, params: SamplingParams) -> Completion:
        finish = "length"
        for j, t in enumerate(ids):
            if t in eos_ids:
                ids, finish = ids[:j], "eos"
                break
        else:
            while ids and ids[-1] == pad_id and pad_id not in eos_ids:
                ids = ids[:-1]
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        text, stopped = cut_at_stop(text, params.stop)
        if stopped:
            return Completion(text, len(self.tokenizer(text, add_special_tokens=False)["input_ids"]), "stop")
        return Completion(text, len(ids), finish)


class VLLMGenerator:
    """vLLM offline engine over a Hugging Face folder (what `models.save_model` writes)."""

    def __init__(self, model_path: str, dtype: str = "auto", seed: int = 0, gpu_memory_utilization: float = 0.85):
        from vllm import LLM

        self.llm = LLM(model=model_path, dtype=dtype, seed=seed, gpu_memory_utilization=gpu_memory_utilization)

    def generate(self, prompts, params, on_batch=None):
        from vllm import SamplingParams as VSampling

        sampling = VSampling(n=params.n, temperature=params.temperature, top_p=params.top_p,
                             max_tokens=params.max_new_tokens, stop=list(params.stop), seed=params.seed)
        outputs = self.llm.generate(prompts, sampling, use_tqdm=False)
        results = []
        for out in outputs:
            comps = []
            for o in out.outputs:
                finish = "length" if o.finish_reason == "length" else ("stop" if isinstance(o.stop_reason, str) else "eos")
                comps.append(Completion(o.text, len(o.token_ids), finish))
            results.append(comps)
        if on_batch:
            on_batch(len(prompts))
        return results


def vllm_available() -> bool:
    try:
        import vllm  # noqa: F401
    except ImportError:
        return False
    return torch.cuda.is_available()


def make_generator(model_spec: str, backend: str = "auto", device: str | None = None, dtype: str | None = None,
                   max_batch: int = 64, seed: int = 0) -> Generator:
    from octothinker.models import load_model, resolve_model_source

    if backend not in ("auto", "hf", "vllm"):
        raise ValueError(f"unknown backend {backend!r}: use auto, hf or vllm")
    if backend == "vllm" or (backend == "auto" and vllm_available()):
        return VLLMGenerator(resolve_model_source(model_spec), dtype=dtype or "auto", seed=seed)
    loaded = load_model(model_spec, device=device, dtype=dtype)
    return HFGenerator(loaded.model, loaded.tokenizer, max_batch=max_batch)
