"""Small synthetic inputs for tests and benchmarks: a valid WindowSet without the full pipeline, and
random-weight Chronos models of every family built offline (no model hub needed).

    model_dir = build_tiny_chronos("chronos2", tmp_path / "c2")   # then load it like a hub model
    encoder = ChronosEncoder(vocab_sizes, chronos_model_name=str(model_dir))

`size="published"` gives the published architectures (chronos-2 120M, chronos-bolt-small, chronos-t5-small)
with random weights, which is what the throughput benchmarks measure."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .data.taxonomy import infer_room_type, state_sign
from .data.semantic import SEMANTIC_CATEGORIES
from .data.windows import CATEGORICAL_FIELDS, WindowSet

_ROOMS = ["kitchen", "bedroom", "bathroom", "living_room", "office", "entrance"]
_LABELS = {"Cook": "Cook", "Sleep": "Sleep", "Bathing": "Bathing", "Watch_TV": "Relax", "Desk_Activity": "Work",
           "Leave_Home": "Leave_Home"}


def random_windowset(n: int = 32, seq_len: int = 50, seed: int = 0, *, n_sensors: int = 12,
                     min_len: int | None = None) -> WindowSet:
    """A WindowSet of `n` random windows whose contents depend on the label (so models can learn something).

    Rows have between `min_len` (default seq_len // 2) and seq_len real events, right-padded."""
    rng = np.random.default_rng(seed)
    labels = list(_LABELS)
    min_len = seq_len // 2 if min_len is None else min_len
    categories = {
        "sensor": [f"M{i:03d}" for i in range(1, n_sensors + 1)],
        "room": list(_ROOMS),
        "state": ["ON", "OFF"],
        "sensor_type": ["motion", "door"],
        "tod_bucket": ["night", "morning", "afternoon", "evening"],
        "dow": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        "dt_bucket": ["<1s", "1-5s", "5-30s", "30s-5m", ">5m"],
        **{name: list(values) for name, values in SEMANTIC_CATEGORIES.items()},
    }
    codes = {f: np.full((n, seq_len), -1, dtype=np.int32) for f in CATEGORICAL_FIELDS}
    mask = np.zeros((n, seq_len), dtype=bool)
    time = np.zeros((n, seq_len), dtype=np.int64)
    dt = np.zeros((n, seq_len), dtype=np.float32)
    xy = np.full((n, seq_len, 2), np.nan, dtype=np.float32)
    l1 = np.empty(n, dtype=object)
    day0 = np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64)
    days = np.empty(n, dtype="datetime64[D]")
    for i in range(n):
        k = int(rng.integers(min_len, seq_len + 1))
        lab = labels[i % len(labels)]
        l1[i] = lab
        home_room = labels.index(lab) % len(_ROOMS)
        sensors = (home_room * 2 + rng.integers(0, 3, size=k)) % n_sensors
        codes["sensor"][i, :k] = sensors
        codes["room"][i, :k] = (sensors // 2) % len(_ROOMS)
        codes["state"][i, :k] = np.arange(k) % 2
        codes["sensor_type"][i, :k] = (sensors == 0).astype(np.int32)
        gaps = rng.exponential(5.0 + 10 * home_room, size=k).astype(np.float32)
        t0 = day0 + (i // 4) * 86_400_000_000 + int(rng.integers(0, 80_000)) * 1_000_000
        t = t0 + np.cumsum((gaps * 1e6).astype(np.int64))
        time[i, :k] = t
        dt[i, :k] = gaps
        hours = (t // 3_600_000_000) % 24
        codes["tod_bucket"][i, :k] = np.minimum(hours // 6, 3)
        codes["dow"][i, :k] = ((t // 86_400_000_000) + 3) % 7
        codes["dt_bucket"][i, :k] = np.digitize(gaps, [1, 5, 30, 300])
        xy[i, :k, 0] = (sensors % 4) / 3.0
        xy[i, :k, 1] = (sensors // 4) / 3.0
        mask[i, :k] = True
        days[i] = np.datetime64(int(t[0]), "us").astype("datetime64[D]")
    _semantic_from_seed(codes, categories, mask)
    split = np.array(["train", "train", "val", "test"] * ((n + 3) // 4), dtype=object)[:n]
    start = np.array([np.datetime64(int(time[i, 0]), "us") for i in range(n)])
    end = np.array([np.datetime64(int(time[i, mask[i]][-1]), "us") for i in range(n)])
    captions = [
        {"long": [f"Activity in the {_ROOMS[labels.index(l1[i]) % len(_ROOMS)]} over several minutes.",
                  f"Someone moves around the {_ROOMS[labels.index(l1[i]) % len(_ROOMS)]}."],
         "short": [f"{_ROOMS[labels.index(l1[i]) % len(_ROOMS)]} activity"]}
        for i in range(n)
    ]
    return WindowSet(
        codes=codes, categories=categories, time=time, time_delta=dt, xy=xy, mask=mask,
        label_l1=l1, label_l2=np.array([_LABELS[x] for x in l1], dtype=object),
        label_fractions=[{str(x): 1.0} for x in l1], split=split, start=start, end=end, day=days,
        captions=captions, home="synthetic", meta={"synthetic": True},
    )


def _semantic_from_seed(codes: dict[str, np.ndarray], categories: dict[str, list[str]], mask: np.ndarray) -> None:
    """Fill room_type (from the room), kind (motion area / front door from the type) and state_sign in place."""
    def lookup(source: str, target: str, values: list[str]) -> np.ndarray:
        table = np.array([categories[target].index(v) for v in values] + [-1], dtype=np.int32)
        raw = codes[source]
        return np.where(mask, table[np.where(raw < 0, len(values), raw)], -1).astype(np.int32)

    codes["room_type"] = lookup("room", "room_type", [infer_room_type(r) for r in categories["room"]])
    codes["kind"] = lookup("sensor_type", "kind", ["motion_area" if t == "motion" else "front_door"
                                                   for t in categories["sensor_type"]])
    codes["state_sign"] = lookup("state", "state_sign", [state_sign(s) for s in categories["state"]])


class HashTextEncoder:
    """A deterministic stand-in for the frozen text encoder: one fixed random unit vector per distinct text.

    Same interface as encoders.text.TextEncoder (encode, dim, model_used, fallback_reason, info); `calls`
    records how many texts each encode() call received."""

    dim = 24
    model_used = "hash-text (test stand-in)"
    fallback_reason = None

    def __init__(self, dim: int | None = None, name: str | None = None):
        if dim is not None:
            self.dim = dim
        if name is not None:
            self.model_used = name
        self.calls: list[int] = []

    def encode(self, texts, progress: bool = False) -> np.ndarray:
        """Unit rows [len(texts), dim], a pure function of each text."""
        self.calls.append(len(texts))
        rows = [np.random.default_rng(int(hashlib.sha256(t.encode()).hexdigest()[:12], 16)).normal(size=self.dim)
                for t in texts]
        out = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True).clip(1e-12)

    def info(self) -> dict:
        """What TextEncoder.info() reports."""
        return {"requested": "hash-text", "used": self.model_used, "fallback_reason": None, "dim": self.dim}


# ------------------------------------------------------------------ random-weight Chronos models
CHRONOS_FAMILIES = ("chronos2", "bolt", "t5")

# (d_model, d_kv, d_ff, num_layers, num_heads) per family and size. Published sizes: the amazon/* configs.
_SIZES = {
    "tiny": {"chronos2": (32, 8, 64, 2, 4), "bolt": (32, 8, 64, 2, 4), "t5": (32, 8, 64, 2, 4)},
    "published": {"chronos2": (768, 64, 3072, 12, 12), "bolt": (512, 64, 2048, 6, 8), "t5": (512, 64, 2048, 6, 8)},
}
_QUANTILES_9 = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
_QUANTILES_21 = [0.01, 0.05] + [round(0.1 * i, 1) for i in range(1, 10)] + [0.95, 0.99]


def chronos_model(family: str, size: str = "tiny", seed: int = 0):
    """A random-weight Chronos model (transformers PreTrainedModel) of `family` in `size` ("tiny" | "published")."""
    import torch

    if family not in CHRONOS_FAMILIES:
        raise ValueError(f"family must be one of {CHRONOS_FAMILIES}, got {family!r}")
    d_model, d_kv, d_ff, layers, heads = _SIZES[size][family]
    torch.manual_seed(seed)
    if family == "chronos2":
        from chronos.chronos2.config import Chronos2CoreConfig
        from chronos.chronos2.model import Chronos2Model

        cfg = Chronos2CoreConfig(d_model=d_model, d_kv=d_kv, d_ff=d_ff, num_layers=layers, num_heads=heads,
                                 dropout_rate=0.0)
        full = size == "published"
        cfg.chronos_pipeline_class = "Chronos2Pipeline"
        cfg.chronos_config = dict(
            context_length=8192 if full else 2048, input_patch_size=16, input_patch_stride=16, output_patch_size=16,
            quantiles=_QUANTILES_21 if full else [0.1, 0.5, 0.9], use_reg_token=True, use_arcsinh=True,
            max_output_patches=64, time_encoding_scale=8192 if full else 2048)
        cfg.architectures = ["Chronos2Model"]
        return Chronos2Model(cfg).eval()

    from transformers import T5Config

    if family == "bolt":
        from chronos.chronos_bolt import ChronosBoltModelForForecasting

        cfg = T5Config(d_model=d_model, d_kv=d_kv, d_ff=d_ff, num_layers=layers, num_decoder_layers=layers,
                       num_heads=heads, dropout_rate=0.0, feed_forward_proj="relu", vocab_size=2,
                       pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
        cfg.chronos_pipeline_class = "ChronosBoltPipeline"
        cfg.chronos_config = dict(context_length=2048, prediction_length=64, input_patch_size=16,
                                  input_patch_stride=16, quantiles=_QUANTILES_9, use_reg_token=True)
        cfg.architectures = ["ChronosBoltModelForForecasting"]
        return ChronosBoltModelForForecasting(cfg).eval()

    from transformers import T5ForConditionalGeneration

    n_tokens = 4096 if size == "published" else 256
    cfg = T5Config(d_model=d_model, d_kv=d_kv, d_ff=d_ff, num_layers=layers, num_decoder_layers=layers,
                   num_heads=heads, dropout_rate=0.0, feed_forward_proj="relu", vocab_size=n_tokens,
                   pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    # Like the published chronos-t5 configs: no chronos_pipeline_class (ChronosPipeline is the default).
    cfg.chronos_config = dict(
        tokenizer_class="MeanScaleUniformBins", tokenizer_kwargs={"low_limit": -15.0, "high_limit": 15.0},
        context_length=512, prediction_length=64, n_tokens=n_tokens, n_special_tokens=2, pad_token_id=0,
        eos_token_id=1, use_eos_token=True, model_type="seq2seq", num_samples=20, temperature=1.0, top_k=50,
        top_p=1.0)
    cfg.architectures = ["T5ForConditionalGeneration"]
    return T5ForConditionalGeneration(cfg).eval()


def chronos_pipeline(family: str, size: str = "tiny", seed: int = 0):
    """The Chronos pipeline (what `BaseChronosPipeline.from_pretrained` returns) around `chronos_model(...)`."""
    from chronos import ChronosBoltPipeline, ChronosPipeline
    from chronos.chronos import ChronosConfig, ChronosModel
    from chronos.chronos2 import Chronos2Pipeline

    model = chronos_model(family, size, seed)
    if family == "chronos2":
        return Chronos2Pipeline(model=model)
    if family == "bolt":
        return ChronosBoltPipeline(model=model)
    config = ChronosConfig(**model.config.chronos_config)
    return ChronosPipeline(tokenizer=config.create_tokenizer(), model=ChronosModel(config=config, model=model))


def build_tiny_chronos(family: str, path: str | Path, seed: int = 0) -> Path:
    """Save a tiny random-weight model of `family` ("chronos2" | "bolt" | "t5") to `path`; return the directory.

    The directory loads with `chronos.BaseChronosPipeline.from_pretrained(path)` like a hub model."""
    path = Path(path)
    if not (path / "config.json").exists():
        chronos_model(family, "tiny", seed).save_pretrained(path)
    return path
