"""The home-independent per-event fields: room type and object kind of the event's sensor, sign of its state.

Their categories are the taxonomy's fixed lists (in that order), so their codes, and the vocabulary ids built
from them, mean the same thing in every home."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .taxonomy import OBJECT_KINDS, ROOM_TYPES, STATE_SIGNS, UNKNOWN, state_sign

if TYPE_CHECKING:
    from .windows import WindowSet

SEMANTIC_CATEGORIES = {"room_type": list(ROOM_TYPES), "kind": list(OBJECT_KINDS), "state_sign": list(STATE_SIGNS)}
SEMANTIC_FIELDS = tuple(SEMANTIC_CATEGORIES)


def semantic_codes(room_types: list[str], kinds: list[str], states: list[str]) -> dict[str, np.ndarray]:
    """Codes (into SEMANTIC_CATEGORIES) of each sensor's room type and kind and of each state's sign."""
    def codes(values: list[str], field_name: str) -> np.ndarray:
        index = {v: i for i, v in enumerate(SEMANTIC_CATEGORIES[field_name])}
        return np.array([index[v] for v in values], dtype=np.int32).reshape(len(values))

    return {"room_type": codes(room_types, "room_type"), "kind": codes(kinds, "kind"),
            "state_sign": codes([state_sign(s) for s in states], "state_sign")}


def add_missing_semantic_fields(windows: WindowSet) -> list[str]:
    """Give a WindowSet made before the semantic fields existed room_type and kind "unknown" and the state
    sign of its states (in place); returns the fields it added (empty for a current WindowSet)."""
    missing = [name for name in SEMANTIC_FIELDS if name not in windows.codes or name not in windows.categories]
    if not missing:
        return []
    states = windows.categories.get("state", [])
    signs = semantic_codes([], [], states)["state_sign"]
    unknown = {"room_type": ROOM_TYPES.index(UNKNOWN), "kind": OBJECT_KINDS.index(UNKNOWN)}
    state_codes = windows.codes.get("state")
    for name in missing:
        if name == "state_sign" and state_codes is not None:
            values = np.append(signs, -1)[np.where(state_codes < 0, len(states), state_codes)]
        else:
            values = np.full(windows.mask.shape, unknown.get(name, STATE_SIGNS.index("other")), dtype=np.int32)
        windows.codes[name] = np.where(windows.mask, values, -1).astype(np.int32)
        windows.categories[name] = list(SEMANTIC_CATEGORIES[name])
    return missing
