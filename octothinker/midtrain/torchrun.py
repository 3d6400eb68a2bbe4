"""A mid-training stage under `torchrun`, started by `octo run` when the recipe's `midtrain.launch` asks for
more than one process: one process per rank, FSDP2 across them (see parallel.py), resumable as ever.

    midtrain:
      launch: {nproc_per_node: 8}                          # one node, 8 GPUs (or 8 CPU ranks on gloo)
      launch: {nproc_per_node: 8, nnodes: 4}               # 4 nodes: inside a Slurm allocation (--emit slurm)

`octo run` keeps the bookkeeping (staging folder, manifest, fingerprints) in its own process and starts
torchrun on the stage's run spec, written as JSON into the staging folder; the ranks read it with
`python -m octothinker.midtrain.torchrun <spec.json>`. With several nodes the job's first node runs
`octo run`, which starts torchrun on every node of the allocation through `srun`, and the ranks meet at
`rdzv_endpoint` (default: this node, port 29500).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from octothinker.errors import OctoError
from octothinker.midtrain.config import LaunchSpec

SPEC_FILE = "torchrun_stage.json"


def torchrun_command(launch: LaunchSpec, spec: Path, run_id: str, endpoint: str | None = None) -> list[str]:
    """The command that starts every rank of one stage: torchrun (as `python -m torch.distributed.run`, the
    same interpreter as ours), standalone on one node; on several, under `srun`, one torchrun per node,
    meeting at the rendezvous endpoint."""
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(launch.nproc_per_node)]
    child = ["-m", "octothinker.midtrain.torchrun", str(spec)]
    if launch.nnodes == 1:
        return [*torchrun, "--standalone", *child]
    endpoint = launch.rdzv_endpoint or endpoint or f"{socket.gethostname()}:29500"
    return ["srun", f"--nodes={launch.nnodes}", "--ntasks-per-node=1", *torchrun, f"--nnodes={launch.nnodes}",
            "--rdzv-backend=c10d", f"--rdzv-endpoint={endpoint}", f"--rdzv-id={run_id}", *child]


def run_launched(run, launch: LaunchSpec, threads: int | None = None) -> Path:
    """Train `run` (a StageRun) on `launch.world_size` ranks; returns its final HF folder like train_stage."""
    if launch.nnodes > 1 and shutil.which("srun") is None:
        raise OctoError(f"{run.name}: midtrain.launch.nnodes={launch.nnodes} runs inside a Slurm allocation "
                        "(octo run --emit slurm); srun is not on this machine")
    out = Path(run.out)
    out.mkdir(parents=True, exist_ok=True)
    spec = out / SPEC_FILE
    # Each rank gets its share of the recipe's threads: ranks that each took them all would oversubscribe.
    spec.write_text(json.dumps({"run": run.model_dump(), "threads": threads and max(1, threads // launch.nproc_per_node)}))
    command = torchrun_command(launch, spec, run_id=f"octo-{run.name}-{os.getpid()}")
    result = subprocess.run(command)
    if result.returncode != 0:
        raise OctoError(f"{run.name}: torchrun exited with {result.returncode} (its ranks' errors are above); "
                        "`octo run` again resumes from the last checkpoint")
    spec.unlink()
    return out / "final"


def main(argv: list[str]) -> None:
    """One rank: train the stage described in the JSON file."""
    import torch

    from octothinker.midtrain.parallel import destroy
    from octothinker.midtrain.config import StageRun
    from octothinker.midtrain.trainer import train_stage

    payload = json.loads(Path(argv[0]).read_text())
    if payload.get("threads"):
        torch.set_num_threads(payload["threads"])
    try:
        train_stage(StageRun.model_validate(payload["run"]))
    finally:
        destroy()


if __name__ == "__main__":
    main(sys.argv[1:])
