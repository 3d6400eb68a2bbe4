"""Typed recipes: YAML (safe_load) + `a.b=c` overrides, validated by pydantic, errors naming the key.

    recipe = load_recipe("octothinker/recipes/demo.yaml", DataRecipe, ["mixture.tokens=200000"])
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from octothinker.errors import OctoError

M = TypeVar("M", bound=BaseModel)


class RecipeError(OctoError):
    pass


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """`a.b=c` sets data["a"]["b"]; the value is read as YAML (numbers, booleans, lists); `sources.0.weight=2`."""
    for item in overrides:
        if "=" not in item:
            raise RecipeError(f"override {item!r} is not of the form key.path=value")
        key, raw = item.split("=", 1)
        value = yaml.safe_load(raw) if raw.strip() else ""
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return data


def load_yaml(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"{path}: recipe not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise RecipeError(f"{path}{where}: invalid YAML ({getattr(err, 'problem', err)})") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: a recipe is a YAML mapping")
    return data


def validate(data: dict, model: type[M], where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise RecipeError(f"{where}: {key}: {first['msg']}") from None


def load_stage_recipe(path: str | Path, model: type[M], key: str, overrides: list[str] | None = None) -> M:
    """A stage's recipe: the file's `key` section when it is a study recipe, else the whole file."""
    return load_recipe(path, model, overrides, section=key if key in load_yaml(path) else None)


def load_recipe(path: str | Path, model: type[M], overrides: list[str] | None = None, section: str | None = None) -> M:
    """Validate the whole file, or one `section` of it, against `model`."""
    data = apply_overrides(load_yaml(path), overrides or [])
    if section is not None:
        node = data
        for part in section.split("."):  # "data.stable": a nested section
            if not isinstance(node, dict) or part not in node:
                raise RecipeError(f"{path}: no '{section}' section")
            node = node[part]
        return validate(node, model, f"{path} [{section}]")
    return validate(data, model, str(path))
