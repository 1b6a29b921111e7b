"""Windows -> multivariate time series for the Chronos backbones.

Base channels per event, by `event_fields`:
  original  sensor id, room id, x, y, log(1 + Δt): ids divided by fixed vocabulary sizes, coordinates already
            normalised by the layout bounds (the seed design; tied to one home's sensors and floor plan)
  semantic  home-independent channels from the fixed taxonomy (`data.taxonomy`), in one of two layouts:
            activity  one 0/1 variate per room type and per object kind (1 where the event is of that type)
                      plus log(1 + Δt)
            compact   room type id and kind id divided by the fixed taxonomy sizes, plus log(1 + Δt)
So a window's series never depends on the rest of the batch, and a semantic series never on the home's sensor
ids, room names or floor plan. Optional extra channels (off by default): the binary state as ±1 (semantic: the
fixed state sign) and the time of day as sin/cos. The batch is right-padded; the series is LEFT-padded with
NaN so that every series ends at its last real event (the Chronos models read NaN as missing and align patches
from the right).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from ..data.taxonomy import OBJECT_KINDS, ROOM_TYPES, STATE_SIGNS

BASE_CHANNELS = ("sensor", "room", "x", "y", "log_dt")
EVENT_FIELDS = ("original", "semantic")
SEMANTIC_CHANNELS = ("activity", "compact")
# Semantic ids are vocabulary ids of fixed token lists: PAD, UNK, then the taxonomy in order.
_SPECIALS = 2
SEMANTIC_SIZES = {"room_type": len(ROOM_TYPES) + _SPECIALS, "kind": len(OBJECT_KINDS) + _SPECIALS,
                  "state_sign": len(STATE_SIGNS) + _SPECIALS}
SEMANTIC_BASE = {
    "activity": tuple(f"room_type={r}" for r in ROOM_TYPES) + tuple(f"kind={k}" for k in OBJECT_KINDS) + ("log_dt",),
    "compact": ("room_type", "kind", "log_dt"),
}
_SIGN_VALUES = {"on": 1.0, "off": -1.0, "other": 0.0}
SEMANTIC_STATE_VALUES = (0.0, 0.0) + tuple(_SIGN_VALUES[s] for s in STATE_SIGNS)   # per state_sign id
EXTRA_CHANNELS = {"state": ("state",), "time_of_day": ("tod_sin", "tod_cos")}
_POSITIVE_STATES = {"ON", "OPEN", "PRESENT"}
_NEGATIVE_STATES = {"OFF", "CLOSE", "CLOSED", "ABSENT"}
_SECONDS_PER_DAY = 86_400.0


def state_signs(tokens: list[str]) -> list[float]:
    """Per state-vocabulary id: +1 for ON/OPEN/PRESENT, -1 for OFF/CLOSE/ABSENT, 0 for anything else."""
    return [1.0 if t.upper() in _POSITIVE_STATES else -1.0 if t.upper() in _NEGATIVE_STATES else 0.0
            for t in tokens]


@dataclass(frozen=True)
class SeriesConfig:
    """How windows become series: the base channels (`event_fields`), their fixed normalisation constants and
    the optional channels."""

    sensor_vocab_size: int = 0        # original only
    room_vocab_size: int = 0          # original only
    extra_channels: tuple[str, ...] = ()
    covariates: bool = False          # Chronos-2 only: extra channels as past covariates instead of targets
    state_values: tuple[float, ...] | None = None   # original only: the ±1 of each state vocabulary id
    event_fields: str = "original"    # "original" (sensor/room ids, x/y) | "semantic" (taxonomy channels)
    semantic_channels: str = "activity"   # semantic only: "activity" | "compact"

    def __post_init__(self) -> None:
        unknown = [c for c in self.extra_channels if c not in EXTRA_CHANNELS]
        if unknown:
            raise ValueError(f"unknown extra channel(s) {unknown}; choose from {sorted(EXTRA_CHANNELS)}")
        if len(set(self.extra_channels)) != len(self.extra_channels):
            raise ValueError(f"extra channels repeat: {list(self.extra_channels)}")
        if self.event_fields not in EVENT_FIELDS:
            raise ValueError(f"event_fields must be one of {EVENT_FIELDS}, got {self.event_fields!r}")
        if self.semantic_channels not in SEMANTIC_CHANNELS:
            raise ValueError(f"semantic_channels must be one of {SEMANTIC_CHANNELS}, got {self.semantic_channels!r}")
        if self.original:
            if "state" in self.extra_channels and not self.state_values:
                raise ValueError("the 'state' channel needs state_values (one value per state id; see state_signs)")
            if self.sensor_vocab_size < 1 or self.room_vocab_size < 1:
                raise ValueError("vocabulary sizes must be positive")
        if self.covariates and not self.extra_channels:
            raise ValueError("covariates=True needs extra_channels to pass as covariates")

    @property
    def original(self) -> bool:
        """Whether the base channels are the seed's home-specific ones."""
        return self.event_fields == "original"

    @property
    def base_channels(self) -> tuple[str, ...]:
        """The base channels, before the extras."""
        return BASE_CHANNELS if self.original else SEMANTIC_BASE[self.semantic_channels]

    @property
    def channel_names(self) -> tuple[str, ...]:
        """All channels in series order: the base channels, then the extras."""
        return self.base_channels + tuple(name for extra in self.extra_channels for name in EXTRA_CHANNELS[extra])

    @property
    def n_targets(self) -> int:
        """How many leading channels are targets (the rest are past covariates)."""
        return len(self.base_channels) if self.covariates else len(self.channel_names)

    def to_dict(self) -> dict:
        """Plain values, for configs, cache keys and checkpoints (an original config's dict is the seed's)."""
        d = asdict(self)
        d["extra_channels"] = list(self.extra_channels)
        d["state_values"] = None if self.state_values is None else list(self.state_values)
        d["channels"] = list(self.channel_names)
        if self.original:   # unchanged keys: the seed's feature-cache entries stay valid
            del d["event_fields"], d["semantic_channels"]
        return d


def _normalised_ids(ids: torch.Tensor, size: int, name: str) -> torch.Tensor:
    if ids.numel() and int(ids.max()) >= size:
        raise ValueError(f"{name} id {int(ids.max())} is outside the vocabulary (size {size}) this encoder was built with")
    return ids.float() / max(size - 1, 1)


def build_series(cfg: SeriesConfig, categorical_features: dict[str, torch.Tensor], coordinates: torch.Tensor,
                 time_deltas: torch.Tensor, mask: torch.Tensor,
                 time_of_day: torch.Tensor | None = None) -> torch.Tensor:
    """The batch as float32 series [B, C, T]: real events right-aligned in order, NaN before them."""
    mask = mask.bool()
    log_dt = torch.log1p(time_deltas.float().clamp(min=0.0))
    if cfg.original:
        channels = [
            _normalised_ids(categorical_features["sensor"], cfg.sensor_vocab_size, "sensor"),
            _normalised_ids(categorical_features["room"], cfg.room_vocab_size, "room"),
            coordinates[..., 0].float(),
            coordinates[..., 1].float(),
            log_dt,
        ]
    else:
        channels = _semantic_channels(cfg.semantic_channels, categorical_features) + [log_dt]
    if "state" in cfg.extra_channels:
        values = cfg.state_values if cfg.original else SEMANTIC_STATE_VALUES
        channels.append(_lookup(values, categorical_features["state" if cfg.original else "state_sign"], mask.device))
    if "time_of_day" in cfg.extra_channels:
        if time_of_day is None:
            raise ValueError("the 'time_of_day' channel needs the batch's time_of_day")
        angle = time_of_day.float() * (2 * math.pi / _SECONDS_PER_DAY)
        channels += [torch.sin(angle), torch.cos(angle)]
    series = torch.stack(channels, dim=1).masked_fill(~mask[:, None, :], float("nan"))
    # A stable sort of the mask puts padding first and keeps the real events in order, whatever the mask pattern.
    order = torch.argsort(mask.to(torch.int8), dim=1, stable=True)
    return torch.gather(series, 2, order[:, None, :].expand_as(series))


def _lookup(values, ids: torch.Tensor, device) -> torch.Tensor:
    """values[ids] as float32 (the state channel); an id without a value is an error."""
    table = torch.tensor(values, dtype=torch.float32, device=device)
    if ids.numel() and int(ids.max()) >= len(table):
        raise ValueError(f"state id {int(ids.max())} has no entry in state_values ({len(table)} given)")
    return table[ids]


def _semantic_channels(layout: str, categorical_features: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """The taxonomy channels: per room type and kind a 0/1 indicator (activity), or the two ids (compact)."""
    out = []
    for name in ("room_type", "kind"):
        ids = categorical_features[name]
        size = SEMANTIC_SIZES[name]
        if layout == "compact":
            out.append(_normalised_ids(ids, size, name))
            continue
        if ids.numel() and int(ids.max()) >= size:
            raise ValueError(f"{name} id {int(ids.max())} is outside the fixed taxonomy (size {size})")
        onehot = torch.nn.functional.one_hot(ids.long(), size).float()      # [B, T, size]
        out.extend(onehot[..., _SPECIALS:].unbind(-1))                      # PAD / UNK: no type, all zero
    return out
