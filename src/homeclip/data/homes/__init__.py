"""Home layouts: per sensor its room, position, type and detail; per home a label map and label descriptions.

Packaged homes are JSON files in this folder (schema in docs/data-formats.md); users pass their own file path.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SensorInfo:
    """What the layout says about one sensor."""

    name: str
    room: str                 # e.g. "kitchen"; "unknown" when the layout does not know the sensor
    x: float                  # layout coordinates (units of the layout file); NaN when unknown
    y: float
    type: str                 # "motion", "door", "item", "temperature", "light", "pressure", "electric", ...
    detail: str = ""          # short description: "fridge", "stove", "bed in master bedroom"


@dataclass
class Home:
    """A home layout plus its label map (fine L1 -> coarse L2) and label descriptions."""

    name: str
    sensors: dict[str, SensorInfo]
    bounds: tuple[float, float, float, float]      # (xmin, ymin, xmax, ymax) of the layout, for x/y normalisation
    label_map: dict[str, str] = field(default_factory=dict)             # L1 -> L2; labels not listed map to themselves
    descriptions: dict[str, list[str]] = field(default_factory=dict)    # label (L1 or L2) -> several phrasings
    descriptions_source: str = ""                  # how the descriptions were written (shown in reports)
    default_label: str = "Other"                   # label for events inside no annotated activity
    has_layout: bool = True                        # False for the "no layout" fallback home

    def sensor_info(self, name: str) -> SensorInfo:
        """The layout entry for a sensor; an unknown sensor gets room "unknown" and no coordinates."""
        info = self.sensors.get(name)
        if info is not None:
            return info
        return SensorInfo(name=name, room="unknown", x=math.nan, y=math.nan, type=guess_sensor_type(name))

    def l2(self, l1: str) -> str:
        """Coarse label of a fine label."""
        return self.label_map.get(l1, l1)

    def normalise_xy(self, x: float, y: float) -> tuple[float, float]:
        """Map layout coordinates into [0, 1] with the layout's fixed bounds (never per file or per batch)."""
        xmin, ymin, xmax, ymax = self.bounds
        return (x - xmin) / max(xmax - xmin, 1e-9), (y - ymin) / max(ymax - ymin, 1e-9)


def guess_sensor_type(name: str) -> str:
    """Sensor type from the CASAS naming convention (M=motion, D=door, T=temperature, ...)."""
    prefix = name[:2].upper()
    if prefix in ("MA",):
        return "motion"
    return {"M": "motion", "D": "door", "T": "temperature", "L": "light", "I": "item", "P": "power",
            "E": "electric", "F": "flow", "B": "battery", "A": "analog"}.get(name[:1].upper(), "other")
