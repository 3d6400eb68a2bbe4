"""Streaming readers: JSONL (plain, .gz, .zst), Parquet, and HF datasets (`hf:org/name[:config][:split]`).

A bad line (invalid JSON, not UTF-8, not an object) is named by file and line and either skipped and
counted, or fatal, per the recipe's `on_bad_line`.
"""

from __future__ import annotations

import glob
import gzip
import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from octothinker.errors import DataError


def expand_paths(spec: str) -> list[str]:
    if spec.startswith("hf:"):
        return [spec]
    matches = sorted(glob.glob(spec)) if any(ch in spec for ch in "*?[") else [spec]
    if not matches:
        raise DataError(f"{spec}: no files match")
    for m in matches:
        if not Path(m).is_file():
            raise DataError(f"{m}: source file not found")
    return matches


def _open_binary(path: str):
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    if path.endswith(".zst"):
        import zstandard

        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(open(path, "rb")))
    return open(path, "rb")


def _jsonl(path: str, on_bad_line: str, bad: Counter) -> Iterator[tuple[str, dict]]:
    with _open_binary(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            where = f"{path}:{lineno}"
            try:
                line = raw.decode("utf-8")
                if not line.strip():
                    continue
                rec = json.loads(line)
                if not isinstance(rec, dict):
                    raise ValueError("expected a JSON object")
            except (UnicodeDecodeError, ValueError) as err:
                reason = "not valid UTF-8" if isinstance(err, UnicodeDecodeError) else f"invalid JSON ({err})"
                if on_bad_line == "fail":
                    raise DataError(f"{where}: {reason}") from None
                bad[path] += 1
                continue
            yield where, rec


def jsonl_records(path) -> Iterator[tuple[str, dict]]:
    """(file:line, record) for one JSONL file (plain, .gz or .zst); a bad line is a DataError."""
    yield from _jsonl(str(path), "fail", Counter())


def _parquet(path: str) -> Iterator[tuple[str, dict]]:
    import pyarrow.parquet as pq

    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for rec in batch.to_pylist():
            row += 1
            yield f"{path}#row{row}", rec


def _hf(spec: str) -> Iterator[tuple[str, dict]]:
    from datasets import load_dataset

    from octothinker.models import is_online

    parts = spec[3:].split(":")
    name, config, split = parts[0], (parts[1] or None) if len(parts) > 1 else None, parts[2] if len(parts) > 2 else "train"
    if not is_online():
        raise DataError(f"{spec}: hub dataset requested but the hub is unreachable (offline)")
    for i, rec in enumerate(load_dataset(name, config, split=split, streaming=True)):
        yield f"{spec}#{i}", dict(rec)


def read_records(spec: str, on_bad_line: str = "skip", bad: Counter | None = None) -> Iterator[tuple[str, dict]]:
    """(where, record) for every record of every file `spec` names; bad lines counted in `bad`."""
    bad = bad if bad is not None else Counter()
    for path in expand_paths(spec):
        if path.startswith("hf:"):
            yield from _hf(path)
        elif path.endswith(".parquet"):
            yield from _parquet(path)
        else:
            yield from _jsonl(path, on_bad_line, bad)
