"""Contrastive losses: bidirectional InfoNCE with a clamped learnable temperature, and the hard-negative bank.

Captions are referred to by id (their row in the run's table of distinct caption texts), so identical texts
share an id. Two windows with the same caption text are not each other's negatives, in the batch or in the bank.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# temperature = exp(-logit_scale) stays in [0.01, 1]: logit_scale in [0, ln 100], as in CLIP.
LOGIT_SCALE_MAX = math.log(100.0)


def clamp_logit_scale(logit_scale: torch.Tensor) -> torch.Tensor:
    """The logit scale limited to [0, ln 100] (temperature in [0.01, 1])."""
    return logit_scale.clamp(0.0, LOGIT_SCALE_MAX)


@dataclass
class ClipOutput:
    """The loss and the in-batch accuracies (fraction of rows whose own pair scores highest)."""

    loss: torch.Tensor
    acc_s2t: torch.Tensor
    acc_t2s: torch.Tensor


def clip_loss(sensor: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor, *,
              caption_ids: torch.Tensor | None = None, extra_logits: torch.Tensor | None = None) -> ClipOutput:
    """Bidirectional InfoNCE over a batch of matching pairs (row i of `sensor` belongs with row i of `text`).

    sensor, text   [B, D] unit rows;  logit_scale  scalar (log of 1 / temperature, clamped here)
    caption_ids    [B] optional; pairs j != i with the same caption id are removed from row i's negatives
    extra_logits   [B, K] optional additional sensor->text negatives (hard negatives), already scaled and masked
    """
    scale = clamp_logit_scale(logit_scale).exp()
    logits = scale * sensor @ text.t()
    n = logits.shape[0]
    target = torch.arange(n, device=logits.device)
    if caption_ids is not None:
        same = (caption_ids[:, None] == caption_ids[None, :]) & ~torch.eye(n, dtype=torch.bool, device=logits.device)
        logits = logits.masked_fill(same, float("-inf"))
    s2t = logits if extra_logits is None else torch.cat([logits, extra_logits], dim=1)
    loss = 0.5 * (F.cross_entropy(s2t, target) + F.cross_entropy(logits.t(), target))
    with torch.no_grad():
        acc_s2t = (logits.argmax(1) == target).float().mean()
        acc_t2s = (logits.argmax(0) == target).float().mean()
    return ClipOutput(loss, acc_s2t, acc_t2s)


class HardNegativeBank:
    """A FIFO memory of the captions of past batches (caption id + owning window id), never the current batch.

    Only ids are stored: the trainer looks up the frozen caption embedding and projects it with the CURRENT
    text projection each step, so bank negatives never go stale and carry gradient to the projection."""

    def __init__(self, size: int):
        self.size = size
        self.caption_ids = torch.full((size,), -1, dtype=torch.long)
        self.window_ids = torch.full((size,), -1, dtype=torch.long)
        self.position = 0   # next slot to overwrite
        self.filled = 0

    def push(self, caption_ids: torch.Tensor, window_ids: torch.Tensor) -> None:
        """Remember a finished batch (call after its loss, so a batch never meets its own captions)."""
        caption_ids, window_ids = caption_ids.detach().cpu()[-self.size:], window_ids.detach().cpu()[-self.size:]
        slots = (self.position + torch.arange(len(caption_ids))) % self.size
        self.caption_ids[slots] = caption_ids
        self.window_ids[slots] = window_ids
        self.position = int((self.position + len(caption_ids)) % self.size)
        self.filled = min(self.size, self.filled + len(caption_ids))

    def entries(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(caption ids, window ids) of the remembered entries."""
        return self.caption_ids[: self.filled], self.window_ids[: self.filled]

    def state_dict(self) -> dict:
        """Plain tensors and ints (checkpoint-safe)."""
        return {"caption_ids": self.caption_ids.clone(), "window_ids": self.window_ids.clone(),
                "position": self.position, "filled": self.filled}

    def load_state_dict(self, state: dict) -> None:
        """Restore `state_dict()` output."""
        self.caption_ids = state["caption_ids"].clone()
        self.window_ids = state["window_ids"].clone()
        self.size = len(self.caption_ids)
        self.position, self.filled = int(state["position"]), int(state["filled"])


def positive_mask(caption_ids: torch.Tensor, window_ids: torch.Tensor, bank_caption_ids: torch.Tensor,
                  bank_window_ids: torch.Tensor) -> torch.Tensor:
    """[B, M] True where bank entry m is a positive of window b: its own window, or the same caption text."""
    return (window_ids[:, None] == bank_window_ids[None, :]) | (caption_ids[:, None] == bank_caption_ids[None, :])


def hard_negative_logits(sensor: torch.Tensor, bank_text: torch.Tensor, logit_scale: torch.Tensor,
                         positives: torch.Tensor, k: int, strategy: str,
                         generator: torch.Generator | None = None) -> torch.Tensor:
    """[B, k'] scaled logits of bank negatives for each window; positives are -inf and never chosen over negatives.

    strategy "hardest": each window's k most similar bank captions; "random": k bank entries drawn with
    `generator` (the same draw for the whole batch)."""
    scale = clamp_logit_scale(logit_scale).exp()
    logits = (scale * sensor @ bank_text.t()).masked_fill(positives, float("-inf"))
    k = min(k, logits.shape[1])
    if strategy == "hardest":
        return logits.topk(k, dim=1).values
    if strategy == "random":
        pick = torch.randperm(logits.shape[1], generator=generator)[:k].to(logits.device)
        return logits[:, pick]
    raise ValueError(f"unknown hard negative strategy {strategy!r}")
