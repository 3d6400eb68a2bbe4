"""Streaming readers: JSONL (plain, .gz, .zst), Parquet, and HF datasets (`hf:org/name[:config][:split]`).

A bad line (invalid JSON, not UTF-8, not an object) is named by file and line and either skipped and
counted, or fatal, per the recipe's `on_bad_line`. `hf:` sources are the only ones that reach the
network, and they need the hub extra (`pip install -e ".[hub]"`).
"""

from __future__ import annotations

import glob
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from octothinker.errors import DataError
from octothinker.models import HUB_PREFIX, hub_offline
from octothinker.runs.files import jsonl_lines


def expand_paths(spec: str) -> list[str]:
    if spec.startswith(HUB_PREFIX):
        return [spec]
    matches = sorted(glob.glob(spec)) if any(ch in spec for ch in "*?[") else [spec]
    if not matches:
        raise DataError(f"{spec}: no files match")
    for m in matches:
        if not Path(m).is_file():
            raise DataError(f"{m}: source file not found")
    return matches


def _parquet(path: str) -> Iterator[tuple[str, dict]]:
    import pyarrow
    import pyarrow.parquet as pq

    try:
        batches = pq.ParquetFile(path).iter_batches(batch_size=1024)
    except (pyarrow.ArrowException, OSError) as err:
        raise DataError(f"{path}: not a readable Parquet file ({str(err).splitlines()[0][:200]})") from None
    row = 0
    try:
        for batch in batches:
            for rec in batch.to_pylist():
                row += 1
                yield f"{path}#row{row}", rec
    # a file damaged past its footer fails only when read: in the decoder, or as text that is not UTF-8
    except (pyarrow.ArrowException, OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: corrupt Parquet data after row {row} "
                        f"({str(err).splitlines()[0][:200]})") from None


def _hf(spec: str) -> Iterator[tuple[str, dict]]:
    try:
        from datasets import load_dataset
    except ImportError:
        raise DataError(f"{spec}: hub datasets need the hub extra: pip install -e \".[hub]\"") from None
    parts = spec[len(HUB_PREFIX):].split(":")
    name, config, split = parts[0], (parts[1] or None) if len(parts) > 1 else None, parts[2] if len(parts) > 2 else "train"
    if hub_offline():
        raise DataError(f"{spec}: a hub dataset was asked for, but HF_HUB_OFFLINE is set")
    for i, rec in enumerate(load_dataset(name, config, split=split, streaming=True)):
        yield f"{spec}#{i}", dict(rec)


def read_records(spec: str, on_bad_line: str = "skip", bad: Counter | None = None) -> Iterator[tuple[str, dict]]:
    """(where, record) for every record of every file `spec` names; bad lines counted in `bad`."""
    bad = bad if bad is not None else Counter()
    for path in expand_paths(spec):
        if path.startswith(HUB_PREFIX):
            yield from _hf(path)
        elif path.endswith(".parquet"):
            yield from _parquet(path)
        else:
            yield from jsonl_lines(path, on_bad_line, bad)
