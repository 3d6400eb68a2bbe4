"""Copy sections of a run's report/summary.md into a marked block of a Markdown page (README.md,
BENCHMARKS.md), so that no result there is typed by hand.

    python scripts/paste_results.py runs/demo README.md --block demo
    python scripts/paste_results.py runs/fidelity BENCHMARKS.md --block fidelity --sections Findings
    python scripts/paste_results.py runs/fidelity/times.md BENCHMARKS.md --block fidelity-times   (a file as is)

The block is the text between `<!-- results:NAME -->` and `<!-- /results:NAME -->`; it is replaced by
the chosen sections, the report's setup line (seeds, problems, versions, CPU, threads, commit) and the
command that made the run, read from its manifest.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stage_times import wall_seconds  # noqa: E402  (its neighbour in scripts/, which is no package)


def sections(summary: str, names: list[str]) -> str:
    """The `## name` sections of `summary`, in the order asked for."""
    parts = re.split(r"(?m)^## ", summary)
    found = {part.split("\n", 1)[0].strip(): "## " + part.rstrip() for part in parts[1:]}
    missing = [n for n in names if n not in found]
    if missing:
        raise SystemExit(f"summary.md has no section {', '.join(missing)} (it has: {', '.join(found)})")
    return "\n\n".join(found[n].replace("## ", "#### ", 1) for n in names)


def block(run: Path, names: list[str]) -> str:
    summary = (run / "report" / "summary.md").read_text()
    manifest = json.loads((run / "manifest.json").read_text())
    stages = manifest.get("stages", {})
    seconds = sum(s.get("seconds", 0) for s in stages.values())
    wall = wall_seconds(stages)
    side = f", {wall / 60:.1f} min of wall time with stages side by side" if wall < seconds - 1 else ""
    made = f"`{manifest['command']}`" if manifest.get("command") else "the command was not recorded"
    return (f"From `{run}` ({made}; stage times add up to {seconds / 60:.1f} min{side}) on {machine(manifest)}, copied "
            f"by `scripts/paste_results.py`. {KERNELS_NOTE}\n\n{sections(summary, names)}\n")


KERNELS_NOTE = ("The numbers vary with the CPU's kernel set (AVX2 and AVX-512 round differently, so training "
                "follows another trajectory); the verdicts should not.")


def machine(manifest: dict) -> str:
    """The machine that made a run, as its manifest recorded it."""
    kernels = f", torch kernels {manifest['cpu_kernels']}" if manifest.get("cpu_kernels") else ""
    return f"{manifest.get('cpu', 'an unrecorded CPU')} ({manifest.get('cpu_count', '?')} cores{kernels})"


def markers(page: Path, name: str) -> tuple[str, str]:
    start, end = f"<!-- results:{name} -->", f"<!-- /results:{name} -->"
    content = page.read_text()
    if start not in content or end not in content:
        raise SystemExit(f"{page}: no block {start} ... {end}")
    return start, end


def paste(page: Path, name: str, text: str) -> None:
    start, end = markers(page, name)
    content = page.read_text()
    head, rest = content.split(start, 1)
    _, tail = rest.split(end, 1)
    page.write_text(f"{head}{start}\n{text}{end}{tail}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a run directory with report/summary.md, or a file pasted as is")
    parser.add_argument("page", type=Path, help="the Markdown page with the block")
    parser.add_argument("--block", required=True, help="the block's name")
    parser.add_argument("--sections", nargs="+", default=["Findings", "Before and after RL"])
    args = parser.parse_args(argv)
    markers(args.page, args.block)  # a misnamed block fails before the run is read
    if args.run.is_file():
        paste(args.page, args.block, args.run.read_text())
        what = "the file"
    else:
        paste(args.page, args.block, block(args.run, args.sections))
        what = ", ".join(args.sections)
    print(f"{args.page}: block {args.block} now holds {what} from {args.run}", file=sys.stderr)


if __name__ == "__main__":
    main()
