"""QA and instruction records as training text, one fixed frame for each kind.

    qa:       "Question: {question}\nAnswer: {solution}"
    instruct: "User: {instruction}\nAssistant: {response}"

Short and long chain-of-thought records share the QA frame: what makes a branch long is its solutions,
not a preamble, and the answer starts right after "Answer:" as the RL template asks for it (the
`qa` template, or the demo's "Question: ...\nAnswer:"; `simple` and `complex` are User/Assistant
turns, the instruction frame). A record without a solution is answered "The answer is \\boxed{answer}.".
Length limits are applied in tokens when the text is tokenized (see `pipeline.py`).
"""

from __future__ import annotations

QA_STYLES = ("short", "long")


class MissingFieldError(KeyError):
    pass


def _field(rec: dict, fields: dict[str, str], name: str, required: bool = True):
    key = fields.get(name, name)
    value = rec.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise MissingFieldError(key)
        return None
    return str(value).strip()


def format_qa(rec: dict, style: str, fields: dict[str, str] | None = None) -> str:
    fields = fields or {}
    question = _field(rec, fields, "question")
    solution = _field(rec, fields, "solution", required=False)
    if solution is None:
        solution = f"The answer is \\boxed{{{_field(rec, fields, 'answer')}}}."
    if style not in QA_STYLES:
        raise ValueError(f"unknown QA style {style!r}: use one of {', '.join(QA_STYLES)}")
    return f"Question: {question}\nAnswer: {solution}"


def format_instruction(rec: dict, fields: dict[str, str] | None = None) -> str:
    fields = fields or {}
    return f"User: {_field(rec, fields, 'instruction')}\nAssistant: {_field(rec, fields, 'response')}"


def format_text(rec: dict, text_field: str) -> str:
    value = rec.get(text_field)
    if not isinstance(value, str) or not value.strip():
        raise MissingFieldError(text_field)
    return value
