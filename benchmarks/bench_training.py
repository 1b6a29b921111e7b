"""Training benchmark: seconds per epoch on the frozen-feature cache vs recomputing backbone features each step.

Setting (Milan scale, batch 64, `configs/training/milan/chronos_clip.json` with RANDOM-weight backbones built
offline by homeclip.testing — no hub):
  * ~35k training windows (`homeclip.testing.random_windowset`: the shapes of a prepared Milan split);
  * a stand-in frozen text encoder of gte-base's size (768-d): caption embeddings are computed once either way.

Measured side by side in one run:
  1. cache vs recompute, chronos-bolt-small architecture: a few real steps with the backbone run on every batch
     (extrapolated to an epoch) vs one real epoch of `Trainer.run()` on the cache;
  2. the seed config's 50 epochs on the cache (chronos-t5-small architecture, its true feature size), the
     real `Trainer.run()` with validation, logging and checkpoints;
  3. the floor: a bare eager-PyTorch step of the same shapes (MLP head + text projection + InfoNCE + clip +
     fused AdamW) with no data, logging or bookkeeping — what this CPU can do at batch 64 at all.
Features are pre-filled at their true size instead of waiting ~10 minutes for the one-time extraction; that
one-time cost is measured on a sample and extrapolated.

    .venv/bin/python benchmarks/bench_training.py                 # full size (about 6 minutes)
    .venv/bin/python benchmarks/bench_training.py --windows 5000  # quicker
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"speedup": 20.0, "epochs_50_s": 60.0}


def build_published(family: str, path: Path) -> Path:
    """A published Chronos architecture ("bolt" = bolt-small, "t5" = t5-small) with random weights, saved where
    from_pretrained can load it."""
    from homeclip.testing import chronos_model

    if not (path / "config.json").exists():
        chronos_model(family, "published").save_pretrained(path)
    return path


def floor_step_seconds(feature_dim: int, text_dim: int, batch: int = 64, steps: int = 200) -> float:
    """Seconds per step of the bare eager-PyTorch computation a cached-feature step must do at least."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    head = torch.nn.Sequential(torch.nn.Linear(feature_dim, 256), torch.nn.GELU(), torch.nn.Dropout(0.1),
                               torch.nn.Linear(256, 512))
    proj = torch.nn.Linear(text_dim, 512)
    scale = torch.nn.Parameter(torch.tensor(3.9))
    params = [*head.parameters(), *proj.parameters(), scale]
    opt = torch.optim.AdamW(params, lr=1e-3, fused=True)
    x, t, y = torch.randn(batch, feature_dim), torch.randn(batch, text_dim), torch.arange(batch)

    def step() -> None:
        logits = scale.exp() * F.normalize(head(x), dim=-1) @ F.normalize(proj(t), dim=-1).T
        loss = (F.cross_entropy(logits, y) + F.cross_entropy(logits.T, y)) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0, foreach=True)
        opt.step()

    for _ in range(20):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps


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

    encoder = build_sensor_encoder(cfg, data.vocab)
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
    from homeclip.training.schedule import epoch_batches
    from homeclip.training.trainer import Trainer

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
    from homeclip.testing import HashTextEncoder, random_windowset
    from homeclip.training.trainer import TrainData, Trainer

    ws = random_windowset(args.windows + args.val_windows, seed=0)
    ws.split[:] = "train"
    ws.split[args.windows:] = "val"
    data = TrainData(ws.select_split("train"), ws.select_split("val"), build_vocab(ws))
    text = HashTextEncoder(dim=768, name="stand-in 768-d text encoder (benchmark)")   # gte-base size
    with tempfile.TemporaryDirectory(prefix="bench_training_") as tmp:
        work = Path(tmp)
        # 1. cache vs recompute on chronos-bolt-small
        bolt_dir = build_published("bolt", work / "bolt-small-random")
        bolt_cfg = make_config(work, bolt_dir, max_epochs=1, output_dir=str(work / "run_bolt"))
        extract_s_per_window, bolt_dim = prefill_cache(bolt_cfg, data)
        recompute_cfg = make_config(work, bolt_dir, feature_cache=False, output_dir=str(work / "run_recompute"))
        recompute_step_s = time_recompute_steps(recompute_cfg, data, text, args.recompute_steps)
        trainer = Trainer(bolt_cfg, data, text_encoder=text, progress=False)
        t0 = time.perf_counter()
        trainer.run()
        bolt_epoch_s = time.perf_counter() - t0
        steps_per_epoch = trainer.steps_per_epoch
        # 2. the seed config (chronos-t5-small), 50 epochs on the cache
        t5_dir = build_published("t5", work / "t5-small-random")
        seed_cfg = make_config(work, t5_dir, output_dir=str(work / "run_seed"))
        _, t5_dim = prefill_cache(seed_cfg, data)
        trainer = Trainer(seed_cfg, data, text_encoder=text, progress=False)
        t0 = time.perf_counter()
        result = trainer.run()
        seed_total_s = time.perf_counter() - t0
    # 3. the floor of a cached step at the seed config's shapes
    floor_s = floor_step_seconds(t5_dim, text.dim, seed_cfg.batch_size)
    recompute_epoch_s = recompute_step_s * steps_per_epoch
    seed_steps = result.steps
    figures = {
        "train_windows": len(data.train), "val_windows": len(data.val), "batch_size": seed_cfg.batch_size,
        "steps_per_epoch": steps_per_epoch, "torch_threads": torch.get_num_threads(),
        "bolt_feature_dim": bolt_dim, "recompute_s_per_step": recompute_step_s,
        "recompute_epoch_s_extrapolated": recompute_epoch_s, "cached_epoch_s": bolt_epoch_s,
        "speedup": recompute_epoch_s / bolt_epoch_s,
        "seed_config_feature_dim": t5_dim, "seed_config_epochs": seed_cfg.max_epochs,
        "seed_config_cached_total_s": seed_total_s, "seed_config_s_per_step": seed_total_s / seed_steps,
        "floor_s_per_step": floor_s, "floor_total_s": floor_s * seed_steps,
        "one_time_extraction_s_estimate": extract_s_per_window * (len(data.train) + len(data.val)),
        "final_loss": result.final_loss, "best_val_loss": result.best_val_loss,
    }
    print(f"Training benchmark: {len(data.train)} train / {len(data.val)} val windows, batch "
          f"{seed_cfg.batch_size}, {steps_per_epoch} steps/epoch, {torch.get_num_threads()} threads")
    print(f"\n1. chronos-bolt-small architecture ({bolt_dim} features){'recompute every step':>22s}"
          f"{'frozen-feature cache':>22s}")
    print(f"{'   seconds per step':48s}{recompute_step_s:22.4f}{bolt_epoch_s / steps_per_epoch:22.5f}")
    print(f"{'   seconds per epoch':48s}{recompute_epoch_s:22.1f}{bolt_epoch_s:22.2f}")
    print(f"   speed-up with the cache: {figures['speedup']:.0f}x (target >= {TARGETS['speedup']:.0f}x); recompute "
          f"extrapolated from {args.recompute_steps} timed steps, the cache epoch ran in full")
    print(f"\n2. seed config (chronos-t5-small architecture, {t5_dim} features), {seed_cfg.max_epochs} epochs "
          f"= {seed_steps} steps on the cache:")
    print(f"{'':48s}{'Trainer.run()':>22s}{'bare eager step':>22s}")
    print(f"{'   seconds per step':48s}{seed_total_s / seed_steps:22.5f}{floor_s:22.5f}")
    print(f"{'   seconds for all epochs':48s}{seed_total_s:22.1f}{floor_s * seed_steps:22.1f}")
    print(f"   target <= {TARGETS['epochs_50_s']:.0f} s; the trainer runs at {floor_s * seed_steps / seed_total_s:.0%} "
          f"of the bare eager-PyTorch step's speed on this CPU")
    print(f"\none-time feature extraction, bolt-small (measured on 256 windows, extrapolated): "
          f"{figures['one_time_extraction_s_estimate']:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    ok = figures["speedup"] >= TARGETS["speedup"] and seed_total_s <= TARGETS["epochs_50_s"]
    print("targets met" if ok else "targets NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
