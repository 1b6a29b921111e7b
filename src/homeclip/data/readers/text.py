"""A log file's text: encoding, line ends and control characters, with one clear sentence for a missing,
empty or binary file.

- UTF-8 (with or without a BOM); UTF-16 and UTF-32 (with a BOM, or recognised by their pattern of zero
  bytes) are decoded and noted; other bytes are read as Windows-1252, else Latin-1, when they look like text.
- LF, CRLF and lone CR all end a line, in any mix (a CR-ended line is never glued to the next).
- A control character inside a line (NUL, BEL, ESC, form feed, vertical tab, U+2028, a BOM in mid-file...)
  makes that line a bad line: readers see its number in `TextLines.control`, never the character.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import UserError
from ..events import ParseReport

SNIFF_BYTES = 65536
# C0 and C1 controls except tab (line ends are removed before the scan), DEL, line/paragraph separators and
# a BOM that is not at the start of the file: none belongs inside a field of a text log.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
BINARY_SHARE = 0.01          # more control bytes than this share of the file's start (and at least
BINARY_MIN = 3               # this many): a binary file; fewer make their lines bad lines
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32", "UTF-32"), (b"\x00\x00\xfe\xff", "utf-32", "UTF-32"),
         (b"\xff\xfe", "utf-16", "UTF-16"), (b"\xfe\xff", "utf-16", "UTF-16"))


@dataclass
class TextLines:
    """The lines of a text log (without line ends) and the lines that hold a control character."""

    lines: list[str]
    control: dict[int, str] = field(default_factory=dict)   # 1-based line number -> "U+0007" (first found)


def existing_file(path: str | Path) -> Path:
    """`path` as a Path; UserError when it does not exist or is not a regular file."""
    path = Path(path)
    if not path.exists():
        raise UserError("no such file", path=str(path))
    if not path.is_file():
        raise UserError("is not a regular file (a directory?); expected a sensor log file", path=str(path))
    return path


def wide_encoding(head: bytes) -> tuple[str, str] | None:
    """(codec, display name) when the bytes are UTF-16/UTF-32 text (a BOM, or the zero-byte pattern of
    mostly-ASCII text); None otherwise."""
    for bom, codec, name in _BOMS:
        if head.startswith(bom):
            return codec, name
    n = len(head) - len(head) % 4
    if n < 8:
        return None
    zero = (np.frombuffer(head[:n], dtype=np.uint8).reshape(-1, 4) == 0).mean(axis=0)
    if zero[1:].min() > 0.9 and zero[0] < 0.5:
        return "utf-32-le", "UTF-32-LE"
    if zero[:3].min() > 0.9 and zero[3] < 0.5:
        return "utf-32-be", "UTF-32-BE"
    odd, even = (zero[1] + zero[3]) / 2, (zero[0] + zero[2]) / 2
    if odd > 0.9 and even < 0.5:
        return "utf-16-le", "UTF-16-LE"
    if even > 0.9 and odd < 0.5:
        return "utf-16-be", "UTF-16-BE"
    return None


def decode_text(data: bytes, path: str | Path, *, partial: bool = False) -> tuple[str, str | None]:
    """(text, note) of a log's bytes; `partial` for the first block of a file (may end inside a character).

    One-sentence UserError for an empty or binary file, or UTF-16/32 bytes that do not decode."""
    path = str(path)
    wide = wide_encoding(data[:SNIFF_BYTES])
    if wide is not None:
        codec, name = wide
        try:
            text = data.decode(codec, errors="replace" if partial else "strict")
        except UnicodeDecodeError as err:
            raise UserError(f"looks like {name} text but byte {err.start} does not decode; convert it to UTF-8 "
                            f"(e.g. iconv -f {name} -t UTF-8)", path=path) from None
        _check_not_empty(text, path)
        return text.lstrip("\ufeff"), f"{path}: {name} text decoded (UTF-8 is expected; converting it is advised)"
    _check_not_empty(data.removeprefix(b"\xef\xbb\xbf").decode("latin-1"), path)
    head = data[:SNIFF_BYTES]
    n_control = len(_CONTROL_BYTES.findall(head))
    if n_control >= BINARY_MIN and n_control > BINARY_SHARE * len(head):
        first = _CONTROL_BYTES.search(head)
        raise UserError(f"is a binary file ({n_control} control bytes in its first {len(head)}, e.g. "
                        f"0x{head[first.start()]:02x} at offset {first.start()}), not a text sensor log", path=path)
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as err:
        if partial and err.start >= len(data) - 3:
            return data[: err.start].decode("utf-8-sig"), None
    try:
        return data.decode("cp1252"), f"{path}: not valid UTF-8; read as Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), f"{path}: not valid UTF-8; read as Latin-1"


def _check_not_empty(text: str, path: str) -> None:
    if not text.lstrip("\ufeff").strip():
        raise UserError("the file is empty; expected a sensor log", path=path)


def split_lines(text: str) -> list[str]:
    """Lines without their ends: LF, CRLF and lone CR in any mix; no empty last line for a final line end."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def control_lines(lines: list[str]) -> dict[int, str]:
    """1-based numbers of the lines holding a control character -> that character as U+XXXX (first per line)."""
    joined = "\n".join(lines)
    found: dict[int, str] = {}
    line, scanned = 1, 0
    for match in CONTROL.finditer(joined):
        line += joined.count("\n", scanned, match.start())
        scanned = match.start()
        found.setdefault(line, f"U+{ord(match.group()):04X}")
    return found


def read_text_lines(path: str | Path, report: ParseReport) -> TextLines:
    """The lines of a text log and its control-character lines; counts lines in report.n_lines, notes the
    encoding when it is not UTF-8."""
    path = existing_file(path)
    text, note = decode_text(path.read_bytes(), path)
    if note:
        report.notes.append(note)
    lines = split_lines(text)
    report.n_lines += len(lines)
    return TextLines(lines, control_lines(lines))


def read_head_lines(path: str | Path, limit: int) -> list[str]:
    """The first `limit` non-blank lines of a log (for format detection), read from its first block."""
    path = existing_file(path)
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    text, _ = decode_text(head, path, partial=True)
    lines = [ln for ln in split_lines(text) if ln.strip()]
    if not lines:
        raise UserError("the file is empty; expected a sensor log", path=str(path))
    if len(head) == SNIFF_BYTES and len(lines) > 1:
        lines.pop()                    # the last line may be cut in the middle
    return lines[:limit]


def quote(line: str, limit: int = 80) -> str:
    """A line as quoted in error messages: stripped, shortened, control characters escaped (repr)."""
    line = line.strip()
    return repr(line if len(line) <= limit else line[: limit - 3] + "...")
