"""Data throughput: MinHash near-dedup (documents/s) and tokenize + pack (tokens/s) on this machine,
datatrove's MinHash pipeline on the same input when it is installed, and peak memory at two input
sizes (dedup memory should grow with signatures only).

    .venv/bin/python bench/data_throughput.py --docs 4000

Input: high-quality synthetic web documents (about 90 words each) with 10% planted near-duplicates.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_corpus(path: Path, docs: int) -> None:
    import random

    from octothinker.data.synthetic import WorldSize, hq_web_doc

    rng = random.Random(0)
    texts = [hq_web_doc(rng, WorldSize()) for _ in range(docs)]
    for i in range(docs // 10):  # planted near-duplicates: one word changed
        words = texts[i].split()
        words[rng.randrange(len(words))] = "indeed"
        texts.append(" ".join(words))
    with path.open("w") as fh:
        for i, t in enumerate(texts):
            fh.write(json.dumps({"id": str(i), "text": t}) + "\n")


def run_ours_dedup(path: Path) -> dict:
    from octothinker.data.dedup import MinHashDedup
    from octothinker.data.readers import read_records

    dedup = MinHashDedup()
    start = time.perf_counter()
    docs = removed = 0
    for _, rec in read_records(str(path)):  # streamed, as in `octo data build`
        docs += 1
        removed += dedup.seen(rec["text"])
    seconds = time.perf_counter() - start
    return {"docs": docs, "removed": removed, "seconds": seconds, "docs_per_s": docs / seconds,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_datatrove_dedup(path: Path, work: Path) -> dict | None:
    try:
        from datatrove.executor import LocalPipelineExecutor
        from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                                      MinhashDedupFilter, MinhashDedupSignature)
        from datatrove.pipeline.readers import JsonlReader
        from datatrove.pipeline.writers import JsonlWriter
    except ImportError:
        return None
    config = MinhashConfig()  # datatrove defaults: 5-gram shingles, 14 buckets x 8 hashes
    reader = JsonlReader(str(path.parent), glob_pattern=path.name)
    stages = [
        [reader, MinhashDedupSignature(output_folder=str(work / "sigs"), config=config)],
        [MinhashDedupBuckets(input_folder=str(work / "sigs"), output_folder=str(work / "buckets"), config=config)],
        [MinhashDedupCluster(input_folder=str(work / "buckets"), output_folder=str(work / "remove"), config=config)],
        [JsonlReader(str(path.parent), glob_pattern=path.name),
         MinhashDedupFilter(input_folder=str(work / "remove")), JsonlWriter(str(work / "out"))],
    ]
    start = time.perf_counter()
    for i, pipeline in enumerate(stages):
        tasks = config.num_buckets if i == 1 else 1
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=str(work / f"logs{i}"),
                              start_method="spawn").run()
    seconds = time.perf_counter() - start
    kept = sum(1 for f in (work / "out").glob("*.jsonl*") for _ in __import__("gzip").open(f, "rt"))
    docs = sum(1 for _ in path.open())
    return {"docs": docs, "removed": docs - kept, "seconds": seconds, "docs_per_s": docs / seconds}


def run_tokenize_pack(path: Path, tokenizer_dir: Path, workers: int, out: Path) -> dict:
    import numpy as np

    from octothinker.data.pipeline import Tokenize
    from octothinker.data.readers import read_records
    from octothinker.data.shards import ShardWriter, token_dtype
    from octothinker.models import load_tokenizer

    tok = load_tokenizer(tokenizer_dir)
    texts = [r["text"] for _, r in read_records(str(path))]
    start = time.perf_counter()
    tokenize = Tokenize(str(tokenizer_dir), workers)
    writer = ShardWriter(out, token_dtype(len(tok)))
    total = 0
    for batch in tokenize([texts[i:i + 256] for i in range(0, len(texts), 256)]):
        for ids in batch:
            writer.add(np.asarray(ids + [tok.eos_token_id]))
            total += len(ids) + 1
    writer.close({"tokenizer": {"name": str(tokenizer_dir)}})
    tokenize.close()
    seconds = time.perf_counter() - start
    return {"workers": workers, "tokens": total, "seconds": seconds, "tokens_per_s": total / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=4000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # measure one dedup run in a fresh process, for its own peak RSS
        print(json.dumps(run_ours_dedup(Path(args.child))))
        return

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        small, large = tmp / "small" / "docs.jsonl", tmp / "large" / "docs.jsonl"
        small.parent.mkdir()
        large.parent.mkdir()
        make_corpus(small, args.docs)
        make_corpus(large, args.docs * 4)
        results = {}
        for name, path in (("small", small), ("large", large)):
            out = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True,
                                 check=True)
            results[name] = json.loads(out.stdout.strip().splitlines()[-1])
        for name, r in results.items():
            print(f"octothinker MinHash dedup, {r['docs']:6d} docs: {r['docs_per_s']:8.0f} docs/s, "
                  f"removed {r['removed']}, peak RSS {r['peak_rss_mb']:.0f} MB")
        growth = results["large"]["peak_rss_mb"] / results["small"]["peak_rss_mb"]
        print(f"peak RSS x{growth:.2f} for x4 input (signatures only grow with documents)")
        try:
            dt = run_datatrove_dedup(small, tmp / "dt")
        except ImportError as err:  # datatrove checks its optional dependencies when a step is built
            dt, missing = None, err
        else:
            missing = "not installed"
        if dt is None:
            print(f"datatrove: {missing}; not compared")
        else:
            ours = results["small"]["docs_per_s"]
            print(f"datatrove MinHash pipeline, {dt['docs']:6d} docs: {dt['docs_per_s']:8.0f} docs/s, removed {dt['removed']}"
                  f" -> octothinker / datatrove = {ours / dt['docs_per_s']:.2f}x")

        from octothinker.models import train_tokenizer

        texts = [json.loads(line)["text"] for line in small.open()]
        tokenizer_dir = tmp / "tokenizer"
        train_tokenizer(texts, vocab_size=1024).save_pretrained(tokenizer_dir)
        for workers in (1, 2):
            r = run_tokenize_pack(large, tokenizer_dir, workers, tmp / f"shards{workers}")
            print(f"tokenize + pack, {workers} worker(s): {r['tokens_per_s']:9.0f} tokens/s ({r['tokens']} tokens)")


if __name__ == "__main__":
    main()
