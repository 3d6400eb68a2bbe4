import json
import os
from pathlib import Path

import pytest

from octothinker.data.synthetic import WorldSize, generate_world


def pytest_collection_modifyitems(config, items):
    import torch

    run_slow = os.environ.get("OCTO_SLOW") == "1"
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(pytest.mark.skip(reason="slow test: set OCTO_SLOW=1 to run"))
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(pytest.mark.skip(reason="needs a CUDA device"))


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path_factory):
    # Tests never reach the hub, and never write to the user's cache.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("OCTO_CACHE", str(tmp_path_factory.getbasetemp() / "octo-cache"))


@pytest.fixture(scope="session")
def benchmarks_dir(tmp_path_factory) -> Path:
    """Every registry benchmark's test file, 40 problems each, written in that benchmark's own fields."""
    from octothinker.data.published import write_benchmarks

    return write_benchmarks(tmp_path_factory.mktemp("benchmarks"), problems=40, seed=0)


@pytest.fixture(scope="session")
def micro_model_dir(tmp_path_factory, benchmarks_dir) -> Path:
    """A micro Llama with a tokenizer trained on GSM8K questions, saved as an HF folder."""
    from octothinker.models import create_tiny, save_model

    texts = [json.loads(line)["question"] for line in open(benchmarks_dir / "gsm8k" / "test.jsonl")]
    model, tokenizer = create_tiny("micro", texts, vocab_size=400, seed=0)
    return save_model(model, tokenizer, tmp_path_factory.mktemp("micro") / "model")


SMALL_WORLD = WorldSize(problems=600, test=100, web=300, generic=300, instruct=100, seeds=150, vocab_size=512)


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """A small synthetic math world (with its tokenizer), generated once per test session."""
    out = tmp_path_factory.mktemp("world")
    info = generate_world(out, SMALL_WORLD, seed=0)
    return out, info


@pytest.fixture(scope="session")
def release_copy(tmp_path_factory) -> Path:
    """A stand-in checkout of GAIR-NLP/OctoThinker in the release's shapes, with text of our own."""
    from tests.tasks.test_release import make_release

    return make_release(tmp_path_factory.mktemp("release") / "OctoThinker")
