"""The 13 benchmarks of the OctoThinker study: how to read each record, its question, gold answer,
answer family and few-shot style.

Files are read from `<data_dir>/<name>/test.jsonl` (the OctoThinker/DeepSeekMath layout). Field names
differ between files and between their hub copies, so each parser accepts the known aliases. Without a
data folder, a benchmark is read from its hub copy (`hub=` in `BENCHMARKS`, where one is known, through
`datasets`, cached after the first download, as lm-evaluation-harness does); with one, a missing file
is an error naming it, unless the caller asks for the hub copy then (`octo eval --hub`). Any JSONL of
question/answer records is a task too, given as `NAME=FILE` (graded as numbers, with GSM8K-style
few-shot prompts).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from octothinker.errors import DataError, OctoError, check_name
from octothinker.runs.files import PROVENANCE, jsonl_records
from octothinker.tasks.grading import Gold, gold_answer
from octothinker.tasks.extract import extract_answer, last_boxed


@dataclass(frozen=True)
class Problem:
    id: str
    question: str
    gold: Gold                        # one answer, or several accepted ones


@dataclass(frozen=True)
class HubSource:
    path: str
    split: str
    configs: tuple[str | None, ...] = (None,)


@dataclass(frozen=True)
class Benchmark:
    name: str
    family: str                       # "number" | "math" | "choice": selects extraction and grading
    style: str                        # few-shot style (see fewshot.py)
    parse: Callable[[dict], tuple[str, str]] = field(repr=False)  # record -> (question, gold)
    hub: HubSource | None = None
    tolerance: str = "deepseek"       # how near a number must be (tasks.grading.numbers_match)
    letters: str = "ABCDE"
    path: str | None = None           # a user test set given as NAME=FILE (not a registry benchmark)

    def extract(self, completion: str, fallback: bool = True) -> str | None:
        return extract_answer(completion, self.family, self.letters, fallback)


class MissingField(KeyError):
    pass


def _get(rec: dict, *names: str):
    for name in names:
        if name in rec and rec[name] is not None:
            return rec[name]
    raise MissingField(names[0])


def _num_str(value) -> str:
    """27.0 -> "27", "1,000" -> "1000", "9 (apples)" -> "9"; words stay words."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (list, tuple)):  # accepted answers: each read alike (`load_problems` checks them)
        return tuple(_num_str(v) for v in value)
    if not isinstance(value, (str, int, float)):
        return value  # a dict: bad input, which `load_problems` names
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = str(value).strip()
    text = re.sub(r"\s*\(.*\)\s*$", "", text)  # ASDiv: "9 (apples)"
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    return text


def _join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def _gsm8k(rec):
    answer = _get(rec, "answer")
    if isinstance(answer, str) and "####" in answer:  # the hub copy (openai/gsm8k) keeps the solution before "#### 18"
        answer = answer.split("####")[-1]
    return _get(rec, "question"), _num_str(answer)


def _math(rec):
    problem = _get(rec, "problem", "question")
    if "answer" in rec and rec["answer"] is not None:
        return problem, str(rec["answer"]).strip()
    boxed = last_boxed(str(_get(rec, "solution")))
    if boxed is None:
        raise MissingField("answer")
    return problem, boxed


def _olympiad(rec):
    question = _get(rec, "question", "problem")
    context = rec.get("context")
    final = _get(rec, "final_answer", "answer")
    gold = ", ".join(str(a).strip().strip("$") for a in final) if isinstance(final, list) else str(final)
    return _join(context or "", question), gold


def _amc(rec):
    return _get(rec, "question", "problem"), _num_str(_get(rec, "answer"))


def _asdiv(rec):
    return _join(_get(rec, "body", "Body"), _get(rec, "question", "Question")), _num_str(_get(rec, "answer", "Answer"))


def _mawps(rec):
    return _get(rec, "input", "question", "Question"), _num_str(_get(rec, "target", "answer", "result"))


def _svamp(rec):
    return _join(_get(rec, "Body", "body"), _get(rec, "Question", "question")), _num_str(_get(rec, "Answer", "answer"))


def _tabmwp(rec):
    question = _get(rec, "question")
    unit = rec.get("unit")
    if unit:
        question = f"{question} (Unit: {unit})"
    table = _get(rec, "table")
    title = rec.get("table_title")
    text = f"Read the following table and then answer the question.\n{title + chr(10) if title else ''}{table}\n{question}"
    choices = rec.get("choices")
    if choices:
        text += "\nChoose from: " + ", ".join(str(c) for c in choices)
    return text, _num_str(_get(rec, "answer"))


def _options_text(options: list[str]) -> str:
    return "Answer Choices: " + " ".join(f"({chr(65 + i)}) {opt}" for i, opt in enumerate(options))


def _split_options(text: str, pattern: str) -> list[str]:
    parts = re.split(pattern, text)
    return [p.strip().rstrip(",").strip() for p in parts[1:]]


def _mathqa(rec):
    options = _get(rec, "options")
    if isinstance(options, str):  # "a ) 12 , b ) 16 , c ) 18 , d ) 24 , e ) 26"
        options = _split_options(options, r"(?:^|,)\s*[a-e]\s*\)\s*")
    return f"{_get(rec, 'problem', 'Problem')}\n{_options_text(options)}", str(_get(rec, "correct")).strip().upper()


def _sat(rec):
    options = _get(rec, "options")
    if isinstance(options, str):  # "A) $f(-6)=0$ B) $f(6)=-6$ ..."
        options = _split_options(options, r"(?:^|\s)[A-D]\)\s*")
    return f"{_get(rec, 'question')}\n{_options_text(options)}", str(_get(rec, "Answer", "answer")).strip().upper()


def _mmlu(rec):
    options = _get(rec, "options", "choices")
    answer = _get(rec, "answer")
    if isinstance(answer, int):  # the hub copy (cais/mmlu) stores the index
        answer = chr(65 + answer)
    return f"{_get(rec, 'question')}\n{_options_text(list(options))}", str(answer).strip().upper()


def _ocw(rec):
    return _get(rec, "problem", "question"), str(_get(rec, "answer")).strip()


_MATH_SUBJECTS = ("algebra", "counting_and_probability", "geometry", "intermediate_algebra",
                  "number_theory", "prealgebra", "precalculus")

BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in [
    Benchmark("gsm8k", "number", "gsm8k", _gsm8k, HubSource("openai/gsm8k", "test", ("main",))),
    Benchmark("math", "math", "minerva", _math, HubSource("EleutherAI/hendrycks_math", "test", _MATH_SUBJECTS)),
    Benchmark("math500", "math", "minerva", _math, HubSource("HuggingFaceH4/MATH-500", "test")),
    Benchmark("olympiad_bench", "math", "minerva", _olympiad,
              HubSource("Hothan/OlympiadBench", "train", ("OE_TO_maths_en_COMP",))),
    Benchmark("amc23", "math", "zero", _amc, HubSource("math-ai/amc23", "test")),
    Benchmark("asdiv", "number", "gsm8k", _asdiv, HubSource("EleutherAI/asdiv", "validation")),
    Benchmark("mawps", "number", "gsm8k", _mawps),
    Benchmark("svamp", "number", "gsm8k", _svamp, HubSource("ChilleD/SVAMP", "test")),
    Benchmark("tabmwp", "number", "gsm8k", _tabmwp),
    Benchmark("mathqa", "choice", "choice", _mathqa, HubSource("allenai/math_qa", "test")),
    Benchmark("sat", "choice", "choice", _sat, letters="ABCD"),
    Benchmark("mmlu_stem", "choice", "choice", _mmlu, letters="ABCD"),
    # OCW answers are physical quantities, graded by Minerva's numeric rule (its 1% only near zero).
    Benchmark("ocw", "math", "ocw", _ocw, tolerance="minerva"),
]}


def _question_answer(rec):
    return _get(rec, "question", "problem"), _num_str(_get(rec, "answer"))


def get_benchmark(name: str) -> Benchmark:
    """A registry benchmark, or `NAME=FILE`: any JSONL of question/answer records graded as numbers
    with GSM8K-style few-shot prompts (the synthetic world's held-out problems, say)."""
    if "=" in name:
        label, path = name.split("=", 1)
        if not label or not path:
            raise DataError(f"benchmark {name!r}: write a test file as NAME=PATH")
        try:
            check_name(label, "benchmark label")
        except OctoError as err:
            raise DataError(str(err)) from None
        if label == PROVENANCE:  # an evaluation's summary.json keeps what made it under that key
            raise DataError(f"benchmark {name!r}: the label {PROVENANCE!r} is taken; choose another")
        return Benchmark(label, "number", "gsm8k", _question_answer, path=path)
    try:
        return BENCHMARKS[name]
    except KeyError:
        raise DataError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)} (or NAME=FILE)") from None


def benchmark_file(name: str, data_dir: str | Path) -> Path:
    return Path(data_dir) / name / "test.jsonl"


def _hub_records(bench: Benchmark, where: str) -> Iterator[tuple[str, dict]]:
    """The hub copy, through `datasets` (downloaded once, then read from its cache, offline too)."""
    fix = f"pass --data-dir DIR with DIR/{bench.name}/test.jsonl"
    try:
        from datasets import load_dataset
    except ImportError:
        raise DataError(f"{where}: reading the hub copy {bench.hub.path} needs datasets: pip install datasets; "
                        f"or {fix}") from None
    for config in bench.hub.configs:
        try:
            dataset = load_dataset(bench.hub.path, config, split=bench.hub.split)
        except Exception as err:  # offline, not cached, no such dataset: many exception types, one answer
            reason = str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__
            raise DataError(f"{where}: the hub copy {bench.hub.path} could not be read ({reason}); {fix}, or run "
                            "once with the network to cache it") from None
        for i, rec in enumerate(dataset):
            yield f"{bench.hub.path}[{config or 'default'}]#{i}", dict(rec)


def benchmark_path(name: str, data_dir: str | Path | None) -> Path | None:
    """The file a task is read from (None: no data dir given for a registry benchmark)."""
    bench = get_benchmark(name)
    if bench.path:
        return Path(bench.path)
    return benchmark_file(name, data_dir) if data_dir else None


def load_problems(name: str, data_dir: str | Path | None, limit: int | None = None, hub: bool = False) -> list[Problem]:
    """The benchmark's problems in file order; ids are positions, stable across runs for resume. A registry
    benchmark is read from `<data_dir>/<name>/test.jsonl`; with no data_dir, from its hub copy (cached, as
    lm-evaluation-harness does); with `hub`, also when the file under data_dir is missing."""
    bench = get_benchmark(name)
    path = benchmark_path(name, data_dir)
    if bench.path and not path.is_file():
        raise DataError(f"{path}: test file not found")
    if path is not None and path.is_file():
        records = jsonl_records(path)
    else:
        where = f"{path}" if path else name
        if path is not None and not hub:
            raise DataError(f"{where}: benchmark file not found (or pass --hub to read its hub copy)")
        if bench.hub is None:
            raise DataError(f"{where}: {'benchmark file not found, and ' if path else ''}{name} has no known hub "
                            f"copy: pass --data-dir DIR with DIR/{name}/test.jsonl")
        records = _hub_records(bench, where)
    problems = []
    for index, (where, rec) in enumerate(records):
        if limit is not None and index >= limit:
            break
        try:
            question, gold = bench.parse(rec)
        except MissingField as err:
            raise DataError(f"{where}: missing field '{err.args[0]}'") from None
        if not isinstance(question, str):
            raise DataError(f"{where}: the question is a {type(question).__name__}, not text")
        gold = gold_answer(gold, where, "answer")
        if not gold:
            raise DataError(f"{where}: empty answer")
        problems.append(Problem(id=str(index), question=question.strip(), gold=gold))
    if not problems:
        raise DataError(f"{path or name}: no problems")
    return problems
