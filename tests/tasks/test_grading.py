import math
import time


from octothinker.tasks.grading import GradeItem, VerifyPool, grade_many, normalize_text, numbers_match


def test_normalize_text():
    assert normalize_text("\\left( 3, \\dfrac{\\pi}{2} \\right)") == normalize_text("(3,\\frac{\\pi}{2})")
    assert normalize_text("x = 5.") == "5"
    assert normalize_text("90^\\circ") == "90"
    assert normalize_text("\\text{Rug B}") == "rugb"


def test_numbers_match_known_values():
    assert numbers_match(0.1 + 0.2, 0.3, "0.3")
    assert not numbers_match(100.0, 1.0, "1")
    assert numbers_match(70000.0, 70000.0, "70,000")
    assert not numbers_match(70001.0, 70000.0, "70000")          # an integer gold needs the integer
    assert not numbers_match(70000.0001, 70000.0, "70000")
    assert numbers_match(3.1416, 3.14159, "3.14159")             # DeepSeekMath's 1e-3 on a decimal
    assert not numbers_match(3.145, 3.14159, "3.14159")
    assert not numbers_match(0.0, 0.0005, "0.0005")              # 1e-3 never swamps a small gold
    assert not numbers_match(1.61, 1.6, "1.6", "minerva")        # OCW: no 1% far from zero
    assert numbers_match(1.600001, 1.6, "1.6", "minerva")        # numpy's isclose there
    assert numbers_match(1.0e-9, 1.005e-9, "1.005e-9", "minerva")  # the 1% near zero
    assert numbers_match(-10.0, -10.0, "-10", "minerva")           # the rule as written rejects it
    assert numbers_match(0.0, 0.0, "0", "minerva")
    assert not numbers_match(float("nan"), 1.0, "1")


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
    # false accepts found beside the release's grader (issue 31), each a case
    ("70001", "70000", "number", False),            # a relative tolerance of 1e-4 passed it
    ("70001", "70000", "math", False),
    ("2", "2n", "math", False),                      # a variable is never a unit
    ("3", "3x", "math", False),
    ("2", "2 \\pi", "math", False),                  # nor a name of mathematics
    ("2", "n", "math", False),
    ("5", "5 apples", "number", True),               # a word is still a unit
    ("0.27", "27", "number", False),                 # no percentage leniency (the release has it)
    ("27.0005", "27", "number", False),
]


def test_grade_many_answer_families():
    items = [GradeItem(p, g, f) for p, g, f, _ in CASES]
    assert grade_many(items) == [e for *_, e in CASES]


def test_tolerance_per_benchmark():
    """OCW grades by Minerva's rule: 1% is no tolerance far from zero (1.61 is not 1.6), numpy's
    isclose is."""
    assert grade_many([GradeItem("1.61", "1.6", "math", tolerance="minerva")]) == [False]
    assert grade_many([GradeItem("1.6000001", "1.6", "math", tolerance="minerva")]) == [True]
    assert grade_many([GradeItem("1.6004", "1.6", "math")]) == [True]


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
