"""Guards against silent methodology errors: cross-home use, model selection on the test split, a run replacing
another run's outputs, two runs in one folder (lock, stale lock), and re-preparing a dataset a run used."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from homeclip.cli import main
from homeclip.data.store import save_split
from homeclip.data.usage import RECORD_NAME, record_use, replacing_used_files_warning, runs_using
from homeclip.data.vocab import build_vocab
from homeclip.errors import UserError
from homeclip.evaluation.evaluate import EvalConfig, evaluate_checkpoint, evaluate_model
from homeclip.evaluation.methodology import check_homes
from homeclip.evaluation.search import search
from homeclip.io import file_sha256
from homeclip.testing import HashTextEncoder, random_windowset
from homeclip.training.config import TrainConfig
from homeclip.training.run_dir import LOCK_NAME, RunLock, claim_output_dir, run_outputs
from homeclip.training.trainer import TrainData, steps_per_epoch, train
from test_evaluate import FAST, FakeModel, FakeTextEncoder, split_windows, synthetic_home, tiny_run

SRC = Path(__file__).resolve().parents[1] / "src"


# ----------------------------------------------------------------------------------------- cross-home
def test_cross_home_is_an_error_without_the_flag():
    train, test = split_windows()
    model = FakeModel()
    model.meta["home"] = "milan"
    with pytest.raises(UserError, match="trained on home 'milan' but the data is from home 'synthetic'.*"
                                        "--allow-cross-home"):
        evaluate_model(model, train, test, synthetic_home(), FAST)
    r = evaluate_model(model, train, test, synthetic_home(), FAST, allow_cross_home=True).results
    m = r["methodology"]
    assert m["cross_home"] and m["trained_on"] == "milan" and m["tested_on"] == "synthetic"
    assert m["allowed_by"] == "--allow-cross-home"
    assert r["warnings"][0].startswith("CROSS-HOME: trained on milan, tested on synthetic")
    assert "trained on milan, tested on synthetic" in r["headline"]


def test_semantic_checkpoint_needs_no_flag_and_same_home_is_silent():
    train, test = split_windows()
    model = FakeModel()
    model.meta["home"] = "milan"
    model.config["event_fields"] = "semantic"
    m = evaluate_model(model, train, test, synthetic_home(), FAST).results["methodology"]
    assert m["cross_home"] and m["semantic_inputs"] and "semantic" in m["allowed_by"]
    same = evaluate_model(FakeModel(), train, test, synthetic_home(), FAST).results
    assert not same["methodology"]["cross_home"] and not any("CROSS-HOME" in w for w in same["warnings"])


def test_probe_split_of_another_home_is_guarded_too():
    train, test = split_windows()
    train.home = "aruba"
    with pytest.raises(UserError, match="train split .* is from home 'aruba'"):
        evaluate_model(FakeModel(), train, test, synthetic_home(), FAST)


def test_unrecorded_training_home_is_said():
    train, test = split_windows()
    model = FakeModel()
    del model.meta["home"]
    r = evaluate_model(model, train, test, synthetic_home(), FAST).results
    assert any("does not record the home" in w for w in r["warnings"])


def test_check_homes_unknown_is_not_cross():
    assert not check_homes(None, "milan", semantic=False, allow_cross_home=False)["cross_home"]


def _other_home_copy(path: Path, home: str) -> Path:
    """The same split, recorded as another home's data."""
    from homeclip.data.store import load_split

    ws = load_split(path)
    ws.home = home
    out = path.with_name(f"{home}_test.json")
    save_split(out, ws)
    return out


def test_evaluate_and_search_commands_refuse_cross_home(tmp_path, capsys):
    p = tiny_run(tmp_path, "chronos")
    aruba = _other_home_copy(p["test"], "aruba")
    out = tmp_path / "eval"
    argv = ["evaluate", "--checkpoint", str(p["checkpoint"]), "--train_data", str(p["train"]), "--test_data",
            str(aruba), "--output_dir", str(out), "--no-figures", "--quiet"]
    capsys.readouterr()                                                 # only the command's own output below
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err and "--allow-cross-home" in err
    assert not out.exists()                                            # nothing half-written
    with pytest.raises(UserError, match="to search across homes"):
        search(p["checkpoint"], aruba, ["kitchen"], cache_dir=tmp_path / "cache", text_encoder=FakeTextEncoder())
    hits = search(p["checkpoint"], aruba, ["kitchen"], cache_dir=tmp_path / "cache", text_encoder=FakeTextEncoder(),
                  allow_cross_home=True)
    assert hits["homes"] == {"trained_on": "synthetic", "tested_on": "aruba", "semantic": False}
    with pytest.raises(UserError, match="to search across homes"):   # the cached facts keep the guard
        search(p["checkpoint"], aruba, ["kitchen"], cache_dir=tmp_path / "cache")
    r = evaluate_checkpoint(p["checkpoint"], p["train"], aruba, p["vocab"], out, text_encoder=FakeTextEncoder(),
                            cfg=EvalConfig(figures=False, progress=False), allow_cross_home=True)
    assert r["methodology"]["probe_cross_home"]
    assert "trained on synthetic, tested on aruba" in (out / "report.html").read_text()


# ----------------------------------------------------------------------------------------- test as validation
def _files_run(tmp_path: Path, val: str, **overrides) -> tuple[TrainConfig, dict[str, Path]]:
    """Processed train/val/test files on disk and a config that trains on them (val file = `val`)."""
    ws = random_windowset(n=96, seed=3)
    ws.split = np.asarray(["train", "val", "test"], dtype=object)[(np.arange(96) // 8) % 3]
    data = tmp_path / "data"
    paths = {name: data / f"syn_{name}.json" for name in ("train", "val", "test")}
    for name, path in paths.items():
        save_split(path, ws.select_split(name))
    paths["vocab"] = data / "syn_vocab.json"
    build_vocab(ws.select_split("train")).save(paths["vocab"])
    cfg = TrainConfig(backbone="statistics", batch_size=8, max_epochs=1, output_dim=16, projection_hidden_dim=16,
                      log_interval=2, val_interval=1000, save_interval=1000, device="cpu",
                      train_data_path=str(paths["train"]), val_data_path=str(paths[val]),
                      vocab_path=str(paths["vocab"]), output_dir=str(tmp_path / "run"),
                      feature_cache_dir=str(tmp_path / "features"), text_cache_dir=str(tmp_path / "text"),
                      **overrides)
    return cfg, paths


def test_validation_on_the_test_split_is_loud_and_flagged(tmp_path, caplog):
    cfg, paths = _files_run(tmp_path, "test")
    with caplog.at_level(logging.WARNING, logger="homeclip"):
        train(cfg, text_encoder=FakeTextEncoder(), progress=False)
    assert any("VALIDATION FILE IS THE TEST SPLIT" in r.getMessage() for r in caplog.records)
    run = tmp_path / "run"
    hp = json.loads((run / "hyperparameters.json").read_text())
    assert hp["validation_is_test_split"] and hp["home"] == "synthetic"
    assert "VALIDATION FILE IS THE TEST SPLIT" in (run / "run_summary.txt").read_text()
    out = tmp_path / "eval"
    r = evaluate_checkpoint(run / "best_model.pt", paths["train"], paths["test"], paths["vocab"], out,
                            text_encoder=FakeTextEncoder(), cfg=EvalConfig(figures=False, progress=False))
    assert r["methodology"]["selected_on_test_split"] and not r["methodology"]["trained_on_test_split"]
    assert r["methodology"]["test_data_sha256"] == file_sha256(paths["test"])
    assert r["warnings"][0].startswith("SELECTED ON THE TEST SPLIT") and "SELECTED ON THE TEST SPLIT" in r["headline"]
    saved = json.loads((out / "evaluation_results.json").read_text())
    assert saved["methodology"]["selected_on_test_split"] is True
    assert "SELECTED ON THE TEST SPLIT" in (out / "report.html").read_text()
    # scored on another file (here: the validation split file is not this one): no selection flag
    other = evaluate_checkpoint(run / "best_model.pt", paths["train"], paths["val"], paths["vocab"], tmp_path / "e2",
                                text_encoder=FakeTextEncoder(), cfg=EvalConfig(figures=False, progress=False))
    assert not other["methodology"]["selected_on_test_split"]
    assert any("validated on a test split" in w for w in other["warnings"])
    trained = evaluate_checkpoint(run / "best_model.pt", paths["train"], paths["train"], paths["vocab"],
                                  tmp_path / "e3", text_encoder=FakeTextEncoder(),
                                  cfg=EvalConfig(figures=False, progress=False))
    assert trained["methodology"]["trained_on_test_split"] and "TRAINED ON THE TEST SPLIT" in trained["headline"]


def test_a_proper_validation_split_is_not_flagged(tmp_path, caplog):
    cfg, paths = _files_run(tmp_path, "val")
    with caplog.at_level(logging.WARNING, logger="homeclip"):
        train(cfg, text_encoder=FakeTextEncoder(), progress=False)
    assert not any("TEST SPLIT" in r.getMessage() for r in caplog.records)
    r = evaluate_checkpoint(tmp_path / "run" / "best_model.pt", paths["train"], paths["test"], paths["vocab"],
                            tmp_path / "eval", text_encoder=FakeTextEncoder(),
                            cfg=EvalConfig(figures=False, progress=False))
    assert not r["methodology"]["selected_on_test_split"] and not r["methodology"]["validation_was_a_test_split"]


# ----------------------------------------------------------------------------------------- run folders
def _tiny(tmp_path: Path, **overrides) -> TrainConfig:
    values = dict(backbone="statistics", batch_size=8, max_epochs=1, output_dim=16, projection_hidden_dim=16,
                  log_interval=2, val_interval=4, save_interval=2, device="cpu", output_dir=str(tmp_path / "run"),
                  feature_cache_dir=str(tmp_path / "features"), text_cache_dir=str(tmp_path / "text"))
    values.update(overrides)
    return TrainConfig(**values)


def _data() -> TrainData:
    ws = random_windowset(96, seed=0)
    return TrainData(ws.select_split("train"), ws.select_split("val"), build_vocab(ws))


def test_a_second_run_into_the_folder_refuses_and_keeps_the_first(tmp_path):
    cfg = _tiny(tmp_path)
    train(cfg, data=_data(), text_encoder=HashTextEncoder(), progress=False)
    run = tmp_path / "run"
    before = {p: p.read_bytes() for p in run_outputs(run)}
    assert any(p.name.startswith("checkpoint_step_") for p in before) and (run / "metrics.jsonl") in before
    text = HashTextEncoder()
    with pytest.raises(UserError, match="holds the outputs of an earlier run.*--overwrite.*--resume auto"):
        train(cfg, data=_data(), text_encoder=text, progress=False)
    assert text.calls == []                                  # refused before any slow setup
    assert {p: p.read_bytes() for p in run_outputs(run)} == before
    with pytest.raises(UserError, match="choose one"):
        train(cfg, data=_data(), text_encoder=HashTextEncoder(), progress=False, overwrite=True, resume="auto")
    # --overwrite replaces them: the earlier run's step checkpoints are gone, the new run's are there
    stale = run / "checkpoint_step_999.pt"
    stale.write_bytes(b"old")
    train(cfg, data=_data(), text_encoder=HashTextEncoder(), progress=False, overwrite=True)
    assert not stale.exists() and (run / "final_model.pt").is_file()
    assert not (run / LOCK_NAME).read_text()                 # released: an empty lock file stays behind


def test_command_train_refuses_with_one_line(tmp_path, capsys):
    capsys.readouterr()
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text('{"step": 1, "loss": 1.0}\n')
    assert main(["train", "--config", str(SRC.parent / "configs" / "training" / "milan" / "tiny.json"),
                 "--output_dir", str(run), "--train_data", str(tmp_path / "absent.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert "holds the outputs of an earlier run" in err and err.count("\n") == 0
    assert (run / "metrics.jsonl").read_text() == '{"step": 1, "loss": 1.0}\n'


def test_claim_output_dir_lists_and_removes(tmp_path):
    assert claim_output_dir(tmp_path / "new", resume=False, overwrite=False) == []
    (tmp_path / "tb").mkdir()
    (tmp_path / "tb" / "events.out.tfevents.1").write_text("x")
    (tmp_path / "notes.txt").write_text("mine")
    assert claim_output_dir(tmp_path, resume=True, overwrite=False) == []        # resuming continues that run
    removed = claim_output_dir(tmp_path, resume=False, overwrite=True)
    assert removed == [tmp_path / "tb" / "events.out.tfevents.1"] and (tmp_path / "notes.txt").is_file()


def test_a_locked_folder_refuses_a_second_run(tmp_path):
    run = tmp_path / "run"
    with RunLock(run) as lock:
        assert lock.held and json.loads((run / LOCK_NAME).read_text())["pid"] == os.getpid()
        text = HashTextEncoder()
        with pytest.raises(UserError, match=rf"another run \(pid {os.getpid()} .*\) is writing into this folder"):
            train(_tiny(tmp_path), data=_data(), text_encoder=text, progress=False)
        assert text.calls == [] and not run_outputs(run)
    assert not lock.held
    train(_tiny(tmp_path), data=_data(), text_encoder=HashTextEncoder(), progress=False)   # free again


_HOLDER = """
import sys, time
sys.path.insert(0, {src!r})
from homeclip.training.run_dir import RunLock
lock = RunLock({folder!r}).acquire()
print("locked", flush=True)
time.sleep(600)
"""


def test_lock_of_a_live_process_refuses_and_a_dead_owners_lock_is_taken_over(tmp_path, caplog):
    folder = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER.format(src=str(SRC), folder=str(folder))],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(UserError, match=rf"another run \(pid {holder.pid} "):
            RunLock(folder).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)                   # dies without releasing: a stale lock file
        holder.wait()
    assert json.loads((folder / LOCK_NAME).read_text())["pid"] == holder.pid
    with caplog.at_level(logging.WARNING, logger="homeclip"):
        lock = RunLock(folder).acquire()
    assert any(f"stale run lock" in r.getMessage() and f"pid {holder.pid}" in r.getMessage() and "gone" in
               r.getMessage() for r in caplog.records)
    assert json.loads((folder / LOCK_NAME).read_text())["pid"] == os.getpid()
    lock.release()


# ----------------------------------------------------------------------------------------- datasets in use
def test_recorded_use_makes_replacing_the_dataset_warn(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "h_train.json").write_text("v1")
    files = {"train": {"path": str(folder / "h_train.json"), "sha256": file_sha256(folder / "h_train.json")}}
    assert replacing_used_files_warning(folder, ["h_train.json"]) is None
    record_use(files, tmp_path / "run")
    (folder / RECORD_NAME).open("a").write("torn {\n")      # a torn line is skipped
    assert runs_using(folder, ["h_train.json"]) == {"h_train.json": [str((tmp_path / "run").resolve())]}
    warning = replacing_used_files_warning(folder, ["h_train.json", "h_test.json"])
    assert "replacing h_train.json" in warning and "1 recorded run" in warning
    (folder / "h_train.json").write_text("v2")               # already replaced: the run used other content
    assert replacing_used_files_warning(folder, ["h_train.json"]) is None


def test_prepare_warns_before_replacing_a_dataset_a_run_used(tmp_path, caplog):
    from homeclip.data.homes import load_home
    from homeclip.data.prepare import prepare_dataset
    from homeclip.data.simulate import write_simulated_log
    from homeclip.data.windows import WindowConfig

    home = load_home("milan")
    raw = write_simulated_log(tmp_path / "raw.txt", home, 3, seed=1)
    out = tmp_path / "data"
    prepare_dataset(raw, home, out, window=WindowConfig(length=50, stride=50), progress=False)
    train_file = out / "milan_train.json"
    record_use({"train": {"path": str(train_file), "sha256": file_sha256(train_file)}}, tmp_path / "run")
    with caplog.at_level(logging.WARNING, logger="homeclip"):
        prepare_dataset(raw, home, out, window=WindowConfig(length=50, stride=25), progress=False)
    assert any("replacing milan_train.json" in r.getMessage() for r in caplog.records)
    assert (out / RECORD_NAME).is_file()                     # the record survives the rewrite


def test_training_records_its_data_files(tmp_path):
    cfg, paths = _files_run(tmp_path, "val")
    train(cfg, text_encoder=FakeTextEncoder(), progress=False)
    used = runs_using(paths["train"].parent, ["syn_train.json", "syn_val.json", "syn_vocab.json", "syn_test.json"])
    assert set(used) == {"syn_train.json", "syn_val.json", "syn_vocab.json"}


def test_steps_per_epoch_and_demo_validation_interval(tmp_path):
    from homeclip.experiment import validate_every_epoch

    cfg = _tiny(tmp_path, val_interval=500)
    data = _data()
    assert steps_per_epoch(cfg, data) == len(data.train) // 8
    assert validate_every_epoch(cfg, data) == len(data.train) // 8
    assert validate_every_epoch(_tiny(tmp_path, val_interval=2), data) == 2


def test_a_run_on_several_homes_is_not_cross_home_on_one_of_them():
    from homeclip.evaluation.methodology import assess, check_homes

    assert not check_homes("milan+aruba", "aruba", semantic=False, allow_cross_home=False)["cross_home"]
    with pytest.raises(UserError, match="allow-cross-home"):
        check_homes("milan+aruba", "cairo", semantic=False, allow_cross_home=False)
    meta = {"home": "milan+aruba", "data_files": {"val": [{"path": "a", "sha256": "x"}, {"path": "b", "sha256": "y"}],
                                                  "train": [{"path": "c", "sha256": "z"}]}}
    m = assess(meta, {}, train_home="aruba", test_home="aruba", test_sha256="y")
    assert m["selected_on_test_split"] and not m["trained_on_test_split"] and not m["cross_home"]
