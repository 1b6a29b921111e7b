"""ChronosEncoder: shapes, batch independence, padding invariance, frozen backbone, round trips, fallback."""
from __future__ import annotations

import io
import warnings

import pytest
import torch
from homeclip.testing import CHRONOS_FAMILIES as FAMILIES

from homeclip.data.batches import WindowDataset
from homeclip.data.vocab import build_vocab
from homeclip.encoders.backbones import BackboneFallbackWarning
from homeclip.encoders.chronos import ChronosEncoder
from homeclip.encoders.series import state_signs
from homeclip.errors import UserError
from homeclip.testing import random_windowset

INPUTS = ("categorical_features", "coordinates", "time_deltas", "mask", "time_of_day")
KINDS = (*FAMILIES, "statistics")


@pytest.fixture(scope="module")
def data():
    windows = random_windowset(12, 50, seed=3, min_len=5)
    vocab = build_vocab(windows)
    return WindowDataset(windows, vocab)


def _encoder(kind, tiny_model_dirs, vocab, **kw):
    if kind == "statistics":
        return ChronosEncoder(vocab.sizes, "unused", backbone="statistics", **kw)
    return ChronosEncoder(vocab.sizes, str(tiny_model_dirs[kind]), **kw)


def _inputs(ds, idx, pad_to=None):
    b = ds.get_batch(idx)
    inputs = {k: b[k] for k in INPUTS}
    if pad_to is not None:          # more right padding, as a longer sequence_length would give
        extra = pad_to - inputs["mask"].shape[1]
        pad = lambda t, v: torch.cat([t, torch.full((t.shape[0], extra, *t.shape[2:]), v, dtype=t.dtype)], 1)
        inputs = {"categorical_features": {k: pad(v, 0) for k, v in inputs["categorical_features"].items()},
                  "coordinates": pad(inputs["coordinates"], float("nan")), "time_deltas": pad(inputs["time_deltas"], 0),
                  "mask": pad(inputs["mask"], False), "time_of_day": pad(inputs["time_of_day"], 0)}
    return inputs


@pytest.mark.parametrize("kind", KINDS)
def test_shapes_unit_norm_batch_independence_and_padding_invariance(kind, tiny_model_dirs, data):
    # float32 backbone: invariance holds to 1e-5 (bf16 rounding is larger; bf16 fidelity: test_backbones)
    enc = _encoder(kind, tiny_model_dirs, data.vocab, backbone_dtype="float32").eval()
    everything = list(range(len(data)))
    with torch.no_grad():
        full = enc(**_inputs(data, everything))
        assert full.shape == (12, 512)
        torch.testing.assert_close(full.norm(dim=-1), torch.ones(12))
        for i in (0, 5, 11):
            torch.testing.assert_close(enc(**_inputs(data, [i])), full[i:i + 1], atol=1e-5, rtol=0)
        mixed = [7, 2, 11, 0]
        torch.testing.assert_close(enc(**_inputs(data, mixed)), full[mixed], atol=1e-5, rtol=0)
        torch.testing.assert_close(enc(**_inputs(data, everything, pad_to=80)), full, atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_only_the_head_trains(kind, tiny_model_dirs, data):
    enc = _encoder(kind, tiny_model_dirs, data.vocab).train()
    out = enc(**_inputs(data, [0, 1, 2]))
    out.sum().backward()
    assert all(name.startswith("head.") for name, _ in enc.named_parameters())
    assert all(p.grad is not None for p in enc.parameters())
    if kind != "statistics":
        backbone_params = list(enc.backbone.parameters())
        assert backbone_params and all(p.grad is None and not p.requires_grad for p in backbone_params)
        ids = {id(p) for p in enc.parameters()}
        assert not any(id(p) in ids for p in backbone_params)
        assert not enc.backbone.model.training          # encoder.train() never reaches the backbone
    keys = set(enc.state_dict())
    assert keys == {f"head.{k}" for k in enc.head.state_dict()} | {"_extra_state"}


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_from_config_and_head_state(kind, tiny_model_dirs, data):
    enc = _encoder(kind, tiny_model_dirs, data.vocab, projection_dropout=0.2, projection_hidden_dim=32, output_dim=16)
    buf = io.BytesIO()
    torch.save({"config": enc.get_config(), "state": enc.state_dict()}, buf)
    buf.seek(0)
    saved = torch.load(buf, weights_only=True)
    rebuilt = ChronosEncoder(**saved["config"])
    rebuilt.load_state_dict(saved["state"])
    enc.eval()
    rebuilt.eval()
    x = _inputs(data, [1, 4, 9])
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(**x), enc(**x), atol=1e-6, rtol=0)
    assert rebuilt.backbone_info()["config_hash"] == enc.backbone_info()["config_hash"]


def test_head_state_refuses_another_backbone(tiny_model_dirs, data):
    bolt = _encoder("bolt", tiny_model_dirs, data.vocab)
    t5 = _encoder("t5", tiny_model_dirs, data.vocab)
    with pytest.raises(UserError, match="this head was trained on family='bolt'"):
        t5.load_state_dict(bolt.state_dict())


def test_dropout_only_in_train_mode_and_precomputed_features(tiny_model_dirs, data):
    enc = _encoder("chronos2", tiny_model_dirs, data.vocab, projection_dropout=0.5)
    x = _inputs(data, [0, 1, 2, 3])
    feats = enc.extract_features(**x)
    assert feats.shape == (4, enc.feature_dim) and not feats.requires_grad
    enc.train()
    assert not torch.allclose(enc(**x), enc(**x))
    enc.eval()
    with torch.no_grad():
        torch.testing.assert_close(enc(**x), enc(**x))
        torch.testing.assert_close(enc(**x, features=feats), enc(**x))
    with pytest.raises(ValueError, match="features have 3 columns"):
        enc(**x, features=torch.zeros(4, 3))


def test_extra_channels_and_covariates(tiny_model_dirs, data):
    sizes = data.vocab.sizes
    states = state_signs(data.vocab.tokens["state"])
    base = _encoder("chronos2", tiny_model_dirs, data.vocab)
    extra = ChronosEncoder(sizes, str(tiny_model_dirs["chronos2"]), extra_channels=("state", "time_of_day"),
                           state_values=states)
    cov = ChronosEncoder(sizes, str(tiny_model_dirs["chronos2"]), extra_channels=("state", "time_of_day"),
                         state_values=states, covariates=True)
    per = 2 * 32 + 2
    assert (base.feature_dim, extra.feature_dim, cov.feature_dim) == (5 * per, 8 * per, 5 * per)
    x = _inputs(data, [0, 1])
    assert not torch.allclose(cov.extract_features(**x), base.extract_features(**x), atol=1e-4)
    cfg = cov.get_config()
    assert cfg["covariates"] and cfg["extra_channels"] == ["state", "time_of_day"] and cfg["state_values"] == states
    assert cov.feature_identity()["series"]["channels"][-3:] == ["state", "tod_sin", "tod_cos"]


def test_fallback_is_recorded_and_rebuilds_as_statistics(tmp_path, data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        enc = ChronosEncoder(data.vocab.sizes, str(tmp_path / "absent-model"))
    assert sum(issubclass(w.category, BackboneFallbackWarning) for w in caught) == 1
    info = enc.backbone_info()
    assert info["used"] == "statistics" and info["fallback_reason"] and info["requested"].endswith("absent-model")
    cfg = enc.get_config()
    assert cfg["backbone"] == "statistics"           # the head was trained on statistics features
    rebuilt = ChronosEncoder(**cfg)
    rebuilt.load_state_dict(enc.state_dict())
    with pytest.raises(UserError, match="allow_fallback is off"):
        ChronosEncoder(data.vocab.sizes, str(tmp_path / "absent-model"), allow_fallback=False)


@pytest.mark.parametrize("kwargs, match", [
    (dict(backbone="lstm"), "backbone must be one of"),
    (dict(extra_channels=("state",)), "needs state_values"),
    (dict(extra_channels=("humidity",)), "unknown extra channel"),
])
def test_bad_arguments_are_user_errors(kwargs, match, data):
    with pytest.raises(UserError, match=match):
        ChronosEncoder(data.vocab.sizes, "statistics", **{"backbone": "statistics", **kwargs})


def test_vocab_sizes_must_name_sensor_and_room():
    with pytest.raises(UserError, match="lacks \\['room'\\]"):
        ChronosEncoder({"sensor": 5}, backbone="statistics")


def test_package_root_exports_the_encoder():
    import homeclip

    assert homeclip.ChronosEncoder is ChronosEncoder
