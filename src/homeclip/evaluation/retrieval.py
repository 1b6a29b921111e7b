"""Caption retrieval on the test split: text->sensor and sensor->text Recall@K and mAP.

Each window's own captions are its relevant items. Duplicates: the text gallery is the set of DISTINCT caption
strings; a caption string shared by several windows is one text query (text->sensor) that counts all those
windows as relevant, and one gallery item (sensor->text) relevant to each of them. Windows without captions are
not sensor->text queries. Recall@K is the fraction of queries with at least one relevant item in the top K.

With the windows' days, every score gets a 95 % day-bootstrap interval (`bootstrap.day_bootstrap_mean` over the
per-query values): a sensor->text query belongs to its window's day, a text->sensor query to the day of the
first window carrying that text.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .bootstrap import day_bootstrap_mean
from .metrics import per_query_retrieval

_CHUNK = 512   # queries per similarity block: bounds memory on large test sets


def caption_gallery(captions: Sequence[Sequence[str]]) -> tuple[list[str], list[np.ndarray]]:
    """Distinct caption texts (first-seen order) and, per text, the windows carrying it."""
    owners: dict[str, list[int]] = {}
    for i, caps in enumerate(captions):
        for c in dict.fromkeys(caps):           # a caption repeated inside one window counts once
            owners.setdefault(c, []).append(i)
    texts = list(owners)
    return texts, [np.asarray(owners[t], dtype=np.int64) for t in texts]


def caption_retrieval(window_emb: np.ndarray, text_emb: np.ndarray, owners: Sequence[np.ndarray],
                      ks: Sequence[int] = (1, 5, 10), days: Sequence | None = None, *, seed: int = 0) -> dict:
    """Recall@K and mAP in both directions, given unit window [N, D] and distinct-text [T, D] embeddings;
    with the windows' `days`, each direction also gets `intervals` (day bootstrap) for every score."""
    n, t = len(window_emb), len(text_emb)
    relevant = np.zeros((t, n), dtype=bool)     # text x window
    for j, idx in enumerate(owners):
        relevant[j, idx] = True
    window_days = None if days is None else np.asarray(days).astype(str)
    text_days = None if days is None else np.asarray([window_days[idx[0]] for idx in owners], dtype=object)
    t2s = _chunked(text_emb, window_emb, relevant, ks, text_days, seed)
    s2t = _chunked(window_emb, text_emb, relevant.T, ks, window_days, seed)
    return {"n_windows": n, "n_texts": t, "text_to_sensor": t2s, "sensor_to_text": s2t}


def _chunked(queries: np.ndarray, gallery: np.ndarray, relevant: np.ndarray, ks: Sequence[int],
             query_days: np.ndarray | None, seed: int) -> dict:
    parts: dict[str, list[np.ndarray]] = {}
    for lo in range(0, len(queries), _CHUNK):
        sims = queries[lo:lo + _CHUNK] @ gallery.T
        for key, values in per_query_retrieval(sims, relevant[lo:lo + _CHUNK], ks).items():
            parts.setdefault(key, []).append(values)
    joined = {key: np.concatenate(v) for key, v in parts.items()}
    n_queries = len(joined.get("AP", []))
    out: dict = {f"R@{k}": float(joined[f"R@{k}"].mean()) if n_queries else None for k in ks}
    out["mAP"] = float(joined["AP"].mean()) if n_queries else None
    out["n_queries"] = int(n_queries)
    if query_days is not None and n_queries:
        days = np.asarray(query_days)[relevant.any(axis=1)]   # per_query_retrieval keeps only these queries
        out["intervals"] = {("mAP" if key == "AP" else key): day_bootstrap_mean(values, days, seed=seed)
                            for key, values in joined.items()}
    return out
