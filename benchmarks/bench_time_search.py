"""Time-aware search: precision@10 of planted time-and-room queries, per encoder, next to caption-text search.

The demo's recipe (simulated Milan-layout resident, windows of 50 events, stride 25, short training schedule
with `homeclip.experiment`), with one change: the day split is chronological and the later half of the days is
the search gallery, so that every query has enough satisfying windows (14 days; a 3-day test split has two
"kitchen late at night" windows, which caps precision@10 at 0.2 whatever the model does). No gallery day is
seen in training or model selection.

A window satisfies a query when its own events do (time of day, rooms, door events:
`homeclip.evaluation.search_quality`), never its label or caption. Methods:
  * each encoder: the query through the checkpoint's text side vs the windows' embeddings;
  * caption-text (baseline): the query through the frozen text encoder alone vs the mean embedding of each
    window's own captions (the training caption types) -- search without any sensor model;
  * random: the expected precision of a random ranking (the share of satisfying windows).
Design choices were made on --seed 1; the figures of record use --seed 0 (the default).

    .venv/bin/python benchmarks/bench_time_search.py [--days 28] [--epochs 8] [--seed 0] [--out DIR] [--strict]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs" / "training" / "milan"
# run name -> config file; the seed config is the only one without time of day (kept verbatim).
DEFAULT_CONFIGS = {"chronos_seed_config": "chronos_clip.json", "statistics_time_of_day": "statistics_clip.json",
                   "transformer": "transformer_clip_mlm.json"}
TARGET = 0.8
K = 10


def prepare(out: Path, days: int, seed: int) -> Path:
    """Simulate and prepare the home once (reused when already there); returns the data folder."""
    from homeclip.data.homes import load_home
    from homeclip.data.prepare import prepare_dataset
    from homeclip.data.simulate import write_simulated_log
    from homeclip.data.windows import SplitConfig, WindowConfig

    data = out / "data" / "milan"
    if not (data / "milan_test.json").is_file():
        home = load_home("milan")
        raw = write_simulated_log(out / "raw" / f"milan_{days}d_seed{seed}.txt", home, days, seed=seed)
        prepare_dataset(raw, home, data, window=WindowConfig(length=50, stride=25),
                        split=SplitConfig(ratios=(0.45, 0.05, 0.5), seed=seed, chronological=True), progress=False)
    return data


def encoder_rankings(checkpoint: Path, gallery, queries: list[str], feature_cache: Path, text_encoder=None):
    """(query -> ranked window indices, the model) for one checkpoint."""
    from homeclip.evaluation.search import top_windows
    from homeclip.training.checkpoint import load_model

    model = load_model(checkpoint)
    if text_encoder is not None:
        model.set_text_encoder(text_encoder)
    emb = model.embed_windows(gallery, cache_dir=feature_cache, progress=False)
    q_emb = model.embed_texts(queries)
    return {q: top_windows(emb, e, len(gallery))[0] for q, e in zip(queries, q_emb)}, model


def caption_rankings(text_encoder, gallery, queries: list[str], caption_types: str) -> dict:
    """The caption-text baseline: raw query vs the mean raw embedding of each window's own captions."""
    from homeclip.data.batches import select_captions
    from homeclip.evaluation.baselines import caption_embeddings
    from homeclip.evaluation.retrieval import caption_gallery
    from homeclip.evaluation.search import top_windows

    captions = [select_captions(c, caption_types, 10**6) for c in gallery.captions]
    texts, _ = caption_gallery(captions)
    raw = dict(zip(texts, text_encoder.encode(texts, progress=True)))
    window_emb, _ = caption_embeddings(captions, raw)
    q_emb = text_encoder.encode(queries)
    return {q: top_windows(window_emb, e, len(gallery))[0] for q, e in zip(queries, q_emb)}


def main(argv: list[str] | None = None) -> int:
    """Train, search, score, print the table; exit 1 with --strict when the best encoder misses the target."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=28, help="simulated days; the later half is the gallery")
    ap.add_argument("--epochs", type=int, default=8, help="training epochs per encoder (the demo's default)")
    ap.add_argument("--seed", type=int, default=0, help="simulation, split and training seed (choices: seed 1)")
    ap.add_argument("--out", default=str(ROOT / "runs" / "bench_time_search"))
    ap.add_argument("--configs", nargs="+", default=None, metavar="NAME=FILE",
                    help="runs to train (default: " + " ".join(f"{k}={v}" for k, v in DEFAULT_CONFIGS.items()) + ")")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="training config override for every run (as `homeclip train --set`), to measure a change")
    ap.add_argument("--variant", default="default", help="name of this set of runs (models and report go under it)")
    ap.add_argument("--reuse", action="store_true", help="score the runs already trained under --variant again")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--strict", action="store_true", help="exit 1 when the best encoder's mean is below the target")
    args = ap.parse_args(argv)

    from homeclip.data.store import load_split
    from homeclip.evaluation.search_quality import PLANTED_QUERIES, satisfies, score_rankings
    from homeclip.experiment import Experiment, short_schedule, train_runs
    from homeclip.training.config import parse_set

    t_start = time.perf_counter()
    home_dir = Path(args.out) / f"seed{args.seed}"
    out = home_dir / args.variant
    configs = dict(DEFAULT_CONFIGS) if not args.configs else dict(c.split("=", 1) for c in args.configs)
    data = prepare(home_dir, args.days, args.seed)
    # Variants share the prepared data and the caption / feature caches of the home.
    caches = {"text_cache_dir": str(home_dir / "cache" / "text"),
              "feature_cache_dir": str(home_dir / "cache" / "features")}
    exp = Experiment(data_dir=data, home="milan", out=out, device=args.device,
                     configs={name: CONFIGS / file for name, file in configs.items()},
                     overrides={**short_schedule(args.epochs, args.seed), **caches, **parse_set(args.overrides)})
    existing = {name: out / "models" / name / "best_model.pt" for name in configs}
    existing = {name: p for name, p in existing.items() if args.reuse and p.is_file()}
    exp.configs = {name: p for name, p in exp.configs.items() if name not in existing}
    checkpoints = {**train_runs(exp, say=lambda text: print(f"==> {text}", flush=True)), **existing}
    checkpoints = {name: checkpoints[name] for name in configs}
    t_trained = time.perf_counter()

    gallery = load_split(data / "milan_test.json")
    queries = [c.query for c in PLANTED_QUERIES]
    relevant = {c.query: satisfies(gallery, c) for c in PLANTED_QUERIES}
    rankings, text_encoder, caption_types, models = {}, None, "long", {}
    for name, ckpt in checkpoints.items():
        rankings[name], model = encoder_rankings(ckpt, gallery, queries, home_dir / "cache" / "features",
                                                    text_encoder)
        text_encoder = model.text_encoder                     # the same frozen text model for every run
        caption_types = model.config.get("caption_types", caption_types)
        models[name] = {"checkpoint": str(ckpt), "backbone": model.meta.get("backbone_info", {}).get("used"),
                        "extra_channels": model.meta["encoder_config"].get("extra_channels"),
                        "text_encoder": model.meta.get("text_encoder", {}).get("used")}
    rankings["caption_text_baseline"] = caption_rankings(text_encoder, gallery, queries, caption_types)
    halves = {part: {c.query: satisfies(gallery, c, part) for c in PLANTED_QUERIES} for part in ("time", "event")}
    scores, half_scores = {}, {part: {} for part in halves}
    for name, r in rankings.items():
        scores[name] = score_rankings(r, relevant, K)
        for part, rel in halves.items():
            half_scores[part][name] = score_rankings(r, rel, K)["mean"]
    for part, rel in {"both": relevant, **halves}.items():     # a random ranking: the share of such windows
        rate = {q: float(rel[q].mean()) for q in queries}
        if part == "both":
            scores["random"] = {"per_query": rate, "mean": float(np.mean(list(rate.values())))}
        else:
            half_scores[part]["random"] = float(np.mean(list(rate.values())))
    t_end = time.perf_counter()

    encoders = list(checkpoints)
    best = max(encoders, key=lambda n: scores[n]["mean"])
    columns = ["random", "caption_text_baseline", *encoders]
    lines = [f"Time-aware search, precision@{K}: {args.days} simulated days (seed {args.seed}), "
             f"overrides {parse_set(args.overrides) or 'none'}, gallery = "
             f"{len(gallery)} windows of the {len(set(gallery.day.tolist()))} later days (never trained on)",
             "| query | satisfying | " + " | ".join(columns) + " |", "|---|---:|" + "---:|" * len(columns)]
    for c in PLANTED_QUERIES:
        row = " | ".join(f"{scores[m]['per_query'][c.query]:.2f}" for m in columns)
        lines.append(f"| {c.query} ({c.describe()}) | {int(relevant[c.query].sum())} | {row} |")
    lines.append("| **mean** | | " + " | ".join(f"**{scores[m]['mean']:.2f}**" for m in columns) + " |")
    lines.append("| mean, time of day alone (>= 3 events in the hours, any room) | | "
                 + " | ".join(f"{half_scores['time'][m]:.2f}" for m in columns) + " |")
    lines.append("| mean, room / door alone (any hour) | | "
                 + " | ".join(f"{half_scores['event'][m]:.2f}" for m in columns) + " |")
    ok = scores[best]["mean"] >= TARGET
    lines += ["", f"best encoder: {best} {scores[best]['mean']:.2f} (target >= {TARGET}): "
                  f"{'met' if ok else 'NOT met'}; caption-text baseline {scores['caption_text_baseline']['mean']:.2f}",
              f"runtime {t_end - t_start:.0f} s (simulate, prepare and train {t_trained - t_start:.0f} s, search and "
              f"score {t_end - t_trained:.0f} s); models: " + json.dumps(models)]
    report = "\n".join(lines)
    print("\n" + report)
    (out / "time_search.md").write_text(report + "\n", encoding="utf-8")
    (out / "time_search.json").write_text(json.dumps({
        "k": K, "days": args.days, "seed": args.seed, "epochs": args.epochs,
        "overrides": parse_set(args.overrides), "n_gallery": len(gallery),
        "queries": [{"query": c.query, "constraint": c.describe(), "satisfying": int(relevant[c.query].sum())}
                    for c in PLANTED_QUERIES],
        "scores": scores, "half_scores": half_scores, "models": models, "best": best, "target": TARGET, "met": ok,
        "runtime_s": t_end - t_start}, indent=2) + "\n", encoding="utf-8")
    return 1 if (args.strict and not ok) else 0


if __name__ == "__main__":
    sys.exit(main())
