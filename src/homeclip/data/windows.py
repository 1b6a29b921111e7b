"""Windows: cutting an EventLog into fixed-length / fixed-duration / pre-segmented windows, labels, day split.

`WindowSet` is the contract between the data pipeline and everything downstream (captions, vocab, batches,
encoders, evaluation). Padding is on the RIGHT: real events first, `mask` True for them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Per-event categorical fields, in this order everywhere (vocabulary, batches, encoders).
CATEGORICAL_FIELDS = ("sensor", "room", "state", "sensor_type", "tod_bucket", "dow", "dt_bucket")
SPLITS = ("train", "val", "test")


@dataclass
class WindowSet:
    """N windows of up to T events each (arrays), plus per-window labels, split and captions.

    codes[field]  int32 [N, T]  index into categories[field]; -1 at padding (raw strings, no vocabulary yet)
    time          int64 [N, T]  event time, microseconds since the epoch of the naive local clock; 0 at padding
    time_delta    float32 [N, T] seconds since the previous event of the log (first event of the log: 0); 0 at padding
    xy            float32 [N, T, 2] position normalised by the layout's bounds; NaN when unknown and at padding
    mask          bool [N, T]   True for real events (a prefix of each row)
    label_l1/l2   object [N]    majority fine / coarse label
    label_fractions list[dict[str, float]] per window: fraction of its events carrying each L1 label
    split         object [N]    "train" | "val" | "test"
    start/end     datetime64[us] [N] first / last event time
    day           datetime64[D] [N] the day the window starts (the unit of the split)
    captions      list[dict[str, list[str]]] per window: caption style -> captions (empty dicts until captioned)
    """

    codes: dict[str, np.ndarray]
    categories: dict[str, list[str]]
    time: np.ndarray
    time_delta: np.ndarray
    xy: np.ndarray
    mask: np.ndarray
    label_l1: np.ndarray
    label_l2: np.ndarray
    label_fractions: list[dict[str, float]]
    split: np.ndarray
    start: np.ndarray
    end: np.ndarray
    day: np.ndarray
    captions: list[dict[str, list[str]]] = field(default_factory=list)
    home: str = ""
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.mask.shape[0])

    @property
    def seq_len(self) -> int:
        """T, the padded window length."""
        return int(self.mask.shape[1])

    def strings(self, field_name: str, i: int) -> list[str]:
        """The real events' values of one categorical field of window i, as strings."""
        cats = self.categories[field_name]
        return [cats[c] for c in self.codes[field_name][i][self.mask[i]]]

    def subset(self, index: np.ndarray | list[int]) -> "WindowSet":
        """A new WindowSet with the windows at `index` (in that order); categories are shared."""
        idx = np.asarray(index, dtype=np.int64)
        return WindowSet(
            codes={k: v[idx] for k, v in self.codes.items()},
            categories=self.categories,
            time=self.time[idx], time_delta=self.time_delta[idx], xy=self.xy[idx], mask=self.mask[idx],
            label_l1=self.label_l1[idx], label_l2=self.label_l2[idx],
            label_fractions=[self.label_fractions[i] for i in idx],
            split=self.split[idx], start=self.start[idx], end=self.end[idx], day=self.day[idx],
            captions=[self.captions[i] for i in idx] if self.captions else [],
            home=self.home, meta=dict(self.meta),
        )

    def select_split(self, name: str) -> "WindowSet":
        """The windows of one split."""
        return self.subset(np.flatnonzero(self.split == name))

    def content_hash(self) -> str:
        """A hash of the window contents (events, not captions or labels): the key of frozen-feature caches."""
        import hashlib

        h = hashlib.sha256()
        for name in sorted(self.codes):
            cats = self.categories[name]
            h.update(name.encode())
            h.update("\x1f".join(cats).encode())
            h.update(np.ascontiguousarray(self.codes[name]).tobytes())
        for arr in (self.time, self.time_delta, np.nan_to_num(self.xy, nan=-7.0), self.mask):
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()[:24]
