"""Contrastive losses (the config's `loss`) and the hard-negative bank.

  infonce        bidirectional InfoNCE with a clamped learnable temperature (CLIP)
  focal_infonce  the same with each row's cross-entropy weighted by (1 - p)^gamma, p the probability of its own
                 pair (focal loss, Lin et al. 2017): pairs the model already matches count less
  siglip         SigLIP's pairwise sigmoid loss (Zhai et al. 2023) with a learnable bias: every pair is its own
                 binary decision, so no softmax over the batch

Captions are referred to by id (their row in the run's table of distinct caption texts), so identical texts
share an id. Two windows with the same caption text are not each other's negatives, in the batch or in the bank.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .config import LOSSES

# temperature = exp(-logit_scale) stays in [0.01, 1]: logit_scale in [0, ln 100], as in CLIP.
LOGIT_SCALE_MAX = math.log(100.0)
# SigLIP's initialisation (paper, section 3.3): t' = log 10 (temperature 0.1) and bias -10, so that at the start
# the many negative pairs already score low and do not swamp the one positive per row.
SIGLIP_TEMPERATURE_INIT = 0.1
SIGLIP_BIAS_INIT = -10.0


def clamp_logit_scale(logit_scale: torch.Tensor) -> torch.Tensor:
    """The logit scale limited to [0, ln 100] (temperature in [0.01, 1])."""
    return logit_scale.clamp(0.0, LOGIT_SCALE_MAX)


@dataclass
class ClipOutput:
    """The loss and the in-batch accuracies (fraction of rows whose own pair scores highest)."""

    loss: torch.Tensor
    acc_s2t: torch.Tensor
    acc_t2s: torch.Tensor


def _pair_logits(sensor: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor,
                 caption_ids: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """[B, B] scaled similarities and the [B, B] mask of off-diagonal pairs sharing a caption text (or None)."""
    logits = clamp_logit_scale(logit_scale).exp() * sensor @ text.t()
    if caption_ids is None:
        return logits, None
    eye = torch.eye(len(caption_ids), dtype=torch.bool, device=logits.device)
    return logits, (caption_ids[:, None] == caption_ids[None, :]) & ~eye


def _accuracies(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Fraction of rows (sensor->text) and columns (text->sensor) whose own pair scores highest."""
    with torch.no_grad():
        target = torch.arange(logits.shape[0], device=logits.device)
        return (logits.argmax(1) == target).float().mean(), (logits.argmax(0) == target).float().mean()


def clip_loss(sensor: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor, *,
              caption_ids: torch.Tensor | None = None, extra_logits: torch.Tensor | None = None,
              focal_gamma: float = 0.0) -> ClipOutput:
    """Bidirectional InfoNCE over a batch of matching pairs (row i of `sensor` belongs with row i of `text`).

    sensor, text   [B, D] unit rows;  logit_scale  scalar (log of 1 / temperature, clamped here)
    caption_ids    [B] optional; pairs j != i with the same caption id are removed from row i's negatives
    extra_logits   [B, K] optional additional sensor->text negatives (hard negatives), already scaled and masked
    focal_gamma    > 0: focal InfoNCE, each row's -log p weighted by (1 - p)^gamma (0: plain InfoNCE)
    """
    logits, same = _pair_logits(sensor, text, logit_scale, caption_ids)
    if same is not None:
        logits = logits.masked_fill(same, float("-inf"))
    target = torch.arange(logits.shape[0], device=logits.device)
    s2t = logits if extra_logits is None else torch.cat([logits, extra_logits], dim=1)
    rows = F.cross_entropy(s2t, target, reduction="none"), F.cross_entropy(logits.t(), target, reduction="none")
    if focal_gamma > 0:   # p = exp(-ce); the weight is differentiated too, as in the focal loss
        rows = tuple((1.0 - torch.exp(-ce)).pow(focal_gamma) * ce for ce in rows)
    return ClipOutput(0.5 * (rows[0].mean() + rows[1].mean()), *_accuracies(logits))


def siglip_loss(sensor: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor, logit_bias: torch.Tensor, *,
                caption_ids: torch.Tensor | None = None, extra_logits: torch.Tensor | None = None) -> ClipOutput:
    """SigLIP: -1/B sum_ij log sigmoid(z_ij (t x_i.y_j + b)), z_ii = +1 and z_ij = -1 otherwise.

    Pairs j != i sharing a caption id are left out (neither positive nor negative); `extra_logits` [B, K] are
    sensor->text negatives, scaled, with -inf at positives (which then add nothing)."""
    logits, same = _pair_logits(sensor, text, logit_scale, caption_ids)
    n = logits.shape[0]
    sign = 2.0 * torch.eye(n, device=logits.device) - 1.0
    terms = F.logsigmoid(sign * (logits + logit_bias))
    if same is not None:
        terms = terms.masked_fill(same, 0.0)
    loss = -terms.sum() / n
    if extra_logits is not None:
        loss = loss - F.logsigmoid(-(extra_logits + logit_bias)).sum() / n
    return ClipOutput(loss, *_accuracies(logits if same is None else logits.masked_fill(same, float("-inf"))))


LossFn = Callable[..., ClipOutput]


def contrastive_loss(name: str, focal_gamma: float = 0.0) -> LossFn:
    """The config's loss as one call: fn(sensor, text, logit_scale, logit_bias, *, caption_ids, extra_logits)."""
    if name == "siglip":
        return siglip_loss
    if name in ("infonce", "focal_infonce"):
        gamma = focal_gamma if name == "focal_infonce" else 0.0

        def infonce(sensor, text, logit_scale, logit_bias=None, **kwargs) -> ClipOutput:
            return clip_loss(sensor, text, logit_scale, focal_gamma=gamma, **kwargs)
        return infonce
    raise ValueError(f"unknown loss {name!r}; expected one of {LOSSES}")


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
