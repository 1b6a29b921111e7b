"""The training loop end to end on tiny synthetic data: outputs, resume equivalence, Ctrl-C, MLM, inference."""
from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest
import torch

from homeclip.data.vocab import build_vocab
from homeclip.testing import HashTextEncoder, random_windowset
from homeclip.training.checkpoint import load_checkpoint, load_model
from homeclip.training.config import TrainConfig
from homeclip.training.schedule import choose_captions, epoch_batches, lr_factor
from homeclip.training.trainer import TrainData, train
from homeclip.training.distributed import DistInfo


def tiny_data(n: int = 96, seed: int = 0) -> TrainData:
    """Synthetic train/val WindowSets and a train-only vocabulary."""
    ws = random_windowset(n, seed=seed)
    return TrainData(ws.select_split("train"), ws.select_split("val"), build_vocab(ws))


def tiny_config(tmp_path, **overrides) -> TrainConfig:
    """A run that takes seconds: statistics backbone on the frozen-feature cache, small head."""
    values = dict(encoder="chronos", backbone="statistics", batch_size=8, max_epochs=2, output_dim=16,
                  projection_hidden_dim=16, projection_dropout=0.1, log_interval=2, val_interval=4,
                  save_interval=4, use_wandb=False, output_dir=str(tmp_path / "run"),
                  feature_cache_dir=str(tmp_path / "features"), text_cache_dir=str(tmp_path / "text"),
                  device="cpu")
    values.update(overrides)
    return TrainConfig(**values)


def weights(path) -> dict:
    return load_checkpoint(path)["model"]


def assert_same_weights(a: dict, b: dict) -> None:
    tensors = [k for k in a if torch.is_tensor(a[k])]
    assert tensors and set(a) == set(b)
    for k in tensors:
        assert torch.equal(a[k], b[k]), k


def test_run_writes_every_output(tmp_path):
    cfg = tiny_config(tmp_path, use_wandb=True, use_amp=True)
    text = HashTextEncoder()
    data = tiny_data()
    data.val = None
    result = train(cfg, data=data, text_encoder=text, progress=False)
    out = tmp_path / "run"
    steps_per_epoch = len(epoch_batches(48, 8, 0, 0, DistInfo()))
    assert result.steps == 2 * steps_per_epoch == 12
    names = {p.name for p in out.iterdir()}
    assert {"best_model.pt", "final_model.pt", "hyperparameters.json", "run_summary.txt", "metrics.jsonl",
            "tb", "checkpoint_step_4.pt", "checkpoint_step_8.pt", "checkpoint_step_12.pt"} <= names
    assert any(p.name.startswith("events.out.tfevents") for p in (out / "tb").iterdir())
    assert len(text.calls) == 1   # every distinct caption embedded once, in one call
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    train_lines = [x for x in lines if "loss" in x]
    assert [x["step"] for x in train_lines] == [2, 4, 6, 8, 10, 12]
    for x in train_lines:
        assert {"step", "epoch", "loss", "acc_s2t", "acc_t2s", "temperature", "lr"} <= set(x)
        assert 0.0 <= x["acc_s2t"] <= 1.0 and 0.01 <= x["temperature"] <= 1.0 and np.isfinite(x["loss"])
    assert train_lines[-1]["lr"] == pytest.approx(0.0, abs=1e-12)   # cosine ends at zero
    hp = json.loads((out / "hyperparameters.json").read_text())
    assert hp["backbone"]["used"] == "statistics" and hp["text_encoder"]["used"] == HashTextEncoder.model_used
    assert hp["config"]["batch_size"] == 8 and hp["versions"]["torch"] and hp["windows"]["val"] == 0
    assert hp["amp"] == {"requested": True, "active": False, "dtype": "bfloat16"}   # CPU: AMP is a no-op
    summary = (out / "run_summary.txt").read_text()
    assert "used statistics" in summary and "trainable" in summary and "no validation data" in summary


def test_validation_picks_best_and_metrics_have_val_loss(tmp_path):
    data = tiny_data()
    cfg = tiny_config(tmp_path, max_epochs=3)
    result = train(cfg, data=data, text_encoder=HashTextEncoder(), progress=False)
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    vals = [x for x in lines if "val_loss" in x]
    assert [x["step"] for x in vals] == [4, 8, 12, 16, 18]   # every val_interval and at the end
    best = min(vals, key=lambda x: x["val_loss"])
    assert result.best_step == best["step"] and result.best_val_loss == pytest.approx(best["val_loss"])
    assert load_checkpoint(tmp_path / "run" / "best_model.pt")["step"] == best["step"]


def test_interrupt_and_resume_equals_uninterrupted_run(tmp_path):
    data = tiny_data()
    full = tiny_config(tmp_path / "a", use_hard_negatives=True, hard_negative_memory_size=20,
                       hard_negative_strategy="random", save_interval=100)
    train(full, data=data, text_encoder=HashTextEncoder(), progress=False)

    def ctrl_c_at_step_5(step):
        if step == 5:
            os.kill(os.getpid(), signal.SIGINT)   # a real Ctrl-C: the trainer finishes the step and saves

    part = tiny_config(tmp_path / "b", use_hard_negatives=True, hard_negative_memory_size=20,
                       hard_negative_strategy="random", save_interval=100)
    before = signal.getsignal(signal.SIGINT)   # default_int_handler, or SIG_IGN in a background job
    with pytest.raises(KeyboardInterrupt):
        train(part, data=data, text_encoder=HashTextEncoder(), progress=False, on_step=ctrl_c_at_step_5)
    run_b = tmp_path / "b" / "run"
    assert (run_b / "checkpoint_step_5.pt").is_file() and not (run_b / "final_model.pt").exists()
    assert signal.getsignal(signal.SIGINT) is before   # the caller's handler is restored
    result = train(part, data=data, text_encoder=HashTextEncoder(), progress=False, resume="auto")
    assert result.steps == 12
    assert_same_weights(weights(tmp_path / "a" / "run" / "final_model.pt"), weights(run_b / "final_model.pt"))
    # metrics of the resumed run: no step twice, same values as the uninterrupted run
    la = (tmp_path / "a" / "run" / "metrics.jsonl").read_text().splitlines()
    lb = (run_b / "metrics.jsonl").read_text().splitlines()
    assert lb == la and len(la) == 6 + 3   # train lines every 2 steps, val lines every 4 and at the end


def test_same_seed_same_result_other_seed_differs(tmp_path):
    data = tiny_data()
    finals = []
    for name, seed in (("x", 3), ("y", 3), ("z", 4)):
        train(tiny_config(tmp_path / name, seed=seed, max_epochs=1), data=data, text_encoder=HashTextEncoder(),
              progress=False)
        finals.append(weights(tmp_path / name / "run" / "final_model.pt"))
    assert_same_weights(finals[0], finals[1])
    assert not torch.equal(finals[0]["text_projection.weight"], finals[2]["text_projection.weight"])


def test_resume_errors(tmp_path):
    from homeclip.errors import UserError

    cfg = tiny_config(tmp_path, max_epochs=1)
    with pytest.raises(UserError, match="no checkpoint_step"):
        train(cfg, data=tiny_data(), text_encoder=HashTextEncoder(), progress=False, resume="auto")
    train(cfg, data=tiny_data(), text_encoder=HashTextEncoder(), progress=False)
    with pytest.raises(UserError, match="no training state"):
        train(cfg, data=tiny_data(), text_encoder=HashTextEncoder(), progress=False,
              resume=tmp_path / "run" / "final_model.pt")


def test_transformer_trains_with_masked_field_loss_and_no_padding_masked(tmp_path):
    data = tiny_data()
    cfg = tiny_config(tmp_path, encoder="transformer", mlm_weight=0.5, max_epochs=1, batch_size=12,
                      transformer={"d_model": 16, "n_layers": 1, "n_heads": 2, "d_ff": 32})
    train(cfg, data=data, text_encoder=HashTextEncoder(), progress=False)
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    lines = [x for x in lines if "loss" in x]
    assert lines and all("mlm_loss" in x and x["mlm_loss"] > 0 for x in lines)
    assert all(x["loss"] == pytest.approx(x["clip_loss"] + 0.5 * x["mlm_loss"], rel=1e-5) for x in lines)
    trained = load_model(tmp_path / "run" / "final_model.pt")
    assert trained.meta["encoder"] == "transformer"
    from homeclip.data.batches import WindowDataset

    batch = WindowDataset(data.train, trained.vocab).get_batch(list(range(12)))
    _, selected = trained.model.sensor_encoder.mask_inputs(batch["categorical_features"], batch["mask"],
                                                            torch.Generator().manual_seed(0))
    assert selected.any() and not (selected & ~batch["mask"]).any()


@pytest.mark.parametrize("encoder", ["chronos", "transformer"])
def test_load_model_embeds_windows_and_texts(tmp_path, encoder):
    data = tiny_data()
    cfg = tiny_config(tmp_path, encoder=encoder, max_epochs=1,
                      transformer={"d_model": 16, "n_layers": 1, "n_heads": 2, "d_ff": 32})
    train(cfg, data=data, text_encoder=HashTextEncoder(), progress=False)
    trained = load_model(tmp_path / "run" / "best_model.pt")
    trained.set_text_encoder(HashTextEncoder())
    emb = trained.embed_windows(data.val, batch_size=7, cache_dir=tmp_path / "features", progress=False)
    assert emb.shape == (len(data.val), 16)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    again = trained.embed_windows(data.val.subset(list(range(5))), batch_size=256, progress=False)
    np.testing.assert_allclose(again, emb[:5], atol=1e-5)   # batch size and cache do not change embeddings
    texts = trained.embed_texts(["kitchen activity", "bedroom activity"])
    assert texts.shape == (2, 16)
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)
    assert trained.meta["text_encoder"]["used"] == HashTextEncoder.model_used


def test_skipped_windows_without_captions_are_counted(tmp_path):
    data = tiny_data()
    for i in range(5):
        data.train.captions[i] = {"short": ["only short"]}
    train(tiny_config(tmp_path, max_epochs=1), data=data, text_encoder=HashTextEncoder(), progress=False)
    hp = json.loads((tmp_path / "run" / "hyperparameters.json").read_text())
    assert hp["skipped"]["train_windows_without_captions"] == 5 and hp["windows"]["train"] == 43


def test_choose_captions_is_a_deterministic_uniform_draw():
    ids = torch.tensor([[0, 1, 2, 3], [4, 5, -1, -1], [6, -1, -1, -1]])
    counts = torch.tensor([4, 2, 1])
    windows = torch.tensor([0, 1, 2])
    picks = torch.stack([choose_captions(ids, counts, windows, 0, s) for s in range(4000)])
    assert (picks[:, 2] == 6).all() and set(picks[:, 1].tolist()) == {4, 5}
    freq = torch.bincount(picks[:, 0], minlength=4)[:4].float() / 4000
    assert torch.all((freq - 0.25).abs() < 0.04)
    # the draw for a window depends on (seed, step, window), not on the rest of the batch
    alone = choose_captions(ids, counts, torch.tensor([1]), 0, 17)
    assert alone.item() == choose_captions(ids, counts, windows, 0, 17)[1].item()
    assert not torch.equal(picks[:50, 0], torch.stack([choose_captions(ids, counts, windows, 1, s)
                                                       for s in range(50)])[:, 0])


def test_lr_schedule_warms_up_then_decays_to_zero():
    f = [lr_factor(s, 10, 100) for s in range(100)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0) and f[10] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(f[10:], f[11:])) and f[-1] < 0.001
    assert lr_factor(0, 0, 10) == pytest.approx(1.0)


def test_epoch_batches_shard_and_drop_incomplete():
    one = epoch_batches(50, 8, 0, 0, DistInfo())
    assert len(one) == 6 and all(len(b) == 8 for b in one) and len(set(np.concatenate(one))) == 48
    assert not np.array_equal(np.concatenate(one), np.concatenate(epoch_batches(50, 8, 1, 0, DistInfo())))
    r0 = epoch_batches(50, 8, 0, 0, DistInfo(0, 2, 0))
    r1 = epoch_batches(50, 8, 0, 0, DistInfo(1, 2, 0))
    assert len(r0) == len(r1) == 3 and not set(np.concatenate(r0)) & set(np.concatenate(r1))
    assert [len(b) for b in epoch_batches(5, 8, 0, 0, DistInfo())] == [5]   # smaller than a batch: one batch


def test_command_trains_from_files_with_the_real_store_and_text_encoder(tmp_path, monkeypatch):
    """`homeclip train` end to end: processed files on disk, overrides, the offline MiniLM text encoder."""
    import argparse

    from homeclip.commands import train as train_command
    from homeclip.data.store import save_split

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    data = tiny_data()
    save_split(tmp_path / "d_train.json", data.train)
    save_split(tmp_path / "d_val.json", data.val)
    data.vocab.save(tmp_path / "d_vocab.json")
    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    config = os.path.join(os.path.dirname(__file__), "..", "configs", "training", "milan", "tiny.json")
    args = parser.parse_args([
        "--config", config, "--train_data", str(tmp_path / "d_train.json"), "--val_data", str(tmp_path / "d_val.json"),
        "--vocab", str(tmp_path / "d_vocab.json"), "--output_dir", str(tmp_path / "run"), "--device", "cpu",
        "--set", "text_model_name=offline", "--set", "max_epochs=1", "--set", f"text_cache_dir={tmp_path / 'text'}",
        "--set", f"feature_cache_dir={tmp_path / 'features'}", "--no-progress"])
    assert train_command.run(args) == 0
    hp = json.loads((tmp_path / "run" / "hyperparameters.json").read_text())
    assert hp["data_files"]["train"]["sha256"] and set(hp["data_files"]) == {"train", "val", "vocab"}
    assert hp["text_encoder"]["dim"] == 384 and hp["config"]["max_epochs"] == 1
    trained = load_model(tmp_path / "run" / "best_model.pt")
    texts = trained.embed_texts(["someone cooks in the kitchen"])
    assert texts.shape == (1, 64) and abs(float(np.linalg.norm(texts)) - 1.0) < 1e-5


def test_extra_channels_train_and_the_features_command_fills_the_same_cache(tmp_path):
    """The optional state and time-of-day channels reach the encoder in training (state signs come from the
    vocabulary), and `homeclip features --config` writes exactly the cache entries training then reads."""
    from homeclip.cli import main
    from homeclip.data.store import save_split

    data = tiny_data()
    cfg = tiny_config(tmp_path, extra_channels=["state", "time_of_day"])
    save_split(tmp_path / "syn_train.json", data.train)
    data.vocab.save(tmp_path / "syn_vocab.json")
    (tmp_path / "cfg.json").write_text(json.dumps({"backbone": "statistics", "extra_channels": ["state", "time_of_day"],
                                                    "feature_cache_dir": cfg.feature_cache_dir}))
    assert main(["features", "--data", str(tmp_path / "syn_train.json"), "--vocab", str(tmp_path / "syn_vocab.json"),
                 "--config", str(tmp_path / "cfg.json")]) == 0
    cached = sorted((tmp_path / "features").rglob("*.npy"))
    assert len(cached) == 1
    result = train(cfg, data=data, text_encoder=HashTextEncoder(), progress=False)
    assert result.steps > 0
    ckpt = load_checkpoint(tmp_path / "run" / "final_model.pt")
    config = ckpt["encoder"]["config"]
    assert config["extra_channels"] == ["state", "time_of_day"]
    assert {-1.0, 1.0} <= set(config["state_values"]) <= {-1.0, 0.0, 1.0}   # ON/OFF signs from the vocabulary
    # Training reused the entry written by `homeclip features` for the train split and added only val's.
    after = sorted((tmp_path / "features").rglob("*.npy"))
    assert cached[0] in after and len(after) == 2


def test_logged_loss_is_the_mean_over_the_logging_interval(tmp_path):
    """Every metrics line averages the steps since the previous one (here: steps 1-3, 4-6, ...), not one batch."""
    data = tiny_data()
    per_step, per_3 = (tiny_config(tmp_path / name, log_interval=interval, val_interval=1000, save_interval=1000)
                       for name, interval in (("one", 1), ("three", 3)))
    train(per_step, data=data, text_encoder=HashTextEncoder(), progress=False)
    train(per_3, data=data, text_encoder=HashTextEncoder(), progress=False)
    one = [json.loads(x) for x in (tmp_path / "one" / "run" / "metrics.jsonl").read_text().splitlines()]
    three = [json.loads(x) for x in (tmp_path / "three" / "run" / "metrics.jsonl").read_text().splitlines()]
    one = [x for x in one if "loss" in x]
    three = [x for x in three if "loss" in x]
    assert [x["step"] for x in three] == [3, 6, 9, 12]
    for line in three:
        window = [x for x in one if line["step"] - 3 < x["step"] <= line["step"]]
        for key in ("loss", "clip_loss", "acc_s2t", "acc_t2s"):
            assert line[key] == pytest.approx(np.mean([x[key] for x in window]), rel=1e-5), key
    assert three[0]["loss"] != pytest.approx(one[2]["loss"])      # not the last batch alone
