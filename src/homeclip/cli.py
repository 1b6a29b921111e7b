"""The one `homeclip` command. Each subcommand lives in `homeclip.commands.<name>` and exposes
`HELP` (one line), optionally `DESCRIPTION`, `add_arguments(parser)` and `run(args) -> int`. Command modules
import only the standard library at top level, so `homeclip --help` stays fast and a subcommand only pays for
what it uses."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
import threading

from . import __version__
from .console import configure as configure_console
from .errors import UserError

# In the order `homeclip --help` lists them (data -> encoders -> training -> evaluation -> the main job).
COMMANDS = ("simulate", "prepare", "download", "features", "train", "evaluate", "compare", "search", "serve",
            "label", "watch", "benchmark", "demo")


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="homeclip",
        description="Teach machines to read smart-home sensor logs: windows, captions, CLIP-style alignment.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="more log output (debug lines)")
    parser.add_argument("--version", action="version", version=f"homeclip {__version__}",
                        help="print the installed homeclip version and exit")
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
    """Run a command module: user errors and file-system faults (read-only, full disk, permission denied,
    missing folder) as one line with exit code 2, Ctrl-C as 130, never a traceback."""
    from .io import describe_os_error
    from .terminal import printable

    configure_console(verbose=verbose, quiet=bool(getattr(args, "quiet", False)))
    previous_hook = threading.excepthook

    def background_fault(hook_args) -> None:
        # A library's writer thread (TensorBoard's) dies on a full or read-only disk: a log line, not a
        # traceback; the library re-raises the error in the main thread, which ends with the one error line.
        if isinstance(hook_args.exc_value, OSError):
            logging.getLogger("homeclip").warning("a background writer stopped: %s",
                                                  printable(describe_os_error(hook_args.exc_value)))
        else:
            previous_hook(hook_args)

    threading.excepthook = background_fault
    try:
        return int(module.run(args) or 0)
    except UserError as err:
        print(f"{prog}: error: {printable(err)}", file=sys.stderr)
        return err.exit_code
    except OSError as err:
        print(f"{prog}: error: {printable(describe_os_error(err))}", file=sys.stderr)
        return UserError.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    finally:
        threading.excepthook = previous_hook


if __name__ == "__main__":
    sys.exit(main())
