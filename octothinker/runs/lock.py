"""One writer per output folder: every command that writes a folder holds an exclusive lock on it.

    with folder_lock(out):                 # a second `octo eval --out out` fails at once, naming this one
        ...
    with folder_lock(run, shared=True):    # `octo run --stage`: parallel jobs of one study share the run
        ...                                # folder, and a whole `octo run` on it waits for none of them

The lock is an OS file lock (`flock`) on `<folder>/.octo-lock`: the kernel drops it when its process
exits, however it exits, so a killed run never leaves a stale lock behind. The file names its holder
(pid, host, command) for the message a second writer gets.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from octothinker.errors import OctoError

LOCK_FILE = ".octo-lock"


class FolderBusy(OctoError):
    """Another process is writing the folder."""


def _holder_line() -> str:
    command = shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])
    return f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%H:%M:%S')} ({command})"


def _is_rank_zero() -> bool:
    """Under torchrun every rank runs the same command: only the first takes the lock."""
    return os.environ.get("RANK", "0") == "0" and os.environ.get("LOCAL_RANK", "0") == "0"


@contextmanager
def folder_lock(folder: str | os.PathLike, shared: bool = False, name: str = "") -> Iterator[Path]:
    """Hold `folder` (created if missing) for the duration of the block, or fail with FolderBusy naming
    the process that holds it. Shared holders exclude exclusive ones, not each other. A `name` locks one
    part of the folder (a stage of a run) apart from the whole."""
    folder = Path(folder)
    if not _is_rank_zero():
        yield folder
        return
    made = [f for f in [folder, *folder.parents] if not f.exists()]  # what to take away if nothing is written
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fh = open(folder / (f"{LOCK_FILE}-{name}" if name else LOCK_FILE), "a+", encoding="utf-8")
    except OSError as err:
        raise OctoError(f"{folder}: output folder is not writable ({err.strerror or err})") from None
    try:
        try:
            fcntl.flock(fh, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip().splitlines()
            raise FolderBusy(f"{folder}{' (' + name + ')' if name else ''}: in use by another octo process ({holder[-1] if holder else 'unknown'}); "
                             "wait for it to finish or choose another output folder") from None
        if shared:  # several holders: each adds its line
            fh.write(_holder_line() + "\n")
        else:
            fh.seek(0)
            fh.truncate()
            fh.write(_holder_line() + "\n")
        fh.flush()
        yield folder
    finally:
        fh.close()
        _remove_if_unused(made)


def _remove_if_unused(made: list[Path]) -> None:
    """The command ended before writing anything (a bad option, a failed load): the folders it made for
    its output go again, so no empty output folder is left behind."""
    if not made:
        return
    try:
        if any(not p.name.startswith(LOCK_FILE) for p in made[0].iterdir()):
            return
        for lock in made[0].iterdir():
            lock.unlink(missing_ok=True)
        for folder in made:
            folder.rmdir()
    except OSError:  # written meanwhile, or already moved: leave it
        pass
