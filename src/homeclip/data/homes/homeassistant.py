"""A home layout built from Home Assistant's registries (`.storage/core.entity_registry`, and when present
`core.device_registry`, `core.area_registry`), so a Home Assistant home needs no hand-written layout.

Per entity of the domains homeclip reads (hass_states.READ_DOMAINS): the room is the entity's area, else its
device's area ("unknown" when neither has one); the sensor type comes from the domain and device class; the
room type and object kind from the taxonomy's inference over the area name, the entity id, the entity and
device names and the device class (`homeclip.data.taxonomy`). Home Assistant knows no floor-plan positions, so
x/y are unknown. A layout file given next to the registries (`base`) wins sensor by sensor and brings the
home's name, label map and label descriptions. `.storage/core.config` gives the home's time zone.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ...errors import UserError
from ..readers.hass_states import READ_DOMAINS, domain_of, sensor_type_of
from ..taxonomy import infer_kind, infer_room_type, infer_sensor_type
from . import INFERABLE, Home, SensorInfo

ENTITY_REGISTRY, DEVICE_REGISTRY, AREA_REGISTRY, CORE_CONFIG = ("core.entity_registry", "core.device_registry",
                                                                "core.area_registry", "core.config")
DEFAULT_NAME = "homeassistant"


def storage_file(storage: str | Path, name: str) -> Path:
    """A registry file of a `.storage` folder (the folder itself, or the HA config folder holding it)."""
    folder = Path(storage)
    if (folder / ".storage").is_dir():
        folder = folder / ".storage"
    return folder / name


def _load(path: Path, list_key: str | None) -> Any:
    """The `data` of a registry file (its `data[list_key]` list when asked); errors name the file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError("no such registry file; expected Home Assistant's .storage folder", path=str(path)) from None
    except UnicodeDecodeError:
        raise UserError("expected a UTF-8 JSON registry, found undecodable bytes", path=str(path)) from None
    except json.JSONDecodeError as err:
        raise UserError(f"invalid JSON ({err.msg}, column {err.colno})", path=str(path), line=err.lineno) from None
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict):
        raise UserError("data: expected an object (a Home Assistant .storage registry)", path=str(path))
    if list_key is None:
        return data
    items = data.get(list_key)
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise UserError(f"data.{list_key}: expected a list of objects", path=str(path))
    return items


def registry_time_zone(storage: str | Path) -> str | None:
    """The home's time zone from `core.config` (None when the file or the key is absent)."""
    path = storage_file(storage, CORE_CONFIG)
    if not path.is_file():
        return None
    zone = _load(path, None).get("time_zone")
    return zone if isinstance(zone, str) and zone.strip() else None


def home_from_registries(storage: str | Path, base: Home | None = None) -> Home:
    """The layout of the registries' entities (the module docstring's rules), overridden by `base`."""
    entities = _load(storage_file(storage, ENTITY_REGISTRY), "entities")
    devices_path, areas_path = storage_file(storage, DEVICE_REGISTRY), storage_file(storage, AREA_REGISTRY)
    devices = {d.get("id"): d for d in _load(devices_path, "devices")} if devices_path.is_file() else {}
    areas = {a.get("id"): a for a in _load(areas_path, "areas")} if areas_path.is_file() else {}
    sensors: dict[str, SensorInfo] = {}
    for entity in entities:
        entity_id = entity.get("entity_id")
        if not isinstance(entity_id, str) or domain_of(entity_id) not in READ_DOMAINS or entity.get("disabled_by"):
            continue
        sensors[entity_id] = entity_sensor(entity, devices.get(entity.get("device_id")) or {}, areas)
    if base is not None:
        sensors.update(base.sensors)
        return Home(name=base.name, sensors=sensors, bounds=base.bounds, label_map=dict(base.label_map),
                    descriptions=dict(base.descriptions), descriptions_source=base.descriptions_source,
                    default_label=base.default_label)
    return Home(name=DEFAULT_NAME, sensors=sensors, bounds=(0.0, 0.0, 1.0, 1.0), label_map={"": "Other"})


def entity_sensor(entity: dict, device: dict, areas: dict[str, dict]) -> SensorInfo:
    """One entity's layout entry from its registry record, its device's and the areas."""
    entity_id = entity["entity_id"]
    area_id = entity.get("area_id") or device.get("area_id")
    area = areas.get(area_id, {}) if area_id else {}
    room = _text(area.get("name")) or _text(area_id) or "unknown"
    device_class = _text(entity.get("device_class")) or _text(entity.get("original_device_class"))
    names = [_text(entity.get("name")) or _text(entity.get("original_name")),
             _text(device.get("name_by_user")) or _text(device.get("name"))]
    detail = " ".join(dict.fromkeys([n for n in names if n] + [device_class.replace("_", " ")] * bool(device_class)))
    object_id = entity_id.partition(".")[2]
    given = sensor_type_of(entity_id, device_class or None)
    typ = given or infer_sensor_type(object_id, detail)
    kind = infer_kind(typ, object_id, detail)
    room_type = infer_room_type(room, object_id, detail, kind)
    return SensorInfo(name=entity_id, room=room, x=math.nan, y=math.nan, type=typ, detail=detail,
                      room_type=room_type, kind=kind, inferred=INFERABLE[1:] if given else INFERABLE)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
