import os
import sys
from pathlib import Path

import pytest

from octothinker.models import create_model, load_tokenizer, save_model
from octothinker.rl.verl import VERL_VERSION

from .verl_entry import install_bare

# `make install` puts verl's wheel here without its dependencies: verl pins an older transformers than ours.
VERL_DIR = Path(os.environ.get("OCTO_VERL_DIR", Path(__file__).resolve().parents[2] / ".verl"))


@pytest.fixture(scope="module")
def policy(world, tmp_path_factory):
    """A random micro model over the synthetic world's tokenizer."""
    world_dir, _ = world
    tok = load_tokenizer(world_dir / "tokenizer")
    return save_model(create_model("micro", tok, seed=0), tok, tmp_path_factory.mktemp("rl") / "policy")


@pytest.fixture(scope="session")
def verl_tree():
    """verl's source tree, importable module by module: its configuration, dataset class, reward loader and
    checkpoint manager and model merger, without Ray. `make test` requires it (OCTO_REQUIRE_VERL=1); a bare pytest skips."""
    root = VERL_DIR / "verl"
    if not (root / "trainer" / "config" / "ppo_trainer.yaml").is_file():
        message = f"verl {VERL_VERSION} is not installed apart in {VERL_DIR} (make install puts it there)"
        if os.environ.get("OCTO_REQUIRE_VERL"):
            pytest.fail(message)
        pytest.skip(message)
    assert (root / "version" / "version").read_text().strip() == VERL_VERSION
    saved = {name: module for name, module in sys.modules.items() if name == "verl" or name.startswith("verl.")}
    for name in saved:
        del sys.modules[name]
    install_bare(root)
    yield root
    for name in [n for n in sys.modules if n == "verl" or n.startswith("verl.")]:
        del sys.modules[name]
    sys.modules.update(saved)


CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@pytest.fixture(scope="module")
def chat_policy(policy, tmp_path_factory):
    """The micro policy with a chat template in its tokenizer, as an Instruct model has."""
    tok = load_tokenizer(policy)
    tok.chat_template = CHATML
    return save_model(create_model("micro", tok, seed=0), tok, tmp_path_factory.mktemp("rl") / "chat-policy")
