"""The benchmark's outputs: the JSON of record, a Markdown table (also printed), an HTML page with the
label-efficiency figures and tables, and the check of the project's targets against what was measured."""
from __future__ import annotations

import base64
import html
from pathlib import Path

from ..evaluation.bootstrap import format_interval

HEADLINE = "macro_f1"
FEW_SHOT_K = 5
LABEL_EFFICIENT_TITLES = {"kmeans_cluster": "k-means centres, spread by cluster",
                          "kmeans_probe": "k-means centres, probe on them",
                          "scan_cluster": "SCAN centres, spread by cluster",
                          "scan_probe": "SCAN centres, probe on them",
                          "random_probe": "random windows, probe on them"}


def _value(entry: dict | None) -> float | None:
    return None if not entry else entry[HEADLINE]["value"]


def _few_shot_at(curve: dict | list | None, ks: list, k) -> dict | None:
    if not curve or k not in ks:
        return None
    return curve[ks.index(k)]


def rows(record: dict) -> list[dict]:
    """One row per (protocol, target, level, encoder) with the headline entries and the baselines beside."""
    ks = [("all" if k is None else k) for k in _ks(record)]
    out = []
    for encoder, protocols in record["models"].items():
        for protocol, targets in protocols.items():
            for target, entry in targets.items():
                for level, s in entry["levels"].items():
                    b = record["baselines"][target][level]
                    out.append({
                        "protocol": protocol, "target": target, "level": level, "encoder": encoder,
                        "backbone": entry["model"]["backbone"], "trained_on": entry["trained_on"],
                        "model": model_label(encoder, entry["model"]["backbone"]),
                        "zeroshot": s["zeroshot"], "calibration": s["zeroshot"]["calibration"],
                        "linear_probe": s["linear_probe"], "supervised": s.get("supervised"),
                        "few_shot": _few_shot_at(s.get("few_shot"), ks, FEW_SHOT_K),
                        "bag_of_sensors": b["bag_of_sensors"], "bag_of_sensors_tod": b["bag_of_sensors_tod"],
                        "bag_few_shot": _few_shot_at(b.get("few_shot"), ks, FEW_SHOT_K), "majority": b["majority"]})
    return out


def model_label(encoder: str, backbone: str) -> str:
    """How a row names its model: the encoder and its frozen backbone ("chronos (statistics)"), or "end to end"
    for an encoder without one."""
    return f"{encoder} ({'end to end' if str(backbone).startswith('none') else backbone})"


def has_supervised(record: dict) -> bool:
    """Whether the record's spec ran the supervised protocol (its column is shown only then)."""
    return "supervised" in record["spec"].get("protocols", [])


def label_efficiency_rows(record: dict) -> list[dict]:
    """One row per (home, level, features, method): the features are a model's embeddings (encoder and
    protocol) or bag-of-sensors; `cells` holds one entry per budget."""
    out = []
    for target in record["homes"]:
        for level in record["spec"]["levels"]:
            sources = [(f"{encoder} ({protocol})", entries[target]["levels"][level].get("label_efficient"))
                       for encoder, protocols in record["models"].items() for protocol, entries in protocols.items()
                       if target in entries]
            sources.append(("bag-of-sensors", record["baselines"][target][level].get("label_efficient")))
            for features, curve in sources:
                for method, cells in (curve or {}).get("methods", {}).items():
                    out.append({"target": target, "level": level, "features": features, "method": method,
                                "title": LABEL_EFFICIENT_TITLES.get(method, method), "budgets": curve["budgets"],
                                "cells": cells})
    return out


def _ks(record: dict) -> list:
    ks = record["spec"]["few_shot"].get("k", [])
    return [None if k == "all" else int(k) for k in ks]


def targets(record: dict) -> list[dict]:
    """The issue's targets, each with the numbers it compares and whether it is met (never asserted)."""
    table = rows(record)
    checks = []
    for target in record["homes"]:
        for level in record["spec"]["levels"]:
            mine = [r for r in table if r["target"] == target and r["level"] == level]
            home_rows = [r for r in mine if r["protocol"] == "in_home"]
            loho_rows = [r for r in mine if r["protocol"] == "leave_one_home_out"]
            if home_rows:
                best = max(home_rows, key=lambda r: _value(r["linear_probe"]))
                bos = _value(best["bag_of_sensors"])
                checks.append(_check("in_home probe >= bag-of-sensors + 0.05", target, level, best["encoder"],
                                     _value(best["linear_probe"]), bos + 0.05))
            if loho_rows:
                best = max(loho_rows, key=lambda r: _value(r["zeroshot"]))
                bos = _value(record["baselines"][target][level]["bag_of_sensors"])
                major = _value(record["baselines"][target][level]["majority"])
                checks.append(_check("leave-one-home-out zero-shot >= 1/2 in-home bag-of-sensors probe", target,
                                     level, best["encoder"], _value(best["zeroshot"]), bos / 2))
                checks.append(_check("leave-one-home-out zero-shot >= 3x majority", target, level, best["encoder"],
                                     _value(best["zeroshot"]), 3 * major))
            shots = [r for r in mine if r["few_shot"] and r["bag_few_shot"]]
            if shots:
                best = max(shots, key=lambda r: _value(r["few_shot"]))
                checks.append(_check(f"few-shot k={FEW_SHOT_K}: probe > bag-of-sensors with the same labels", target,
                                     level, f"{best['encoder']} ({best['protocol']})", _value(best["few_shot"]),
                                     _value(best["bag_few_shot"]), strict=True))
    return checks


def _check(name: str, target: str, level: str, who: str, value: float, bar: float, strict: bool = False) -> dict:
    met = value > bar if strict else value >= bar
    return {"target": name, "home": target, "level": level, "best": who, "value": round(value, 4),
            "bar": round(bar, 4), "met": bool(met)}


def _cell(entry: dict | None) -> str:
    return format_interval(entry[HEADLINE]) if entry else "—"


def render_markdown(record: dict) -> str:
    """The table printed at the end of `homeclip benchmark` (macro-F1 with 95 % day-bootstrap intervals)."""
    def esc(text) -> str:
        return str(text).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")

    lines = [f"# Benchmark {esc(record['spec']['name'])}", "",
             f"Macro-F1 on the test days, 95 % bootstrap interval over test days in brackets. Few-shot: "
             f"{FEW_SHOT_K} labelled windows per class of the target's train days, mean of "
             f"{record['spec']['few_shot'].get('draws', 5)} draws; bag-of-sensors gets exactly the same windows.", ""]
    supervised = has_supervised(record)
    header = ["protocol", "home", "level", "encoder", "zero-shot (calibration)", "probe",
              *(["supervised"] if supervised else []), f"few-shot k={FEW_SHOT_K}",
              "bag-of-sensors", "bag-of-sensors + time", f"bag few-shot k={FEW_SHOT_K}", "majority"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows(record):
        lines.append("| " + " | ".join(esc(x) for x in [
            r["protocol"], r["target"], r["level"].upper(), r["model"],
            f"{_cell(r['zeroshot'])} ({r['calibration']})", _cell(r["linear_probe"]),
            *([_cell(r["supervised"])] if supervised else []), _cell(r["few_shot"]),
            _cell(r["bag_of_sensors"]), _cell(r["bag_of_sensors_tod"]), _cell(r["bag_few_shot"]),
            _cell(r["majority"])]) + " |")
    if supervised:
        lines += ["", "Supervised: a linear head per level trained on the encoder's embeddings of every labelled "
                  "train window (class-weighted), the epoch chosen on the target's validation days; the fully "
                  "supervised reference."]
    lines += _label_efficiency_markdown(record, esc)
    lines += ["", "## Targets", "", "| target | home | level | best | measured | bar | met |", "|---|---|---|---|---|---|---|"]
    for c in record.get("targets", []):
        lines.append(f"| {c['target']} | {esc(c['home'])} | {c['level'].upper()} | {esc(c['best'])} | "
                     f"{c['value']:.3f} | {c['bar']:.3f} | {'yes' if c['met'] else 'NO'} |")
    fallbacks = sorted({f"{enc}: {e['model']['backbone']}" for enc, ps in record["models"].items()
                        for ts in ps.values() for e in ts.values() if e["model"].get("backbone_fallback")})
    if fallbacks:
        lines += ["", "**Backbone fallback:** " + "; ".join(esc(f) for f in fallbacks) +
                  " — the statistics backbone computes masked mean/std/min/max and a downsampled sequence of each "
                  "channel; these numbers say nothing about Chronos."]
    return "\n".join(lines) + "\n"


def _label_efficiency_markdown(record: dict, esc) -> list[str]:
    table = label_efficiency_rows(record)
    if not table:
        return []
    settings = record["spec"].get("label_efficient", {})
    budgets = table[0]["budgets"]
    lines = ["", "## Label efficiency", "",
             f"Macro-F1 on the test days with b labelled train windows, chosen before any label is known (nearest "
             f"the k-means or SCAN cluster centres, or at random) and spread to every window; mean of "
             f"{settings.get('draws', 3)} seeded draws, 95 % day-bootstrap interval. Bag-of-sensors goes through "
             "the same selections.", "",
             "| home | level | features | windows chosen, labels spread | "
             + " | ".join(f"b={b}" for b in budgets) + " |",
             "|" + "---|" * (4 + len(budgets))]
    for r in table:
        lines.append("| " + " | ".join(esc(x) for x in [r["target"], r["level"].upper(), r["features"], r["title"],
                                                          *(_cell(c) for c in r["cells"])]) + " |")
    return lines


def few_shot_figure(record: dict, fmt: str = "png") -> bytes:
    """Macro-F1 against labelled windows per class, one panel per (home, level): models and bag-of-sensors."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = _ks(record)
    panels = [(t, lv) for t in record["homes"] for lv in record["spec"]["levels"]]
    fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(4.2 * max(len(panels), 1), 3.4), squeeze=False)
    x = [str("all" if k is None else k) for k in ks]
    for ax, (target, level) in zip(axes[0], panels):
        for encoder, protocols in record["models"].items():
            for protocol, entries in protocols.items():
                curve = entries.get(target, {}).get("levels", {}).get(level, {}).get("few_shot")
                if curve:
                    ax.plot(x, [c[HEADLINE]["value"] for c in curve], marker="o", label=f"{encoder} ({protocol})")
        bag = record["baselines"][target][level].get("few_shot")
        if bag:
            ax.plot(x, [c[HEADLINE]["value"] for c in bag], marker="s", linestyle="--", color="black",
                    label="bag-of-sensors")
        ax.set_title(f"{target} {level.upper()}", fontsize=9)
        ax.set_xlabel("labelled windows per class")
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel("test macro-F1")
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110)
    plt.close(fig)
    return buf.getvalue()


def render_html(record: dict, png: bytes) -> str:
    """A self-contained page: the Markdown table as HTML, targets, and the label-efficiency figure."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("homeclip.benchmark", "templates"), autoescape=select_autoescape())
    return env.get_template("benchmark.html.j2").render(
        record=record, rows=rows(record), cell=_cell, few_shot_k=FEW_SHOT_K, supervised=has_supervised(record),
        label_rows=label_efficiency_rows(record),
        figure=base64.b64encode(png).decode("ascii"), escape=html.escape)


def write_reports(record: dict, out: Path) -> None:
    """benchmark.json, benchmark.md, benchmark.html and figures/few_shot.{png,svg}, written atomically."""
    from ..io import atomic_write_bytes, atomic_write_json, atomic_write_text

    png = few_shot_figure(record, "png")
    atomic_write_bytes(out / "figures" / "few_shot.png", png)
    atomic_write_bytes(out / "figures" / "few_shot.svg", few_shot_figure(record, "svg"))
    atomic_write_text(out / "benchmark.md", render_markdown(record))
    atomic_write_text(out / "benchmark.html", render_html(record, png))
    atomic_write_json(out / "benchmark.json", record)
