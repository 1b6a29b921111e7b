"""Home Assistant recorder databases -> EventLog: `home-assistant_v2.db` (SQLite, opened read-only) or any
SQLAlchemy URL (`mysql+pymysql://user@host/ha`, `postgresql://...`), so MariaDB and PostgreSQL recorders work too.

Both recorder layouts are read, told apart by their columns:
- current (2023.4 on, schema 38+): `states.metadata_id` -> `states_meta.entity_id`, float seconds in
  `last_updated_ts` / `last_changed_ts` (NULL when equal to last_updated), attributes in `state_attributes`;
- older (schema <= 31): `states.entity_id`, datetime columns `last_updated` / `last_changed` (UTC), the
  attributes JSON in `states.attributes`. The layouts in between (float timestamps next to entity_id, a
  states_meta table being filled) are read row by row from whichever column holds the value.
Entity states become events, numeric readings or counted skips by one rule (hass_states.py). Only state changes
are events (last_changed = last_updated); attribute-only updates are counted in a note. Times are UTC instants,
stored as the home's naive local time: `timezone` is required. A label entity (`label_entity`, an
`input_select` or `input_text` whose state is the current activity) labels every event from one of its changes
to the next (half-open; "none", "", unknown and unavailable mean no activity).
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...errors import UserError
from ..events import EventLog, ParseReport
from .common import build_event_log, labels_from_spans, record_order
from .hass_states import LABEL_DOMAINS, READ_DOMAINS, activity_of, domain_of, read_state
from .intervals import Intervals, label_spans
from .times import in_year_range, to_local

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from . import ReadOptions

SQLITE_MAGIC = b"SQLite format 3\x00"
_CHUNK_ROWS = 50_000
_US = 1_000_000


def is_database_url(text: object) -> bool:
    """Whether `text` is an SQLAlchemy database URL (`dialect[+driver]://...`) rather than a file path."""
    head, sep, _ = str(text).partition("://")
    return bool(sep) and head.replace("+", "").replace("_", "").isalnum() and not Path(str(text)).exists()


def is_sqlite_file(path: str | Path) -> bool:
    """Whether the file starts with the SQLite header."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def shown_url(source: str | Path) -> str:
    """The source as reports show it: a path, or the URL with its password masked (never written anywhere)."""
    if not is_database_url(source):
        return str(source)
    from sqlalchemy.engine import make_url

    try:
        return make_url(str(source)).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparseable URL is reported when it is opened
        return str(source).split("://")[0] + "://***"


def read_homeassistant(source: str | Path, options: "ReadOptions") -> EventLog:
    """Read a recorder database (file or URL) into an EventLog (see the module docstring for the rules)."""
    shown = shown_url(source)
    report = ParseReport(path=shown, format="homeassistant")
    if options.timezone is None:
        raise UserError("Home Assistant records UTC instants: give --timezone (the home's IANA zone, e.g. "
                        "Europe/Madrid, or UTC) so they can be stored as the home's local time", path=shown)
    label_entity = options.label_entity
    if label_entity and domain_of(label_entity) not in LABEL_DOMAINS:
        raise UserError(f"--label-entity {label_entity!r}: expected an input_select or input_text entity id "
                        "(e.g. input_select.activity)", path=shown)
    engine = _engine(source, shown)
    try:
        with engine.connect() as conn:
            rows = fetch_states(conn, shown, label_entity, report)
    except UserError:
        raise
    except Exception as err:  # noqa: BLE001 - any driver error is one sentence about this database
        raise UserError(f"cannot be read as a Home Assistant recorder database "
                        f"({type(err).__name__}: {(str(err).splitlines() or [''])[0][:160]})", path=shown) from None
    finally:
        engine.dispose()
    return _event_log(rows, options, label_entity, report)


def _engine(source: str | Path, shown: str):
    """An SQLAlchemy engine: a file is opened read-only and writes nothing next to it, a URL as given."""
    from sqlalchemy import create_engine

    if not is_database_url(source):
        import sqlite3

        path = Path(source).resolve()
        # A WAL-mode file (Home Assistant's) opened read-only still creates its -wal/-shm files: when no
        # -wal file exists, no writer is at work, so the file is opened as immutable. While Home Assistant
        # runs, its -wal and -shm files are there and a plain read-only connection shares them.
        live = path.with_name(path.name + "-wal").exists()
        uri = f"{path.as_uri()}?{'mode=ro' if live else 'immutable=1'}"
        return create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    try:
        return create_engine(str(source))
    except ModuleNotFoundError as err:
        raise UserError(f"the database driver {err.name!r} is not installed (pip install it, e.g. pymysql or "
                        "psycopg2-binary)", path=shown) from None
    except Exception as err:  # noqa: BLE001 - a malformed URL
        raise UserError(f"is not a usable database URL ({err})", path=shown) from None


def fetch_states(conn: "Connection", shown: str, label_entity: str | None, report: ParseReport) -> pd.DataFrame:
    """The recorder's state rows of the domains read (and the label entity), oldest first: columns entity_id,
    state, updated, changed (UTC datetime64[us], changed NaT when equal to updated), attrs (JSON text or None)."""
    from sqlalchemy import MetaData, String, Table, inspect, or_, select, type_coerce

    tables = set(inspect(conn).get_table_names())
    if "states" not in tables:
        raise UserError("has no 'states' table; expected a Home Assistant recorder database "
                        "(home-assistant_v2.db or its MariaDB/PostgreSQL URL)", path=shown)
    meta = MetaData()
    states = Table("states", meta, autoload_with=conn)
    cols = states.c
    has_meta = "metadata_id" in cols and "states_meta" in tables
    has_shared = "attributes_id" in cols and "state_attributes" in tables
    selected, joined = [cols.state_id, cols.state], states
    entity = []
    if has_meta:
        joined, column = _join(conn, joined, states, "states_meta", "metadata_id", "entity_id")
        entity.append(column.label("meta_entity"))
    if "entity_id" in cols:
        entity.append(cols.entity_id.label("row_entity"))
    if not entity:
        raise UserError("its 'states' table has neither entity_id nor metadata_id; expected a Home Assistant "
                        "recorder database", path=shown)
    sqlite = conn.dialect.name == "sqlite"
    for name in ("last_updated_ts", "last_changed_ts", "last_updated", "last_changed"):
        if name in cols:
            column = cols[name]
            # Datetime text is parsed by pandas (SQLite returns it as text; other databases as datetimes).
            selected.append((type_coerce(column, String()) if sqlite and not name.endswith("_ts") else column)
                            .label(name))
    if has_shared:
        joined, column = _join(conn, joined, states, "state_attributes", "attributes_id", "shared_attrs")
        selected.append(column.label("shared_attrs"))
    if "attributes" in cols:
        selected.append(cols.attributes.label("row_attrs"))
    wanted = [d + "." for d in READ_DOMAINS]
    clauses = [e.like(f"{d}%") for e in entity for d in wanted]
    if label_entity:
        clauses += [e == label_entity for e in entity]
    query = select(*selected, *entity).select_from(joined).where(or_(*clauses))
    chunks = []
    result = conn.execution_options(stream_results=True).execute(query)
    while batch := result.fetchmany(_CHUNK_ROWS):
        chunks.append(pd.DataFrame(batch, columns=list(result.keys())))
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=list(result.keys()))
    report.n_lines = len(frame)
    report.notes.append(f"recorder layout: {'current (states_meta' if has_meta else 'older (entity_id'}"
                        f"{', float timestamps' if 'last_updated_ts' in cols else ', datetime columns'})")
    return _normalise(frame)


def _join(conn: "Connection", joined, states, name: str, key: str, column: str):
    """`joined` LEFT JOIN table `name` ON states.key = name.key, and that table's `column`."""
    from sqlalchemy import Table

    other = Table(name, states.metadata, autoload_with=conn)
    return joined.outerjoin(other, states.c[key] == other.c[key]), other.c[column]


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """One entity, one time, one attributes column per row (whichever layout held the value), oldest first."""
    def first_of(*names: str) -> pd.Series:
        present = [frame[n] for n in names if n in frame.columns]
        out = present[0].astype(object) if present else pd.Series([None] * len(frame), dtype=object)
        for other in present[1:]:
            out = out.where(out.notna() & (out.astype(str) != ""), other)
        return out

    updated = _utc(frame, "last_updated_ts", "last_updated")
    changed = _utc(frame, "last_changed_ts", "last_changed")
    out = pd.DataFrame({"state_id": pd.to_numeric(frame["state_id"]).to_numpy(np.int64) if len(frame) else
                        np.zeros(0, np.int64),
                        "entity_id": first_of("meta_entity", "row_entity").astype(str),
                        "state": frame["state"].astype(object).where(frame["state"].notna(), "").astype(str),
                        "updated": updated, "changed": changed, "attrs": first_of("shared_attrs", "row_attrs")})
    out = out[~np.isnat(out["updated"].to_numpy())]
    return out.sort_values(["updated", "state_id"], kind="stable").reset_index(drop=True)


def _utc(frame: pd.DataFrame, ts_name: str, dt_name: str) -> np.ndarray:
    """UTC datetime64[us] from float seconds (preferred) or datetime values, NaT where neither is set."""
    out = np.full(len(frame), np.datetime64("NaT", "us"))
    if dt_name in frame.columns:
        parsed = pd.to_datetime(frame[dt_name], utc=True, errors="coerce", format="mixed")
        out = parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    if ts_name in frame.columns:
        seconds = pd.to_numeric(frame[ts_name], errors="coerce").to_numpy(np.float64)
        ok = np.isfinite(seconds)
        # Round, not truncate: a float second count holds the microsecond only to within a fraction of it.
        out[ok] = np.round(seconds[ok] * _US).astype(np.int64).astype("datetime64[us]")
    return out


def _event_log(rows: pd.DataFrame, options: "ReadOptions", label_entity: str | None,
               report: ParseReport) -> EventLog:
    """Map the state rows to events and readings (hass_states rule), convert times, attach labels."""
    path = report.path
    is_label = (rows["entity_id"] == label_entity).to_numpy() if label_entity else np.zeros(len(rows), bool)
    changes = np.isnat(rows["changed"].to_numpy()) | (rows["changed"].to_numpy() == rows["updated"].to_numpy())
    n_updates = int((~changes & ~is_label).sum())
    if n_updates:
        report.notes.append(f"{n_updates} attribute-only updates (state unchanged) are not events")
    local = _local(rows["updated"].to_numpy(), options.timezone, report)
    in_range = in_year_range(local)
    if not in_range.all():
        report.notes.append(f"{int((~in_range).sum())} rows with times outside 1980-2099 skipped")
    labels_rows = rows[is_label & in_range]
    rows, local = rows[changes & ~is_label & in_range], local[changes & ~is_label & in_range]
    device_class = _device_classes(rows)
    mapped = {key: read_state(key[0], key[1], device_class.get(key[0]))
              for key in set(zip(rows["entity_id"], rows["state"]))}
    readings = [mapped[key] for key in zip(rows["entity_id"], rows["state"])]
    skips = Counter(r.skip for r in readings if r.skip)
    for reason, n in sorted(skips.items()):
        report.notes.append(f"{n} states skipped ({reason})")
    keep = np.fromiter((not r.skip for r in readings), dtype=bool, count=len(readings))
    sensors = rows["entity_id"].to_numpy(dtype=object)[keep]
    states = [r.state for r, k in zip(readings, keep) if k]
    values = np.fromiter((r.value for r, k in zip(readings, keep) if k), dtype=np.float64, count=int(keep.sum()))
    times, linenos = local[keep], rows["state_id"].to_numpy(np.int64)[keep]
    record_order(report, times, linenos)
    labels, primary, residents = _labels(times, labels_rows, local_times=_local(labels_rows["updated"].to_numpy(),
                                                                     options.timezone, None), report=report)
    if not len(times):
        raise UserError(f"holds no states of {', '.join(READ_DOMAINS)} entities; expected a Home Assistant "
                        "history with sensors", path=path)
    return build_event_log(report, times, list(sensors), states, values, labels, primary, residents)


def _local(utc: np.ndarray, timezone: str, report: ParseReport | None) -> np.ndarray:
    """UTC datetime64[us] -> the home's naive local time (notes on daylight-saving changes in `report`)."""
    notes: list[str] = []
    instants = pd.Series(pd.to_datetime(utc.astype("datetime64[us]")).tz_localize("UTC")) if len(utc) else \
        pd.Series(pd.DatetimeIndex([], tz="UTC"))
    local = to_local(instants, timezone, "Home Assistant records UTC instants", notes)
    if report is not None:
        report.notes += notes
    return local.astype("datetime64[us]")


def _device_classes(rows: pd.DataFrame) -> dict[str, str]:
    """Entity -> device class, from the state attributes (the latest row that names one)."""
    out: dict[str, str] = {}
    binary = rows["entity_id"].str.startswith(("binary_sensor.", "sensor.")).to_numpy()
    for entity, attrs in zip(rows["entity_id"].to_numpy()[binary][::-1], rows["attrs"].to_numpy()[binary][::-1]):
        if entity in out or not isinstance(attrs, str) or "device_class" not in attrs:
            continue
        try:
            value = json.loads(attrs).get("device_class")
        except (ValueError, AttributeError):
            continue
        if isinstance(value, str):
            out[entity] = value
    return out


def _labels(times: np.ndarray, label_rows: pd.DataFrame, *, local_times: np.ndarray,
            report: ParseReport) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-event labels (and their residents) from the label entity's changes: each value labels the events from its time up to
    (not including) the next change; the last one up to the last event."""
    if not len(label_rows):
        report.notes.append(f"{report.path}: no label entity states; events are unlabelled")
        return labels_from_spans(len(times), [])
    names = [activity_of(s) for s in label_rows["state"]]
    starts = local_times
    last = times.max() if len(times) else starts[-1]
    ends = np.append(starts[1:] - np.timedelta64(1, "us"), max(last, starts[-1]))
    rows = [i for i, name in enumerate(names) if name and ends[i] >= starts[i]]
    spans = label_spans(times, Intervals(starts[rows], ends[rows], [names[i] for i in rows], rows))
    report.labels_from = f"{report.path} ({label_rows['entity_id'].iloc[0]})"
    report.notes.append(f"activity labels from {label_rows['entity_id'].iloc[0]} ({len(rows)} changes to an "
                        "activity)")
    return labels_from_spans(len(times), spans)
