import pytest

from octothinker.models import create_model, load_tokenizer, save_model


@pytest.fixture(scope="module")
def policy(world, tmp_path_factory):
    """A random micro model over the synthetic world's tokenizer."""
    world_dir, _ = world
    tok = load_tokenizer(world_dir / "tokenizer")
    return save_model(create_model("micro", tok, seed=0), tok, tmp_path_factory.mktemp("rl") / "policy")
