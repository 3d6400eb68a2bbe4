"""RL's prompts: the records that can be rewarded (what was dropped, and why, by the loss rule), and the
seeded order in which the trainer draws them."""

from __future__ import annotations

import random
from pathlib import Path

from octothinker.errors import DataError
from octothinker.rl.config import RLConfig, RLError
from octothinker.runs import derive_seed, jsonl_records
from octothinker.runs.losses import Losses
from octothinker.tasks.grading import VerifyPool, gold_answer
from octothinker.tasks.templates import PromptTemplate


def load_prompts(cfg: RLConfig, template: PromptTemplate, tokenizer, pool: VerifyPool) -> tuple[list[dict], Losses]:
    """Prompt records that can be rewarded, and what was dropped and why (the loss rule: over the
    recipe's `max_loss_share` a WARNING, or with `strict` an error, before any training)."""
    path = Path(cfg.prompts)
    if not path.is_file():
        raise DataError(f"{path}: prompts file not found")
    losses = Losses("RL prompts", str(path), cfg.max_loss_share)
    records = []
    limit = cfg.max_prompt_tokens - cfg.prompt_margin
    for where, rec in jsonl_records(path):
        losses.came_in += 1
        question = rec.get(cfg.question_field)
        if not isinstance(question, str) or not question.strip():
            what = "missing" if question is None else f"a {type(question).__name__}, not text" \
                if not isinstance(question, str) else "empty"
            raise DataError(f"{where}: field '{cfg.question_field}' is {what}")
        answer = rec.get(cfg.answer_field)
        if answer is None or (isinstance(answer, str) and not answer.strip()):
            losses.drop("no_answer", f"{where}: field '{cfg.answer_field}' is {'missing' if answer is None else 'empty'}")
            continue
        answer = gold_answer(answer, where, cfg.answer_field)
        prompt = template.render(question)
        # counted as the fork counts it: the templated prompt, special tokens (BOS) included
        tokens = len(tokenizer(prompt)["input_ids"])
        if tokens > limit:
            losses.drop("too_long", f"{where}: {tokens} tokens with the template, over {limit} (max_prompt_tokens"
                        + (" - prompt_margin)" if cfg.prompt_margin else ")"))
            continue
        records.append({"id": where, "prompt": prompt, "answer": answer})
    # An answer the grader cannot read would score every response wrong: drop it, counted.
    readable = pool.readable_many([r["answer"] for r in records]) if records else []
    for r in (r for r, ok in zip(records, readable) if not ok):
        losses.drop("unparseable_answer", f"{r['id']}: the grader cannot read the answer {r['answer']!r}")
    records = [r for r, ok in zip(records, readable) if ok]
    if not records:
        raise DataError(f"{path}: no usable prompts: {losses.message()}")
    losses.settle(cfg.strict)
    return records, losses


class PromptSampler:
    """Seeded epochs over the prompts; its position is part of every checkpoint. A removed prompt
    (`remove_solved`) is skipped where it falls in the order, so the epoch shortens and no other is lost."""

    def __init__(self, n: int, seed: int):
        self.n, self.seed = n, seed
        self.epoch, self.cursor = 0, 0
        self.removed: set[int] = set()

    def _order(self) -> list[int]:
        order = list(range(self.n))
        random.Random(derive_seed(self.seed, "prompts", self.epoch)).shuffle(order)
        return order

    def next(self, k: int) -> list[int]:
        if len(self.removed) >= self.n:
            raise RLError("every prompt was removed as solved (remove_solved); nothing left to train on")
        picked = []
        order = self._order()
        while len(picked) < k:
            if self.cursor >= self.n:
                self.epoch, self.cursor = self.epoch + 1, 0
                order = self._order()
                continue
            index = order[self.cursor]
            self.cursor += 1
            if index not in self.removed:
                picked.append(index)
        return picked

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "cursor": self.cursor, "removed": sorted(self.removed)}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.cursor, self.removed = state["epoch"], state["cursor"], set(state["removed"])
