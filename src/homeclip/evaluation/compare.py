"""Put several evaluations side by side: one table (compare.md + compare.html) of the headline metrics, one
column per evaluation, with the encoder / backbone / text encoder each column actually used."""
from __future__ import annotations

import html
import json
from pathlib import Path

from ..errors import UserError
from ..io import atomic_write_json, atomic_write_text, is_temp_name
from .report import CSS, _fmt, model_summary

RESULTS_FILE = "evaluation_results.json"
# (row label, path into the results dict). Baselines sit next to the model rows they bound.
ROWS: list[tuple[str, tuple[str, ...]]] = [
    (f"{lv.upper()} {title} {metric_name}", ("levels", lv, "methods", method, metric))
    for lv in ("l1", "l2")
    for method, title in (("zeroshot", "zero-shot"), ("zeroshot_knn", "zero-shot k-NN vote"),
                          ("linear_probe", "linear probe"), ("knn", "k-NN"),
                          ("caption_only", "caption-only baseline"), ("bag_of_sensors", "bag-of-sensors baseline"),
                          ("majority", "majority baseline"))
    for metric, metric_name in (("macro_f1", "macro-F1"), ("accuracy", "accuracy"))
] + [
    ("retrieval text→sensor R@5", ("retrieval", "text_to_sensor", "R@5")),
    ("retrieval sensor→text R@5", ("retrieval", "sensor_to_text", "R@5")),
    ("retrieval text→sensor mAP", ("retrieval", "text_to_sensor", "mAP")),
]


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
    from .evaluate import SCHEMA, missing_keys

    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"not valid JSON ({err})", path=str(path)) from None
    if not isinstance(results, dict) or results.get("schema") != SCHEMA:
        found = results.get("schema") if isinstance(results, dict) else type(results).__name__
        raise UserError(f"expected schema {SCHEMA!r}, found {found!r}", path=str(path))
    missing = missing_keys(results)
    if missing:
        raise UserError(f"evaluation results lack {', '.join(missing[:5])}", path=str(path))
    return results


def _lookup(results: dict, keys: tuple[str, ...]):
    node = results
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            return None
        node = node[k]
    return node if isinstance(node, (int, float)) else None


def _column_names(paths: list[Path]) -> list[str]:
    names = [p.parent.name for p in paths]
    if len(set(names)) < len(names):
        names = ["/".join(p.parent.parts[-2:]) for p in paths]
    return names


def compare_table(paths: list[Path]) -> dict:
    """The comparison as plain data: columns (name, path, encoder, backbone, text encoder, test data) and rows."""
    results = [load_results(p) for p in paths]
    columns = [{"name": name, "path": str(p), **model_summary(r),
                "test_data": r.get("sources", {}).get("test_data"), "n_test": r["data"]["n_test"],
                "warnings": r.get("warnings", [])}
               for name, p, r in zip(_column_names(paths), paths, results)]
    rows = [{"metric": label, "values": [_lookup(r, keys) for r in results]} for label, keys in ROWS]
    same_split = len({(c["test_data"], c["n_test"]) for c in columns}) == 1
    return {"schema": "homeclip.compare/1", "columns": columns, "rows": rows, "same_test_split": same_split}


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


def _best(values: list) -> float | None:
    # Nothing to highlight with one value, or when all columns agree (e.g. baselines on the same split).
    present = [v for v in values if v is not None]
    return max(present) if len(set(present)) > 1 else None


def _split_note(table: dict) -> str:
    if table["same_test_split"]:
        return "All columns were scored on the same test split."
    return "WARNING: the columns were scored on different test splits; compare them with care."


def render_markdown(table: dict) -> str:
    """compare.md: one Markdown table, best value per row in bold."""
    cols = table["columns"]
    lines = ["# homeclip comparison", "", _split_note(table), "",
             "| | " + " | ".join(c["name"] for c in cols) + " |", "|---|" + "---|" * len(cols)]
    for key in ("encoder", "backbone", "text_encoder", "n_test"):
        lines.append(f"| *{key.replace('_', ' ')}* | " + " | ".join(str(c[key]) for c in cols) + " |")
    for row in table["rows"]:
        best = _best(row["values"])
        cells = [f"**{_fmt(v)}**" if v is not None and v == best else _fmt(v) for v in row["values"]]
        lines.append(f"| {row['metric']} | " + " | ".join(cells) + " |")
    warned = [f"- {c['name']}: {w}" for c in cols for w in c["warnings"]]
    if warned:
        lines += ["", "## Warnings", ""] + warned
    return "\n".join(lines) + "\n"


def render_html(table: dict) -> str:
    """compare.html: the same table, self-contained."""
    e = html.escape
    cols = table["columns"]
    head = "".join(f"<th>{e(c['name'])}<br><span class='small'>{e(c['encoder'])} &middot; {e(c['backbone'])}"
                   f"<br>{e(c['text_encoder'])} &middot; {c['n_test']} test</span></th>" for c in cols)
    body = []
    for row in table["rows"]:
        best = _best(row["values"])
        cells = "".join(f"<td class='num{' best' if v is not None and v == best else ''}'>{_fmt(v)}</td>"
                        for v in row["values"])
        kind = "baseline" if "baseline" in row["metric"] else "model"
        body.append(f"<tr class='{kind}'><td>{e(row['metric'])}</td>{cells}</tr>")
    warned = [f"<li>{e(c['name'])}: {e(w)}</li>" for c in cols for w in c["warnings"]]
    banner = f"<div class='banner'><b>&#9888; Warnings</b><ul>{''.join(warned)}</ul></div>" if warned else ""
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>homeclip comparison</title>"
            f"<style>{CSS}</style></head><body><main><h1>homeclip comparison</h1>"
            f"<p class='sub'>{e(_split_note(table))}</p>{banner}<table><tr><th>metric</th>{head}</tr>{''.join(body)}"
            f"</table></main></body></html>")
