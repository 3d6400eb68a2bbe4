import pytest
from typer.testing import CliRunner

from octothinker.cli import app

runner = CliRunner()


def test_help_lists_every_command_of_the_design():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("data", "midtrain", "rl", "eval", "probe", "report", "run", "demo"):
        assert command in result.output


@pytest.mark.parametrize("args", [["midtrain", "r.yaml"], ["rl", "r.yaml"], ["probe", "m"], ["report", "d"],
                                  ["run", "r.yaml"], ["demo"], ["data", "build", "r.yaml"], ["data", "synth", "o"]])
def test_unbuilt_commands_say_so_and_exit_2(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "not built yet" in result.output
