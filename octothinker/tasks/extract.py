"""Answer extraction from model completions: boxed answers, "the answer is", last numbers, letters.

Pure string functions behind the one scoring path (evaluation, RL rewards, the probe). They avoid the
known defects of the DeepSeekMath-derived harness the study used: "(E)" is a valid letter, "1,000" is
one thousand, and a boxed answer with nested braces is read whole.

Model output is untrusted, so every function here is total and linear: it returns None rather than
raising, and no regular expression can backtrack over the whole text. Limits:
- a completion is read from its last MAX_COMPLETION_CHARS characters (answers come at the end);
- an answer longer than MAX_ANSWER_CHARS is never parsed as a number and is graded wrong;
- a number is at most MAX_NUMBER_CHARS characters (longer digit runs are not numbers we grade).
"""

from __future__ import annotations

import re
from fractions import Fraction

MAX_COMPLETION_CHARS = 100_000
MAX_ANSWER_CHARS = 1_000
MAX_NUMBER_CHARS = 200

_BOX_COMMANDS = ("\\boxed", "\\fbox")


def _tail(text: str) -> str:
    return text[-MAX_COMPLETION_CHARS:] if len(text) > MAX_COMPLETION_CHARS else text


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` (balanced braces) or `\\boxed 5`; None if there is none."""
    text = _tail(text)
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
        token = re.match(r" +([^\s$]{1,1000})", rest)
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


_ANSWER_IS = re.compile(r"(?:final answer is|the answer is|answer is|final answer:|answer:)[ \t]*", re.IGNORECASE)


def answer_is(text: str) -> str | None:
    """The text after the last "The answer is" / "Final Answer: The final answer is" marker."""
    text = _tail(text)
    last = None
    for last in _ANSWER_IS.finditer(text):
        pass
    if last is None:
        return None
    rest = text[last.end():]
    rest = re.split(r"I hope it is correct|\n", rest, maxsplit=1)[0].strip()
    rest = rest.rstrip(" .")
    if rest.startswith("$") and rest.endswith("$") and len(rest) > 1:
        rest = rest.strip("$").strip()
    boxed = last_boxed(rest)
    if boxed is not None:
        return boxed
    return rest or None


# A number: thousands groups ("1,000,000") first so the comma is not read as a separator, then plain
# integers, decimals and simple fractions. Bounded repetitions keep every match short.
_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3}){1,60}(?:\.\d{1,60})?(?!\d)|-?\d{1,100}(?:\.\d{1,60})?(?:/\d{1,100})?|-?\.\d{1,60}")


def last_number(text: str) -> str | None:
    """The last number in `text`, thousands separators removed ("1,000" -> "1000")."""
    found = None
    for found in _NUMBER.finditer(_tail(text)):
        pass
    return found.group(0).replace(",", "") if found else None


_UNIT_WORDS = re.compile(r"\\(?:text|mbox|mathrm)\{[^{}]*\}")
_FRAC = re.compile(r"(-?)\\[dt]?frac\{(-?\d+)\}\{(-?\d+)\}")
# A unit is a word of two or more letters ("7 cm", "18 eggs"), never one letter or a name of mathematics:
# "2n" is not 2, "3 pi" is not 3.
_NUMBER_THEN_UNITS = re.compile(r"(-?[\d.,]+)\s*([a-zA-Z]{2,})[a-zA-Z\s/^\d]*")
_MATH_WORDS = frozenset({"pi", "sqrt", "ln", "log", "exp", "sin", "cos", "tan", "cot", "sec", "csc", "mod", "times",
                         "cdot", "frac", "infty", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh"})
_THOUSANDS = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_FLOAT = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?", re.IGNORECASE)
_RATIO = re.compile(r"(-?\d+)/(\d+)")


def to_number(text: str | None) -> float | None:
    """Read `text` as one number if it is one: `$1,000.50`, `-3`, `50\\%`, `3/4`, `\\frac{3}{4}`, `7 cm`.
    None for anything else, including numbers too long to matter (over MAX_NUMBER_CHARS)."""
    if text is None or len(text) > MAX_ANSWER_CHARS:
        return None
    s = _UNIT_WORDS.sub("", text.strip())
    s = s.replace("\\$", "").replace("$", "").replace("\\%", "").replace("%", "").replace("\\!", "")
    s = s.replace("\\,", "").replace("{,}", ",").strip().rstrip(".")
    frac = _FRAC.fullmatch(s)
    if frac:
        s = f"{frac.group(1)}{frac.group(2)}/{frac.group(3)}".replace("--", "")
    units = _NUMBER_THEN_UNITS.fullmatch(s)  # anchored at both ends: one pass, no backtracking over starts
    if units and units.group(2).lower() not in _MATH_WORDS and not any(
            w.lower() in _MATH_WORDS for w in re.findall(r"[a-zA-Z]+", s[units.end(1):])):
        s = units.group(1)
    s = s.strip()
    if len(s) > MAX_NUMBER_CHARS:
        return None
    if _THOUSANDS.fullmatch(s):
        s = s.replace(",", "")
    try:
        ratio = _RATIO.fullmatch(s)
        if ratio:
            den = int(ratio.group(2))
            return float(Fraction(int(ratio.group(1)), den)) if den else None
        if _FLOAT.fullmatch(s):
            return float(s)
    except (ValueError, OverflowError, ZeroDivisionError):  # a 400-digit fraction is a wrong answer, not a crash
        return None
    return None


# Letter answers as models write them: "The final answer is (B).", "answer: b", "Answer: (c)", "\boxed{D}".
# A bare lower-case letter counts only where nothing but punctuation follows it ("the answer is a
# number" names no option).
_MARKER = r"(?:final answer is|the answer is|answer is|final answer|answer)\s*[:=]?\s*(?:option|choice)?\s*\$?\s*"
_LETTER_AFTER_MARKER = re.compile(
    _MARKER + r"(?:\(([A-Ea-e])\)|([A-E])(?![A-Za-z]))", re.IGNORECASE)
_PAREN_LETTER = re.compile(r"\(([A-Ea-e])\)")
_CLOSE_PAREN_LETTER = re.compile(r"(?:^|\s)([A-E])\)")
_BOXED_LETTER = re.compile(r"\(?\s*(?:\\text\{|\\mathrm\{|\\textbf\{)?\s*([A-Ea-e])\s*\}?\s*\)?(?:[\s.:)].*)?", re.DOTALL)


def choice_letter(text: str, letters: str = "ABCDE", fallback: bool = True) -> str | None:
    """The chosen option letter: `\\boxed{B}`, "the answer is (b)", "Answer: C", "final answer is d.",
    and with `fallback` a lone "(B)" or "B)"; upper or lower case, with or without parentheses."""
    text = _tail(text)
    boxed = last_boxed(text)
    if boxed:
        m = _BOXED_LETTER.fullmatch(boxed.strip()[:MAX_ANSWER_CHARS])
        if m and m.group(1).upper() in letters:
            return m.group(1).upper()
    found = None
    for m in _LETTER_AFTER_MARKER.finditer(text):
        letter = (m.group(1) or m.group(2)).upper()
        # The marker regex is case-insensitive, so group 2 also matches lower case: a bare lower-case
        # letter must still be followed by punctuation or the end.
        if m.group(2) and m.group(2).islower() and not re.match(r"\s*(?:$|[.,;:!)$\n])", text[m.end():]):
            continue
        if letter in letters:
            found = letter
    if found or not fallback:
        return found
    for pattern in (_PAREN_LETTER, _CLOSE_PAREN_LETTER):
        for m in pattern.finditer(text):
            if m.group(1).upper() in letters:
                found = m.group(1).upper()
        if found:
            return found
    return None


def extract_answer(completion: str, family: str, letters: str = "ABCDE", fallback: bool = True) -> str | None:
    """The answer a completion gives, by benchmark family: "number", "math" or "choice". Without
    `fallback`, only an answer the completion states as final (a box, "the answer is") counts, never the
    last number or letter it happened to write."""
    if family == "choice":
        return choice_letter(completion, letters, fallback)
    candidate = last_boxed(completion)
    if candidate is None:
        candidate = answer_is(completion)
    if candidate is None:
        return last_number(completion) if fallback else None
    if family == "number":
        # "The answer is 18 eggs." or "$1,200 per day": keep the number; a word answer stays a word.
        value = to_number(candidate)
        if value is not None and value == value and abs(value) != float("inf"):
            return str(int(value)) if value.is_integer() else repr(value)
        if "\\" not in candidate:
            return last_number(candidate) or candidate
    return candidate
