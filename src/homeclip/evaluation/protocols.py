"""Pure pieces of the benchmark protocols: few-shot label sampling, the label-efficiency curve, and scores
with day-bootstrap intervals. They work on embeddings and labels only; `homeclip.benchmark` supplies them.

Few-shot: k labelled windows per class are drawn from the target home's TRAIN days (every window of a class
with fewer than k), a probe is fit on them alone, and the test days are scored. The same draws feed the
bag-of-sensors baseline, so both see exactly the same labels. Several draws are averaged; the interval is the
day bootstrap of that average (every draw resamples the same days).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .bootstrap import DEFAULT_RESAMPLES, classification_samples, interval_from_samples

FitPredict = Callable[[np.ndarray, Sequence[str], np.ndarray], np.ndarray]
HEADLINE_METRICS = ("macro_f1", "accuracy", "balanced_accuracy")


def few_shot_indices(labels: Sequence[str], k: int | None, seed: int) -> np.ndarray:
    """Sorted indices of k windows per class drawn without replacement (all of a class with fewer; None: all)."""
    labels = np.asarray([str(y) for y in labels], dtype=object)
    if k is None:
        return np.arange(labels.shape[0])
    if k < 1:
        raise ValueError(f"k must be a positive number of windows per class, got {k}")
    rng = np.random.default_rng(seed)
    picked = []
    for label in sorted(set(labels)):
        rows = np.flatnonzero(labels == label)
        picked.append(rows if rows.shape[0] <= k else rng.choice(rows, size=k, replace=False))
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)


def scored(y_true: Sequence[str], y_pred: Sequence[str], days: Sequence, *, n_boot: int = DEFAULT_RESAMPLES,
           seed: int = 0) -> dict[str, dict]:
    """Headline metrics with their day-bootstrap intervals ({metric: {value, low, high, ...}})."""
    point, samples, n_days = classification_samples(y_true, y_pred, days, n_boot=n_boot, seed=seed)
    return {m: interval_from_samples(point[m], samples[m], n_days) for m in HEADLINE_METRICS}


def averaged_scores(y_true: Sequence[str], predictions: Sequence[Sequence[str]], days: Sequence, *,
                    n_boot: int = DEFAULT_RESAMPLES, seed: int = 0) -> dict[str, dict]:
    """The mean over several prediction draws of each headline metric, with the day bootstrap of that mean."""
    if not predictions:
        raise ValueError("no predictions to average")
    points, samples, n_days = [], [], 0
    for y_pred in predictions:
        p, s, n_days = classification_samples(y_true, y_pred, days, n_boot=n_boot, seed=seed)
        points.append(p)
        samples.append(s)
    return {m: {**interval_from_samples(float(np.mean([p[m] for p in points])),
                                        np.mean([s[m] for s in samples], axis=0), n_days),
                "draws": [float(p[m]) for p in points]}
            for m in HEADLINE_METRICS}


def few_shot_curve(features: dict[str, tuple[np.ndarray, np.ndarray]], train_y: Sequence[str],
                   test_y: Sequence[str], test_days: Sequence, fit_predict: FitPredict, *,
                   ks: Sequence[int | None] = (1, 5, 20, None), draws: int = 5, seed: int = 0,
                   n_boot: int = DEFAULT_RESAMPLES) -> dict:
    """Label-efficiency curve: for each k and each named feature set (train, test), a probe fit on the same
    k-per-class draws of the train windows; {"k": [...], "n_labelled": [...], name: [scores per k]}."""
    train_y = np.asarray([str(y) for y in train_y], dtype=object)
    out: dict = {"k": [("all" if k is None else int(k)) for k in ks], "n_labelled": [], "draws": draws}
    for name in features:
        out[name] = []
    for k in ks:
        n_draws = 1 if k is None else draws
        picks = [few_shot_indices(train_y, k, seed + d) for d in range(n_draws)]
        out["n_labelled"].append(float(np.mean([len(p) for p in picks])))
        for name, (train_x, test_x) in features.items():
            preds = [fit_predict(train_x[idx], train_y[idx], test_x) for idx in picks]
            out[name].append(averaged_scores(test_y, preds, test_days, n_boot=n_boot, seed=seed))
    return out
