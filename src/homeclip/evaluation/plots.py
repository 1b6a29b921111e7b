"""Report figures as PNG bytes (matplotlib, Agg backend): confusion matrices, per-class F1 bars, a t-SNE map
of the test embeddings and training curves. Every function is pure: data in, PNG out."""
from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def confusion_png(confusion: dict, title: str) -> bytes:
    """Row-normalised confusion matrix (rows: true classes, columns: predicted) with counts in the cells."""
    plt = _pyplot()
    cm = np.asarray(confusion["matrix"], dtype=np.float64)
    rows, cols = confusion["rows"], confusion["columns"]
    frac = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    size = 2.5 + 0.45 * max(len(rows), len(cols))
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    if len(rows) * len(cols) <= 400:
        for i in range(len(rows)):
            for j in range(len(cols)):
                if cm[i, j]:
                    ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7,
                            color="white" if frac[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    return _png(fig)


def f1_bars_png(per_method: dict[str, dict[str, float]], title: str) -> bytes:
    """Grouped horizontal bars: per-class F1 of each method (method -> class -> F1)."""
    plt = _pyplot()
    classes = sorted({c for scores in per_method.values() for c in scores})
    methods = list(per_method)
    height = 0.8 / max(len(methods), 1)
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.3 * len(classes) * max(len(methods), 1) ** 0.5 + 0.2 * len(classes)))
    y = np.arange(len(classes))
    for m, method in enumerate(methods):
        values = [per_method[method].get(c, 0.0) for c in classes]
        ax.barh(y + m * height, values, height=height, label=method)
    ax.set_yticks(y + height * (len(methods) - 1) / 2, classes, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return _png(fig)


def tsne_coordinates(embeddings: np.ndarray, *, max_points: int = 2000, seed: int = 0,
                     max_iter: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """2-D t-SNE of at most `max_points` unit rows (seeded subsample, PCA to 50 dims first); returns
    (row indices used, [n, 2] coordinates)."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    n = len(embeddings)
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, size=max_points, replace=False)) if n > max_points else np.arange(n)
    x = np.asarray(embeddings, dtype=np.float32)[idx]
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)   # euclidean on unit rows ~ cosine
    if len(idx) < 4:
        return idx, np.zeros((len(idx), 2), dtype=np.float32)
    # One thread: on a shared 2-core machine OpenMP threads in t-SNE were up to 5x slower than one.
    with threadpool_limits(1):
        if x.shape[1] > 50 and len(idx) > 50:
            x = PCA(n_components=50, random_state=seed).fit_transform(x)
        perplexity = float(min(30.0, (len(idx) - 1) / 3))
        xy = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
                  max_iter=max_iter).fit_transform(x)
    return idx, xy


def tsne_png(xy: np.ndarray, true_labels: Sequence[str], pred_labels: Sequence[str], pred_name: str) -> bytes:
    """Two side-by-side scatter plots of the same 2-D map: coloured by true and by predicted label."""
    plt = _pyplot()
    classes = sorted(set(map(str, true_labels)) | set(map(str, pred_labels)))
    cmap = plt.get_cmap("tab20" if len(classes) > 10 else "tab10")
    colour = {c: cmap(i % cmap.N) for i, c in enumerate(classes)}
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    for ax, labels, title in ((axes[0], true_labels, "true label"), (axes[1], pred_labels, f"predicted ({pred_name})")):
        labels = np.asarray([str(x) for x in labels], dtype=object)
        for c in classes:
            sel = labels == c
            if sel.any():
                ax.scatter(xy[sel, 0], xy[sel, 1], s=8, color=colour[c], label=c, alpha=0.8, linewidths=0)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    handles, names = axes[0].get_legend_handles_labels()
    extra = [(h, n) for h, n in zip(*axes[1].get_legend_handles_labels()) if n not in names]
    fig.legend([h for h, _ in extra] + handles, [n for _, n in extra] + names, loc="center right", fontsize=8,
               markerscale=2)
    fig.subplots_adjust(right=0.8)
    return _png(fig)


def curves_png(records: Sequence[dict]) -> bytes:
    """Training curves from metrics.jsonl records: loss (and val loss), batch accuracies, temperature."""
    plt = _pyplot()
    panels = [("loss", ("loss", "val_loss")), ("in-batch accuracy", ("acc_s2t", "acc_t2s")),
              ("temperature", ("temperature",))]
    fig, axes = plt.subplots(1, len(panels), figsize=(13, 3.5))
    for ax, (title, keys) in zip(axes, panels):
        for key in keys:
            pts = [(r["step"], r[key]) for r in records if isinstance(r.get(key), (int, float)) and "step" in r]
            if pts:
                steps, values = zip(*pts)
                ax.plot(steps, values, marker="." if len(pts) < 30 else None, label=key)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    return _png(fig)
