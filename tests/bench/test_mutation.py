"""bench/mutation.sh at its smallest: one module (runs/seeds) against its own tests, each mutant's fate
read back and the module's kill ratio printed; an unknown module is refused."""

import importlib.util
import re

import pytest

from .runner import run

pytestmark = pytest.mark.bench

HAS_MUTMUT = importlib.util.find_spec("mutmut") is not None


@pytest.mark.skipif(not HAS_MUTMUT, reason="mutmut is not installed (pip install -e '.[mutation]')")
def test_one_module_against_its_tests_prints_its_kill_ratio_and_survivors(tmp_path):
    out = run("mutation.sh", "runs/seeds", cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.explain()
    # the module's line, then the same in the summary at the end
    found = re.findall(r"^runs/seeds +(\d+) of +(\d+) killed +(\d+\.\d)%  \(\d+ s; tests: tests/runs/test_seeds.py\)$",
                       out.stdout, re.M)
    assert len(found) == 2 and found[0] == found[1], out.stdout
    killed, total, ratio = int(found[0][0]), int(found[0][1]), float(found[0][2])
    assert total >= 5 and ratio == pytest.approx(round(100 * killed / total, 1))
    survivors = re.findall(r"^    not killed: (\S+): ([\w ]+)$", out.stdout, re.M)
    assert len(survivors) == total - killed and all(name.startswith("octothinker.runs.seeds.") for name, _ in survivors)


def test_an_unknown_module_is_refused(tmp_path):
    out = run("mutation.sh", "runs/nothing", cwd=tmp_path, timeout=60)
    assert out.returncode == 2 and "runs/nothing: unknown module" in (out.stderr + out.stdout), out.explain()
