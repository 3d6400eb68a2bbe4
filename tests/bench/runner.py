"""Running a bench/ script as its user does: a fresh process of this interpreter, in a folder of the
test's own, with a time limit. Optionally with a package blocked (as if it were not installed) or an
import of ours failing (as if its name had been changed), to check what the script says then."""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
SCRIPTS = sorted(p.name for p in BENCH.iterdir() if p.suffix in (".py", ".sh"))

# Run in the child before the script: `blocked` packages fail to import and importlib.util.find_spec
# answers None for them, as for a package that is not installed; for each (module, name) of `broken`, the
# script's own `from module import name` fails as it would after a rename (the package itself, which may
# import the same name, is left whole).
_WRAPPER = r"""
import builtins, json, os, runpy, sys
blocked, broken, script = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
for package in blocked:
    sys.modules[package] = None
_import = builtins.__import__

def _import_of_the_script(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and (globals or {}).get("__name__") == "__main__":
        for module, attr in broken:
            if name == module and attr in (fromlist or ()):
                raise ImportError(f"cannot import name {attr!r} from {module!r} (renamed, for a test)", name=module)
    return _import(name, globals, locals, fromlist, level)

builtins.__import__ = _import_of_the_script
sys.argv = sys.argv[3:]
sys.path[0] = os.path.dirname(script)  # as `python script.py` has it
runpy.run_path(script, run_name="__main__")
"""


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    cwd: Path  # where it ran: its files

    def explain(self) -> str:
        return (f"exit {self.returncode}\n--- stdout (end) ---\n{self.stdout[-3000:]}\n"
                f"--- stderr (end) ---\n{self.stderr[-3000:]}")


def run(script: str, *args: str, cwd: Path, timeout: float = 240, env: dict | None = None,
        blocked: tuple[str, ...] = (), broken: tuple[tuple[str, str], ...] = (),
        script_path: Path | None = None) -> Result:
    """bench/`script` (or a copy of it at `script_path`) with `args` (a .sh with bash), its temporary files
    under `cwd`. On a time-out its whole process group is killed (the scripts that time children start
    them) and the test fails."""
    path = script_path or BENCH / script
    if script.endswith(".sh"):
        command = ["bash", str(path), *args]
    elif blocked or broken:
        command = [sys.executable, "-c", _WRAPPER, json.dumps(list(blocked)), json.dumps([list(b) for b in broken]),
                   str(path), *args]
    else:
        command = [sys.executable, str(path), *args]
    env = {**os.environ, "TMPDIR": str(cwd), "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    _LIVE.add(proc)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        stdout, stderr = proc.communicate()
        raise AssertionError(f"bench/{script} {' '.join(args)} ran past {timeout} s\n"
                             + Result(-9, stdout, stderr, cwd).explain()) from None
    finally:
        _LIVE.discard(proc)
    return Result(proc.returncode, stdout, stderr, cwd)


_LIVE: set[subprocess.Popen] = set()  # the runs going on now (a module's Runs ends its leftovers)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the script and the children it started
    except ProcessLookupError:
        pass


class Runs:
    """A test module's runs, started together when its first test asks (two at a time: the scripts are
    mostly a fresh interpreter importing torch, one core's work), each test then waiting for its own.
    `jobs`: test name -> (script, args, options of `run`); only the jobs of the tests selected are started,
    and none outlives the module."""

    def __init__(self, request, tmp_path_factory, jobs: dict[str, tuple]):
        selected = {getattr(item, "originalname", item.name) for item in request.session.items
                    if getattr(item, "module", None) is request.module}
        self._pool = ThreadPoolExecutor(max_workers=2)
        self._futures = {}
        for name, (script, args, options) in jobs.items():
            if name in selected:
                cwd = tmp_path_factory.mktemp(name[:40])
                self._futures[name] = self._pool.submit(run, script, *args, cwd=cwd, **options)

    def result(self, name: str) -> Result:
        return self._futures[name].result()

    def close(self) -> None:
        """No run outlives its module: those not started are dropped, those going on (a test skipped or
        interrupted) are killed."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in list(_LIVE):
            _kill(proc)
        self._pool.shutdown(wait=True)


def line(text: str, pattern: str) -> re.Match:
    """The one line of `text` that `pattern` matches from its start (to its end)."""
    found = [m for m in (re.fullmatch(pattern, x.rstrip()) for x in text.splitlines()) if m]
    assert len(found) == 1, f"{len(found)} lines match {pattern!r} in:\n{text[-3000:]}"
    return found[0]


def ratio_within_rounding(ratio: float, top: float, bottom: float, half_unit_top: float, half_unit_bottom: float,
                          ratio_half_unit: float = 0.005) -> bool:
    """Is a printed `ratio` top/bottom, given that each was printed rounded (to +- its half unit)?"""
    low = (top - half_unit_top) / (bottom + half_unit_bottom)
    high = (top + half_unit_top) / (bottom - half_unit_bottom) if bottom > half_unit_bottom else float("inf")
    return low - ratio_half_unit <= ratio <= high + ratio_half_unit


def imports_of_ours(script: str, top_level_only: bool = False) -> list[tuple[str, str]]:
    """(module, name) of every `from octothinker... import name` in bench/`script`, in source order."""
    tree = ast.parse((BENCH / script).read_text())
    nodes = tree.body if top_level_only else sorted((n for n in ast.walk(tree) if hasattr(n, "lineno")),
                                                    key=lambda n: (n.lineno, n.col_offset))
    return [(node.module, alias.name) for node in nodes
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "octothinker"
            for alias in node.names]
