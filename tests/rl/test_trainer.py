import json
import signal
import subprocess
import sys
import time

import pytest
import yaml
from typer.testing import CliRunner

from octothinker.cli import app
from octothinker.errors import DataError, OctoError
from octothinker.tasks.grading import VerifyPool
from octothinker.tasks.rewards import RewardConfig, reward
from octothinker.models import load_model, load_tokenizer
from octothinker.tasks.templates import get_template
from octothinker.rl.config import RLConfig
from octothinker.rl.prompts import PromptSampler, load_prompts
from octothinker.rl.trainer import train

runner = CliRunner()


def config(world_dir, out, **changes):
    d = {"out": str(out), "prompts": str(world_dir / "problems/train.jsonl"), "template": "simple", "steps": 3,
         "prompts_per_step": 4, "group_size": 4, "mini_batch": 2, "micro_batch": 8, "max_response_tokens": 12,
         "lr": 1e-4, "checkpoint_every": 2, "seed": 0, "device": "cpu",
         "eval": {"every": 2, "benchmarks": [], "files": {"synth": str(world_dir / "problems/test.jsonl")}, "limit": 6}}
    d.update(changes)
    return d


def test_rl_run_writes_metrics_eval_and_final_model(world, policy, tmp_path):
    world_dir, _ = world
    final = train(RLConfig.model_validate(config(world_dir, tmp_path / "rl", save_samples=True,
                                                 length_schedule={0: 8, 2: 12})), str(policy))
    rows = [json.loads(line) for line in (tmp_path / "rl" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert [r["max_response_tokens"] for r in rows] == [8, 8, 12]
    for key in ("reward", "accuracy", "response_length", "truncation_rate", "entropy", "kl", "clip_fraction",
                "grad_norm", "lr", "rollout_tokens_per_s", "step_seconds"):
        assert key in rows[0], key
    assert all(-1.0 <= r["reward"] <= 1.0 for r in rows)
    evals = [json.loads(line) for line in (tmp_path / "rl" / "eval.jsonl").read_text().splitlines()]
    assert [(e["step"], e["benchmark"], e["decoding"]) for e in evals] == [(0, "synth", "greedy"), (2, "synth", "greedy")]
    assert {"accuracy", "mean_response_tokens", "mean_correct_response_tokens"} <= set(evals[0])
    samples = (tmp_path / "rl" / "samples" / "step_1.jsonl").read_text().splitlines()
    assert len(samples) == 16
    load_model(final, device="cpu")


def test_update_moves_the_policy_towards_positive_advantages(world, policy, tmp_path):
    import torch

    from octothinker.rl.trainer import token_logprobs, update_policy, pack

    world_dir, _ = world
    loaded = load_model(policy, device="cpu")
    model, tok = loaded.model, loaded.tokenizer
    cfg = RLConfig.model_validate(config(world_dir, tmp_path / "o", group_size=2, mini_batch=1, epochs=2))
    prompt = tok("User: 1+1?\nAssistant:")["input_ids"]
    good, bad = tok(" \\boxed{2}")["input_ids"], tok(" \\boxed{3}")["input_ids"]
    rows = [(prompt, good, 1.0), (prompt, bad, -1.0)]

    def seq_logp():
        ids, attention, resp = pack([prompt, prompt], [good, bad], tok.pad_token_id, "cpu")
        with torch.no_grad():
            logp, _ = token_logprobs(model, ids, attention)
        return (logp * resp[:, 1:]).sum(dim=1)

    before = seq_logp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    stats = update_policy(model, optimizer, rows, cfg, 8, tok.pad_token_id, "cpu")
    after = seq_logp()
    assert stats["updates"] == 2 and stats["grad_norm"] > 0
    # gradient steps raise the positive response's log-probability relative to the negative one's
    assert after[0] - after[1] > before[0] - before[1] + 0.1
    zero = {k: v.clone() for k, v in model.state_dict().items()}
    update_policy(model, torch.optim.SGD(model.parameters(), lr=1.0), [(prompt, good, 0.0)], cfg, 8, tok.pad_token_id, "cpu")
    assert all(torch.equal(zero[k], v) for k, v in model.state_dict().items())  # no advantage, no change


def test_micro_batches_of_any_size_make_the_one_batch_update(world, policy, tmp_path):
    import torch

    from octothinker.rl.trainer import update_policy

    world_dir, _ = world
    loaded = load_model(policy, device="cpu")
    model, tok = loaded.model, loaded.tokenizer
    start = {k: v.clone() for k, v in model.state_dict().items()}
    prompt = tok("User: 2+3?\nAssistant:")["input_ids"]
    # responses of different lengths in no order: micro-batches are taken by length
    answers = [" \\boxed{5}", " 2 + 3 = 5. So \\boxed{5}", " \\boxed{6}", " it is 2 + 3 = 4, \\boxed{4}", " 5"]
    rows = [(prompt, tok(a)["input_ids"], adv) for a, adv in zip(answers, [1.0, 0.5, -1.0, -0.5, 0.0])]

    def updated(micro_batch):
        model.load_state_dict(start)
        cfg = RLConfig.model_validate(config(world_dir, tmp_path / "o", prompts_per_step=1, group_size=5,
                                             mini_batch=1, micro_batch=micro_batch))
        update_policy(model, torch.optim.SGD(model.parameters(), lr=0.1), rows, cfg, 16, tok.pad_token_id, "cpu")
        return {k: v.clone() for k, v in model.state_dict().items()}

    whole, micro = updated(5), updated(2)
    assert any(not torch.equal(whole[k], start[k]) for k in start)
    assert all(torch.allclose(whole[k], micro[k], atol=1e-6) for k in whole)


def test_resume_after_kill_continues_the_same_run(world, policy, tmp_path):
    world_dir, _ = world
    ref = config(world_dir, tmp_path / "ref", steps=8, eval=None)
    (tmp_path / "ref.yaml").write_text(yaml.safe_dump(ref))
    cmd = [sys.executable, "-m", "octothinker.cli", "rl"]
    subprocess.run(cmd + [str(tmp_path / "ref.yaml"), "--policy", str(policy)], check=True, capture_output=True)
    killed = {**ref, "out": str(tmp_path / "killed")}
    (tmp_path / "killed.yaml").write_text(yaml.safe_dump(killed))
    proc = subprocess.Popen(cmd + [str(tmp_path / "killed.yaml"), "--policy", str(policy)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpts = tmp_path / "killed" / "checkpoints"
    deadline = time.time() + 180
    while not (ckpts / "step_00000004").exists() and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    rows = (tmp_path / "killed" / "metrics.jsonl").read_text().splitlines()
    assert 4 <= len(rows) < 8, "the run finished before it could be killed"
    subprocess.run(cmd + [str(tmp_path / "killed.yaml"), "--policy", str(policy)], check=True, capture_output=True)

    def curve(path):
        rows = [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]
        return [(r["step"], r["reward"], r["response_length"], round(r["loss"], 6)) for r in rows]

    assert curve(tmp_path / "killed") == curve(tmp_path / "ref")


def test_rl_says_aloud_when_most_prompts_are_dropped(world, policy, tmp_path):
    """Issue 33, case 3: 90 of 100 prompts over max_prompt_tokens (and empty golds) were dropped with exit
    0 and a count in config.json only. Now a WARNING line, the stage's summary, and --strict refuses."""
    world_dir, _ = world
    prompts = tmp_path / "p.jsonl"
    rows = [{"question": f"What is {i}+1?", "answer": str(i + 1)} for i in range(10)]
    rows += [{"question": "x " * 600, "answer": "1"}] * 85 + [{"question": "q", "answer": ""}] * 5
    prompts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({k: v for k, v in config(world_dir, tmp_path / "rl", prompts=str(prompts), steps=1,
                                                             max_response_tokens=4).items() if k != "eval"}))
    result = runner.invoke(app, ["rl", str(recipe), "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    warning = f"WARNING: RL prompts ({prompts}): 90 of 100 dropped (90%, over the 10% allowed): too_long 85 (e.g. {prompts}:11: "
    assert warning in result.output
    recorded = json.loads((tmp_path / "rl" / "summary.json").read_text())["losses"]["prompts"]
    assert (recorded["in"], recorded["out"], recorded["dropped"]) == (100, 10, {"too_long": 85, "no_answer": 5})
    assert recorded["warning"].startswith("RL prompts (")

    strict = runner.invoke(app, ["rl", str(recipe), "--policy", str(policy), "--out", str(tmp_path / "strict"), "--strict"])
    assert strict.exit_code == 1
    assert strict.output.count("\n") == 1 and "90 of 100 dropped" in strict.output and "[strict" in strict.output
    assert not (tmp_path / "strict" / "metrics.jsonl").exists()


def test_prompt_problems_are_counted_or_refused(world, policy, tmp_path):
    world_dir, _ = world
    tok = load_tokenizer(policy)
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"question": "What is 1+1?", "answer": "2"},
        {"question": "No answer here"},
        {"question": "Unreadable", "answer": "\\frac{"},
        {"question": "x" * 3000, "answer": "1"},
    ]) + "\n")
    cfg = RLConfig.model_validate(config(world_dir, tmp_path / "o", prompts=str(path)))
    pool = VerifyPool(workers=1)
    try:
        records, losses = load_prompts(cfg, get_template("simple"), tok, pool)
        assert len(records) == 1
        assert losses.dropped == {"no_answer": 1, "unparseable_answer": 1, "too_long": 1}
        assert losses.examples["too_long"].startswith(f"{path}:4: ")
        path.write_text(json.dumps({"question": "q"}) + "\n")
        with pytest.raises(DataError, match="no usable prompts"):
            load_prompts(cfg, get_template("simple"), tok, pool)
        path.write_text(json.dumps({"answer": "3"}) + "\n")
        with pytest.raises(DataError, match=r"p.jsonl:1: field 'question' is missing"):
            load_prompts(cfg, get_template("simple"), tok, pool)
        # a list of answers is a set of accepted answers, never the text "['9']"
        path.write_text(json.dumps({"question": "q", "answer": ["9"]}) + "\n"
                        + json.dumps({"question": "r", "answer": ["9", 9.0, "nine"]}) + "\n")
        records, _ = load_prompts(cfg, get_template("simple"), tok, pool)
        assert [r["answer"] for r in records] == ["9", ("9", "9", "nine")]
        rewards = reward(["so \\boxed{9}", "so \\boxed{9}"], [r["answer"] for r in records], [False, False],
                         RewardConfig(), pool)
        assert [s.reward for s in rewards] == [1.0, 1.0]
        for bad, message in [({"question": ["q"], "answer": "1"}, "field 'question' is a list, not text"),
                             ({"question": "q", "answer": {"v": 1}}, "field 'answer' is a dict, not an answer"),
                             ({"question": "q", "answer": [["9"]]}, r"field 'answer\[0\]' is a list")]:
            path.write_text(json.dumps(bad) + "\n")
            with pytest.raises(DataError, match=rf"p.jsonl:1: {message}"):
                load_prompts(cfg, get_template("simple"), tok, pool)
    finally:
        pool.close()


def test_bad_rl_recipes(world, policy, tmp_path):
    world_dir, _ = world
    for change, message in [({"group_size": 1}, "group_size"), ({"template": "no slot"}, "slot"),
                            ({"prompts_per_step": 3, "mini_batch": 2}, "multiple of mini_batch")]:
        (tmp_path / "r.yaml").write_text(yaml.safe_dump(config(world_dir, tmp_path / "o", **change)))
        result = runner.invoke(app, ["rl", str(tmp_path / "r.yaml"), "--policy", str(policy)])
        assert result.exit_code == 1 and message in result.output, result.output


def test_sampler_epochs_and_state():
    s = PromptSampler(5, seed=1)
    first = s.next(3) + s.next(3)
    assert sorted(first[:5]) == [0, 1, 2, 3, 4]
    state = s.state_dict()
    again = PromptSampler(5, seed=1)
    again.load_state_dict(state)
    assert again.next(4) == s.next(4)


def test_a_solved_prompt_leaves_without_costing_another_its_turn():
    s = PromptSampler(6, seed=2)
    first = s.next(2)
    s.removed.update(first)  # both solved mid-epoch
    rest = s.next(4)
    # the epoch still holds every prompt not removed, each once (the old rule shifted its cursor and lost two)
    assert sorted(first + rest) == list(range(6))
    assert not set(s.next(8)) & set(first)
    s.removed.update(range(6))
    with pytest.raises(OctoError, match="every prompt was removed as solved"):
        s.next(1)


class ScriptedGenerator:
    """Answers every problem with its gold first, then with wrong numbers; records the sampling asked for."""

    def __init__(self, golds: dict[str, str]):
        self.golds, self.params = golds, None

    def generate(self, prompts, params, on_batch=None):
        from octothinker.eval.generation import Completion

        self.params = params
        return [[Completion(f"The answer is \\boxed{{{self.golds[p] if j == 0 else 10**6 + j}}}.", 7, "stop")
                 for j in range(params.n)] for p in prompts]


def test_periodic_eval_greedy_and_sampled(tmp_path):
    from octothinker.rl.config import EvalSpec
    from octothinker.rl.trainer import periodic_eval

    rows = [{"question": "What is 2 + 3?", "answer": "5"}, {"question": "What is 4 + 4?", "answer": "8"}]
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    template = get_template("simple")
    gen = ScriptedGenerator({template.render(r["question"]): r["answer"] for r in rows})
    greedy = periodic_eval(gen, template, EvalSpec(benchmarks=[], files={"t": str(path)}), 16)
    assert [(r.benchmark, r.decoding, r.accuracy) for r in greedy] == [("t", "greedy", 100.0)]
    assert gen.params.n == 1 and gen.params.temperature == 0
    assert greedy[0].correct_per_problem == [1, 1] and greedy[0].gold_counts == {"5": 1, "8": 1}
    spec = EvalSpec(benchmarks=[], files={"t": str(path)}, temperature=1.0, samples=4, greedy=True)
    sampled, also_greedy = periodic_eval(gen, template, spec, 16, seed=3)
    assert sampled.decoding == "sampled" and sampled.accuracy == 25.0  # one right answer in four samples
    assert sampled.correct_per_problem == [1, 1] and sampled.samples == 4
    assert sampled.answer_counts == {"5": 1, "8": 1, "1000001": 2, "1000002": 2, "1000003": 2}
    assert also_greedy.decoding == "greedy" and also_greedy.accuracy == 100.0
    assert gen.params.n == 1 and gen.params.seed == 3


def test_resume_refuses_other_settings_and_survives_torn_lines(world, policy, tmp_path):
    world_dir, _ = world
    d = config(world_dir, tmp_path / "rl", steps=3)
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(d))
    assert runner.invoke(app, ["rl", str(path), "--policy", str(policy)]).exit_code == 0
    for name in ("metrics.jsonl", "eval.jsonl"):
        with (tmp_path / "rl" / name).open("a") as fh:
            fh.write('{"step": 9, "rew')
    again = runner.invoke(app, ["rl", str(path), "--policy", str(policy)])
    assert again.exit_code == 0, again.output
    steps = [json.loads(line)["step"] for line in (tmp_path / "rl" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]
    path.write_text(yaml.safe_dump({**d, "lr": 1e-3}))
    changed = runner.invoke(app, ["rl", str(path), "--policy", str(policy)])
    assert changed.exit_code == 1 and "other settings (lr)" in changed.output
    # the same prompts file name, other prompts: not the run the checkpoint continues (issue 33)
    prompts = tmp_path / "prompts.jsonl"
    lines = (world_dir / "problems/train.jsonl").read_text().splitlines()
    prompts.write_text("\n".join(lines) + "\n")
    path.write_text(yaml.safe_dump({**d, "prompts": str(prompts), "out": str(tmp_path / "own")}))
    assert runner.invoke(app, ["rl", str(path), "--policy", str(policy)]).exit_code == 0
    prompts.write_text("\n".join(lines[::-1]) + "\n")
    path.write_text(yaml.safe_dump({**d, "prompts": str(prompts), "out": str(tmp_path / "own"), "steps": 4}))
    edited = runner.invoke(app, ["rl", str(path), "--policy", str(policy)])
    assert edited.exit_code == 1 and "other settings (inputs.prompts)" in edited.output, edited.output
    path.write_text(yaml.safe_dump({**d, "steps": 4}))  # running longer is the same run, continued
    longer = runner.invoke(app, ["rl", str(path), "--policy", str(policy)])
    assert longer.exit_code == 0, longer.output


def test_grouped_rollouts_rewards_and_seeds_are_derived(world, policy, tmp_path):
    from octothinker.runs import derive_seed

    assert derive_seed(1, "prompts", 7919) != derive_seed(2, "prompts", 0)
    assert derive_seed(0, "rollout", 3) == derive_seed(0, "rollout", 3) != derive_seed(0, "rollout", 4)
    world_dir, _ = world
    train(RLConfig.model_validate(config(world_dir, tmp_path / "rl", steps=1, save_samples=True, eval=None)),
          str(policy))
    samples = [json.loads(line) for line in (tmp_path / "rl" / "samples" / "step_1.jsonl").read_text().splitlines()]
    # prompt-major: each group's G responses sit together, in the order the prompts were drawn
    prompts = [s["prompt"] for s in samples]
    assert [prompts[i * 4] for i in range(4)] == [prompts[i * 4 + j] for i in range(4) for j in range(4)][::4]
    assert all(len(set(prompts[i * 4:(i + 1) * 4])) == 1 for i in range(4))


def test_an_instruct_model_is_trained_in_its_own_chat_template(world, policy, chat_policy, tmp_path):
    world_dir, _ = world
    cfg = RLConfig.model_validate(config(world_dir, tmp_path / "rl", template="chat", steps=1, save_samples=True,
                                         eval=None))
    train(cfg, str(chat_policy))
    prompt = json.loads((tmp_path / "rl" / "samples" / "step_1.jsonl").read_text().splitlines()[0])["prompt"]
    assert prompt.startswith("<|im_start|>user\n") and prompt.endswith("<|im_start|>assistant\n")
    with pytest.raises(Exception, match="has no chat template"):
        train(cfg.model_copy(update={"out": str(tmp_path / "plain")}), str(policy))


def test_periodic_eval_graded_as_the_forks_validate(tmp_path):
    """`grader: reward`: right only when the training reward is full (the last box, not "the answer is");
    the mean length of right answers beside all answers'."""
    import json

    from octothinker.eval.generation import Completion
    from octothinker.rl.config import EvalSpec
    from octothinker.rl.trainer import periodic_eval
    from octothinker.tasks.templates import get_template

    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps({"question": f"q{i}", "answer": "7"}) + "\n" for i in range(3)))
    texts = ["so \\boxed{7}", "the answer is 7", "\\boxed{8}"]
    tokens = [4, 10, 20]

    class Fixed:
        def generate(self, prompts, params, on_batch=None):
            assert params.stop == ("Answer:",)
            return [[Completion(texts[i], tokens[i], "stop")] for i in range(len(prompts))]

    spec = EvalSpec(benchmarks=[], files={"t": str(path)}, grader="reward")
    [row] = periodic_eval(Fixed(), get_template("simple"), spec, 16, stop=("Answer:",))
    assert row.correct_per_problem == [1, 0, 0] and row.mean_correct_response_tokens == 4.0
    assert row.mean_response_tokens == pytest.approx(34 / 3)
    [task_row] = periodic_eval(Fixed(), get_template("simple"), spec.model_copy(update={"grader": "task"}), 16,
                               stop=("Answer:",))
    assert task_row.correct_per_problem == [1, 1, 0]   # `octo eval` reads "the answer is 7"
