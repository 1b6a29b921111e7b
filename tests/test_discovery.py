"""Label-efficient discovery: the planted case (one label per class recovers every class), the propagation
rules on hand-built clusters, the budget always spent, and the label-efficiency curve."""
from __future__ import annotations

import numpy as np
import pytest

from homeclip.evaluation.discovery import ClusterLabeller, farthest_first, nearest_neighbours
from homeclip.evaluation.protocols import label_efficiency_curve

CLASSES = np.array(["cook", "sleep", "wash", "work"], dtype=object)


def planted(n_per_class: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four tight, well-separated blobs on orthogonal directions of an 8-d space."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([np.eye(8)[c] + 0.05 * rng.normal(size=(n_per_class, 8)) for c in range(4)])
    return x, np.repeat(CLASSES, n_per_class)


def ask(labeller: ClusterLabeller, y: np.ndarray) -> np.ndarray:
    """The answers a person gives: the true label of the asked windows only."""
    answers = np.full(len(y), "", dtype=object)
    answers[labeller.query_indices_] = y[labeller.query_indices_]
    return answers


@pytest.mark.parametrize("clustering", ["kmeans", "scan"])
def test_one_label_per_planted_class_recovers_every_class(clustering):
    x, y = planted()
    labeller = ClusterLabeller(4, clustering=clustering, propagation="cluster", random_state=0).fit(x)
    assert len(labeller.query_indices_) == 4
    assert sorted(y[labeller.query_indices_]) == sorted(CLASSES)   # one window asked in each planted class
    labeller.propagate(ask(labeller, y))
    assert (labeller.transduction_ == y).all()
    fresh_x, fresh_y = planted(10, seed=1)
    assert (labeller.predict(fresh_x) == fresh_y).all()


def test_same_seed_asks_the_same_windows():
    x, _ = planted()
    for clustering in ("kmeans", "scan", "random"):
        a = ClusterLabeller(6, clustering=clustering, propagation="probe", random_state=3).fit(x).query_indices_
        b = ClusterLabeller(6, clustering=clustering, propagation="probe", random_state=3).fit(x).query_indices_
        assert list(a) == list(b) and len(set(a)) == 6


def test_cluster_propagation_majority_and_nearest_answered_centre():
    # Three blobs: along e0, along e1, and one near e0 (0.9 e0 + 0.44 e1, cosine 0.9 to e0, 0.44 to e1).
    rng = np.random.default_rng(0)
    dirs = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.9, 0.44, 0.0]])
    x = np.concatenate([d + 0.01 * rng.normal(size=(5, 3)) for d in dirs])
    labeller = ClusterLabeller(3, clustering="kmeans", propagation="cluster").fit(x)
    blob = labeller.labels_[[0, 5, 10]]
    assert len(set(blob)) == 3
    answers = np.full(15, "", dtype=object)
    answers[[0, 1]] = ["b", "a"]        # blob 0: a tie, broken alphabetically -> "a"
    answers[[5, 6, 7]] = ["c", "d", "d"]   # blob 1: majority "d"
    labeller.propagate(answers)          # blob 2 has no answer: it takes blob 0's (the nearest centre)
    assert list(labeller.cluster_label_[blob]) == ["a", "d", "a"]
    assert list(labeller.transduction_[[0, 1, 2, 5, 6, 12]]) == ["b", "a", "a", "c", "d", "a"]   # answers kept


def test_budget_is_spent_even_with_duplicate_windows():
    x = np.repeat(np.eye(3), 4, axis=0)          # 12 rows, only 3 distinct
    labeller = ClusterLabeller(5, clustering="kmeans", propagation="cluster").fit(x)
    asked = labeller.query_indices_
    assert len(asked) == 5 and len(set(asked)) == 5
    assert {int(np.argmax(x[i])) for i in asked} == {0, 1, 2}   # every distinct window among them
    assert farthest_first(np.eye(3), [], 2)[1] != farthest_first(np.eye(3), [], 2)[0]
    assert len(ClusterLabeller(50, clustering="random", propagation="probe").fit(x).query_indices_) == 12


def test_nearest_neighbours_excludes_self_and_orders_by_similarity():
    x = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.6, 0.8]])
    nn = nearest_neighbours(x, 2)
    assert nn[0].tolist() == [1, 3] and nn[2].tolist() == [3, 1]


def test_bad_settings_and_answers():
    x, y = planted(5)
    with pytest.raises(ValueError, match="no clusters"):
        ClusterLabeller(3, clustering="random", propagation="cluster").fit(x)
    with pytest.raises(ValueError, match="clustering must be"):
        ClusterLabeller(3, clustering="dbscan").fit(x)
    labeller = ClusterLabeller(3).fit(x)
    with pytest.raises(ValueError, match="no answer"):
        labeller.propagate(np.full(len(x), "", dtype=object))
    with pytest.raises(ValueError, match="rows were fitted"):
        labeller.propagate(["a"])
    with pytest.raises(ValueError, match="before predict"):
        ClusterLabeller(3).fit(x).predict(x)


def test_label_efficiency_curve_on_the_planted_case():
    x, y = planted(30)
    test_x, test_y = planted(10, seed=2)
    days = np.repeat(np.arange(4), 10)   # one "day" per class is enough for the bootstrap here
    curve = label_efficiency_curve(x, test_x, {"l1": y}, {"l1": test_y}, days, budgets=[4, 12],
                                   methods=["kmeans_cluster", "scan_cluster", "random_probe"], draws=2, n_boot=50)
    methods = curve["l1"]["methods"]
    assert curve["l1"]["budgets"] == [4, 12] and set(methods) == {"kmeans_cluster", "scan_cluster", "random_probe"}
    for name in ("kmeans_cluster", "scan_cluster"):
        assert [e["macro_f1"]["value"] for e in methods[name]] == [1.0, 1.0]
        assert methods[name][0]["n_labelled"] == 4 and methods[name][0]["classes_asked"] == 4
    assert len(methods["random_probe"][0]["macro_f1"]["draws"]) == 2
    assert methods["random_probe"][1]["n_labelled"] == 12 and methods["random_probe"][0]["classes_asked"] <= 4
