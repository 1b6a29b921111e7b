"""report.md / report.html / evaluation_results.json / predictions.parquet / embeddings.npy are written, follow
the schema, are self-contained, escape hostile labels and render in headless Chromium; `compare` puts
evaluations side by side with the baselines once."""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from homeclip.errors import UserError
from homeclip.evaluation import plots
from homeclip.evaluation.bootstrap import day_bootstrap_classification
from homeclip.evaluation.compare import compare_runs, find_results
from homeclip.evaluation.evaluate import METHODS, SCHEMA, EvalConfig, evaluate_model, missing_keys, write_evaluation
from homeclip.evaluation.report import md_escape, render_html, render_markdown
from homeclip.evaluation.summary import BEST, LOSES, column_marks, headline, run_label
from test_evaluate import FakeModel, split_windows, synthetic_home

HOSTILE = "<script>alert('x')</script>$x_1$ *bold* [link](http://evil) | pipe"


@pytest.fixture(scope="module")
def eval_dir(tmp_path_factory) -> Path:
    train, test = split_windows(n=72)
    ev = evaluate_model(FakeModel(), train, test, synthetic_home(), EvalConfig(progress=False))
    ev.figures["training_curves"] = plots.curves_figure(
        [{"step": i, "loss": 3 - 0.1 * i, "acc_s2t": i / 20, "acc_t2s": i / 25, "temperature": 0.07} for i in range(20)],
        "training curves in words")
    out = tmp_path_factory.mktemp("eval") / "fake_run"
    out.mkdir()
    (out / "keep.txt").write_text("not ours")
    write_evaluation(ev, out)
    return out


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory) -> Path:
    """An evaluation whose labels and home name are hostile strings (HTML, Markdown, mathtext)."""
    train, test = split_windows(n=72)
    for ws in (train, test):
        ws.label_l1 = np.where(ws.label_l1 == "Sleep", HOSTILE, ws.label_l1).astype(object)
    home = synthetic_home()
    home.name = "<b>home</b>_*x*"
    ev = evaluate_model(FakeModel(), train, test, home, EvalConfig(progress=False))   # figures draw: no crash
    out = tmp_path_factory.mktemp("hostile") / "eval"
    write_evaluation(ev, out)
    return out


def _results(path: Path) -> dict:
    return json.loads((path / "evaluation_results.json").read_text())


def test_outputs_written_and_schema_valid(eval_dir):
    names = {p.name for p in eval_dir.iterdir()}
    assert {"evaluation_results.json", "report.md", "report.html", "figures", "keep.txt", "predictions.parquet",
            "embeddings.npy", "embeddings_index.json"} <= names
    assert not [p for p in eval_dir.iterdir() if p.name.startswith(".")]          # no temp files left
    results = _results(eval_dir)
    assert results["schema"] == SCHEMA and missing_keys(results) == []
    pngs = {p.stem for p in (eval_dir / "figures").glob("*.png")}
    assert {"confusion_l1_zeroshot", "confusion_l2_linear_probe", "f1_l1", "f1_l2", "tsne_l1", "tsne_l2",
            "training_curves"} <= pngs
    assert pngs == {p.stem for p in (eval_dir / "figures").glob("*.svg")}         # SVG beside every PNG
    assert (eval_dir / "figures" / "tsne_l2.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert results["timings"]["figures_s"] > 0
    assert "t-SNE" in results["figures"]["tsne_l1"] and "true activity" in results["figures"]["confusion_l1_zeroshot"]
    broken = dict(results)
    del broken["retrieval"]
    broken["levels"] = {"l1": results["levels"]["l1"]}
    assert missing_keys(broken) == ["retrieval", "levels.l2"]


def test_predictions_parquet_and_embeddings(eval_dir):
    import pyarrow.parquet as pq

    table = pq.read_table(eval_dir / "predictions.parquet")
    results = _results(eval_dir)
    n = results["data"]["n_test"]
    assert table.num_rows == n
    cols = set(table.column_names)
    assert {"window_id", "home", "day", "start", "end", "true_l1", "true_l2", "zeroshot_l1", "zeroshot_l1_score",
            "linear_probe_l1", "linear_probe_l1_score", "zeroshot_l2", "linear_probe_l2_score", "majority_l2"} <= cols
    df = table.to_pandas()
    assert df["window_id"].tolist() == list(range(n)) and set(df["home"]) == {"synthetic"}
    assert ((df["linear_probe_l1_score"] > 0) & (df["linear_probe_l1_score"] <= 1 + 1e-6)).all()
    assert (df["start"] <= df["end"]).all()
    # the per-window table reproduces the JSON's scores
    acc = float((df["zeroshot_l1"] == df["true_l1"]).mean())
    assert acc == pytest.approx(results["levels"]["l1"]["methods"]["zeroshot"]["accuracy"])
    meta = json.loads(table.schema.metadata[b"homeclip"])
    assert meta["schema"] == "homeclip.predictions/1"
    emb = np.load(eval_dir / "embeddings.npy")
    index = json.loads((eval_dir / "embeddings_index.json").read_text())
    assert emb.shape == (n, index["dim"]) and index["rows"] == n
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_intervals_are_the_day_bootstrap_of_the_predictions(eval_dir):
    import pyarrow.parquet as pq

    results = _results(eval_dir)
    df = pq.read_table(eval_dir / "predictions.parquet").to_pandas()
    entry = results["levels"]["l1"]["methods"]["linear_probe"]["intervals"]["macro_f1"]
    again = day_bootstrap_classification(df["true_l1"], df["linear_probe_l1"], df["day"].astype(str),
                                         metrics=("macro_f1",), seed=0)["macro_f1"]
    assert entry == again and entry["unit"] == "day" and entry["n_days"] == df["day"].nunique() > 1
    assert entry["low"] <= entry["value"] <= entry["high"]
    t2s = results["retrieval"]["text_to_sensor"]["intervals"]["R@5"]
    assert t2s["value"] == pytest.approx(results["retrieval"]["text_to_sensor"]["R@5"])


def test_hand_built_retrieval_interval():
    """Two days: day a's window finds its caption first, day b's does not; resamples are all-a, all-b or mixed."""
    from homeclip.evaluation.retrieval import caption_retrieval

    windows = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    texts = np.array([[1.0, 0.0], [1.0, 0.0]], dtype=np.float32)     # both captions look like window 0
    out = caption_retrieval(windows, texts, [np.array([0]), np.array([1])], ks=(1,), days=["a", "b"])
    s2t = out["sensor_to_text"]
    assert s2t["R@1"] == 0.5
    assert s2t["intervals"]["R@1"]["low"] == 0.0 and s2t["intervals"]["R@1"]["high"] == 1.0


def test_markdown_headline_marks_and_intervals(eval_dir):
    md = (eval_dir / "report.md").read_text()
    results = _results(eval_dir)
    lines = md.splitlines()
    assert lines[0] == "# homeclip evaluation: fake (statistics backbone)"
    assert lines[2].startswith("**") and "zero-shot L1 macro-F1" in lines[2]      # the headline comes first
    assert results["headline"].startswith("fake (statistics backbone): zero-shot L1 macro-F1")
    for _, title in METHODS.values():
        assert f"| {md_escape(title)} |" in md
    assert "> **Warning:**" in md and BEST in md and "best in its column" in md
    row = next(line for line in md.splitlines() if line.startswith("| Majority class"))
    l1_accuracy = row.split(" | ")[3]
    assert re.fullmatch(r"0\.167 \[\d\.\d{3}, \d\.\d{3}\]", l1_accuracy)   # 1 of 6 labels, with its interval
    assert "![tsne\\_l1](figures/tsne_l1.png)" in md and "(figures/tsne_l1.svg)" in md
    assert "training curves in words" in md      # every figure has its caption in words


def test_hostile_label_is_escaped_in_markdown_and_html(hostile_dir):
    import markdown as python_markdown
    from markdown_it import MarkdownIt

    md = (hostile_dir / "report.md").read_text()
    assert "<script" not in md and "<b>" not in md
    for html in (MarkdownIt("commonmark").enable("table").render(md), python_markdown.markdown(md, extensions=["tables"])):
        parser = _Collect()
        parser.feed(html)
        tags = {t for t, _ in parser.tags}
        links = [a.get("href", "") for t, a in parser.tags if t == "a"]
        assert "script" not in tags and "b" not in tags and "em" not in tags     # nothing of the label became markup
        assert links and all(h.startswith("figures/") for h in links)          # only our own links to the SVGs
        assert "alert('x')" in html or "alert(&#x27;x&#x27;)" in html           # ... but it is shown
    page = (hostile_dir / "report.html").read_text()
    assert "<script" not in page and "&lt;script&gt;" in page
    results = _results(hostile_dir)
    assert HOSTILE in results["levels"]["l1"]["classes"]                      # the label itself is kept as given


def test_md_escape():
    assert md_escape("a_b*c") == "a\\_b\\*c"
    assert md_escape("<x> & y") == "&lt;x&gt; &amp; y"
    assert md_escape("two\nlines\x1b[31m") == "two lines\\\\x1b\\[31m"   # the escape shown, not obeyed
    assert md_escape("$x$ | [l](u)") == "\\$x\\$ \\| \\[l\\](u)"


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_html_is_self_contained(eval_dir):
    page = (eval_dir / "report.html").read_text()
    parser = _Collect()
    parser.feed(page)
    tags = [t for t, _ in parser.tags]
    assert "script" not in tags and "link" not in tags
    imgs = [a["src"] for t, a in parser.tags if t == "img"]
    assert len(imgs) == len(list((eval_dir / "figures").glob("*.png")))
    assert all(src.startswith("data:image/png;base64,") for src in imgs)
    svg_links = [a["href"] for t, a in parser.tags if t == "a"]
    assert svg_links and all(h.startswith("figures/") and h.endswith(".svg") for h in svg_links)
    assert "http://" not in page and "https://" not in page
    assert 'class="banner"' in page and "STATISTICS backbone" in page
    assert 'id="headline"' in page and 'id="legend"' in page and 'class="ci"' in page
    assert "someone cooking late at night" in page          # a free-text retrieval example


def test_report_rebuilds_from_json_alone(eval_dir):
    results = _results(eval_dir)
    page = render_html(results, {})
    assert "Model vs baselines" in page and "<img" not in page
    assert render_markdown(results).startswith("# homeclip evaluation")


def test_marks_and_headline_verdict():
    marks = column_marks([0.4, 0.9, 0.6, None], ["model", "model", "baseline", "baseline"])
    assert [m["best"] for m in marks] == [False, True, False, False]
    assert [m["loses"] for m in marks] == [True, False, False, False]     # a model below the best baseline
    results = {"model": {"encoder_kind": "chronos"}, "methodology": {"selected_on_test_split": True},
               "levels": {"l1": {"methods": {
                   m: {"kind": kind, "macro_f1": v} for (m, (kind, _)), v in
                   zip(METHODS.items(), (0.35, 0.3, 0.6, 0.5, 0.2, 0.7, 0.05))}}}}
    text = headline(results)
    assert "zero-shot L1 macro-F1 0.350" in text and "best read-out (linear probe) 0.600" in text
    assert "best baseline (bag-of-sensors) 0.700, BELOW the baseline" in text and "SELECTED ON THE TEST SPLIT" in text


def test_fallback_label_and_banner_everywhere(tmp_path):
    train, test = split_windows(n=72)
    model = FakeModel(backbone="amazon/chronos-2")
    model.meta["encoder_kind"] = "chronos"
    model.meta["backbone_info"] = {"requested": "amazon/chronos-2", "used": "statistics", "fallback_reason": "no hub"}
    ev = evaluate_model(model, train, test, synthetic_home(), EvalConfig(progress=False, figures=False))
    assert ev.results["model"]["label"] == "chronos (statistics fallback)" == run_label(ev.results["model"])
    assert ev.results["headline"].startswith("chronos (statistics fallback):")
    banner = next(w for w in ev.results["warnings"] if "FALLBACK" in w)
    assert "standard deviation" in banner and "say nothing about Chronos" in banner
    write_evaluation(ev, tmp_path / "e")
    assert "chronos (statistics fallback)" in (tmp_path / "e" / "report.html").read_text()
    table = compare_runs([tmp_path / "e"], tmp_path / "c")
    assert table["runs"][0]["label"] == "chronos (statistics fallback)"
    assert "chronos (statistics fallback)" in (tmp_path / "c" / "compare.html").read_text()


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (apt-get install chromium to run "
                                                 "the headless rendering check)")
def test_html_renders_in_headless_chromium(eval_dir, tmp_path):
    from PIL import Image

    base = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--window-size=1200,1600"]
    url = (eval_dir / "report.html").resolve().as_uri()
    shot = tmp_path / "shot.png"
    subprocess.run(base + [f"--screenshot={shot}", url], capture_output=True, timeout=120, check=False)
    assert shot.is_file(), "Chromium wrote no screenshot"
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    assert pixels.shape[0] >= 1000 and pixels.std() > 10     # not a blank page
    assert len(np.unique(pixels)) > 50                        # table bars, banner, figures
    dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    parser = _Collect()
    parser.feed(dom)
    ids = {a.get("id") for _, a in parser.tags}
    assert {"headline", "banner", "headline-table", "legend"} <= ids          # the new sections as parsed
    assert "zero-shot L1 macro-F1" in dom and BEST in dom and "95 % bootstrap interval" in dom
    assert dom.count('class="ci"') >= 7 * 6                                   # an interval in every headline cell


def _copy_eval(src: Path, dest: Path, *, encoder: str, zeroshot_f1: float) -> Path:
    dest.mkdir(parents=True)
    results = _results(src)
    results["model"]["encoder_kind"] = encoder
    results["levels"]["l1"]["methods"]["zeroshot"]["macro_f1"] = zeroshot_f1
    results["levels"]["l1"]["methods"]["zeroshot"]["intervals"]["macro_f1"] = None
    (dest / "evaluation_results.json").write_text(json.dumps(results))
    return dest


def test_compare_side_by_side_with_baselines_once(eval_dir, tmp_path):
    a = _copy_eval(eval_dir, tmp_path / "evals" / "chronos", encoder="chronos", zeroshot_f1=0.25)
    run_dir = tmp_path / "runs" / "standard"
    _copy_eval(eval_dir, run_dir / "eval" / "standard", encoder="transformer", zeroshot_f1=0.75)
    out = tmp_path / "cmp"
    table = compare_runs([a, run_dir], out)
    assert [r["name"] for r in table["runs"]] == ["chronos", "standard"]
    assert [r["encoder"] for r in table["runs"]] == ["chronos", "transformer"]
    assert table["same_test_split"] and len(table["baseline_groups"]) == 1
    kinds = [(c["kind"], c.get("run"), c["method"]) for c in table["columns"]]
    baselines = [k for k in kinds if k[0] == "baseline"]
    assert [m for _, _, m in baselines] == ["caption_only", "bag_of_sensors", "majority"]   # once, not per run
    assert len(kinds) == 2 * 4 + 3
    row = next(r for r in table["rows"] if r["metric"] == "L1 macro-F1")
    zs = [c for c, col in zip(row["cells"], table["columns"]) if col["method"] == "zeroshot"]
    assert [c["value"] for c in zs] == [0.25, 0.75] and zs[0]["loses"]
    assert sum(c["best"] for c in row["cells"] if c) >= 1
    md = (out / "compare.md").read_text()
    assert "baselines: bag-of-sensors" in md and "chronos: zero-shot" in md and "standard: linear probe" in md
    assert md.count("baselines: majority") == 1 and LOSES in md and BEST in md
    page = (out / "compare.html").read_text()
    assert "transformer" in page and "<script" not in page and 'colspan="3"' in page
    assert json.loads((out / "compare.json").read_text())["runs"][1]["name"] == "standard"


def test_compare_different_splits_get_their_own_baselines(eval_dir, tmp_path):
    a = _copy_eval(eval_dir, tmp_path / "a", encoder="chronos", zeroshot_f1=0.3)
    b = _copy_eval(eval_dir, tmp_path / "b", encoder="chronos", zeroshot_f1=0.3)
    results = _results(b)
    results["sources"]["test_data_sha256"] = "other"
    (b / "evaluation_results.json").write_text(json.dumps(results))
    table = compare_runs([a, b], tmp_path / "c")
    assert not table["same_test_split"] and len(table["baseline_groups"]) == 2
    assert sum(c["kind"] == "baseline" for c in table["columns"]) == 6
    assert "different train/test splits" in (tmp_path / "c" / "compare.md").read_text()


def test_compare_command_and_bad_inputs(eval_dir, tmp_path, capsys):
    from homeclip.commands import compare

    assert compare.run(argparse.Namespace(paths=[str(eval_dir)], out=str(tmp_path / "c"))) == 0
    assert "linear probe" in capsys.readouterr().out
    assert find_results(eval_dir / "evaluation_results.json") == [eval_dir / "evaluation_results.json"]
    with pytest.raises(UserError, match="no such file"):
        compare_runs([tmp_path / "missing"], tmp_path / "c")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no evaluation_results.json"):
        compare_runs([tmp_path / "empty"], tmp_path / "c")
    bad = tmp_path / "bad" / "evaluation_results.json"
    bad.parent.mkdir()
    bad.write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        compare_runs([bad], tmp_path / "c")
    bad.write_text(json.dumps({"schema": "other/1"}))
    with pytest.raises(UserError, match="expected schema"):
        compare_runs([bad], tmp_path / "c")
    bad.write_text(json.dumps({"schema": "homeclip.evaluation/1"}))
    with pytest.raises(UserError, match="older homeclip"):
        compare_runs([bad], tmp_path / "c")
    bad.write_text(json.dumps({"schema": SCHEMA}))
    with pytest.raises(UserError, match="lack"):
        compare_runs([bad], tmp_path / "c")
    with pytest.raises(UserError, match="at least one"):
        compare_runs([], tmp_path / "c")


def test_class_styles_separate_many_classes():
    classes = [f"c{i}" for i in range(24)]
    styles = plots.class_styles(classes)
    assert len({s[0] for s in styles.values()}) == 24                  # 24 distinct colours
    first10 = [styles[c][0] for c in classes[:10]]
    assert len(set(first10)) == 10
    assert {styles["c0"][1], styles["c23"][1]} == {"o", "s"}            # past 20 classes the marker changes too


def test_f1_bars_draw_zero_and_math_labels():
    fig = plots.f1_bars_figure({"a": {"$x": 0.0, "y": 0.5}, "b": {"$x": 0.2, "y": 0.0}}, "t", "caption")
    assert fig.png.startswith(b"\x89PNG") and b"<svg" in fig.svg and fig.caption == "caption"
    assert fig.svg.count(b">0<") >= 2       # each F1 of 0 is written as '0' next to its stub


def test_one_test_day_gives_no_interval_text():
    from homeclip.evaluation.report import cell

    one_day = {"value": 0.5, "low": 0.5, "high": 0.5, "n_days": 1}
    assert cell(0.5, one_day)["interval"] == "" and cell(0.5, one_day)["value"] == "0.500"
    two = {"value": 0.5, "low": 0.25, "high": 0.75, "n_days": 2}
    assert cell(0.5, two)["interval"] == "[0.250, 0.750]"
    results = {"model": {"encoder_kind": "x"}, "levels": {"l1": {"methods": {
        m: {"kind": kind, "macro_f1": 0.5, "intervals": {"macro_f1": one_day}} for m, (kind, _) in METHODS.items()}}}}
    assert headline(results).endswith("; one test day: no intervals.") and "[" not in headline(results)
