"""The release's question cleaning: each of its process functions (`process_utils.py`), as rules.

What a process function does to a record (strip this field, add a full stop, re-letter the options) is
written here; the words it puts around the question are read from the user's copy (`ReleaseCopy.
assignments`). Each function returns the question the release prompts with and the gold it grades
against: a string, or for MATH a list (the answers `extract_math_answer` reads from the solution);
TabMWP's also says whether the problem offers choices (graded by letterless string match then).
"""

from __future__ import annotations

from collections.abc import Callable

import regex

from octothinker.errors import DataError
from octothinker.tasks.release.checkout import ReleaseCopy
from octothinker.tasks.release.answers import extract_math_answer

def _field(rec: dict, name: str, where: str):
    if name not in rec:
        raise DataError(f"{where}: missing field '{name}'")
    return rec[name]


def _text(rec: dict, name: str, where: str) -> str:
    value = _field(rec, name, where)
    if not isinstance(value, str):
        raise DataError(f"{where}: field '{name}' is a {type(value).__name__}, not text")
    return value


def _as_text(rec: dict) -> dict:
    """A record's fields as an f-string shows them (`str(27.0)` is "27.0", a list its Python form)."""
    return {k: v if isinstance(v, str) else str(v) for k, v in rec.items()}


def _rendered(copy: ReleaseCopy, function: str, names: dict, index: int = -1) -> str:
    return copy.render(function, copy.assignments(function, "question")[index], names)


def _gsm8k(copy, rec, where):
    return _text(rec, "question", where), _text(rec, "answer", where).replace(",", "")


def _math(copy, rec, where):
    question = _text(rec, "problem", where)
    return question, extract_math_answer(question, _text(rec, "solution", where))


def _math500(copy, rec, where):
    return _text(rec, "problem", where), _field(rec, "answer", where)


def _olympiad(copy, rec, where):
    final = _field(rec, "final_answer", where)
    if not isinstance(final, list) or not final:
        raise DataError(f"{where}: field 'final_answer' is not a list of answers")
    return _text(rec, "question", where), final[0]  # the context field is not shown, as in the release


def _amc(copy, rec, where):
    return _text(rec, "problem", where), str(_field(rec, "answer", where))  # 27.0 stays "27.0"


def _sat(copy, rec, where):
    options = "(" + _text(rec, "options", where).strip()  # "A) .. B) .." -> "(A) .. (B) .."
    if not options.startswith("(A"):
        raise DataError(f"{where}: field 'options' does not start with option A")
    for letter in "BCDEFG":
        options = options.replace(f" {letter}) ", f" ({letter}) ")
    _text(rec, "question", where)
    names = {"item": _as_text(rec), "options": options}
    return _rendered(copy, "process_math_sat", names), _text(rec, "Answer", where)


def _ocw(copy, rec, where):
    return _text(rec, "problem", where).strip(), _text(rec, "answer", where)


def _mmlu(copy, rec, where):
    options = _field(rec, "options", where)
    if not isinstance(options, list):
        raise DataError(f"{where}: field 'options' is not a list")
    options = ", ".join(f"({label}) {str(option).strip()}" for label, option in zip("ABCD", options))
    # options past D are kept unlettered, as zip leaves them
    rest = [str(o) for o in _field(rec, "options", where)[4:]]
    options = ", ".join([options, *rest]) if rest else options
    _text(rec, "question", where)
    return _rendered(copy, "process_mmlu_stem", {"item": _as_text(rec), "options": options}), _text(rec, "answer", where)


def _tabmwp(copy, rec, where):
    fields = _as_text(rec)
    for name in ("table_title", "table", "question", "choices"):
        _field(rec, name, where)
    fn = "process_tabmwp"
    title = copy.render(fn, copy.assignments(fn, "title_str")[0], {"item": fields}) if rec["table_title"] else ""
    parts = copy.assignments(fn, "question")
    question = copy.render(fn, parts[0], {"item": fields, "title_str": title})
    question += copy.render(fn, parts[1], {"item": fields})
    if rec["choices"]:
        question += copy.render(fn, parts[2], {"item": fields})
    return question, str(_field(rec, "answer", where)), bool(rec["choices"])


def _mathqa(copy, rec, where):
    question = _text(rec, "problem", where).strip()
    question = question[:1].upper() + question[1:]
    # "a ) 5600 , b ) 6000" -> "(A) 5600, (B) 6000": lowercase letters only, as the release's pattern
    options = regex.sub(r"([a-z])\s*\)\s*([^,]+)\s*,?\s*",
                        lambda m: f"({m.group(1).upper()}) {m.group(2).strip()}, ",
                        _text(rec, "options", where)).strip().rstrip(",")
    names = {"question": question, "options": options}
    return _rendered(copy, "process_mathqa", names), str(_field(rec, "correct", where))


def _svamp(copy, rec, where):
    body = _text(rec, "Body", where).strip()
    if not body.endswith("."):
        body += "."
    _text(rec, "Question", where)
    return _rendered(copy, "process_svamp", {"body": body, "item": _as_text(rec)}), str(_field(rec, "Answer", where))


def _asdiv(copy, rec, where):
    answer = regex.sub(r"\(.*?\)", "", _text(rec, "answer", where))  # "9 (apples)" -> "9 " (space kept)
    _text(rec, "body", where), _text(rec, "question", where)
    return _rendered(copy, "process_asdiv", {"item": _as_text(rec)}), answer


def _mawps(copy, rec, where):
    return _text(rec, "input", where), str(_field(rec, "target", where))


PROCESS: dict[str, Callable[[ReleaseCopy, dict, str], tuple]] = {
    "process_gsm8k_test": _gsm8k,
    "process_math_test": _math,
    "process_math500": _math500,
    "process_olympiad_bench": _olympiad,
    "process_amc": _amc,
    "process_math_sat": _sat,
    "process_ocwcourses": _ocw,
    "process_mmlu_stem": _mmlu,
    "process_tabmwp": _tabmwp,
    "process_mathqa": _mathqa,
    "process_svamp": _svamp,
    "process_asdiv": _asdiv,
    "process_mawps": _mawps,
}
