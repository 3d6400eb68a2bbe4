import math
import time


from octothinker.tasks.grading import GradeItem, VerifyPool, grade_many, normalize_text, numbers_close


def test_normalize_text():
    assert normalize_text("\\left( 3, \\dfrac{\\pi}{2} \\right)") == normalize_text("(3,\\frac{\\pi}{2})")
    assert normalize_text("x = 5.") == "5"
    assert normalize_text("90^\\circ") == "90"
    assert normalize_text("\\text{Rug B}") == "rugb"


def test_numbers_close():
    assert numbers_close(0.1 + 0.2, 0.3, 1e-4)
    assert not numbers_close(100.0, 1.0, 1e-4)
    assert numbers_close(1.61, 1.6, 0.01)


CASES = [
    # (pred, gold, family, expected)
    ("0.5", "\\frac{1}{2}", "math", True),          # fraction vs decimal
    ("\\dfrac{3}{4}", "\\frac{3}{4}", "math", True),  # \dfrac
    ("0.75", "\\frac{3}{5}", "math", False),
    ("(1, 2)", "(1,2)", "math", True),               # tuples
    ("(2, 1)", "(1,2)", "math", False),
    ("[3,5) \\cup (5,\\infty)", "[3, 5)\\cup(5, \\infty)", "math", True),  # intervals
    ("(3,5]", "[3,5)", "math", False),
    ("1+2i", "2i+1", "math", True),                  # complex numbers
    ("1-2i", "1+2i", "math", False),
    ("2\\pi", "\\pi \\cdot 2", "math", True),        # pi expressions
    ("\\frac{\\pi}{2}", "\\frac{\\pi}{3}", "math", False),
    ("\\sqrt{8}", "2\\sqrt{2}", "math", True),
    ("1,000", "1000", "number", True),               # thousands separators
    ("1000", "100", "number", False),
    ("18", "18.0", "number", True),
    ("7 cm", "7", "number", True),                   # units
    ("50\\%", "50", "number", True),
    ("0.5", "50", "number", False),                  # no 100x percentage leniency
    ("Yes", "yes", "number", True),                  # ASDiv word answers
    ("No", "Yes", "number", False),
    ("B", "B", "choice", True),                      # letters
    ("b", "B", "choice", True),
    ("E", "B", "choice", False),
    (None, "3", "math", False),
    ("", "3", "number", False),
]


def test_grade_many_answer_families():
    items = [GradeItem(p, g, f) for p, g, f, _ in CASES]
    assert grade_many(items) == [e for *_, e in CASES]


def test_relative_tolerance_per_benchmark():
    assert grade_many([GradeItem("1.61", "1.6", "math", rel_tol=0.01)]) == [True]
    assert grade_many([GradeItem("1.61", "1.6", "math", rel_tol=1e-4)]) == [False]


def test_pool_kills_a_hung_answer_and_grades_the_rest():
    # math.factorial(10**8) runs for minutes: it stands in for a pathological answer.
    pool = VerifyPool(workers=2, timeout_s=0.5, worker=math.factorial)
    try:
        start = time.perf_counter()
        results = pool.verify_many([(3,), (10**8,), (4,), (5,)])
        assert results == [6, False, 24, 120]
        assert time.perf_counter() - start < 60
    finally:
        pool.close()
