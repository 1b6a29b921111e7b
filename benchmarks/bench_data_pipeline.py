"""Data-pipeline benchmark on a simulated Milan-scale log (~85 days, ~430k events).

Measures, each stage in a fresh process (so peak memory is the stage's own): parsing speed (events/s),
the whole `prepare` (read -> windows -> split -> captions -> vocab -> write), loading the prepared splits
(fast companion), and peak resident memory; prints them next to the targets of this 2-core machine.

    .venv/bin/python benchmarks/bench_data_pipeline.py            # full size
    .venv/bin/python benchmarks/bench_data_pipeline.py --days 10  # quicker
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

TARGETS = {"parse_events_per_s": (">=", 200_000), "prepare_s": ("<=", 60.0), "load_s": ("<=", 5.0),
           "peak_memory_gb": ("<=", 2.0)}


def _peak_gb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**30


def stage_simulate(raw: str, days: int, seed: int) -> dict:
    """Write the simulated Milan log."""
    from homeclip.data.homes import load_home
    from homeclip.data.simulate import write_simulated_log

    t0 = time.perf_counter()
    write_simulated_log(raw, load_home("milan"), days, seed=seed)
    return {"seconds": time.perf_counter() - t0}


def stage_parse(raw: str) -> dict:
    """Parse the raw log into an EventLog."""
    from homeclip.data.readers import read_log

    t0 = time.perf_counter()
    log = read_log(raw)
    seconds = time.perf_counter() - t0
    report = log.report
    return {"seconds": seconds, "lines": report.n_lines, "events": report.n_events, "numeric": report.n_numeric,
            "events_per_s": report.n_events / seconds, "lines_per_s": report.n_lines / seconds, "peak_gb": _peak_gb()}


def stage_prepare(raw: str, out: str) -> dict:
    """The whole `homeclip prepare` with the defaults."""
    from homeclip.data.prepare import prepare_dataset

    t0 = time.perf_counter()
    summary = prepare_dataset(raw, "milan", out, progress=False)
    return {"seconds": time.perf_counter() - t0, "n_windows": summary["n_windows"],
            "windows": {k: v["windows"] for k, v in summary["splits"].items()}, "steps_s": summary["timings_s"],
            "peak_gb": _peak_gb()}


def stage_load(out: str, from_json: bool) -> dict:
    """Load the three prepared splits (companion, or the JSON of record when from_json)."""
    from homeclip.data.store import dataset_paths, load_split

    paths = dataset_paths(out, "milan")
    t0 = time.perf_counter()
    sets = {name: load_split(paths[name], use_companion=not from_json, refresh_companion=False)
            for name in ("train", "val", "test")}
    return {"seconds": time.perf_counter() - t0, "windows": sum(len(s) for s in sets.values()),
            "peak_gb": _peak_gb()}


def in_fresh_process(fn, *args) -> dict:
    """Run fn(*args) in a spawned interpreter and return its result (so its peak memory is its own)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=85, help="simulated days (default 85, ~430k events)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", default=None, help="keep the log and dataset here (default: a temp dir, removed)")
    parser.add_argument("--json-load", action="store_true", help="also time loading from the JSON of record")
    parser.add_argument("--output", default=None, help="also write the figures as JSON to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="homeclip-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    raw, out = str(work / "milan_sim.txt"), str(work / "processed")
    try:
        sim = in_fresh_process(stage_simulate, raw, args.days, args.seed)
        print(f"simulated {args.days} days in {sim['seconds']:.1f} s -> {raw}", flush=True)
        parse = in_fresh_process(stage_parse, raw)
        print(f"parsed {parse['events']:,} events ({parse['lines']:,} lines) in {parse['seconds']:.2f} s", flush=True)
        prep = in_fresh_process(stage_prepare, raw, out)
        print(f"prepared {prep['n_windows']:,} windows {prep['windows']} in {prep['seconds']:.1f} s; "
              f"steps: {prep['steps_s']}", flush=True)
        load = in_fresh_process(stage_load, out, False)
        json_load = in_fresh_process(stage_load, out, True) if args.json_load else None
        sizes = {p.name: p.stat().st_size for p in sorted(Path(out).iterdir())}
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    measured = {"parse_events_per_s": parse["events_per_s"], "prepare_s": prep["seconds"], "load_s": load["seconds"],
                "peak_memory_gb": max(parse["peak_gb"], prep["peak_gb"], load["peak_gb"])}
    print(f"\nData pipeline, {args.days} simulated days, {parse['events']:,} events, {prep['n_windows']:,} windows")
    print(f"{'metric':<22}{'measured':>14}{'target':>14}  ok")
    missed = []
    for key, value in measured.items():
        op, target = TARGETS[key]
        ok = value >= target if op == ">=" else value <= target
        missed += [] if ok else [key]
        shown = f"{value:,.0f}" if key == "parse_events_per_s" else f"{value:.2f}"
        print(f"{key:<22}{shown:>14}{op + ' ' + format(target, ',g'):>14}  {'yes' if ok else 'NO'}")
    print(f"(peak memory per stage, GB: parse {parse['peak_gb']:.2f}, prepare {prep['peak_gb']:.2f}, "
          f"load {load['peak_gb']:.2f})")
    if json_load:
        print(f"load from the JSON of record instead of the companion: {json_load['seconds']:.1f} s")
    print("files (MB): " + ", ".join(f"{k} {v / 1e6:.0f}" for k, v in sizes.items()))
    if args.output:
        Path(args.output).write_text(json.dumps({"days": args.days, "measured": measured, "parse": parse,
                                                 "prepare": prep, "load": load, "json_load": json_load,
                                                 "files_bytes": sizes}, indent=2) + "\n", encoding="utf-8")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
