"""Label-efficient discovery: cluster a home's window embeddings, ask a person for the labels of the windows
nearest each cluster centre, and propagate their answers to every window.

    labeller = ClusterLabeller(30, clustering="kmeans", propagation="cluster", random_state=0).fit(train_x)
    asked = labeller.query_indices_                 # the 30 windows to show a person
    labeller.propagate(answers)                     # answers[i]: their label of row i, "" where not asked
    predicted = labeller.predict(test_x)            # (or labeller.transduction_ for the fitted rows)

Selections (`clustering`):
  kmeans   k-means with k = the budget on the unit embeddings; the window nearest each centre is asked
  scan     SCAN-style self-labelling (Van Gansbeke et al. 2020) on the frozen embeddings: a linear clustering
           head trained so that each window and its nearest neighbours share a cluster (with an entropy term
           against one giant cluster), then sharpened on its own confident assignments; the window nearest
           each cluster's mean is asked
  random   budget windows drawn uniformly: the reference every clustering is compared with
Propagations:
  cluster  every window takes the majority answer of its cluster; a cluster without an answer takes the
           answer of the nearest answered cluster centre (k-means and SCAN only)
  probe    the evaluation's linear probe fit on the answered windows alone

Everything is seeded (`random_state`): the same embeddings and settings ask for the same windows, so the
labels a person gives for one run can be propagated by a later one.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from sklearn.base import BaseEstimator

from .probe import linear_probe

CLUSTERINGS = ("kmeans", "scan", "random")
PROPAGATIONS = ("cluster", "probe")
UNLABELLED = ""


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def nearest_neighbours(x: np.ndarray, k: int, chunk: int = 2048) -> np.ndarray:
    """[N, k] indices of each unit row's k most similar other rows (cosine), most similar first."""
    k = max(1, min(k, len(x) - 1))
    out = np.zeros((len(x), k), dtype=np.int64)
    for start in range(0, len(x), chunk):
        sims = x[start:start + chunk] @ x.T
        sims[np.arange(len(sims)), np.arange(start, start + len(sims))] = -np.inf   # never its own neighbour
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1, kind="stable")
        out[start:start + chunk] = np.take_along_axis(top, order, axis=1)
    return out


def scan_clusters(x: np.ndarray, n_clusters: int, *, n_neighbors: int = 20, steps: int = 600,
                  self_label_steps: int = 200, entropy_weight: float = 5.0, threshold: float = 0.99,
                  batch_size: int = 256, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """SCAN on fixed features: (W [D, C], b [C]) of a linear clustering head over the standardised rows of `x`.

    Stage 1 minimises -log <p_i, p_j> over (window, random neighbour) pairs minus entropy_weight x the entropy
    of the mean assignment; stage 2 trains on the windows assigned with probability > threshold, each class
    weighted by its inverse frequency (SCAN's self-labelling; the neighbour stands in for the augmented view)."""
    import torch
    import torch.nn.functional as F

    feats = torch.as_tensor(_standardise(x), dtype=torch.float32)
    neighbours = torch.as_tensor(nearest_neighbours(_unit(x), n_neighbors))
    gen = torch.Generator().manual_seed(int(random_state))
    n, batch = len(feats), min(batch_size, len(feats))

    def draw() -> tuple[torch.Tensor, torch.Tensor]:   # a batch of windows and one random neighbour of each
        idx = torch.randint(n, (batch,), generator=gen)
        return idx, neighbours[idx, torch.randint(neighbours.shape[1], (batch,), generator=gen)]

    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # tiny matrices: on a busy machine threads made this 50x slower
    try:
        head = torch.nn.Linear(feats.shape[1], n_clusters)
        with torch.no_grad():   # seeded initialisation without touching the global RNG
            head.weight.copy_(torch.randn(head.weight.shape, generator=gen) / np.sqrt(feats.shape[1]))
            head.bias.zero_()
        opt = torch.optim.Adam(head.parameters(), lr=1e-2, weight_decay=1e-4)
        for _ in range(steps):
            idx, pick = draw()
            p, q = F.softmax(head(feats[idx]), 1), F.softmax(head(feats[pick]), 1)
            mean = p.mean(0)
            loss = -torch.log((p * q).sum(1).clamp_min(1e-8)).mean() \
                + entropy_weight * (mean * torch.log(mean.clamp_min(1e-8))).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            prob = F.softmax(head(feats), 1)
        confident = prob.max(1).values > threshold
        if self_label_steps and confident.any():
            target = prob.argmax(1)
            counts = torch.bincount(target[confident], minlength=n_clusters).float()
            weight = torch.where(counts > 0, counts.sum() / counts.clamp_min(1) / n_clusters, torch.zeros_like(counts))
            pool = torch.nonzero(confident).flatten()
            for _ in range(self_label_steps):
                anchor = pool[torch.randint(len(pool), (batch,), generator=gen)]
                pick = neighbours[anchor, torch.randint(neighbours.shape[1], (batch,), generator=gen)]
                loss = F.cross_entropy(head(feats[pick]), target[anchor], weight=weight)
                opt.zero_grad()
                loss.backward()
                opt.step()
    finally:
        torch.set_num_threads(threads)
    return head.weight.detach().numpy().T.copy(), head.bias.detach().numpy().copy()


def _standardise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return (x - x.mean(0)) / np.maximum(x.std(0), 1e-8)


def farthest_first(x: np.ndarray, chosen: Sequence[int], n: int) -> list[int]:
    """`chosen` topped up to n rows, each new one the row farthest (cosine) from every row chosen so far."""
    n = min(n, len(x))
    chosen = list(dict.fromkeys(int(i) for i in chosen))[:n]
    if not chosen:   # nothing to be far from yet: start at the row nearest the mean
        chosen = [int(np.argmax(x @ x.mean(0)))]
    best = (x @ x[chosen].T).max(axis=1)
    while len(chosen) < n:
        sims = best.copy()
        sims[chosen] = np.inf
        nxt = int(np.argmin(sims))
        chosen.append(nxt)
        best = np.maximum(best, x @ x[nxt])
    return chosen


class ClusterLabeller(BaseEstimator):
    """Choose `n_clusters` windows to ask about (fit), spread the answers (propagate), label new windows (predict).

    A scikit-learn estimator (get_params / set_params): `set_params(propagation=...)` after fit spreads answers
    another way over the same clusters. Attributes after fit: `query_indices_` (rows to ask, at most n_clusters,
    largest clusters first), `labels_` (cluster of each fitted row; -1 for `random`), `cluster_centers_` [C, D]. After propagate: `cluster_label_`
    (answer given to each cluster), `transduction_` (the label of every fitted row)."""

    def __init__(self, n_clusters: int = 30, *, clustering: str = "kmeans", propagation: str = "cluster",
                 n_neighbors: int = 20, random_state: int = 0):
        self.n_clusters = n_clusters
        self.clustering = clustering
        self.propagation = propagation
        self.n_neighbors = n_neighbors
        self.random_state = random_state

    def _check_params(self) -> None:
        if self.clustering not in CLUSTERINGS:
            raise ValueError(f"clustering must be one of {CLUSTERINGS}, got {self.clustering!r}")
        if self.propagation not in PROPAGATIONS:
            raise ValueError(f"propagation must be one of {PROPAGATIONS}, got {self.propagation!r}")
        if self.clustering == "random" and self.propagation == "cluster":
            raise ValueError("random selection has no clusters to propagate by: use propagation='probe'")
        if self.n_clusters < 1:
            raise ValueError(f"n_clusters must be at least 1, got {self.n_clusters}")

    def fit(self, X: np.ndarray, y: Sequence[str] | None = None) -> "ClusterLabeller":
        """Cluster the rows of X and choose the windows to ask; with `y` (answers, "" where unknown) propagate."""
        self._check_params()
        x = _unit(X)
        k = min(self.n_clusters, len(x))
        self.X_fit_ = x
        if self.clustering == "random":
            rng = np.random.default_rng(self.random_state)
            self.labels_ = np.full(len(x), -1)
            self.cluster_centers_ = np.zeros((0, x.shape[1]), dtype=np.float32)
            self.query_indices_ = np.sort(rng.choice(len(x), size=k, replace=False))
        else:
            if self.clustering == "kmeans":
                self.labels_, self._scan = self._kmeans(x, k), None
            else:
                self.labels_, self._scan = self._scan_fit(x, k)
            self.cluster_centers_ = self._centres(x, self.labels_, k)
            self.query_indices_ = np.asarray(self._nearest_centres(x, k), dtype=np.int64)
        if y is not None:
            self.propagate(y)
        return self

    def _kmeans(self, x: np.ndarray, k: int) -> np.ndarray:
        import warnings

        from sklearn.cluster import KMeans
        from sklearn.exceptions import ConvergenceWarning
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1), warnings.catch_warnings():   # one BLAS thread: see probe.py
            warnings.simplefilter("ignore", ConvergenceWarning)   # fewer distinct windows than k: handled below
            self._km = KMeans(n_clusters=k, n_init=3, random_state=self.random_state).fit(x)
        return self._km.labels_.astype(np.int64)

    def _scan_fit(self, x: np.ndarray, k: int) -> tuple[np.ndarray, tuple]:
        w, b = scan_clusters(x, k, n_neighbors=self.n_neighbors, random_state=self.random_state)
        mean, std = x.astype(np.float64).mean(0), np.maximum(x.astype(np.float64).std(0), 1e-8)
        head = (w, b, mean, std)
        return self._scan_assign(x, head), head

    @staticmethod
    def _scan_assign(x: np.ndarray, head: tuple) -> np.ndarray:
        w, b, mean, std = head
        return np.argmax(((np.asarray(x, dtype=np.float64) - mean) / std) @ w + b, axis=1).astype(np.int64)

    @staticmethod
    def _centres(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
        centres = np.zeros((k, x.shape[1]), dtype=np.float32)
        for c in range(k):
            members = labels == c
            if members.any():
                centres[c] = x[members].mean(0)
        return _unit(centres)

    def _nearest_centres(self, x: np.ndarray, k: int) -> list[int]:
        """The member nearest each non-empty cluster's centre (largest clusters first), topped up farthest-first
        when clusters are empty or share a window, so the budget is always spent."""
        sizes = np.bincount(self.labels_, minlength=k)
        picks = []
        for c in sorted(range(k), key=lambda c: (-sizes[c], c)):
            members = np.flatnonzero(self.labels_ == c)
            if len(members):
                picks.append(int(members[np.argmax(x[members] @ self.cluster_centers_[c])]))
        return farthest_first(x, picks, k)

    def propagate(self, y: Sequence[str]) -> "ClusterLabeller":
        """Spread the answers `y` (one per fitted row, "" where not answered) to every fitted row."""
        self._check_params()
        y = np.asarray(["" if v is None else str(v) for v in y], dtype=object)
        if len(y) != len(self.X_fit_):
            raise ValueError(f"y has {len(y)} entries but {len(self.X_fit_)} rows were fitted")
        answered = np.flatnonzero(y != UNLABELLED)
        if len(answered) == 0:
            raise ValueError("no answer to propagate: every label is empty")
        self.answered_ = answered
        self.answers_ = y[answered]
        if self.propagation == "cluster":
            self.cluster_label_ = self._cluster_labels(y)
        self.transduction_ = self.predict(self.X_fit_)
        self.transduction_[answered] = y[answered]    # an answer always stands for its own window
        return self

    def _cluster_labels(self, y: np.ndarray) -> np.ndarray:
        k = len(self.cluster_centers_)
        out = np.full(k, UNLABELLED, dtype=object)
        for c in range(k):
            votes = Counter(y[(self.labels_ == c) & (y != UNLABELLED)])
            if votes:   # majority; ties go to the alphabetically first label (deterministic)
                out[c] = min(votes, key=lambda label: (-votes[label], label))
        known = np.flatnonzero(out != UNLABELLED)
        for c in np.flatnonzero(out == UNLABELLED):   # no answer in this cluster: the nearest answered centre
            out[c] = out[known[np.argmax(self.cluster_centers_[known] @ self.cluster_centers_[c])]]
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The propagated label of each row of X (new windows or the fitted ones)."""
        if not hasattr(self, "answers_"):
            raise ValueError("call propagate(answers) (or fit(X, y)) before predict")
        x = _unit(X)
        if self.propagation == "probe":
            return linear_probe(self.X_fit_[self.answered_], self.answers_, x)
        if self.clustering == "kmeans":
            clusters = self._km.predict(x)
        else:
            clusters = self._scan_assign(x, self._scan)
        return np.asarray(self.cluster_label_[clusters], dtype=object)
