"""Every reader of a user's file, fed what Hypothesis makes of a good file: cut short anywhere, bytes
flipped, other JSON types where records and fields belong, other encodings, an oversized line, nothing at
all. Each outcome is a clean result or a one-line error naming the file (an OctoError, which the CLI shows
without a traceback). Nothing hangs: each read runs under an alarm."""

from __future__ import annotations

import gzip
import io
import json
import signal
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from octothinker.data.config import DataRecipe
from octothinker.data.readers import read_records
from octothinker.errors import OctoError
from octothinker.recipe import load_recipe
from octothinker.rl.config import RLConfig
from octothinker.rl.prompts import load_prompts
from octothinker.study.recipe import load_study
from octothinker.tasks.benchmarks import load_problems
from octothinker.tasks.fewshot import load_exemplars
from octothinker.tasks.grading import VerifyPool
from octothinker.tasks.templates import get_template

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

RECORDS = [{"question": "What is 2+3?", "answer": "5", "solution": "2+3=5", "text": "Two plus three is five."},
           {"question": "What is 7*6?", "answer": "42", "solution": "7*6=42", "text": "Seven sixes are \\boxed{42}."}]
GOOD_JSONL = "".join(json.dumps(r) + "\n" for r in RECORDS).encode()
ODD_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
                       st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


@st.composite
def damaged(draw, good: bytes) -> bytes:
    """A good file, damaged one way or another."""
    how = draw(st.sampled_from(["truncate", "flip", "insert", "encoding", "oversized", "empty", "types", "lines"]))
    if how == "truncate":
        return good[:draw(st.integers(0, len(good)))]
    if how == "flip":
        at = draw(st.integers(0, max(len(good) - 1, 0)))
        return good[:at] + bytes([good[at] ^ draw(st.integers(1, 255))]) + good[at + 1:] if good else b"\xff"
    if how == "insert":
        at = draw(st.integers(0, len(good)))
        return good[:at] + draw(st.binary(min_size=1, max_size=16)) + good[at:]
    if how == "encoding":  # a text file in another encoding; a binary one read as Latin-1 and so written
        text = good.decode("utf-8") if good.isascii() or _is_utf8(good) else good.decode("latin-1")
        return text.encode(draw(st.sampled_from(["utf-16", "utf-32", "cp500"])), errors="replace")
    if how == "oversized":
        return good + b'{"question": "' + b"9" * 2_000_000 + b'", "answer": "1"}\n'
    if how == "empty":
        return draw(st.sampled_from([b"", b"\n", b"   \n\n", b"\x00"]))
    if how == "types":  # a record, or one of its fields, of another JSON type
        row = draw(st.one_of(ODD_VALUES, st.fixed_dictionaries({k: ODD_VALUES for k in RECORDS[0]})))
        return good + (json.dumps(row) + "\n").encode()
    return draw(st.lists(st.sampled_from([b"{", b"}", b"[]", b"null", b"{\"a\": 1}", b"\xc3\x28", b"\r"]),
                         min_size=1, max_size=6).map(lambda parts: b"\n".join(parts)))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


@contextmanager
def alarm(seconds: int = 20):
    def hung(*_):
        raise AssertionError(f"a reader ran past {seconds} s")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def clean_or_named(read, path: Path):
    """The reader's result, or None after a one-line OctoError naming `path`; anything else fails."""
    with alarm():
        try:
            return read()
        except OctoError as err:
            message = str(err)
            assert str(path) in message and "\n" not in message, message
            return None


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@FUZZ
@given(data=damaged(GOOD_JSONL), on_bad_line=st.sampled_from(["skip", "fail"]))
def test_corpus_jsonl(tmp_path, data, on_bad_line):
    path = write(tmp_path, "corpus.jsonl", data)
    clean_or_named(lambda: list(read_records(str(path), on_bad_line)), path)


@FUZZ
@given(data=damaged(GOOD_JSONL), suffix=st.sampled_from([".jsonl.gz", ".jsonl.zst"]), whole=st.booleans())
def test_compressed_corpus(tmp_path, data, suffix, whole):
    """A damaged file compressed (a clean archive of bad records), or a good one whose archive is damaged."""
    import zstandard

    pack = gzip.compress if suffix.endswith(".gz") else zstandard.ZstdCompressor().compress
    archive = pack(data) if whole else pack(GOOD_JSONL)
    if not whole:
        archive = archive[:len(data) % (len(archive) + 1)] + data[:8]
    path = write(tmp_path, "corpus" + suffix, archive)
    clean_or_named(lambda: list(read_records(str(path))), path)


def _parquet(rows: list[dict]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer, compression="snappy")
    return buffer.getvalue()


GOOD_PARQUET = _parquet(RECORDS * 50)


@FUZZ
@given(data=damaged(GOOD_PARQUET))
def test_corpus_parquet(tmp_path, data):
    path = write(tmp_path, "corpus.parquet", data)
    clean_or_named(lambda: list(read_records(str(path))), path)


@FUZZ
@given(data=damaged(GOOD_JSONL))
def test_benchmark_file(tmp_path, data):
    path = write(tmp_path, "test.jsonl", data)
    clean_or_named(lambda: load_problems(f"fuzz={path}", None), path)


@FUZZ
@given(data=damaged(GOOD_JSONL))
def test_exemplars(tmp_path, data):
    path = write(tmp_path, "fewshot.jsonl", data)
    clean_or_named(lambda: load_exemplars(path), path)


@FUZZ
@given(data=damaged(b"Question: {question}\nAnswer: Let's think step by step.\n"))
def test_template_file(tmp_path, data):
    path = write(tmp_path, "template.txt", data)
    clean_or_named(lambda: get_template(str(path)), path)


class Words:
    """A tokenizer by whitespace: RL's prompt loader only counts a prompt's tokens."""

    def __call__(self, text, **_):
        return {"input_ids": text.split()}


@pytest.fixture(scope="module")
def pool():
    pool = VerifyPool(workers=1)
    yield pool
    pool.close()


@FUZZ
@given(data=damaged(GOOD_JSONL))
def test_rl_prompts(tmp_path, pool, data):
    path = write(tmp_path, "prompts.jsonl", data)
    cfg = RLConfig(prompts=str(path), steps=1, max_prompt_tokens=64, max_loss_share=1.0)
    clean_or_named(lambda: load_prompts(cfg, get_template("simple"), Words(), pool), path)


STUDY = b"""name: fuzz
out: runs/fuzz
seed: 1
rl_from: [base]
given: {base: models/base}
rl: {prompts: p.jsonl, steps: 2, template: simple}
"""
DATA = b"""out: shards
tokenizer: tok
sources:
  - {name: web, path: web.jsonl, weight: 1.0}
mixture: {tokens: 1000}
"""


@FUZZ
@given(data=damaged(STUDY))
def test_study_recipe(tmp_path, data):
    path = write(tmp_path, "study.yaml", data)
    clean_or_named(lambda: load_study(path), path)


@FUZZ
@given(data=damaged(DATA))
def test_data_recipe(tmp_path, data):
    path = write(tmp_path, "data.yaml", data)
    clean_or_named(lambda: load_recipe(path, DataRecipe), path)
