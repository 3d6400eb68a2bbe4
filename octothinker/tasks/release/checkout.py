"""Reading a user's copy of the OctoThinker release (GAIR-NLP/OctoThinker) without running it.

The release's prompts live in Python files: each few-shot prompt module assigns its exemplars to
`few_shot_prompt` (a string, sometimes `"...".strip()`), and its prompt class has `format_prompt` (an
f-string over `few_shot_prompt`, `task_input` and `task_output`, then a strip) and `stop_words` (a list).
Its question cleaning (`eval/data_processing/process_utils.py`) holds the text it adds around a question
in f-strings. We read those values from the syntax tree with a tiny evaluator that knows only string
constants, f-strings over the names it is given, and `strip`/`lstrip`/`rstrip`: the user's copy is never
imported or run, and none of its text is part of this package.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

from octothinker.errors import DataError

CONFIG = "eval/configs/en_math_cot_few_shot_test_configs.json"
PROMPTS = "eval/few_shot_prompts"
PROCESS = "eval/data_processing/process_utils.py"
_STRIPS = ("strip", "lstrip", "rstrip")


class _Unreadable(Exception):
    pass


def _value(node: ast.AST, names: dict[str, str]) -> str | list[str]:
    """The value of a string expression built only from constants, `names` and strip calls."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in names
            and isinstance(node.slice, ast.Constant) and isinstance(names[node.value.id], dict)):
        try:
            return names[node.value.id][node.slice.value]   # a record's field, as text
        except KeyError:
            raise _Unreadable(f"no field {node.slice.value!r}") from None
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                if part.conversion != -1 or part.format_spec is not None:
                    raise _Unreadable(ast.unparse(part))
                part = part.value
            value = _value(part, names)
            if not isinstance(value, str):
                raise _Unreadable(ast.unparse(part))
            parts.append(value)
        return "".join(parts)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _STRIPS
            and not node.keywords and len(node.args) <= 1):
        target = _value(node.func.value, names)
        chars = _value(node.args[0], names) if node.args else None
        if not isinstance(target, str) or (chars is not None and not isinstance(chars, str)):
            raise _Unreadable(ast.unparse(node))
        return getattr(target, node.func.attr)(chars)
    if isinstance(node, ast.List):
        items = [_value(item, names) for item in node.elts]
        if not all(isinstance(item, str) for item in items):
            raise _Unreadable(ast.unparse(node))
        return items
    raise _Unreadable(ast.unparse(node)[:80])


def _parse(path: Path) -> ast.Module:
    if not path.is_file():
        raise DataError(f"{path}: not found in the release copy (is --release-dir a checkout of GAIR-NLP/OctoThinker?)")
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as err:
        raise DataError(f"{path}:{err.lineno}: not readable Python ({err.msg})") from None


@dataclass(frozen=True)
class PromptClass:
    """A few-shot prompt class of the release, as values: `format(question)` is its
    `format_prompt(question, "")`, as `run_cot_eval.py` calls it (the answer slot left empty)."""
    name: str
    exemplars: str
    frame: ast.AST            # the f-string of format_prompt
    strip: tuple[str, str | None] | None  # the strip call on its result, if any
    stop: tuple[str, ...]
    where: str

    def format(self, question: str) -> str:
        names = {"few_shot_prompt": self.exemplars, "task_input": question, "task_output": ""}
        prompt = _value(self.frame, names)
        if self.strip:
            method, chars = self.strip
            prompt = getattr(prompt, method)(chars)
        return prompt


def _method(cls: ast.ClassDef, name: str) -> ast.FunctionDef:
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise _Unreadable(f"class {cls.name} has no method {name}")


def _read_prompt_class(path: Path, cls: ast.ClassDef, module: ast.Module) -> PromptClass:
    exemplars = None
    for node in module.body:  # module level, in order: a later assignment replaces an earlier one
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "few_shot_prompt"):
            exemplars = _value(node.value, {})
    if exemplars is None:
        raise _Unreadable("no module-level few_shot_prompt")
    fmt = _method(cls, "format_prompt").body
    # `prompt = f"..."` then `return prompt` or `return prompt.<strip>(chars)`
    if (len(fmt) != 2 or not isinstance(fmt[0], ast.Assign) or not isinstance(fmt[0].targets[0], ast.Name)
            or not isinstance(fmt[1], ast.Return)):
        raise _Unreadable("format_prompt is not `prompt = f'...'; return prompt[.strip()]`")
    var, ret = fmt[0].targets[0].id, fmt[1].value
    if isinstance(ret, ast.Name) and ret.id == var:
        strip = None
    elif (isinstance(ret, ast.Call) and isinstance(ret.func, ast.Attribute) and ret.func.attr in _STRIPS
          and isinstance(ret.func.value, ast.Name) and ret.func.value.id == var and len(ret.args) <= 1):
        strip = (ret.func.attr, _value(ret.args[0], {}) if ret.args else None)
    else:
        raise _Unreadable(f"format_prompt returns {ast.unparse(ret)[:60]}")
    stop_body = _method(cls, "stop_words").body
    if len(stop_body) != 1 or not isinstance(stop_body[0], ast.Return):
        raise _Unreadable("stop_words is not one return of a list")
    stop = _value(stop_body[0].value, {})
    if not isinstance(stop, list):
        raise _Unreadable("stop_words does not return a list")
    prompt = PromptClass(cls.name, exemplars, fmt[0].value, strip, tuple(stop), f"{path}:{cls.lineno}")
    prompt.format("question")  # the frame names nothing else
    return prompt


# where the release keeps its verl fork's dataset class (the layout moved between releases)
RL_DATASET = ("rl/verl/utils/dataset/rl_dataset.py", "training/rl/verl/utils/dataset/rl_dataset.py",
              "rl/verl/verl/utils/dataset/rl_dataset.py", "training/rl/verl/verl/utils/dataset/rl_dataset.py")


class ReleaseCopy:
    """A checkout of GAIR-NLP/OctoThinker, read for its evaluation's configuration, prompts and texts, and
    its RL templates."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise DataError(f"{self.root}: release copy not found (pass --release-dir, a checkout of GAIR-NLP/OctoThinker)")
        self._config: dict[str, dict] | None = None
        self._prompts: dict[str, PromptClass] = {}
        self._process: ast.Module | None = None

    @property
    def config(self) -> dict[str, dict]:
        if self._config is None:
            config = self.root / CONFIG
            if not config.is_file():
                raise DataError(f"{config}: not found; is {self.root} a checkout of GAIR-NLP/OctoThinker?")
            try:
                self._config = json.loads(config.read_text())
            except json.JSONDecodeError as err:
                raise DataError(f"{config}:{err.lineno}: not JSON ({err.msg})") from None
        return self._config

    def rl_template(self, name: str) -> str:
        """One of the RL templates of the release's verl fork (`orz_base`, ...): a module-level string of
        its `rl_dataset.py` with `[PROMPT]` where the question goes."""
        path = next((self.root / p for p in RL_DATASET if (self.root / p).is_file()), None)
        if path is None:
            raise DataError(f"{self.root}: no verl fork's rl_dataset.py (looked for {', '.join(RL_DATASET)}); the "
                            "release ships it under rl/verl/")
        module = _parse(path)
        found = None
        for node in module.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id == name):
                try:
                    found = _value(node.value, {})
                except _Unreadable as err:
                    raise DataError(f"{path}:{node.lineno}: template {name} is not a plain string ({err})") from None
        if not isinstance(found, str):
            raise DataError(f"{path}: no template {name}")
        if "[PROMPT]" not in found:
            raise DataError(f"{path}: template {name} has no [PROMPT] slot")
        return found

    def fingerprint(self) -> str:
        """A hash of what the harness reads from the copy (its config, prompts, question cleaning and RL
    templates)."""
        import hashlib

        digest = hashlib.sha256()
        for path in [self.root / CONFIG, self.root / PROCESS, *sorted((self.root / PROMPTS).glob("*.py")),
                     *(self.root / p for p in RL_DATASET)]:
            if path.is_file():
                digest.update(path.relative_to(self.root).as_posix().encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()[:16]

    def entry(self, key: str) -> dict:
        try:
            entry = self.config[key]
        except KeyError:
            raise DataError(f"{self.root / CONFIG}: no entry {key!r}") from None
        for field in ("process_fn", "answer_extraction_fn", "eval_fn", "few_shot_prompt"):
            if not isinstance(entry.get(field), str):
                raise DataError(f"{self.root / CONFIG}: entry {key!r}: missing field '{field}'")
        return entry

    def prompt_class(self, name: str) -> PromptClass:
        if name not in self._prompts:
            folder = self.root / PROMPTS
            for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
                module = _parse(path)
                for node in module.body:
                    if isinstance(node, ast.ClassDef) and node.name == name:
                        try:
                            self._prompts[name] = _read_prompt_class(path, node, module)
                        except _Unreadable as err:
                            raise DataError(f"{path}:{node.lineno}: prompt class {name} cannot be read "
                                            f"without running it ({err})") from None
            if name not in self._prompts:
                raise DataError(f"{folder}: no prompt class {name}")
        return self._prompts[name]

    def assignments(self, function: str, target: str) -> list[ast.expr]:
        """What a process function assigns to `target` (`=` and `+=`, in source order; of `a if c else b`,
        `a`): the f-strings in which the release writes its words around a question."""
        if self._process is None:
            self._process = _parse(self.root / PROCESS)
        for node in self._process.body:
            if isinstance(node, ast.FunctionDef) and node.name == function:
                found = []
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Assign) and any(isinstance(t, ast.Name) and t.id == target
                                                           for t in sub.targets):
                        found.append(sub)
                    elif isinstance(sub, ast.AugAssign) and isinstance(sub.target, ast.Name) and sub.target.id == target:
                        found.append(sub)
                found.sort(key=lambda n: (n.lineno, n.col_offset))
                values = [n.value.body if isinstance(n.value, ast.IfExp) else n.value for n in found]
                if not values:
                    raise DataError(f"{self.root / PROCESS}: {function} assigns no {target}")
                return values
        raise DataError(f"{self.root / PROCESS}: no function {function}")

    def render(self, function: str, node: ast.expr, names: dict) -> str:
        try:
            value = _value(node, names)
        except _Unreadable as err:
            raise DataError(f"{self.root / PROCESS}:{node.lineno}: {function} cannot be read without running "
                            f"it ({err})") from None
        if not isinstance(value, str):
            raise DataError(f"{self.root / PROCESS}:{node.lineno}: {function}: not text")
        return value
