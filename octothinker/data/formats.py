"""The published corpora, read by name: how a record of each becomes one training document.

A data source names its format (`format: openr1-math`) instead of mapping columns by hand. Each format
knows its corpus's columns (read from the dataset cards, listed in `FORMATS` with the hub id and licence)
and which kind of document it makes:

    text      the record's text as it is                       "..."
    qa        "Question: {question}\\nAnswer: {solution}"       short or long chain of thought
    instruct  "User: ...\\nAssistant: ...", every turn           multi-turn conversations included

Long chain-of-thought traces carry `<think>...</think>` (and AM's `<answer>...</answer>`) tags. They
become plain text, the same way in every format and branch: the reasoning, a blank line, then the final
answer, tags removed. The study's RL templates ask for reasoning and a final `\\boxed{}` answer, not for
tags, and a base model never sees the tags anywhere else, so keeping them would teach a frame that RL
never prompts for. OpenR1-Math-220k gives two to four R1 traces a problem with `correctness_math_verify`
for each: the first trace marked correct is taken; a record with none is dropped and counted
(`unverified` in the data report).

`fields:` overrides where a format finds each of its parts, with a path syntax for nested and list
values: `messages[role=assistant][-1].content` is the content of the last assistant turn,
`conversation[0].content` the first turn's. A list or a dict where text is expected is a bad record,
never stringified: `RecordError` names the field, and the build names source, file and record.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

# Why a record yields no document: bad input (counted against the source's `max_bad_share`) ...
BAD_REASONS = ("bad_json", "missing_field", "wrong_type", "empty_field")
# ... or the format's own choice (OpenR1's records without a verified-correct trace).
DROP_REASONS = ("unverified",)


class RecordError(ValueError):
    """A record that makes no document: `reason` (one of BAD_REASONS or DROP_REASONS), the field."""

    def __init__(self, reason: str, field_path: str, detail: str):
        super().__init__(f"field '{field_path}' {detail}")
        self.reason, self.field = reason, field_path


_SEGMENT = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")


def parse_path(path: str) -> list[str | int | tuple[str, str]]:
    """`messages[role=assistant][-1].content` -> ["messages", ("role", "assistant"), -1, "content"]."""
    steps: list[str | int | tuple[str, str]] = []
    pos = 0
    for match in _SEGMENT.finditer(path):
        between = path[pos:match.start()]
        if between not in ("", "."):
            raise ValueError(f"field path {path!r}: cannot read {between!r}")
        name, bracket = match.groups()
        if name is not None:
            steps.append(name)
        elif re.fullmatch(r"-?\d+", bracket.strip()):
            steps.append(int(bracket))
        elif "=" in bracket:
            key, value = (part.strip() for part in bracket.split("=", 1))
            steps.append((key, value))
        else:
            raise ValueError(f"field path {path!r}: [{bracket}] is neither an index nor key=value")
        pos = match.end()
    if not steps or path[pos:]:
        raise ValueError(f"field path {path!r}: nothing to read")
    return steps


def resolve(rec: dict, path: str):
    """The value at `path` in `rec`; RecordError('missing_field') when any step finds nothing."""
    value = rec
    for step in parse_path(path):
        if isinstance(step, str):
            if not isinstance(value, dict) or value.get(step) is None:
                raise RecordError("missing_field", path, "is missing")
            value = value[step]
        elif isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                raise RecordError("missing_field", path, "is missing (no such list item)")
            value = value[step]
        else:
            key, wanted = step
            if not isinstance(value, list):
                raise RecordError("wrong_type", path, f"is a {type(value).__name__}, not a list to select from")
            value = [item for item in value if isinstance(item, dict) and str(item.get(key)) == wanted]
    return value


def as_text(value, path: str) -> str:
    """A field's value as text: strings and numbers (answers are often numbers); never a list or dict."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        kind = "list" if isinstance(value, list) else "dict" if isinstance(value, dict) else type(value).__name__
        raise RecordError("wrong_type", path, f"is a {kind}, not text")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text:
        raise RecordError("empty_field", path, "is empty")
    return text


def text_at(rec: dict, path: str) -> str:
    return as_text(resolve(rec, path), path)


_THINK = re.compile(r"<think>(.*?)</think>", re.S)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)


def untag(trace: str) -> str:
    """`<think>R</think> F` or `<think>R</think><answer>A</answer>` -> "R\\n\\nF" (or "R\\n\\nA"); a trace
    without tags is kept as it is. An unclosed `<think>` (a cut-off trace) keeps its text."""
    think = _THINK.search(trace)
    if think is None:
        return trace.replace("<think>", "").strip()
    rest = trace[think.end():]
    answer = _ANSWER.search(rest)
    final = answer.group(1) if answer else rest
    return "\n\n".join(part for part in (think.group(1).strip(), final.strip()) if part)


def qa_frame(question: str, solution: str) -> str:
    return f"Question: {question}\nAnswer: {solution}"


ROLE_NAMES = {"system": "System", "user": "User", "human": "User", "assistant": "Assistant", "gpt": "Assistant"}


def chat_frame(turns, path: str) -> str:
    """A conversation (a list of {role, content}) in the instruction frame, every turn, tags removed."""
    if not isinstance(turns, list):
        kind = "dict" if isinstance(turns, dict) else type(turns).__name__
        raise RecordError("wrong_type", path, f"is a {kind}, not a list of turns")
    lines, roles = [], set()
    for i, turn in enumerate(turns):
        where = f"{path}[{i}]"
        if not isinstance(turn, dict):
            raise RecordError("wrong_type", where, f"is a {type(turn).__name__}, not a turn")
        role = ROLE_NAMES.get(str(turn.get("role", turn.get("from", ""))).lower())
        if role is None:
            raise RecordError("wrong_type", f"{where}.role", f"is {turn.get('role')!r}, not user/assistant/system")
        value = turn.get("content", turn.get("value"))  # ShareGPT-style turns: {"from", "value"}
        if value is None:
            raise RecordError("missing_field", f"{where}.content", "is missing")
        content = as_text(value, f"{where}.content")
        roles.add(role)
        lines.append(f"{role}: {untag(content) if role == 'Assistant' else content}")
    if not {"User", "Assistant"} <= roles:
        raise RecordError("missing_field", path, "has no user and assistant turn")
    return "\n".join(lines)


@dataclass(frozen=True)
class Format:
    name: str
    kind: str                          # text | qa | instruct: the frame, and the mixture's QA share
    style: str | None                  # qa: short | long chain of thought
    paths: dict[str, str]              # part -> where the published corpus keeps it (`fields` overrides)
    make: Callable[[dict, dict[str, str]], str] = field(repr=False)
    corpus: str = ""                   # the published corpus: hub id (licence)

    def document(self, rec: dict, fields: dict[str, str] | None = None) -> str:
        return self.make(rec, {**self.paths, **(fields or {})})


def _text(rec, p):
    return text_at(rec, p["text"])


def _qa(rec, p):
    question = text_at(rec, p["question"])
    try:
        solution = text_at(rec, p["solution"])
    except RecordError as err:
        if err.reason != "missing_field":
            raise
        solution = f"The answer is \\boxed{{{text_at(rec, p['answer'])}}}."
    return qa_frame(question, untag(solution))


def _openr1(rec, p):
    question = text_at(rec, p["question"])
    traces, verified = resolve(rec, p["traces"]), resolve(rec, p["verified"])
    for name, value in ((p["traces"], traces), (p["verified"], verified)):
        if not isinstance(value, list):
            raise RecordError("wrong_type", name, f"is a {type(value).__name__}, not a list")
    for i, (trace, ok) in enumerate(zip(traces, verified)):
        if ok is True:
            return qa_frame(question, untag(as_text(trace, f"{p['traces']}[{i}]")))
    raise RecordError("unverified", p["verified"], "marks no trace correct")


def _am(rec, p):
    return qa_frame(text_at(rec, p["question"]), untag(text_at(rec, p["solution"])))


def _instruct(rec, p):
    return f"User: {text_at(rec, p['instruction'])}\nAssistant: {untag(text_at(rec, p['response']))}"


def _chat(rec, p):
    return chat_frame(resolve(rec, p["messages"]), p["messages"])


FORMATS: dict[str, Format] = {f.name: f for f in [
    # generic: your own files, parts mapped with `fields:`
    Format("text", "text", None, {"text": "text"}, _text),
    Format("qa", "qa", "short", {"question": "question", "solution": "solution", "answer": "answer"}, _qa),
    Format("instruct", "instruct", None, {"instruction": "instruction", "response": "response"}, _instruct),
    # math web: the record's `text`
    Format("megamath-web-pro", "text", None, {"text": "text"}, _text,
           "LLM360/MegaMath (megamath-web-pro), OctoThinker/MegaMath-Web-Pro-Max (ODC-BY)"),
    Format("finemath", "text", None, {"text": "text"}, _text, "HuggingFaceTB/finemath (ODC-BY)"),
    Format("dclm", "text", None, {"text": "text"}, _text, "mlfoundations/dclm-baseline-1.0 (CC-BY-4.0)"),
    # short chain-of-thought QA
    Format("megamath-qa", "qa", "short", {"text": "text"}, _text, "LLM360/MegaMath (megamath-qa; ODC-BY)"),
    Format("openmathinstruct2", "qa", "short",
           {"question": "problem", "solution": "generated_solution", "answer": "expected_answer"}, _qa,
           "nvidia/OpenMathInstruct-2 (CC-BY-4.0)"),
    Format("numinamath", "qa", "short", {"question": "problem", "solution": "solution", "answer": "answer"}, _qa,
           "AI-MO/NuminaMath-CoT (Apache-2.0)"),
    # long chain-of-thought QA
    Format("openr1-math", "qa", "long",
           {"question": "problem", "traces": "generations", "verified": "correctness_math_verify"}, _openr1,
           "open-r1/OpenR1-Math-220k (Apache-2.0)"),
    Format("am-distilled", "qa", "long",
           {"question": "messages[role=user][0].content", "solution": "messages[role=assistant][-1].content"},
           _am, "a-m-team/AM-DeepSeek-R1-Distilled-1.4M (CC-BY-NC-4.0)"),
    # instruction data: conversations, every turn
    Format("tulu3-sft", "instruct", None, {"messages": "messages"}, _chat,
           "allenai/tulu-3-sft-mixture, allenai/tulu-3-sft-personas-instruction-following (ODC-BY)"),
    Format("ultrachat", "instruct", None, {"messages": "messages"}, _chat, "HuggingFaceH4/ultrachat_200k (MIT)"),
    Format("wildchat", "instruct", None, {"messages": "conversation"}, _chat, "allenai/WildChat-1M (ODC-BY)"),
]}


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; known: {', '.join(FORMATS)}") from None


def check_fields(fmt: Format, fields: dict[str, str]) -> None:
    """A `fields:` map names parts the format has, with paths that parse."""
    for part, path in fields.items():
        if part not in fmt.paths:
            raise ValueError(f"fields: format {fmt.name} has no part {part!r} (it reads {', '.join(fmt.paths)})")
        parse_path(path)
