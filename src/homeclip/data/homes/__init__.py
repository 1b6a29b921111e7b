"""Home layouts: per sensor its room, position, type and detail; per home a label map and label descriptions.

Packaged homes are JSON files in this folder (schema in docs/home-format.md); users pass their own file path.
`load_home(None)` gives a "no layout" home: every sensor is room "unknown" with no coordinates.
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ...errors import UserError
from ...paths import PLAIN_NAME, is_plain_name
from ..residents import lookup
from ..taxonomy import OBJECT_KINDS, ROOM_TYPES, UNKNOWN, infer_kind, infer_room_type, infer_sensor_type

log = logging.getLogger(__name__)

HOMES_DIR = Path(__file__).resolve().parent
SENSOR_TYPES = ("motion", "door", "temperature", "light", "item", "pressure", "electric", "flow", "power",
                "battery", "analog", "other")
NO_LAYOUT_NAME = "no_layout"

_TOP_KEYS = {  # key -> (required, expected JSON type, description for error messages)
    "name": (True, str, "a non-empty string"),
    "sensors": (True, dict, "an object mapping sensor name -> {room, x, y, type, detail, room_type, kind}"),
    "title": (False, str, "a string"),
    "notes": (False, str, "a string"),
    "bounds": (False, list, "[xmin, ymin, xmax, ymax]"),
    "default_label": (False, str, "a non-empty string"),
    "label_map": (False, dict, "an object mapping fine (L1) label -> coarse (L2) label"),
    "descriptions": (False, dict, "an object mapping label -> list of 1 or more phrasings"),
    "descriptions_source": (False, str, "a string saying how the descriptions were written"),
}
_SENSOR_KEYS = ("room", "x", "y", "type", "detail", "room_type", "kind")
INFERABLE = ("type", "room_type", "kind")     # what SensorInfo.inferred may name


@dataclass(frozen=True)
class SensorInfo:
    """What the layout says about one sensor."""

    name: str
    room: str                 # e.g. "kitchen"; "unknown" when the layout does not know the sensor
    x: float                  # layout coordinates (units of the layout file); NaN when unknown
    y: float
    type: str                 # "motion", "door", "item", "temperature", "light", "pressure", "electric", ...
    detail: str = ""          # short description: "fridge", "stove", "bed in master bedroom"
    room_type: str = UNKNOWN  # one of taxonomy.ROOM_TYPES: the same in every home
    kind: str = UNKNOWN       # one of taxonomy.OBJECT_KINDS: what the sensor watches
    inferred: tuple[str, ...] = ()   # which of INFERABLE were inferred from names rather than given


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
        """The layout entry for a sensor; an unknown sensor gets room "unknown", no coordinates, and a type,
        room type and kind inferred from its name ("unknown"/"other" when the name does not say)."""
        info = self.sensors.get(name)
        if info is not None:
            return info
        typ = infer_sensor_type(name)
        kind = infer_kind(typ, name)
        return SensorInfo(name=name, room="unknown", x=math.nan, y=math.nan, type=typ,
                          room_type=infer_room_type(name=name, kind=kind), kind=kind, inferred=INFERABLE)

    def l2(self, l1: str, residents: Iterable[str] = ()) -> str:
        """Coarse label of a fine label: the label map's; for a label naming one of `residents` that the map
        does not list, the map's class of its activity (coarse classes are shared by the residents,
        data/residents.py); else the label itself."""
        found = lookup(self.label_map, l1, residents)
        return l1 if found is None else found

    def normalise_xy(self, x: float, y: float) -> tuple[float, float]:
        """Map layout coordinates into [0, 1] with the layout's fixed bounds (never per file or per batch)."""
        xmin, ymin, xmax, ymax = self.bounds
        return (x - xmin) / max(xmax - xmin, 1e-9), (y - ymin) / max(ymax - ymin, 1e-9)

    @property
    def l1_labels(self) -> list[str]:
        """Fine labels the label map knows (the unlabelled label "" excluded), sorted."""
        return sorted(k for k in self.label_map if k)

    @property
    def l2_labels(self) -> list[str]:
        """Coarse classes of the label map, sorted."""
        return sorted(set(self.label_map.values()))


def list_homes() -> list[str]:
    """Names of the packaged homes (usable as `load_home(name)`)."""
    return sorted(p.stem for p in HOMES_DIR.glob("*.json"))


def load_home(name_or_path: str | Path | None) -> Home:
    """A packaged home by name, a user layout JSON by path, or (None) the no-layout home with a warning."""
    if name_or_path is None:
        log.warning("no home layout given: rooms are unknown and sensors have no coordinates")
        return no_layout_home()
    text = str(name_or_path)
    packaged = HOMES_DIR / f"{text.lower()}.json"
    if text.lower() in list_homes():
        return parse_home(_read_json(packaged), packaged)
    path = Path(text).expanduser()
    if path.is_file():
        return parse_home(_read_json(path), path)
    if path.suffix.lower() == ".json" or "/" in text or "\\" in text:
        raise UserError(f"home layout file not found: {text}", path=text)
    raise UserError(f"unknown home {text!r}: expected a packaged home ({', '.join(list_homes())}) or the path "
                    "of a home layout JSON file (see docs/home-format.md)")


def no_layout_home(name: str = NO_LAYOUT_NAME) -> Home:
    """A home that knows no sensors: every sensor is room "unknown" with NaN coordinates."""
    return Home(name=name, sensors={}, bounds=(0.0, 0.0, 1.0, 1.0), label_map={"": "Other"},
                has_layout=False)


def _read_json(path: Path) -> Any:
    """Parse a JSON file; bad syntax is a UserError with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError("expected a UTF-8 JSON home layout, found undecodable bytes", path=str(path)) from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise UserError(f"invalid JSON ({err.msg}, column {err.colno})", path=str(path), line=err.lineno) from None
    except ValueError as err:
        raise UserError(str(err), path=str(path)) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON: write null for an unknown coordinate")


def parse_home(doc: Any, path: str | Path = "<home>") -> Home:
    """Validate a decoded home JSON document and build the Home; errors name the file and key path."""
    where = str(path)
    if not isinstance(doc, dict):
        raise _bad(where, "(top level)", "a JSON object", doc)
    for key in sorted(doc):
        if key not in _TOP_KEYS:
            raise UserError(f"{key}: unknown key (expected one of {', '.join(sorted(_TOP_KEYS))})", path=where)
    for key, (required, typ, expected) in _TOP_KEYS.items():
        if key not in doc:
            if required:
                raise UserError(f"{key}: missing required key (expected {expected})", path=where)
            continue
        if not isinstance(doc[key], typ):
            raise _bad(where, key, expected, doc[key])
    name = doc["name"].strip()
    if not is_plain_name(name):       # it becomes part of output paths (<home>_train.json, seq<N>/ folders)
        raise _bad(where, "name", PLAIN_NAME, doc["name"])
    sensors = {sid: _parse_sensor(sid, entry, where) for sid, entry in doc["sensors"].items()}
    if not sensors:
        raise _bad(where, "sensors", "at least one sensor", doc["sensors"])
    bounds = _parse_bounds(doc.get("bounds"), sensors, where)
    label_map = _parse_str_map(doc.get("label_map", {}), "label_map", where)
    descriptions = _parse_descriptions(doc.get("descriptions", {}), where)
    source = doc.get("descriptions_source", "")
    if descriptions and not source.strip():
        raise UserError("descriptions_source: missing (say in one sentence how the descriptions were written)",
                        path=where)
    default_label = doc.get("default_label", "Other")
    if not default_label.strip():
        raise _bad(where, "default_label", "a non-empty string", default_label)
    return Home(name=name, sensors=sensors, bounds=bounds, label_map=label_map, descriptions=descriptions,
                descriptions_source=source, default_label=default_label)


def _parse_sensor(sid: str, entry: Any, where: str) -> SensorInfo:
    key = f"sensors.{sid}"
    if not sid.strip() or any(c.isspace() for c in sid):
        raise _bad(where, key, "a sensor name without spaces", sid)
    if not isinstance(entry, dict):
        raise _bad(where, key, f"an object with keys {', '.join(_SENSOR_KEYS)}", entry)
    for k in sorted(entry):
        if k not in _SENSOR_KEYS:
            raise UserError(f"{key}.{k}: unknown key (expected one of {', '.join(_SENSOR_KEYS)})",
                            path=where)
    for k in ("room", "x", "y", "type"):
        if k not in entry:
            raise UserError(f"{key}.{k}: missing required key", path=where)
    room, typ, detail = entry["room"], entry["type"], entry.get("detail", "")
    if not isinstance(room, str) or not room.strip():
        raise _bad(where, f"{key}.room", "a non-empty string", room)
    if typ not in SENSOR_TYPES:
        raise _bad(where, f"{key}.type", f"one of {', '.join(SENSOR_TYPES)}", typ)
    if not isinstance(detail, str):
        raise _bad(where, f"{key}.detail", "a string", detail)
    x, y = (_coordinate(entry[k], f"{key}.{k}", where) for k in ("x", "y"))
    if math.isnan(x) != math.isnan(y):
        raise _bad(where, f"{key}", "x and y both numbers or both null", {"x": entry["x"], "y": entry["y"]})
    room, detail = room.strip(), detail.strip()
    kind = _taxonomy_value(entry, "kind", OBJECT_KINDS, key, where)
    room_type = _taxonomy_value(entry, "room_type", ROOM_TYPES, key, where)
    inferred = tuple(k for k, v in (("room_type", room_type), ("kind", kind)) if v is None)
    kind = kind or infer_kind(typ, sid, detail)
    room_type = room_type or infer_room_type(room, sid, detail, kind)
    return SensorInfo(name=sid, room=room, x=x, y=y, type=typ, detail=detail, room_type=room_type, kind=kind,
                      inferred=inferred)


def _taxonomy_value(entry: dict, k: str, allowed: tuple[str, ...], key: str, where: str) -> str | None:
    """A sensor's room_type / kind as given (validated against the taxonomy), or None when not given."""
    if k not in entry:
        return None
    if entry[k] not in allowed:
        raise _bad(where, f"{key}.{k}", f"one of {', '.join(allowed)} (docs/home-format.md)", entry[k])
    return entry[k]


def _coordinate(value: Any, key: str, where: str) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _bad(where, key, "a finite number or null", value)
    return float(value)


def _parse_bounds(raw: Any, sensors: dict[str, SensorInfo], where: str) -> tuple[float, float, float, float]:
    known = [s for s in sensors.values() if not math.isnan(s.x)]
    if raw is None:
        if not known:
            return (0.0, 0.0, 1.0, 1.0)
        xs, ys = [s.x for s in known], [s.y for s in known]
        return (min(xs), min(ys), max(xs), max(ys))
    if len(raw) != 4:
        raise _bad(where, "bounds", "[xmin, ymin, xmax, ymax] (4 numbers)", raw)
    xmin, ymin, xmax, ymax = (_coordinate(v, f"bounds[{i}]", where) for i, v in enumerate(raw))
    if any(math.isnan(v) for v in (xmin, ymin, xmax, ymax)) or not (xmin < xmax and ymin < ymax):
        raise _bad(where, "bounds", "numbers with xmin < xmax and ymin < ymax", raw)
    for s in known:
        if not (xmin <= s.x <= xmax and ymin <= s.y <= ymax):
            raise _bad(where, f"sensors.{s.name}", f"coordinates inside bounds {raw}", [s.x, s.y])
    return (xmin, ymin, xmax, ymax)


def _parse_str_map(raw: dict, key: str, where: str) -> dict[str, str]:
    for k, v in raw.items():
        if not isinstance(v, str) or not v.strip():
            raise _bad(where, f"{key}.{k!r}", "a non-empty string", v)
    return {k: v.strip() for k, v in raw.items()}


def _parse_descriptions(raw: dict, where: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for label, texts in raw.items():
        key = f"descriptions.{label!r}"
        if not isinstance(texts, list) or not texts:
            raise _bad(where, key, "a non-empty list of strings", texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str) or not t.strip():
                raise _bad(where, f"{key}[{i}]", "a non-empty string", t)
        out[label] = [t.strip() for t in texts]
    return out


def _bad(where: str, key: str, expected: str, found: Any) -> UserError:
    """The one error shape of the validator: file, key path, what was expected, what was found."""
    return UserError(f"{key}: expected {expected}, found {_show(found)}", path=where)


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    kind = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null", int: "number",
            float: "number"}.get(type(value), type(value).__name__)
    return f"{text} ({kind})"
