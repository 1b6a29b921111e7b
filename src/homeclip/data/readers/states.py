"""Which states a sensor is expected to report, and what happens to the others.

The rule (docs/log-formats.md, "Unknown states"), applied to the whole log (all files) after reading:
1. a number is a numeric reading (already kept apart by the readers), never a state;
2. a word of the common binary vocabulary (`KNOWN_STATES`: ON/OFF, OPEN/CLOSE(D), PRESENT/ABSENT, START/STOP)
   is expected from every sensor;
3. a word that says the reading is missing (`MISSING_STATES`: UNAVAILABLE, UNKNOWN, ERROR, NONE, NULL, N/A...)
   is never expected;
4. any other state is expected from a sensor when it is a plain word (a letter, then letters, digits, `_`, `-`)
   and makes up at least OWN_STATE_SHARE of that sensor's lines (events and numeric readings together): a
   sensor's own vocabulary such as ACTIVE/INACTIVE or DETECTED/CLEAR. `ERROR:`, `OFFc` once among thousands
   of OFFs, `0.2888721.6`, a file path, a word on a temperature sensor are not.
Unexpected states are counted per sensor and state in the report; their events leave the binary stream unless
`keep` is True.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..events import EventLog

KNOWN_STATES = frozenset({"ON", "OFF", "OPEN", "CLOSE", "CLOSED", "OPENED", "PRESENT", "ABSENT", "START", "STOP"})
MISSING_STATES = frozenset({"UNAVAILABLE", "UNKNOWN", "ERROR", "NONE", "NULL", "NAN", "NA", "N/A", "UNDEFINED"})
OWN_STATE_SHARE = 0.05
_PLAIN_WORD = r"[^\W\d_][\w-]*"


def expected_states(frame: pd.DataFrame, numeric: pd.DataFrame) -> np.ndarray:
    """True for each event of `frame` whose state its sensor is expected to report (the module's rule)."""
    states = frame["state"].astype(object)
    known = states.isin(KNOWN_STATES).to_numpy(dtype=bool)
    if known.all():
        return known
    pairs = frame.loc[~known, ["sensor", "state"]].astype(object)
    counts = pairs.value_counts()
    lines = frame["sensor"].value_counts().add(numeric["sensor"].value_counts(), fill_value=0)
    table = counts.rename("n").reset_index()
    table["share"] = table["n"].to_numpy() / lines.reindex(table["sensor"]).to_numpy()
    state_col = table["state"].astype(str)
    table["ok"] = (state_col.str.fullmatch(_PLAIN_WORD).fillna(False).to_numpy(dtype=bool)
                   & ~state_col.isin(MISSING_STATES).to_numpy(dtype=bool)
                   & (table["share"].to_numpy() >= OWN_STATE_SHARE))
    ok = set(zip(table.loc[table["ok"], "sensor"], table.loc[table["ok"], "state"]))
    expected = known.copy()
    rest = np.flatnonzero(~known)
    expected[rest] = [pair in ok for pair in zip(pairs["sensor"], pairs["state"])]
    return expected


def apply_state_rule(log: EventLog, keep: bool) -> EventLog:
    """Count the events with unexpected states per sensor and state (in the log's report and in each file's),
    and drop them from the frame unless `keep`."""
    expected = expected_states(log.frame, log.numeric)
    reports = [log.report, *log.report.files]
    for report in reports:
        report.unknown_states_kept = keep
    if expected.all():
        return log
    unknown = log.frame.loc[~expected, ["sensor", "state", "source"]]
    _count(log.report, unknown)
    for index, report in enumerate(log.report.files):
        _count(report, unknown[unknown["source"] == index])
    if keep:
        return log
    frame = log.frame.loc[expected].reset_index(drop=True)
    for report in reports:
        report.n_events -= report.n_unknown_states
    return EventLog(frame=frame, numeric=log.numeric, report=log.report, sources=log.sources)


def _count(report, unknown: pd.DataFrame) -> None:
    counts: dict[str, dict[str, int]] = {}
    for (sensor, state), n in unknown.groupby(["sensor", "state"], sort=True).size().items():
        counts.setdefault(str(sensor), {})[str(state)] = int(n)
    report.unknown_states = counts
    report.n_unknown_states = int(len(unknown))
