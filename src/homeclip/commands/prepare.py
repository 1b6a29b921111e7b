"""`homeclip prepare`: raw log -> processed, split, captioned dataset."""
from __future__ import annotations

import argparse

from ..console import add_quiet_option

HELP = "Read a raw log, cut windows, caption them, split by day and write a processed dataset."
DESCRIPTION = (
    "Read raw sensor logs (one file, several files, a folder or a glob; format detected per file unless "
    "--format is given; each file a separate stretch of time), cut them into windows, label them, "
    "split whole days into train/val/test, caption every window, build the vocabulary on train only, and "
    "write <home>_{train,val,test}.json (+ fast .npz companions), <home>_vocab.json and <home>_summary.json. "
    "Default output: data/processed/casas/<home>/seq<N>/. Schema: docs/dataset-format.md."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `homeclip prepare`."""
    parser.add_argument("--raw", required=True, nargs="+", metavar="LOG",
                        help="raw log file(s), folder(s) or glob pattern(s) (quote a glob): CASAS, CASAS per-event "
                             "labelled, interval logs (UCI Ordonez, van Kasteren), CSV/TSV/parquet event tables, or a "
                             "Home Assistant recorder database (home-assistant_v2.db or an SQLAlchemy URL)")
    parser.add_argument("--home", default=None,
                        help="packaged home name (milan, aruba, ...), a home layout JSON, or none (default: none: "
                             "rooms unknown, with a warning)")
    parser.add_argument("--format", default="auto",
                        choices=["auto", "casas", "casas-labelled", "intervals", "table", "homeassistant"],
                        help="log format (default: detect per file; .csv/.tsv/.parquet files are tables)")
    parser.add_argument("--labels", default=None,
                        help="activity file of an interval log (default: found next to it), or the activity-interval "
                             "table (start, end, activity) of an event table")
    parser.add_argument("--columns", default=None, metavar="ROLE=COLUMN,...",
                        help="table columns by role: time, sensor, state, value, label, resident (events) and start, "
                             "end, activity, resident (--labels table), e.g. time=ts,sensor=device,state=val "
                             "(default: common names such as time/timestamp, sensor/device/entity_id, state/val)")
    parser.add_argument("--time-format", default="auto",
                        help="table times: auto (ISO 8601 or epoch numbers), iso, epoch-s, epoch-ms, epoch-us, "
                             "dayfirst, monthfirst, or a strftime pattern such as '%%d/%%m/%%Y %%H:%%M:%%S'")
    parser.add_argument("--timezone", default=None,
                        help="IANA zone of the home (e.g. Europe/Madrid, or UTC): zone-aware table times (ISO with "
                             "an offset, epoch numbers) and Home Assistant's UTC times are stored as its naive local "
                             "time (Home Assistant: default from --ha-storage's core.config)")
    parser.add_argument("--label-entity", default=None, metavar="ENTITY",
                        help="Home Assistant: the input_select/input_text entity whose state names the current "
                             "activity (e.g. input_select.activity)")
    add_ha_storage_option(parser)
    parser.add_argument("--residents", default="auto", metavar="auto|none|REGEX",
                        help="how labels name their resident: auto (R1_Sleep, 'R2 wake': R<number> then _ or a "
                             "space), none (no resident: labels kept verbatim, as for one resident), or a regular "
                             "expression matched at the label's start with a group (?P<resident>...); labels are "
                             "never rewritten (default auto; docs/log-formats.md)")
    parser.add_argument("--keep-unknown-states", action="store_true",
                        help="keep events whose state is outside their sensor's expected set (default: counted and "
                             "left out)")
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


def add_ha_storage_option(parser: argparse.ArgumentParser) -> None:
    """The one --ha-storage of prepare and watch: a home layout from Home Assistant's registries."""
    parser.add_argument("--ha-storage", default=None, metavar="DIR",
                        help="Home Assistant's config folder (or its .storage): the entity, device and area "
                             "registries build the home layout (--home, if given, overrides it sensor by sensor); "
                             "its core.config gives the time zone")


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


def parse_columns(text: str | None) -> dict[str, str] | None:
    """'time=ts,sensor=device' -> {"time": "ts", "sensor": "device"}; UserError for anything else."""
    from ..data.readers.table import EVENT_ROLES, INTERVAL_ROLES
    from ..errors import UserError

    if text is None:
        return None
    mapping: dict[str, str] = {}
    roles = tuple(dict.fromkeys((*EVENT_ROLES, *INTERVAL_ROLES)))
    for part in (p.strip() for p in text.split(",") if p.strip()):
        role, sep, column = (x.strip() for x in part.partition("="))
        if not sep or role not in roles or role in mapping:
            raise UserError(f"--columns expects ROLE=COLUMN pairs separated by commas, roles "
                            f"{', '.join(roles)} (each once; ROLE= for none), got {part!r}")
        mapping[role] = column
    return mapping


def run(args: argparse.Namespace) -> int:
    """Prepare the dataset and print where it is and what it holds."""
    from ..console import progress_enabled, say
    from ..data.prepare import format_summary, prepare_dataset
    from ..data.windows import SplitConfig, WindowConfig

    window = WindowConfig(strategy=args.strategy, length=args.window, stride=args.stride, duration=args.duration,
                          duration_stride=args.duration_stride, max_gap=args.max_gap, min_events=args.min_events,
                          default_label=args.default_label)
    split = SplitConfig(ratios=parse_ratios(args.split), seed=args.seed, chronological=args.chronological)
    raw = args.raw[0] if len(args.raw) == 1 else args.raw
    home, timezone = args.home, args.timezone
    if args.ha_storage:
        from ..data.homes import load_home
        from ..data.homes.homeassistant import home_from_registries, registry_time_zone

        home = home_from_registries(args.ha_storage, load_home(args.home) if args.home else None)
        timezone = timezone or registry_time_zone(args.ha_storage)
    summary = prepare_dataset(raw, home, args.out, fmt=args.format, labels_path=args.labels, window=window,
                              split=split, caption_seed=args.seed, skip_bad_lines=args.skip_bad_lines,
                              keep_unknown_states=args.keep_unknown_states, columns=parse_columns(args.columns),
                              time_format=args.time_format, timezone=timezone, residents=args.residents,
                              label_entity=args.label_entity,
                              progress=progress_enabled(args.quiet))
    say(format_summary(summary))
    return 0
