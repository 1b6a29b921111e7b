"""`homeclip prepare`: raw log -> processed, split, captioned dataset."""
from __future__ import annotations

import argparse

from ..console import add_quiet_option

HELP = "Read a raw log, cut windows, caption them, split by day and write a processed dataset."
DESCRIPTION = (
    "Read a raw sensor log (format detected unless --format is given), cut it into windows, label them, "
    "split whole days into train/val/test, caption every window, build the vocabulary on train only, and "
    "write <home>_{train,val,test}.json (+ fast .npz companions), <home>_vocab.json and <home>_summary.json. "
    "Default output: data/processed/casas/<home>/seq<N>/. Schema: docs/dataset-format.md."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `homeclip prepare`."""
    parser.add_argument("--raw", required=True, help="raw log file (CASAS, CASAS per-event labelled, or interval log)")
    parser.add_argument("--home", required=True, help="packaged home name (milan, aruba, ...) or a home layout JSON")
    parser.add_argument("--format", default="auto", choices=["auto", "casas", "casas-labelled", "intervals"],
                        help="log format (default: detect)")
    parser.add_argument("--labels", default=None, help="activity file of an interval log (default: found next to it)")
    parser.add_argument("--window", type=int, default=50, help="events per window N (default 50)")
    parser.add_argument("--stride", type=int, default=None,
                        help="fixed_length: events between window starts (default N//4, i.e. 75%% overlap)")
    parser.add_argument("--strategy", default="fixed_length", choices=["fixed_length", "fixed_duration", "presegmented"],
                        help="how windows are cut (default fixed_length)")
    parser.add_argument("--duration", type=float, default=600.0, help="fixed_duration: seconds per window (default 600)")
    parser.add_argument("--duration-stride", type=float, default=None,
                        help="fixed_duration: seconds between window starts (default: the duration)")
    parser.add_argument("--max-gap", type=float, default=4 * 3600.0,
                        help="no window spans a silence longer than this many seconds (default 14400 = 4 h)")
    parser.add_argument("--min-events", type=int, default=1,
                        help="fixed_duration/presegmented: drop windows with fewer events (default 1)")
    parser.add_argument("--default-label", default=None,
                        help="label of events inside no annotated activity (default: the home's, usually Other)")
    parser.add_argument("--split", default="0.7,0.1,0.2", help="train,val,test ratios of whole days (default 0.7,0.1,0.2)")
    parser.add_argument("--chronological", action="store_true",
                        help="earliest days train, then val, then test (default: seeded shuffle of days)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the day shuffle and of the captions (default 0)")
    parser.add_argument("--skip-bad-lines", action="store_true",
                        help="skip unparseable lines (counted and reported) instead of stopping at the first")
    parser.add_argument("--out", default=None, help="output folder (default data/processed/casas/<home>/seq<N>)")
    add_quiet_option(parser)


def parse_ratios(text: str) -> tuple[float, float, float]:
    """'0.7,0.1,0.2' -> (0.7, 0.1, 0.2); UserError for anything else."""
    from ..errors import UserError

    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 3:
        raise UserError(f"--split expects three comma-separated ratios train,val,test (e.g. 0.7,0.1,0.2), got {text!r}")
    return values  # type: ignore[return-value]


def run(args: argparse.Namespace) -> int:
    """Prepare the dataset and print where it is and what it holds."""
    from ..console import progress_enabled, say
    from ..data.prepare import format_summary, prepare_dataset
    from ..data.windows import SplitConfig, WindowConfig

    window = WindowConfig(strategy=args.strategy, length=args.window, stride=args.stride, duration=args.duration,
                          duration_stride=args.duration_stride, max_gap=args.max_gap, min_events=args.min_events,
                          default_label=args.default_label)
    split = SplitConfig(ratios=parse_ratios(args.split), seed=args.seed, chronological=args.chronological)
    summary = prepare_dataset(args.raw, args.home, args.out, fmt=args.format, labels_path=args.labels, window=window,
                              split=split, caption_seed=args.seed, skip_bad_lines=args.skip_bad_lines,
                              progress=progress_enabled(args.quiet))
    say(format_summary(summary))
    return 0
