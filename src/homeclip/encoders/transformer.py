"""The standard sensor encoder: a Transformer over event tokens, trained with CLIP + masked-field prediction.

Each real event becomes one token: the sum of one embedding per categorical field, plus a Linear over its
continuous features (Fourier features of x/y with a "coordinate known" flag, log1p of the time delta, sin/cos
of the time of day, a "time known" flag). Which fields are embedded is whatever `vocab_sizes` names: the seed
fields (sensor, room, ...) or, for a model that applies to any home, the semantic ones (`SEMANTIC_TOKEN_FIELDS`:
room type, kind, state sign, time-of-day and Δt buckets) with `coordinates=False`, so no input depends on the
home's sensor ids, room names or floor plan. A learned CLS token is prepended. Positions are either ALiBi biases or
a learned table, never both (ALiBi here is bidirectional with a steeper side per head, see
`_attention_bias`); either way an event's position is its rank among the REAL events of its row, so
padding anywhere in a row (right, left or in between) leaves the embedding unchanged. Padded keys get -inf in
the additive attention mask, and the CLS key is always present, so no row is ever fully masked.

The window embedding is the final-norm CLS output concatenated with the masked mean of the event tokens,
projected to `output_dim` and L2-normalised.

Masked-field prediction (`mlm_loss`): spans of real events are selected (span lengths geometric with mean
`mean_span`, about `mask_prob` of the real events per row, at least one). At a selected event EVERY field in
`mlm_fields` is replaced by that field's own [MASK] id (= its vocabulary size) and its continuous features are
hidden too, since x/y would give away the sensor and room, and the raw time delta the Δt bucket. One linear
head per field predicts the original ids from the token outputs.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

POSITIONAL = ("alibi", "learned")
MLM_FIELDS = ("sensor", "room", "state", "sensor_type", "tod_bucket", "dt_bucket")
# event_fields "semantic": the home-independent fields a token embeds (fixed vocabularies or fixed buckets), and
# the masked-field targets (all of them: none gives another away once the event's fields are all masked).
SEMANTIC_TOKEN_FIELDS = ("room_type", "kind", "state_sign", "tod_bucket", "dt_bucket")
SEMANTIC_MLM_FIELDS = SEMANTIC_TOKEN_FIELDS
_SECONDS_PER_DAY = 86_400.0
_LOG_DAY = math.log1p(_SECONDS_PER_DAY)


@dataclass
class TransformerConfig:
    """Every constructor argument of `TransformerEncoder`, validated; `asdict` gives `get_config()`."""

    vocab_sizes: dict[str, int]
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    d_ff: int = 256
    dropout: float = 0.1
    positional: str = "alibi"
    output_dim: int = 512
    sequence_length: int = 50
    fourier_features: int = 8
    mask_prob: float = 0.15
    mean_span: float = 3.0
    mlm_fields: tuple[str, ...] = MLM_FIELDS
    mlm_weights: dict[str, float] | None = None
    coordinates: bool = True          # False: x/y are not read (a floor plan is one home's)

    def __post_init__(self):
        self.vocab_sizes = {str(k): int(v) for k, v in self.vocab_sizes.items()}
        self.mlm_fields = tuple(self.mlm_fields)
        if self.mlm_weights is not None:
            self.mlm_weights = {str(k): float(v) for k, v in self.mlm_weights.items()}
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first bad argument."""
        if self.positional not in POSITIONAL:
            raise ValueError(f"positional must be one of {POSITIONAL}, got {self.positional!r}")
        for name in ("d_model", "n_layers", "n_heads", "d_ff", "output_dim", "sequence_length", "fourier_features"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})")
        if not self.vocab_sizes:
            raise ValueError("vocab_sizes must name at least one categorical field")
        small = {k: v for k, v in self.vocab_sizes.items() if v < 2}
        if small:
            raise ValueError(f"vocab_sizes must be >= 2 (PAD and UNK) for every field, got {small}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not 0.0 < self.mask_prob < 1.0:
            raise ValueError(f"mask_prob must be in (0, 1), got {self.mask_prob!r}")
        if self.mean_span < 1.0:
            raise ValueError(f"mean_span must be >= 1, got {self.mean_span!r}")
        unknown = [f for f in self.mlm_fields if f not in self.vocab_sizes]
        if not self.mlm_fields or unknown:
            raise ValueError(f"mlm_fields must be a non-empty subset of the vocabulary fields "
                             f"{sorted(self.vocab_sizes)}; unknown: {unknown}")
        weights = self.field_weights()
        bad = {k: w for k, w in (self.mlm_weights or {}).items() if k not in self.mlm_fields or w < 0}
        if bad or sum(weights.values()) <= 0:
            raise ValueError(f"mlm_weights must map fields of mlm_fields {list(self.mlm_fields)} to weights >= 0, "
                             f"not all zero; got {self.mlm_weights}")

    def field_weights(self) -> dict[str, float]:
        """The MLM loss weight of each field of `mlm_fields` (1.0 unless `mlm_weights` says otherwise)."""
        given = self.mlm_weights or {}
        return {f: float(given.get(f, 1.0)) for f in self.mlm_fields}


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """One ALiBi slope per head: the geometric sequence 2^(-8 h / n_heads), h = 1..n_heads (Press et al.)."""
    return torch.tensor([2.0 ** (-8.0 * (h + 1) / n_heads) for h in range(n_heads)])


def event_ranks(mask: torch.Tensor) -> torch.Tensor:
    """Position of each real event among the real events of its row (0-based); padding gets its neighbour's."""
    return (mask.long().cumsum(1) - 1).clamp(min=0)


def span_mask(mask: torch.Tensor, mask_prob: float, mean_span: float,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """Bool [B, T]: spans of real events to mask, about `mask_prob` of each row's events and at least one.

    Spans start at a real event with probability -ln(1 - mask_prob) / mean_span and cover a geometric number
    of real events (mean `mean_span`), skipping padding; overlapping spans then cover `mask_prob` on average.
    Padding is never selected. Random numbers come from `generator` on the CPU, so results are reproducible."""
    cpu_mask = mask.detach().bool().cpu()
    b, t = cpu_mask.shape
    u_start, u_len, u_pick = torch.rand(3, b, t, generator=generator)
    ranks = event_ranks(cpu_mask)
    starts = cpu_mask & (u_start < -math.log1p(-mask_prob) / mean_span)
    if mean_span > 1.0:
        # Inverse CDF of the geometric distribution on {1, 2, ...} with success probability 1 / mean_span.
        lengths = 1 + torch.floor(torch.log1p(-u_len) / math.log1p(-1.0 / mean_span)).clamp(max=t).long()
    else:
        lengths = torch.ones(b, t, dtype=torch.long)
    span_end = torch.where(starts, ranks + lengths, torch.full_like(ranks, -1))
    selected = cpu_mask & (span_end.cummax(1).values > ranks)
    # A row with real events but no span still gets one masked event, so every row contributes to the loss.
    n_real = cpu_mask.sum(1, keepdim=True)
    forced = (u_pick[:, :1] * n_real).floor().long()
    empty = (~selected.any(1, keepdim=True)) & (n_real > 0)
    selected |= empty & cpu_mask & (ranks == forced)
    return selected.to(mask.device)


class _Block(nn.Module):
    """One pre-norm Transformer layer: self-attention with an additive float mask, then a GELU MLP.

    Dropout acts on the two residual branches only: on CPU each dropout costs about as much as a matmul
    (random numbers are slow), so attention-weight and inner-MLP dropout are left out."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float):
        super().__init__()
        self.n_heads = n_heads
        self.norm1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, length, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, length, 3, self.n_heads, d // self.n_heads).unbind(2)
        att = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=bias)
        x = x + self.drop(self.out(att.transpose(1, 2).reshape(b, length, d)))
        return x + self.drop(self.ff(self.norm2(x)))


class TransformerEncoder(nn.Module):
    """Event-token Transformer: window -> unit vector of `output_dim`; also the masked-field (MLM) loss."""

    uses_frozen_features = False

    def __init__(self, vocab_sizes: dict[str, int], *, d_model: int = 128, n_layers: int = 4, n_heads: int = 4,
                 d_ff: int = 256, dropout: float = 0.1, positional: str = "alibi", output_dim: int = 512,
                 sequence_length: int = 50, fourier_features: int = 8, mask_prob: float = 0.15,
                 mean_span: float = 3.0, mlm_fields: tuple[str, ...] = MLM_FIELDS,
                 mlm_weights: dict[str, float] | None = None, coordinates: bool = True):
        super().__init__()
        cfg = TransformerConfig(vocab_sizes, d_model=d_model, n_layers=n_layers, n_heads=n_heads, d_ff=d_ff,
                                dropout=dropout, positional=positional, output_dim=output_dim,
                                sequence_length=sequence_length, fourier_features=fourier_features,
                                mask_prob=mask_prob, mean_span=mean_span, mlm_fields=mlm_fields,
                                mlm_weights=mlm_weights, coordinates=coordinates)
        self.cfg = cfg
        self.output_dim = cfg.output_dim
        # One row per vocabulary id plus the field's own [MASK] id (= vocab size).
        self.embeddings = nn.ModuleDict({f: nn.Embedding(n + 1, d_model) for f, n in cfg.vocab_sizes.items()})
        self.register_buffer("frequencies", math.pi * 2.0 ** torch.arange(fourier_features, dtype=torch.float32),
                             persistent=False)
        self.continuous = nn.Linear((4 * fourier_features + 1 if coordinates else 0) + 4, d_model)
        self.cls = nn.Parameter(torch.zeros(1, 1, d_model))
        if cfg.positional == "alibi":
            self.register_buffer("alibi", alibi_slopes(n_heads), persistent=False)
            self.positions = None
        else:
            self.alibi = None
            self.positions = nn.Embedding(sequence_length, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(_Block(d_model, n_heads, d_ff, dropout) for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model)
        self.projection = nn.Linear(2 * d_model, output_dim)
        self.mlm_heads = nn.ModuleDict({f: nn.Linear(d_model, cfg.vocab_sizes[f]) for f in cfg.mlm_fields})
        # Every input path starts at the same small scale, so no feature dominates the first updates.
        for p in [self.cls, self.continuous.weight, *(e.weight for e in self.embeddings.values())] + (
                [self.positions.weight] if self.positions is not None else []):
            nn.init.normal_(p, std=0.02)
        nn.init.zeros_(self.continuous.bias)

    def get_config(self) -> dict:
        """Plain constructor arguments: `TransformerEncoder(**cfg)` rebuilds this architecture."""
        cfg = asdict(self.cfg)
        cfg["mlm_fields"] = list(cfg["mlm_fields"])
        if cfg["coordinates"]:   # the default: left out, so a seed model's config is what it always was
            del cfg["coordinates"]
        return cfg

    def mask_inputs(self, categorical_features: dict[str, torch.Tensor], mask: torch.Tensor,
                    generator: torch.Generator | None = None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Span-mask a batch: (ids with [MASK] at the selected events in `mlm_fields`, selected Bool [B, T])."""
        selected = span_mask(mask, self.cfg.mask_prob, self.cfg.mean_span, generator)
        masked = dict(categorical_features)
        for f in self.cfg.mlm_fields:
            masked[f] = categorical_features[f].masked_fill(selected, self.cfg.vocab_sizes[f])
        return masked, selected

    def _continuous(self, coordinates: torch.Tensor, time_deltas: torch.Tensor, time_of_day: torch.Tensor | None,
                    visible: torch.Tensor) -> torch.Tensor:
        """[B, T, 4F+5] continuous features ([B, T, 4] without coordinates); zero (flags 0) where not
        `visible`, never NaN."""
        vis = visible.unsqueeze(-1).float()
        # log1p seconds scaled so that a one-day gap is 1, the range of the other features.
        dt = torch.log1p(torch.nan_to_num(time_deltas, nan=0.0).clamp(min=0)).unsqueeze(-1) * vis / _LOG_DAY
        if time_of_day is None:
            tod = torch.zeros_like(torch.cat([dt, dt], -1))
        else:
            angle = (2 * math.pi / _SECONDS_PER_DAY) * torch.nan_to_num(time_of_day, nan=0.0).unsqueeze(-1)
            tod = torch.cat([angle.sin(), angle.cos()], -1) * vis
        if not self.cfg.coordinates:
            return torch.cat([dt, tod, vis], -1)
        known = (~torch.isnan(coordinates).any(-1, keepdim=True)).float() * vis
        xy = torch.nan_to_num(coordinates, nan=0.0).unsqueeze(-1) * self.frequencies  # [B, T, 2, F]
        fourier = torch.cat([xy.sin(), xy.cos()], -1).flatten(2) * known
        return torch.cat([fourier, known, dt, tod, vis], -1)

    def _attention_bias(self, mask: torch.Tensor, ranks: torch.Tensor) -> torch.Tensor:
        """Additive float mask [B, H or 1, 1+T, 1+T]: ALiBi distances (if any) and -inf at padded keys."""
        b = mask.shape[0]
        keys = torch.cat([mask.new_ones(b, 1), mask], 1)
        blocked = torch.zeros(keys.shape, device=mask.device).masked_fill(~keys, float("-inf"))[:, None, None, :]
        if self.alibi is None:
            return blocked
        pos = ranks.float()
        offset = F.pad(pos[:, None, :] - pos[:, :, None], (1, 0, 1, 0))[:, None]  # key - query; CLS at 0 from all
        # Symmetric |offset| alone would make a window and its reverse identical, so each head penalises one
        # side twice as steeply: even heads lean backwards (towards the past), odd heads forwards.
        side = 1.0 - 2.0 * (torch.arange(len(self.alibi), device=mask.device) % 2)
        distance = offset.abs() + (side[None, :, None, None] * offset).clamp(min=0)
        return blocked - self.alibi[None, :, None, None] * distance

    def _encode(self, categorical_features: dict[str, torch.Tensor], coordinates: torch.Tensor,
                time_deltas: torch.Tensor, mask: torch.Tensor, time_of_day: torch.Tensor | None = None,
                hidden: torch.Tensor | None = None) -> torch.Tensor:
        """Final-norm token outputs [B, 1+T, d_model]; index 0 is CLS. `hidden` events lose continuous features."""
        missing = [f for f in self.cfg.vocab_sizes if f not in categorical_features]
        if missing:
            raise ValueError(f"categorical_features lacks fields {missing} (has {sorted(categorical_features)})")
        mask = mask.bool()
        ranks = event_ranks(mask)
        visible = mask if hidden is None else mask & ~hidden
        x = sum(emb(categorical_features[f]) for f, emb in self.embeddings.items())
        x = x + self.continuous(self._continuous(coordinates.float(), time_deltas.float(),
                                                 None if time_of_day is None else time_of_day.float(), visible))
        if self.positions is not None:
            longest = int(mask.sum(1).max()) if mask.numel() else 0
            if longest > self.cfg.sequence_length:
                raise ValueError(f"a window has {longest} events but learned positions cover only "
                                 f"sequence_length={self.cfg.sequence_length}")
            x = x + self.positions(ranks)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1)
        x = self.drop(x)
        bias = self._attention_bias(mask, ranks).to(x.dtype)
        for block in self.blocks:
            x = block(x, bias)
        return self.norm(x)

    def forward_clip(self, categorical_features: dict[str, torch.Tensor], coordinates: torch.Tensor,
                     time_deltas: torch.Tensor, mask: torch.Tensor, time_of_day: torch.Tensor | None = None,
                     features: torch.Tensor | None = None) -> torch.Tensor:
        """Window embeddings [B, output_dim], unit norm; `features` is accepted and ignored (no frozen backbone)."""
        h = self._encode(categorical_features, coordinates, time_deltas, mask, time_of_day)
        m = mask.bool().unsqueeze(-1).to(h.dtype)
        mean = (h[:, 1:] * m).sum(1) / m.sum(1).clamp(min=1.0)
        return F.normalize(self.projection(torch.cat([h[:, 0], mean], -1)), dim=-1)

    forward = forward_clip

    def mlm_loss(self, categorical_features: dict[str, torch.Tensor], coordinates: torch.Tensor,
                 time_deltas: torch.Tensor, mask: torch.Tensor, time_of_day: torch.Tensor | None = None,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict]:
        """Masked-field loss: weighted mean over fields of the cross-entropy at masked events, and its stats.

        stats: masked_positions (int), masked_fraction (of real events), loss_<field>, acc_<field> (floats)."""
        masked, selected = self.mask_inputs(categorical_features, mask, generator)
        n_masked = int(selected.sum())
        stats: dict = {"masked_positions": n_masked,
                       "masked_fraction": n_masked / max(int(mask.bool().sum()), 1)}
        if n_masked == 0:
            return torch.zeros((), device=coordinates.device), stats
        tokens = self._encode(masked, coordinates, time_deltas, mask, time_of_day, hidden=selected)[:, 1:][selected]
        weights = self.cfg.field_weights()
        loss = torch.zeros((), device=tokens.device)
        for f, head in self.mlm_heads.items():
            logits = head(tokens)
            target = categorical_features[f][selected]
            field_loss = F.cross_entropy(logits, target)
            loss = loss + weights[f] * field_loss
            stats[f"loss_{f}"] = float(field_loss.detach())
            stats[f"acc_{f}"] = float((logits.argmax(-1) == target).float().mean())
        return loss / sum(weights.values()), stats
