"""Grading: is an extracted answer equivalent to the gold one?

Cheap checks run in-process (letters, normalised strings, numbers: an integer gold exactly, a decimal
within DeepSeekMath's tolerance, OCW by Minerva's rule; `numbers_match`). Everything else
goes to math-verify (`verify(parse(gold), parse(pred))`; gold first, it is asymmetric by design) in
worker processes with a hard per-answer time limit. math-verify's own timeout relies on SIGALRM, which
does nothing off the main thread, and some inputs (towers of powers) take seconds or hang: an answer
over its limit kills the one worker grading it (the others keep going), is graded wrong, and is
named in one warning line, cut short. Answers longer than MAX_ANSWER_CHARS are graded wrong unparsed.
"""

from __future__ import annotations

import atexit
import logging
import math
import multiprocessing as mp
import re
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait

from octothinker.errors import DataError
from octothinker.tasks.extract import MAX_ANSWER_CHARS, to_number

DEFAULT_TIMEOUT_S = 2.0  # the study's verifier used 2 s per answer
START_TIMEOUT_S = 60.0   # a worker's start (importing sympy and math-verify) is not an answer's time

log = logging.getLogger("octothinker.grading")


# A gold answer: one answer, or several accepted answers (a response matching any one is correct).
Gold = str | tuple[str, ...]


def gold_answer(value, where: str, field: str) -> Gold:
    """A record's gold answer: text or a number; a list of them is a set of accepted answers (one alone
    is that answer). Anything else (a dict, a nested list, an empty list) is bad input, named in one line,
    never turned into the text of a Python list."""
    def one(item, path):
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            kind = "list" if isinstance(item, list) else "dict" if isinstance(item, dict) else type(item).__name__
            raise DataError(f"{where}: field '{path}' is a {kind}, not an answer")
        if isinstance(item, float) and item.is_integer():
            item = int(item)
        return str(item).strip()

    if isinstance(value, (list, tuple)):
        answers = tuple(a for a in (one(item, f"{field}[{i}]") for i, item in enumerate(value)) if a)
        if not answers:
            raise DataError(f"{where}: field '{field}' is an empty list of answers")
        return answers[0] if len(answers) == 1 else answers
    return one(value, field)


def accepted(gold: Gold) -> tuple[str, ...]:
    return gold if isinstance(gold, tuple) else (gold,)


Tolerance = str  # "deepseek" | "minerva": how near a number must be (numbers_match)


@dataclass(frozen=True)
class GradeItem:
    pred: str | None
    gold: Gold
    family: str = "math"          # "number", "math" or "choice"
    tolerance: Tolerance = "deepseek"


def normalize_text(s: str) -> str:
    """MATH-style normalisation for string comparison: spacing, `\\left`, `\\dfrac`, degrees, `$`."""
    s = s.strip()[:MAX_ANSWER_CHARS]
    s = re.sub(r"\\text\{\s*([^{}]*)\}", r"\1", s)
    for old, new in (("\\left", ""), ("\\right", ""), ("\\!", ""), ("\\,", ""), ("\\;", ""), ("\\ ", ""),
                     ("dfrac", "frac"), ("tfrac", "frac"), ("^\\circ", ""), ("^{\\circ}", ""),
                     ("\\%", ""), ("%", ""), ("\\$", ""), ("$", "")):
        s = s.replace(old, new)
    s = re.sub(r"^[a-zA-Z]\s*=\s*", "", s)  # "x = 5" answers the question "5" does
    s = re.sub(r"\s+", "", s).rstrip(".").lower()
    return s


def _written_integer(text: str) -> bool:
    """Is the gold written as a whole number ("70000", "1,000", "-3"), not a decimal or a fraction?"""
    return re.fullmatch(r"-?\d{1,3}(?:,\d{3})+|-?\d+", text.strip().strip("$").replace("\\!", "")) is not None


def numbers_match(pred: float, gold: float, gold_text: str, tolerance: Tolerance = "deepseek") -> bool:
    """DeepSeekMath's tolerances where they really apply:
    - a gold written as an integer needs that integer (no tolerance accepts 70001 for 70000);
    - `deepseek`: a decimal gold within 1e-3 (its `is_correct`), and never by more than 1% of the gold,
      so that an absolute tolerance cannot accept 0 for a gold of 0.0005;
    - `minerva` (OCW): Minerva's `numeric_equality`: within 1% only where one side or the difference is
      close to zero, numpy's `isclose` (relative 1e-5) everywhere else; never 1% far from zero; and,
      unlike the rule as written, a number always equals itself (it rejects -10.0 for -10)."""
    if not (math.isfinite(pred) and math.isfinite(gold)):
        return False
    if _written_integer(gold_text) and tolerance == "deepseek":
        return pred == gold
    if tolerance == "minerva":
        if pred == gold:  # Minerva's rule as written rejects equal numbers of sum <= 0 (-10.0 for -10)
            return True
        near_zero = lambda x: abs(x) <= 1e-8  # noqa: E731  (numpy's isclose(x, 0): atol 1e-8)
        if near_zero(pred) or near_zero(gold) or near_zero(pred - gold):
            return abs(pred - gold) < 0.01 * (pred + gold) / 2
        return abs(pred - gold) <= 1e-8 + 1e-5 * abs(gold)
    return abs(pred - gold) < 1e-3 and abs(pred - gold) <= 0.01 * abs(gold)


def _cheap_grade(item: GradeItem) -> bool | None:
    """True/False when decidable without sympy; None to ask math-verify."""
    if item.pred is None or not item.pred.strip() or len(item.pred) > MAX_ANSWER_CHARS:
        return False
    if item.family == "choice":
        return item.pred.strip().upper() == item.gold.strip().upper()
    if normalize_text(item.pred) == normalize_text(item.gold):
        return True
    a, b = to_number(item.pred), to_number(item.gold)
    if a is not None and b is not None:
        return numbers_match(a, b, item.gold, item.tolerance)
    if item.family == "number" and "\\" not in item.pred and "\\" not in item.gold:
        # Plain-text answers ("Yes", "3:30 p.m.", "Rug B"): the normalised strings already differed.
        return False
    return None


def _verify_worker(gold: str, pred: str) -> bool:
    from math_verify import parse, verify

    try:
        gold_parsed = parse(f"\\boxed{{{gold}}}")
        pred_parsed = parse(f"\\boxed{{{pred}}}")
        if not gold_parsed or not pred_parsed:
            return False
        return bool(verify(gold_parsed, pred_parsed))
    except Exception:  # math-verify raises on malformed LaTeX; a parse failure is a wrong answer
        return False


def _readable_worker(answer: str) -> bool:
    """Does math-verify read `answer` as mathematics (not only as a raw string)?"""
    from math_verify import parse

    try:
        return any(not isinstance(x, str) for x in parse(f"\\boxed{{{answer}}}"))
    except Exception:  # malformed LaTeX
        return False


def _serve(conn, paths: tuple[str, ...] = ()) -> None:
    """A worker: answer (function, arguments) requests until the pipe closes. Ctrl-C reaches every
    process of the terminal's group: the worker leaves it to its parent, which stops it, so an
    interrupted run prints one line, not a traceback per worker. `paths` go first on the worker's
    import path (a library version the worker alone needs)."""
    import signal
    import sys
    import warnings

    sys.path[:0] = list(paths)

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)  # math-verify logs the offending input in full on its own errors
    try:
        import math_verify  # noqa: F401  (imported before "ready", so no answer pays for it)
    except ImportError:
        pass
    conn.send("ready")
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result = fn(*args)
        except Exception:  # noqa: BLE001  (any failure grades the answer wrong)
            result = False
        conn.send(result)


def _context():
    # forkserver: workers fork from a clean server process that has already imported math-verify, so a
    # killed worker is replaced in milliseconds, and never from the parent's torch threads or CUDA state.
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["math_verify", "sympy"])
    return ctx


class _Worker:
    def __init__(self, ctx, paths: tuple[str, ...] = ()):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, paths), daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.started = time.monotonic()
        self.job: int | None = None
        self.deadline = 0.0

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


def _shorten(args: tuple, limit: int = 80) -> str:
    text = " | ".join(str(a) for a in args)
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} chars)"


class VerifyPool:
    """Worker processes running math-verify. An answer over `timeout_s` costs the one worker grading it
    (killed and replaced); a worker that dies on an answer grades it wrong and is replaced too."""

    def __init__(self, workers: int = 2, timeout_s: float = DEFAULT_TIMEOUT_S, worker=None,
                 paths: tuple[str, ...] = ()):
        self.worker = worker or _verify_worker  # any picklable function of one pair's items
        # workers that import from `paths` first start fresh (spawn): a forkserver child has the server's
        # modules, math-verify's ANTLR runtime among them, already imported
        self.paths = tuple(paths)
        self.workers = workers
        self.timeout_s = timeout_s
        self._ctx = None
        self._pool: list[_Worker] = []
        self.timeouts = 0
        self._failed_starts = 0

    def close(self) -> None:
        for w in self._pool:
            w.kill()
        self._pool = []

    def verify_many(self, pairs: list[tuple]) -> list:
        """`verify(gold, pred)` for each (gold, pred) pair; a timed-out pair counts as not equal."""
        return self._run(self.worker, pairs)

    def readable_many(self, answers: list[Gold]) -> list[bool]:
        """Which gold answers the grader can read (of accepted answers, all); an unreadable one would
        score every response wrong."""
        owners = [i for i, gold in enumerate(answers) for _ in accepted(gold)]
        flat = [a for gold in answers for a in accepted(gold)]
        readable = self._run(_readable_worker, [(a,) for a in flat])
        ok = [True] * len(answers)
        for owner, a, r in zip(owners, flat, readable):
            ok[owner] = ok[owner] and (to_number(a) is not None or r)
        return ok

    def _run(self, fn, items: list[tuple]) -> list:
        results: list = [False] * len(items)
        queue = deque(range(len(items)))
        if self._ctx is None:
            self._ctx = mp.get_context("spawn") if self.paths else _context()
        while len(self._pool) < min(self.workers, max(len(items), 1)):
            self._pool.append(_Worker(self._ctx, self.paths))
        busy: dict[int, _Worker] = {}
        while queue or busy:
            now = time.monotonic()
            for w in self._pool:
                if w.ready and w.job is None and queue:
                    w.job, w.deadline = queue.popleft(), now + self.timeout_s
                    try:
                        w.conn.send((fn, items[w.job]))
                    except (OSError, ValueError):
                        w.deadline = 0.0  # a dead pipe: replaced below, its answer graded wrong
                    busy[w.job] = w
            waiting = [w for w in self._pool if w.job is not None or not w.ready]
            deadlines = [w.deadline if w.ready else w.started + START_TIMEOUT_S for w in waiting]
            ready = wait([w.conn for w in waiting], timeout=max(0.0, min(deadlines) - time.monotonic())) if waiting else []
            for i, w in enumerate(list(self._pool)):
                if w.conn in ready:
                    try:
                        message = w.conn.recv()
                    except (EOFError, OSError):  # the worker died (a crash in C code, say)
                        self._replace(i, items, results, busy, "died")
                        continue
                    if not w.ready:
                        w.ready = message == "ready"
                        continue
                    results[w.job] = message
                    del busy[w.job]
                    w.job = None
                elif w.job is not None and time.monotonic() >= w.deadline:
                    self._replace(i, items, results, busy, f"took over {self.timeout_s:g} s")
                elif not w.ready and time.monotonic() >= w.started + START_TIMEOUT_S:
                    self._replace(i, items, results, busy, "never started")
        return results

    def _replace(self, i: int, items, results, busy, why: str) -> None:
        w = self._pool[i]
        if not w.ready:
            self._failed_starts += 1
            if self._failed_starts > 3:
                from octothinker.errors import OctoError

                raise OctoError("grading: the math-verify worker processes fail to start "
                                "(is math-verify installed? pip install math-verify)")
        if w.job is not None:
            results[w.job] = False
            busy.pop(w.job, None)
            self.timeouts += 1
            log.warning("grading: an answer %s and was graded wrong: %s", why, _shorten(items[w.job]))
        w.kill()
        self._pool[i] = _Worker(self._ctx, self.paths)


_DEFAULT_POOL: VerifyPool | None = None


def default_pool() -> VerifyPool:
    global _DEFAULT_POOL
    if _DEFAULT_POOL is None:
        _DEFAULT_POOL = VerifyPool()
        atexit.register(_DEFAULT_POOL.close)
    return _DEFAULT_POOL


def grade_many(items: list[GradeItem], pool: VerifyPool | None = None) -> list[bool]:
    """Each prediction against its gold; against several accepted answers, correct when any one matches."""
    owners, flat = [], []
    for i, item in enumerate(items):
        for answer in accepted(item.gold):
            owners.append(i)
            flat.append(GradeItem(item.pred, answer, item.family, item.tolerance))
    results = [_cheap_grade(item) for item in flat]
    hard = [i for i, r in enumerate(results) if r is None]
    if hard:
        verdicts = (pool or default_pool()).verify_many([(flat[i].gold, flat[i].pred) for i in hard])
        for i, verdict in zip(hard, verdicts):
            results[i] = verdict
    correct = [False] * len(items)
    for owner, ok in zip(owners, results):
        correct[owner] = correct[owner] or bool(ok)
    return correct
