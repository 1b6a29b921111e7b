"""The path a user with a model hub takes, end to end: `homeclip train` + `evaluate` with the real model ids
(amazon/chronos-2, amazon/chronos-bolt-small, amazon/chronos-t5-small, thenlper/gte-base) download them through
huggingface_hub from a hub on 127.0.0.1 (HF_ENDPOINT; published configs, tiny random weights, see
published_models.py), cache them under HF_HOME, never fall back, and record the real models; a second run with
the hub stopped works from the cache alone.

Each run is one fresh process (the environment is read at import, as for a user) that runs the commands through
`homeclip.cli.main`, the entry point of the `homeclip` command.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fake_hub import FakeHub
from published_models import REPOS, build_repos

pytest.importorskip("chronos")
pytest.importorskip("sentence_transformers")

ROOT = Path(__file__).resolve().parents[1]
BACKBONES = {"amazon/chronos-2": "chronos2", "amazon/chronos-bolt-small": "bolt", "amazon/chronos-t5-small": "t5"}
TEXT_MODEL = "thenlper/gte-base"
DRIVER = ("import json, sys\nfrom homeclip.cli import main\n"
          "for argv in json.loads(sys.argv[1]):\n    code = main(argv)\n    if code:\n        sys.exit(code)\n")


def _write_data(folder: Path) -> dict[str, Path]:
    """A tiny processed dataset (train / test splits + vocabulary) of synthetic windows."""
    from homeclip.data.store import save_split
    from homeclip.data.vocab import build_vocab
    from homeclip.testing import random_windowset

    ws = random_windowset(n=48, seed=5)
    ws.split = np.where((np.arange(48) // 6) % 2 == 0, "train", "test").astype(object)
    paths = {"train": folder / "syn_train.json", "test": folder / "syn_test.json", "vocab": folder / "syn_vocab.json"}
    save_split(paths["train"], ws.select_split("train"))
    save_split(paths["test"], ws.select_split("test"))
    build_vocab(ws).save(paths["vocab"])
    return paths


def _commands(tmp: Path, data: dict[str, Path], phase: str) -> list[list[str]]:
    """train + evaluate for each backbone, with caches of this phase only (so run two computes again)."""
    steps = []
    for model_id, family in BACKBONES.items():
        config = {"encoder": "chronos", "backbone": "chronos", "chronos_model_name": model_id,
                  "text_model_name": TEXT_MODEL, "allow_fallback": False, "batch_size": 8, "max_epochs": 1,
                  "output_dim": 16, "projection_hidden_dim": 16, "log_interval": 2, "val_interval": 1000,
                  "save_interval": 1000, "use_wandb": False, "device": "cpu", "caption_types": "long",
                  "train_data_path": str(data["train"]), "val_data_path": str(data["test"]),
                  "vocab_path": str(data["vocab"]), "output_dir": str(tmp / phase / family),
                  "feature_cache_dir": str(tmp / phase / "features"), "text_cache_dir": str(tmp / phase / "text")}
        path = tmp / phase / f"{family}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(config))
        steps.append(["train", "--config", str(path), "--no-progress"])
        steps.append(["evaluate", "--checkpoint", str(tmp / phase / family / "final_model.pt"),
                      "--train_data", str(data["train"]), "--test_data", str(data["test"]),
                      "--vocab", str(data["vocab"]), "--output_dir", str(tmp / phase / family / "eval"),
                      "--no-figures"] + (["--text-backend", "fp32"] if family == "t5" else []))
    return steps


def _run(steps: list[list[str]], env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(steps)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "FALLING BACK" not in done.stderr and "Traceback" not in done.stderr
    return done


def _assert_real_models_recorded(tmp: Path, phase: str) -> None:
    from homeclip.encoders.text_backends import resolve_backend

    auto = resolve_backend("auto", "cpu")[0]
    for model_id, family in BACKBONES.items():
        results = json.loads((tmp / phase / family / "eval" / "evaluation_results.json").read_text())
        backbone = results["model"]["backbone"]
        assert (backbone["used"], backbone["family"], backbone["fallback_reason"]) == (model_id, family, None)
        for stage in ("text_encoder_training", "text_encoder_evaluation"):
            text = results["model"][stage]
            assert text["used"] == TEXT_MODEL and not text["fallback_reason"], (stage, text)
        assert results["model"]["text_encoder_training"]["backend"] == auto
        assert results["model"]["text_encoder_evaluation"]["backend"] == ("fp32" if family == "t5" else auto)
        assert not any("STATISTICS" in w or "FALLBACK" in w for w in results["warnings"]), results["warnings"]
        hp = json.loads((tmp / phase / family / "hyperparameters.json").read_text())
        assert hp["text_encoder"]["used"] == TEXT_MODEL and hp["text_encoder"]["dim"] == 32   # the tiny gte


@pytest.mark.slow   # ~40 s on 2 idle cores: two fresh processes, each training and evaluating three models
def test_first_use_downloads_published_models_and_a_second_run_needs_no_hub(tmp_path):
    build_repos(tmp_path / "hub")
    data = _write_data(tmp_path / "data")
    hf_home = tmp_path / "hf"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT / "src"),
           "HF_HOME": str(hf_home), "HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false"}
    hub = FakeHub(tmp_path / "hub")
    env["HF_ENDPOINT"] = hub.start()
    try:
        _run(_commands(tmp_path, data, "online"), env)
    finally:
        hub.stop()

    for repo_id in REPOS:        # every model came over HTTP from the hub, into the Hugging Face cache
        got = hub.downloaded(repo_id)
        assert {"config.json", "model.safetensors"} <= set(got), (repo_id, got)
        snapshot = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}" / "snapshots" / hub.commit(repo_id)
        assert (snapshot / "config.json").is_file() and (snapshot / "model.safetensors").is_file()
        published = json.loads((tmp_path / "hub" / repo_id / "config.json").read_text())
        assert json.loads((snapshot / "config.json").read_text()) == published
    assert {"modules.json", "1_Pooling/config.json", "tokenizer.json", "vocab.txt"} <= set(hub.downloaded(TEXT_MODEL))
    _assert_real_models_recorded(tmp_path, "online")

    # The hub is gone (its port refuses connections); fresh feature and text caches make the models run again.
    served = len(hub.requests)
    _run(_commands(tmp_path, data, "offline"), env)
    assert len(hub.requests) == served
    _assert_real_models_recorded(tmp_path, "offline")
