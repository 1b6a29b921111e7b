"""User-facing errors: the CLI prints them as one line and exits non-zero, never with a traceback."""
from __future__ import annotations


class UserError(Exception):
    """Bad input or configuration from the user (exit code 2)."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


class BackendUnavailable(UserError):
    """A model (Chronos backbone or text encoder) could not be loaded and fallback is not allowed."""
