"""The one `homeclip` command. Each subcommand lives in `homeclip.commands.<name>` and exposes
`HELP` (one line), optionally `DESCRIPTION`, `add_arguments(parser)` and `run(args) -> int`. Command modules
import only the standard library at top level, so `homeclip --help` stays fast and a subcommand only pays for
what it uses."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from .errors import UserError

# In the order `homeclip --help` lists them (data -> encoders -> training -> evaluation -> the main job).
COMMANDS = ("simulate", "prepare", "download", "features", "train", "evaluate", "compare", "search", "benchmark",
            "demo", "label")


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="homeclip",
        description="Teach machines to read smart-home sensor logs: windows, captions, CLIP-style alignment.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"homeclip.commands.{name}")
        p = sub.add_parser(name, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP))
        module.add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `homeclip` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    module = importlib.import_module(f"homeclip.commands.{args.command}")
    return run_command(module, args, f"homeclip {args.command}", verbose=args.verbose)


def script_main(command: str, prog: str, argv: list[str] | None = None) -> int:
    """One command under another name: the original design's scripts (train_chronos_clip.py, ...)."""
    module = importlib.import_module(f"homeclip.commands.{command}")
    parser = argparse.ArgumentParser(prog=prog, description=getattr(module, "DESCRIPTION", module.HELP))
    module.add_arguments(parser)
    return run_command(module, parser.parse_args(argv), prog)


def run_command(module, args: argparse.Namespace, prog: str, *, verbose: bool = False) -> int:
    """Run a command module: user errors as one line (their exit code), Ctrl-C as 130, never a traceback."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(module.run(args) or 0)
    except UserError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
