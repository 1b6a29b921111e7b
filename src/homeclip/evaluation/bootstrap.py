"""95 % bootstrap intervals over test DAYS: the one uncertainty routine of reports, compare and benchmark.

Windows of one day are strongly correlated (overlapping windows, one routine), so resampling windows would
give intervals that are far too narrow. We resample whole days with replacement and recompute the metric on
the windows of the drawn days (a day drawn twice counts twice): a cluster bootstrap with days as clusters.

Classification metrics are computed from one confusion matrix per day, so B resamples cost one [B, D] x
[D, K*K] product instead of B scikit-learn calls. Per resample, the scored classes are those present in its
true labels (the same rule as `metrics.classification_metrics`).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1")
DEFAULT_RESAMPLES = 1000


def _day_weights(days: Sequence, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Day index of each item, and [n_boot, D] counts of how often each day is drawn per resample."""
    _, day_index = np.unique(np.asarray(days).astype(str), return_inverse=True)
    n_days = int(day_index.max()) + 1 if day_index.size else 0
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_days, size=(n_boot, n_days))
    weights = np.zeros((n_boot, n_days), dtype=np.float64)
    np.add.at(weights, (np.arange(n_boot)[:, None], draws), 1.0)
    return day_index, weights


def _scores_from_confusions(conf: np.ndarray) -> dict[str, np.ndarray]:
    """Every classification metric of each confusion matrix in `conf` [..., K, K] (rows true, columns predicted)."""
    support = conf.sum(axis=-1)
    predicted = conf.sum(axis=-2)
    tp = np.diagonal(conf, axis1=-2, axis2=-1)
    present = support > 0
    n_present = np.maximum(present.sum(axis=-1), 1)
    total = np.maximum(support.sum(axis=-1), 1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(present, tp / np.maximum(support, 1e-12), 0.0)
        precision = np.where(predicted > 0, tp / np.maximum(predicted, 1e-12), 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    f1 = np.where(present, f1, 0.0)
    return {
        "accuracy": tp.sum(axis=-1) / total,
        "balanced_accuracy": recall.sum(axis=-1) / n_present,
        "macro_f1": f1.sum(axis=-1) / n_present,
        "weighted_f1": (f1 * support).sum(axis=-1) / total,
    }


def _interval(point: float, samples: np.ndarray, level: float, n_days: int, n_boot: int) -> dict:
    lo, hi = np.quantile(samples, [(1 - level) / 2, 1 - (1 - level) / 2]) if samples.size else (np.nan, np.nan)
    return {"value": float(point), "low": float(lo), "high": float(hi), "level": level, "n_days": n_days,
            "n_resamples": n_boot, "unit": "day"}


def classification_samples(y_true: Sequence[str], y_pred: Sequence[str], days: Sequence, *,
                           n_boot: int = DEFAULT_RESAMPLES, seed: int = 0) -> tuple[dict, dict, int]:
    """Point values, [n_boot] resampled values per metric, and the number of days. The same `days` and `seed`
    give the same resampled days, so samples of several predictions (e.g. few-shot draws) can be averaged."""
    y_true = np.asarray([str(y) for y in y_true], dtype=object)
    y_pred = np.asarray([str(y) for y in y_pred], dtype=object)
    if not (len(y_true) == len(y_pred) == len(days)):
        raise ValueError(f"y_true, y_pred and days differ in length ({len(y_true)}, {len(y_pred)}, {len(days)})")
    if len(y_true) == 0:
        raise ValueError("cannot bootstrap an empty test set")
    classes, codes = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
    k = len(classes)
    t, p = codes[: len(y_true)], codes[len(y_true):]
    day_index, weights = _day_weights(days, n_boot, seed)
    n_days = weights.shape[1]
    per_day = np.zeros((n_days, k * k))
    np.add.at(per_day, (day_index, t * k + p), 1.0)
    point = _scores_from_confusions(per_day.sum(axis=0).reshape(k, k))
    samples = _scores_from_confusions((weights @ per_day).reshape(n_boot, k, k))
    return point, samples, n_days


def interval_from_samples(point: float, samples: np.ndarray, n_days: int, level: float = 0.95) -> dict:
    """The bootstrap entry ({value, low, high, ...}) of a point value and its resampled values."""
    return _interval(point, np.asarray(samples), level, n_days, int(np.asarray(samples).shape[0]))


def day_bootstrap_classification(y_true: Sequence[str], y_pred: Sequence[str], days: Sequence, *,
                                 metrics: Sequence[str] = CLASSIFICATION_METRICS, n_boot: int = DEFAULT_RESAMPLES,
                                 level: float = 0.95, seed: int = 0) -> dict[str, dict]:
    """Point value and day-bootstrap interval of classification metrics: {metric: {value, low, high, ...}}."""
    unknown = [m for m in metrics if m not in CLASSIFICATION_METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {CLASSIFICATION_METRICS}")
    point, samples, n_days = classification_samples(y_true, y_pred, days, n_boot=n_boot, seed=seed)
    return {m: _interval(point[m], samples[m], level, n_days, n_boot) for m in metrics}


def day_bootstrap_mean(values: Sequence[float], days: Sequence, *, n_boot: int = DEFAULT_RESAMPLES,
                       level: float = 0.95, seed: int = 0) -> dict:
    """Mean of per-item values (e.g. per-query recall) with a day-bootstrap interval."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape[0] != len(days):
        raise ValueError(f"values and days differ in length ({values.shape[0]}, {len(days)})")
    if values.size == 0:
        raise ValueError("cannot bootstrap an empty set of values")
    day_index, weights = _day_weights(days, n_boot, seed)
    sums = np.bincount(day_index, weights=values, minlength=weights.shape[1])
    counts = np.bincount(day_index, minlength=weights.shape[1]).astype(np.float64)
    samples = (weights @ sums) / np.maximum(weights @ counts, 1e-12)
    return _interval(values.mean(), samples, level, weights.shape[1], n_boot)


def format_interval(entry: dict | None, digits: int = 3) -> str:
    """'0.712 [0.655, 0.768]' for a bootstrap entry; '—' when there is none; no interval from a single day."""
    if not entry:
        return "—"
    if entry.get("n_days", 2) < 2:   # one day resampled is always that day: the "interval" would be a point
        return f"{entry['value']:.{digits}f} [one test day: no interval]"
    return f"{entry['value']:.{digits}f} [{entry['low']:.{digits}f}, {entry['high']:.{digits}f}]"
