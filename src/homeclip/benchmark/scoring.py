"""Scoring one model on one target home under one protocol: zero-shot (calibration chosen without test days),
linear probe, the few-shot and label-efficiency curves, the supervised head, and the baselines every model row
is shown next to.

Everything here works on a `HomeData` (the prepared splits and the layout of one home) and a `Model` (anything
with `embed_windows` and `embed_texts`, e.g. `TrainedModel`). The test split is only ever scored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..data.homes import Home
from ..data.windows import US_PER_DAY, WindowSet
from ..evaluation import baselines, zeroshot
from ..evaluation.probe import linear_probe
from ..evaluation.protocols import few_shot_curve, label_efficiency_curve, scored


class Model(Protocol):
    """What scoring needs from a trained model."""

    def embed_windows(self, windows: WindowSet, **kwargs) -> np.ndarray: ...
    def embed_texts(self, texts: list[str]) -> np.ndarray: ...


@dataclass
class HomeData:
    """One prepared home: its splits and layout (label map and descriptions)."""

    name: str
    home: Home
    splits: dict[str, WindowSet]
    _embeddings: dict = field(default_factory=dict, repr=False)

    def labels(self, split: str, level: str) -> np.ndarray:
        """The L1 or L2 label of every window of a split."""
        w = self.splits[split]
        return np.asarray([str(x) for x in (w.label_l1 if level == "l1" else w.label_l2)], dtype=object)

    def days(self, split: str) -> np.ndarray:
        """The day (the bootstrap unit) of every window of a split."""
        return self.splits[split].day.astype(str)

    def classes(self, level: str) -> list[str]:
        """Candidate classes of zero-shot: the labels seen in the train or test split (the activities a
        deployer wants recognised; no test label is needed to know the list)."""
        return sorted(set(self.labels("train", level)) | set(self.labels("test", level)))


def embeddings(model: Model, key: str, data: HomeData, split: str, cache_dir: str | None) -> np.ndarray:
    """Unit window embeddings of one split, computed once per (model key, home, split)."""
    slot = (key, split)
    if slot not in data._embeddings:
        emb = model.embed_windows(data.splits[split], cache_dir=cache_dir, progress=False)
        data._embeddings[slot] = zeroshot.unit_rows(emb)
    return data._embeddings[slot]


def prototypes(model: Model, data: HomeData, level: str) -> tuple[zeroshot.Prototypes, list[str]]:
    """Label prototypes of a home's classes (from its descriptions) and the labels that had none."""
    desc, fallback = zeroshot.label_descriptions(data.classes(level), data.home.descriptions)
    return zeroshot.build_prototypes(desc, lambda texts: model.embed_texts(list(texts))), fallback


def choose_calibration(model: Model, key: str, selection: list[HomeData], level: str, calibrations: tuple[str, ...],
                       cache_dir: str | None) -> tuple[str, dict[str, float]]:
    """The calibration with the best mean validation macro-F1 over the selection homes (ties: earlier in
    `calibrations`), and each one's mean; the bank of each home is its own unlabelled train windows."""
    from ..evaluation.metrics import classification_metrics

    means = {}
    for method in calibrations:
        values = []
        for home in selection:
            if len(home.splits["val"]) == 0:
                continue
            protos, _ = prototypes(model, home, level)
            pred, _ = zeroshot.predict_calibrated(embeddings(model, key, home, "val", cache_dir), protos,
                                                  embeddings(model, key, home, "train", cache_dir), method)
            values.append(classification_metrics(home.labels("val", level), pred)["macro_f1"])
        means[method] = float(np.mean(values)) if values else float("nan")
    valid = [m for m in calibrations if not np.isnan(means[m])]
    return (max(valid, key=lambda m: (means[m], -calibrations.index(m))) if valid else "none"), means


def score_model(model: Model, key: str, target: HomeData, selection: list[HomeData], level: str, *,
                calibrations: tuple[str, ...], ks: list[int | None], draws: int, n_boot: int, seed: int,
                cache_dir: str | None, few_shot: bool) -> dict:
    """Zero-shot (every calibration, the chosen one marked), probe and few-shot curve of one model on a target."""
    train_emb = embeddings(model, key, target, "train", cache_dir)
    test_emb = embeddings(model, key, target, "test", cache_dir)
    y_train, y_test, days = target.labels("train", level), target.labels("test", level), target.days("test")
    protos, fallback = prototypes(model, target, level)
    chosen, validation = choose_calibration(model, key, selection, level, calibrations, cache_dir)
    by_calibration = {}
    for method in calibrations:
        pred, _ = zeroshot.predict_calibrated(test_emb, protos, train_emb, method)
        by_calibration[method] = scored(y_test, pred, days, n_boot=n_boot, seed=seed)
    out = {
        "zeroshot": {**by_calibration[chosen], "calibration": chosen, "selected_on": [h.name for h in selection],
                     "validation_macro_f1": validation, "by_calibration": by_calibration,
                     "labels_without_description": fallback},
        "linear_probe": scored(y_test, linear_probe(train_emb, y_train, test_emb), days, n_boot=n_boot, seed=seed),
    }
    if few_shot:
        out["few_shot"] = few_shot_curve({"model": (train_emb, test_emb)}, y_train, y_test, days, linear_probe,
                                         ks=ks, draws=draws, seed=seed, n_boot=n_boot)["model"]
    return out


def time_of_day_features(windows: WindowSet) -> np.ndarray:
    """sin/cos of the window's start time of day: what bag-of-sensors lacks, for the stronger baseline."""
    seconds = (windows.start.astype("datetime64[us]").astype(np.int64) % US_PER_DAY) / 1e6
    angle = 2 * np.pi * seconds / 86_400.0
    return np.stack([np.sin(angle), np.cos(angle)], axis=1)


def score_baselines(target: HomeData, level: str, *, ks: list[int | None], draws: int, n_boot: int, seed: int,
                    few_shot: bool) -> dict:
    """Bag-of-sensors (+ time of day), majority; the bag-of-sensors few-shot curve uses the models' draws."""
    train, test = target.splits["train"], target.splits["test"]
    y_train, y_test, days = target.labels("train", level), target.labels("test", level), target.days("test")
    bag_train, bag_test, info = baselines.bag_of_sensors_features(train, test)
    tod_train = np.hstack([bag_train, time_of_day_features(train)])
    tod_test = np.hstack([bag_test, time_of_day_features(test)])
    out = {
        "bag_of_sensors": scored(y_test, linear_probe(bag_train, y_train, bag_test), days, n_boot=n_boot, seed=seed),
        "bag_of_sensors_tod": scored(y_test, linear_probe(tod_train, y_train, tod_test), days, n_boot=n_boot,
                                     seed=seed),
        "majority": scored(y_test, baselines.majority_class(y_train, len(y_test)), days, n_boot=n_boot, seed=seed),
        "bag_of_sensors_info": info,
    }
    if few_shot:
        out["few_shot"] = few_shot_curve({"bag_of_sensors": (bag_train, bag_test)}, y_train, y_test, days,
                                         linear_probe, ks=ks, draws=draws, seed=seed,
                                         n_boot=n_boot)["bag_of_sensors"]
    return out


def score_label_efficient(train_x: np.ndarray, test_x: np.ndarray, target: HomeData, levels: tuple[str, ...],
                          settings: dict, *, n_boot: int, seed: int) -> dict[str, dict]:
    """The label-efficiency curve of one feature set (a model's embeddings or bag-of-sensors) per level: budgets
    of train windows chosen by clustering or at random, only their labels read, scored on the test days."""
    return label_efficiency_curve(train_x, test_x, {lv: target.labels("train", lv) for lv in levels},
                                  {lv: target.labels("test", lv) for lv in levels}, target.days("test"),
                                  budgets=settings["budgets"], methods=settings["methods"], draws=settings["draws"],
                                  seed=seed, n_boot=n_boot)


def model_label_efficient(model: Model, key: str, target: HomeData, levels: tuple[str, ...], settings: dict, *,
                          n_boot: int, seed: int, cache_dir: str | None) -> dict[str, dict]:
    """`score_label_efficient` on a model's unit embeddings of the target's train and test days."""
    return score_label_efficient(embeddings(model, key, target, "train", cache_dir),
                                 embeddings(model, key, target, "test", cache_dir), target, levels, settings,
                                 n_boot=n_boot, seed=seed)


def bag_label_efficient(target: HomeData, levels: tuple[str, ...], settings: dict, *, n_boot: int,
                        seed: int) -> dict[str, dict]:
    """`score_label_efficient` on bag-of-sensors features: clustered, or given random windows, like the models."""
    bag_train, bag_test, _ = baselines.bag_of_sensors_features(target.splits["train"], target.splits["test"])
    return score_label_efficient(bag_train, bag_test, target, levels, settings, n_boot=n_boot, seed=seed)


def score_supervised(model: Model, key: str, target: HomeData, level: str, *, n_boot: int, seed: int,
                     cache_dir: str | None) -> dict:
    """The supervised head's test-day scores (it was fit on the target's labelled train days and selected on its
    validation days), with the epoch it was selected at."""
    pred = model.classifier.predict(embeddings(model, key, target, "test", cache_dir), level)
    return {**scored(target.labels("test", level), pred, target.days("test"), n_boot=n_boot, seed=seed),
            "selected": dict(model.classifier.selected)}
