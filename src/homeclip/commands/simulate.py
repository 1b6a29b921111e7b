"""`homeclip simulate`: write the CASAS log of a simulated resident living in a home layout, or of many
generated homes (`--varied N`)."""
from __future__ import annotations

import argparse

HELP = "Simulate residents in a home layout (or many generated homes) and write CASAS-format logs."
DESCRIPTION = (
    "Simulate one resident's daily routine (sleep, bed-to-toilet, meds, cooking, eating, TV, reading, desk work, "
    "bathroom, going out, chores) in a home layout and write an annotated CASAS log "
    "(`date time sensor state [label begin|end]`, the home's own activity labels). Motion sensors fire along "
    "walking paths, doors open and close, temperature sensors report, and sensors miss or invent triggers. "
    "The same --seed always gives the same file. About 5,000 events per simulated day for Milan. "
    "With --varied N, generate N different homes instead (floor-plan templates, sensor styles from dense motion "
    "to objects only, naming styles, residents' own routines) and write DIR/<home>/<home>.txt, "
    "DIR/<home>/<home>.json and DIR/index.json (see docs/simulator.md)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `homeclip simulate`."""
    parser.add_argument("--home", default=None,
                        help="packaged home (milan, aruba, cairo, kyoto, alsmarthome, ordonez_a) or a layout JSON "
                             "file (default milan)")
    parser.add_argument("--varied", type=int, default=None, metavar="N",
                        help="generate N varied homes (instead of --home) and write one folder per home")
    parser.add_argument("--days", type=int, default=30, help="number of simulated days (per home; default 30)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same log (default 0)")
    from ..data.simulate import DEFAULT_START   # standard library + homes only: cheap at parser build

    parser.add_argument("--start", default=DEFAULT_START,
                        help=f"first simulated day, YYYY-MM-DD (default {DEFAULT_START})")
    parser.add_argument("--out", default=None,
                        help="output log file (default data/raw/simulated/<home>_<days>d_seed<seed>.txt); with "
                             "--varied a folder (default data/raw/simulated/varied_<N>x<days>d_seed<seed>)")
    parser.add_argument("--residents", type=int, default=1, metavar="N",
                        help="people living in the home (default 1): each more has their own routine and, where "
                             "the layout has one, their own bedroom; labels then carry the resident as CASAS does "
                             "(R1_Sleep, R2_Sleep). One resident's log is unchanged")
    parser.add_argument("--workers", type=int, default=None,
                        help="--varied: processes simulating homes in parallel (default: the CPU cores)")


def run(args: argparse.Namespace) -> int:
    """Simulate and write atomically; print where it went."""
    from pathlib import Path

    from ..errors import UserError

    if args.varied is not None:
        from ..data.simulate.varied import write_varied_homes

        if args.home is not None:
            raise UserError("--varied generates its own homes: drop --home (or drop --varied)")
        out = Path(args.out) if args.out else \
            Path("data/raw/simulated") / f"varied_{args.varied}x{args.days}d_seed{args.seed}"
        if args.workers is not None and args.workers < 1:
            raise UserError(f"--workers: expected a number >= 1, found {args.workers}")
        index = write_varied_homes(out, args.varied, args.days, seed=args.seed, start=args.start,
                                   workers=args.workers, residents=args.residents)
        print(f"wrote {index['n_homes']} homes x {index['days']} days ({index['events']:,} events, "
              f"{index['seconds']:.0f} s) to {out}; index {out / 'index.json'}")
        return 0
    if args.workers is not None:
        raise UserError("--workers is for --varied only")
    from ..data.homes import load_home
    from ..data.simulate import write_simulated_log

    home = load_home(args.home or "milan")
    residents = "" if args.residents == 1 else f"_{args.residents}residents"
    out = Path(args.out) if args.out else \
        Path("data/raw/simulated") / f"{home.name}_{args.days}d_seed{args.seed}{residents}.txt"
    write_simulated_log(out, home, args.days, seed=args.seed, start=args.start, residents=args.residents)
    print(f"wrote {out}")
    return 0
