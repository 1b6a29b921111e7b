"""`homeclip benchmark`: spec validation, the target checks on a hand-built record, and a small end-to-end run
on two simulated homes (reused on the second call)."""
import json
from pathlib import Path

import pytest

from homeclip.benchmark import load_spec, run_benchmark
from homeclip.benchmark.report import render_markdown, targets
from homeclip.benchmark.spec import spec_from_dict
from homeclip.errors import UserError
from homeclip.testing import HashTextEncoder

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "configs" / "training" / "milan" / "tiny.json")


def _doc(**extra):
    doc = {"name": "t", "homes": [{"name": "a", "raw": "a.txt", "home": "milan"},
                                  {"name": "b", "raw": "b.txt", "home": "aruba"}],
           "encoders": {"tiny": TINY}}
    doc.update(extra)
    return doc


def test_spec_resolves_paths_and_defaults(tmp_path):
    spec = spec_from_dict(_doc(), base=tmp_path)
    assert spec.homes[0].raw == (str(tmp_path / "a.txt"),)
    assert spec.protocols == ("in_home", "leave_one_home_out", "few_shot")
    assert spec.few_shot_ks == [1, 5, 20, None]
    assert spec.encoders["tiny"] == TINY


@pytest.mark.parametrize("change, message", [
    ({"protocols": ["in_hom"]}, "did you mean 'in_home'"),
    ({"homez": []}, "unknown key"),
    ({"name": "../x"}, "plain name"),
    ({"name": 3}, "plain name"),
    ({"few_shot": {"k": [0]}}, "few_shot.k"),
    ({"levels": ["l3"]}, "levels"),
    ({"calibrations": ["magic"]}, "calibrations"),
    ({"homes": [{"name": "a", "raw": "a.txt", "home": "milan"}]}, "at least two homes"),
    ({"homes": [{"name": "a", "raw": "a.txt"}]}, "homes[0].home: missing"),
    ({"homes": [{"name": "a", "raw": "a.txt", "home": "milan"}, {"name": "a", "raw": "b", "home": "milan"}]},
     "unique"),
])
def test_spec_errors(change, message, tmp_path):
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("]", r"\]")):
        spec_from_dict(_doc(**change), base=tmp_path)


def test_load_spec_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_spec(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(UserError, match="not valid JSON"):
        load_spec(bad)


def _entry(v):
    return {"macro_f1": {"value": v, "low": v - 0.1, "high": v + 0.1}}


def test_targets_hand_built():
    record = {
        "spec": {"name": "t", "levels": ["l2"], "few_shot": {"k": [1, 5, "all"], "draws": 2}},
        "homes": {"a": {}},
        "baselines": {"a": {"l2": {"bag_of_sensors": _entry(0.60), "bag_of_sensors_tod": _entry(0.62),
                                   "majority": _entry(0.05),
                                   "few_shot": [_entry(0.2), _entry(0.40), _entry(0.6)]}}},
        "models": {"enc": {
            "in_home": {"a": {"trained_on": ["a"], "model": {"backbone": "statistics"},
                              "levels": {"l2": {"zeroshot": {**_entry(0.2), "calibration": "none"},
                                                "linear_probe": _entry(0.66),
                                                "few_shot": [_entry(0.3), _entry(0.45), _entry(0.66)]}}}},
            "leave_one_home_out": {"a": {"trained_on": ["b"], "model": {"backbone": "statistics"},
                                         "levels": {"l2": {"zeroshot": {**_entry(0.31), "calibration": "centre"},
                                                           "linear_probe": _entry(0.5),
                                                           "few_shot": [_entry(0.1), _entry(0.38), _entry(0.5)]}}}},
        }},
    }
    checks = {c["target"]: c for c in targets(record)}
    probe = checks["in_home probe >= bag-of-sensors + 0.05"]
    assert probe["met"] and probe["bar"] == pytest.approx(0.65) and probe["value"] == 0.66
    half = checks["leave-one-home-out zero-shot >= 1/2 in-home bag-of-sensors probe"]
    assert half["met"] and half["bar"] == pytest.approx(0.30)
    assert checks["leave-one-home-out zero-shot >= 3x majority"]["bar"] == pytest.approx(0.15)
    few = checks["few-shot k=5: probe > bag-of-sensors with the same labels"]
    assert few["met"] and few["value"] == 0.45 and few["bar"] == 0.40 and few["best"] == "enc (in_home)"
    record["models"]["enc"]["in_home"]["a"]["levels"]["l2"]["linear_probe"] = _entry(0.64)
    assert not {c["target"]: c for c in targets(record)}["in_home probe >= bag-of-sensors + 0.05"]["met"]
    table = render_markdown({**record, "targets": targets(record)})
    assert "0.660 [0.560, 0.760]" not in table and "0.640 [0.540, 0.740]" in table


@pytest.mark.slow
def test_benchmark_end_to_end(tmp_path):
    from homeclip.data.homes import load_home
    from homeclip.data.simulate import write_simulated_log

    for name in ("milan", "aruba"):
        write_simulated_log(tmp_path / f"{name}.txt", load_home(name), 4, seed=2)
    (tmp_path / "spec.json").write_text(json.dumps(_doc(
        homes=[{"name": "a", "raw": "milan.txt", "home": "milan", "window": {"length": 50, "stride": 50},
                "split": {"ratios": [0.5, 0.25, 0.25]}},
               {"name": "b", "raw": "aruba.txt", "home": "aruba", "window": {"length": 50, "stride": 50},
                "split": {"ratios": [0.5, 0.25, 0.25]}}],
        overrides={"max_epochs": 1}, few_shot={"k": [1, "all"], "draws": 2}, bootstrap={"resamples": 50},
        levels=["l2"])), encoding="utf-8")
    said: list[str] = []
    text = HashTextEncoder()
    record = run_benchmark(load_spec(tmp_path / "spec.json"), tmp_path / "out", say=said.append, text_encoder=text)
    assert sum("training" in s for s in said) == 4            # 2 protocols x 2 targets
    saved = json.loads((tmp_path / "out" / "benchmark.json").read_text())
    assert saved["schema"] == "homeclip.benchmark/1" and set(saved["models"]["tiny"]) == {"in_home",
                                                                                         "leave_one_home_out"}
    loho = saved["models"]["tiny"]["leave_one_home_out"]["a"]
    assert loho["trained_on"] == ["b"]
    level = loho["levels"]["l2"]
    assert level["zeroshot"]["selected_on"] == ["b"] and level["zeroshot"]["calibration"] in level["zeroshot"]["by_calibration"]
    assert [c["macro_f1"]["value"] <= 1 for c in level["few_shot"]] == [True, True]
    assert len(level["few_shot"][0]["macro_f1"]["draws"]) == 2 and len(level["few_shot"][1]["macro_f1"]["draws"]) == 1
    bag = saved["baselines"]["a"]["l2"]
    # "all" labelled windows: the few-shot bag-of-sensors probe is the bag-of-sensors probe itself
    assert bag["few_shot"][-1]["macro_f1"]["value"] == pytest.approx(bag["bag_of_sensors"]["macro_f1"]["value"])
    assert level["few_shot"][-1]["macro_f1"]["value"] == pytest.approx(level["linear_probe"]["macro_f1"]["value"])
    assert {c["home"] for c in saved["targets"]} == {"a", "b"}
    for name in ("benchmark.md", "benchmark.html", "figures/few_shot.png", "figures/few_shot.svg"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    said.clear()
    again = run_benchmark(load_spec(tmp_path / "spec.json"), tmp_path / "out", say=said.append, text_encoder=text)
    assert not any("training" in s or "preparing" in s for s in said)   # runs and data reused
    assert again["baselines"] == record["baselines"]


def test_default_window_rule():
    from homeclip.benchmark.runner import default_window

    assert default_window(4700) == {"length": 50, "stride": 12}
    assert default_window(999) == {"length": 10, "stride": 2}


def test_simulated_homes_are_generated_and_prepared_once(tmp_path):
    from homeclip.benchmark.runner import prepare_simulated

    spec = spec_from_dict(_doc(simulated={"homes": 2, "days": 3, "seed": 1}, split={"ratios": [0.34, 0.33, 0.33]}),
                          base=tmp_path)
    said: list[str] = []
    homes = prepare_simulated(spec, tmp_path / "out", said.append)
    assert [h.name for h in homes] == ["sim_000", "sim_001"]
    assert all(len(h.splits["train"]) > 0 and h.home.descriptions for h in homes)
    assert sum("simulating" in s for s in said) == 1 and sum("preparing" in s for s in said) == 2
    said.clear()
    again = prepare_simulated(spec, tmp_path / "out", said.append)
    assert said == [] and [len(h.splits["train"]) for h in again] == [len(h.splits["train"]) for h in homes]


def test_pipeline_digest_follows_the_data_code(tmp_path, monkeypatch):
    from homeclip.benchmark import runner

    first = runner.pipeline_digest()
    assert first == runner.pipeline_digest() and len(first) == 20
    fake = tmp_path / "benchmark" / "runner.py"
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "captions.py").write_text("A = 1\n")
    fake.parent.mkdir()
    monkeypatch.setattr(runner, "__file__", str(fake))
    before = runner.pipeline_digest()
    (tmp_path / "data" / "captions.py").write_text("A = 2\n")
    assert runner.pipeline_digest() != before


def test_label_efficient_and_supervised_spec_settings(tmp_path):
    spec = spec_from_dict(_doc(protocols=["in_home", "label_efficient", "supervised"],
                               label_efficient={"budgets": [5, 20]}, supervised={"max_epochs": 3}), base=tmp_path)
    assert spec.label_efficient["budgets"] == [5, 20] and spec.label_efficient["draws"] == 3
    assert "random_probe" in spec.label_efficient["methods"]
    assert spec.supervised == {"max_epochs": 3, "freeze_encoder": True}
    assert spec_from_dict(_doc(), base=tmp_path).protocols == ("in_home", "leave_one_home_out", "few_shot")
    for bad, message in [({"budgets": [0]}, "label_efficient.budgets"), ({"methods": ["kmean_cluster"]},
                         "did you mean 'kmeans_cluster'"), ({"draw": 2}, "label_efficient.draw: unknown key")]:
        with pytest.raises(UserError, match=message):
            spec_from_dict(_doc(label_efficient=bad), base=tmp_path)


@pytest.mark.slow
def test_benchmark_label_efficient_and_supervised_protocols(tmp_path):
    from homeclip.data.homes import load_home
    from homeclip.data.simulate import write_simulated_log
    from homeclip.training.checkpoint import load_checkpoint

    write_simulated_log(tmp_path / "milan.txt", load_home("milan"), 4, seed=2)
    (tmp_path / "spec.json").write_text(json.dumps(_doc(
        homes=[{"name": "a", "raw": "milan.txt", "home": "milan", "window": {"length": 50, "stride": 50},
                "split": {"ratios": [0.5, 0.25, 0.25]}}],
        protocols=["in_home", "label_efficient", "supervised"], overrides={"max_epochs": 1},
        label_efficient={"budgets": [4, 8], "methods": ["kmeans_cluster", "random_probe"], "draws": 1},
        supervised={"max_epochs": 2}, bootstrap={"resamples": 50}, levels=["l2"])), encoding="utf-8")
    said: list[str] = []
    text = HashTextEncoder()
    record = run_benchmark(load_spec(tmp_path / "spec.json"), tmp_path / "out", say=said.append, text_encoder=text)
    assert sum(s.startswith("training") for s in said) == 1 and sum(s.startswith("fine-tuning") for s in said) == 1
    level = record["models"]["tiny"]["in_home"]["a"]["levels"]["l2"]
    for curve in (level["label_efficient"], record["baselines"]["a"]["l2"]["label_efficient"]):
        assert curve["budgets"] == [4, 8] and set(curve["methods"]) == {"kmeans_cluster", "random_probe"}
        assert [e["n_labelled"] for e in curve["methods"]["kmeans_cluster"]] == [4, 8]
        assert all(0 <= e["macro_f1"]["low"] <= e["macro_f1"]["value"] <= e["macro_f1"]["high"] <= 1
                   for e in curve["methods"]["random_probe"])
    head = tmp_path / "out" / "runs" / "tiny" / "in_home" / "a" / "supervised" / "best_model.pt"
    assert level["supervised"]["selected"]["epoch"] in (1, 2) and "classifier" in load_checkpoint(head)
    assert 0 <= level["supervised"]["macro_f1"]["value"] <= 1
    table = (tmp_path / "out" / "benchmark.md").read_text()
    assert "| supervised |" in table and "## Label efficiency" in table and "k-means centres" in table
    assert "random windows, probe on them" in (tmp_path / "out" / "benchmark.html").read_text()
    said.clear()
    again = run_benchmark(load_spec(tmp_path / "spec.json"), tmp_path / "out", say=said.append, text_encoder=text)
    assert not any(s.startswith(("training", "fine-tuning")) for s in said)   # both runs reused
    assert again["models"]["tiny"]["in_home"]["a"]["levels"]["l2"]["supervised"] == level["supervised"]


def test_rows_name_the_model_with_its_backbone_or_end_to_end():
    from homeclip.benchmark.report import model_label

    assert model_label("chronos", "statistics") == "chronos (statistics)"
    assert model_label("chronos", "amazon/chronos-2") == "chronos (amazon/chronos-2)"
    assert model_label("transformer", "none (trained end to end)") == "transformer (end to end)"
