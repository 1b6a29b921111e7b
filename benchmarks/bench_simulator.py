"""Simulator benchmark: `homeclip simulate --varied` at pre-training scale (default 100 homes x 30 days = 3,000
simulated days), written to disk with every core; prints homes x days, events, events/s and seconds next to
the targets of this 2-core machine, with the figures per sensor style.

    .venv/bin/python benchmarks/bench_simulator.py                       # 100 homes x 30 days
    .venv/bin/python benchmarks/bench_simulator.py --homes 20 --days 10  # quicker
"""
from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

# The goal (issue 8): thousands of simulated days across many homes in minutes -> 3,000 days in <= 3 minutes.
TARGETS = {"days_per_minute": (">=", 1000.0)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--homes", type=int, default=100, help="generated homes (default 100)")
    parser.add_argument("--days", type=int, default=30, help="days per home (default 30)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: the CPU cores)")
    parser.add_argument("--workdir", default=None, help="keep the homes here (default: a temp dir, removed)")
    parser.add_argument("--output", default=None, help="also write the figures as JSON to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    from homeclip.data.simulate.varied import write_varied_homes

    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="homeclip-bench-sim-"))
    try:
        t0 = time.perf_counter()
        index = write_varied_homes(work / "homes", args.homes, args.days, seed=args.seed, workers=args.workers)
        seconds = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in (work / "homes").rglob("*") if p.is_file())
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    days = args.homes * args.days
    measured = {"days_per_minute": days / seconds * 60, "events_per_s": index["events"] / seconds}
    by_style: dict[str, list] = collections.defaultdict(lambda: [0, 0, 0.0])
    for h in index["homes"]:
        row = by_style[h["sensor_style"]]
        row[0], row[1], row[2] = row[0] + 1, row[1] + h["events"], row[2] + h["seconds"]
    print(f"\nSimulator: {args.homes} homes x {args.days} days = {days:,} simulated days, {index['events']:,} events, "
          f"{seconds:.1f} s with {index['workers']} worker(s), {size / 1e6:.0f} MB written")
    print(f"{'metric':<18}{'measured':>14}{'target':>14}  ok")
    missed = []
    for key, value in measured.items():
        op, target = TARGETS.get(key, ("", None))
        ok = target is None or value >= target
        missed += [] if ok else [key]
        shown = "" if target is None else f"{op} {target:,g}"
        print(f"{key:<18}{value:>14,.0f}{shown:>14}  {'' if target is None else 'yes' if ok else 'NO'}")
    print(f"{'sensor style':<14}{'homes':>6}{'events/day':>12}{'s/home':>8}")
    for style, (n, events, secs) in sorted(by_style.items()):
        print(f"{style:<14}{n:>6}{events / n / args.days:>12,.0f}{secs / n:>8.2f}")
    if args.output:
        Path(args.output).write_text(json.dumps({"homes": args.homes, "days": args.days, "seconds": seconds,
                                                 "events": index["events"], "measured": measured,
                                                 "by_style": by_style, "bytes": size}, indent=2) + "\n")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
