"""Packed token shards: flat `.bin` arrays (uint16 when the vocabulary fits, else uint32), an EOS after
every document, per-shard document offsets (`.docs.npy`) and an `index.json` written last.

    reader = ShardReader("runs/demo/data/stable", seq_len=512, rank=0, world_size=1, tokenizer=tok)
    batch = reader.next_batch(8)         # LongTensor [8, 513]: inputs are [:, :-1], targets [:, 1:]
    state = reader.state_dict()          # saved in checkpoints; load_state_dict() resumes exactly

Every file is written under a temporary name and renamed when complete, and `index.json` (the marker
of a complete build) comes last, so a killed build never leaves shards that look complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from octothinker.errors import DataError
from octothinker.runs import atomic_write_json

INDEX = "index.json"


def tokenizer_hash(tokenizer) -> str:
    """sha256 of the tokenizer's full serialisation (vocabulary, merges, normaliser, special tokens)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    payload = backend.to_str() if backend is not None else json.dumps(tokenizer.get_vocab(), sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def token_dtype(vocab_size: int):
    return np.uint16 if vocab_size <= np.iinfo(np.uint16).max + 1 else np.uint32


def _save_array(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        if path.suffix == ".npy":
            np.save(fh, array)
        else:
            array.tofile(fh)
    os.replace(tmp, path)


class ShardWriter:
    """Append documents (token lists ending in EOS); shards roll over at `shard_tokens`."""

    def __init__(self, out_dir: str | Path, dtype, shard_tokens: int = 50_000_000):
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / INDEX).unlink(missing_ok=True)  # the build is incomplete until index.json returns
        self.dtype, self.shard_tokens = dtype, shard_tokens
        self.shards: list[dict] = []
        self._buf: list[np.ndarray] = []
        self._offsets: list[int] = [0]

    def add(self, tokens: np.ndarray) -> None:
        self._buf.append(tokens.astype(self.dtype, copy=False))
        self._offsets.append(self._offsets[-1] + len(tokens))
        if self._offsets[-1] >= self.shard_tokens:
            self._flush()

    def _flush(self) -> None:
        if not self._buf:
            return
        name = f"shard_{len(self.shards):05d}"
        _save_array(self.out / f"{name}.bin", np.concatenate(self._buf))
        _save_array(self.out / f"{name}.docs.npy", np.asarray(self._offsets, dtype=np.int64))
        self.shards.append({"file": f"{name}.bin", "tokens": self._offsets[-1], "documents": len(self._buf)})
        self._buf, self._offsets = [], [0]

    def close(self, meta: dict) -> dict:
        self._flush()
        index = {"format": 1, "dtype": np.dtype(self.dtype).name, "shards": self.shards,
                 "documents": sum(s["documents"] for s in self.shards),
                 "tokens": sum(s["tokens"] for s in self.shards), **meta}
        atomic_write_json(self.out / INDEX, index)
        return index


def read_index(data_dir: str | Path) -> dict:
    path = Path(data_dir) / INDEX
    if not path.is_file():
        raise DataError(f"{path}: no shard index (the data build did not finish, or this is not a shard folder)")
    return json.loads(path.read_text())


def check_tokenizer(index: dict, tokenizer, where: str) -> None:
    expected = index.get("tokenizer", {}).get("hash")
    actual = tokenizer_hash(tokenizer)
    if expected != actual:
        raise DataError(f"{where}: shards were made with another tokenizer (hash {str(expected)[:12]}, "
                        f"this model's is {actual[:12]}); rebuild the data with this tokenizer")


class ShardReader:
    """Fixed-length sequences over the concatenated shards; rank r of W takes sequences r, r+W, ...

    The position (sequences consumed by every rank together) and the epoch are the whole state, so a
    restart continues with the exact next batch.
    """

    def __init__(self, data_dir: str | Path, seq_len: int, rank: int = 0, world_size: int = 1, tokenizer=None):
        self.dir = Path(data_dir)
        index = read_index(self.dir)
        if tokenizer is not None:
            check_tokenizer(index, tokenizer, str(self.dir / INDEX))
        self.seq_len, self.rank, self.world_size = seq_len, rank, world_size
        self._shards = [np.memmap(self.dir / s["file"], dtype=index["dtype"], mode="r") for s in index["shards"]]
        self._starts = np.cumsum([0] + [len(s) for s in self._shards])
        self.total_tokens = int(self._starts[-1])
        self.num_sequences = (self.total_tokens - 1) // seq_len
        if self.num_sequences < world_size:
            raise DataError(f"{self.dir}: {self.total_tokens} tokens are too few for sequences of {seq_len} "
                            f"on {world_size} ranks")
        self.position = 0  # global sequence counter, advanced by world_size per sequence a rank reads
        self.epoch = 0

    def _tokens(self, lo: int, hi: int) -> np.ndarray:
        parts = []
        for k, shard in enumerate(self._shards):
            s, e = self._starts[k], self._starts[k + 1]
            if hi <= s or lo >= e:
                continue
            parts.append(np.asarray(shard[max(lo, s) - s:min(hi, e) - s]))
        return np.concatenate(parts)

    def sequence(self, i: int) -> np.ndarray:
        """Sequence i: seq_len + 1 tokens (the last one is only a target)."""
        return self._tokens(i * self.seq_len, i * self.seq_len + self.seq_len + 1)

    def next_batch(self, batch_size: int) -> torch.Tensor:
        rows = []
        for _ in range(batch_size):
            per_epoch = self.num_sequences - self.num_sequences % self.world_size
            if self.position + self.world_size > per_epoch:
                self.position, self.epoch = 0, self.epoch + 1
            rows.append(self.sequence(self.position + self.rank).astype(np.int64))
            self.position += self.world_size
        return torch.from_numpy(np.stack(rows))

    def state_dict(self) -> dict:
        return {"position": self.position, "epoch": self.epoch, "seq_len": self.seq_len, "world_size": self.world_size}

    def load_state_dict(self, state: dict) -> None:
        if state["seq_len"] != self.seq_len:
            raise DataError(f"{self.dir}: checkpoint was read with sequences of {state['seq_len']}, not {self.seq_len}")
        self.position, self.epoch = state["position"], state["epoch"]
