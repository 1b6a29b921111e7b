"""Several residents in one home (`simulate --residents N`): one log, every resident's own routine.

Resident 1 lives exactly the single-resident simulation (same random draws); residents 2..N live their own
routine (given, or drawn from the seed as generated homes draw theirs), each with their own random stream, and
sleep in a bedroom of their own where the layout has a spare one (else they share). Every label carries its
resident as CASAS does: `R1_Sleep`, `R2_Sleep` (`R1 Breakfast` in a home whose labels write `R1 sleep`); a
home label that already names a resident (Cairo's `R1 sleep`, Kyoto's `R1_Work`) has it replaced
(`R2 sleep`, `R2_Work`). The residents' events are merged in
time order; a motion sensor that two residents keep on at once reports one ON and one OFF (an annotated event
is always kept, so no activity loses its begin or end). Background noise and temperatures come once, with
resident 1. A single resident's log is not touched by this module.
"""
from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

from ...errors import UserError
from ..homes import Home, SensorInfo
from ..residents import resident_rule
from .engine import Event, Reporting, Resident
from .layout import Layout, resolve_layout, spare_bedrooms
from .routines import Routine, draw_routine, live

MAX_RESIDENTS = 9


def check_residents(residents: int) -> int:
    """The number of residents; UserError for anything but a whole number 1..MAX_RESIDENTS."""
    if not isinstance(residents, int) or isinstance(residents, bool) or not 1 <= residents <= MAX_RESIDENTS:
        raise UserError(f"--residents: expected a whole number of residents from 1 to {MAX_RESIDENTS}, "
                        f"found {residents!r}")
    return residents


def resident_label(label: str | None, number: int, separator: str = "_") -> str | None:
    """The label resident `number` writes for the home's label: `R<number>` + separator + label, or the label
    with the resident it names replaced (`R1 sleep` -> `R2 sleep`); None (unannotated) stays None."""
    if label is None:
        return None
    match = resident_rule("auto").pattern.match(label)
    if match:
        return f"R{number}{label[match.end('resident'):]}"
    return f"R{number}{separator}{label}"


def resident_separator(home: Home) -> str:
    """What comes between resident and activity in the home's own resident labels: a space where they are
    written so (Cairo's `R1 sleep`), else `_` (CASAS twor, Kyoto)."""
    pattern = resident_rule("auto").pattern
    found = [label[match.end() - 1] for label in home.l1_labels if (match := pattern.match(label))]
    return " " if found and found.count(" ") > found.count("_") else "_"


def labelled(layout: Layout, number: int) -> Layout:
    """The layout with every activity labelled for resident `number`."""
    separator = resident_separator(layout.home)
    return replace(layout, labels={key: resident_label(label, number, separator)
                                   for key, label in layout.labels.items()})


def other_residents(layout: Layout, home: Home, seed: int, day0: date, days: int, residents: int,
                    reporting: Reporting, kinds: dict[str, str] | None, anchors: dict[str, SensorInfo] | None,
                    routines: tuple[Routine, ...] = ()) -> list[Resident]:
    """Residents 2..`residents`, each having lived their routine for `days` days in the home."""
    spare = spare_bedrooms(layout)
    out = []
    for number in range(2, residents + 1):
        bedroom = spare[number - 2] if number - 2 < len(spare) else None
        own = resolve_layout(home, kinds, anchors, bedroom=bedroom) if bedroom else layout
        routine = routines[number - 2] if number - 2 < len(routines) else other_routine(seed, number, layout)
        sim = Resident(labelled(own, number), random.Random(f"homeclip-simulate:{seed}:R{number}"),
                       end=days * 86_400.0, reporting=reporting, shuts_doors=routine.shuts_doors)
        live(sim, routine, day0, days)
        out.append(sim)
    return out


def other_routine(seed: int, number: int, layout: Layout) -> Routine:
    """Resident `number`'s own habits, drawn from the seed (no laundry or desk work where the home has none)."""
    return draw_routine(random.Random(f"homeclip-resident:{seed}:{number - 1}"),
                        has_laundry="laundry" in layout.found, has_desk="desk" in layout.found)


def household_events(residents: list[Resident]) -> list[Event]:
    """Every resident's events in time order (ties: resident order), a motion sensor held on by two residents
    at once reporting one ON..OFF; annotated events are kept."""
    events = sorted((e for sim in residents for e in sim.events), key=lambda e: e[0])
    motion = frozenset(residents[0].layout.motion)
    on: dict[str, int] = {}                       # motion sensor -> how many residents keep it on now
    out = []
    for event in events:
        _, sensor, state, note = event
        if sensor in motion and state in ("ON", "OFF"):
            held = on.get(sensor, 0)
            on[sensor] = held + 1 if state == "ON" else max(held - 1, 0)
            if not note and (held > 0 if state == "ON" else held > 1):
                continue                          # already on for another resident / still on for one
        out.append(event)
    return out
