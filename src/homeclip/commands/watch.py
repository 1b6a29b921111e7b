"""`homeclip watch`: recognise what is happening in a home as its events arrive (docs/live.md)."""
from __future__ import annotations

import argparse

from ..console import add_quiet_option
from .prepare import add_ha_storage_option

HELP = "Watch a home live (MQTT, Home Assistant, a growing log): the activity of every new window."
DESCRIPTION = (
    "Follow live sensor events - mqtt://host:port/topic/# (Zigbee2MQTT JSON, plain ON/OFF or event JSON), "
    "ha://host:8123 (Home Assistant's WebSocket API; token from $HOMECLIP_HA_TOKEN) or a growing CASAS-style log "
    "file - keep the last events of each home and, for every new window (the checkpoint's window length and "
    "stride), print the recognised activity (zero-shot over the home's label descriptions, or --probe), its score "
    "and the window's caption, and append them to a SQLite timeline. Ctrl-C stops it.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `homeclip watch`."""
    parser.add_argument("--checkpoint", required=True, help="a trained best_model.pt / final_model.pt")
    parser.add_argument("--device", default="cpu", help="where the model runs: cpu, cuda, cuda:0 ... (default cpu)")
    parser.add_argument("--source", required=True, action="append", metavar="URL",
                        help="mqtt://[user@]host[:port]/topic/filter (password from $HOMECLIP_MQTT_PASSWORD), "
                             "ha://host[:port] (has:// for TLS), or a log file path; several allowed")
    parser.add_argument("--home", default=None,
                        help="home layout (packaged name or JSON; default: the checkpoint's home when packaged)")
    add_ha_storage_option(parser)
    parser.add_argument("--timeline", default="timeline.sqlite",
                        help="the append-only SQLite timeline to write (default timeline.sqlite; an existing one "
                             "is continued)")
    parser.add_argument("--level", default="l2", choices=["l1", "l2"],
                        help="label level recognised: l2 the home's coarse classes (default), l1 its fine labels")
    parser.add_argument("--probe", default=None, metavar="TRAIN_SPLIT.json",
                        help="fit the linear probe on this prepared train split and use it instead of zero-shot")
    parser.add_argument("--window", type=int, default=None,
                        help="events per window (default: the checkpoint's sequence length)")
    parser.add_argument("--stride", type=int, default=None,
                        help="events between windows (default: the run's training windows', else window // 4)")
    parser.add_argument("--max-gap", type=float, default=None,
                        help="seconds of silence that start a new segment (default: the run's, else 14400)")
    parser.add_argument("--timezone", default=None,
                        help="IANA zone of the home for times with a zone and for messages without a time "
                             "(default: Home Assistant's own zone, else this machine's)")
    parser.add_argument("--mapping", default=None, metavar="FILE",
                        help="MQTT topic/payload mapping JSON (default: Zigbee2MQTT topics, then any topic)")
    parser.add_argument("--hold", type=float, default=0.0, metavar="SECONDS",
                        help="hold events this long to re-sort those that arrive out of order (default 0)")
    parser.add_argument("--keep", type=int, default=500, help="events kept per home (default 500)")
    parser.add_argument("--from-start", action="store_true", help="a log file: read it from its start")
    parser.add_argument("--ha-token-env", default=None, metavar="NAME",
                        help="environment variable holding the Home Assistant token (default HOMECLIP_HA_TOKEN)")
    parser.add_argument("--client-id", default=None, help="MQTT client id (default: stable per timeline and source)")
    parser.add_argument("--serve-port", type=int, default=None,
                        help="also serve the timeline page on this port (127.0.0.1; 0: a free port)")
    parser.add_argument("--max-windows", type=int, default=None, help="stop after this many new windows")
    parser.add_argument("--idle-exit", type=float, default=None, metavar="SECONDS",
                        help="stop after this long without a message (e.g. replaying a file)")
    parser.add_argument("--allow-cross-home", action="store_true",
                        help="allow watching a home other than the one the checkpoint was trained on")
    add_quiet_option(parser)


def run(args: argparse.Namespace) -> int:
    """Set the watch up, run it until Ctrl-C (or a limit), print what it did."""
    import signal
    import threading

    from ..apps.watch.runner import console_line
    from ..apps.watch.session import check_home, checkpoint_windowing, set_up, watch_home
    from ..apps.watch.timeline import check_writable
    from ..console import say
    from ..data.homes.homeassistant import registry_time_zone
    from ..data.readers.times import check_timezone
    from ..training.checkpoint import load_model

    check_writable(args.timeline)                   # a folder that cannot take it fails before any model loads
    timezone = check_timezone(args.timezone) or (registry_time_zone(args.ha_storage) if args.ha_storage else None)
    model = load_model(args.checkpoint, args.device)
    home = watch_home(model, args.home, args.ha_storage)
    check_home(model, home, args.allow_cross_home)
    window = checkpoint_windowing(model, length=args.window, stride=args.stride, max_gap=args.max_gap)
    on_row = None if args.quiet else (lambda row: say(console_line(row)))
    setup = set_up(model, args.checkpoint, args.source, home, timeline=args.timeline, window=window,
                   level=args.level, probe=args.probe, timezone=timezone, mapping=args.mapping, hold_s=args.hold,
                   keep=args.keep, ha_token_env=args.ha_token_env, from_start=args.from_start,
                   mqtt_client_id=args.client_id, max_windows=args.max_windows, idle_exit_s=args.idle_exit,
                   on_row=on_row)
    page = None
    if args.serve_port is not None:
        from ..apps.server import BackgroundServer
        from ..apps.watch.web import timeline_app

        page = BackgroundServer(timeline_app(args.timeline), port=args.serve_port, option="--serve-port").start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    say(f"Watching {', '.join(s.name for s in setup.sources)} for home {home.name}: {setup.info['method']} "
        f"({args.level}), windows of {window.length} events every {window.effective_stride}; timeline "
        f"{args.timeline}" + (f"; page {page.url}timeline" if page else ""))
    try:
        summary = setup.watcher.run(setup.sources, stop)
    except KeyboardInterrupt:
        summary = setup.watcher.summary
    finally:
        setup.timeline.close()
        if page is not None:
            page.stop()
    say(summary.sentence())
    return 0
