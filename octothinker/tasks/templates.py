"""Prompt templates for RL-Zero, the probe and zero-shot evaluation of RL models (one code path for all).

`complex` follows the Open-Reasoner-Zero base prompt the study calls its "complex template" (a
User/Assistant conversation, reasoning first, final answer in `\\boxed{}`, the assistant's turn opened);
`simple` is a plain User/Assistant prompt asking for a boxed answer; `qa` is the few-shot style
`Question:`/`Answer:` frame. The wording is ours. Any string with a `{question}` slot is a template too.
Stop strings cut the turn the model would otherwise invent next.
"""

from __future__ import annotations

from dataclasses import dataclass

from octothinker.errors import OctoError

SLOT = "{question}"
DEFAULT_TEMPLATE = "complex"  # the study's RL prompt; every config that takes a template defaults to it


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    text: str
    stop: tuple[str, ...]

    def render(self, question: str) -> str:
        # str.replace, not str.format: math prompts are full of braces (`\boxed{}`, `\frac{1}{2}`).
        return self.text.replace(SLOT, question.strip())


TEMPLATES: dict[str, PromptTemplate] = {
    "complex": PromptTemplate(
        "complex",
        "A dialogue between a User and an Assistant. The User poses a math problem and the Assistant "
        "works it out. The Assistant reasons carefully, step by step, before answering, and writes the "
        "final answer inside \\boxed{}.\nUser: " + SLOT + "\nAssistant: Let me reason through this step by step.",
        ("User:", "Assistant:"),
    ),
    "simple": PromptTemplate(
        "simple",
        "User: " + SLOT + "\nGive your final answer inside \\boxed{}.\nAssistant:",
        ("User:", "Assistant:"),
    ),
    "qa": PromptTemplate(
        "qa",
        "Question: " + SLOT + "\nAnswer: Let's think step by step.",
        ("Question:", "Answer:"),
    ),
}


class TemplateError(OctoError, ValueError):
    pass


def get_template(name_or_text: str) -> PromptTemplate:
    """A packaged template by name, or a user template string that contains `{question}`."""
    if name_or_text in TEMPLATES:
        return TEMPLATES[name_or_text]
    if SLOT not in name_or_text:
        raise TemplateError(f"template {name_or_text!r} is neither one of {', '.join(TEMPLATES)} nor a "
                            f"string with a {SLOT} slot")
    return PromptTemplate("custom", name_or_text, ("User:", "Question:"))
