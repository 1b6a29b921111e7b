"""What each optimizer step sees and how fast it learns: the counter-based caption draw, the seeded sharded
epoch order, the learning-rate schedule and the weight-decay groups. Pure functions, shared by the CLIP trainer
and the supervised head, so a resumed or distributed run makes exactly the same choices."""
from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import DistributedSampler

from . import distributed as dist_utils


_P = 2 ** 31


def _mix(x: torch.Tensor) -> torch.Tensor:
    """A cheap integer hash on int64 values in [0, 2^31) (products stay below 2^62: no overflow)."""
    for _ in range(2):
        x = (x * 1103515245 + 12345) % _P
        x = x ^ (x >> 15)
    return x


def choose_captions(ids: torch.Tensor, counts: torch.Tensor, windows: torch.Tensor, seed: int,
                    step: int) -> torch.Tensor:
    """One caption id per window, drawn uniformly among its captions by a hash of (seed, step, window).

    A counter-based draw: the same window at the same step gets the same caption whatever the batch, the
    number of processes, or an interruption in between."""
    key = _mix(_mix((windows % _P) ^ (seed % _P)) ^ (step % _P))
    pick = (key >> 8) % counts[windows]
    return ids[windows, pick]


def lr_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """Multiplier of the base learning rate at optimizer step `step` (0-based): linear warm-up, then cosine."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def epoch_batches(n: int, batch_size: int, epoch: int, seed: int, info: dist_utils.DistInfo) -> list[np.ndarray]:
    """This rank's batches of an epoch: a seeded shuffle sharded by DistributedSampler, incomplete batch dropped.

    A shard smaller than one batch gives one batch of the whole shard."""
    sampler = DistributedSampler(range(n), num_replicas=info.world_size, rank=info.rank, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    order = np.fromiter(iter(sampler), dtype=np.int64)
    steps = max(1, len(order) // batch_size)
    return [order[i * batch_size:(i + 1) * batch_size] for i in range(steps)]


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """AdamW groups: weight decay on matrices only; biases, norms and the temperature are exempt."""
    decay, exempt = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (exempt if p.ndim < 2 or name.endswith("logit_scale") else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": exempt, "weight_decay": 0.0}]
