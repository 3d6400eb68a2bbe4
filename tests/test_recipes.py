from pathlib import Path

import pytest

from octothinker.data.pipeline import DataRecipe
from octothinker.midtrain.stages import MidtrainRecipe
from octothinker.recipe import RecipeError, apply_overrides, load_recipe

RECIPES = Path(__file__).resolve().parents[1] / "octothinker" / "recipes"


def test_overrides():
    d = {"a": {"b": 1}, "l": [{"w": 1}]}
    apply_overrides(d, ["a.b=2.5", "a.c=true", "l.0.w=3", "new.key=[1, 2]"])
    assert d == {"a": {"b": 2.5, "c": True}, "l": [{"w": 3}], "new": {"key": [1, 2]}}
    with pytest.raises(RecipeError, match="not of the form"):
        apply_overrides(d, ["nonsense"])


@pytest.mark.parametrize("section", ["data.stable", "data.short", "data.long", "data.hybrid"])
def test_packaged_3b_recipe_data_sections_validate(section):
    recipe = load_recipe(RECIPES / "octothinker-3b.yaml", DataRecipe, section=section)
    assert recipe.mixture.tokens in (200_000_000_000, 20_000_000_000)


def test_packaged_3b_recipe_midtrain_follows_the_paper():
    m = load_recipe(RECIPES / "octothinker-3b.yaml", MidtrainRecipe, section="midtrain")
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
    from octothinker.rl.trainer import RLConfig
    from octothinker.study import StudyRecipe, plan

    study = load_recipe(RECIPES / name, StudyRecipe)
    RLConfig.model_validate({**study.rl, "out": "x"})
    names = [s.name for s in plan(study)]
    assert names[-1] == "report" and "stable" in names and any(n.startswith("rl-") for n in names)
