"""What a command shows on the terminal: homeclip's own log lines (third-party INFO lines stay out), each
warning once (a fallback is announced once, however many times it is met), progress bars only for a person at
a terminal, only rank 0 speaking under torchrun, and log-derived text stripped of control characters."""
from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings

from .terminal import printable_lines

FORMAT = "%(levelname)s %(name)s: %(message)s"


def clean(text: object) -> str:
    """`text` safe for the terminal: control characters made visible (`terminal.printable`), line breaks kept."""
    return printable_lines(str(text))


def say(text: object = "") -> None:
    """Print a result line for the user (log-derived strings inside it cannot drive the terminal)."""
    print(clean(text), flush=True)


def rank() -> int:
    """This process's rank under torchrun (0 otherwise)."""
    try:
        return int(os.environ.get("RANK", "0") or 0)
    except ValueError:
        return 0


def progress_enabled(quiet: bool = False) -> bool:
    """Progress bars only for a person at a terminal: not with --quiet, not into a log file, not on rank > 0."""
    return not quiet and rank() == 0 and sys.stderr.isatty()


def add_quiet_option(parser: argparse.ArgumentParser, *aliases: str) -> None:
    """The one --quiet of prepare, train, evaluate and search."""
    parser.add_argument("-q", "--quiet", *aliases, dest="quiet", action="store_true",
                        help="print only warnings, errors and the result (no progress bars or stage lines)")


class _StderrHandler(logging.StreamHandler):
    """A handler that writes to whatever sys.stderr is at the time (tests and tools swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class _CleanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return clean(super().format(record))


class _OncePerMessage(logging.Filter):
    """Drops a warning already shown by this command (e.g. the same fallback met by two training runs)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[str, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # A Python warning becomes one log line (no source line echoed), so it is cleaned and shown once.
    ours = category.__module__.startswith("homeclip")
    text = str(message).strip() if ours else f"{category.__name__}: {str(message).strip()}"
    logging.getLogger("homeclip" if ours else "py.warnings").warning("%s", text)


def configure(*, verbose: bool = False, quiet: bool = False) -> None:
    """Set up logging and warnings for one command (idempotent: calling it again replaces the set-up)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(_CleanFormatter(FORMAT))
    handler.addFilter(_OncePerMessage())
    root.addHandler(handler)
    root.setLevel(logging.WARNING)      # libraries' INFO lines (sentence-transformers, ...) stay out
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.getLogger("homeclip").setLevel(level)
    warnings.showwarning = _show_warning
    # Model libraries draw their own loading bars; they read these before their first import.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    if rank() != 0:   # under torchrun only rank 0 speaks; errors still reach stderr from every rank
        root.setLevel(logging.ERROR)
        logging.getLogger("homeclip").setLevel(logging.ERROR)
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
