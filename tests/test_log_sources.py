"""Real logs as they come: several files, folders and globs; mixed line ends, wide encodings, control
characters, impossible times, junk states; the van Kasteren interval variant."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from homeclip import cli
from homeclip.data.events import EVENT_COLUMNS
from homeclip.data.homes import load_home
from homeclip.data.prepare import prepare_dataset
from homeclip.data.readers import detect_format, read_log
from homeclip.data.windows import WindowConfig, make_windows
from homeclip.errors import UserError
from homeclip.io import file_sha256

KASTEREN = Path(__file__).resolve().parents[2] / "shared" / "data" / "kasteren"


def write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def day_log(day: str, n: int = 40, first_note: str = "", last_note: str = "", sensor: str = "M001") -> str:
    """n events 30 s apart from 08:00 on `day`, alternating ON/OFF, annotations on the first/last line."""
    lines = []
    for i in range(n):
        s = 8 * 3600 + 30 * i
        note = first_note if i == 0 else last_note if i == n - 1 else ""
        lines.append(f"{day} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000 {sensor} "
                     f"{'ON' if i % 2 == 0 else 'OFF'}{note}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ several files


def test_several_files_are_separate_sources_with_per_file_reports(tmp_path):
    late = write(tmp_path, "p2.txt", day_log("2010-02-01", n=10, sensor="M002"))
    early = write(tmp_path, "p1.txt", day_log("2010-01-01", n=6) + "garbage\n")
    log = read_log([late, early], skip_bad_lines=True)
    assert list(log.frame.columns) == list(EVENT_COLUMNS)
    assert log.sources == [str(early), str(late)]              # ordered by first event time
    assert list(log.frame["source"]) == [0] * 6 + [1] * 10
    assert log.frame["source"].dtype == np.int32
    r = log.report
    assert [f.path for f in r.files] == [str(early), str(late)]
    assert [f.n_events for f in r.files] == [6, 10] and r.n_events == 16
    assert [f.n_skipped for f in r.files] == [1, 0] and r.n_skipped == 1 and r.n_lines == 17
    assert r.skipped_examples == [f"{early}:7: expected 'date time sensor state [label begin|end]', found 'garbage'"]
    assert "2 files" in r.summary()


def test_activity_open_at_file_end_ends_there(tmp_path):
    """Concatenated sessions gave windows a label from another participant: files are read on their own."""
    first = write(tmp_path, "a.txt", day_log("2010-01-01", n=5, first_note=" Cook begin"))
    second = write(tmp_path, "b.txt", day_log("2010-03-01", n=5, last_note=" Cook end"))
    log = read_log([first, second])
    assert list(log.frame["label"]) == ["Cook", "", "", "", "", "", "", "", "", "Cook"]
    assert log.report.unmatched_begin == [f"{first}:1: Cook"]
    assert log.report.unmatched_end == [f"{second}:5: Cook"]
    concatenated = write(tmp_path / "cat", "ab.txt", first.read_text() + second.read_text())
    assert set(read_log(concatenated).frame["label"]) == {"Cook"}   # what a single file means instead


def test_folder_skips_non_logs_and_reads_the_activity_file_as_labels(tmp_path):
    folder = tmp_path / "home"
    write(folder, "HomeX_Sensors.txt", "2011-11-28 02:27:59\t2011-11-28 10:18:11\tBed\tPressure\tBedroom\n")
    write(folder, "HomeX_ADLs.txt", "2011-11-28 02:00:00\t2011-11-28 11:00:00\tSleeping\n")
    write(folder, "README.md", "# notes about this home\n")
    write(folder, "empty.txt", "")
    write(folder, ".hidden", "2011-11-28 02:27:59 M001 ON\n")
    log = read_log(folder)
    assert read_log(folder, "intervals").report.skipped_files == log.report.skipped_files   # format given: same
    assert log.sources == [str(folder / "HomeX_Sensors.txt")]
    assert list(log.frame["label"]) == ["Sleeping", "Sleeping"]
    assert log.report.skipped_files == [f"{folder / 'README.md'}: is not a recognised sensor log",
                                        f"{folder / 'empty.txt'}: the file is empty; expected a sensor log"]
    assert "skipped file" in log.report.summary()


def test_glob_list_and_their_errors(tmp_path):
    for d in (1, 2, 3):
        write(tmp_path, f"day{d}.log", day_log(f"2010-01-0{d}", n=4))
    write(tmp_path, "notes.txt", "not a log\n")
    log = read_log(str(tmp_path / "day*.log"))
    assert len(log.sources) == 3 and len(log) == 12
    with pytest.raises(UserError, match="no file matches this pattern"):
        read_log(str(tmp_path / "nope*.log"))
    with pytest.raises(UserError, match="is given twice"):
        read_log([tmp_path / "day1.log", tmp_path / "day1.log"])
    with pytest.raises(UserError, match=r"notes.txt: is not a recognised sensor log"):
        read_log([tmp_path / "day1.log", tmp_path / "notes.txt"])   # named one by one: must be a log
    with pytest.raises(UserError, match="no sensor log among the files given"):
        read_log(str(tmp_path / "*.txt"))
    with pytest.raises(UserError, match="no raw log given"):
        read_log([])


def test_windows_never_span_two_files_and_delta_t_restarts(tmp_path):
    a = write(tmp_path, "a.txt", day_log("2010-01-01", n=30))
    b = write(tmp_path, "b.txt", day_log("2010-01-01", n=30, sensor="M002").replace("08:", "09:"))
    log = read_log([a, b])
    home = load_home("milan")
    windows = make_windows(log, home, WindowConfig(length=10, stride=5, max_gap=float("inf")))
    assert windows.meta["windowing"]["n_segments"] == 2 and len(windows) == 2 * 5
    sensors = {tuple(sorted(set(windows.strings("sensor", i)))) for i in range(len(windows))}
    assert sensors == {("M001",), ("M002",)}
    first_of_b = [i for i in range(len(windows)) if windows.strings("sensor", i)[0] == "M002"][0]
    assert windows.time_delta[first_of_b, 0] == 0.0 and windows.time_delta[first_of_b, 1] == 30.0


def test_segments_cut_at_gaps_and_source_changes_and_delta_t_restarts():
    from homeclip.data.segments import event_time_deltas, segment_bounds

    t = np.array([0, 10, 20, 5, 15, 10_000], dtype=np.int64) * 1_000_000
    source = np.array([0, 0, 0, 1, 1, 1], dtype=np.int32)
    starts, ends = segment_bounds(t, 3600.0, source)
    assert starts.tolist() == [0, 3, 5] and ends.tolist() == [3, 5, 6]
    assert segment_bounds(t[:3], 3600.0)[0].tolist() == [0]
    assert event_time_deltas(t, source).tolist() == [0, 10, 10, 0, 10, 9985]


def test_fixed_duration_windows_with_files_overlapping_in_time(tmp_path):
    a = write(tmp_path, "a.txt", day_log("2010-01-01", n=40))
    b = write(tmp_path, "b.txt", day_log("2010-01-01", n=40, sensor="M002"))    # the same hours
    log = read_log([a, b])
    assert not log.frame["time"].is_monotonic_increasing                          # sorted per source
    windows = make_windows(log, load_home("milan"), WindowConfig(strategy="fixed_duration", duration=300.0, length=20))
    assert len(windows) == 2 * 4 and windows.mask.sum() == 80
    for i in range(len(windows)):
        assert len(set(windows.strings("sensor", i))) == 1
        assert np.all(np.diff(windows.time[i][windows.mask[i]]) > 0)


def test_prepare_several_files_records_sources_and_splits_days_across_them(tmp_path):
    files = [write(tmp_path / "raw", f"s{d}.txt", day_log(f"2010-01-{d:02d}", n=80)) for d in range(1, 6)]
    summary = prepare_dataset(files, "milan", tmp_path / "out", window=WindowConfig(length=20), progress=False)
    events = [s for s in summary["sources"] if s["role"] == "events"]
    assert [s["path"] for s in events] == [str(f) for f in files]
    assert [s["sha256"] for s in events] == [file_sha256(f) for f in files]
    assert [s["n_events"] for s in events] == [80] * 5 and events[0]["first_event"] == "2010-01-01 08:00:00"
    assert summary["windowing"]["n_segments"] == 5
    assert sum(len(days) for days in summary["days"].values()) == 5
    assert len(summary["parse_report"]["files"]) == 5
    assert summary["raw"] == ", ".join(map(str, files))


def test_cli_several_files_folder_and_home_none(tmp_path, capsys):
    raw = tmp_path / "raw"
    for d in range(1, 5):
        write(raw, f"s{d}.txt", day_log(f"2010-01-{d:02d}", n=80))
    code = cli.main(["prepare", "--raw", str(raw / "s1.txt"), str(raw / "s2.txt"), str(raw / "s3.txt"),
                     str(raw / "s4.txt"), "--home", "none", "--window", "20", "--quiet", "--out", str(tmp_path / "a")])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "4 files" in out.out
    summary = json.loads((tmp_path / "a" / "no_layout_summary.json").read_text())
    assert summary["home_has_layout"] is False and len(summary["sources"]) == 4
    code = cli.main(["prepare", "--raw", str(raw), "--window", "20", "--quiet", "--out", str(tmp_path / "b")])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert (tmp_path / "b" / "no_layout_summary.json").is_file() and "4 files" in out.out


# ------------------------------------------------------------------------------------------ line ends, encodings


def test_lf_and_lone_cr_mix_is_read_as_lines(tmp_path):
    """CR-ended lines were glued to the next one: half the events vanished into 'labels'."""
    body = ("2010-01-01 08:00:00 M001 ON\r2010-01-01 08:00:01 M001 OFF\n2010-01-01 08:00:02 M002 ON\r\n"
            "2010-01-01 08:00:03 M002 OFF\r\r2010-01-01 08:00:04 M003 ON")
    log = read_log(write(tmp_path, "mix.txt", body))
    assert list(log.frame["sensor"]) == ["M001", "M001", "M002", "M002", "M003"]
    assert log.activities == [] and log.report.n_lines == 6 and log.report.n_blank == 1


@pytest.mark.parametrize("codec, name", [("utf-16", "UTF-16"), ("utf-16-le", "UTF-16-LE"), ("utf-16-be", "UTF-16-BE"),
                                         ("utf-32", "UTF-32"), ("utf-32-le", "UTF-32-LE")])
def test_wide_encodings_are_decoded_and_noted(tmp_path, codec, name):
    text = day_log("2010-01-01", n=4, first_note=" Caf\xe9 begin", last_note=" Caf\xe9 end")
    path = write(tmp_path, "wide.txt", text.encode(codec))
    assert detect_format(path) == "casas"
    log = read_log(path)
    assert len(log) == 4 and set(log.frame["label"]) == {"Caf\xe9"}
    assert log.report.notes == [f"{path}: {name} text decoded (UTF-8 is expected; converting it is advised)"]


def test_broken_utf16_and_utf8_bom(tmp_path):
    broken = write(tmp_path, "broken.txt", "\ufeff2010-01-01 08:00:00 M001 ON\n".encode("utf-16-le") + b"\x00\xd8x\x00")
    with pytest.raises(UserError, match=r"looks like UTF-16 text but byte \d+ does not decode; convert it to UTF-8"):
        read_log(broken)
    bom = write(tmp_path, "bom.txt", b"\xef\xbb\xbf" + day_log("2010-01-01", n=2).encode())
    assert read_log(bom).report.notes == [] and len(read_log(bom)) == 2


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x0b", "\x0c", "\x7f", "\x85", "\u2028", "\ufeff"])
def test_control_characters_inside_fields_are_bad_lines(tmp_path, char):
    lines = day_log("2010-01-01", n=200).splitlines()
    lines[100] = lines[100].replace("M001", f"M0{char}01")
    path = write(tmp_path, "ctl.txt", "\n".join(lines) + "\n")
    with pytest.raises(UserError) as err:
        read_log(path, "casas")
    assert str(err.value).startswith(f"{path}:101: expected printable text, found control character "
                                     f"U+{ord(char):04X}")
    log = read_log(path, "casas", skip_bad_lines=True)
    assert log.report.n_skipped == 1 and len(log) == 199


@pytest.mark.parametrize("stamp", ["2010-01-01 23:59:60", "2010-01-01 24:00:00", "-2010-01-01 08:00:00",
                                   "0000-01-01 08:00:00", "1970-01-01 00:00:05", "2150-01-01 08:00:00",
                                   "2010-02-30 08:00:00", "2010-01-01 08:60:00"])
def test_impossible_times_and_years_are_bad_lines(tmp_path, stamp):
    path = write(tmp_path, "t.txt", f"2010-01-01 08:00:00 M001 ON\n{stamp} M001 OFF\n2010-01-01 08:00:02 M001 ON\n")
    with pytest.raises(UserError, match=r"t.txt:2: expected a timestamp 'YYYY-MM-DD HH:MM:SS\[.ffffff\]' "
                                        r"\(year 1980-2099\)"):
        read_log(path, "casas")


@pytest.mark.parametrize("state", ["inf", "-inf", "+Infinity", "nan", "NaN", "1e999"])
def test_non_finite_readings_are_bad_lines(tmp_path, state):
    path = write(tmp_path, "n.txt", f"2010-01-01 08:00:00 M001 ON\n2010-01-01 08:00:01 T001 {state}\n")
    with pytest.raises(UserError, match=r"n.txt:2: expected a state word or a finite number, found"):
        read_log(path)
    assert read_log(path, skip_bad_lines=True).report.n_numeric == 0


def test_clock_going_back_an_hour_is_reported(tmp_path):
    """A naive local log over the autumn daylight-saving change: the hour repeats."""
    body = ("2010-10-31 02:58:00 M001 ON\n2010-10-31 02:59:00 M001 OFF\n2010-10-31 02:00:30 M002 ON\n"
            "2010-10-31 02:01:00 M002 OFF\n2010-10-31 02:00:59 M003 ON\n")
    log = read_log(write(tmp_path, "dst.txt", body))
    r = log.report
    assert r.n_out_of_order == 2 and r.n_clock_steps_back == 1
    assert r.clock_steps_back == [f"{tmp_path / 'dst.txt'}:3: the clock goes back 0 days 00:58:30 (from "
                                  "2010-10-31 02:59:00 to 2010-10-31 02:00:30): a daylight-saving repeat or a clock "
                                  "reset? events are sorted by time"]
    assert log.frame["time"].is_monotonic_increasing


# ------------------------------------------------------------------------------------------ unknown states


def junk_log(extra: str) -> str:
    lines = [f"2010-01-01 08:{i // 60:02d}:{i % 60:02d} M001 {'ON' if i % 2 else 'OFF'}" for i in range(100)]
    lines += [f"2010-01-01 09:00:{i:02d} T001 {20 + i / 10}" for i in range(30)]
    lines += [f"2010-01-01 09:01:{i:02d} S001 {'ACTIVE' if i % 2 else 'INACTIVE'}" for i in range(10)]
    return "\n".join(lines) + "\n" + extra


def test_unknown_states_are_counted_per_sensor_and_left_out(tmp_path):
    extra = ("2010-01-01 10:00:00 M001 OFFc\n2010-01-01 10:00:01 M001 ERROR:\n2010-01-01 10:00:02 M001 OFFc\n"
             "2010-01-01 10:00:03 T001 0.2888721.6\n2010-01-01 10:00:04 T001 HIGH\n"
             "2010-01-01 10:00:05 M002 /var/log/sensor.log\n2010-01-01 10:00:06 S001 unavailable\n")
    path = write(tmp_path, "junk.txt", junk_log(extra))
    log = read_log(path)
    r = log.report
    assert r.unknown_states == {"M001": {"ERROR:": 1, "OFFC": 2}, "M002": {"/VAR/LOG/SENSOR.LOG": 1},
                                "S001": {"UNAVAILABLE": 1}, "T001": {"0.2888721.6": 1, "HIGH": 1}}
    assert r.n_unknown_states == 7 and r.n_events == len(log) == 110 and not r.unknown_states_kept
    assert set(log.frame["state"]) == {"ON", "OFF", "ACTIVE", "INACTIVE"}   # S001's own vocabulary stays
    assert "7 events with unknown states (kept out of the event stream): M001 'OFFC' x2" in r.summary()
    kept = read_log(path, keep_unknown_states=True)
    assert len(kept) == 117 and kept.report.unknown_states == r.unknown_states and kept.report.unknown_states_kept


def test_only_unknown_states_is_an_error_naming_the_option(tmp_path):
    path = write(tmp_path, "u.txt", "2010-01-01 08:00:00 M001 ERROR\n2010-01-01 08:00:01 M001 unavailable\n")
    with pytest.raises(UserError, match="no events left: all 2 have states outside .* --keep-unknown-states"):
        read_log(path)
    assert len(read_log(path, keep_unknown_states=True)) == 2


def test_unknown_states_in_the_prepare_summary_and_cli(tmp_path, capsys):
    raw = write(tmp_path, "junk.txt", "".join(day_log(f"2010-01-0{d}", n=80) for d in range(1, 5))
                + "2010-01-04 12:00:00 M001 OFFc\n")
    code = cli.main(["prepare", "--raw", str(raw), "--home", "milan", "--window", "20", "--quiet",
                     "--out", str(tmp_path / "a")])
    out = capsys.readouterr().out
    assert code == 0 and "1 events with states outside their sensor's set, left out" in out
    summary = json.loads((tmp_path / "a" / "milan_summary.json").read_text())
    assert summary["parse_report"]["unknown_states"] == {"M001": {"OFFC": 1}}
    assert summary["config"]["keep_unknown_states"] is False
    code = cli.main(["prepare", "--raw", str(raw), "--home", "milan", "--window", "20", "--quiet",
                     "--keep-unknown-states", "--out", str(tmp_path / "b")])
    summary = json.loads((tmp_path / "b" / "milan_summary.json").read_text())
    assert code == 0 and summary["parse_report"]["n_events"] == 321 and "kept" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ van Kasteren variant

SENSE = (
    "Start time: when the sensor started firing\r\n"
    "ID: sensor id (see list below)\r\n"
    "\r\n"
    "Sensor IDs are: \r\n"
    "    [ 2]    'Coat  hook'        \r\n"
    "    [11]    'Hall-Attic door'\r\n"
    "\r\n"
    "Start time          \tEnd time            \tID\tVal\r\n"
    "--------------------\t--------------------\t--\t---\r\n"
    "03-Jan-2009 07:00:00\t03-Jan-2009 07:00:05\t11\t1\r\n"
    "03-Jan-2009 07:10:00\t03-Jan-2009 07:10:00\t2\t1\r\n"
    "03-jan-2009 23:59:00\t04-Jan-2009 00:01:00\t30\t1\r\n"
    "Length: 4"
)
ACT = (
    "activity id list:\r\n"
    "3: 'brush teeth'\r\n"
    "8:'feed   the cat'\r\n"
    "\r\n"
    "Start time          \tEnd time            \tID\r\n"
    "--------------------\t--------------------\t--\r\n"
    "03-Jan-2009 06:59:00\t03-Jan-2009 07:05:00\t3\r\n"
    "03-Jan-2009 07:08:00\t04-Jan-2009 00:00:30\t8\r\n"
    "Length: 2"
)


def test_van_kasteren_variant(tmp_path):
    sense = write(tmp_path, "homeSenseData.txt", SENSE)
    write(tmp_path, "homeActData.txt", ACT)
    assert detect_format(sense) == "intervals"
    log = read_log(sense)
    f = log.frame
    assert list(zip(f["time"].astype(str), f["sensor"], f["state"], f["label"])) == [
        ("2009-01-03 07:00:00", "Hall-Attic_door", "ON", "brush_teeth"),
        ("2009-01-03 07:00:05", "Hall-Attic_door", "OFF", "brush_teeth"),
        ("2009-01-03 07:10:00", "Coat_hook", "ON", "feed_the_cat"),
        ("2009-01-03 07:10:00", "Coat_hook", "OFF", "feed_the_cat"),
        ("2009-01-03 23:59:00", "30", "ON", "feed_the_cat"),
        ("2009-01-04 00:01:00", "30", "OFF", ""),
    ]
    notes = log.report.notes
    assert f"{sense}: the header names no sensor for ID 30 (1 rows); named by the ID" in notes
    assert f"{sense}:13: the last line says Length: 4, but 3 rows were read" in notes
    assert f"activity labels from {tmp_path / 'homeActData.txt'}" in notes
    assert log.report.labels_from == str(tmp_path / "homeActData.txt")


def test_van_kasteren_bad_rows_and_wrong_file(tmp_path):
    bad_val = write(tmp_path, "aSenseData.txt", SENSE.replace("\t2\t1\r\n", "\t2\t0\r\n"))
    with pytest.raises(UserError, match=r"aSenseData.txt:11: expected 'start<TAB>end<TAB>ID<TAB>Val' with Val 1"):
        read_log(bad_val)
    bad_month = write(tmp_path, "bSenseData.txt", SENSE.replace("03-Jan-2009 07:10:00\t", "03-Jab-2009 07:10:00\t"))
    with pytest.raises(UserError, match=r"bSenseData.txt:11: expected start and end times"):
        read_log(bad_month, "intervals")
    act = write(tmp_path, "cActData.txt", ACT)
    with pytest.raises(UserError, match=r"cActData.txt:5: this is an activity \(ADL\) file"):
        read_log(act)
    sense = write(tmp_path, "dSenseData.txt", SENSE)
    with pytest.raises(UserError, match=r"dSenseData.txt:8: this is a sensor file, not an activity file"):
        read_log(sense, labels_path=sense)
    log = read_log(sense, labels_path=act)
    assert log.activities == ["brush_teeth", "feed_the_cat"]


@pytest.mark.real_data
@pytest.mark.skipif(not (KASTEREN / "kasterenSenseData.txt").is_file(), reason=f"real data not present: {KASTEREN}")
def test_real_van_kasteren_house_a():
    log = read_log(KASTEREN)
    r = log.report
    assert (r.format, r.n_events, r.n_skipped, r.n_out_of_order) == ("intervals", 2 * 1319, 0, 0)
    assert r.labels_from == str(KASTEREN / "kasterenActData.txt")
    assert sorted(Path(s.split(":")[0]).name for s in r.skipped_files) == ["README.md", "README.txt", "SHA256SUMS"]
    f = log.frame
    assert f["sensor"].nunique() == 14
    assert {"Hall-Toilet_door", "Cups_cupboard", "ToiletFlush", "Groceries_Cupboard"} <= set(f["sensor"])
    assert log.activities == ["get_drink", "go_to_bed", "leave_house", "prepare_Breakfast", "prepare_Dinner",
                              "take_shower", "use_toilet"]
    assert f["time"].iloc[0] == pd.Timestamp("2008-02-25 00:20:14")
    assert f["time"].iloc[-1] == pd.Timestamp("2008-03-23 19:04:47")
    assert not any("named by the ID" in n or "Length" in n for n in r.notes)
    assert (f["state"] == "ON").sum() == 1319
