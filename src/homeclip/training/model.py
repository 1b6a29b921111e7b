"""ClipModel: a sensor encoder, the trainable projection of frozen caption embeddings, the temperature (and
SigLIP's bias)."""
from __future__ import annotations

import importlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from ..data.vocab import Vocab
from ..data.windows import SEED_FIELDS, SEMANTIC_FIELDS
from ..errors import UserError
from .config import TrainConfig
from .losses import SIGLIP_BIAS_INIT, SIGLIP_TEMPERATURE_INIT, clamp_logit_scale

# Encoder kind -> "module:Class". Checkpoints store the kind and the encoder's get_config().
ENCODER_CLASSES = {
    "chronos": "homeclip.encoders.chronos:ChronosEncoder",
    "transformer": "homeclip.encoders.transformer:TransformerEncoder",
}
SENSOR_INPUTS = ("categorical_features", "coordinates", "time_deltas", "mask", "time_of_day")


def batch_inputs(batch: dict, device: str | torch.device) -> dict:
    """The sensor-encoder inputs of a WindowDataset batch (and cached `features`), moved to `device`."""
    out = {}
    for key in (*SENSOR_INPUTS, "features"):
        value = batch.get(key)
        if isinstance(value, dict):
            out[key] = {k: v.to(device, non_blocking=True) for k, v in value.items()}
        elif value is not None:
            out[key] = value.to(device, non_blocking=True)
    return out


def encoder_class(kind: str) -> type:
    """The sensor encoder class of an encoder kind (imported lazily)."""
    module, _, name = ENCODER_CLASSES[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def encoder_fields(cfg: TrainConfig) -> tuple[str, ...]:
    """The per-event fields the configured encoder reads: the seed fields ("original"), or the home-independent
    ones ("semantic": the fixed taxonomy fields, plus the time-of-day and Δt buckets for the Transformer)."""
    if cfg.event_fields == "original":
        return SEED_FIELDS
    if cfg.encoder == "transformer":
        from ..encoders.transformer import SEMANTIC_TOKEN_FIELDS

        return SEMANTIC_TOKEN_FIELDS
    return SEMANTIC_FIELDS


def build_sensor_encoder(cfg: TrainConfig, vocab: Vocab, device: str = "cpu") -> nn.Module:
    """A fresh sensor encoder as the config describes it (the vocabulary gives the fixed normalisation
    constants and, for the optional state channel, the sign of each state). Original encoders read the seed
    fields only, so a model built from today's configs has the same parameters as before the semantic fields."""
    cls = encoder_class(cfg.encoder)
    sizes = vocab.sizes_of(encoder_fields(cfg))
    semantic = cfg.event_fields == "semantic"
    if cfg.encoder == "chronos":
        from ..encoders.series import state_signs

        extra = tuple(cfg.extra_channels)
        return cls(sizes, cfg.chronos_model_name, projection_hidden_dim=cfg.projection_hidden_dim,
                   output_dim=cfg.output_dim, sequence_length=cfg.sequence_length,
                   projection_dropout=cfg.projection_dropout, backbone=cfg.backbone,
                   allow_fallback=cfg.allow_fallback, device=device, extra_channels=extra,
                   covariates=cfg.covariates, backbone_dtype=cfg.backbone_dtype,
                   state_values=state_signs(vocab.tokens["state"]) if "state" in extra and not semantic else None,
                   event_fields=cfg.event_fields, semantic_channels=cfg.semantic_channels)
    kwargs = dict(cfg.transformer)
    if semantic:
        from ..encoders.transformer import SEMANTIC_MLM_FIELDS

        # Masked-field targets default to the semantic fields; x/y (a floor plan) are never read.
        kwargs = {"mlm_fields": SEMANTIC_MLM_FIELDS, **kwargs, "coordinates": False}
    try:
        return cls(sizes, output_dim=cfg.output_dim, sequence_length=cfg.sequence_length, **kwargs)
    except ValueError as err:
        raise UserError(f"'transformer': {err}") from None


def rebuild_sensor_encoder(kind: str, config: dict, device: str = "cpu") -> nn.Module:
    """The encoder a checkpoint describes (kind + get_config()), on `device`."""
    cls = encoder_class(kind)
    config = dict(config)
    if "device" in config:
        config["device"] = device
    return cls(**config)


def encoder_info(encoder: nn.Module) -> dict:
    """The backbone actually used (frozen-feature encoders) or a description of a trainable encoder."""
    if hasattr(encoder, "backbone_info"):
        return dict(encoder.backbone_info())
    return {"requested": "none", "used": "none (trained end to end)", "fallback_reason": None}


class ClipModel(nn.Module):
    """Sensor encoder + Linear(text_dim -> output_dim) over frozen caption embeddings + learnable temperature
    (+ a learnable logit bias when `logit_bias_init` is given: the SigLIP loss)."""

    def __init__(self, sensor_encoder: nn.Module, text_dim: int, output_dim: int, temperature_init: float = 0.02,
                 learnable_temperature: bool = True, logit_bias_init: float | None = None):
        super().__init__()
        self.sensor_encoder = sensor_encoder
        self.text_projection = nn.Linear(text_dim, output_dim)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / temperature_init)),
                                        requires_grad=learnable_temperature)
        bias = None if logit_bias_init is None else nn.Parameter(torch.tensor(float(logit_bias_init)))
        self.register_parameter("logit_bias", bias)   # in the state dict (saved and loaded) only when present

    @property
    def temperature(self) -> float:
        """The current (clamped) temperature."""
        return float(torch.exp(-clamp_logit_scale(self.logit_scale.detach())))

    def encode_sensor(self, inputs: dict) -> torch.Tensor:
        """[B, D] unit window embeddings from batch inputs (`features` skips a frozen backbone)."""
        args = [inputs.get(k) for k in SENSOR_INPUTS]
        return self.sensor_encoder.forward_clip(*args, features=inputs.get("features"))

    def encode_text(self, text_features: torch.Tensor) -> torch.Tensor:
        """[M, D] unit embeddings of frozen caption embeddings [M, text_dim]."""
        return F.normalize(self.text_projection(text_features), dim=-1)

    def forward(self, inputs: dict, text_features: torch.Tensor, with_mlm: bool = False) -> dict:
        """Everything one training step needs, in one call (so DistributedDataParallel sees every parameter).

        Returns sensor [B, D], text [M, D], logit_scale, logit_bias (None without one), and mlm_loss /
        mlm_stats when `with_mlm`."""
        out = {"sensor": self.encode_sensor(inputs), "text": self.encode_text(text_features),
               "logit_scale": self.logit_scale, "logit_bias": self.logit_bias}
        if with_mlm:
            args = [inputs[k] for k in SENSOR_INPUTS]
            out["mlm_loss"], out["mlm_stats"] = self.sensor_encoder.mlm_loss(*args)
        return out


def build_clip_model(sensor_encoder: nn.Module, text_dim: int, config: dict) -> ClipModel:
    """The ClipModel of a resolved config dict (a run's or a checkpoint's): the loss decides the starting
    temperature and whether there is a bias (SigLIP: the paper's t' = log 10, b = -10; older configs: InfoNCE)."""
    if config.get("loss", "infonce") == "siglip":
        return ClipModel(sensor_encoder, text_dim, int(config["output_dim"]), SIGLIP_TEMPERATURE_INIT,
                         config["learnable_temperature"], logit_bias_init=SIGLIP_BIAS_INIT)
    return ClipModel(sensor_encoder, text_dim, int(config["output_dim"]), config["temperature_init"],
                     config["learnable_temperature"])


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts of the module's registered parameters."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())
