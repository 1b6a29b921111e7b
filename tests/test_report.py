"""report.md / report.html / evaluation_results.json are written, follow the schema, are self-contained and
render in headless Chromium; `compare` puts evaluations side by side."""
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
from homeclip.evaluation.compare import compare_runs, find_results
from homeclip.evaluation.evaluate import METHODS, SCHEMA, EvalConfig, evaluate_model, missing_keys, write_evaluation
from homeclip.evaluation.report import render_html, render_markdown
from test_evaluate import FakeModel, split_windows, synthetic_home


@pytest.fixture(scope="module")
def eval_dir(tmp_path_factory) -> Path:
    train, test = split_windows(n=72)
    ev = evaluate_model(FakeModel(), train, test, synthetic_home(), EvalConfig(progress=False))
    ev.figures["training_curves"] = plots.curves_png(
        [{"step": i, "loss": 3 - 0.1 * i, "acc_s2t": i / 20, "acc_t2s": i / 25, "temperature": 0.07} for i in range(20)])
    out = tmp_path_factory.mktemp("eval") / "fake_run"
    out.mkdir()
    (out / "keep.txt").write_text("not ours")
    write_evaluation(ev, out)
    return out


def test_outputs_written_and_schema_valid(eval_dir):
    names = {p.name for p in eval_dir.iterdir()}
    assert {"evaluation_results.json", "report.md", "report.html", "figures", "keep.txt"} <= names
    assert not [p for p in eval_dir.iterdir() if p.name.startswith(".")]          # no temp files left
    results = json.loads((eval_dir / "evaluation_results.json").read_text())
    assert results["schema"] == SCHEMA and missing_keys(results) == []
    figs = {p.stem for p in (eval_dir / "figures").glob("*.png")}
    assert {"confusion_l1_zeroshot", "confusion_l2_linear_probe", "f1_l1", "f1_l2", "tsne_l1",
            "training_curves"} <= figs
    assert results["timings"]["figures_s"] > 0
    broken = dict(results)
    del broken["retrieval"]
    broken["levels"] = {"l1": results["levels"]["l1"]}
    assert missing_keys(broken) == ["retrieval", "levels.l2"]


def test_markdown_has_headline_table(eval_dir):
    md = (eval_dir / "report.md").read_text()
    for _, title in METHODS.values():
        assert f"| {title}" in md
    assert "(baseline)" in md and "> **Warning:**" in md
    assert "![tsne_l1](figures/tsne_l1.png)" in md
    row = next(line for line in md.splitlines() if line.startswith("| Majority class"))
    assert re.findall(r"\d\.\d{3}", row)[1] == "0.167"      # L1 accuracy of the majority class: 1 of 6 labels


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
    assert "http://" not in page and "https://" not in page
    assert "class='banner'" in page and "STATISTICS backbone" in page
    assert "someone cooking late at night" in page          # a free-text retrieval example


def test_report_rebuilds_from_json_alone(eval_dir):
    results = json.loads((eval_dir / "evaluation_results.json").read_text())
    page = render_html(results, {})
    assert "Model vs baselines" in page and "<img" not in page
    assert render_markdown(results).startswith("# homeclip evaluation")


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (apt-get install chromium to run "
                                                 "the headless rendering check)")
def test_html_renders_in_headless_chromium(eval_dir, tmp_path):
    from PIL import Image

    shot = tmp_path / "shot.png"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--window-size=1200,1600", f"--screenshot={shot}",
           (eval_dir / "report.html").resolve().as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.is_file(), "Chromium wrote no screenshot"
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    assert pixels.shape[0] >= 1000 and pixels.std() > 10     # not a blank page
    # The headline table's blue bars and the warning banner give many distinct grey levels.
    assert len(np.unique(pixels)) > 50


def _copy_eval(src: Path, dest: Path, *, encoder: str, zeroshot_f1: float) -> Path:
    dest.mkdir(parents=True)
    results = json.loads((src / "evaluation_results.json").read_text())
    results["model"]["encoder_kind"] = encoder
    results["levels"]["l1"]["methods"]["zeroshot"]["macro_f1"] = zeroshot_f1
    (dest / "evaluation_results.json").write_text(json.dumps(results))
    return dest


def test_compare_side_by_side(eval_dir, tmp_path):
    a = _copy_eval(eval_dir, tmp_path / "evals" / "chronos", encoder="chronos", zeroshot_f1=0.25)
    run_dir = tmp_path / "runs" / "standard"
    _copy_eval(eval_dir, run_dir / "eval" / "standard", encoder="transformer", zeroshot_f1=0.75)
    out = tmp_path / "cmp"
    table = compare_runs([a, run_dir], out)
    assert [c["name"] for c in table["columns"]] == ["chronos", "standard"]
    assert [c["encoder"] for c in table["columns"]] == ["chronos", "transformer"]
    assert table["same_test_split"]
    row = next(r for r in table["rows"] if r["metric"] == "L1 zero-shot macro-F1")
    assert row["values"] == [0.25, 0.75]
    md = (out / "compare.md").read_text()
    assert "| L1 zero-shot macro-F1 | 0.250 | **0.750** |" in md
    assert "| L1 majority baseline accuracy | 0.167 | 0.167 |" in md      # equal values: nothing highlighted
    assert "bag-of-sensors baseline" in md and "retrieval text→sensor R@5" in md
    page = (out / "compare.html").read_text()
    assert "transformer" in page and "<script" not in page
    assert json.loads((out / "compare.json").read_text())["columns"][1]["name"] == "standard"


def test_compare_command_and_bad_inputs(eval_dir, tmp_path, capsys):
    from homeclip.commands import compare

    assert compare.run(argparse.Namespace(paths=[str(eval_dir)], out=str(tmp_path / "c"))) == 0
    assert "L2 linear probe accuracy" in capsys.readouterr().out
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
    bad.write_text(json.dumps({"schema": SCHEMA}))
    with pytest.raises(UserError, match="lack"):
        compare_runs([bad], tmp_path / "c")
    with pytest.raises(UserError, match="at least one"):
        compare_runs([], tmp_path / "c")
