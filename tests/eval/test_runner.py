import json

import pytest
from typer.testing import CliRunner

from octothinker.cli import app
from octothinker.errors import OctoError
from octothinker.eval.generation import Completion, HFGenerator, SamplingParams, cut_at_stop
from octothinker.eval.runner import EvalConfig, evaluate
from octothinker.runs import read_jsonl as read_records

runner = CliRunner()


class ScriptedGenerator:
    """Returns fixed completions: lets the loop, resume and metrics be checked without a model."""

    def __init__(self, answer_for):
        self.answer_for = answer_for
        self.calls = 0

    def generate(self, prompts, params, on_batch=None):
        self.calls += 1
        return [[Completion(self.answer_for(p, s), 5, "stop") for s in range(params.n)] for p in prompts]


def test_cut_at_stop():
    assert cut_at_stop("The answer is 4.\n\nQ: next", ("\nQ:", "\n\n")) == ("The answer is 4.", True)
    assert cut_at_stop("no stop", ("\n\n",)) == ("no stop", False)


def test_loop_grades_and_resumes(tmp_path, benchmarks_dir):
    golds = {}
    from octothinker.tasks.benchmarks import load_problems

    for p in load_problems("gsm8k", benchmarks_dir, limit=6):
        golds[p.question] = p.gold

    def answer(prompt, sample):
        question = prompt.rsplit("Q: ", 1)[1].rsplit("\nA:", 1)[0]
        return f" The answer is {golds[question] if sample == 0 else -1}."

    cfg = EvalConfig(model="scripted", benchmarks=["gsm8k"], data_dir=str(benchmarks_dir), limit=6, n=2,
                     temperature=1.0, out=str(tmp_path / "out"), batch_size=4)
    gen = ScriptedGenerator(answer)
    summary = evaluate(cfg, gen)["gsm8k"]
    assert summary["accuracy"] == pytest.approx(50.0)
    assert summary["pass@2"] == pytest.approx(100.0)
    records = read_records(tmp_path / "out" / "gsm8k.jsonl")
    assert len(records) == 12
    assert {"id", "sample", "prompt", "completion", "extracted", "gold", "correct", "response_tokens"} <= set(records[0])

    # A torn last line (a kill mid-write) is dropped and only that sample is redone.
    path = tmp_path / "out" / "gsm8k.jsonl"
    path.write_bytes(path.read_bytes()[:-20])
    gen2 = ScriptedGenerator(answer)
    evaluate(cfg, gen2)
    assert gen2.calls == 1
    assert len(read_records(path)) == 12
    gen3 = ScriptedGenerator(answer)
    evaluate(cfg, gen3)
    assert gen3.calls == 0  # everything was done

    summary_md = (tmp_path / "out" / "summary.md").read_text()
    assert "| gsm8k | 6 | 50.0 |" in summary_md
    saved = json.loads((tmp_path / "out" / "config.json").read_text())
    assert saved["config"]["n"] == 2 and "git_revision" in saved


def test_other_settings_are_not_mixed_into_an_output_folder(tmp_path, benchmarks_dir):
    cfg = EvalConfig(model="scripted", benchmarks=["gsm8k"], data_dir=str(benchmarks_dir), limit=2,
                     out=str(tmp_path / "out"))
    evaluate(cfg, ScriptedGenerator(lambda p, s: "The answer is 1."))
    before = (tmp_path / "out" / "gsm8k.jsonl").read_bytes()
    result = runner.invoke(app, ["eval", "scripted", "--benchmarks", "gsm8k", "--data-dir", str(benchmarks_dir),
                                 "--limit", "2", "--mode", "zero-shot", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "other settings (mode)" in result.output
    assert (tmp_path / "out" / "gsm8k.jsonl").read_bytes() == before


def test_hf_generator_batches_stop_and_lengths(micro_model_dir):
    from octothinker.models import load_model

    loaded = load_model(micro_model_dir)
    gen = HFGenerator(loaded.model, loaded.tokenizer, max_batch=2)
    prompts = ["Q: What is 2 + 3?\nA:", "Q: A long question about 17 apples and 4 pears?\nA:", "Q: x\nA:"]
    params = SamplingParams(max_new_tokens=12, stop=("\n",))
    out = gen.generate(prompts, params)
    assert [len(c) for c in out] == [1, 1, 1]
    for (comp,), prompt in zip(out, prompts):
        assert comp.tokens <= 12 and "\n" not in comp.text
        # greedy decoding of a batch equals decoding each prompt alone (left padding is right)
        assert gen.generate([prompt], params)[0][0].text == comp.text
    sampled = gen.generate(prompts[:1], SamplingParams(max_new_tokens=8, temperature=1.0, n=3, seed=1))
    assert len(sampled[0]) == 3
    again = gen.generate(prompts[:1], SamplingParams(max_new_tokens=8, temperature=1.0, n=3, seed=1))
    assert [c.text for c in sampled[0]] == [c.text for c in again[0]]
    # the model is a training policy between generations: its own attention, as it came
    assert loaded.model.config._attn_implementation == "sdpa"


def test_samples_of_a_prompt_share_its_prefill(micro_model_dir):
    from octothinker.models import load_model

    loaded = load_model(micro_model_dir)
    gen = HFGenerator(loaded.model, loaded.tokenizer)
    prompts = ["Q: What is 2 + 3?\nA:", "Q: A long question about 17 apples and 4 pears?\nA:"]
    single = [c[0].text for c in gen.generate(prompts, SamplingParams(max_new_tokens=10))]
    # greedy n=3: every copy of a prompt's prefill (padding and positions included) decodes like the prompt
    grouped = gen.generate(prompts, SamplingParams(max_new_tokens=10, n=3))
    assert [[c.text for c in group] for group in grouped] == [[text] * 3 for text in single]


def test_stop_checks_only_after_tokens_that_can_end_a_stop_string(micro_model_dir):
    from octothinker.models import load_model

    loaded = load_model(micro_model_dir)
    tok = loaded.tokenizer
    enders = HFGenerator(loaded.model, tok).stop_enders(("Question:", "\n"))
    texts = {i: tok.decode([i]) for i in range(len(tok))}
    assert {i for i, t in texts.items() if ":" in t or "\n" in t} <= enders
    assert not any(texts[i].isalnum() for i in enders)  # plain word pieces never trigger a check


def test_decode_loop_matches_hf_generate_greedy(micro_model_dir):

    from octothinker.models import load_model

    loaded = load_model(micro_model_dir)
    tok = loaded.tokenizer
    prompts = ["Q: What is 2 + 3?\nA:", "Q: A long question about 17 apples and 4 pears?\nA:"]
    ours = HFGenerator(loaded.model, tok).generate(prompts, SamplingParams(max_new_tokens=12))
    for prompt, (comp,) in zip(prompts, ours):
        ids = tok(prompt, return_tensors="pt")
        ref = loaded.model.generate(**ids, max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
        assert comp.text == tok.decode(ref[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


def test_sample_next_greedy_and_top_p():
    import torch

    from octothinker.eval.generation import sample_next

    logits = torch.tensor([[0.0, 3.0, 1.0], [5.0, 0.0, 0.0]])
    g = torch.Generator().manual_seed(0)
    assert sample_next(logits, 0.0, 1.0, g).tolist() == [1, 0]
    # top-p 0.5 keeps only the most likely token of each row
    assert {tuple(sample_next(logits, 1.0, 0.5, g).tolist()) for _ in range(20)} == {(1, 0)}
    draws = {sample_next(logits[:1], 5.0, 1.0, g).item() for _ in range(200)}
    assert draws == {0, 1, 2}


def test_shared_prefix_cache_gives_the_same_completions(micro_model_dir):
    from octothinker.tasks.fewshot import EXEMPLARS, build_prompt
    from octothinker.models import load_model

    loaded = load_model(micro_model_dir)
    gen = HFGenerator(loaded.model, loaded.tokenizer, max_batch=8)
    prompts = [build_prompt("gsm8k", q, EXEMPLARS["gsm8k"]) for q in ("What is 2 + 3?", "Tom has 17 apples?", "x")]
    encoded = [loaded.tokenizer(p)["input_ids"] for p in prompts]
    assert HFGenerator.shared_prefix(encoded) > 100
    params = SamplingParams(max_new_tokens=10)
    together = gen.generate(prompts, params)
    alone = [gen.generate([p], params)[0] for p in prompts]  # one prompt: no shared-prefix cache
    assert [c[0].text for c in together] == [c[0].text for c in alone]


def test_octo_eval_end_to_end_on_the_micro_model(tmp_path, micro_model_dir, benchmarks_dir):
    out = tmp_path / "eval"
    args = ["eval", str(micro_model_dir), "--benchmarks", "gsm8k,mathqa", "--data-dir", str(benchmarks_dir),
            "--limit", "3", "--max-new-tokens", "8", "--out", str(out), "--backend", "hf"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "| gsm8k | 3 |" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == {"gsm8k", "mathqa", "provenance"}
    assert summary["gsm8k"]["problems"] == 3
    assert len(read_records(out / "gsm8k.jsonl")) == 3

    zero = runner.invoke(app, ["eval", str(micro_model_dir), "--benchmarks", "amc23", "--mode", "zero-shot",
                               "--template", "simple", "--data-dir", str(benchmarks_dir), "--limit", "2",
                               "--max-new-tokens", "8", "--out", str(tmp_path / "zero"), "--backend", "hf"])
    assert zero.exit_code == 0, zero.output
    first = read_records(tmp_path / "zero" / "amc23.jsonl")[0]
    question = json.loads((benchmarks_dir / "amc23" / "test.jsonl").read_text().splitlines()[0])["problem"]
    assert first["prompt"].startswith(f"User: {question}")

    score = runner.invoke(app, ["eval", "score", str(out / "gsm8k.jsonl"), "--benchmark", "gsm8k"])
    assert score.exit_code == 0, score.output
    assert json.loads(score.stdout)["samples"] == 3


def test_score_regrades_and_looks_up_golds_by_id(tmp_path, benchmarks_dir):
    gold = json.loads((benchmarks_dir / "gsm8k" / "test.jsonl").read_text().splitlines()[0])["answer"]
    path = tmp_path / "preds.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"completion": f"The answer is {gold}.", "id": "0"},            # gold looked up from the file
        {"completion": "so \\boxed{3}", "gold": "3"},
        {"completion": "The answer is 1,000.", "gold": "1000"},
        {"completion": "I don't know", "gold": "7"},
    ]) + "\n")
    result = runner.invoke(app, ["eval", "score", str(path), "--benchmark", "gsm8k", "--data-dir", str(benchmarks_dir)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accuracy"] == pytest.approx(75.0)


def test_score_accepts_a_list_of_golds_as_accepted_answers(tmp_path):
    path = tmp_path / "preds.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"completion": "so \\boxed{9}", "gold": ["9"]},
        {"completion": "The answer is 12.", "gold": ["12", "twelve"]},
        {"completion": "The answer is 7.", "gold": ["12", "13"]},
    ]) + "\n")
    result = runner.invoke(app, ["eval", "score", str(path), "--benchmark", "gsm8k"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accuracy"] == pytest.approx(200 / 3)


@pytest.mark.parametrize("lines, message", [
    (['{"completion": "x", "gold": {"v": 1}}'], "preds.jsonl:1: field 'gold' is a dict, not an answer"),
    (['{"completion": "x", "gold": "1"}', "{broken"], "preds.jsonl:2: invalid JSON"),
    (['{"gold": "1"}'], "preds.jsonl:1: missing field 'completion'"),
    (['{"completion": "x"}'], "preds.jsonl:1: missing field 'gold'"),
])
def test_score_bad_input_is_one_clear_line(tmp_path, lines, message):
    path = tmp_path / "preds.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["eval", "score", str(path), "--benchmark", "gsm8k"])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_eval_bad_input(tmp_path, benchmarks_dir, micro_model_dir):
    missing_model = runner.invoke(app, ["eval", str(tmp_path / "nope"), "--data-dir", str(benchmarks_dir)])
    assert missing_model.exit_code == 1 and "model path does not exist" in missing_model.output
    unknown = runner.invoke(app, ["eval", str(micro_model_dir), "--benchmarks", "gsm9k"])
    assert unknown.exit_code == 1 and "unknown benchmark 'gsm9k'" in unknown.output
    bad_template = runner.invoke(app, ["eval", str(micro_model_dir), "--mode", "zero-shot", "--template", "no slot",
                                       "--data-dir", str(benchmarks_dir)])
    assert bad_template.exit_code == 1 and "slot" in bad_template.output


def test_resume_is_keyed_on_the_weights_and_default_outputs_do_not_collide(tmp_path, micro_model_dir,
                                                                            benchmarks_dir, monkeypatch):
    import shutil

    from octothinker.models import create_model, load_tokenizer, save_model

    monkeypatch.chdir(tmp_path)
    model = tmp_path / "m" / "final"
    shutil.copytree(micro_model_dir, model)
    common = ["--benchmarks", "gsm8k", "--data-dir", str(benchmarks_dir), "--limit", "2", "--max-new-tokens", "4",
              "--backend", "hf"]
    few = runner.invoke(app, ["eval", str(model), *common])
    zero = runner.invoke(app, ["eval", str(model), "--mode", "zero-shot", *common])
    assert few.exit_code == 0 and zero.exit_code == 0, few.output + zero.output
    for mode in ("few-shot", "zero-shot"):  # each mode in its own default folder, with its own numbers
        summary = json.loads((tmp_path / f"runs/eval/m-final/{mode}/summary.json").read_text())["gsm8k"]
        records = read_records(tmp_path / f"runs/eval/m-final/{mode}/gsm8k.jsonl")
        assert summary["problems"] == 2 and len(records) == 2
        assert summary["accuracy"] == 100.0 * sum(r["correct"] for r in records) / 2
    # The same path with other weights is another model: its results are not mixed in.
    tok = load_tokenizer(model)
    save_model(create_model("micro", tok, seed=7), tok, model)
    again = runner.invoke(app, ["eval", str(model), *common])
    assert again.exit_code == 1 and "other settings (model_weights)" in again.output
    # The same weights at another path are the same model: the run resumes.
    shutil.copytree(micro_model_dir, tmp_path / "elsewhere")
    moved = runner.invoke(app, ["eval", str(tmp_path / "elsewhere"), "--out", "runs/eval/m-final/zero-shot",
                                "--mode", "zero-shot", *common])
    assert moved.exit_code == 0, moved.output


class CutGenerator(ScriptedGenerator):
    """Every completion hits the token limit."""

    def generate(self, prompts, params, on_batch=None):
        self.calls += 1
        return [[Completion(self.answer_for(p, s), params.max_new_tokens, "length") for s in range(params.n)]
                for p in prompts]


def _questions(tmp_path, golds):
    path = tmp_path / "q.jsonl"
    path.write_text("".join(json.dumps({"question": f"q{i}", "answer": g}) + "\n" for i, g in enumerate(golds)))
    return path


@pytest.mark.parametrize("cutoff, extracted, accuracy", [
    ("final-answer", [None, "5"], 50.0),      # the released reward's reading: a box counts, a stray number not
    ("no-answer", [None, None], 0.0),
    ("as-complete", ["2", "5"], 100.0),       # what was graded before the rule existed: "... x 2 =" read as 2
])
def test_a_cut_off_completion_is_graded_by_the_named_rule(tmp_path, cutoff, extracted, accuracy):
    questions = _questions(tmp_path, ["2", "5"])
    texts = {"q0": "152972 x 2 =", "q1": "so the result is \\boxed{5} and then we check 7 +"}
    cfg = EvalConfig(model="scripted", benchmarks=[f"cut={questions}"], mode="zero-shot", cutoff=cutoff,
                     out=str(tmp_path / cutoff), max_new_tokens=16)
    summary = evaluate(cfg, CutGenerator(lambda p, s: texts[p.split("User: ")[1].split("\n")[0]]))["cut"]
    records = read_records(tmp_path / cutoff / "cut.jsonl")
    assert [r["extracted"] for r in records] == extracted and summary["accuracy"] == accuracy
    assert summary["truncation_rate"] == 100.0 and summary["cutoff"] == cutoff
    assert f"graded by the rule `{cutoff}`" in (tmp_path / cutoff / "summary.md").read_text()


def test_a_rerun_on_fewer_benchmarks_keeps_the_others_in_the_summary(tmp_path, benchmarks_dir):
    cfg = EvalConfig(model="scripted", benchmarks=["gsm8k", "svamp"], data_dir=str(benchmarks_dir), limit=2,
                     out=str(tmp_path / "out"))
    evaluate(cfg, ScriptedGenerator(lambda p, s: "The answer is 1."))
    evaluate(cfg.model_copy(update={"benchmarks": ["gsm8k"]}), ScriptedGenerator(lambda p, s: "The answer is 1."))
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert set(summary) == {"gsm8k", "svamp", "provenance"}
    made_from = summary["provenance"]["inputs"]  # both benchmarks' test files, by their contents
    assert set(made_from) == {"gsm8k", "svamp"} and made_from["gsm8k"] == summary["gsm8k"]["data_sha256"]
    assert "| svamp |" in (tmp_path / "out" / "summary.md").read_text()


def test_chat_template_from_the_models_own_tokenizer(tmp_path, micro_model_dir, benchmarks_dir):
    import shutil

    args = ["eval", "--benchmarks", "gsm8k", "--data-dir", str(benchmarks_dir), "--limit", "2", "--mode",
            "zero-shot", "--template", "chat", "--max-new-tokens", "4"]
    plain = runner.invoke(app, [args[0], str(micro_model_dir), *args[1:], "--out", str(tmp_path / "plain")])
    assert plain.exit_code == 1 and "has no chat template" in plain.output and "Traceback" not in plain.output
    chat_model = tmp_path / "chat-model"
    shutil.copytree(micro_model_dir, chat_model)
    config = json.loads((chat_model / "tokenizer_config.json").read_text())
    config["chat_template"] = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
                               "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    (chat_model / "tokenizer_config.json").write_text(json.dumps(config))
    result = runner.invoke(app, [args[0], str(chat_model), *args[1:], "--out", str(tmp_path / "chat")])
    assert result.exit_code == 0, result.output
    prompt = read_records(tmp_path / "chat" / "gsm8k.jsonl")[0]["prompt"]
    assert prompt.startswith("<|im_start|>user\n") and prompt.endswith("<|im_start|>assistant\n")
    assert "\\boxed{}" in prompt


def test_device_and_dtype_this_machine_cannot_give_are_one_line_and_leave_nothing(tmp_path, micro_model_dir,
                                                                                  benchmarks_dir):
    import torch

    cases = [(["--dtype", "float8"], "dtype 'float8': use float32, bfloat16 or float16")]
    if not torch.cuda.is_available():
        cases.append((["--device", "cuda"], "device 'cuda': this machine has no CUDA device"))
    for extra, message in cases:
        out = tmp_path / "deep" / "out"
        result = runner.invoke(app, ["eval", str(micro_model_dir), "--benchmarks", "gsm8k", "--data-dir",
                                     str(benchmarks_dir), "--limit", "1", "--out", str(out), *extra])
        assert result.exit_code == 1 and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
        assert not (tmp_path / "deep").exists()  # no empty output folder left behind


def test_two_evaluations_into_one_folder_are_refused_naming_the_holder(tmp_path, benchmarks_dir):
    import os

    from octothinker.runs.lock import folder_lock

    out = tmp_path / "out"
    with folder_lock(out):
        result = runner.invoke(app, ["eval", "scripted", "--benchmarks", "gsm8k", "--data-dir", str(benchmarks_dir),
                                     "--limit", "2", "--out", str(out)])
        assert sorted(p.name for p in out.iterdir()) == [".octo-lock"]  # the refused run wrote nothing
    assert result.exit_code == 1 and f"{out}: in use by another octo process (pid {os.getpid()}" in result.output


def test_ctrl_c_during_an_evaluation_is_one_line(tmp_path, benchmarks_dir, monkeypatch):
    def interrupted(cfg, generator=None):
        raise KeyboardInterrupt

    monkeypatch.setattr("octothinker.eval.runner.evaluate", interrupted)
    result = runner.invoke(app, ["eval", "scripted", "--benchmarks", "gsm8k", "--data-dir", str(benchmarks_dir),
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 130 and result.output.strip().splitlines() == [
        "error: interrupted; what was written is kept, and the same command resumes it"]


def test_ctrl_c_in_a_terminal_ends_an_evaluation_in_one_line(tmp_path, micro_model_dir, benchmarks_dir):
    """SIGINT to the whole process group, as a terminal sends it: the grading workers included."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "octothinker.cli", "eval", str(micro_model_dir), "--benchmarks",
                             "gsm8k", "--data-dir", str(benchmarks_dir), "--batch-size", "1", "--max-new-tokens", "48",
                             "--out", str(out)],
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
                            # as a terminal's job has it, even when this test runs in a background job
                            # (whose SIGINT the shell ignores, and the child would inherit)
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "gsm8k.jsonl").is_file() and (out / "gsm8k.jsonl").stat().st_size:  # graded: workers are up
            break
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("error: interrupted")
    assert read_records(out / "gsm8k.jsonl")  # what was written is kept


def test_a_rerun_on_other_problems_is_refused_not_reported_as_new(tmp_path, benchmarks_dir):
    """Issue 33, case 1: the same command with another --data-dir (or gsm8k=FILE2 after gsm8k=FILE1) must not
    print the first problems' accuracy as the second's: the folder's results are keyed on each test file's
    contents, and the refusal names the benchmark that changed. The same data elsewhere resumes."""
    import shutil

    other = tmp_path / "other"
    shutil.copytree(benchmarks_dir, other)
    rows = (other / "gsm8k" / "test.jsonl").read_text().splitlines()
    (other / "gsm8k" / "test.jsonl").write_text("\n".join(reversed(rows)) + "\n")  # other problems first
    answer = lambda prompt, sample: " The answer is 1."  # noqa: E731

    def run(data_dir=benchmarks_dir):
        cfg = EvalConfig(model="scripted", benchmarks=["gsm8k"], data_dir=str(data_dir), limit=2,
                         out=str(tmp_path / "out"))
        return evaluate(cfg, ScriptedGenerator(answer))

    first = run()["gsm8k"]
    assert len(first["data_sha256"]) == 16
    with pytest.raises(OctoError, match=r"config.json: its gsm8k results were made from other data: gsm8k's test "
                                        r"file has changed since \(sha256 \w{16} then, \w{16} now\)"):
        run(other)
    copy = tmp_path / "copy"
    shutil.copytree(benchmarks_dir, copy)
    assert run(copy)["gsm8k"]["data_sha256"] == first["data_sha256"]  # the same data: resumes
    files = [f"gsm8k={benchmarks_dir / 'gsm8k' / 'test.jsonl'}", f"gsm8k={other / 'gsm8k' / 'test.jsonl'}"]
    cfg = EvalConfig(model="scripted", benchmarks=[files[0]], limit=2, out=str(tmp_path / "named"))
    evaluate(cfg, ScriptedGenerator(answer))
    with pytest.raises(OctoError, match="its gsm8k results were made from other data"):
        evaluate(cfg.model_copy(update={"benchmarks": [files[1]]}), ScriptedGenerator(answer))
