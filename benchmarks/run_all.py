"""Run every benchmark, one after the other (each in its own process, so timings do not interfere), at
full Milan scale unless --quick. Each benchmark prints its measured figures next to its targets.

    .venv/bin/python benchmarks/run_all.py [--quick]"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (full-scale arguments, quick arguments)
BENCHMARKS = {
    "bench_data_pipeline.py": ([], ["--days", "20"]),
    "bench_simulator.py": ([], ["--homes", "20", "--days", "10"]),
    "bench_text.py": ([], ["--windows", "5000", "--embed-windows", "50"]),
    "bench_backbones.py": ([], ["--quick"]),
    "bench_training.py": ([], ["--windows", "5000", "--val-windows", "500"]),
    "bench_serve.py": ([], ["--queries", "20"]),
    "bench_time_search.py": ([], ["--epochs", "4", "--configs", "statistics_time_of_day=statistics_clip.json"]),
    "bench_watch.py": ([], ["--mqtt-events", "300"]),
}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; the exit code is the number of benchmarks that failed to run."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller inputs (minutes instead of ~half an hour)")
    ap.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    args = ap.parse_args(argv)
    failed = 0
    for name in args.only or BENCHMARKS:
        full, quick = BENCHMARKS[name]
        cmd = [sys.executable, str(HERE / name), *(quick if args.quick else full)]
        print(f"\n=== {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd)
        print(f"=== {name}: exit {rc}, {time.perf_counter() - t0:.0f} s", flush=True)
        failed += rc != 0
    return failed


if __name__ == "__main__":
    sys.exit(main())
