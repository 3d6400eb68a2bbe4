"""The shard reader's edges, with known values: how many sequences the tokens make, and where an epoch
wraps. Each rank's sequences cover the data exactly once per epoch, and nothing past its end."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from octothinker.data.shards import ShardReader, ShardWriter


def shards(tmp_path, tokens: int, shard_tokens: int = 7) -> ShardReader:
    writer = ShardWriter(tmp_path, np.uint32, shard_tokens)
    writer.add(np.arange(tokens, dtype=np.uint32))  # token i is i: a sequence says where it came from
    writer.close({})
    return tmp_path


def test_sequences_are_the_tokens_in_order_with_one_target_past_each(tmp_path):
    reader = ShardReader(shards(tmp_path, 21), seq_len=4)
    # 21 tokens make (21 - 1) // 4 = 5 sequences of 4 inputs: the last target of each is the next one's first
    assert reader.num_sequences == 5
    assert reader.sequence(0).tolist() == [0, 1, 2, 3, 4]
    assert reader.sequence(4).tolist() == [16, 17, 18, 19, 20]  # across the shards of 7 tokens
    # 20 tokens make only 4: a fifth would need token 20 as its last target
    assert ShardReader(shards(tmp_path / "b", 20), seq_len=4).num_sequences == 4


def test_an_epoch_wraps_after_its_last_whole_batch_of_ranks_not_before(tmp_path):
    data = shards(tmp_path, 21)
    reader = ShardReader(data, seq_len=4)
    firsts = [int(reader.next_batch(1)[0, 0]) for _ in range(7)]
    assert firsts == [0, 4, 8, 12, 16, 0, 4] and reader.epoch == 1
    # two ranks: 5 sequences give each rank 2 an epoch (the fifth is dropped, so the ranks stay in step)
    ranks = [ShardReader(data, seq_len=4, rank=r, world_size=2) for r in (0, 1)]
    seen = [[int(reader.next_batch(1)[0, 0]) for _ in range(3)] for reader in ranks]
    assert seen == [[0, 8, 0], [4, 12, 4]] and all(r.epoch == 1 for r in ranks)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(tokens=st.integers(10, 200), seq_len=st.integers(1, 9), world=st.integers(1, 3))
def test_each_epoch_reads_every_whole_sequence_once_across_the_ranks(tmp_path_factory, tokens, seq_len, world):
    data = shards(tmp_path_factory.mktemp("shards"), tokens)
    if (tokens - 1) // seq_len < world:
        with pytest.raises(Exception, match="too few"):
            ShardReader(data, seq_len, 0, world)
        return
    readers = [ShardReader(data, seq_len, r, world) for r in range(world)]
    per_rank = readers[0].num_sequences // world
    starts = sorted(int(r.next_batch(1)[0, 0]) for _ in range(per_rank) for r in readers)
    assert starts == [i * seq_len for i in range(per_rank * world)]  # each once, none past the end
    assert all(r.epoch == 0 for r in readers)
    assert [int(r.next_batch(1)[0, 0]) for r in readers] == [i * seq_len for i in range(world)]  # then wraps
    assert all(r.epoch == 1 for r in readers)
