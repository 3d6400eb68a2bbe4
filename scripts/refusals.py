"""Every refusal the package can give a user, read from its source: each `raise` of one of our errors (an
OctoError, which the CLI shows as one line, exit 1), each recipe check (a ValueError in a config's
validator, shown as `FILE: key: message`) and each usage error of the CLI (`fail`, `refuse_conflicts`),
with its message as a template (`{path}` where the message names a value). The README's "What can go
wrong" section holds the list as this prints it (block `refusals`), so that it names every one:

    .venv/bin/python scripts/refusals.py > /tmp/refusals.md
    .venv/bin/python scripts/paste_results.py /tmp/refusals.md README.md --block refusals
    .venv/bin/python scripts/refusals.py --check README.md      (a test runs this: the list is current)
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "octothinker"
VALIDATORS = {"field_validator", "model_validator"}


def template(node: ast.expr) -> str | None:
    """A message's text with each value it names as `{name}` (`{…}` for an expression)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                inner = value.value
                name = ast.unparse(inner) if isinstance(inner, (ast.Name, ast.Attribute, ast.Subscript)) else "…"
                parts.append("{" + (name if len(name) <= 24 else "…") + "}")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = template(node.left), template(node.right)
        return left + right if left is not None and right is not None else (left or "") + (right or "{…}")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return template(node.func.value)
    return None


def _error_name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _in_validator(stack: list[ast.AST]) -> bool:
    for node in stack:
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                if (target.id if isinstance(target, ast.Name) else getattr(target, "attr", None)) in VALIDATORS:
                    return True
    return False


def our_errors(trees: list[ast.Module]) -> set[str]:
    """OctoError and every class of the package derived from it: the errors the CLI shows as one line."""
    ours, grew = {"OctoError"}, True
    classes = [n for tree in trees for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    while grew:
        grew = False
        for cls in classes:
            if cls.name not in ours and any(isinstance(b, ast.Name) and b.id in ours for b in cls.bases):
                ours.add(cls.name)
                grew = True
    return ours


def refusals(package: Path = PACKAGE) -> list[tuple[str, str]]:
    """(module, message template), in file order, each distinct message once per module. A message that
    only passes another on (`{where}: {err}`) is that other's, listed where it is raised."""
    found: list[tuple[str, str]] = []
    files = sorted(package.rglob("*.py"))
    trees = [ast.parse(path.read_text()) for path in files]
    ours = our_errors(trees)

    def visit(node: ast.AST, stack: list[ast.AST], module: str) -> None:
        call = None
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            name = _error_name(node.exc)
            if name in ours or name == "ValueError" and _in_validator(stack):
                call = node.exc
        elif isinstance(node, ast.Call) and _error_name(node) == "fail" and module == "cli":
            call = node
        if call is not None and call.args:
            text = " ".join((template(call.args[0]) or "").split())
            own_words = re.sub(r"\{[^}]*\}", "", text)
            if re.search(r"[A-Za-z]{2}", own_words) and (module, text) not in found:
                found.append((module, text))
        for child in ast.iter_child_nodes(node):
            visit(child, [*stack, node], module)

    for path, tree in zip(files, trees):
        visit(tree, [], path.relative_to(package).with_suffix("").as_posix().replace("/", "."))
    return found


def conflicts() -> list[str]:
    from octothinker.cli import CONFLICTS

    return [message for _, message in CONFLICTS]


def markdown() -> str:
    rows = [(m, t) for m, t in refusals()] + [("cli", t) for t in conflicts()]
    lines = [f"{len(rows)} refusals, each one line (`error: ...`, exit 1; a usage error exits 2), "
             "by module; `{name}` is a value the message names.", "", "| module | message |", "|---|---|"]
    lines += ["| {} | `{}` |".format(m, t.replace("|", "\\|").replace("`", "'")) for m, t in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--check"]:
        readme = Path(argv[1]).read_text()
        if markdown() not in readme:
            print(f"{argv[1]}: the refusals block is out of date: rerun scripts/refusals.py and paste it", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
