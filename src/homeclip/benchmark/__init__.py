"""`homeclip benchmark`: in-home, leave-one-home-out and few-shot protocols on several homes, one JSON of record.

    from homeclip.benchmark import load_spec, run_benchmark
    record = run_benchmark(load_spec("benchmarks/specs/shared_homes.json"), "runs/benchmark")
"""
from .runner import run_benchmark
from .spec import BenchmarkSpec, load_spec

__all__ = ["BenchmarkSpec", "load_spec", "run_benchmark"]
