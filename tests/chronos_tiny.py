"""Random-weight Chronos models of each family, built offline (no model hub) for tests and benchmarks.

    from chronos_tiny import build_tiny_chronos
    model_dir = build_tiny_chronos("chronos2", tmp_path / "c2")   # then load it like a hub model
    encoder = ChronosEncoder(vocab_sizes, chronos_model_name=str(model_dir))

Test modules import the fixtures `hub_offline` (autouse: HF_HUB_OFFLINE=1) and `tiny_model_dirs`
(family -> directory, built once per module).

`size="published"` gives the published architectures (chronos-2 120M, chronos-bolt-small, chronos-t5-small)
with random weights, which is what the throughput benchmark measures.
"""
from __future__ import annotations

from pathlib import Path

import pytest

FAMILIES = ("chronos2", "bolt", "t5")

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

    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
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


@pytest.fixture(autouse=True)
def hub_offline(monkeypatch):
    """No model hub in tests: loading a hub id fails at once instead of retrying."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def tiny_model_dirs(tmp_path_factory) -> dict[str, Path]:
    """family -> directory of a tiny random-weight model, for every family."""
    root = tmp_path_factory.mktemp("chronos_tiny")
    return {family: build_tiny_chronos(family, root / family) for family in FAMILIES}
