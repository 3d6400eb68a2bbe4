"""Prompt templates for RL-Zero, the probe and zero-shot evaluation of RL models (one code path for all).

`complex` follows the Open-Reasoner-Zero base prompt the study calls its "complex template" (a
User/Assistant conversation, reasoning first, final answer in `\\boxed{}`, the assistant's turn opened);
`simple` is a plain User/Assistant prompt asking for a boxed answer; `qa` is the few-shot style
`Question:`/`Answer:` frame. The wording is ours. Any string with a `{question}` slot is a template too,
and so is a file holding one (named by its path). `release:NAME` (`release:orz_base`, the release's
RL prompt) is read from a checkout of the release: its verl fork's `rl_dataset.py` holds the templates,
with `[PROMPT]` where the question goes (`tasks.release.checkout.ReleaseCopy.rl_template`).
Stop strings cut the turn the model would otherwise invent next.

`chat` is for Instruct and released Zero models: the question and a request for a boxed answer, as the
user's turn of the model's own chat template (from its tokenizer), the assistant's turn opened. It is
rendered by a template bound to that tokenizer (`bind`); its turn ends at the model's end-of-turn token.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

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


def template_file(name_or_text: str) -> Path | None:
    """The file a template names, when it names one (a path to an existing file, or one that reads as a
    path: a folder in it or a suffix, and no `{question}` slot)."""
    if name_or_text in TEMPLATES or SLOT in name_or_text or "\n" in name_or_text:
        return None
    path = Path(name_or_text)
    return path if path.is_file() or "/" in name_or_text or path.suffix else None


RELEASE = "release:"


def get_template(name_or_text: str, release_dir: str | None = None) -> PromptTemplate:
    """A packaged template by name, a user template string that contains `{question}`, a file holding
    one, named by its path, or `release:NAME`, read from the release checkout `release_dir`."""
    if name_or_text in TEMPLATES:
        return TEMPLATES[name_or_text]
    if name_or_text.startswith(RELEASE):
        name = name_or_text[len(RELEASE):]
        if not release_dir:
            raise TemplateError(f"template {name_or_text}: the release's templates are read from a checkout of "
                                "GAIR-NLP/OctoThinker: name one (release_dir=PATH), or choose another template "
                                "(rl.template=complex)")
        from octothinker.tasks.release.checkout import ReleaseCopy

        text = ReleaseCopy(release_dir).rl_template(name).replace("[PROMPT]", SLOT)
        # the fork's rollout stops at these (vllm_rollout_spmd.py); a recipe says so in `rl.stop`
        return PromptTemplate(name_or_text, text, ("User:", "Assistant:", "Question:", "Answer:"))
    path = template_file(name_or_text)
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise TemplateError(f"template file {path}: {err.strerror or err}") from None
        except UnicodeDecodeError as err:
            raise TemplateError(f"template file {path}: not UTF-8 text (byte {err.start})") from None
        if SLOT not in text:
            raise TemplateError(f"template file {path}: no {SLOT} slot for the question")
        return PromptTemplate(f"file {path}", text.rstrip("\n"), ("User:", "Question:"))
    if SLOT not in name_or_text:
        raise TemplateError(f"template {name_or_text!r} is neither one of {', '.join(TEMPLATES)}, a string with a "
                            f"{SLOT} slot, nor a file")
    return PromptTemplate("custom", name_or_text, ("User:", "Question:"))
