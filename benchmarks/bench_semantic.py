"""Semantic event fields: which inputs make an encoder work in its own home and in a home it never saw.

Prepares two simulated homes of different layouts (milan, aruba) and, when ../shared/data is present,
AL-Smarthome; trains each variant briefly (offline MiniLM text encoder, statistics backbone for the Chronos
encoder) and prints linear-probe and zero-shot macro-F1 (L1, test days) in-home and across homes, next to
bag-of-sensors. Then measures frozen-feature throughput of each Chronos channel layout.

    .venv/bin/python benchmarks/bench_semantic.py [--epochs 8] [--days 10] [--max-captions 2] [--out runs/semantic] [--skip-quality]

Quick runs on a shared CPU: the numbers choose between variants; they are not the project's results."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
TRANSFER = ROOT / "configs" / "training" / "transfer"
MILAN = ROOT / "configs" / "training" / "milan"
CHANNELS = ["state", "time_of_day"]

# name -> (config, overrides)
VARIANTS = {
    "chronos/original": (MILAN / "statistics_clip.json", {"extra_channels": CHANNELS}),
    "chronos/activity": (TRANSFER / "chronos_semantic.json", {"semantic_channels": "activity"}),
    "chronos/compact": (TRANSFER / "chronos_semantic.json", {"semantic_channels": "compact"}),
    "transformer/original": (MILAN / "transformer_clip_mlm.json", {}),
    "transformer/semantic": (TRANSFER / "transformer_semantic.json", {}),
}
# (train homes, evaluation home): in-home when the evaluation home is among the training homes.
RUNS = [(("milan",), "milan"), (("milan",), "aruba"), (("aruba",), "milan"), (("alsmarthome",), "alsmarthome"),
        (("milan", "aruba"), "alsmarthome")]


def prepare(out: Path, days: int) -> dict[str, Path]:
    """home -> prepared folder (simulated milan/aruba; AL-Smarthome when the shared data is there)."""
    from homeclip.data.homes import load_home
    from homeclip.data.prepare import prepare_dataset
    from homeclip.data.simulate import write_simulated_log
    from homeclip.data.windows import WindowConfig

    dirs = {}
    sources = {h: None for h in ("milan", "aruba")}
    if (SHARED / "casas" / "al_smarthome" / "data.txt").is_file():
        sources["alsmarthome"] = SHARED / "casas" / "al_smarthome" / "data.txt"
    for home, raw in sources.items():
        folder = out / "data" / home
        if not (folder / f"{home}_test.json").is_file():
            if raw is None:
                raw = write_simulated_log(out / "raw" / f"{home}.txt", load_home(home), days, seed=1)
            # Windows of 50 events with stride 25 (as benchmarks/real_data.py): half the captions to embed.
            prepare_dataset(raw, home, folder, window=WindowConfig(length=50, stride=25), progress=False)
        dirs[home] = folder
    return dirs


def quality(args, dirs: dict[str, Path]) -> list[dict]:
    """Train every variant on every run's training homes and evaluate on its evaluation home."""
    from homeclip.evaluation.evaluate import EvalConfig, evaluate_checkpoint
    from homeclip.training.config import load_config
    from homeclip.training.trainer import train

    rows = []
    for name, (config, overrides) in VARIANTS.items():
        for homes, target in RUNS:
            if any(h not in dirs for h in homes + (target,)):
                continue
            tag = f"{'+'.join(homes)}"
            run = Path(args.out) / "models" / name.replace("/", "_") / tag
            paths = {split: [str(dirs[h] / f"{h}_{split}.json") for h in homes] for split in ("train", "val", "vocab")}
            cfg = load_config(config, {
                "train_data_path": paths["train"], "val_data_path": paths["val"], "vocab_path": paths["vocab"],
                "output_dir": str(run), "max_epochs": args.epochs, "use_wandb": False, "seed": 0, "device": "cpu",
                "text_model_name": "offline", "text_cache_dir": str(Path(args.out) / "cache" / "text"),
                "feature_cache_dir": str(Path(args.out) / "cache" / "features"), "max_captions": args.max_captions,
                **overrides})
            if not (run / "best_model.pt").is_file():
                train(cfg, progress=False)
            t = time.perf_counter()
            res = evaluate_checkpoint(run / "best_model.pt", dirs[target] / f"{target}_train.json",
                                      dirs[target] / f"{target}_test.json", None,
                                      Path(args.out) / "eval" / name.replace("/", "_") / f"{tag}_on_{target}",
                                      home=target, cfg=EvalConfig(figures=False, progress=False))
            m = res["levels"]["l1"]["methods"]
            row = {"variant": name, "train": tag, "eval": target, "in_home": target in homes,
                   **{k: round(m[k]["macro_f1"], 3) for k in ("linear_probe", "zeroshot", "bag_of_sensors", "majority")},
                   "eval_s": round(time.perf_counter() - t, 1)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def throughput(n: int = 512) -> list[dict]:
    """Frozen features per second of each channel layout: statistics and a tiny random Chronos-2."""
    import tempfile

    import numpy as np
    import torch

    from homeclip.data.batches import WindowDataset
    from homeclip.data.vocab import build_vocab
    from homeclip.encoders.chronos import ChronosEncoder
    from homeclip.encoders.series import state_signs
    from homeclip.testing import build_tiny_chronos, random_windowset

    torch.set_num_threads(1)
    ws = random_windowset(n, 50, seed=0)
    vocab = build_vocab(ws)
    batch = WindowDataset(ws, vocab).get_batch(np.arange(n))
    inputs = {k: batch[k] for k in ("categorical_features", "coordinates", "time_deltas", "mask", "time_of_day")}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tiny = str(build_tiny_chronos("chronos2", Path(tmp) / "c2"))
        for backbone, model in (("statistics", "unused"), ("chronos", tiny)):
            for fields, layout in (("original", "activity"), ("semantic", "activity"), ("semantic", "compact")):
                enc = ChronosEncoder(vocab.sizes, model, backbone=backbone, extra_channels=CHANNELS,
                                     state_values=state_signs(vocab.tokens["state"]), event_fields=fields,
                                     semantic_channels=layout)
                enc.extract_features(**{k: v[:8] if k != "categorical_features" else {f: t[:8] for f, t in v.items()}
                                        for k, v in inputs.items()})   # warm-up
                t = time.perf_counter()
                enc.extract_features(**inputs)
                seconds = time.perf_counter() - t
                row = {"backbone": "statistics" if backbone == "statistics" else "chronos2-tiny",
                       "channels": fields if fields == "original" else layout,
                       "n_channels": len(enc.series_config.channel_names), "feature_dim": enc.feature_dim,
                       "windows_per_s": round(n / seconds, 1)}
                print(json.dumps(row), flush=True)
                rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Prepare, measure quality and throughput, write results.json."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "runs" / "semantic"))
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--days", type=int, default=10, help="simulated days per home")
    ap.add_argument("--max-captions", type=int, default=2, help="captions per window drawn in training")
    ap.add_argument("--skip-quality", action="store_true")
    args = ap.parse_args(argv)
    out = Path(args.out)
    results = {"throughput": throughput()}
    if not args.skip_quality:
        results["quality"] = quality(args, prepare(out, args.days))
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"results: {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
