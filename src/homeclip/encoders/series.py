"""Windows -> multivariate time series for the Chronos backbones.

Five channels per event: sensor id, room id, x, y, log(1 + Δt). Ids are divided by fixed vocabulary sizes
and coordinates arrive already normalised by the layout bounds, so a window's series never depends on the
rest of the batch. Optional extra channels (off by default): the binary state as ±1 and the time of day as
sin/cos. The batch is right-padded; the series is LEFT-padded with NaN so that every series ends at its last
real event (the Chronos models read NaN as missing and align patches from the right).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

BASE_CHANNELS = ("sensor", "room", "x", "y", "log_dt")
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
    """How windows become series: the fixed normalisation constants and the optional channels."""

    sensor_vocab_size: int
    room_vocab_size: int
    extra_channels: tuple[str, ...] = ()
    covariates: bool = False          # Chronos-2 only: extra channels as past covariates instead of targets
    state_values: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        unknown = [c for c in self.extra_channels if c not in EXTRA_CHANNELS]
        if unknown:
            raise ValueError(f"unknown extra channel(s) {unknown}; choose from {sorted(EXTRA_CHANNELS)}")
        if len(set(self.extra_channels)) != len(self.extra_channels):
            raise ValueError(f"extra channels repeat: {list(self.extra_channels)}")
        if "state" in self.extra_channels and not self.state_values:
            raise ValueError("the 'state' channel needs state_values (one value per state id; see state_signs)")
        if self.sensor_vocab_size < 1 or self.room_vocab_size < 1:
            raise ValueError("vocabulary sizes must be positive")
        if self.covariates and not self.extra_channels:
            raise ValueError("covariates=True needs extra_channels to pass as covariates")

    @property
    def channel_names(self) -> tuple[str, ...]:
        """All channels in series order: the five base channels, then the extras."""
        return BASE_CHANNELS + tuple(name for extra in self.extra_channels for name in EXTRA_CHANNELS[extra])

    @property
    def n_targets(self) -> int:
        """How many leading channels are targets (the rest are past covariates)."""
        return len(BASE_CHANNELS) if self.covariates else len(self.channel_names)

    def to_dict(self) -> dict:
        """Plain values, for configs, cache keys and checkpoints."""
        d = asdict(self)
        d["extra_channels"] = list(self.extra_channels)
        d["state_values"] = None if self.state_values is None else list(self.state_values)
        d["channels"] = list(self.channel_names)
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
    channels = [
        _normalised_ids(categorical_features["sensor"], cfg.sensor_vocab_size, "sensor"),
        _normalised_ids(categorical_features["room"], cfg.room_vocab_size, "room"),
        coordinates[..., 0].float(),
        coordinates[..., 1].float(),
        torch.log1p(time_deltas.float().clamp(min=0.0)),
    ]
    if "state" in cfg.extra_channels:
        values = torch.tensor(cfg.state_values, dtype=torch.float32, device=mask.device)
        state = categorical_features["state"]
        if state.numel() and int(state.max()) >= len(values):
            raise ValueError(f"state id {int(state.max())} has no entry in state_values ({len(values)} given)")
        channels.append(values[state])
    if "time_of_day" in cfg.extra_channels:
        if time_of_day is None:
            raise ValueError("the 'time_of_day' channel needs the batch's time_of_day")
        angle = time_of_day.float() * (2 * math.pi / _SECONDS_PER_DAY)
        channels += [torch.sin(angle), torch.cos(angle)]
    series = torch.stack(channels, dim=1).masked_fill(~mask[:, None, :], float("nan"))
    # A stable sort of the mask puts padding first and keeps the real events in order, whatever the mask pattern.
    order = torch.argsort(mask.to(torch.int8), dim=1, stable=True)
    return torch.gather(series, 2, order[:, None, :].expand_as(series))
