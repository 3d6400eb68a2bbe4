"""Answer extraction from model completions: boxed answers, "the answer is", last numbers, letters.

Pure string functions, shared by evaluation and the RL reward. They avoid the known defects of the
DeepSeekMath-derived harness the study used: "(E)" is a valid letter, "1,000" is one thousand, and a
boxed answer with nested braces is read whole.
"""

from __future__ import annotations

import re

_BOX_COMMANDS = ("\\boxed", "\\fbox")


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` (balanced braces) or `\\boxed 5`; None if there is none."""
    start, cmd_len = -1, 0
    for cmd in _BOX_COMMANDS:
        pos = text.rfind(cmd)
        if pos > start:
            start, cmd_len = pos, len(cmd)
    if start < 0:
        return None
    rest = text[start + cmd_len:]
    if rest.startswith(" "):
        # `\boxed 5` form: the answer runs to the next space or `$`.
        token = re.match(r"\s+([^\s$]+)", rest)
        return token.group(1) if token else None
    if not rest.startswith("{"):
        return None
    depth = 0
    for j, ch in enumerate(rest):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return rest[1:j].strip()
    return None  # unbalanced: the completion was cut inside the box


def count_boxed(text: str) -> int:
    return sum(text.count(cmd + "{") + text.count(cmd + " ") for cmd in _BOX_COMMANDS)


_ANSWER_IS = re.compile(r"(?:final answer is|the answer is|answer is|final answer:|answer:)\s*", re.IGNORECASE)


def answer_is(text: str) -> str | None:
    """The text after the last "The answer is" / "Final Answer: The final answer is" marker."""
    matches = list(_ANSWER_IS.finditer(text))
    if not matches:
        return None
    rest = text[matches[-1].end():]
    rest = re.split(r"I hope it is correct|\n", rest, maxsplit=1)[0].strip()
    rest = rest.rstrip(" .")
    if rest.startswith("$") and rest.endswith("$") and len(rest) > 1:
        rest = rest.strip("$").strip()
    boxed = last_boxed(rest)
    if boxed is not None:
        return boxed
    return rest or None


# A number: thousands groups ("1,000,000") first so the comma is not read as a separator, then plain
# integers, decimals and simple fractions.
_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?(?:/\d+)?|-?\.\d+")


def last_number(text: str) -> str | None:
    """The last number in `text`, thousands separators removed ("1,000" -> "1000")."""
    found = _NUMBER.findall(text)
    return found[-1].replace(",", "") if found else None


_UNIT_WORDS = re.compile(r"\\(?:text|mbox|mathrm)\{[^{}]*\}")


def to_number(text: str | None) -> float | None:
    """Read `text` as one number if it is one: `$1,000.50`, `-3`, `50\\%`, `3/4`, `\\frac{3}{4}`, `7 cm`."""
    if text is None:
        return None
    s = text.strip()
    s = _UNIT_WORDS.sub("", s)
    s = s.replace("\\$", "").replace("$", "").replace("\\%", "").replace("%", "").replace("\\!", "")
    s = s.replace("\\,", "").replace("{,}", ",").strip().rstrip(".")
    s = re.sub(r"^\\[dt]?frac\{(-?\d+)\}\{(-?\d+)\}$", r"\1/\2", s)
    s = re.sub(r"^-\\[dt]?frac\{(\d+)\}\{(\d+)\}$", r"-\1/\2", s)
    if re.fullmatch(r"-?(?:\d+(?:\.\d*)?|\.\d+)e[+-]?\d+", s, flags=re.IGNORECASE):
        return float(s)
    s = re.sub(r"\s*[a-zA-Z][a-zA-Z\s/^\d]*$", "", s) if re.match(r"^-?[\d.,]+\s*[a-zA-Z]", s) else s
    s = s.strip()
    if re.fullmatch(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?", s):
        s = s.replace(",", "")
    try:
        if re.fullmatch(r"-?\d+/\d+", s):
            num, den = s.split("/")
            return int(num) / int(den) if int(den) else None
        if re.fullmatch(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?", s, flags=re.IGNORECASE):
            return float(s)
    except ValueError:
        return None
    return None


_LETTER_PATTERNS = (
    r"answer is:?\s*\(?([A-E])\b\)?",
    r"answer:\s*\(?([A-Ea-e])\b\)?",
    r"\(([A-E])\)",
    r"(?:^|\s)([A-E])\)",
)


def choice_letter(text: str, letters: str = "ABCDE") -> str | None:
    """The chosen option letter: `\\boxed{B}`, "the answer is (B)", "answer: b", "(B)", "B)"."""
    boxed = last_boxed(text)
    if boxed:
        m = re.fullmatch(r"\(?\s*(?:\\text\{)?([A-Ea-e])\}?\s*\)?", boxed.strip())
        if m and m.group(1).upper() in letters:
            return m.group(1).upper()
    for pattern in _LETTER_PATTERNS:
        found = [m.upper() for m in re.findall(pattern, text, flags=re.IGNORECASE if "a-e" in pattern else 0)]
        found = [f for f in found if f in letters]
        if found:
            return found[-1]
    return None


def extract_answer(completion: str, family: str, letters: str = "ABCDE") -> str | None:
    """The answer a completion gives, by benchmark family: "number", "math" or "choice"."""
    if family == "choice":
        return choice_letter(completion, letters)
    candidate = last_boxed(completion)
    if candidate is None:
        candidate = answer_is(completion)
    if candidate is None:
        return last_number(completion)
    if family == "number":
        # "The answer is 18 eggs." or "$1,200 per day": keep the number; a word answer stays a word.
        value = to_number(candidate)
        if value is not None:
            return str(int(value)) if value.is_integer() else repr(value)
        if "\\" not in candidate:
            return last_number(candidate) or candidate
    return candidate
