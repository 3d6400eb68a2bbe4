"""The release's verdicts (DeepSeekMath's `eval_script.py`, `eval_utils.py`, `ocwcourses_eval_utils.py` as
the release ships them), as rules, quirks included:

- a number is right within 1e-3 absolute, or when it is the gold times 100 or over 100 (percentages);
- a list of predictions is right when every one matches a gold and every gold is matched, so a MATH-500
  completion with two different boxes is wrong even when its last box is right;
- OCW: a numeric gold is matched within 1% only near zero (numpy's default `isclose` elsewhere), an
  expression only by its normalised text (the symbolic check after it is unreachable in the release);
- OlympiadBench goes to math-verify, `verify(prediction, gold)` in that order.

One thing is done differently, for safety: the release runs `eval()` on OCW answers and sympy's
`parse_expr` (which calls `eval`) on any answer. Model output is never executed here: OCW's arithmetic
is evaluated from its syntax tree, and `parse_expr` gets only answers made of mathematical characters
(no quotes, no attribute access), with sympy's names less plotting, printing, code generation and the
functions that read a string, and no builtins but arithmetic ones: no string can be made, none read.

sympy's `parse_latex` needs ANTLR 4.11, which cannot live beside the 4.9 that our verl checks' hydra
needs: the judging workers put a private copy first on their path (`antlr_paths`). Without one, LaTeX
answers cannot be read as the release reads them; `ReleaseTask.score` says so once, loudly.
`bench/release_parity.py` measures the agreement against the release's own code (BENCHMARKS.md).

Every judgement runs in a killable worker (`tasks.grading.VerifyPool`) with the release's 15 s limit:
a judgement over it is wrong, as in the release.
"""

from __future__ import annotations

import ast
import math
import operator
import re

import regex

JUDGE_TIMEOUT_S = 15.0  # the release's per-answer limit (pebble's timeout in run_cot_eval.evaluate)
INVALID = "[invalidanswer]"


# --- reading mathematics -------------------------------------------------------------------------------

SYMPY_ANTLR = "4.11"  # the ANTLR runtime sympy's LaTeX parser was generated with (the release pins 4.11.1)
ANTLR_DIR_ENV = "OCTO_SYMPY_ANTLR"


def antlr_paths() -> tuple[str, ...] | None:
    """Where the judging workers find ANTLR 4.11 for sympy's `parse_latex`: () when this environment has
    it; else a folder holding it (`$OCTO_SYMPY_ANTLR`, or the checkout's `.antlr4-4.11`, which `make
    install` fills: it cannot live beside the ANTLR 4.9 that our verl checks' hydra needs); None when
    neither has it."""
    import os
    from importlib.metadata import PackageNotFoundError, version
    from pathlib import Path

    try:
        if version("antlr4-python3-runtime").startswith(SYMPY_ANTLR):
            return ()
    except PackageNotFoundError:
        pass
    candidates = [os.environ.get(ANTLR_DIR_ENV), str(Path(__file__).resolve().parents[3] / ".antlr4-4.11")]
    for folder in filter(None, candidates):
        if any(Path(folder).glob(f"antlr4_python3_runtime-{SYMPY_ANTLR}*.dist-info")):
            return (folder,)
    return None


def parse_latex(text: str):
    """The release's LaTeX reader: sympy's `parse_latex` (ANTLR backend, not strict: it reads the longest
    prefix it can, so "3, 5, 7" reads as 3). Judging workers run with ANTLR 4.11 first on their path."""
    from sympy.parsing.latex import parse_latex as sympy_parse_latex

    return sympy_parse_latex(text)


_EXPR_CHARS = re.compile(r"[A-Za-z0-9\s+\-*/^().,=!<>\[\]{}_]*")
# `x.name` would hand a function a string (a symbol's name) without quotes, and sympify evaluates strings
_ATTRIBUTE = re.compile(r"\.\s*[A-Za-z_]")
_UNSAFE_SYMPY = ("sympy.plotting", "sympy.printing", "sympy.interactive", "sympy.utilities", "sympy.testing",
                 "sympy.parsing", "sympy.external", "sympy.codegen")
_PURE_BUILTINS = ("abs", "divmod", "max", "min", "pow", "round", "sum")
_STRING_READERS = ("var", "init_session", "sympify", "S", "symbols", "N")  # each would evaluate a string
_NAMESPACE: dict | None = None


def _namespace() -> dict:
    """sympy's names as `parse_expr` sees them, less those with effects (plotting, printing to files,
    code generation), with the pure numeric builtins and no others."""
    global _NAMESPACE
    if _NAMESPACE is None:
        import builtins

        import sympy

        names = {}
        for name in dir(sympy):
            obj = getattr(sympy, name)
            module = getattr(obj, "__module__", "") or ""
            if name.startswith("_") or module.startswith(_UNSAFE_SYMPY) or name in _STRING_READERS:
                continue
            names[name] = obj
        names.update({name: getattr(builtins, name) for name in _PURE_BUILTINS})
        names["__builtins__"] = {}
        _NAMESPACE = names
    return _NAMESPACE


def parse_expr(text: str):
    """sympy's `parse_expr` on text that can only be mathematics: letters, digits, operators and brackets,
    no quotes, no attribute access, no double underscores, no builtins but arithmetic ones, and none of
    sympy's functions that read a string. So no string can be made, and none evaluated."""
    if not _EXPR_CHARS.fullmatch(text) or "__" in text or _ATTRIBUTE.search(text) or len(text) > 1000:
        raise ValueError("not an expression")
    from sympy.parsing.sympy_parser import parse_expr as sympy_parse_expr

    return sympy_parse_expr(text, global_dict=dict(_namespace()))


def _parse(text):
    for reader in (parse_latex, parse_expr):
        try:
            return reader(text)
        except Exception:  # noqa: BLE001  (a text neither reader takes stays text, as in the release)
            pass
    return text


def symbolic_equal(a: str, b: str) -> bool:
    from sympy import N, simplify

    a, b = _parse(a), _parse(b)
    if isinstance(a, str) or isinstance(b, str):
        # the release would subtract (a TypeError) and then `N()` the text, which sympifies (evaluates)
        # it; its reading failed above, so no number comes of it
        return False
    try:
        if simplify(a - b) == 0:
            return True
    except Exception:  # noqa: BLE001
        pass
    try:
        return math.isclose(N(a), N(b), abs_tol=1e-3)
    except Exception:  # noqa: BLE001  (symbols, intervals, sets: not numbers)
        return False


# --- the release's numeric and symbolic equality --------------------------------------------------------

def parse_digits(text) -> float | None:
    """"1,234" -> 1234.0, "25%" or "25\\%" -> 0.25; None when not a number (Python's float reading)."""
    text = regex.sub(",", "", str(text))
    try:
        return float(text)
    except ValueError:
        if text.endswith("%"):
            text = text[:-1].removesuffix("\\")
            try:
                return float(text) / 100
            except ValueError:
                pass
    return None


def _bracketed(text: str) -> bool:
    return regex.match(r"(\(|\[).+(\)|\])", text) is not None


_MATRIX_OPEN = ("\\begin{pmatrix}", "\\begin{bmatrix}")
_MATRIX_CLOSE = ("\\end{pmatrix}", "\\end{bmatrix}")


def _matrix_rows(text: str) -> list[list[str]]:
    body = text[len("\\begin{pmatrix}"): -len("\\end{pmatrix}")]
    return [line.strip().split("&") for line in body.split("\\\\") if line.strip()]


def math_equal(prediction, reference) -> bool:
    if str(prediction) == str(reference):
        return True
    p, r = parse_digits(prediction), parse_digits(reference)
    if p is not None and r is not None:
        for target in (r / 100, r, r * 100):
            try:
                if math.isclose(target, p, abs_tol=1e-3):
                    return True
            except (OverflowError, ValueError):
                continue
        return False
    if not prediction and prediction not in (0, False):
        return False
    reference, prediction = str(reference).strip(), str(prediction).strip()
    if _bracketed(prediction) and _bracketed(reference):
        ps, rs = prediction[1:-1].split(","), reference[1:-1].split(",")
        if len(ps) == len(rs) and all(math_equal(a, b) for a, b in zip(ps, rs)):
            return True
    if prediction.startswith(_MATRIX_OPEN) and prediction.endswith(_MATRIX_CLOSE) \
            and reference.startswith(_MATRIX_OPEN) and reference.endswith(_MATRIX_CLOSE):
        p_rows, r_rows = _matrix_rows(prediction), _matrix_rows(reference)
        if len(p_rows) == len(r_rows) and all(
                len(pr) == len(rr) and all(math_equal(a, b) for a, b in zip(pr, rr))
                for pr, rr in zip(p_rows, r_rows)):
            return True
    if prediction.count("=") == 1 and reference.count("=") == 1:
        pl, pr = prediction.split("=")
        rl, rr = reference.split("=")
        pred, ref = f"{pl.strip()} - ({pr.strip()})", f"{rl.strip()} - ({rr.strip()})"
        if symbolic_equal(pred, ref) or symbolic_equal(f"-({pred})", ref):
            return True
    elif prediction.count("=") == 1 and len(prediction.split("=")[0].strip()) <= 2 and "=" not in reference:
        if math_equal(prediction.split("=")[1], reference):
            return True
    elif reference.count("=") == 1 and len(reference.split("=")[0].strip()) <= 2 and "=" not in prediction:
        if math_equal(prediction, reference.split("=")[1]):
            return True
    return symbolic_equal(prediction, reference)


def is_correct(pred, answer, prec: float = 1e-3) -> bool:
    if isinstance(pred, list) and isinstance(answer, list):
        matched_p, matched_a = set(), set()
        for i, p in enumerate(pred):
            for j, a in enumerate(answer):
                if is_correct(p, a, prec):
                    matched_p.add(i)
                    matched_a.add(j)
        return len(matched_p) == len(pred) and len(matched_a) == len(answer)
    if isinstance(pred, str) and isinstance(answer, str):
        if "\\cup" in pred and "\\cup" in answer:
            return is_correct(pred.split("\\cup"), answer.split("\\cup"), prec)
        try:
            if abs(float(regex.sub(",", "", pred)) - float(regex.sub(",", "", answer))) < prec:
                return True
        except (ValueError, OverflowError):
            pass
        return bool(answer and pred == answer) or math_equal(pred, answer)
    if isinstance(pred, list) and isinstance(answer, str):
        return is_correct(pred, [answer], prec)
    return False  # the release stops the whole evaluation here


# --- OCW (Minerva's rules) -----------------------------------------------------------------------------

_OCW_UNITS = ("eV", " \\mathrm{~kg} \\cdot \\mathrm{m} / \\mathrm{s}", " kg m/s", "kg*m/s", "kg", "m/s", "m / s",
              "m s^{-1}", "\\text{ m/s}", " \\mathrm{m/s}", " \\text{ m/s}", "g/mole", "g/mol", "\\mathrm{~g}",
              "\\mathrm{~g} / \\mathrm{mol}", "W", "erg/s", "years", "year", "cm")
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
           ast.BitXor: operator.xor, ast.BitOr: operator.or_, ast.BitAnd: operator.and_,
           ast.LShift: operator.lshift, ast.RShift: operator.rshift}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}


def _arithmetic(node):
    """What Python's `eval` makes of a sum of numbers (`^` is exclusive or, as there), never more: any
    name, call or attribute is refused."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _arithmetic(node.left), _arithmetic(node.right)
        if isinstance(node.op, (ast.Pow, ast.LShift)) and abs(right) > 10_000:
            raise ValueError("too large")
        return _BINOPS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_arithmetic(node.operand))
    raise ValueError("not arithmetic")


def normalize_numeric(text: str):
    for unit in _OCW_UNITS:
        text = text.replace(unit, "").strip()
    for unit in ("m", "s", "cm"):
        text = text.replace("\\mathrm{" + unit + "}", "").replace("\\mathrm{~" + unit + "}", "").strip()
    text = text.strip("$")
    try:
        return float(_arithmetic(ast.parse(text.strip(" \t"), mode="eval").body))
    except (SyntaxError, ValueError, TypeError, ZeroDivisionError, OverflowError, MemoryError, RecursionError):
        pass
    try:
        expr = parse_latex(text)
        return float(expr) if expr.is_number else INVALID
    except Exception:  # noqa: BLE001
        return INVALID


def numeric_equality(n1: float, n2: float, threshold: float = 0.01) -> bool:
    import numpy as np

    if np.isclose(n1, 0) or np.isclose(n2, 0) or np.isclose(n1 - n2, 0):
        return bool(np.abs(n1 - n2) < threshold * (n1 + n2) / 2)
    return bool(np.isclose(n1, n2))


def normalize_equation(text: str):
    import sympy

    if text.startswith("\\["):
        text = text[2:]
    if text.endswith("\\]"):
        text = text[:-2]
    text = text.replace("\\left(", "(").replace("\\right)", ")").replace("\\\\", "\\")
    if text.startswith("$") or text.endswith("$"):
        text = text.strip("$")
    try:
        expr = parse_latex(text)
    except Exception:  # noqa: BLE001
        return INVALID
    return expr if isinstance(expr, sympy.core.relational.Equality) else INVALID


_TEX_SUBSTITUTIONS = (("an ", ""), ("a ", ""), (".$", "$"), ("\\$", ""), (r"\ ", ""), (" ", ""), ("mbox", "text"),
                      (",\\text{and}", ","), ("\\text{and}", ","), ("\\text{m}", "\\text{}"))
_TEX_REMOVED = ("square", "ways", "integers", "dollars", "mph", "inches", "ft", "hours", "km", "units", "\\ldots",
                "sue", "points", "feet", "minutes", "digits", "cents", "degrees", "cm", "gm", "pounds", "meters",
                "meals", "edges", "students", "childrentickets", "multiples", "\\text{s}", "\\text{.}",
                "\\text{\ns}", "\\text{}^2", "\\text{}^3", "\\text{\n}", "\\text{}", r"\mathrm{th}", r"^\circ",
                r"^{\circ}", r"\;", r",\!", "{,}", '"', "\\dots")


def normalize_tex(text: str) -> str:
    """Minerva's normalisation of a final answer (Lewkowycz et al. 2022, appendix D)."""
    text = text.split("=")[-1]
    for before, after in _TEX_SUBSTITUTIONS:
        text = text.replace(before, after)
    for removed in _TEX_REMOVED:
        text = text.replace(removed, "")
    text = re.sub(r"(.*?)(\$)(.*?)(\$)(.*)", "$\\3$", text)
    text = re.sub(r"(\\text\{)(.*?)(\})", "\\2", text)
    text = re.sub(r"(\\textbf\{)(.*?)(\})", "\\2", text)
    text = re.sub(r"(\\overline\{)(.*?)(\})", "\\2", text)
    text = re.sub(r"(\\boxed\{)(.*)(\})", "\\2", text)
    text = re.sub(r"(frac)([^{])(.)", "frac{\\2}{\\3}", text)
    text = re.sub(r"(sqrt)([^{])", "sqrt{\\2}", text)
    text = text.replace("$", "")
    if text.replace(",", "").isdigit():
        text = text.replace(",", "")
    return text


def _ocw(pred: str, answer: str) -> bool:
    try:
        float(answer)
        normalize, equal = normalize_numeric, numeric_equality
    except ValueError:
        if "=" in answer:
            normalize, equal = normalize_equation, operator.eq
        else:
            normalize, equal = normalize_tex, operator.eq  # text equality: the release's sympy step is dead code
    gold = normalize(answer)
    raw = pred if pred else INVALID
    model = normalize(raw)
    if raw == INVALID or (isinstance(model, str) and model == INVALID):
        return False
    try:
        return bool(equal(model, gold))
    except Exception:  # noqa: BLE001
        return False


# --- the release's eval functions, by name -------------------------------------------------------------

def _dedupe(items: list) -> list:
    return [a for i, a in enumerate(items) if a not in items[:i]]


def _eval_math(pred, answer) -> bool:
    if isinstance(pred, list) and isinstance(answer, list):
        answer = _dedupe(answer)
        pred = _dedupe(pred)[-len(answer):]  # boxes of non-answers before the answers are dropped
    return is_correct(pred, answer)


def _eval_olympiad(pred, answer) -> bool:
    from math_verify import parse, verify

    try:
        return bool(verify(parse(pred[0] if len(pred) > 0 else ""), parse(answer)))
    except Exception:  # noqa: BLE001
        return False


def _same_letter(pred, answer) -> bool:
    return isinstance(pred, str) and isinstance(answer, str) and pred.lower() == answer.lower()


def _single(pred, answer) -> bool:
    return isinstance(pred, str) and isinstance(answer, str) and is_correct(pred, answer)


EVAL = {
    "eval_last_single_answer": _single,
    "eval_math": _eval_math,
    "eval_olympiad_math": _eval_olympiad,
    "eval_math_sat": _same_letter,
    "eval_mmlu_stem": _same_letter,
    "eval_mathqa": _same_letter,
    "eval_ocwcourses": lambda pred, answer: isinstance(pred, str) and isinstance(answer, str) and _ocw(pred, answer),
}


def judge(eval_fn: str, pred, answer, choice: bool = False) -> bool:
    """The release's verdict by its eval function's name (TabMWP: a choice by text, else a number)."""
    if eval_fn == "eval_tabmwp":
        return _same_letter(pred, answer) if choice else _single(pred, answer)
    return bool(EVAL[eval_fn](pred, answer))
