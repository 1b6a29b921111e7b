"""Pure pieces of the benchmark protocols: few-shot label sampling, the label-efficiency curve, and scores
with day-bootstrap intervals. They work on embeddings and labels only; `homeclip.benchmark` supplies them.

Few-shot: k labelled windows per class are drawn from the target home's TRAIN days (every window of a class
with fewer than k), a probe is fit on them alone, and the test days are scored. The same draws feed the
bag-of-sensors baseline, so both see exactly the same labels. Several draws are averaged; the interval is the
day bootstrap of that average (every draw resamples the same days).

Label efficiency (`label_efficiency_curve`): with a budget of b labelled windows and no label known in advance,
b train windows are chosen (nearest the k-means or SCAN cluster centres, or at random), only their labels are
read, and they are propagated (by cluster or by a probe: `discovery.ClusterLabeller`) to score the test days.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

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


LABEL_EFFICIENT_METHODS = ("kmeans_cluster", "kmeans_probe", "scan_cluster", "scan_probe", "random_probe")


def label_efficiency_curve(train_x: np.ndarray, test_x: np.ndarray, train_y: Mapping[str, Sequence[str]],
                           test_y: Mapping[str, Sequence[str]], test_days: Sequence, *,
                           budgets: Sequence[int] = (10, 30, 100), methods: Sequence[str] = LABEL_EFFICIENT_METHODS,
                           draws: int = 3, seed: int = 0, n_boot: int = DEFAULT_RESAMPLES) -> dict[str, dict]:
    """Macro-F1 (and the other headline metrics) against the number of labelled train windows, per level:
    {level: {"budgets", "draws", "methods": {"<selection>_<propagation>": [entry per budget]}}}. An entry is the
    mean over `draws` seeded selections with its day-bootstrap interval, plus `n_labelled` (windows asked) and
    `classes_asked` (distinct labels among them). One clustering serves every level and propagation."""
    from .discovery import ClusterLabeller

    levels = list(train_y)
    train_y = {lv: np.asarray([str(y) for y in train_y[lv]], dtype=object) for lv in levels}
    out = {lv: {"budgets": [int(b) for b in budgets], "draws": draws, "methods": {m: [] for m in methods}}
           for lv in levels}
    selections = list(dict.fromkeys(m.split("_")[0] for m in methods))
    for budget in budgets:
        for selection in selections:
            fitted = [ClusterLabeller(int(budget), clustering=selection, propagation="probe",
                                      random_state=seed + d).fit(train_x) for d in range(draws)]
            for method in (m for m in methods if m.split("_")[0] == selection):
                propagation = method.split("_", 1)[1]
                for lv in levels:
                    preds, asked_classes = [], []
                    for labeller in fitted:
                        answers = np.full(len(train_x), "", dtype=object)
                        asked = labeller.query_indices_
                        answers[asked] = train_y[lv][asked]     # the only labels read: the asked windows'
                        labeller.set_params(propagation=propagation).propagate(answers)
                        preds.append(labeller.predict(test_x))
                        asked_classes.append(len(set(train_y[lv][asked])))
                    entry = averaged_scores(test_y[lv], preds, test_days, n_boot=n_boot, seed=seed)
                    entry["n_labelled"] = float(np.mean([len(f.query_indices_) for f in fitted]))
                    entry["classes_asked"] = float(np.mean(asked_classes))
                    out[lv]["methods"][method].append(entry)
    return out
