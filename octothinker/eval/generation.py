"""Text generation behind one small interface (`Generator.generate`), shared by evaluation, the probe
and RL rollouts.

`HFGenerator` (default) drives a Hugging Face model with our own batched decode loop, because
`model.generate` keeps every row of a batch to the end and re-encodes shared prompts: here prompts are
sorted by length and batched by a token budget; the prompts' shared prefix (few-shot exemplars) is
encoded once, and its keys and values are held once a batch and attended once for all rows
(`shared_prefix_attention`); the rest of each prompt is prefilled in groups of similar length; the n
samples of a prompt (an RL group) share its prefill; a finished row leaves the batch; stop strings are
searched only after tokens that can end one; sampling is seeded through a torch.Generator; on a CPU,
the large fp32 weight matrices are packed once for oneDNN (`PackedLinears`). `VLLMGenerator` is used
when vLLM is importable and a GPU is present (`make_generator`).
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch

MIN_SHARED_PREFIX = 16  # shorter shared prefixes are not worth a cache copy per batch
PREFILL_GROUP_SHARE = 0.8  # a prompt joins a prefill group while its length is at least this share of the
                           # group's longest: at most 20% of a group's prefill is padding


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
    token_ids: tuple[int, ...] = ()   # the response as generated (EOS included), what RL trains on


class Generator(Protocol):
    def generate(self, prompts: list[str], params: SamplingParams,
                 on_batch: Callable[[int], None] | None = None) -> list[list[Completion]]:
        """`n` completions for each prompt, in prompt order."""


def _preallocated_layer_class():
    from transformers.cache_utils import DynamicLayer

    class PreallocatedLayer(DynamicLayer):
        """A KV-cache layer that writes each token's keys and values into a buffer allocated once for the
        whole generation. transformers' DynamicLayer concatenates instead, copying the whole cache at every
        token (O(T^2)): on a CPU that was 30% of a decode step."""

        def __init__(self, capacity: int):
            super().__init__()
            self.capacity, self.length = capacity, 0
            self.shared: tuple[torch.Tensor, torch.Tensor] | None = None  # keys, values every row starts with
            self.shared_length = 0

        def share(self, keys: torch.Tensor, values: torch.Tensor) -> None:
            """Keys and values ([1, heads, tokens, dim]) every row of the batch starts with, held once: a
            decode step reads them once for all rows (`decode_attention`), not once a row."""
            self.shared, self.shared_length = (keys, values), keys.shape[-2]

        def lazy_initialization(self, key_states, value_states):
            self.device = key_states.device
            b, h, _, d = key_states.shape
            self._keys = key_states.new_empty(b, h, self.capacity, d)
            self._values = value_states.new_empty(b, h, self.capacity, value_states.shape[-1])
            self.is_initialized = True

        def _views(self):
            self.keys, self.values = self._keys[:, :, :self.length], self._values[:, :, :self.length]

        def update(self, key_states, value_states, *args, **kwargs):
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            end = self.length + key_states.shape[-2]
            if end > self._keys.shape[-2]:  # longer than planned: grow once, geometrically
                grown = max(end, 2 * self._keys.shape[-2])
                for name in ("_keys", "_values"):
                    old = getattr(self, name)
                    new = old.new_empty(old.shape[0], old.shape[1], grown, old.shape[3])
                    new[:, :, :self.length] = old[:, :, :self.length]
                    setattr(self, name, new)
            self._keys[:, :, self.length:end] = key_states
            self._values[:, :, self.length:end] = value_states
            self.length = end
            self._views()
            if self.shared is not None and key_states.shape[-2] > 1:  # a prefill attends with `sdpa`: all of it
                rows = self.keys.shape[0]
                return tuple(torch.cat([shared.expand(rows, -1, -1, -1), own], dim=2)
                             for shared, own in zip(self.shared, (self.keys, self.values)))
            return self.keys, self.values

        def get_seq_length(self) -> int:
            return self.shared_length + self.length

        def gather(self, parts: list[tuple[int, int, "PreallocatedLayer"]], rows: int, length: int) -> None:
            """Row groups prefilled apart (rows start:end of the batch, each group left-padded to its own
            width), placed in one buffer so that every row ends at `length`; a group's positions before
            its width are zeros, which the attention mask hides."""
            keys, values = parts[0][2].keys, parts[0][2].values
            self.lazy_initialization(keys.new_empty(rows, keys.shape[1], 0, keys.shape[3]),
                                     values.new_empty(rows, values.shape[1], 0, values.shape[3]))
            self._keys[:, :, :length].zero_()
            self._values[:, :, :length].zero_()
            for start, end, part in parts:
                self._keys[start:end, :, length - part.length:length] = part.keys
                self._values[start:end, :, length - part.length:length] = part.values
            self.length = length
            self._views()

        def _rows(self, pick) -> None:
            for name in ("_keys", "_values"):
                old = getattr(self, name)
                rows = pick(old[:, :, :self.length])
                new = old.new_empty(rows.shape[0], old.shape[1], old.shape[2], old.shape[3])
                new[:, :, :self.length] = rows
                setattr(self, name, new)
            self._views()

        def batch_repeat_interleave(self, repeats: int) -> None:
            if self.length:
                self._rows(lambda t: t.repeat_interleave(repeats, dim=0))

        def batch_select_indices(self, indices) -> None:
            if self.length:
                self._rows(lambda t: t[indices])

    return PreallocatedLayer


DECODE_ATTENTION = "octo_decode"
_DECODING: ContextVar = ContextVar("octo_decoding_cache", default=None)  # the cache `_decode` is filling


def decode_attention(module, query, key, value, attention_mask, dropout: float = 0.0, scaling: float | None = None,
                     **kwargs):
    """One query token (a decode step): attention as batched matrix products over the key/value groups,
    with the batch's shared prefix, when its cache holds one, read once for all rows
    (`shared_prefix_attention`). PyTorch's CPU flash kernel, which `sdpa` dispatches to, is built for
    long queries and takes 1.7-2x longer for a single one. Longer queries (prefill, training) go to `sdpa`
    unchanged."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if query.shape[2] != 1 or dropout or kwargs.get("output_attentions") or kwargs.get("softcap") is not None:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kwargs)
    batch, heads, _, dim = query.shape
    scale = scaling if scaling is not None else dim ** -0.5
    mask = attention_mask[..., -key.shape[-2]:] if attention_mask is not None else None
    cache = _DECODING.get()
    shared = getattr(cache.layers[module.layer_idx], "shared", None) if cache is not None else None
    if shared is not None:
        out = shared_prefix_attention(query, key, value, mask, *shared, scale)
    else:
        groups = key.shape[1]
        scores = _masked(torch.matmul(query.view(batch, groups, heads // groups, dim), key.transpose(-1, -2)) * scale,
                         mask)
        out = torch.matmul(torch.softmax(scores.float(), dim=-1).to(value.dtype), value)
    return out.reshape(batch, heads, 1, dim).transpose(1, 2).contiguous(), None


def _masked(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Scores with the mask applied: a boolean mask hides its False places, a float one is added."""
    if mask is None:
        return scores
    return scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask


def shared_prefix_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None,
                            shared_keys: torch.Tensor, shared_values: torch.Tensor, scale: float) -> torch.Tensor:
    """Attention of one query token a row ([batch, heads, 1, dim]) over a prefix every row shares
    (`shared_keys`/`shared_values`: [1, groups, prefix, dim]) followed by each row's own keys and values
    ([batch, groups, own, dim], `mask` over them). The prefix's scores are one matrix product a group for
    all rows at once, so its keys and values are read once a step, not once a row (as in Hydragen's or
    FlashInfer's cascade attention); the two parts' softmax are joined by their common maximum. Returns
    [batch, groups, heads // groups, dim]."""
    batch, heads, _, dim = query.shape
    groups = key.shape[1]
    per = heads // groups
    q = query.view(batch, groups, per, dim)
    # prefix scores [groups, batch * per, prefix]: every row's queries of a group against its keys
    prefix = torch.bmm(q.transpose(0, 1).reshape(groups, batch * per, dim), shared_keys[0].transpose(-1, -2))
    prefix = prefix.float() * scale
    own = _masked(torch.matmul(q, key.transpose(-1, -2)).float() * scale, mask)  # [batch, groups, per, own]

    def to_rows(t):  # [groups, batch * per] -> [batch, groups, per, 1]
        return t.view(groups, batch, per).transpose(0, 1).unsqueeze(-1)

    top = torch.maximum(to_rows(prefix.amax(-1)), own.amax(-1, keepdim=True))
    prefix = prefix.sub_(top.squeeze(-1).transpose(0, 1).reshape(groups, batch * per, 1)).exp_()
    own = own.sub_(top).exp_()
    total = to_rows(prefix.sum(-1)) + own.sum(-1, keepdim=True)
    out = torch.bmm(prefix.to(value.dtype), shared_values[0]).view(groups, batch, per, dim).transpose(0, 1)
    out = out + torch.matmul(own.to(value.dtype), value)
    return (out / total).to(value.dtype)


@contextmanager
def decode_attention_on(model):
    """`decode_attention` for the model's forward passes while generating, and the model's own
    implementation again after, so that a training policy's attention is never switched under it."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(DECODE_ATTENTION, decode_attention)
    AttentionMaskInterface.register(DECODE_ATTENTION, sdpa_mask)
    own = getattr(model.config, "_attn_implementation", None)
    switch = own == "sdpa" and model._can_set_attn_implementation()
    if switch:
        model.set_attn_implementation(DECODE_ATTENTION)
    try:
        yield
    finally:
        if switch:
            model.set_attn_implementation(own)


PACK_MIN_BYTES = 1 << 20  # smaller matrices stay in cache between calls: packing them costs more than it saves


def _packing_available(weight: torch.Tensor) -> bool:
    return (weight.device.type == "cpu" and weight.dtype == torch.float32 and torch.backends.mkldnn.is_available()
            and hasattr(torch.ops.mkldnn, "_reorder_linear_weight"))


class PackedLinears:
    """Linear layers that multiply by weights packed once, in oneDNN's blocked layout, for as long as the
    weights are unchanged (a weight's version counter moves with every in-place update: an optimizer
    step repacks it). `F.linear` in fp32 on a CPU goes to MKL, which repacks the weight matrix at every
    call: with a few rows a step, that packing is most of a decode step's matrix products (SmolLM2's
    MLP matrices at 32 rows: 570 us a call, 390 us packed). This is the packing `torch.compile` does
    with `freezing`, without its compilation and its recompiles as the batch and the cache change shape.
    Results agree with `F.linear` to rounding, not bit for bit (another order of summation). fp32 only:
    in bf16 oneDNN already serves `F.linear`, and packing measured slower."""

    def __init__(self, min_bytes: int = PACK_MIN_BYTES):
        self.min_bytes = min_bytes
        self._packed: dict[int, tuple[int, int, torch.Tensor]] = {}  # id(module) -> (version, data_ptr, packed)

    def _pack(self, module) -> torch.Tensor:
        w = module.weight
        key = (w._version, w.data_ptr())
        held = self._packed.get(id(module))
        if held is None or held[:2] != key:
            held = (*key, torch.ops.mkldnn._reorder_linear_weight(w.detach(), 32))
            self._packed[id(module)] = held
        return held[2]

    @contextmanager
    def on(self, model):
        """The model's large fp32 linear layers on packed weights, their own forward again after."""
        swapped = []
        for module in model.modules():
            if type(module) is torch.nn.Linear and module.weight.nbytes >= self.min_bytes \
                    and _packing_available(module.weight):
                module.forward = _packed_forward(self._pack(module), module.bias)
                swapped.append(module)
        try:
            yield len(swapped)
        finally:
            for module in swapped:
                del module.forward


def _packed_forward(packed: torch.Tensor, bias):
    def forward(x: torch.Tensor) -> torch.Tensor:
        y = torch.ops.mkldnn._linear_pointwise(x.reshape(-1, x.shape[-1]), packed, bias, "none", [], "")
        return y.view(*x.shape[:-1], y.shape[-1])
    return forward


def decode_cache(config, capacity: int):
    """A DynamicCache whose full-attention layers write into buffers of `capacity` tokens."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    layer = _preallocated_layer_class()
    cache = DynamicCache(config=config)
    cache.layers = [layer(capacity) if type(existing) is DynamicLayer else existing for existing in cache.layers]
    return cache


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class HFGenerator:
    def __init__(self, model, tokenizer, max_batch: int = 64, batch_tokens: int = 262_144,
                 pack_weights: bool = True, share_prefix: bool = True, prefill_by_length: bool = True):
        self.model = model
        self.packed = PackedLinears() if pack_weights else None
        self.share_prefix = share_prefix  # hold the prompts' shared prefix once (see `decode_attention`)
        self.prefill_by_length = prefill_by_length  # prefill rows in groups of similar length (`_prefill`)
        self.tokenizer = tokenizer
        self.max_batch = max_batch
        self.batch_tokens = batch_tokens  # prompt + new tokens, summed over a batch's sequences
        self._stop_enders: dict[tuple[str, ...], frozenset[int]] = {}
        self._token_texts: list[str] | None = None
        # transformers renamed the KV-cache argument (`past_key_values` -> `cache`); pass the one it takes.
        self.cache_kw = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    @property
    def pad_id(self) -> int:
        tok = self.tokenizer
        return tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id

    def stop_enders(self, stop: tuple[str, ...]) -> frozenset[int]:
        """Tokens that can complete a stop string: those whose text holds a stop string's last character
        (or part of a multi-byte character). Only after one of them is the response decoded and searched,
        instead of after every token of every row."""
        if stop not in self._stop_enders:
            if self._token_texts is None:  # decoded once: a vocabulary of 49k tokens takes 0.7 s
                self._token_texts = self.tokenizer.batch_decode([[i] for i in range(len(self.tokenizer))])
            last = {s[-1] for s in stop if s}
            self._stop_enders[stop] = frozenset(i for i, t in enumerate(self._token_texts)
                                                if "\ufffd" in t or last & set(t))
        return self._stop_enders[stop]

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

    def generate(self, prompts, params, on_batch=None):
        packed = self.packed.on(self.model) if self.packed is not None else nullcontext()
        with decode_attention_on(self.model), torch.inference_mode(), packed:
            return self._generate(prompts, params, on_batch)

    def _generate(self, prompts, params, on_batch=None):
        tok = self.tokenizer
        encoded = [tok(p, add_special_tokens=True)["input_ids"] for p in prompts]
        results: list[list[Completion]] = [[] for _ in prompts]
        device = next(self.model.parameters()).device
        # Few-shot prompts share their exemplars: encode that prefix once and start every batch from a
        # copy of its KV cache, so prefill costs only each question.
        prefix = self.shared_prefix(encoded)
        prefix_cache = None
        if prefix:
            from transformers import DynamicCache

            prefix_cache = DynamicCache(config=self.model.config)
            self.model(input_ids=torch.tensor([encoded[0][:prefix]], device=device), **{self.cache_kw: prefix_cache},
                       use_cache=True, logits_to_keep=1)
        generator = torch.Generator(device=device).manual_seed(params.seed)
        for batch in self._batches([len(e) for e in encoded], params):
            rows = [i for i in batch for _ in range(params.n)]
            outs = self._decode([encoded[i] for i in batch], prefix, prefix_cache, params, generator, device)
            for i, comp in zip(rows, outs):
                results[i].append(comp)
            if on_batch:
                on_batch(len(batch))
        return results

    def _decode(self, prompts: list[list[int]], prefix: int, prefix_cache, params: SamplingParams,
                generator: torch.Generator, device) -> list[Completion]:
        """Prefill each prompt once, then `params.n` rows per prompt (prompt-major), one token a step; a
        row that finished leaves the batch (and its KV cache)."""
        width = max(len(p) - prefix for p in prompts)
        ids = torch.full((len(prompts), prefix + width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), prefix + width), dtype=torch.long)
        for r, p in enumerate(prompts):
            # [shared prefix][padding][rest of the prompt]: every prompt ends where generation starts.
            ids[r, :prefix] = torch.tensor(p[:prefix], dtype=torch.long)
            mask[r, :prefix] = 1
            ids[r, prefix + width - (len(p) - prefix):] = torch.tensor(p[prefix:], dtype=torch.long)
            mask[r, prefix + width - (len(p) - prefix):] = 1
        ids, mask = ids.to(device), mask.to(device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = decode_cache(self.model.config, width + params.max_new_tokens + (0 if self.share_prefix else prefix))
        if prefix_cache is not None:
            # Every row starts from the shared prefix's keys and values: held once where every layer can
            # (`share`), else copied into each row (a model with other kinds of layer: grown once).
            if self.share_prefix and all(hasattr(layer, "share") for layer in cache.layers):
                for layer, held in zip(cache.layers, prefix_cache.layers):
                    layer.share(held.keys, held.values)
            else:
                for layer, held in zip(cache.layers, prefix_cache.layers):
                    layer.update(held.keys.expand(len(prompts), -1, -1, -1), held.values.expand(len(prompts), -1, -1, -1))
        logits = self._prefill(ids, mask, positions, prefix, [len(p) - prefix for p in prompts], cache)
        tok, pad_id = self.tokenizer, self.pad_id
        eos_ids = self.model.generation_config.eos_token_id
        eos_ids = set(eos_ids if isinstance(eos_ids, list) else [eos_ids]) | {tok.eos_token_id}
        # The n samples of a prompt (an RL group) share its prefill: copy its cache rather than recompute it.
        rows = len(prompts) * params.n
        if params.n > 1:
            cache.batch_repeat_interleave(params.n)
            logits, mask = logits.repeat_interleave(params.n, 0), mask.repeat_interleave(params.n, 0)
            positions = positions.repeat_interleave(params.n, 0)
        last_pos = positions[:, -1]
        alive = list(range(rows))  # batch row -> prompt row
        done = [False] * rows
        generated: list[list[int]] = [[] for _ in range(rows)]
        finish = ["length"] * rows
        stop_tail = 4 * max((len(s) for s in params.stop), default=0) + 8  # tokens to decode for stop checks
        enders = self.stop_enders(params.stop) if params.stop else frozenset()
        for step in range(params.max_new_tokens):
            next_tokens = sample_next(logits, params.temperature, params.top_p, generator).tolist()
            for j, r in enumerate(alive):
                if done[r]:
                    continue
                t = next_tokens[j]
                if t in eos_ids:
                    done[r], finish[r] = True, "eos"
                    continue
                generated[r].append(t)
                if t in enders and any(s in tok.decode(generated[r][-stop_tail:]) for s in params.stop):
                    done[r], finish[r] = True, "stop"
            finished = sum(done[r] for r in alive)
            if finished == len(alive) or step + 1 == params.max_new_tokens:
                break
            # Finished rows leave the batch, a few at a time: each removal copies the whole KV cache.
            if finished >= max(1, len(alive) // 4):
                keep = [j for j, r in enumerate(alive) if not done[r]]
                index = torch.tensor(keep, device=device)
                cache.batch_select_indices(index)
                mask, last_pos = mask[index], last_pos[index]
                next_tokens = [next_tokens[j] for j in keep]
                alive = [alive[j] for j in keep]
            feed = [pad_id if done[r] else t for r, t in zip(alive, next_tokens)]
            mask = torch.cat([mask, mask.new_ones((len(alive), 1))], dim=1)
            last_pos = last_pos + 1
            logits = self._forward(cache, input_ids=torch.tensor(feed, device=device).unsqueeze(1), attention_mask=mask,
                                   position_ids=last_pos.unsqueeze(1))
        return [self._completion(generated[r], finish[r], params) for r in range(rows)]

    def _forward(self, cache, **inputs) -> torch.Tensor:
        """The last position's logits of a forward pass that fills `cache` (which `decode_attention` reads
        the batch's shared prefix from)."""
        decoding = _DECODING.set(cache)
        try:
            return self.model(**inputs, use_cache=True, logits_to_keep=1, **{self.cache_kw: cache}).logits[:, -1]
        finally:
            _DECODING.reset(decoding)

    def _prefill(self, ids, mask, positions, prefix: int, lengths: list[int], cache) -> torch.Tensor:
        """The prompts' tokens after the shared prefix (`lengths` of them a row, longest first) into
        `cache`; the last position's logits. Rows are prefilled in groups of similar length, each padded
        only to its own longest (`PREFILL_GROUP_SHARE`), not all to the batch's longest: benchmark
        questions differ in length several times over, and padding was most of a prefill. Each group costs
        one more read of the weights, far less than the padding it saves."""
        width = ids.shape[1] - prefix
        if not self.prefill_by_length or not all(hasattr(layer, "gather") and layer.length == 0 for layer in cache.layers):
            return self._forward(cache, input_ids=ids[:, prefix:], attention_mask=mask, position_ids=positions[:, prefix:])
        groups, start = [], 0
        for i in range(1, len(lengths) + 1):
            if i == len(lengths) or lengths[i] < PREFILL_GROUP_SHARE * lengths[start]:
                groups.append((start, i, lengths[start]))
                start = i
        parts, logits = [], []
        for start, end, own in groups:
            cut = prefix + width - own
            part = decode_cache(self.model.config, own)
            for layer, main in zip(part.layers, cache.layers):
                if main.shared is not None:
                    layer.share(*main.shared)
            logits.append(self._forward(part, input_ids=ids[start:end, cut:], position_ids=positions[start:end, cut:],
                                        attention_mask=torch.cat([mask[start:end, :prefix], mask[start:end, cut:]], 1)))
            parts.append((start, end, part))
        for i, layer in enumerate(cache.layers):
            layer.gather([(start, end, part.layers[i]) for start, end, part in parts], len(lengths), width)
        return torch.cat(logits)

    def _completion(self, ids: list[int], finish: str, params: SamplingParams) -> Completion:
        decode = self.tokenizer.decode
        text, stopped = cut_at_stop(decode(ids, skip_special_tokens=True), params.stop)
        if stopped:
            # Keep the fewest tokens whose text still covers the cut response.
            k = len(ids)
            while k > 0 and len(decode(ids[:k - 1], skip_special_tokens=True)) >= len(text):
                k -= 1
            return Completion(text, k, "stop", tuple(ids[:k]))
        eos = (self.tokenizer.eos_token_id,) if finish == "eos" else ()
        return Completion(text, len(ids), finish, tuple(ids) + eos)


def sample_next(logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator) -> torch.Tensor:
    """Greedy when temperature is 0; else temperature and nucleus (top-p) sampling, by inverting the
    cumulative distribution at one uniform draw a row (torch.multinomial draws an exponential for every
    vocabulary entry: 13% of a CPU decode step)."""
    if temperature <= 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        outside = sorted_probs.cumsum(dim=-1) - sorted_probs > top_p  # keep the smallest set reaching top_p
        sorted_probs = sorted_probs.masked_fill(outside, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    cdf = probs.cumsum(dim=-1)
    draw = torch.rand(probs.shape[0], 1, generator=generator, device=probs.device) * cdf[:, -1:]
    return torch.searchsorted(cdf, draw, right=True).clamp_(max=probs.shape[-1] - 1).squeeze(-1)


class VLLMGenerator:
    """vLLM offline engine over a Hugging Face folder (what `models.save_model` writes)."""

    def __init__(self, model_path: str, dtype: str = "auto", seed: int = 0, gpu_memory_utilization: float = 0.85):
        from vllm import LLM

        self.llm = LLM(model=model_path, dtype=dtype, seed=seed, gpu_memory_utilization=gpu_memory_utilization)
        self.tokenizer = self.llm.get_tokenizer()  # what `template: chat` renders prompts with

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
                comps.append(Completion(o.text, len(o.token_ids), finish, tuple(o.token_ids)))
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
