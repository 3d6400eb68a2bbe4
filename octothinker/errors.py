"""Errors the CLI reports as one line (file, line, field) and a non-zero exit, without a traceback."""

import re

from pydantic import BaseModel, ConfigDict


class OctoError(Exception):
    """Bad input or a missing resource; the message says which file, line and field."""


class Strict(BaseModel):
    """A typed config or recipe section: an unknown key (a typo) is an error, not silently ignored."""
    model_config = ConfigDict(extra="forbid")


class DataError(OctoError):
    """A data file is missing, malformed, or lacks a field."""


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_name(name: str, what: str) -> str:
    """A name that becomes part of a file or folder name (a source, a branch, a benchmark label): letters,
    digits, '.', '_' and '-' only, so that no name can reach outside the output folder."""
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name) or ".." in name:
        raise OctoError(f"{what} {name!r}: use letters, digits, '.', '_' and '-' only (it names a file)")
    return name


def check_names(names, what: str):
    """`check_name` for every key of a mapping (or item of a list); returns `names` for validators."""
    for name in names:
        check_name(name, what)
    return names
