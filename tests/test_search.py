"""Free-text search: the planted window comes first, the on-disk cache is reused and keyed by content."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest

from homeclip.errors import UserError
from homeclip.evaluation.search import (build_index, cached_index, display_caption, file_digest, format_hits,
                                        search, top_windows, window_summary)
from homeclip.testing import random_windowset
from test_evaluate import FakeModel, FakeTextEncoder, tiny_run

PLANTED = 17


def planted_windows():
    """40 windows; window 17 is the only one whose events are all in the garage."""
    ws = random_windowset(n=40, seq_len=20, seed=5)
    ws.categories["room"] = ws.categories["room"] + ["garage"]
    ws.codes["room"][PLANTED][ws.mask[PLANTED]] = len(ws.categories["room"]) - 1
    ws.captions[PLANTED] = {"long_natural": ["The car door and the garage workbench."], "short_structured": ["garage"]}
    return ws


def test_planted_window_comes_first():
    ws = planted_windows()
    model = FakeModel()
    index = build_index(model, ws, progress=False)
    hits = index.query(model.embed_texts(["someone working in the garage"])[0], k=5)
    assert hits[0]["index"] == PLANTED and hits[0]["rank"] == 1
    assert hits[0]["score"] > 0.95 > hits[1]["score"]
    assert hits[0]["rooms"] == ["garage"]
    assert hits[0]["caption"] == "The car door and the garage workbench."
    assert [h["rank"] for h in hits] == [1, 2, 3, 4, 5]
    assert all(a["score"] >= b["score"] for a, b in zip(hits, hits[1:]))


def test_window_summary_and_helpers():
    ws = random_windowset(n=4, seq_len=10, seed=2)
    s = window_summary(ws, 1)
    assert s["start"] <= s["end"] and s["start"].startswith("2024-01-01")
    assert s["label_l1"] == str(ws.label_l1[1]) and s["caption"] == ws.captions[1]["long"][0]
    assert 1 <= len(s["rooms"]) <= 3 and set(s["rooms"]) <= set(ws.strings("room", 1))
    assert display_caption({"short_structured": ["a"], "long_natural": ["b"]}) == "b"
    assert display_caption({}) == ""
    idx, scores = top_windows(np.eye(3), np.array([0.0, 1.0, 0.0]), k=10)   # k clipped to the gallery
    assert idx.tolist() == [1, 0, 2] and scores.tolist() == [1.0, 0.0, 0.0]


def test_cache_is_reused_and_keyed_by_content(tmp_path):
    ws = planted_windows()
    ckpt, data = tmp_path / "model.pt", tmp_path / "split.json"
    ckpt.write_bytes(b"weights v1")
    data.write_text("windows")
    model = FakeModel()
    first, hit1 = cached_index(lambda: model, ckpt, data, cache_dir=tmp_path / "cache", windows=ws, progress=False)
    second, hit2 = cached_index(lambda: model, ckpt, data, cache_dir=tmp_path / "cache", windows=ws, progress=False)
    assert (hit1, hit2) == (False, True) and model.window_calls == 1
    np.testing.assert_array_equal(first.embeddings, second.embeddings)
    assert first.summaries == second.summaries
    ckpt.write_bytes(b"weights v2")                                   # another checkpoint: another entry
    _, hit3 = cached_index(lambda: model, ckpt, data, cache_dir=tmp_path / "cache", windows=ws, progress=False)
    assert hit3 is False and model.window_calls == 2
    assert len(list((tmp_path / "cache" / "search").glob("*.npy"))) == 2
    assert file_digest(ckpt) != file_digest(data)
    with pytest.raises(UserError, match="not found"):
        file_digest(tmp_path / "absent.pt")


def test_search_end_to_end_with_cache_and_json(tmp_path):
    p = tiny_run(tmp_path, "chronos")
    kwargs = dict(cache_dir=tmp_path / "cache", progress=False, text_encoder=FakeTextEncoder())
    first = search(p["checkpoint"], p["test"], "someone in the kitchen", k=3, **kwargs)
    t0 = time.perf_counter()
    second = search(p["checkpoint"], p["test"], ["someone in the kitchen", "the office"], k=3, **kwargs)
    elapsed = time.perf_counter() - t0
    assert (first["cache_hit"], second["cache_hit"]) == (False, True)
    assert (first["queries_cached"], second["queries_cached"]) == (0, 1)
    assert first["model_loaded"] and second["model_loaded"]           # "the office" was new
    third = search(p["checkpoint"], p["test"], "the office", k=3, **kwargs)
    assert third["model_loaded"] is False and third["queries_cached"] == 1    # everything from the caches
    assert third["queries"][0]["hits"] == second["queries"][1]["hits"]
    assert first["n_windows"] == 48
    assert second["queries"][0]["hits"] == first["queries"][0]["hits"]
    assert [len(q["hits"]) for q in second["queries"]] == [3, 3]
    assert second["timings"]["query_s"] < 1.0 and elapsed < 5.0
    json.dumps(second)
    text = format_hits(second)
    assert 'query: "the office"' in text and "window index from cache, 1/2 queries from cache" in text
    with pytest.raises(UserError, match="non-empty"):
        search(p["checkpoint"], p["test"], ["  "], **kwargs)
    with pytest.raises(UserError, match="-k"):
        search(p["checkpoint"], p["test"], "x", k=0, **kwargs)
    with pytest.raises(UserError, match="not found"):
        search(p["checkpoint"], tmp_path / "absent.json", "x", **kwargs)
