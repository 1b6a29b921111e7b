"""`homeclip benchmark`: in-home, leave-one-home-out and few-shot protocols on several homes."""
from __future__ import annotations

import argparse

HELP = "Run the transfer protocols (in-home, leave-one-home-out, few-shot) on several homes; one JSON of record."
DESCRIPTION = (
    "Prepare every home of a benchmark spec, train each encoder once per protocol and target home, and score "
    "zero-shot, linear probe and the few-shot curve next to bag-of-sensors (given the same labels) and the "
    "majority class, every number with a 95 % bootstrap interval over test days. Writes benchmark.json (the "
    "record), benchmark.md and benchmark.html into --out and prints the table. Finished runs and prepared data "
    "are reused while their inputs are unchanged, so an interrupted benchmark continues where it stopped. "
    "The spec format is in docs/benchmark.md."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The spec, the output folder and the device."""
    p.add_argument("--spec", required=True, help="benchmark spec JSON (homes, encoders, protocols; docs/benchmark.md)")
    p.add_argument("--out", default="runs/benchmark", help="output folder (default: runs/benchmark)")
    p.add_argument("--device", default="cpu", help="training device: cpu, cuda or auto (default: cpu)")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its table."""
    from ..benchmark import load_spec, run_benchmark
    from ..benchmark.report import render_markdown

    record = run_benchmark(load_spec(args.spec), args.out, device=args.device,
                           say=lambda text: print(f"==> {text}", flush=True))
    print(render_markdown(record))
    print(f"record: {args.out}/benchmark.json; page: {args.out}/benchmark.html")
    return 0
