"""Tests of the shared contracts: atomic IO, vocabulary, the one Dataset/collate, the CLI shell."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from homeclip.cli import COMMANDS, main
from homeclip.data.batches import WindowDataset, collate, select_captions
from homeclip.data.vocab import PAD, UNK, Vocab, build_vocab
from homeclip.errors import UserError
from homeclip.io import atomic_dir, atomic_path, atomic_write_json
from homeclip.testing import random_windowset


def test_atomic_write_json_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.json"
    atomic_write_json(target, {"a": 1})
    with pytest.raises(ValueError):
        atomic_write_json(target, {"bad": float("nan")})  # NaN is not valid JSON: refused
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_atomic_outputs_get_ordinary_permissions(tmp_path):
    import os
    import stat

    umask = os.umask(0o022)
    try:
        atomic_write_json(tmp_path / "a.json", [1])
        with atomic_path(tmp_path / "b.bin") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(umask)
    for name in ("a.json", "b.bin"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name


def test_atomic_path_and_dir_clean_up_on_failure(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "model.pt") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "user.txt").write_text("keep")
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "ds") as d:
            (d / "train.json").write_text("{}")
            raise RuntimeError("crash")
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == ["user.txt"]
    with atomic_dir(tmp_path / "ds") as d:
        (d / "train.json").write_text("{}")
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == ["train.json", "user.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


def test_vocab_is_built_on_train_only_and_maps_unseen_to_unk():
    ws = random_windowset(40, seed=1)
    ws.split[:] = "test"
    ws.split[:20] = "train"
    # A sensor value only in a test window must not enter the vocabulary.
    ws.categories["sensor"] = ws.categories["sensor"] + ["M999"]
    new_code = len(ws.categories["sensor"]) - 1
    ws.codes["sensor"][30, 0] = new_code
    vocab = build_vocab(ws)
    assert "M999" not in vocab.tokens["sensor"]
    assert vocab.tokens["sensor"][:2] == ["<pad>", "<unk>"]
    ids, unk = vocab.encode(ws)
    assert ids["sensor"][30, 0] == UNK
    assert unk["sensor"] >= 1
    assert (ids["sensor"][~ws.mask] == PAD).all()
    assert (ids["sensor"][ws.mask] != PAD).all()


def test_vocab_round_trip_and_bad_file(tmp_path):
    vocab = build_vocab(random_windowset(16))
    vocab.save(tmp_path / "v.json")
    assert Vocab.load(tmp_path / "v.json").tokens == vocab.tokens
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(UserError, match="bad.json"):
        Vocab.load(tmp_path / "bad.json")
    (tmp_path / "gap.json").write_text(json.dumps({"fields": {"sensor": {"<pad>": 0, "<unk>": 1, "M1": 3}}}))
    with pytest.raises(UserError, match="ids 0..n-1"):
        Vocab.load(tmp_path / "gap.json")
    with pytest.raises(UserError, match="not found"):
        Vocab.load(tmp_path / "missing.json")


def test_batches_are_identical_whatever_the_batch():
    ws = random_windowset(24, seed=2)
    ds = WindowDataset(ws, build_vocab(ws), features=np.arange(24 * 3, dtype=np.float32).reshape(24, 3))
    full = ds.get_batch(list(range(24)))
    loader = torch.utils.data.DataLoader(ds, batch_size=5, shuffle=False, collate_fn=collate)
    parts = list(loader)
    assert sum(len(p["index"]) for p in parts) == 24
    joined = collate(parts)
    for key in ("index", "coordinates", "time_deltas", "time_of_day", "mask", "features"):
        assert torch.equal(torch.nan_to_num(joined[key], nan=-1), torch.nan_to_num(full[key], nan=-1)), key
    for name, t in full["categorical_features"].items():
        assert torch.equal(joined["categorical_features"][name], t)
    assert joined["captions"] == full["captions"]
    # Padding: coordinates NaN, Δt and time of day zero.
    pad = ~full["mask"]
    assert torch.isnan(full["coordinates"][pad]).all()
    assert (full["time_deltas"][pad] == 0).all() and (full["time_of_day"][pad] == 0).all()
    # Time of day is seconds since midnight of the event.
    i, j = 3, 0
    expected = (ws.time[i, j] % 86_400_000_000) / 1e6
    assert full["time_of_day"][i, j].item() == pytest.approx(expected, abs=1e-2)


def test_select_captions_by_type():
    caps = {"long_natural": ["a", "b", "c"], "long_structured": ["d"], "short_natural": ["e"], "short_structured": ["f"]}
    assert select_captions(caps, "long", 4) == ["a", "b", "c", "d"]
    assert select_captions(caps, "long", 2) == ["a", "b"]
    assert select_captions(caps, "short", 4) == ["e", "f"]
    assert sorted(select_captions(caps, "all", 10)) == ["a", "b", "c", "d", "e", "f"]
    with pytest.raises(ValueError):
        WindowDataset(random_windowset(4), build_vocab(random_windowset(4)), caption_types="medium")


def test_window_content_hash_tracks_events_only():
    a, b = random_windowset(8, seed=3), random_windowset(8, seed=3)
    assert a.content_hash() == b.content_hash()
    b.captions[0] = {"long_natural": ["different"]}
    b.label_l1[0] = "Other"
    assert a.content_hash() == b.content_hash()
    b.time_delta[0, 0] += 1
    assert a.content_hash() != b.content_hash()
    sub = a.subset([2, 5])
    assert len(sub) == 2 and sub.label_l1[1] == a.label_l1[5]
    assert np.array_equal(sub.codes["sensor"][0], a.codes["sensor"][2])


def test_cli_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out
    assert main([]) == 2


# Parameters of the Transformer that configs/training/milan/transformer_clip_mlm.json builds on the vocabulary of
# random_windowset(n=32, seq_len=50, seed=0), computed once on main's code path before the semantic fields existed.
SEED_TRANSFORMER_PARAMETERS = 679_851


def test_encoders_built_from_configs_read_the_seed_fields_only():
    from pathlib import Path

    from homeclip.data.windows import SEED_FIELDS
    from homeclip.training.config import load_config
    from homeclip.training.model import build_sensor_encoder, count_parameters

    configs = Path(__file__).resolve().parents[1] / "configs" / "training" / "milan"
    vocab = build_vocab(random_windowset(n=32, seq_len=50, seed=0))
    assert {"room_type", "kind", "state_sign"} <= set(vocab.sizes)      # the vocabulary has the new fields ...
    transformer = build_sensor_encoder(load_config(configs / "transformer_clip_mlm.json"), vocab)
    assert count_parameters(transformer)[1] == SEED_TRANSFORMER_PARAMETERS      # ... the seed model does not
    assert tuple(transformer.get_config()["vocab_sizes"]) == SEED_FIELDS
    stats = build_sensor_encoder(load_config(configs / "statistics_clip.json"), vocab)
    assert tuple(stats.get_config()["vocab_sizes"]) == SEED_FIELDS


def test_read_json_names_the_file_and_line(tmp_path):
    from homeclip.errors import UserError
    from homeclip.io import read_json

    bad = tmp_path / "spec.json"
    bad.write_text('{\n  "a": 1,\n  "b": \n}\n')
    with pytest.raises(UserError, match=r"spec\.json:4: not valid JSON: Expecting value \(column 1\)"):
        read_json(bad, "benchmark spec")
    with pytest.raises(UserError, match=r"missing\.json: benchmark spec not found"):
        read_json(tmp_path / "missing.json", "benchmark spec")
    bad.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(UserError, match=r"spec\.json: not valid JSON: not UTF-8 text"):
        read_json(bad)
    bad.write_text('{"a": [1, 2]}')
    assert read_json(bad) == {"a": [1, 2]}
