"""Few-shot prompts for base models, in the study's per-benchmark styles (exemplars written by us).

Styles: `gsm8k` (`Q:`/`A:` chain of thought ending "The answer is N."; 8-shot, used for the GSM8K
family and TabMWP), `minerva` (Problem/Solution ending "Final Answer: The final answer is $X$. I hope it
is correct."; 4-shot, MATH, OlympiadBench, OCW), `choice` (worked solution ending "The final answer is
(B)."; 4-shot, SAT, MathQA, MMLU-STEM) and `zero` (a bare `Q:`/`A:`; AMC23). `--fewshot-file` swaps in
any JSONL of {question, solution, answer} records, rendered in the benchmark's style.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from octothinker.runs.files import jsonl_records
from octothinker.errors import DataError


@dataclass(frozen=True)
class Exemplar:
    question: str
    solution: str
    answer: str


def _ex(question: str, solution: str, answer: str) -> Exemplar:
    return Exemplar(question, solution, answer)


EXEMPLARS: dict[str, list[Exemplar]] = {
    "gsm8k": [
        _ex("A baker makes 24 muffins in the morning and 18 in the afternoon. He sells 35 of them. "
            "How many muffins are left?",
            "He makes 24 + 18 = 42 muffins. After selling 35, 42 - 35 = 7 are left.", "7"),
        _ex("Maria reads 15 pages a day. How many pages does she read in 2 weeks?",
            "Two weeks have 2 x 7 = 14 days. She reads 15 x 14 = 210 pages.", "210"),
        _ex("A box holds 6 pencils. A teacher needs 100 pencils for her class. How many boxes must she buy?",
            "16 boxes hold 16 x 6 = 96 pencils, which is 4 short of 100. So she must buy 16 + 1 = 17 boxes.",
            "17"),
        _ex("Tom had $50. He bought 3 books for $8 each and a pen for $2. How much money does he have left?",
            "The books cost 3 x 8 = $24. With the pen he spent 24 + 2 = $26. He has 50 - 26 = $24 left.", "24"),
        _ex("A train travels at 60 miles per hour for 2.5 hours. How far does it travel?",
            "Distance is speed times time: 60 x 2.5 = 150 miles.", "150"),
        _ex("There are 30 students in a class, and 40% of them walk to school. How many students do not "
            "walk to school?",
            "40% of 30 is 0.4 x 30 = 12 students who walk. So 30 - 12 = 18 students do not walk.", "18"),
        _ex("Jake is 3 times as old as his sister. In 4 years, his sister will be 9. How old is Jake now?",
            "His sister is 9 - 4 = 5 years old now. Jake is 3 x 5 = 15 years old.", "15"),
        _ex("A farmer has 1,200 apples and packs them into bags of 25. He sells each bag for $3. How much "
            "does he earn if he sells all the bags?",
            "He fills 1200 / 25 = 48 bags. He earns 48 x 3 = $144.", "144"),
    ],
    "minerva": [
        _ex("Find the domain of $f(x) = \\sqrt{x - 3} + \\frac{1}{x - 5}$.",
            "The square root needs $x - 3 \\ge 0$, so $x \\ge 3$. The fraction needs $x \\neq 5$. "
            "So the domain is $[3,5) \\cup (5,\\infty)$.", "[3,5) \\cup (5,\\infty)"),
        _ex("If $2^{x} = 32$, what is $x^2 - 1$?",
            "Since $32 = 2^5$, we have $x = 5$, so $x^2 - 1 = 25 - 1 = 24$.", "24"),
        _ex("What is the sum of all positive divisors of 18?",
            "The positive divisors of 18 are 1, 2, 3, 6, 9 and 18. Their sum is $1+2+3+6+9+18 = 39$.", "39"),
        _ex("Simplify $\\frac{3}{4} + \\frac{5}{6}$.",
            "Over the common denominator 12 the sum is $\\frac{9}{12} + \\frac{10}{12} = \\frac{19}{12}$.",
            "\\frac{19}{12}"),
    ],
    "ocw": [
        _ex("A 5 kg object accelerates at $3 \\mathrm{~m/s^2}$. What net force acts on it, in newtons?",
            "By Newton's second law, $F = ma = 5 \\times 3 = 15$ N.", "15"),
        _ex("Light has a wavelength of 500 nm. What is its frequency in Hz? Take $c = 3 \\times 10^8$ m/s.",
            "$\\nu = c / \\lambda = (3 \\times 10^8) / (5 \\times 10^{-7}) = 6 \\times 10^{14}$ Hz.", "6e14"),
        _ex("A resistor of $10\\,\\Omega$ carries a current of 2 A. What power does it dissipate, in watts?",
            "$P = I^2 R = 2^2 \\times 10 = 40$ W.", "40"),
        _ex("Give an expression for the escape velocity from the surface of a planet of mass $M$ and "
            "radius $R$.",
            "Escape needs kinetic energy equal to the gravitational binding energy per unit mass: "
            "$\\frac{1}{2} v^2 = \\frac{GM}{R}$, so $v = \\sqrt{\\frac{2GM}{R}}$.", "\\sqrt{\\frac{2GM}{R}}"),
    ],
    "choice": [
        _ex("If $3x + 7 = 22$, what is the value of $x$?\nAnswer Choices: (A) 3 (B) 5 (C) 7 (D) 15",
            "Subtracting 7 gives $3x = 15$, so $x = 5$.", "B"),
        _ex("A shirt costs $40 after a 20% discount. What was the original price?\n"
            "Answer Choices: (A) $32 (B) $48 (C) $50 (D) $60",
            "After the discount the price is 80% of the original, so 0.8p = 40 and p = 50.", "C"),
        _ex("In a group of order 7, how many elements have order 7?\nAnswer Choices: (A) 6 (B) 7 (C) 1 (D) 0",
            "7 is prime, so every element other than the identity generates the group and has order 7: "
            "7 - 1 = 6 elements.", "A"),
        _ex("A car uses 8 liters of fuel per 100 km. How many liters does it need for 350 km?\n"
            "Answer Choices: (A) 35 (B) 30 (C) 24 (D) 28",
            "350 km is 3.5 times 100 km, so it needs 3.5 x 8 = 28 liters.", "D"),
    ],
    "zero": [],
}

STYLE_STOPS: dict[str, tuple[str, ...]] = {
    "gsm8k": ("\nQ:", "\n\n"),
    "zero": ("\nQ:", "\n\n\n"),
    "minerva": ("\nProblem:", "I hope it is correct"),
    "ocw": ("\nProblem:", "I hope it is correct"),
    "choice": ("\nQuestion:", "\n\n"),
}


def render_shot(style: str, question: str, solution: str | None = None, answer: str | None = None) -> str:
    """One exemplar (with solution and answer) or the open query (without)."""
    if style in ("gsm8k", "zero"):
        head = f"Q: {question}\nA:"
        return head if solution is None else f"{head} {solution} The answer is {answer}.\n\n"
    if style in ("minerva", "ocw"):
        head = f"Problem:\n{question}\n\nSolution:\n"
        if solution is None:
            return head
        return f"{head}{solution}\nFinal Answer: The final answer is ${answer}$. I hope it is correct.\n\n"
    if style == "choice":
        head = f"Question: {question}\nAnswer:"
        return head if solution is None else f"{head} {solution} The final answer is ({answer}).\n\n"
    raise ValueError(f"unknown few-shot style {style!r}")


def build_prompt(style: str, question: str, exemplars: list[Exemplar]) -> str:
    shots = "".join(render_shot(style, ex.question, ex.solution, ex.answer) for ex in exemplars)
    return shots + render_shot(style, question)


def load_exemplars(path: str | Path) -> list[Exemplar]:
    """A JSONL file of {question, solution, answer} records; errors name the file, line and field."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: few-shot file not found")
    exemplars = []
    for where, rec in jsonl_records(path):
        for field in ("question", "solution", "answer"):
            if field not in rec:
                raise DataError(f"{where}: missing field '{field}'")
        exemplars.append(Exemplar(str(rec["question"]), str(rec["solution"]), str(rec["answer"])))
    if not exemplars:
        raise DataError(f"{path}: no exemplars")
    return exemplars
