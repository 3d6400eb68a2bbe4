"""Typed recipes: YAML (safe_load) + `a.b=c` overrides, validated by pydantic, errors naming file and key.

    recipe = load_recipe("octothinker/recipes/demo.yaml", StudyRecipe, ["rl.steps=40"])
    data = load_recipe("demo.yaml", DataRecipe, ["mixture.tokens=2000"], section="data.stable")

Overrides are relative to the section being loaded (the whole file without one). Two placeholders in
any string let a recipe be moved: `{out}` is the file's top-level `out`, `{recipe_dir}` the folder the
recipe file is in (so `octo demo out=runs/other` moves every path of the demo).

A recipe may start from another: `extends: demo.yaml` (relative to the file) reads that recipe first
and merges this file's keys over it, mappings key by key, anything else replaced, as Hydra's defaults
list does; `demo-arms.yaml` is the demo plus its arms, written once.
"""

from __future__ import annotations

import difflib
import typing
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from octothinker.errors import OctoError

M = TypeVar("M", bound=BaseModel)


class RecipeError(OctoError):
    pass


def _unshared(node):
    """A copy in which no mapping or list is reachable twice: YAML anchors and merge keys (`<<: *curation`)
    share one object between their uses, and an override of one use must not change the others."""
    if isinstance(node, dict):
        return {key: _unshared(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_unshared(value) for value in node]
    return node


def _parse_value(item: str, raw: str):
    try:
        return yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as err:
        raise RecipeError(f"override {item!r}: the value is not valid YAML ({getattr(err, 'problem', err)})") from None


def _child(node, part: str, item: str, path: str, create: bool):
    if isinstance(node, list):
        if not part.lstrip("-").isdigit() or not 0 <= int(part) < len(node):
            raise RecipeError(f"override {item!r}: {path or 'the recipe'} is a list of {len(node)} items; "
                              f"{part!r} is not an index of it")
        return int(part)
    if isinstance(node, dict):
        if part not in node and create:
            node[part] = {}
        return part
    raise RecipeError(f"override {item!r}: {path} is a value ({node!r}), not a section")


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """`a.b=c` sets data["a"]["b"]; the value is read as YAML (numbers, booleans, lists); `sources.0.weight=2`
    indexes a list. Any malformed override is a one-line RecipeError."""
    for item in overrides:
        if "=" not in item:
            raise RecipeError(f"override {item!r} is not of the form key.path=value")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        if not all(parts):
            raise RecipeError(f"override {item!r}: empty key in {key!r}")
        value = _parse_value(item, raw)
        node, path = data, ""
        for part in parts[:-1]:
            node = node[_child(node, part, item, path, create=True)]
            path = f"{path}.{part}" if path else part
        node[_child(node, parts[-1], item, path, create=False)] = value
    return data


def substitute(node, values: dict[str, str]):
    """Replace `{name}` placeholders in every string of a nested recipe."""
    if isinstance(node, str):
        for name, value in values.items():
            node = node.replace("{" + name + "}", value)
        return node
    if isinstance(node, dict):
        return {k: substitute(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [substitute(v, values) for v in node]
    return node


def merge(base: dict, changes: dict) -> dict:
    """`changes` over `base`: mappings merge key by key, any other value replaces."""
    out = dict(base)
    for key, value in changes.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_yaml(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict:
    """The recipe file's mapping, with what it `extends` merged under it."""
    path = Path(path)
    if path.resolve() in _seen:
        raise RecipeError(f"{path}: `extends` comes back to this file")
    if not path.is_file():
        raise RecipeError(f"{path}: recipe not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise RecipeError(f"{path}: not UTF-8 text (byte {err.start}); save the recipe as UTF-8") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        what = " ".join(str(getattr(err, "problem", None) or err).split())  # PyYAML's own spans lines
        raise RecipeError(f"{path}{where}: invalid YAML ({what})") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: a recipe is a YAML mapping")
    data = _unshared(data)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise RecipeError(f"{path}: extends: the path of one recipe file")
    return merge(load_yaml(path.parent / parent, (*_seen, path.resolve())), data)


def _models_in(annotation) -> list[type[BaseModel]]:
    """The config classes inside a field's type (`X | None`, `list[X]`, `dict[str, X]`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def known_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys a section accepts at `loc` (a validation error's path, the key itself left out)."""
    candidates = [model]
    for part in loc:
        inner = [m for c in candidates if part in c.model_fields for m in _models_in(c.model_fields[part].annotation)]
        if inner:
            candidates = inner
        elif any(part in c.model_fields for c in candidates):
            return []
    return sorted({name for c in candidates for name in c.model_fields})


def validate(data: dict, model: type[M], where: str) -> M:
    """`data` as the typed `model`, or one line naming the first problem; an unknown key (a typo) comes
    before anything it causes ("mixtur:" would otherwise read "mixture: Field required"), with the
    closest known key."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        errors = err.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        if first["type"] == "extra_forbidden":
            known = known_keys(model, tuple(first["loc"][:-1]))
            close = difflib.get_close_matches(str(first["loc"][-1]), known, n=1, cutoff=0.7)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}" if known else ""
            raise RecipeError(f"{where}: {key}: unknown key" + (f"; {hint}" if hint else "")) from None
        raise RecipeError(f"{where}: {key}: {first['msg']}") from None


def section_node(data: dict, section: str, path: str | Path) -> dict:
    node = data
    for part in section.split("."):  # "data.stable": a nested section
        if not isinstance(node, dict) or part not in node:
            raise RecipeError(f"{path}: no '{section}' section")
        node = node[part]
    if not isinstance(node, dict):
        raise RecipeError(f"{path}: '{section}' is not a section")
    return node


def read_recipe(path: str | Path, overrides: list[str] | None = None, section: str | None = None) -> dict:
    """The file's YAML with overrides applied (to `section` when given) and placeholders filled."""
    data = load_yaml(path)
    apply_overrides(section_node(data, section, path) if section else data, overrides or [])
    values = {"recipe_dir": str(Path(path).resolve().parent)}
    if isinstance(data.get("out"), str):
        values["out"] = substitute(data["out"], values)
    return substitute(data, values)


def load_recipe(path: str | Path, model: type[M], overrides: list[str] | None = None, section: str | None = None) -> M:
    """Validate the whole file, or one `section` of it, against `model`."""
    data = read_recipe(path, overrides, section)
    if section is not None:
        return validate(section_node(data, section, path), model, f"{path} [{section}]")
    return validate(data, model, str(path))
