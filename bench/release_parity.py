"""`octo eval --harness release` against the OctoThinker release's own evaluation code, side by side.

    .venv/bin/python bench/release_parity.py --release-dir OctoThinker --data-dir OctoThinker/eval/datasets \\
        [--real runs/parity/smollm2 --real runs/parity/demo-short] [--paste BENCHMARKS.md]

The referee (bench/release_referee.py) imports the release's code from the checkout and runs in its own
virtual environment, `.venv-release`, made here with the release's pins (sympy 1.12, ANTLR 4.11). Both sides
see the same test files:
- prompts and stop words: the first 20 problems of every benchmark (`octo eval prompts`);
- verdicts: for every benchmark, at least 40 completions of each made kind (right, wrong, boxed, cut off;
  each in several phrasings, with the release's tolerances and quirks probed: a percentage, 1e-3, a
  repeated box, a run-on into the next exemplar), and the real completions of each `--real` folder (an
  `octo eval run --harness release` output: its `<benchmark>.jsonl`), re-graded by `octo eval score`.
It prints prompt identity, stop-word identity and verdict agreement per benchmark and kind, names every
disagreement (`<work>/disagreements.jsonl`), and writes the table to `<work>/parity.md`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = ("gsm8k", "math500", "olympiad_bench", "amc23", "sat", "ocw", "mmlu_stem", "mathqa", "svamp", "asdiv", "mawps")
REFEREE_PINS = ("sympy==1.12", "antlr4-python3-runtime==4.11.1", "numpy<2", "regex", "pebble",
                "math-verify[antlr4_11_0]")
KINDS = ("right", "wrong", "boxed", "cut off")


def referee_python(venv: Path) -> str:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"making the referee's environment {venv} ({', '.join(REFEREE_PINS)})", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *REFEREE_PINS], check=True)
    return str(python)


def octo(*args: str) -> None:
    subprocess.run([str(REPO / ".venv" / "bin" / "octo"), *args], check=True, stdout=subprocess.DEVNULL)


def _style(name: str) -> str:
    if name in ("sat", "mmlu_stem", "mathqa"):
        return "choice"
    if name in ("math500", "olympiad_bench", "ocw"):
        return "minerva"
    return "gsm8k"


def _gold_text(gold) -> str:
    return ", ".join(gold) if isinstance(gold, list) else str(gold).strip()


def _say(style: str, answer: str, phrasing: int) -> str:
    """A completion ending in `answer`, in one of several phrasings a model uses."""
    if style == "choice":
        return ["Checking each option in turn.\nFinal Answer: The final answer is ({a}). I hope it is correct.",
                "Only one option fits.\nThe final answer is {a}.",
                "So the answer is ({a}), since the others fail.",
                "Eliminating options: ({b}) fails, so the final answer is ({a})."][phrasing % 4].format(
            a=answer, b="A" if answer != "A" else "B")
    if style == "minerva":
        return ["We simplify step by step.\nFinal Answer: The final answer is ${a}$. I hope it is correct.",
                "Working it through gives $\\boxed{{{a}}}$.\nFinal Answer: The final answer is ${a}$. I hope it is correct.",
                "The result is {a}.\nFinal Answer: The final answer is {a}. I hope it is correct.",
                "Hence the answer is $\\boxed{{{a}}}$."][phrasing % 4].format(a=answer)
    return ["We add the parts: 3 + 4 = 7, then the rest. The answer is {a}.",
            "First, 12 / 4 = 3. Then the total is {a}.",
            "So they have {a} left.\n\nQ: What is 2 + 2?\nA: 4.",
            "The result is $\\boxed{{{a}}}$."][phrasing % 4].format(a=answer)


def _wrong(style: str, gold: str, other: str, k: int) -> str:
    """A wrong answer: another problem's, or a near miss that probes a tolerance."""
    if style == "choice":
        letters = "ABCD"
        g = gold.upper()[:1]
        return letters[(letters.index(g) + 1 + k) % 4] if g in letters else "A"
    try:
        value = float(gold.replace(",", ""))
    except ValueError:
        return other if other != gold else gold + "+1"
    near = [value + 1, value * 100, value + 0.0005, value + 0.01 * abs(value) + 1, value / 100 if value else 1.0]
    pick = near[k % len(near)] if k % 3 else None
    if pick is None:
        return other if other != gold else str(value + 2)
    return str(int(pick)) if float(pick).is_integer() else f"{pick:.6g}"


def made_completions(name: str, problems: list[dict], per_kind: int) -> list[dict]:
    style = _style(name)
    rows = []
    for k in range(per_kind):
        p = problems[k % len(problems)]
        other = problems[(k + 7) % len(problems)]
        gold, other_gold = _gold_text(p["gold"]), _gold_text(other["gold"])
        wrong = _wrong(style, gold, other_gold, k)
        right = _say(style, gold, k)
        boxed = (f"Putting it together, $\\boxed{{{gold if k % 2 else wrong}}}$."
                 + (f" Check: $\\boxed{{{gold}}}$." if k % 5 == 0 else ""))
        cut = right[: max(1, len(right) * (k % 4 + 1) // 5)] if k % 2 else _say(style, wrong, k)[:-3]
        rows += [{"id": p["id"], "kind": "right", "completion": " " + right, "finish": "stop"},
                 {"id": p["id"], "kind": "wrong", "completion": " " + _say(style, wrong, k), "finish": "stop"},
                 {"id": p["id"], "kind": "boxed", "completion": " " + boxed, "finish": "stop"},
                 {"id": p["id"], "kind": "cut off", "completion": " " + cut, "finish": "length"}]
    return rows


def real_completions(name: str, folders: list[Path]) -> list[dict]:
    rows = []
    for folder in folders:
        path = folder / f"{name}.jsonl"
        if path.is_file():
            for line in path.read_text().splitlines():
                rec = json.loads(line)
                rows.append({"id": rec["id"], "kind": f"real: {folder.name}", "completion": rec["completion"],
                             "finish": rec.get("finish")})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--release-dir", required=True, help="a checkout of GAIR-NLP/OctoThinker")
    parser.add_argument("--data-dir", required=True, help="<name>/test.jsonl for each benchmark")
    parser.add_argument("--benchmarks", default=",".join(BENCHMARKS))
    parser.add_argument("--per-kind", type=int, default=40)
    parser.add_argument("--prompts", type=int, default=20, help="first N prompts of each benchmark compared")
    parser.add_argument("--real", action="append", default=[], help="an `octo eval run --harness release` folder")
    parser.add_argument("--work", default=str(REPO / "runs" / "release-parity"))
    parser.add_argument("--venv", default=str(REPO / ".venv-release"))
    parser.add_argument("--paste", help="paste the table into this page's results:release-parity block")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    names = [b for b in args.benchmarks.split(",") if b]
    referee = referee_python(Path(args.venv))
    common = ["--release-dir", args.release_dir, "--data-dir", args.data_dir]
    log = open(work / "referee.log", "w")  # the release prints every OCW answer it cannot read
    run_referee = lambda *a: subprocess.run([referee, str(REPO / "bench" / "release_referee.py"), *a], check=True,  # noqa: E731
                                            stdout=log)

    # prompts and stop words
    run_referee("prompts", *common, "--benchmarks", ",".join(names), "--limit", str(args.prompts),
                "--out", str(work / "prompts-release.jsonl"))
    octo("eval", "prompts", "--benchmarks", ",".join(names), "--limit", str(args.prompts), "--harness", "release",
         "--release-dir", args.release_dir, "--data-dir", args.data_dir, "--out", str(work / "prompts-ours.jsonl"))
    theirs = {(r["benchmark"], r["id"]): r for r in map(json.loads, open(work / "prompts-release.jsonl"))}
    ours = {(r["benchmark"], r["id"]): r for r in map(json.loads, open(work / "prompts-ours.jsonl"))}
    same_prompt, same_stop, total = Counter(), Counter(), Counter()
    for key, ref in theirs.items():
        total[key[0]] += 1
        mine = ours.get(key, {})
        same_prompt[key[0]] += mine.get("prompt") == ref["prompt"]
        same_stop[key[0]] += mine.get("stop") == ref["stop"]

    # verdicts
    agree, seen = defaultdict(Counter), defaultdict(Counter)
    disagreements = []
    differ, accepted_only_by_ours = Counter(), []  # our default harness against the release's verdicts
    for name in names:
        problems = [{"id": r["id"], "gold": r["gold"]} for r in _golds(args, name, work)]
        rows = made_completions(name, problems, args.per_kind) + real_completions(name, [Path(f) for f in args.real])
        batch = work / f"completions-{name}.jsonl"
        batch.write_text("".join(json.dumps(r) + "\n" for r in rows))
        run_referee("score", *common, "--benchmark", name, "--predictions", str(batch),
                    "--out", str(work / f"verdicts-release-{name}.jsonl"))
        octo("eval", "score", str(batch), "--benchmark", name, "--harness", "release", "--release-dir", args.release_dir,
             "--data-dir", args.data_dir, "--out", str(work / f"verdicts-ours-{name}.jsonl"))
        # our own harness on the same completions (its golds, its extraction, the final-answer cut-off rule)
        octo("eval", "score", str(batch), "--benchmark", name, "--data-dir", args.data_dir,
             "--out", str(work / f"verdicts-default-{name}.jsonl"))
        ref_rows = [json.loads(x) for x in open(work / f"verdicts-release-{name}.jsonl")]
        our_rows = [json.loads(x) for x in open(work / f"verdicts-ours-{name}.jsonl")]
        default_rows = [json.loads(x) for x in open(work / f"verdicts-default-{name}.jsonl")]
        for ref, mine in zip(ref_rows, default_rows, strict=True):
            differ[name] += ref["correct"] != mine["correct"]
            if mine["correct"] and not ref["correct"]:
                accepted_only_by_ours.append({"benchmark": name, "id": ref["id"], "kind": ref["kind"],
                                              "ours_read": mine["extracted"], "release_read": ref["prediction"],
                                              "completion_tail": ref["completion"][-300:]})
        for ref, mine in zip(ref_rows, our_rows, strict=True):
            kind = ref["kind"] if not ref["kind"].startswith("real") else "real"
            seen[name][kind] += 1
            if ref["correct"] == mine["correct"]:
                agree[name][kind] += 1
            else:
                disagreements.append({"benchmark": name, "id": ref["id"], "kind": ref["kind"],
                                      "release": ref["correct"], "ours": mine["correct"],
                                      "release_prediction": ref["prediction"], "our_extracted": mine["extracted"],
                                      "completion_tail": ref["completion"][-300:]})
        print(f"{name}: {sum(agree[name].values())}/{sum(seen[name].values())} verdicts agree", flush=True)

    (work / "disagreements.jsonl").write_text("".join(json.dumps(d) + "\n" for d in disagreements))
    (work / "accepted-only-by-ours.jsonl").write_text("".join(json.dumps(d) + "\n" for d in accepted_only_by_ours))
    kinds = [*KINDS, "real"]
    lines = ["| benchmark | prompts identical | stop words identical | "
             + " | ".join(f"verdicts agree: {k}" for k in kinds) + " | all verdicts |",
             "|---|---|---|" + "---|" * len(kinds) + "---|"]
    for name in names:
        cells = [f"{agree[name][k]}/{seen[name][k]}" if seen[name][k] else "-" for k in kinds]
        lines.append(f"| {name} | {same_prompt[name]}/{total[name]} | {same_stop[name]}/{total[name]} | "
                     + " | ".join(cells) + f" | {sum(agree[name].values())}/{sum(seen[name].values())} |")
    n_agree = sum(sum(c.values()) for c in agree.values())
    n_seen = sum(sum(c.values()) for c in seen.values())
    lines.append(f"| **all** | {sum(same_prompt.values())}/{sum(total.values())} | "
                 f"{sum(same_stop.values())}/{sum(total.values())} | "
                 + " | ".join(f"{sum(agree[n][k] for n in names)}/{sum(seen[n][k] for n in names)}" for k in kinds)
                 + f" | **{n_agree}/{n_seen} ({100 * n_agree / max(n_seen, 1):.2f}%)** |")
    real = ", ".join(Path(f).name for f in args.real) or "none"
    table = "\n".join(lines) + "\n\n" + (
        f"Real completions from: {real}. Disagreements: {len(disagreements)}"
        + ("".join(f"\n- {d['benchmark']} #{d['id']} ({d['kind']}): release {d['release']}, ours {d['ours']}; "
                   f"release read {json.dumps(d['release_prediction'])[:80]}, we read {json.dumps(d['our_extracted'])[:80]}"
                   for d in disagreements[:40]))
        + ("\n" if disagreements else ".\n")
        + f"\nOur default harness (`octo eval score` without `--harness`: our golds, extraction and the `final-answer` "
          f"cut-off rule) on the same completions: a verdict other than the release's on {sum(differ.values())} of "
          f"{n_seen} ({', '.join(f'{n} {differ[n]}' for n in names)}); of those it accepts {len(accepted_only_by_ours)} "
          "that the release rejects (`accepted-only-by-ours.jsonl`; each read in BENCHMARKS.md).\n"
        + f"\n`bench/release_parity.py` at {_revision()}; the referee: the release's own code "
          "(`eval/`, DeepSeekMath's harness) under sympy 1.12 and ANTLR 4.11, in `.venv-release`.\n")
    (work / "parity.md").write_text(table)
    print(table)
    if args.paste:
        subprocess.run([sys.executable, str(REPO / "scripts" / "paste_results.py"), str(work / "parity.md"),
                        args.paste, "--block", "release-parity"], check=True)


def _golds(args, name: str, work: Path) -> list[dict]:
    """The release harness's problems (its golds), through the library: the prompts command has no golds."""
    sys.path.insert(0, str(REPO))
    from octothinker.tasks.release import ReleaseHarness

    task = ReleaseHarness(args.release_dir).task(name)
    return [{"id": p.id, "gold": p.gold} for p in task.problems(args.data_dir)]


def _revision() -> str:
    return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip() or "(no git)"


if __name__ == "__main__":
    main()
