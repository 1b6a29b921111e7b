"""A growing log file as a live source (`tail -F`): CASAS-style lines `date time sensor state [annotation]`
appended by a logger, followed across rotation (the path now names a new file: the old one is read to its end,
then the new one from its start) and truncation (the file got shorter: read again from its start). A line is
delivered once it ends with a newline; a line that cannot be read is malformed (counted, skipped)."""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from ..readers.common import reading_value
from ..readers.text import CONTROL
from ..readers.times import parse_timestamps
from .events import Arrival, LiveEvent, Malformed
from .sources import Sink, SourceOptions, ThreadedSource

log = logging.getLogger(__name__)
POLL_S = 0.1
_MAX_LINE = 4096


def parse_line(line: str) -> LiveEvent:
    """One CASAS-style line -> its event (a numeric state gives a reading); Malformed otherwise."""
    if CONTROL.search(line):
        raise Malformed("a control character in the line")
    toks = line.split()
    if len(toks) < 4:
        raise Malformed(f"expected 'date time sensor state', found {line[:80]!r}")
    stamp = parse_timestamps([f"{toks[0]} {toks[1]}"])[0]
    if stamp != stamp:          # NaT
        raise Malformed(f"expected a timestamp 'YYYY-MM-DD HH:MM:SS[.ffffff]', found {toks[0]} {toks[1]!r}")
    value = reading_value(toks[3])
    if value is None:
        raise Malformed(f"expected a state word or a finite number, found {toks[3]!r}")
    state = "" if value == value else toks[3].upper()
    return LiveEvent(int(stamp.astype("datetime64[us]").astype("int64")), toks[2], state, value)


class TailSource(ThreadedSource):
    """Follows one file (see the module docstring)."""

    thread_name = "homeclip-tail"

    def __init__(self, path: Path, options: SourceOptions):
        super().__init__()
        self.path, self.options, self.name = path, options, f"file://{path}"

    def _run(self, sink: Sink) -> None:
        fh, partial, first = None, b"", True
        while not self._stop.is_set():
            if fh is None:
                fh = self._open(at_end=first and not self.options.from_start)
                first = False
                if fh is None:
                    self._stop.wait(POLL_S * 5)
                    continue
            chunk = fh.read(1 << 16)
            if chunk:
                partial = self._deliver(partial + chunk, sink)
                continue
            if self._replaced(fh):
                fh.close()
                fh, partial = self._open(at_end=False), b""
                continue
            if self._truncated(fh):
                fh.seek(0)
                partial = b""
            self._stop.wait(POLL_S)
        if fh is not None:
            fh.close()

    def _open(self, *, at_end: bool):
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - kept open while following
        except FileNotFoundError:
            return None
        if at_end:
            fh.seek(0, os.SEEK_END)
        return fh

    def _replaced(self, fh) -> bool:
        """The path names another file now (rotated away), or none yet."""
        try:
            return os.stat(self.path).st_ino != os.fstat(fh.fileno()).st_ino
        except FileNotFoundError:
            return False             # rotated, the new file not there yet: keep the old one until it is

    def _truncated(self, fh) -> bool:
        try:
            return os.stat(self.path).st_size < fh.tell()
        except FileNotFoundError:
            return False

    def _deliver(self, data: bytes, sink: Sink) -> bytes:
        """Deliver the complete lines of `data`; return the unfinished rest."""
        *lines, rest = data.split(b"\n")
        for raw in lines:
            received = time.perf_counter()
            text = raw.rstrip(b"\r")
            if not text.strip():
                continue
            try:
                line = text.decode("utf-8")
                if len(line) > _MAX_LINE:
                    raise Malformed(f"a line of {len(line)} characters")
                sink(Arrival(self.name, received, events=[parse_line(line)]))
            except UnicodeDecodeError:
                sink(Arrival(self.name, received, malformed="a line that is not UTF-8 text"))
            except Malformed as err:
                sink(Arrival(self.name, received, malformed=str(err)))
        if len(rest) > _MAX_LINE:
            sink(Arrival(self.name, time.perf_counter(), malformed=f"a line of more than {_MAX_LINE} bytes"))
            return b""
        return rest
