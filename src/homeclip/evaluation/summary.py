"""What an evaluation says in words and marks, so that a skim reader cannot misread it: the run's label, the
one-sentence headline, and which cells of the model-vs-baselines table are best in their column or show a
model losing to a baseline. Pure functions over the results dict (docs/evaluation.md), shared by the report,
`compare`, the evaluate command and the demo."""
from __future__ import annotations

from .bootstrap import format_interval

LEVELS = ("l1", "l2")
LEVEL_NAMES = {"l1": "L1 (fine)", "l2": "L2 (coarse)"}
# method -> (kind, title). The order is the order of every table.
METHODS: dict[str, tuple[str, str]] = {
    "zeroshot": ("model", "Zero-shot (nearest label prototype)"),
    "zeroshot_knn": ("model", "Zero-shot (k-NN vote over descriptions)"),
    "linear_probe": ("model", "Linear probe (train split)"),
    "knn": ("model", "k-NN on embeddings (train split)"),
    "caption_only": ("baseline", "Caption-only (raw text encoder)"),
    "bag_of_sensors": ("baseline", "Bag-of-sensors + logistic regression"),
    "majority": ("baseline", "Majority class"),
}
# Scored only when the checkpoint carries a classification head (a supervised run, docs/training.md).
OPTIONAL_METHODS: dict[str, tuple[str, str]] = {"supervised": ("model", "Supervised head (labelled train days)")}
SHORT_TITLES = {"supervised": "supervised", "zeroshot": "zero-shot", "zeroshot_knn": "zero-shot k-NN vote", "linear_probe": "linear probe",
                "knn": "k-NN", "caption_only": "caption-only", "bag_of_sensors": "bag-of-sensors",
                "majority": "majority"}
READOUTS = ("linear_probe", "knn")            # supervised read-outs of the model's embeddings
INTERVAL_METRICS = ("macro_f1", "accuracy", "balanced_accuracy")
HEADLINE_COLUMNS = [(lv, key) for lv in LEVELS for key in INTERVAL_METRICS]
COLUMN_NAMES = {"macro_f1": "macro-F1", "accuracy": "accuracy", "balanced_accuracy": "balanced acc."}
BEST, LOSES = "★", "▼"
LEGEND = (f"{BEST} best in its column, models and baselines alike; {LOSES} a model below the best baseline in "
          "that column. Brackets: 95 % bootstrap interval over test days; overlapping intervals mean the "
          "difference is within day-to-day variation.")


def text_encoder_used(info: dict) -> str | None:
    """The model a text encoder's info() says it actually used."""
    return info.get("used") or info.get("model_used")


def run_label(model: dict) -> str:
    """The run's name everywhere: the encoder kind, plus the backbone when it is not a Chronos model
    ("chronos (statistics fallback)" after a fallback)."""
    kind = str(model.get("encoder_kind") or "unknown")
    backbone = model.get("backbone") or {}
    used = backbone.get("used") or backbone.get("family")
    if backbone.get("fallback_reason"):
        return f"{kind} ({used} fallback)"
    if used == "statistics":
        return f"{kind} (statistics backbone)"
    return kind


def model_summary(results: dict) -> dict[str, str]:
    """Short strings naming the run (label), encoder, backbone and text encoder actually used."""
    model = results["model"]
    backbone = model.get("backbone") or {}
    text = model.get("text_encoder_evaluation") or model.get("text_encoder_training") or {}
    used = backbone.get("model_id") or backbone.get("used") or backbone.get("family") or "none (trained end to end)"
    return {"label": run_label(model), "encoder": str(model.get("encoder_kind", "unknown")), "backbone": str(used),
            "text_encoder": str(text_encoder_used(text) or "unknown")}


def interval(entry: dict, metric: str) -> dict | None:
    """The bootstrap interval of one metric of a method entry (None when the results predate intervals)."""
    return (entry.get("intervals") or {}).get(metric)


def has_width(found: dict | None) -> bool:
    """True for an interval worth printing (one test day resampled is always that day: no interval)."""
    return bool(found) and found.get("n_days", 2) >= 2


def value_text(value: float | None, found: dict | None) -> str:
    """'0.712 [0.655, 0.768]' when `found` is an interval worth printing, else the bare value ('–' for none)."""
    return format_interval(found) if has_width(found) else ("–" if value is None else f"{value:.3f}")


def score_text(entry: dict, metric: str) -> str:
    """A method entry's `metric` with its interval when it has one (value_text)."""
    return value_text(entry.get(metric), interval(entry, metric))


def headline_rows(results: dict) -> list[dict]:
    """One row per method: name, kind, title and per (level, metric) column the value and its interval."""
    rows = []
    for name, entry in results["levels"]["l1"]["methods"].items():
        cells = {}
        for lv, key in HEADLINE_COLUMNS:
            method = results["levels"][lv]["methods"][name]
            cells[(lv, key)] = {"value": method.get(key), "interval": interval(method, key)}
        rows.append({"method": name, "kind": entry["kind"], "title": entry["title"], "cells": cells})
    return rows


def column_marks(values: list[float | None], kinds: list[str]) -> list[dict]:
    """Per value of one column: best in the column (ties all best), and a model below the best baseline."""
    present = [v for v in values if v is not None]
    best = max(present) if present else None
    baselines = [v for v, k in zip(values, kinds) if k == "baseline" and v is not None]
    top_baseline = max(baselines) if baselines else None
    return [{"best": v is not None and v == best,
             "loses": k == "model" and v is not None and top_baseline is not None and v < top_baseline}
            for v, k in zip(values, kinds)]


def best_readout_and_baseline(methods: dict, baselines) -> tuple[str, str]:
    """The best read-out (READOUTS) and the best of `baselines` by macro-F1 (`methods`: method -> {"macro_f1"})."""
    def f1(m: str) -> float:
        return methods[m]["macro_f1"]

    return max(READOUTS, key=f1), max(baselines, key=f1)


def headline(results: dict) -> str:
    """One sentence a skim reader cannot misread: zero-shot, the best read-out vs the best baseline (L1 macro-F1,
    with intervals), whether the model wins, and any methodology flag."""
    methods = results["levels"]["l1"]["methods"]
    readout, baseline = best_readout_and_baseline(methods, [m for m, e in methods.items() if e["kind"] == "baseline"])
    gap = methods[readout]["macro_f1"] - methods[baseline]["macro_f1"]
    verdict = "above" if gap > 0 else "BELOW" if gap < 0 else "level with"
    a, b = interval(methods[readout], "macro_f1"), interval(methods[baseline], "macro_f1")
    noise = ""
    if a and b and a.get("n_days", 0) >= 2:
        overlap = a["low"] <= b["high"] and b["low"] <= a["high"]
        noise = " (within day-to-day variation)" if overlap else " (beyond day-to-day variation)"
    days = (interval(methods["zeroshot"], "macro_f1") or {}).get("n_days")
    flags = [flag for flag, on in (("SELECTED ON THE TEST SPLIT", _m(results, "selected_on_test_split")),
                                   ("TRAINED ON THE TEST SPLIT", _m(results, "trained_on_test_split")),
                                   (_cross_home(results), _m(results, "cross_home"))) if on]
    return (f"{run_label(results['model'])}: zero-shot L1 macro-F1 {score_text(methods['zeroshot'], 'macro_f1')}; "
            f"best read-out ({SHORT_TITLES[readout]}) {score_text(methods[readout], 'macro_f1')} vs best baseline "
            f"({SHORT_TITLES[baseline]}) {score_text(methods[baseline], 'macro_f1')}, {verdict} the baseline{noise}"
            + ("" if not days else f"; 95 % intervals over {days} test days" if days >= 2 else
               "; one test day: no intervals")
            + "".join(f"; {flag}" for flag in flags) + ".")


def _m(results: dict, key: str):
    return (results.get("methodology") or {}).get(key)


def _cross_home(results: dict) -> str:
    m = results.get("methodology") or {}
    return f"trained on {m.get('trained_on')}, tested on {m.get('tested_on')}"
