"""The synthetic math world: the embedded default data, generated with no downloads.

    octo data synth runs/world --problems 4000 --test 400 --web 3000 --generic 3000 --seed 0

Writes multi-step arithmetic word problems with exact integer answers (train and held-out splits that
never share a question), their solutions in short and long chain-of-thought styles, instruction
records, math "web" documents in a high-quality and a noisy low-quality version (boilerplate, broken
formulas, a share of wrong results), generic non-math text, seed documents for the quality classifier,
and a byte-level BPE tokenizer trained on all of it. Near-duplicates and held-out questions are planted
in the web corpus on purpose, so that dedup and decontamination have something real to find; their
counts are in `world.json`. The same seed writes the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from octothinker.runs.seeds import derive_seed

NAMES = ["Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kim", "Leo", "Mia", "Noah",
         "Olga", "Pete", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Vic", "Wes", "Yara", "Zoe"]
ITEMS = ["apples", "books", "coins", "stamps", "marbles", "pencils", "shells", "cards", "eggs", "flowers",
         "cookies", "stickers", "rocks", "toys", "beads"]
ANIMALS = ["cat", "dog", "horse", "fox", "owl", "goat", "duck", "bear", "mouse", "whale"]
PLACES = ["river", "market", "forest", "harbor", "garden", "village", "library", "station", "valley", "castle"]
WEATHER = ["sunny", "rainy", "windy", "foggy", "cold", "warm", "cloudy", "calm"]
VERBS = ["walked", "ran", "looked", "waited", "slept", "sang", "listened", "wandered"]
BOILERPLATE = ["Subscribe to our newsletter for more tips!", "Click here to download the free worksheet.",
               "This site uses cookies. Accept all cookies?", "Share on social media.",
               "Related posts: top 10 math tricks you won't believe", "Advertisement", "Copyright all rights reserved.",
               "Sign up now and get 50% off premium!", "Comments (0) - be the first to comment", "Home > Blog > Math"]


class WorldSize(BaseModel):
    """The world's sizes; the one declaration `octo data synth` and a study's `world:` section share."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    problems: int = Field(4000, ge=1)     # train problems (each with a short and a long solution)
    test: int = Field(400, ge=1)          # held-out problems
    web: int = Field(3000, ge=1)          # documents in each of the high- and low-quality web corpora
    generic: int = Field(3000, ge=1)      # non-math documents
    instruct: int = Field(1000, ge=1)     # instruction-following records
    seeds: int = Field(400, ge=2)         # seed documents per class for the quality classifier
    min_steps: int = Field(1, ge=1)
    max_steps: int = Field(3, ge=1)
    max_operand: int = Field(9, ge=2)
    duplicate_rate: float = Field(0.1, ge=0, le=1)  # share of high-quality web documents planted again, one word changed
    qa_error_rate: float = Field(0.2, ge=0, le=1)   # share of QA solutions with a slip (short: a wrong answer;
    #                                                 long: a slip its check catches and corrects)
    misread_rate: float = Field(0.0, ge=0, le=1)    # share of QA solutions that read "triples" as "three more"
    contaminated: int = Field(20, ge=0)   # web documents planted with a held-out question inside
    vocab_size: int = Field(1024, ge=300)  # the world's BPE tokenizer

    @model_validator(mode="after")
    def _steps_in_order(self):
        if self.max_steps < self.min_steps:
            raise ValueError("max_steps must be at least min_steps")
        return self


@dataclass
class Problem:
    question: str
    answer: int
    steps: list[tuple[str, int, int]]  # (op, operand, result)
    name: str
    items: str
    start: int
    sentences: list[str]               # the question's sentences: the start, then one a step


def make_problem(rng: random.Random, size: WorldSize) -> Problem:
    name, items = rng.choice(NAMES), rng.choice(ITEMS)
    x = rng.randint(1, size.max_operand)
    start = x
    sentences = [f"{name} has {x} {items}."]
    steps = []
    for _ in range(rng.randint(size.min_steps, size.max_steps)):
        op = rng.choice(["add", "sub", "mul"] if x <= 30 else ["add", "sub"])
        if op == "sub" and x < 2:
            op = "add"
        if op == "add":
            b = rng.randint(1, size.max_operand)
            sentences.append(rng.choice([f"{name} gets {b} more {items}.", f"Then {name} finds {b} more.",
                                         f"A friend gives {name} {b} {items}."]))
            x = x + b
        elif op == "sub":
            b = rng.randint(1, min(x - 1, size.max_operand))
            sentences.append(rng.choice([f"{name} gives away {b} {items}.", f"Then {name} loses {b}.",
                                         f"{name} uses {b} of the {items}."]))
            x = x - b
        else:
            b = rng.randint(2, 3)
            word = {2: "doubles", 3: "triples"}[b]
            sentences.append(f"Then the number of {items} {word}.")
            x = x * b
        steps.append((op, b, x))
    question = " ".join([*sentences, f"How many {items} does {name} have now?"])
    return Problem(question, x, steps, name, items, start, sentences)


_SYMBOL = {"add": "+", "sub": "-", "mul": "*"}


_OPS = {"add": lambda x, b: x + b, "sub": lambda x, b: x - b, "mul": lambda x, b: x * b}
_INVERSE = {"add": "-", "sub": "+", "mul": "/"}


def _slip(rng: random.Random | None, p: Problem) -> int | None:
    """The step (index) where a solution slips, or None: QA corpora carry a share of wrong solutions."""
    if rng is None:
        return None
    return rng.randrange(len(p.steps))


def _restate(sentence: str) -> str:
    # Solutions restate each sentence of the question before its equation: what a number is copied from
    # is then the same words, the pattern a small model's attention learns first (an "induction head").
    # With its own words ("starts with"), the mini model learned to copy names but not numbers, and its
    # accuracy hung on the seed.
    return sentence[:-1] + ":"


def misread_applies(question: str) -> bool:
    """Whether a question has the step the QA source misreads ("triples"): what splits the held-out set
    when asking where RL's greedy gains come from (scripts/misreading.py)."""
    return "triples" in question


def _operation(op: str, b: int, misread: bool) -> tuple[str, int]:
    # The QA source's systematic error: "triples" read as "three more" (x + 3). Unlike a slip, which
    # scatters over several wrong numbers, a misreading is one consistent wrong choice; where it is the
    # majority, a model trained on the data answers it greedily while sampling still finds the right
    # reading now and then, which is what a verifiable reward can raise past the wrong one.
    if misread and op == "mul" and b == 3:
        return "add", 3
    return op, b


def short_solution(p: Problem, slip_rng: random.Random | None = None, misread: bool = False) -> str:
    """The worked answer, one equation a step. With `slip_rng`, one step's result is off by a little
    and the error carries through to a wrong final answer, as in the wrong share of real QA data; with
    `misread`, every "triples" is computed as "three more"."""
    slip = _slip(slip_rng, p)
    parts = [p.sentences[0]]
    x = p.start
    for i, (op, b, _) in enumerate(p.steps):
        op, b = _operation(op, b, misread)
        result = _OPS[op](x, b)
        if i == slip:
            result = max(0, result + slip_rng.choice([-2, -1, 1, 2]))
        parts.append(f"{_restate(p.sentences[i + 1])} {x} {_SYMBOL[op]} {b} = {result}.")
        x = result
    parts.append(f"The answer is \\boxed{{{x}}}.")
    return " ".join(parts)


def long_solution(p: Problem, slip_rng: random.Random | None = None, misread: bool = False) -> str:
    """Reasoning that checks itself, as long chain-of-thought data does: every step is verified by its
    inverse before the next one. It starts like the short solution, so what the stable stage taught
    (reading the question) carries over, and it is about twice as long. With `slip_rng`, one step slips,
    its check catches the slip and the step is redone: long chain-of-thought corrects itself. A
    misreading (`misread`) it does not catch: the check inverts the operation it wrongly chose."""
    slip = _slip(slip_rng, p)
    parts = [p.sentences[0]]
    x = p.start
    for i, (op, b, _) in enumerate(p.steps, 1):
        op, b = _operation(op, b, misread)
        result = _OPS[op](x, b)
        inverse = f"{_INVERSE[op]} {b}"
        if i - 1 == slip:
            wrong = max(0, result + slip_rng.choice([-2, -1, 1, 2]))
            undone = {"add": wrong - b, "sub": wrong + b, "mul": wrong / b}[op]
            undone = int(undone) if float(undone).is_integer() else round(undone, 2)
            parts.append(f"Step {i}: {_restate(p.sentences[i])} {x} {_SYMBOL[op]} {b} = {wrong}. Check: {wrong} "
                         f"{inverse} = {undone}, not {x}. Wait, that is wrong.")
        again = " again" if i - 1 == slip else ""
        parts.append(f"Step {i}{again}: {_restate(p.sentences[i])} {x} {_SYMBOL[op]} {b} = {result}. Check: "
                     f"{result} {inverse} = {x}. Correct, so {result}.")
        x = result
    parts.append(f"Every step checks out. The answer is \\boxed{{{x}}}.")
    return " ".join(parts)


def _fact(rng: random.Random, size: WorldSize, wrong: bool = False) -> str:
    a, b = rng.randint(1, size.max_operand * 3), rng.randint(1, size.max_operand)
    op = rng.choice(["add", "sub", "mul"])
    if op == "sub" and b > a:
        a, b = b, a
    result = {"add": a + b, "sub": a - b, "mul": a * b}[op]
    if wrong:
        result += rng.choice([-3, -2, -1, 1, 2, 3, 10])
    name, items = rng.choice(NAMES), rng.choice(ITEMS)
    sym = _SYMBOL[op]
    return rng.choice([
        f"For example, {a} {sym} {b} = {result}.",
        f"We compute {a} {sym} {b} and get {result}.",
        f"If {name} has {a} {items} and the count changes by {sym}{b}, the new count is {a} {sym} {b} = {result}.",
        f"Check: {a} {sym} {b} equals {result}.",
    ])


_TOPICS = ["Adding whole numbers", "Subtracting with care", "Multiplication as repeated addition",
           "Word problems step by step", "Checking your arithmetic", "Doubling and tripling"]


def hq_web_doc(rng: random.Random, size: WorldSize) -> str:
    topic = rng.choice(_TOPICS)
    lines = [f"{topic}.", "A good habit is to write every step as an equation and check it."]
    lines += [_fact(rng, size) for _ in range(rng.randint(3, 6))]
    p = make_problem(rng, size)
    lines.append(f"Worked example: {p.question} {short_solution(p)}")
    return " ".join(lines)


def forum_answer(rng: random.Random, p: Problem) -> str:
    """A forum reply to a problem: sometimes a clean worked answer, often a wrong one, often no final
    answer at all. What a general base model such as Llama-3.2 sees of math QA on the web."""
    roll = rng.random()
    if roll < 0.25:
        return short_solution(p)
    if roll < 0.6:  # the steps written out, the arithmetic wrong
        wrong = p.answer + rng.choice([-3, -2, -1, 1, 2, 3, 10])
        return f"{p.name} starts with {p.start} {p.items}. so its {wrong} i think. The answer is \\boxed{{{wrong}}}."
    if roll < 0.8:
        return rng.choice([f"i got {p.answer}", f"is it {p.answer + rng.randint(1, 4)}?", "no idea, anyone?"])
    return rng.choice(BOILERPLATE)


def lq_web_doc(rng: random.Random, size: WorldSize) -> str:
    lines = [rng.choice(BOILERPLATE), f"{rng.choice(_TOPICS)} !!! best trick"]
    for _ in range(rng.randint(3, 6)):
        roll = rng.random()
        if roll < 0.3:
            lines.append(_fact(rng, size, wrong=True))
        elif roll < 0.55:
            lines.append(rng.choice(["$$ \\frac{ 3 + = $$", "x = = 4 +", "5 * ( = 2", "\\sqrt{ { 9", "12 - - = 7"]))
        elif roll < 0.8:
            lines.append(rng.choice(BOILERPLATE))
        else:
            lines.append(_fact(rng, size))
    if rng.random() < 0.5:  # a forum thread: a question and a (usually poor) reply
        p = make_problem(rng, size)
        lines.append(f"\nQuestion: {p.question}\nAnswer: {forum_answer(rng, p)}\n")
    lines.append(" ".join(rng.choice(["math", "free", "easy", "fast", "trick", "click"]) for _ in range(6)))
    return " ".join(lines)


def generic_doc(rng: random.Random) -> str:
    """Everyday sentences, some with counts, and in half the documents a recap that repeats earlier
    sentences word for word. Real pre-training text repeats itself (names, phrases, numbers come back);
    that is where a language model learns to copy from its context, which every base model the study
    starts from can do. Without it the mini base model could not copy, and whether mid-training taught it
    to (a sudden, seed-dependent change) decided the whole study."""
    sentences = []
    for _ in range(rng.randint(3, 6)):
        count = f" {rng.randint(1, 9)} times" if rng.random() < 0.5 else ""
        sentences.append(f"The {rng.choice(ANIMALS)} {rng.choice(VERBS)}{count} near the {rng.choice(PLACES)} "
                         f"on a {rng.choice(WEATHER)} day.")
    if rng.random() < 0.5:
        recap = rng.sample(sentences, rng.randint(1, len(sentences)))
        sentences.append(rng.choice(["In short:", "Again:", "To recap:"]))
        sentences.extend(recap)
    return " ".join(sentences)


def instruction_record(rng: random.Random) -> dict:
    kind = rng.randrange(5)
    if kind == 0:
        a = rng.randint(1, 20)
        b = a + rng.randint(2, 6)
        return {"instruction": f"List the numbers from {a} to {b}.", "response": ", ".join(map(str, range(a, b + 1)))}
    if kind == 1:
        word, k = rng.choice(ANIMALS), rng.randint(2, 4)
        return {"instruction": f"Repeat the word '{word}' {k} times.", "response": " ".join([word] * k)}
    if kind == 2:
        a, b = rng.sample(range(1, 50), 2)
        return {"instruction": f"Which is larger, {a} or {b}?", "response": str(max(a, b))}
    if kind == 3:
        word = rng.choice(ANIMALS + PLACES)
        return {"instruction": f"Spell the word '{word}' backwards.", "response": word[::-1]}
    nums = rng.sample(range(1, 30), rng.randint(3, 5))
    return {"instruction": "Sort these numbers from smallest to largest: " + ", ".join(map(str, nums)) + ".",
            "response": ", ".join(map(str, sorted(nums)))}


def _write_jsonl(path: Path, records) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n


def _stream(seed: int, label: str) -> random.Random:
    # Each corpus draws from its own stream, so changing one size leaves the others' bytes unchanged.
    return random.Random(derive_seed(seed, "world", label))


def generate_world(out_dir: str | Path, size: WorldSize = WorldSize(), seed: int = 0) -> dict:
    out = Path(out_dir)
    rng = _stream(seed, "problems")
    seen: set[str] = set()
    train, test = [], []
    attempts = 0
    while len(train) < size.problems or len(test) < size.test:
        attempts += 1
        if attempts > 50 * (size.problems + size.test) + 1000:
            raise ValueError("the world is too small for that many distinct problems: raise --max-operand or --max-steps")
        p = make_problem(rng, size)
        if p.question in seen:
            continue
        seen.add(p.question)
        # A hash of the question (not the draw order) picks the split, so splits never share a question.
        to_test = int(hashlib.sha256(p.question.encode()).hexdigest(), 16) % 10 == 0
        if to_test and len(test) < size.test:
            test.append(p)
        elif not to_test and len(train) < size.problems:
            train.append(p)

    qrng = _stream(seed, "qa-errors")
    mrng = _stream(seed, "qa-misreads")   # its own stream: the slips stay the same whatever the rate

    def qa(p: Problem, solution: str) -> dict:
        return {"question": p.question, "solution": solution, "answer": str(p.answer)}

    def slips() -> random.Random | None:
        return qrng if qrng.random() < size.qa_error_rate else None

    def misreads() -> bool:
        return mrng.random() < size.misread_rate

    counts = {
        "problems/train.jsonl": _write_jsonl(out / "problems" / "train.jsonl",
                                             ({"question": p.question, "answer": str(p.answer)} for p in train)),
        "problems/test.jsonl": _write_jsonl(out / "problems" / "test.jsonl",
                                            ({"question": p.question, "answer": str(p.answer)} for p in test)),
        "qa/short_cot.jsonl": _write_jsonl(out / "qa" / "short_cot.jsonl", (
            qa(p, short_solution(p, slips(), misreads())) for p in train)),
        "qa/long_cot.jsonl": _write_jsonl(out / "qa" / "long_cot.jsonl", (
            qa(p, long_solution(p, slips(), misreads())) for p in train)),
    }
    irng = _stream(seed, "instruct")
    counts["instruct/instructions.jsonl"] = _write_jsonl(out / "instruct" / "instructions.jsonl",
                                                         (instruction_record(irng) for _ in range(size.instruct)))

    wrng = _stream(seed, "web-hq")
    hq = [hq_web_doc(wrng, size) for _ in range(size.web)]
    planted_dups = 0
    for i in range(int(size.web * size.duplicate_rate)):
        words = hq[i].split()
        j = wrng.randrange(len(words))
        words[j] = wrng.choice(["indeed", "also", "then", "now"])
        hq.append(" ".join(words))
        planted_dups += 1
    planted_contam = 0
    for i in range(min(size.contaminated, len(test))):
        hq.append(f"Practice question of the day. {test[i].question} Try it before reading on. "
                  + _fact(wrng, size) + " " + _fact(wrng, size))
        planted_contam += 1
    wrng.shuffle(hq)
    counts["web/hq.jsonl"] = _write_jsonl(out / "web" / "hq.jsonl", ({"text": t} for t in hq))
    lrng = _stream(seed, "web-lq")
    counts["web/lq.jsonl"] = _write_jsonl(out / "web" / "lq.jsonl", ({"text": lq_web_doc(lrng, size)} for _ in range(size.web)))
    grng = _stream(seed, "generic")
    counts["generic/generic.jsonl"] = _write_jsonl(out / "generic" / "generic.jsonl",
                                                   ({"text": generic_doc(grng)} for _ in range(size.generic)))
    srng = _stream(seed, "seeds")
    counts["seeds/positive.jsonl"] = _write_jsonl(out / "seeds" / "positive.jsonl",
                                                  ({"text": hq_web_doc(srng, size)} for _ in range(size.seeds)))
    counts["seeds/negative.jsonl"] = _write_jsonl(out / "seeds" / "negative.jsonl", (
        {"text": lq_web_doc(srng, size) if i % 2 else generic_doc(srng)} for i in range(size.seeds)))

    tokenizer_dir = out / "tokenizer"
    _train_world_tokenizer(out, tokenizer_dir, size.vocab_size)
    world = {"seed": seed, "size": size.model_dump(), "files": counts, "planted_near_duplicates": planted_dups,
             "planted_contaminated": planted_contam, "tokenizer": "tokenizer"}
    (out / "world.json").write_text(json.dumps(world, indent=2) + "\n")
    return world


def _train_world_tokenizer(out: Path, tokenizer_dir: Path, vocab_size: int) -> None:
    from octothinker.models import train_tokenizer
    from octothinker.runs import jsonl_records

    def texts():
        for rel in ("qa/short_cot.jsonl", "qa/long_cot.jsonl", "web/hq.jsonl", "web/lq.jsonl",
                    "generic/generic.jsonl", "instruct/instructions.jsonl"):
            for _, rec in jsonl_records(out / rel):
                yield " ".join(str(v) for v in rec.values())

    tokenizer = train_tokenizer(texts(), vocab_size=vocab_size)
    tokenizer.save_pretrained(tokenizer_dir)
