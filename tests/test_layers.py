"""The package reads bottom-up: a module imports only from its own layer and the layers below it, and no
two modules import each other, directly or around a circle."""

import ast
import re
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "octothinker"

# layer -> the layers it may import (besides itself). `runs` (files, checkpoints, metrics) and `tasks`
# (benchmarks, extraction, grading, rewards) sit under every stage.
ALLOWED = {
    "errors": set(),
    "runs": {"errors"},
    "recipe": {"errors"},
    "models": {"errors", "runs"},
    "tasks": {"errors", "runs"},
    "data": {"errors", "runs", "recipe", "models", "tasks"},
    "eval": {"errors", "runs", "recipe", "models", "tasks"},
    "midtrain": {"errors", "runs", "recipe", "models", "data"},
    "rl": {"errors", "runs", "recipe", "models", "tasks", "eval"},
    "probe": {"errors", "runs", "models", "tasks", "eval", "rl"},
    # where a study's folders lie: made by the study's plan, read by the report (so it sits below both)
    "study.layout": {"errors", "runs"},
    "report": {"errors", "runs", "tasks", "eval", "study.layout"},
    "study": {"errors", "runs", "recipe", "models", "tasks", "data", "eval", "midtrain", "rl", "probe",
              "report", "study.layout"},
    "launch": {"errors", "runs", "recipe", "models", "data", "midtrain", "study", "study.layout"},
    "rehearse": {"errors", "runs", "recipe", "models", "tasks", "data", "rl", "study", "study.layout"},
    "cli": {"errors", "runs", "recipe", "models", "tasks", "data", "eval", "midtrain", "rl", "probe", "report",
            "study", "study.layout", "launch", "rehearse"},
}


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    if rel.with_suffix("").as_posix() in ALLOWED:
        return rel.with_suffix("").as_posix().replace("/", ".")
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _module(path: Path) -> str:
    parts = ("octothinker",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[str]:
    """Every octothinker module `path` imports, at its top or inside a function."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return [n for n in names if n.startswith("octothinker.")]


def _imported_layers(path: Path) -> set[str]:
    found = set()
    for name in _imports(path):  # function-level imports count too
        parts = name.split(".")
        if ".".join(parts[1:3]) in ALLOWED:
            found.add(".".join(parts[1:3]))
        elif parts[1] in ALLOWED:
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


def test_no_import_circles():
    """A circle of imports (two modules each needing the other, however lazily) means neither can be read,
    tested or moved alone: the package has none."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    for module, path in modules.items():
        graph.add_node(module)
        graph.add_edges_from((module, name) for name in _imports(path) if name in modules and name != module)
    circles = [" -> ".join(c) for c in nx.simple_cycles(graph)]
    assert not circles, "\n".join(circles)


def test_the_check_finds_a_circle(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("from octothinker.b import x\n")
    (tmp_path / "b.py").write_text("def f():\n    from octothinker.a import y\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE", tmp_path)
    try:
        test_no_import_circles()
    except AssertionError as err:
        assert "octothinker.a -> octothinker.b" in str(err) or "octothinker.b -> octothinker.a" in str(err)
    else:
        raise AssertionError("a circle of two modules was not found")



# How a run's folders are named: joined (`root / "probe"`) or prefixed (`f"rl-{model}"`, `seed-`, `decay-`).
FOLDER_NAMES = re.compile(r'''/ "(?:world|data|base|stable|probe|eval|arms|report)"|"(?:decay|rl|seed)-|'''
                          r'''"manifest\.json"|\.glob\("(?:rl|decay)-''')
# Names that are not a study's folders: the engine's own manifest file (the layout reads its name from
# there), and where `octo eval` alone writes when told nowhere (runs/eval/<model>/<mode>).
NOT_A_STUDY_FOLDER = {"runs/engine.py": 'MANIFEST = "manifest.json"',
                      "eval/config.py": 'return Path("runs") / "eval" / slug / self.mode'}


def test_only_the_layout_names_a_runs_folders():
    found = [f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
             for path in sorted(PACKAGE.rglob("*.py")) if path.relative_to(PACKAGE).as_posix() != "study/layout.py"
             for n, line in enumerate(path.read_text().splitlines(), 1) if FOLDER_NAMES.search(line)
             and NOT_A_STUDY_FOLDER.get(path.relative_to(PACKAGE).as_posix()) != line.strip()]
    assert not found, "\n".join(found)
    layout = (PACKAGE / "study" / "layout.py").read_text()
    assert FOLDER_NAMES.search(layout)  # the pattern still matches how the layout names them
