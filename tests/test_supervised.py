"""Supervised fine-tuning: the head trains on a trained encoder (frozen, or end to end), is selected on
validation days, is saved in the one checkpoint format, rebuilt by load_model and scored by evaluate."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_evaluate import FAST, FakeTextEncoder, synthetic_home, tiny_run
from test_trainer import HashTextEncoder, tiny_config, tiny_data

from homeclip.cli import main
from homeclip.errors import UserError
from homeclip.evaluation.evaluate import evaluate_checkpoint, evaluate_model, missing_keys
from homeclip.training.checkpoint import load_checkpoint, load_model
from homeclip.training.config import config_from_dict
from homeclip.training.supervised import balanced_weights
from homeclip.training.trainer import train


@pytest.mark.parametrize("values, message", [
    ({"objective": "supervised"}, "'init_checkpoint' must be the trained checkpoint"),
    ({"objective": "finetune"}, "'objective' must be one of"),
    ({"loss": "triplet"}, "'loss' must be one of"),
    ({"focal_gamma": -1}, "'focal_gamma' must be >= 0"),
])
def test_config_keys_are_validated(values, message):
    with pytest.raises(UserError, match=message):
        config_from_dict(values)


def test_balanced_class_weights_by_hand():
    weights = balanced_weights(np.array(["a", "a", "a", "b"], dtype=object), ["a", "b"])
    assert weights.tolist() == pytest.approx([4 / 6, 2.0])   # n / (K x count)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A CLIP-trained tiny statistics-backbone run and its data (train 48 / val 24 windows)."""
    tmp = tmp_path_factory.mktemp("base")
    data = tiny_data()
    train(tiny_config(tmp), data=data, text_encoder=HashTextEncoder(), progress=False)
    return tmp, data


def test_frozen_head_is_selected_on_validation_and_rebuilt_by_load_model(base, tmp_path):
    tmp, data = base
    cfg = tiny_config(tmp_path, objective="supervised", init_checkpoint=str(tmp / "run" / "best_model.pt"),
                      max_epochs=6, learning_rate=0.01, feature_cache_dir=str(tmp / "features"))
    result = train(cfg, data=data, progress=False)
    out = tmp_path / "run"
    assert {"best_model.pt", "final_model.pt", "hyperparameters.json", "run_summary.txt", "metrics.jsonl",
            "tb"} <= {p.name for p in out.iterdir()}
    val = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if "val_macro_f1" in line]
    assert [v["epoch"] for v in val] == [1, 2, 3, 4, 5, 6]
    best_epoch = 1 + int(np.argmax([v["val_macro_f1"] for v in val]))    # first best, as the loop keeps it
    assert max(v["val_macro_f1"] for v in val) > 0.3        # it learns: chance is about 1/6 (six classes)
    ckpt = load_checkpoint(out / "best_model.pt")
    base_ckpt = load_checkpoint(tmp / "run" / "best_model.pt")
    head = ckpt["classifier"]
    assert head["selected"]["epoch"] == best_epoch and result.best_step == head["selected"]["step"]
    assert head["classes"]["l1"] == sorted(set(data.train.label_l1)) and set(head["classes"]) == {"l1", "l2"}
    tensors = [k for k, v in base_ckpt["model"].items() if torch.is_tensor(v)]
    assert tensors and all(torch.equal(ckpt["model"][k], base_ckpt["model"][k]) for k in tensors)   # frozen
    assert ckpt["config"] == base_ckpt["config"] and ckpt["encoder"] == base_ckpt["encoder"]   # rebuildable as before
    model = load_model(out / "best_model.pt")
    assert model.classifier is not None and model.classifier.selected["epoch"] == best_epoch
    emb = model.embed_windows(data.val, progress=False)
    f1 = [v["val_macro_f1_l1"] for v in val][best_epoch - 1]
    from homeclip.evaluation.metrics import classification_metrics
    predicted = model.classifier.predict(emb, "l1")
    assert classification_metrics(data.val.label_l1, predicted)["macro_f1"] == pytest.approx(f1)
    # evaluation scores it as one more method next to the others
    model.set_text_encoder(HashTextEncoder())
    home = synthetic_home()
    results = evaluate_model(model, data.train, data.val, home, FAST).results
    assert missing_keys(results) == []
    for level in ("l1", "l2"):
        methods = results["levels"][level]["methods"]
        assert methods["supervised"]["kind"] == "model" and 0.0 <= methods["supervised"]["macro_f1"] <= 1.0
    assert results["levels"]["l1"]["methods"]["supervised"]["macro_f1"] == pytest.approx(f1)
    # a CLIP checkpoint has no such method
    plain = load_model(tmp / "run" / "best_model.pt")
    plain.set_text_encoder(HashTextEncoder())
    plain_results = evaluate_model(plain, data.train, data.val, home, FAST).results
    assert "supervised" not in plain_results["levels"]["l1"]["methods"]


def test_transformer_fine_tunes_end_to_end_through_the_commands(tmp_path, capsys):
    p = tiny_run(tmp_path, "transformer")
    config = tmp_path / "supervised.json"
    config.write_text(json.dumps({"objective": "supervised", "init_checkpoint": str(p["checkpoint"]),
                                  "freeze_encoder": False, "max_epochs": 2, "batch_size": 8, "log_interval": 2,
                                  "use_wandb": False, "device": "cpu"}), encoding="utf-8")
    code = main(["train", "--config", str(config), "--train_data", str(p["train"]), "--val_data", str(p["test"]),
                 "--vocab", str(p["vocab"]), "--output_dir", str(tmp_path / "sup"), "--no-progress"])
    assert code == 0 and "trained 12 steps" in capsys.readouterr().out
    before = load_checkpoint(p["checkpoint"])["model"]
    after = load_checkpoint(tmp_path / "sup" / "best_model.pt")["model"]
    changed = {k for k in before if torch.is_tensor(before[k]) and not torch.equal(before[k], after[k])}
    assert any(k.startswith("sensor_encoder.") for k in changed)
    assert not any(k.startswith("text_projection") or k == "logit_scale" for k in changed)   # text side as trained
    r = evaluate_checkpoint(tmp_path / "sup" / "best_model.pt", p["train"], p["test"], p["vocab"], tmp_path / "eval",
                            cfg=FAST, text_encoder=FakeTextEncoder())
    assert missing_keys(r) == [] and "supervised" in r["levels"]["l2"]["methods"]
    assert "Supervised head" in (tmp_path / "eval" / "report.md").read_text()
