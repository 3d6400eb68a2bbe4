import pytest
from typer.testing import CliRunner

from octothinker.cli import app

runner = CliRunner()


def test_help_lists_every_command_of_the_design():
    import typer

    group = typer.main.get_command(app)
    assert set(group.commands) == {"data", "midtrain", "rl", "eval", "probe", "report", "run", "demo"}
    assert set(group.commands["data"].commands) == {"build", "preview", "synth"}
    assert set(group.commands["eval"].commands) == {"run", "score", "prompts"}
    result = runner.invoke(app, ["--help"])
    listed = {line.split()[1] for line in result.output.splitlines() if line.startswith("│ ") and len(line.split()) > 2}
    assert result.exit_code == 0 and set(group.commands) <= listed
    for command in (["data", "build"], ["data", "synth"], ["eval", "score"], ["eval", "prompts"], ["midtrain"], ["rl"], ["run"]):
        help_run = runner.invoke(app, [*command, "--help"])
        assert help_run.exit_code == 0 and "Usage:" in help_run.output


def test_bad_paths_are_one_line_errors(tmp_path):
    for args, message in [(["report", str(tmp_path / "none")], "run directory not found"),
                          (["run", str(tmp_path / "none.yaml")], "recipe not found"),
                          (["midtrain", str(tmp_path / "none.yaml")], "recipe not found"),
                          (["data", "build", str(tmp_path / "none.yaml")], "recipe not found")]:
        result = runner.invoke(app, args)
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_os_errors_are_one_line_and_output_is_checked_before_the_model_loads(tmp_path, micro_model_dir,
                                                                            benchmarks_dir, monkeypatch):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be")
    loads = []
    monkeypatch.setattr("octothinker.eval.generation.make_generator", lambda *a, **k: loads.append(a))
    result = runner.invoke(app, ["eval", str(micro_model_dir), "--benchmarks", "gsm8k", "--limit", "1",
                                 "--data-dir", str(benchmarks_dir), "--out", str(blocked / "out")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{blocked / 'out'}: output folder is not writable" in result.output
    assert loads == []  # refused before the model was loaded
    synth = runner.invoke(app, ["data", "synth", str(blocked / "world")])
    assert synth.exit_code == 1 and "not writable" in synth.output and len(synth.output.strip().splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (["--problems", "-5"], "problems: Input should be greater than or equal to 1"),
    (["--max-steps", "0"], "max_steps"),
    (["--min-steps", "3", "--max-steps", "2"], "max_steps must be at least min_steps"),
    (["--vocab-size", "10"], "vocab_size"),
])
def test_nonsense_world_sizes_are_refused(tmp_path, args, message):
    result = runner.invoke(app, ["data", "synth", str(tmp_path / "w"), *args])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "w").exists()


def test_names_never_reach_outside_the_output_folder(tmp_path, benchmarks_dir, micro_model_dir):
    from octothinker.errors import OctoError, check_name

    for bad in ("../../x", "a/b", "..", ".hidden", "", "x" * 200):
        with pytest.raises(OctoError):
            check_name(bad, "name")
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "1+1?", "answer": "2"}\n')
    result = runner.invoke(app, ["eval", str(micro_model_dir), "--benchmarks", f"../../escape={questions}",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "benchmark label '../../escape'" in result.output
    assert not (tmp_path.parent / "escape.jsonl").exists()


def test_no_network_unless_asked(tmp_path, monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the network was reached without being asked for")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    result = runner.invoke(app, ["eval", "some-org/some-model", "--benchmarks", "gsm8k", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "benchmark file not found" in result.output
    (tmp_path / "gsm8k").mkdir()
    (tmp_path / "gsm8k" / "test.jsonl").write_text('{"question": "q", "answer": "1"}\n')
    result = runner.invoke(app, ["eval", "some-org/some-model", "--benchmarks", "gsm8k", "--data-dir", str(tmp_path),
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "model path does not exist (to download it" in result.output


@pytest.mark.parametrize("args, message", [
    (["eval", "run", "MODEL", "--template", "chat"], "--template chat is a zero-shot prompt"),
    (["eval", "prompts", "--template", "simple"], "--template simple is a zero-shot prompt"),
    (["eval", "run", "MODEL", "--mode", "zero-shot", "--fewshot-file", "ex.jsonl"], "--fewshot-file is for --mode few-shot"),
    (["eval", "prompts", "--mode", "zero-shot", "--fewshot-file", "ex.jsonl"], "--fewshot-file is for --mode few-shot"),
    (["eval", "run", "MODEL", "--n", "4"], "--n 4 with --temperature 0 decodes the same greedy answer 4 times"),
])
def test_contradictory_options_are_refused_before_any_work(tmp_path, monkeypatch, args, message):
    """Each row of cli.CONFLICTS: one line, a usage error, nothing written, the model never looked for."""
    from octothinker.cli import CONFLICTS

    assert len(CONFLICTS) == 3  # a new row of the table gets its case here
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and result.output.startswith("error: ")
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
