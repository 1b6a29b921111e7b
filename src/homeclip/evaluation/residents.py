"""Scoring a multi-resident home, chosen explicitly (`--residents`): `flat` scores the flattened label set (one
label per window over every resident: `levels`, the numbers every evaluation has always reported), and
`per-resident` also scores each resident's own labels with every method and baseline, then averages over the
residents. `results["residents"]` says which scoring was chosen, always (docs/evaluation.md).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from ..data.homes import Home
from ..data.residents import lookup
from ..data.windows import WindowSet
from ..errors import UserError
from .summary import (INTERVAL_METRICS, LEVEL_NAMES, LEVELS, METHODS, SHORT_TITLES, best_readout_and_baseline,
                      score_text)

SCORINGS = ("flat", "per-resident")
SCORING_NAMES = {"flat": "flattened", "per-resident": "per resident"}
ScoreLevel = Callable[[str, WindowSet, WindowSet], dict]     # (level, train, test) -> the `levels.<lv>` entry


def check_scoring(scoring: str, train: WindowSet, test: WindowSet) -> list[str]:
    """The residents to score each (empty for flat scoring); UserError for an unknown scoring or per-resident
    scoring of a dataset whose labels name no resident."""
    if scoring not in SCORINGS:
        raise UserError(f"--residents: expected one of {', '.join(SCORINGS)}, found {scoring!r}")
    if scoring == "flat":
        return []
    residents = [r for r in test.residents if r in train.residents]
    if not residents:
        raise UserError("--residents per-resident: the dataset has no per-resident labels (its log's labels name "
                        "no resident, or it was prepared before per-resident labels existed: prepare it again)")
    return residents


def with_resident_descriptions(home: Home, windows: list[WindowSet]) -> Home:
    """The home, with descriptions for the resident labels of `windows` it does not describe, read through
    their activity (`R1_Sleep` -> `Sleep`'s, or another resident's label of it)."""
    residents = sorted({r for w in windows for r in w.residents})
    if not residents:
        return home
    labels = {str(x) for w in windows for column in (w.label_l1, w.label_l2, *w.label_l1_by_resident.values(),
                                                     *w.label_l2_by_resident.values()) for x in set(column)}
    extra = {}
    for label in sorted(labels - set(home.descriptions)):
        texts = lookup(home.descriptions, label, residents)
        if texts:
            extra[label] = list(texts)
    return replace(home, descriptions={**home.descriptions, **extra}) if extra else home


def as_resident(windows: WindowSet, resident: str) -> WindowSet:
    """The same windows labelled with one resident's labels (L1 and L2)."""
    return replace(windows, label_l1=windows.label_l1_by_resident[resident],
                   label_l2=windows.label_l2_by_resident[resident])


def resident_scores(scoring: str, residents: list[str], train: WindowSet, test: WindowSet,
                    score_level: ScoreLevel) -> dict:
    """`results["residents"]`: the scoring chosen, the dataset's residents and, per resident, every level's
    scores (the shape of `levels`), with their mean over the residents."""
    section = {"scoring": SCORING_NAMES[scoring], "residents": list(test.residents),
               "note": _note(scoring, test.residents)}
    if not residents:
        return section
    per = {r: {lv: score_level(lv, as_resident(train, r), as_resident(test, r)) for lv in LEVELS} for r in residents}
    section["per_resident"] = per
    section["mean"] = {lv: {m: {k: float(np.mean([per[r][lv]["methods"][m][k] for r in residents]))
                                for k in INTERVAL_METRICS} for m in METHODS} for lv in LEVELS}
    return section


def _note(scoring: str, residents: list[str]) -> str:
    if not residents:
        return "the labels name no resident: one label set (flattened)"
    who = ", ".join(residents)
    if scoring == "flat":
        return (f"scored on the flattened labels of residents {who} (each window's majority label over all of "
                "them); --residents per-resident scores each resident's own labels")
    return (f"levels hold the flattened labels; per_resident scores each of {who} on their own labels (probes "
            "and baselines fit on their train labels, zero-shot over their labels only); mean = unweighted "
            "mean over the residents")


def resident_headline(section: dict) -> str:
    """The sentence added to the headline: which scoring, and the per-resident means (nothing for a home whose
    labels name no resident, so its headline is what it always was)."""
    if not section.get("residents"):
        return ""
    who = ", ".join(section["residents"])
    if "mean" not in section:
        return f" Scored on the flattened labels of residents {who}."
    mean = section["mean"]["l1"]
    readout, baseline = best_readout_and_baseline(mean, [m for m, (kind, _) in METHODS.items() if kind == "baseline"])
    return (f" Per resident (mean of {who}): zero-shot L1 macro-F1 {mean['zeroshot']['macro_f1']:.3f}; "
            f"{SHORT_TITLES[readout]} {mean[readout]['macro_f1']:.3f} vs {SHORT_TITLES[baseline]} "
            f"{mean[baseline]['macro_f1']:.3f}.")


def resident_view(results: dict) -> dict | None:
    """What the report shows: the scoring note and, for per-resident scoring, a table of macro-F1 per method
    (rows) by level and resident, then the mean (columns). None for a home whose labels name no resident."""
    section = results.get("residents") or {}
    if not section.get("residents"):
        return None
    view = {"scoring": section["scoring"], "note": section["note"], "columns": [], "rows": []}
    if "per_resident" not in section:
        return view
    per, mean = section["per_resident"], section["mean"]
    for lv in LEVELS:
        view["columns"] += [f"{LEVEL_NAMES[lv]} {r}" for r in per] + [f"{LEVEL_NAMES[lv]} mean"]
    for m, (kind, title) in METHODS.items():
        cells = []
        for lv in LEVELS:
            cells += [score_text(per[r][lv]["methods"][m], "macro_f1") for r in per]
            cells.append(f"{mean[lv][m]['macro_f1']:.3f}")
        view["rows"].append({"title": title, "kind": kind, "cells": cells})
    return view
