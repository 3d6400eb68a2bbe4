"""Reading built shards back document by document, to check what a build wrote."""

from pathlib import Path

import numpy as np

from octothinker.data.shards import read_index


def iter_documents(data_dir: str | Path):
    """Token arrays of every document, in shard order (EOS included)."""
    index = read_index(data_dir)
    for shard in index["shards"]:
        tokens = np.memmap(Path(data_dir) / shard["file"], dtype=index["dtype"], mode="r")
        offsets = np.load(Path(data_dir) / shard["file"].replace(".bin", ".docs.npy"))
        for lo, hi in zip(offsets[:-1], offsets[1:]):
            yield np.asarray(tokens[lo:hi])
