"""Small synthetic inputs for tests and benchmarks that need a valid WindowSet without the full pipeline."""
from __future__ import annotations

import numpy as np

from .data.windows import CATEGORICAL_FIELDS, WindowSet

_ROOMS = ["kitchen", "bedroom", "bathroom", "living_room", "office", "entrance"]
_LABELS = {"Cook": "Cook", "Sleep": "Sleep", "Bathing": "Bathing", "Watch_TV": "Relax", "Desk_Activity": "Work",
           "Leave_Home": "Leave_Home"}


def random_windowset(n: int = 32, seq_len: int = 50, seed: int = 0, *, n_sensors: int = 12,
                     min_len: int | None = None) -> WindowSet:
    """A WindowSet of `n` random windows whose contents depend on the label (so models can learn something).

    Rows have between `min_len` (default seq_len // 2) and seq_len real events, right-padded."""
    rng = np.random.default_rng(seed)
    labels = list(_LABELS)
    min_len = seq_len // 2 if min_len is None else min_len
    categories = {
        "sensor": [f"M{i:03d}" for i in range(1, n_sensors + 1)],
        "room": list(_ROOMS),
        "state": ["ON", "OFF"],
        "sensor_type": ["motion", "door"],
        "tod_bucket": ["night", "morning", "afternoon", "evening"],
        "dow": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        "dt_bucket": ["<1s", "1-5s", "5-30s", "30s-5m", ">5m"],
    }
    codes = {f: np.full((n, seq_len), -1, dtype=np.int32) for f in CATEGORICAL_FIELDS}
    mask = np.zeros((n, seq_len), dtype=bool)
    time = np.zeros((n, seq_len), dtype=np.int64)
    dt = np.zeros((n, seq_len), dtype=np.float32)
    xy = np.full((n, seq_len, 2), np.nan, dtype=np.float32)
    l1 = np.empty(n, dtype=object)
    day0 = np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64)
    days = np.empty(n, dtype="datetime64[D]")
    for i in range(n):
        k = int(rng.integers(min_len, seq_len + 1))
        lab = labels[i % len(labels)]
        l1[i] = lab
        home_room = labels.index(lab) % len(_ROOMS)
        sensors = (home_room * 2 + rng.integers(0, 3, size=k)) % n_sensors
        codes["sensor"][i, :k] = sensors
        codes["room"][i, :k] = (sensors // 2) % len(_ROOMS)
        codes["state"][i, :k] = np.arange(k) % 2
        codes["sensor_type"][i, :k] = (sensors == 0).astype(np.int32)
        gaps = rng.exponential(5.0 + 10 * home_room, size=k).astype(np.float32)
        t0 = day0 + (i // 4) * 86_400_000_000 + int(rng.integers(0, 80_000)) * 1_000_000
        t = t0 + np.cumsum((gaps * 1e6).astype(np.int64))
        time[i, :k] = t
        dt[i, :k] = gaps
        hours = (t // 3_600_000_000) % 24
        codes["tod_bucket"][i, :k] = np.minimum(hours // 6, 3)
        codes["dow"][i, :k] = ((t // 86_400_000_000) + 3) % 7
        codes["dt_bucket"][i, :k] = np.digitize(gaps, [1, 5, 30, 300])
        xy[i, :k, 0] = (sensors % 4) / 3.0
        xy[i, :k, 1] = (sensors // 4) / 3.0
        mask[i, :k] = True
        days[i] = np.datetime64(int(t[0]), "us").astype("datetime64[D]")
    split = np.array(["train", "train", "val", "test"] * ((n + 3) // 4), dtype=object)[:n]
    start = np.array([np.datetime64(int(time[i, 0]), "us") for i in range(n)])
    end = np.array([np.datetime64(int(time[i, mask[i]][-1]), "us") for i in range(n)])
    captions = [
        {"long": [f"Activity in the {_ROOMS[labels.index(l1[i]) % len(_ROOMS)]} over several minutes.",
                  f"Someone moves around the {_ROOMS[labels.index(l1[i]) % len(_ROOMS)]}."],
         "short": [f"{_ROOMS[labels.index(l1[i]) % len(_ROOMS)]} activity"]}
        for i in range(n)
    ]
    return WindowSet(
        codes=codes, categories=categories, time=time, time_delta=dt, xy=xy, mask=mask,
        label_l1=l1, label_l2=np.array([_LABELS[x] for x in l1], dtype=object),
        label_fractions=[{str(x): 1.0} for x in l1], split=split, start=start, end=end, day=days,
        captions=captions, home="synthetic", meta={"synthetic": True},
    )
