"""The home simulator: residents living in home layouts, written as annotated CASAS logs.

The embedded default of the main job, the fast fixture of the tests and, with `--varied`, a generator of
many different homes for pre-training. Deterministic for a seed (string-seeded `random.Random`, no global
state). Modules, one job each:

  vocabulary.py  activities, their places, the objects they use, the shared label vocabulary + descriptions
  layout.py      a Home -> places, labels, exits, doors, objects used, walking graph (resolve_layout)
  engine.py      the resident's clock and position and the sensor events they cause (Resident, Reporting)
  routines.py    residents' habits (Routine, draw_routine) and the day plan
  household.py   several residents in one home: own routines and bedrooms, labels per resident, one log
  logformat.py   events -> CASAS lines
  floorplans.py  floor-plan templates -> rooms with coordinates
  sensors.py     sensor styles and naming styles -> a layout (with room types and object kinds)
  varied.py      many generated homes: layout + log per home and an index, in parallel

See docs/simulator.md.
"""
from __future__ import annotations

import logging
import random
import time
from datetime import date
from pathlib import Path

from ...errors import UserError
from ...io import atomic_write_text
from ..homes import Home, SensorInfo
from .engine import Reporting, Resident
from .household import check_residents, household_events, labelled, other_residents
from .layout import resolve_layout
from .logformat import format_lines
from .routines import Routine, live

log = logging.getLogger(__name__)

DEFAULT_START = "2009-10-16"      # Milan's first day

__all__ = ["DEFAULT_START", "Reporting", "Routine", "resolve_layout", "simulate_log", "write_simulated_log"]


def simulate_log(home: Home, days: int, seed: int = 0, start: str = DEFAULT_START, *,
                 routine: Routine | None = None, reporting: Reporting | None = None,
                 kinds: dict[str, str] | None = None, anchors: dict[str, SensorInfo] | None = None,
                 residents: int = 1, other_routines: tuple[Routine, ...] = ()) -> list[str]:
    """CASAS lines `date time sensor state [label begin|end]` of `days` simulated days from `start`.

    Without `routine`/`reporting` a packaged home lives the classic routine with CASAS-style sensors; `kinds`
    (sensor -> object kind) lets activities use the home's objects and `anchors` are silent places the sensors
    do not show (generated homes pass theirs; see resolve_layout). `residents` > 1 adds residents 2..N with
    their own routines (`other_routines`, else drawn from the seed) and labels every activity with its
    resident (household.py); one resident's log is what it always was."""
    day0 = check_span(days, start)
    check_residents(residents)
    routine = routine or Routine()
    reporting = reporting or Reporting()
    layout = resolve_layout(home, kinds, anchors)
    rng = random.Random(f"homeclip-simulate:{seed}")
    sim = Resident(layout if residents == 1 else labelled(layout, 1), rng, end=days * 86_400.0,
                   reporting=reporting, shuts_doors=routine.shuts_doors)
    live(sim, routine, day0, days)
    sim.add_background(days)
    if residents == 1:
        return format_lines(sim.events, day0, days)
    others = other_residents(layout, home, seed, day0, days, residents, reporting, kinds, anchors, other_routines)
    return format_lines(household_events([sim, *others]), day0, days)


def check_span(days: int, start: str) -> date:
    """The first day of a simulation of `days` days from `start`; UserError for a bad count or date."""
    if not isinstance(days, int) or days < 1:
        raise UserError(f"--days: expected a whole number of days >= 1, found {days!r}")
    try:
        return date.fromisoformat(start)
    except ValueError:
        raise UserError(f"--start: expected a date YYYY-MM-DD, found {start!r}") from None


def write_simulated_log(path: str | Path, home: Home, days: int, seed: int = 0,
                        start: str = DEFAULT_START, residents: int = 1) -> Path:
    """Simulate and write the log atomically; returns the path."""
    started = time.perf_counter()
    lines = simulate_log(home, days, seed=seed, start=start, residents=residents)
    path = atomic_write_text(path, "\n".join(lines) + "\n")
    log.info("simulated %d days in home %r (seed %d): %d events, %d annotated activities, %.1f s", days, home.name,
             seed, len(lines), sum(line.endswith(" begin") for line in lines), time.perf_counter() - started)
    return path
