import pytest

from octothinker.data.synthetic import WorldSize, generate_world

SMALL = WorldSize(problems=600, test=100, web=300, generic=300, instruct=100, seeds=150)


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("world")
    info = generate_world(out, SMALL, seed=0, tokenizer_vocab=512)
    return out, info
