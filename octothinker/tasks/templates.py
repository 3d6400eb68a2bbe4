"""Prompt templates for RL-Zero, the probe and zero-shot evaluation of RL models (one code path for all).

`complex` follows the Open-Reasoner-Zero base prompt the study calls its "complex template" (a
User/Assistant conversation, reasoning first, final answer in `\\boxed{}`, the assistant's turn opened);
`simple` is a plain User/Assistant prompt asking for a boxed answer; `qa` is the few-shot style
`Question:`/`Answer:` frame. The wording is ours. Any string with a `{question}` slot is a template too.
Stop strings cut the turn the model would otherwise invent next.

`chat` is for Instruct and released Zero models: the question and a request for a boxed answer, as the
user's turn of the model's own chat template (from its tokenizer), the assistant's turn opened. It is
rendered by a template bound to that tokenizer (`bind`); its turn ends at the model's end-of-turn token.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from octothinker.errors import OctoError

SLOT = "{question}"
DEFAULT_TEMPLATE = "complex"  # the study's RL prompt; every config that takes a template defaults to it
CHAT = "chat"


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    text: str
    stop: tuple[str, ...]
    chat: bool = False                                        # `text` is the user's turn of a chat template
    tokenizer: object = field(default=None, compare=False)   # whose chat template renders it

    def user_turn(self, question: str) -> str:
        # str.replace, not str.format: math prompts are full of braces (`\boxed{}`, `\frac{1}{2}`).
        return self.text.replace(SLOT, question.strip())

    def render(self, question: str) -> str:
        if not self.chat:
            return self.user_turn(question)
        if self.tokenizer is None:
            raise TemplateError("the chat template is rendered by the model's tokenizer: bind it first")
        text = self.tokenizer.apply_chat_template([{"role": "user", "content": self.user_turn(question)}],
                                                  tokenize=False, add_generation_prompt=True)
        bos = getattr(self.tokenizer, "bos_token", None)
        # the chat template writes BOS itself; a tokenizer that also adds one would double it
        if bos and text.startswith(bos) and self.tokenizer("x")["input_ids"][:1] == [self.tokenizer.bos_token_id]:
            text = text[len(bos):]
        return text

    def bind(self, tokenizer, model: str = "the model") -> "PromptTemplate":
        """This template for one model: the chat template takes that model's tokenizer; others are as
        they are."""
        if not self.chat:
            return self
        if tokenizer is None or not getattr(tokenizer, "chat_template", None):
            raise TemplateError(f"template chat: {model} has no chat template in its tokenizer; use complex, "
                                "simple or qa")
        return replace(self, tokenizer=tokenizer)


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
    CHAT: PromptTemplate(CHAT, SLOT + "\nPlease reason step by step, and put your final answer within \\boxed{}.", (),
                         chat=True),
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
