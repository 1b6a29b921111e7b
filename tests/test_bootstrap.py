"""Day bootstrap: point values equal scikit-learn's, intervals contain them and shrink with more days."""
import numpy as np
import pytest

from homeclip.evaluation.bootstrap import (day_bootstrap_classification, day_bootstrap_mean, format_interval)
from homeclip.evaluation.metrics import classification_metrics


def _planted(n_days: int, per_day: int, accuracy: float, seed: int = 0):
    """Windows whose accuracy varies from day to day around `accuracy` (days are the correlated unit)."""
    rng = np.random.default_rng(seed)
    classes = np.array(["a", "b", "c"], dtype=object)
    y_true = classes[rng.integers(0, 3, n_days * per_day)]
    day_accuracy = np.clip(accuracy + rng.uniform(-0.3, 0.3, n_days), 0, 1)
    wrong = rng.random(y_true.shape[0]) > np.repeat(day_accuracy, per_day)
    y_pred = y_true.copy()
    y_pred[wrong] = classes[(np.searchsorted(classes, y_true[wrong]) + 1) % 3]
    days = np.repeat(np.arange(n_days), per_day)
    return y_true, y_pred, days


def test_point_values_match_classification_metrics():
    y_true, y_pred, days = _planted(12, 30, 0.7)
    y_pred[:5] = "z"                       # a predicted class never true: counts as an error
    out = day_bootstrap_classification(y_true, y_pred, days, n_boot=200)
    ref = classification_metrics(y_true, y_pred)
    for m in ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1"):
        assert out[m]["value"] == pytest.approx(ref[m], abs=1e-12)
        assert out[m]["low"] <= out[m]["value"] <= out[m]["high"]
        assert out[m]["n_days"] == 12 and out[m]["unit"] == "day"


def test_hand_built_case():
    # Day 1: both right; day 2: both wrong. Accuracy 0.5; a resample is all-day-1 (1.0), all-day-2 (0.0) or mixed.
    out = day_bootstrap_classification(["a", "b", "a", "b"], ["a", "b", "b", "a"], ["d1", "d1", "d2", "d2"],
                                       metrics=("accuracy",), n_boot=2000, seed=1)["accuracy"]
    assert out["value"] == 0.5
    assert out["low"] == 0.0 and out["high"] == 1.0      # each pure resample has probability 1/4


def test_one_day_gives_a_degenerate_interval():
    out = day_bootstrap_classification(["a", "b", "b"], ["a", "b", "a"], ["d", "d", "d"], n_boot=50)
    assert out["accuracy"]["low"] == out["accuracy"]["high"] == pytest.approx(2 / 3)


def test_intervals_shrink_with_more_days():
    widths = []
    for n_days in (5, 20, 80):
        y_true, y_pred, days = _planted(n_days, 20, 0.6, seed=n_days)
        e = day_bootstrap_classification(y_true, y_pred, days, metrics=("macro_f1",), n_boot=500)["macro_f1"]
        widths.append(e["high"] - e["low"])
    assert widths[0] > widths[1] > widths[2]


def test_deterministic_per_seed():
    y_true, y_pred, days = _planted(10, 10, 0.5)
    a = day_bootstrap_classification(y_true, y_pred, days, seed=3)
    b = day_bootstrap_classification(y_true, y_pred, days, seed=3)
    assert a == b


def test_mean_bootstrap():
    values = [1.0, 1.0, 0.0, 0.0, 0.0]
    out = day_bootstrap_mean(values, ["x", "x", "y", "y", "y"], n_boot=500)
    assert out["value"] == pytest.approx(0.4)
    assert out["low"] == 0.0 and out["high"] == 1.0
    assert format_interval(out) == "0.400 [0.000, 1.000]"
    assert format_interval(None) == "—"


@pytest.mark.parametrize("bad", [dict(y_true=[], y_pred=[], days=[]), dict(y_true=["a"], y_pred=[], days=["d"])])
def test_bad_input(bad):
    with pytest.raises(ValueError):
        day_bootstrap_classification(**bad)
    with pytest.raises(ValueError):
        day_bootstrap_classification(["a"], ["a"], ["d"], metrics=("auc",))
