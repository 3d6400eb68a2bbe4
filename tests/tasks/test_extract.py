import pytest

from octothinker.tasks.extract import (answer_is, choice_letter, count_boxed, extract_answer, last_boxed,
                                      last_number, to_number)


@pytest.mark.parametrize("text, expected", [
    ("so \\boxed{5}.", "5"),
    ("first \\boxed{1} then \\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
    ("nested \\boxed{\\left( 3, \\frac{\\pi}{2} \\right)} done", "\\left( 3, \\frac{\\pi}{2} \\right)"),
    ("space form $\\boxed 7$", "7"),
    ("\\fbox{42}", "42"),
    ("cut off \\boxed{\\frac{1}{", None),
    ("no box here", None),
])
def test_last_boxed(text, expected):
    assert last_boxed(text) == expected


def test_count_boxed():
    assert count_boxed("\\boxed{1} and \\boxed{2}") == 2
    assert count_boxed("none") == 0


@pytest.mark.parametrize("text, expected", [
    ("She has 5 apples. The answer is 18.", "18"),
    ("Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.", "\\frac{3}{4}"),
    ("the answer is $1,000$", "1,000"),
    ("nothing", None),
])
def test_answer_is(text, expected):
    assert answer_is(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("He earned $1,000 in total.", "1000"),
    ("It costs 1,234,567.50 dollars", "1234567.50"),
    ("The temperature fell to -5 degrees", "-5"),
    ("half is 3/4 of it", "3/4"),
    ("values 1, 2, 3", "3"),
    ("no digits", None),
    ("0.5 then .25", ".25"),
])
def test_last_number(text, expected):
    assert last_number(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("$1,000", 1000.0), ("-3", -3.0), ("50\\%", 50.0), ("3/4", 0.75), ("\\frac{3}{4}", 0.75),
    ("\\dfrac{1}{2}", 0.5), ("-\\frac{1}{4}", -0.25), ("7 cm", 7.0), ("12 \\text{ apples}", 12.0),
    ("4.5e33", 4.5e33), ("x+1", None), ("\\pi", None), (None, None), ("1/0", None),
])
def test_to_number(text, expected):
    assert to_number(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("The final answer is (B).", "B"),
    ("so the answer is E", "E"),
    ("answer: b", "B"),
    ("I think (C) is right", "C"),
    ("Option D) fits best", "D"),
    ("\\boxed{A}", "A"),
    ("\\boxed{(E)}", "E"),
    ("no letter at all", None),
])
def test_choice_letter(text, expected):
    assert choice_letter(text) == expected


def test_choice_letter_respects_allowed_letters():
    assert choice_letter("The answer is (E).", letters="ABCD") is None


@pytest.mark.parametrize("completion, family, expected", [
    ("6 + 12 = 18. The answer is 18.", "number", "18"),
    ("She makes $18 per day. The answer is $18 per day.", "number", "18"),
    ("Total 1,200 apples. The answer is 1,200.", "number", "1200"),
    ("so she gives Sam 43 seashells", "number", "43"),
    ("The answer is Yes.", "number", "Yes"),
    ("We get \\boxed{\\frac{1}{2}}", "number", "0.5"),
    ("thus $x=2$.\nFinal Answer: The final answer is $2$. I hope it is correct.", "math", "2"),
    ("\\boxed{(1,2)}", "math", "(1,2)"),
    ("The final answer is (E).", "choice", "E"),
])
def test_extract_answer_by_family(completion, family, expected):
    assert extract_answer(completion, family) == expected


def test_choice_letter_takes_the_stated_letter_and_nothing_else():
    assert choice_letter("The answer is (X).") is None  # not an option letter
    # without the fallback, no stated letter is no answer (not an empty one)
    assert choice_letter("I am not sure.", fallback=False) is None
    # a lower-case word after a marker is not a letter; the stated one later still counts
    assert choice_letter("the answer is a guess. Answer: C", fallback=False) == "C"
    # a stated letter wins over options merely mentioned in parentheses after it
    assert choice_letter("The answer is B. The options were (A) and (C).") == "B"
