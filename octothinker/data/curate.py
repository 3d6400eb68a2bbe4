"""Curation on datatrove: each source of a data recipe through the quality filter, MinHash
deduplication and decontamination, into token files, on datatrove's executors (local, Slurm, Ray).
A source's stages, one datatrove pipeline each:

    read + format + quality (fastText) + MinHash signatures   tasks: the source's files split among them
    MinHash buckets                                            one task per bucket
    MinHash clusters                                           one task
    dedup filter + decontamination + tokenize                 the same tasks as the first stage

Near duplicates are looked for within each source, as the corpora a mixture draws on are each
deduplicated on their own (FineWeb, MegaMath): a short and a long solution of one problem, in two
sources of a hybrid mixture, are both meant to be there.

datatrove's own steps do the filtering and the deduplication. Ours, each a datatrove step, are what it
lacks: the readers and the sources' formats (`formats.py`; a bad line or record named by file, record
and field, skipped and counted by reason with a first example, or fatal), the benchmark decontamination (datatrove's works from lighteval task objects, not
from benchmark files), the per-source tallies for the data report, and tokenization into our staging
files (datatrove's tokenizer writes its own format, without our mixture and shard index).

Documents keep a key (the input file's index in the source, the record's number in it), and each
source's token file is written in key order, so that the shards do not depend on how many tasks ran:
`tests/data/test_curate.py` builds with 1 and 2 tasks and compares.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import numpy as np
from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                              MinhashDedupFilter, MinhashDedupSignature)
from datatrove.pipeline.filters import FastTextClassifierFilter
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.utils.logging import setup_default_logger
from datatrove.utils.text import TextNormConfig
from datatrove.utils.word_tokenizers import WordTokenizer, load_word_tokenizer

from octothinker.data.decontam import Decontaminator
from octothinker.data.formats import BAD_REASONS, DROP_REASONS, RecordError
from octothinker.data.preview import has_boxed
from octothinker.data.quality import QualityClassifier
from octothinker.data.readers import expand_paths, read_records
from octothinker.errors import DataError
from octothinker.runs.losses import Losses

# Why a source's records do not reach its token file, in the order the build removes them.
LOSS_REASONS = (*BAD_REASONS, *DROP_REASONS, "quality_removed", "near_duplicates", "contaminated", "dropped_overlong")
# The data report's columns, per source.
STEPS = ("read", *LOSS_REASONS, "truncated", "kept", "tokens")


class ReadSources(PipelineStep):
    """Our readers and the source's format as datatrove's first step. datatrove's JsonlReader logs a bad
    line and moves on; a recipe here asks for a bad line or record to be named by file, record and field,
    then skipped and counted by reason (with the first example of each kept for the report), or fatal.
    Tasks split the input files among them, as datatrove's readers do."""

    name = "📖 sources"
    type = "📖 - READER"

    def __init__(self, files: list[str], src, on_bad_line: str, examples: str):
        super().__init__()
        self.files, self.src, self.on_bad_line, self.examples = files, src, on_bad_line, examples

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        src, examples = self.src, {}
        for file_index in range(rank, len(self.files), world_size):
            path = self.files[file_index]
            bad: Counter = Counter()
            for number, (where, rec) in enumerate(read_records(path, self.on_bad_line, bad)):
                self.stat_update(f"{src.name}/read")
                try:
                    text = src.document(rec)
                except RecordError as err:
                    if self.on_bad_line == "fail" and err.reason in BAD_REASONS:
                        raise DataError(f"source '{src.name}': {where}: {err}") from None
                    self.stat_update(f"{src.name}/{err.reason}")
                    examples.setdefault(err.reason, f"{where}: {err}")
                    continue
                yield Document(text=text, id=f"{file_index}/{number}",
                               metadata={"source": src.name, "key": (file_index << 32) | number, "where": where})
            if bad:
                self.stat_update(f"{src.name}/bad_json", value=sum(bad.values()))
                examples.setdefault("bad_json", f"{path}: {sum(bad.values())} line(s) not JSON objects")
        if examples:
            Path(self.examples).mkdir(parents=True, exist_ok=True)
            (Path(self.examples) / f"{rank:05d}.json").write_text(json.dumps(examples))


def example_of(doc: Document) -> str:
    """A removed document as its reason's example: where it was read, and how it begins."""
    text = " ".join(doc.text.split())
    why = f" ({doc.metadata['filter_reason']})" if doc.metadata.get("filter_reason") else ""
    return f"{doc.metadata.get('where', doc.id)}{why}: {text[:80]!r}" + ("..." if len(text) > 80 else "")


class FirstExample:
    """The exclusion writer our filters and datatrove's are given: it keeps the first document a filter
    removed, as its reason's example for the data report (datatrove's own writers would write every
    removed document, a second copy of a corpus's rejects)."""

    def __init__(self, folder: str, reason: str):
        self.folder, self.reason, self.first = folder, reason, None

    def __enter__(self):
        self.first = None
        return self

    def write(self, doc: Document, rank: int = 0) -> None:
        if self.first is None:
            self.first = (rank, example_of(doc))

    def __exit__(self, *exc) -> None:
        if self.first is not None:
            rank, example = self.first
            Path(self.folder).mkdir(parents=True, exist_ok=True)
            (Path(self.folder) / f"{self.reason}-{rank:05d}.json").write_text(json.dumps({self.reason: example}))


class Tally(PipelineStep):
    """Counts documents where it stands: a filter's removals are the difference of two tallies, for
    datatrove's steps and ours alike, whatever each step names its own stats."""

    name = "🔢 tally"
    type = "🔢 - STATS"

    def __init__(self, label: str):
        super().__init__()
        self.label = label

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            self.stat_update(f"{doc.metadata['source']}/{self.label}")
            yield doc


class QualityFilter(FastTextClassifierFilter):
    """datatrove's fastText filter, with the classifier trained here."""

    def __new__(cls, *args, **kwargs):
        # datatrove's step checks for the fasttext-numpy2-wheel distribution; that build's training
        # diverges to NaN on small seed sets, so we install fasttext-wheel and score through
        # `QualityClassifier.predict`, and skip the check.
        return object.__new__(cls)

    def __init__(self, model_path: str, threshold: float, examples: str):
        super().__init__(model_path, keep_labels=("hq", threshold), save_labels_in_metadata=False,
                         newline_replacement=" ", exclusion_writer=FirstExample(examples, "quality_removed"))

    def filter(self, doc: Document) -> bool:
        # datatrove's filter empties a document it removes; its text is put back for the example it makes
        text = doc.text
        kept = super().filter(doc)
        if not kept:
            doc.text = text
        return kept

    @property
    def model(self):
        # datatrove copies a model into its download cache, keyed by path: a rebuild would then score with
        # the previous build's classifier, and the copy lands outside the run folder. Load it in place.
        if self._model is None:
            self._model = QualityClassifier.load(self.model_url)
        return self._model


class Decontaminate(BaseFilter):
    """Drops documents that share an n-gram with a benchmark question (see `decontam.py`)."""

    name = "🧹 decontaminate"

    def __init__(self, questions: list[tuple[str, str]], n: int, examples: str):
        super().__init__(exclusion_writer=FirstExample(examples, "contaminated"))
        self.questions, self.n = questions, n
        self._index = None

    def filter(self, doc: Document) -> bool:
        if self._index is None:
            self._index = Decontaminator(self.n)
            for benchmark, question in self.questions:
                self._index.add(benchmark, question)
        owner = self._index.match(doc.text)
        if owner is not None:
            self.stat_update(f"{doc.metadata['source']}/contaminated_by/{owner}")
            return False, f"overlaps {owner}"
        return True


class TokenizeToStaging(PipelineStep):
    """Tokenizes each task's documents into `<staging>/<source>.<rank>.bin` (uint32, one EOS after each
    document) with the documents' lengths and keys; `merge_staging` puts each source in key order."""

    name = "🔤 tokenize"
    type = "🔢 - TOKENIZER"

    def __init__(self, staging: str, tokenizer: str, sources: list, examples: str, batch: int = 256):
        super().__init__()
        self.staging, self.tokenizer, self.batch, self.examples = staging, tokenizer, batch, examples
        self.limits = {s.name: (s.max_tokens, s.overlong) for s in sources}

    def run(self, data, rank: int = 0, world_size: int = 1):
        from octothinker.models import load_tokenizer

        tokenizer = load_tokenizer(self.tokenizer)
        eos = tokenizer.eos_token_id
        files, lengths, keys = {}, {}, {}
        pending: list[Document] = []

        def flush():
            if not pending:
                return
            for doc, ids in zip(pending, tokenizer([d.text for d in pending], add_special_tokens=False)["input_ids"]):
                name = doc.metadata["source"]
                max_tokens, policy = self.limits[name]
                if max_tokens and len(ids) > max_tokens:
                    if policy == "drop":
                        self.stat_update(f"{name}/dropped_overlong")
                        doc.metadata["filter_reason"] = f"{len(ids)} tokens, over {max_tokens}"
                        overlong.write(doc, rank)
                        continue
                    ids = ids[:max_tokens]
                    self.stat_update(f"{name}/truncated")
                if name not in files:
                    files[name] = open(Path(self.staging) / f"{name}.{rank:05d}.bin", "wb")
                    lengths[name], keys[name] = [], []
                np.asarray(ids + [eos], dtype=np.uint32).tofile(files[name])
                lengths[name].append(len(ids) + 1)
                keys[name].append(doc.metadata["key"])
                self.stat_update(f"{name}/kept")
                if has_boxed(doc.text):
                    self.stat_update(f"{name}/boxed")
                self.stat_update(f"{name}/tokens", value=len(ids) + 1)
            pending.clear()

        with FirstExample(self.examples, "dropped_overlong") as overlong:
            for doc in data:
                pending.append(doc)
                if len(pending) >= self.batch:
                    flush()
            flush()
        for name, fh in files.items():
            fh.close()
            np.save(Path(self.staging) / f"{name}.{rank:05d}.lengths.npy", np.asarray(lengths[name], dtype=np.int64))
            np.save(Path(self.staging) / f"{name}.{rank:05d}.keys.npy", np.asarray(keys[name], dtype=np.int64))


class RankShard(JsonlReader):
    """The documents the same-numbered task of the first stage wrote, in the order it wrote them:
    datatrove's MinHash filter names documents by (task, position), and a task that wrote nothing has
    no file, so the files cannot be shared out by listing them as datatrove's readers do."""

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        path = f"{rank:05d}.jsonl"
        if self.data_folder.exists(path):
            yield from self.read_file(path)


def merge_staging(staging: Path, name: str) -> np.ndarray:
    """Writes `<staging>/<name>.bin` from every task's part in key order; returns the lengths."""
    parts = sorted(staging.glob(f"{name}.*.keys.npy"))
    if not parts:  # every document was filtered out
        (staging / f"{name}.bin").write_bytes(b"")
        return np.zeros(0, np.int64)
    keys = [np.load(p) for p in parts]
    lengths = [np.load(str(p).replace(".keys.npy", ".lengths.npy")) for p in parts]
    tokens = [np.memmap(str(p).replace(".keys.npy", ".bin"), dtype=np.uint32, mode="r") for p in parts]
    part_of = np.concatenate([np.full(len(k), i) for i, k in enumerate(keys)])
    index_in = np.concatenate([np.arange(len(k)) for k in keys])
    starts = [np.concatenate([[0], np.cumsum(ln)]) for ln in lengths]
    order = np.argsort(np.concatenate(keys), kind="stable")
    with open(staging / f"{name}.bin", "wb") as out:
        for j in order:
            p, i = part_of[j], index_in[j]
            np.asarray(tokens[p][starts[p][i]:starts[p][i + 1]]).tofile(out)
    merged = np.concatenate(lengths)[order]
    del tokens
    for p in parts:
        for suffix in (".keys.npy", ".lengths.npy", ".bin"):
            Path(str(p).replace(".keys.npy", suffix)).unlink()
    return merged.astype(np.int64)


class SpaceSeparatedWords(WordTokenizer):
    """Words split at spaces. datatrove's MinHash first lowercases the text and removes its punctuation,
    after which spaCy's English tokenizer (datatrove's default) only splits at spaces as well, at about
    1.3 ms a document: 80% of the curation's time on 2 cores (BENCHMARKS.md, data throughput). A recipe
    sets `dedup.language` for datatrove's own tokenizer of a language that does not separate words."""

    def word_tokenize(self, text: str) -> list[str]:
        return text.split()

    def sent_tokenize(self, text: str) -> list[str]:
        return [text]

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return [(0, len(text))]


def minhash_config(spec) -> MinhashConfig:
    # Numbers are not normalised away: math documents that differ only in their numbers are different
    # problems, not near duplicates (datatrove's default maps every number to one token).
    return MinhashConfig(n_grams=spec.shingle, num_buckets=spec.buckets, hashes_per_bucket=spec.hashes_per_bucket,
                         norm_config=TextNormConfig(norm_numbers=False))


def _executor(recipe, pipeline: list, tasks: int, name: str, logs: Path, depends=None):
    if recipe.executor == "local":
        from datatrove.executor import LocalPipelineExecutor

        # fork: the tasks see this process's (redirected) stderr and need no pickling.
        return LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=min(recipe.workers, tasks),
                                     logging_dir=str(logs / name), depends=depends, start_method="fork")
    if recipe.executor == "ray":
        from datatrove.executor.ray import RayPipelineExecutor

        return RayPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=recipe.workers, depends=depends,
                                   logging_dir=str(logs / name), cpus_per_task=recipe.cluster.cpus_per_task,
                                   mem_per_cpu_gb=recipe.cluster.mem_per_cpu_gb)
    from datatrove.executor.slurm import SlurmPipelineExecutor

    c = recipe.cluster
    return SlurmPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=recipe.workers, depends=depends,
                                 logging_dir=str(logs / name), job_name=f"{recipe.name}-{name.replace('/', '-')}", time=c.time,
                                 partition=c.partition, cpus_per_task=c.cpus_per_task, mem_per_cpu_gb=c.mem_per_cpu_gb,
                                 qos=c.qos, sbatch_args=dict(c.sbatch_args), venv_path=c.venv_path,
                                 slurm_logs_folder=str(logs / name / "slurm"))


def _run_stages(recipe, stages: list, logs: Path) -> None:
    """Runs the stages in order on the recipe's executor. Slurm only submits them (each depending on
    the one before), so this then waits until every task of the last stage is complete."""
    if recipe.executor == "slurm":
        executors = []
        for name, pipeline, tasks in stages:
            executors.append(_executor(recipe, pipeline, tasks, name, logs, depends=executors[-1] if executors else None))
        executors[-1].run()
        _wait_for_slurm(executors, logs)
        return
    with _ray_session() if recipe.executor == "ray" else contextlib.nullcontext():
        for name, pipeline, tasks in stages:
            _run_stage(recipe, name, pipeline, tasks, logs)


@contextlib.contextmanager
def _ray_session():
    """Connects to the Ray cluster RAY_ADDRESS names, or starts a local instance, unless this process is
    already connected; when the curation is done, disconnects (a local instance stops). The tasks' output
    stays in their datatrove logs instead of being copied to this console."""
    import ray

    if ray.is_initialized():
        yield
        return
    ray.init(log_to_driver=False, logging_level=logging.WARNING)
    try:
        yield
    finally:
        ray.shutdown()


def _run_stage(recipe, name: str, pipeline: list, tasks: int, logs: Path) -> None:
    print(f"data {recipe.name}: datatrove {name} ({tasks} task(s), {recipe.executor})", flush=True)
    # datatrove logs each task to the console as well as to <work>/logs/<stage>/logs; the console
    # copy goes beside them (console.log), so that a stage prints one line here. Its logger (loguru)
    # holds the stream it was given, so it is pointed at the file and, after, back at the console.
    (logs / name).mkdir(parents=True, exist_ok=True)
    try:
        with open(logs / name / "console.log", "a") as console, contextlib.redirect_stderr(console):
            setup_default_logger()
            executor = _executor(recipe, pipeline, tasks, name, logs)
            executor.run()
    finally:
        setup_default_logger()
    # Ray's executor logs a task that failed three times and goes on; the next stage must not read around it
    if failed := executor.get_incomplete_ranks(skip_completed=True):
        raise DataError(_task_error(logs / name, failed[0])
                        or f"{logs / name}: datatrove stage {name}: task(s) {', '.join(map(str, failed))} did not "
                           "complete; their logs are there")


def _task_error(stage_logs: Path, rank: int) -> str | None:
    """The bad-input error a task's log ends with, so that a remote task's reads as a local one's (file, line)."""
    log = stage_logs / "logs" / f"task_{rank:05d}.log"
    prefix = f"{DataError.__module__}.{DataError.__qualname__}: "
    found = [line for line in log.read_text(errors="replace").splitlines() if line.startswith(prefix)] \
        if log.is_file() else []
    return found[-1][len(prefix):] if found else None


def _wait_for_slurm(executors: list, logs: Path, poll_s: float = 30.0) -> None:
    last = executors[-1]
    while last.get_incomplete_ranks():
        jobs = [e.job_id for e in executors if getattr(e, "job_id", None)]
        queued = subprocess.run(["squeue", "-h", "-o", "%i", "-j", ",".join(jobs)], capture_output=True, text=True)
        if queued.returncode == 0 and not queued.stdout.strip() and last.get_incomplete_ranks():
            raise DataError(f"{logs}: the Slurm jobs {', '.join(jobs)} ended with tasks incomplete; see their logs there")
        time.sleep(poll_s)


def read_stats(logs: Path) -> Counter:
    """Every `<source>/<count>` the steps of a source's stages recorded, summed over stages and tasks."""
    totals: Counter = Counter()
    for path in logs.glob("*/stats/*.json"):
        for step in json.loads(path.read_text()):
            for key, value in step.get("stats", {}).items():
                if "/" in key:
                    totals[key] += value if isinstance(value, int) else value.get("total", 0)
    return totals


def read_examples(folder: Path) -> dict[str, str]:
    """The first example of each reason a source's records were rejected for, over its tasks in order."""
    examples: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        for reason, example in json.loads(path.read_text()).items():
            examples.setdefault(reason, example)
    return examples


def record_trail(counts: dict) -> str:
    """Where a source's records went, for a one-line error: "read 200; missing_field 180, ..."."""
    parts = [f"{step} {counts[step]}" for step in STEPS[1:-2] if counts.get(step)]
    return f"read {counts.get('read', 0)}" + ("; " + ", ".join(parts) if parts else "")


def check_bad_input(src, records: int, rejected: dict[str, int], examples: dict[str, str]) -> None:
    """Stops the build when more than the source's `max_bad_share` of its records are bad input,
    naming the commonest reason with an example."""
    bad = {reason: rejected[reason] for reason in BAD_REASONS if rejected[reason]}
    if not bad or sum(bad.values()) <= src.max_bad_share * records:
        return
    reason = max(bad, key=bad.get)
    raise DataError(f"source '{src.name}': {sum(bad.values())} of {records} records are bad input (most: "
                    f"{reason}, {bad[reason]}; e.g. {examples.get(reason, 'no example kept')}); fix the "
                    f"format or fields, or allow it with max_bad_share (now {src.max_bad_share})")


def source_losses(src, counts: dict, examples: dict[str, str]) -> Losses:
    """A source's records in, kept, and dropped by reason (the loss rule, `runs.losses`), against the
    source's `max_loss_share`."""
    losses = Losses(f"data source '{src.name}'", src.path, src.max_loss_share, came_in=counts["read"] + counts["bad_json"])
    for reason in LOSS_REASONS:
        losses.drop(reason, examples.get(reason, "no example kept"), counts[reason])
    return losses


def stage_tasks(recipe, files: int) -> list[int]:
    """How many tasks each of a source's datatrove stages has, in order (the module docstring's table)."""
    tasks = min(recipe.tasks, files)
    return [tasks, recipe.dedup.buckets, 1, tasks] if recipe.dedup.near else [tasks]


def _source_stages(recipe, src, files: list[str], work: Path, staging: Path, quality_model: Path | None,
                   questions: list[tuple[str, str]]) -> list[tuple[str, list, int]]:
    tasks = stage_tasks(recipe, len(files))
    examples = str(work / "examples" / src.name)
    read = [ReadSources(files, src, recipe.on_bad_line, examples)]
    if quality_model is not None and src.quality_filter:
        read += [QualityFilter(str(quality_model), recipe.quality.threshold, examples)]
    read += [Tally("after_quality")]
    finish = [Tally("after_dedup")]
    if questions:
        finish += [Decontaminate(questions, recipe.decontam.ngram, examples)]
    finish += [TokenizeToStaging(str(staging), recipe.tokenizer, [src], examples)]
    if not recipe.dedup.near:
        return [(f"{src.name}/read-filter-tokenize", read + finish, tasks[0])]
    config = minhash_config(recipe.dedup)
    try:
        words = load_word_tokenizer(recipe.dedup.language) if recipe.dedup.language else SpaceSeparatedWords()
    except ImportError as err:  # datatrove's tokenizers for most languages are spaCy's
        raise DataError(f"dedup.language '{recipe.dedup.language}': {err}") from None
    docs, sigs, buckets, remove = (str(work / d / src.name) for d in ("docs", "signatures", "buckets", "remove"))
    return [
        (f"{src.name}/read-filter-sign", read + [JsonlWriter(docs, output_filename="${rank}.jsonl", compression=None),
                                                 MinhashDedupSignature(sigs, config=config, language=words)], tasks[0]),
        (f"{src.name}/minhash-buckets", [MinhashDedupBuckets(sigs, buckets, config=config)], tasks[1]),
        (f"{src.name}/minhash-clusters", [MinhashDedupCluster(buckets, remove, config=config)], tasks[2]),
        (f"{src.name}/dedup-decontaminate-tokenize",
         [RankShard(docs, compression=None),
          MinhashDedupFilter(remove, exclusion_writer=FirstExample(examples, "near_duplicates"))] + finish, tasks[3]),
    ]


def require_executor(recipe) -> None:
    """A one-line error, before anything is written, when the recipe's executor is not installed."""
    if recipe.executor == "ray" and importlib.util.find_spec("ray") is None:
        raise DataError(f'data {recipe.name}: executor ray needs Ray: pip install "octothinker[ray]"')


def curate(recipe, work: Path, staging: Path, quality_model: Path | None,
           questions: list[tuple[str, str]]) -> dict[str, dict]:
    """Every source through the filters into `<staging>/<source>.bin` and `.lengths.npy`, in input
    order; returns each source's counts (STEPS, and the removals by benchmark)."""
    logs = work / "logs"
    staging.mkdir(parents=True, exist_ok=True)
    stages = []
    for src in recipe.sources:
        stages += _source_stages(recipe, src, expand_paths(src.path), work, staging, quality_model, questions)
    _run_stages(recipe, stages, logs)

    steps = {}
    for src in recipe.sources:
        n = src.name
        totals = read_stats(logs / n)
        read_n = totals[f"{n}/read"]
        rejected = {reason: totals[f"{n}/{reason}"] for reason in (*BAD_REASONS, *DROP_REASONS)}
        examples = read_examples(work / "examples" / n)
        if read_n == 0 and not rejected["bad_json"]:
            raise DataError(f"{src.path}: source '{n}' is empty")
        check_bad_input(src, read_n + rejected["bad_json"], rejected, examples)
        after_quality, after_dedup = totals[f"{n}/after_quality"], totals[f"{n}/after_dedup"]
        by_benchmark = {k.split("/", 2)[2]: v for k, v in totals.items() if k.startswith(f"{n}/contaminated_by/")}
        steps[n] = {
            "read": read_n, **rejected,
            "quality_removed": read_n - sum(rejected.values()) + rejected["bad_json"] - after_quality,
            "near_duplicates": after_quality - after_dedup,
            "contaminated": sum(by_benchmark.values()),
            "dropped_overlong": totals[f"{n}/dropped_overlong"], "truncated": totals[f"{n}/truncated"],
            "kept": totals[f"{n}/kept"], "tokens": totals[f"{n}/tokens"], "boxed": totals[f"{n}/boxed"],
        }
        if examples:
            steps[n]["examples"] = examples
        lost = source_losses(src, steps[n], examples)
        steps[n]["losses"] = lost.record()
        lost.settle(recipe.strict, log=lambda line: print(f"data {recipe.name}: {line}", flush=True))
        if steps[n]["kept"] == 0:
            raise DataError(f"source '{n}' ({src.path}): no documents left: " + record_trail(steps[n]))
        if questions:
            steps[n]["contaminated_by_benchmark"] = by_benchmark
        lengths = merge_staging(staging, n)
        if len(lengths) != steps[n]["kept"]:
            raise DataError(f"{staging}: source '{n}': {len(lengths)} documents staged, {steps[n]['kept']} counted")
        np.save(staging / f"{n}.lengths.npy", lengths)
    for scratch in ("docs", "signatures", "buckets", "remove", "examples"):
        shutil.rmtree(work / scratch, ignore_errors=True)
    return steps
