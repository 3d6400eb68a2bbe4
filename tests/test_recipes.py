from pathlib import Path

import pytest

from octothinker.data.pipeline import DataRecipe
from octothinker.midtrain.stages import MidtrainRecipe
from octothinker.recipe import RecipeError, apply_overrides, load_recipe
from octothinker.study import load_study

RECIPES = Path(__file__).resolve().parents[1] / "octothinker" / "recipes"


def test_overrides():
    d = {"a": {"b": 1}, "l": [{"w": 1}]}
    apply_overrides(d, ["a.b=2.5", "a.c=true", "l.0.w=3", "new.key=[1, 2]"])
    assert d == {"a": {"b": 2.5, "c": True}, "l": [{"w": 3}], "new": {"key": [1, 2]}}
    with pytest.raises(RecipeError, match="not of the form"):
        apply_overrides(d, ["nonsense"])


@pytest.mark.parametrize("section", ["stable", "short", "long", "hybrid"])
def test_packaged_3b_recipe_data_sections_validate(section):
    recipe = load_study(RECIPES / "octothinker-3b.yaml").data[section]
    assert recipe.mixture.tokens in (200_000_000_000, 20_000_000_000)
    assert recipe.out == f"runs/octothinker-3b/data/{section}"  # filled in under the study's `out`


def test_packaged_3b_recipe_midtrain_follows_the_paper():
    m = load_study(RECIPES / "octothinker-3b.yaml").midtrain
    assert m.stable.tokens == 200_000_000_000 and m.stable.lr == 2e-5
    assert m.train.global_batch_tokens == 4 * 1024 * 1024 and m.train.seq_len == 8192
    assert set(m.decay.branches) == {"short", "long", "hybrid"} and m.decay.tokens == 20_000_000_000


def test_packaged_synthetic_recipe_validates():
    assert load_recipe(RECIPES / "synthetic-stable.yaml", DataRecipe).mixture.tokens == 400_000


def test_missing_section_and_bad_yaml(tmp_path):
    with pytest.raises(RecipeError, match="no 'data.nope' section"):
        load_recipe(RECIPES / "octothinker-3b.yaml", DataRecipe, section="data.nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\nb: 3\n")
    with pytest.raises(RecipeError, match=r"bad.yaml:\d+: invalid YAML"):
        load_recipe(bad, DataRecipe)


@pytest.mark.parametrize("name", ["octothinker-1b.yaml", "octothinker-3b.yaml", "demo.yaml"])
def test_packaged_study_recipes_validate(name):
    from octothinker.study import plan

    study = load_study(RECIPES / name)
    assert study.rl.steps > 0 and study.rl.out is None
    names = [s.name for s in plan(study)]
    assert names[-1] == "report" and "stable" in names and any(n.startswith("rl-") for n in names)
