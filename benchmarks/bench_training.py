"""Training benchmark: seconds per epoch on the frozen-feature cache vs recomputing backbone features each step.

Setting (Milan scale, the seed config `configs/training/milan/chronos_clip.json`, batch 64):
  * ~35k training windows (`homeclip.testing.random_windowset`: same shapes as a prepared Milan split; captions
    are few distinct texts, which only matters for the one-time text embedding, not for epochs);
  * the chronos-bolt-small architecture with RANDOM weights (built offline by homeclip.testing; no hub);
  * a stand-in frozen text encoder of gte-base's size (768-d): caption embeddings are computed once either way.

Recompute path: a few real training steps with the backbone run on every batch, extrapolated to one epoch.
Cache path: the real `Trainer.run()` for the config's 50 epochs (validation, logging, checkpoints included)
on a pre-filled feature cache of the backbone's true feature size, so it does not wait ~10 minutes for the
one-time extraction; that one-time cost is measured on a sample and extrapolated separately.

    .venv/bin/python benchmarks/bench_training.py                 # full size
    .venv/bin/python benchmarks/bench_training.py --windows 5000  # quicker
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"speedup": 20.0, "epochs_50_s": 60.0}


class StandInTextEncoder:
    """gte-base-sized (768-d) frozen text embeddings: a fixed random unit vector per distinct text."""

    dim = 768
    model_used = "stand-in 768-d text encoder (benchmark)"
    fallback_reason = None

    def encode(self, texts, progress=False):
        rows = [np.random.default_rng(int(hashlib.sha256(t.encode()).hexdigest()[:12], 16)).normal(size=self.dim)
                for t in texts]
        out = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def info(self):
        return {"requested": "stand-in", "used": self.model_used, "fallback_reason": None, "dim": self.dim}


def build_bolt_small(path: Path) -> Path:
    """The chronos-bolt-small architecture with random weights, saved where from_pretrained can load it."""
    from homeclip.testing import chronos_model

    if not (path / "config.json").exists():
        chronos_model("bolt", "published").save_pretrained(path)
    return path


def make_config(work: Path, model_dir: Path, **overrides):
    from homeclip.training.config import load_config

    return load_config(ROOT / "configs" / "training" / "milan" / "chronos_clip.json", {
        "chronos_model_name": str(model_dir), "allow_fallback": False, "use_wandb": False, "device": "cpu",
        "output_dir": str(work / "run"), "feature_cache_dir": str(work / "features"), **overrides})


def prefill_cache(cfg, data) -> tuple[float, int]:
    """Write features of the true shape where the cache looks for them; return the measured seconds per window
    of real extraction (on 256 windows) for the one-time cost estimate."""
    from homeclip.data.batches import WindowDataset
    from homeclip.encoders.cache import feature_cache_path
    from homeclip.training.model import build_sensor_encoder

    encoder = build_sensor_encoder(cfg, data.vocab.sizes)
    rng = np.random.default_rng(0)
    for ws in (data.train, data.val):
        ds = WindowDataset(ws, data.vocab, caption_types=cfg.caption_types, max_captions=cfg.max_captions)
        path = feature_cache_path(encoder, ds, cfg.feature_cache_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, rng.normal(size=(len(ws), encoder.feature_dim)).astype(np.float32))
    sample = WindowDataset(data.train.subset(list(range(256))), data.vocab)
    batch = sample.get_batch(list(range(256)))
    t0 = time.perf_counter()
    for start in range(0, 256, 64):
        idx = slice(start, start + 64)
        encoder.extract_features({k: v[idx] for k, v in batch["categorical_features"].items()},
                                 batch["coordinates"][idx], batch["time_deltas"][idx], batch["mask"][idx],
                                 batch["time_of_day"][idx])
    return (time.perf_counter() - t0) / 256, encoder.feature_dim


def time_recompute_steps(cfg, data, text, steps: int) -> float:
    """Seconds per training step when the backbone runs on every batch (after one warm-up step)."""
    from homeclip.training.distributed import DistInfo
    from homeclip.training.trainer import Trainer, epoch_batches

    trainer = Trainer(cfg, data, text_encoder=text, progress=False)
    batches = epoch_batches(len(trainer.train_set), cfg.batch_size, 0, cfg.seed, DistInfo())[: steps + 1]
    it = trainer._batches(batches)
    trainer.model.train()
    index, inputs = next(it)
    trainer._train_step(index, inputs)
    t0 = time.perf_counter()
    for index, inputs in it:
        trainer._train_step(index, inputs)
    return (time.perf_counter() - t0) / steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=35_000, help="training windows (default 35000)")
    parser.add_argument("--val-windows", type=int, default=5_000, help="validation windows (default 5000)")
    parser.add_argument("--recompute-steps", type=int, default=5, help="timed steps of the recompute path")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    import torch

    from homeclip.data.vocab import build_vocab
    from homeclip.testing import random_windowset
    from homeclip.training.trainer import TrainData, Trainer

    ws = random_windowset(args.windows + args.val_windows, seed=0)
    ws.split[:] = "train"
    ws.split[args.windows:] = "val"
    data = TrainData(ws.select_split("train"), ws.select_split("val"), build_vocab(ws))
    text = StandInTextEncoder()
    with tempfile.TemporaryDirectory(prefix="bench_training_") as tmp:
        work = Path(tmp)
        model_dir = build_bolt_small(work / "bolt-small-random")
        cached_cfg = make_config(work, model_dir)
        extract_s_per_window, feature_dim = prefill_cache(cached_cfg, data)

        recompute_cfg = make_config(work, model_dir, feature_cache=False, output_dir=str(work / "run_recompute"))
        recompute_step_s = time_recompute_steps(recompute_cfg, data, text, args.recompute_steps)

        trainer = Trainer(cached_cfg, data, text_encoder=text, progress=False)
        t0 = time.perf_counter()
        result = trainer.run()
        cached_total_s = time.perf_counter() - t0
    steps_per_epoch = trainer.steps_per_epoch
    cached_epoch_s = cached_total_s / cached_cfg.max_epochs
    recompute_epoch_s = recompute_step_s * steps_per_epoch
    figures = {
        "train_windows": len(data.train), "val_windows": len(data.val), "batch_size": cached_cfg.batch_size,
        "steps_per_epoch": steps_per_epoch, "epochs": cached_cfg.max_epochs, "feature_dim": feature_dim,
        "recompute_s_per_step": recompute_step_s, "recompute_epoch_s_extrapolated": recompute_epoch_s,
        "cached_epoch_s": cached_epoch_s, "cached_50_epochs_s": cached_total_s,
        "speedup": recompute_epoch_s / cached_epoch_s,
        "one_time_extraction_s_estimate": extract_s_per_window * (len(data.train) + len(data.val)),
        "final_loss": result.final_loss, "best_val_loss": result.best_val_loss,
        "torch_threads": torch.get_num_threads(),
    }
    print(f"Training benchmark: chronos-bolt-small architecture (random weights), {len(data.train)} train / "
          f"{len(data.val)} val windows, batch {cached_cfg.batch_size}, {steps_per_epoch} steps/epoch, "
          f"{torch.get_num_threads()} threads")
    print(f"{'':34s}{'recompute every step':>22s}{'frozen-feature cache':>22s}")
    print(f"{'seconds per step':34s}{recompute_step_s:22.4f}{cached_epoch_s / steps_per_epoch:22.5f}")
    print(f"{'seconds per epoch':34s}{recompute_epoch_s:22.1f}{cached_epoch_s:22.2f}")
    print(f"{'seconds for 50 epochs':34s}{recompute_epoch_s * 50:22.0f}{cached_total_s:22.1f}")
    print(f"speed-up with the cache: {figures['speedup']:.0f}x (target >= {TARGETS['speedup']:.0f}x); "
          f"50 epochs on the cache: {cached_total_s:.1f} s (target <= {TARGETS['epochs_50_s']:.0f} s)")
    print(f"recompute epoch extrapolated from {args.recompute_steps} timed steps; the cache path ran all "
          f"{result.steps} steps (validation every {cached_cfg.val_interval}, checkpoints every "
          f"{cached_cfg.save_interval}) on pre-filled features of the true size ({feature_dim} columns).")
    print(f"one-time feature extraction (measured on 256 windows, extrapolated): "
          f"{figures['one_time_extraction_s_estimate']:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    ok = figures["speedup"] >= TARGETS["speedup"] and cached_total_s <= TARGETS["epochs_50_s"]
    print("targets met" if ok else "targets NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
