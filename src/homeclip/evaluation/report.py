"""Render an evaluation results dict as report.md and a self-contained report.html (figures inline as base64).

Both renderings read only the results dict (schema in docs/evaluation.md) and the figure PNGs, so a report can
be rebuilt from evaluation_results.json alone.
"""
from __future__ import annotations

import base64
import html
import json

LEVEL_NAMES = {"l1": "L1 (fine)", "l2": "L2 (coarse)"}
HEADLINE_COLUMNS = [(lv, key) for lv in ("l1", "l2") for key in ("macro_f1", "accuracy", "balanced_accuracy")]
COLUMN_NAMES = {"macro_f1": "macro-F1", "accuracy": "accuracy", "balanced_accuracy": "balanced acc."}

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
main{max-width:1200px;margin:0 auto;padding:24px 32px 64px}
h1{font-size:26px;margin:8px 0 4px} h2{font-size:20px;margin:32px 0 10px;border-bottom:2px solid #dde1e8;padding-bottom:4px}
h3{font-size:16px;margin:18px 0 6px}
.sub{color:#5a6475;font-size:14px}
.banner{background:#fff3cd;border:2px solid #e0a800;border-radius:8px;padding:12px 16px;margin:16px 0;font-size:15px}
.banner b{color:#8a5a00}
table{border-collapse:collapse;background:#fff;margin:8px 0;font-size:14px;box-shadow:0 1px 2px #0001}
th,td{padding:6px 10px;border-bottom:1px solid #e6e9ef;text-align:left}
th{background:#eef1f6;font-weight:600} td.num{text-align:right;font-variant-numeric:tabular-nums;min-width:70px}
tr.baseline td:first-child{color:#5a6475} tr.model td:first-child{font-weight:600}
.tag{font-size:11px;padding:1px 6px;border-radius:8px;margin-left:6px;vertical-align:middle}
.tag.model{background:#d7e8ff;color:#0b4aa2} .tag.baseline{background:#eceff3;color:#4b5563}
.best{font-weight:700;color:#0b4aa2}
.figs{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.figs figure{margin:0;background:#fff;padding:8px;box-shadow:0 1px 2px #0001;flex:1 1 420px;max-width:560px}
.figs figure.wide{max-width:none;flex-basis:100%}
.figs img{max-width:100%;height:auto} figure.wide img{width:100%}
figcaption{font-size:13px;color:#5a6475;margin-top:4px}
.query{background:#fff;padding:10px 14px;margin:10px 0;box-shadow:0 1px 2px #0001}
.query .q{font-size:15px;font-weight:600} .small{font-size:12px;color:#5a6475}
details{margin:8px 0} summary{cursor:pointer;font-weight:600}
code,pre{font-size:12px} pre{background:#fff;padding:10px;overflow:auto}
"""


def headline_rows(results: dict) -> list[dict]:
    """One row per method: name, kind, title and the headline scores per (level, metric)."""
    methods = results["levels"]["l1"]["methods"]
    rows = []
    for name, entry in methods.items():
        scores = {(lv, key): results["levels"][lv]["methods"][name][key] for lv, key in HEADLINE_COLUMNS}
        rows.append({"method": name, "kind": entry["kind"], "title": entry["title"], "scores": scores})
    return rows


def model_summary(results: dict) -> dict[str, str]:
    """Short strings naming the encoder, backbone and text encoder actually used."""
    model = results["model"]
    backbone = model.get("backbone") or {}
    text = model.get("text_encoder_evaluation") or model.get("text_encoder_training") or {}
    used = backbone.get("model_id") or backbone.get("used") or backbone.get("family") or "none (trained end to end)"
    return {"encoder": str(model.get("encoder_kind", "unknown")), "backbone": str(used),
            "text_encoder": str(text_encoder_used(text) or "unknown")}


def text_encoder_used(info: dict) -> str | None:
    """The model a text encoder's info() says it actually used."""
    return info.get("used") or info.get("model_used")


def _fmt(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def render_markdown(results: dict, figure_names: list[str] = ()) -> str:
    """report.md: the headline numbers, retrieval, warnings and links to figures/."""
    src, info, data = results.get("sources", {}), model_summary(results), results["data"]
    out = [f"# homeclip evaluation: {src.get('checkpoint', '(in-memory model)')}", "",
           f"Home **{data['home']}**, encoder **{info['encoder']}**, backbone **{info['backbone']}**, text encoder "
           f"**{info['text_encoder']}**; {data['n_train']} train / {data['n_test']} test windows.", ""]
    out += [f"> **Warning:** {w}" for w in results.get("warnings", [])] + [""] * bool(results.get("warnings"))
    header = "| method | " + " | ".join(f"{LEVEL_NAMES[lv]} {COLUMN_NAMES[k]}" for lv, k in HEADLINE_COLUMNS) + " |"
    out += ["## Classification (test split)", "", header, "|" + "---|" * (len(HEADLINE_COLUMNS) + 1)]
    for row in headline_rows(results):
        tag = " *(baseline)*" if row["kind"] == "baseline" else ""
        out.append(f"| {row['title']}{tag} | " + " | ".join(_fmt(row["scores"][c]) for c in HEADLINE_COLUMNS) + " |")
    out += ["", _scored_note(results), ""]
    out += ["## Retrieval (test split, each window's own captions are relevant)", ""] + _retrieval_md(results)
    out += ["", "## Label precision@K (fraction of the top-K windows for a label prototype carrying that label)", ""]
    for lv in ("l1", "l2"):
        lp = results["levels"][lv]["label_precision"]
        out.append(f"- {LEVEL_NAMES[lv]}: " + ", ".join(f"{k} {_fmt(v)}" for k, v in lp.items()))
    out += ["", "## Label descriptions", "", results["label_descriptions"]["source"], ""]
    if figure_names:
        out += ["## Figures", ""] + [f"![{n}](figures/{n}.png)" for n in figure_names] + [""]
    return "\n".join(out) + "\n"


def _retrieval_md(results: dict) -> list[str]:
    r = results["retrieval"]
    if "text_to_sensor" not in r:
        return ["No captions in the test split: retrieval not measured."]
    keys = [k for k in r["text_to_sensor"] if k.startswith("R@")] + ["mAP"]
    lines = ["| direction | queries | " + " | ".join(keys) + " |", "|" + "---|" * (len(keys) + 2)]
    for direction in ("text_to_sensor", "sensor_to_text"):
        d = r[direction]
        lines.append(f"| {direction.replace('_', ' ')} | {d['n_queries']} | " + " | ".join(_fmt(d[k]) for k in keys) + " |")
    lines += ["", f"{r['n_windows']} windows, {r['n_texts']} distinct captions ({r['caption_types']}); {r['duplicates']}."]
    return lines


def _scored_note(results: dict) -> str:
    parts = []
    for lv in ("l1", "l2"):
        missing = results["levels"][lv]["classes_not_in_test"]
        if missing:
            parts.append(f"{LEVEL_NAMES[lv]}: no test windows for {', '.join(missing)} (listed, not scored)")
    return ("Scores use only the classes present in the test split. " + "; ".join(parts)).strip()


def render_html(results: dict, figures: dict[str, bytes]) -> str:
    """report.html: one self-contained page (inline CSS and base64 PNGs, no external assets)."""
    e = html.escape
    src, info, data = results.get("sources", {}), model_summary(results), results["data"]
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>homeclip evaluation</title>"
             f"<style>{CSS}</style></head><body><main>",
             f"<h1>homeclip evaluation</h1><div class='sub'>{e(str(src.get('checkpoint', 'in-memory model')))}"
             f" &middot; created {e(results.get('created', ''))}</div>",
             f"<p>Home <b>{e(data['home'])}</b> &middot; encoder <b>{e(info['encoder'])}</b> &middot; backbone "
             f"<b>{e(info['backbone'])}</b> &middot; text encoder <b>{e(info['text_encoder'])}</b> &middot; "
             f"{data['n_train']} train / {data['n_test']} test windows</p>"]
    if results.get("warnings"):
        parts.append("<div class='banner'><b>&#9888; Read this first</b><ul>" +
                     "".join(f"<li>{e(w)}</li>" for w in results["warnings"]) + "</ul></div>")
    parts += ["<h2>Model vs baselines (test split)</h2>", _headline_html(results),
              f"<p class='small'>{e(_scored_note(results))}</p>"]
    parts += ["<h2>Retrieval</h2>", _retrieval_html(results)]
    parts += _figures_html(figures)
    parts += ["<h2>Retrieval examples</h2>", _examples_html(results.get("retrieval_examples", []))]
    parts += ["<h2>Details</h2>", _details_html(results), "</main></body></html>"]
    return "\n".join(parts)


def _headline_html(results: dict) -> str:
    rows = headline_rows(results)
    best = {c: max((r["scores"][c] for r in rows if r["kind"] == "model"), default=None) for c in HEADLINE_COLUMNS}
    head = "".join(f"<th>{LEVEL_NAMES[lv]}<br>{COLUMN_NAMES[k]}</th>" for lv, k in HEADLINE_COLUMNS)
    body = []
    for r in rows:
        cells = []
        for c in HEADLINE_COLUMNS:
            v = r["scores"][c]
            cls = " best" if r["kind"] == "model" and v == best[c] else ""
            pct = 0 if v is None else round(100 * v)
            cells.append(f"<td class='num{cls}' style='background:linear-gradient(90deg,#cfe2ff {pct}%,#fff {pct}%)'>"
                         f"{_fmt(v)}</td>")
        body.append(f"<tr class='{r['kind']}'><td>{html.escape(r['title'])}<span class='tag {r['kind']}'>"
                    f"{r['kind']}</span></td>{''.join(cells)}</tr>")
    return f"<table><tr><th>method</th>{head}</tr>{''.join(body)}</table>"


def _retrieval_html(results: dict) -> str:
    r = results["retrieval"]
    if "text_to_sensor" not in r:
        return "<p>No captions in the test split: retrieval not measured.</p>"
    keys = [k for k in r["text_to_sensor"] if k.startswith("R@")] + ["mAP"]
    rows = "".join(f"<tr><td>{d.replace('_', ' ')}</td><td class='num'>{r[d]['n_queries']}</td>" +
                   "".join(f"<td class='num'>{_fmt(r[d][k])}</td>" for k in keys) + "</tr>"
                   for d in ("text_to_sensor", "sensor_to_text"))
    lp = "".join(f"<tr><td>{LEVEL_NAMES[lv]}</td>" + "".join(
        f"<td class='num'>{_fmt(v)}</td>" for v in results["levels"][lv]["label_precision"].values()) + "</tr>"
        for lv in ("l1", "l2"))
    lp_keys = "".join(f"<th>{k}</th>" for k in results["levels"]["l1"]["label_precision"])
    return (f"<table><tr><th>direction</th><th>queries</th>{''.join(f'<th>{k}</th>' for k in keys)}</tr>{rows}</table>"
            f"<p class='small'>{r['n_windows']} test windows, {r['n_texts']} distinct captions "
            f"({html.escape(r['caption_types'])}); {html.escape(r['duplicates'])}. Recall@K = fraction of queries "
            f"with a relevant item in the top K.</p>"
            f"<h3>Label precision@K</h3><table><tr><th>labels</th>{lp_keys}</tr>{lp}</table>"
            f"<p class='small'>Fraction of the top-K test windows for a label's prototype that carry that label.</p>")


def _img(png: bytes, alt: str) -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'>"


def _figures_html(figures: dict[str, bytes]) -> list[str]:
    groups = [("Confusion matrices", "confusion_"), ("Per-class F1", "f1_"), ("Map of the test embeddings (t-SNE)", "tsne_"),
              ("Training curves", "training_curves")]
    out = []
    for title, prefix in groups:
        names = [n for n in figures if n.startswith(prefix)]
        if names:
            wide = " class='wide'" if prefix in ("tsne_", "training_curves") else ""
            out.append(f"<h2>{title}</h2><div class='figs'>" + "".join(
                f"<figure{wide}>{_img(figures[n], n)}<figcaption>{html.escape(n)}</figcaption></figure>"
                for n in names) + "</div>")
    return out


def _examples_html(examples: list[dict]) -> str:
    e = html.escape
    out = []
    for ex in examples:
        kind = f"description of <b>{e(ex['label'])}</b>" if ex.get("label") else "free text"
        rows = "".join(
            f"<tr><td class='num'>{h['score']:.3f}</td><td>{e(h['start'])} &ndash; {e(h['end'][11:])}</td>"
            f"<td>{e(', '.join(h['rooms']))}</td><td>{e(h['label_l1'])}</td><td>{e(h['caption'])}</td></tr>"
            for h in ex["hits"])
        out.append(f"<div class='query'><div class='q'>&ldquo;{e(ex['query'])}&rdquo; <span class='small'>({kind})"
                   f"</span></div><table><tr><th>score</th><th>time</th><th>rooms</th><th>true label</th>"
                   f"<th>caption</th></tr>{rows}</table></div>")
    return "".join(out) or "<p>No example queries.</p>"


def _details_html(results: dict) -> str:
    e = html.escape
    out = []
    for lv in ("l1", "l2"):
        level = results["levels"][lv]
        methods = level["methods"]
        shown = ("zeroshot", "linear_probe", "bag_of_sensors")
        rows = "".join(
            f"<tr><td>{e(c)}</td><td class='num'>{methods['zeroshot']['per_class'][c]['support']}</td>" +
            "".join(f"<td class='num'>{_fmt(methods[m]['per_class'][c]['f1'])}</td>" for m in shown) + "</tr>"
            for c in methods["zeroshot"]["classes_scored"])
        out.append(f"<details><summary>{LEVEL_NAMES[lv]}: per-class F1</summary><table><tr><th>class</th>"
                   f"<th>test support</th>" + "".join(f"<th>{e(methods[m]['title'])}</th>" for m in shown) +
                   f"</tr>{rows}</table><p class='small'>Not scored (no test windows): "
                   f"{e(', '.join(level['classes_not_in_test']) or 'none')}.</p></details>")
    desc = results["label_descriptions"]
    out.append(f"<details><summary>Label descriptions used for zero-shot</summary><p>{e(desc['source'])}</p><ul>" +
               "".join(f"<li><b>{e(label)}</b> ({lv.upper()}): {e(' | '.join(texts))}</li>"
                       for lv in ("l1", "l2") for label, texts in desc[lv]["descriptions"].items()) + "</ul></details>")
    out.append(f"<details><summary>Model and run settings</summary><pre>"
               f"{e(json.dumps({'model': results['model'], 'sources': results.get('sources', {}), 'config': results.get('config', {}), 'timings': results.get('timings', {})}, indent=2))}"
               f"</pre></details>")
    return "".join(out)
