"""The one torch Dataset and collate used by training, evaluation and search.

A batch is a dict:
  index                 LongTensor [B]          window index in the WindowSet
  categorical_features  dict field -> LongTensor [B, T]  vocabulary ids (PAD=0 at padding, UNK=1 unseen)
  coordinates           FloatTensor [B, T, 2]   x/y in [0, 1] by layout bounds; NaN where unknown and at padding
  time_deltas           FloatTensor [B, T]      seconds since the previous event; 0 at padding
  time_of_day           FloatTensor [B, T]      seconds since local midnight; 0 at padding
  mask                  BoolTensor [B, T]       True for real events (right padding)
  captions              list[list[str]]         up to max_captions captions of caption_types per window
  label_l1, label_l2    list[str]
  features              FloatTensor [B, F]      only when cached frozen-backbone features were given
Encoders must treat NaN coordinates themselves (e.g. torch.nan_to_num plus the mask).
"""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from .vocab import Vocab
from .windows import US_PER_DAY, WindowSet

CAPTION_TYPES = ("long", "short", "all")


def select_captions(captions: dict[str, list[str]], caption_types: str, max_captions: int) -> list[str]:
    """The captions a window offers for training: `caption_types` long / short / all, at most `max_captions`."""
    if caption_types == "all":
        pool = [c for style in sorted(captions) for c in captions[style]]
    else:
        pool = [c for style, caps in sorted(captions.items()) if style.startswith(caption_types) for c in caps]
    return pool[:max_captions]


class WindowDataset(Dataset):
    """Windows as model inputs; vocabulary ids are computed once for the whole set."""

    def __init__(self, windows: WindowSet, vocab: Vocab, *, features: np.ndarray | None = None,
                 caption_types: str = "long", max_captions: int = 4):
        if caption_types not in CAPTION_TYPES:
            raise ValueError(f"caption_types must be one of {CAPTION_TYPES}, got {caption_types!r}")
        self.windows = windows
        self.vocab = vocab
        self.ids, self.unk_counts = vocab.encode(windows)
        self.features = features
        self.caption_types = caption_types
        self.max_captions = max_captions
        mask = windows.mask
        self._tod = np.where(mask, (windows.time % US_PER_DAY) / 1e6, 0.0).astype(np.float32)
        self._dt = np.where(mask, windows.time_delta, 0.0).astype(np.float32)
        self._xy = np.where(mask[..., None], windows.xy, np.nan).astype(np.float32)

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, i: int) -> dict:
        return self.get_batch([i])

    def __getitems__(self, indices: list[int]) -> dict:
        # DataLoader fetches whole batches through this: one vectorised slice instead of B small dicts.
        return self.get_batch(indices)

    def get_batch(self, indices) -> dict:
        """The batch of the windows at `indices` (vectorised; see the module docstring for the keys)."""
        idx = np.asarray(indices, dtype=np.int64)
        w = self.windows
        batch = {
            "index": torch.as_tensor(idx),
            "categorical_features": {k: torch.as_tensor(v[idx]) for k, v in self.ids.items()},
            "coordinates": torch.as_tensor(self._xy[idx]),
            "time_deltas": torch.as_tensor(self._dt[idx]),
            "time_of_day": torch.as_tensor(self._tod[idx]),
            "mask": torch.as_tensor(w.mask[idx]),
            "captions": [select_captions(w.captions[i], self.caption_types, self.max_captions) if w.captions else []
                         for i in idx],
            "label_l1": [str(w.label_l1[i]) for i in idx],
            "label_l2": [str(w.label_l2[i]) for i in idx],
        }
        if self.features is not None:
            batch["features"] = torch.as_tensor(np.asarray(self.features[idx], dtype=np.float32))
        return batch


def collate(items: dict | list[dict]) -> dict:
    """Collate for DataLoader: batches come whole from `WindowDataset.__getitems__`; single items are joined."""
    if isinstance(items, dict):
        return items
    joined = {
        "index": torch.cat([it["index"] for it in items]),
        "categorical_features": {k: torch.cat([it["categorical_features"][k] for it in items])
                                 for k in items[0]["categorical_features"]},
        "captions": [c for it in items for c in it["captions"]],
        "label_l1": [x for it in items for x in it["label_l1"]],
        "label_l2": [x for it in items for x in it["label_l2"]],
    }
    for key in ("coordinates", "time_deltas", "time_of_day", "mask", "features"):
        if key in items[0]:
            joined[key] = torch.cat([it[key] for it in items])
    return joined
