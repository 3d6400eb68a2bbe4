"""The loop both trainers share, mid-training and RL, in torchtitan's manner: each trainer owns its
`train_step` (one optimizer step, returning its metrics row) and its checkpoint's contents; this owns
what surrounds every step alike: where a resumed run starts, the metrics file, progress lines, the
periodic checkpoint and pruning."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from octothinker.runs import checkpoint as ckpt
from octothinker.runs.metrics import LoggingSpec, MetricsWriter, Progress


@dataclass
class Loop:
    out: Path                      # the run folder: metrics.jsonl, checkpoints/
    name: str                      # progress lines (and the W&B run, unless `run_name`)
    steps: int
    checkpoint_every: int
    keep_checkpoints: int
    logging: LoggingSpec
    is_main: bool = True           # the rank that writes (every rank steps)
    run_name: str | None = None    # the W&B run name

    @property
    def checkpoints(self) -> Path:
        return self.out / "checkpoints"

    def start(self, resume: bool, restore: Callable[[Path], int]) -> int:
        """The step to start from: the newest periodic checkpoint's, which `restore` loads and answers
        with its step, or 0."""
        latest = ckpt.latest_checkpoint(self.checkpoints) if resume else None
        return restore(latest) if latest is not None else 0

    def run(self, start: int, train_step: Callable[[int], dict], save: Callable[[str, int], object],
            shown: Callable[[dict], dict]) -> None:
        """Steps `start` .. `steps`: each one's row to metrics.jsonl and, as `shown` picks its fields (with
        `tokens` for the rate), to the progress line; a checkpoint `step_<n>` every `checkpoint_every`
        steps but the last (the trainer saves what it keeps at the end), the oldest pruned."""
        metrics = MetricsWriter(self.out, self.logging, start, self.is_main, self.run_name or self.name)
        bar = Progress(self.steps, self.name, initial=start, every=self.logging.every, enabled=self.is_main)
        try:
            for step in range(start, self.steps):
                row = train_step(step)
                metrics.log(row)
                bar.update(**shown(row))
                if (step + 1) % self.checkpoint_every == 0 and step + 1 < self.steps:
                    save(f"step_{step + 1:08d}", step + 1)
                    if self.is_main:
                        ckpt.prune(self.checkpoints, self.keep_checkpoints)
        finally:
            bar.close()
            metrics.close()
