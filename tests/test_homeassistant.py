"""Home Assistant history: recorder databases of both schemas (written through SQLAlchemy with the recorder's
table layout from a simulated day) read back to the same events, labels and windows as the CASAS log of the
same simulation; the state rule; registries -> layout; the command line."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hass_fixtures import (ZONE, entity_of, history_from_log, registry_entity, renamed_layout, write_recorder,
                           write_registries)
from homeclip.cli import main
from homeclip.data.homes import HOMES_DIR, load_home
from homeclip.data.homes.homeassistant import home_from_registries, registry_time_zone
from homeclip.data.readers import detect_format, read_log
from homeclip.data.readers.hass_states import read_state
from homeclip.data.simulate import write_simulated_log
from homeclip.data.windows import WindowConfig, make_windows
from homeclip.errors import UserError


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A simulated day of the Milan layout (CASAS text) and its EventLog."""
    folder = tmp_path_factory.mktemp("sim")
    path = write_simulated_log(folder / "day.txt", load_home("milan"), days=1, seed=3)
    return path, read_log(path)


@pytest.fixture(scope="module")
def renamed_milan(tmp_path_factory):
    """The Milan layout keyed by entity id (binary_sensor.m001, sensor.t001, ...)."""
    path = tmp_path_factory.mktemp("layout") / "milan_ha.json"
    path.write_text(json.dumps(renamed_layout(json.loads((HOMES_DIR / "milan.json").read_text()))))
    return load_home(path)


@pytest.mark.parametrize("schema", ["current", "legacy"])
def test_recorder_reads_back_to_the_casas_windows(tmp_path, simulated, renamed_milan, schema):
    casas_path, casas = simulated
    db = write_recorder(tmp_path / "home-assistant_v2.db", history_from_log(casas), schema)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert detect_format(db) == "homeassistant"
    log = read_log(db, timezone=ZONE, label_entity="input_select.activity")
    assert sorted(p.name for p in tmp_path.iterdir()) == before          # opened read-only: nothing written
    # events: the same times, states and labels, sensors renamed
    assert log.frame["sensor"].tolist() == [entity_of(s) for s in casas.frame["sensor"]]
    assert log.frame["state"].tolist() == casas.frame["state"].tolist()
    np.testing.assert_array_equal(log.frame["time"].to_numpy(), casas.frame["time"].to_numpy())
    assert log.frame["label"].tolist() == casas.frame["label"].tolist()
    assert log.frame["labels"].tolist() == casas.frame["labels"].tolist()
    np.testing.assert_array_equal(log.numeric["time"].to_numpy(), casas.numeric["time"].to_numpy())
    np.testing.assert_allclose(log.numeric["value"].to_numpy(), casas.numeric["value"].to_numpy())
    # what was counted, not read
    report = log.report
    assert report.format == "homeassistant" and report.unknown_states == {"binary_sensor.m002": {"UNAVAILABLE": 1}}
    notes = " | ".join(report.notes)
    assert "1 attribute-only updates" in notes and "1 states skipped (moving state)" in notes
    assert "1 states skipped (non-numeric sensor state)" in notes and "input_select.activity" in notes
    assert ("current (states_meta, float timestamps)" if schema == "current" else "older (entity_id, datetime") in notes
    # windows: identical in every field but the sensor names
    cfg = WindowConfig(length=20, stride=5)
    a, b = make_windows(casas, load_home("milan"), cfg), make_windows(log, renamed_milan, cfg)
    assert len(a) == len(b) > 100
    for name in a.codes:
        got = [[b.categories[name][c] for c in row[m]] for row, m in zip(b.codes[name], b.mask)]
        want = [[a.categories[name][c] for c in row[m]] for row, m in zip(a.codes[name], a.mask)]
        if name == "sensor":
            want = [[entity_of(s) for s in row] for row in want]
        assert got == want, name
    for name in ("time", "time_delta", "mask", "label_l1", "label_l2", "start", "end"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_array_equal(np.isnan(a.xy), np.isnan(b.xy))
    np.testing.assert_allclose(a.xy, b.xy)


def test_state_rule():
    assert read_state("binary_sensor.hall", "on", "motion").state == "ON"
    assert read_state("binary_sensor.front", "on", "door").state == "OPEN"
    assert read_state("binary_sensor.front", "off", "window").state == "CLOSE"
    assert read_state("media_player.tv", "playing").state == "ON" and read_state("media_player.tv", "idle").state == "OFF"
    assert read_state("lock.front_door", "unlocked").state == "OPEN" and read_state("cover.blind", "closed").state == "CLOSE"
    assert read_state("cover.blind", "opening").skip == "moving state"
    assert read_state("switch.kettle", "unavailable").state == "UNAVAILABLE"
    assert read_state("light.lamp", "Unknown").state == "UNKNOWN"
    reading = read_state("sensor.t1", "21.5")
    assert reading.state == "" and reading.value == 21.5 and not reading.skip
    assert read_state("sensor.t1", "inf").skip and read_state("sensor.t1", "sunny").skip
    assert read_state("sun.sun", "above_horizon").skip == "domain not read"
    assert read_state("switch.x", "maybe").skip == "unexpected state"
    assert math.isnan(read_state("switch.x", "on").value)


def test_registries_build_the_layout(tmp_path, renamed_milan):
    storage = write_registries(
        tmp_path / ".storage",
        entities=[registry_entity("binary_sensor.fridge_door", device_id="dev1", device_class="door", name="Door"),
                  registry_entity("binary_sensor.hall_pir", area_id="hallway", device_class="motion"),
                  registry_entity("media_player.living_room_tv", area_id="living"),
                  registry_entity("sensor.bedroom_temperature", area_id="bed", device_class="temperature"),
                  registry_entity("binary_sensor.front_door", device_class="door", name="Front door"),
                  registry_entity("sun.sun"),                                        # a domain not read: left out
                  {**registry_entity("switch.old"), "disabled_by": "user"}],          # disabled: left out
        devices=[{"id": "dev1", "area_id": "kitchen", "name": "Fridge contact", "name_by_user": None}],
        areas=[{"id": "kitchen", "name": "Kitchen"}, {"id": "hallway", "name": "Hallway"},
               {"id": "living", "name": "Living Room"}, {"id": "bed", "name": "Master Bedroom"}])
    home = home_from_registries(storage)
    assert sorted(home.sensors) == ["binary_sensor.fridge_door", "binary_sensor.front_door", "binary_sensor.hall_pir",
                                    "media_player.living_room_tv", "sensor.bedroom_temperature"]
    fridge, hall = home.sensors["binary_sensor.fridge_door"], home.sensors["binary_sensor.hall_pir"]
    assert (fridge.room, fridge.type, fridge.kind, fridge.room_type) == ("Kitchen", "door", "fridge", "kitchen")
    assert (hall.room, hall.type, hall.kind, hall.room_type) == ("Hallway", "motion", "motion_area", "hall")
    tv = home.sensors["media_player.living_room_tv"]
    assert (tv.room, tv.kind, tv.room_type) == ("Living Room", "tv_media", "living")
    temp = home.sensors["sensor.bedroom_temperature"]
    assert (temp.type, temp.kind, temp.room_type) == ("temperature", "temperature", "bedroom")
    front = home.sensors["binary_sensor.front_door"]
    assert (front.room, front.kind, front.room_type) == ("unknown", "front_door", "hall")
    assert math.isnan(fridge.x) and home.name == "homeassistant"
    assert registry_time_zone(tmp_path) == ZONE                      # the config folder or .storage itself
    # a layout file wins sensor by sensor and brings names, label map and descriptions
    base = home_from_registries(storage, renamed_milan)
    assert base.name == "milan" and base.sensors["binary_sensor.m001"] == renamed_milan.sensors["binary_sensor.m001"]
    assert base.sensors["binary_sensor.hall_pir"] == hall and base.descriptions == renamed_milan.descriptions
    (storage / "core.area_registry").write_text("{not json")
    with pytest.raises(UserError, match=r"core.area_registry:1: invalid JSON"):
        home_from_registries(storage)


def test_reader_errors(tmp_path, simulated):
    db = write_recorder(tmp_path / "h.db", history_from_log(simulated[1], noise=False), "current")
    with pytest.raises(UserError, match="give --timezone"):
        read_log(db)
    with pytest.raises(UserError, match="expected an input_select or input_text"):
        read_log(db, timezone=ZONE, label_entity="sensor.t001")
    with pytest.raises(UserError, match="--label-entity only applies to Home Assistant"):
        read_log(simulated[0], label_entity="input_select.activity")
    other = tmp_path / "other.db"
    import sqlite3

    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (x)")
    with pytest.raises(UserError, match="has no 'states' table"):
        read_log(other, timezone=ZONE)
    url = f"sqlite:///{db}"
    assert len(read_log(url, timezone=ZONE)) == len(simulated[1])     # an SQLAlchemy URL reads the same
    with pytest.raises(UserError, match=r"mysql\+nosuchdriver://ha:\*\*\*@db/ha: .*"):
        read_log("mysql+nosuchdriver://ha:secret@db/ha", timezone=ZONE)


def test_prepare_command_with_registries(tmp_path, simulated, capsys):
    db = write_recorder(tmp_path / "home-assistant_v2.db", history_from_log(simulated[1], noise=False), "current")
    storage = write_registries(
        tmp_path / ".storage",
        entities=[registry_entity(entity_of(s), area_id="kitchen" if s.startswith("M0") else None,
                                  device_class="motion") for s in sorted(set(simulated[1].frame["sensor"]))],
        devices=[], areas=[{"id": "kitchen", "name": "Kitchen"}])
    out = tmp_path / "prepared"
    rc = main(["prepare", "--raw", str(db), "--ha-storage", str(tmp_path), "--label-entity", "input_select.activity",
               "--window", "20", "--split", "1,0,0", "--out", str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert rc == 0 and "homeassistant" in printed
    summary = json.loads((out / "homeassistant_summary.json").read_text())
    assert summary["format"] == "homeassistant" and summary["config"]["timezone"] == ZONE   # from core.config
    assert summary["parse_report"]["labels_from"].endswith("(input_select.activity)")
    assert sum(summary["splits"]["train"]["label_l1"].values()) > 0
