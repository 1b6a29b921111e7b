"""Property-based fuzzing of the readers and of `homeclip prepare`: random line mutations (junk fields, deleted,
repeated and swapped lines, cut lines, control characters), line-end mixes and encodings over a valid log of
every format. Every input gives either a clean success (an EventLog that keeps the contract; a complete
dataset) or one sentence naming the file (and the line when a line is at fault), exit 2 and no output —
never a traceback (any other exception fails the test and hypothesis shrinks it).

The default profile tries a few hundred inputs (about 15 s); the long profile, marked slow and run only when
asked (`HOMECLIP_FUZZ_LONG=1 pytest -m slow tests/test_fuzz_readers.py`), tries 1300 more.
Set HOMECLIP_FUZZ_COUNTS=FILE to write the tally (inputs tried, clean errors, clean successes) as JSON.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from homeclip import cli  # noqa: E402
from homeclip.data.events import EVENT_COLUMNS  # noqa: E402
from homeclip.data.readers import read_log  # noqa: E402
from homeclip.data.readers.text import CONTROL  # noqa: E402
from homeclip.errors import UserError  # noqa: E402

TALLY: Counter = Counter()
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = pytest.mark.skipif(not os.environ.get("HOMECLIP_FUZZ_LONG"),
                          reason="long fuzz profile: set HOMECLIP_FUZZ_LONG=1 to run it")


def _casas(days: int = 3, per_day: int = 12) -> str:
    lines = []
    for d in range(days):
        for i in range(per_day):
            note = {0: " Cook begin", per_day - 1: " Cook end", 5: " Phone-begin", 7: " Phone-end"}.get(i, "")
            lines.append(f"2010-01-0{d + 1} 08:{i:02d}:0{i % 10}.{i * 1234:06d} M00{i % 3} "
                         f"{'ON' if i % 2 == 0 else 'OFF'}{note}")
        lines.append(f"2010-01-0{d + 1} 09:00:00 T001 21.{d}")
    return "\n".join(lines) + "\n"


def _labelled(days: int = 3, per_day: int = 12) -> str:
    return "".join(f"2011-06-1{d + 5} 01:{i:02d}:39.14962 Bedroom Bed{'Light' if i % 2 else ''} "
                   f"{'ON' if i % 2 == 0 else 'OFF'} {'Sleep' if i < 6 else 'Other_Activity'}\n"
                   for d in range(days) for i in range(per_day))


SENSORS = ("Start time          \tEnd time            \tLocation\tType\tPlace\r\n"
           "--------------------\t--------------------\t--------\t----\t-----\r\n"
           + "".join(f"2011-11-{28 + d} {h:02d}:10:00\t\t2011-11-{28 + d} {h:02d}:12:30\t\tBasin\tPIR\tBathroom\r\n"
                     for d in range(3) for h in range(6, 12)))
ADLS = ("Start time          \tEnd time            \tActivity\r\n"
        "--------------------\t--------------------\t--------\r\n"
        + "".join(f"2011-11-{28 + d} 06:00:00\t2011-11-{28 + d} 09:00:00\tGrooming\t\r\n" for d in range(3)))
SENSE = ("Sensor IDs are: \r\n    [ 2]    'Coat hook'\r\n    [11]    'Hall door'\r\n\r\n"
         "Start time          \tEnd time            \tID\tVal\r\n--------------------\t--------------------\t--\t---\r\n"
         + "".join(f"0{d + 3}-Jan-2009 {h:02d}:00:00\t0{d + 3}-Jan-2009 {h:02d}:00:05\t{2 if h % 2 else 11}\t1\r\n"
                   for d in range(3) for h in range(6, 12)) + "Length: 18")
ACT = ("activity id list:\r\n3: 'brush teeth'\r\n\r\nStart time          \tEnd time            \tID\r\n"
       "--------------------\t--------------------\t--\r\n"
       + "".join(f"0{d + 3}-Jan-2009 06:30:00\t0{d + 3}-Jan-2009 08:30:00\t3\r\n" for d in range(3)) + "Length: 3")
TABLE = "time,device,state,label\n" + "".join(
    f"2020-05-0{d + 1}T08:{i:02d}:00,M{i % 3},{'on' if i % 2 == 0 else 'off'},{'Cook' if i < 5 else ''}\n"
    for d in range(3) for i in range(12))

# name -> (file name, text, companion file name, companion text)
BASES = {
    "casas": ("log.txt", _casas(), None, None),
    "casas-labelled": ("data.txt", _labelled(), None, None),
    "intervals": ("HomeX_Sensors.txt", SENSORS, "HomeX_ADLs.txt", ADLS),
    "kasteren": ("homeSenseData.txt", SENSE, "homeActData.txt", ACT),
    "table": ("events.csv", TABLE, None, None),
}
JUNK = ["ERROR:", "OFFc", "0.2888721.6", "/var/log/x.log", "inf", "-inf", "nan", "1e999", "23:59:60", "24:00:00",
        "-2009-10-16", "0000-01-01", "1970-01-01", "2010-02-30", "begin", "end", "Cook-begin", "", "\t", ",", '"',
        "ON", "21.5", "'quoted'", "Length: 99", "Start time\tEnd time\tID", "--------", "é", "\u2028", "\ufeff"]
CONTROLS = [chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127, 0x85)] + ["\u2028", "\ufeff"]
CODECS = ["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252", "latin-1"]


@st.composite
def mutated_lines(draw, text: str) -> list[str]:
    """The lines of `text` after a few random mutations."""
    lines = text.replace("\r\n", "\n").split("\n")
    for _ in range(draw(st.integers(0, 4))):
        if not lines:
            lines = [""]
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["field", "field", "control", "delete", "duplicate", "swap", "cut", "insert"]))
        line = lines[i]
        if op == "field":
            parts = re.split(r"([ \t,]+)", line)
            j = draw(st.integers(0, max(len(parts) - 1, 0)))
            parts[j:j + 1] = [draw(st.one_of(st.sampled_from(JUNK), st.text(max_size=8)))]
            lines[i] = "".join(parts)
        elif op == "control":
            k = draw(st.integers(0, len(line)))
            lines[i] = line[:k] + draw(st.sampled_from(CONTROLS)) + line[k:]
        elif op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, line)
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "cut":
            lines[i] = line[: draw(st.integers(0, len(line)))]
        else:
            lines.insert(i, draw(st.one_of(st.sampled_from(JUNK), st.text(max_size=40))))
    return lines


@st.composite
def encoded(draw, lines: list[str]) -> bytes:
    """Lines joined with a random mix of LF, CR and CRLF, encoded with a random codec; sometimes a few bytes
    of the result are cut off or replaced."""
    ends = draw(st.lists(st.sampled_from(["\n", "\r", "\r\n"]), min_size=len(lines), max_size=len(lines)))
    text = "".join(line + end for line, end in zip(lines, ends))
    if draw(st.booleans()):
        text = text[:-1]                         # no final line end
    data = text.encode(draw(st.sampled_from(CODECS)), errors="replace")
    if data and draw(st.integers(0, 9)) == 0:
        k = draw(st.integers(0, len(data) - 1))
        data = data[:k] + draw(st.binary(max_size=4)) + data[k + 1:]
    return data


@st.composite
def fuzzed_inputs(draw) -> dict:
    """A base log of some format (and its companion file), mutated and encoded."""
    name = draw(st.sampled_from(sorted(BASES)))
    file_name, text, companion, companion_text = BASES[name]
    files = {file_name: draw(encoded(draw(mutated_lines(text))))}
    if companion is not None:
        mutate = draw(st.booleans())
        files[companion] = draw(encoded(draw(mutated_lines(companion_text)))) if mutate else \
            companion_text.encode()
    return {"format": name, "files": files, "main": file_name, "skip": draw(st.booleans()),
            "explicit": draw(st.booleans())}


def _write(folder: Path, case: dict) -> Path:
    for name, data in case["files"].items():
        (folder / name).write_bytes(data)
    return folder / case["main"]


def check_clean_error(message: str, folder: Path) -> None:
    """One sentence that names a file of the input (and its line, when it has one)."""
    assert "\n" not in message and "\r" not in message, message
    assert message.startswith(str(folder)), message
    assert re.match(rf"{re.escape(str(folder))}/[^:]+(:\d+)?: \S", message), message


def check_event_log(log) -> None:
    """The EventLog contract on whatever a fuzzed input produced."""
    f = log.frame
    assert list(f.columns) == list(EVENT_COLUMNS)
    assert f["time"].dtype == np.dtype("datetime64[us]") and not f["time"].isna().any()
    years = f["time"].dt.year
    assert ((years >= 1980) & (years <= 2099)).all()
    source, time = f["source"].to_numpy().astype(np.int64), f["time"].to_numpy().astype(np.int64)
    assert (np.diff(source) >= 0).all() and (np.diff(time)[np.diff(source) == 0] >= 0).all()
    assert len(f) == log.report.n_events > 0
    for column in ("sensor", "state"):
        values = f[column].astype(str)
        assert (values != "").all() and not values.str.contains(CONTROL.pattern, regex=True).any()
    for labels, label in zip(f["labels"], f["label"]):
        assert isinstance(labels, tuple) and label == (labels[-1] if labels else "")
    assert np.isfinite(log.numeric["value"].to_numpy()).all()


def _read_fuzzed(case: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = _write(folder, case)
        fmt = {"kasteren": "intervals"}.get(case["format"], case["format"]) if case["explicit"] else "auto"
        TALLY["readers: inputs tried"] += 1
        try:
            log = read_log(path, fmt, skip_bad_lines=case["skip"])
        except UserError as err:
            check_clean_error(str(err), folder)
            TALLY["readers: clean errors"] += 1
            return
        check_event_log(log)
        TALLY["readers: clean successes"] += 1


@FAST
@given(case=fuzzed_inputs())
def test_fuzzed_logs_read_cleanly_or_fail_with_one_sentence(case):
    _read_fuzzed(case)


@pytest.mark.slow
@LONG
@SLOW
@given(case=fuzzed_inputs())
def test_fuzzed_logs_read_cleanly_or_fail_with_one_sentence_long(case):
    _read_fuzzed(case)


@st.composite
def fuzzed_folders(draw) -> dict:
    """Two sessions of one format in a folder (plus a README), each mutated: several files at once."""
    name = draw(st.sampled_from(["casas", "casas-labelled", "table"]))
    file_name, text, _, _ = BASES[name]
    stem, dot, suffix = file_name.rpartition(".")
    files = {f"{stem}{k}.{suffix}": draw(encoded(draw(mutated_lines(session(text, k))))) for k in (1, 2)}
    files["README.md"] = b"# two sessions\n"
    return {"format": name, "files": files, "skip": draw(st.booleans())}


def session(text: str, k: int) -> str:
    """The base log moved k years later: another session of the same home."""
    return re.sub(r"\b(20\d\d)-", lambda m: f"{int(m.group(1)) + k}-", text)


def _prepare_fuzzed(case: dict, home: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "raw"
        folder.mkdir()
        for name, data in case["files"].items():
            (folder / name).write_bytes(data)
        out = Path(tmp) / "out"
        args = ["prepare", "--raw", str(folder), "--home", home, "--window", "4", "--stride", "2", "--quiet",
                "--out", str(out)] + (["--skip-bad-lines"] if case["skip"] else [])
        stderr = io.StringIO()
        TALLY["prepare: inputs tried"] += 1
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(args)
        errors = [ln for ln in stderr.getvalue().splitlines() if ln.startswith("homeclip prepare: error: ")]
        assert "Traceback" not in stderr.getvalue()
        if code == 0:
            written = sorted(p.name for p in out.iterdir())
            assert len(written) == 8 and f"{'no_layout' if home == 'none' else home}_summary.json" in written
            TALLY["prepare: clean successes"] += 1
        else:
            assert code == 2 and len(errors) == 1, stderr.getvalue()
            assert not out.exists() or not any(out.iterdir())            # never a partial dataset
            assert not [p for p in Path(tmp).iterdir() if p.name.startswith(".")]
            TALLY["prepare: clean errors"] += 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=fuzzed_folders(), home=st.sampled_from(["milan", "none"]))
def test_fuzzed_prepare_gives_a_dataset_or_exit_2_and_nothing(case, home):
    _prepare_fuzzed(case, home)


@pytest.mark.slow
@LONG
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=fuzzed_folders(), home=st.sampled_from(["milan", "none"]))
def test_fuzzed_prepare_gives_a_dataset_or_exit_2_and_nothing_long(case, home):
    _prepare_fuzzed(case, home)


def test_the_unmutated_bases_read_cleanly():
    """The fuzz starts from valid logs: each base reads with no bad line (so mutations are what fails)."""
    for name in BASES:
        _read_fuzzed({"format": name, "files": {BASES[name][0]: BASES[name][1].encode(),
                                                **({BASES[name][2]: BASES[name][3].encode()} if BASES[name][2] else {})},
                      "main": BASES[name][0], "skip": False, "explicit": False})
    assert TALLY["readers: clean successes"] >= len(BASES)


@pytest.mark.parametrize("name", ["casas", "casas-labelled", "table"])
def test_the_unmutated_folders_prepare(name):
    """The prepare fuzz starts from folders that prepare cleanly."""
    file_name, text, _, _ = BASES[name]
    stem, _, suffix = file_name.rpartition(".")
    files = {f"{stem}{k}.{suffix}": session(text, k).encode() for k in (1, 2)}
    before = TALLY["prepare: clean successes"]
    _prepare_fuzzed({"format": name, "files": {**files, "README.md": b"# two sessions\n"}, "skip": False}, "none")
    assert TALLY["prepare: clean successes"] == before + 1


@pytest.fixture(scope="module", autouse=True)
def report_tally(request):
    """Print (and optionally write) how many fuzzed inputs were tried and how each ended."""
    yield
    line = ", ".join(f"{k} {v}" for k, v in sorted(TALLY.items()))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and TALLY:
        reporter.write_line(f"fuzz tally: {line}; tracebacks 0 (any would have failed a test)")
    target = os.environ.get("HOMECLIP_FUZZ_COUNTS")
    if target:
        Path(target).write_text(json.dumps(dict(TALLY), indent=1) + "\n", encoding="utf-8")
