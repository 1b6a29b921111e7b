"""Metrics, zero-shot rules, probes, retrieval and baselines against values computed by hand."""
from __future__ import annotations

import numpy as np
import pytest

from homeclip.evaluation import baselines, metrics, zeroshot
from homeclip.evaluation.probe import ProbeConfig, knn_classify, linear_probe
from homeclip.evaluation.retrieval import caption_gallery, caption_retrieval
from homeclip.testing import random_windowset

# 6 windows, 3 classes.
Y_TRUE = ["A", "A", "B", "B", "C", "C"]
Y_PRED = ["A", "B", "B", "B", "C", "A"]


def test_classification_metrics_by_hand():
    m = metrics.classification_metrics(Y_TRUE, Y_PRED)
    # A: P 1/2 R 1/2 F 1/2; B: P 2/3 R 1 F 0.8; C: P 1 R 1/2 F 2/3.
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["balanced_accuracy"] == pytest.approx((0.5 + 1 + 0.5) / 3)
    assert m["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert m["weighted_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)   # equal supports
    assert m["per_class"]["B"] == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2})
    assert m["confusion"] == {"rows": ["A", "B", "C"], "columns": ["A", "B", "C"],
                              "matrix": [[1, 1, 0], [0, 2, 0], [1, 0, 1]]}


def test_absent_classes_are_listed_not_scored():
    pred = Y_PRED[:5] + ["D"]          # predicts a class with no test window
    m = metrics.classification_metrics(Y_TRUE, pred, known_classes=["A", "B", "C", "D", "E"])
    assert m["classes_scored"] == ["A", "B", "C"]
    assert m["classes_not_scored"] == ["D", "E"]
    assert set(m["per_class"]) == {"A", "B", "C"}
    # A: P 1 R 1/2 F 2/3; B 0.8; C: P 1 R 1/2 F 2/3 (the D prediction is simply an error for C).
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.8 + 2 / 3) / 3)
    assert m["confusion"]["columns"] == ["A", "B", "C", "D"]
    assert m["confusion"]["matrix"][2] == [0, 0, 1, 1]
    assert [sum(r) for r in m["confusion"]["matrix"]] == [2, 2, 2]


def test_classification_metrics_bad_input():
    with pytest.raises(ValueError, match="empty"):
        metrics.classification_metrics([], [])
    with pytest.raises(ValueError, match="labels"):
        metrics.classification_metrics(["A"], ["A", "B"])


def test_recall_and_map_by_hand():
    sims = np.array([[0.9, 0.1, 0.8, 0.3],     # relevant 2, 3 -> ranks 2 and 3
                     [0.2, 0.7, 0.1, 0.0],     # relevant 1 -> rank 1
                     [0.5, 0.5, 0.5, 0.5]])    # no relevant item: excluded
    rel = np.array([[0, 0, 1, 1], [0, 1, 0, 0], [0, 0, 0, 0]], dtype=bool)
    r = metrics.recall_at_k(sims, rel, ks=(1, 2, 5))
    assert r == pytest.approx({"R@1": 0.5, "R@2": 1.0, "R@5": 1.0})
    ap0 = (1 / 2 + 2 / 3) / 2
    assert metrics.mean_average_precision(sims, rel) == pytest.approx((ap0 + 1.0) / 2)


def test_ties_keep_gallery_order_and_shape_errors():
    sims = np.array([[0.5, 0.5, 0.5]])
    assert metrics.ranking(sims).tolist() == [[0, 1, 2]]
    assert metrics.recall_at_k(sims, np.array([[0, 1, 0]], dtype=bool), ks=(1, 2)) == {"R@1": 0.0, "R@2": 1.0}
    with pytest.raises(ValueError, match="shape"):
        metrics.recall_at_k(sims, np.ones((2, 3), dtype=bool))
    with pytest.raises(ValueError, match="no query"):
        metrics.mean_average_precision(sims, np.zeros((1, 3), dtype=bool))


def test_label_precision_at_k_by_hand():
    gallery = ["A", "A", "B", "B", "C", "C"]
    sims = np.array([[0.9, 0.2, 0.8, 0.1, 0.0, 0.3],    # ranked labels A B C A B C
                     [0.1, 0.2, 0.9, 0.8, 0.0, 0.0]])   # ranked labels B B A A C C
    p = metrics.label_precision_at_k(sims, ["A", "B"], gallery, ks=(1, 2, 3, 10))
    assert p == pytest.approx({"P@1": 1.0, "P@2": 0.75, "P@3": 0.5, "P@10": 1 / 3})   # K=10 clipped to 6


def test_zero_shot_planted_case():
    vectors = {"a kettle boils": [1, 0, 0], "toast in the toaster": [0.8, 0.6, 0], "lights out": [0, 0, 1],
               "snoring": [0, 0.2, 0.98], "bed to toilet": [0, 1, 0]}
    embed = lambda texts: np.array([vectors[t] for t in texts], dtype=np.float32)  # noqa: E731
    desc, fallback = zeroshot.label_descriptions(
        ["Cook", "Sleep", "Bed_to_Toilet"],
        {"Cook": ["a kettle boils", "toast in the toaster"], "Sleep": ["lights out", "snoring"], "Relax": ["x"]})
    assert fallback == ["Bed_to_Toilet"] and desc["Bed_to_Toilet"] == ["bed to toilet"]
    protos = zeroshot.build_prototypes(desc, embed)
    assert protos.labels == ["Cook", "Sleep", "Bed_to_Toilet"]
    np.testing.assert_allclose(np.linalg.norm(protos.matrix, axis=1), 1.0, rtol=1e-6)
    # Cook prototype = normalise(mean([1,0,0],[0.8,0.6,0])) = normalise([0.9, 0.3, 0]).
    np.testing.assert_allclose(protos.matrix[0], np.array([0.9, 0.3, 0]) / np.hypot(0.9, 0.3), rtol=1e-6)
    windows = np.array([[2.0, 0.1, 0], [0, 0.1, 3], [0, 0.8, 0.6], [0.7, 0.7, 0]])
    pred, sims = zeroshot.predict_nearest(windows, protos)
    # Window 2: cos 0.8 with the bed-to-toilet prototype, 0.677 with Sleep's.
    assert pred.tolist() == ["Cook", "Sleep", "Bed_to_Toilet", "Cook"]
    assert sims.shape == (4, 3)
    # k=3 vote for window 2: bed to toilet .8, snoring .748, lights out .6 -> Sleep wins 2 votes to 1.
    assert zeroshot.predict_knn_vote(windows, protos, k=3).tolist() == ["Cook", "Sleep", "Sleep", "Cook"]
    # k=1 equals nearest description.
    assert zeroshot.predict_knn_vote(windows, protos, k=1).tolist() == ["Cook", "Sleep", "Bed_to_Toilet", "Cook"]


def test_humanise():
    assert zeroshot.humanise("Bed_to_Toilet") == "bed to toilet"
    assert zeroshot.humanise("Master-Bathroom") == "master bathroom"
    assert zeroshot.humanise("") == "no activity"


def test_probe_and_knn_on_separable_data():
    rng = np.random.default_rng(0)
    centres = np.eye(3) * 5
    y = np.repeat(["a", "b", "c"], 20)
    x = centres[np.repeat(np.arange(3), 20)] + rng.normal(size=(60, 3))
    xt = centres[[0, 1, 2]] + 0.1
    assert linear_probe(x, y, xt).tolist() == ["a", "b", "c"]
    assert knn_classify(x, y, xt, ProbeConfig(knn_k=3)).tolist() == ["a", "b", "c"]
    # One class in train: nothing to fit, every prediction is that class.
    assert linear_probe(x[:5], ["a"] * 5, xt).tolist() == ["a"] * 3
    with pytest.raises(ValueError, match="empty"):
        knn_classify(x[:0], [], xt)


def test_majority_and_bag_of_sensors_counts():
    assert baselines.majority_class(["b", "a", "b", "a"], 2).tolist() == ["a", "a"]   # tie: alphabetical
    assert baselines.majority_class(["b", "b", "a"], 1).tolist() == ["b"]
    ws = random_windowset(n=8, seq_len=10, seed=1)
    train, test = ws.subset([0, 1, 2, 3]), ws.subset([4, 5, 6, 7])
    vocab = baselines.bag_vocabulary(train)
    counts, unseen = baselines.bag_counts(test, vocab)
    # Every real event is counted once per field, minus the events whose value train never saw.
    assert counts.sum() + unseen == 3 * test.mask.sum()
    i = 0
    sensors = test.strings("sensor", i)
    for s in set(sensors):
        if f"sensor={s}" in vocab:
            assert counts[i, vocab.index(f"sensor={s}")] == sensors.count(s)
    xtr, xte, info = baselines.bag_of_sensors_features(train, test)
    assert xtr.shape == (4, len(vocab)) and xte.shape == (4, len(vocab))
    assert info["test_events_unseen_in_train"] == unseen


def test_caption_embeddings_mean_and_empty():
    emb = {"x": np.array([1.0, 0.0]), "y": np.array([0.0, 1.0])}
    out, empty = baselines.caption_embeddings([["x", "y"], [], ["x"]], emb)
    np.testing.assert_allclose(out, [[2 ** -0.5, 2 ** -0.5], [0, 0], [1, 0]], rtol=1e-6)
    assert empty == 1


def test_caption_gallery_duplicates_and_retrieval():
    captions = [["kitchen", "kitchen", "stove"], ["bed"], ["kitchen"], []]
    texts, owners = caption_gallery(captions)
    assert texts == ["kitchen", "stove", "bed"]
    assert [o.tolist() for o in owners] == [[0, 2], [0], [1]]
    windows = np.array([[1, 0, 0], [0, 1, 0], [0.9, 0.1, 0], [0, 0, 1]], dtype=np.float32)
    text_emb = np.array([[1, 0, 0], [0.8, 0, 0.6], [0, 1, 0]], dtype=np.float32)
    r = caption_retrieval(windows, text_emb, owners, ks=(1, 2))
    assert r["n_windows"] == 4 and r["n_texts"] == 3
    # text->sensor: "kitchen" ranks windows 0,2 first (AP 1); "stove" ranks 0 first; "bed" ranks 1 first.
    assert r["text_to_sensor"] == pytest.approx({"R@1": 1.0, "R@2": 1.0, "mAP": 1.0, "n_queries": 3})
    # sensor->text: window 3 has no caption (not a query); window 1 -> "bed" first; 0 and 2 -> "kitchen" first.
    assert r["sensor_to_text"]["n_queries"] == 3
    assert r["sensor_to_text"]["R@1"] == pytest.approx(1.0)
    # window 0: kitchen (rel), stove (rel) -> AP 1; window 2: kitchen (rel) first -> AP 1; window 1: AP 1.
    assert r["sensor_to_text"]["mAP"] == pytest.approx(1.0)
