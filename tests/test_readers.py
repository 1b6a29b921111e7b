"""Readers: every CASAS / labelled / interval quirk on inline fixtures, bad input, and the real files."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from homeclip.data.events import EVENT_COLUMNS
from homeclip.data.readers import FORMATS, detect_format, read_log
from homeclip.errors import UserError

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
AL_SMARTHOME = SHARED_DATA / "casas" / "al_smarthome" / "data.txt"
ORDONEZ = SHARED_DATA / "ordonez"


def write(tmp_path: Path, text: str | bytes, name: str = "log.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def rows(log) -> list[tuple]:
    """(time, sensor, state, labels, label) per event, for exact comparisons."""
    f = log.frame
    return list(zip(f["time"], f["sensor"], f["state"], f["labels"], f["label"]))


# ------------------------------------------------------------------------------------------ CASAS variants


def test_space_separated_begin_end(tmp_path):
    path = write(tmp_path, (
        "2009-10-16 00:01:04.000059 M017 ON\n"
        "2009-10-16 00:01:05.000000 M017 OFF Sleep begin\n"
        "2009-10-16 00:01:06.500000 M018 ON\n"
        "2009-10-16 00:01:07.000000 D001 OPEN Sleep end\n"
        "2009-10-16 00:01:08.000000 D001 CLOSE\n"
    ))
    log = read_log(path)
    assert list(log.frame.columns) == list(EVENT_COLUMNS)
    assert log.frame["time"].dtype == np.dtype("datetime64[us]")
    assert rows(log) == [
        (ts("2009-10-16 00:01:04.000059"), "M017", "ON", (), ""),
        (ts("2009-10-16 00:01:05"), "M017", "OFF", ("Sleep",), "Sleep"),
        (ts("2009-10-16 00:01:06.5"), "M018", "ON", ("Sleep",), "Sleep"),
        (ts("2009-10-16 00:01:07"), "D001", "OPEN", ("Sleep",), "Sleep"),
        (ts("2009-10-16 00:01:08"), "D001", "CLOSE", (), ""),
    ]
    assert log.frame["value"].isna().all()
    r = log.report
    assert (r.format, r.n_lines, r.n_events, r.n_numeric, r.n_skipped, r.n_out_of_order) == ("casas", 5, 5, 0, 0, 0)
    assert r.unmatched_begin == [] and r.unmatched_end == [] and r.notes == []
    assert log.activities == ["Sleep"]


def test_tab_separated_labels_with_spaces(tmp_path):
    path = write(tmp_path, (
        "2009-06-10 03:20:59.084153\tM001\tON\tR1 wake begin\n"
        "2009-06-10 03:21:00.100000\tM002\tOFF\t\n"
        "2009-06-10 03:21:01.000000\tM003\tON\tR1 wake end\n"
        "2009-06-10 03:21:02.000000\tM004\tON\t\n"
    ))
    log = read_log(path)
    assert list(log.frame["labels"]) == [("R1 wake",)] * 3 + [()]
    assert list(log.frame["label"]) == ["R1 wake"] * 3 + [""]
    assert list(log.frame["sensor"]) == ["M001", "M002", "M003", "M004"]


def test_fused_markers_tab_date_time_crlf_and_trailing_fields(tmp_path):
    path = write(tmp_path, (
        "2010-11-04\t00:03:50.209589\tM003\tON\tSleeping-begin\r\n"
        "2010-11-04 00:03:57.399391 M003 OFF\t\t\r\n"
        "2010-11-04\t00:15:08.984841 T002 21.5 \r\n"
        "2010-11-04 00:30:19.185547 M003 ON Sleeping-END\r\n"
        "\r\n"
        "2010-11-04 00:30:20 M003 OFF\r\n"
    ))
    log = read_log(path)
    assert rows(log) == [
        (ts("2010-11-04 00:03:50.209589"), "M003", "ON", ("Sleeping",), "Sleeping"),
        (ts("2010-11-04 00:03:57.399391"), "M003", "OFF", ("Sleeping",), "Sleeping"),
        (ts("2010-11-04 00:30:19.185547"), "M003", "ON", ("Sleeping",), "Sleeping"),
        (ts("2010-11-04 00:30:20"), "M003", "OFF", (), ""),
    ]
    assert log.report.n_blank == 1 and log.report.n_lines == 6
    assert log.numeric.to_dict("list") == {"time": [ts("2010-11-04 00:15:08.984841")], "sensor": ["T002"],
                                           "value": [21.5], "source": [0]}


def test_short_and_missing_microseconds_pad_on_the_right(tmp_path):
    path = write(tmp_path, (
        "2011-06-15 01:03:39.14962 M001 ON\n"
        "2011-06-15 01:03:40 M001 OFF\n"
        "2011-06-15 01:03:41.5 M001 ON\n"
        "2011-06-15 01:03:42.000001 M001 OFF\n"
        "2011-06-15 01:03:43.1234567 M001 ON\n"
    ))
    micro = [t.microsecond for t in read_log(path).frame["time"]]
    assert micro == [149620, 0, 500000, 1, 123456]


def test_out_of_order_sorted_stably_and_counted(tmp_path):
    path = write(tmp_path, (
        "2009-10-16 00:00:05 M001 ON\n"
        "2009-10-16 00:00:03 M002 ON\n"      # earlier than the line before: 1
        "2009-10-16 00:00:03 M003 ON\n"      # same time as M002: keeps file order
        "2009-10-16 00:00:04 M004 ON\n"
        "2009-10-16 00:00:01 M005 ON\n"      # 2
    ))
    log = read_log(path)
    assert list(log.frame["sensor"]) == ["M005", "M002", "M003", "M004", "M001"]
    assert log.report.n_out_of_order == 2
    assert log.frame["time"].is_monotonic_increasing


def test_numeric_sensors_kept_apart_and_counted(tmp_path):
    path = write(tmp_path, (
        "2009-10-16 00:00:01 T001 21.5 Cook begin\n"
        "2009-10-16 00:00:02 M001 on\n"
        "2009-10-16 00:00:03 LS012 -3\n"
        "2009-10-16 00:00:04 BATP001 9.5e1\n"
        "2009-10-16 00:00:05 M001 off Cook end\n"
        "2009-10-16 00:00:06 M002 ONc\n"
    ))
    log = read_log(path)
    assert rows(log) == [
        (ts("2009-10-16 00:00:02"), "M001", "ON", ("Cook",), "Cook"),
        (ts("2009-10-16 00:00:05"), "M001", "OFF", ("Cook",), "Cook"),
        (ts("2009-10-16 00:00:06"), "M002", "ONC", (), ""),
    ]
    assert log.report.n_numeric == 3 and log.report.n_events == 3
    assert list(log.numeric["sensor"]) == ["T001", "LS012", "BATP001"]
    assert list(log.numeric["value"]) == [21.5, -3.0, 95.0]
    assert log.numeric["time"].dtype == np.dtype("datetime64[us]")


def test_bare_annotation_labels_only_its_line(tmp_path):
    path = write(tmp_path, (
        "2009-10-16 00:00:01 M001 ON\n"
        "2009-10-16 00:00:02 M002 ON Eat\n"
        "2009-10-16 00:00:03 M003 ON\n"
    ))
    log = read_log(path)
    assert list(log.frame["labels"]) == [(), ("Eat",), ()]
    assert log.report.notes == ["1 lines carry a label without begin/end; each labels only its own line"]


def test_overlap_keeps_all_labels_primary_is_most_recent_not_alphabetical(tmp_path):
    path = write(tmp_path, (
        "2009-10-16 00:00:01 M001 ON Alpha begin\n"
        "2009-10-16 00:00:02 M002 ON Zeta begin\n"
        "2009-10-16 00:00:03 M003 ON\n"
        "2009-10-16 00:00:04 M004 ON Alpha end\n"
        "2009-10-16 00:00:05 M005 ON\n"
        "2009-10-16 00:00:06 M006 ON Zeta end\n"
        "2009-10-16 00:00:07 M007 ON\n"
    ))
    log = read_log(path)
    assert list(log.frame["labels"]) == [("Alpha",), ("Alpha", "Zeta"), ("Alpha", "Zeta"), ("Alpha", "Zeta"),
                                         ("Zeta",), ("Zeta",), ()]
    assert list(log.frame["label"]) == ["Alpha", "Zeta", "Zeta", "Zeta", "Zeta", "Zeta", ""]


def test_unmatched_begin_and_end_label_only_their_line_and_are_reported(tmp_path):
    path = write(tmp_path, (
        "2009-10-16 00:00:01 M001 ON Wash end\n"
        "2009-10-16 00:00:02 M002 ON\n"
        "2009-10-16 00:00:03 M003 ON Sleep begin\n"
        "2009-10-16 00:00:04 M004 ON\n"
        "2009-10-16 00:00:05 M005 ON\n"
    ))
    log = read_log(path)
    assert list(log.frame["labels"]) == [("Wash",), (), ("Sleep",), (), ()]
    assert log.report.unmatched_begin == [f"{path}:3: Sleep"]
    assert log.report.unmatched_end == [f"{path}:1: Wash"]
    assert "1 'begin' without 'end', 1 'end' without 'begin'" in log.report.summary()


def test_second_begin_closes_the_first(tmp_path):
    path = write(tmp_path, (
        "2009-10-16 00:00:01 M001 ON Read begin\n"
        "2009-10-16 00:00:02 M002 ON\n"
        "2009-10-16 00:00:03 M003 ON Read begin\n"
        "2009-10-16 00:00:04 M004 ON Read end\n"
        "2009-10-16 00:00:05 M005 ON\n"
    ))
    log = read_log(path)
    assert list(log.frame["labels"]) == [("Read",)] * 4 + [()]
    assert log.report.notes == [f"{path}:3: 'Read' begun again while open since line 1; "
                                "the first closed just before this line"]
    assert log.report.unmatched_begin == [] and log.report.unmatched_end == []


def test_labels_follow_file_order_when_timestamps_are_out_of_order(tmp_path):
    path = write(tmp_path, (
        "2009-10-16 00:00:10 M001 ON Cook begin\n"
        "2009-10-16 00:00:09 M002 ON\n"
        "2009-10-16 00:00:11 M003 ON Cook end\n"
        "2009-10-16 00:00:12 M004 ON\n"
    ))
    log = read_log(path)
    assert list(log.frame["sensor"]) == ["M002", "M001", "M003", "M004"]
    assert list(log.frame["label"]) == ["Cook", "Cook", "Cook", ""]


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("line, expected", [
    ("2009-10-16 00:00:02 M002",
     "expected 'date time sensor state [label begin|end]', found '2009-10-16 00:00:02 M002'"),
    ("2009-10-16 25:00:02 M002 ON",
     "expected a timestamp 'YYYY-MM-DD HH:MM:SS[.ffffff]' (year 1980-2099), found '2009-10-16 25:00:02'"),
    ("16/10/2009 00:00:02 M002 ON", "expected a timestamp"),
    ("2009-10-16 00:00:02 M002 ON begin", "expected an annotation 'label begin|end', found"),
])
def test_bad_line_stops_with_file_and_line(tmp_path, line, expected):
    path = write(tmp_path, f"2009-10-16 00:00:01 M001 ON\n{line}\n2009-10-16 00:00:03 M003 ON\n")
    with pytest.raises(UserError) as err:
        read_log(path, "casas")
    assert str(err.value).startswith(f"{path}:2: {expected}")
    assert err.value.path == str(path) and err.value.line == 2
    assert "--skip-bad-lines" in str(err.value)


def test_earliest_bad_line_is_reported(tmp_path):
    # A bad timestamp (found after the line loop) on line 2 wins over a short line 4.
    path = write(tmp_path, "2009-10-16 00:00:01 M001 ON\n2009-99-16 00:00:01 M001 ON\n"
                           "2009-10-16 00:00:03 M003 ON\nshort line\n")
    with pytest.raises(UserError, match=r":2: expected a timestamp"):
        read_log(path, "casas")


def test_skip_bad_lines_counts_and_keeps_five_examples(tmp_path):
    good = [f"2009-10-16 00:00:{i:02d} M001 ON" for i in range(10)]
    bad = ["garbage", "2009-10-16 00:00:99 M002 ON", "x y", "2009-10-16 00:00:01 M003 ON end", "a b c",
           "2009-13-01 00:00:01 M004 OFF", "z"]
    lines = [g for pair in zip(good, bad) for g in pair] + good[len(bad):]
    path = write(tmp_path, "\n".join(lines) + "\n")
    log = read_log(path, skip_bad_lines=True)
    assert log.report.n_skipped == 7 and log.report.n_events == 10
    assert log.report.skipped_examples == [
        f"{path}:2: expected 'date time sensor state [label begin|end]', found 'garbage'",
        f"{path}:4: expected a timestamp 'YYYY-MM-DD HH:MM:SS[.ffffff]' (year 1980-2099), found '2009-10-16 00:00:99'",
        f"{path}:6: expected 'date time sensor state [label begin|end]', found 'x y'",
        f"{path}:8: expected an annotation 'label begin|end', found '2009-10-16 00:00:01 M003 ON end'",
        f"{path}:10: expected 'date time sensor state [label begin|end]', found 'a b c'",
    ]
    assert "7 lines skipped" in log.report.summary()


def test_skipped_line_annotation_is_ignored(tmp_path):
    path = write(tmp_path, "2009-10-16 00:00:01 M001 ON\n2009-10-99 00:00:02 M002 ON Cook begin\n"
                           "2009-10-16 00:00:03 M003 ON\n")
    log = read_log(path, "casas", skip_bad_lines=True)
    assert list(log.frame["labels"]) == [(), ()] and log.report.unmatched_begin == []


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"\n  \n\t\r\n", "the file is empty"),
    (b"2009-10-16 00:00:01 M001 ON\x00\x00\x01", "is a binary file (3 control bytes in its first 30, e.g. 0x00"),
    (b"\x89PNG\r\n\x1a\n\xff\xfe\x03\x04 M001", "is a binary file (3 control bytes"),
    (b'{"events": [1, 2, 3]}\n', "is not a recognised sensor log"),
])
def test_empty_binary_and_wrong_format_files_give_one_sentence(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(UserError) as err:
        read_log(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_missing_file_directory_unknown_format_and_stray_labels(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        read_log(tmp_path / "nope.txt")
    with pytest.raises(UserError, match="the folder holds no files"):
        read_log(tmp_path)
    path = write(tmp_path, "2009-10-16 00:00:01 M001 ON\n")
    with pytest.raises(UserError, match="unknown log format 'csv'"):
        read_log(path, "csv")
    with pytest.raises(UserError, match="only used by interval logs and event tables"):
        read_log(path, labels_path=path)


def test_only_numeric_readings_or_only_bad_lines_is_an_error(tmp_path):
    numeric = write(tmp_path, "2009-10-16 00:00:01 T001 20.5\n2009-10-16 00:00:02 T001 20.6\n")
    with pytest.raises(UserError, match="no binary sensor events .* only 2 numeric readings"):
        read_log(numeric)
    garbage = write(tmp_path, "2009-10-16 00:00:01 M001 ON\n", name="g.txt")
    garbage.write_text("2009-10-16 x M001 ON\n2009-10-16 y M002 ON\n")
    with pytest.raises(UserError, match=r"no readable lines \(2 bad lines skipped\)"):
        read_log(garbage, "casas", skip_bad_lines=True)


def test_latin1_and_windows_1252_text_is_accepted_with_a_note(tmp_path):
    path = write(tmp_path, "2009-10-16 00:00:01 M001 ON Caf\xe9 begin\n2009-10-16 00:00:02 M001 OFF Caf\xe9 end\n"
                 .encode("cp1252"))
    log = read_log(path)
    assert list(log.frame["label"]) == ["Caf\xe9", "Caf\xe9"]
    assert log.report.notes == [f"{path}: not valid UTF-8; read as Windows-1252"]
    # 0x81 is not Windows-1252: Latin-1 then (U+0081 is a control character: that line is a bad line).
    other = write(tmp_path, b"2009-10-16 00:00:01 M001 ON Caf\xe9\n2009-10-16 00:00:02 M001 OFF \x81\n", "l1.txt")
    log = read_log(other, skip_bad_lines=True)
    assert log.report.notes[0] == f"{other}: not valid UTF-8; read as Latin-1"
    assert log.report.n_skipped == 1 and "control character U+0081" in log.report.skipped_examples[0]


# ------------------------------------------------------------------------------------------ casas-labelled


def test_casas_labelled_lines(tmp_path):
    path = write(tmp_path, (
        "2011-06-15 01:03:39.14962 Bedroom Bedroom ON Sleep\n"
        "2011-06-15 01:03:40.284526 Bathroom BathroomLight off Other_Activity\n"
        "2011-06-15 01:03:38 Kitchen Kitchen OPEN Cook_Breakfast\r\n"
        "2011-06-15 01:03:41 Kitchen Temp 21.0 Cook_Breakfast\n"
        "2011-06-15 01:03:42 OutsideDoor OutsideDoor CLOSE\n"
    ))
    assert detect_format(path) == "casas-labelled"
    log = read_log(path)
    assert log.report.format == "casas-labelled"
    assert rows(log) == [
        (ts("2011-06-15 01:03:38"), "Kitchen", "OPEN", ("Cook_Breakfast",), "Cook_Breakfast"),
        (ts("2011-06-15 01:03:39.149620"), "Bedroom", "ON", ("Sleep",), "Sleep"),
        (ts("2011-06-15 01:03:40.284526"), "Bathroom", "OFF", ("Other_Activity",), "Other_Activity"),
        (ts("2011-06-15 01:03:42"), "OutsideDoor", "CLOSE", (), ""),
    ]
    assert log.report.n_out_of_order == 1 and log.report.n_numeric == 1
    assert list(log.numeric["value"]) == [21.0]
    assert "1 lines carry no label (unlabelled events)" in log.report.notes


def test_casas_labelled_bad_line(tmp_path):
    path = write(tmp_path, "2011-06-15 01:03:39 Bedroom Bedroom ON Sleep\n2011-06-15 01:03:40 Bedroom ON\n")
    with pytest.raises(UserError, match=r":2: expected 'date time sensor sensor value label', found"):
        read_log(path, "casas-labelled")
    assert read_log(path, "casas-labelled", skip_bad_lines=True).report.n_skipped == 1


# ------------------------------------------------------------------------------------------ intervals

SENSORS = (
    "Start time          \tEnd time            \tLocation\tType\t\tPlace\r\n"
    "--------------------\t--------------------\t--------\t--------\t-----\r\n"
    "2011-11-28 02:27:59\t\t2011-11-28 10:18:11\t\tBed\t\t\tPressure\tBedroom\r\n"
    "2011-11-28 10:21:24 \t2011-11-28 10:21:31\t\tCabinet\t\tMagnetic\tBathroom\r\n"      # stray space
    "2011-11-28 10:21:44\t\t2011-11-28 10:21:44\t\tBasin\t\tPIR\t\t\tBathroom\t\r\n"      # zero length, trailing tab
    "2011-11-28 10:21:44\t\t2011-11-28 10:30:00\t\tToilet\t\tFlush\tBathroom\r\n"
    "2011-11-28 23:00:00\t\t2011-11-28 23:05:00\t\tSeat\t\tPressure\tLiving"              # after the last label
)
ADLS = (
    "Start time          \tEnd time            \tActivity\t\r\n"
    "--------------------\t--------------------\t--------\r\n"
    "2011-11-28 02:27:59\t\t2011-11-28 10:18:11\t\tSleeping\t\t\r\n"
    "2011-11-28 10:21:00\t\t2011-11-28 10:21:44\t\tGrooming\t\r\n"
    "2011-11-28 10:21:30\t\t2011-11-28 10:30:00\t\tToileting\t\r\n"                        # overlaps Grooming
    "2011-11-28 12:00:00\t\t2011-11-28 11:00:00\t\tSnack\t\r\n"                            # reversed: dropped
    "2011-11-28 13:00:00\t\t2011-11-28 13:30:00\t\tSiesta_Ba\xf1o\t"
)


def write_ordonez(tmp_path: Path, adls: str | None = ADLS) -> Path:
    sensors = write(tmp_path, SENSORS, name="HomeX_Sensors.txt")
    if adls is not None:
        write(tmp_path, adls.encode("latin-1"), name="HomeX_ADLs.txt")
    return sensors


def test_intervals_every_quirk(tmp_path):
    path = write_ordonez(tmp_path)
    assert detect_format(path) == "intervals"
    log = read_log(path)
    assert rows(log) == [
        (ts("2011-11-28 02:27:59"), "Bed_Pressure_Bedroom", "ON", ("Sleeping",), "Sleeping"),
        (ts("2011-11-28 10:18:11"), "Bed_Pressure_Bedroom", "OFF", ("Sleeping",), "Sleeping"),
        (ts("2011-11-28 10:21:24"), "Cabinet_Magnetic_Bathroom", "ON", ("Grooming",), "Grooming"),
        (ts("2011-11-28 10:21:31"), "Cabinet_Magnetic_Bathroom", "OFF", ("Grooming", "Toileting"), "Toileting"),
        (ts("2011-11-28 10:21:44"), "Basin_PIR_Bathroom", "ON", ("Grooming", "Toileting"), "Toileting"),
        (ts("2011-11-28 10:21:44"), "Basin_PIR_Bathroom", "OFF", ("Grooming", "Toileting"), "Toileting"),
        (ts("2011-11-28 10:21:44"), "Toilet_Flush_Bathroom", "ON", ("Grooming", "Toileting"), "Toileting"),
        (ts("2011-11-28 10:30:00"), "Toilet_Flush_Bathroom", "OFF", ("Toileting",), "Toileting"),
        (ts("2011-11-28 23:00:00"), "Seat_Pressure_Living", "ON", (), ""),
        (ts("2011-11-28 23:05:00"), "Seat_Pressure_Living", "OFF", (), ""),
    ]
    r = log.report
    assert (r.format, r.n_events, r.n_lines, r.n_skipped, r.n_out_of_order) == ("intervals", 10, 14, 0, 0)
    adls = tmp_path / "HomeX_ADLs.txt"
    assert r.notes == [
        f"activity labels from {adls}",
        f"{adls}: not valid UTF-8; read as Windows-1252",
        f"{adls}:6: 'Snack' ends (2011-11-28 11:00:00) before it starts (2011-11-28 12:00:00); row dropped",
        "2 of 10 events lie outside every activity interval (unlabelled)",
    ]
    assert log.activities == ["Grooming", "Sleeping", "Toileting"]   # Siesta covers no event


def test_intervals_explicit_labels_path_and_missing_labels(tmp_path):
    path = write_ordonez(tmp_path, adls=None)
    log = read_log(path, "intervals")
    assert log.activities == [] and log.report.notes == [
        "no activity file given or found next to it (expected HomeX_ADLs.txt); events are unlabelled"]
    other = write(tmp_path, ADLS.replace("Sleeping", "Napping").encode("latin-1"), name="labels.tsv")
    log = read_log(path, labels_path=other)
    assert log.frame["label"].iloc[0] == "Napping"
    assert log.report.notes[0] == f"activity labels from {other}"


def test_intervals_bad_rows(tmp_path):
    bad_time = write(tmp_path, SENSORS.replace("2011-11-28 10:21:31", "2011-11-28 10:61:31"), name="A_Sensors.txt")
    with pytest.raises(UserError, match=r"A_Sensors.txt:4: expected start and end times 'YYYY-MM-DD HH:MM:SS' or "
                                        r"'DD-Mon-YYYY HH:MM:SS' \(year 1980-2099\), "
                                        r"found '2011-11-28 10:21:24 2011-11-28 10:61:31'"):
        read_log(bad_time)
    short = write(tmp_path, SENSORS.replace("\tBed\t\t\tPressure", "\tBed"), name="B_Sensors.txt")
    with pytest.raises(UserError, match=r"B_Sensors.txt:3: expected 'start<TAB>end<TAB>Location<TAB>Type<TAB>Place'"):
        read_log(short, "intervals")
    log = read_log(short, "intervals", skip_bad_lines=True)
    assert log.report.n_skipped == 1 and log.report.n_events == 8
    bad_adl = write(tmp_path, "2011-11-28 02:27:59\t2011-11-28 10:18:11\tSleeping\textra\n", name="bad_adl.txt")
    with pytest.raises(UserError, match=r"bad_adl.txt:1: expected 'start<TAB>end<TAB>Activity'"):
        read_log(write_ordonez(tmp_path, adls=None), "intervals", labels_path=bad_adl)


def test_intervals_activity_file_given_as_sensor_file(tmp_path):
    write_ordonez(tmp_path)
    with pytest.raises(UserError, match=r"HomeX_ADLs.txt:1: this is an activity \(ADL\) file"):
        read_log(tmp_path / "HomeX_ADLs.txt")


def test_detect_format(tmp_path):
    assert set(FORMATS) == {"casas", "casas-labelled", "intervals", "table", "homeassistant"}
    casas = write(tmp_path, "2009-10-16 00:00:01 M001 ON Sleep begin\n2009-10-16 00:00:02 M001 OFF\n", "c.txt")
    cairo = write(tmp_path, "2009-06-10 03:20:59.084153\tM001\tON\tR1 wake begin\n", "cairo.txt")
    headerless = write(tmp_path, "2011-11-28 02:27:59\t\t2011-11-28 10:18:11\t\tBed\t\t\tPressure\tBedroom\n", "h.txt")
    state_like_label = write(tmp_path, "2009-10-16 00:00:01 M001 ON Open begin\n", "o.txt")   # "Open" is a label
    assert [detect_format(p) for p in (casas, cairo, headerless, state_like_label)] == \
        ["casas", "casas", "intervals", "casas"]
    with pytest.raises(UserError, match="is not a recognised sensor log.*found 'hello world'"):
        detect_format(write(tmp_path, "hello world\n", "x.txt"))


# ------------------------------------------------------------------------------------------ real files


@pytest.mark.real_data
@pytest.mark.skipif(not AL_SMARTHOME.is_file(), reason=f"real data not present: {AL_SMARTHOME}")
def test_real_al_smarthome():
    log = read_log(AL_SMARTHOME)
    r = log.report
    assert (r.format, r.n_lines, r.n_events, r.n_numeric, r.n_skipped, r.n_out_of_order) == \
        ("casas-labelled", 61578, 61578, 0, 0, 0)
    f = log.frame
    assert f["time"].iloc[0] == ts("2011-06-15 01:03:39.149620")
    assert f["time"].iloc[-1] == ts("2011-07-14 22:25:29.685220")
    assert f["time"].dt.normalize().nunique() == 30
    assert sorted(f["sensor"].unique()) == ["Bathroom", "Bedroom", "Kitchen", "LivingRoom", "LoungeChair",
                                            "OutsideDoor", "WorkArea"]
    assert f["state"].value_counts().to_dict() == {"OFF": 30557, "ON": 30555, "OPEN": 233, "CLOSE": 233}
    counts = f["label"].value_counts()
    assert len(counts) == 30 and counts["Other_Activity"] == 18830 and counts["Sleep"] == 2695
    assert counts["Sleep_Out_Of_Bed"] == 10
    assert (f["labels"].map(len) == 1).all()


@pytest.mark.real_data
@pytest.mark.skipif(not (ORDONEZ / "OrdonezA_Sensors.txt").is_file(), reason=f"real data not present: {ORDONEZ}")
def test_real_ordonez_a():
    sensors = ORDONEZ / "OrdonezA_Sensors.txt"
    log = read_log(sensors)
    r = log.report
    assert (r.format, r.n_events, r.n_skipped, r.n_out_of_order) == ("intervals", 818, 0, 0)
    adls = ORDONEZ / "OrdonezA_ADLs.txt"
    dropped = [n for n in r.notes if n.endswith("row dropped")]
    assert [n.split(": ")[0] for n in dropped] == [f"{adls}:72", f"{adls}:81", f"{adls}:83"]
    assert log.activities == ["Breakfast", "Grooming", "Leaving", "Lunch", "Showering", "Sleeping", "Snack",
                              "Spare_Time/TV", "Toileting"]
    f = log.frame
    assert f["sensor"].nunique() == 12 and (f["sensor"] == "Seat_Pressure_Living").sum() == 162
    assert (f["state"] == "ON").sum() == 409 and (f["state"] == "OFF").sum() == 409
    # Zero-length activation (Sensors line 31): ON then OFF at the same instant.
    basin = f[(f["sensor"] == "Basin_PIR_Bathroom") & (f["time"] == ts("2011-11-28 16:10:05"))]
    assert list(basin["state"]) == ["ON", "OFF"]
    # The last Bed activation lies after the last label: unlabelled.
    assert list(f["labels"].iloc[-2:]) == [(), ()]
    # Overlapping ADL rows 67/68: both labels open at 16:27:04; Spare_Time/TV began last.
    both = f[f["labels"].map(len) == 2]
    assert ("Toileting", "Spare_Time/TV") in set(both["labels"]) and set(both["label"]) == {"Spare_Time/TV"}
    assert math.isclose((f["label"] == "").mean(), 68 / 818)
    assert f["time"].iloc[0] == ts("2011-11-28 02:27:59") and f["time"].iloc[-1] == ts("2011-12-12 07:22:21")


def test_simulated_log_round_trip(tmp_path):
    simulate = pytest.importorskip("homeclip.data.simulate", reason="simulator not available")
    from homeclip.data.homes import load_home

    home = load_home("milan")
    lines = simulate.simulate_log(home, days=2, seed=3)
    log = read_log(write(tmp_path, "\n".join(lines) + "\n"))
    r = log.report
    assert r.format == "casas" and r.n_skipped == 0 and r.unmatched_begin == [] and r.unmatched_end == []
    assert r.n_events + r.n_numeric + r.n_blank == len(lines) == r.n_lines
    assert log.frame["time"].is_monotonic_increasing and set(log.frame["state"]) <= {"ON", "OFF", "OPEN", "CLOSE"}
    assert (log.frame["label"] != "").mean() > 0.5 and "Sleep" in log.activities
