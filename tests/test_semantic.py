"""Semantic event fields: channels and tokens that depend on no home's sensor ids, several datasets in one
run, and a model trained on one simulated home evaluated on another with other sensor ids."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from homeclip.data.batches import WindowDataset
from homeclip.data.taxonomy import OBJECT_KINDS, ROOM_TYPES
from homeclip.data.vocab import Vocab, build_vocab, merge_vocabs
from homeclip.data.windows import SEMANTIC_FIELDS, concat_windows
from homeclip.encoders.series import SEMANTIC_BASE, SeriesConfig, build_series
from homeclip.errors import UserError
from homeclip.testing import HashTextEncoder, random_windowset
from homeclip.training.checkpoint import load_checkpoint, load_model
from homeclip.training.config import TrainConfig, config_from_dict
from homeclip.training.model import build_sensor_encoder
from homeclip.training.trainer import TrainData, train

INPUTS = ("categorical_features", "coordinates", "time_deltas", "mask", "time_of_day")
SMALL_TRANSFORMER = {"d_model": 16, "n_layers": 1, "n_heads": 2, "d_ff": 32}


def renamed(ws):
    """The same windows in a 'home' whose every sensor, room and sensor type has another name and whose floor
    plan is mirrored; the semantic fields (room type, kind, state sign) are untouched."""
    out = ws.subset(np.arange(len(ws)))
    out.categories = dict(ws.categories)
    for name, prefix in (("sensor", "Z9_"), ("room", "zone_"), ("sensor_type", "t_")):
        out.categories[name] = [prefix + c for c in ws.categories[name]][::-1]
        out.codes = {**out.codes, name: np.where(ws.mask, len(ws.categories[name]) - 1 - ws.codes[name], -1)}
    out.xy = np.where(ws.mask[..., None], 1.0 - ws.xy[..., ::-1], np.nan).astype(np.float32)
    out.home = "elsewhere"
    out.homes = np.full(len(out), "elsewhere", dtype=object)
    return out


def embed(encoder, ws, vocab):
    batch = WindowDataset(ws, vocab).get_batch(np.arange(len(ws)))
    with torch.no_grad():
        return encoder.eval()(**{k: batch[k] for k in INPUTS})


@pytest.fixture(scope="module")
def windows():
    return random_windowset(24, 50, seed=5, min_len=10)


# ------------------------------------------------------------------------------------------ series


def _features(room_type, kind, state_sign, dts, mask):
    t = lambda x: torch.tensor(x)
    return dict(categorical_features={"room_type": t(room_type), "kind": t(kind), "state_sign": t(state_sign)},
                coordinates=torch.full((*t(mask).shape, 2), float("nan")), time_deltas=t(dts).float(),
                mask=t(mask), time_of_day=torch.zeros(t(mask).shape))


def test_activity_channels_are_one_indicator_per_room_type_and_kind():
    cfg = SeriesConfig(event_fields="semantic", extra_channels=("state",))
    names = cfg.channel_names
    assert names[:len(ROOM_TYPES)] == tuple(f"room_type={r}" for r in ROOM_TYPES)
    assert len(names) == len(ROOM_TYPES) + len(OBJECT_KINDS) + 2 and names[-2:] == ("log_dt", "state")
    kitchen, fridge, bed = 2 + ROOM_TYPES.index("kitchen"), 2 + OBJECT_KINDS.index("fridge"), 2 + OBJECT_KINDS.index("bed")
    on, off = 2, 3
    s = build_series(cfg, **_features([[kitchen, 1, 0]], [[fridge, bed, 0]], [[on, off, 0]], [[0.0, 1.0, 0.0]],
                                      [[True, True, False]]))
    assert s.shape == (1, len(names), 3) and torch.isnan(s[0, :, 0]).all()   # left padding
    col = {n: s[0, i, 1:].tolist() for i, n in enumerate(names)}
    assert col["room_type=kitchen"] == [1.0, 0.0]          # the second event's room type is UNK: no indicator
    assert sum(col[f"room_type={r}"][1] for r in ROOM_TYPES) == 0.0
    assert col["kind=fridge"] == [1.0, 0.0] and col["kind=bed"] == [0.0, 1.0]
    assert col["state"] == [1.0, -1.0]                     # the fixed sign, not a vocabulary's state tokens


def test_compact_channels_use_the_fixed_taxonomy_sizes():
    cfg = SeriesConfig(event_fields="semantic", semantic_channels="compact")
    assert cfg.channel_names == SEMANTIC_BASE["compact"]
    s = build_series(cfg, **_features([[3]], [[4]], [[2]], [[0.0]], [[True]]))
    np.testing.assert_allclose(s[0, :2, 0], [3 / (len(ROOM_TYPES) + 1), 4 / (len(OBJECT_KINDS) + 1)], rtol=1e-6)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        build_series(cfg, **_features([[99]], [[4]], [[2]], [[0.0]], [[True]]))


def test_original_series_config_and_cache_identity_are_unchanged():
    d = SeriesConfig(sensor_vocab_size=5, room_vocab_size=3).to_dict()
    assert set(d) == {"sensor_vocab_size", "room_vocab_size", "extra_channels", "covariates", "state_values",
                      "channels"}
    semantic = SeriesConfig(event_fields="semantic").to_dict()
    assert semantic["event_fields"] == "semantic" and semantic["channels"] != d["channels"]


# ------------------------------------------------------------------------------------------ encoders


@pytest.mark.parametrize("encoder, layout", [("chronos", "activity"), ("chronos", "compact"),
                                             ("transformer", "activity")])
def test_semantic_embeddings_do_not_depend_on_sensor_ids_rooms_or_floor_plan(windows, encoder, layout):
    vocab = build_vocab(windows)
    other = renamed(windows)
    for fields in ("semantic", "original"):
        cfg = TrainConfig(encoder=encoder, backbone="statistics", event_fields=fields, semantic_channels=layout,
                          extra_channels=["state", "time_of_day"] if encoder == "chronos" else [],
                          transformer=SMALL_TRANSFORMER, output_dim=16)
        torch.manual_seed(0)
        model = build_sensor_encoder(cfg, vocab)
        a, b = embed(model, windows, vocab), embed(model, other, vocab)
        if fields == "semantic":
            torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
        else:   # the seed encoders read sensor ids (UNK in the renamed home) and x/y: the test can tell
            assert not torch.allclose(a, b, atol=1e-3)


def test_semantic_encoders_read_only_home_independent_fields(windows):
    vocab = build_vocab(windows)
    tr = build_sensor_encoder(TrainConfig(encoder="transformer", event_fields="semantic",
                                          transformer=SMALL_TRANSFORMER), vocab)
    assert set(tr.embeddings) == {"room_type", "kind", "state_sign", "tod_bucket", "dt_bucket"}
    assert set(tr.mlm_heads) == set(tr.embeddings) and tr.get_config()["coordinates"] is False
    ch = build_sensor_encoder(TrainConfig(backbone="statistics", event_fields="semantic"), vocab)
    assert set(ch.vocab_sizes) == set(SEMANTIC_FIELDS) and ch.get_config()["event_fields"] == "semantic"
    # Original encoders' configs have no new keys: a seed model's checkpoint is what older versions read.
    for original in (TrainConfig(encoder="transformer", transformer=SMALL_TRANSFORMER), TrainConfig(backbone="statistics")):
        config = build_sensor_encoder(original, vocab).get_config()
        assert not {"coordinates", "event_fields", "semantic_channels"} & set(config)
    with pytest.raises(UserError, match="mlm_fields"):
        build_sensor_encoder(TrainConfig(encoder="transformer", event_fields="semantic",
                                         transformer={**SMALL_TRANSFORMER, "mlm_fields": ["sensor"]}), vocab)


# ------------------------------------------------------------------------------------------ several datasets


def test_concat_windows_keeps_each_windows_home_and_values():
    a = random_windowset(8, 50, seed=1, n_sensors=6)
    b = random_windowset(6, 30, seed=2, n_sensors=9)
    b.home, b.homes = "other", np.full(len(b), "other", dtype=object)
    b.categories = {**b.categories, "sensor": [f"S{i}" for i in range(9)]}
    both = concat_windows([a, b])
    assert len(both) == 14 and both.seq_len == 50 and both.home == "synthetic+other"
    assert list(both.homes) == ["synthetic"] * 8 + ["other"] * 6
    for i in (0, 7):
        assert both.strings("sensor", i) == a.strings("sensor", i)
    for j in (0, 5):
        assert both.strings("sensor", 8 + j) == b.strings("sensor", j)
        assert both.strings("kind", 8 + j) == b.strings("kind", j)
    assert not both.mask[8:, 30:].any() and np.isnan(both.xy[8:, 30:]).all()
    assert both.subset([9, 10]).home == "other" and both.subset([0, 9]).home == "synthetic+other"
    assert [p["home"] for p in both.meta["parts"]] == ["synthetic", "other"]
    from homeclip.data.store import save_split

    with pytest.raises(ValueError, match="several homes"):
        save_split("/nonexistent/x.json", both)


def test_merged_vocabulary_is_the_union_and_equals_building_on_both():
    a, b = random_windowset(8, seed=1, n_sensors=5), random_windowset(8, seed=2, n_sensors=12)
    b.categories = {**b.categories, "sensor": ["M001"] + [f"S{i}" for i in range(11)]}   # one name shared
    merged = merge_vocabs([build_vocab(a), build_vocab(b)])
    assert merged.tokens == build_vocab(concat_windows([a, b])).tokens
    va, vb = build_vocab(a), build_vocab(b)
    assert set(merged.tokens["sensor"]) == set(va.tokens["sensor"]) | set(vb.tokens["sensor"])
    assert len(merged.tokens["sensor"]) > max(len(va.tokens["sensor"]), len(vb.tokens["sensor"]))
    assert merged.tokens["sensor"][:2] == ["<pad>", "<unk>"] and merged.tokens["kind"] == va.tokens["kind"]
    broken = Vocab({**build_vocab(a).tokens, "kind": ["<pad>", "<unk>", "bed"]})
    with pytest.raises(UserError, match="fixed taxonomy"):
        merge_vocabs([build_vocab(a), broken])


def test_config_accepts_a_path_or_a_list_of_paths():
    cfg = config_from_dict({"train_data_path": ["a.json", "b.json"], "vocab_path": ["va.json", "vb.json"],
                            "val_data_path": []})
    assert cfg.data_paths("train_data_path") == ["a.json", "b.json"] and cfg.data_paths("val_data_path") == []
    assert config_from_dict({}).data_paths("train_data_path") == [TrainConfig().train_data_path]
    for values, message in (({"train_data_path": []}, "non-empty list"), ({"train_data_path": ["a", 3]}, "list of paths"),
                            ({"train_data_path": ["a", "b"], "vocab_path": ["v1", "v2", "v3"]}, "one vocabulary per"),
                            ({"event_fields": "semantics"}, "'event_fields' must be one of"),
                            ({"semantic_channels": "dense"}, "'semantic_channels' must be one of")):
        with pytest.raises(UserError, match=message):
            config_from_dict(values)


def _tiny(tmp_path, **kw) -> TrainConfig:
    values = dict(backbone="statistics", batch_size=8, max_epochs=1, output_dim=16, projection_hidden_dim=16,
                  log_interval=2, val_interval=4, save_interval=100, use_wandb=False, device="cpu",
                  output_dir=str(tmp_path / "run"), feature_cache_dir=str(tmp_path / "features"),
                  text_cache_dir=str(tmp_path / "text"), transformer=SMALL_TRANSFORMER)
    values.update(kw)
    return TrainConfig(**values)


@pytest.mark.parametrize("encoder", ["chronos", "transformer"])
def test_trained_semantic_model_embeds_a_renamed_home_identically(tmp_path, windows, encoder):
    data = TrainData(windows.select_split("train"), windows.select_split("val"), build_vocab(windows))
    train(_tiny(tmp_path, encoder=encoder, event_fields="semantic", extra_channels=["time_of_day"] * (encoder == "chronos")),
          data=data, text_encoder=HashTextEncoder(), progress=False)
    ckpt = load_checkpoint(tmp_path / "run" / "best_model.pt")
    assert ckpt["config"]["event_fields"] == "semantic" and ckpt["meta"]["event_fields"] == "semantic"
    model = load_model(tmp_path / "run" / "best_model.pt")
    test = windows.select_split("test")
    np.testing.assert_allclose(model.embed_windows(renamed(test), progress=False),
                               model.embed_windows(test, progress=False), atol=1e-6)


# ------------------------------------------------------------------------------------------ two simulated homes


@pytest.fixture(scope="module")
def two_homes(tmp_path_factory):
    """Milan and Aruba (different layouts and sensor ids), 3 simulated days each, prepared with short windows."""
    from homeclip.data.homes import load_home
    from homeclip.data.prepare import prepare_dataset
    from homeclip.data.simulate import write_simulated_log
    from homeclip.data.windows import WindowConfig

    root = tmp_path_factory.mktemp("homes")
    dirs = {}
    for home in ("milan", "aruba"):
        raw = write_simulated_log(root / f"{home}.txt", load_home(home), 3, seed=3)
        prepare_dataset(raw, home, root / home, window=WindowConfig(length=20, stride=20), progress=False)
        dirs[home] = root / home
    return dirs


def _files(dirs, home):
    return {s: str(dirs[home] / f"{home}_{s}.json") for s in ("train", "val", "test", "vocab")}


def _train_command(tmp_path, argv: list[str]):
    """`homeclip train` as the command line gives it (repeated flags and all), with the stand-in text encoder."""
    import argparse

    from homeclip.commands import train as train_command
    from homeclip.training.config import load_config

    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"backbone": "statistics", "event_fields": "semantic", "batch_size": 16,
                                  "max_epochs": 1, "output_dim": 16, "projection_hidden_dim": 16, "use_wandb": False,
                                  "extra_channels": ["state", "time_of_day"], "sequence_length": 20,
                                  "text_cache_dir": str(tmp_path / "text"),
                                  "feature_cache_dir": str(tmp_path / "features")}))
    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    args = parser.parse_args(["--config", str(config), "--device", "cpu", *argv])
    cfg = load_config(args.config, train_command.overrides_from_args(args))
    train(cfg, text_encoder=HashTextEncoder(), progress=False)
    return cfg


def test_train_on_two_homes_then_evaluate_on_one_with_other_sensor_ids(tmp_path, two_homes):
    """Training with --train_data twice (milan + aruba), then evaluating on aruba with its own vocabulary; and
    a model trained on milan alone evaluated on aruba, whose sensors it never saw."""
    from homeclip.data.store import load_split
    from homeclip.evaluation.evaluate import EvalConfig, evaluate_checkpoint

    m, a = _files(two_homes, "milan"), _files(two_homes, "aruba")
    assert set(load_split(m["train"]).categories["sensor"]) != set(load_split(a["train"]).categories["sensor"])
    cfg = _train_command(tmp_path, ["--train_data", m["train"], "--train_data", a["train"], "--val_data", m["val"],
                                    "--val_data", a["val"], "--vocab", m["vocab"], "--vocab", a["vocab"],
                                    "--output_dir", str(tmp_path / "both")])
    assert cfg.train_data_path == [m["train"], a["train"]] and cfg.vocab_path == [m["vocab"], a["vocab"]]
    hp = json.loads((tmp_path / "both" / "hyperparameters.json").read_text())
    assert hp["homes"] == {"train": ["milan", "aruba"], "val": ["milan", "aruba"]}
    assert [f["home"] for f in hp["data_files"]["train"]] == ["milan", "aruba"]
    assert all(len(f["sha256"]) == 64 for f in hp["data_files"]["train"] + hp["data_files"]["vocab"])
    n = {h: len(load_split(_files(two_homes, h)["train"])) for h in ("milan", "aruba")}
    assert hp["windows_per_home"]["train"] == n
    ckpt = load_checkpoint(tmp_path / "both" / "best_model.pt")
    assert ckpt["meta"]["homes"]["train"] == ["milan", "aruba"] and ckpt["config"]["event_fields"] == "semantic"
    sensors = set(ckpt["vocab"]["sensor"])
    assert sensors == set(Vocab.load(m["vocab"]).tokens["sensor"]) | set(Vocab.load(a["vocab"]).tokens["sensor"])

    cfg = _train_command(tmp_path, ["--train_data", m["train"], "--val_data", m["val"], "--vocab", m["vocab"],
                                    "--output_dir", str(tmp_path / "milan")])
    assert cfg.train_data_path == m["train"]   # one flag: one path, as before
    results = evaluate_checkpoint(tmp_path / "milan" / "best_model.pt", a["train"], a["test"], a["vocab"],
                                  tmp_path / "eval", cfg=EvalConfig(figures=False, progress=False),
                                  text_encoder=HashTextEncoder())
    assert results["data"]["test_home"] == "aruba" and results["data"]["n_test"] == len(load_split(a["test"]))
    assert 0.0 <= results["levels"]["l1"]["methods"]["linear_probe"]["macro_f1"] <= 1.0
    # Both CASAS homes name sensors M001..., but a name means another place in each (the ids carry nothing
    # across homes): the milan model's embedding of aruba does not depend on them. Renamed, same vectors.
    from homeclip.data.homes import load_home

    milan, aruba = load_home("milan").sensors, load_home("aruba").sensors
    assert any((milan[s].room_type, milan[s].kind) != (aruba[s].room_type, aruba[s].kind)
               for s in set(milan) & set(aruba))
    model = load_model(tmp_path / "milan" / "best_model.pt")
    test = load_split(a["test"])
    np.testing.assert_allclose(model.embed_windows(renamed(test), progress=False),
                               model.embed_windows(test, progress=False), atol=1e-6)


def test_original_fields_on_several_homes_are_allowed_with_a_warning(tmp_path, two_homes, caplog):
    from homeclip.training.trainer import load_training_data

    m, a = _files(two_homes, "milan"), _files(two_homes, "aruba")
    cfg = _tiny(tmp_path, train_data_path=[m["train"], a["train"]], val_data_path="", vocab_path=[m["vocab"], a["vocab"]],
                sequence_length=20)
    with caplog.at_level("WARNING"):
        data = load_training_data(cfg)
    assert "several homes" in caplog.text and data.val is None
    assert set(data.train.homes) == {"milan", "aruba"} and "val" not in data.files
    cfg.vocab_path = [m["vocab"]] * 3
    with pytest.raises(UserError, match="vocabulary"):
        load_training_data(config_from_dict(cfg.to_dict()))


def test_feature_cache_keys_separate_semantic_layouts_and_original_channels(windows):
    from homeclip.encoders.cache import feature_cache_key

    vocab = build_vocab(windows)
    dataset = WindowDataset(windows, vocab)
    keys = {feature_cache_key(build_sensor_encoder(TrainConfig(backbone="statistics", event_fields=f,
                                                               semantic_channels=c), vocab), dataset)
            for f, c in (("original", "activity"), ("original", "compact"), ("semantic", "activity"),
                         ("semantic", "compact"))}
    assert len(keys) == 3   # semantic_channels means nothing to an original encoder: one original entry


@pytest.mark.parametrize("name", ["chronos_semantic", "transformer_semantic"])
def test_transfer_configs_are_semantic_multi_home_and_see_the_time_of_day(name):
    from pathlib import Path

    from homeclip.training.config import load_config

    cfg = load_config(Path(__file__).resolve().parents[1] / "configs" / "training" / "transfer" / f"{name}.json")
    assert cfg.event_fields == "semantic" and len(cfg.data_paths("train_data_path")) == 2
    assert len(cfg.data_paths("vocab_path")) == 2 and len(cfg.data_paths("val_data_path")) == 2
    if cfg.encoder == "chronos":
        assert cfg.semantic_channels == "activity" and "time_of_day" in cfg.extra_channels
    else:   # the Transformer reads the time of day (bucket + sin/cos) whatever the config
        from homeclip.encoders.transformer import SEMANTIC_TOKEN_FIELDS

        assert cfg.encoder == "transformer" and "tod_bucket" in SEMANTIC_TOKEN_FIELDS and cfg.mlm_weight > 0
