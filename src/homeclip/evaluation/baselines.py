"""Baselines scored on the same split as the model: majority class, bag-of-sensors, caption-only.

- majority: every test window gets the most frequent train label.
- bag-of-sensors: counts of sensor, state and room values per window (vocabulary from train only), tf-idf
  weighted, then the same linear probe as the model's embeddings. No neural network anywhere.
- caption-only: a window's captions embedded by the frozen text encoder alone (no trained projection),
  averaged, against label prototypes from the same raw encoder. It shows how much the captions already give away.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..data.windows import WindowSet

BAG_FIELDS = ("sensor", "state", "room")


def majority_class(train_y: Sequence[str], n_test: int) -> np.ndarray:
    """The most frequent train label for every test window (ties: alphabetical first)."""
    counts = Counter(str(y) for y in train_y)
    if not counts:
        raise ValueError("the train split is empty")
    best = max(sorted(counts), key=lambda c: counts[c])
    return np.full(n_test, best, dtype=object)


def bag_vocabulary(windows: WindowSet, fields: Sequence[str] = BAG_FIELDS) -> list[str]:
    """The "field=value" tokens seen in real events of `windows` (call it on train only)."""
    tokens: set[str] = set()
    for name in fields:
        cats = windows.categories[name]
        used = np.unique(windows.codes[name][windows.mask])
        tokens.update(f"{name}={cats[c]}" for c in used if c >= 0)
    return sorted(tokens)


def bag_counts(windows: WindowSet, vocabulary: Sequence[str], fields: Sequence[str] = BAG_FIELDS) -> tuple[np.ndarray, int]:
    """Per-window counts [N, V] of each vocabulary token, and how many real events fell outside the vocabulary."""
    column = {t: j for j, t in enumerate(vocabulary)}
    counts = np.zeros((len(windows), len(vocabulary)), dtype=np.float32)
    unseen = 0
    rows = np.broadcast_to(np.arange(len(windows))[:, None], windows.mask.shape)[windows.mask]
    for name in fields:
        cats = windows.categories[name]
        # Map each raw category to its column once (-1 when unseen in train), then scatter all events.
        table = np.array([column.get(f"{name}={c}", -1) for c in cats] + [-1], dtype=np.int64)
        codes = windows.codes[name][windows.mask]
        cols = table[np.where(codes < 0, len(cats), codes)]
        unseen += int((cols < 0).sum())
        np.add.at(counts, (rows[cols >= 0], cols[cols >= 0]), 1.0)
    return counts, unseen


def bag_of_sensors_features(train: WindowSet, test: WindowSet) -> tuple[np.ndarray, np.ndarray, dict]:
    """tf-idf weighted bag-of-sensors features for train and test (idf fit on train), plus counts for the report."""
    from sklearn.feature_extraction.text import TfidfTransformer

    vocabulary = bag_vocabulary(train)
    train_counts, _ = bag_counts(train, vocabulary)
    test_counts, unseen = bag_counts(test, vocabulary)
    tfidf = TfidfTransformer().fit(train_counts)
    info = {"n_features": len(vocabulary), "fields": list(BAG_FIELDS), "test_events_unseen_in_train": unseen}
    return (np.asarray(tfidf.transform(train_counts).todense()),
            np.asarray(tfidf.transform(test_counts).todense()), info)


def caption_embeddings(captions: Sequence[Sequence[str]], text_embeddings: dict[str, np.ndarray]) -> tuple[np.ndarray, int]:
    """Mean unit text embedding of each window's captions, renormalised; zero rows for windows without captions.

    Returns the [N, D] matrix and the number of windows that had no caption."""
    dim = len(next(iter(text_embeddings.values()))) if text_embeddings else 0
    out = np.zeros((len(captions), dim), dtype=np.float32)
    empty = 0
    for i, caps in enumerate(captions):
        if not caps:
            empty += 1
            continue
        mean = np.mean([text_embeddings[c] for c in caps], axis=0)
        out[i] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return out, empty
