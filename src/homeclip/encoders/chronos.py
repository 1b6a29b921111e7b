"""ChronosEncoder: windows -> series -> frozen backbone -> pooled features -> trainable MLP head -> unit vectors.

    encoder = ChronosEncoder(vocab_sizes=vocab.sizes_of(SEED_FIELDS), chronos_model_name="amazon/chronos-t5-small")
    emb = encoder.forward_clip(categorical_features=..., coordinates=..., time_deltas=..., mask=...)  # [B, 512]

Only the head is a registered submodule: the backbone is a plain attribute, so it is never in `parameters()`,
never in the optimizer and never in `state_dict()` (which carries the backbone identity instead, checked on
load). Features of a frozen backbone can be precomputed once (`cache.cached_features`) and passed as
`features=`.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..errors import UserError
from .backbones import POOLING_VERSION, load_backbone
from .series import SEMANTIC_SIZES, SeriesConfig, build_series

BACKBONE_KINDS = ("chronos", "statistics")


class ChronosEncoder(nn.Module):
    """Frozen Chronos (or statistics) features + a trainable MLP head; outputs are L2-normalised."""

    uses_frozen_features = True

    def __init__(self, vocab_sizes: dict[str, int], chronos_model_name: str = "amazon/chronos-t5-small",
                 projection_hidden_dim: int = 256, output_dim: int = 512, sequence_length: int = 50,
                 projection_dropout: float = 0.1, *, backbone: str = "chronos", allow_fallback: bool = True,
                 device: str = "cpu", extra_channels: Sequence[str] = (), covariates: bool = False,
                 state_values: Sequence[float] | None = None, event_fields: str = "original",
                 semantic_channels: str = "activity", backbone_dtype: str = "auto"):
        super().__init__()
        if backbone not in BACKBONE_KINDS:
            raise UserError(f"backbone must be one of {BACKBONE_KINDS}, got {backbone!r}")
        if event_fields == "semantic":
            # The taxonomy ids are the same in every home: their sizes are fixed, not the dataset's.
            wrong = {k: vocab_sizes.get(k) for k, n in SEMANTIC_SIZES.items() if vocab_sizes.get(k) != n}
            if wrong:
                raise UserError(f"vocab_sizes {wrong} are not the fixed taxonomy sizes {SEMANTIC_SIZES}")
            ids = {}
        else:
            missing = [k for k in ("sensor", "room") if k not in vocab_sizes]
            if missing:
                raise UserError(f"vocab_sizes lacks {missing} (the fixed normalisation constants of the id channels)")
            ids = {"sensor_vocab_size": int(vocab_sizes["sensor"]), "room_vocab_size": int(vocab_sizes["room"])}
        try:
            self.series_config = SeriesConfig(
                **ids, extra_channels=tuple(extra_channels), covariates=bool(covariates),
                state_values=None if state_values is None else tuple(float(v) for v in state_values),
                event_fields=event_fields, semantic_channels=semantic_channels)
        except ValueError as err:
            raise UserError(f"Chronos encoder channels: {err}") from None
        self.vocab_sizes = {k: int(v) for k, v in vocab_sizes.items()}
        self.chronos_model_name = chronos_model_name
        self.sequence_length = sequence_length   # recorded for the config; inputs may have any length
        self.projection_hidden_dim = projection_hidden_dim
        self.output_dim = output_dim
        self.projection_dropout = projection_dropout
        self.allow_fallback = allow_fallback
        self.device_name = device
        self.backbone_dtype = backbone_dtype
        channels = self.series_config.channel_names
        self.backbone = load_backbone("statistics" if backbone == "statistics" else chronos_model_name,
                                      n_channels=len(channels), n_targets=self.series_config.n_targets,
                                      device=device, allow_fallback=allow_fallback, dtype=backbone_dtype)
        self.feature_dim = self.backbone.feature_dim
        # LayerNorm first: pooled tokens, loc and log-scale live on very different scales.
        self.head = nn.Sequential(
            nn.LayerNorm(self.feature_dim),
            nn.Linear(self.feature_dim, projection_hidden_dim),
            nn.GELU(),
            nn.Dropout(projection_dropout),
            nn.Linear(projection_hidden_dim, output_dim),
        )

    def extract_features(self, categorical_features: dict[str, torch.Tensor], coordinates: torch.Tensor,
                         time_deltas: torch.Tensor, mask: torch.Tensor,
                         time_of_day: torch.Tensor | None = None) -> torch.Tensor:
        """Frozen backbone features [B, feature_dim] (float32, CPU, no gradient)."""
        series = build_series(self.series_config, categorical_features, coordinates, time_deltas, mask, time_of_day)
        with torch.no_grad():
            return self.backbone.embed(series).clone()

    def forward_clip(self, categorical_features: dict[str, torch.Tensor], coordinates: torch.Tensor,
                     time_deltas: torch.Tensor, mask: torch.Tensor, time_of_day: torch.Tensor | None = None,
                     features: torch.Tensor | None = None) -> torch.Tensor:
        """Window embeddings [B, output_dim], unit norm; `features` (precomputed) skips the backbone."""
        if features is None:
            features = self.extract_features(categorical_features, coordinates, time_deltas, mask, time_of_day)
        elif features.shape[-1] != self.feature_dim:
            raise ValueError(f"features have {features.shape[-1]} columns, this encoder's backbone gives "
                             f"{self.feature_dim}")
        weight = self.head[1].weight
        out = self.head(features.to(device=weight.device, dtype=weight.dtype))
        return nn.functional.normalize(out, dim=-1)

    forward = forward_clip

    def backbone_info(self) -> dict:
        """What was requested and what actually runs (family, model id, config hash, fallback reason, ...)."""
        return dict(self.backbone.info())

    def feature_identity(self) -> dict:
        """Everything that determines the frozen features: the key of feature caches."""
        info = self.backbone_info()
        return {"family": info["family"], "model_id": info["model_id"], "config_hash": info["config_hash"],
                "dtype": info["dtype"], "pooling": POOLING_VERSION, "series": self.series_config.to_dict()}

    def get_config(self) -> dict:
        """Plain constructor arguments; `ChronosEncoder(**cfg)` rebuilds this encoder. After a fallback the
        config names the statistics backbone, because that is what the head was trained on."""
        fell_back = self.backbone.family == "statistics"
        series = self.series_config
        # Semantic keys only when semantic: an original encoder's config (and checkpoint) is the seed's.
        semantic = {} if series.original else {"event_fields": series.event_fields,
                                               "semantic_channels": series.semantic_channels}
        return {"vocab_sizes": dict(self.vocab_sizes), "chronos_model_name": self.chronos_model_name,
                "projection_hidden_dim": self.projection_hidden_dim, "output_dim": self.output_dim,
                "sequence_length": self.sequence_length, "projection_dropout": self.projection_dropout,
                "backbone": "statistics" if fell_back else "chronos", "allow_fallback": self.allow_fallback,
                "device": self.device_name, "extra_channels": list(self.series_config.extra_channels),
                "covariates": self.series_config.covariates, "backbone_dtype": self.backbone_dtype,
                "state_values": None if self.series_config.state_values is None
                else list(self.series_config.state_values), **semantic}

    # The state dict carries the backbone identity next to the head weights, so a head is never silently
    # loaded onto features of another backbone.
    def get_extra_state(self) -> dict:
        """The backbone identity saved next to the head weights."""
        info = self.backbone_info()
        return {"family": info["family"], "config_hash": info["config_hash"], "feature_dim": self.feature_dim,
                "channels": list(self.series_config.channel_names), "model_id": info["model_id"]}

    def set_extra_state(self, state: dict) -> None:
        """Refuse a head trained on another backbone's features (UserError naming both)."""
        mine = self.get_extra_state()
        for key in ("family", "config_hash", "feature_dim", "channels"):
            if state.get(key) != mine[key]:
                raise UserError(f"this head was trained on {key}={state.get(key)!r} ({state.get('model_id')}), "
                                f"but the encoder's backbone has {key}={mine[key]!r} ({mine['model_id']})")
