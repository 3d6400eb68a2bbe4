"""Removing solved prompts under verl 0.9.1, through its custom dataset class (`data.custom_cls`).

The rule is the local engine's (`RLConfig.remove_solved`): a prompt whose whole group of responses was
right is not drawn again. verl gives a dataset no view of the rewards in its v1 trainer (the default),
so the generated reward function appends each training verdict to a ledger beside `train.parquet`
(`index correct` per line) and this dataset reads the ledger at every draw. One difference, named in
the docs: verl's sampler keeps its epoch length, so a removed prompt's draw is served by a seeded
choice among the prompts still unsolved, where the local engine shortens the epoch instead.
The ledger lives in the work folder, so each length segment's verl run keeps what earlier ones removed.

Loaded by verl from this file's path; it imports verl, which only the GPU machines have.
"""

from __future__ import annotations

import json
import random
from collections import deque
from pathlib import Path

from verl.utils.dataset.rl_dataset import RLHFDataset

from octothinker.rl.config import RLError
from octothinker.rl.verl import REMOVAL_FILE
from octothinker.runs.seeds import derive_seed


def solved_indices(lines, group_size: int) -> set[int]:
    """Prompts whose latest group, the last `group_size` verdicts recorded for them, were all right."""
    recent: dict[int, deque] = {}
    solved: set[int] = set()
    for line in lines:
        index, correct = line.split()
        verdicts = recent.setdefault(int(index), deque(maxlen=group_size))
        verdicts.append(correct == "1")
        if len(verdicts) == group_size and all(verdicts):
            solved.add(int(index))
    return solved


class SolvedPromptsRemoved(RLHFDataset):
    def __init__(self, data_files, tokenizer, config, processor=None, max_samples: int = -1):
        super().__init__(data_files, tokenizer, config, processor=processor, max_samples=max_samples)
        files = [Path(f) for f in self.data_files]
        spec_file = files[0].parent / REMOVAL_FILE
        spec = json.loads(spec_file.read_text()) if spec_file.exists() else {}
        # validation rows go through the same class; only the training file is filtered
        self.spec = spec if spec and [f.name for f in files] == [spec["train_file"]] else None
        self.row_of = {row["index"]: i for i, row in enumerate(self.dataframe["extra_info"])}
        self._read, self._removed = 0, set()

    def removed(self) -> set[int]:
        ledger = Path(self.spec["ledger"])
        if ledger.exists() and ledger.stat().st_size != self._read:
            text = ledger.read_text()
            complete = text[:text.rfind("\n") + 1]   # a line being appended is read next time
            self._read = len(complete.encode())
            self._removed = solved_indices(complete.splitlines(), self.spec["group_size"])
        return self._removed

    def __getitem__(self, item):
        if self.spec is None:
            return super().__getitem__(item)
        removed = self.removed()
        index = self.dataframe[item]["extra_info"]["index"]
        if index in removed:
            left = sorted(set(self.row_of) - removed)
            if not left:
                raise RLError("every prompt was removed as solved (remove_solved); nothing left to train on")
            pick = random.Random(derive_seed(self.spec["seed"], "substitute", item, len(removed)))
            item = self.row_of[left[pick.randrange(len(left))]]
        return super().__getitem__(item)
