"""`octo data build`: sources (read through their formats) -> quality filter -> dedup ->
decontamination -> tokenize -> mixture -> packed shards, plus a data report (JSON and Markdown).

    octo data build recipe.yaml                 # a data recipe, or a study recipe's `data:` section
    octo data build recipe.yaml mixture.tokens=2000000 seed=1

`build` reads top to bottom: the first records of every source are checked against its format (most of
them bad stops the build before anything runs), the sources go through the filters on datatrove (`curate.py`: its fastText
filter and MinHash stages on its local, Slurm or Ray executor, as `executor` says) into staging token
files; the mixture then picks documents per source by weight and budget, and the shards are written in
a seeded interleaved order. Memory holds per-document offsets, never the corpus. On its own (`octo data
build`) the build writes into `<out>.partial` and replaces `<out>` only when it is complete, so a failed
rebuild leaves the previous shards (and their index.json) as they were, and no `<out>.partial` behind;
within a study, the stage runner stages it so.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np

from octothinker.data.curate import STEPS, curate, require_executor
from octothinker.data.config import DataRecipe, DecontamSpec
from octothinker.data.formats import BAD_REASONS, DROP_REASONS, RecordError, text_at
from octothinker.data.mixture import requested_tokens, select_documents
from octothinker.data.preview import check_sources, percentiles, qa_share, qa_share_warning, source_warnings
from octothinker.data.quality import QualityClassifier
from octothinker.data.readers import read_records
from octothinker.data.shards import ShardWriter, token_dtype, tokenizer_hash
from octothinker.errors import DataError
from octothinker.runs import atomic_write_json, atomic_write_text, derive_seed, run_metadata
from octothinker.runs.files import ensure_writable, replace_dir
from octothinker.runs.losses import recorded_warnings


def _benchmark_questions(spec: DecontamSpec) -> list[tuple[str, str]]:
    """(benchmark, question) for every test question the recipe decontaminates against."""
    from octothinker.tasks.benchmarks import load_problems

    questions = [(name, problem.question) for name in spec.benchmarks for problem in load_problems(name, spec.data_dir)]
    for path in spec.files:
        label = Path(path).parent.name + "/" + Path(path).stem
        for where, rec in read_records(path, "fail"):
            questions.append((label, _text_field(rec, "question", where)))
    return questions


def _text_field(rec: dict, field: str, where: str) -> str:
    try:
        return text_at(rec, field)
    except RecordError as err:
        raise DataError(f"{where}: {err}") from None


def _read_texts(path: str, on_bad_line: str) -> list[str]:
    texts = [_text_field(rec, "text", where) for where, rec in read_records(path, on_bad_line)]
    if not texts:
        raise DataError(f"{path}: no seed documents")
    return texts


def histogram(lengths: np.ndarray, bins: int = 10) -> dict:
    if len(lengths) == 0:
        return {"edges": [], "counts": []}
    counts, edges = np.histogram(lengths, bins=bins)
    return {"edges": [int(e) for e in edges], "counts": [int(c) for c in counts]}


def build(recipe: DataRecipe, staged: bool = False) -> dict:
    """Run the whole data build; returns the report (also written to `<out>/report.json` and `.md`).
    `staged`: `out` is a staging folder of the caller's (the study's stage runner), which replaces the
    finished output only when the build completes, so it is written as it is."""
    require_executor(recipe)
    check_sources({recipe.name: recipe}, "data build")
    if staged:
        return _build_into(recipe, Path(recipe.out))
    final = Path(recipe.out)
    out = final.with_name(final.name + ".partial")
    shutil.rmtree(out, ignore_errors=True)
    try:
        report = _build_into(recipe, out)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)  # a failed build leaves nothing half-made behind
        raise
    replace_dir(out, final)
    return report


def _build_into(recipe: DataRecipe, out: Path) -> dict:
    from octothinker.models import load_tokenizer

    start = time.perf_counter()
    ensure_writable(out)
    atomic_write_json(out / "recipe.json", {"recipe": recipe.model_dump(), **run_metadata(recipe.seed)})
    tokenizer = load_tokenizer(recipe.tokenizer)
    report: dict = {"name": recipe.name, "steps": {}}

    # 1. The quality classifier, trained on the seeds, saved beside the shards for reuse.
    classifier = None
    if recipe.quality is not None:
        q = recipe.quality
        classifier, metrics = QualityClassifier.train(
            _read_texts(q.positive, recipe.on_bad_line), _read_texts(q.negative, recipe.on_bad_line),
            seed=derive_seed(recipe.seed, "quality") >> 32, holdout=q.holdout,  # fastText's seed is a C int
            epochs=q.epochs, lr=q.lr, word_ngrams=q.word_ngrams,
            threshold=q.threshold, dim=q.dim)
        classifier.save(out / "quality.bin")
        report["quality_classifier"] = metrics

    # 2. Benchmark questions for decontamination.
    questions = _benchmark_questions(recipe.decontam) if recipe.decontam else []
    if recipe.decontam:
        report["decontamination"] = {"ngram": recipe.decontam.ngram, "questions": len(questions)}

    # 3. Every source through the filters on datatrove into a staging token file, in input order.
    staging = out / "staging"
    report["steps"] = curate(recipe, out / "curation", staging,
                             out / "quality.bin" if classifier is not None else None, questions)
    report["curation"] = {"executor": recipe.executor, "tasks": recipe.tasks, "workers": recipe.workers}

    # 4. The mixture: documents per source by weight and budget.
    targets = requested_tokens({s.name: s.weight for s in recipe.sources}, recipe.mixture.tokens)
    plans, lengths = {}, {}
    for src in recipe.sources:
        lengths[src.name] = np.load(staging / f"{src.name}.lengths.npy")
        plans[src.name] = select_documents(src.name, lengths[src.name], targets[src.name], recipe.mixture.repeat,
                                           seed=derive_seed(recipe.seed, "mixture", src.name))

    warnings = _mixture_warnings(recipe, plans, report["steps"], lengths)
    for line in warnings:
        print(f"data {recipe.name}: WARNING: {line}", flush=True)

    # 5. Shards, in a seeded interleaving of all selected documents.
    order = [(name, i) for name, plan in plans.items() for i in plan.doc_ids]
    perm = np.random.default_rng(derive_seed(recipe.seed, "shard-order")).permutation(len(order))
    staged = {name: np.memmap(staging / f"{name}.bin", dtype=np.uint32, mode="r") for name in plans}
    starts = {name: np.concatenate([[0], np.cumsum(lengths[name])]) for name in plans}
    writer = ShardWriter(out, token_dtype(len(tokenizer)), recipe.shard_tokens)
    for j in perm:
        name, i = order[j]
        writer.add(np.asarray(staged[name][starts[name][i]:starts[name][i + 1]]))
    total = sum(p.tokens for p in plans.values())
    kinds = {s.name: s.kind for s in recipe.sources}
    mixture = {name: {"requested_tokens": p.requested_tokens, "realised_tokens": p.tokens,
                      "requested_share": p.requested_tokens / recipe.mixture.tokens,
                      "realised_share": p.tokens / total if total else 0.0,
                      "available_tokens": p.available_tokens, "epochs": round(p.epochs, 3),
                      "documents": len(p.doc_ids)} for name, p in plans.items()}
    all_lengths = np.concatenate([lengths[name][plans[name].doc_ids] for name in plans if plans[name].doc_ids])
    index = writer.close({
        "tokenizer": {"name": recipe.tokenizer, "hash": tokenizer_hash(tokenizer), "eos_id": tokenizer.eos_token_id,
                      "vocab_size": len(tokenizer)},
        "sources": {name: {"documents": m["documents"], "tokens": m["realised_tokens"]} for name, m in mixture.items()},
    })
    del staged
    shutil.rmtree(staging)

    report["mixture"] = mixture
    report["qa_share"] = {"requested": round(qa_share(recipe), 4),
                          "realised": round(sum(m["realised_tokens"] for n, m in mixture.items()
                                                if kinds[n] == "qa") / total if total else 0.0, 4)}
    report["losses"] = {name: counts.pop("losses") for name, counts in report["steps"].items()}
    report["warnings"] = recorded_warnings(report) + warnings + qa_share_warning(recipe.name, report["qa_share"]["requested"],
                                                     report["qa_share"]["realised"])
    report["output"] = {"documents": index["documents"], "tokens": index["tokens"], "shards": len(index["shards"]),
                        "dtype": index["dtype"]}
    report["token_length_histogram"] = histogram(all_lengths)
    report["seconds"] = round(time.perf_counter() - start, 2)
    atomic_write_json(out / "report.json", report)
    atomic_write_text(out / "report.md", format_report(report))
    return report


def _mixture_warnings(recipe: DataRecipe, plans: dict, steps: dict, lengths: dict) -> list[str]:
    """Per source: its token lengths and boxed share (into `steps`), and what a person would want to
    know beyond its losses (`curate.source_losses`): a source repeated to fill its share, a long-CoT
    source that is not long. A source repeated past `mixture.max_epochs` stops the build."""
    warnings = []
    for src in recipe.sources:
        s, plan = steps[src.name], plans[src.name]
        s["token_lengths"] = percentiles(lengths[src.name])
        s["boxed_share"] = round(s["boxed"] / s["kept"], 3) if s["kept"] else 0.0
        s["rejected"] = {r: s[r] for r in (*BAD_REASONS, *DROP_REASONS) if s[r]}
        warnings += source_warnings(src, s["token_lengths"], s["boxed_share"], s["kept"])
        if plan.epochs > 1.0:
            cap = recipe.mixture.max_epochs
            if cap is not None and plan.epochs > cap:
                raise DataError(f"data {recipe.name}: source '{src.name}' would be repeated {plan.epochs:.1f} times "
                                f"to fill its share ({plan.available_tokens} tokens available, {plan.requested_tokens} "
                                f"asked); mixture.max_epochs is {cap}")
            warnings.append(f"source '{src.name}' repeated {plan.epochs:.1f} times to fill its share "
                            f"({plan.available_tokens} tokens available, {plan.requested_tokens} asked)")
    return warnings


def format_report(report: dict) -> str:
    lines = [f"# Data report: {report['name']}", ""]
    if "quality_classifier" in report:
        q = report["quality_classifier"]
        lines += [f"Quality classifier (held-out {q.get('heldout_examples', 0)} seeds): precision "
                  f"{q.get('precision', 0):.3f}, recall {q.get('recall', 0):.3f}, accuracy {q.get('accuracy', 0):.3f}", ""]
    cols = list(STEPS)
    lines += ["## Filtering, per source", "", "| source | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, s in report["steps"].items():
        lines.append(f"| {name} | " + " | ".join(str(s.get(c, 0)) for c in cols) + " |")
    contaminated = Counter()
    for s in report["steps"].values():
        contaminated.update(s.get("contaminated_by_benchmark", {}))
    if contaminated:
        lines += ["", "Removed for benchmark overlap: " + ", ".join(f"{k} {v}" for k, v in sorted(contaminated.items()))]
    examples = {name: s["examples"] for name, s in report["steps"].items() if s.get("examples")}
    if examples:
        lines += ["", "Records dropped, the first of each reason:"]
        lines += [f"- {name}, {reason}: {text}" for name, ex in examples.items() for reason, text in ex.items()]
    lines += ["", "## Sources: token lengths and final answers", "",
              "| source | p10 | p50 | p90 | final boxed answer |", "|---|---|---|---|---|"]
    for name, s in report["steps"].items():
        t = s.get("token_lengths", {})
        lines.append(f"| {name} | {t.get('p10', '')} | {t.get('p50', '')} | {t.get('p90', '')} | "
                     f"{s.get('boxed_share', 0):.0%} |")
    lines += ["", "## Mixture, requested vs realised", "",
              "| source | requested tokens | realised tokens | requested share | realised share | epochs |",
              "|---|---|---|---|---|---|"]
    for name, m in report["mixture"].items():
        lines.append(f"| {name} | {m['requested_tokens']} | {m['realised_tokens']} | {m['requested_share']:.3f} | "
                     f"{m['realised_share']:.3f} | {m['epochs']} |")
    if "qa_share" in report:
        q = report["qa_share"]
        lines += ["", f"QA share of the tokens: requested {q['requested']:.1%}, realised {q['realised']:.1%}"]
    if report.get("warnings"):
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in report["warnings"]]
    o = report["output"]
    lines += ["", f"Output: {o['documents']} documents, {o['tokens']} tokens in {o['shards']} shard(s) ({o['dtype']}).",
              "", "Token lengths: " + json.dumps(report["token_length_histogram"]), ""]
    return "\n".join(lines)
