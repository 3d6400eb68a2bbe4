"""Checkpoints, one module for every training loop: model (safetensors), optimizer and RNG (torch.save,
read back with weights_only=True), and `state.json` (the loop's own state: step, data position, and the
settings the run was started with). Written into a temporary directory and renamed when complete; the
last K are kept. Resume takes the newest complete one, and refuses one written under other settings.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from octothinker.errors import OctoError
from octothinker.runs.files import fault_point

_STEP_DIR = re.compile(r"^step_(\d+)$")


def _unshare(state: dict) -> dict:
    # Tied weights (embeddings = LM head) share storage, which safetensors refuses to write twice.
    seen, out = {}, {}
    for k, v in state.items():
        ptr = v.data_ptr()
        out[k] = v.clone() if ptr in seen else v.contiguous()
        seen.setdefault(ptr, k)
    return out


def save_checkpoint(root: Path, name: str, model_state: dict, optim_state: dict, state: dict) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    final = root / name
    tmp = root / f".tmp-{name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_file(_unshare(model_state), str(tmp / "model.safetensors"))
    torch.save(optim_state, tmp / "optimizer.pt")
    fault_point("checkpoint-write")
    rng = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    torch.save(rng, tmp / "rng.pt")
    (tmp / "state.json").write_text(json.dumps(state, indent=2) + "\n")
    old = root / f".old-{name}"
    if final.exists():  # replacing a checkpoint of the same name: never a moment without a complete one
        final.rename(old)
    fault_point("checkpoint-swap")
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(path: Path) -> tuple[dict, dict, dict]:
    for f in ("model.safetensors", "optimizer.pt", "state.json"):
        if not (path / f).is_file():
            raise OctoError(f"{path / f}: checkpoint file missing")
    model_state = load_file(str(path / "model.safetensors"))
    optim_state = torch.load(path / "optimizer.pt", weights_only=True, map_location="cpu")
    state = json.loads((path / "state.json").read_text())
    return model_state, optim_state, state


def changed_settings(saved: dict, current: dict, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two (nested) settings dicts."""
    changed = []
    for key in sorted(set(saved) | set(current)):
        a, b = saved.get(key), current.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            changed += changed_settings(a, b, f"{prefix}{key}.")
        elif a != b:
            changed.append(f"{prefix}{key}")
    return changed


def check_resumable(path: Path, state: dict, settings: dict, force: bool) -> None:
    """A checkpoint continues only the run that wrote it: resuming under another learning rate, data or
    schedule would splice two runs into one curve (a changed lr once sent the loss to 97)."""
    saved = json.loads(json.dumps(state.get("settings", {})))
    changed = changed_settings(saved, json.loads(json.dumps(settings)))
    if changed and not force:
        shown = ", ".join(changed[:6]) + (" ..." if len(changed) > 6 else "")
        raise OctoError(f"{path}: this checkpoint was written under other settings ({shown}); resume anyway with "
                        "--force-resume, or start over with --no-resume")


def restore_rng(path: Path) -> None:
    rng = torch.load(path / "rng.pt", weights_only=True)
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


def step_checkpoints(root: Path) -> list[Path]:
    """Complete `step_N` checkpoints, oldest first (temporary directories are not complete)."""
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := _STEP_DIR.match(p.name)) and p.is_dir()]
    return [p for _, p in sorted(found)]


def latest_checkpoint(root: Path) -> Path | None:
    found = step_checkpoints(root)
    return found[-1] if found else None


def prune(root: Path, keep: int) -> None:
    for path in step_checkpoints(root)[:-keep] if keep > 0 else []:
        shutil.rmtree(path, ignore_errors=True)
