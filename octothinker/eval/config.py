"""The evaluation's settings: one declaration, read by `octo eval` (its option defaults), the runner and
the study. Kept apart from the runner so the command line reads it without importing torch."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from octothinker.errors import Strict
from octothinker.tasks.scoring import DEFAULT_CUTOFF, CutoffRule
from octothinker.tasks.templates import DEFAULT_TEMPLATE

# Sequences decoded at once when many answers are scored (RL's held-out evaluation, the probe). Larger
# than a rollout batch: on a 2-core CPU, 512 rows decode the mini model's held-out set 2.8x faster than
# 64 (400 samples of the long branch: 8.5 s -> 3.0 s). Memory is capped by the token budget regardless.
SCORING_BATCH = 512


class EvalConfig(Strict):

    model: str
    benchmarks: list[str] = Field(default_factory=lambda: ["gsm8k", "math500"])
    data_dir: str | None = None
    mode: Literal["few-shot", "zero-shot"] = "few-shot"
    # `release`: prompts, stop words, extraction and grading as the OctoThinker release's own evaluation
    # (tasks.release), read from the checkout `release_dir`; few-shot only, as the release's harness
    harness: Literal["ours", "release"] = "ours"
    release_dir: str | None = None            # also where a `release:NAME` zero-shot template is read
    template: str = DEFAULT_TEMPLATE          # zero-shot only: complex | simple | qa | chat | "...{question}..."
    fewshot_file: str | None = None           # few-shot only: JSONL of question/solution/answer
    n: int = Field(1, ge=1)
    temperature: float = Field(0.0, ge=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_new_tokens: int = Field(1024, ge=1)   # the study's base-model evaluation budget
    cutoff: CutoffRule = DEFAULT_CUTOFF       # how a completion cut at max_new_tokens is graded (tasks.scoring)
    limit: int | None = Field(None, ge=1)
    out: str | None = None                    # default: runs/eval/<model>/<mode>
    hub: bool = False                         # read a missing benchmark file's hub copy (network)
    backend: Literal["auto", "hf", "vllm"] = "auto"
    batch_size: int = Field(64, ge=1)
    seed: int = 0
    device: str | None = None
    dtype: str | None = None

    @model_validator(mode="after")
    def _release_needs_its_copy(self):
        if self._reads_release_template() and not self.release_dir:
            raise ValueError(f"template {self.template}: the release's templates are read from a checkout of "
                             "GAIR-NLP/OctoThinker: give release_dir (--release-dir)")
        if self.harness == "release":
            if not self.release_dir:
                raise ValueError("harness release: give release_dir (--release-dir), a checkout of GAIR-NLP/OctoThinker")
            if self.mode != "few-shot" or self.fewshot_file:
                raise ValueError("harness release: few-shot with the release's own exemplars only "
                                 "(no zero-shot mode, no fewshot_file)")
        return self

    def _reads_release_template(self) -> bool:
        return self.mode == "zero-shot" and self.template.startswith("release:")

    def output_dir(self) -> Path:
        if self.out:
            return Path(self.out)
        parts = [p for p in re.split(r"[\\/:]+", self.model) if p not in ("", ".", "..", "hf")]
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(parts[-2:]).removesuffix(".gguf")) or "model"
        return Path("runs") / "eval" / slug / self.mode

    def generation_key(self) -> dict:
        """Settings that change the completions: results made under others cannot be resumed. The model
        is named by the contents of its weights, not by its path."""
        key = self.model_dump(include={"mode", "template", "fewshot_file", "n", "temperature", "top_p",
                                       "max_new_tokens", "seed", "cutoff"})
        if self.harness == "release" or self._reads_release_template():  # prompts from the copy: by its contents
            from octothinker.tasks.release.checkout import ReleaseCopy

            key.update(harness=self.harness, release_copy=ReleaseCopy(self.release_dir).fingerprint())
            if self.harness == "ours":
                del key["harness"]  # ours, named by its absence (results made before the setting resume)
        return {"model_weights": model_identity(self.model), **key}


def model_identity(spec: str) -> str:
    """A hash of a local model's weights; the spec itself for a hub id."""
    from octothinker.models import weights_fingerprint

    path = Path(spec).expanduser()
    return weights_fingerprint(path) if path.exists() else spec


class ProbeSampling(Strict):
    """How much the probe (`octothinker.probe`) samples, and how it grades a cut answer: declared here once,
    for `octo probe` and a study's `probe:` section alike (its template and temperature are RL's)."""
    k: int = Field(8, ge=1)                      # samples per prompt
    limit: int = Field(64, ge=1)                 # prompts
    max_new_tokens: int = Field(512, ge=1)
    cutoff: CutoffRule = DEFAULT_CUTOFF
