"""A data recipe's settings: one declaration, read by `octo data`, the pipeline and the study. Kept apart
from the pipeline so that a recipe validates without importing what curates and tokenizes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from octothinker.data.formats import Format, check_fields, get_format
from octothinker.errors import Strict, check_name


class SourceSpec(Strict):
    name: str                                   # names its staging files: letters, digits, . _ - only
    path: str                                   # file, glob, or hf:org/name[:config][:split]
    format: str = "text"                        # a published corpus's name, or text | qa | instruct (formats.py)
    weight: float = Field(gt=0)                 # share of the mixture's token budget
    fields: dict[str, str] = Field(default_factory=dict)  # where the format finds its parts: part -> field path
    style: Literal["short", "long"] | None = None  # a `qa` source's chain of thought (named formats know theirs)
    quality_filter: bool = False                # score with the fastText classifier, keep >= threshold
    max_tokens: int | None = Field(None, gt=0)  # per record; longer ones are truncated or dropped
    overlong: Literal["truncate", "drop"] = "drop"
    # the share of records that may be bad input (bad JSON, a missing, mistyped or empty field) before the
    # build stops, naming the commonest reason and an example; records a format drops by design do not count
    max_bad_share: float = Field(0.05, ge=0, le=1)
    # the share of records that may be lost for any reason (bad input, the quality filter, near duplicates,
    # decontamination, the overlong rule) before the build says so: a WARNING, or with `strict` an error
    max_loss_share: float = Field(0.5, ge=0, le=1)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name):
        return check_name(name, "source name")

    @model_validator(mode="after")
    def _known_format(self):
        check_fields(get_format(self.format), self.fields)
        if self.style is not None and get_format(self.format).kind != "qa":
            raise ValueError(f"style: format {self.format} is not a QA format")
        return self

    @property
    def fmt(self) -> Format:
        return get_format(self.format)

    @property
    def kind(self) -> str:
        return self.fmt.kind

    @property
    def cot(self) -> str | None:
        return self.style or self.fmt.style

    def document(self, rec: dict) -> str:
        return self.fmt.document(rec, self.fields)


class QualitySpec(Strict):
    positive: str                               # seed files (JSONL with `text`)
    negative: str
    threshold: float = Field(0.5, ge=0, le=1)   # MegaMath keeps math score >= 0.5
    holdout: float = Field(0.2, ge=0, lt=1)
    epochs: int = Field(10, ge=1)
    lr: float = Field(0.5, gt=0)
    word_ngrams: int = Field(2, ge=1)
    dim: int = Field(32, ge=2)                  # embedding size; the model's size is (words + buckets) x dim


class DedupSpec(Strict):
    """datatrove's MinHash, within each source; exact copies are near duplicates too. MegaMath's setting,
    the corpus the study mid-trains on: 5-word shingles, 11 buckets x 10 hashes (pairs above Jaccard
    ~0.79 are likely found; datatrove's FineWeb default is 14 x 8, ~0.72)."""
    near: bool = True
    shingle: int = Field(5, ge=1)               # words per shingle
    buckets: int = Field(11, ge=1)
    hashes_per_bucket: int = Field(10, ge=1)
    language: str | None = None                 # datatrove's word tokenizer for it; None: words split at spaces


class DecontamSpec(Strict):
    ngram: int = Field(13, ge=1)
    data_dir: str | None = None                 # benchmark folder (<dir>/<name>/test.jsonl)
    benchmarks: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)  # more test sets: JSONL with a `question` field


class MixtureSpec(Strict):
    tokens: int = Field(gt=0)                   # token budget of the whole mixture
    repeat: bool = True                         # repeat a source smaller than its share (said in the report)
    max_epochs: float | None = Field(None, gt=0)  # with repeat: the most passes over any source, else stop


class ClusterSpec(Strict):
    """Where datatrove's Slurm or Ray executor runs the curation tasks. `time` is a Slurm job's wall time:
    each curation task's (executor slurm), or, under `octo run --emit slurm` with executor local, the
    data stage's own job's (with executor slurm that job waits for the tasks, and asks for as long as
    the chain of their stages can take: `launch.py`)."""
    partition: str | None = None                # slurm
    time: str = Field("24:00:00", pattern=r"^(\d+-)?\d+:\d\d:\d\d$")   # slurm: [days-]hours:minutes:seconds
    qos: str = "normal"                         # slurm
    cpus_per_task: int = Field(1, ge=1)
    mem_per_cpu_gb: int = Field(2, ge=1)
    venv_path: str | None = None                # slurm: activated in each job
    sbatch_args: dict[str, str] = Field(default_factory=dict)


class DataRecipe(Strict):
    name: str = "data"
    out: str                                    # shard folder
    tokenizer: str                              # HF tokenizer or model folder
    seed: int = 0
    on_bad_line: Literal["skip", "fail"] = "skip"
    strict: bool = False                        # a source over its max_loss_share stops the build
    executor: Literal["local", "slurm", "ray"] = "local"   # datatrove's executor for the curation
    tasks: int = Field(1, ge=1)                 # datatrove tasks: the input files are split among them
    workers: int = Field(1, ge=1)               # tasks at once (local: processes; Slurm, Ray: the most running together)
    cluster: ClusterSpec = Field(default_factory=ClusterSpec)
    shard_tokens: int = Field(50_000_000, gt=0)
    sources: list[SourceSpec]
    quality: QualitySpec | None = None
    dedup: DedupSpec = Field(default_factory=DedupSpec)
    decontam: DecontamSpec | None = None
    mixture: MixtureSpec

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources):
        if not sources:
            raise ValueError("at least one source is needed")
        names = [s.name for s in sources]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"source names must be unique: {', '.join(sorted(dup))}")
        return sources

    @model_validator(mode="after")
    def _quality_needs_seeds(self):
        if any(s.quality_filter for s in self.sources) and self.quality is None:
            raise ValueError("a source sets quality_filter but the recipe has no `quality` section")
        return self
