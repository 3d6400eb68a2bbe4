"""Grading: is an extracted answer equivalent to the gold one?

Cheap checks run in-process (letters, normalised strings, numbers within a tolerance). Everything else
goes to math-verify (`verify(parse(gold), parse(pred))`; gold first, it is asymmetric by design) in a
pool of worker processes with a hard per-answer timeout. math-verify's own timeout relies on SIGALRM,
which does nothing off the main thread, and some inputs (towers of powers) take seconds or hang; a
killed worker costs one answer, never the run. The RL reward calls the same `grade_many`.
"""

from __future__ import annotations

import atexit
import math
import multiprocessing as mp
import re
from dataclasses import dataclass

from octothinker.eval.extract import to_number

DEFAULT_TIMEOUT_S = 2.0  # the study's verifier used 2 s per answer


@dataclass(frozen=True)
class GradeItem:
    pred: str | None
    gold: str
    family: str = "math"          # "number", "math" or "choice"
    rel_tol: float = 1e-4


def normalize_text(s: str) -> str:
    """MATH-style normalisation for string comparison: spacing, `\\left`, `\\dfrac`, degrees, `$`."""
    s = s.strip()
    s = re.sub(r"\\text\{\s*([^{}]*)\}", r"\1", s)
    for old, new in (("\\left", ""), ("\\right", ""), ("\\!", ""), ("\\,", ""), ("\\;", ""), ("\\ ", ""),
                     ("dfrac", "frac"), ("tfrac", "frac"), ("^\\circ", ""), ("^{\\circ}", ""),
                     ("\\%", ""), ("%", ""), ("\\$", ""), ("$", "")):
        s = s.replace(old, new)
    s = re.sub(r"^[a-zA-Z]\s*=\s*", "", s)  # "x = 5" answers the question "5" does
    s = re.sub(r"\s+", "", s).rstrip(".").lower()
    return s


def numbers_close(a: float, b: float, rel_tol: float) -> bool:
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-9)


def _cheap_grade(item: GradeItem) -> bool | None:
    """True/False when decidable without sympy; None to ask math-verify."""
    if item.pred is None or not item.pred.strip():
        return False
    if item.family == "choice":
        return item.pred.strip().upper() == item.gold.strip().upper()
    if normalize_text(item.pred) == normalize_text(item.gold):
        return True
    a, b = to_number(item.pred), to_number(item.gold)
    if a is not None and b is not None:
        return numbers_close(a, b, item.rel_tol)
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


def _warm_worker() -> None:
    import math_verify  # noqa: F401  (import once per worker so the first answer is not timed out)


class VerifyPool:
    """Worker processes running math-verify, restarted when an answer exceeds its time limit."""

    def __init__(self, workers: int = 2, timeout_s: float = DEFAULT_TIMEOUT_S, worker=None):
        self.worker = worker or _verify_worker  # any picklable function of one pair's items
        self.workers = workers
        self.timeout_s = timeout_s
        self._pool = None

    def _get(self):
        if self._pool is None:
            # spawn, not fork: the parent holds torch threads and possibly CUDA state.
            self._pool = mp.get_context("spawn").Pool(self.workers, initializer=_warm_worker)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def verify_many(self, pairs: list[tuple]) -> list:
        """`verify(gold, pred)` for each (gold, pred) pair; a timed-out pair counts as not equal."""
        return self._run(self.worker, pairs)

    def readable_many(self, answers: list[str]) -> list[bool]:
        """Which gold answers the grader can read; an unreadable one would score every response wrong."""
        return [to_number(a) is not None or ok for a, ok in zip(answers, self._run(_readable_worker, [(a,) for a in answers]))]

    def _run(self, fn, pairs: list[tuple]) -> list:
        results: list = [False] * len(pairs)
        pending = list(range(len(pairs)))
        first_wait = True
        while pending:
            pool = self._get()
            futures = {i: pool.apply_async(fn, pairs[i]) for i in pending}
            retry: list[int] = []
            for n, i in enumerate(pending):
                # Results are awaited in submission order, so when pair i is awaited every earlier pair
                # is done and pair i is already running: the wait bounds its own run time. The first
                # wait also covers the workers' start-up (importing sympy takes seconds).
                timeout = self.timeout_s + (30.0 if first_wait else 0.0)
                first_wait = False
                try:
                    results[i] = futures[i].get(timeout=timeout)
                except mp.TimeoutError:
                    results[i] = False
                    self.close()  # the hung worker cannot be interrupted, only killed
                    retry = pending[n + 1:]
                    first_wait = True
                    break
            pending = retry
        return results


_DEFAULT_POOL: VerifyPool | None = None


def default_pool() -> VerifyPool:
    global _DEFAULT_POOL
    if _DEFAULT_POOL is None:
        _DEFAULT_POOL = VerifyPool()
        atexit.register(_DEFAULT_POOL.close)
    return _DEFAULT_POOL


def grade_many(items: list[GradeItem], pool: VerifyPool | None = None) -> list[bool]:
    results = [_cheap_grade(item) for item in items]
    hard = [i for i, r in enumerate(results) if r is None]
    if hard:
        verdicts = (pool or default_pool()).verify_many([(items[i].gold, items[i].pred) for i in hard])
        for i, verdict in zip(hard, verdicts):
            results[i] = verdict
    return [bool(r) for r in results]


def grade(pred: str | None, gold: str, family: str = "math", rel_tol: float = 1e-4) -> bool:
    return grade_many([GradeItem(pred, gold, family, rel_tol)])[0]
