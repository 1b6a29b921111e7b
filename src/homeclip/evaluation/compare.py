"""Put several evaluations side by side (compare.md, compare.html, compare.json).

One column per model read-out of each run (zero-shot, zero-shot vote, probe, k-NN), then the baselines ONCE,
in their own columns: runs scored on the same train/test files share one set of baseline columns (the
caption-only baseline once per text encoder). Rows are the headline metrics (L1/L2 macro-F1 and accuracy)
with 95 % day-bootstrap intervals; the best value of a row is marked, and a model value below the row's best
baseline is marked as losing. A second table gives retrieval per run.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..io import atomic_write_json, atomic_write_text, is_temp_name, read_json
from .summary import BEST, LEGEND, LEVELS, LOSES, SHORT_TITLES, column_marks, interval, model_summary

RESULTS_FILE = "evaluation_results.json"
SCHEMA = "homeclip.compare/2"
MODEL_METHODS = ("zeroshot", "zeroshot_knn", "linear_probe", "knn")
BASELINE_METHODS = ("caption_only", "bag_of_sensors", "majority")
ROW_METRICS = (("macro_f1", "macro-F1"), ("accuracy", "accuracy"))
RETRIEVAL = (("text→sensor R@5", "text_to_sensor", "R@5"), ("sensor→text R@5", "sensor_to_text", "R@5"),
             ("text→sensor mAP", "text_to_sensor", "mAP"))


def find_results(path: str | Path) -> list[Path]:
    """The evaluation_results.json files a path names: the file, a directory holding one, or a run directory
    with evaluation directories below it (searched up to three levels deep)."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise UserError("no such file or directory", path=str(path))
    if (path / RESULTS_FILE).is_file():
        return [path / RESULTS_FILE]
    found = sorted(p for depth in ("*", "*/*", "*/*/*") for p in path.glob(f"{depth}/{RESULTS_FILE}")
                   if not any(is_temp_name(part) for part in p.relative_to(path).parts))   # a killed run's staging
    if not found:
        raise UserError(f"no {RESULTS_FILE} here or below (run `homeclip evaluate` first)", path=str(path))
    return found


def load_results(path: Path) -> dict:
    """Read and check one evaluation_results.json."""
    from .evaluate import SCHEMA as RESULTS_SCHEMA, missing_keys

    results = read_json(path, "evaluation results")
    if not isinstance(results, dict) or results.get("schema") != RESULTS_SCHEMA:
        found = results.get("schema") if isinstance(results, dict) else type(results).__name__
        hint = " (written by an older homeclip: run `homeclip evaluate` again)" \
            if str(found).startswith("homeclip.evaluation/") else ""
        raise UserError(f"expected schema {RESULTS_SCHEMA!r}, found {found!r}{hint}", path=str(path))
    missing = missing_keys(results)
    if missing:
        raise UserError(f"evaluation results lack {', '.join(missing[:5])}", path=str(path))
    return results


def _column_names(paths: list[Path]) -> list[str]:
    names = [p.parent.name for p in paths]
    if len(set(names)) < len(names):
        names = ["/".join(p.parent.parts[-2:]) for p in paths]
    return names


def _split_key(results: dict) -> tuple:
    # Baselines depend only on the train and test files (and, for caption-only, the text encoder).
    src, data = results.get("sources", {}), results["data"]
    return (src.get("train_data_sha256") or src.get("train_data"), src.get("test_data_sha256") or src.get("test_data"),
            data["n_train"], data["n_test"])


def _value(results: dict, level: str, method: str, metric: str) -> dict | None:
    entry = results["levels"][level]["methods"].get(method)
    if entry is None or entry.get(metric) is None:
        return None
    return {"value": entry[metric], "interval": interval(entry, metric)}


def _columns(runs: list[dict], results: list[dict]) -> tuple[list[dict], list[dict]]:
    """The table's columns (model read-outs per run, then baselines once per split) and the split groups."""
    columns = [{"kind": "model", "run": run["name"], "method": m, "title": SHORT_TITLES[m], "source": i}
               for i, run in enumerate(runs) for m in MODEL_METHODS]
    groups: list[dict] = []
    for i, r in enumerate(results):
        key = _split_key(r)
        group = next((g for g in groups if g["key"] == key), None)
        if group is None:
            group = {"key": key, "runs": [], "test_data": runs[i]["test_data"], "n_test": runs[i]["n_test"]}
            groups.append(group)
        group["runs"].append(i)
    for g_index, group in enumerate(groups):
        for method in BASELINE_METHODS:
            # caption-only embeds captions with the frozen text encoder: one column per distinct encoder
            variants: dict[str, int] = {}
            for i in group["runs"]:
                variants.setdefault(runs[i]["text_encoder"] if method == "caption_only" else "", i)
            for variant, source in variants.items():
                title = SHORT_TITLES[method] + (f" ({variant})" if len(variants) > 1 else "")
                columns.append({"kind": "baseline", "group": g_index, "method": method, "title": title,
                                "source": source, "runs": [runs[i]["name"] for i in group["runs"]]})
    return columns, [{k: v for k, v in g.items() if k != "key"} for g in groups]


def compare_table(paths: list[Path]) -> dict:
    """The comparison as plain data: runs, columns, metric rows (cells with intervals and marks), retrieval."""
    results = [load_results(p) for p in paths]
    runs = [{"name": name, "path": str(p), **model_summary(r), "headline": r.get("headline", ""),
             "test_data": r.get("sources", {}).get("test_data"), "n_test": r["data"]["n_test"],
             "methodology": r.get("methodology", {}), "warnings": r.get("warnings", [])}
            for name, p, r in zip(_column_names(paths), paths, results)]
    columns, groups = _columns(runs, results)
    kinds = [c["kind"] for c in columns]
    rows = []
    for level in LEVELS:
        for metric, metric_name in ROW_METRICS:
            cells = [_value(results[c["source"]], level, c["method"], metric) for c in columns]
            rows.append({"metric": f"{level.upper()} {metric_name}", "level": level, "key": metric,
                         "cells": _marked(cells, kinds)})
    retrieval = []
    for name, direction, key in RETRIEVAL:
        cells = []
        for r in results:
            d = r["retrieval"].get(direction) or {}
            cells.append(None if d.get(key) is None else {"value": d[key],
                                                          "interval": (d.get("intervals") or {}).get(key)})
        retrieval.append({"metric": name, "cells": _marked(cells, ["model"] * len(cells))})
    return {"schema": SCHEMA, "runs": runs, "columns": columns, "baseline_groups": groups, "rows": rows,
            "retrieval": retrieval, "same_test_split": len(groups) == 1, "legend": LEGEND}


def _marked(cells: list[dict | None], kinds: list[str]) -> list[dict | None]:
    """Each cell ({"value", "interval"} or None) with its best / loses marks (summary.column_marks)."""
    marks = column_marks([None if x is None else x["value"] for x in cells], kinds)
    return [None if x is None else {**x, **m} for x, m in zip(cells, marks)]


def compare_runs(paths: list[str | Path], output: str | Path) -> dict:
    """Write compare.md, compare.html and compare.json for the evaluations found under `paths`."""
    if not paths:
        raise UserError("give at least one evaluation or run directory")
    files = [f for p in paths for f in find_results(p)]
    table = compare_table(files)
    output = Path(output)
    atomic_write_text(output / "compare.md", render_markdown(table))
    atomic_write_text(output / "compare.html", render_html(table))
    atomic_write_json(output / "compare.json", table)
    return table


def _split_note(table: dict) -> str:
    if table["same_test_split"]:
        return "All runs were scored on the same train/test split: the baselines are shown once."
    return ("WARNING: the runs were scored on different train/test splits (one set of baseline columns per "
            "split); compare them with care.")


def _view(table: dict) -> dict:
    """What both templates show (cells as text)."""
    from .report import cell

    def text(c: dict | None) -> dict:
        return cell(None, None) if c is None else cell(c["value"], c["interval"], c)

    many = len(table["baseline_groups"]) > 1
    headers = []
    for c in table["columns"]:
        split = f" (split {c['group'] + 1})" if c["kind"] == "baseline" and many else ""
        owner = c["run"] if c["kind"] == "model" else f"baselines{split}"
        headers.append({**c, "owner": owner})
    spans: list[dict] = []
    for h in headers:
        if spans and spans[-1]["owner"] == h["owner"]:
            spans[-1]["span"] += 1
        else:
            spans.append({"owner": h["owner"], "kind": h["kind"], "span": 1,
                          "run": next((r for r in table["runs"] if r["name"] == h.get("run")), None)})
    return {"table": table, "note": _split_note(table), "headers": headers, "spans": spans,
            "rows": [{"metric": r["metric"], "cells": [text(c) for c in r["cells"]]} for r in table["rows"]],
            "retrieval": [{"metric": r["metric"], "cells": [text(c) for c in r["cells"]]} for r in table["retrieval"]],
            "warnings": [{"run": run["name"], "text": w} for run in table["runs"] for w in run["warnings"]],
            "legend": table["legend"], "best_mark": BEST, "loses_mark": LOSES}


def render_markdown(table: dict) -> str:
    """compare.md: the same tables in Markdown (every run- or data-derived string escaped)."""
    from .report import render_template

    return render_template("compare.md.j2", **_view(table))


def render_html(table: dict) -> str:
    """compare.html: the same tables, self-contained."""
    from .report import render_template

    return render_template("compare.html.j2", **_view(table))
