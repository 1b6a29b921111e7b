"""Multi-process training helpers: read torchrun's environment, gather embeddings across ranks.

Under `torchrun --nproc_per_node=N` every process trains on its shard of each epoch; the contrastive loss is
computed on the embeddings of ALL ranks (gathered with gradient), so every window sees the whole global batch
as negatives. With one process these helpers are no-ops.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Only the main process writes files and logs."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1


def init_distributed(device: str) -> DistInfo:
    """Join the process group torchrun describes (WORLD_SIZE > 1), else a single-process DistInfo."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    info = DistInfo(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    return info


def shutdown_distributed(info: DistInfo) -> None:
    """Leave the process group (if this module joined one)."""
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    """Wait for every rank (no-op with one process)."""
    if info.enabled:
        dist.barrier()


def gather_with_grad(t: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Concatenate `t` from every rank in rank order; gradients flow back to each rank's own rows."""
    if not info.enabled:
        return t
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(t), dim=0)


def gather_no_grad(t: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Concatenate `t` (ids, labels) from every rank in rank order."""
    if not info.enabled:
        return t
    parts = [torch.empty_like(t) for _ in range(info.world_size)]
    dist.all_gather(parts, t.contiguous())
    return torch.cat(parts, dim=0)


def any_rank(flag: bool, info: DistInfo, device: str | torch.device = "cpu") -> bool:
    """True if `flag` is True on any rank (so all ranks stop together, e.g. after Ctrl-C)."""
    if not info.enabled:
        return flag
    t = torch.tensor([1 if flag else 0], device=device)  # NCCL reduces CUDA tensors only
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def broadcast_from_main(obj, info: DistInfo):
    """Rank 0's value of a picklable `obj` on every rank (the value itself with one process)."""
    if not info.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
