"""TrainConfig: the original config file, validation errors (one line, naming the key), overrides, CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from homeclip.errors import UserError
from homeclip.training.config import TrainConfig, config_from_dict, load_config, parse_set

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs" / "training" / "milan"
ORIGINAL = {
    "chronos_model_name": "amazon/chronos-t5-small", "projection_hidden_dim": 256, "projection_dropout": 0.1,
    "output_dim": 512, "sequence_length": 50, "batch_size": 64, "learning_rate": 0.001, "betas": [0.9, 0.98],
    "weight_decay": 0.01, "warmup_ratio": 0.1, "max_epochs": 50, "grad_clip_norm": 1.0, "temperature_init": 0.02,
    "learnable_temperature": True, "use_hard_negatives": False, "log_interval": 50, "val_interval": 500,
    "save_interval": 2000, "use_amp": False, "num_workers": 0, "use_wandb": True, "wandb_project": "discover-v2",
    "wandb_name": "chronos_clip_milan", "wandb_tags": ["chronos", "clip", "milan"],
    "train_data_path": "data/processed/casas/milan/seq50/milan_train.json",
    "val_data_path": "data/processed/casas/milan/seq50/milan_test.json",
    "vocab_path": "data/processed/casas/milan/seq50/milan_vocab.json",
    "output_dir": "trained_models/milan/chronos_clip", "text_model_name": "thenlper/gte-base", "max_captions": 4,
    "caption_types": "long",
}


def test_original_config_has_exactly_the_original_keys_and_values():
    raw = json.loads((CONFIGS / "chronos_clip.json").read_text())
    assert raw == ORIGINAL
    cfg = load_config(CONFIGS / "chronos_clip.json")
    assert {k: getattr(cfg, k) for k in ORIGINAL} == ORIGINAL
    assert cfg.encoder == "chronos" and cfg.backbone == "chronos"


@pytest.mark.parametrize("name", ["chronos_clip", "chronos2_clip", "chronos_bolt_clip", "statistics_clip",
                                  "transformer_clip_mlm", "tiny"])
def test_every_shipped_config_validates(name):
    cfg = load_config(CONFIGS / f"{name}.json")
    assert isinstance(cfg, TrainConfig)
    if name == "transformer_clip_mlm":
        assert cfg.encoder == "transformer" and cfg.mlm_weight > 0
    if name == "statistics_clip":
        assert cfg.backbone == "statistics"


@pytest.mark.parametrize("values, message", [
    ({"learning_rat": 0.1}, "unknown config key 'learning_rat' (did you mean 'learning_rate'?)"),
    ({"zzz": 1}, "unknown config key 'zzz'"),
    ({"batch_size": "64"}, "'batch_size' must be an integer"),
    ({"batch_size": True}, "'batch_size' must be an integer"),
    ({"use_amp": 1}, "'use_amp' must be true or false"),
    ({"betas": [0.9, "x"]}, "'betas' must be a list of numbers"),
    ({"wandb_tags": "clip"}, "'wandb_tags' must be a list of strings"),
    ({"betas": [0.9, 0.98, 0.5]}, "'betas' must be two numbers in [0, 1)"),
    ({"warmup_ratio": 1.5}, "'warmup_ratio' must be in [0, 1)"),
    ({"batch_size": 1}, "'batch_size' must be >= 2"),
    ({"temperature_init": 0.0}, "'temperature_init' must be in [0.01, 1]"),
    ({"caption_types": "medium"}, "'caption_types' must be one of ['long', 'short', 'all']"),
    ({"encoder": "lstm"}, "'encoder' must be one of"),
    ({"device": "gpu"}, "'device' must be auto, cpu, cuda or cuda:N"),
    ({"hard_negative_strategy": "semi"}, "'hard_negative_strategy' must be one of"),
    ({"learning_rate": -1}, "'learning_rate' must be > 0"),
    ({"transformer": {"d_modle": 64}}, "unknown key 'transformer.d_modle' (did you mean 'd_model'?)"),
])
def test_bad_values_name_the_key(values, message):
    with pytest.raises(UserError) as err:
        config_from_dict(values, source="cfg.json")
    text = str(err.value)
    assert message in text and text.startswith("cfg.json: ") and "\n" not in text


def test_int_is_accepted_for_float_keys():
    assert config_from_dict({"learning_rate": 1, "betas": [0, 0.5]}).learning_rate == 1.0


def test_file_errors(tmp_path):
    with pytest.raises(UserError, match="config file not found"):
        load_config(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "batch_size": 64,\n  oops\n}')
    with pytest.raises(UserError, match=r"bad.json:3: not valid JSON"):
        load_config(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(UserError, match="must be a JSON object"):
        load_config(bad)


def test_overrides_and_set_parsing(tmp_path):
    assert parse_set(["batch_size=32", "betas=[0.9, 0.99]", "output_dir=runs/x", "use_amp=true", "name=a=b"]) == {
        "batch_size": 32, "betas": [0.9, 0.99], "output_dir": "runs/x", "use_amp": True, "name": "a=b"}
    with pytest.raises(UserError, match="--set expects key=value"):
        parse_set(["batch_size"])
    cfg = load_config(CONFIGS / "chronos_clip.json", {"batch_size": 32, "train_data_path": "x.json"})
    assert cfg.batch_size == 32 and cfg.train_data_path == "x.json" and cfg.max_epochs == 50
    with pytest.raises(UserError, match="did you mean 'max_epochs'"):
        load_config(CONFIGS / "chronos_clip.json", {"max_epoch": 3})
    with pytest.raises(UserError, match="'batch_size' must be an integer"):
        load_config(CONFIGS / "chronos_clip.json", {"batch_size": "many"})


def test_original_script_reports_config_errors_in_one_line(tmp_path):
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps({**ORIGINAL, "lerning_rate": 0.1}))
    proc = subprocess.run([sys.executable, str(ROOT / "src" / "training" / "train_chronos_clip.py"),
                           "--config", str(bad)], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"train_chronos_clip.py: error: {bad}: unknown config key 'lerning_rate' (did you mean 'learning_rate'?)"]
    proc = subprocess.run([sys.executable, str(ROOT / "src" / "training" / "train_chronos_clip.py"),
                           "--config", str(CONFIGS / "chronos_clip.json"), "--train_data", "nope.json"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "nope.json: train file not found" in proc.stderr and "Traceback" not in proc.stderr
