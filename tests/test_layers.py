"""The package reads bottom-up: a module imports only from its own layer and the layers below it."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "octothinker"

# layer -> the layers it may import (besides itself). `runs` (files, checkpoints, metrics) and `tasks`
# (benchmarks, extraction, grading, rewards) sit under every stage.
ALLOWED = {
    "errors": set(),
    "runs": {"errors"},
    "recipe": {"errors"},
    "stages": {"errors", "runs"},
    "models": {"errors", "runs"},
    "tasks": {"errors", "runs"},
    "data": {"errors", "runs", "recipe", "models", "tasks"},
    "eval": {"errors", "runs", "recipe", "models", "tasks"},
    "midtrain": {"errors", "runs", "recipe", "models", "data"},
    "rl": {"errors", "runs", "recipe", "models", "tasks", "eval"},
    "probe": {"errors", "runs", "models", "tasks", "eval"},
    "report": {"errors", "runs", "tasks", "eval"},
    "study": {"errors", "runs", "recipe", "stages", "models", "tasks", "data", "eval", "midtrain", "rl", "probe",
              "report"},
    "launch": {"errors", "runs", "recipe", "stages", "models", "data", "midtrain", "study"},
    "rehearse": {"errors", "runs", "recipe", "models", "tasks", "data", "rl", "study"},
    "cli": {"errors", "runs", "recipe", "models", "tasks", "data", "eval", "midtrain", "rl", "probe", "report",
            "study", "launch", "rehearse"},
}


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imported_layers(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):  # function-level imports count too
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "octothinker" and len(parts) > 1 and parts[1] in ALLOWED:
                found.add(parts[1])
    return found


def test_no_module_imports_a_higher_layer():
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = _layer(path)
        if layer == "__init__":
            continue
        assert layer in ALLOWED, f"{path}: a new layer; place it in ALLOWED"
        for imported in _imported_layers(path) - ALLOWED[layer] - {layer}:
            offences.append(f"{path.relative_to(PACKAGE)} imports octothinker.{imported}")
    assert not offences, "\n".join(offences)
