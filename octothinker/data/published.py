"""Stand-ins for the published corpora and benchmark files, in their published schemas, made here.

`octo run RECIPE --rehearse` needs the recipe's corpora without downloading 200B tokens, and the tests
need benchmark files that nobody downloaded: both are written from the synthetic math world's generators
(`synthetic.py`), row for row in the columns each dataset card gives (`formats.py` reads them back).
What the rows say is toy arithmetic; how they are laid out is the real corpus's: OpenR1's lists of
traces with `correctness_math_verify` (a share with no correct trace, as in the real data), AM's
`messages` with `<think>`/`<answer>` tags, chat corpora with several turns, the benchmarks' own field
names and answer types (numbers, strings, lists, option letters).

    write_corpus("corpora/openr1-math-220k/*.parquet", "openr1-math", rows=300, seed=0)
    write_benchmarks("benchmarks", problems=40, seed=0)
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path

from octothinker.data.synthetic import (WorldSize, generic_doc, hq_web_doc, instruction_record, long_solution,
                                        lq_web_doc, make_problem, short_solution)
from octothinker.runs.seeds import derive_seed

SIZE = WorldSize()
UNVERIFIED_SHARE = 0.1     # OpenR1 rows none of whose traces math-verify marks correct


def _trace(rng: random.Random, p, chars: int = 4800) -> str:
    """An R1-style trace: reasoning that re-checks itself until it is as long as real traces run (a few
    thousand tokens), inside <think>, then the final answer."""
    parts = [long_solution(p)]
    while sum(map(len, parts)) < chars:
        parts.append(rng.choice(["Wait, let me verify that again from the start.", "Hmm, let me double-check.",
                                 "Let me re-derive it another way to be sure."]) + " " + long_solution(p))
    return f"<think>\n{' '.join(parts)}\n</think>\n\nSo {p.name} has {p.answer} {p.items}. The answer is \\boxed{{{p.answer}}}."


def _turns(rng: random.Random, turns: int) -> list[dict]:
    out = []
    for _ in range(turns):
        rec = instruction_record(rng)
        out += [{"role": "user", "content": rec["instruction"]}, {"role": "assistant", "content": rec["response"]}]
    return out


def record(fmt: str, rng: random.Random, i: int) -> dict:
    """One row of the corpus `fmt` names, in its published columns."""
    if fmt in ("text", "megamath-web-pro", "dclm"):
        return {"text": hq_web_doc(rng, SIZE), "id": f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}>",
                "url": f"https://example.org/{i}"}
    if fmt == "finemath":
        return {"url": f"https://example.org/{i}", "text": hq_web_doc(rng, SIZE), "score": round(rng.uniform(3, 5), 3),
                "int_score": 4, "token_count": 300, "language": "en"}
    p = make_problem(rng, SIZE)
    if fmt == "megamath-qa":
        return {"text": f"Question: {p.question}\nAnswer: {short_solution(p)}"}
    if fmt == "qa":
        return {"question": p.question, "solution": short_solution(p), "answer": str(p.answer)}
    if fmt == "openmathinstruct2":
        return {"problem": p.question, "generated_solution": short_solution(p), "expected_answer": str(p.answer),
                "problem_source": "augmented_gsm8k"}
    if fmt == "numinamath":
        return {"source": "synthetic_math", "problem": p.question, "solution": short_solution(p),
                "messages": [{"role": "user", "content": p.question}, {"role": "assistant", "content": short_solution(p)}]}
    if fmt == "openr1-math":
        wrong = f"<think>\n{short_solution(p)}\n</think>\n\nThe answer is \\boxed{{{p.answer + 1}}}."
        right = _trace(rng, p)
        verified = [False, False] if rng.random() < UNVERIFIED_SHARE else [False, True]
        return {"problem": p.question, "solution": short_solution(p), "answer": str(p.answer),
                "problem_type": "Algebra", "question_type": "math-word-problem", "source": "olympiads",
                "uuid": str(uuid.UUID(int=rng.getrandbits(128))), "is_reasoning_complete": [True, True],
                "generations": [wrong, right], "correctness_math_verify": verified, "correctness_llama": None,
                "finish_reasons": ["stop", "stop"], "correctness_count": sum(verified),
                "messages": [{"role": "user", "content": p.question}, {"role": "assistant", "content": right}]}
    if fmt == "am-distilled":
        think, answer = _trace(rng, p).split("</think>")
        info = {"source": "synthetic_math", "reference_answer": str(p.answer), "test_case": None,
                "think_content": think.replace("<think>", "").strip(), "answer_content": answer.strip()}
        return {"messages": [{"role": "user", "content": p.question, "info": info},
                             {"role": "assistant", "content": f"{think}</think>\n<answer>\n{answer.strip()}\n</answer>",
                              "info": info}]}
    if fmt == "instruct":
        return instruction_record(rng)
    if fmt == "tulu3-sft":
        messages = _turns(rng, 1)
        return {"id": f"personas_IF_{i}", "prompt": messages[0]["content"], "messages": messages,
                "constraints": ["Answer in one line."]}
    if fmt == "ultrachat":
        messages = _turns(rng, rng.randint(1, 3))
        return {"prompt": messages[0]["content"], "prompt_id": f"{rng.getrandbits(64):016x}", "messages": messages}
    if fmt == "wildchat":
        messages = _turns(rng, rng.randint(1, 2))
        for turn_id, m in enumerate(messages):
            m.update(language="English", turn_identifier=turn_id, toxic=False, redacted=False)
        return {"conversation_hash": f"{rng.getrandbits(128):032x}", "model": "gpt-4-0314",
                "timestamp": "2023-04-09 00:02:53", "conversation": messages, "turn": len(messages) // 2,
                "language": "English", "toxic": False, "redacted": False}
    raise ValueError(f"no published stand-in for format {fmt!r}")


def _write(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def corpus_file(spec: str) -> Path:
    """The one file a source's path or glob will match: `corpora/x/*.parquet` -> corpora/x/part-00000.parquet."""
    path = Path(spec)
    if any(c in path.name for c in "*?["):
        suffix = ".parquet" if path.name.endswith(".parquet") else ".jsonl"
        return path.parent / f"part-00000{suffix}"
    return path


def write_corpus(spec: str, fmt: str, rows: int, seed: int) -> Path:
    rng = random.Random(derive_seed(seed, "corpus", fmt))
    return _write(corpus_file(spec), [record(fmt, rng, i) for i in range(rows)])


def write_seeds(positive: str, negative: str, rows: int, seed: int) -> None:
    """The quality classifier's seed documents: math web (positive), noisy web and everyday text (negative)."""
    rng = random.Random(derive_seed(seed, "quality-seeds"))
    _write(Path(positive), [{"text": hq_web_doc(rng, SIZE)} for _ in range(rows)])
    _write(Path(negative), [{"text": lq_web_doc(rng, SIZE) if i % 2 else generic_doc(rng)} for i in range(rows)])


def write_prompts(path: str, rows: int, seed: int) -> None:
    """RL prompts: question/answer records (the answer a number, as MATH's level 3-5 set gives it)."""
    rng = random.Random(derive_seed(seed, "prompts"))
    _write(Path(path), [{"question": (p := make_problem(rng, SIZE)).question, "answer": str(p.answer)}
                        for _ in range(rows)])


def _options(rng: random.Random, answer: int, letters: str) -> tuple[list[str], str]:
    wrong = rng.sample([a for a in range(max(0, answer - 9), answer + 10) if a != answer], len(letters) - 1)
    at = rng.randrange(len(letters))
    return [str(v) for v in wrong[:at] + [answer] + wrong[at:]], letters[at]


def benchmark_record(name: str, rng: random.Random, i: int) -> dict:
    """One test record of benchmark `name` in its file's own fields (those `tasks.benchmarks` reads)."""
    p = make_problem(rng, SIZE)
    q, a = p.question, p.answer
    body, _, last = q.rpartition(". ")
    body, last = body + ".", last
    if name == "gsm8k":
        return {"question": q, "answer": str(a), "cot": short_solution(p), "id": f"gsm8k-test-{i}"}
    if name in ("math", "math500"):
        return {"problem": q, "solution": short_solution(p), "answer": str(a), "subject": "Prealgebra",
                "level": 2, "unique_id": f"test/prealgebra/{i}.json"}
    if name == "olympiad_bench":
        return {"id": i, "subfield": "Algebra", "context": None, "question": q, "final_answer": [f"${a}$"],
                "is_multiple_answer": False, "unit": None, "answer_type": "Numerical"}
    if name == "amc23":
        return {"id": i, "problem": q, "answer": float(a), "url": f"https://example.org/amc/{i}", "question": q}
    if name == "asdiv":
        return {"body": body, "question": last, "solution_type": "Addition", "answer": f"{a} ({p.items})",
                "formula": "", "idx": i}
    if name == "mawps":
        return {"input": q, "target": float(a), "type": "singleeq", "idx": i}
    if name == "svamp":
        return {"Answer": float(a), "Question": last, "Equation": "", "Body": body, "Type": "Addition",
                "ID": f"chal-{i}", "idx": i}
    if name == "tabmwp":
        return {"question": f"How many {p.items} does {p.name} have?", "unit": None, "table": f"Name | {p.items}\n{p.name} | {a}",
                "table_title": p.items.title(), "choices": None, "answer": str(a), "ques_type": "free_text"}
    if name == "mathqa":
        options, letter = _options(rng, a, "abcde")
        return {"problem": q, "rationale": short_solution(p), "correct": letter,
                "options": " , ".join(f"{c} ) {o}" for c, o in zip("abcde", options)), "type": "general"}
    if name == "sat":
        options, letter = _options(rng, a, "ABCD")
        return {"id": str(i), "question": q, "options": " ".join(f"{c}) {o}" for c, o in zip("ABCD", options)),
                "Answer": letter}
    if name == "mmlu_stem":
        options, letter = _options(rng, a, "ABCD")
        return {"question": q, "options": options, "answer": letter, "topic": "elementary_mathematics", "id": i}
    if name == "ocw":
        return {"problem": q, "solution": short_solution(p), "type": "Physics", "idx": i, "answer": str(a)}
    raise ValueError(f"no stand-in for benchmark {name!r}")


def write_benchmarks(folder: str | Path, problems: int, seed: int, names: list[str] | None = None) -> Path:
    """`<folder>/<name>/test.jsonl` for every benchmark of the registry (or `names`)."""
    from octothinker.tasks.benchmarks import BENCHMARKS

    folder = Path(folder)
    for name in names or list(BENCHMARKS):
        rng = random.Random(derive_seed(seed, "benchmark", name))
        _write(folder / name / "test.jsonl", [benchmark_record(name, rng, i) for i in range(problems)])
    return folder
