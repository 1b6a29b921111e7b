"""The one `homeclip` command. Each subcommand lives in `homeclip.commands.<name>` and exposes
`HELP` (one line), `add_arguments(parser)` and `run(args) -> int`; modules are imported lazily so
`homeclip --help` stays fast and a subcommand only pays for what it uses."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from .errors import UserError

COMMANDS: dict[str, str] = {
    "simulate": "Simulate a resident in a packaged home layout and write a CASAS-format log.",
    "prepare": "Read a raw log, cut windows, caption them, split by day and write a processed dataset.",
    "download": "Download and safely extract an official CASAS archive (needs internet).",
    "features": "Extract and cache frozen-backbone features for a processed dataset.",
    "train": "Train a sensor encoder CLIP-style against a frozen text encoder.",
    "evaluate": "Evaluate any checkpoint: zero-shot, probe, k-NN, retrieval, baselines, HTML report.",
    "compare": "Put several evaluations side by side in one table (Markdown and HTML).",
    "search": "Search windows with free text using a trained checkpoint.",
    "demo": "The main job: simulate, prepare, train both encoders, evaluate, compare, report.",
}


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="homeclip",
        description="Teach machines to read smart-home sensor logs: windows, captions, CLIP-style alignment.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"homeclip.commands.{name}")
        p = sub.add_parser(name, help=help_text, description=getattr(module, "DESCRIPTION", help_text))
        module.add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `homeclip` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    if not args.command:
        parser.print_help()
        return 2
    module = importlib.import_module(f"homeclip.commands.{args.command}")
    try:
        return int(module.run(args) or 0)
    except UserError as err:
        print(f"homeclip {args.command}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"homeclip {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
