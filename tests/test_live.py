"""Live events without a broker: live windows are the offline windows, the ordering rule, payload mappings,
the live clock, and the log tail across rotation and truncation."""
from __future__ import annotations

import json
import math
import os
import threading
import time
from datetime import timezone

import numpy as np
import pytest

from homeclip.data.events import EventLog
from homeclip.data.homes import load_home
from homeclip.data.live.events import Arrival, LiveEvent, Malformed, iso_of, parse_time, zone_of
from homeclip.data.live.payloads import (BUILTIN_RULES, PayloadMapper, Rule, fixed_prefix, load_mapping,
                                         match_topic)
from homeclip.data.live.sources import Backoff, SourceOptions, open_source
from homeclip.data.live.stream import EventStream
from homeclip.data.live.tail import TailSource, parse_line
from homeclip.data.live.windower import LiveWindower
from homeclip.data.readers import read_log
from homeclip.data.simulate import write_simulated_log
from homeclip.data.windows import WindowConfig, make_windows
from homeclip.errors import UserError

UTC = timezone.utc


def live_events(log) -> list[LiveEvent]:
    times = log.frame["time"].to_numpy().astype("datetime64[us]").astype(np.int64)
    return [LiveEvent(int(t), s, st) for t, s, st in zip(times, log.frame["sensor"], log.frame["state"])]


@pytest.mark.parametrize("window,stride,max_gap", [(20, 5, 4 * 3600.0), (7, 7, 300.0)])
def test_live_windows_are_the_offline_windows(tmp_path, window, stride, max_gap):
    home = load_home("milan")
    full = read_log(write_simulated_log(tmp_path / "d.txt", home, days=1, seed=5))
    log = EventLog(frame=full.frame.iloc[:1500].reset_index(drop=True), numeric=full.numeric, report=full.report,
                   sources=full.sources)                                    # the night and the morning
    cfg = WindowConfig(length=window, stride=stride, max_gap=max_gap)
    offline = make_windows(log, home, cfg)
    assert offline.meta["windowing"]["n_segments"] > (1 if max_gap < 3600 else 0)
    windower = LiveWindower(home, cfg, keep=50)
    live = [w for w in (windower.push(e) for e in live_events(log)) if w is not None]
    assert len(live) == len(offline) > 40
    for i in (0, 1, len(live) // 2, len(live) - 1):
        w = live[i]
        for name in offline.codes:
            assert w.strings(name, 0) == offline.strings(name, i), (i, name)
        for name in ("time", "time_delta", "mask"):
            np.testing.assert_array_equal(getattr(w, name)[0], getattr(offline, name)[i])
        np.testing.assert_array_equal(w.xy[0], offline.xy[i])
    # a restart continues the same windows: restore the last events and the segment position
    events = live_events(log)
    half = len(events) // 2
    first = LiveWindower(home, cfg, keep=50)
    out = [w for w in (first.push(e) for e in events[:half]) if w is not None]
    second = LiveWindower(home, cfg, keep=50)
    second.restore(list(first.events), first.position)
    out += [w for w in (second.push(e) for e in events[half:]) if w is not None]
    assert [int(w.time[0, 0]) for w in out] == [int(t) for t in offline.time[:, 0]]


def test_factorize_small_and_large_agree():
    from homeclip.data import windows

    rng = np.random.default_rng(0)
    words = ["M001", "m001", "Kitchen", "kitchen", "Ärger", "zz", "a b", "", "M010", "M1", "\u00e9", "Z"]
    values = list(rng.choice(words, size=windows._SMALL + 5))
    big_codes, big_names = windows.factorize_sorted(values)
    small_codes, small_names = windows.factorize_sorted(values[:windows._SMALL])
    assert small_names == big_names == sorted(set(words))               # every word occurs in both
    np.testing.assert_array_equal(small_codes, big_codes[:windows._SMALL])
    assert small_codes.dtype == big_codes.dtype == np.int32
    codes, names = windows.factorize_sorted([])
    assert codes.shape == (0,) and names == []


def test_ordering_rule():
    stream = EventStream(hold_s=0.0)
    e = [LiveEvent(t, "M1", "ON") for t in (10, 20, 30)]
    assert stream.push(e[1], 0.0) == "held" and [x.time_us for x, _ in stream.release(0.0)] == [20]
    assert stream.push(e[1], 0.0) == "duplicate"                          # same (sensor, state, time)
    assert stream.push(e[0], 0.0) == "late"                                # earlier than the released one
    assert stream.push(LiveEvent(20, "M2", "ON"), 0.0) == "held"          # same time, other sensor: fine
    assert stream.push(LiveEvent(40, "T1", "", 21.5), 0.0) == "numeric"
    assert stream.push(LiveEvent(40, "M1", "UNAVAILABLE"), 0.0) == "missing"
    assert stream.push(LiveEvent(5, "M1", "ON", home="other"), 0.0) == "held"   # homes are separate
    assert {k: stream.counts[k] for k in ("duplicate", "late", "numeric", "missing")} == \
        {"duplicate": 1, "late": 1, "numeric": 1, "missing": 1}
    # a hold re-sorts events that arrive a little out of order
    held = EventStream(hold_s=1.0)
    for t, arrived in ((30, 0.0), (10, 0.1), (20, 0.2)):
        held.push(LiveEvent(t, "M1", "ON"), arrived)
    assert held.release(0.5) == [] and held.next_due() == pytest.approx(1.1)
    assert [x.time_us for x, _ in held.release(1.3)] == [10, 20, 30]
    assert held.push(LiveEvent(25, "M1", "OFF"), 2.0) == "late"
    # remembered events (a restart) are duplicates, and set the watermark
    again = EventStream()
    again.remember(e[2])
    assert again.push(e[2], 0.0) == "duplicate" and again.push(e[1], 0.0) == "late"


def test_zigbee2mqtt_and_plain_payloads():
    zone = zone_of("Europe/Madrid")
    mapper = PayloadMapper(BUILTIN_RULES, subscription="#")
    z2m = b'{"occupancy": true, "battery": 97, "illuminance": 31, "last_seen": "2024-05-01T10:00:00+00:00"}'
    events = mapper.read("zigbee2mqtt/Hall motion", z2m, zone)
    assert [(e.sensor, e.state) for e in events] == [("Hall_motion", "ON"), ("Hall_motion.illuminance", "")]
    assert iso_of(events[0].time_us) == "2024-05-01 12:00:00.000000"           # UTC -> the home's zone
    assert events[1].value == 31
    # Zigbee2MQTT repeats the device state: the same occupancy again is no event (changes_only)
    again = mapper.read("zigbee2mqtt/Hall motion", z2m.replace(b'97', b'96'), zone)
    assert [e.sensor for e in again] == ["Hall_motion.illuminance"]
    door = mapper.read("zigbee2mqtt/front_door", b'{"contact": false}', zone)
    assert [(e.sensor, e.state) for e in door] == [("front_door", "OPEN")]
    assert mapper.read("zigbee2mqtt/front_door", b'{"contact": true}', zone)[0].state == "CLOSE"
    # plain payloads (Tasmota, ESPHome): the topic below the subscription names the sensor
    plain = PayloadMapper(BUILTIN_RULES, subscription="home/#")
    assert [(e.sensor, e.state) for e in plain.read("home/kitchen/motion", b"ON", zone)] == [("kitchen/motion", "ON")]
    assert plain.read("home/kitchen/motion", b" off\n", zone)[0].state == "OFF"
    assert plain.read("home/kitchen/door", b"true", zone)[0].state == "ON"
    reading = plain.read("home/kitchen/temp", b"21.5", zone)[0]
    assert reading.state == "" and reading.value == 21.5
    event_json = plain.read("home/M001", b'{"state": "ON", "time": "2009-10-16 08:00:00.25"}', zone)[0]
    assert (event_json.sensor, event_json.state, iso_of(event_json.time_us)) == ("M001", "ON",
                                                                                 "2009-10-16 08:00:00.250000")
    for bad, why in ((b"\xff\xfe", "not UTF-8"), (b"<html>", "expected a state word"), (b"inf", "finite"),
                     (b'{"state": [1]}', "state"), (b"{not json", "invalid JSON"),
                     (b'{"state": "ON", "time": "yesterday"}', "expected a time"),
                     (b'{"state": "ON", "time": "1970-01-01 00:00:00"}', "outside 1980-2099"),
                     (b"x" * 70000, "payload of 70000 bytes")):
        with pytest.raises(Malformed, match=why):
            plain.read("home/x", bad, zone)
    assert PayloadMapper([Rule("other/#")]).read("home/x", b"ON", zone) == []     # no rule: ignored


def test_topic_templates_and_mapping_files(tmp_path):
    assert match_topic("zigbee2mqtt/+", "zigbee2mqtt/lamp") == ["lamp"]
    assert match_topic("zigbee2mqtt/+", "zigbee2mqtt/lamp/availability") is None
    assert match_topic("home/+/#", "home/flat1/kitchen/pir") == ["flat1", "kitchen/pir"]
    assert match_topic("home/#", "home") == [""] and match_topic("a/b", "a/c") is None
    assert fixed_prefix("home/#") == 1 and fixed_prefix("a/+/c") == 1 and fixed_prefix("a/b") == 1
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps({"rules": [{"topic": "home/+/+", "format": "json", "sensor": "{2}", "home": "{1}",
                                           "fields": {"motion": {"yes": "ON", "no": "OFF"}}, "time": "ts"}]}))
    rules = load_mapping(path)
    events = PayloadMapper(rules, "home/#").read("home/flat 1/hall pir", b'{"motion": "yes", "ts": 1700000000}',
                                                 UTC)
    assert [(e.home, e.sensor, e.state, e.time_us) for e in events] == [("flat_1", "hall_pir", "ON",
                                                                        1_700_000_000_000_000)]
    for doc, why in (({"rules": []}, "at least one rule"), ({"rules": [{"topic": "a/#/b"}]}, "rules.0..topic"),
                     ({"rules": [{"topic": "a", "format": "xml"}]}, r"rules\[0\].format: expected one of"),
                     ({"rules": [{"topic": "a", "colour": 1}]}, r"rules\[0\].colour: unknown key"),
                     ({"rules": [{"topic": "a", "fields": {"x": 3}}]}, r"rules\[0\].fields")):
        path.write_text(json.dumps(doc))
        with pytest.raises(UserError, match=why):
            load_mapping(path)
    path.write_text("{oops")
    with pytest.raises(UserError, match=r"mapping.json:1: invalid JSON"):
        load_mapping(path)


def test_live_clock():
    madrid = zone_of("Europe/Madrid")
    assert iso_of(parse_time("2009-10-16T06:00:00Z", madrid)) == "2009-10-16 08:00:00.000000"
    assert iso_of(parse_time("2009-10-16 08:00:00.5", madrid)) == "2009-10-16 08:00:00.500000"   # naive: local
    assert parse_time(1_255_672_800, UTC) == parse_time(1_255_672_800_000, UTC)                # s or ms
    for bad in (True, float("nan"), "soon", "2009-13-40 00:00:00"):
        with pytest.raises(Malformed):
            parse_time(bad, UTC)


def test_parse_log_line():
    e = parse_line("2009-10-16 00:01:04.000059 M017 on Sleep begin")
    assert (e.sensor, e.state, iso_of(e.time_us)) == ("M017", "ON", "2009-10-16 00:01:04.000059")
    t = parse_line("2009-10-16 00:01:05 T001 19.5")
    assert t.state == "" and t.value == 19.5
    for bad in ("2009-10-16 M001 ON", "2009-10-16 25:00:00 M001 ON", "2009-10-16 00:00:00 T1 inf",
                "2009-10-16 00:00:00 M1 O\x07N"):
        with pytest.raises(Malformed):
            parse_line(bad)


def test_tail_follows_rotation_and_truncation(tmp_path):
    path = tmp_path / "home.log"
    path.write_text("2009-10-16 00:00:00 M001 ON\n")                   # before the start: not delivered
    got: list[Arrival] = []
    lock = threading.Lock()

    def sink(arrival):
        with lock:
            got.append(arrival)

    def seen() -> list[str]:
        with lock:
            return [item for a in got for item in [e.sensor for e in a.events] + [f"bad:{a.malformed[:8]}"] * bool(
                a.malformed)]

    def wait(n):
        deadline = time.monotonic() + 20
        while len(seen()) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return seen()

    source = open_source(str(path), SourceOptions(zone=UTC))
    assert isinstance(source, TailSource)
    source.start(sink)
    time.sleep(0.3)
    with open(path, "a") as fh:
        fh.write("2009-10-16 00:00:01 M002 ON\n2009-10-16 00:00:02 M0")    # a line still being written
        fh.flush()
        time.sleep(0.3)
        fh.write("03 OFF\nnot a line\n")
    assert wait(3) == ["M002", "M003", "bad:expected"]
    os.rename(path, tmp_path / "home.log.1")                              # rotated: a new file at the path
    with open(tmp_path / "home.log.1", "a") as fh:
        fh.write("2009-10-16 00:00:04 M004 ON\n")                        # the old file's last line still comes
    path.write_text("2009-10-16 00:00:05 M005 ON\n")
    assert wait(5)[3:] == ["M004", "M005"]
    path.write_text("2009-10-16 00:00:06 M6 ON\n")                        # truncated (copytruncate) and written
    assert wait(6)[5:] == ["M6"]
    source.stop()


def test_backoff_and_source_urls(monkeypatch):
    backoff = Backoff(first=0.5, most=4.0)
    delays = [backoff.delay() for _ in range(6)]
    assert 0.4 <= delays[0] <= 0.6 and all(3.2 <= d <= 4.8 for d in delays[3:])
    backoff.reset()
    assert backoff.delay() <= 0.6
    options = SourceOptions(zone=UTC)
    with pytest.raises(UserError, match=r"expected mqtt://host\[:port\]/topic/filter"):
        open_source("mqtt://broker", options)
    with pytest.raises(UserError, match="'#' only as the last level"):
        open_source("mqtt://broker/a/#/b", options)
    mqtt = open_source("mqtt://ha:s3cret@broker:1884/zigbee2mqtt/#", options)
    assert mqtt.name == "mqtt://ha@broker:1884/zigbee2mqtt/#" and "s3cret" not in repr(mqtt.name)
    monkeypatch.delenv("HOMECLIP_HA_TOKEN", raising=False)
    with pytest.raises(UserError, match=r"set \$HOMECLIP_HA_TOKEN"):
        open_source("ha://homeassistant.local", options)
    monkeypatch.setenv("HOMECLIP_HA_TOKEN", "tok")
    assert open_source("ha://homeassistant.local", options).url == "ws://homeassistant.local:8123/api/websocket"
    assert open_source("has://ha.example:443", options).url == "wss://ha.example:443/api/websocket"
    with pytest.raises(UserError, match="unknown live source 'kafka'"):
        open_source("kafka://x", options)
    assert math.isnan(LiveEvent(0, "a", "ON").value)
