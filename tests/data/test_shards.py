"""Packed shards, with known values: what the writer puts on disk (shards rolled at their budget, each
document's offsets, an index that adds up), which tokenizer made them, and the reader's edges: how many
sequences the tokens make, where an epoch wraps, and a resume that continues with the exact next batch.
Each rank's sequences cover the data exactly once per epoch, and nothing past its end."""

import hashlib
import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from octothinker.data.shards import (ShardReader, ShardWriter, check_tokenizer, read_index, token_dtype,
                                     tokenizer_hash)
from octothinker.errors import DataError


def shards(tmp_path, tokens: int, doc: int = 3, shard_tokens: int = 7, meta: dict | None = None):
    """Token i is i, so a sequence says where it came from; documents of `doc` tokens, and a shard rolls
    over once it holds `shard_tokens` (3 documents of 3 make shards of 9 tokens)."""
    writer = ShardWriter(tmp_path, np.uint32, shard_tokens)
    for lo in range(0, tokens, doc):
        writer.add(np.arange(lo, min(lo + doc, tokens), dtype=np.uint32))
    writer.close(meta or {})
    return tmp_path


class Vocabulary:
    """A tokenizer known only by its vocabulary (no fast backend)."""

    def __init__(self, vocab):
        self.vocab = vocab

    def get_vocab(self):
        return self.vocab


class Serialised:
    """A fast tokenizer: its backend serialises merges, normaliser and special tokens too."""

    def __init__(self, text):
        self.backend_tokenizer = type("Backend", (), {"to_str": lambda _: text})()

    def get_vocab(self):
        return {}


def test_the_writer_rolls_a_shard_once_it_reaches_its_budget_and_indexes_what_it_wrote(tmp_path):
    out = tmp_path / "not" / "yet"  # made with its parents
    writer = ShardWriter(out, np.uint16, shard_tokens=10)
    docs = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15], [16] * 7, [65535, 0]]
    for doc in docs:
        writer.add(np.array(doc))
    index = writer.close({"source": "x"})
    # 12 tokens pass the budget of 10 and 3 + 7 meet it exactly: both roll over; the last 2 close the build
    assert index == {"format": 1, "dtype": "uint16", "source": "x", "documents": 6, "tokens": 24, "shards": [
        {"file": "shard_00000.bin", "tokens": 12, "documents": 3},
        {"file": "shard_00001.bin", "tokens": 10, "documents": 2},
        {"file": "shard_00002.bin", "tokens": 2, "documents": 1}]}
    assert read_index(out) == index
    assert sorted(p.name for p in out.iterdir()) == [
        "index.json", "shard_00000.bin", "shard_00000.docs.npy", "shard_00001.bin", "shard_00001.docs.npy",
        "shard_00002.bin", "shard_00002.docs.npy"]
    offsets = [np.load(out / f"shard_0000{k}.docs.npy") for k in range(3)]
    assert [o.tolist() for o in offsets] == [[0, 4, 8, 12], [0, 3, 10], [0, 2]]
    assert all(o.dtype == np.int64 for o in offsets)
    tokens = np.concatenate([np.fromfile(out / f"shard_0000{k}.bin", dtype=np.uint16) for k in range(3)])
    assert tokens.tolist() == [t for doc in docs for t in doc]


def test_a_build_is_incomplete_until_its_index_is_written_again(tmp_path):
    data = shards(tmp_path, 21)
    ShardWriter(data, np.uint32)  # a rebuild starts: the old index no longer vouches for the shards
    with pytest.raises(DataError, match=r"index\.json: no shard index \(the data build did not finish"):
        read_index(data)
    with pytest.raises(DataError, match="no shard index"):
        ShardReader(data, seq_len=4)


def test_tokens_take_two_bytes_while_the_vocabulary_fits_them():
    assert token_dtype(65536) == np.uint16  # ids 0..65535
    assert token_dtype(65537) == np.uint32
    assert token_dtype(128_256) == np.uint32  # Llama-3's vocabulary


def test_a_tokenizer_is_known_by_its_full_serialisation_or_else_its_sorted_vocabulary():
    assert tokenizer_hash(Serialised("merges: é")) == hashlib.sha256("merges: é".encode()).hexdigest()
    assert tokenizer_hash(Serialised("a")) != tokenizer_hash(Serialised("b"))
    # without a fast backend the vocabulary decides, whatever order it is listed in
    expected = hashlib.sha256(json.dumps({"a": 0, "b": 1}).encode()).hexdigest()
    assert tokenizer_hash(Vocabulary({"b": 1, "a": 0})) == expected
    assert tokenizer_hash(Vocabulary({"a": 1, "b": 0})) != expected


def test_shards_refuse_a_tokenizer_other_than_the_one_that_made_them(tmp_path):
    made_with, other = Serialised("made with"), Serialised("other")
    index = {"tokenizer": {"hash": tokenizer_hash(made_with)}}
    check_tokenizer(index, made_with, "where")
    expected, actual = tokenizer_hash(made_with)[:12], tokenizer_hash(other)[:12]
    with pytest.raises(DataError, match=rf"^where: shards were made with another tokenizer \(hash {expected}, "
                                        rf"this model's is {actual}\); rebuild the data with this tokenizer$"):
        check_tokenizer(index, other, "where")
    with pytest.raises(DataError, match=r"\(hash None, "):  # shards that never recorded one
        check_tokenizer({}, made_with, "where")
    data = shards(tmp_path, 21, meta=index)
    ShardReader(data, seq_len=4, tokenizer=made_with)
    with pytest.raises(DataError, match=rf"^{data / 'index.json'}: shards were made with another tokenizer"):
        ShardReader(data, seq_len=4, tokenizer=other)


def test_sequences_are_the_tokens_in_order_with_one_target_past_each(tmp_path):
    reader = ShardReader(shards(tmp_path, 21), seq_len=4)
    assert [s["tokens"] for s in read_index(tmp_path)["shards"]] == [9, 9, 3]
    # 21 tokens make (21 - 1) // 4 = 5 sequences of 4 inputs: the last target of each is the next one's first
    assert reader.total_tokens == 21 and reader.num_sequences == 5
    assert [reader.sequence(i).tolist() for i in range(5)] == [list(range(4 * i, 4 * i + 5)) for i in range(5)]
    # 20 tokens make only 4: a fifth would need token 20 as its last target
    assert ShardReader(shards(tmp_path / "b", 20), seq_len=4).num_sequences == 4
    # a sequence wholly inside a later shard, and one across all three
    assert ShardReader(tmp_path, seq_len=2).sequence(5).tolist() == [10, 11, 12]
    assert ShardReader(tmp_path, seq_len=19).sequence(0).tolist() == list(range(20))


def test_a_batch_is_token_ids_as_int64_read_from_shards_it_cannot_change(tmp_path):
    reader = ShardReader(shards(tmp_path, 21), seq_len=4)
    batch = reader.next_batch(2)
    assert batch.dtype == torch.int64 and batch.tolist() == [[0, 1, 2, 3, 4], [4, 5, 6, 7, 8]]
    assert not any(shard.flags.writeable for shard in reader._shards)  # mapped read-only


def test_an_epoch_wraps_after_its_last_whole_batch_of_ranks_not_before(tmp_path):
    data = shards(tmp_path, 21)
    reader = ShardReader(data, seq_len=4)
    firsts = [int(reader.next_batch(1)[0, 0]) for _ in range(7)]
    assert firsts == [0, 4, 8, 12, 16, 0, 4] and reader.epoch == 1
    # two ranks: 5 sequences give each rank 2 an epoch (the fifth is dropped, so the ranks stay in step)
    ranks = [ShardReader(data, seq_len=4, rank=r, world_size=2) for r in (0, 1)]
    seen = [[int(reader.next_batch(1)[0, 0]) for _ in range(3)] for reader in ranks]
    assert seen == [[0, 8, 0], [4, 12, 4]] and all(r.epoch == 1 for r in ranks)


def test_a_resumed_reader_continues_with_the_exact_next_batch_across_an_epoch(tmp_path):
    data = shards(tmp_path, 21)
    reader = ShardReader(data, seq_len=4, rank=1, world_size=2)
    reader.next_batch(3)  # rank 1 reads 4, 12, then wraps to 4
    state = reader.state_dict()
    assert state == {"position": 2, "epoch": 1, "seq_len": 4, "world_size": 2}
    resumed = ShardReader(data, seq_len=4, rank=1, world_size=2)
    resumed.load_state_dict(json.loads(json.dumps(state)))  # as a checkpoint's state.json keeps it
    assert (resumed.position, resumed.epoch) == (2, 1)
    assert torch.equal(resumed.next_batch(3), reader.next_batch(3))
    with pytest.raises(DataError, match=r"checkpoint was read with sequences of 4, not 8"):
        ShardReader(data, seq_len=8).load_state_dict(state)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(tokens=st.integers(10, 200), seq_len=st.integers(1, 9), world=st.integers(1, 3),
       doc=st.integers(1, 8), shard_tokens=st.integers(1, 30))
def test_each_epoch_reads_every_whole_sequence_once_across_the_ranks(tmp_path_factory, tokens, seq_len, world,
                                                                    doc, shard_tokens):
    data = shards(tmp_path_factory.mktemp("shards"), tokens, doc, shard_tokens)
    if (tokens - 1) // seq_len < world:
        with pytest.raises(DataError, match="too few"):
            ShardReader(data, seq_len, 0, world)
        return
    readers = [ShardReader(data, seq_len, r, world) for r in range(world)]
    per_rank = readers[0].num_sequences // world
    rows = sorted(r.next_batch(1)[0].tolist() for _ in range(per_rank) for r in readers)
    # each once, whole, none past the end
    assert rows == [list(range(i * seq_len, i * seq_len + seq_len + 1)) for i in range(per_rank * world)]
    assert all(r.epoch == 0 for r in readers)
    assert [int(r.next_batch(1)[0, 0]) for r in readers] == [i * seq_len for i in range(world)]  # then wraps
    assert all(r.epoch == 1 for r in readers)
