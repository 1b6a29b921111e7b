"""`homeclip serve`: a local web app over a trained run: free-text search, the reports, the comparison."""
from __future__ import annotations

import argparse

HELP = "Serve a local web app over a trained run: free-text search, evaluation reports, comparison."
DESCRIPTION = (HELP + " RUN is a run folder (e.g. runs/demo from `homeclip demo`, or a training output_dir); its "
               "checkpoints, test split, reports and comparison are found inside it. Models load once at start-up, "
               "then every query costs one text embedding. JSON: /api/search?q=..., /api/models, /api/reports "
               "(docs/serve.md).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Run folder, explicit files, address, device, cache."""
    parser.add_argument("run", nargs="?", default=None, help="run folder (default: none; then give --checkpoint)")
    parser.add_argument("--checkpoint", action="append", default=None, metavar="PATH",
                        help="a checkpoint to serve (repeatable; default: every best_model.pt in RUN)")
    parser.add_argument("--data", action="append", default=None, metavar="SPLIT.json",
                        help="prepared split(s) to search (repeatable; default: the model's test split)")
    parser.add_argument("--reports", action="append", default=None, metavar="EVAL_DIR",
                        help="evaluation folder(s) to show (default: every report.html in RUN)")
    parser.add_argument("--timeline", default=None, metavar="TIMELINE.sqlite",
                        help="also show the live timeline `homeclip watch --timeline` writes (read-only; default: "
                             "RUN/timeline.sqlite when there is one)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    parser.add_argument("--device", default="cpu", help="device the models run on: cpu or cuda (default: cpu)")
    parser.add_argument("--cache-dir", default=None,
                        help="search cache folder (default $HOMECLIP_CACHE_DIR or ~/.cache/homeclip)")
    parser.add_argument("--batch-size", "--batch_size", dest="batch_size", type=int, default=256,
                        help="windows embedded per batch (default: 256)")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads per query (default 1: fastest for one short query on a shared CPU)")


def run(args: argparse.Namespace) -> int:
    """Find the run's files, load the models and indices, then serve until Ctrl-C."""
    import sys
    from pathlib import Path

    from ..apps.catalog import find_run
    from ..apps.server import LOOPBACK, bind, limit_threads, serve, url_of
    from ..errors import UserError

    if args.threads < 1:
        raise UserError(f"--threads must be at least 1, got {args.threads}")
    catalog = find_run(args.run, checkpoints=args.checkpoint, data=args.data, reports=args.reports)
    timeline = args.timeline or (str(catalog.root / "timeline.sqlite") if catalog.root is not None and
                                 (catalog.root / "timeline.sqlite").is_file() else None)
    if args.timeline and Path(args.timeline).exists() and not Path(args.timeline).is_file():
        raise UserError("is not a file; expected the timeline database `homeclip watch --timeline` writes",
                        path=args.timeline)
    sock = bind(args.host, args.port)             # before the slow part: a busy port fails at once
    if args.host not in (LOOPBACK, "localhost", "::1"):
        print(f"homeclip serve: warning: listening on {args.host}: anyone who can reach this machine can search "
              "this home's activity; there is no authentication", file=sys.stderr)
    print(catalog.describe(), flush=True)
    from ..apps.engine import SearchEngine
    from ..apps.web import AppContext, create_app

    engine = SearchEngine.load(catalog, device=args.device, cache_dir=args.cache_dir, batch_size=args.batch_size)
    limit_threads(args.threads)                   # after loading: building an index uses every core
    for m in engine.describe()["models"]:
        print(f"loaded {m['name']}: {m['encoder']}, backbone {m['backbone']}, text {m['text_encoder']} "
              f"({m['load_s']:.1f} s)", flush=True)
    if timeline:
        print(f"timeline: {timeline} at {url_of(sock)}timeline", flush=True)
    app = create_app(AppContext(catalog=catalog, engine=engine, settings={"timeline": timeline} if timeline else {}))
    print(f"serving {engine.describe()['n_windows']} windows at {url_of(sock)}  (Ctrl-C to stop)", flush=True)
    serve(app, sock)
    return 0
