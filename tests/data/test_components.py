import gzip
import json
from collections import Counter

import numpy as np
import pytest

from octothinker.data.decontam import Decontaminator
from octothinker.data.mixture import requested_tokens, select_documents
from octothinker.data.readers import read_records
from octothinker.errors import DataError


def test_readers_jsonl_gz_zst_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    import zstandard

    recs = [{"text": f"doc {i}"} for i in range(5)]
    payload = "".join(json.dumps(r) + "\n" for r in recs).encode()
    (tmp_path / "a.jsonl").write_bytes(payload)
    with gzip.open(tmp_path / "b.jsonl.gz", "wb") as fh:
        fh.write(payload)
    (tmp_path / "c.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(payload))
    pq.write_table(pa.Table.from_pylist(recs), tmp_path / "d.parquet")
    for name in ["a.jsonl", "b.jsonl.gz", "c.jsonl.zst", "d.parquet"]:
        assert [r["text"] for _, r in read_records(str(tmp_path / name))] == [r["text"] for r in recs], name
    assert len(list(read_records(str(tmp_path / "*.jsonl*")))) == 15


def test_bad_lines_are_counted_or_fatal(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"text": "ok"}\n{broken\n\xff\xfe\n["list"]\n{"text": "ok2"}\n')
    bad = Counter()
    assert [r["text"] for _, r in read_records(str(path), "skip", bad)] == ["ok", "ok2"]
    assert bad[str(path)] == 3
    with pytest.raises(DataError, match=r"x.jsonl:2: invalid JSON"):
        list(read_records(str(path), "fail"))
    path.write_bytes(b'{"text": "ok"}\n\xff\xfe\n')
    with pytest.raises(DataError, match=r"x.jsonl:2: not valid UTF-8"):
        list(read_records(str(path), "fail"))
    with pytest.raises(DataError, match="no files match"):
        list(read_records(str(tmp_path / "none*.jsonl")))


def test_decontamination_by_13_grams():
    question = "Ada has 7 apples and buys 5 more at the market on a rainy Tuesday afternoon. How many now?"
    d = Decontaminator(13)
    d.add("synth", question)
    d.add("short", "What is 2+2?")  # fewer than 13 words: matched whole
    assert d.check("Some text. " + question + " More text.")
    assert d.check("quiz: what is 2 + 2 ? no")
    assert not d.check("Ada has 7 apples and buys 5 more at the shop on a rainy Tuesday afternoon.")
    assert d.removed == Counter({"synth": 1, "short": 1})


def test_mixture_selection():
    assert requested_tokens({"a": 9, "b": 1}, 1000) == {"a": 900, "b": 100}
    lengths = np.full(10, 10)
    plan = select_documents("a", lengths, 250, repeat=True, seed=0)
    assert plan.tokens == 250 and plan.epochs == 2.5
    assert sorted(plan.doc_ids[:10]) == list(range(10))  # every document once before any repeats
    assert select_documents("a", lengths, 250, True, 0).doc_ids == plan.doc_ids  # seeded
    with pytest.raises(DataError, match="has 100 tokens, the mixture asks for 250"):
        select_documents("a", lengths, 250, repeat=False, seed=0)
    with pytest.raises(DataError, match="no documents left"):
        select_documents("a", np.zeros(0, dtype=int), 10, True, 0)


@pytest.mark.parametrize("name, damage", [
    ("cut.jsonl.gz", "cut"), ("mid.jsonl.gz", "overwrite"), ("cut.jsonl.zst", "cut"), ("mid.jsonl.zst", "overwrite"),
    ("mid.parquet", "overwrite")])
def test_a_damaged_file_is_named_wherever_the_damage_is(tmp_path, name, damage):
    """A compressed file cut short or damaged past its header fails only when read that far: the error
    names the file (a cut .zst used to end quietly, its rest lost; Parquet said only 'Corrupt snappy
    compressed data.')."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import zstandard

    recs = [{"text": f"document {i} " * 20} for i in range(3000)]
    payload = "".join(json.dumps(r) + "\n" for r in recs).encode()
    if name.endswith(".parquet"):
        pq.write_table(pa.Table.from_pylist(recs), tmp_path / "whole", row_group_size=500, compression="snappy")
        data = (tmp_path / "whole").read_bytes()
    else:
        # with its checksum, as the zstd tool writes it (without one, damage can decode to other text: bad lines)
        data = gzip.compress(payload) if name.endswith(".gz") else \
            zstandard.ZstdCompressor(write_checksum=True).compress(payload)
    half = len(data) // 2
    path = tmp_path / name
    path.write_bytes(data[:half] if damage == "cut" else data[:half] + b"\xff" * 64 + data[half + 64:])
    with pytest.raises(DataError, match=rf"^{path}: (corrupt|truncated)"):
        list(read_records(str(path)))


def test_a_file_of_several_zstd_frames_is_read_whole(tmp_path):
    frames = [zstandard_frame(f'{{"text": "frame {i} line {j}"}}\n' * 1 for j in range(200)) for i in range(3)]
    (tmp_path / "multi.jsonl.zst").write_bytes(b"".join(frames))
    assert len(list(read_records(str(tmp_path / "multi.jsonl.zst")))) == 600


def zstandard_frame(lines) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress("".join(lines).encode())
