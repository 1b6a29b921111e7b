"""Checkpoints: weights_only loading, RNG round trips, resume discovery, bad files."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from homeclip.errors import UserError
from homeclip.training.checkpoint import (load_checkpoint, load_model, resolve_resume, rng_state, save_checkpoint,
                                          set_rng_state, step_checkpoints)
from homeclip.training.trainer import train
from test_trainer import HashTextEncoder, tiny_config, tiny_data


def test_resumable_checkpoint_loads_with_weights_only_and_rebuilds_the_model(tmp_path):
    cfg = tiny_config(tmp_path, max_epochs=1, save_interval=3, use_hard_negatives=True)
    train(cfg, data=tiny_data(), text_encoder=HashTextEncoder(), progress=False)
    path = tmp_path / "run" / "checkpoint_step_6.pt"
    raw = torch.load(path, weights_only=True)     # no pickled code anywhere
    assert raw["format"] == "homeclip.checkpoint/1" and raw["step"] == 6
    for key in ("config", "vocab", "encoder", "backbone_info", "text_encoder", "text_dim", "model", "temperature",
                "train_state", "meta"):
        assert key in raw, key
    state = raw["train_state"]
    assert {"optimizer", "scheduler", "scaler", "rng", "bank", "best_val_loss"} <= set(state)
    assert raw["encoder"]["kind"] == "chronos" and raw["backbone_info"]["used"] == "statistics"
    assert "text_projection.weight" in raw["model"] and "logit_scale" in raw["model"]
    assert raw["meta"]["windows"]["train"] == 48
    final = torch.load(tmp_path / "run" / "final_model.pt", weights_only=True)
    assert "train_state" not in final
    trained = load_model(path)
    for k, v in raw["model"].items():
        if torch.is_tensor(v):
            assert torch.equal(trained.model.state_dict()[k], v)
    assert trained.vocab.tokens == raw["vocab"] and not trained.model.training


def test_rng_state_round_trip_is_weights_only_safe(tmp_path):
    state = rng_state()
    expected = (torch.rand(3), np.random.rand(3), random.random())
    save_checkpoint(tmp_path / "rng.pt", {"rng": state})
    loaded = torch.load(tmp_path / "rng.pt", weights_only=True)["rng"]
    torch.rand(5), np.random.rand(5), random.random()
    set_rng_state(loaded)
    got = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(got[0], expected[0]) and np.array_equal(got[1], expected[1]) and got[2] == expected[2]


def test_bad_checkpoint_files_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "nope.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match=r"junk.pt: not a homeclip checkpoint \(unreadable as one: UnpicklingError\)"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(UserError, match="not a homeclip checkpoint"):
        load_model(tmp_path / "other.pt")


def _pickled_list(path):
    import pickle

    path.write_bytes(pickle.dumps([1, 2]))


@pytest.mark.parametrize("make, detail", [
    (lambda p: p.write_bytes(b""), "an empty file"),
    (lambda p: p.write_bytes(p.with_name("good.pt").read_bytes()[:300]), "unreadable as one"),   # truncated
    (lambda p: p.write_bytes(np.random.default_rng(0).bytes(4096)), "unreadable as one"),       # random bytes
    (_pickled_list, "unreadable as one"),                                                          # plain pickle
    (lambda p: torch.save([1, 2], p), "expected format"),                                         # not a dict
    (lambda p: torch.save({"format": "homeclip.checkpoint/1", "model": {}}, p), "missing or malformed: config"),
])
def test_empty_truncated_and_foreign_files_are_not_a_homeclip_checkpoint(tmp_path, make, detail, capsys):
    from homeclip.cli import main

    save_checkpoint(tmp_path / "good.pt", {"a": torch.ones(1000)})
    bad = tmp_path / "bad.pt"
    make(bad)
    with pytest.raises(UserError) as err:
        load_model(bad)
    assert "not a homeclip checkpoint" in str(err.value) and detail in str(err.value)
    code = main(["evaluate", "--checkpoint", str(bad), "--train_data", "t.json", "--test_data", "t.json",
                 "--output_dir", str(tmp_path / "eval")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("homeclip evaluate: error: ") and err.count("\n") == 1
    assert "not a homeclip checkpoint" in err and not (tmp_path / "eval").exists()


def test_resume_auto_picks_the_latest_step(tmp_path):
    for step in (20, 100, 3):
        save_checkpoint(tmp_path / f"checkpoint_step_{step}.pt", {"step": step})
    (tmp_path / "checkpoint_step_x.pt").write_text("ignored")
    assert [s for s, _ in step_checkpoints(tmp_path)] == [3, 20, 100]
    assert resolve_resume("auto", tmp_path).name == "checkpoint_step_100.pt"
    assert resolve_resume(str(tmp_path / "a.pt"), tmp_path) == tmp_path / "a.pt"
    assert resolve_resume(None, tmp_path) is None
    with pytest.raises(UserError, match="no checkpoint_step"):
        resolve_resume("auto", tmp_path / "empty")


def test_save_is_atomic(tmp_path):
    save_checkpoint(tmp_path / "m.pt", {"a": torch.ones(2)})

    class Unsaveable:
        pass

    with pytest.raises(Exception):
        save_checkpoint(tmp_path / "m.pt", {"a": Unsaveable, "b": lambda: 0})
    assert torch.equal(load_checkpoint(tmp_path / "m.pt")["a"], torch.ones(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]
