import json

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from octothinker.cli import app
from octothinker.data.config import DataRecipe
from octothinker.data.pipeline import build
from octothinker.data.quality import QualityClassifier
from octothinker.data.formats import FORMATS
from octothinker.data.shards import ShardReader, read_index
from tests.shards import iter_documents
from octothinker.errors import DataError
from octothinker.models import load_tokenizer, train_tokenizer
from octothinker.recipe import RecipeError, load_recipe

runner = CliRunner()


def recipe_dict(world_dir, out, **changes):
    d = {
        "name": "test", "out": str(out), "tokenizer": str(world_dir / "tokenizer"), "seed": 0, "workers": 1,
        "quality": {"positive": str(world_dir / "seeds/positive.jsonl"),
                    "negative": str(world_dir / "seeds/negative.jsonl")},
        "decontam": {"ngram": 13, "files": [str(world_dir / "problems/test.jsonl")]},
        "sources": [
            {"name": "web", "path": str(world_dir / "web/*.jsonl"), "weight": 0.8,
             "quality_filter": True},
            {"name": "qa", "path": str(world_dir / "qa/long_cot.jsonl"), "format": "qa", "style": "long", "weight": 0.15,
             "max_tokens": 120, "overlong": "truncate"},
            {"name": "instruct", "path": str(world_dir / "instruct/instructions.jsonl"), "format": "instruct",
             "weight": 0.05},
        ],
        "mixture": {"tokens": 60000, "repeat": True},
        "shard_tokens": 20000,
    }
    d.update(changes)
    return d


def _jsonl(path):
    return [json.loads(line) for line in open(path)]


@pytest.fixture(scope="module")
def built(world, tmp_path_factory):
    world_dir, info = world
    out = tmp_path_factory.mktemp("build") / "shards"
    path = out.parent / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe_dict(world_dir, out, workers=2)))
    result = runner.invoke(app, ["data", "build", str(path)])
    assert result.exit_code == 0, result.output
    return world_dir, info, out, json.loads((out / "report.json").read_text())


def test_classifier_separates_high_from_low_quality_web(built):
    world_dir, _, out, report = built
    assert report["quality_classifier"]["accuracy"] >= 0.95
    clf = QualityClassifier.load(out / "quality.bin")
    hq = [r["text"] for r in _jsonl(world_dir / "web/hq.jsonl")]
    lq = [r["text"] for r in _jsonl(world_dir / "web/lq.jsonl")]
    acc = (sum(s >= 0.5 for s in clf.scores(hq)) + sum(s < 0.5 for s in clf.scores(lq))) / (len(hq) + len(lq))
    assert acc >= 0.95
    web = report["steps"]["web"]
    assert web["read"] == len(hq) + len(lq)
    assert abs(web["quality_removed"] - len(lq)) <= 0.05 * len(lq)
    # sized to its seeds (fastText's defaults would write 800 MB for any data)
    assert (out / "quality.bin").stat().st_size < 20 * 2**20


def test_every_output_file_gets_the_same_permissions(built):
    _, _, out, _ = built
    modes = {p.name: p.stat().st_mode & 0o777 for p in out.iterdir() if p.is_file()}
    assert modes["index.json"] == modes["report.json"] == modes["shard_00000.bin"], modes
    assert len(set(modes.values())) == 1, modes


def test_planted_near_duplicates_and_contamination_are_removed(built):
    world_dir, info, out, report = built
    web = report["steps"]["web"]
    assert 0.8 * info["planted_near_duplicates"] <= web["near_duplicates"]
    assert web["contaminated"] >= info["planted_contaminated"]
    tok = load_tokenizer(world_dir / "tokenizer")
    docs = [tok.decode(d[:-1]) for d in iter_documents(out)]
    questions = [r["question"] for r in _jsonl(world_dir / "problems/test.jsonl")]
    assert not any("Practice question of the day" in d for d in docs)
    joined = "\n".join(docs)
    assert not any(q in joined for q in questions)


def test_realised_mixture_is_within_2_percent(built):
    _, _, _, report = built
    for name, m in report["mixture"].items():
        assert abs(m["realised_share"] - m["requested_share"]) <= 0.02, name
    assert report["output"]["tokens"] == sum(m["realised_tokens"] for m in report["mixture"].values())
    assert report["mixture"]["web"]["epochs"] > 0


def test_shards_decode_back_to_the_exact_documents(built):
    world_dir, _, out, report = built
    tok = load_tokenizer(world_dir / "tokenizer")
    index = read_index(out)
    assert index["dtype"] == "uint16" and len(index["shards"]) >= 2
    expected = {r["text"] for r in _jsonl(world_dir / "web/hq.jsonl") + _jsonl(world_dir / "web/lq.jsonl")}
    expected |= {FORMATS["instruct"].document(r) for r in _jsonl(world_dir / "instruct/instructions.jsonl")}
    long_qa = {FORMATS["qa"].document(r) for r in _jsonl(world_dir / "qa/long_cot.jsonl")}
    docs = list(iter_documents(out))
    assert len(docs) == index["documents"]
    truncated = 0
    for ids in docs:
        assert ids[-1] == tok.eos_token_id
        text = tok.decode(ids[:-1])
        if text in expected or text in long_qa:
            continue
        assert len(ids) - 1 == 120 and any(q.startswith(text) for q in long_qa), text  # truncated to max_tokens
        truncated += 1
    assert truncated <= report["steps"]["qa"]["truncated"] * 10


def test_reader_fixed_length_resume_and_ranks(built):
    world_dir, _, out, _ = built
    tok = load_tokenizer(world_dir / "tokenizer")
    reader = ShardReader(out, seq_len=64, tokenizer=tok)
    first = reader.next_batch(4)
    assert first.shape == (4, 65)
    state = reader.state_dict()
    expected = reader.next_batch(4)
    resumed = ShardReader(out, seq_len=64)
    resumed.load_state_dict(state)
    assert np.array_equal(resumed.next_batch(4).numpy(), expected.numpy())
    # two ranks with batch B together read what one rank reads with batch 2B
    single = ShardReader(out, seq_len=64).next_batch(8)
    r0, r1 = ShardReader(out, 64, rank=0, world_size=2).next_batch(4), ShardReader(out, 64, rank=1, world_size=2).next_batch(4)
    assert sorted(map(tuple, single.tolist())) == sorted(map(tuple, r0.tolist() + r1.tolist()))
    # sequences tile the token stream: sequence i+1 starts where sequence i's inputs end
    assert np.array_equal(reader.sequence(1)[:1], reader.sequence(0)[-1:])
    other = train_tokenizer(["completely different text"] * 5, vocab_size=280)
    with pytest.raises(DataError, match="another tokenizer"):
        ShardReader(out, seq_len=64, tokenizer=other)


def _recipe_file(tmp_path, d):
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(d))
    return path


def test_bad_recipes_name_the_key(world, tmp_path):
    world_dir, _ = world
    d = recipe_dict(world_dir, tmp_path / "out")
    d["sources"][1]["weight"] = 0
    with pytest.raises(RecipeError, match=r"sources\.1\.weight: Input should be greater than 0"):
        load_recipe(_recipe_file(tmp_path, d), DataRecipe)
    d = recipe_dict(world_dir, tmp_path / "out", colour="blue")
    with pytest.raises(RecipeError, match="colour: unknown key; known keys: .*mixture"):
        load_recipe(_recipe_file(tmp_path, d), DataRecipe)
    # a misspelled section is named as what it is, with the key it was meant to be, not as the one missing
    d = recipe_dict(world_dir, tmp_path / "out")
    d["mixtur"] = d.pop("mixture")
    with pytest.raises(RecipeError, match="mixtur: unknown key; did you mean 'mixture'\\?"):
        load_recipe(_recipe_file(tmp_path, d), DataRecipe)
    d = recipe_dict(world_dir, tmp_path / "out")
    d["sources"][0]["wieght"] = 2
    with pytest.raises(RecipeError, match="sources.0.wieght: unknown key; did you mean 'weight'\\?"):
        load_recipe(_recipe_file(tmp_path, d), DataRecipe)
    result = runner.invoke(app, ["data", "build", str(_recipe_file(tmp_path, d))])
    assert result.exit_code == 1 and "wieght: unknown key" in result.output and "Traceback" not in result.output


def test_budget_larger_than_data_without_repetition(world, tmp_path):
    world_dir, _ = world
    d = recipe_dict(world_dir, tmp_path / "out", mixture={"tokens": 50_000_000, "repeat": False})
    with pytest.raises(DataError, match="allow repetition"):
        build(load_recipe(_recipe_file(tmp_path, d), DataRecipe))
    assert not (tmp_path / "out" / "index.json").exists()


def test_empty_source_and_missing_field(world, tmp_path):
    world_dir, _ = world
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    d = recipe_dict(world_dir, tmp_path / "out")
    d["sources"][2]["path"] = str(empty)
    with pytest.raises(DataError, match="empty.jsonl: source 'instruct' is empty"):
        build(load_recipe(_recipe_file(tmp_path, d), DataRecipe))

    broken = tmp_path / "qa.jsonl"
    broken.write_text(json.dumps({"question": "q", "answer": "1"}) + "\n" + json.dumps({"answer": "2"}) + "\n")
    d = recipe_dict(world_dir, tmp_path / "out2", on_bad_line="fail")
    d["sources"][1]["path"] = str(broken)
    with pytest.raises(DataError, match=r"source 'qa': .*qa.jsonl:2: field 'question' is missing"):
        build(load_recipe(_recipe_file(tmp_path, d), DataRecipe))
    d["on_bad_line"] = "skip"
    d["mixture"]["tokens"] = 5000
    # half the records bad: more than a source may lose unless the recipe allows it
    with pytest.raises(DataError, match=r"source 'qa': 1 of 2 records are bad input \(most: missing_field, 1; "
                                        r"e\.g\. .*qa.jsonl:2: field 'question' is missing\)"):
        build(load_recipe(_recipe_file(tmp_path, d), DataRecipe))
    d["sources"][1]["max_bad_share"] = 0.5
    report = build(load_recipe(_recipe_file(tmp_path, d), DataRecipe))
    assert report["steps"]["qa"]["missing_field"] == 1 and report["steps"]["qa"]["kept"] == 1
    assert "qa.jsonl:2: field 'question' is missing" in report["steps"]["qa"]["examples"]["missing_field"]
    assert any("source 'qa' repeated" in w for w in report["warnings"])
    assert "repeated" in (tmp_path / "out2" / "report.md").read_text()


def test_a_failed_rebuild_keeps_the_previous_shards_whole(built, tmp_path):
    world_dir, _, _, _ = built
    out = tmp_path / "out"
    d = recipe_dict(world_dir, out, mixture={"tokens": 5000, "repeat": True})
    build(load_recipe(_recipe_file(tmp_path, d), DataRecipe))
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert "index.json" in before
    d["sources"][2]["path"] = str(tmp_path / "missing.jsonl")
    with pytest.raises(DataError, match="missing.jsonl: source file not found"):
        build(load_recipe(_recipe_file(tmp_path, d), DataRecipe))
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_a_failed_build_leaves_no_partial_folder_and_a_text_file_named_parquet_is_named(world, tmp_path):
    world_dir, _ = world
    out = tmp_path / "shards"
    d = recipe_dict(world_dir, out, tokenizer=str(tmp_path / "no-tokenizer"))
    result = runner.invoke(app, ["data", "build", str(_recipe_file(tmp_path, d))])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert not (tmp_path / "shards.partial").exists() and not out.exists()

    fake = tmp_path / "web.parquet"
    fake.write_text('{"text": "a JSONL line in a file named .parquet"}\n')
    d = recipe_dict(world_dir, out)
    d["sources"][0]["path"] = str(fake)
    result = runner.invoke(app, ["data", "build", str(_recipe_file(tmp_path, d))])
    assert result.exit_code == 1 and f"{fake}: not a readable Parquet file" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and not out.exists()


def test_a_source_that_loses_most_of_its_records_is_said_aloud(world, tmp_path):
    """Issue 33, case 4: a source losing 90% of its records to near-duplicate removal and the overlong
    rule built with no warning (only bad input warned). Now a WARNING line naming each reason with an
    example, the data report's `losses` and warnings, and with --strict an error before any shard."""
    world_dir, _ = world
    corpus = tmp_path / "notes.jsonl"
    distinct = [f"note {i}: " + " ".join(f"w{i}x{j}" for j in range(30)) for i in range(10)]
    copies = ["the same note, copied over and over: " + " ".join(f"c{j}" for j in range(30))] * 80
    overlong = [" ".join(f"long{i}y{j}" for j in range(400)) for i in range(10)]
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in distinct + copies + overlong))
    d = {"name": "notes", "out": str(tmp_path / "out"), "tokenizer": str(world_dir / "tokenizer"),
         "sources": [{"name": "notes", "path": str(corpus), "weight": 1.0, "max_tokens": 200}],
         "mixture": {"tokens": 2000, "repeat": True}}
    path = _recipe_file(tmp_path, d)
    result = runner.invoke(app, ["data", "build", str(path)])
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if "WARNING: data source 'notes'" in ln)
    assert f"({corpus}): 89 of 100 dropped (89%, over the 50% allowed): near_duplicates 79 (e.g. {corpus}:" in line
    assert f"dropped_overlong 10 (e.g. {corpus}:91 (" in line
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["losses"]["notes"]["dropped"] == {"near_duplicates": 79, "dropped_overlong": 10}
    assert report["losses"]["notes"]["warning"] in report["warnings"]

    strict = runner.invoke(app, ["data", "build", str(path), "--strict"])
    error = strict.output.strip().splitlines()[-1]  # after the curation's progress lines
    assert strict.exit_code == 1 and strict.output.count("error") == 1, strict.output
    assert error.startswith("error: data source 'notes'") and "89 of 100 dropped" in error and "[strict" in error
    assert json.loads((tmp_path / "out" / "report.json").read_text()) == report  # the finished build kept
    d["sources"][0]["max_loss_share"] = 0.9
    quiet = runner.invoke(app, ["data", "build", str(_recipe_file(tmp_path, d)), "--strict"])
    assert quiet.exit_code == 0 and "WARNING: data source" not in quiet.output, quiet.output
