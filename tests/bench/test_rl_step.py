"""bench/rl_step.py, our GRPO step against TRL's GRPOTrainer: with TRL it prints the ratio; without it it
says "not installed"; and a broken import of ours is an error, never "TRL: not installed"."""

import importlib.util

import pytest

from .runner import Runs, imports_of_ours, line, ratio_within_rounding

pytestmark = pytest.mark.bench

# the least its options allow: the micro model, 1 prompt x 2 rollouts of 4 tokens, 2 steps (the first
# pays one-off costs and is left out of the times, so there must be a second)
TOY = ("--size", "micro", "--steps", "2", "--prompts", "1", "--group", "2", "--length", "4")
HEADER = r"model micro \| 1 prompts x 2 rollouts, 4 new tokens \| 2 steps \| torch threads \d+"
OURS = r"octothinker GRPO step +(\d+\.\d\d) s/step +rollout (\d+) tokens/s +mean response (\d+) tokens"
NOT_INSTALLED = "TRL: not installed (pip install trl), not compared"
HAS_TRL = importlib.util.find_spec("trl") is not None
# a function of ours renamed: the first name the script imports from us (at the top, else anywhere) taken away
BROKEN = next(iter(imports_of_ours("rl_step.py", top_level_only=True) or imports_of_ours("rl_step.py")), None)


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    runs = Runs(request, tmp_path_factory, {
        **({"test_against_trl_it_prints_both_times_and_their_ratio": ("rl_step.py", TOY, {})} if HAS_TRL else {}),
        "test_without_trl_it_times_ours_and_says_not_installed": ("rl_step.py", TOY, {"blocked": ("trl",)}),
        **({"test_a_broken_import_of_ours_is_an_error_not_a_missing_trl": ("rl_step.py", TOY, {"broken": (BROKEN,)})}
           if BROKEN else {}),
    })
    yield runs
    runs.close()


def test_against_trl_it_prints_both_times_and_their_ratio(runs):
    if not HAS_TRL:
        pytest.skip("TRL is not installed (pip install -e '.[bench]'): no comparison to run")
    out = runs.result("test_against_trl_it_prints_both_times_and_their_ratio")
    assert out.returncode == 0, out.explain()
    assert "not installed" not in out.stdout + out.stderr
    line(out.stdout, HEADER)
    ours = float(line(out.stdout, OURS)[1])
    trl = float(line(out.stdout, r"TRL GRPOTrainer +(\d+\.\d\d) s/step")[1])
    ratio = float(line(out.stdout, r"speed-up: (\d+\.\d\d)x")[1])
    assert ratio > 0 and ratio_within_rounding(ratio, trl, ours, 0.005, 0.005), out.stdout
    order = [next(i for i, x in enumerate(out.stdout.splitlines()) if x.startswith(start))
             for start in ("octothinker GRPO step", "TRL GRPOTrainer", "speed-up")]
    assert order == sorted(order), out.stdout


def test_without_trl_it_times_ours_and_says_not_installed(runs):
    out = runs.result("test_without_trl_it_times_ours_and_says_not_installed")  # TRL blocked, installed or not
    assert out.returncode == 0, out.explain()
    line(out.stdout, HEADER)
    seconds, tokens_per_s, mean_length = line(out.stdout, OURS).groups()
    assert float(seconds) >= 0 and int(tokens_per_s) > 0 and 1 <= int(mean_length) <= 4  # at most --length
    assert out.stdout.count(NOT_INSTALLED) == 1 and out.stdout.rstrip().endswith(NOT_INSTALLED)
    assert "speed-up" not in out.stdout and "TRL GRPOTrainer" not in out.stdout


def test_a_broken_import_of_ours_is_an_error_not_a_missing_trl(runs):
    assert BROKEN, "bench/rl_step.py imports nothing of ours"
    out = runs.result("test_a_broken_import_of_ours_is_an_error_not_a_missing_trl")
    module, name = BROKEN
    assert out.returncode != 0, out.explain()
    assert f"ImportError: cannot import name '{name}' from '{module}'" in out.stderr, out.explain()
    assert "not installed" not in out.stdout + out.stderr
    assert "octothinker GRPO step" not in out.stdout  # it stopped before timing anything
