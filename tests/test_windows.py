"""Windowing strategies, per-event features, window labels and the day split (inline EventLogs)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from homeclip.data.events import EventLog, ParseReport, empty_numeric
from homeclip.data.homes import Home, SensorInfo
from homeclip.data.windows import (
    DT_BUCKETS, SPLITS, TOD_BUCKETS, SplitConfig, WindowConfig, allocate_days, assign_splits, make_windows,
)
from homeclip.errors import UserError

HOME = Home(
    name="testhome",
    sensors={
        "M001": SensorInfo("M001", "kitchen", 0.0, 0.0, "motion", "stove"),
        "M002": SensorInfo("M002", "bedroom", 10.0, 5.0, "motion", "bed"),
        "D001": SensorInfo("D001", "entrance", 5.0, 10.0, "door", "front door"),
    },
    bounds=(0.0, 0.0, 10.0, 10.0),
    label_map={"Cook": "Cook", "Sleep": "Sleep", "Read": "Relax"},
)


def make_log(times, sensors=None, labels=None, states=None) -> EventLog:
    """An EventLog from parallel lists (times as strings or datetime64)."""
    n = len(times)
    sensors = sensors or [("M001", "M002", "D001")[i % 3] for i in range(n)]
    labels = labels or [""] * n
    states = states or ["ON" if i % 2 == 0 else "OFF" for i in range(n)]
    frame = pd.DataFrame({
        "time": np.array(times, dtype="datetime64[us]"), "sensor": sensors, "state": states,
        "value": np.full(n, np.nan), "labels": [(lab,) if lab else () for lab in labels], "label": labels,
    })
    return EventLog(frame=frame, numeric=empty_numeric(), report=ParseReport(path="inline", format="casas"))


def regular_times(n: int, start: str = "2009-10-16T08:00:00", step_s: float = 10.0) -> np.ndarray:
    t0 = np.datetime64(start, "us")
    return t0 + (np.arange(n) * step_s * 1e6).astype("timedelta64[us]")


def days_log(n_days: int, per_day: int = 120, step_s: float = 60.0) -> EventLog:
    """per_day events each morning at 08:00 on n_days consecutive days (a gap of many hours between days)."""
    mornings = np.datetime64("2009-10-16T08:00:00", "us") + np.arange(n_days) * np.timedelta64(1, "D")
    times = np.concatenate([regular_times(per_day, str(m), step_s) for m in mornings])
    return make_log(times)


# ------------------------------------------------------------------------------------------ strategies


def test_fixed_length_windows_are_exactly_n_events_with_default_stride_and_counted_remainders():
    # Two segments (a 5 h silence cuts the log): 100 events and 30 events.
    times = np.concatenate([regular_times(100), regular_times(30, "2009-10-16T13:00:00")])
    ws = make_windows(make_log(times), HOME, WindowConfig(length=20))
    stride = 5                                    # default N // 4
    assert len(ws) == (100 - 20) // stride + 1 + (30 - 20) // stride + 1
    assert ws.mask.all() and ws.seq_len == 20
    starts = (ws.time[:, 0] - ws.time[0, 0]) // 10_000_000
    assert list(starts[:3]) == [0, 5, 10]
    stats = ws.meta["windowing"]
    assert stats["config"]["stride"] == stride and stats["n_segments"] == 2
    assert stats["dropped_windows"] == {"segment_shorter_than_window": 0, "segment_tail_shorter_than_window": 0}
    assert stats["events_in_no_window"] == 0
    # No window spans the 5 h silence.
    assert ((ws.end - ws.start) < np.timedelta64(4, "h")).all()


def test_fixed_length_drops_short_segments_and_tails_never_keeps_short_windows():
    times = np.concatenate([regular_times(23), regular_times(7, "2009-10-16T16:00:00")])
    ws = make_windows(make_log(times), HOME, WindowConfig(length=10, stride=10))
    assert len(ws) == 2 and ws.mask.all()
    stats = ws.meta["windowing"]
    assert stats["dropped_windows"] == {"segment_shorter_than_window": 1, "segment_tail_shorter_than_window": 1}
    assert stats["events_in_no_window"] == 3 + 7


def test_max_gap_is_configurable_and_windows_may_cross_midnight():
    times = regular_times(40, "2009-10-16T23:55:00", step_s=30.0)       # 23:55 -> 00:14:30
    ws = make_windows(make_log(times), HOME, WindowConfig(length=20, stride=20))
    assert len(ws) == 2
    assert ws.day[0] == np.datetime64("2009-10-16") and ws.end[0].astype("datetime64[D]") == np.datetime64("2009-10-17")
    tight = make_windows(make_log(times), HOME, WindowConfig(length=20, stride=20, max_gap=20.0))
    assert len(tight) == 0 and tight.meta["windowing"]["n_segments"] == 40


def test_fixed_duration_caps_events_pads_right_and_counts_truncation():
    # 30 events 10 s apart, then (after 100 s) 3 events: 120 s windows with at most 8 events.
    times = np.concatenate([regular_times(30), regular_times(3, "2009-10-16T08:06:30")])
    ws = make_windows(make_log(times), HOME, WindowConfig(strategy="fixed_duration", length=8, duration=120.0))
    n_real = ws.mask.sum(axis=1)
    assert list(n_real) == [8, 8, 6, 3]           # [0,120) has 12 events, [120,240) 12, [240,360) 6, [360,..) 3
    stats = ws.meta["windowing"]
    assert stats["truncated_windows"] == 2 and stats["truncated_events"] == 8
    assert ((ws.end - ws.start) < np.timedelta64(120, "s")).all()
    # Right padding: mask is a prefix; padding has code -1, time 0, Δt 0 and NaN x/y.
    assert (np.diff(ws.mask.astype(int), axis=1) <= 0).all()
    pad = ~ws.mask
    assert (ws.codes["sensor"][pad] == -1).all() and (ws.time[pad] == 0).all() and (ws.time_delta[pad] == 0).all()
    assert np.isnan(ws.xy[pad]).all()


def test_fixed_duration_min_events_drops_and_counts():
    times = np.concatenate([regular_times(30), regular_times(1, "2009-10-16T08:06:30")])
    ws = make_windows(make_log(times), HOME,
                      WindowConfig(strategy="fixed_duration", length=50, duration=120.0, min_events=2))
    assert ws.mask.sum(axis=1).min() >= 2
    assert ws.meta["windowing"]["dropped_windows"] == {"fewer_than_min_events": 1}
    assert ws.meta["windowing"]["events_in_no_window"] == 1


def test_presegmented_cuts_at_label_changes_and_chunks_long_episodes():
    labels = ["Sleep"] * 25 + ["Cook"] * 4 + [""] * 6
    ws = make_windows(make_log(regular_times(35), labels=labels), HOME,
                      WindowConfig(strategy="presegmented", length=10))
    lengths = ws.mask.sum(axis=1)
    assert list(lengths) == [8, 8, 9, 4, 6]       # 25 Sleep events -> 3 near-equal chunks
    assert list(ws.label_l1) == ["Sleep"] * 3 + ["Cook", "Other"]
    assert all(len(f) == 1 for f in ws.label_fractions)
    assert ws.meta["windowing"]["episodes"] == 3 and ws.meta["windowing"]["events_in_no_window"] == 0


# ---------------------------------------------------------------------------------------------- labels


def test_window_labels_majority_l2_fractions_and_default_label():
    labels = ["Read"] * 6 + [""] * 4
    ws = make_windows(make_log(regular_times(10), labels=labels), HOME, WindowConfig(length=10))
    assert ws.label_l1[0] == "Read" and ws.label_l2[0] == "Relax"
    assert ws.label_fractions[0] == {"Read": 0.6, "Other": 0.4}
    custom = make_windows(make_log(regular_times(10), labels=[""] * 10), HOME,
                          WindowConfig(length=10, default_label="Idle"))
    assert custom.label_l1[0] == "Idle" and custom.label_fractions[0] == {"Idle": 1.0}
    assert custom.meta["windowing"]["config"]["default_label"] == "Idle"


def test_majority_tie_goes_to_the_label_seen_latest_not_alphabetical():
    ws = make_windows(make_log(regular_times(4), labels=["Sleep", "Sleep", "Cook", "Cook"]), HOME,
                      WindowConfig(length=4))
    assert ws.label_l1[0] == "Cook"
    ws = make_windows(make_log(regular_times(4), labels=["Cook", "Cook", "Sleep", "Sleep"]), HOME,
                      WindowConfig(length=4))
    assert ws.label_l1[0] == "Sleep"


# ------------------------------------------------------------------------------------ per-event features


def test_event_features_rooms_types_xy_and_unknown_sensors():
    ws = make_windows(make_log(regular_times(4), sensors=["M001", "M002", "D001", "X9"]), HOME,
                      WindowConfig(length=4))
    assert ws.strings("sensor", 0) == ["M001", "M002", "D001", "X9"]
    assert ws.strings("room", 0) == ["kitchen", "bedroom", "entrance", "unknown"]
    assert ws.strings("sensor_type", 0) == ["motion", "motion", "door", "other"]
    assert ws.strings("state", 0) == ["ON", "OFF", "ON", "OFF"]
    np.testing.assert_allclose(ws.xy[0, :3], [[0.0, 0.0], [1.0, 0.5], [0.5, 1.0]])   # layout bounds, not data
    assert np.isnan(ws.xy[0, 3]).all()


def test_time_of_day_day_of_week_and_dt_buckets():
    times = ["2009-10-16T00:30:00", "2009-10-16T05:00:00", "2009-10-16T08:00:00", "2009-10-16T08:00:00.5",
             "2009-10-16T08:00:03", "2009-10-16T12:00:00", "2009-10-16T17:00:00", "2009-10-16T21:00:00",
             "2009-10-16T23:59:59", "2009-10-17T00:00:20"]
    ws = make_windows(make_log(times), HOME, WindowConfig(length=10, max_gap=math.inf))
    assert [name for name, _ in TOD_BUCKETS] == ["night", "early_morning", "morning", "afternoon", "evening",
                                                 "late_evening"]
    assert ws.strings("tod_bucket", 0) == ["night", "early_morning", "morning", "morning", "morning", "afternoon",
                                           "evening", "late_evening", "late_evening", "night"]
    assert ws.strings("dow", 0) == ["Fri"] * 9 + ["Sat"]      # 2009-10-16 was a Friday
    np.testing.assert_allclose(ws.time_delta[0, :5], [0.0, 4.5 * 3600, 3 * 3600, 0.5, 2.5])
    assert ws.strings("dt_bucket", 0)[:5] == ["<1s", ">=1h", ">=1h", "<1s", "1-5s"]
    assert ws.strings("dt_bucket", 0)[-1] == "5-30s"
    assert set(DT_BUCKETS) >= set(ws.strings("dt_bucket", 0))


def test_time_delta_is_since_the_previous_event_of_the_log_not_of_the_window():
    ws = make_windows(make_log(regular_times(12, step_s=7.0)), HOME, WindowConfig(length=4, stride=4))
    assert ws.time_delta[0, 0] == 0.0                # first event of the log
    assert (ws.time_delta[1:, 0] == 7.0).all()       # later windows start 7 s after the previous event
    assert ws.time.dtype == np.int64 and ws.start.dtype == np.dtype("datetime64[us]")
    assert ws.day.dtype == np.dtype("datetime64[D]")


def test_unsorted_log_is_windowed_in_time_order():
    times = list(regular_times(6))
    log = make_log(times[::-1], sensors=["M001"] * 6)
    ws = make_windows(log, HOME, WindowConfig(length=6))
    assert (np.diff(ws.time[0]) > 0).all()


def test_milan_scale_windowing_gives_about_35k_windows_vectorised():
    n = 430_000
    rng = np.random.default_rng(0)
    times = np.datetime64("2009-10-16", "us") + np.cumsum(rng.exponential(17.0, n) * 1e6).astype("timedelta64[us]")
    sensors = list(np.array(["M001", "M002", "D001"], dtype=object)[rng.integers(0, 3, n)])
    ws = make_windows(make_log(times, sensors=sensors, states=["ON"] * n, labels=[""] * n), HOME, WindowConfig())
    assert 34_000 <= len(ws) <= 36_000 and ws.mask.all()


# ------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("cfg, words", [
    (WindowConfig(strategy="sliding"), "unknown window strategy"),
    (WindowConfig(length=0), "window length"),
    (WindowConfig(length=10, stride=0), "stride"),
    (WindowConfig(length=10, stride=11), "stride"),
    (WindowConfig(strategy="fixed_duration", duration=0.0), "duration"),
    (WindowConfig(strategy="fixed_duration", duration=float("nan")), "duration"),
    (WindowConfig(duration_stride=-5.0), "duration stride"),
    (WindowConfig(max_gap=0.0), "max gap"),
    (WindowConfig(max_gap=float("nan")), "max gap"),
    (WindowConfig(min_events=0), "min events"),
    (WindowConfig(length=5, min_events=6), "min events"),
    (WindowConfig(default_label=" "), "default label"),
])
def test_bad_window_config_is_a_user_error(cfg, words):
    with pytest.raises(UserError, match=words):
        make_windows(make_log(regular_times(60)), HOME, cfg)


@pytest.mark.parametrize("cfg, words", [
    (SplitConfig(ratios=(0.7, 0.3)), "three non-negative"),
    (SplitConfig(ratios=(0.7, -0.1, 0.4)), "three non-negative"),
    (SplitConfig(ratios=(0.7, 0.2, 0.2)), "add up to 1"),
    (SplitConfig(ratios=(0.0, 0.5, 0.5)), "train split ratio"),
    (SplitConfig(seed=1.5), "seed"),
])
def test_bad_split_config_is_a_user_error(cfg, words):
    ws = make_windows(days_log(5), HOME, WindowConfig(length=20))
    with pytest.raises(UserError, match=words):
        assign_splits(ws, cfg)


def test_too_few_days_for_the_split_is_a_user_error_but_zero_ratios_are_fine():
    ws = make_windows(days_log(2), HOME, WindowConfig(length=20))
    with pytest.raises(UserError, match="only 2 day"):
        assign_splits(ws, SplitConfig())
    two_way = assign_splits(ws, SplitConfig(ratios=(0.5, 0.0, 0.5)))
    assert sorted(set(two_way.split)) == ["test", "train"]


# ------------------------------------------------------------------------------------------- day split


def test_allocate_days_largest_remainder_and_one_day_per_positive_ratio():
    assert allocate_days(85, (0.7, 0.1, 0.2)) == [60, 8, 17]
    assert allocate_days(10, (0.7, 0.1, 0.2)) == [7, 1, 2]
    assert allocate_days(3, (0.7, 0.1, 0.2)) == [1, 1, 1]
    assert allocate_days(4, (1.0, 0.0, 0.0)) == [4, 0, 0]
    assert sum(allocate_days(37, (0.6, 0.15, 0.25))) == 37


def test_no_day_in_two_splits_split_stored_in_every_window_and_ratios_respected():
    ws = assign_splits(make_windows(days_log(20), HOME, WindowConfig(length=20)), SplitConfig(seed=3))
    assert set(ws.split) == set(SPLITS)
    day_sets = {name: set(ws.day[ws.split == name].tolist()) for name in SPLITS}
    assert not (day_sets["train"] & day_sets["val"] or day_sets["train"] & day_sets["test"]
                or day_sets["val"] & day_sets["test"])
    # Every day an event of a window touches belongs to that window's split.
    for i in range(len(ws)):
        touched = set(ws.time[i][ws.mask[i]].astype("datetime64[us]").astype("datetime64[D]").tolist())
        assert touched <= day_sets[ws.split[i]]
    assert {k: len(v) for k, v in ws.meta["split"]["days"].items()} == {"train": 14, "val": 2, "test": 4}
    assert ws.meta["split"]["dropped_windows"] == {"crosses_into_other_split_day": 0}


def test_split_is_seeded_and_chronological_option_orders_days():
    ws = make_windows(days_log(20), HOME, WindowConfig(length=20))
    a, b = assign_splits(ws, SplitConfig(seed=1)), assign_splits(ws, SplitConfig(seed=1))
    c = assign_splits(ws, SplitConfig(seed=2))
    assert a.meta["split"]["days"] == b.meta["split"]["days"] != c.meta["split"]["days"]
    chrono = assign_splits(ws, SplitConfig(chronological=True)).meta["split"]["days"]
    assert max(chrono["train"]) < min(chrono["val"]) and max(chrono["val"]) < min(chrono["test"])


def test_window_reaching_into_a_day_of_another_split_is_dropped_same_split_is_kept():
    # Day 1 evening -> midnight -> day 2 morning without a long gap; chronological 1/1 split puts day 2 in test.
    times = np.concatenate([regular_times(40, "2009-10-16T23:50:00", step_s=30.0),
                            regular_times(40, "2009-10-17T09:00:00", step_s=30.0)])
    ws = make_windows(make_log(times), HOME, WindowConfig(length=20, stride=10))
    crossing = int((ws.end.astype("datetime64[D]") != ws.day).sum())
    assert crossing > 0
    split = assign_splits(ws, SplitConfig(ratios=(0.5, 0.0, 0.5), chronological=True))
    assert split.meta["split"]["dropped_windows"]["crosses_into_other_split_day"] == crossing
    assert len(split) == len(ws) - crossing
    assert (split.end.astype("datetime64[D]") == split.day).all()
    same = assign_splits(ws, SplitConfig(ratios=(1.0, 0.0, 0.0)))  # both days train: crossing windows stay
    assert len(same) == len(ws) and same.meta["split"]["dropped_windows"]["crosses_into_other_split_day"] == 0
