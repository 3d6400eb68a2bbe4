from pathlib import Path

import pytest

from octothinker.data.config import DataRecipe
from octothinker.recipe import RecipeError, apply_overrides, load_recipe
from octothinker.study.recipe import load_study

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


@pytest.mark.parametrize("name", ["octothinker-1b.yaml", "octothinker-3b.yaml", "octothinker-8b.yaml", "demo.yaml",
                                  "demo-arms.yaml"])
def test_packaged_study_recipes_validate(name):
    from octothinker.study.planning import plan

    study = load_study(RECIPES / name)
    assert study.rl.steps > 0 and study.rl.out is None
    names = [s.name for s in plan(study)]
    assert names[-1] == "report" and "stable" in names and any(n.startswith("rl-") for n in names)


@pytest.mark.parametrize("override, message", [
    ("mixture.tokens.x=1", "mixture.tokens is a value"),
    ("sources.9.weight=1", "sources is a list of 1 items; '9' is not an index"),
    ("sources.w.weight=1", "'w' is not an index"),
    ("x=[1", "the value is not valid YAML"),
    ("a..b=1", "empty key"),
    ("justtext", "not of the form key.path=value"),
])
def test_override_edge_cases_are_one_line_errors(override, message):
    d = {"mixture": {"tokens": 5}, "sources": [{"weight": 1}]}
    with pytest.raises(RecipeError, match=message):
        apply_overrides(d, [override])


def test_overrides_are_relative_to_the_section_and_placeholders_follow_out(tmp_path):
    from octothinker.cli import app
    from typer.testing import CliRunner

    data = load_study(RECIPES / "demo.yaml", ["mixture.tokens=1234"], section="data.stable").data["stable"]
    assert data.mixture.tokens == 1234
    moved = load_study(RECIPES / "demo.yaml", [f"out={tmp_path / 'other'}"])
    assert moved.data["stable"].out == f"{tmp_path / 'other'}/data/stable"
    assert moved.rl.prompts == f"{tmp_path / 'other'}/world/problems/train.jsonl"
    assert str(moved.main_line(0, Path(moved.out)).path("long")) == f"{tmp_path / 'other'}/decay-long/final"
    for args in (["rl", str(RECIPES / "demo.yaml"), "steps=abc", "--policy", "x"],
                 ["run", str(RECIPES / "demo.yaml"), "rl.stepz=3"],
                 ["run", str(RECIPES / "demo.yaml"), "rl.steps=abc"],
                 ["data", "build", str(RECIPES / "demo.yaml"), "--section", "data.stable", "sources.9.weight=1"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_extends_merges_the_child_over_its_parent(tmp_path):
    (tmp_path / "parent.yaml").write_text("name: p\nout: runs/p\nrl: {steps: 5, lr: 0.1}\nlist: [1, 2]\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "child.yaml").write_text("extends: ../parent.yaml\nname: c\nrl: {steps: 7}\nlist: [3]\n")
    from octothinker.recipe import read_recipe

    data = read_recipe(sub / "child.yaml", ["rl.lr=0.2"])
    assert data == {"name": "c", "out": "runs/p", "rl": {"steps": 7, "lr": 0.2}, "list": [3]}
    (tmp_path / "parent.yaml").write_text("extends: sub/child.yaml\n")
    with pytest.raises(RecipeError, match="comes back to this file"):
        read_recipe(sub / "child.yaml")
    (sub / "child.yaml").write_text("extends: [a, b]\n")
    with pytest.raises(RecipeError, match="extends: the path of one recipe file"):
        read_recipe(sub / "child.yaml")


def test_arms_recipe_is_the_demo_plus_arms():
    demo, arms = load_study(RECIPES / "demo.yaml"), load_study(RECIPES / "demo-arms.yaml")
    assert arms.midtrain == demo.midtrain and arms.rl == demo.rl and arms.rl_from == [*demo.rl_from, "stable"]
    assert {a.claim for a in arms.arms.values()} == {"qa", "template", "schedule", "qa-share", "quality", "budget",
                                                     "instruct", "instruct-frame", "qwen"}
    # the RL-only arms (C7) change RL alone, and so share every model with the demo
    assert arms.rl_for("stair/long").response_length(0) == 96 and arms.rl_for("bare/long").template == "{question}\n"
    from octothinker.study.planning import plan

    names = {s.name for s in plan(arms)}
    assert {"bare/rl-long", "stair/rl-long", "rl-stable", "web-only/stable", "qa-30/decay-short"} <= names
    assert not {n for n in names if n.startswith(("bare/", "stair/")) and "decay" in n}
    with pytest.raises(RecipeError, match="arms.qa-10: a qa-share arm needs `value` and `compare_value`"):
        load_study(RECIPES / "demo-arms.yaml", ["arms.qa-10.compare_value=null"])
    # an arm is measured against a main model or another arm's (framed-instruct against no-instruct/short)
    assert arms.arms["framed-instruct"].compare == "no-instruct/short"
    with pytest.raises(RecipeError, match="arms.framed-instruct.compare: 'nowhere/short' is not a model of this study, nor of an arm"):
        load_study(RECIPES / "demo-arms.yaml", ["arms.framed-instruct.compare=nowhere/short"])


def test_an_override_of_one_use_of_a_yaml_anchor_leaves_the_others(tmp_path):
    """The 1B/3B recipes share their curation settings between data sections with `<<: *curation`."""
    study = load_study(RECIPES / "octothinker-1b.yaml", ["data.stable.cluster.partition=big", "data.short.tasks=8"])
    assert study.data["stable"].cluster.partition == "big" and study.data["long"].cluster.partition == "cpu"
    assert study.data["short"].tasks == 8 and study.data["hybrid"].tasks == 256
    assert study.data["stable"].executor == "slurm" and study.data["stable"].dedup.buckets == 11


@pytest.mark.parametrize("name", ["octothinker-1b.yaml", "octothinker-3b.yaml"])
def test_each_branch_runs_rl_with_the_releases_own_settings(name):
    from octothinker.rl.verl import segments
    from octothinker.study.planning import plan

    study = load_study(RECIPES / name)
    # GAIR-NLP/OctoThinker rl/scripts: llama_3b_long.sh the stair, llama_3b_hybrid.sh a flat 4,096
    assert study.rl_for("long").length_schedule == {0: 2048, 100: 4096, 160: 8192}
    assert study.rl_for("hybrid").length_schedule == {0: 4096}   # replaced, not merged into the stair
    assert study.rl_for("hybrid").prompts_per_step == study.rl.prompts_per_step == 256
    assert [length for _, length in segments(study.rl_for("hybrid"))] == [4096]
    assert [length for _, length in segments(study.rl_for("long"))] == [2048, 4096, 8192]
    stages = {s.name: s for s in plan(study)}
    assert stages["rl-hybrid"].settings["rl"].length_schedule == {0: 4096}
    assert stages["rl-long"].settings["rl"].length_schedule == {0: 2048, 100: 4096, 160: 8192}
    # each branch's steps as the release's logged curves end (report/reference_data)
    steps = {"octothinker-1b.yaml": {"base": 876, "short": 876, "long": 196, "hybrid": 692},
             "octothinker-3b.yaml": {"base": 224, "short": 604, "long": 300, "hybrid": 668}}[name]
    for model, count in steps.items():
        rl = stages[f"rl-{model}"].settings["rl"]
        assert rl.steps == count
        # the fork's easy-prompt filter keeps every prompt whose pass ratio is <= 1.0: it removes nothing
        assert rl.remove_solved is False and "solved prompts removed" not in stages[f"rl-{model}"].work.budget
        # its template, stop strings, prompt-length margin, optimiser, reward and validation grading
        assert rl.template == "release:orz_base" and rl.stop == ["User:", "Assistant:", "Question:", "Answer:"]
        assert (rl.max_prompt_tokens, rl.prompt_margin) == (400, 20)
        assert (rl.lr, rl.weight_decay, rl.grad_clip, rl.kl_coef) == (1e-6, 0.01, 1.0, 0.0)
        assert (rl.reward.scheme, rl.reward.variant) == ("pm1", "default")
        assert (rl.eval.every, rl.eval.temperature, rl.eval.grader) == (4, 0.0, "reward")


@pytest.mark.parametrize("name", ["octothinker-1b.yaml", "octothinker-3b-released.yaml"])
def test_a_release_template_needs_a_release_copy_before_anything_runs(name, tmp_path, release_copy):
    from octothinker.study.planning import plan
    from octothinker.study.planning import check_templates

    study = load_study(RECIPES / name, [f"out={tmp_path / 'run'}"])   # loads: data sections need no copy
    with pytest.raises(RecipeError, match=r"rl.template release:orz_base: .*name one \(release_dir=PATH\)"):
        check_templates(study, name)
    study = load_study(RECIPES / name, [f"out={tmp_path / 'run'}", f"release_dir={release_copy}"])
    assert study.rl_for("long").prompt_template().render("Q?").endswith("\nQ?\nAssistant:")
    stages = plan(study)
    # the evaluations run the release harness from that copy: it is in their settings and inputs
    evals = [s for s in stages if s.name.startswith("eval-")]
    assert evals and all(s.settings["release_dir"] == str(release_copy) for s in evals)
    assert all(dict(s.inputs)["release_dir"] == str(release_copy) for s in evals)


def test_per_model_rl_settings_are_checked_and_change_only_their_model(tmp_path):
    from octothinker.runs.engine import fingerprint
    from octothinker.study.planning import plan

    path = RECIPES / "octothinker-1b.yaml"
    with pytest.raises(RecipeError, match=r"rl_per_model.mystery: not a model RL starts from"):
        load_study(path, ["rl_per_model.mystery.steps=3"])
    with pytest.raises(RecipeError, match=r"rl_per_model.hybrid.steps: Input should be a valid integer"):
        load_study(path, ["rl_per_model.hybrid.steps=many"])
    with pytest.raises(RecipeError, match=r"rl_per_model.hybrid.stepz: Extra inputs"):
        load_study(path, ["rl_per_model.hybrid.stepz=3"])

    def keys(study):
        stages = plan(study)
        made = {}
        for s in stages:
            if not s.name.startswith(("data.", "stable", "decay-")):
                made[s.name] = fingerprint(s, {**made, **{d: "" for d in s.depends if d not in made}}, [])
        return made

    before, after = keys(load_study(path)), keys(load_study(path, ["rl_per_model.hybrid.lr=2e-6"]))
    assert {k for k in before if before[k] != after[k]} == {"rl-hybrid", "eval-rl-hybrid", "report"}


def test_a_template_file_and_exemplars_file_are_inputs_of_the_stages_that_read_them(tmp_path):
    from octothinker.study.planning import plan

    template = tmp_path / "orz.txt"
    template.write_text("User: {question}\nAssistant:")
    exemplars = tmp_path / "shots.jsonl"
    exemplars.write_text('{"question": "1+1?", "solution": "1+1=2.", "answer": "2"}\n')
    study = load_study(RECIPES / "octothinker-1b.yaml", [f"rl.template={template}", f"eval.fewshot_file={exemplars}"])
    stages = {s.name: s for s in plan(study)}
    assert ("rl.template", str(template)) in stages["rl-long"].inputs
    assert ("rl.template", str(template)) in stages["eval-rl-long"].inputs
    assert ("eval.fewshot_file", str(exemplars)) in stages["eval-long"].inputs   # edited: the stage re-runs


def test_the_1b_plan_measures_what_the_claims_need():
    from octothinker.study.planning import plan

    names = {s.name for s in plan(load_study(RECIPES / "octothinker-1b.yaml"))}
    # the paper's base-model table (base and stable, before RL) and RL from the base as from each branch
    assert {"eval-base", "eval-stable", "rl-base", "eval-rl-base", "rl-short", "rl-long", "rl-hybrid"} <= names
    assert "rl-stable" not in names and "probe-stable" not in names
    # finding (g) on request: Qwen2.5 of the nearest size, RL-trained alike and compared with the base
    study = load_study(RECIPES / "octothinker-1b.yaml", ["rl_from=[base,short,long,hybrid,qwen]", "qwen=qwen"])
    rl_qwen = {s.name: s for s in plan(study)}["rl-qwen"]
    assert dict(rl_qwen.inputs)["rl_from"] == "hf:Qwen/Qwen2.5-1.5B" and rl_qwen.settings["rl"].length_schedule == \
        study.rl.length_schedule
    with pytest.raises(RecipeError, match="qwen: 'qwen' is compared with `base` under RL, so both must be in rl_from"):
        load_study(RECIPES / "octothinker-1b.yaml", ["qwen=qwen"])
    with pytest.raises(RecipeError, match="eval_from: 'long' is not a model of this study, or RL starts from it"):
        load_study(RECIPES / "octothinker-1b.yaml", ["eval_from=[long]"])


@pytest.mark.parametrize("size, models, steps", [
    ("1b", ["base", "short", "long", "hybrid"], {"base": 876, "short": 876, "long": 196, "hybrid": 692, "qwen": 876}),
    ("3b", ["base", "short", "long", "hybrid"], {"base": 224, "short": 604, "long": 300, "hybrid": 668, "qwen": 300}),
    ("8b", ["base", "long", "hybrid"], {"base": 224, "long": 300, "hybrid": 668, "qwen": 300})])
def test_released_models_recipes_plan_rl_and_evaluation_from_the_released_bases(size, models, steps):
    from octothinker.study.planning import plan

    study = load_study(RECIPES / f"octothinker-{size}-released.yaml")
    stages = {s.name: s for s in plan(study)}
    assert not any(name.startswith(("data.", "stable", "decay-")) for name in stages)   # no mid-training
    for model in models:
        source = dict(stages[f"rl-{model}"].inputs)["rl_from"]
        if model == "base":
            assert source.startswith("hf:meta-llama/Llama-3.")
        else:
            assert source == f"hf:OctoThinker/OctoThinker-{size.upper()}-{model.capitalize()}-Base"
        assert dict(stages[f"eval-{model}"].inputs)["rl_from"] == source   # the base-model table
        assert f"eval-rl-{model}" in stages
        assert stages[f"rl-{model}"].settings["rl"].steps == steps[model]
        assert not stages[f"rl-{model}"].settings["rl"].remove_solved
    assert stages["rl-qwen"].settings["rl"].steps == steps["qwen"]
    assert stages["rl-hybrid"].settings["rl"].length_schedule == {0: 4096}
    assert stages["rl-long"].settings["rl"].length_schedule == {0: 2048, 100: 4096, 160: 8192}
    assert study.reference == (None if size == "8b" else f"octothinker-{size}")


def test_the_zero_recipe_evaluates_the_released_rl_models_and_trains_nothing():
    from octothinker.study.planning import plan

    stages = plan(load_study(RECIPES / "octothinker-zero.yaml"))
    sources = sorted(dict(s.inputs)["rl_from"] for s in stages if s.name != "report")
    assert sources == sorted(f"hf:OctoThinker/OctoThinker-{size}-{kind}-Zero"
                             for size in ("1B", "3B") for kind in ("Short", "Long", "Hybrid"))
    assert all(s.settings["mode"] == "zero-shot" and len(s.settings["eval"].benchmarks) == 13
               for s in stages if s.name != "report")


def test_the_demo_trains_alone_and_runs_the_rest_two_at_a_time():
    from octothinker.study.planning import plan

    threads = {s.name: s.threads for s in plan(load_study(RECIPES / "demo.yaml"))}
    alone = ("base", "stable", "decay-short", "decay-long", "decay-hybrid")
    assert {n: threads[n] for n in alone} == dict.fromkeys(alone, 2)
    side_by_side = ("world", "data.stable", "probe-base", "rl-base", "rl-hybrid", "eval-rl-long", "report")
    assert {n: threads[n] for n in side_by_side} == dict.fromkeys(side_by_side, 1)
    assert {s.threads for s in plan(load_study(RECIPES / "demo.yaml", ["jobs=1"]))} == {2}


def test_the_arms_recipe_shares_every_stage_of_the_demo():
    """`demo-arms.yaml` skips every stage it has in common with the demo run in the same folder: each is
    the same stage (settings, threads, inputs) in both plans."""
    from octothinker.runs.engine import fingerprint
    from octothinker.study.planning import plan

    def keys(recipe):
        stages, made = plan(load_study(RECIPES / recipe, ["seeds=[0,1,2]", "per_seed=rl"])), {}
        for stage in stages:
            made[stage.name] = fingerprint(stage, made, stages)
        return made

    demo, arms = keys("demo.yaml"), keys("demo-arms.yaml")
    shared = set(demo) - {"report"}
    assert shared <= set(arms) and {"decay-long", "seed-2/rl-long", "data.short"} <= shared
    assert {n for n in shared if demo[n] != arms[n]} == set()
