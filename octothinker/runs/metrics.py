"""One metrics writer for every training loop, and one progress display for every long step.

    writer = MetricsWriter(out, spec, resume_step=start_step)     # metrics.jsonl, + TensorBoard / W&B
    writer.log({"step": 3, "loss": 1.2})
    bar = Progress(total=steps, desc="rl", initial=start_step)
    bar.update(tokens=4096, loss=1.2)                            # a tqdm bar, or a line every N steps;
                                                                 # tok_s: the average since the start

`metrics.jsonl` is always written (one JSON object a step); TensorBoard and W&B are optional mirrors.
On resume the rows logged after the checkpoint are dropped (all of them when the run starts over), and a
torn last line is cut away.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pydantic import Field

from octothinker.errors import Strict
from octothinker.runs.files import read_jsonl, rewrite_jsonl


class LoggingSpec(Strict):

    tensorboard: bool = False                 # mirror metrics to <out>/tensorboard
    wandb_project: str | None = None          # mirror metrics to this W&B project
    every: int = Field(10, ge=1)              # a progress line every N steps when output is not a terminal


class MetricsWriter:
    """Appends rows to `<out>/<filename>`; mirrors numbers to TensorBoard and W&B when asked for."""

    def __init__(self, out: Path, spec: LoggingSpec | None = None, resume_step: int = 0, enabled: bool = True,
                 run_name: str = "run", filename: str = "metrics.jsonl", tb_prefix: str = ""):
        self.enabled = enabled
        self.tb = self.wandb = None
        self.tb_prefix = tb_prefix
        if not enabled:
            return
        spec = spec or LoggingSpec()
        self.path = Path(out) / filename
        rows = read_jsonl(self.path, repair=True)
        # A run resumed from the checkpoint of step N keeps the rows up to N; one that starts over (no
        # checkpoint yet) keeps none, not even those of step 0 (an evaluation before training), which it
        # logs again: a run killed before its first checkpoint once left them twice (bench/chaos.py).
        kept = [r for r in rows if resume_step > 0 and r.get("step", 0) <= resume_step]
        if len(kept) != len(rows):  # the interrupted run logged past its last checkpoint
            rewrite_jsonl(self.path, kept)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = self.path.open("a", encoding="utf-8")
        if spec.tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(Path(out) / "tensorboard"))
        if spec.wandb_project:
            import wandb

            self.wandb = wandb.init(project=spec.wandb_project, name=run_name, resume="allow")

    def log(self, row: dict, tag: str = "") -> None:
        """Append one row (it has a `step`); `tag` prefixes the mirrored names (e.g. "eval/synth/")."""
        if not self.enabled:
            return
        self.fh.write(json.dumps(row) + "\n")
        self.fh.flush()
        numbers = {f"{self.tb_prefix}{tag}{k}": v for k, v in row.items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "step"}
        if self.tb:
            for k, v in numbers.items():
                self.tb.add_scalar(k, v, row["step"])
        if self.wandb:
            self.wandb.log(numbers, step=row["step"])

    def close(self) -> None:
        if self.enabled:
            self.fh.close()
            if self.tb:
                self.tb.close()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class Progress:
    """A tqdm bar when stderr is a terminal; otherwise (logs, CI, a scheduler's output file) one line
    every `every` steps, and at least once a minute, with the fields given, the rate and the ETA."""

    def __init__(self, total: int | None, desc: str, initial: int = 0, every: int = 10, enabled: bool = True,
                 unit: str = "step", stream=None):
        self.total, self.desc, self.done, self.every, self.unit = total, desc, initial, every, unit
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.start_done, self.start = initial, time.perf_counter()
        self.last_line_done, self.last_line_time = initial, self.start
        self.bar = None
        self.shown: dict = {}
        self.tokens = 0
        if enabled and getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, file=self.stream)

    def update(self, n: int = 1, tokens: int | None = None, **fields) -> None:
        """`tokens` processed by these `n` steps: shown as `tok_s`, the average since this bar started
        (one step's own rate swings with what else that step did)."""
        if not self.enabled:
            return
        self.done += n
        if tokens is not None:
            self.tokens += tokens
            elapsed = time.perf_counter() - self.start
            fields["tok_s"] = round(self.tokens / elapsed) if elapsed > 0 else None
        shown = {k: (f"{v:.4g}" if isinstance(v, float) else str(v)) for k, v in fields.items() if v is not None}
        if self.bar is not None:
            self.bar.update(n)
            if shown:
                self.bar.set_postfix(shown, refresh=False)
            return
        self.shown = shown
        now = time.perf_counter()
        finished = self.total is not None and self.done >= self.total
        if self.done - self.last_line_done >= self.every or now - self.last_line_time >= 60 or finished:
            self.line(shown, now)

    def line(self, shown: dict, now: float) -> None:
        elapsed = now - self.start
        rate = (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 and self.total is not None else None
        count = f"{self.done}/{self.total}" if self.total is not None else str(self.done)
        parts = [f"[{self.desc}] {count} {self.unit}s"] + [f"{k} {v}" for k, v in shown.items()]
        parts.append(f"elapsed {_duration(elapsed)}" + (f", eta {_duration(eta)}" if eta is not None else ""))
        print("  ".join(parts), file=self.stream, flush=True)
        self.last_line_done, self.last_line_time = self.done, now

    def close(self) -> None:
        """Close the bar, or print the last line if the last update was not shown."""
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and self.done > self.last_line_done:
            self.line(self.shown, time.perf_counter())
