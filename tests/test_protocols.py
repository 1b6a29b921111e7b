"""Benchmark protocol pieces: few-shot sampling, averaged scores, the label-efficiency curve, calibration."""
import numpy as np
import pytest

from homeclip.evaluation.probe import linear_probe
from homeclip.evaluation.protocols import averaged_scores, few_shot_curve, few_shot_indices, scored
from homeclip.evaluation.zeroshot import (Prototypes, calibrated_scores, predict_calibrated, unit_rows)


def test_few_shot_indices_per_class():
    labels = ["a"] * 10 + ["b"] * 3 + ["c"] * 1
    idx = few_shot_indices(labels, 2, seed=0)
    picked = [labels[i] for i in idx]
    assert picked.count("a") == 2 and picked.count("b") == 2 and picked.count("c") == 1
    assert list(idx) == sorted(idx) and len(set(idx)) == len(idx)
    assert list(few_shot_indices(labels, None, seed=0)) == list(range(14))
    assert list(few_shot_indices(labels, 2, seed=5)) == list(few_shot_indices(labels, 2, seed=5))
    with pytest.raises(ValueError):
        few_shot_indices(labels, 0, seed=0)


def test_few_shot_draws_differ():
    labels = ["a"] * 50 + ["b"] * 50
    draws = {tuple(few_shot_indices(labels, 3, seed=s)) for s in range(10)}
    assert len(draws) > 5


def test_scored_hand_checked():
    # 4 windows over 2 days: 3 right -> accuracy 0.75; macro-F1 = mean(F1_a = 2/3, F1_b = 0.8) = 0.7333.
    out = scored(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["d1", "d1", "d2", "d2"], n_boot=200)
    assert out["accuracy"]["value"] == pytest.approx(0.75)
    assert out["macro_f1"]["value"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert out["accuracy"]["low"] <= 0.75 <= out["accuracy"]["high"]


def test_averaged_scores_mean_of_draws():
    y = ["a", "b", "a", "b"]
    days = ["d1", "d1", "d2", "d2"]
    out = averaged_scores(y, [["a", "b", "a", "b"], ["b", "a", "b", "a"]], days, n_boot=100)
    assert out["accuracy"]["value"] == pytest.approx(0.5)
    assert out["accuracy"]["draws"] == [1.0, 0.0]
    # every resample averages a perfect and a fully wrong draw on the same days: always 0.5
    assert out["accuracy"]["low"] == pytest.approx(0.5) and out["accuracy"]["high"] == pytest.approx(0.5)


def test_few_shot_curve_rises_with_labels():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 8)) * 1.5
    def sample(n):
        y = rng.integers(0, 4, n)
        return centres[y] + rng.normal(size=(n, 8)), np.array([f"c{i}" for i in y], dtype=object)
    tr_x, tr_y = sample(400)
    te_x, te_y = sample(200)
    days = np.repeat(np.arange(20), 10)
    noise_tr, noise_te = rng.normal(size=tr_x.shape), rng.normal(size=te_x.shape)
    curve = few_shot_curve({"good": (tr_x, te_x), "noise": (noise_tr, noise_te)}, tr_y, te_y, days, linear_probe,
                           ks=(1, 20, None), draws=3, n_boot=100)
    assert curve["k"] == [1, 20, "all"]
    assert curve["n_labelled"] == [4.0, 80.0, 400.0]
    good = [entry["macro_f1"]["value"] for entry in curve["good"]]
    noise = [entry["macro_f1"]["value"] for entry in curve["noise"]]
    assert good[-1] > 0.8 and good[-1] >= good[0] - 0.05
    assert max(noise) < 0.45 and all(g > n for g, n in zip(good, noise))
    assert len(curve["good"][0]["macro_f1"]["draws"]) == 3 and len(curve["good"][2]["macro_f1"]["draws"]) == 1


def _protos(matrix):
    matrix = unit_rows(np.asarray(matrix, dtype=np.float32))
    return Prototypes(labels=[f"L{i}" for i in range(len(matrix))], matrix=matrix, texts=[], text_labels=np.array([]),
                      text_matrix=np.zeros((0, matrix.shape[1])))


def test_isoftmax_demotes_a_hub_prototype():
    # Prototype L0 is close to every window (a hub); L1 and L2 are the real classes.
    protos = _protos([[1.0, 0.3, 0.3], [0.2, 1.0, 0.0], [0.2, 0.0, 1.0]])
    windows = unit_rows(np.array([[1.0, 0.5, 0.0], [1.0, 0.0, 0.5]] * 10, dtype=np.float32))
    plain, _ = predict_calibrated(windows, protos)
    assert set(plain) == {"L0"}
    fixed, scores = predict_calibrated(windows, protos, bank=windows, method="isoftmax")
    assert list(fixed[:2]) == ["L1", "L2"]
    assert scores.shape == (20, 3)


def test_centring_removes_a_shared_offset():
    offset = np.array([3.0, 0.0, 0.0, 0.0])
    protos = _protos([[1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 1.0, 0.0], [3.0, 0.0, 0.0, 1.0]])
    windows = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]) + offset
    assert set(predict_calibrated(windows, protos)[0]) == {"L2"}
    centred, _ = predict_calibrated(windows, protos, bank=windows, method="centre")
    assert list(centred) == ["L0", "L1", "L2"]


def test_calibration_errors():
    with pytest.raises(ValueError):
        calibrated_scores(np.ones((2, 3)), np.ones((2, 3)), method="magic")
    with pytest.raises(ValueError):
        calibrated_scores(np.ones((2, 3)), np.ones((2, 3)), bank=None, method="isoftmax")
    plain = calibrated_scores(np.eye(3), np.eye(3))
    assert np.allclose(plain, np.eye(3))


def test_a_one_window_per_class_probe_fits_without_a_warning():
    import warnings

    from homeclip.evaluation.probe import FittedProbe

    x = np.eye(4) * 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        probe = FittedProbe(x, ["a", "b", "c", "d"])
    assert list(probe.predict_scored(x)[0]) == ["a", "b", "c", "d"]
