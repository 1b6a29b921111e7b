"""Windows: cutting an EventLog into fixed-length / fixed-duration / pre-segmented windows, labels, day split.

`WindowSet` is the contract between the data pipeline and everything downstream (captions, vocab, batches,
encoders, evaluation). Padding is on the RIGHT: real events first, `mask` True for them.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import UserError
from .labels import window_labels
from .residents import primary_by_resident, residents_of
from .segments import US_PER_S, event_time_deltas, segment_bounds, sources_of, unsorted_by_source
from .semantic import SEMANTIC_CATEGORIES, SEMANTIC_FIELDS, semantic_codes

if TYPE_CHECKING:  # only for type hints: keeps this module importable without pandas-heavy readers
    from .events import EventLog
    from .homes import Home

# Per-event categorical fields, in this order everywhere (vocabulary, batches, encoders). The seed fields are
# what the original encoders read (a model built from today's configs sees exactly these); the semantic fields
# come from the fixed taxonomy, so their values (and vocabulary ids) mean the same thing in every home.
SEED_FIELDS = ("sensor", "room", "state", "sensor_type", "tod_bucket", "dow", "dt_bucket")
CATEGORICAL_FIELDS = SEED_FIELDS + SEMANTIC_FIELDS
SPLITS = ("train", "val", "test")
STRATEGIES = ("fixed_length", "fixed_duration", "presegmented")

# Time-of-day buckets: (name, first hour). A bucket runs until the next one's first hour.
TOD_BUCKETS = (("night", 0), ("early_morning", 5), ("morning", 8), ("afternoon", 12), ("evening", 17),
               ("late_evening", 21))
DOW_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Δt buckets (seconds since the previous event of the log): bucket i holds DT_EDGES[i-1] <= Δt < DT_EDGES[i].
DT_EDGES = (1.0, 5.0, 30.0, 300.0, 3600.0)
DT_BUCKETS = ("<1s", "1-5s", "5-30s", "30s-5m", "5m-1h", ">=1h")
# No window spans a silence longer than this. Four hours is longer than the quiet stretches of a night's
# sleep (a sleeper still trips the bedroom sensor every hour or two), so nights stay whole, while long
# absences and recording outages (days without data in the CASAS logs) cut the log.
DEFAULT_MAX_GAP = 4 * 3600.0

_US_PER_HOUR = 3600 * US_PER_S
US_PER_DAY = 24 * _US_PER_HOUR


@dataclass
class WindowSet:
    """N windows of up to T events each (arrays), plus per-window labels, split and captions.

    codes[field]  int32 [N, T]  index into categories[field]; -1 at padding (raw strings, no vocabulary yet)
    time          int64 [N, T]  event time, microseconds since the epoch of the naive local clock; 0 at padding
    time_delta    float32 [N, T] seconds since the previous event of the log's same file (first event of a file: 0); 0 at padding
    xy            float32 [N, T, 2] position normalised by the layout's bounds; NaN when unknown and at padding
    mask          bool [N, T]   True for real events (a prefix of each row)
    label_l1/l2   object [N]    majority fine / coarse label (flattened: over every resident's labels)
    label_fractions list[dict[str, float]] per window: fraction of its events carrying each L1 label
    label_l1_by_resident / label_l2_by_resident  dict[str, object [N]] resident -> that resident's majority
                                fine / coarse label (empty dicts when the labels name no resident)
    split         object [N]    "train" | "val" | "test" ("" until assign_splits)
    start/end     datetime64[us] [N] first / last event time
    day           datetime64[D] [N] the day the window starts (the unit of the split)
    captions      list[dict[str, list[str]]] per window: caption style -> captions (empty dicts until captioned)
    home          the home the windows come from; for windows of several homes (`concat_windows`) their names
                  joined by "+" in order of appearance
    homes         object [N]   the home of each window (filled with `home` when not given)
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
    homes: np.ndarray | None = None
    label_l1_by_resident: dict[str, np.ndarray] = field(default_factory=dict)
    label_l2_by_resident: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.homes is None:
            self.homes = np.full(len(self), self.home, dtype=object)
        elif len(self.homes) != len(self):
            raise ValueError(f"homes has {len(self.homes)} entries for {len(self)} windows")

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

    @property
    def residents(self) -> list[str]:
        """The residents with labels of their own (R1, R2, ...; empty for a single-resident set)."""
        return list(self.label_l1_by_resident)

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
            home=home_name(self.homes[idx]) if len(idx) else self.home, meta=dict(self.meta), homes=self.homes[idx],
            label_l1_by_resident={r: v[idx] for r, v in self.label_l1_by_resident.items()},
            label_l2_by_resident={r: v[idx] for r, v in self.label_l2_by_resident.items()},
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


def home_name(homes) -> str:
    """The `home` of windows from `homes`: the one home, or the distinct names joined by "+" in order."""
    return "+".join(dict.fromkeys(str(h) for h in homes))


def concat_windows(sets: list[WindowSet]) -> WindowSet:
    """The windows of several WindowSets (e.g. of several homes) as one, in order; each keeps its home.

    Categories become the union of the parts' (first appearance order) with every part's codes remapped to it,
    rows are right-padded to the longest part's T, and `meta["parts"]` says where each part came from."""
    if not sets:
        raise ValueError("concat_windows needs at least one WindowSet")
    fields = [name for name in sets[0].codes]
    for ws in sets[1:]:
        if set(ws.codes) != set(fields):
            raise ValueError(f"WindowSets with different fields cannot be joined: {sorted(fields)} vs "
                             f"{sorted(ws.codes)}")
    categories = {name: list(dict.fromkeys(c for ws in sets for c in ws.categories[name])) for name in fields}
    seq_len = max(ws.seq_len for ws in sets)

    def padded(arr: np.ndarray, fill) -> np.ndarray:
        pad = [(0, 0), (0, seq_len - arr.shape[1])] + [(0, 0)] * (arr.ndim - 2)
        return np.pad(arr, pad, constant_values=fill)

    codes = {}
    for name in fields:
        parts = []
        index = {c: i for i, c in enumerate(categories[name])}
        for ws in sets:
            table = np.array([index[c] for c in ws.categories[name]] + [-1], dtype=np.int32)
            raw = ws.codes[name]
            parts.append(padded(table[np.where(raw < 0, len(ws.categories[name]), raw)], -1))
        codes[name] = np.concatenate(parts).astype(np.int32)

    def joined(attr: str, fill=None) -> np.ndarray:
        return np.concatenate([getattr(ws, attr) if fill is None else padded(getattr(ws, attr), fill) for ws in sets])

    captioned = any(ws.captions for ws in sets)
    homes = np.concatenate([ws.homes for ws in sets]).astype(object)
    return WindowSet(
        codes=codes, categories=categories, time=joined("time", 0), time_delta=joined("time_delta", 0.0),
        xy=joined("xy", np.nan), mask=joined("mask", False), label_l1=joined("label_l1"),
        label_l2=joined("label_l2"), label_fractions=[f for ws in sets for f in ws.label_fractions],
        split=joined("split"), start=joined("start"), end=joined("end"), day=joined("day"),
        captions=[c for ws in sets for c in (ws.captions or [{}] * len(ws))] if captioned else [],
        home=home_name(homes), homes=homes,
        meta={"parts": [{"home": ws.home, "n_windows": len(ws), "meta": ws.meta} for ws in sets]},
        **_joined_residents(sets),
    )


def _joined_residents(sets: list[WindowSet]) -> dict[str, dict[str, np.ndarray]]:
    """Per-resident labels of joined sets: kept when every part names the same residents, else none (a resident
    "R1" of one home is not "R1" of another, and a part without residents has no per-resident labels to join)."""
    names = [tuple(ws.label_l1_by_resident) for ws in sets]
    if not names[0] or any(n != names[0] for n in names):
        return {"label_l1_by_resident": {}, "label_l2_by_resident": {}}
    return {attr: {r: np.concatenate([getattr(ws, attr)[r] for ws in sets]) for r in names[0]}
            for attr in ("label_l1_by_resident", "label_l2_by_resident")}


# --------------------------------------------------------------------------------------------- configs


@dataclass(frozen=True)
class WindowConfig:
    """How an EventLog is cut into windows (strategies and counters: docs/dataset-format.md)."""

    strategy: str = "fixed_length"     # one of STRATEGIES
    length: int = 50                   # N: events per fixed-length window; the cap (and padded T) for the others
    stride: int | None = None          # fixed_length: events between window starts (None -> length // 4)
    duration: float = 600.0            # fixed_duration: seconds covered by one window
    duration_stride: float | None = None   # fixed_duration: seconds between window starts (None -> duration)
    max_gap: float = DEFAULT_MAX_GAP   # seconds; the log is cut into segments at longer silences
    min_events: int = 1                # fixed_duration / presegmented: windows with fewer events are dropped
    default_label: str | None = None   # label of events inside no activity (None -> the home's default_label)

    @property
    def effective_stride(self) -> int:
        """The fixed-length stride actually used (default: 75% overlap)."""
        return self.stride if self.stride is not None else max(1, self.length // 4)

    @property
    def effective_duration_stride(self) -> float:
        """The fixed-duration stride actually used (default: windows back to back)."""
        return self.duration_stride if self.duration_stride is not None else self.duration

    def validate(self) -> "WindowConfig":
        """Raise UserError for a setting that cannot work; return self."""
        if self.strategy not in STRATEGIES:
            raise UserError(f"unknown window strategy {self.strategy!r} (expected one of {', '.join(STRATEGIES)})")
        if not _is_int(self.length) or self.length < 1:
            raise UserError(f"window length must be a positive number of events, got {self.length!r}")
        if not _is_int(self.effective_stride) or not 1 <= self.effective_stride <= self.length:
            raise UserError(f"window stride must be a whole number of events between 1 and the window length "
                            f"({self.length}), got {self.stride!r}")
        for name in ("duration", "duration_stride"):
            value = getattr(self, name)
            if value is not None and not _is_positive(value, allow_inf=False):
                raise UserError(f"window {name.replace('_', ' ')} must be a positive number of seconds, got {value!r}")
        if not _is_positive(self.max_gap, allow_inf=True):
            raise UserError(f"max gap must be a positive number of seconds, got {self.max_gap!r}")
        if not _is_int(self.min_events) or not 1 <= self.min_events <= self.length:
            raise UserError(f"min events must be between 1 and the window length ({self.length}), "
                            f"got {self.min_events!r}")
        if self.default_label is not None and not str(self.default_label).strip():
            raise UserError("the default label for unlabelled events must not be empty")
        return self

    def to_dict(self) -> dict:
        """Plain-JSON form, with the effective stride filled in."""
        out = asdict(self)
        out["stride"] = self.effective_stride
        out["duration_stride"] = self.effective_duration_stride
        out["max_gap"] = None if math.isinf(self.max_gap) else self.max_gap
        return out


@dataclass(frozen=True)
class SplitConfig:
    """How whole days are shared out between train / val / test."""

    ratios: tuple[float, float, float] = (0.7, 0.1, 0.2)
    seed: int = 0
    chronological: bool = False        # True: the earliest days train, then val, then test (no shuffle)

    def validate(self) -> "SplitConfig":
        """Raise UserError for ratios that cannot work; return self."""
        ratios = tuple(self.ratios)
        if len(ratios) != len(SPLITS) or not all(_is_number(r) and r >= 0 for r in ratios):
            raise UserError(f"split ratios must be three non-negative numbers (train, val, test), got {self.ratios!r}")
        if abs(sum(ratios) - 1.0) > 1e-6:
            raise UserError(f"split ratios must add up to 1, got {', '.join(str(r) for r in ratios)} "
                            f"(sum {sum(ratios):g})")
        if ratios[0] <= 0:
            raise UserError("the train split ratio must be positive")
        if not _is_int(self.seed):
            raise UserError(f"split seed must be an integer, got {self.seed!r}")
        return self

    def to_dict(self) -> dict:
        """Plain-JSON form."""
        return {"ratios": [float(r) for r in self.ratios], "seed": int(self.seed),
                "chronological": bool(self.chronological)}


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and not math.isnan(value)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_positive(value, *, allow_inf: bool) -> bool:
    return _is_number(value) and value > 0 and (allow_inf or math.isfinite(value))


# ------------------------------------------------------------------------------------ per-event features


@dataclass
class EventFeatures:
    """Per-event features of a whole log (one entry per event), computed once and gathered into windows."""

    codes: dict[str, np.ndarray]        # field -> int32 [E], index into categories[field]
    categories: dict[str, list[str]]
    time: np.ndarray                    # int64 [E] microseconds since the epoch (naive local clock)
    time_delta: np.ndarray              # float32 [E] seconds since the previous event of its source (first: 0)
    xy: np.ndarray                      # float32 [E, 2] layout-normalised position, NaN when unknown
    label: np.ndarray                   # int32 [E] index into label_names (unlabelled -> the default label)
    label_names: list[str]
    source: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # int32 [E] file of each event
    # resident -> (int32 [E] that resident's primary label, its label names); {} when no label names a resident
    resident_labels: dict[str, tuple[np.ndarray, list[str]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.time.shape[0])


_SMALL = 4096      # up to this many values numpy factorizes faster (a live window: pandas' overhead is ~2 ms)


def factorize_sorted(values) -> tuple[np.ndarray, list[str]]:
    """Codes (int32) and sorted distinct values of a sequence of strings."""
    if len(values) <= _SMALL:       # the same result (code-point order) as pandas below
        uniques, codes = np.unique(np.array([str(v) for v in values], dtype=str), return_inverse=True)
        return codes.reshape(-1).astype(np.int32), [str(u) for u in uniques]
    import pandas as pd

    codes, uniques = pd.factorize(pd.Series(values, dtype=object).astype(str), sort=True)
    return codes.astype(np.int32), [str(u) for u in uniques]


def tod_bucket_codes(time_us: np.ndarray) -> np.ndarray:
    """Time-of-day bucket (index into TOD_BUCKETS) of each timestamp (microseconds)."""
    table = np.zeros(24, dtype=np.int32)
    for i, (_, first_hour) in enumerate(TOD_BUCKETS):
        table[first_hour:] = i
    return table[(time_us // _US_PER_HOUR) % 24]


def dow_codes(time_us: np.ndarray) -> np.ndarray:
    """Day of week (0 = Monday) of each timestamp (microseconds; 1970-01-01 was a Thursday)."""
    return ((time_us // US_PER_DAY + 3) % 7).astype(np.int32)


def dt_bucket_codes(time_delta: np.ndarray) -> np.ndarray:
    """Δt bucket (index into DT_BUCKETS) of each time delta in seconds."""
    return np.searchsorted(np.asarray(DT_EDGES), time_delta, side="right").astype(np.int32)


def event_features(log: "EventLog", home: "Home", default_label: str | None = None) -> EventFeatures:
    """Every per-event feature of a log, vectorised (a Milan-scale log takes well under a second)."""
    frame = log.frame
    time = frame["time"].to_numpy().astype("datetime64[us]").astype(np.int64)
    source = sources_of(frame)
    if unsorted_by_source(time, source):   # the EventLog contract says sorted by (source, time); be safe for hand-made logs
        order = np.lexsort((time, source))
        frame, time, source = frame.iloc[order], time[order], source[order]
    time_delta = event_time_deltas(time, source)

    sensor, sensor_cats = factorize_sorted(frame["sensor"].to_numpy())
    infos = [home.sensor_info(name) for name in sensor_cats]
    room_of_sensor, room_cats = factorize_sorted([info.room for info in infos])
    type_of_sensor, type_cats = factorize_sorted([info.type for info in infos])
    xy_of_sensor = np.array([home.normalise_xy(info.x, info.y) for info in infos],
                            dtype=np.float32).reshape(len(infos), 2)
    state, state_cats = factorize_sorted(frame["state"].to_numpy())
    semantic = semantic_codes([info.room_type for info in infos], [info.kind for info in infos], state_cats)

    default = default_label or home.default_label
    raw_labels = frame["label"].to_numpy(dtype=object)
    label, label_names = factorize_sorted(np.where(raw_labels == "", default, raw_labels))
    resident_labels = {}
    names = residents_of(frame["residents"]) if "residents" in frame else []   # hand-made frames may lack it
    if names:
        for resident, own in primary_by_resident(frame["labels"], frame["residents"], names).items():
            resident_labels[resident] = factorize_sorted(np.where(own == "", default, own))

    codes = {
        "sensor": sensor, "room": room_of_sensor[sensor], "state": state,
        "sensor_type": type_of_sensor[sensor], "tod_bucket": tod_bucket_codes(time),
        "dow": dow_codes(time), "dt_bucket": dt_bucket_codes(time_delta),
        "room_type": semantic["room_type"][sensor], "kind": semantic["kind"][sensor],
        "state_sign": semantic["state_sign"][state],
    }
    categories = {
        "sensor": sensor_cats, "room": room_cats, "state": state_cats, "sensor_type": type_cats,
        "tod_bucket": [name for name, _ in TOD_BUCKETS], "dow": list(DOW_NAMES), "dt_bucket": list(DT_BUCKETS),
        **{name: list(values) for name, values in SEMANTIC_CATEGORIES.items()},
    }
    return EventFeatures(codes=codes, categories=categories, time=time, time_delta=time_delta,
                         xy=xy_of_sensor[sensor] if len(infos) else np.zeros((0, 2), np.float32),
                         label=label, label_names=label_names, source=source, resident_labels=resident_labels)


# ------------------------------------------------------------------------------------------ windowing


def _ranges(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of sizes `counts`: each item's group index and its rank inside the group."""
    group = np.repeat(np.arange(counts.shape[0]), counts)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]) if counts.shape[0] else np.zeros(0, np.int64)
    return group, np.arange(group.shape[0]) - np.repeat(offsets, counts)


def _fixed_length(starts, ends, n: int, stride: int) -> tuple[np.ndarray, np.ndarray, dict]:
    lengths = ends - starts
    n_win = np.where(lengths >= n, (lengths - n) // stride + 1, 0)
    group, rank = _ranges(n_win)
    first = starts[group] + rank * stride
    covered_to = starts + np.maximum(n_win - 1, 0) * stride + n
    dropped = {"segment_shorter_than_window": int((lengths < n).sum()),
               "segment_tail_shorter_than_window": int(((n_win > 0) & (covered_to < ends)).sum())}
    return first, np.full(first.shape[0], n, dtype=np.int64), dropped


def _fixed_duration(time_us, starts, ends, cfg: WindowConfig) -> tuple[np.ndarray, np.ndarray, dict]:
    stride_us = max(1, int(round(cfg.effective_duration_stride * US_PER_S)))
    duration_us = max(1, int(round(cfg.duration * US_PER_S)))
    if starts.shape[0] == 0:
        return starts, starts, {}
    # Segments of different sources may overlap in time: search on a clock that runs through the segments
    # one after another (each segment's own times, shifted past the previous segment's end), so the search
    # never leaves a segment.
    t0, t_last = time_us[starts], time_us[ends - 1]
    base = np.concatenate([[0], np.cumsum(t_last - t0 + 1)[:-1]])
    seg = np.repeat(np.arange(starts.shape[0]), ends - starts)
    clock = time_us - t0[seg] + base[seg]      # segments cover every event, in order
    group, rank = _ranges((t_last - t0) // stride_us + 1)
    grid = base[group] + rank * stride_us
    first = np.searchsorted(clock, grid, side="left")
    stop = np.minimum(np.searchsorted(clock, grid + duration_us, side="left"), ends[group])
    count = stop - first
    keep = count > 0                     # empty stretches of time are not windows
    first, count = first[keep], count[keep]
    stats = {"truncated_windows": int((count > cfg.length).sum()),
             "truncated_events": int(np.maximum(count - cfg.length, 0).sum())}
    return first, np.minimum(count, cfg.length), stats


def _presegmented(label, starts, ends, n: int) -> tuple[np.ndarray, np.ndarray, dict]:
    if label.shape[0] == 0:
        return starts, starts, {}
    change = np.ones(label.shape[0], dtype=bool)
    change[1:] = label[1:] != label[:-1]
    change[starts] = True
    run_start = np.flatnonzero(change)
    run_len = np.diff(np.append(run_start, label.shape[0]))
    n_chunks = -(-run_len // n)          # long episodes become near-equal chunks of <= n events
    group, rank = _ranges(n_chunks)
    lo = run_start[group] + run_len[group] * rank // n_chunks[group]
    hi = run_start[group] + run_len[group] * (rank + 1) // n_chunks[group]
    return lo, hi - lo, {"episodes": int(run_start.shape[0]), "episodes_chunked": int((n_chunks > 1).sum())}


def make_windows(log: "EventLog", home: "Home", cfg: WindowConfig = WindowConfig()) -> WindowSet:
    """Cut a log into windows (split not yet assigned: split is "" everywhere), labelled and featurised."""
    cfg.validate()
    ev = event_features(log, home, cfg.default_label)
    starts, ends = segment_bounds(ev.time, cfg.max_gap, ev.source)
    extra: dict[str, int] = {}
    if cfg.strategy == "fixed_length":
        first, length, dropped = _fixed_length(starts, ends, cfg.length, cfg.effective_stride)
    else:
        if cfg.strategy == "fixed_duration":
            first, length, extra = _fixed_duration(ev.time, starts, ends, cfg)
        else:
            first, length, extra = _presegmented(ev.label, starts, ends, cfg.length)
        keep = length >= cfg.min_events
        dropped = {"fewer_than_min_events": int((~keep).sum())}
        first, length = first[keep], length[keep]
    windows = gather_windows(ev, first, length, cfg.length, home)
    windows.meta["windowing"] = {
        "config": {**cfg.to_dict(), "default_label": cfg.default_label or home.default_label},
        "n_events": len(ev), "n_segments": int(starts.shape[0]), "n_windows": len(windows),
        "dropped_windows": dropped, "events_in_no_window": _uncovered(len(ev), first, length), **extra,
    }
    return windows


def _uncovered(n_events: int, first: np.ndarray, length: np.ndarray) -> int:
    """How many events of the log fall in no window."""
    cover = np.zeros(n_events + 1, dtype=np.int64)
    np.add.at(cover, first, 1)
    np.add.at(cover, first + length, -1)
    return int((np.cumsum(cover[:-1]) == 0).sum())


def gather_windows(ev: EventFeatures, first: np.ndarray, length: np.ndarray, seq_len: int, home: "Home") -> WindowSet:
    """Windows of `length[i]` consecutive events starting at event `first[i]`, right-padded to seq_len."""
    first, length = np.asarray(first, np.int64), np.asarray(length, np.int64)
    pos = np.arange(seq_len)
    mask = pos[None, :] < length[:, None]
    idx = np.where(mask, first[:, None] + pos[None, :], 0)
    codes = {name: np.where(mask, ev.codes[name][idx], -1).astype(np.int32) for name in CATEGORICAL_FIELDS}
    time = np.where(mask, ev.time[idx], 0).astype(np.int64)
    start, end = ev.time[first], ev.time[first + length - 1]
    labels = window_labels(ev.label, ev.label_names, ev.resident_labels, idx, mask, home)
    n = first.shape[0]
    return WindowSet(
        codes=codes, categories={k: list(v) for k, v in ev.categories.items()}, time=time,
        time_delta=np.where(mask, ev.time_delta[idx], 0).astype(np.float32),
        xy=np.where(mask[..., None], ev.xy[idx], np.nan).astype(np.float32), mask=mask,
        label_l1=labels.l1, label_l2=labels.l2, label_fractions=labels.fractions, split=np.full(n, "", dtype=object),
        start=start.astype("datetime64[us]"), end=end.astype("datetime64[us]"),
        day=start.astype("datetime64[us]").astype("datetime64[D]"), captions=[], home=home.name, meta={},
        label_l1_by_resident=labels.l1_by_resident, label_l2_by_resident=labels.l2_by_resident,
    )


# ------------------------------------------------------------------------------------------ day split


def allocate_days(n_days: int, ratios: tuple[float, ...]) -> list[int]:
    """How many of n_days each split gets: largest remainder, and at least one day for every positive ratio."""
    raw = [round(r * n_days, 9) for r in ratios]      # 0.7 * 85 is 59.4999...: round away float noise
    counts = [math.floor(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))[: n_days - sum(counts)]:
        counts[i] += 1
    positive = [i for i, r in enumerate(ratios) if r > 0]
    if n_days < len(positive):
        raise UserError(f"the windows start on only {n_days} day(s); splitting whole days into "
                        f"{'/'.join(SPLITS[i] for i in positive)} needs at least {len(positive)} "
                        f"(use a longer log, or set a split ratio to 0)")
    for i in positive:
        while counts[i] == 0:
            counts[int(np.argmax(counts))] -= 1
            counts[i] += 1
    return counts


def split_of_days(days: np.ndarray, cfg: SplitConfig) -> np.ndarray:
    """The split ("train"/"val"/"test", object array) of each of the sorted distinct `days`."""
    counts = allocate_days(days.shape[0], tuple(cfg.ratios))
    order = np.arange(days.shape[0])
    if not cfg.chronological:
        order = np.random.default_rng(int(cfg.seed)).permutation(days.shape[0])
    out = np.empty(days.shape[0], dtype=object)
    out[order] = np.repeat(np.array(SPLITS, dtype=object), counts)
    return out


def assign_splits(windows: WindowSet, cfg: SplitConfig = SplitConfig()) -> WindowSet:
    """Share whole days out between the splits; a window belongs to the day it starts on.

    A window whose events reach into a day of another split is dropped (counted in meta["split"])."""
    cfg.validate()
    days = np.unique(windows.day)
    day_split = split_of_days(days, cfg)
    split = day_split[np.searchsorted(days, windows.day)] if len(windows) else np.empty(0, object)
    span = (windows.end.astype("datetime64[D]") - windows.day).astype(np.int64)
    keep = np.ones(len(windows), dtype=bool)
    for k in range(1, int(span.max(initial=0)) + 1):
        reached = windows.day + np.timedelta64(k, "D")
        j = np.minimum(np.searchsorted(days, reached), days.shape[0] - 1)
        other = (span >= k) & (days[j] == reached) & (day_split[j] != split)
        keep &= ~other
    out = windows.subset(np.flatnonzero(keep))
    out.split = split[keep].astype(object)
    out.meta["split"] = {
        "config": cfg.to_dict(),
        "days": {name: [str(d) for d in days[day_split == name]] for name in SPLITS},
        "dropped_windows": {"crosses_into_other_split_day": int((~keep).sum())},
    }
    return out
