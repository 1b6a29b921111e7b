"""Frozen time-series backbones behind one interface: Chronos-2, Chronos-Bolt, Chronos-T5 and statistics.

Every backbone maps NaN-left-padded series [B, C, T] (from `series.build_series`) to pooled features [B, F]
and describes itself with `info()`. The Chronos family is detected from the loaded pipeline (i.e. the model's
config), never from its name. Per channel the Chronos backbones keep:

  mean of the tokens whose step/patch holds a real value | summary token ([REG]; Bolt and Chronos-2) | loc | log scale

Token layout of `embed()` for a left-padded input of length T (chronos-forecasting 2.3):
  T5         [T steps, EOS]                              a step is valid when its value is not NaN
  Bolt       [ceil(T/16) patches, REG]                   patches are right-aligned; valid = any real value
  Chronos-2  [ceil(T/16) patches, REG, future patch]     same patches; the future patch is dropped
Padding tokens still produce vectors, so pooling masks them; a window's features are therefore the same alone
or in any batch and with any amount of padding (up to float rounding). Each series is normalised here first,
exactly as the model would (see `standardise`), and loc / scale are our exact float64 values.

If chronos-forecasting is missing or the weights cannot be loaded, `load_backbone` falls back to the statistics
backbone with one loud warning (recorded as `fallback_reason` in `info()`), or raises BackendUnavailable.
"""
from __future__ import annotations

import hashlib
import json
import math
import warnings
from typing import Protocol

import torch

from ..errors import BackendUnavailable, UserError
from .hub import cached_snapshot, check_device, error_summary, locate_model
from .precision import resolve_dtype

# Bump when the pooled feature layout changes: it is part of every feature-cache key.
POOLING_VERSION = 1
STATISTICS_POINTS = 10
# Windows per forward pass: the best of benchmarks/bench_backbones.py on an idle 2-core CPU (chronos-2 32 vs 64:
# 82% vs 78% of the matmul rate; bolt 64 vs 256: 86% vs 56%; t5 16 vs 64: 74% vs 62%) and on an H200 in bf16.
# Results do not depend on it (batch independence is tested); only speed does.
DEFAULT_CHUNK = {"cpu": {"chronos2": 32, "bolt": 64, "t5": 16}, "cuda": {"chronos2": 256, "bolt": 1024, "t5": 64}}
SCALE_EPS = 1e-5          # the Chronos instance norm's floor for the scale of a constant series


class BackboneFallbackWarning(UserWarning):
    """The requested Chronos backbone could not be loaded; the statistics backbone is used instead."""


class Backbone(Protocol):
    """What the encoder needs from a frozen backbone."""

    family: str
    feature_dim: int

    def embed(self, series: torch.Tensor) -> torch.Tensor:
        """NaN-left-padded series [B, C, T] -> float32 features [B, feature_dim] on the CPU."""

    def info(self) -> dict:
        """Identity and settings: family, model id, config hash, dtype, device, fallback reason, ..."""


def trim_leading_padding(series: torch.Tensor) -> torch.Tensor:
    """Drop leading time steps that are NaN in every row and channel (padding only: saves compute)."""
    real = ~torch.isnan(series).all(dim=1).all(dim=0)
    first = int(real.to(torch.int8).argmax()) if bool(real.any()) else series.shape[-1] - 1
    return series[..., max(first, 0):]


def patch_validity(valid: torch.Tensor, patch: int) -> torch.Tensor:
    """[N, T] real-value mask -> [N, ceil(T/patch)] patch mask, patches right-aligned as the Chronos models cut them."""
    pad = (-valid.shape[-1]) % patch
    valid = torch.nn.functional.pad(valid, (pad, 0), value=False)
    return valid.reshape(valid.shape[0], -1, patch).any(dim=-1)


def standardise(series: torch.Tensor, *, centre: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Rows [N, T] -> (scaled rows, loc [N], scale [N]) over real values, in float64 and mask-aware.

    centre=True: z-score (mean, std) as Bolt and Chronos-2 normalise; centre=False: divide by mean |x| as
    Chronos-T5 does (loc 0). The models normalise again, but doing it here first, exactly, with constant rows
    mapped to 0 and scale 0, stops float rounding of a constant row's statistics from being blown up into
    +-1 inputs (which made features of constant channels depend on the padding length)."""
    x = series.to(torch.float64)
    valid = ~torch.isnan(x)
    count = valid.sum(dim=-1).clamp(min=1)
    if centre:
        loc = torch.where(valid, x, 0.0).sum(dim=-1) / count
        scale = (torch.where(valid, x - loc[:, None], 0.0).square().sum(dim=-1) / count).sqrt()
    else:
        loc = torch.zeros(x.shape[0], dtype=torch.float64)
        scale = torch.where(valid, x.abs(), 0.0).sum(dim=-1) / count
    flat = scale <= 1e-6 * (1.0 + loc.abs())
    z = torch.where(flat[:, None], 0.0, (x - loc[:, None]) / torch.where(flat, 1.0, scale)[:, None])
    z = torch.where(valid, z, float("nan"))
    return z.float(), loc.float(), torch.where(flat, 0.0, scale).float()


def pool_tokens(tokens: torch.Tensor, valid: torch.Tensor, summary: torch.Tensor | None,
                loc: torch.Tensor | None, scale: torch.Tensor) -> torch.Tensor:
    """Per series: mean of valid tokens [d] (+ summary token [d]) (+ loc) + log scale -> [N, k]."""
    weights = valid.to(tokens.dtype).unsqueeze(-1)
    mean = (tokens * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
    parts = [mean] + ([summary] if summary is not None else [])
    parts += [loc.reshape(-1, 1)] if loc is not None else []
    parts.append(torch.log(scale.reshape(-1, 1).clamp(min=SCALE_EPS)))
    return torch.cat([p.float() for p in parts], dim=-1)


class StatisticsBackbone:
    """The original's fallback, computed fairly: per channel, over real values only, mean, std, max, min and a
    downsampled sequence of `n_points` bin means."""

    family = "statistics"

    def __init__(self, n_channels: int, n_points: int = STATISTICS_POINTS, *, requested: str = "statistics",
                 fallback_reason: str | None = None):
        self.n_channels = n_channels
        self.n_points = n_points
        self.feature_dim = n_channels * (4 + n_points)
        self.requested = requested
        self.fallback_reason = fallback_reason

    def embed(self, series: torch.Tensor) -> torch.Tensor:
        """Series [B, C, T] -> [B, C * (4 + n_points)]; channels without real values give zeros."""
        x = series.detach().to("cpu", torch.float64)
        valid = ~torch.isnan(x)
        n = valid.sum(dim=-1)
        filled = torch.where(valid, x, 0.0)
        count = n.clamp(min=1)
        mean = filled.sum(dim=-1) / count
        std = (torch.where(valid, x - mean.unsqueeze(-1), 0.0).square().sum(dim=-1) / count).sqrt()
        high = torch.where(valid, x, -math.inf).amax(dim=-1)
        low = torch.where(valid, x, math.inf).amin(dim=-1)
        stats = torch.stack([mean, std, high, low], dim=-1)
        feats = torch.cat([stats, self._bin_means(filled, valid, n)], dim=-1)
        feats = torch.where((n > 0).unsqueeze(-1), feats, 0.0)
        return feats.reshape(x.shape[0], -1).float()

    def _bin_means(self, filled: torch.Tensor, valid: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        # Real values first, in order (stable sort), then prefix sums: bin k averages values [n*k/K, n*(k+1)/K).
        order = torch.argsort((~valid).to(torch.int8), dim=-1, stable=True)
        compact = torch.gather(filled, -1, order)
        prefix = torch.nn.functional.pad(compact.cumsum(dim=-1), (1, 0))
        k = torch.arange(self.n_points)
        start = (k * n.unsqueeze(-1)) // self.n_points
        end = torch.maximum(((k + 1) * n.unsqueeze(-1)) // self.n_points, start + 1).clamp(max=filled.shape[-1])
        total = torch.gather(prefix, -1, end) - torch.gather(prefix, -1, start)
        return total / (end - start).clamp(min=1)

    def info(self) -> dict:
        """Identity of the statistics backbone (and why it is used, if it replaced a Chronos model)."""
        return {"requested": self.requested, "used": "statistics", "family": self.family, "model_id": None,
                "config_hash": _hash({"n_points": self.n_points, "pooling": POOLING_VERSION}), "revision": None,
                "fallback_reason": self.fallback_reason, "feature_dim": self.feature_dim, "dtype": "float64",
                "device": "cpu", "d_model": None, "n_parameters": 0}


class ChronosBackbone:
    """A frozen Chronos pipeline; subclasses say how one chunk of windows is embedded and pooled."""

    family = "chronos"

    def __init__(self, pipeline, *, n_channels: int, n_targets: int, requested: str, model_id: str,
                 device: str, chunk_size: int | None = None):
        self.pipeline = pipeline
        self.model = pipeline.inner_model
        self.model.eval()
        self.model.requires_grad_(False)
        self.n_channels = n_channels
        self.n_targets = n_targets
        self.requested = requested
        self.model_id = model_id
        self.device = device
        self.chunk_size = chunk_size or DEFAULT_CHUNK["cuda" if device.startswith("cuda") else "cpu"][self.family]
        self.d_model = int(self.model.config.d_model)
        self.feature_dim = n_targets * self.per_channel_dim()
        self.dtype_reason = "as loaded"     # load_backbone records why this dtype was chosen
        self._info: dict | None = None

    def per_channel_dim(self) -> int:
        """Features per pooled channel."""
        raise NotImplementedError

    def _embed_chunk(self, series: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def parameters(self):
        """The frozen model's parameters (never trained, never saved)."""
        return self.model.parameters()

    def embed(self, series: torch.Tensor) -> torch.Tensor:
        """Series [B, C, T] -> features [B, feature_dim], float32 on the CPU, in chunks of `chunk_size` windows."""
        if series.shape[1] != self.n_channels:
            raise ValueError(f"expected {self.n_channels} channels, got {series.shape[1]}")
        series = trim_leading_padding(series.detach().to("cpu", torch.float32))
        with torch.inference_mode():
            parts = [self._embed_chunk(series[i:i + self.chunk_size])
                     for i in range(0, series.shape[0], self.chunk_size)]
        return torch.cat(parts) if parts else torch.zeros(0, self.feature_dim)

    def info(self) -> dict:
        """Identity of the frozen model: what was asked for, what runs, its config hash and revision."""
        if self._info is None:   # frozen: computed once (it is asked for at every checkpoint and cache key)
            config = self.model.config
            self._info = {"requested": self.requested, "used": self.model_id, "family": self.family,
                          "model_id": self.model_id, "config_hash": _config_hash(config),
                          "revision": getattr(config, "_commit_hash", None), "fallback_reason": None,
                          "feature_dim": self.feature_dim, "dtype": str(self.model.dtype).replace("torch.", ""),
                          "dtype_reason": self.dtype_reason,
                          "device": self.device, "d_model": self.d_model,
                          "n_parameters": sum(p.numel() for p in self.model.parameters())}
        return dict(self._info)


class T5Backbone(ChronosBackbone):
    """Chronos-T5: univariate, one token per step; each channel is its own series (all channels in one batch)."""

    family = "t5"

    def per_channel_dim(self) -> int:
        return self.d_model + 1      # mean of valid steps + log scale (T5 scales by mean |x|, no shift)

    def _embed_chunk(self, series: torch.Tensor) -> torch.Tensor:
        b, c, _ = series.shape
        x = series[..., -self.pipeline.model.config.context_length:].reshape(b * c, -1)
        scaled, _, scale = standardise(x, centre=False)
        emb, _ = self.pipeline.embed(scaled)
        steps = x.shape[-1]
        if emb.shape[1] != steps + int(self.pipeline.model.config.use_eos_token):
            raise RuntimeError(f"unexpected T5 embedding layout {tuple(emb.shape)} for {steps} steps")
        pooled = pool_tokens(emb[:, :steps].float(), ~torch.isnan(x), None, None, scale)   # EOS dropped
        return pooled.reshape(b, -1)


class PatchBackbone(ChronosBackbone):
    """Bolt and Chronos-2: 16-step patches cut from the right, [REG] after them; features per channel are
    mean of valid patches, [REG], loc and log scale."""

    def __init__(self, pipeline, **kwargs):
        cfg = pipeline.model.chronos_config
        if cfg.input_patch_stride != cfg.input_patch_size:
            raise ValueError(f"overlapping {self.family} patches are not supported")
        self.patch, self.use_reg, self.context_length = cfg.input_patch_size, cfg.use_reg_token, cfg.context_length
        super().__init__(pipeline, **kwargs)

    def per_channel_dim(self) -> int:
        return self.d_model * (2 if self.use_reg else 1) + 2


class BoltBackbone(PatchBackbone):
    """Chronos-Bolt: univariate, 16-step patches + [REG]; each channel is its own series (one batch)."""

    family = "bolt"

    def _embed_chunk(self, series: torch.Tensor) -> torch.Tensor:
        b, c, _ = series.shape
        x = series[..., -self.context_length:].reshape(b * c, -1)
        z, loc, scale = standardise(x)
        emb, _ = self.pipeline.embed(z)
        valid = patch_validity(~torch.isnan(x), self.patch)
        n_patches = valid.shape[1]
        if emb.shape[1] != n_patches + int(self.use_reg):
            raise RuntimeError(f"unexpected Bolt embedding layout {tuple(emb.shape)} for {n_patches} patches")
        emb = emb.float()
        summary = emb[:, n_patches] if self.use_reg else None
        return pool_tokens(emb[:, :n_patches], valid, summary, loc, scale).reshape(b, -1)


class Chronos2Backbone(PatchBackbone):
    """Chronos-2: all channels of a window form one group (group attention); covariates join the group but only
    the targets are pooled. Calls the model's `encode` as `Chronos2Pipeline.embed` does, without its DataLoader."""

    family = "chronos2"

    def __init__(self, pipeline, **kwargs):
        super().__init__(pipeline, **kwargs)
        if kwargs.get("chunk_size") is None:
            # Group attention masks all series of a forward pass against each other (cost ~ series^2): keep the
            # series per pass at the tuned default's (chunk x 5 channels) whatever the number of channels.
            self.chunk_size = max(1, self.chunk_size * 5 // self.n_channels)

    def _embed_chunk(self, series: torch.Tensor) -> torch.Tensor:
        b, c, _ = series.shape
        x = series[..., -self.context_length:]
        context, loc, scale = standardise(x.reshape(b * c, -1))
        groups = torch.arange(b).repeat_interleave(c)
        device = self.model.device
        out, *_ = self.model.encode(context=context.to(device), group_ids=groups.to(device))
        t = self.n_targets
        hidden = out[0].float().cpu().reshape(b, c, -1, self.d_model)[:, :t].reshape(b * t, -1, self.d_model)
        targets = x[:, :t].reshape(b * t, -1)
        valid = patch_validity(~torch.isnan(targets), self.patch)
        n_patches = valid.shape[1]
        if hidden.shape[1] != n_patches + int(self.use_reg) + 1:
            raise RuntimeError(f"unexpected Chronos-2 embedding layout {tuple(hidden.shape)} for {n_patches} patches")
        summary = hidden[:, n_patches] if self.use_reg else None      # [REG]; the masked future patch is last
        loc, scale = loc.reshape(b, c)[:, :t], scale.reshape(b, c)[:, :t]
        return pool_tokens(hidden[:, :n_patches], valid, summary, loc, scale).reshape(b, -1)


def load_backbone(name: str, *, n_channels: int, n_targets: int | None = None, device: str = "cpu",
                  allow_fallback: bool = True, chunk_size: int | None = None, dtype: str = "auto") -> Backbone:
    """The backbone `name` ("statistics", a hub id or a local directory) for series of `n_channels` channels,
    the first `n_targets` of which are targets (the rest Chronos-2 past covariates). `dtype` of the frozen
    weights: "auto" (bfloat16 where the device has native bf16, see `precision`), "float32" or "bfloat16"."""
    n_targets = n_channels if n_targets is None else n_targets
    if name == "statistics":
        return StatisticsBackbone(n_channels)
    check_device(device)
    dtype, dtype_reason = resolve_dtype(dtype, device)
    try:
        pipeline, model_id = _load_pipeline(name, device, dtype)
        family = _family(pipeline)
    except Exception as err:  # noqa: BLE001 - any failure to load means "unavailable": fall back or stop
        reason = error_summary(err)
        if not allow_fallback:
            raise BackendUnavailable(
                f"the Chronos backbone '{name}' could not be loaded ({reason}) and allow_fallback is off; give a "
                "local model directory, make the model hub reachable, or allow the statistics fallback") from None
        warnings.warn(
            f"\n*** homeclip: Chronos backbone '{name}' is unavailable: {reason}\n*** FALLING BACK to the statistics "
            "backbone: features will NOT come from Chronos (recorded as fallback_reason in every output).\n"
            "*** Set allow_fallback=False (allow_fallback: false in the config) to make this an error.",
            BackboneFallbackWarning, stacklevel=3)
        return StatisticsBackbone(n_channels, requested=name, fallback_reason=reason)
    cls = {"chronos2": Chronos2Backbone, "bolt": BoltBackbone, "t5": T5Backbone}[family]
    if n_targets != n_channels and cls is not Chronos2Backbone:
        raise UserError(f"covariates need a Chronos-2 backbone, but '{name}' is a Chronos-{family} model "
                        "(univariate); turn covariates off")
    backbone = cls(pipeline, n_channels=n_channels, n_targets=n_targets, requested=name, model_id=model_id,
                   device=device, chunk_size=chunk_size)
    backbone.dtype_reason = dtype_reason
    return backbone



def _family(pipeline) -> str:
    from chronos import ChronosBoltPipeline, ChronosPipeline
    from chronos.chronos2 import Chronos2Pipeline

    if isinstance(pipeline, Chronos2Pipeline):
        return "chronos2"
    if isinstance(pipeline, ChronosBoltPipeline):
        return "bolt"
    if isinstance(pipeline, ChronosPipeline) and pipeline.model.config.model_type == "seq2seq":
        return "t5"
    raise ValueError(f"{type(pipeline).__name__} has no encoder to embed with (causal Chronos models are unsupported)")


def _load_pipeline(name: str, device: str, dtype: str):
    """Load with chronos.BaseChronosPipeline; fail in seconds, not minutes, when the hub cannot serve `name`."""
    from chronos import BaseChronosPipeline

    dtype = getattr(torch, dtype)
    local, local_only = locate_model(name)
    if local is not None:
        return BaseChronosPipeline.from_pretrained(str(local), device_map=device, dtype=dtype), str(local)
    snapshot = cached_snapshot(name) if local_only else None
    return BaseChronosPipeline.from_pretrained(str(snapshot or name), device_map=device, dtype=dtype,
                                               local_files_only=local_only), name




def _config_hash(config) -> str:
    volatile = {"_name_or_path", "transformers_version", "torch_dtype", "dtype", "_commit_hash",
                "_attn_implementation_autoset", "_attn_implementation_internal"}
    return _hash({k: v for k, v in config.to_dict().items() if k not in volatile})


def _hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]

