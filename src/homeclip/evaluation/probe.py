"""Supervised read-outs of frozen embeddings, fit on the train split only: a linear probe and cosine k-NN.

The test split is never used for fitting or tuning: the regularisation strength is a fixed setting.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ProbeConfig:
    """Settings of the linear probe and the k-NN read-out (fixed, not tuned on test)."""

    C: float = 1.0                          # inverse L2 strength of the logistic regression
    class_weight: str | None = "balanced"   # reweight classes so rare activities count (macro-F1 is the headline)
    max_iter: int = 2000
    knn_k: int = 5


def linear_probe(train_x: np.ndarray, train_y: Sequence[str], test_x: np.ndarray,
                 cfg: ProbeConfig = ProbeConfig()) -> np.ndarray:
    """StandardScaler + LogisticRegression fit on train, predicting test labels."""
    return linear_probe_scored(train_x, train_y, test_x, cfg)[0]


def linear_probe_scored(train_x: np.ndarray, train_y: Sequence[str], test_x: np.ndarray,
                        cfg: ProbeConfig = ProbeConfig()) -> tuple[np.ndarray, np.ndarray]:
    """The linear probe's test predictions and the probability it gives each predicted label."""
    return FittedProbe(train_x, train_y, cfg).predict_scored(test_x)


class FittedProbe:
    """StandardScaler + LogisticRegression fit once on train embeddings; asked again and again (watch asks it
    window by window). With a single train class every prediction is that class, with certainty."""

    def __init__(self, train_x: np.ndarray, train_y: Sequence[str], cfg: ProbeConfig = ProbeConfig()):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        y = _train_labels(train_y)
        classes = np.unique(y)
        self.single = classes[0] if len(classes) == 1 else None
        self.estimator = make_pipeline(StandardScaler(), LogisticRegression(C=cfg.C, class_weight=cfg.class_weight,
                                                                            max_iter=cfg.max_iter))
        if self.single is None:
            import warnings

            with _one_thread(), warnings.catch_warnings():
                # A few-shot fit (one window per class) trips scikit-learn's guess that the labels might be a
                # regression target; they are class names by construction.
                warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
                self.estimator.fit(np.asarray(train_x, dtype=np.float64), y)

    def predict_scored(self, test_x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predictions for `test_x` and the probability of each."""
        test_x = np.asarray(test_x, dtype=np.float64)
        if self.single is not None:
            return np.full(len(test_x), self.single, dtype=object), np.ones(len(test_x))
        with _one_thread():
            proba = self.estimator.predict_proba(test_x)
        best = proba.argmax(axis=1)
        return np.asarray(self.estimator.classes_, dtype=object)[best], proba[np.arange(len(best)), best]


def knn_classify(train_x: np.ndarray, train_y: Sequence[str], test_x: np.ndarray,
                 cfg: ProbeConfig = ProbeConfig()) -> np.ndarray:
    """Majority label of the k nearest train embeddings by cosine similarity."""
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=max(1, min(cfg.knn_k, len(train_y))), metric="cosine")
    return _fit_predict(knn, np.asarray(train_x, dtype=np.float32), train_y, np.asarray(test_x, dtype=np.float32))


def _fit_predict(estimator, train_x: np.ndarray, train_y: Sequence[str], test_x: np.ndarray) -> np.ndarray:
    """Predictions of `estimator` fit on train."""
    train_y = _train_labels(train_y)
    classes = np.unique(train_y)
    if len(classes) == 1:   # nothing can be fit: every prediction is the one class
        return np.full(len(test_x), classes[0], dtype=object)
    with _one_thread():
        estimator.fit(train_x, train_y)
        return np.asarray(estimator.predict(test_x), dtype=object)


def _train_labels(train_y: Sequence[str]) -> np.ndarray:
    """Train labels as strings; ValueError when there are none."""
    train_y = np.asarray([str(y) for y in train_y], dtype=object)
    if len(train_y) == 0:
        raise ValueError("the train split is empty: nothing to fit a probe on")
    return train_y


def _one_thread():
    """One BLAS thread: these fits are small, and on a busy 2-core machine threaded BLAS was 10-40x slower."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)
