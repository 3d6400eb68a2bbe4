"""What holds for every script in bench/: it has a smoke test here, and no import of ours in it can be
excused as a missing package (the imports of ours fail loudly; "not installed" is said of a peer only)."""

import ast
from pathlib import Path

import pytest

from .runner import BENCH, SCRIPTS

HERE = Path(__file__).resolve().parent
PYTHON_SCRIPTS = [s for s in SCRIPTS if s.endswith(".py")]


def test_every_bench_script_has_a_smoke_test():
    tests = "\n".join(p.read_text() for p in HERE.glob("test_*.py") if p.name != Path(__file__).name)
    assert len(SCRIPTS) >= 13
    missing = [s for s in SCRIPTS if f'"{s}"' not in tests and f"bench/{s}" not in tests]
    assert not missing, f"bench/ scripts without a smoke test in tests/bench/: {missing}"


def _excuses_import_errors(handler: ast.ExceptHandler) -> bool:
    names = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
    caught = handler.type
    if caught is None:
        return True
    elts = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return any(isinstance(e, ast.Name) and e.id in names or isinstance(e, ast.Attribute) and e.attr in names
               for e in elts)


@pytest.mark.parametrize("script", PYTHON_SCRIPTS)
def test_no_import_of_ours_sits_where_an_import_error_is_caught(script):
    tree = ast.parse((BENCH / script).read_text())
    excused = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_excuses_import_errors(h) for h in node.handlers):
            for inner in (n for stmt in node.body for n in ast.walk(stmt)):
                if isinstance(inner, ast.ImportFrom) and (inner.module or "").split(".")[0] == "octothinker":
                    excused.append(f"line {inner.lineno}: from {inner.module} import ...")
                if isinstance(inner, ast.Import) and any(a.name.split(".")[0] == "octothinker" for a in inner.names):
                    excused.append(f"line {inner.lineno}: import {', '.join(a.name for a in inner.names)}")
    assert not excused, (f"bench/{script} imports ours inside a try that catches ImportError, where a renamed "
                         f"function of ours would pass for a missing package: {excused}")
