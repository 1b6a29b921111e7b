"""Zero-shot classification against text prototypes of the activity labels.

A label's prototype is the renormalised mean of the unit text embeddings of its descriptions (several
phrasings written for the home, never the caption templates). A second rule votes among the k nearest
individual description embeddings (multi-prototype k-NN). When a label has no description, its humanised
name ("Bed_to_Toilet" -> "bed to toilet") stands in, and the label is reported as a fallback.

Calibration (`calibrated_scores`) corrects two known failure modes of cross-modal nearest-prototype rules,
using only an unlabelled *bank* of the home's windows (its train days, never the test days):
  centre    subtract the bank's mean window embedding from the windows and the prototypes' mean from the
            prototypes, then renormalise: the shared "modality gap" direction no longer decides the class.
  isoftmax  inverted softmax: each class's similarity is normalised by a softmax over the bank, so a class
            whose prototype is close to every window (a hub) stops winning everywhere.
  both      centre, then isoftmax.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

EmbedFn = Callable[[list[str]], np.ndarray]


@dataclass
class Prototypes:
    """Label prototypes plus the individual description embeddings they were averaged from."""

    labels: list[str]            # [L]
    matrix: np.ndarray           # [L, D] unit rows
    texts: list[str]             # [M] every description
    text_labels: np.ndarray      # [M] label of each description
    text_matrix: np.ndarray      # [M, D] unit rows


def humanise(label: str) -> str:
    """A readable phrase from a label name: "Bed_to_Toilet" -> "bed to toilet"."""
    words = str(label).replace("_", " ").replace("-", " ").split()
    return " ".join(words).lower() or "no activity"


def label_descriptions(labels: Sequence[str], descriptions: dict[str, list[str]]) -> tuple[dict[str, list[str]], list[str]]:
    """The descriptions of each label, and the labels that had none (they get their humanised name)."""
    out: dict[str, list[str]] = {}
    fallback: list[str] = []
    for label in labels:
        texts = [t for t in descriptions.get(label, []) if str(t).strip()]
        if not texts:
            fallback.append(label)
            texts = [humanise(label)]
        out[label] = list(texts)
    return out, fallback


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def build_prototypes(descriptions: dict[str, list[str]], embed: EmbedFn) -> Prototypes:
    """Embed every description once and average them per label into a unit prototype."""
    labels = list(descriptions)
    texts = [t for label in labels for t in descriptions[label]]
    text_labels = np.asarray([label for label in labels for _ in descriptions[label]], dtype=object)
    text_matrix = unit_rows(embed(texts))
    matrix = unit_rows(np.stack([text_matrix[text_labels == label].mean(axis=0) for label in labels]))
    return Prototypes(labels=labels, matrix=matrix, texts=texts, text_labels=text_labels, text_matrix=text_matrix)


def predict_nearest(embeddings: np.ndarray, protos: Prototypes) -> tuple[np.ndarray, np.ndarray]:
    """The label of the most similar prototype per row, and the [N, L] cosine similarities."""
    sims = unit_rows(embeddings) @ protos.matrix.T
    return np.asarray(protos.labels, dtype=object)[sims.argmax(axis=1)], sims


def predict_nearest_scored(embeddings: np.ndarray, protos: Prototypes) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-prototype labels and the cosine similarity of each window to its chosen prototype."""
    labels, sims = predict_nearest(embeddings, protos)
    return labels, sims.max(axis=1)


def predict_knn_vote(embeddings: np.ndarray, protos: Prototypes, k: int = 5) -> np.ndarray:
    """Majority label among the k most similar descriptions; ties go to the larger summed similarity."""
    sims = unit_rows(embeddings) @ protos.text_matrix.T
    k = max(1, min(k, sims.shape[1]))
    top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    label_index = {label: i for i, label in enumerate(protos.labels)}
    text_label_ids = np.asarray([label_index[t] for t in protos.text_labels])
    votes = np.zeros((sims.shape[0], len(protos.labels)))
    mass = np.zeros_like(votes)
    rows = np.arange(sims.shape[0])[:, None]
    np.add.at(votes, (rows, text_label_ids[top]), 1.0)
    np.add.at(mass, (rows, text_label_ids[top]), sims[rows, top])
    # Votes dominate: summed cosine similarity lies in [-k, k], so it only breaks ties between equal counts.
    score = votes * (2 * k + 1) + mass
    return np.asarray(protos.labels, dtype=object)[score.argmax(axis=1)]


CALIBRATIONS = ("none", "centre", "isoftmax", "both")
ISOFTMAX_TEMPERATURE = 0.05   # fixed in advance (a typical CLIP temperature), never tuned on test windows


def calibrated_scores(embeddings: np.ndarray, prototypes: np.ndarray, bank: np.ndarray | None = None,
                      method: str = "none", temperature: float = ISOFTMAX_TEMPERATURE) -> np.ndarray:
    """[N, L] class scores of windows against unit prototypes, calibrated with an unlabelled bank of windows."""
    if method not in CALIBRATIONS:
        raise ValueError(f"unknown calibration {method!r}; choose from {CALIBRATIONS}")
    x, p = unit_rows(embeddings), unit_rows(prototypes)
    if method == "none":
        return x @ p.T
    if bank is None or len(bank) == 0:
        raise ValueError(f"calibration {method!r} needs a non-empty bank of unlabelled windows")
    b = unit_rows(bank)
    if method in ("centre", "both"):
        mean = b.mean(axis=0, keepdims=True)
        x, b, p = unit_rows(x - mean), unit_rows(b - mean), unit_rows(p - p.mean(axis=0, keepdims=True))
    sims = x @ p.T
    if method == "centre":
        return sims
    bank_sims = b @ p.T                                        # [M, L]
    # log of exp(s / T) / sum_bank exp(s_bank / T), computed stably per class.
    top = bank_sims.max(axis=0, keepdims=True) / temperature
    log_norm = top + np.log(np.exp(bank_sims / temperature - top).sum(axis=0, keepdims=True))
    return sims / temperature - log_norm


def predict_calibrated(embeddings: np.ndarray, protos: Prototypes, bank: np.ndarray | None = None,
                       method: str = "none") -> tuple[np.ndarray, np.ndarray]:
    """Nearest-prototype labels after calibration, and the [N, L] calibrated scores."""
    scores = calibrated_scores(embeddings, protos.matrix, bank, method)
    return np.asarray(protos.labels, dtype=object)[scores.argmax(axis=1)], scores
