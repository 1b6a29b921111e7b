"""CASAS per-event-labelled logs (AL-Smarthome): `date time sensor sensor value label` -> EventLog.

Fields are separated by runs of spaces or tabs. The sensor is the 3rd field (e.g. "Bathroom"; the 4th, a
finer location such as "BathroomLight", is not used), the state the 5th, and the label everything after it
(normally one word such as "Sleep"; a line with no label is unlabelled). Labels are kept verbatim,
"Other_Activity" included. Each event carries only its own line's label: labels = (label,), label = label.
Timestamps, numeric values, out-of-order lines and bad lines are handled as for CASAS raw logs (casas.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..events import EventLog, ParseReport
from .casas import read_casas_rows
from .common import own_labels

if TYPE_CHECKING:
    from . import ReadOptions

EXPECTED_LINE = "'date time sensor sensor value label'"


def read_casas_labelled(path: str | Path, options: "ReadOptions") -> EventLog:
    """Read a per-event-labelled CASAS log into an EventLog (each event labelled by its own line)."""
    report = ParseReport(path=str(path), format="casas-labelled")
    rows = read_casas_rows(path, report, state_field=4, expected=EXPECTED_LINE,
                           skip_bad_lines=options.skip_bad_lines)
    rows.bad.settle(report)
    primary = np.full(len(rows.linenos), "", dtype=object)
    for row, _, words, _ in rows.extras:
        primary[row] = words[0] if len(words) == 1 else " ".join(words)
    labels = own_labels(primary)
    n_unlabelled = int((primary[rows.keep] == "").sum())
    if n_unlabelled:
        report.notes.append(f"{n_unlabelled} lines carry no label (unlabelled events)")
    return rows.event_log(report, labels, primary)
