"""Names and folders that come from outside: a name that becomes part of a path must be a plain name, and
cache folders come from the command line or the environment, never from a file homeclip reads.

Cache location rule (the same for training, `features`, evaluation and inference): the folder given on the
command line (or the training config's own key), else `$HOMECLIP_CACHE_DIR/<kind>`, else
`.cache/homeclip/<kind>` below the working folder. A checkpoint's saved config is never consulted, so a
checkpoint cannot decide where files are written.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import UserError

CACHE_ENV = "HOMECLIP_CACHE_DIR"
DEFAULT_CACHE_ROOT = Path(".cache") / "homeclip"
PLAIN_NAME = "a plain name (letters, digits, '_' or '-', starting with a letter or digit, at most 64 characters)"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def is_plain_name(text: object) -> bool:
    """Whether `text` can safely become one path component: no separators, no '..', no hidden names."""
    return isinstance(text, str) and _PLAIN_NAME.fullmatch(text) is not None


def plain_name(text: str, what: str, *, path: str | None = None) -> str:
    """`text` when it is a plain name (see `is_plain_name`), else a UserError saying what was expected."""
    if not is_plain_name(text):
        raise UserError(f"{what} must be {PLAIN_NAME}, found {text!r}", path=path)
    return text


def cache_dir(kind: str, given: str | os.PathLike | None = None) -> Path:
    """The cache folder of one kind ("features", "text"): `given`, else $HOMECLIP_CACHE_DIR/<kind>, else
    .cache/homeclip/<kind>."""
    if given:
        return Path(given)
    root = os.environ.get(CACHE_ENV)
    return (Path(root) if root else DEFAULT_CACHE_ROOT) / kind
