"""How much of a log a layout knows: coverage figures, the loud warning below 90 % with a better packaged layout,
the taxonomy report of inferred / unknown sensors, and both in `prepare`'s summary and console text."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from homeclip.data.coverage import MIN_EVENT_COVERAGE, coverage_report, layout_coverage, taxonomy_report
from homeclip.data.homes import load_home, no_layout_home
from homeclip.data.prepare import format_summary, prepare_dataset
from homeclip.errors import UserError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def kyoto_log(path: Path, sensors: list[str], days: int = 3, per_day: int = 120) -> Path:
    """A CASAS-format log cycling through `sensors`, 30 s apart, with a Sleep episode each day."""
    lines = []
    for d in range(days):
        day = (np.datetime64("2009-02-02") + np.timedelta64(d, "D")).astype(str)
        for i in range(per_day):
            s = 7 * 3600 + i * 30
            note = {0: " R1_Sleep begin", 40: " R1_Sleep end"}.get(i, "")
            lines.append(f"{day} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{i:06d} "
                         f"{sensors[i % len(sensors)]} {'ON' if i % 2 == 0 else 'OFF'}{note}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_coverage_counts_events_and_sensors():
    home = load_home("milan")
    cov = layout_coverage(home, {"M001": 6, "M002": 2, "X1": 1, "X2": 1})
    assert (cov["events"], cov["sensors"]) == (0.8, 0.5)
    assert (cov["n_events"], cov["n_known_events"], cov["n_sensors"], cov["n_known_sensors"]) == (10, 8, 4, 2)
    assert cov["unknown_sensors"] == ["X1", "X2"]


def test_no_warning_at_or_above_the_threshold():
    counts = {"M001": 9, "X1": 1}
    report = coverage_report(load_home("milan"), counts)
    assert report["events"] == MIN_EVENT_COVERAGE and report["warning"] is None


def test_kyoto_names_suggest_the_other_layout():
    counts = {f"M{i:03d}": 10 for i in range(1, 52)}
    report = coverage_report(load_home("kyoto_m01"), counts)
    assert report["events"] == 0.0 and report["suggested_layout"] == {"name": "kyoto", "events": 1.0}
    assert "'kyoto_m01' knows only 0.0% of the events" in report["warning"]
    assert "M001, M002, M003, M004, M005 and 46 more" in report["warning"] and "--home kyoto" in report["warning"]
    back = coverage_report(load_home("kyoto"), {f"M{i:02d}": 10 for i in range(1, 52)})
    assert back["suggested_layout"]["name"] == "kyoto_m01"


def test_without_a_layout_warns_only_when_a_packaged_layout_fits():
    assert coverage_report(no_layout_home(), {"Zzz1": 5})["warning"] is None
    report = coverage_report(no_layout_home(), {"Basin_PIR_Bathroom": 5, "Fridge_Magnetic_Kitchen": 5})
    assert report["suggested_layout"] == {"name": "ordonez_a", "events": 1.0}
    assert report["warning"].startswith("without a layout, the log knows only 0.0%")


def test_taxonomy_report_names_inferred_and_unknown_sensors():
    report = taxonomy_report(load_home("ordonez_a"), ["Basin_PIR_Bathroom", "Door_PIR_Kitchen", "Sensor9"])
    assert report["given"] == {"room_type": 1, "kind": 1}
    assert report["inferred"]["room_type"] == {"Door_PIR_Kitchen": "kitchen"}
    assert report["inferred"]["kind"] == {"Door_PIR_Kitchen": "motion_area"}
    assert report["unknown"] == {"room_type": ["Sensor9"], "kind": ["Sensor9"]}


def test_prepare_warns_loudly_for_a_log_whose_names_miss_the_layout(tmp_path, caplog):
    raw = kyoto_log(tmp_path / "kyoto.txt", ["M001", "M002", "M034", "M035", "D001"])
    with caplog.at_level(logging.WARNING):
        summary = prepare_dataset(raw, "kyoto_m01", tmp_path / "out", window=_small(), progress=False)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("knows only 0.0% of the events" in w and "'kyoto'" in w for w in warnings), warnings
    cov = summary["coverage"]
    assert cov["events"] == 0.0 and cov["suggested_layout"]["name"] == "kyoto"
    text = format_summary(summary)
    assert "Layout coverage: 0.0% of events, 0 of 5 sensors known to kyoto_m01" in text
    assert "WARNING: layout 'kyoto_m01' knows only" in text
    on_disk = json.loads((tmp_path / "out" / "kyoto_m01_summary.json").read_text())
    assert on_disk["coverage"] == cov and on_disk["taxonomy"]["unknown"]["room_type"] == sorted(cov["unknown_sensors"])


def test_prepare_with_the_matching_layout_is_quiet(tmp_path, caplog):
    raw = kyoto_log(tmp_path / "kyoto.txt", ["M001", "M002", "M034", "M035", "D001"])
    with caplog.at_level(logging.WARNING):
        summary = prepare_dataset(raw, "kyoto", tmp_path / "out", window=_small(), progress=False)
    assert not [r for r in caplog.records if "knows only" in r.getMessage()]
    assert summary["coverage"]["events"] == 1.0 and summary["coverage"]["warning"] is None
    assert summary["taxonomy"]["given"] == {"room_type": 5, "kind": 5}
    text = format_summary(summary)
    assert "Layout coverage: 100.0% of events, 5 of 5 sensors" in text and "WARNING" not in text
    assert "Taxonomy: room type: 5 given, 0 inferred, 0 unknown; kind: 5 given, 0 inferred, 0 unknown" in text


def _small():
    from homeclip.data.windows import WindowConfig

    return WindowConfig(length=10)


REAL_LOGS = [("alsmarthome", ("casas", "al_smarthome", "data.txt")),
             ("ordonez_a", ("ordonez", "OrdonezA_Sensors.txt")),
             ("kasteren_a", ("kasteren", "kasterenSenseData.txt"))]


@pytest.mark.real_data
@pytest.mark.parametrize("home, parts", REAL_LOGS, ids=[h for h, _ in REAL_LOGS])
def test_packaged_layouts_cover_the_real_logs(home, parts):
    path = SHARED.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"real data not found: {path}")
    from homeclip.data.readers import read_log

    try:
        log = read_log(path)
    except UserError as err:          # a reader for this variant may not be merged yet
        pytest.skip(f"cannot read {path.name} with this checkout's readers: {err}")
    counts = {str(k): int(v) for k, v in log.frame["sensor"].value_counts().items()}
    report = coverage_report(load_home(home), counts)
    assert report["events"] == 1.0 and report["warning"] is None, report["unknown_sensors"]
