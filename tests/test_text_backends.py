"""Text backends: the selection rules, length-bucketed batches, fidelity of bf16 (and OpenVINO) to fp32, and the
caption cache keeping each backend's embeddings apart."""
from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("sentence_transformers")

from homeclip.encoders import precision, text_backends  # noqa: E402
from homeclip.encoders.text import OFFLINE_NAME, TextEncoder  # noqa: E402
from homeclip.encoders.text_backends import resolve_backend, token_batches  # noqa: E402
from homeclip.errors import UserError  # noqa: E402

CAPTIONS = ["Someone moves around the kitchen on Monday morning.", "The entrance door opens twice.",
            "A quiet night in the master bedroom, with the hallway light switched on and off a few times.",
            "The fridge is opened.", "Someone showers in the bathroom late in the evening after cooking dinner.",
            "kitchen activity", "The front door is opened and closed; nobody is home for two hours.",
            "Motion in the living room while the TV is on."]


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture(scope="module")
def tiny_gte(tmp_path_factory):
    """thenlper/gte-base's published files with tiny random weights (stored in float16, as published)."""
    from published_models import build_repos

    return build_repos(tmp_path_factory.mktemp("gte"), repos=("thenlper/gte-base",))["thenlper/gte-base"]


@pytest.mark.parametrize("bf16_native, openvino, device, expected", [
    (True, False, "cpu", "bf16"), (False, False, "cpu", "fp32"), (True, True, "cpu", "openvino-bf16"),
    (False, True, "cpu", "openvino-fp32"), (True, True, "cuda", "bf16")])
def test_auto_picks_the_fastest_backend_the_machine_supports(monkeypatch, bf16_native, openvino, device, expected):
    monkeypatch.setattr(text_backends, "fast_bf16", lambda d: (bf16_native, "probe"))
    monkeypatch.setattr(text_backends, "openvino_available", lambda: openvino)
    backend, reason = resolve_backend("auto", device)
    assert backend == expected and reason.startswith("auto: ")
    assert resolve_backend("fp32", device) == ("fp32", "requested")


def test_impossible_backends_are_clear_errors(monkeypatch):
    monkeypatch.setattr(text_backends, "openvino_available", lambda: False)
    with pytest.raises(UserError, match=r"needs OpenVINO, which is not installed here: pip install openvino"):
        resolve_backend("openvino-bf16", "cpu")
    monkeypatch.setattr(text_backends, "openvino_available", lambda: True)
    with pytest.raises(UserError, match="CPU only"):
        resolve_backend("openvino-fp32", "cuda")
    with pytest.raises(UserError, match="text_backend must be one of"):
        resolve_backend("int4", "cpu")


def test_bf16_is_native_only_with_avx512_bf16_or_amx(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    ok, why = precision.fast_bf16("cpu")
    assert not ok and "no AVX512_BF16" in why
    assert precision.resolve_dtype("auto", "cpu") == ("float32", f"auto: {why}")
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    assert precision.fast_bf16("cpu") == (True, "CPU has AMX")
    assert precision.resolve_dtype("auto", "cpu")[0] == "bfloat16"
    assert precision.resolve_dtype("float32", "cpu") == ("float32", "requested")


def test_token_batches_cover_every_text_once_and_respect_the_budget():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 140, size=500)
    batches = token_batches(lengths, budget=1024)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(500))
    padded = [len(b) * int(lengths[b].max()) for b in batches]
    assert max(padded) <= 1024
    assert all(lengths[b].max() <= lengths[c].min() for b, c in zip(batches, batches[1:]))   # shortest first
    assert sum(padded) <= 1.1 * lengths.sum()          # little padding: similar lengths share a batch
    assert [b.tolist() for b in token_batches([3000, 10], budget=1024)] == [[1], [0]]   # too long: alone
    assert token_batches([], budget=8) == []


@pytest.mark.parametrize("model", ["offline", "tiny-gte"])
def test_bf16_embeddings_match_fp32(model, tiny_gte):
    name = OFFLINE_NAME if model == "offline" else str(tiny_gte)
    fp32 = TextEncoder(name, backend="fp32", allow_fallback=False)
    bf16 = TextEncoder(name, backend="bf16", allow_fallback=False)
    assert fp32.model[0].auto_model.dtype == torch.float32      # gte is stored in float16: cast explicitly
    assert bf16.model[0].auto_model.dtype == torch.bfloat16
    a, b = fp32.encode(CAPTIONS), bf16.encode(CAPTIONS)
    cos = _cos(a, b)
    assert cos.mean() >= 0.999 and cos.min() >= 0.999, cos
    assert not np.array_equal(a, b)                             # really another computation
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert bf16.info()["backend"] == "bf16" and bf16.info()["backend_reason"] == "requested"


def test_batching_does_not_change_embeddings():
    enc = TextEncoder(OFFLINE_NAME, backend="fp32")
    together = enc.encode(CAPTIONS)
    alone = np.concatenate([TextEncoder(OFFLINE_NAME, backend="fp32", tokens_per_batch=1).encode([t])
                            for t in CAPTIONS])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_the_cache_keeps_each_backends_embeddings_apart(tmp_path):
    fp32 = TextEncoder(OFFLINE_NAME, backend="fp32", cache_dir=tmp_path)
    a = fp32.encode(CAPTIONS)
    bf16 = TextEncoder(OFFLINE_NAME, backend="bf16", cache_dir=tmp_path)
    b = bf16.encode(CAPTIONS)
    assert bf16.stats["from_disk"] == 0 and bf16.stats["embedded"] == len(CAPTIONS)   # fp32 rows not reused
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"offline-all-MiniLM-L6-v2-{fp32.identity}-fp32", f"offline-all-MiniLM-L6-v2-{fp32.identity}-bf16"])
    again = TextEncoder(OFFLINE_NAME, backend="bf16", cache_dir=tmp_path)
    np.testing.assert_array_equal(again.encode(CAPTIONS), b)
    assert again.stats["from_disk"] == len(CAPTIONS) and again.stats["embedded"] == 0
    assert not np.array_equal(a, b)


def test_text_backend_is_a_validated_config_key():
    from homeclip.training.config import load_config

    assert load_config(None, {"text_backend": "bf16"}).text_backend == "bf16"
    assert load_config(None).text_backend == "auto" and load_config(None).backbone_dtype == "auto"
    with pytest.raises(UserError, match="'text_backend' must be one of"):
        load_config(None, {"text_backend": "int8"})
    with pytest.raises(UserError, match="'backbone_dtype' must be one of"):
        load_config(None, {"backbone_dtype": "float16"})


def test_openvino_backends_match_fp32_and_reuse_the_converted_graph(tmp_path, monkeypatch):
    ov = pytest.importorskip("openvino")
    ref = TextEncoder(OFFLINE_NAME, backend="fp32").encode(CAPTIONS)
    for backend, floor in (("openvino-fp32", 0.99999), ("openvino-bf16", 0.999)):
        enc = TextEncoder(OFFLINE_NAME, backend=backend, cache_dir=tmp_path)
        cos = _cos(enc.encode(CAPTIONS), ref)
        assert cos.min() >= floor, (backend, cos)
        short_alone = enc._embed(CAPTIONS[5:6])            # padding in a batch changes nothing
        np.testing.assert_allclose(enc._embed([CAPTIONS[5], CAPTIONS[2]])[0], short_alone[0], atol=2e-3)
    (graph,) = (tmp_path / "openvino").glob("*.xml")
    assert graph.with_suffix(".bin").is_file()

    def no_conversion(*args, **kwargs):
        raise AssertionError("the cached OpenVINO graph was not used")

    monkeypatch.setattr(ov, "convert_model", no_conversion)
    enc = TextEncoder(OFFLINE_NAME, backend="openvino-bf16", cache_dir=tmp_path)
    assert _cos(enc.encode(CAPTIONS[:2]), ref[:2]).min() >= 0.999
