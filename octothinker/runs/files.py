"""Files every stage writes and reads: atomic writes, JSONL in both directions, writability checks.

    atomic_write_json(out / "summary.json", summary)      # readers never see half a file
    for where, rec in jsonl_records("problems.jsonl"):   # where = "problems.jsonl:12" for error messages
    rows = read_jsonl(out / "metrics.jsonl", repair=True) # a torn last line (kill, full disk) is dropped
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from octothinker.errors import DataError, OctoError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file. The file
    gets the permissions of any other file we write (mkstemp alone would leave it readable by us only)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | os.PathLike, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


# The key of a stage's summary.json that says what made it (the engine's `stamp_summary`).
PROVENANCE = "provenance"

# A name that starts so is a Hugging Face hub id (`hf:org/name`), not a path: the only way to the network.
HUB_PREFIX = "hf:"


def in_run(path: Path | str, run: Path | str) -> str:
    """`path` as a manifest records it: relative to the run folder when it lies inside it, so that a run
    folder can be moved or copied and still be read; otherwise absolute (or a hub id, as given)."""
    path = str(path)
    if not path or path.startswith(HUB_PREFIX):  # "": nothing recorded
        return path
    try:
        return Path(path).resolve().relative_to(Path(run).resolve()).as_posix()
    except ValueError:
        return str(Path(path).resolve())


def ensure_writable(folder: str | os.PathLike) -> Path:
    """Create `folder` and prove a file can be written in it, before any slow work (loading a model,
    generating) whose results would otherwise be lost."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".octo-write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OctoError(f"{folder}: output folder is not writable ({err.strerror or err})") from None
    return folder


class _ZstdFrames(io.RawIOBase):
    """A .zst file's frames, one after another. A file cut inside a frame, or damaged, is a DataError naming
    it: python-zstandard's stream reader ends quietly where a cut file ends, which would lose the rest
    without a word."""

    def __init__(self, path: str):
        import zstandard

        self._zstd, self._path, self._fh = zstandard, path, open(path, "rb")
        self._frame, self._pending, self._read_any = zstandard.ZstdDecompressor().decompressobj(), b"", False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            chunk = self._fh.read(1 << 16)
            if not chunk:
                if self._read_any and not self._frame.eof:
                    raise DataError(f"{self._path}: truncated zstd data (the file ends inside a frame)")
                return 0
            try:
                while chunk:
                    if self._frame.eof:  # the next frame of a file written in several
                        self._frame = self._zstd.ZstdDecompressor().decompressobj()
                    self._pending += self._frame.decompress(chunk)
                    self._read_any = True
                    chunk = self._frame.unused_data if self._frame.eof else b""
            except self._zstd.ZstdError as err:
                raise DataError(f"{self._path}: corrupt zstd data ({err})") from None
        n = min(len(buffer), len(self._pending))
        buffer[:n], self._pending = self._pending[:n], self._pending[n:]
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def _open_binary(path: str):
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    if path.endswith(".zst"):
        return io.BufferedReader(_ZstdFrames(path))
    return open(path, "rb")


def _lines(path: str) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of a file; a damaged or cut compressed file is a DataError naming it and the
    line it got to, never a bare library message."""
    lineno = 0
    with _open_binary(path) as fh:
        try:
            for raw in fh:
                lineno += 1
                yield lineno, raw
        except (OSError, EOFError, zlib.error) as err:
            raise DataError(f"{path}: corrupt or truncated after line {lineno} ({err})") from None


def jsonl_lines(path: str | os.PathLike, on_bad_line: str = "fail",
                bad: dict | None = None) -> Iterator[tuple[str, dict]]:
    """(file:line, record) for every object of a JSONL file (plain, .gz or .zst). A bad line (invalid
    JSON, not UTF-8, not an object) is a one-line DataError, or with on_bad_line="skip" counted in
    `bad[path]` and skipped."""
    path = str(path)
    if not Path(path).is_file():
        raise DataError(f"{path}: file not found")
    for lineno, raw in _lines(path):
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
            if bad is not None:
                bad[path] = bad.get(path, 0) + 1
            continue
        yield where, rec


def jsonl_records(path: str | os.PathLike) -> Iterator[tuple[str, dict]]:
    """(file:line, record) for a user's JSONL file; any bad line is a DataError naming file and line."""
    yield from jsonl_lines(path, "fail")


def read_jsonl(path: str | os.PathLike, repair: bool = False) -> list[dict]:
    """Rows a run appended itself (metrics, evaluation records). A torn last line (the process was
    killed, or the disk filled, mid-write) is dropped, and with `repair` cut from the file, so that a
    resumed run appends after whole rows. A bad line before the last one is a DataError."""
    path = Path(path)
    if not path.is_file():
        return []
    data = path.read_bytes()
    rows, pos, good = [], 0, 0
    while pos < len(data):
        newline = data.find(b"\n", pos)
        end = len(data) if newline < 0 else newline + 1
        raw = data[pos:end]
        if raw.strip():
            try:
                rows.append(json.loads(raw))
            except (json.JSONDecodeError, UnicodeDecodeError):
                if end == len(data):
                    break
                line = data.count(b"\n", 0, pos) + 1
                raise DataError(f"{path}:{line}: invalid JSON in a file this run wrote") from None
        good = pos = end
    if repair:
        if good < len(data):
            with path.open("r+b") as fh:
                fh.truncate(good)
        elif data and not data.endswith(b"\n"):  # a whole last row without its newline
            with path.open("ab") as fh:
                fh.write(b"\n")
    return rows


_FAULT_HITS: dict[str, int] = {}


def fault_point(name: str) -> None:
    """`bench/chaos.py`'s kill switch, at the moments a random kill seldom lands on (mid-swap, mid-
    checkpoint): with OCTO_FAULT=<name>:<n> set, the n-th time this process reaches the point `name` it
    kills itself with SIGKILL, as a power cut would (the failpoints of etcd and FoundationDB). Unset, it
    does nothing."""
    spec = os.environ.get("OCTO_FAULT", "")
    point, _, count = spec.partition(":")
    if point != name:
        return
    _FAULT_HITS[name] = _FAULT_HITS.get(name, 0) + 1
    if str(_FAULT_HITS[name]) == count:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def replace_dir(new: str | os.PathLike, final: str | os.PathLike) -> None:
    """Swap a completed folder in for `final`: the old one is moved aside first and removed only once
    the new one is in place, so a finished output is never deleted before its replacement is whole.
    A crash between the two renames leaves `<final>.old`, which `recover_dir` puts back."""
    import shutil

    new, final = Path(new), Path(final)
    old = final.with_name(final.name + ".old")
    if old.exists() and final.exists():
        shutil.rmtree(old)
    elif old.exists():
        old.rename(final)
    if final.exists():
        final.rename(old)
    fault_point("stage-swap")
    new.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def recover_dir(final: str | os.PathLike) -> None:
    """Undo a swap that a crash interrupted: `<final>.old` without `<final>` is put back."""
    final = Path(final)
    old = final.with_name(final.name + ".old")
    if old.exists() and not final.exists():
        old.rename(final)


def rewrite_jsonl(path: str | os.PathLike, rows: list[dict]) -> None:
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in rows))


def file_digest(path: str | os.PathLike) -> str:
    """sha256 of a file's contents (16 hex digits): the same data wherever it lies, other data under the
    same name told apart."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()[:16]
