"""What every run records about itself: the command, package versions, git revision, seed, threads and the CPU."""

from __future__ import annotations

import platform
import shlex
import subprocess
import sys
from pathlib import Path

import octothinker


def git_revision() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(octothinker.__file__).parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_metadata(seed: int | None = None) -> dict:
    import os

    import numpy
    import torch
    import transformers

    return {"octothinker": octothinker.__version__, "git_revision": git_revision(), "seed": seed,
            "command": shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "torch": torch.__version__, "transformers": transformers.__version__, "numpy": numpy.__version__,
            "python": platform.python_version(), "cpu": cpu_name(), "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            # the kernel set torch picked (AVX2, AVX512...): float results differ between them
            "cpu_kernels": torch.backends.cpu.get_cpu_capability(),
            "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
