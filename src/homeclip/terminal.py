"""What reaches the terminal: strings that came from a log (sensor names, states, labels, quoted lines) are
shown with their control characters made visible, so a log can never move the cursor, recolour the screen,
hide text or reorder it (ANSI escapes, carriage returns, bidirectional overrides)."""
from __future__ import annotations

import re

# C0/C1 controls (newline and tab included: they come from a log line only by accident), invisible
# formatting and bidirectional controls, line/paragraph separators, lone surrogates (undecodable bytes).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
                      "\ufeff\ufff9-\ufffb\ud800-\udfff]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """`text` as one safe line for the terminal: every control character replaced by its \\xNN / \\uNNNN escape."""
    return _CONTROL.sub(_escape, str(text))


def printable_lines(text: str) -> str:
    """Several lines for the terminal: each line made `printable`, the line breaks kept."""
    return "\n".join(printable(line) for line in str(text).split("\n"))
