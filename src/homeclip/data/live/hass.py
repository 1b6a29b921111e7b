"""Home Assistant's WebSocket API as a live source (through `websockets`): authenticate with a long-lived
access token (`auth_required` -> `auth` -> `auth_ok`), ask the home's time zone (`get_config`), subscribe to
`state_changed` events, and read each new state by the rule the recorder reader uses (readers/hass_states.py):
state changes only (last_changed = last_updated), event time = last_changed in the home's zone.

The token is sent only in the `auth` message and never logged, shown or stored. A rejected token stops the
watch (`auth_invalid` is an Arrival with `fatal` set); a lost connection is retried with backoff. Home Assistant
does not replay what happened while the connection was down: that stretch is missing from the windows (the
recorder database still has it for `prepare`).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime
from typing import Any

from ...errors import UserError
from ..readers.hass_states import read_state
from .events import Arrival, LiveEvent, Malformed, local_us, zone_of
from .sources import Sink, SourceOptions, ThreadedSource

log = logging.getLogger(__name__)
_CONFIG_ID, _SUBSCRIBE_ID = 1, 2


def websocket_url(url: str) -> str:
    """ha://host[:port] -> ws://host:port/api/websocket (has:// -> wss://); ws(s):// URLs as given."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme in ("ws", "wss"):
        return url
    host = rest.strip("/")
    if not host or "/" in host:
        raise UserError(f"expected ha://host[:port] (e.g. ha://homeassistant.local:8123), found {url!r}")
    if ":" not in host.rsplit("]", 1)[-1]:
        host += ":8123"
    return f"{'wss' if scheme == 'has' else 'ws'}://{host}/api/websocket"


class AuthRejected(Exception):
    """Home Assistant refused the token."""


class HassSource(ThreadedSource):
    """A running Home Assistant event subscription (see the module docstring)."""

    thread_name = "homeclip-hass"

    def __init__(self, url: str, token: str, options: SourceOptions):
        super().__init__()
        self.url, self.options, self.name = url, options, url
        self._token = token
        self.zone = options.zone
        self.connected = threading.Event()
        self.connections = 0
        self._ws = None

    def _interrupt(self) -> None:
        ws = self._ws
        if ws is not None:
            ws.close()

    def _run(self, sink: Sink) -> None:
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect

        backoff = self.options.backoff
        while not self._stop.is_set():
            try:
                with connect(self.url, open_timeout=10, close_timeout=2, max_size=2**22, logger=_QuietFrames()) as ws:
                    self._ws = ws
                    self._session(ws, sink, backoff)
            except AuthRejected as err:
                sink(Arrival(self.name, time.perf_counter(), fatal=f"Home Assistant rejected the access token "
                                                                    f"({err})"))
                return
            except (OSError, WebSocketException, TimeoutError, Malformed) as err:
                if self._stop.is_set():
                    return
                self.connected.clear()
                log.warning("Home Assistant %s unreachable or gone (%s); reconnecting with backoff", self.url,
                            type(err).__name__)
            finally:
                self._ws = None
            if backoff.wait(self._stop):
                return

    def _session(self, ws, sink: Sink, backoff) -> None:
        """Authenticate, subscribe, then deliver events until the connection ends."""
        hello = _json(ws.recv())
        if hello.get("type") != "auth_required":
            raise OSError(f"expected auth_required, found {str(hello.get('type'))[:40]!r}")
        ws.send(json.dumps({"type": "auth", "access_token": self._token}))
        answer = _json(ws.recv())
        if answer.get("type") == "auth_invalid":
            raise AuthRejected(str(answer.get("message", "auth_invalid"))[:80])
        if answer.get("type") != "auth_ok":
            raise OSError(f"expected auth_ok, found {str(answer.get('type'))[:40]!r}")
        ws.send(json.dumps({"id": _CONFIG_ID, "type": "get_config"}))
        ws.send(json.dumps({"id": _SUBSCRIBE_ID, "type": "subscribe_events", "event_type": "state_changed"}))
        self.connections += 1
        self.connected.set()
        backoff.reset()
        log.info("Home Assistant connected: %s", self.url)
        for raw in ws:
            sink_value = self._message(raw)
            if sink_value is not None:
                sink(sink_value)

    def _message(self, raw: str | bytes) -> Arrival | None:
        """One WebSocket message -> an Arrival (None for replies that carry no event)."""
        received = time.perf_counter()
        try:
            doc = _json(raw)
        except Malformed as err:
            return Arrival(self.name, received, malformed=str(err))
        if doc.get("id") == _CONFIG_ID and doc.get("type") == "result":
            zone = (doc.get("result") or {}).get("time_zone")
            if self.options.zone_from_source and isinstance(zone, str):
                try:
                    self.zone = zone_of(zone)
                except Exception:  # noqa: BLE001 - an unknown zone name: keep ours
                    log.warning("Home Assistant names an unknown time zone %r; using %s", zone[:40], self.zone)
            return None
        if doc.get("type") != "event":
            return None
        try:
            events = self._events(doc.get("event"))
        except Malformed as err:
            return Arrival(self.name, received, malformed=str(err))
        return Arrival(self.name, received, events=events, ignored="" if events else "state_changed")

    def _events(self, event: Any) -> list[LiveEvent]:
        """A state_changed event -> its homeclip event (none for an attribute update or a domain not read)."""
        if not isinstance(event, dict) or event.get("event_type") != "state_changed":
            return []
        data = event.get("data")
        new = data.get("new_state") if isinstance(data, dict) else None
        if new is None:
            return []                                     # the entity was removed
        if not isinstance(new, dict) or not isinstance(new.get("entity_id"), str):
            raise Malformed("state_changed: expected new_state with an entity_id")
        changed, updated = new.get("last_changed"), new.get("last_updated", new.get("last_changed"))
        if changed != updated:
            return []                                     # attributes changed, the state did not
        attrs = new.get("attributes") if isinstance(new.get("attributes"), dict) else {}
        reading = read_state(new["entity_id"], str(new.get("state", "")), attrs.get("device_class"))
        if reading.skip:
            return []
        try:
            when = local_us(datetime.fromisoformat(str(changed).replace("Z", "+00:00")), self.zone)
        except ValueError:
            raise Malformed(f"state_changed: expected an ISO time in last_changed, found {str(changed)[:40]!r}") \
                from None
        return [LiveEvent(when, new["entity_id"], reading.state, reading.value)]


class _QuietFrames(logging.LoggerAdapter):
    """The connection's logger: websockets logs every frame at DEBUG level - the auth frame holds the token -
    so this logger never reports DEBUG as enabled (websockets then logs no frames); other records pass on."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("websockets.client"), {})

    def isEnabledFor(self, level: int) -> bool:
        return level > logging.DEBUG and self.logger.isEnabledFor(level)


def _json(raw: str | bytes) -> dict:
    try:
        doc = json.loads(raw)
    except ValueError:
        raise Malformed("a WebSocket message that is not JSON") from None
    if not isinstance(doc, dict):
        raise Malformed("a WebSocket message that is not a JSON object")
    return doc
