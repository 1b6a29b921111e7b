"""MQTT topics and payloads -> live events: topic patterns and payload mappings (docs/live.md, "MQTT").

A mapping is a list of rules; the first rule whose `topic` filter (MQTT wildcards `+` and `#`) matches a
message's topic reads it. A rule says:
  format        "json" (an object of fields, as Zigbee2MQTT publishes), "plain" (the payload is the state:
                ON/OFF, OPEN/CLOSED, any plain word, true/false, or a number: a numeric reading; as Tasmota,
                ESPHome and most bridges publish) or "auto" (JSON when the payload is an object, else plain)
  sensor        the sensor name: a template of {1}, {2}... (what the rule's wildcards matched; a # match is
                one piece), {topic} (the whole topic) and {rel} (the topic below the source's subscription,
                `home/#` -> `kitchen/motion`); white space becomes "_"
  home          the home key, a template like sensor (default "": the one home)
  fields        JSON: field -> {"true": "ON", "false": "OFF"} (value -> state), "word" (read like a plain
                payload: a word upper-cased, a number a reading of the sensor itself), or "number" (a numeric
                reading, sensor `<sensor>.<field>`); default DEFAULT_FIELDS
  time          JSON: the fields that may hold the event time, first found wins (ISO 8601 or epoch s/ms);
                none: the arrival time in the home's zone
  changes_only  JSON: an event only when a field's state differs from that sensor's last one (Zigbee2MQTT
                repeats the whole device state on every report, a battery level update included)
A mapping file is JSON: {"rules": [rule, ...]}. Without one, BUILTIN_RULES: Zigbee2MQTT device topics, then
any topic read "auto" with sensor {rel}.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

from ...errors import UserError
from ..readers.common import reading_value
from .events import LiveEvent, Malformed, now_us, parse_time

FORMATS = ("json", "plain", "auto")
MAX_PAYLOAD = 65536
_ON_OFF = {"true": "ON", "false": "OFF", "on": "ON", "off": "OFF"}
# Zigbee2MQTT's fields: occupancy/presence (motion), contact (true = closed), water_leak, vibration, state
# (lights, plugs: ON/OFF); readings kept apart.
DEFAULT_FIELDS: dict[str, Any] = {
    "occupancy": _ON_OFF, "presence": _ON_OFF, "contact": {"false": "OPEN", "true": "CLOSE"},
    "water_leak": _ON_OFF, "vibration": _ON_OFF, "state": "word",
    "temperature": "number", "illuminance": "number", "illuminance_lux": "number", "humidity": "number",
    "power": "number",
}
DEFAULT_TIME_FIELDS = ("time", "last_seen", "timestamp")
_WORD = re.compile(r"[^\W\d_][\w-]{0,63}")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_RULE_KEYS = {"topic", "format", "sensor", "home", "fields", "time", "changes_only"}


@dataclass(frozen=True)
class Rule:
    """One topic pattern and how its payloads read (the module docstring)."""

    topic: str
    format: str = "auto"
    sensor: str = "{rel}"
    home: str = ""
    fields: dict = field(default_factory=lambda: dict(DEFAULT_FIELDS))
    time: tuple[str, ...] = DEFAULT_TIME_FIELDS
    changes_only: bool = False


BUILTIN_RULES = (Rule("zigbee2mqtt/+", "json", sensor="{1}", changes_only=True), Rule("#", "auto"))


def match_topic(pattern: str, topic: str) -> list[str] | None:
    """What the wildcards of an MQTT filter matched in `topic` (a # match as one piece); None: no match."""
    pat, levels = pattern.split("/"), topic.split("/")
    caps = []
    for i, p in enumerate(pat):
        if p == "#":
            return caps + ["/".join(levels[i:])] if len(levels) >= i else None
        if i >= len(levels) or (p != "+" and p != levels[i]):
            return None
        if p == "+":
            caps.append(levels[i])
    return caps if len(levels) == len(pat) else None


def fixed_prefix(subscription: str) -> int:
    """How many leading levels of a subscription filter are fixed (before its first wildcard)."""
    levels = subscription.split("/")
    return next((i for i, p in enumerate(levels) if p in ("+", "#")), len(levels) - 1)


class PayloadMapper:
    """Reads messages by a list of rules; keeps the last state per sensor for `changes_only` rules."""

    def __init__(self, rules: tuple[Rule, ...] | list[Rule] = BUILTIN_RULES, subscription: str = "#"):
        self.rules = tuple(rules)
        self.prefix = fixed_prefix(subscription)
        self.last: dict[tuple[str, str], str] = {}

    def read(self, topic: str, payload: bytes, zone: tzinfo) -> list[LiveEvent]:
        """The events of one message ([] when no rule reads its topic or it names nothing mapped); Malformed
        when it cannot be read."""
        for rule in self.rules:
            caps = match_topic(rule.topic, topic)
            if caps is not None:
                return self._apply(rule, caps, topic, payload, zone)
        return []

    def _apply(self, rule: Rule, caps: list[str], topic: str, payload: bytes, zone: tzinfo) -> list[LiveEvent]:
        if len(payload) > MAX_PAYLOAD:
            raise Malformed(f"payload of {len(payload)} bytes (at most {MAX_PAYLOAD})")
        try:
            text = payload.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise Malformed("payload is not UTF-8 text") from None
        values = {"topic": topic, "rel": "/".join(topic.split("/")[self.prefix:]) or topic,
                  **{str(i): c for i, c in enumerate(caps, 1)}}
        sensor, home = _fill(rule.sensor, values), _fill(rule.home, values)
        if not sensor:
            raise Malformed(f"the rule for {rule.topic!r} gives an empty sensor name")
        as_json = rule.format == "json" or (rule.format == "auto" and text.startswith("{"))
        if not as_json:
            state, value = plain_state(text)
            return [LiveEvent(now_us(zone), sensor, state, value, home)]
        return self._json_events(rule, sensor, home, text, zone)

    def _json_events(self, rule: Rule, sensor: str, home: str, text: str, zone: tzinfo) -> list[LiveEvent]:
        try:
            doc = json.loads(text)
        except ValueError as err:
            raise Malformed(f"invalid JSON ({err.args[0].split(':')[0]})") from None
        if not isinstance(doc, dict):
            raise Malformed(f"expected a JSON object, found {type(doc).__name__}")
        when = next((doc[k] for k in rule.time if k in doc and doc[k] is not None), None)
        time_us = parse_time(when, zone) if when is not None else now_us(zone)
        events = []
        for key, how in rule.fields.items():
            if key not in doc or doc[key] is None:
                continue
            state, value = field_state(key, doc[key], how)
            name = f"{sensor}.{key}" if how == "number" else sensor
            if state and rule.changes_only:
                if self.last.get((home, name)) == state:
                    continue
                self.last[(home, name)] = state
            events.append(LiveEvent(time_us, name, state, value, home))
        return events


def _fill(template: str, values: dict[str, str]) -> str:
    """A sensor/home template filled in; white space in the result becomes '_'."""
    out = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)
    return re.sub(r"\s+", "_", out.strip())


def plain_state(text: str) -> tuple[str, float]:
    """A plain payload -> (state, NaN) for a word (true/false read as ON/OFF), ("", value) for a number."""
    value = reading_value(text)             # the readers' rule: a number, a word (NaN) or non-finite (None)
    if value is None:
        raise Malformed(f"expected a state word or a finite number, found {text[:40]!r}")
    if value == value:
        return "", value
    if not _WORD.fullmatch(text):
        raise Malformed(f"expected a state word (ON, OFF, OPEN, CLOSED...) or a number, found {text[:40]!r}")
    return _ON_OFF.get(text.lower(), text.upper()), math.nan


def field_state(key: str, raw: Any, how: Any) -> tuple[str, float]:
    """One JSON field -> (state, NaN) or ("", reading) by its mapping ("word", "number" or value -> state)."""
    if how == "number":
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
            raise Malformed(f"field {key!r}: expected a finite number, found {json.dumps(raw)[:40]}")
        return "", float(raw)
    text = json.dumps(raw) if isinstance(raw, bool) else str(raw)
    if how == "word":
        try:
            return plain_state(text)
        except Malformed as err:
            raise Malformed(f"field {key!r}: {err}") from None
    state = how.get(text.lower())
    if state is None:
        raise Malformed(f"field {key!r}: expected one of {', '.join(sorted(how))}, found {text[:40]!r}")
    return state, math.nan


def load_mapping(path: str | Path) -> tuple[Rule, ...]:
    """The rules of a mapping file ({"rules": [...]}, the module docstring); errors name file and key."""
    where = str(path)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError("no such mapping file", path=where) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        line = getattr(err, "lineno", None)
        raise UserError(f"invalid JSON ({getattr(err, 'msg', 'not UTF-8')})", path=where, line=line) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list) or not doc["rules"]:
        raise UserError('expected {"rules": [ {"topic": ..., ...}, ... ]} with at least one rule', path=where)
    return tuple(_rule(raw, f"rules[{i}]", where) for i, raw in enumerate(doc["rules"]))


def _rule(raw: Any, key: str, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise UserError(f"{key}: expected an object, found {json.dumps(raw)[:40]}", path=where)
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise UserError(f"{key}.{unknown[0]}: unknown key (expected one of {', '.join(sorted(_RULE_KEYS))})",
                        path=where)
    topic = raw.get("topic")
    if not isinstance(topic, str) or not topic or "#" in topic[:-1]:
        raise UserError(f"{key}.topic: expected an MQTT topic filter ('#' only at the end), found {topic!r}",
                        path=where)
    fmt = raw.get("format", "auto")
    if fmt not in FORMATS:
        raise UserError(f"{key}.format: expected one of {', '.join(FORMATS)}, found {fmt!r}", path=where)
    fields = raw.get("fields", DEFAULT_FIELDS)
    if not isinstance(fields, dict) or not all(
            how in ("word", "number") or (isinstance(how, dict) and all(isinstance(v, str) for v in how.values()))
            for how in fields.values()):
        raise UserError(f"{key}.fields: expected field -> \"word\", \"number\" or {{value: state}}", path=where)
    fields = {k: ({str(v).lower(): s.upper() for v, s in how.items()} if isinstance(how, dict) else how)
              for k, how in fields.items()}
    time = raw.get("time", list(DEFAULT_TIME_FIELDS))
    time = [time] if isinstance(time, str) else time
    if not isinstance(time, list) or not all(isinstance(t, str) for t in time):
        raise UserError(f"{key}.time: expected a field name or a list of them", path=where)
    for name in ("sensor", "home"):
        if not isinstance(raw.get(name, ""), str):
            raise UserError(f"{key}.{name}: expected a template string", path=where)
    if not isinstance(raw.get("changes_only", False), bool):
        raise UserError(f"{key}.changes_only: expected true or false", path=where)
    return Rule(topic=topic, format=fmt, sensor=raw.get("sensor", "{rel}"), home=raw.get("home", ""),
                fields=fields, time=tuple(time), changes_only=raw.get("changes_only", False))
