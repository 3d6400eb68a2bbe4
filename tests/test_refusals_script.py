"""scripts/refusals.py: every refusal read from the source, and the README's list of them current."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "refusals.py"


def test_the_readme_lists_every_refusal_as_the_source_says_it():
    result = subprocess.run([sys.executable, str(SCRIPT), "--check", str(REPO / "README.md")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_refusal_added_to_the_source_is_found(tmp_path):
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import refusals
    finally:
        sys.path.pop(0)
    package = tmp_path / "octothinker"
    package.mkdir()
    (package / "errors.py").write_text("class OctoError(Exception): ...\nclass DataError(OctoError): ...\n")
    (package / "reader.py").write_text(
        "from pydantic import field_validator\n"
        "def read(path, where, err):\n"
        "    raise DataError(f'{path}: no records in the file')\n"
        "    raise DataError(f'{where}: {err}')\n"            # passes another's message on: not listed twice
        "    raise KeyError('internal')\n"                     # not ours: a bug, not a refusal
        "class Spec:\n"
        "    @field_validator('x')\n"
        "    def _x(cls, x):\n"
        "        raise ValueError(f'x: {x} is not a size')\n")
    assert refusals.refusals(package) == [("reader", "{path}: no records in the file"), ("reader", "x: {x} is not a size")]
