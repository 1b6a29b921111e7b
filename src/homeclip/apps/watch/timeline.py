"""The timeline: an append-only SQLite file of what `watch` saw and said (docs/live.md, "Timeline").

Tables (schema "homeclip.timeline/1"):
  info      key -> value: schema, checkpoint (path, sha256), home, window length/stride/max gap, method, level
  events    every accepted event: home, time_us (naive local), sensor, state, position in its segment;
            UNIQUE (home, time_us, sensor, state): a replayed event is never stored twice
  windows   one row per recognised window: home, start/end (local time text and us), n_events, label, score,
            method, caption, the id of the event that closed it (UNIQUE (home, last_event): a window is never
            written twice), latency_ms (closing event's arrival -> row written), written_at (UTC)
  counters  home, name -> value: malformed, duplicate, late, numeric, ... messages (the only rows updated)
Rows are only ever inserted (counters aside). Each message is one transaction - its event rows and the window
rows they complete together - in WAL mode, so a crash at any moment leaves the file consistent and readers
(the timeline page) never block the writer. Restarting `watch` on the same file continues where it stopped:
the last events come back into the windows' buffers, and the file refuses a different checkpoint or windowing.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ...data.live.events import LiveEvent, iso_of
from ...errors import UserError

SCHEMA = "homeclip.timeline/1"
_DDL = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, home TEXT NOT NULL, time_us INTEGER NOT NULL, sensor TEXT NOT NULL,
    state TEXT NOT NULL, position INTEGER NOT NULL, UNIQUE (home, time_us, sensor, state));
CREATE INDEX IF NOT EXISTS events_home_id ON events (home, id);
CREATE TABLE IF NOT EXISTS windows (
    id INTEGER PRIMARY KEY, home TEXT NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL, start_us INTEGER NOT NULL,
    end_us INTEGER NOT NULL, n_events INTEGER NOT NULL, label TEXT NOT NULL, score REAL NOT NULL,
    method TEXT NOT NULL, caption TEXT NOT NULL, last_event INTEGER NOT NULL REFERENCES events (id),
    latency_ms REAL, written_at TEXT NOT NULL, UNIQUE (home, last_event));
CREATE TABLE IF NOT EXISTS counters (home TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL,
    PRIMARY KEY (home, name));
"""
WINDOW_COLUMNS = ("id", "home", "start", "end", "n_events", "label", "score", "method", "caption", "latency_ms",
                  "written_at")


@dataclass(frozen=True)
class WindowRow:
    """A window row as it is written."""

    home: str
    start_us: int
    end_us: int
    n_events: int
    label: str
    score: float
    method: str
    caption: str
    last_event: int
    latency_ms: float | None


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection to a timeline file (read-only for the page: it never creates or changes the file)."""
    if readonly:
        return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")     # WAL + NORMAL: consistent after any crash
        conn.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        conn.close()                                  # no file left open (a full disk fails right here)
        raise
    return conn


def check_writable(path: str | Path) -> None:
    """Fail early - before any model is loaded - with the file system's own error when the timeline cannot be
    written there (a read-only folder, a file where a folder should be); a file made for the check is removed."""
    path = Path(path)
    existed = path.exists()
    with open(path, "ab"):
        pass
    if not existed:
        path.unlink()


class Timeline:
    """The writer of a timeline file (one per watch)."""

    def __init__(self, path: str | Path, info: dict[str, str]):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_file():
            raise UserError("is not a file; expected a timeline database (SQLite) to write", path=str(path))
        existed = self.path.exists()
        self.conn: sqlite3.Connection | None = None
        try:
            with self._file_errors():
                self.conn = connect(self.path)
                self.conn.executescript(_DDL)
                self._check_info(info)
        except BaseException:
            if self.conn is not None:
                self.conn.close()
            if not existed:          # nothing half-made is left behind
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            raise

    @contextlib.contextmanager
    def _file_errors(self):
        """SQLite's errors as what they are: a full disk or a read-only file is an OSError naming the
        timeline (one sentence from the command), a foreign file a UserError."""
        try:
            yield
        except sqlite3.OperationalError as err:
            text = str(err).lower()
            for words, code in (("full", errno.ENOSPC), ("readonly", errno.EROFS), ("read-only", errno.EROFS),
                                ("unable to open", errno.EACCES), ("disk i/o", errno.EIO)):
                if words in text:
                    raise OSError(code, os.strerror(code), str(self.path)) from None
            raise UserError(f"cannot be written as a timeline ({err})", path=str(self.path)) from None
        except sqlite3.DatabaseError as err:
            raise UserError(f"is not a homeclip timeline ({err})", path=str(self.path)) from None

    def _check_info(self, info: dict[str, str]) -> None:
        """Record `info` in a new file; in an existing one, refuse settings that differ."""
        info = {"schema": SCHEMA, **info}
        have = dict(self.conn.execute("SELECT key, value FROM info").fetchall())
        if not have:
            self.begin()
            self.conn.executemany("INSERT INTO info VALUES (?, ?)", sorted(info.items()))
            self.commit()
            return
        for key in ("schema", "checkpoint_sha256", "window", "method", "level"):
            if have.get(key) != info.get(key):
                raise UserError(f"was written with {key} {have.get(key)!r}, not {info.get(key)!r}; use another "
                                "--timeline file (each holds one model's view of its homes)", path=str(self.path))

    def begin(self) -> None:
        """Start the transaction of one message."""
        with self._file_errors():
            self.conn.execute("BEGIN")

    def commit(self) -> None:
        """End the message's transaction (its events and windows become visible together)."""
        with self._file_errors():
            self.conn.execute("COMMIT")

    def rollback(self) -> None:
        """Undo the message's transaction (nothing of it is kept)."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def add_event(self, event: LiveEvent, position: int) -> int | None:
        """Store an event; its row id, or None when the file already holds it (a duplicate)."""
        with self._file_errors():
            cur = self.conn.execute("INSERT OR IGNORE INTO events (home, time_us, sensor, state, position) VALUES "
                                    "(?, ?, ?, ?, ?)", (event.home, event.time_us, event.sensor, event.state,
                                                        position))
        return cur.lastrowid if cur.rowcount else None

    def add_window(self, row: WindowRow) -> int | None:
        """Store a window row; its id, or None when that window is already there."""
        with self._file_errors():
            cur = self._insert_window(row)
        return cur.lastrowid if cur.rowcount else None

    def _insert_window(self, row: WindowRow) -> sqlite3.Cursor:
        return self.conn.execute(
            "INSERT OR IGNORE INTO windows (home, start, end, start_us, end_us, n_events, label, score, method, "
            "caption, last_event, latency_ms, written_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row.home, iso_of(row.start_us), iso_of(row.end_us), row.start_us, row.end_us, row.n_events, row.label,
             row.score, row.method, row.caption, row.last_event, row.latency_ms,
             _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")))

    def add_counts(self, home: str, counts: dict[str, int]) -> None:
        """Add to a home's counters."""
        with self._file_errors():
            self.conn.executemany("INSERT INTO counters VALUES (?, ?, ?) ON CONFLICT (home, name) DO UPDATE SET "
                                  "value = value + excluded.value", [(home, k, v) for k, v in counts.items() if v])

    def tail(self, home: str, n: int) -> tuple[list[LiveEvent], int]:
        """A home's last `n` events (oldest first) and the segment position of the last one (0: none)."""
        rows = self.conn.execute("SELECT time_us, sensor, state, position FROM events WHERE home = ? ORDER BY id "
                                 "DESC LIMIT ?", (home, n)).fetchall()[::-1]
        return [LiveEvent(t, s, st, home=home) for t, s, st, _ in rows], (rows[-1][3] if rows else 0)

    def homes(self) -> list[str]:
        """The homes with events in the file."""
        return [h for (h,) in self.conn.execute("SELECT DISTINCT home FROM events ORDER BY home")]

    def close(self) -> None:
        self.conn.close()


def info_text(value: object) -> str:
    """An info value as stored (JSON for structures)."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def read_windows(conn: sqlite3.Connection, *, home: str | None = None, after_id: int = 0,
                 limit: int = 200) -> list[dict]:
    """Window rows, newest first (ids above `after_id`; one home or all), as plain dicts."""
    where, args = "id > ?", [after_id]
    if home is not None:
        where, args = where + " AND home = ?", args + [home]
    rows = conn.execute(f"SELECT {', '.join(WINDOW_COLUMNS)} FROM windows WHERE {where} ORDER BY id DESC LIMIT ?",
                        (*args, limit)).fetchall()
    return [dict(zip(WINDOW_COLUMNS, row)) for row in rows]


def read_counters(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """home -> counter name -> value."""
    out: dict[str, dict[str, int]] = {}
    for home, name, value in conn.execute("SELECT home, name, value FROM counters ORDER BY home, name"):
        out.setdefault(home, {})[name] = value
    return out


def read_info(conn: sqlite3.Connection) -> dict[str, str]:
    """The info table."""
    return dict(conn.execute("SELECT key, value FROM info").fetchall())
