"""How well a home layout describes a log: the share of its events and sensors the layout knows, a packaged
layout that would know more, and which sensors' room type and kind were inferred or stayed unknown.

A layout that misses most of a log's sensors (the `M01` names of one Kyoto release against the `M001` names
of another) turns every event into room "unknown" without failing, so `prepare` measures it and warns.
"""
from __future__ import annotations

import logging
from typing import Mapping

from .homes import Home, list_homes, load_home
from .taxonomy import UNKNOWN

log = logging.getLogger(__name__)

MIN_EVENT_COVERAGE = 0.9     # below this share of events known to the layout, prepare warns loudly
N_NAMES_SHOWN = 5            # unknown sensor names quoted in the warning


def layout_coverage(home: Home, counts: Mapping[str, int]) -> dict:
    """Share of events and of distinct sensors (`counts`: sensor -> events) that the layout knows."""
    n_events = sum(counts.values())
    known = [s for s in counts if s in home.sensors]
    known_events = sum(counts[s] for s in known)
    missing = sorted((s for s in counts if s not in home.sensors), key=lambda s: (-counts[s], s))
    return {
        "layout": home.name, "has_layout": home.has_layout,
        "events": round(known_events / n_events, 4) if n_events else 0.0,
        "sensors": round(len(known) / len(counts), 4) if counts else 0.0,
        "n_events": n_events, "n_known_events": known_events, "n_sensors": len(counts), "n_known_sensors": len(known),
        "unknown_sensors": missing,
    }


def best_packaged_layout(counts: Mapping[str, int], exclude: str = "") -> tuple[str, float] | None:
    """The packaged layout knowing the largest share of events (ties: first by name), or None if none knows any."""
    best: tuple[str, float] | None = None
    for name in list_homes():
        if name == exclude:
            continue
        share = layout_coverage(load_home(name), counts)["events"]
        if share > 0 and (best is None or share > best[1]):
            best = (name, share)
    return best


def coverage_report(home: Home, counts: Mapping[str, int]) -> dict:
    """layout_coverage plus, below MIN_EVENT_COVERAGE, a suggested packaged layout and the warning text."""
    report = layout_coverage(home, counts)
    report["warning"] = None
    report["suggested_layout"] = None
    if report["events"] >= MIN_EVENT_COVERAGE or not counts:
        return report
    better = best_packaged_layout(counts, exclude=home.name)
    if better is not None and better[1] > report["events"]:
        report["suggested_layout"] = {"name": better[0], "events": better[1]}
    if home.has_layout or report["suggested_layout"]:
        report["warning"] = coverage_warning(report)
    return report


def coverage_warning(report: dict) -> str:
    """The one-line warning for a layout that knows too little of the log."""
    names = report["unknown_sensors"]
    shown = ", ".join(names[:N_NAMES_SHOWN]) + (f" and {len(names) - N_NAMES_SHOWN} more" if len(names) > N_NAMES_SHOWN else "")
    who = f"layout {report['layout']!r}" if report["has_layout"] else "without a layout, the log"
    text = (f"{who} knows only {100 * report['events']:.1f}% of the events ({report['n_known_events']} of "
            f"{report['n_events']}) and {report['n_known_sensors']} of {report['n_sensors']} sensors; "
            f"unknown sensors: {shown}: their events get room 'unknown'")
    better = report["suggested_layout"]
    if better:
        text += f"; the packaged layout {better['name']!r} knows {100 * better['events']:.1f}% (--home {better['name']})"
    return text


def taxonomy_report(home: Home, names: list[str]) -> dict:
    """For the sensors `names` of a log: how many room types / kinds the layout gave, which were inferred from
    names and details (with the value inferred), and which stayed unknown."""
    infos = [home.sensor_info(n) for n in names]
    out: dict = {"given": {}, "inferred": {}, "unknown": {}}
    for key in ("room_type", "kind"):
        out["given"][key] = sum(key not in i.inferred for i in infos)
        out["inferred"][key] = {i.name: getattr(i, key) for i in infos if key in i.inferred and getattr(i, key) != UNKNOWN}
        out["unknown"][key] = sorted(i.name for i in infos if getattr(i, key) == UNKNOWN)
    return out
