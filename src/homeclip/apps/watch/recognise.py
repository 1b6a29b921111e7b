"""What `watch` says about a window: the recognised activity and its score, and the window's caption.

Zero-shot (the default): the nearest label prototype by cosine similarity, prototypes built from the home's
label descriptions by the evaluation's own code (evaluation/zeroshot.py), the score being that similarity; the
candidate labels are the home's classes at the chosen level (L2: the label map's coarse classes; L1: its fine
labels). With a probe (`probe_windows`, a prepared train split) the linear probe of the evaluation
(evaluation/probe.py: StandardScaler + LogisticRegression, fixed settings), fit once on those windows'
embeddings, gives the label and its probability. Captions come from the project's captioner (data/captions).
Text prototypes are computed once, at start: per window only the sensor encoder runs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...data.captions import caption_windows
from ...data.homes import Home
from ...data.windows import WindowSet
from ...errors import UserError
from ...evaluation import zeroshot
from ...evaluation.search import display_caption

LEVELS = ("l1", "l2")


@dataclass(frozen=True)
class Recognised:
    """One window's read-out."""

    label: str
    score: float
    caption: str


class Recogniser:
    """A trained model (anything with embed_windows / embed_texts, e.g. TrainedModel) read out for live windows."""

    def __init__(self, model, home: Home, *, level: str = "l2", probe_windows: WindowSet | None = None,
                 caption_seed: int = 0, batch_size: int = 64):
        if level not in LEVELS:
            raise UserError(f"--level must be one of {', '.join(LEVELS)}, got {level!r}")
        self.model, self.home, self.level = model, home, level
        self.caption_seed, self.batch_size = caption_seed, batch_size
        self.probe = None
        self.prototypes = None
        if probe_windows is not None:
            from ...evaluation.probe import FittedProbe

            labels = probe_windows.label_l1 if level == "l1" else probe_windows.label_l2
            self.probe = FittedProbe(self.embed(probe_windows), labels)
            self.method = "linear_probe"
            self.labels = sorted({str(x) for x in labels})
        else:
            self.labels = candidate_labels(home, level)
            descriptions, self.fallback_labels = zeroshot.label_descriptions(self.labels, home.descriptions)
            self.prototypes = zeroshot.build_prototypes(descriptions, lambda texts: model.embed_texts(list(texts)))
            self.method = "zeroshot"

    def embed(self, windows: WindowSet) -> np.ndarray:
        """Unit embeddings of windows (the model's own batching and dataset), on one torch thread: a window or
        two gain nothing from threads, and on a busy machine a thread pool made one window 1000x slower."""
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return zeroshot.unit_rows(self.model.embed_windows(windows, batch_size=self.batch_size, progress=False))
        finally:
            torch.set_num_threads(threads)

    def recognise(self, windows: WindowSet) -> list[Recognised]:
        """The read-out of every window of `windows`, in order."""
        if len(windows) == 0:
            return []
        embeddings = self.embed(windows)
        if self.probe is not None:
            labels, scores = self.probe.predict_scored(embeddings)
        else:
            labels, scores = zeroshot.predict_nearest_scored(embeddings, self.prototypes)
        captions = caption_windows(windows, self.home, seed=self.caption_seed)
        return [Recognised(str(label), float(score), display_caption(caps))
                for label, score, caps in zip(labels, scores, captions)]


def candidate_labels(home: Home, level: str) -> list[str]:
    """The labels zero-shot chooses among: the home's coarse classes (l2) or fine labels (l1)."""
    labels = home.l2_labels if level == "l2" else home.l1_labels
    if len(labels) < 2:
        raise UserError(f"home {home.name!r} names fewer than two activity labels (its layout's label_map): give --home "
                        "a layout that lists labels and descriptions, or --probe TRAIN_SPLIT.json")
    return labels
