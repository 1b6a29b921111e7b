"""Time-aware search quality: constraints judged from the windows' own events, precision@k, and time of day in
homeclip's own training configs."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from homeclip.evaluation.search_quality import (PLANTED_QUERIES, Constraint, in_hours, precision_at_k,
                                                satisfies, score_rankings)
from homeclip.testing import random_windowset

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "training" / "milan"
DAY0 = np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64)


def windows_with(events: list[list[tuple]]):
    """A WindowSet whose window i holds exactly events[i]: (room, sensor type, hour of day[, state]) each (state
    ON unless given)."""
    ws = random_windowset(n=len(events), seq_len=10, seed=0)
    rooms, types, states = ws.categories["room"], ws.categories["sensor_type"], ws.categories["state"]
    ws.mask[:] = False
    for i, evs in enumerate(events):
        for j, (room, kind, hour, *state) in enumerate(evs):
            ws.codes["room"][i, j] = rooms.index(room)
            ws.codes["sensor_type"][i, j] = types.index(kind)
            ws.codes["state"][i, j] = states.index(state[0] if state else "ON")
            ws.time[i, j] = DAY0 + int(hour * 3600e6)
            ws.mask[i, j] = True
    return ws


def test_in_hours_wraps_past_midnight():
    hours = np.array([21.9, 22.0, 23.5, 0.0, 4.99, 5.0, 12.0]) * 3600
    assert in_hours(hours, (22.0, 5.0)).tolist() == [False, True, True, True, True, False, False]
    assert in_hours(hours, (5.0, 8.0)).tolist() == [False, False, False, False, False, True, False]


def test_room_rule_needs_three_events_in_the_room_and_the_hours():
    late = Constraint("in the kitchen late at night", "room", "kitchen", (22.0, 5.0))
    ws = windows_with([
        [("kitchen", "motion", 23.0 + k / 60) for k in range(3)],                          # yes
        [("kitchen", "motion", 12.0 + k / 60) for k in range(5)],                          # kitchen at noon
        [("kitchen", "motion", 23.0), ("kitchen", "motion", 23.1)] + [("office", "motion", 23.2)] * 4,  # only two
        [("kitchen", "motion", 21.9), ("kitchen", "motion", 22.1), ("kitchen", "motion", 22.2),
         ("kitchen", "motion", 22.3)],                                                      # three inside the hours
    ])
    assert satisfies(ws, late).tolist() == [True, False, False, True]
    assert satisfies(ws, late, "time").tolist() == [True, False, True, True]      # the hours, any room
    assert satisfies(ws, late, "event").tolist() == [True, True, False, True]     # the kitchen, any hour
    with pytest.raises(ValueError, match="part"):
        satisfies(ws, late, "label")


def test_leave_room_and_exit_door_rules():
    up = Constraint("getting up", "leave_room", "bedroom", (5.0, 8.0))
    leave = Constraint("leaving", "exit_door", "", (12.0, 18.0))
    ws = windows_with([
        [("bedroom", "motion", 6.0), ("bedroom", "motion", 6.1), ("bathroom", "motion", 6.2)],   # gets up
        [("bedroom", "motion", 10.0), ("bathroom", "motion", 10.1)],                             # too late
        [("bathroom", "motion", 6.0), ("bedroom", "motion", 6.1)],                               # goes to bed
        [("living_room", "motion", 14.0), ("entrance", "motion", 14.0), ("entrance", "door", 14.005)],  # leaves
        [("entrance", "door", 14.0), ("entrance", "motion", 14.01)],                             # comes home
        [("entrance", "motion", 9.0), ("entrance", "door", 9.005)],                              # leaves, morning
        # comes home: the door opens, then closes at the very moment the first motion inside fires
        [("entrance", "door", 14.0), ("entrance", "door", 14.002, "OFF"), ("entrance", "motion", 14.002)],
        [("entrance", "motion", 14.0), ("entrance", "door", 14.005, "OFF")],   # only a closing after motion
    ])
    assert satisfies(ws, up).tolist() == [True, False, False, False, False, False, False, False]
    assert satisfies(ws, leave).tolist() == [False, False, False, True, False, False, False, False]


def test_precision_and_scores():
    relevant = np.array([True, False, True, False])
    assert precision_at_k([0, 2, 1, 3], relevant, k=2) == 1.0
    assert precision_at_k([1, 0, 3, 2], relevant, k=4) == 0.5
    scores = score_rankings({"a": np.array([0, 1]), "b": np.array([1, 3])}, {"a": relevant, "b": relevant}, k=2)
    assert scores == {"per_query": {"a": 0.5, "b": 0.0}, "mean": 0.25}


def test_planted_queries_are_the_issues_three_and_more():
    queries = [c.query for c in PLANTED_QUERIES]
    assert queries[:3] == ["in the kitchen late at night", "getting up in the early morning",
                           "leaving the house in the afternoon"]
    assert len(set(queries)) == len(queries) and all(c.describe() for c in PLANTED_QUERIES)
    with pytest.raises(ValueError, match="rule"):
        Constraint("x", "label", "kitchen", (0.0, 1.0))


@pytest.mark.parametrize("name", ["chronos2_clip", "chronos_bolt_clip", "statistics_clip", "tiny"])
def test_time_of_day_reaches_the_chronos_encoder_in_our_configs(name):
    cfg = json.loads((CONFIGS / f"{name}.json").read_text())
    assert cfg.get("encoder", "chronos") == "chronos" and "time_of_day" in cfg["extra_channels"]


def test_seed_config_stays_without_time_of_day_and_the_transformer_reads_it():
    assert "extra_channels" not in json.loads((CONFIGS / "chronos_clip.json").read_text())
    import torch

    from homeclip.encoders.transformer import TransformerEncoder

    enc = TransformerEncoder({"sensor": 5, "room": 4, "state": 3, "sensor_type": 3, "tod_bucket": 8, "dow": 8,
                              "dt_bucket": 8}, d_model=16, n_layers=1, n_heads=2, d_ff=16, output_dim=8).eval()
    cats = {f: torch.full((1, 4), 2) for f in enc.cfg.vocab_sizes}
    args = (cats, torch.zeros(1, 4, 2), torch.ones(1, 4), torch.ones(1, 4, dtype=torch.bool))
    morning, night = (enc(*args, time_of_day=torch.full((1, 4), float(h * 3600))) for h in (8, 23))
    assert not torch.allclose(morning, night)      # same events, another time of day: another embedding
