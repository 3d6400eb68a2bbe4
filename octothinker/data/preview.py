"""Look at the data before spending anything on it.

    octo data preview RECIPE [--section data.long] [--records 200]

`sample_source` reads a source's first records through its format; `check_sources` (what `octo run`
and `octo data build` do before any stage) stops with one line naming the source, file, record and field
when most sampled records are bad input; `preview` adds, per source, formatted documents, token lengths
with the section's tokenizer, the share with a final boxed answer, and the warnings a person would want.
A build's data report carries the same facts (`source_facts`, `warnings`) for every document it kept.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from octothinker.data.formats import BAD_REASONS, RecordError
from octothinker.data.readers import expand_paths, read_records
from octothinker.errors import DataError
from octothinker.runs.losses import Losses

# A long chain-of-thought source whose median document is shorter than this is probably not long CoT
# (OpenR1's and AM's traces run to thousands of tokens; a short reference solution to a few hundred).
LONG_COT_MIN_MEDIAN = 1024
# A QA source in which fewer documents than this end with a boxed answer teaches no answer format.
MIN_BOXED_SHARE = 0.5


@dataclass
class SourceSample:
    read: int = 0
    documents: list[str] = field(default_factory=list)
    rejected: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)   # reason -> first "where: field ... is ..."

    @property
    def bad(self) -> int:
        return sum(self.rejected[r] for r in BAD_REASONS)


def sample_source(src, records: int) -> SourceSample:
    """The source's first `records` records (over its files in order) through its format."""
    sample = SourceSample()
    bad_json: Counter = Counter()
    paths = expand_paths(src.path)
    rows = itertools.chain.from_iterable(read_records(p, "skip", bad_json) for p in paths)
    for where, rec in itertools.islice(rows, records):
        sample.read += 1
        try:
            sample.documents.append(src.document(rec))
        except RecordError as err:
            sample.rejected[err.reason] += 1
            sample.examples.setdefault(err.reason, f"{where}: {err}")
    if bad_json:
        sample.rejected["bad_json"] += sum(bad_json.values())
        sample.examples.setdefault("bad_json", f"{paths[0]}: lines that are not JSON objects")
    return sample


def check_sources(sections: dict, where: str, records: int = 50) -> None:
    """Before any stage runs: every source of every data section reads, and most of its first records
    make documents. `sections` maps a section name to its DataRecipe."""
    for section, recipe in sections.items():
        for src in recipe.sources:
            if src.path.startswith("hf:"):
                continue  # a hub dataset is read when its stage runs
            try:
                sample = sample_source(src, records)
            except DataError as err:
                raise DataError(f"{where}: data.{section}.sources.{src.name}: {err}") from None
            total = sample.read + sample.rejected["bad_json"]
            if total and sample.bad * 2 > total:
                reason = max((r for r in BAD_REASONS if sample.rejected[r]), key=lambda r: sample.rejected[r])
                raise DataError(f"{where}: data.{section}.sources.{src.name} (format {src.format}): "
                                f"{sample.bad} of the first {total} records are bad; "
                                f"e.g. {sample.examples[reason]}")


def percentiles(lengths) -> dict[str, int]:
    if len(lengths) == 0:
        return {"p10": 0, "p50": 0, "p90": 0}
    p10, p50, p90 = np.percentile(np.asarray(lengths), [10, 50, 90])
    return {"p10": int(p10), "p50": int(p50), "p90": int(p90)}


def has_boxed(text: str) -> bool:
    return "\\boxed{" in text


def source_warnings(src, lengths: dict[str, int], boxed_share: float, kept: int) -> list[str]:
    """What a person would want to know about a source's documents before training on them (what it
    lost is the loss rule's: `sample_losses`, `curate.source_losses`)."""
    out = []
    if src.kind == "qa" and src.cot == "long" and kept and lengths["p50"] < LONG_COT_MIN_MEDIAN:
        out.append(f"source '{src.name}' is long chain of thought, but its median document is {lengths['p50']} "
                   f"tokens (under {LONG_COT_MIN_MEDIAN}): are these reasoning traces?")
    if src.kind == "qa" and kept and boxed_share < MIN_BOXED_SHARE:
        out.append(f"QA source '{src.name}': only {boxed_share:.0%} of its documents carry a final \\boxed{{}} answer")
    return out


def qa_share_warning(name: str, requested: float, realised: float, tolerance: float = 0.05) -> list[str]:
    if abs(realised - requested) > tolerance:
        return [f"data {name}: QA is {realised:.0%} of the tokens, the recipe asks for {requested:.0%}"]
    return []


def qa_share(recipe) -> float:
    """The share of the mixture's tokens the recipe gives to QA sources."""
    total = sum(s.weight for s in recipe.sources)
    return sum(s.weight for s in recipe.sources if s.kind == "qa") / total


def shorten(text: str, chars: int = 400) -> str:
    if len(text) <= chars:
        return text
    return f"{text[:chars // 2]} [... {len(text) - chars} characters ...] {text[-chars // 2:]}"


def sample_losses(src, sample: SourceSample, token_counts: list[int]) -> Losses:
    """The sample's records in, and dropped by reason: by the format, and by the source's overlong rule
    (the build's later filters need the whole source). The loss rule of `runs.losses`."""
    losses = Losses(f"data source '{src.name}' (first records)", src.path, src.max_loss_share,
                    came_in=sample.read + sample.rejected["bad_json"])
    for reason, count in sample.rejected.items():
        losses.drop(reason, sample.examples.get(reason, "no example kept"), count)
    if src.max_tokens and src.overlong == "drop":
        over = [n for n in token_counts if n > src.max_tokens]
        if over:
            losses.drop("dropped_overlong", f"a document of {over[0]} tokens, over {src.max_tokens}", len(over))
    return losses


def preview(recipe, records: int = 200, strict: bool = False) -> dict:
    """Per source: records read and kept, why the rest were not, two documents, token lengths, the boxed
    share and warnings. With `strict` (or the recipe's), a source over its max_loss_share is an error."""
    from octothinker.models import load_tokenizer

    tokenizer = load_tokenizer(recipe.tokenizer)
    sources = {}
    for src in recipe.sources:
        sample = sample_source(src, records)
        ids = tokenizer(sample.documents, add_special_tokens=False)["input_ids"] if sample.documents else []
        lengths = percentiles([len(i) for i in ids])
        boxed = sum(map(has_boxed, sample.documents)) / len(sample.documents) if sample.documents else 0.0
        lost = sample_losses(src, sample, [len(i) for i in ids])
        loss_warning = lost.check(strict or recipe.strict)
        sources[src.name] = {
            "format": src.format, "kind": src.kind, "cot": src.cot, "weight": src.weight,
            "read": lost.came_in, "kept": len(sample.documents), "rejected": dict(sample.rejected),
            "examples": sample.examples, "tokens": lengths, "boxed_share": round(boxed, 3),
            "documents": [shorten(d) for d in sample.documents[:2]], "losses": lost.record(),
            "warnings": [loss_warning] * (loss_warning is not None) + source_warnings(src, lengths, boxed,
                                                                                    len(sample.documents)),
        }
    return {"name": recipe.name, "tokenizer": recipe.tokenizer, "records_per_source": records,
            "qa_share": round(qa_share(recipe), 3), "sources": sources}


def format_preview(result: dict) -> str:
    lines = [f"# {result['name']}: the first {result['records_per_source']} records of each source "
             f"(tokenizer {result['tokenizer']}; QA share requested: {result['qa_share']:.0%})", ""]
    for name, s in result["sources"].items():
        t = s["tokens"]
        rejected = ", ".join(f"{k} {v}" for k, v in s["rejected"].items()) or "none"
        lines += [f"## {name} (format {s['format']}: {s['kind']}{' ' + s['cot'] if s['cot'] else ''}, weight {s['weight']})",
                  f"read {s['read']}, kept {s['kept']}; rejected: {rejected}",
                  f"tokens p10/p50/p90: {t['p10']} / {t['p50']} / {t['p90']}; final boxed answer: {s['boxed_share']:.0%}"]
        lines += [f"  e.g. {example}" for example in s["examples"].values()]
        for i, doc in enumerate(s["documents"], 1):
            lines += [f"--- document {i}", doc]
        lines += [f"WARNING: {w}" for w in s["warnings"]]
        lines.append("")
    return "\n".join(lines)
