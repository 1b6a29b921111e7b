"""`homeclip simulate`: write the CASAS log of a simulated resident living in a home layout."""
from __future__ import annotations

import argparse

HELP = "Simulate a resident in a packaged home layout and write a CASAS-format log."
DESCRIPTION = (
    "Simulate one resident's daily routine (sleep, bed-to-toilet, meds, cooking, eating, TV, reading, desk work, "
    "bathroom, going out, chores) in a home layout and write an annotated CASAS log "
    "(`date time sensor state [label begin|end]`, the home's own activity labels). Motion sensors fire along "
    "walking paths, doors open and close, temperature sensors report, and sensors miss or invent triggers. "
    "The same --seed always gives the same file. About 5,000 events per simulated day for Milan."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `homeclip simulate`."""
    parser.add_argument("--home", default="milan",
                        help="packaged home (milan, aruba, cairo, kyoto, alsmarthome) or a layout JSON file "
                             "(default milan)")
    parser.add_argument("--days", type=int, default=30, help="number of simulated days (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same log (default 0)")
    from ..data.simulate import DEFAULT_START   # standard library + homes only: cheap at parser build

    parser.add_argument("--start", default=DEFAULT_START,
                        help=f"first simulated day, YYYY-MM-DD (default {DEFAULT_START})")
    parser.add_argument("--out", default=None,
                        help="output log file (default data/raw/simulated/<home>_<days>d_seed<seed>.txt)")


def run(args: argparse.Namespace) -> int:
    """Simulate and write the log atomically; print where it went."""
    from pathlib import Path

    from ..data.homes import load_home
    from ..data.simulate import write_simulated_log

    home = load_home(args.home)
    out = Path(args.out) if args.out else Path("data/raw/simulated") / f"{home.name}_{args.days}d_seed{args.seed}.txt"
    write_simulated_log(out, home, args.days, seed=args.seed, start=args.start)
    print(f"wrote {out}")
    return 0
