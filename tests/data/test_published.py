"""The packaged 1B recipe against corpora in their published schemas: the long branch is built from
verified-correct R1 traces and AM's assistant turns, a field pointed at the wrong column stops `octo run`
before any stage, and `octo data preview` shows what each source becomes."""

import pytest
from typer.testing import CliRunner

from octothinker.cli import app
from octothinker.data.formats import FORMATS
from octothinker.data.config import DataRecipe
from octothinker.data.pipeline import build
from octothinker.data.published import UNVERIFIED_SHARE, corpus_file, write_benchmarks, write_corpus, write_prompts, \
    write_seeds
from tests.shards import iter_documents
from octothinker.models import load_tokenizer
from octothinker.recipe import load_yaml
from octothinker.study.recipe import load_study

RECIPE = "octothinker/recipes/octothinker-1b.yaml"
runner = CliRunner()
ROWS = 200


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """Every input the 1B recipe reads, in the published schemas, in a folder to run it from."""
    from pathlib import Path

    recipe_path = Path(RECIPE).resolve()
    root = tmp_path_factory.mktemp("study")
    raw = load_yaml(recipe_path)
    for section in raw["data"].values():
        for src in section["sources"]:
            if not (root / corpus_file(src["path"])).exists():
                write_corpus(str(root / src["path"]), src["format"], ROWS, seed=0)
    q = raw["data"]["stable"]["quality"]
    write_seeds(str(root / q["positive"]), str(root / q["negative"]), 60, seed=0)
    write_prompts(str(root / raw["rl"]["prompts"]), 16, seed=0)
    write_benchmarks(root / "benchmarks", 8, seed=1)
    return root, recipe_path


def test_the_long_branch_is_built_from_verified_r1_traces_and_am_assistant_turns(corpora, world, monkeypatch):
    root, recipe_path = corpora
    world_dir, _ = world
    monkeypatch.chdir(root)
    study = load_study(recipe_path, [f"tokenizer={world_dir / 'tokenizer'}", "executor=local", "tasks=1", "workers=1",
                                     "mixture.tokens=400000"], "data.long")
    recipe: DataRecipe = study.data["long"].model_copy(update={"out": str(root / "long")})
    report = build(recipe)
    r1, am = report["steps"]["openr1-math"], report["steps"]["am-distilled"]
    assert r1["read"] == ROWS and r1["unverified"] == pytest.approx(ROWS * UNVERIFIED_SHARE, abs=12)
    assert r1["wrong_type"] == r1["missing_field"] == 0 and am["read"] == ROWS and am["unverified"] == 0
    assert "marks no trace correct" in r1["examples"]["unverified"]
    # the documents are the traces, tags made text, never the short reference solution or a list's repr
    tok = load_tokenizer(world_dir / "tokenizer")
    texts = [tok.decode(ids[:-1]) for ids in iter_documents(root / "long")]
    long_docs = [t for t in texts if t.startswith("Question:") and "let me" in t.lower()]
    assert long_docs and not any("<think>" in t or "['" in t for t in texts)
    assert report["steps"]["openr1-math"]["token_lengths"]["p50"] > 1000
    assert "QA share of the tokens: requested 30.0%" in (root / "long" / "report.md").read_text()


def test_a_field_pointed_at_the_wrong_column_stops_octo_run_before_any_stage(corpora, monkeypatch):
    root, recipe_path = corpora
    monkeypatch.chdir(root)
    result = runner.invoke(app, ["run", str(recipe_path), "data.long.sources.1.fields.traces=solution"])
    assert result.exit_code == 1
    line = result.output.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "data.long.sources.openr1-math (format openr1-math): 50 of the first 50 records are bad" in line
    assert "openr1-math-220k/part-00000.parquet#row1: field 'solution' is a str, not a list" in line
    assert not (root / "runs").exists()  # nothing ran, nothing was written
    plan = runner.invoke(app, ["run", str(recipe_path), "--plan", "data.short.sources.2.fields.question=prompt"])
    assert plan.exit_code == 1 and "field 'prompt' is missing" in plan.output


def test_preview_shows_each_source_of_a_branch(corpora, world, monkeypatch):
    root, recipe_path = corpora
    world_dir, _ = world
    monkeypatch.chdir(root)
    result = runner.invoke(app, ["data", "preview", str(recipe_path), f"data.long.tokenizer={world_dir / 'tokenizer'}",
                                 "--section", "data.long", "--records", "100"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "## openr1-math (format openr1-math: qa long, weight 0.15)" in out
    assert "rejected: unverified" in out and "final boxed answer: 100%" in out
    assert "## wildchat (format wildchat: instruct, weight 0.0033)" in out and "User: " in out
    assert "--- document 2" in out and "<think>" not in out
    bad = runner.invoke(app, ["data", "preview", str(recipe_path), "--section", "data.nope"])
    assert bad.exit_code == 1 and "no 'data.nope' section" in bad.output


def test_every_format_reads_its_own_published_rows():
    import random

    from octothinker.data.formats import RecordError
    from octothinker.data.published import record

    for name, fmt in FORMATS.items():
        for i in range(12):
            try:
                doc = fmt.document(record(name, random.Random(i), i))
            except RecordError as err:  # by design: OpenR1 rows whose traces math-verify marks all wrong
                assert name == "openr1-math" and err.reason == "unverified"
                continue
            assert doc and "['" not in doc and "<think>" not in doc, name
