"""Render an evaluation results dict as report.md and a self-contained report.html (figures inline as base64).

Both come from Jinja2 templates (`templates/`) fed the same view of the results, so they say the same things:
the headline, the banner (methodology flags and fallbacks), the model-vs-baselines table with 95 % day-bootstrap
intervals and best/losing marks, retrieval, figures with captions, examples and details. The HTML environment
autoescapes; the Markdown environment escapes every value it prints (`md_escape`), so a label such as
`<script>` is shown, never run. Both read only the results dict and the figures, so a report can be rebuilt
from evaluation_results.json alone.
"""
from __future__ import annotations

import base64
import json
import re
from functools import lru_cache
from urllib.parse import quote

from markupsafe import Markup

from ..console import clean
from .residents import resident_view
from .summary import (BEST, COLUMN_NAMES, HEADLINE_COLUMNS, LEGEND, LEVEL_NAMES, LEVELS, LOSES, column_marks,
                      headline, headline_rows, model_summary, value_text)

# Markdown punctuation that could start emphasis, code, links or images, strike-through, a table cell or math
# (mid-line; no value starts a line); '<', '>' and '&' become entities (a backslash does not stop raw HTML in
# every renderer).
_MD_PUNCT = re.compile(r"([\\`*_\[\]!|~$])")


def md_escape(value: object) -> str:
    """Text safe to put anywhere in Markdown: shown literally by every renderer, never interpreted."""
    if isinstance(value, Markup):     # our own markup (bold, links to our files), already safe
        return str(value)
    text = clean("" if value is None else value).replace("\r", " ").replace("\n", " ")
    text = _MD_PUNCT.sub(r"\\\1", text)
    # No newline survives, and templates never start a line with a value: line-start syntax cannot arise.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@lru_cache(maxsize=2)
def _environment(markdown: bool):
    from jinja2 import Environment, PackageLoader, StrictUndefined

    if markdown:
        env = Environment(loader=PackageLoader("homeclip.evaluation", "templates"), autoescape=False,
                          finalize=md_escape, undefined=StrictUndefined, keep_trailing_newline=True,
                          trim_blocks=True, lstrip_blocks=True)
        env.filters["ours"] = Markup   # numbers and marks we formatted ourselves: printed as they are
        return env
    return Environment(loader=PackageLoader("homeclip.evaluation", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_template(name: str, **view) -> str:
    """Render one of the package's templates (`*.md.j2` with Markdown escaping, others autoescaped HTML)."""
    return _environment(name.endswith(".md.j2")).get_template(name).render(**view)


def _fmt(x) -> str:
    return value_text(x, None)


def cell(value: float | None, entry: dict | None, marks: dict | None = None) -> dict:
    """One table cell: the value, its interval ('' when none), and its marks."""
    text = value_text(value, entry)
    number, _, bracket = text.partition(" ")
    marks = marks or {}
    return {"value": number, "interval": bracket, "best": bool(marks.get("best")), "loses": bool(marks.get("loses")),
            "pct": 0 if value is None else round(100 * value)}


def headline_table(results: dict) -> dict:
    """The model-vs-baselines table with marks: columns, and rows of cells."""
    rows = headline_rows(results)
    kinds = [r["kind"] for r in rows]
    marks = {c: column_marks([r["cells"][c]["value"] for r in rows], kinds) for c in HEADLINE_COLUMNS}
    return {"columns": [{"level": LEVEL_NAMES[lv], "metric": COLUMN_NAMES[k]} for lv, k in HEADLINE_COLUMNS],
            "rows": [{"title": r["title"], "kind": r["kind"],
                      "cells": [cell(r["cells"][c]["value"], r["cells"][c]["interval"], marks[c][i])
                                for c in HEADLINE_COLUMNS]}
                     for i, r in enumerate(rows)]}


def retrieval_view(results: dict) -> dict | None:
    """Retrieval rows (direction, queries, cells per score), or None when not measured."""
    r = results["retrieval"]
    if "text_to_sensor" not in r:
        return None
    keys = [k for k in r["text_to_sensor"] if k.startswith("R@")] + ["mAP"]
    rows = [{"direction": d.replace("_to_", " → "), "queries": r[d]["n_queries"],
             "cells": [cell(r[d][k], (r[d].get("intervals") or {}).get(k)) for k in keys]}
            for d in ("text_to_sensor", "sensor_to_text")]
    return {"metrics": keys, "rows": rows, "n_windows": r["n_windows"], "n_texts": r["n_texts"],
            "caption_types": r["caption_types"], "duplicates": r["duplicates"]}


def report_view(results: dict, figures: dict | None = None) -> dict:
    """Everything the report templates show, from the results dict (and figures, when drawn)."""
    figures = figures or {}
    captions = results.get("figures", {})
    scored = []
    for lv in LEVELS:
        missing = results["levels"][lv]["classes_not_in_test"]
        if missing:
            scored.append(f"{LEVEL_NAMES[lv]}: no test windows for {', '.join(missing)} (listed, not scored)")
    details = []
    for lv in LEVELS:
        level = results["levels"][lv]
        methods = level["methods"]
        shown = ("zeroshot", "linear_probe", "bag_of_sensors")
        details.append({"level": LEVEL_NAMES[lv], "methods": [methods[m]["title"] for m in shown],
                        "not_in_test": ", ".join(level["classes_not_in_test"]) or "none",
                        "rows": [{"label": c, "support": methods["zeroshot"]["per_class"][c]["support"],
                                  "f1": [_fmt(methods[m]["per_class"][c]["f1"]) for m in shown]}
                                 for c in methods["zeroshot"]["classes_scored"]]})
    groups = [("Confusion matrices", "confusion_"), ("Per-class F1", "f1_"),
              ("Maps of the test embeddings (t-SNE)", "tsne_"), ("Training curves", "training_curves")]
    figure_groups = []
    for title, prefix in groups:
        names = [n for n in (figures or captions) if n.startswith(prefix)]
        if names:
            figure_groups.append({"title": title, "wide": prefix != "f1_", "figures": [
                {"name": n, "caption": captions.get(n) or getattr(figures.get(n), "caption", "") or n,
                 "png": base64.b64encode(figures[n].png).decode("ascii") if n in figures else None}
                for n in names]})
    desc = results["label_descriptions"]
    return {
        "results": results, "info": model_summary(results), "data": results["data"],
        "sources": results.get("sources", {}), "created": results.get("created", ""),
        "headline": results.get("headline") or headline(results), "warnings": results.get("warnings", []),
        "table": headline_table(results), "legend": LEGEND, "best_mark": BEST, "loses_mark": LOSES,
        "residents": resident_view(results),
        "scored_note": ("Scores use only the classes present in the test split. " + "; ".join(scored)).strip(),
        "retrieval": retrieval_view(results),
        "label_precision": [{"level": LEVEL_NAMES[lv], "scores": {k: _fmt(v) for k, v in
                                                                  results["levels"][lv]["label_precision"].items()}}
                            for lv in LEVELS],
        "figure_groups": figure_groups, "examples": results.get("retrieval_examples", []),
        "details": details, "descriptions_source": desc["source"],
        "descriptions": [{"label": label, "level": lv.upper(), "texts": " | ".join(texts)}
                         for lv in LEVELS for label, texts in desc[lv]["descriptions"].items()],
        "settings": json.dumps({"model": results["model"], "sources": results.get("sources", {}),
                                "methodology": results.get("methodology", {}), "config": results.get("config", {}),
                                "timings": results.get("timings", {})}, indent=2),
    }


def render_markdown(results: dict, figure_names: list[str] = ()) -> str:
    """report.md: headline, banner, the marked table with intervals, retrieval and links to figures/."""
    view = report_view(results)
    captions = results.get("figures", {})
    view["figure_links"] = [{"name": n, "caption": captions.get(n, n), "png": Markup(f"figures/{quote(n)}.png"),
                             "svg": Markup(f"figures/{quote(n)}.svg")} for n in figure_names]
    return render_template("report.md.j2", **view)


def render_html(results: dict, figures: dict) -> str:
    """report.html: one self-contained page (inline CSS and base64 PNGs, links to the SVG files beside it)."""
    return render_template("report.html.j2", **report_view(results, figures))
