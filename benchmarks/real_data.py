"""Real data: prepare AL-Smarthome and Ordonez home A with a day split, train both encoders, evaluate them
next to the baselines and write the comparison tables. Needs ../shared/data (never copied into the repo).

    .venv/bin/python benchmarks/real_data.py [--epochs 10] [--out runs/real_data] [--only al_smarthome]

The numbers are where the project stands, not targets; every table states the split protocol (whole days)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
CONFIGS = ROOT / "configs" / "training" / "milan"

# name -> (raw file, home, reader format, window length, stride). Ordonez A has only 818 events in 14 days,
# so its windows are shorter.
DATASETS = {
    "al_smarthome": (SHARED / "casas" / "al_smarthome" / "data.txt", "alsmarthome", "casas-labelled", 50, 25),
    "ordonez_a": (SHARED / "ordonez" / "OrdonezA_Sensors.txt", "ordonez_a", "intervals", 20, 5),
}


def main(argv: list[str] | None = None) -> int:
    """Run every dataset and print its comparison table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "runs" / "real_data"))
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=sorted(DATASETS), action="append")
    ap.add_argument("--overwrite", action="store_true", help="replace the models of an earlier run in --out")
    args = ap.parse_args(argv)
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} is absent (the real data is not redistributable)")
        return 0

    from homeclip.data.prepare import format_summary, prepare_dataset
    from homeclip.data.windows import SplitConfig, WindowConfig
    from homeclip.experiment import Experiment, encoder_comparison, run_experiment, short_schedule

    for name in args.only or sorted(DATASETS):
        raw, home, fmt, length, stride = DATASETS[name]
        out = Path(args.out) / name
        t0 = time.perf_counter()
        print(f"\n==> {name}: preparing {raw.name} ({fmt}, windows of {length} events, stride {stride})")
        summary = prepare_dataset(raw, home, out / "data", fmt=fmt, window=WindowConfig(length=length, stride=stride),
                                  split=SplitConfig(seed=args.seed), progress=False)
        print(format_summary(summary))
        exp = Experiment(data_dir=out / "data", home=home, out=out, configs=encoder_comparison(CONFIGS),
                         overrides={**short_schedule(args.epochs, args.seed), "sequence_length": length},
                         overwrite=args.overwrite)
        result = run_experiment(exp, say=lambda text: print(f"==> {name}: {text}", flush=True))
        print((result["compare_dir"] / "compare.md").read_text(encoding="utf-8"))
        print(f"{name}: {time.perf_counter() - t0:.0f} s; reports under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
