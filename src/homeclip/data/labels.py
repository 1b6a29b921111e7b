"""Window labels: the majority fine (L1) label and its fractions, the coarse (L2) label, and the same per
resident (docs/dataset-format.md, "Labels").

The flattened labels (`label_l1`, `label_l2`, `label_fractions`) come from every event's primary label, as
they always have; the per-resident ones from each resident's own primary label (data/residents.py), an event
without an open activity of that resident counting as the default label.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .homes import Home


@dataclass
class WindowLabels:
    """The labels of N windows: flattened, and per resident (empty dicts for a single-resident log)."""

    l1: np.ndarray                                    # object [N]
    l2: np.ndarray                                    # object [N]
    fractions: list[dict[str, float]]
    l1_by_resident: dict[str, np.ndarray] = field(default_factory=dict)   # resident -> object [N]
    l2_by_resident: dict[str, np.ndarray] = field(default_factory=dict)


def window_labels(label: np.ndarray, names: list[str], by_resident: dict[str, tuple[np.ndarray, list[str]]],
                  idx: np.ndarray, mask: np.ndarray, home: "Home") -> WindowLabels:
    """Labels of the windows whose events are `idx` [N, T] (real where `mask`), from per-event label codes:
    the flattened ones (`label` into `names`) and each resident's (codes, names)."""
    length = mask.sum(axis=1)
    residents = list(by_resident)
    l1, l2, fractions = _level_labels(label, names, idx, mask, length, home, residents)
    out = WindowLabels(l1, l2, fractions)
    for resident, (codes, own_names) in by_resident.items():
        out.l1_by_resident[resident], out.l2_by_resident[resident], _ = _level_labels(
            codes, own_names, idx, mask, length, home, residents)
    return out


def _level_labels(label: np.ndarray, names: list[str], idx: np.ndarray, mask: np.ndarray, length: np.ndarray,
                  home: "Home", residents: list[str]) -> tuple[np.ndarray, np.ndarray, list[dict[str, float]]]:
    best, fractions = majority(np.where(mask, label[idx], -1), length, names)
    names = names or [home.default_label]
    n = idx.shape[0]
    l1 = np.array(names, dtype=object)[best].reshape(n)
    l2 = np.array([home.l2(x, residents) for x in names], dtype=object)[best].reshape(n)
    return l1, l2, fractions


def majority(labels: np.ndarray, length: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[dict]]:
    """Index of the majority label per window (ties: the label seen latest in the window), and every label's
    fraction of the window's events (most frequent first). `labels` [N, T]: codes, -1 at padding."""
    n, seq_len = labels.shape
    k = len(names)
    rows = np.repeat(np.arange(n), seq_len).reshape(n, seq_len)
    real = labels >= 0
    counts = np.zeros((n, max(k, 1)), dtype=np.int64)
    np.add.at(counts, (rows[real], labels[real]), 1)
    last = np.zeros_like(counts)
    np.maximum.at(last, (rows[real], labels[real]), np.broadcast_to(np.arange(1, seq_len + 1), (n, seq_len))[real])
    best = np.argmax(counts * (seq_len + 1) + last, axis=1)
    w_idx, k_idx = np.nonzero(counts)
    order = np.lexsort((-counts[w_idx, k_idx], w_idx))      # within a window: most frequent first
    fractions: list[dict[str, float]] = [{} for _ in range(n)]
    values = (counts[w_idx, k_idx] / length[w_idx]).tolist()
    for j in order.tolist():
        fractions[w_idx[j]][names[k_idx[j]]] = values[j]
    return best, fractions
