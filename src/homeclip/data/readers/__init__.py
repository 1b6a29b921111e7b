"""Reader registry: `read_log` turns any supported raw log — one file, several files, a folder, a glob, or an
event table in memory — into the one `EventLog`; `detect_format` guesses which format a file is in.

Formats (details and every accepted variant: docs/log-formats.md):
  casas           `date time sensor state [label begin|end]` (Milan, Aruba, Cairo, Kyoto)  casas.py
  casas-labelled  `date time sensor sensor value label` (AL-Smarthome)                      casas_labelled.py
  intervals       interval files: UCI Ordonez (`XSensors.txt` + `XADLs.txt`) and van
                  Kasteren (`kasterenSenseData.txt` + `kasterenActData.txt`)                intervals.py
  table           CSV/TSV/parquet event tables or a pandas DataFrame, with a column mapping
                  and an optional activity-interval table                                   table.py
  homeassistant   a Home Assistant recorder database: home-assistant_v2.db or an SQLAlchemy
                  URL (MariaDB, PostgreSQL); entity states by the rule of hass_states.py    homeassistant.py

A new source plugs in here: a module with `read_<name>(path, options) -> EventLog` for one file, listed in
`_READERS` (and, if it can be recognised, in `detect_format`). Every file is read on its own (an activity open at
the end of a file ends there); `combine_logs` joins the files as separate sources; the unknown-state rule
(states.py) and the label-resident rule (data/residents.py) then apply to the whole log. Reader modules are
imported lazily.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ...errors import UserError
from ..events import EventLog, combine_logs
from ..residents import ResidentRule, resident_rule, residents_column, residents_of
from .common import NUMBER, split_marker
from .sources import companion_file, resolve_inputs
from .text import existing_file, quote, read_head_lines
from .times import check_time_format, check_timezone

if TYPE_CHECKING:
    import pandas as pd

FORMATS: tuple[str, ...] = ("casas", "casas-labelled", "intervals", "table", "homeassistant")
_READERS = {
    "casas": ("casas", "read_casas"),
    "casas-labelled": ("casas_labelled", "read_casas_labelled"),
    "intervals": ("intervals", "read_intervals"),
    "table": ("table", "read_table"),
    "homeassistant": ("homeassistant", "read_homeassistant"),
}
ZONED_FORMATS = frozenset({"table", "homeassistant"})   # formats whose times may be instants (--timezone)
_SNIFF_LINES = 50
TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".tab", ".parquet", ".pq"})
# States a per-event-labelled line carries in its 5th field (besides numbers), for format detection.
DETECT_STATES = frozenset({"ON", "OFF", "OPEN", "CLOSE", "CLOSED", "OPENED", "PRESENT", "ABSENT"})
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}$")
_TIME = re.compile(r"\d{1,2}:\d{2}:\d{2}(\.\d*)?$")
_INTERVAL_STAMP = re.compile(r"(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-[A-Za-z]{3}-\d{4}) \d{1,2}:\d{2}:\d{2}(\.\d*)?$")


@dataclass(frozen=True)
class ReadOptions:
    """How to read a log (every option has a --flag of `homeclip prepare`)."""

    fmt: str = "auto"                               # one of FORMATS, or "auto" (detected per file)
    labels: "str | Path | pd.DataFrame | None" = None   # activity file (intervals) or interval table (table)
    skip_bad_lines: bool = False
    keep_unknown_states: bool = False               # keep events whose state is outside their sensor's set
    columns: Mapping[str, str] | None = None        # table: role (time, sensor, state, value, label) -> column
    time_format: str = "auto"                       # table: see times.TIME_FORMATS
    timezone: str | None = None                     # table, homeassistant: IANA zone of the home
    residents: str = "auto"                         # the label-resident rule: auto, none or a regex (residents.py)
    label_entity: str | None = None                 # homeassistant: input_select/input_text naming the activity

    def validate(self, fmt_of_files: set[str]) -> None:
        """UserError for an option the formats being read do not use."""
        if self.fmt not in ("auto", *FORMATS):
            raise UserError(f"unknown log format {self.fmt!r}; expected one of auto, {', '.join(FORMATS)}")
        if self.labels is not None and not fmt_of_files <= {"intervals", "table"}:
            other = sorted(fmt_of_files - {"intervals", "table"})
            raise UserError(f"a separate labels file is only used by interval logs and event tables, not by "
                            f"{', '.join(map(repr, other))} logs", path=str(self.labels) if isinstance(
                                self.labels, (str, Path)) else None)
        table_only = [name for name, given in (("--columns", self.columns is not None),
                                               ("--time-format", self.time_format != "auto")) if given]
        if table_only and fmt_of_files != {"table"}:
            raise UserError(f"{', '.join(table_only)} only applies to event tables (--format table)")
        if self.timezone is not None and not fmt_of_files <= ZONED_FORMATS:
            raise UserError("--timezone only applies to event tables and Home Assistant databases")
        if self.label_entity is not None and fmt_of_files != {"homeassistant"}:
            raise UserError("--label-entity only applies to Home Assistant recorder databases")
        check_time_format(self.time_format)
        check_timezone(self.timezone)
        resident_rule(self.residents)


def read_log(raw: "str | Path | Iterable[str | Path] | pd.DataFrame", fmt: str = "auto", *,
             labels_path: "str | Path | pd.DataFrame | None" = None, skip_bad_lines: bool = False,
             keep_unknown_states: bool = False, columns: Mapping[str, str] | None = None,
             time_format: str = "auto", timezone: str | None = None, residents: str = "auto",
             label_entity: str | None = None) -> EventLog:
    """Read raw sensor logs — a file, a folder, a glob, a list of them, a DataFrame event table, or a Home
    Assistant database URL — into one EventLog (format detected per file when `fmt` is "auto"; each file a
    separate source). `residents`: how labels name their resident (auto, none or a regular expression;
    data/residents.py)."""
    from .homeassistant import is_database_url, shown_url

    options = ReadOptions(fmt, labels_path, skip_bad_lines, keep_unknown_states, columns, time_format, timezone,
                          residents, label_entity)
    if fmt not in ("auto", *FORMATS):
        options.validate(set())
    if _is_frame(raw):
        options.validate({"table"})
        return _finish([_reader("table")(raw, options)], "<DataFrame>", [], options)
    if isinstance(raw, str) and is_database_url(raw):     # a recorder database on a server: no file to resolve
        options.validate({"homeassistant"})
        return _finish([_reader("homeassistant")(raw, options)], shown_url(raw), [], options)
    inputs = resolve_inputs(raw)
    chosen: list[tuple[Path, str]] = []
    skipped: list[str] = []
    for path in inputs.files:
        try:
            # A folder/glob member is checked for being a log even when the format is given.
            detected = detect_format(path) if fmt == "auto" or path in inputs.optional else fmt
            chosen.append((path, fmt if fmt != "auto" else detected))
        except UserError as err:
            if path not in inputs.optional:
                raise
            skipped.append(str(err).split(": expected")[0])     # "path: is not a recognised sensor log"
    if not chosen:
        raise UserError(f"no sensor log among the files given (skipped: {'; '.join(skipped)})",
                        path=inputs.described_as)
    options.validate({f for _, f in chosen})
    if isinstance(options.labels, (str, Path)):
        existing_file(options.labels)
    logs = [_reader(f)(path, options) for path, f in chosen]
    return _finish(logs, inputs.described_as, skipped, options)


def _finish(logs: list[EventLog], described_as: str, skipped: list[str], options: ReadOptions) -> EventLog:
    """Combine the files' logs, record skipped files, apply the unknown-state and label-resident rules."""
    from .states import apply_state_rule

    log = logs[0] if len(logs) == 1 else combine_logs(logs, described_as)
    log.report.skipped_files = skipped
    log = _check_some_events(apply_state_rule(log, options.keep_unknown_states))
    return apply_resident_rule(log, resident_rule(options.residents))


def apply_resident_rule(log: EventLog, rule: ResidentRule) -> EventLog:
    """Fill in the resident of every label the rule reads one in (a given resident, from a table's resident
    column, stays), and say in the report which residents the labels name."""
    frame = log.frame
    frame["residents"] = residents_column(frame["labels"], frame["residents"], rule)
    names = residents_of(frame["residents"])
    if names:
        pairs = {pair for labels, owners in set(zip(frame["labels"], frame["residents"]))
                 for pair in zip(labels, owners)}
        nobody = sorted(label for label, owner in pairs if not owner)
        log.report.notes.append(
            f"labels name {len(names)} resident{'s' if len(names) > 1 else ''} ({', '.join(names)}; rule "
            f"{rule.describe()})"
            + (f"; {len(nobody)} labels name none and count only in the flattened labels: "
               f"{', '.join(map(repr, nobody[:6]))}{' ...' if len(nobody) > 6 else ''}" if nobody else ""))
    return log


def _check_some_events(log: EventLog) -> EventLog:
    if len(log.frame) == 0:
        from ..events import format_unknown_states

        r = log.report
        raise UserError(f"no events left: all {r.n_unknown_states} have states outside their sensor's expected set "
                        f"({format_unknown_states(r.unknown_states)}); use --keep-unknown-states to keep them",
                        path=r.path)
    return log


def _reader(fmt: str):
    module_name, function_name = _READERS[fmt]
    return getattr(importlib.import_module(f"{__name__}.{module_name}"), function_name)


def _is_frame(raw: Any) -> bool:
    return type(raw).__name__ == "DataFrame" and hasattr(raw, "columns")


def detect_format(path: str | Path) -> str:
    """Guess the format of a log from its name (tables), its header (an SQLite file: a Home Assistant
    recorder database) or first lines: "casas", "casas-labelled", "intervals", "table" or "homeassistant"."""
    from .homeassistant import is_sqlite_file

    path = existing_file(path)
    if path.suffix.lower() in TABLE_SUFFIXES:
        return "table"
    if is_sqlite_file(path):
        return "homeassistant"
    lines = read_head_lines(path, _SNIFF_LINES)
    first = [c.strip().lower() for c in lines[0].split("\t")]
    if len(first) >= 3 and first[0].startswith("start time") and first[1].startswith("end time"):
        return "intervals"
    shapes = [_line_shape(ln) for ln in lines]
    n_interval, n_labelled = shapes.count("intervals"), shapes.count("casas-labelled")
    n_casas = n_labelled + shapes.count("casas")
    if n_interval > n_casas:
        return "intervals"
    if n_casas == 0:
        raise UserError(
            "is not a recognised sensor log: expected CASAS lines 'date time sensor state [label begin|end]', "
            f"'date time sensor sensor value label' lines, an interval log or a .csv/.tsv/.parquet table, "
            f"found {quote(lines[0])}", path=str(path))
    return "casas-labelled" if 2 * n_labelled > n_casas else "casas"


def _line_shape(line: str) -> str | None:
    """Which format one line looks like (None: none of them)."""
    fields = [f.strip() for f in line.split("\t") if f.strip()]
    if len(fields) >= 3 and _INTERVAL_STAMP.match(fields[0]) and _INTERVAL_STAMP.match(fields[1]):
        return "intervals"
    toks = line.split()
    if len(toks) < 4 or not _DATE.match(toks[0]) or not _TIME.match(toks[1]):
        return None
    last = toks[-1]
    marked = last.lower() in ("begin", "end") or split_marker(last)[1] is not None
    if len(toks) >= 6 and (toks[4].upper() in DETECT_STATES or NUMBER.fullmatch(toks[4])) and not marked:
        return "casas-labelled"
    return "casas"


__all__ = ["FORMATS", "ReadOptions", "companion_file", "detect_format", "read_log"]
