"""Pure metric functions over numpy arrays: classification scores, retrieval Recall@K / mAP, label precision@K.

Classification scores use only the classes present in the true labels (a class with no test windows cannot
have a recall); `classification_metrics` lists the known classes it did not score. Retrieval ranks are
computed with a stable sort of the similarities (ties keep gallery order), so results are deterministic.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def classification_metrics(y_true: Sequence[str], y_pred: Sequence[str],
                           known_classes: Sequence[str] = ()) -> dict:
    """Accuracy, balanced accuracy, macro/weighted F1, per-class P/R/F1/support and the confusion matrix.

    Scored classes are those present in `y_true`; `known_classes` missing from `y_true` are listed under
    "classes_not_scored". Predictions of an unscored class count as errors (they lower the true class's recall)."""
    import warnings

    from sklearn.metrics import balanced_accuracy_score, confusion_matrix, precision_recall_fscore_support

    y_true = np.asarray([str(y) for y in y_true], dtype=object)
    y_pred = np.asarray([str(y) for y in y_pred], dtype=object)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    if len(y_true) == 0:
        raise ValueError("cannot score an empty test set")
    scored = sorted(set(y_true))
    not_scored = sorted(set(map(str, known_classes)) - set(scored))
    with warnings.catch_warnings():   # predicting an unscored class is allowed (it counts as an error)
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        balanced_accuracy = balanced_accuracy_score(y_true, y_pred)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=scored, zero_division=0)
    support = s.astype(np.float64)
    # Columns: the scored classes, then any other class the method predicted (so every row sums to its support).
    extra = sorted(set(y_pred) - set(scored))
    cm = confusion_matrix(y_true, y_pred, labels=scored + extra)[: len(scored)]
    return {
        "n": int(len(y_true)),
        "accuracy": float(np.mean(y_true == y_pred)),
        "balanced_accuracy": float(balanced_accuracy),
        "macro_f1": float(f.mean()),
        "weighted_f1": float((f * support).sum() / support.sum()),
        "classes_scored": scored,
        "classes_not_scored": not_scored,
        "per_class": {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, c in enumerate(scored)},
        "confusion": {"rows": scored, "columns": scored + extra, "matrix": cm.astype(int).tolist()},
    }


def ranking(similarity: np.ndarray) -> np.ndarray:
    """Gallery indices per query, best first (stable: ties keep gallery order)."""
    return np.argsort(-np.asarray(similarity, dtype=np.float64), axis=1, kind="stable")


def per_query_retrieval(similarity: np.ndarray, relevant: np.ndarray,
                        ks: Sequence[int] = (1, 5, 10)) -> dict[str, np.ndarray]:
    """Per-query hit@K (1.0 if any relevant item is in the top K) and average precision.

    similarity [Q, G], relevant bool [Q, G]. Queries with no relevant item are dropped (the arrays hold only
    scored queries), so chunks of queries can be concatenated and averaged exactly."""
    rel_sorted = _relevance_in_rank_order(similarity, relevant)
    n_rel = rel_sorted.sum(axis=1)
    rel_sorted, n_rel = rel_sorted[n_rel > 0], n_rel[n_rel > 0]
    hits = np.cumsum(rel_sorted, axis=1)
    ranks = np.arange(1, rel_sorted.shape[1] + 1)
    out = {f"R@{k}": rel_sorted[:, : min(k, rel_sorted.shape[1])].any(axis=1).astype(np.float64) for k in ks}
    out["AP"] = np.where(rel_sorted, hits / ranks, 0.0).sum(axis=1) / np.maximum(n_rel, 1)
    return out


def recall_at_k(similarity: np.ndarray, relevant: np.ndarray, ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """Recall@K as a hit rate: the fraction of queries with at least one relevant item in their top K.

    similarity [Q, G], relevant bool [Q, G]; queries with no relevant item are excluded."""
    per_query = per_query_retrieval(similarity, relevant, ks)
    _require_queries(per_query)
    return {f"R@{k}": float(per_query[f"R@{k}"].mean()) for k in ks}


def mean_average_precision(similarity: np.ndarray, relevant: np.ndarray) -> float:
    """Mean over queries of average precision (mean of precision at the rank of each relevant item)."""
    per_query = per_query_retrieval(similarity, relevant, ks=())
    _require_queries(per_query)
    return float(per_query["AP"].mean())


def _require_queries(per_query: dict[str, np.ndarray]) -> None:
    if len(per_query["AP"]) == 0:
        raise ValueError("no query has a relevant item")


def label_precision_at_k(similarity: np.ndarray, query_labels: Sequence[str], gallery_labels: Sequence[str],
                         ks: Sequence[int] = (5, 10, 50)) -> dict[str, float]:
    """Label precision@K: for each label query, the fraction of its top-K gallery items carrying that label.

    Averaged over queries; K larger than the gallery is clipped to the gallery size. (This is what the
    reference implementation called "Recall@K".)"""
    gallery = np.asarray([str(g) for g in gallery_labels], dtype=object)
    relevant = np.asarray([[g == str(q) for g in gallery] for q in query_labels], dtype=bool)
    rel_sorted = _relevance_in_rank_order(similarity, relevant)
    out = {}
    for k in ks:
        kk = min(k, rel_sorted.shape[1])
        out[f"P@{k}"] = float(rel_sorted[:, :kk].mean(axis=1).mean())
    return out


def _relevance_in_rank_order(similarity: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    similarity = np.asarray(similarity)
    relevant = np.asarray(relevant, dtype=bool)
    if similarity.shape != relevant.shape or similarity.ndim != 2:
        raise ValueError(f"similarity {similarity.shape} and relevance {relevant.shape} must be the same [Q, G] shape")
    return np.take_along_axis(relevant, ranking(similarity), axis=1)
