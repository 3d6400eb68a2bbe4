"""Errors the CLI reports as one line (file, line, field) and a non-zero exit, without a traceback."""


class OctoError(Exception):
    """Bad input or a missing resource; the message says which file, line and field."""


class DataError(OctoError):
    """A data file is missing, malformed, or lacks a field."""
