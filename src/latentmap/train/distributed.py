"""Data-parallel training under ``torchrun``: which process this is, and the pieces the
training loop needs (process group, shards of each epoch's permutation, summed metrics).

``torchrun --nproc_per_node N -m latentmap train ...`` starts N processes with RANK,
WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE set; without them a run is one process
(world size 1) and nothing here does anything. gloo on CPU, NCCL on CUDA.
"""

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def world_from_env() -> World:
    env = os.environ
    if "WORLD_SIZE" not in env or int(env["WORLD_SIZE"]) <= 1:
        return World()
    return World(
        rank=int(env["RANK"]),
        size=int(env["WORLD_SIZE"]),
        local_rank=int(env.get("LOCAL_RANK", 0)),
        local_size=int(env.get("LOCAL_WORLD_SIZE", 1)),
    )


def start(world: World, device: torch.device) -> torch.device:
    """Join the process group (once); returns this rank's device (cuda:LOCAL_RANK on GPUs)."""
    if not world.distributed:
        return device
    if device.type == "cuda":
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def stop(world: World) -> None:
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def shard(order: torch.Tensor, world: World) -> torch.Tensor:
    """This rank's part of an epoch's permutation: every size-th index from its rank, all
    ranks the same length, so batch k of all ranks together is batch k of one process."""
    if not world.distributed:
        return order
    usable = len(order) // world.size * world.size
    return order[:usable].view(-1, world.size)[:, world.rank].contiguous()


def summed(values: dict[str, torch.Tensor], world: World) -> dict[str, torch.Tensor]:
    """Per-metric sums over all ranks (in place of each rank's own)."""
    if not world.distributed or not values:
        return values
    names = sorted(values)
    stacked = torch.stack([torch.as_tensor(values[k], dtype=torch.float64) for k in names])
    dist.all_reduce(stacked)
    return dict(zip(names, stacked, strict=True))


def gathered(value: torch.Tensor, world: World, device: torch.device) -> list[torch.Tensor]:
    """Every rank's ``value`` (same shape and type on all ranks), on the CPU, in rank order."""
    if not world.distributed:
        return [value]
    local = value.to(device)  # NCCL gathers CUDA tensors, gloo CPU ones
    parts = [torch.empty_like(local) for _ in range(world.size)]
    dist.all_gather(parts, local)
    return [part.cpu() for part in parts]
