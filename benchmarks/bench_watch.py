"""`homeclip watch` latency: event arrival -> the window's activity, score and caption written to the timeline.

A simulated Milan day is prepared (windows of 50 events, stride 12: the defaults), a model is trained on it for
one epoch (Chronos encoder with the statistics backbone, 512-d output: the model this offline machine trains;
the text encoder only matters at start, for the prototypes) and loaded once ("cached models"). Then:
  in-process  every event of the day is handed to the watch loop as a message (no broker): the latency of each
              window is the time from its closing event's arrival to its timeline row (windowing through
              data/windows.py, caption, sensor encoder, zero-shot, SQLite transaction)
  mqtt        (when mosquitto is installed) the events are published through a real broker at --rate events/s;
              latency from arrival at the watch's MQTT client, and from publish, to the row
Prints p50 / p95 / max next to the target (< 50 ms per window on this CPU).

    .venv/bin/python benchmarks/bench_watch.py [--days 1] [--rate 50] [--mqtt-events 1000]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))     # live_fixtures: the test suite's broker and publisher
TARGET_MS = 50.0


def prepare_and_train(folder: Path, days: int):
    """Prepared windows (50 / 12) of a simulated day and a one-epoch statistics-backbone run on them."""
    from homeclip.data.homes import load_home
    from homeclip.data.prepare import prepare_dataset
    from homeclip.data.simulate import write_simulated_log
    from homeclip.data.windows import SplitConfig
    from homeclip.testing import HashTextEncoder
    from homeclip.training.config import TrainConfig
    from homeclip.training.trainer import train

    raw = write_simulated_log(folder / "sim.txt", load_home("milan"), days=days, seed=7)
    prepare_dataset(raw, "milan", folder / "prepared", split=SplitConfig(ratios=(1.0, 0.0, 0.0)), progress=False)
    cfg = TrainConfig(encoder="chronos", backbone="statistics", batch_size=64, max_epochs=1, use_wandb=False,
                      output_dir=str(folder / "run"), text_cache_dir=str(folder / "text"), device="cpu",
                      train_data_path=str(folder / "prepared" / "milan_train.json"), val_data_path="",
                      vocab_path=str(folder / "prepared" / "milan_vocab.json"), val_interval=10**6,
                      save_interval=10**6)
    train(cfg, text_encoder=HashTextEncoder(dim=384), progress=False)
    run = folder / "run"
    return raw, run / "best_model.pt" if (run / "best_model.pt").is_file() else run / "final_model.pt"


def watch_setup(checkpoint: Path, urls: list[str], timeline: Path, on_row=None):
    from homeclip.apps.watch.session import checkpoint_windowing, set_up
    from homeclip.data.homes import load_home
    from homeclip.testing import HashTextEncoder
    from homeclip.training.checkpoint import load_model

    model = load_model(checkpoint)
    model.set_text_encoder(HashTextEncoder(dim=384))
    return set_up(model, checkpoint, urls, load_home("milan"), timeline=timeline, window=checkpoint_windowing(model),
                  timezone="Europe/Madrid", on_row=on_row)


def stats(ms: list[float]) -> dict:
    arr = np.asarray(ms)
    return {"n": int(arr.size), "p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95)),
            "max": float(arr.max())}


def in_process(raw: Path, checkpoint: Path, folder: Path) -> dict:
    """Every event of the log handed to the watch loop as one message each, in order."""
    from homeclip.data.live.events import Arrival
    from homeclip.data.live.tail import parse_line

    setup = watch_setup(checkpoint, [], folder / "inproc.sqlite")
    events = [parse_line(line) for line in raw.read_text().splitlines() if line.strip()]
    started = time.perf_counter()
    for event in events:
        setup.watcher.process(Arrival("bench", time.perf_counter(), events=[event]))
    seconds = time.perf_counter() - started
    setup.timeline.close()
    return {**stats(setup.watcher.summary.latencies_ms), "events": len(events), "events_per_s": len(events) / seconds}


def through_mqtt(raw: Path, checkpoint: Path, folder: Path, rate: float, n_events: int) -> dict | None:
    """The first `n_events` events published through mosquitto at `rate` per second."""
    from live_fixtures import MOSQUITTO, Mosquitto, publisher

    from homeclip.data.live.events import iso_of
    from homeclip.data.live.tail import parse_line

    if MOSQUITTO is None:
        return None
    broker = Mosquitto(folder / "broker").start()
    row_seen: dict[int, float] = {}
    setup = watch_setup(checkpoint, [broker.url], folder / "mqtt.sqlite",
                        on_row=lambda row: row_seen.setdefault(row.end_us, time.perf_counter()))
    stop = threading.Event()
    thread = threading.Thread(target=lambda: setup.watcher.run(setup.sources, stop), daemon=True)
    thread.start()
    setup.sources[0].connected.wait(20)
    pub = publisher(broker.port, client_id="bench-publisher")
    sent: dict[int, float] = {}
    events = [parse_line(line) for line in raw.read_text().splitlines() if line.strip()][:n_events]
    next_at = time.perf_counter()
    for event in events:
        next_at += 1.0 / rate
        time.sleep(max(0.0, next_at - time.perf_counter()))
        sent.setdefault(event.time_us, time.perf_counter())
        state = event.state or f"{event.value:g}"
        pub.publish(f"home/{event.sensor}", json.dumps({"state": state, "time": iso_of(event.time_us)}), qos=1)
    deadline = time.monotonic() + 60
    while setup.watcher.summary.events + setup.watcher.stream.counts["numeric"] < len(events) \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    thread.join(30)
    pub.loop_stop()
    broker.stop()
    setup.timeline.close()
    publish_ms = [(row_seen[t] - sent[t]) * 1000 for t in row_seen if t in sent]
    return {"arrival": stats(setup.watcher.summary.latencies_ms), "publish": stats(publish_ms),
            "rate": rate, "events": len(events)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=1)
    ap.add_argument("--rate", type=float, default=50.0, help="MQTT: events published per second")
    ap.add_argument("--mqtt-events", type=int, default=1000, help="MQTT: how many events to publish")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        raw, checkpoint = prepare_and_train(folder, args.days)
        print(f"prepared and trained in {time.perf_counter() - t0:.0f} s", flush=True)
        local = in_process(raw, checkpoint, folder)
        mqtt = through_mqtt(raw, checkpoint, folder, args.rate, args.mqtt_events)
    print(f"\nwatch latency per window, statistics-backbone Chronos encoder (512-d), windows 50 / stride 12")
    print(f"{'path':<34}{'windows':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  target p95 < {TARGET_MS:g} ms")
    rows = [("in-process (arrival -> row)", local)]
    if mqtt is not None:
        rows += [(f"mqtt {mqtt['rate']:g}/s (arrival -> row)", mqtt["arrival"]),
                 (f"mqtt {mqtt['rate']:g}/s (publish -> row)", mqtt["publish"])]
    failed = 0
    for name, s in rows:
        ok = s["p95"] < TARGET_MS
        failed += not ok
        print(f"{name:<34}{s['n']:>8}{s['p50']:>9.1f}{s['p95']:>9.1f}{s['max']:>9.1f}  {'yes' if ok else 'NO'}")
    print(f"in-process throughput: {local['events_per_s']:,.0f} events/s ({local['events']:,} events)")
    if mqtt is None:
        print("mqtt: skipped (mosquitto is not installed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
