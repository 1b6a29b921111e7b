"""Generated homes (`simulate --varied`): determinism, valid layouts and logs, real variety, labels consistent
with the events, and the processed dataset `prepare` makes of them."""
from __future__ import annotations

import collections
import json
import re
from datetime import datetime

import pytest

from homeclip import cli
from homeclip.data.homes import load_home, parse_home
from homeclip.data.readers import read_log
from homeclip.data.simulate import resolve_layout
from homeclip.data.simulate.generate import generate_home
from homeclip.data.simulate.varied import varied_plan, write_varied_homes
from homeclip.data.simulate.vocabulary import ACTIVITY_LABELS, DESCRIPTIONS, LABELS
from homeclip.data.taxonomy import OBJECT_KINDS, ROOM_TYPES
from homeclip.errors import UserError

DAYS = 3
START = "2009-10-16"
LINE = re.compile(r"^(\S+ \S+) (\S+) (\S+)(?: (\S+) (begin|end))?$")


def generated(n: int = 20, seed: int = 0) -> list:
    """The homes `simulate --varied n --seed seed` makes."""
    return [generate_home(s, name, t, style) for name, s, t, style in varied_plan(n, seed)]


@pytest.fixture(scope="module")
def homes():
    return generated()


@pytest.fixture(scope="module")
def logs(homes):
    return {h.name: h.simulate(DAYS, START) for h in homes}


def episodes(lines: list[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(label, [(sensor, state), ...]) of every annotated activity, in order; the rows between begin and end."""
    out, current = [], None
    for line in lines:
        m = LINE.match(line)
        assert m, line
        _, sensor, state, label, marker = m.groups()
        if marker == "begin":
            assert current is None, f"{label} begins inside {current[0]}"
            current = (label, [])
        if current is not None:
            current[1].append((sensor, state))
        if marker == "end":
            assert current is not None and current[0] == label
            out.append(current)
            current = None
    assert current is None
    return out


def labelled_states(lines: list[str]) -> list[tuple[str, str, str]]:
    """(sensor, state, open label or "") per line."""
    out, open_ = [], ""
    for line in lines:
        _, sensor, state, label, marker = LINE.match(line).groups()
        open_ = label if marker == "begin" else open_
        out.append((sensor, state, open_))
        open_ = "" if marker == "end" else open_
    return out


def test_same_seed_same_home_and_log_other_seed_other_home():
    a, b = generate_home(11, "sim_x"), generate_home(11, "sim_x")
    assert a.layout_json() == b.layout_json() and a.routine == b.routine
    assert a.simulate(2, START) == b.simulate(2, START)
    c = generate_home(12, "sim_x")
    assert c.layout_json() != a.layout_json()
    assert varied_plan(20, 0) == varied_plan(20, 0) and varied_plan(20, 0) != varied_plan(20, 1)
    assert [name for name, *_ in varied_plan(3, 0)] == ["sim_000", "sim_001", "sim_002"]


def test_every_layout_parses_and_every_log_round_trips_through_the_reader(tmp_path, homes, logs):
    for home in homes:
        layout = home.layout_json()
        assert parse_home(json.loads(json.dumps(layout)), "x").sensors.keys() == home.sensors.keys()
        assert all(not any(c.isspace() for c in n) for n in home.sensors)
        lines = logs[home.name]
        path = tmp_path / f"{home.name}.txt"
        path.write_text("\n".join(lines) + "\n")
        log = read_log(path)
        assert log.report.format == "casas", home.name
        assert not log.report.unmatched_begin and not log.report.unmatched_end and log.report.n_out_of_order == 0
        assert len(log.frame) == sum(not LINE.match(x).group(3)[-1].isdigit() for x in lines)
        assert set(log.frame["sensor"]) <= set(home.sensors)          # no anchor or unknown name reaches a log
        assert set(log.frame["label"]) - {""} <= set(LABELS)
        dates = {x[:10] for x in lines}
        assert dates == {f"2009-10-{16 + d}" for d in range(DAYS)}
        times = [datetime.fromisoformat(x[:26]) for x in lines]
        assert times == sorted(times)


def test_variety_is_real_across_twenty_homes(homes):
    assert {h.template for h in homes} == {"studio", "flat_1bed", "flat_2bed", "house"}
    assert {h.sensor_style for h in homes} == {"casas_dense", "sparse_area", "object_only", "mixed"}
    assert len({h.naming_style for h in homes}) >= 4
    assert len({len(h.sensors) for h in homes}) >= 8
    assert len({len(h.plan.rooms) for h in homes}) >= 4
    assert {h.reporting.contact_states for h in homes} == {("OPEN", "CLOSE"), ("ON", "OFF")}
    assert any(h.reporting.motion_hold > 0 for h in homes) and any(h.reporting.motion_hold == 0 for h in homes)
    for h in homes:
        types = collections.Counter(s.type for s in h.sensors.values())
        if h.sensor_style == "object_only":
            assert types["motion"] == 0 and types["door"] >= 4
        if h.sensor_style == "casas_dense":
            assert types["motion"] > len(h.plan.rooms)                # several per room
        if h.sensor_style == "sparse_area":
            assert types["motion"] <= len(h.plan.rooms) + 2
        if h.sensor_style == "mixed":
            assert types["pressure"] >= 2 and 1 <= types["motion"] <= 4
    routines = [h.routine for h in homes]
    assert len({r.wake for r in routines}) >= 15 and len({r.dinner for r in routines}) >= 15
    assert any(r.work_days for r in routines) and any(not r.work_days for r in routines)
    assert any(r.breakfast_prob < 1 for r in routines) and any(not r.takes_meds for r in routines)
    casas = next(h for h in homes if h.naming_style == "casas")
    assert all(re.fullmatch(r"[MDTIPEF]\d{2,3}", n) for n in casas.sensors)


def test_sensors_carry_taxonomy_room_types_and_kinds(homes):
    for h in homes:
        sem = h.semantics()
        assert sem.keys() == h.sensors.keys()
        assert all(v["room_type"] in ROOM_TYPES and v["kind"] in OBJECT_KINDS for v in sem.values())
        assert all(v["room_type"] != "unknown" and v["kind"] != "unknown" for v in sem.values())
        assert [v["kind"] for v in sem.values()].count("front_door") == 1
        for name, s in h.sensors.items():
            assert s.room in h.plan.rooms and sem[name]["room_type"] == s.room.room_type
            if s.kind in ("fridge", "toilet", "stove", "microwave", "bed"):       # details say what they watch
                assert s.kind.split("_")[0] in s.detail or s.detail in ("freezer", "cooktop")
        layout = h.layout_json()["sensors"]
        assert all(layout[n]["room_type"] == sem[n]["room_type"] and layout[n]["kind"] == sem[n]["kind"]
                   for n in sem)
        parsed = h.home()          # parse_home keeps the explicit keys: nothing is left to inference
        assert all(parsed.sensors[n].kind == sem[n]["kind"] and parsed.sensors[n].room_type == sem[n]["room_type"]
                   for n in sem)


def test_labels_are_the_shared_vocabulary_and_places_are_the_right_rooms(homes):
    assert set(LABELS.values()) == {"Other", "Work", "Take_medicine", "Sleep", "Relax", "Leave_Home", "Eat", "Cook",
                                    "Bed_to_toilet", "Bathing"}
    for h in homes:
        home = h.home()
        assert set(home.descriptions) == set(home.l1_labels) | set(home.l2_labels) == set(DESCRIPTIONS)
        layout = resolve_layout(home, h.kinds, h.anchors())
        assert layout.labels == ACTIVITY_LABELS
        rooms = {r.role: r.name for r in h.plan.rooms}
        assert layout.places["bed"].room == layout.places["bedroom"].room == rooms["bedroom"]
        assert layout.places["kitchen"].room == rooms["kitchen"]
        types = {r.name: r.room_type for r in h.plan.rooms}
        assert types[layout.places["toilet"].room] in ("bathroom", "toilet")
        assert types[layout.places["shower"].room] == "bathroom"
        assert types[layout.places["tv"].room] == "living"


def test_objects_fire_with_the_activities_that_use_them(homes, logs):
    uses = {"toilet": {"Toilet", "Bed_to_toilet", "Personal_hygiene"}, "bed": {"Sleep"},
            "fridge": {"Cook_breakfast", "Cook_lunch", "Cook_dinner", "Get_drink", ""},   # "": groceries put away
            "front_door": {"Leave_Home", "Go_to_work", "Shopping", ""},                   # "": coming back
            "shower_bath": {"Shower"}, "medicine": {"Morning_meds", "Evening_meds"}}
    seen = collections.Counter()
    for h in homes:
        on = {h.reporting.contact_states[0], "ON", "ABSENT"}
        for sensor, state, label in labelled_states(logs[h.name]):
            spec = h.sensors[sensor]
            if spec.kind in uses and spec.type != "motion" and state in on:
                assert label in uses[spec.kind], (h.name, sensor, state, label)
                seen[spec.kind] += 1
            if label == "Sleep" and spec.type not in ("motion", "temperature"):
                assert spec.room.room_type == "bedroom", (h.name, sensor)      # nothing else is touched in bed
    assert all(seen[k] > 0 for k in uses), seen


def test_toileting_in_object_homes_flushes_and_cooking_opens_the_kitchen(homes):
    flushed, toilets, cooked = 0, 0, 0
    for h in (h for h in homes if h.sensor_style == "object_only"):
        for label, rows in episodes(h.simulate(10, START)):
            kinds = {h.sensors[s].kind for s, _ in rows}
            if label == "Toilet":
                toilets += 1
                flushed += "toilet" in kinds
            if label.startswith("Cook_"):
                cooked += 1
                assert kinds & {"fridge", "cupboard", "microwave", "appliance", "stove"}
                assert {h.sensors[s].room.room_type for s, _ in rows} == {"kitchen"}
    assert toilets > 50 and cooked > 20 and flushed >= 0.85 * toilets


def test_holding_pirs_stay_on_and_pulsing_pirs_do_not(homes, logs):
    for h in homes:
        motion = [n for n, s in h.sensors.items() if s.type == "motion"]
        if not motion:
            continue
        opened, lengths = {}, []
        for line in logs[h.name]:
            stamp, sensor, state, *_ = LINE.match(line).groups()
            if sensor in motion:
                t = datetime.fromisoformat(stamp)
                if state == "ON":
                    opened.setdefault(sensor, t)
                elif sensor in opened:
                    lengths.append((t - opened.pop(sensor)).total_seconds())
        median = sorted(lengths)[len(lengths) // 2]
        if h.reporting.motion_hold:
            assert median >= 0.9 * h.reporting.motion_hold, (h.name, median)
        else:
            assert median <= 20.0, (h.name, median)


def test_work_days_take_the_resident_out():
    home = next(h for h in generated(40, 3) if len(h.routine.work_days) >= 3)
    days = collections.Counter()
    for line in home.simulate(14, START):
        if line.endswith("Go_to_work begin"):
            days[datetime.fromisoformat(line[:10]).weekday()] += 1
    assert set(days) <= set(home.routine.work_days) and len(days) >= 3


def test_prepare_cuts_windows_and_splits_days_of_generated_homes(tmp_path, homes):
    from homeclip.data.prepare import prepare_dataset
    from homeclip.data.windows import WindowConfig

    for style, window in (("casas_dense", WindowConfig()), ("object_only", WindowConfig(length=8, stride=2))):
        h = next(h for h in homes if h.sensor_style == style)
        raw = tmp_path / f"{h.name}.txt"
        raw.write_text("\n".join(h.simulate(10, START)) + "\n")
        layout = tmp_path / f"{h.name}.json"
        layout.write_text(json.dumps(h.layout_json()))
        summary = prepare_dataset(raw, str(layout), tmp_path / f"out_{style}", window=window, progress=False)
        assert all(summary["splits"][s]["windows"] > 0 for s in ("train", "val", "test")), (style, summary["splits"])


def test_cli_writes_homes_logs_layouts_and_an_index(tmp_path):
    out = tmp_path / "sim"
    assert cli.main(["simulate", "--varied", "3", "--days", "2", "--seed", "4", "--out", str(out),
                     "--workers", "2"]) == 0
    index = json.loads((out / "index.json").read_text())
    assert [h["name"] for h in index["homes"]] == ["sim_000", "sim_001", "sim_002"]
    assert sorted(p.name for p in out.iterdir()) == ["index.json", "sim_000", "sim_001", "sim_002"]
    for entry in index["homes"]:
        assert {"template", "sensor_style", "naming_style", "routine", "semantics", "n_sensors"} <= set(entry)
        home = load_home(str(out / entry["layout"]))
        assert home.name == entry["name"] and len(home.sensors) == entry["n_sensors"]
        again = generate_home(entry["seed"], entry["name"], entry["template"], entry["sensor_style"])
        assert (out / entry["log"]).read_text() == "\n".join(again.simulate(2, START)) + "\n"   # parallel = serial
    assert cli.main(["simulate", "--varied", "2", "--home", "milan", "--out", str(tmp_path / "x")]) == 2
    assert cli.main(["simulate", "--varied", "0", "--out", str(tmp_path / "x")]) == 2
    assert cli.main(["simulate", "--home", "milan", "--workers", "2", "--out", str(tmp_path / "x.txt")]) == 2
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.txt").exists()
    with pytest.raises(UserError, match="unknown sensor style"):
        generate_home(0, sensor_style="dense")
    with pytest.raises(UserError, match="--days"):
        write_varied_homes(tmp_path / "y", 2, 0)
