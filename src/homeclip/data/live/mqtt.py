"""MQTT as a live source, through paho-mqtt: subscribe with QoS 1 under a fixed client id and a persistent
session (clean_session false), so a broker that keeps its sessions (mosquitto with `persistence true`) holds
the messages published while homeclip is away and redelivers the unacknowledged ones; reconnect with
exponential backoff (paho's own, `reconnect_delay_set`), re-subscribing on every connection. Messages are
read by the payload mapping (payloads.py); one that cannot be read is an Arrival with `malformed` set.

No loss, no duplicates: QoS 1 may deliver a message twice (a redelivery after a reconnect); the stream's rule
drops the second copy by (sensor, state, time) and the timeline's unique keys make a replay harmless.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass

from ...errors import UserError
from .events import Arrival, Malformed
from .payloads import BUILTIN_RULES, PayloadMapper, load_mapping
from .sources import Sink, SourceOptions

log = logging.getLogger(__name__)
_URL = re.compile(r"(?P<scheme>mqtts?)://(?:(?P<user>[^:@/]+)(?::(?P<password>[^@/]*))?@)?(?P<host>\[[^\]]+\]|[^:/]+)"
                  r"(?::(?P<port>\d+))?(?:/(?P<topic>.*))?$")


@dataclass(frozen=True)
class MqttUrl:
    """A parsed mqtt:// URL (the password never appears in `shown`)."""

    host: str
    port: int
    topic: str
    tls: bool = False
    user: str | None = None
    password: str | None = None

    @property
    def shown(self) -> str:
        user = f"{self.user}@" if self.user else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}/{self.topic}"


def parse_mqtt_url(url: str, password_env: str | None = None) -> MqttUrl:
    """`mqtt://[user[:password]@]host[:port]/topic/filter` (the topic verbatim: `#` is a wildcard here, not a
    URL fragment); the password from the environment when the URL has none."""
    m = _URL.match(url.strip())
    if not m or not m.group("topic"):
        raise UserError(f"expected mqtt://host[:port]/topic/filter (e.g. mqtt://127.0.0.1:1883/home/#), found "
                        f"{re.sub(r':[^:@/]*@', ':***@', url)!r}")
    topic = m.group("topic")
    if "#" in topic[:-1] or any("+" in level and level != "+" for level in topic.split("/")):
        raise UserError(f"MQTT topic filter {topic!r}: '#' only as the last level and '+' only as a whole level")
    tls = m.group("scheme") == "mqtts"
    return MqttUrl(host=m.group("host").strip("[]"), port=int(m.group("port") or (8883 if tls else 1883)),
                   topic=topic, tls=tls, user=m.group("user"), password=m.group("password") or password_env)


class MqttSource:
    """A running MQTT subscription (see the module docstring)."""

    def __init__(self, url: MqttUrl, options: SourceOptions):
        self.url, self.options, self.name = url, options, url.shown
        rules = load_mapping(options.mapping_file) if options.mapping_file else BUILTIN_RULES
        self.mapper = PayloadMapper(rules, subscription=url.topic)
        self.connected = threading.Event()
        self.connections = 0
        self._client = None

    def start(self, sink: Sink) -> None:
        """Connect in paho's network thread (retrying until the broker answers) and deliver messages."""
        import paho.mqtt.client as mqtt

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.options.client_id, clean_session=False)
        backoff = self.options.backoff
        client.reconnect_delay_set(min_delay=max(1, round(backoff.first)), max_delay=max(1, round(backoff.most)))
        if self.url.user:
            client.username_pw_set(self.url.user, self.url.password)
        if self.url.tls:
            client.tls_set()
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = lambda c, u: log.warning("MQTT broker %s:%d unreachable; retrying with backoff",
                                                          self.url.host, self.url.port)
        client.on_message = lambda c, u, msg: sink(self._arrival(msg))
        client.connect_async(self.url.host, self.url.port, keepalive=30)
        client.loop_start()
        self._client = client

    def stop(self) -> None:
        """Disconnect and stop paho's thread (the broker keeps the session for the next start)."""
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT broker %s:%d refused the connection (%s); retrying with backoff", self.url.host,
                        self.url.port, reason_code)
            return
        self.connections += 1
        client.subscribe(self.url.topic, qos=1)      # every time: a broker without persistence forgot it
        self.connected.set()
        log.info("MQTT connected to %s (session %s)", self.name,
                 "resumed" if getattr(flags, "session_present", False) else "new")

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        if self._client is not None:
            log.warning("MQTT broker %s:%d went away (%s); reconnecting with backoff", self.url.host, self.url.port,
                        reason_code)

    def _arrival(self, msg) -> Arrival:
        received = time.perf_counter()
        try:
            events = self.mapper.read(msg.topic, msg.payload, self.options.zone)
        except Malformed as err:
            return Arrival(self.name, received, malformed=f"{msg.topic}: {err}")
        return Arrival(self.name, received, events=events, ignored="" if events else msg.topic)
