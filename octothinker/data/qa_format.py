"""QA and instruction records as training text, one fixed template per style.

    short:    "Question: {question}\nAnswer: {solution}"
    long:     "Question: {question}\nAnswer: Let's think step by step, and check each step.\n{solution}"
    instruct: "User: {instruction}\nAssistant: {response}"

The frames match the RL/eval templates (`qa` opens "Answer: Let's think step by step."; `simple` and
`complex` are User/Assistant turns), so what mid-training teaches is what RL asks for. A record
without a solution is answered "The answer is \\boxed{answer}.". Length limits are applied in tokens
when the text is tokenized (see `pipeline.py`).
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
    if style == "short":
        return f"Question: {question}\nAnswer: {solution}"
    if style == "long":
        return f"Question: {question}\nAnswer: Let's think step by step, and check each step.\n{solution}"
    raise ValueError(f"unknown QA style {style!r}: use one of {', '.join(QA_STYLES)}")


def format_instruction(rec: dict, fields: dict[str, str] | None = None) -> str:
    fields = fields or {}
    return f"User: {_field(rec, fields, 'instruction')}\nAssistant: {_field(rec, fields, 'response')}"


def format_text(rec: dict, text_field: str) -> str:
    value = rec.get(text_field)
    if not isinstance(value, str) or not value.strip():
        raise MissingFieldError(text_field)
    return value
