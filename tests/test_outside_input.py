"""Names and files from outside: a layout name never becomes a path outside the folders a user named, and a
resumable checkpoint is checked (step within the schedule, shapes) before anything is loaded from it."""
from __future__ import annotations

import json

import pytest
import torch

from homeclip.cli import main
from homeclip.data.homes import HOMES_DIR, list_homes, load_home, parse_home
from homeclip.errors import UserError
from homeclip.paths import is_plain_name, plain_name
from homeclip.testing import HashTextEncoder
from homeclip.training.checkpoint import load_checkpoint, save_checkpoint
from homeclip.training.trainer import train
from test_trainer import tiny_config, tiny_data

TRAVERSAL = "../../../../../../homeclip-escape"   # from data/raw/simulated/, out past the test folder


def files_below(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("name", ["milan", "ordonez_a", "home-2", "A1"])
def test_plain_names_pass(name):
    assert is_plain_name(name) and plain_name(name, "x") == name


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", ".hidden", "-x", "x" * 65, "my home", "milán",
                                  TRAVERSAL, "/etc", "a\x00b"])
def test_names_that_could_become_other_paths_are_refused(name):
    assert not is_plain_name(name)
    with pytest.raises(UserError, match="must be a plain name"):
        plain_name(name, "the home")


def test_every_packaged_home_has_a_plain_name():
    assert all(is_plain_name(load_home(name).name) for name in list_homes())


@pytest.fixture
def traversal_layout(tmp_path):
    doc = json.loads((HOMES_DIR / "milan.json").read_text())
    doc["name"] = TRAVERSAL
    path = tmp_path / "evil_home.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_layout_name_with_path_parts_is_refused(traversal_layout):
    with pytest.raises(UserError, match=r"evil_home.json: name: expected a plain name .*, found "
                                        r"\"(\.\./)+homeclip-escape\""):
        load_home(traversal_layout)
    doc = json.loads(traversal_layout.read_text())
    with pytest.raises(UserError, match="name: expected a plain name"):
        parse_home({**doc, "name": "  ..  "})


@pytest.mark.parametrize("command", ["simulate", "prepare"])
def test_commands_refuse_the_traversal_name_and_write_nothing(traversal_layout, tmp_path, monkeypatch, capsys,
                                                              command):
    raw = tmp_path / "log.txt"
    raw.write_text("2009-10-16 00:01:04.000059 M017 ON\n2009-10-16 00:01:05 M017 OFF\n")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    before = [files_below(tmp_path), sorted(tmp_path.parents[0].iterdir()), sorted(tmp_path.parents[1].iterdir())]
    argv = ["simulate", "--home", str(traversal_layout), "--days", "1"] if command == "simulate" else \
        ["prepare", "--raw", str(raw), "--home", str(traversal_layout), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"homeclip {command}: error: ") and "expected a plain name" in err and err.count("\n") == 1
    assert [files_below(tmp_path), sorted(tmp_path.parents[0].iterdir()), sorted(tmp_path.parents[1].iterdir())] \
        == before


# ------------------------------------------------------------------------------------ resumable checkpoints
@pytest.fixture
def interrupted(tmp_path):
    """A run stopped after step 5 with checkpoint_step_4.pt on disk; returns (config, data, checkpoint)."""
    data = tiny_data()
    cfg = tiny_config(tmp_path, save_interval=4)

    def stop(step):
        if step == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, data=data, text_encoder=HashTextEncoder(), progress=False, on_step=stop)
    return cfg, data, tmp_path / "run" / "checkpoint_step_4.pt"


def _rewrite(path, change):
    ckpt = load_checkpoint(path)
    change(ckpt)
    save_checkpoint(path, {k: v for k, v in ckpt.items() if k != "format"})


@pytest.mark.parametrize("change, message", [
    (lambda c: c.update(step=10**6), "its step 1000000 is outside this run's schedule (0..12 steps)"),
    (lambda c: c.update(step=-1), "its step -1 is outside"),
    (lambda c: c["train_state"].pop("optimizer"), "its training state lacks optimizer"),
    (lambda c: c["model"].update({"text_projection.weight": torch.zeros(3, 3)}),
     "its weights do not match this model (1 tensor(s), e.g. text_projection.weight: expected (16, 24), found (3, 3))"),
])
def test_a_resumable_checkpoint_is_validated_before_use(interrupted, change, message):
    cfg, data, path = interrupted
    _rewrite(path, change)
    metrics = path.parent / "metrics.jsonl"
    before = metrics.read_text()
    with pytest.raises(UserError) as err:
        train(cfg, data=data, text_encoder=HashTextEncoder(), progress=False, resume=path)
    assert "cannot resume from this checkpoint" in str(err.value) and message in str(err.value)
    assert metrics.read_text() == before                 # nothing was changed by the refused resume


def test_resuming_a_run_of_another_shape_is_refused(interrupted, tmp_path):
    cfg, data, path = interrupted
    from dataclasses import replace

    with pytest.raises(UserError, match=r"its weights do not match this model"):
        train(replace(cfg, output_dim=32), data=data, text_encoder=HashTextEncoder(), progress=False, resume=path)
