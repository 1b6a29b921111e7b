"""Caption and text-encoder benchmark on a Milan-scale caption set.

Captions ~35k windows of a simulated Milan log (random synthetic windows when the simulator is missing or with
`--source random`), then embeds the captions of the first `--embed-windows` windows three ways:
  cold         empty cache: every distinct text goes through the model (captions covered thanks to dedupe)
  warm disk    a new encoder on the same cache directory (a later run): shards read, nothing embedded
  warm memory  the same encoder again (within a run)
and prints captions/s side by side with the ratio to cold. Cold embedding of the full set takes long on two
cores, so it is measured on a subset and extrapolated from the full set's distinct-text count.

    .venv/bin/python benchmarks/bench_text.py                       # 35k windows, embed 1000 windows' captions
    .venv/bin/python benchmarks/bench_text.py --windows 5000 --embed-windows 0   # embed everything
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def milan_windows(n: int, source: str, seed: int):
    """(WindowSet, Home, description): simulated Milan windows, or synthetic ones."""
    from homeclip.data.homes import load_home

    home = load_home("milan")
    if source == "simulated":
        try:
            from homeclip.data.readers import read_log
            from homeclip.data.simulate import write_simulated_log
            from homeclip.data.windows import WindowConfig, make_windows
        except ImportError as err:
            print(f"simulator unavailable ({err}); using random windows", file=sys.stderr)
        else:
            days = max(2, round(n / 400) + 2)           # the simulator gives ~420 windows of 50 events a day
            with tempfile.TemporaryDirectory() as tmp:
                path = write_simulated_log(Path(tmp) / "milan.txt", home, days, seed=seed)
                ws = make_windows(read_log(path), home, WindowConfig())
            return ws.subset(list(range(min(n, len(ws))))), home, f"simulated Milan, {days} days"
    from homeclip.testing import random_windowset

    return random_windowset(n, seed=seed), home, "random_windowset"


def timed(fn):
    """(result, wall seconds, CPU seconds of this process)."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def warm_full_set(model: str, texts: list[str], cache: Path) -> float:
    """Seconds for a new run to read every text of the full set from a warm disk cache.

    The cache is filled through the normal write path (shards, compaction) with random unit rows instead of
    model outputs, because embedding the full set for real takes hours on two cores."""
    import numpy as np

    from homeclip.encoders.text import TextEncoder

    filler = TextEncoder(model, cache_dir=cache)
    rng = np.random.default_rng(0)

    def placeholder(batch: list[str]) -> np.ndarray:
        rows = rng.standard_normal((len(batch), filler.dim)).astype(np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    filler._embed = placeholder
    filler.encode(texts)
    reader = TextEncoder(model, cache_dir=cache)
    _, seconds, _ = timed(lambda: reader.encode(texts))
    assert reader.stats["embedded"] == 0, "the warm run embedded texts: the cache missed"
    return seconds


def main() -> int:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=35_000, help="windows to caption (default 35000)")
    ap.add_argument("--embed-windows", type=int, default=1000,
                    help="windows whose captions are embedded (0 = all; default 1000)")
    ap.add_argument("--source", choices=("simulated", "random"), default="simulated")
    ap.add_argument("--model", default="offline", help="text model (default: the offline MiniLM)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from homeclip.data.captions import caption_windows

    (ws, home, source), sim_s, _ = timed(lambda: milan_windows(args.windows, args.source, args.seed))
    print(f"windows: {len(ws)} ({source}, built in {sim_s:.1f} s)")
    caps, cap_wall, cap_cpu = timed(lambda: caption_windows(ws, home, seed=args.seed))
    texts_all = [t for c in caps for style in sorted(c) for t in c[style]]
    distinct_all = len(set(texts_all))
    print(f"captioning: {len(ws)} windows in {cap_wall:.2f} s wall / {cap_cpu:.2f} s CPU "
          f"({len(ws) / cap_wall:,.0f} windows/s); {len(texts_all):,} captions, {distinct_all:,} distinct "
          f"({len(texts_all) / max(distinct_all, 1):.2f} captions per distinct text)")

    from homeclip.encoders.text import TextEncoder

    n_embed = len(caps) if args.embed_windows <= 0 else min(args.embed_windows, len(caps))
    texts = [t for c in caps[:n_embed] for style in sorted(c) for t in c[style]]
    with tempfile.TemporaryDirectory() as cache, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc, load_s, _ = timed(lambda: TextEncoder(args.model, cache_dir=cache))
        print(f"text encoder: {enc.model_used} ({enc.dim}-d), loaded in {load_s:.1f} s"
              + (f"; fallback: {enc.fallback_reason}" if enc.fallback_reason else ""))
        _, cold_s, _ = timed(lambda: enc.encode(texts, progress=True))
        embedded = enc.stats["embedded"]
        _, mem_s, _ = timed(lambda: enc.encode(texts))
        warm = TextEncoder(args.model, cache_dir=cache)
        _, disk_s, _ = timed(lambda: warm.encode(texts))
        assert warm.stats["embedded"] == 0, "the warm run embedded texts: the cache missed"

        full_s = warm_full_set(args.model, texts_all, Path(cache) / "full")

    rows = [("cold (empty cache)", cold_s), ("warm disk (new run)", disk_s), ("warm memory (same run)", mem_s)]
    print(f"\nembedding the captions of {n_embed} windows: {len(texts):,} captions, {embedded:,} distinct")
    print(f"{'':24s}{'seconds':>10s}{'captions/s':>14s}{'ratio':>10s}")
    for name, sec in rows:
        print(f"{name:24s}{sec:10.3f}{len(texts) / sec:14,.0f}{cold_s / sec:9.0f}x")
    print(f"cold: {embedded / cold_s:,.0f} distinct texts/s embedded by the model, "
          f"{len(texts) / cold_s:,.0f} captions/s covered thanks to dedupe")
    est = distinct_all / (embedded / cold_s)
    print(f"full set ({len(texts_all):,} captions, {distinct_all:,} distinct): cold ~{est / 60:.1f} min "
          f"(extrapolated); warm disk {full_s:.2f} s measured ({len(texts_all) / full_s:,.0f} captions/s, "
          "cache pre-filled with placeholder rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
