"""The live source registry: a source URL -> a running source that delivers `Arrival`s to a sink.

  mqtt://[user@]host[:port]/topic/filter   MQTT (mqtts:// for TLS; the password from $HOMECLIP_MQTT_PASSWORD)
  ha://host[:port]  has://host[:port]      Home Assistant's WebSocket API (ws:// / wss:// .../api/websocket too);
                                           the long-lived token from $HOMECLIP_HA_TOKEN (or --ha-token-env)
  file:///path/to/log  or a plain path     a growing CASAS-style log file (tail, rotation-safe)

Every source runs in its own thread, hands each message to the sink at once (never blocking on the model),
reconnects with exponential backoff (`Backoff`) when its server goes away, and turns a message it cannot read
into an Arrival with `malformed` set: counted and skipped, never a crash. A source never logs a secret.
"""
from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Protocol

from ...errors import UserError
from .events import Arrival

Sink = Callable[[Arrival], None]
MQTT_PASSWORD_ENV = "HOMECLIP_MQTT_PASSWORD"
HA_TOKEN_ENV = "HOMECLIP_HA_TOKEN"


class Source(Protocol):
    """A running live source."""

    name: str                                   # how it is shown (never with a secret)

    def start(self, sink: Sink) -> None: ...    # start the source's thread
    def stop(self) -> None: ...                 # stop it and wait for its thread


class ThreadedSource:
    """A source whose `_run(sink)` loop runs in its own thread until `_stop` is set."""

    thread_name = "homeclip-source"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, sink: Sink) -> None:
        """Start the source's thread."""
        self._thread = threading.Thread(target=self._run, args=(sink,), name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the source and wait for its thread."""
        self._stop.set()
        self._interrupt()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _interrupt(self) -> None:
        """Wake the thread up from a blocking wait (a source holding a connection closes it)."""

    def _run(self, sink: Sink) -> None:
        raise NotImplementedError


@dataclass
class Backoff:
    """Exponential reconnect delays: first, doubling up to most, with +-20 % jitter; reset on success."""

    first: float = 0.5
    most: float = 30.0
    _next: float = field(default=0.0, init=False)

    def delay(self) -> float:
        """The next wait in seconds."""
        self._next = self.first if self._next == 0 else min(self.most, self._next * 2)
        return self._next * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        """After a successful connection: start from `first` again."""
        self._next = 0.0

    def wait(self, stop: threading.Event) -> bool:
        """Sleep the next delay unless stopped; True when stopped."""
        return stop.wait(self.delay())


@dataclass
class SourceOptions:
    """What the sources need besides their URL."""

    zone: tzinfo                                   # the home's zone: message times -> local time
    mapping_file: str | None = None                # MQTT payload mapping (payloads.load_mapping)
    client_id: str = "homeclip-watch"              # MQTT: a fixed id, so the broker keeps the session
    ha_token_env: str = HA_TOKEN_ENV
    from_start: bool = False                       # tail: read the file from its start (default: new lines)
    backoff: Backoff = field(default_factory=Backoff)
    zone_from_source: bool = False                 # HA: read times in Home Assistant's own zone (get_config)


def open_source(url: str, options: SourceOptions) -> Source:
    """The source a URL names (the module docstring lists the forms); UserError for anything else."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower() if sep else ""
    if scheme in ("mqtt", "mqtts"):
        from .mqtt import MqttSource, parse_mqtt_url

        return MqttSource(parse_mqtt_url(url, os.environ.get(MQTT_PASSWORD_ENV)), options)
    if scheme in ("ha", "has", "ws", "wss"):
        from .hass import HassSource, websocket_url

        token = os.environ.get(options.ha_token_env, "").strip()
        if not token:
            raise UserError(f"set ${options.ha_token_env} to a Home Assistant long-lived access token (profile page "
                            "> Long-lived access tokens) to follow its event stream")
        return HassSource(websocket_url(url), token, options)
    if scheme == "file" or not sep:
        from .tail import TailSource

        return TailSource(Path(rest if sep else url), options)
    raise UserError(f"unknown live source {url.split('://')[0]!r}://...; expected mqtt://host:port/topic/#, "
                    "ha://host:8123 or a log file path")
