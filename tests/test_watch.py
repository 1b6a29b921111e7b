"""`homeclip watch` end to end: a simulated day published through a real mosquitto broker (started by the test)
gives a timeline equal to the offline read-out of the prepared windows of the same log, also when the broker is
killed and restarted mid-stream; a Home Assistant WebSocket stand-in speaking the real auth/subscribe protocol;
the command line on a growing log; the timeline page."""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time

import pytest

from homeclip.apps.watch.session import checkpoint_windowing, set_up
from homeclip.data.homes import load_home
from live_fixtures import (STRIDE, WINDOW, assert_rows_equal_offline, broker, event_messages,  # noqa: F401
                           loaded_model, offline_readout, publisher, timeline_rows, trained_day, wait_for)


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    """A simulated Milan day, its prepared windows (window 30, stride 10) and a tiny run trained on them."""
    return trained_day(tmp_path_factory.mktemp("day"))


@pytest.fixture(scope="module")
def offline(day):
    return offline_readout(loaded_model(day.checkpoint), day.split, load_home("milan"))


def start_watch(day, urls, timeline, **kwargs):
    """A watch set up like the command does (windowing from the checkpoint), running in a thread."""
    model = loaded_model(day.checkpoint)
    window = checkpoint_windowing(model)
    assert (window.length, window.effective_stride) == (WINDOW, STRIDE)      # read from the run's training split
    setup = set_up(model, day.checkpoint, urls, load_home("milan"), timeline=timeline, window=window, **kwargs)
    stop = threading.Event()
    thread = threading.Thread(target=lambda: setup.watcher.run(setup.sources, stop), daemon=True)
    thread.start()
    return setup, stop, thread


def test_mqtt_day_equals_offline_and_survives_a_broker_restart(tmp_path, day, offline, broker):
    timeline = tmp_path / "timeline.sqlite"
    setup, stop, thread = start_watch(day, [broker.url], timeline, timezone="Europe/Madrid")
    assert setup.sources[0].connected.wait(20)
    messages = event_messages(day.log)
    half = len(messages) // 2
    pub = publisher(broker.port)
    noise = [("home/M001", b"{not json"), ("home/M002", b'{"state": "!!"}'), ("home/M003", b"\xff")]
    for i, (topic, payload) in enumerate(messages[:half]):
        pub.publish(topic, payload, qos=1)
        if i == 100:
            for bad in noise:
                pub.publish(*bad, qos=1)
            pub.publish(topic, payload, qos=1)                        # a duplicate
    broker.stop()                                                     # mid-stream, messages still in flight
    for topic, payload in messages[half:half + 200]:
        pub.publish(topic, payload, qos=1)                            # queued by the publisher meanwhile
    time.sleep(1.0)
    broker.start()                                                    # the same port and persistence
    for topic, payload in messages[half + 200:]:
        pub.publish(topic, payload, qos=1)
    wait_for(lambda: len(timeline_rows(timeline)) >= len(offline), 240, "every window in the timeline")
    time.sleep(0.5)                                                   # nothing more comes: no duplicate rows
    stop.set()
    thread.join(30)
    pub.loop_stop()
    rows = timeline_rows(timeline)
    assert_rows_equal_offline(rows, offline)
    counts = setup.watcher.summary.counts
    # counted and skipped (a message QoS 1 redelivers after the restart is counted again: it cannot be read)
    assert counts["malformed"] >= 3 and counts["duplicate"] >= 1 and counts["late"] == 0
    assert counts["numeric"] >= len(day.log.numeric)                # readings are counted, not windowed
    assert setup.sources[0].connections >= 2                         # it reconnected
    assert all(r["latency_ms"] is not None and r["latency_ms"] >= 0 for r in rows)
    assert {r["method"] for r in rows} == {"zeroshot"}
    # a restarted watch on the same timeline continues: the stored events come back, a replay adds nothing
    setup.timeline.close()
    again, stop2, thread2 = start_watch(day, [broker.url], timeline, timezone="Europe/Madrid")
    assert again.sources[0].connected.wait(20)
    pub2 = publisher(broker.port, client_id="replayer")
    for topic, payload in messages[-300:]:
        pub2.publish(topic, payload, qos=1).wait_for_publish(10)
    wait_for(lambda: again.watcher.stream.counts["duplicate"] >= 290, 60, "the replay to be read")
    stop2.set()
    thread2.join(30)
    pub2.loop_stop()
    again.timeline.close()
    assert timeline_rows(timeline) == rows


# ------------------------------------------------------------------------------------ Home Assistant
class FakeHomeAssistant:
    """A WebSocket server speaking Home Assistant's protocol: auth_required -> auth -> auth_ok | auth_invalid,
    get_config, subscribe_events (state_changed) -> result, then the events it is given."""

    def __init__(self, token: str, events: list[dict]):
        self.token, self.events = token, events
        self.received: list[dict] = []
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _handler(self, ws):
        await ws.send(json.dumps({"type": "auth_required", "ha_version": "2024.6.0"}))
        auth = json.loads(await ws.recv())
        self.received.append(auth)
        if auth.get("type") != "auth" or auth.get("access_token") != self.token:
            await ws.send(json.dumps({"type": "auth_invalid", "message": "Invalid access token or password"}))
            return
        await ws.send(json.dumps({"type": "auth_ok", "ha_version": "2024.6.0"}))
        async for raw in ws:
            msg = json.loads(raw)
            self.received.append(msg)
            if msg["type"] == "get_config":
                await ws.send(json.dumps({"id": msg["id"], "type": "result", "success": True,
                                          "result": {"time_zone": "Europe/Madrid", "location_name": "Home"}}))
            elif msg["type"] == "subscribe_events":
                assert msg["event_type"] == "state_changed"
                await ws.send(json.dumps({"id": msg["id"], "type": "result", "success": True, "result": None}))
                for event in self.events:
                    await ws.send(json.dumps({"id": msg["id"], "type": "event", "event": event}))
                await ws.send("not json")

    def __enter__(self):
        from websockets.asyncio.server import serve

        self.thread.start()

        async def start():
            self.server = await serve(self._handler, "127.0.0.1", 0)
            self.port = self.server.sockets[0].getsockname()[1]

        asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        return self

    def __exit__(self, *exc):
        async def close():
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def state_changed(entity_id: str, state: str, when: str, *, device_class: str | None = None,
                  changed: str | None = None) -> dict:
    new = {"entity_id": entity_id, "state": state, "attributes": {"device_class": device_class} if device_class
           else {}, "last_changed": changed or when, "last_updated": when}
    return {"event_type": "state_changed", "origin": "LOCAL", "time_fired": when,
            "data": {"entity_id": entity_id, "old_state": None, "new_state": new}}


def test_home_assistant_websocket(tmp_path, monkeypatch, caplog):
    from homeclip.data.live.events import iso_of
    from homeclip.data.live.sources import SourceOptions, open_source
    from homeclip.data.live.events import zone_of

    token = "secret-token-123"
    events = [state_changed("binary_sensor.hall", "on", "2024-06-01T06:00:00.250000+00:00", device_class="motion"),
              state_changed("binary_sensor.front", "on", "2024-06-01T06:00:01+00:00", device_class="door"),
              state_changed("media_player.tv", "playing", "2024-06-01T06:00:02+00:00",
                            changed="2024-06-01T05:00:00+00:00"),                       # attributes only
              state_changed("sensor.t1", "21.5", "2024-06-01T06:00:03+00:00", device_class="temperature"),
              state_changed("sun.sun", "above_horizon", "2024-06-01T06:00:04+00:00"),
              {"event_type": "state_changed", "data": {"new_state": {"state": "on"}}}]       # malformed
    got = []
    monkeypatch.setenv("HOMECLIP_HA_TOKEN", token)
    caplog.set_level(logging.DEBUG)
    with FakeHomeAssistant(token, events) as ha:
        source = open_source(f"ha://127.0.0.1:{ha.port}", SourceOptions(zone=zone_of("UTC"), zone_from_source=True))
        source.start(got.append)
        wait_for(lambda: sum(bool(a.malformed) for a in got) >= 2, 30, "the events")
        source.stop()
    readings = [e for a in got for e in a.events]
    assert [(e.sensor, e.state, iso_of(e.time_us)) for e in readings[:2]] == [
        ("binary_sensor.hall", "ON", "2024-06-01 08:00:00.250000"),      # in Home Assistant's own zone
        ("binary_sensor.front", "OPEN", "2024-06-01 08:00:01.000000")]
    assert readings[2].sensor == "sensor.t1" and readings[2].value == 21.5 and len(readings) == 3
    assert [m["type"] for m in ha.received] == ["auth", "get_config", "subscribe_events"]
    assert ha.received[0]["access_token"] == token
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("websockets.server")]
    assert ours and not any(token in text for text in ours)            # never logged (the client logs no frames)
    # a rejected token stops the watch with one sentence
    monkeypatch.setenv("HOMECLIP_HA_TOKEN", "wrong")
    with FakeHomeAssistant(token, []) as ha:
        got.clear()
        source = open_source(f"ha://127.0.0.1:{ha.port}", SourceOptions(zone=zone_of("UTC")))
        source.start(got.append)
        wait_for(lambda: any(a.fatal for a in got), 30, "the rejection")
        source.stop()
    assert "rejected the access token" in got[-1].fatal and "wrong" not in got[-1].fatal


# ------------------------------------------------------------------------------------ command line, page
def test_watch_command_on_a_log_file(tmp_path, day, offline, monkeypatch, capsys):
    from homeclip.cli import main
    from homeclip.testing import HashTextEncoder
    from homeclip.training.checkpoint import TrainedModel

    monkeypatch.setattr(TrainedModel, "text_encoder", property(lambda self: HashTextEncoder()))
    log_file = tmp_path / "live.log"
    log_file.write_bytes(day.log_path.read_bytes())
    timeline = tmp_path / "t.sqlite"
    argv = ["watch", "--checkpoint", str(day.checkpoint), "--source", str(log_file), "--from-start",
            "--timeline", str(timeline), "--idle-exit", "2", "--home", "milan"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"windows of {WINDOW} events every {STRIDE}" in out and f"{len(offline)} windows from" in out
    assert_rows_equal_offline(timeline_rows(timeline), offline)
    assert main(argv + ["--quiet"]) == 0                                 # again: every event already stored
    assert f"0 windows from 0 events" in capsys.readouterr().out
    assert len(timeline_rows(timeline)) == len(offline)
    assert main(argv[:-2] + ["--home", "aruba"]) == 2                   # another home: the cross-home guard
    assert "--allow-cross-home" in capsys.readouterr().err
    assert main(argv + ["--window", "20"]) == 2                          # another windowing: another timeline
    assert "use another --timeline" in capsys.readouterr().err


def test_timeline_page(tmp_path, day):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from homeclip.apps.watch.page import timeline_router
    from homeclip.apps.watch.timeline import Timeline, WindowRow
    from homeclip.data.live.events import LiveEvent

    path = tmp_path / "t.sqlite"
    app = FastAPI()
    app.include_router(timeline_router(path))
    client = TestClient(app)
    assert client.get("/api/timeline").json()["note"].startswith("no timeline yet")
    assert "No window yet" in client.get("/timeline").text
    store = Timeline(path, {"home": "milan", "method": "zeroshot", "level": "l2", "window": "{}",
                            "checkpoint_sha256": "x"})
    store.begin()
    ids = [store.add_event(LiveEvent(10**15 + i, "M001", "ON"), 1) for i in range(2)]
    store.add_window(WindowRow("", 10**15, 10**15 + 1, 2, "<script>alert(1)</script>", 0.5, "zeroshot",
                               "Someone & <b>bold</b>", ids[-1], 12.0))
    store.add_counts("", {"malformed": 2})
    store.commit()
    data = client.get("/api/timeline").json()
    assert data["windows"][0]["label"] == "<script>alert(1)</script>" and data["counters"] == {"": {"malformed": 2}}
    html = client.get("/timeline").text
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Someone &amp; &lt;b&gt;bold&lt;/b&gt;" in html and "malformed: 2" in html
    assert client.get("/api/timeline", params={"limit": 0}).status_code == 422
    assert client.get("/api/timeline", params={"after_id": 1}).json()["windows"] == []
    store.close()
    # `watch --serve-port`: the same router in a tiny app on a real server
    import httpx

    from homeclip.apps.server import BackgroundServer
    from homeclip.apps.watch.web import timeline_app

    with BackgroundServer(timeline_app(path)) as server:
        page = httpx.get(server.url, follow_redirects=True, timeout=10)
        assert page.status_code == 200 and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_probe_read_out_is_the_evaluation_probe(day):
    from homeclip.apps.watch.recognise import Recogniser
    from homeclip.data.store import load_split
    from homeclip.evaluation.probe import linear_probe_scored

    model, windows = loaded_model(day.checkpoint), load_split(day.split)
    recogniser = Recogniser(model, load_home("milan"), probe_windows=windows)
    some = windows.subset(list(range(0, len(windows), 25)))
    got = recogniser.recognise(some)
    emb = recogniser.embed(windows)
    labels, probs = linear_probe_scored(emb, windows.label_l2, recogniser.embed(some))
    assert recogniser.method == "linear_probe" and [r.label for r in got] == list(labels)
    assert [r.score for r in got] == pytest.approx(list(probs), abs=1e-6)
