"""Frozen backbones: token layout, pooling, statistics, family detection, loading and the fallback policy."""
from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pytest
import torch
from homeclip.testing import CHRONOS_FAMILIES as FAMILIES

from homeclip.encoders import precision
from homeclip.encoders.precision import resolve_dtype
from homeclip.encoders.backbones import (BackboneFallbackWarning, StatisticsBackbone, load_backbone, patch_validity,
                                         trim_leading_padding)
from homeclip.errors import BackendUnavailable, UserError

NAN = float("nan")


def _series(b=4, c=5, t=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    s = torch.rand(b, c, t, generator=g)
    s[: b // 2, 3] = 2 / 3                  # constant channels (one room, one row of sensors) are common
    for i in range(b):
        s[i, :, : (i * 7) % t] = NAN        # different left padding per row
    return s


def test_trim_and_patch_validity():
    s = torch.full((2, 3, 6), NAN)
    s[0, 1, 3:] = 1.0
    s[1, 0, 4:] = 2.0
    assert trim_leading_padding(s).shape[-1] == 3
    assert trim_leading_padding(torch.full((1, 2, 5), NAN)).shape[-1] == 1
    valid = torch.tensor([[False] * 17 + [True] * 3, [False] * 3 + [True] * 17])
    np.testing.assert_array_equal(patch_validity(valid, 16), [[False, True], [True, True]])


def test_statistics_values_are_mask_aware_and_fixed_size():
    x = torch.full((1, 2, 30), NAN)
    vals = torch.arange(1.0, 13.0)                   # 12 real values
    x[0, 0, -12:] = vals
    bb = StatisticsBackbone(n_channels=2, n_points=4)
    f = bb.embed(x)
    assert f.shape == (1, 2 * 8) and bb.feature_dim == 16
    ref = vals.numpy()
    np.testing.assert_allclose(f[0, :4], [ref.mean(), ref.std(), 12, 1], rtol=1e-6)
    np.testing.assert_allclose(f[0, 4:8], [2, 5, 8, 11])                 # bin means of 3 values each
    np.testing.assert_array_equal(f[0, 8:], np.zeros(8))                 # a channel without real values
    few = torch.full((1, 1, 10), NAN)
    few[0, 0, -2:] = torch.tensor([1.0, 3.0])                            # fewer values than points
    np.testing.assert_allclose(StatisticsBackbone(1, n_points=4).embed(few)[0, 4:], [1, 1, 3, 3])
    # Holes inside the window are skipped too; more padding changes nothing.
    holey = torch.cat([torch.full((1, 2, 50), NAN), x], dim=-1)
    holey[0, 0, -5] = NAN
    g = bb.embed(holey)
    np.testing.assert_allclose(g[0, 0], np.delete(ref, 7).mean(), rtol=1e-6)
    torch.testing.assert_close(bb.embed(torch.cat([torch.full((1, 2, 9), NAN), x], -1)), f)


def test_statistics_batch_independent():
    s = _series(6)
    bb = StatisticsBackbone(5)
    whole = bb.embed(s)
    for i in range(6):
        torch.testing.assert_close(bb.embed(s[i:i + 1]), whole[i:i + 1], atol=1e-6, rtol=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_family_from_config_not_name_and_frozen(family, tiny_model_dirs, tmp_path):
    # A directory whose name says "t5" but holds another family: the config decides.
    misleading = tmp_path / "amazon-chronos-t5-small"
    misleading.symlink_to(tiny_model_dirs[family], target_is_directory=True)
    bb = load_backbone(str(misleading), n_channels=5)
    assert bb.family == family
    assert all(not p.requires_grad for p in bb.parameters())
    assert not bb.model.training
    info = bb.info()
    assert info["family"] == family and info["used"] == str(misleading) and info["fallback_reason"] is None
    auto, why = resolve_dtype("auto", "cpu")          # bfloat16 on CPUs with native bf16, else float32
    assert len(info["config_hash"]) == 16 and info["dtype"] == auto and info["dtype_reason"] == why
    per = {"t5": 32 + 1, "bolt": 2 * 32 + 2, "chronos2": 2 * 32 + 2}[family]
    assert bb.feature_dim == info["feature_dim"] == 5 * per
    feats = bb.embed(_series())
    assert feats.shape == (4, 5 * per) and torch.isfinite(feats).all()


@pytest.mark.parametrize("family", FAMILIES)
def test_pooling_matches_the_public_embed_api(family, tiny_model_dirs):
    """Recompute the features of one window from the pipeline's own embed(): same tokens, same pooling."""
    bb = load_backbone(str(tiny_model_dirs[family]), n_channels=3, dtype="float32")
    x = torch.full((1, 3, 40), NAN)
    x[0, :, -21:] = torch.rand(3, 21)
    x[0, 2, -10:-4] = NAN                      # a hole in one channel
    feats = bb.embed(x)[0]
    p = bb.pipeline
    if family == "chronos2":
        emb, loc_scale = p.embed(x)             # public API: list of [V, patches + 2, d]
        tokens, (loc, scale) = emb[0], loc_scale[0]
        n_p = 3                                 # ceil(40 / 16)
        valid = torch.tensor([[False, True, True]] * 3)
        summary = tokens[:, n_p]
    elif family == "bolt":
        tokens, (loc, scale) = p.embed(x[0])    # [V, patches + 1, d]
        n_p = 3
        valid = torch.tensor([[False, True, True]] * 3)
        summary = tokens[:, n_p]
    else:
        tokens, scale = p.embed(x[0])           # [V, T + 1 (EOS), d]
        n_p, loc, summary = 40, None, None
        valid = ~torch.isnan(x[0])
    per_channel = []
    for v in range(3):
        parts = [tokens[v, :n_p][valid[v]].mean(0)]
        parts += [summary[v]] if summary is not None else []
        parts += [loc.reshape(-1)[v:v + 1]] if loc is not None else []
        parts.append(torch.log(scale.reshape(-1)[v:v + 1]))
        per_channel.append(torch.cat(parts))
    torch.testing.assert_close(feats, torch.cat(per_channel).float(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_backbone_batch_and_padding_invariance(family, tiny_model_dirs):
    # float32: exact to 1e-5 (bf16 rounding is larger; its fidelity is tested below)
    bb = load_backbone(str(tiny_model_dirs[family]), n_channels=5, chunk_size=3, dtype="float32")   # chunks cut across the batch
    s = _series(7, t=50)
    whole = bb.embed(s)
    more_padding = bb.embed(torch.cat([torch.full((7, 5, 30), NAN), s], dim=-1))
    torch.testing.assert_close(more_padding, whole, atol=1e-5, rtol=0)
    for i in (0, 3, 6):
        torch.testing.assert_close(bb.embed(s[i:i + 1]), whole[i:i + 1], atol=1e-5, rtol=0)
    perm = torch.tensor([6, 2, 0, 5, 1, 4, 3])
    torch.testing.assert_close(bb.embed(s[perm]), whole[perm], atol=1e-5, rtol=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_bf16_features_match_fp32(family, tiny_model_dirs):
    fp32 = load_backbone(str(tiny_model_dirs[family]), n_channels=5, dtype="float32")
    bf16 = load_backbone(str(tiny_model_dirs[family]), n_channels=5, dtype="bfloat16")
    assert bf16.info()["dtype"] == "bfloat16" and bf16.info()["dtype_reason"] == "requested"
    assert fp32.info()["config_hash"] == bf16.info()["config_hash"]
    s = _series(8, t=50)
    a, b = fp32.embed(s).double(), bf16.embed(s).double()
    assert b.dtype == torch.float64 and not torch.equal(a, b)
    # model tokens only: drop each channel's trailing loc / log scale (exact in both)
    per, exact = a.shape[1] // 5, (1 if family == "t5" else 2)
    keep = torch.ones(per, dtype=torch.bool)
    keep[per - exact:] = False
    keep = keep.repeat(5)
    cos = torch.nn.functional.cosine_similarity(a[:, keep], b[:, keep], dim=1)
    assert cos.min() >= 0.999, cos


def test_auto_dtype_follows_the_cpus_bf16_support(tiny_model_dirs, monkeypatch):
    for native, expected in ((False, "float32"), (True, "bfloat16")):
        monkeypatch.setattr(precision, "fast_bf16", lambda device, n=native: (n, "probe"))
        bb = load_backbone(str(tiny_model_dirs["bolt"]), n_channels=2)
        assert (bb.info()["dtype"], bb.info()["dtype_reason"]) == (expected, "auto: probe")
        assert bb.model.dtype == getattr(torch, expected)


def test_chronos2_covariates_join_the_group_but_only_targets_are_pooled(tiny_model_dirs):
    with_cov = load_backbone(str(tiny_model_dirs["chronos2"]), n_channels=7, n_targets=5)
    assert with_cov.feature_dim == 5 * 66
    s = _series(3, c=7, t=33)
    f_cov = with_cov.embed(s)
    f_plain = load_backbone(str(tiny_model_dirs["chronos2"]), n_channels=5).embed(s[:, :5])
    assert f_cov.shape == f_plain.shape
    assert not torch.allclose(f_cov, f_plain, atol=1e-4)      # group attention saw the covariates
    # The same as the public API with past covariates.
    p = with_cov.pipeline
    item = {"target": s[0, :5].numpy(), "past_covariates": {f"c{k}": s[0, 5 + k].numpy() for k in range(2)}}
    emb, (locs_scales) = p.embed([item])
    tokens = emb[0]                            # targets only: [5, patches + 2, d]
    assert tokens.shape[0] == 5
    reg = tokens[:, -2]
    torch.testing.assert_close(f_cov[0].reshape(5, 66)[:, 32:64], reg.float(), atol=1e-5, rtol=1e-5)


def test_empty_and_all_missing_inputs(tiny_model_dirs):
    bb = load_backbone(str(tiny_model_dirs["bolt"]), n_channels=2)
    assert bb.embed(torch.zeros(0, 2, 10)).shape == (0, bb.feature_dim)
    f = bb.embed(torch.full((2, 2, 10), NAN))
    assert torch.isfinite(f).all()
    with pytest.raises(ValueError, match="expected 2 channels"):
        bb.embed(torch.zeros(1, 3, 10))


def test_missing_directory_falls_back_with_one_loud_warning(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bb = load_backbone(str(tmp_path / "no-such-model"), n_channels=5)
    fallback = [w for w in caught if issubclass(w.category, BackboneFallbackWarning)]
    assert len(fallback) == 1 and "FALLING BACK" in str(fallback[0].message)
    assert isinstance(bb, StatisticsBackbone)
    info = bb.info()
    assert info["used"] == "statistics" and info["requested"] == str(tmp_path / "no-such-model")
    assert "no model directory" in info["fallback_reason"]


def test_allow_fallback_false_is_a_clear_error(tmp_path):
    with pytest.raises(BackendUnavailable, match="could not be loaded .*allow_fallback is off"):
        load_backbone(str(tmp_path / "missing"), n_channels=5, allow_fallback=False)


def test_unreachable_hub_is_detected_in_seconds(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")      # nothing listens on the discard port
    start = time.monotonic()
    with pytest.warns(BackboneFallbackWarning):
        bb = load_backbone("amazon/chronos-t5-small-not-cached", n_channels=5)
    assert time.monotonic() - start < 6
    assert "unreachable" in bb.info()["fallback_reason"]


def test_offline_mode_and_missing_package(monkeypatch):
    start = time.monotonic()
    with pytest.warns(BackboneFallbackWarning):
        bb = load_backbone("amazon/chronos-2-not-cached", n_channels=5)
    assert time.monotonic() - start < 3 and "HF_HUB_OFFLINE" in bb.info()["fallback_reason"]
    monkeypatch.setitem(sys.modules, "chronos", None)
    with pytest.warns(BackboneFallbackWarning):
        bb = load_backbone("amazon/chronos-2", n_channels=5)
    assert "ImportError" in bb.info()["fallback_reason"] or "ModuleNotFoundError" in bb.info()["fallback_reason"]


def test_covariates_need_chronos2(tiny_model_dirs):
    with pytest.raises(UserError, match="covariates need a Chronos-2 backbone"):
        load_backbone(str(tiny_model_dirs["bolt"]), n_channels=7, n_targets=5)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_cuda_without_cuda_is_a_user_error(tiny_model_dirs):
    with pytest.raises(UserError, match="no CUDA device"):
        load_backbone(str(tiny_model_dirs["t5"]), n_channels=5, device="cuda")
