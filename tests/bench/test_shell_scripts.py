"""bench/demo_time.sh, bench/fidelity.sh and bench/rehearsal_time.sh: each times a whole study (minutes to
hours) and pastes the result into BENCHMARKS.md or README.md. Here each runs from a copy of the repository
(the script, scripts/, the pages, the recipes, a git commit) where `make` and `octo` are stand-ins that
record how they were called and write a finished run's files at once; the rest is the script's own: its
commands, the clone, the timing, stage_times.py and paste_results.py on the copy's pages."""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from .runner import REPO, line, run

pytestmark = pytest.mark.bench

# `make demo-install`, `make demo` and `octo run`: each call recorded in $FAKE_LOG, then what the script
# reads next written (a venv's python; a run folder with its manifest and report summary)
FAKE_TOOL = r'''#!{python}
import json, os, sys
from pathlib import Path

tool, args = Path(sys.argv[0]).name, sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({{"tool": tool, "args": args, "cwd": os.getcwd(),
                          "env": {{k: os.environ.get(k) for k in ("OCTO_CACHE", "HF_HUB_OFFLINE")}}}}) + "\n")


def finished_run(out, command):
    (out / "report").mkdir(parents=True, exist_ok=True)
    (out / "report" / "summary.md").write_text(
        "# Study report\n\n## Findings\n\nFAKE FINDING\n\n## Before and after RL\n\nFAKE TABLE\n\n"
        "## Other\n\nleft out\n")
    stages = {{"world": (0, 3), "base": (3, 60), "rl-decay-short": (63, 30), "report": (93, 1)}}
    (out / "manifest.json").write_text(json.dumps({{
        "command": command, "cpu": "Fake CPU", "cpu_count": 2,
        "stages": {{name: {{"started": 1000 + s, "seconds": n}} for name, (s, n) in stages.items()}}}}))


if tool == "make" and args == ["demo-install"]:
    Path(".venv/bin").mkdir(parents=True)
    Path(".venv/bin/python").write_text("#!/bin/sh\nexec {python} \"$@\"\n")
    Path(".venv/bin/python").chmod(0o755)
elif tool == "make" and args == ["demo"]:
    finished_run(Path("runs/demo"), "octo demo")
elif tool == "octo" and args[:1] == ["run"]:
    if not Path(args[1]).is_file():
        sys.exit(f"octo: no recipe {{args[1]}}")
    out = args[args.index("--out") + 1] if "--out" in args else next(a[4:] for a in args if a.startswith("out="))
    if "--rehearse" in args:
        print("  scaled down: corpora to 200 documents a source")
        print("  scaled down: the model to micro")
        finished_run(Path(out) / "run", "octo run --rehearse")
    else:
        finished_run(Path(out), "octo run " + " ".join(args[1:]))
else:
    sys.exit(f"{{tool}}: no stand-in for {{args}}")
'''

TIMES = "| **all stages** | **94** |"  # the stand-in run's stage seconds: 3 + 60 + 30 + 1


@pytest.fixture
def copy(tmp_path):
    """A git repository with the bench scripts, scripts/, the pages and the recipes, and a venv whose python
    is this one and whose octo is the stand-in; `make` on PATH is the stand-in."""
    root = tmp_path / "octothinker"
    for part in ("bench", "scripts", "octothinker/recipes"):
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    for page in ("BENCHMARKS.md", "README.md", "Makefile"):
        shutil.copy(REPO / page, root / page)
    (root / ".gitignore").write_text(".venv/\nruns/\n")
    fake = FAKE_TOOL.format(python=sys.executable)
    tools = tmp_path / "tools"
    tools.mkdir()
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    for path in (tools / "make", root / ".venv" / "bin" / "octo", root / ".venv" / "bin" / "python"):
        if path.name != "python":
            path.write_text(fake)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    git = ["git", "-C", str(root), "-c", "user.name=bench test", "-c", "user.email=bench@test", "-c",
           "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a copy"], check=True)
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], check=True, capture_output=True, text=True)
    return root, tools, head.stdout.strip()


def run_copy(copy, script, tmp_path, **env):
    root, tools, _ = copy
    log = tmp_path / "calls.jsonl"
    log.touch()
    env = {"PATH": f"{tools}{os.pathsep}{os.environ['PATH']}", "FAKE_LOG": str(log), **env}
    # the copy's script, so that "the repository" it pastes into is the copy
    out = run(script, cwd=tmp_path, env=env, timeout=120, script_path=root / "bench" / script)
    calls = [json.loads(x) for x in log.read_text().splitlines()]
    return out, calls


def block(page: Path, name: str) -> str:
    text = page.read_text()
    return text.split(f"<!-- results:{name} -->\n", 1)[1].split(f"<!-- /results:{name} -->", 1)[0]


@pytest.mark.parametrize("kernels", [None, "avx2"])
def test_demo_time(copy, tmp_path, kernels):
    root, _, head = copy
    out, calls = run_copy(copy, "demo_time.sh", tmp_path, ATEN_CPU_CAPABILITY=kernels or "")  # "": as if unset
    work = Path(calls[0]["cwd"]).parent if calls else None
    try:
        assert out.returncode == 0, out.explain()
        # a fresh clone (not the repository itself), installed first, then the demo
        assert [(c["tool"], c["args"]) for c in calls] == [("make", ["demo-install"]), ("make", ["demo"])]
        clone = Path(calls[0]["cwd"])
        assert clone != root and clone.name == "octothinker" and calls[1]["cwd"] == calls[0]["cwd"]
        assert subprocess.run(["git", "-C", str(clone), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip() == head
        first = line(out.stdout, rf"`make demo` on a fresh clone of commit {head} \(clone, venv, install, whole study; "
                                 r"`bash bench/demo_time.sh`(.*)\), `uptime` before it: `.+`:")
        assert first[1] == (", torch kernels forced to `ATEN_CPU_CAPABILITY=avx2`" if kernels else "")
        line(out.stdout, r"\*\*0 min \d+ s wall\*\*: the install \d+ s, the study 0 min \d+ s\. "
                         r"By the manifest's stage times:")
        assert TIMES in out.stdout
        # pasted into the copy's pages: the times as printed, the run's findings into README.md
        assert block(root / "BENCHMARKS.md", "demo-time") == out.stdout
        readme = block(root / "README.md", "demo")
        assert "FAKE FINDING" in readme and "FAKE TABLE" in readme and "left out" not in readme
        assert "`octo demo`" in readme
    finally:
        if work is not None and work.name.startswith("octo-demo-"):
            shutil.rmtree(work, ignore_errors=True)  # the script leaves its clone in /tmp


@pytest.mark.parametrize("per_seed, arms", [("rl", True), ("training", False)])
def test_fidelity(copy, tmp_path, per_seed, arms):
    root, _, _ = copy
    env = {"PER_SEED": per_seed} if per_seed != "rl" else {}
    if not arms:
        env["ARMS"] = "0"
    out, calls = run_copy(copy, "fidelity.sh", tmp_path, **env)
    assert out.returncode == 0, out.explain()
    name = "fidelity" if per_seed == "rl" else f"fidelity-{per_seed}"
    recipes = ["octothinker/recipes/demo.yaml"] + (["octothinker/recipes/demo-arms.yaml"] if arms else [])
    # the 3-seed demo, then the arms into the same folder; from the repository root, on the recipes there
    assert [c["args"] for c in calls] == [["run", r, "seeds=[0,1,2]", f"per_seed={per_seed}", f"out=runs/{name}"]
                                          for r in recipes]
    assert all(c["tool"] == "octo" and Path(c["cwd"]) == root for c in calls)
    times = block(root / "BENCHMARKS.md", f"{name}-times")
    assert times == (root / "runs" / f"{name}-times.md").read_text() and out.stdout == times
    line(times, r"Machine at the start: `.+`; \d+ cores\.")
    labels = ["3-seed demo"] + (["arms (after the 3-seed demo)"] if arms else [])
    for label, recipe in zip(labels, recipes, strict=True):
        line(times, rf"- {re.escape(label)}: `octo run {recipe} \"seeds=\[0,1,2\]\" per_seed={per_seed} "
                    rf"out=runs/{name}`, 0 min \d+ s wall")
    assert times.count("\n- ") == len(labels)
    findings = block(root / "BENCHMARKS.md", name)
    assert "FAKE FINDING" in findings and "FAKE TABLE" in findings and "left out" not in findings


def test_rehearsal_time(copy, tmp_path):
    import torch

    root, _, head = copy
    out, calls = run_copy(copy, "rehearsal_time.sh", tmp_path)
    work = Path(calls[0]["cwd"]) if calls else None
    try:
        assert out.returncode == 0, out.explain()
        [call] = calls
        assert work.name.startswith("octo-rehearsal-")
        # the 1B recipe's rehearsal from an empty folder, with a fresh cache, offline
        assert call["args"] == ["run", str(root / "octothinker/recipes/octothinker-1b.yaml"), "--rehearse",
                                "--out", str(work / "rehearsal")]
        assert call["env"] == {"OCTO_CACHE": str(work / "cache"), "HF_HUB_OFFLINE": "1"}
        line(out.stdout, rf"`octo run octothinker/recipes/octothinker-1b.yaml --rehearse` from an empty folder at "
                         rf"commit {head} \(`bash bench/rehearsal_time.sh`; "
                         rf"{torch.backends.cpu.get_cpu_capability()} kernels\), `uptime` before it: `.+`:")
        line(out.stdout, r"\*\*0 min \d+ s wall\*\*, the GGUF's conversion and every stage included\. By the "
                         r"manifest's stage times:")
        assert TIMES in out.stdout
        assert "- corpora to 200 documents a source\n- the model to micro" in out.stdout  # what it scaled down
        assert block(root / "BENCHMARKS.md", "rehearsal-1b") == out.stdout
    finally:
        if work is not None and work.name.startswith("octo-rehearsal-"):
            shutil.rmtree(work, ignore_errors=True)  # the script leaves its folder in /tmp
