"""Frozen-feature cache: hit on the second run, new key on any change, resume after interruption."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from homeclip.testing import build_tiny_chronos

from homeclip.data.batches import WindowDataset
from homeclip.data.vocab import build_vocab
from homeclip.encoders.cache import cached_features, feature_cache_key, feature_cache_path
from homeclip.encoders.chronos import ChronosEncoder
from homeclip.testing import random_windowset


@pytest.fixture(scope="module")
def bolt_dir(tmp_path_factory):
    return build_tiny_chronos("bolt", tmp_path_factory.mktemp("tiny") / "bolt")


@pytest.fixture(scope="module")
def dataset():
    windows = random_windowset(30, 50, seed=1)
    return WindowDataset(windows, build_vocab(windows))


class Spy:
    """Counts backbone calls; optionally fails on call number `fail_at` (an interrupted extraction)."""

    def __init__(self, encoder, fail_at=None):
        self.calls, self.fail_at, self.inner = 0, fail_at, encoder.backbone.embed
        encoder.backbone.embed = self

    def __call__(self, series):
        self.calls += 1
        if self.calls == self.fail_at:
            raise KeyboardInterrupt("simulated interruption")
        return self.inner(series)


def _direct(encoder, ds):
    b = ds.get_batch(np.arange(len(ds)))
    return encoder.extract_features(b["categorical_features"], b["coordinates"], b["time_deltas"], b["mask"],
                                    b["time_of_day"]).numpy()


def test_second_run_hits_the_cache_and_equals_direct_features(bolt_dir, dataset, tmp_path):
    enc = ChronosEncoder(dataset.vocab.sizes, str(bolt_dir))
    spy = Spy(enc)
    first = cached_features(enc, dataset, tmp_path, batch_size=8, progress=False)
    assert spy.calls == 4 and first.shape == (30, enc.feature_dim)
    second = cached_features(enc, dataset, tmp_path, batch_size=8, progress=False)
    assert spy.calls == 4                                       # nothing recomputed
    assert isinstance(second, np.memmap) and not second.flags.writeable
    np.testing.assert_array_equal(second, first)
    np.testing.assert_allclose(second, _direct(enc, dataset), atol=1e-5, rtol=0)
    assert feature_cache_path(enc, dataset, tmp_path).with_suffix(".json").exists()
    assert not list(tmp_path.glob("*.partial*"))                # chunks cleaned up after finalising


def test_any_key_change_means_a_new_entry(bolt_dir, dataset, tmp_path):
    enc = ChronosEncoder(dataset.vocab.sizes, str(bolt_dir))
    key = feature_cache_key(enc, dataset)
    changed = random_windowset(30, 50, seed=1)
    changed.time_delta[0, 0] += 1.0                            # one event differs
    assert feature_cache_key(enc, WindowDataset(changed, dataset.vocab)) != key
    vocab2 = build_vocab(changed)
    vocab2.tokens["sensor"] = vocab2.tokens["sensor"][::-1][:-2] + vocab2.tokens["sensor"][:2]
    assert feature_cache_key(enc, WindowDataset(dataset.windows, vocab2)) != key
    tod = ChronosEncoder(dataset.vocab.sizes, str(bolt_dir), extra_channels=("time_of_day",))
    assert feature_cache_key(tod, dataset) != key
    stats = ChronosEncoder(dataset.vocab.sizes, backbone="statistics")
    assert feature_cache_key(stats, dataset) != key
    # A new key is computed, not read: features of changed data come from the backbone.
    cached_features(enc, dataset, tmp_path, progress=False)
    spy = Spy(enc)
    out = cached_features(enc, WindowDataset(changed, dataset.vocab), tmp_path, progress=False)
    assert spy.calls == 1 and out.shape == (30, enc.feature_dim)
    assert len(list(tmp_path.glob("*.npy"))) == 2


@pytest.mark.parametrize("backbone", ["chronos", "statistics"])
def test_interrupted_extraction_resumes_and_matches(bolt_dir, dataset, tmp_path, backbone):
    enc = ChronosEncoder(dataset.vocab.sizes, str(bolt_dir), backbone=backbone)
    reference = cached_features(enc, dataset, tmp_path / "ref", batch_size=4, chunk_windows=8, progress=False)
    spy = Spy(enc, fail_at=5)                                  # dies inside the third chunk (2 batches/chunk)
    with pytest.raises(KeyboardInterrupt):
        cached_features(enc, dataset, tmp_path / "run", batch_size=4, chunk_windows=8, progress=False)
    partial = list((tmp_path / "run").glob("*.partial-c8/*.npy"))
    assert len(partial) == 2 and not list((tmp_path / "run").glob("*[0-9a-f].npy"))
    spy.calls, spy.fail_at = 0, None
    resumed = cached_features(enc, dataset, tmp_path / "run", batch_size=4, chunk_windows=8, progress=False)
    assert spy.calls == 4                                      # only chunks 3 and 4 (windows 16..29)
    np.testing.assert_array_equal(resumed, reference)


def test_empty_dataset(dataset, tmp_path):
    enc = ChronosEncoder(dataset.vocab.sizes, backbone="statistics")
    empty = WindowDataset(dataset.windows.subset([]), dataset.vocab)
    out = cached_features(enc, empty, tmp_path, progress=False)
    assert out.shape == (0, enc.feature_dim)


def test_cached_features_feed_the_encoder(bolt_dir, dataset, tmp_path):
    enc = ChronosEncoder(dataset.vocab.sizes, str(bolt_dir)).eval()
    feats = cached_features(enc, dataset, tmp_path, progress=False)
    cached = WindowDataset(dataset.windows, dataset.vocab, features=feats)
    b = cached.get_batch([3, 4])
    with torch.no_grad():
        via_cache = enc(b["categorical_features"], b["coordinates"], b["time_deltas"], b["mask"],
                        features=b["features"])
        direct = enc(b["categorical_features"], b["coordinates"], b["time_deltas"], b["mask"])
    torch.testing.assert_close(via_cache, direct, atol=1e-5, rtol=0)


def _features_cli(argv):
    import argparse

    from homeclip.commands import features

    parser = argparse.ArgumentParser()
    features.add_arguments(parser)
    return features.run(parser.parse_args(argv))


def test_features_command_extracts_then_hits(bolt_dir, dataset, tmp_path, capsys):
    from homeclip.data.store import save_split

    split = tmp_path / "synthetic_train.json"
    save_split(split, dataset.windows)
    dataset.vocab.save(tmp_path / "vocab.json")
    argv = ["--data", str(split), "--vocab", str(tmp_path / "vocab.json"), "--backbone", str(bolt_dir),
            "--cache-dir", str(tmp_path / "cache"), "--batch-size", "16"]
    assert _features_cli(argv) == 0
    assert "(extracted)" in capsys.readouterr().out
    assert _features_cli(argv) == 0
    out = capsys.readouterr().out
    assert "30 windows x 330" in out and "(cached)" in out and "family bolt" in out
    enc = ChronosEncoder(dataset.vocab.sizes, str(bolt_dir))
    np.testing.assert_allclose(np.load(next((tmp_path / "cache").glob("*.npy"))), _direct(enc, dataset), atol=1e-5)


def test_features_command_bad_input(tmp_path, dataset):
    from homeclip.errors import UserError

    dataset.vocab.save(tmp_path / "vocab.json")
    with pytest.raises(UserError, match="processed split not found"):
        _features_cli(["--data", str(tmp_path / "nope.json"), "--vocab", str(tmp_path / "vocab.json"),
                       "--backbone", "statistics", "--cache-dir", str(tmp_path)])
    with pytest.raises(UserError, match="--batch-size must be at least 1"):
        _features_cli(["--data", "x.json", "--vocab", str(tmp_path / "vocab.json"), "--backbone", "statistics",
                       "--batch-size", "0"])
    with pytest.raises(UserError, match="give --backbone"):
        _features_cli(["--data", "x.json", "--vocab", str(tmp_path / "vocab.json")])


def test_features_command_reads_the_training_config(dataset, tmp_path, capsys):
    import json

    from homeclip.data.store import save_split
    from homeclip.errors import UserError

    split = tmp_path / "synthetic_val.json"
    save_split(split, dataset.windows)
    dataset.vocab.save(tmp_path / "vocab.json")
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"backbone": "statistics", "extra_channels": ["state", "time_of_day"]}))
    argv = ["--data", str(split), "--vocab", str(tmp_path / "vocab.json"), "--config", str(cfg),
            "--cache-dir", str(tmp_path / "c")]
    assert _features_cli(argv) == 0
    assert f"30 windows x {8 * 14}" in capsys.readouterr().out       # 8 channels x (4 stats + 10 points)
    cfg.write_text(json.dumps({"encoder": "transformer"}))
    with pytest.raises(UserError, match="no frozen features"):
        _features_cli(argv)


def _tamper_content(path):
    raw = bytearray(path.read_bytes())
    raw[-8:] = b"\x00\x00\xc0\x7f" * 2          # two float32 NaNs at the end: same shape, wrong features
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage, reason", [
    (_tamper_content, "does not match the stored digest"),
    (lambda p: np.save(p, np.zeros((30, 7), dtype=np.float32)), "shape (30, 7) float32"),
    (lambda p: np.save(p, np.zeros((30, 14 * 4), dtype=np.float64)), "float64"),
    (lambda p: p.write_bytes(p.read_bytes()[:200]), "unreadable array"),
    (lambda p: p.with_suffix(".json").unlink(), "no record of its key and digest"),
    (lambda p: p.with_suffix(".json").write_text('{"key": "another", "sha256": "0"}'), "another key"),
])
def test_a_damaged_entry_is_recomputed_with_a_warning_never_read(dataset, tmp_path, caplog, damage, reason):
    enc = ChronosEncoder(dataset.vocab.sizes, backbone="statistics")
    reference = np.array(cached_features(enc, dataset, tmp_path, progress=False))
    path = feature_cache_path(enc, dataset, tmp_path)
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["key"] == path.stem and record["shape"] == list(reference.shape) and record["dtype"] == "float32"
    damage(path)
    spy = Spy(enc)
    again = cached_features(enc, dataset, tmp_path, progress=False)
    assert spy.calls >= 1 and reason in caplog.text and "recomputing" in caplog.text
    np.testing.assert_array_equal(again, reference)
    spy.calls = 0
    cached_features(enc, dataset, tmp_path, progress=False)      # the rewritten entry is trusted again
    assert spy.calls == 0


def test_a_damaged_chunk_of_an_interrupted_extraction_is_redone(dataset, tmp_path, caplog):
    enc = ChronosEncoder(dataset.vocab.sizes, backbone="statistics")
    reference = cached_features(enc, dataset, tmp_path / "ref", batch_size=4, chunk_windows=8, progress=False)
    spy = Spy(enc, fail_at=5)
    with pytest.raises(KeyboardInterrupt):
        cached_features(enc, dataset, tmp_path / "run", batch_size=4, chunk_windows=8, progress=False)
    chunk = sorted((tmp_path / "run").glob("*.partial-c8/*.npy"))[0]
    np.save(chunk, np.zeros((3, 2), dtype=np.float32))           # wrong shape: must not be assembled
    spy.calls, spy.fail_at = 0, None
    resumed = cached_features(enc, dataset, tmp_path / "run", batch_size=4, chunk_windows=8, progress=False)
    assert spy.calls == 6 and "has shape (3, 2)" in caplog.text  # chunks 1, 3 and 4 (2 batches each)
    np.testing.assert_array_equal(resumed, reference)
