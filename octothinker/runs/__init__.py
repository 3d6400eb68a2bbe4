"""Run plumbing shared by every stage, below them all: files (atomic writes, JSONL), checkpoints, the
metrics writer, progress lines, seeds and the metadata each run records."""

from octothinker.runs.files import atomic_write_json, atomic_write_text, ensure_writable, jsonl_records, read_jsonl
from octothinker.runs.meta import git_revision, run_metadata
from octothinker.runs.seeds import derive_seed

__all__ = ["atomic_write_json", "atomic_write_text", "derive_seed", "ensure_writable", "git_revision",
           "jsonl_records", "read_jsonl", "run_metadata"]
