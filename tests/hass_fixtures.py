"""Home Assistant stand-ins for tests (no Home Assistant install): recorder databases written through SQLAlchemy
with the recorder's real table layout (the current schema: states + states_meta + state_attributes with float
`*_ts` seconds and the emptied legacy columns; and the older schema 23: entity_id, domain, attributes JSON and
datetime columns), `.storage` registries, and names mapping a simulated CASAS home onto entity ids.

The layouts follow homeassistant/components/recorder/db_schema.py (schema 41-48) and
tests/components/recorder/db_schema_23.py of home-assistant/core."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import (CHAR, BigInteger, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, LargeBinary,
                        MetaData, SmallInteger, String, Table, Text, create_engine, insert)

ZONE = "Europe/Madrid"      # the simulated days (October 2009) are CEST, UTC+2: no daylight-saving change


def entity_of(sensor: str) -> str:
    """CASAS sensor name -> entity id: M001 -> binary_sensor.m001, D001 -> binary_sensor.d001, T001 -> sensor.t001."""
    return ("sensor." if sensor.startswith("T") else "binary_sensor.") + sensor.lower()


def device_class_of(sensor: str) -> str:
    return {"M": "motion", "D": "door", "T": "temperature"}[sensor[0]]


def ha_state(sensor: str, state: str) -> str:
    """The state Home Assistant records for a CASAS state (a door binary sensor is on when open)."""
    return {"ON": "on", "OFF": "off", "OPEN": "on", "CLOSE": "off"}.get(state, state)


def renamed_layout(layout: dict) -> dict:
    """A layout document whose sensors are keyed by entity id."""
    return {**layout, "sensors": {entity_of(name): entry for name, entry in layout["sensors"].items()}}


@dataclass
class StateRow:
    """One recorded state: entity, state, attributes, last_updated and last_changed (UTC, microseconds)."""

    entity_id: str
    state: str
    attrs: dict
    updated_us: int
    changed_us: int | None = None      # None: the same as updated (a state change)


@dataclass
class History:
    rows: list[StateRow] = field(default_factory=list)

    def add(self, entity_id: str, state: str, attrs: dict, updated_us: int, changed_us: int | None = None) -> None:
        self.rows.append(StateRow(entity_id, state, attrs, updated_us, changed_us))


def utc_us(local: pd.Series | np.ndarray, zone: str = ZONE) -> np.ndarray:
    """Naive local times -> UTC microseconds since the epoch."""
    stamps = pd.DatetimeIndex(pd.to_datetime(np.asarray(local, dtype="datetime64[us]"))).tz_localize(zone)
    return stamps.tz_convert("UTC").tz_localize(None).to_numpy(dtype="datetime64[us]").astype(np.int64)


def history_from_log(log, label_entity: str = "input_select.activity", *, noise: bool = True) -> History:
    """The recorder history of a simulated CASAS log: each event and reading one state change, the label
    entity set whenever the events' label changes, and (noise) rows the reader must skip or count."""
    history = History()
    frame, numeric = log.frame, log.numeric
    rows = [(t, s, ha_state(s, st)) for t, s, st in zip(utc_us(frame["time"]), frame["sensor"], frame["state"])]
    rows += [(t, s, f"{v:g}") for t, s, v in zip(utc_us(numeric["time"]), numeric["sensor"], numeric["value"])]
    for t, sensor, state in sorted(rows, key=lambda r: r[0]):
        attrs = {"device_class": device_class_of(sensor), "friendly_name": sensor}
        if sensor.startswith("T"):
            attrs |= {"unit_of_measurement": "°C", "state_class": "measurement"}
        history.add(entity_of(sensor), state, attrs, int(t))
    labels = frame["label"].to_numpy(dtype=object)
    times = utc_us(frame["time"])
    change = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    for i in change:
        history.add(label_entity, labels[i] or "none", {"options": sorted(set(labels)), "friendly_name": "Activity"},
                    int(times[i]))
    if noise:
        t0 = int(times[0])
        history.add("binary_sensor.m001", "on", {"device_class": "motion"}, t0 + 500_000, t0 - 10**9)  # attrs update
        history.add("binary_sensor.m002", "unavailable", {"device_class": "motion"}, t0 + 700_000)
        history.add("sun.sun", "above_horizon", {}, t0 + 800_000)                      # a domain not read
        history.add("sensor.weather_text", "sunny", {}, t0 + 900_000)                   # a non-numeric sensor
        history.add("cover.garage", "opening", {"device_class": "garage"}, t0 + 950_000)  # a moving state
    history.rows.sort(key=lambda r: r.updated_us)
    return history


# ------------------------------------------------------------------------------------------- schemas
def current_schema(meta: MetaData) -> Table:
    """The recorder tables of schema 41-48 (2023.4 on); returns `states`."""
    unused = CHAR(0)
    Table("event_data", meta, Column("data_id", Integer, primary_key=True), Column("hash", BigInteger, index=True),
          Column("shared_data", Text))
    Table("event_types", meta, Column("event_type_id", Integer, primary_key=True),
          Column("event_type", String(64), index=True, unique=True))
    Table("events", meta, Column("event_id", Integer, primary_key=True), Column("event_type", unused),
          Column("event_data", unused), Column("origin", unused), Column("origin_idx", SmallInteger),
          Column("time_fired", unused), Column("time_fired_ts", Float, index=True), Column("context_id", unused),
          Column("context_user_id", unused), Column("context_parent_id", unused),
          Column("data_id", Integer, ForeignKey("event_data.data_id"), index=True),
          Column("context_id_bin", LargeBinary(16)), Column("context_user_id_bin", LargeBinary(16)),
          Column("context_parent_id_bin", LargeBinary(16)),
          Column("event_type_id", Integer, ForeignKey("event_types.event_type_id")),
          Index("ix_events_event_type_id_time_fired_ts", "event_type_id", "time_fired_ts"))
    Table("state_attributes", meta, Column("attributes_id", Integer, primary_key=True),
          Column("hash", BigInteger, index=True), Column("shared_attrs", Text))
    Table("states_meta", meta, Column("metadata_id", Integer, primary_key=True),
          Column("entity_id", String(255), index=True, unique=True))
    states = Table(
        "states", meta, Column("state_id", Integer, primary_key=True), Column("entity_id", unused),
        Column("state", String(255)), Column("attributes", unused), Column("event_id", SmallInteger),
        Column("last_changed", unused), Column("last_changed_ts", Float), Column("last_reported_ts", Float),
        Column("last_updated", unused), Column("last_updated_ts", Float, index=True),
        Column("old_state_id", Integer, ForeignKey("states.state_id"), index=True),
        Column("attributes_id", Integer, ForeignKey("state_attributes.attributes_id"), index=True),
        Column("context_id", unused), Column("context_user_id", unused), Column("context_parent_id", unused),
        Column("origin_idx", SmallInteger), Column("context_id_bin", LargeBinary(16)),
        Column("context_user_id_bin", LargeBinary(16)), Column("context_parent_id_bin", LargeBinary(16)),
        Column("metadata_id", Integer, ForeignKey("states_meta.metadata_id")),
        Index("ix_states_metadata_id_last_updated_ts", "metadata_id", "last_updated_ts"))
    _runs_tables(meta)
    return states


def legacy_schema(meta: MetaData) -> Table:
    """The recorder tables of schema 23 (2021.11): entity_id, domain, attributes JSON, datetime columns."""
    dt = DateTime(timezone=True)
    Table("events", meta, Column("event_id", Integer, primary_key=True), Column("event_type", String(64)),
          Column("event_data", Text), Column("origin", String(32)), Column("time_fired", dt, index=True),
          Column("created", dt), Column("context_id", String(36), index=True),
          Column("context_user_id", String(36), index=True), Column("context_parent_id", String(36), index=True))
    states = Table(
        "states", meta, Column("state_id", Integer, primary_key=True), Column("domain", String(64)),
        Column("entity_id", String(255)), Column("state", String(255)), Column("attributes", Text),
        Column("event_id", Integer, ForeignKey("events.event_id", ondelete="CASCADE"), index=True),
        Column("last_changed", dt), Column("last_updated", dt, index=True), Column("created", dt),
        Column("old_state_id", Integer, ForeignKey("states.state_id"), index=True),
        Index("ix_states_entity_id_last_updated", "entity_id", "last_updated"))
    _runs_tables(meta)
    return states


def _runs_tables(meta: MetaData) -> None:
    Table("recorder_runs", meta, Column("run_id", Integer, primary_key=True), Column("start", DateTime(timezone=True)),
          Column("end", DateTime(timezone=True)), Column("closed_incorrect", Boolean),
          Column("created", DateTime(timezone=True)))
    Table("schema_changes", meta, Column("change_id", Integer, primary_key=True), Column("schema_version", Integer),
          Column("changed", DateTime(timezone=True)))


def _dt(us: int) -> datetime:
    """UTC microseconds -> the naive UTC datetime the recorder stores."""
    return datetime(1970, 1, 1) + timedelta(microseconds=int(us))


def write_recorder(path: Path, history: History, schema: str = "current") -> Path:
    """A recorder database at `path` (SQLite, WAL mode like Home Assistant's) holding `history`."""
    engine = create_engine(f"sqlite:///{path}")
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA journal_mode=WAL")
    meta = MetaData()
    states = current_schema(meta) if schema == "current" else legacy_schema(meta)
    meta.create_all(engine)
    last_state: dict[str, int] = {}
    with engine.begin() as conn:
        conn.execute(insert(meta.tables["schema_changes"]), [{"schema_version": 48 if schema == "current" else 23,
                                                             "changed": _dt(history.rows[0].updated_us)}])
        if schema == "current":
            _write_current(conn, meta, states, history, last_state)
        else:
            _write_legacy(conn, meta, states, history, last_state)
    engine.dispose()
    return path


def _write_current(conn, meta: MetaData, states: Table, history: History, last_state: dict[str, int]) -> None:
    ids = {e: i for i, e in enumerate(dict.fromkeys(r.entity_id for r in history.rows), 1)}
    conn.execute(insert(meta.tables["states_meta"]), [{"metadata_id": i, "entity_id": e} for e, i in ids.items()])
    attrs = {a: i for i, a in enumerate(dict.fromkeys(json.dumps(r.attrs) for r in history.rows), 1)}
    conn.execute(insert(meta.tables["state_attributes"]),
                 [{"attributes_id": i, "hash": hash(a) & 0xFFFFFFFF, "shared_attrs": a} for a, i in attrs.items()])
    out = []
    for sid, r in enumerate(history.rows, 1):
        out.append({"state_id": sid, "state": r.state, "metadata_id": ids[r.entity_id],
                    "attributes_id": attrs[json.dumps(r.attrs)], "last_updated_ts": r.updated_us / 1e6,
                    "last_changed_ts": None if r.changed_us is None else r.changed_us / 1e6,
                    "last_reported_ts": None, "old_state_id": last_state.get(r.entity_id), "origin_idx": 0})
        last_state[r.entity_id] = sid
    conn.execute(insert(states), out)


def _write_legacy(conn, meta: MetaData, states: Table, history: History, last_state: dict[str, int]) -> None:
    events, out = [], []
    for sid, r in enumerate(history.rows, 1):
        when = _dt(r.updated_us)
        events.append({"event_id": sid, "event_type": "state_changed", "origin": "LOCAL", "time_fired": when,
                       "created": when, "event_data": json.dumps({"entity_id": r.entity_id})})
        out.append({"state_id": sid, "domain": r.entity_id.partition(".")[0], "entity_id": r.entity_id,
                    "state": r.state, "attributes": json.dumps(r.attrs), "event_id": sid,
                    "last_changed": when if r.changed_us is None else _dt(r.changed_us), "last_updated": when,
                    "created": when, "old_state_id": last_state.get(r.entity_id)})
        last_state[r.entity_id] = sid
    conn.execute(insert(meta.tables["events"]), events)
    conn.execute(insert(states), out)


# ------------------------------------------------------------------------------------------- registries
def write_registries(storage: Path, entities: list[dict], devices: list[dict], areas: list[dict],
                     time_zone: str | None = ZONE) -> Path:
    """`.storage/core.entity_registry`, `core.device_registry`, `core.area_registry` (and `core.config`)."""
    storage.mkdir(parents=True, exist_ok=True)
    docs = {"core.entity_registry": {"entities": entities, "deleted_entities": []},
            "core.device_registry": {"devices": devices, "deleted_devices": []},
            "core.area_registry": {"areas": areas}}
    if time_zone:
        docs["core.config"] = {"time_zone": time_zone, "location_name": "Home", "unit_system_v2": "metric"}
    for key, data in docs.items():
        (storage / key).write_text(json.dumps({"version": 1, "minor_version": 1, "key": key, "data": data}, indent=2))
    return storage


def registry_entity(entity_id: str, *, area_id: str | None = None, device_id: str | None = None,
                    device_class: str | None = None, name: str | None = None) -> dict:
    """An entity registry record as Home Assistant writes it (the keys homeclip reads, and a few it does not)."""
    return {"entity_id": entity_id, "area_id": area_id, "device_id": device_id, "device_class": None,
            "original_device_class": device_class, "name": None, "original_name": name, "disabled_by": None,
            "hidden_by": None, "platform": "zha", "unique_id": entity_id.replace(".", "_"), "icon": None}
