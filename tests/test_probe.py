import json

from octothinker.eval.generation import Completion
from octothinker.probe import probe


class Fixed:
    """Two samples per prompt: one right and boxed, one cut at the length limit."""

    def generate(self, prompts, params, on_batch=None):
        out = []
        for p in prompts:
            answer = p.split("#")[1].split(" ")[0]
            out.append([Completion(f"so \\boxed{{{answer}}}", 5, "eos"), Completion("and so on and so", 8, "length")])
        return out


def test_probe_metrics(tmp_path):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"question": f"#{i} what?", "answer": str(i)}) + "\n" for i in range(6)))
    report = probe("fixed", str(prompts), k=2, limit=4, template="simple", out=str(tmp_path / "r.json"),
                   generator=Fixed())
    assert report["problems"] == 4
    assert report["pass@1"] == 50.0 and report["pass@2"] == 100.0
    assert report["answer_extracted"] == 50.0 and report["truncated"] == 50.0
    assert report["mean_response_tokens"] == 6.5
    assert json.loads((tmp_path / "r.json").read_text())["pass@2"] == 100.0
