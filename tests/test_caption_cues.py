"""Captions: the documented parts of the day (daytime.py) at their boundaries, and the activity cues read from
events alone (cues.py: getting up, back to bed, going to bed, staying in bed, leaving, coming home, sitting),
with hand-built windows; object verbs for every taxonomy kind; no labels in cue captions."""
from __future__ import annotations

import re

import numpy as np
import pytest
from test_captions import HOME, _all, _check_time_phrases, _event_hours, _windows

from homeclip.data.captions import DAY_PARTS, DAYS, caption_windows, day_part, summarise_windows, time_of_day
from homeclip.data.captions.daytime import around_clock, phrase_covers, phrases_for
from homeclip.data.homes import Home, SensorInfo


def test_parts_of_the_day_follow_everyday_use():
    assert [day_part(h).name for h in (0, 4, 5, 7, 8, 11, 12, 16, 17, 21, 22, 23)] == [
        "night", "night", "early morning", "early morning", "morning", "morning", "afternoon", "afternoon",
        "evening", "evening", "late night", "late night"]
    assert time_of_day(23) == "late night" and [p.name for p in DAY_PARTS][0] == "night"
    assert [day_part(h).phrase for h in (1, 6, 9, 13, 19, 23)] == [
        "in the middle of the night", "early in the morning", "in the morning", "in the afternoon", "in the evening",
        "late at night"]
    # wider everyday phrases: late at night runs on through the middle of the night, the morning starts early
    assert phrases_for(day_part(2)) == ["in the middle of the night", "late at night"]
    assert phrases_for(day_part(6)) == ["early in the morning", "in the morning"]
    assert phrases_for(day_part(22)) == ["late at night"] and phrases_for(day_part(18)) == ["in the evening"]
    assert [phrase_covers("late at night", h) for h in (21.99, 22.0, 23.9, 0.5, 4.99, 5.0)] == [
        False, True, True, True, True, False]
    assert [phrase_covers("in the evening", h) for h in (16.99, 17.0, 21.99, 22.0)] == [False, True, True, False]
    assert [phrase_covers("in the afternoon", h) for h in (11.99, 12.0, 16.99, 17.0)] == [False, True, True, False]


@pytest.mark.parametrize("hour, minute, expected", [
    (22, 40, "around 11 pm"), (23, 30, "around midnight"), (0, 10, "around midnight"), (11, 45, "around noon"),
    (13, 29, "around 1 pm"), (6, 31, "around 7 am")])
def test_around_clock(hour, minute, expected):
    assert around_clock(hour, minute) == expected


@pytest.mark.parametrize("start, part", [
    ("2024-01-03T21:40:00", "evening"), ("2024-01-03T22:05:00", "late night"), ("2024-01-04T00:30:00", "night"),
    ("2024-01-04T04:50:00", "night"), ("2024-01-04T05:05:00", "early morning"),
    ("2024-01-04T07:50:00", "early morning"), ("2024-01-04T08:05:00", "morning"), ("2024-01-04T11:50:00", "morning"),
    ("2024-01-04T12:05:00", "afternoon"),
    ("2024-01-04T16:50:00", "afternoon"), ("2024-01-04T17:05:00", "evening")])
def test_time_phrases_at_the_boundaries(start, part):
    """Six minutes of kitchen movement on either side of each boundary of the documented parts of the day: only
    phrases true of that part ("late at night" is true of the middle of the night, never of 21:40)."""
    ws = _windows([[(k * 20.0, "M001" if k % 2 else "M002", "ON") for k in range(20)]], start=start)
    (caps,) = caption_windows(ws, HOME, seed=2)
    allowed = set(phrases_for(next(p for p in DAY_PARTS if p.name == part)))
    for text in caps["long_natural"] + caps["short_natural"]:
        found = _check_time_phrases(text, _event_hours(ws, 0))
        assert set(found) <= allowed and (found or text in caps["short_natural"]), (part, text)
    weekday = DAYS[np.datetime64(start).item().weekday()]
    assert caps["short_structured"][0].startswith(f"{weekday} {day_part(int(start[11:13])).phrase} |")


def test_a_window_is_placed_by_its_middle_and_says_its_span():
    """A window from 21:50 to 22:30 with most events after 22:00 is late at night, and says when it runs."""
    events = [(0, "M001", "ON"), (300, "M002", "ON")] + [(660 + 60 * k, "M001", "ON") for k in range(30)]
    ws = _windows([events], start="2024-01-03T21:50:00")
    (s,) = summarise_windows(ws, HOME)
    assert (s.part.name, s.hour, s.mid_hour) == ("late night", 21, 22)
    (caps,) = caption_windows(ws, HOME, seed=0)
    assert caps["short_structured"][0].startswith("Wednesday late at night | kitchen |")
    assert "Start: Wednesday 21:50. Time of day: late at night (around 10 pm)." in caps["long_structured"][0]
    assert any(re.search(r"from 9:50 pm (to|until) 10:30 pm", t) for t in caps["long_natural"]), caps


# ------------------------------------------------------------------------------- activity cues (events only)
def _cue_caps(events, start, quiet_before=0.0, home=None, seed=0):
    ws = _windows([events], start=start, home=home, quiet_before=quiet_before)
    (s,) = summarise_windows(ws, home or HOME)
    (caps,) = caption_windows(ws, home or HOME, seed=seed)
    return s, caps, ws


def _natural(caps) -> str:
    return " ".join(caps["long_natural"] + caps["short_natural"])


def _bed_stirs(t0: float, t1: float, every: float = 700.0) -> list[tuple[float, str, str]]:
    """A sleeper: the bed sensor (M005, 'bed in master bedroom') now and then, nothing else."""
    return [(t, "M005", "ON") for t in np.arange(t0, t1, every).tolist()]


def _walk(t0: float, sensors: list[str], step: float = 8.0) -> list[tuple[float, str, str]]:
    return [(t0 + k * step, name, "ON") for k, name in enumerate(sensors)]


def test_getting_up_after_a_quiet_night_in_the_bedroom():
    events = _bed_stirs(0, 3000) + _walk(3000, ["M006", "M005", "M006", "M006", "M007", "M008", "M007", "M008"])
    s, caps, _ = _cue_caps(events, "2024-01-03T06:10:00", quiet_before=3600)     # up at 07:00, Wednesday
    assert [c.kind for c in s.cues] == ["in_bed", "gets_up"]
    up = s.cues[1]
    assert (up.hour, up.minute, up.rooms) == (7, 0, ("bathroom",))
    assert re.search(r"gets (up|out of bed) (early )?in the morning", _natural(caps)), caps
    assert "and goes to the bathroom" in _natural(caps)
    assert "gets up 07:00 (early in the morning)" in caps["long_structured"][0]
    assert caps["short_structured"][0].endswith("| in bed | gets up")
    assert re.search(r"(stays|lies) in bed for about two hours or more", _natural(caps)), caps   # 1 h before + 50 min


def test_getting_up_says_the_part_of_the_day_it_happens_in():
    late = _bed_stirs(0, 3000) + _walk(3000, ["M006", "M007", "M008", "M007", "M008"])
    s, caps, _ = _cue_caps(late, "2024-01-03T07:15:00", quiet_before=3600)       # up at 08:05: the morning
    assert s.cues[-1].kind == "gets_up" and s.cues[-1].hour == 8
    assert "gets up 08:05 (in the morning)" in caps["long_structured"][0]
    assert re.search(r"gets (up|out of bed) in the morning", _natural(caps)), caps
    assert not re.search(r"gets (up|out of bed) early", _natural(caps)), caps


def test_a_night_trip_to_the_bathroom_and_back_to_bed():
    trip = _walk(3000, ["M006", "M007", "M008", "M007", "M008", "M007", "M006", "M005"], step=15.0)
    events = _bed_stirs(0, 3000) + trip + _bed_stirs(3300, 6000)
    s, caps, _ = _cue_caps(events, "2024-01-04T01:20:00", quiet_before=1800)     # out of bed at 02:10
    assert [c.kind for c in s.cues] == ["in_bed", "gets_up", "back_to_bed", "in_bed"]
    natural = _natural(caps)
    assert re.search(r"gets out of bed (in the middle of the night|late at night).*goes to the bathroom, then goes "
                     r"back to bed (a minute|a few minutes|about \w+ minutes) later", natural), caps
    assert "gets up 02:10 (in the middle of the night); back to bed 02:11" in caps["long_structured"][0]
    for text in caps["long_natural"]:
        _check_time_phrases(text, _event_hours(_windows([events], start="2024-01-04T01:20:00"), 0))


def test_going_to_bed_late_at_night():
    events = _walk(0, ["M001", "M002", "M003", "M004", "M006", "M005", "M006"]) + _bed_stirs(700, 6000)
    s, caps, _ = _cue_caps(events, "2024-01-03T22:40:00")
    assert [c.kind for c in s.cues] == ["to_bed", "in_bed"]
    assert re.search(r"goes to bed late at night( \((around 11 pm|at 10:40 pm)\))? and (stays|lies) in bed",
                     _natural(caps)), caps


def test_leaving_the_house_and_coming_home():
    leave = _walk(0, ["M003", "M004", "M003", "M009", "M010"]) + [(45, "D001", "OPEN"), (50, "D001", "CLOSE")]
    back = [(3050, "D001", "OPEN"), (3055, "D001", "CLOSE")] + _walk(3060, ["M009", "M010", "M001", "M002", "M001"])
    s, caps, _ = _cue_caps(leave + [(1500, "M011", "ON")] + back, "2024-01-03T14:00:00")  # a false trigger away
    assert [c.kind for c in s.cues] == ["leaves", "comes_home"]
    assert s.cues[0].thing == "entrance door" and (s.cues[0].hour, s.cues[0].minute) == (14, 0)
    assert re.search(r"(leaves the house|goes out through the entrance door) in the afternoon( \(.*?\))? and comes "
                     r"back 50 minutes later", _natural(caps)), caps
    assert ("leaves the house 14:00 (in the afternoon), then quiet 50 min and comes home 14:50 (in the afternoon)"
            in caps["long_structured"][0])


def test_leaving_with_the_home_staying_empty_and_coming_home_alone():
    leave = _walk(0, ["M003", "M009", "M010"]) + [(30, "D001", "OPEN"), (36, "D001", "CLOSE"), (2400, "M011", "ON")]
    s, caps, _ = _cue_caps(leave, "2024-01-03T16:50:00")
    assert [c.kind for c in s.cues] == ["leaves"] and s.cues[0].lower_bound
    assert re.search(r"in the afternoon.*the home then stays empty for about 40 minutes or more", _natural(caps))
    back = [(0, "D001", "OPEN"), (5, "D001", "CLOSE")] + _walk(8, ["M009", "M010", "M001", "M002"])
    s, caps, _ = _cue_caps(back, "2024-01-03T18:20:00", quiet_before=5400)
    assert [c.kind for c in s.cues] == ["comes_home"] and s.cues[0].duration_s == 5400
    assert re.search(r"(comes home|comes back in through the entrance door|the entrance door opens) in the evening",
                     _natural(caps).lower()), caps


def test_a_door_opened_while_staying_in_is_not_leaving_and_a_short_quiet_is_not_coming_home():
    events = _walk(0, ["M003", "M009", "M010"]) + [(30, "D001", "OPEN"), (40, "D001", "CLOSE")] + \
        _walk(60, ["M010", "M009", "M003", "M004", "M003"]) + [(400, "D001", "OPEN"), (405, "D001", "CLOSE")] + \
        _walk(410, ["M009", "M003"])
    s, caps, _ = _cue_caps(events, "2024-01-03T14:00:00", quiet_before=120)
    assert s.cues == []
    assert not re.search(r"leaves the house|comes home|comes back|stays empty|gets up|in bed", _natural(caps))


def test_a_quiet_hour_in_the_living_room_is_not_bed():
    events = _walk(0, ["M003", "M004", "M003", "M004", "M003"]) + [(t, "M004", "ON") for t in range(600, 4000, 600)]
    s, caps, _ = _cue_caps(events, "2024-01-03T02:00:00")
    assert s.cues == []
    assert "in bed" not in _natural(caps) and "gets up" not in _natural(caps)


def _mat_home() -> Home:
    sensors = dict(HOME.sensors)
    sensors["P01"] = SensorInfo("P01", "master_bedroom", 0.0, 0.0, "pressure", "bed mat", "bedroom", "bed")
    sensors["P02"] = SensorInfo("P02", "living_room", 0.0, 0.0, "pressure", "sofa", "living", "seat")
    return Home("mats", sensors, (0.0, 0.0, 12.0, 12.0))


def test_pressure_mats_say_staying_in_bed_and_sitting():
    home = _mat_home()
    events = _walk(0, ["M006", "M005"]) + [(20, "P01", "ON"), (9020, "P01", "OFF")] + _walk(9030, ["M006", "M007"])
    s, caps, _ = _cue_caps(events, "2024-01-03T23:00:00", home=home)
    assert any(c.kind == "in_bed" and c.duration_s == 9000 and not c.lower_bound for c in s.cues), s.cues
    assert re.search(r"(stays|lies) in bed for about two and a half hours", _natural(caps)), caps
    events = _walk(0, ["M003", "M004"]) + [(20, "P02", "ON"), (3620, "P02", "OFF")] + _walk(3630, ["M003", "M001"])
    s, caps, _ = _cue_caps(events, "2024-01-03T19:00:00", home=home)
    assert [c.kind for c in s.cues] == ["seated"] and s.cues[0].thing == "sofa"
    assert "sits on the sofa for about an hour in the evening" in _natural(caps)
    assert "sits on the sofa from 19:00 (in the evening) for 1 h" in caps["long_structured"][0]


@pytest.mark.parametrize("sensor_type, kind, verb", [
    ("door", "fridge", "opened"), ("door", "cupboard", "opened"), ("door", "microwave", "opened"),
    ("door", "medicine", "opened"), ("flow", "toilet", "flushed"), ("flow", "shower_bath", "turned on"),
    ("flow", "sink_tap", "turned on"), ("electric", "microwave", "switched on"), ("electric", "stove", "switched on"),
    ("electric", "tv_media", "switched on"), ("electric", "appliance", "switched on"), ("item", "item", "moved"),
    ("item", "medicine", "moved"), ("pressure", "seat", "sits on"), ("pressure", "bed", "lies on"),
    ("power", "other", "switched on"), ("other", "desk", "used"), ("other", "table", "used")])
def test_every_object_kind_gets_a_natural_verb(sensor_type, kind, verb):
    from homeclip.data.captions.phrases import thing_verb
    from homeclip.data.taxonomy import OBJECT_KINDS

    assert kind in OBJECT_KINDS and thing_verb(sensor_type, kind) == verb


def test_object_sentences_read_naturally():
    sensors = dict(HOME.sensors)
    for name, typ, detail, kind in (("S1", "flow", "shower", "shower_bath"), ("S2", "electric", "kettle", "appliance"),
                                    ("S3", "item", "phone book", "item"), ("S4", "pressure", "armchair", "seat")):
        sensors[name] = SensorInfo(name, "living_room", 0.0, 0.0, typ, detail, "living", kind)
    home = Home("objects", sensors, (0.0, 0.0, 12.0, 12.0))
    events = [(0, "S1", "ON"), (30, "S1", "OFF"), (60, "S2", "ON"), (70, "S3", "ABSENT"), (80, "S4", "ON"),
              (90, "M003", "ON")]
    natural = " ".join(caption_windows(_windows([events], home=home), home, seed=0)[0]["long_natural"]).lower()
    assert "the shower is turned on once" in natural and "the kettle is switched on once" in natural
    assert "the phone book is moved once" in natural and re.search(r"(someone|the resident|a person|the occupant) "
                                                                    r"sits on the armchair once", natural)


def test_cue_captions_never_use_labels():
    """The cue windows captioned under every label of every packaged home give the same captions, and no label
    name (as words) appears in them."""
    from homeclip.data.homes import load_home

    windows = [
        (_bed_stirs(0, 3000) + _walk(3000, ["M006", "M005", "M006", "M006", "M007", "M008"]), "2024-01-03T06:10:00",
         3600),
        (_bed_stirs(0, 3000) + _walk(3000, ["M006", "M007", "M008", "M007", "M006", "M005"], 15.0)
         + _bed_stirs(3300, 6000), "2024-01-04T01:20:00", 1800),
        (_walk(0, ["M003", "M009", "M010"]) + [(30, "D001", "OPEN"), (36, "D001", "CLOSE")]
         + [(3000, "D001", "OPEN"), (3005, "D001", "CLOSE")] + _walk(3010, ["M009", "M010", "M001"]),
         "2024-01-03T14:00:00", 0.0),
    ]
    labels = set()
    for name in ("milan", "aruba", "cairo", "kyoto", "kyoto_m01", "alsmarthome", "ordonez_a", "kasteren_a"):
        home = load_home(name)
        labels |= {lab for lab in set(home.label_map) | set(home.label_map.values()) if lab}
    forms = {re.sub(r"^R\d[ _]", "", lab).replace("_", " ") for lab in labels}
    room_words = {"other", "toilet", "laundry", "guest bathroom", "master bathroom"}     # rooms the captions name
    for events, start, quiet in windows:
        ws = _windows([events], start=start, quiet_before=quiet)
        caps = caption_windows(ws, HOME, seed=4)
        assert summarise_windows(ws, HOME)[0].cues
        for label in sorted(labels):
            relabelled = ws.subset([0])
            relabelled.label_l1 = relabelled.label_l2 = np.array([label], dtype=object)
            relabelled.label_fractions = [{label: 1.0}]
            assert caption_windows(relabelled, HOME, seed=4) == caps
        for text in _all(caps[0]):
            for form in forms - room_words:
                assert not re.search(rf"\b{re.escape(form)}\b", text, re.IGNORECASE), (form, text)
