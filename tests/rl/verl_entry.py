"""Runs pieces of verl's source tree (`make install` puts its wheel in .verl, without its dependencies) in
their own processes, for tests/rl/test_verl.py:

    python verl_entry.py VERL_ROOT module NAME ARG...    run a verl module as `python -m NAME ARG...` would
    torchrun ... verl_entry.py VERL_ROOT save POLICY ACTOR_DIR STRATEGY CHECKPOINT_JSON
        load POLICY as verl's actor does, shard it with verl's FSDP (STRATEGY: fsdp or fsdp2) over the
        ranks on gloo, and save it with verl's FSDP checkpoint manager into ACTOR_DIR

Stand-alone on purpose: a torchrun rank or a `python -m` child cannot take a pytest fixture.
"""
import json
import runpy
import sys
import types
from pathlib import Path

# Packages whose __init__ imports Ray (for verl's runtime, not for the pieces the tests load).
BARE_PACKAGES = {"verl": "", "verl.utils.checkpoint": "utils/checkpoint"}


def install_bare(root: Path) -> None:
    """Make verl's modules importable one by one from its source tree, without those packages' __init__."""
    for name, sub in BARE_PACKAGES.items():
        package = types.ModuleType(name)
        package.__path__ = [str(root / sub)]
        sys.modules[name] = package


def save(policy: str, actor_dir: str, strategy: str, checkpoint: str) -> None:
    import torch
    import torch.distributed as dist
    from omegaconf import OmegaConf
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import FullyShardedDataParallel, ShardingStrategy
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from verl.utils.checkpoint.fsdp_checkpoint_manager import FSDPCheckpointManager
    from verl.utils.fsdp_utils import apply_fsdp2, get_fsdp_wrap_policy

    dist.init_process_group("gloo")
    # verl's create_device_mesh on a CPU: one "fsdp" dimension over every rank
    mesh = init_device_mesh("cpu", (dist.get_world_size(),), mesh_dim_names=("fsdp",))
    model = AutoModelForCausalLM.from_pretrained(policy, dtype=torch.float32)
    if strategy == "fsdp":
        # verl also passes sync_module_states=True, which FSDP allows only on a GPU; every rank loaded the
        # same file, so there is nothing to synchronise
        model = FullyShardedDataParallel(model, auto_wrap_policy=get_fsdp_wrap_policy(model, config=None),
                                         device_id=torch.device("cpu"), device_mesh=mesh,
                                         sharding_strategy=ShardingStrategy.FULL_SHARD)
    else:
        apply_fsdp2(model, {"mesh": mesh}, {})
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)
    manager = FSDPCheckpointManager(model=model, optimizer=optimizer, lr_scheduler=None,
                                    processing_class=AutoTokenizer.from_pretrained(policy),
                                    checkpoint_config=OmegaConf.create(json.loads(checkpoint)))
    manager.save_checkpoint(actor_dir, global_step=int(Path(actor_dir).parent.name.removeprefix("global_step_")))
    dist.destroy_process_group()


if __name__ == "__main__":
    root, command, *args = sys.argv[1:]
    install_bare(Path(root))
    if command == "module":
        sys.argv = args
        runpy.run_module(args[0], run_name="__main__", alter_sys=True)
    elif command == "save":
        save(*args)
    else:
        raise SystemExit(f"unknown command {command!r}")
