"""TrainConfig: every key of the original training JSON plus ours, validated, with command-line overrides.

A config file is a JSON object whose keys are the fields below. Bad input gives a one-line `UserError` naming
the key (and the closest valid key for a typo); nothing is silently ignored.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..io import read_json

ENCODERS = ("chronos", "transformer")
DATA_KEYS = ("train_data_path", "val_data_path", "vocab_path")   # a path, or a list of paths
BACKBONES = ("chronos", "statistics")
CAPTION_TYPES = ("long", "short", "all")
HARD_NEGATIVE_STRATEGIES = ("hardest", "random")
AMP_DTYPES = ("bfloat16", "float16")
LOSSES = ("infonce", "focal_infonce", "siglip")      # training/losses.py implements each
OBJECTIVES = ("clip", "supervised")                  # supervised: training/supervised.py
_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


@dataclass
class TrainConfig:
    """Everything a training run needs. The first block is the original `chronos_clip.json`, in its order."""

    # --- the original keys ---
    chronos_model_name: str = "amazon/chronos-t5-small"
    projection_hidden_dim: int = 256
    projection_dropout: float = 0.1
    output_dim: int = 512
    sequence_length: int = 50
    batch_size: int = 64                 # per process; under torchrun the loss sees batch_size * world_size
    learning_rate: float = 1e-3
    betas: list[float] = field(default_factory=lambda: [0.9, 0.98])
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_epochs: int = 50
    grad_clip_norm: float = 1.0          # 0 disables clipping
    temperature_init: float = 0.02
    learnable_temperature: bool = True
    use_hard_negatives: bool = False
    log_interval: int = 50
    val_interval: int = 500
    save_interval: int = 2000
    use_amp: bool = False                # CUDA only (autocast); a no-op with a note on CPU
    num_workers: int = 0
    use_wandb: bool = False
    wandb_project: str = "discover-v2"
    wandb_name: str = ""
    wandb_tags: list[str] = field(default_factory=list)
    # A string, or a list of several prepared datasets (several homes); see docs/training.md "Several datasets".
    train_data_path: str | list[str] = "data/processed/casas/milan/seq50/milan_train.json"
    val_data_path: str | list[str] = "data/processed/casas/milan/seq50/milan_test.json"
    vocab_path: str | list[str] = "data/processed/casas/milan/seq50/milan_vocab.json"
    output_dir: str = "trained_models/milan/chronos_clip"
    text_model_name: str = "thenlper/gte-base"
    max_captions: int = 4
    caption_types: str = "long"
    # --- ours ---
    encoder: str = "chronos"             # "chronos" (frozen backbone + MLP head) | "transformer" (standard)
    event_fields: str = "original"       # "original" (sensor ids, rooms, x/y) | "semantic" (any home: taxonomy)
    semantic_channels: str = "activity"  # chronos encoder, semantic: "activity" variates | "compact" ids
    backbone: str = "chronos"            # chronos encoder only: "chronos" | "statistics"
    allow_fallback: bool = True          # missing Chronos / text model -> statistics / offline MiniLM, recorded
    extra_channels: list[str] = field(default_factory=list)   # extra Chronos input channels (encoders helper)
    covariates: bool = False             # Chronos-2 past covariates
    feature_cache: bool = True           # frozen backbone: compute features once, train the head on the cache
    feature_cache_dir: str = ""          # "": $HOMECLIP_CACHE_DIR/features, else .cache/homeclip/features
    text_cache_dir: str = ""             # "": $HOMECLIP_CACHE_DIR/text, else .cache/homeclip/text
    text_backend: str = "auto"           # how the frozen text model computes: auto | fp32 | bf16 | openvino-*
    backbone_dtype: str = "auto"         # frozen Chronos weights: auto (bf16 where native) | float32 | bfloat16
    seed: int = 0
    device: str = "auto"                 # auto | cpu | cuda | cuda:N
    amp_dtype: str = "bfloat16"          # float16 adds a gradient scaler
    eval_batch_size: int = 256           # frozen-feature extraction and inference
    hard_negative_memory_size: int = 2048   # captions remembered from past batches
    hard_negative_ratio: float = 0.5     # extra bank negatives per window, as a fraction of the batch size
    hard_negative_strategy: str = "hardest"   # "hardest" (most similar) | "random"
    mlm_weight: float = 0.0              # transformer encoder: total = clip + mlm_weight * masked-field loss
    transformer: dict = field(default_factory=dict)   # TransformerEncoder keyword arguments (d_model, ...)
    loss: str = "infonce"                # "infonce" | "focal_infonce" | "siglip" (its own init: t' = log 10, b = -10)
    focal_gamma: float = 2.0             # focal_infonce: each row's -log p weighted by (1 - p)^gamma
    objective: str = "clip"              # "clip" | "supervised" (a classification head on init_checkpoint's encoder)
    init_checkpoint: str = ""            # supervised: the trained checkpoint whose encoder gets the head
    freeze_encoder: bool = True          # supervised: train the head only; false: the encoder too (never a
                                         # Chronos backbone, which stays frozen)

    def to_dict(self) -> dict:
        """Plain JSON-able values (the form saved in checkpoints and hyperparameters.json)."""
        return dataclasses.asdict(self)

    def data_paths(self, key: str) -> list[str]:
        """The paths of a data key (one of DATA_KEYS) as a list: [] for "" (no validation data)."""
        value = getattr(self, key)
        return [value] if isinstance(value, str) and value else list(value) if isinstance(value, list) else []

    @property
    def total_hard_negatives_per_window(self) -> int:
        """How many bank negatives each window gets per step (0 when hard negatives are off)."""
        if not self.use_hard_negatives:
            return 0
        return max(1, round(self.hard_negative_ratio * self.batch_size))


FIELDS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(TrainConfig)}
TRANSFORMER_KEYS = ("d_model", "n_layers", "n_heads", "d_ff", "dropout", "positional", "fourier_features",
                    "mask_prob", "mean_span", "mlm_fields", "mlm_weights")


def _expected_type(name: str) -> str:
    """The JSON type name a key expects, from its annotation."""
    ann = str(FIELDS[name].type)
    return {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
            "list[float]": "a list of numbers", "list[str]": "a list of strings", "dict": "an object",
            "str | list[str]": "a path or a list of paths"}[ann]


def _check_type(name: str, value: Any) -> Any:
    """Return `value` coerced to the key's type (int -> float is allowed) or raise naming the key."""
    ann = str(FIELDS[name].type)
    ok = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "list[float]": isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                       for v in value),
        "list[str]": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "dict": isinstance(value, dict),
        "str | list[str]": isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) and v
                                                                                      for v in value)),
    }[ann]
    if not ok:
        raise UserError(f"'{name}' must be {_expected_type(name)}, found {json.dumps(value)}")
    if ann == "float":
        value = float(value)
        if not math.isfinite(value):
            raise UserError(f"'{name}' must be a finite number, found {value}")
    if ann == "list[float]":
        value = [float(v) for v in value]
    return value


def _range_problems(cfg: TrainConfig) -> list[tuple[str, str, Any]]:
    """(key, what was expected, what was found) for every out-of-range value."""
    from ..encoders.precision import DTYPES as FROZEN_DTYPES     # imports torch: only when validating
    from ..encoders.series import EVENT_FIELDS, SEMANTIC_CHANNELS
    from ..encoders.text_backends import BACKENDS as TEXT_BACKENDS

    checks: list[tuple[str, bool, str]] = [
        ("projection_hidden_dim", cfg.projection_hidden_dim >= 1, ">= 1"),
        ("projection_dropout", 0.0 <= cfg.projection_dropout < 1.0, "in [0, 1)"),
        ("output_dim", cfg.output_dim >= 1, ">= 1"),
        ("sequence_length", cfg.sequence_length >= 1, ">= 1"),
        ("batch_size", cfg.batch_size >= 2, ">= 2 (contrastive learning needs negatives)"),
        ("learning_rate", cfg.learning_rate > 0, "> 0"),
        ("betas", len(cfg.betas) == 2 and all(0.0 <= b < 1.0 for b in cfg.betas), "two numbers in [0, 1)"),
        ("weight_decay", cfg.weight_decay >= 0, ">= 0"),
        ("warmup_ratio", 0.0 <= cfg.warmup_ratio < 1.0, "in [0, 1)"),
        ("max_epochs", cfg.max_epochs >= 1, ">= 1"),
        ("grad_clip_norm", cfg.grad_clip_norm >= 0, ">= 0 (0 disables clipping)"),
        ("temperature_init", 0.01 <= cfg.temperature_init <= 1.0, "in [0.01, 1] (the temperature clamp)"),
        ("log_interval", cfg.log_interval >= 1, ">= 1"),
        ("val_interval", cfg.val_interval >= 1, ">= 1"),
        ("save_interval", cfg.save_interval >= 1, ">= 1"),
        ("num_workers", cfg.num_workers >= 0, ">= 0"),
        ("max_captions", cfg.max_captions >= 1, ">= 1"),
        ("caption_types", cfg.caption_types in CAPTION_TYPES, f"one of {list(CAPTION_TYPES)}"),
        ("encoder", cfg.encoder in ENCODERS, f"one of {list(ENCODERS)}"),
        ("event_fields", cfg.event_fields in EVENT_FIELDS, f"one of {list(EVENT_FIELDS)}"),
        ("semantic_channels", cfg.semantic_channels in SEMANTIC_CHANNELS, f"one of {list(SEMANTIC_CHANNELS)}"),
        ("train_data_path", cfg.train_data_path != [], "a path or a non-empty list of paths"),
        ("vocab_path", not isinstance(cfg.vocab_path, list) or len(cfg.vocab_path) in (1, len(cfg.data_paths(
            "train_data_path"))), "one path, or a list with one vocabulary per training dataset"),
        ("backbone", cfg.backbone in BACKBONES, f"one of {list(BACKBONES)}"),
        ("device", bool(_DEVICE.match(cfg.device)), "auto, cpu, cuda or cuda:N"),
        ("amp_dtype", cfg.amp_dtype in AMP_DTYPES, f"one of {list(AMP_DTYPES)}"),
        ("text_backend", cfg.text_backend in TEXT_BACKENDS, f"one of {list(TEXT_BACKENDS)}"),
        ("backbone_dtype", cfg.backbone_dtype in FROZEN_DTYPES, f"one of {list(FROZEN_DTYPES)}"),
        ("eval_batch_size", cfg.eval_batch_size >= 1, ">= 1"),
        ("hard_negative_memory_size", cfg.hard_negative_memory_size >= 1, ">= 1"),
        ("hard_negative_ratio", 0.0 < cfg.hard_negative_ratio <= 64.0, "in (0, 64]"),
        ("hard_negative_strategy", cfg.hard_negative_strategy in HARD_NEGATIVE_STRATEGIES,
         f"one of {list(HARD_NEGATIVE_STRATEGIES)}"),
        ("mlm_weight", cfg.mlm_weight >= 0, ">= 0"),
        ("text_model_name", bool(cfg.text_model_name.strip()), "a model id or path"),
        ("chronos_model_name", bool(cfg.chronos_model_name.strip()), "a model id or path"),
        ("loss", cfg.loss in LOSSES, f"one of {list(LOSSES)}"),
        ("focal_gamma", cfg.focal_gamma >= 0, ">= 0 (0 is plain InfoNCE)"),
        ("objective", cfg.objective in OBJECTIVES, f"one of {list(OBJECTIVES)}"),
        ("init_checkpoint", cfg.objective != "supervised" or bool(cfg.init_checkpoint.strip()),
         "the trained checkpoint to fine-tune when 'objective' is 'supervised'"),
    ]
    return [(key, expected, getattr(cfg, key)) for key, ok, expected in checks if not ok]


def suggest(name: str, valid: list[str] | tuple[str, ...]) -> str:
    """' (did you mean 'x'?)' for the closest valid key, or ''."""
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def config_from_dict(values: dict, *, source: str = "<config>") -> TrainConfig:
    """Validate a dict of config values (any subset of the keys) into a TrainConfig."""
    if not isinstance(values, dict):
        raise UserError(f"a training config must be a JSON object, found {type(values).__name__}", path=source)
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        if name not in FIELDS:
            raise UserError(f"unknown config key '{name}'{suggest(name, list(FIELDS))}", path=source)
        try:
            kwargs[name] = _check_type(name, value)
        except UserError as err:
            raise UserError(str(err), path=source) from None
    cfg = TrainConfig(**kwargs)
    problems = _range_problems(cfg)
    if problems:
        key, expected, found = problems[0]
        raise UserError(f"'{key}' must be {expected}, found {json.dumps(found)}", path=source)
    for key in cfg.transformer:
        if key not in TRANSFORMER_KEYS:
            raise UserError(f"unknown key 'transformer.{key}'{suggest(key, TRANSFORMER_KEYS)}"
                            " (output_dim and sequence_length are top-level keys)", path=source)
    return cfg


def parse_set(items: list[str] | None) -> dict[str, Any]:
    """`--set key=value` items -> {key: value}; the value is parsed as JSON, else kept as a string."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"--set expects key=value, found '{item}'")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def load_config(path: str | Path | None, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a JSON config (None: all defaults), apply `overrides` (validated like file keys), validate."""
    values: dict[str, Any] = {}
    source = "<defaults>"
    if path is not None:
        source = str(path)
        values = read_json(path, "config file")
        if not isinstance(values, dict):
            raise UserError("a training config must be a JSON object", path=source)
    for key in overrides or {}:
        if key not in FIELDS:
            raise UserError(f"unknown config key '{key}' in overrides{suggest(key, list(FIELDS))}")
    merged = {**values, **(overrides or {})}
    return config_from_dict(merged, source=source)
