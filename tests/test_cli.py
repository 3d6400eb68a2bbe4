from typer.testing import CliRunner

from octothinker.cli import app

runner = CliRunner()


def test_help_lists_every_command_of_the_design():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("data", "midtrain", "rl", "eval", "probe", "report", "run", "demo"):
        assert command in result.output
    for command in (["data", "build"], ["data", "synth"], ["eval", "score"], ["midtrain"], ["rl"], ["run"]):
        assert runner.invoke(app, [*command, "--help"]).exit_code == 0


def test_bad_paths_are_one_line_errors(tmp_path):
    for args, message in [(["report", str(tmp_path / "none")], "run directory not found"),
                          (["run", str(tmp_path / "none.yaml")], "recipe not found"),
                          (["midtrain", str(tmp_path / "none.yaml")], "recipe not found"),
                          (["data", "build", str(tmp_path / "none.yaml")], "recipe not found")]:
        result = runner.invoke(app, args)
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
