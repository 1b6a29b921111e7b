"""Which figures an evaluation draws, and what each shows in words (its caption in the report)."""
from __future__ import annotations

import numpy as np

from . import plots
from .summary import LEVEL_NAMES, LEVELS, SHORT_TITLES

CONFUSION_METHODS = ("zeroshot", "linear_probe")
F1_METHODS = ("zeroshot", "zeroshot_knn", "linear_probe", "knn", "caption_only", "bag_of_sensors")


def evaluation_figures(results: dict, test_emb: np.ndarray, true_labels: dict[str, list[str]],
                       predictions: dict[str, dict[str, np.ndarray]], training_metrics: list[dict] | None,
                       max_points: int, seed: int) -> dict[str, plots.FigureFiles]:
    """name -> figure: confusion matrices, per-class F1 bars, t-SNE maps (L1 and L2), training curves."""
    figs: dict[str, plots.FigureFiles] = {}
    for level in LEVELS:
        methods = results["levels"][level]["methods"]
        for m in CONFUSION_METHODS:
            figs[f"confusion_{level}_{m}"] = plots.confusion_figure(
                methods[m]["confusion"], f"{level.upper()} {SHORT_TITLES[m]}: macro-F1 {methods[m]['macro_f1']:.3f}",
                f"Where {SHORT_TITLES[m]} puts each {LEVEL_NAMES[level]} test window: one row per true activity, one "
                "column per predicted activity, the number of windows in each cell (darker = more). A perfect "
                "classifier fills only the diagonal.")
        figs[f"f1_{level}"] = plots.f1_bars_figure(
            {SHORT_TITLES[m]: {c: v["f1"] for c, v in methods[m]["per_class"].items()} for m in F1_METHODS},
            f"{level.upper()}: per-class F1",
            f"How well each method recognises each {LEVEL_NAMES[level]} activity (F1 on the test split, 0 to 1), "
            "models and baselines side by side; a bar marked 0 is an activity the method never gets right.")
    idx, xy = plots.tsne_coordinates(test_emb, max_points=max_points, seed=seed)
    shown = f"{len(idx)} of {len(test_emb)}" if len(idx) < len(test_emb) else f"all {len(idx)}"
    for level in LEVELS:
        true = np.asarray(true_labels[level], dtype=object)[idx]
        figs[f"tsne_{level}"] = plots.tsne_figure(
            xy, true, np.asarray(predictions[level]["zeroshot"], dtype=object)[idx], "zero-shot",
            f"{level.upper()} t-SNE map of the test embeddings",
            f"A 2-D map of the model's embeddings of {shown} test windows (t-SNE: windows the model finds "
            f"similar lie close together); left coloured by the true {LEVEL_NAMES[level]} activity, right by the "
            "zero-shot prediction. Distances between far-apart groups mean little.")
    if training_metrics:
        figs["training_curves"] = plots.curves_figure(
            training_metrics,
            "Training as recorded in metrics.jsonl: the contrastive loss (mean over each logging interval) and "
            "the validation loss, the in-batch matching accuracy in both directions, and the learned temperature.")
    return figs
