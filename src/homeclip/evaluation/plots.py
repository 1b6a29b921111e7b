"""Report figures (matplotlib, Agg backend), each as PNG (for the page) and SVG (for papers): confusion matrices,
per-class F1 bars, t-SNE maps of the test embeddings and training curves. Every function is pure: data in,
`FigureFiles` out. Label text is drawn literally (no mathtext), so a label such as `$x$` cannot break a figure."""
from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

MARKERS = ("o", "s", "^", "D", "v", "P")


@dataclass(frozen=True)
class FigureFiles:
    """One figure rendered twice, plus what it shows in words."""

    png: bytes
    svg: bytes
    caption: str = ""


@contextlib.contextmanager
def _pyplot() -> Iterator:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Labels come from the data: draw them as plain text ('$' is not the start of a formula here).
    with plt.rc_context({"text.parse_math": False, "svg.fonttype": "none"}):
        yield plt


def _files(fig, plt, caption: str = "") -> FigureFiles:
    out = {}
    for fmt in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=100, bbox_inches="tight")
        out[fmt] = buf.getvalue()
    plt.close(fig)
    return FigureFiles(png=out["png"], svg=out["svg"], caption=caption)


def class_styles(classes: Sequence[str]) -> dict[str, tuple]:
    """A (colour, marker) per class that keeps 15+ classes apart: the 10 strong tab20 hues first, then their
    light partners, then tab20b/tab20c; past 20 classes the marker changes too."""
    import matplotlib

    tab20 = matplotlib.colormaps["tab20"].colors
    palette = list(tab20[0::2]) + list(tab20[1::2])
    if len(classes) > len(palette):
        palette += list(matplotlib.colormaps["tab20b"].colors) + list(matplotlib.colormaps["tab20c"].colors)
    return {c: (palette[i % len(palette)], MARKERS[(i // 20) % len(MARKERS)]) for i, c in enumerate(classes)}


def confusion_figure(confusion: dict, title: str, caption: str = "") -> FigureFiles:
    """Confusion matrix (rows: true classes, columns: predicted) with the counts written in their cells,
    drawn by scikit-learn's ConfusionMatrixDisplay; empty cells stay blank so the counts stand out."""
    from sklearn.metrics import ConfusionMatrixDisplay

    rows, cols = list(confusion["rows"]), list(confusion["columns"])
    counts = np.asarray(confusion["matrix"], dtype=np.int64).reshape(len(rows), len(cols))
    # Square for the display: classes predicted but absent from the test split get an all-zero true row.
    square = np.zeros((len(cols), len(cols)), dtype=np.int64)
    square[: len(rows)] = counts
    n = len(cols)
    size = max(5.0, 1.6 + 0.55 * n)
    fontsize = 11 if n <= 10 else 9 if n <= 20 else 7
    with _pyplot() as plt:
        fig, ax = plt.subplots(figsize=(size + 1.5, size))
        display = ConfusionMatrixDisplay(square, display_labels=cols)
        display.plot(ax=ax, cmap="Blues", values_format="d", xticks_rotation=60, colorbar=True,
                     text_kw={"fontsize": fontsize})
        for i in range(n):
            for j in range(n):
                if square[i, j] == 0:
                    display.text_[i, j].set_text("")
        ax.set_yticks(range(len(rows)), rows, fontsize=fontsize)
        ax.set_ylim(len(rows) - 0.5, -0.5)       # no empty rows for predicted-only classes
        ax.tick_params(axis="x", labelsize=fontsize)
        for label in ax.get_xticklabels():      # rotated labels end under their column
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
        ax.set_xlabel("predicted label")
        ax.set_ylabel("true label")
        ax.set_title(title, fontsize=11)
        return _files(fig, plt, caption)


def f1_bars_figure(per_method: dict[str, dict[str, float]], title: str, caption: str = "") -> FigureFiles:
    """Grouped horizontal bars: per-class F1 of each method (method -> class -> F1). An F1 of 0 is drawn as a
    marked stub so that it cannot be mistaken for a missing bar; the legend sits outside the bars."""
    classes = sorted({c for scores in per_method.values() for c in scores})
    methods = list(per_method)
    height = 0.8 / max(len(methods), 1)
    y = np.arange(len(classes))
    with _pyplot() as plt:
        fig, ax = plt.subplots(figsize=(8, 1.5 + 0.22 * len(classes) * max(len(methods), 1)))
        colours = plt.get_cmap("tab10").colors
        for m, method in enumerate(methods):
            values = np.asarray([per_method[method].get(c, 0.0) for c in classes])
            pos = y + m * height
            ax.barh(pos, values, height=height, label=method, color=colours[m % len(colours)])
            zero = values == 0
            ax.scatter(np.zeros(int(zero.sum())), pos[zero], marker="|", s=60, color=colours[m % len(colours)],
                       linewidths=2, zorder=3)
            for p in pos[zero]:
                ax.text(0.01, p, "0", va="center", fontsize=7, color=colours[m % len(colours)])
        ax.set_yticks(y + height * (len(methods) - 1) / 2, classes, fontsize=9)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("F1 on the test split")
        ax.set_title(title, fontsize=11)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
        return _files(fig, plt, caption)


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


def tsne_figure(xy: np.ndarray, true_labels: Sequence[str], pred_labels: Sequence[str], pred_name: str,
                title: str = "", caption: str = "") -> FigureFiles:
    """Two side-by-side scatter plots of the same 2-D map: coloured by true and by predicted label."""
    true_labels = np.asarray([str(x) for x in true_labels], dtype=object)
    pred_labels = np.asarray([str(x) for x in pred_labels], dtype=object)
    classes = sorted(set(true_labels) | set(pred_labels))
    style = class_styles(classes)
    with _pyplot() as plt:
        fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
        for ax, labels, name in ((axes[0], true_labels, "true label"), (axes[1], pred_labels, f"predicted ({pred_name})")):
            for c in classes:
                sel = labels == c
                if sel.any():
                    colour, marker = style[c]
                    ax.scatter(xy[sel, 0], xy[sel, 1], s=10, color=colour, marker=marker, label=c, alpha=0.85,
                               linewidths=0)
            ax.set_title(name, fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
        handles = {n: h for ax in axes for h, n in zip(*ax.get_legend_handles_labels())}
        fig.legend([handles[c] for c in classes if c in handles], [c for c in classes if c in handles],
                   loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, markerscale=2,
                   ncol=1 if len(classes) <= 25 else 2)
        if title:
            fig.suptitle(title, fontsize=11)
        fig.tight_layout()
        return _files(fig, plt, caption)


def curves_figure(records: Sequence[dict], caption: str = "") -> FigureFiles:
    """Training curves from metrics.jsonl records: loss (and val loss), batch accuracies, temperature."""
    panels = [("loss", ("loss", "val_loss")), ("in-batch accuracy", ("acc_s2t", "acc_t2s")),
              ("temperature", ("temperature",))]
    with _pyplot() as plt:
        fig, axes = plt.subplots(1, len(panels), figsize=(13, 3.5))
        for ax, (name, keys) in zip(axes, panels):
            for key in keys:
                pts = [(r["step"], r[key]) for r in records if isinstance(r.get(key), (int, float)) and "step" in r]
                if pts:
                    steps, values = zip(*pts)
                    ax.plot(steps, values, marker="." if len(pts) < 30 else None, label=key)
            ax.set_title(name, fontsize=10)
            ax.set_xlabel("step")
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8)
        return _files(fig, plt, caption)
