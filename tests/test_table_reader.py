"""Event tables: CSV/TSV/parquet files and DataFrames with a column mapping, time formats and zones, an
activity-interval table for labels, bad rows, and the same pipeline through `prepare`."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from homeclip import cli
from homeclip.data.prepare import prepare_dataset
from homeclip.data.readers import detect_format, read_log
from homeclip.data.windows import WindowConfig
from homeclip.errors import UserError


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def rows(log) -> list[tuple]:
    f = log.frame
    return list(zip(f["time"].astype(str), f["sensor"], f["state"], f["label"]))


def test_csv_with_common_column_names_and_a_label_column(tmp_path):
    path = write(tmp_path, "events.csv", (
        "timestamp,device,state,activity,note\n"
        "2020-05-01 08:00:00,kitchen_motion,on,Cook,x\n"
        "2020-05-01 08:00:05,kitchen_motion,off,Cook,\n"
        "\n"
        "2020-05-01 07:59:00,hall_door,OPEN,,\"a, b\"\n"
        "2020-05-01 08:01:00,kitchen_temp,21.5,Cook,\n"
    ))
    assert detect_format(path) == "table"
    log = read_log(path)
    assert rows(log) == [("2020-05-01 07:59:00", "hall_door", "OPEN", ""),
                         ("2020-05-01 08:00:00", "kitchen_motion", "ON", "Cook"),
                         ("2020-05-01 08:00:05", "kitchen_motion", "OFF", "Cook")]
    assert list(log.frame["labels"]) == [(), ("Cook",), ("Cook",)]
    assert log.numeric[["sensor", "value"]].values.tolist() == [["kitchen_temp", 21.5]]
    r = log.report
    assert (r.format, r.n_lines, r.n_blank, r.n_events, r.n_numeric, r.n_out_of_order) == ("table", 6, 1, 3, 1, 1)


def test_tsv_semicolons_and_an_explicit_mapping(tmp_path):
    tsv = write(tmp_path, "e.tsv", "when\twhat\tval\n2020-05-01T08:00:00\tM1\tON\n2020-05-01T08:00:01\tM1\tOFF\n")
    log = read_log(tsv, columns={"time": "when", "sensor": "what"})
    assert rows(log) == [("2020-05-01 08:00:00", "M1", "ON", ""), ("2020-05-01 08:00:01", "M1", "OFF", "")]
    semi = write(tmp_path, "e.csv", "Zeit;Gerät;Wert\n2020-05-01 08:00:00;Tür;AUF\n2020-05-01 08:00:01;Tür;ZU\n")
    log = read_log(semi, columns={"time": "Zeit", "sensor": "Gerät", "state": "Wert"})
    assert list(log.frame["state"]) == ["AUF", "ZU"]
    with pytest.raises(UserError, match=r"--columns time=ts: no such column; the table has \['Zeit'"):
        read_log(semi, columns={"time": "ts"})
    with pytest.raises(UserError, match=r"found no time or sensor column among \['Zeit', 'Gerät', 'Wert'\]; "
                                        r"name it with --columns time=COLUMN,sensor=COLUMN"):
        read_log(semi)


def test_activity_interval_table_labels_events(tmp_path):
    events = write(tmp_path, "ev.csv", "time,device,val\n" + "".join(
        f"2020-05-01 08:{m:02d}:00,M1,{'ON' if m % 2 == 0 else 'OFF'}\n" for m in range(6)))
    acts = write(tmp_path, "acts.csv", ("start_time,end_time,activity\n"
                                        "2020-05-01 08:01:00,2020-05-01 08:03:00,Cook\n"
                                        "2020-05-01 08:02:00,2020-05-01 08:02:00,Phone\n"
                                        "2020-05-01 08:09:00,2020-05-01 08:04:00,Nap\n"))
    log = read_log(events, labels_path=acts)
    assert list(log.frame["labels"]) == [(), ("Cook",), ("Cook", "Phone"), ("Cook",), (), ()]
    assert list(log.frame["label"]) == ["", "Cook", "Phone", "Cook", "", ""]
    assert f"{acts}:4: 'Nap' ends (2020-05-01 08:04:00) before it starts (2020-05-01 08:09:00); row dropped" \
        in log.report.notes
    assert log.report.labels_from == str(acts)
    both = write(tmp_path, "both.csv", "time,device,val,label\n2020-05-01 08:02:00,M1,ON,Eat\n")
    with pytest.raises(UserError, match="has a label column and an activity-interval table"):
        read_log(both, labels_path=acts)
    assert read_log(both).frame["label"].iloc[0] == "Eat"
    assert read_log(both, labels_path=acts, columns={"label": ""}).frame["labels"].iloc[0] == ("Cook", "Phone")


def test_zone_aware_and_epoch_times_need_a_timezone_and_are_stored_local(tmp_path):
    iso = write(tmp_path, "iso.csv", ("time,sensor,state\n"
                                      "2021-10-31T00:30:00Z,M1,ON\n"        # 02:30 CEST
                                      "2021-10-31T01:30:00Z,M1,OFF\n"       # 02:30 CET: the hour repeats
                                      "2021-10-31T03:00:00+01:00,M2,ON\n"))
    with pytest.raises(UserError, match=r"iso.csv: column 'time': the times carry a zone .* give --timezone"):
        read_log(iso)
    log = read_log(iso, timezone="Europe/Madrid")
    assert list(log.frame["time"].astype(str)) == ["2021-10-31 02:30:00", "2021-10-31 02:30:00",
                                                   "2021-10-31 03:00:00"]
    assert any("converted to naive local time in Europe/Madrid; the UTC offset changes 1 times" in n
               for n in log.report.notes)
    assert list(read_log(iso, timezone="UTC").frame["time"].astype(str))[0] == "2021-10-31 00:30:00"
    for unit, scale in (("epoch-s", 1), ("epoch-ms", 1000)):
        epoch = write(tmp_path, f"{unit}.csv", "time,sensor,state\n" + "".join(
            f"{(1_600_000_000 + i) * scale},M1,{'ON' if i % 2 == 0 else 'OFF'}\n" for i in range(3)))
        with pytest.raises(UserError, match="epoch times are UTC instants: give --timezone"):
            read_log(epoch)
        auto = read_log(epoch, timezone="UTC")
        explicit = read_log(epoch, time_format=unit, timezone="UTC")
        assert list(auto.frame["time"].astype(str)) == list(explicit.frame["time"].astype(str)) == [
            "2020-09-13 12:26:40", "2020-09-13 12:26:41", "2020-09-13 12:26:42"]
    with pytest.raises(UserError, match="unknown time zone 'Mars/Olympus'"):
        read_log(iso, timezone="Mars/Olympus")


def test_naive_times_with_a_timezone_report_daylight_saving_gaps_and_repeats(tmp_path):
    path = write(tmp_path, "n.csv", ("time,sensor,state\n2021-03-28 02:30:00,M1,ON\n"      # skipped in Madrid
                                     "2021-10-31 02:30:00,M1,OFF\n2021-10-31 02:40:00,M1,ON\n"))   # repeated hour
    log = read_log(path, timezone="Europe/Madrid")
    assert len(log) == 3 and str(log.frame["time"].iloc[0]) == "2021-03-28 02:30:00"   # kept as written
    assert any("in Europe/Madrid, 1 fall in an hour skipped by a daylight-saving change and 2 in a repeated hour"
               in n for n in log.report.notes)


@pytest.mark.parametrize("time_format, cells", [
    ("dayfirst", ["25/02/2008 10:00:00", "26.02.2008 10:00", "27-Feb-2008 10:00:00"]),
    ("monthfirst", ["02/25/2008 10:00:00", "02/26/2008 10:00", "02/27/2008 10:00:00.5"]),
    ("%d|%m|%Y %Hh%M", ["25|02|2008 10h00", "26|02|2008 10h00", "27|02|2008 10h00"]),
])
def test_day_first_month_first_and_strftime_times(tmp_path, time_format, cells):
    path = write(tmp_path, "d.csv", "time,sensor,state\n" + "".join(f"{c},M1,ON\n" for c in cells))
    days = read_log(path, time_format=time_format).frame["time"].dt.strftime("%Y-%m-%d %H:%M").tolist()
    assert days == ["2008-02-25 10:00", "2008-02-26 10:00", "2008-02-27 10:00"]
    with pytest.raises(UserError, match=r"d.csv:2: expected a time"):
        read_log(path)                                   # auto: ISO or epoch only, never a guess at day order


@pytest.mark.parametrize("line, expected", [
    ("2020-05-01 08:00:01,M1", "3 fields separated by ',' (time, sensor, state)"),
    ("2020-05-01 24:00:00,M1,ON", "a time (ISO 8601, epoch, or as --time-format says; year 1980-2099)"),
    ("2020-05-01 23:59:60,M1,ON", "a time"),
    ("1970-01-01 00:00:01,M1,ON", "a time"),
    ("2020-05-01 08:00:01,,ON", "a sensor name"),
    ("2020-05-01 08:00:01,M1,", "a state or a value"),
    ("2020-05-01 08:00:01,T1,-inf", "a state word or a finite number"),
    ("2020-05-01 08:00:01,M\x071,ON", "printable text, found control character U+0007"),
])
def test_bad_rows_give_file_and_line(tmp_path, line, expected):
    path = write(tmp_path, "bad.csv", f"time,sensor,state\n2020-05-01 08:00:00,M1,ON\n{line}\n"
                                      "2020-05-01 08:00:02,M1,OFF\n")
    with pytest.raises(UserError) as err:
        read_log(path)
    assert str(err.value).startswith(f"{path}:3: expected {expected}") and "--skip-bad-lines" in str(err.value)
    log = read_log(path, skip_bad_lines=True)
    assert log.report.n_skipped == 1 and len(log) == 2


def test_table_errors(tmp_path):
    dup = write(tmp_path, "dup.csv", "time,time,state\n2020-05-01 08:00:00,x,ON\n")
    with pytest.raises(UserError, match=r"dup.csv:1: the table names column\(s\) 'time' more than once"):
        read_log(dup)
    no_state = write(tmp_path, "ns.csv", "time,sensor,colour\n2020-05-01 08:00:00,M1,red\n")
    with pytest.raises(UserError, match="found no state column"):
        read_log(no_state)
    with pytest.raises(UserError, match="only applies to event tables"):
        read_log(write(tmp_path, "c.txt", "2020-05-01 08:00:00 M1 ON\n"), timezone="UTC")
    with pytest.raises(UserError, match="unknown time format 'weekly'"):
        read_log(no_state, time_format="weekly")
    with pytest.raises(UserError, match="is not a readable parquet file"):
        read_log(write(tmp_path, "x.parquet", "time,sensor\n"))


def test_value_column_for_rows_without_a_state(tmp_path):
    path = write(tmp_path, "v.csv", "time,sensor,state,value\n2020-05-01 08:00:00,M1,ON,\n"
                                    "2020-05-01 08:00:01,T1,,19.5\n2020-05-01 08:00:02,T1,,warm\n")
    with pytest.raises(UserError, match=r"v.csv:4: expected a state or a value"):
        read_log(path)
    log = read_log(path, skip_bad_lines=True)
    assert len(log) == 1 and log.numeric["value"].tolist() == [19.5]


def test_parquet_and_dataframe_give_the_same_log(tmp_path):
    frame = pd.DataFrame({
        "time": pd.to_datetime(["2020-05-01 08:00:00", "2020-05-01 08:00:01", "2020-05-01 08:00:02"]),
        "device": ["M1", "M1", "T1"], "val": ["on", "off", "20.5"], "label": ["Cook", "Cook", ""],
    })
    frame.to_parquet(tmp_path / "e.parquet")
    from_file, from_frame = read_log(tmp_path / "e.parquet"), read_log(frame)
    assert rows(from_file) == rows(from_frame) == [("2020-05-01 08:00:00", "M1", "ON", "Cook"),
                                                   ("2020-05-01 08:00:01", "M1", "OFF", "Cook")]
    assert from_frame.sources == ["<DataFrame>"] and from_file.sources == [str(tmp_path / "e.parquet")]
    aware = frame.assign(time=frame["time"].dt.tz_localize("UTC"))
    with pytest.raises(UserError, match="the time column is zone-aware"):
        read_log(aware)
    assert str(read_log(aware, timezone="Asia/Tokyo").frame["time"].iloc[0]) == "2020-05-01 17:00:00"
    bad = frame.assign(time=["2020-05-01 08:00:00", "yesterday", "2020-05-01 08:00:02"])
    with pytest.raises(UserError, match=r"<DataFrame>:2: expected a time"):
        read_log(bad)


def daily_frame(days: int = 4, per_day: int = 80) -> tuple[pd.DataFrame, pd.DataFrame]:
    times = [pd.Timestamp("2020-05-01 08:00") + pd.Timedelta(days=d, seconds=30 * i)
             for d in range(days) for i in range(per_day)]
    events = pd.DataFrame({"time": times, "sensor": ["M1", "M2"] * (len(times) // 2),
                           "state": ["ON", "ON", "OFF", "OFF"] * (len(times) // 4)})
    acts = pd.DataFrame({"start": [pd.Timestamp("2020-05-01 08:00") + pd.Timedelta(days=d) for d in range(days)],
                         "end": [pd.Timestamp("2020-05-01 08:20") + pd.Timedelta(days=d) for d in range(days)],
                         "activity": ["Breakfast"] * days})
    return events, acts


def test_prepare_dataset_accepts_a_dataframe_and_an_interval_frame(tmp_path):
    events, acts = daily_frame()
    summary = prepare_dataset(events, "milan", tmp_path / "out", labels_path=acts, window=WindowConfig(length=20),
                              progress=False)
    assert summary["format"] == "table" and summary["raw"] == "<DataFrame>"
    assert summary["sources"][0] == {"path": "<DataFrame>", "bytes": None, "sha256": None, "role": "events",
                                     "format": "table", "n_events": 320, "first_event": "2020-05-01 08:00:00",
                                     "last_event": "2020-05-04 08:39:30"}
    assert "Breakfast" in json.dumps(summary["splits"])


def test_cli_prepare_a_table_with_columns_and_timezone(tmp_path, capsys):
    events, acts = daily_frame()
    events = events.rename(columns={"time": "ts", "sensor": "dev"})
    events["ts"] = events["ts"].dt.tz_localize("Europe/Paris").dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    events.to_csv(tmp_path / "ev.csv", index=False)
    acts.to_csv(tmp_path / "acts.csv", index=False)
    args = ["prepare", "--raw", str(tmp_path / "ev.csv"), "--labels", str(tmp_path / "acts.csv"), "--home", "none",
            "--window", "20", "--quiet", "--columns", "time=ts,sensor=dev", "--out", str(tmp_path / "ds")]
    assert cli.main(args) == 2 and "give --timezone" in capsys.readouterr().err
    assert not (tmp_path / "ds").exists()
    assert cli.main([*args, "--timezone", "Europe/Paris"]) == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "ds" / "no_layout_summary.json").read_text())
    assert summary["config"]["columns"] == {"time": "ts", "sensor": "dev"}
    assert summary["config"]["timezone"] == "Europe/Paris"
    assert [s["role"] for s in summary["sources"]] == ["events", "labels"]
    assert summary["sources"][0]["first_event"] == "2020-05-01 08:00:00"      # local time, not UTC
    assert cli.main([*args[:-2], "--columns", "time", "--out", str(tmp_path / "x")]) == 2
    assert "--columns expects ROLE=COLUMN" in capsys.readouterr().err
    assert np.isfinite(summary["n_windows"])
