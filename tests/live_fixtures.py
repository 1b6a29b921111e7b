"""Live-test helpers: a real mosquitto broker on a free 127.0.0.1 port (generated config, persistence on, so a
restart keeps sessions), a simulated day with a seconds-long trained run on its prepared windows, a paho
publisher, and the offline read-out of the prepared windows that a live timeline must equal."""
from __future__ import annotations

import getpass
import json
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

MOSQUITTO = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
WINDOW, STRIDE = 30, 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mosquitto:
    """A mosquitto broker the test starts, stops (SIGTERM: it saves its sessions) and restarts on one port."""

    def __init__(self, folder: Path):
        if MOSQUITTO is None:
            pytest.skip("mosquitto is not installed (Debian package mosquitto; .ci/run installs it)")
        self.folder, self.port = folder, free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            # `user`: started as root, mosquitto would switch to user mosquitto and could not write its files here
            f"user {getpass.getuser()}\nlistener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {folder}/\nmax_queued_messages 0\nmax_inflight_messages 100\n"
            f"log_dest file {folder}/mosquitto.log\n")
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Mosquitto":
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start: {(self.folder / 'mosquitto.log').read_text()[-500:]}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}/home/#"


@pytest.fixture
def broker(tmp_path):
    server = Mosquitto(tmp_path / "broker").start()
    yield server
    server.stop()


@dataclass
class TrainedDay:
    """A simulated day, its prepared windows and a tiny run trained on them."""

    log_path: Path
    log: object
    split: Path
    checkpoint: Path


def trained_day(folder: Path, days: int = 1, seed: int = 11) -> TrainedDay:
    """Simulate `days` in the Milan layout, prepare them (all train: one split), train seconds on them."""
    from homeclip.data.homes import load_home
    from homeclip.data.prepare import prepare_dataset
    from homeclip.data.readers import read_log
    from homeclip.data.simulate import write_simulated_log
    from homeclip.data.windows import SplitConfig, WindowConfig
    from homeclip.testing import HashTextEncoder
    from homeclip.training.config import TrainConfig
    from homeclip.training.trainer import train

    log_path = write_simulated_log(folder / "sim.txt", load_home("milan"), days=days, seed=seed)
    prepared = folder / "prepared"
    prepare_dataset(log_path, "milan", prepared, window=WindowConfig(length=WINDOW, stride=STRIDE),
                    split=SplitConfig(ratios=(1.0, 0.0, 0.0)), progress=False)
    split = prepared / "milan_train.json"
    cfg = TrainConfig(encoder="chronos", backbone="statistics", batch_size=32, max_epochs=1, output_dim=16,
                      projection_hidden_dim=16, sequence_length=WINDOW, log_interval=5, val_interval=1000,
                      save_interval=1000, use_wandb=False, output_dir=str(folder / "run"),
                      text_cache_dir=str(folder / "text"), device="cpu", train_data_path=str(split),
                      val_data_path="", vocab_path=str(prepared / "milan_vocab.json"))
    train(cfg, text_encoder=HashTextEncoder(), progress=False)
    run = folder / "run"
    checkpoint = run / "best_model.pt" if (run / "best_model.pt").is_file() else run / "final_model.pt"
    return TrainedDay(log_path, read_log(log_path), split, checkpoint)


def loaded_model(checkpoint: Path):
    from homeclip.testing import HashTextEncoder
    from homeclip.training.checkpoint import load_model

    model = load_model(checkpoint)
    model.set_text_encoder(HashTextEncoder())
    return model


def offline_readout(model, split: Path, home, level: str = "l2") -> list[dict]:
    """The prepared windows read out offline by the evaluation's zero-shot code: start, end, label, score,
    caption (prepare's own captions), in window order."""
    from homeclip.data.store import load_split
    from homeclip.evaluation import zeroshot
    from homeclip.evaluation.search import display_caption

    windows = load_split(split)
    labels = home.l2_labels if level == "l2" else home.l1_labels
    descriptions, _ = zeroshot.label_descriptions(labels, home.descriptions)
    protos = zeroshot.build_prototypes(descriptions, lambda texts: model.embed_texts(list(texts)))
    predicted, sims = zeroshot.predict_nearest(model.embed_windows(windows, batch_size=256, progress=False), protos)
    starts = np.datetime_as_string(windows.start, unit="us")
    ends = np.datetime_as_string(windows.end, unit="us")
    return [{"start": s.replace("T", " "), "end": e.replace("T", " "), "label": str(p), "score": float(sc),
             "caption": display_caption(c)}
            for s, e, p, sc, c in zip(starts, ends, predicted, sims.max(axis=1), windows.captions)]


def timeline_rows(path: Path) -> list[dict]:
    """Every window row of a timeline file, oldest first."""
    from homeclip.apps.watch.timeline import connect, read_windows

    conn = connect(path, readonly=True)
    try:
        return read_windows(conn, limit=10**9)[::-1]
    finally:
        conn.close()


def assert_rows_equal_offline(rows: list[dict], offline: list[dict]) -> None:
    """The timeline holds exactly the offline windows, in order: same times, labels, captions, scores."""
    assert [(r["start"], r["end"]) for r in rows] == [(o["start"], o["end"]) for o in offline]
    assert [r["label"] for r in rows] == [o["label"] for o in offline]
    assert [r["caption"] for r in rows] == [o["caption"] for o in offline]
    np.testing.assert_allclose([r["score"] for r in rows], [o["score"] for o in offline], atol=1e-5)


def event_messages(log) -> list[tuple[str, bytes]]:
    """(topic, payload) per event and reading of a log, in time order: home/<sensor> {"state", "time"}."""
    from homeclip.data.live.events import iso_of

    items = [(int(t), i, s, st) for i, (t, s, st) in enumerate(zip(
        log.frame["time"].to_numpy().astype("datetime64[us]").astype(np.int64), log.frame["sensor"],
        log.frame["state"]))]
    n = len(items)
    items += [(int(t), n + i, s, f"{v:g}") for i, (t, s, v) in enumerate(zip(
        log.numeric["time"].to_numpy().astype("datetime64[us]").astype(np.int64), log.numeric["sensor"],
        log.numeric["value"]))]
    return [(f"home/{s}", json.dumps({"state": st, "time": iso_of(t)}).encode()) for t, _, s, st in sorted(items)]


def publisher(port: int, client_id: str = "test-publisher"):
    """A connected paho publisher (QoS 1, persistent session: it re-sends what the broker did not confirm)."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    client.max_inflight_messages_set(50)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(1, 2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
