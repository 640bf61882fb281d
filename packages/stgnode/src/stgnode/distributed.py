"""Process-group set-up from torchrun's environment, rank-0-only writes and metric reduction.

`torchrun --nproc-per-node N [--nnodes K --rdzv-endpoint host:port] -m stgnode train ...` sets
RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; `init_distributed` reads them and
joins the group: NCCL when training on CUDA (one GPU per local rank), gloo on CPU. Without
those variables (or with WORLD_SIZE=1) it is a plain single process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from stgnode.config import ConfigError
from stgnode.errors import StgnodeError

BACKENDS: dict[str, str] = {"cuda": "nccl", "cpu": "gloo"}


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: its rank among `world` processes and its device."""

    rank: int
    world: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """True on the one process that writes files, logs and checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1


def pick_device(preference: str, local_rank: int = 0) -> torch.device:
    """`auto` -> this local rank's GPU when CUDA is available, else CPU; `cuda` without CUDA fails."""
    if preference not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"device must be auto, cpu or cuda, got {preference!r}")
    if preference == "cuda" and not torch.cuda.is_available():
        raise StgnodeError("--device cuda asked for, but torch sees no CUDA device")
    if preference == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", local_rank % torch.cuda.device_count())


def init_distributed(preference: str = "auto") -> DistContext:
    """Join the process group torchrun describes in the environment (or run alone)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(preference, local_rank)
    if world > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(BACKENDS[device.type], rank=rank, world_size=world)
    return DistContext(rank, world, local_rank, device)


def all_reduce_sum(values: list[float], ctx: DistContext) -> list[float]:
    """Sum each number over all ranks (float64 on the rank's device); identity when alone."""
    if not ctx.distributed:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def broadcast_buffers(module: torch.nn.Module, ctx: DistContext) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every rank (no-op alone)."""
    if ctx.distributed:
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)


def shutdown(ctx: DistContext) -> None:
    """Leave the process group if this process joined one."""
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()
