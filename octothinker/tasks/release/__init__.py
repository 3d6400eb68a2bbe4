"""The release harness: each benchmark prompted, stopped, read and graded as the OctoThinker release's own
evaluation (`eval/infer/run_cot_eval.py`, DeepSeekMath's harness) does, so that a number made with it
can stand beside the paper's tables.

    harness = ReleaseHarness("path/to/OctoThinker")       # a checkout of GAIR-NLP/OctoThinker
    task = harness.task("gsm8k")
    problems = task.problems(data_dir)                      # the release's question cleaning and golds
    prompts = [task.prompt(p) for p in problems]            # its prompt class, exemplars read from the copy
    verdicts = task.score(problems, completions)            # its extraction and equivalence, quirks kept

The per-benchmark wiring (which cleaning, prompt class, extraction and eval function) is the release's
config file, read from the copy. MATH-500 has a test file and a cleaning function in the release but no
entry in its config: it is wired as the config wires MATH (MATH's prompt, extraction and grading, with
MATH-500's own cleaning), and `RELEASE_WIRING` says so. Where the rules come from and how they depart
from ours: `docs/RELEASE_HARNESS.md`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from octothinker.errors import DataError, OctoError
from octothinker.runs.files import jsonl_records
from octothinker.tasks.release.answers import EXTRACT, TABMWP_EXTRACT
from octothinker.tasks.release.checkout import ReleaseCopy
from octothinker.tasks.release.equivalence import (ANTLR_DIR_ENV, EVAL, JUDGE_TIMEOUT_S, SYMPY_ANTLR, antlr_paths,
                                                   judge)
from octothinker.tasks.release.questions import PROCESS

# our benchmark name -> the release config's entry (and, for MATH-500, the cleaning used in its place)
RELEASE_WIRING: dict[str, tuple[str, str | None]] = {
    "gsm8k": ("gsm8k-cot", None),
    "math": ("math-cot", None),
    "math500": ("math-cot", "process_math500"),  # not in the release's config: wired as MATH
    "olympiad_bench": ("olympiad-bench-cot", None),
    "amc23": ("amc-cot", None),
    "sat": ("math_sat-cot", None),
    "ocw": ("ocw-courses-cot", None),
    "mmlu_stem": ("mmlu-stem-cot", None),
    "mathqa": ("mathqa-cot", None),
    "svamp": ("svamp-cot", None),
    "tabmwp": ("tabmwp-cot", None),
    "asdiv": ("asdiv-cot", None),
    "mawps": ("mawps-cot", None),
}


@dataclass(frozen=True)
class ReleaseProblem:
    id: str                 # the 0-based line in test.jsonl, as `octo eval` writes it
    question: str           # after the release's cleaning
    gold: str | list[str]
    choice: bool = False    # TabMWP: the problem offers choices


@dataclass(frozen=True)
class ReleaseVerdict:
    extracted: str | list[str] | None
    correct: bool


NO_ANSWER = ("[invalid]", "placeholder", "")   # what the release's extractors return for no answer


def _judge_worker(extraction_fn: str, eval_fn: str, question: str, completion: str, gold, choice: bool):
    """(the release's reading, its verdict): both in a killable worker, since some of the release's
    normalisations take seconds on a looping answer."""
    fn = EXTRACT[extraction_fn]
    pred = fn(question, completion, choice) if extraction_fn == TABMWP_EXTRACT else fn(question, completion)
    return pred, judge(eval_fn, pred, gold, choice)


@dataclass(frozen=True)
class ReleaseTask:
    name: str
    process_fn: str
    extraction_fn: str
    eval_fn: str
    prompt_class: object     # checkout.PromptClass
    copy: ReleaseCopy

    @property
    def stop(self) -> tuple[str, ...]:
        """The prompt class's stop words (the release adds the tokenizer's end-of-text, as every
        generator here does)."""
        return self.prompt_class.stop

    def problems(self, data_dir: str | Path, limit: int | None = None, path: str | Path | None = None) -> list[ReleaseProblem]:
        path = Path(path) if path else Path(data_dir) / self.name / "test.jsonl"
        if not path.is_file():
            raise DataError(f"{path}: benchmark file not found")
        process = PROCESS[self.process_fn]
        out = []
        for index, (where, rec) in enumerate(jsonl_records(path)):
            if limit is not None and index >= limit:
                break
            question, gold, *rest = process(self.copy, rec, where)
            out.append(ReleaseProblem(str(index), question, gold, bool(rest and rest[0])))
        if not out:
            raise DataError(f"{path}: no problems")
        return out

    def prompt(self, problem: ReleaseProblem) -> str:
        return self.prompt_class.format(problem.question).lstrip()  # run_cot_eval strips the left side

    def score(self, problems: list[ReleaseProblem], completions: list[str], pool=None) -> list[ReleaseVerdict]:
        """The release's reading and verdict on each completion, whole: the release reads a cut-off
        completion as it reads a finished one. `extracted` is None where the release read no answer
        (its "[invalid]", "placeholder", nothing), or where reading and judging took over 15 s."""
        from octothinker.tasks.grading import VerifyPool

        own = pool is None
        if own:
            paths = antlr_paths()
            if paths is None:
                raise OctoError(f"the release harness reads LaTeX answers with sympy's parse_latex, which needs "
                                f"ANTLR {SYMPY_ANTLR}: pip install --no-deps --target DIR antlr4-python3-runtime=="
                                f"{SYMPY_ANTLR}.1 and set {ANTLR_DIR_ENV}=DIR (make install does this for a checkout)")
            pool = VerifyPool(timeout_s=JUDGE_TIMEOUT_S, worker=_judge_worker, paths=paths)
        try:
            results = pool.verify_many([(self.extraction_fn, self.eval_fn, p.question, c, p.gold, p.choice)
                                        for p, c in zip(problems, completions)])
        finally:
            if own:
                pool.close()
        out = []
        for result in results:
            pred, ok = result if isinstance(result, tuple) else (None, False)  # False: over the time limit
            out.append(ReleaseVerdict(None if pred in NO_ANSWER or pred == [] else pred, bool(ok)))
        return out


class ReleaseHarness:
    def __init__(self, release_dir: str | Path):
        self.copy = ReleaseCopy(release_dir)
        self.copy.config  # noqa: B018  (a folder that is no release is named now, not at the first task)

    def task(self, name: str) -> ReleaseTask:
        if name not in RELEASE_WIRING:
            raise DataError(f"benchmark {name!r}: the release harness knows {', '.join(RELEASE_WIRING)}")
        key, process_fn = RELEASE_WIRING[name]
        entry = self.copy.entry(key)
        process_fn = process_fn or entry["process_fn"]
        for fn, known in ((process_fn, PROCESS), (entry["answer_extraction_fn"], EXTRACT),
                          (entry["eval_fn"], {**EVAL, "eval_tabmwp": None})):
            if fn not in known:
                raise DataError(f"{self.copy.root}: {key} names {fn}, which this harness does not know")
        return ReleaseTask(name, process_fn, entry["answer_extraction_fn"], entry["eval_fn"],
                           self.copy.prompt_class(entry["few_shot_prompt"]), self.copy)
