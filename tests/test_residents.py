"""Multi-resident homes: the label-resident rule, readers keeping each label's resident, per-resident window
labels (stored additively), the prepare summary, per-resident vs flattened scoring, and the simulator's
second resident. Hand-checked values throughout."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from homeclip import cli
from homeclip.data.homes import load_home
from homeclip.data.readers import read_log
from homeclip.data.residents import activity_of, lookup, resident_rule
from homeclip.data.store import load_split, read_split_json, save_split
from homeclip.data.windows import WindowConfig, make_windows
from homeclip.errors import UserError

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# A CASAS twor-style log: R1 sleeps through, R2 makes a bed-to-toilet trip, then someone (unnamed) cleans.
TWOR = (
    "2009-06-10 03:20:59.084153\tM001\tON\tR1_Sleep begin\n"
    "2009-06-10 03:21:00.100000\tM002\tOFF\tR2_Bed_to_Toilet begin\n"
    "2009-06-10 03:21:01.000000\tM003\tON\n"
    "2009-06-10 03:21:01.500000\tM003\tOFF\tR2_Bed_to_Toilet end\n"
    "2009-06-10 03:21:02.000000\tM004\tON\tClean begin\n"
    "2009-06-10 03:21:03.000000\tM004\tOFF\tClean end\n"
    "2009-06-10 03:21:04.000000\tM004\tON\tR1_Sleep end\n"
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- the rule


@pytest.mark.parametrize("label, resident", [
    ("R1_Sleep", "R1"), ("R2_Bed_to_Toilet", "R2"), ("R1 wake", "R1"), ("R2 take medicine", "R2"),
    ("R10_Watch_TV", "R10"), ("Relax", ""), ("Room_1", ""), ("R1", ""), ("R1_", ""), ("R1_ x", ""),
    ("r1_sleep", ""), ("Clean", ""), ("", ""),
])
def test_default_rule_reads_the_casas_conventions(label, resident):
    assert resident_rule("auto").resident(label) == resident
    assert resident_rule("none").resident(label) == ""


def test_a_custom_rule_needs_a_resident_group_and_bad_ones_are_one_sentence():
    rule = resident_rule(r"(?P<resident>Mom|Dad): ")
    assert (rule.resident("Mom: cook"), rule.resident("Dad: sleep"), rule.resident("Kid: play")) == ("Mom", "Dad", "")
    with pytest.raises(UserError, match=r"named group \(\?P<resident>"):
        resident_rule(r"R\d+_")
    with pytest.raises(UserError, match="expected auto, none or a regular expression"):
        resident_rule("(?P<resident>R")


@pytest.mark.parametrize("label, resident, activity", [
    ("R1_Sleep", "R1", "Sleep"), ("R1 wake", "R1", "wake"), ("R2_Bed_to_Toilet", "R2", "Bed_to_Toilet"),
    ("Sleep", "R1", "Sleep"), ("Sleep_R2", "R2", "Sleep"), ("R1", "R1", "R1"), ("R12_x", "R1", "R12_x"),
    ("Clean", "", "Clean"),
])
def test_activity_is_the_label_without_its_resident(label, resident, activity):
    assert activity_of(label, resident) == activity


def test_lookup_reads_a_resident_label_through_its_activity():
    cairo = load_home("cairo").label_map
    assert lookup(cairo, "R2 take medicine", ["R1", "R2"]) == "Take_medicine"     # listed
    assert lookup(cairo, "R1 take medicine", ["R1", "R2"]) == "Take_medicine"     # via R2's label of it
    assert lookup(cairo, "R1_Breakfast", ["R1", "R2"]) == "Eat"                   # via the activity itself
    assert lookup(cairo, "R1_Breakfast", []) is None                              # no residents: no fallback
    assert lookup(cairo, "R1_Juggling", ["R1", "R2"]) is None
    milan = load_home("milan")
    assert milan.l2("R2_Kitchen_Activity", ["R1", "R2"]) == "Cook" and milan.l2("R2_Kitchen_Activity") == \
        "R2_Kitchen_Activity"


@settings(max_examples=200, deadline=None)
@given(number=st.integers(1, 99), sep=st.sampled_from("_ "),
       activity=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20))
def test_property_a_prefixed_label_names_its_resident_and_gives_back_its_activity(number, sep, activity):
    label = f"R{number}{sep}{activity}"
    rule = resident_rule("auto")
    named = rule.resident(label)
    if activity[0].isspace():
        assert named == ""                 # "R1_ x": nothing right after the separator
    else:
        assert named == f"R{number}"
        stripped = activity.lstrip(" _-:./")
        assert activity_of(label, named) == (stripped if stripped else label)
    # Whatever the text, the rule names nothing or a prefix of the label, and never raises.
    assert rule.resident(activity) == "" or activity.startswith(rule.resident(activity))


# --------------------------------------------------------------------------------------------- readers


def test_casas_reader_keeps_every_label_verbatim_with_its_resident(tmp_path):
    log = read_log(write(tmp_path, "data", TWOR))
    f = log.frame
    assert list(f["labels"]) == [("R1_Sleep",), ("R1_Sleep", "R2_Bed_to_Toilet"), ("R1_Sleep", "R2_Bed_to_Toilet"),
                                 ("R1_Sleep", "R2_Bed_to_Toilet"), ("R1_Sleep", "Clean"), ("R1_Sleep", "Clean"),
                                 ("R1_Sleep",)]
    assert list(f["residents"]) == [("R1",), ("R1", "R2"), ("R1", "R2"), ("R1", "R2"), ("R1", ""), ("R1", ""),
                                    ("R1",)]
    assert list(f["label"]) == ["R1_Sleep"] + ["R2_Bed_to_Toilet"] * 3 + ["Clean"] * 2 + ["R1_Sleep"]
    assert log.residents == ["R1", "R2"] and log.activities == ["Clean", "R1_Sleep", "R2_Bed_to_Toilet"]
    assert any("labels name 2 residents (R1, R2" in n and "1 labels name none" in n and "'Clean'" in n
               for n in log.report.notes)
    plain = read_log(write(tmp_path, "data2", TWOR), residents="none")
    assert list(plain.frame["labels"]) == list(f["labels"]) and list(plain.frame["label"]) == list(f["label"])
    assert all(set(r) <= {""} for r in plain.frame["residents"]) and plain.residents == []
    assert not any("residents" in n for n in plain.report.notes)


LABEL_WORDS = st.sampled_from(["R1_Sleep", "R2_Sleep", "R2 wake", "R10_Cook", "Clean", "Relax", "R1", "r1_x",
                               "Room_1 tidy", "R3_ "])


@settings(max_examples=40, deadline=None)
@given(notes=st.lists(st.one_of(st.none(), st.tuples(LABEL_WORDS, st.sampled_from(["begin", "end", ""]))),
                      min_size=1, max_size=25))
def test_property_every_reader_row_names_one_resident_per_label_by_the_rule(tmp_path_factory, notes):
    lines = []
    for i, note in enumerate(notes):
        text = "" if note is None else " ".join(part for part in note if part)
        lines.append(f"2009-06-10 03:{i // 60:02d}:{i % 60:02d}.000000\tM{i % 4:03d}\tON\t{text}".rstrip())
    path = tmp_path_factory.mktemp("prop") / "data"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rule = resident_rule("auto")
    log, plain = read_log(path), read_log(path, residents="none")
    for labels, residents in zip(log.frame["labels"], log.frame["residents"]):
        assert residents == tuple(rule.resident(label) for label in labels)
    assert list(plain.frame["labels"]) == list(log.frame["labels"]) and \
        list(plain.frame["label"]) == list(log.frame["label"])          # the rule never changes a label
    assert all(not any(r) for r in plain.frame["residents"])


def test_single_resident_logs_name_nobody_and_report_nothing_new(tmp_path):
    log = read_log(write(tmp_path, "milan", "2009-10-16 00:01:04 M017 ON Sleep begin\n"
                                            "2009-10-16 00:01:05 M017 OFF Sleep end\n"
                                            "2009-10-16 00:01:06 M018 ON\n"))
    assert list(log.frame["residents"]) == [("",), ("",), ()]
    assert log.residents == [] and log.report.notes == []


def test_per_event_labelled_logs_and_cairo_style_labels(tmp_path):
    labelled = write(tmp_path, "al.txt", "2011-06-15 01:41:40.205759 Bathroom Bathroom ON R1_Toilet\n"
                                         "2011-06-15 01:41:41.000000 Bedroom Bedroom OFF Sleep\n")
    log = read_log(labelled)
    assert list(log.frame["residents"]) == [("R1",), ("",)] and list(log.frame["label"]) == ["R1_Toilet", "Sleep"]
    cairo = write(tmp_path, "cairo.txt", "2009-06-10 03:20:59.084153\tM001\tON\tR1 wake begin\n"
                                         "2009-06-10 03:21:00.000000\tM002\tON\tR2 wake begin\n"
                                         "2009-06-10 03:21:01.000000\tM003\tOFF\tR1 wake end\n"
                                         "2009-06-10 03:21:02.000000\tM003\tON\tR2 wake end\n")
    log = read_log(cairo)
    assert list(log.frame["residents"]) == [("R1",), ("R1", "R2"), ("R1", "R2"), ("R2",)]


def test_table_resident_columns_on_events_and_on_activity_intervals(tmp_path):
    events = write(tmp_path, "e.csv", "time,sensor,state,activity,person\n"
                                      "2020-05-01 08:00:00,M1,ON,Sleep,ann\n"
                                      "2020-05-01 08:00:01,M1,OFF,R2_Cook,\n"
                                      "2020-05-01 08:00:02,M2,ON,,bob\n")
    log = read_log(events)
    assert list(log.frame["residents"]) == [("ann",), ("R2",), ()]   # the cell, else the label's prefix
    assert log.residents == ["R2", "ann"]
    sensors = write(tmp_path, "s.csv", "time,sensor,state\n2020-05-01 08:00:00,M1,ON\n2020-05-01 08:30:00,M1,OFF\n"
                                       "2020-05-01 09:30:00,M2,ON\n")
    acts = pd.DataFrame({"start": ["2020-05-01 07:00:00", "2020-05-01 08:10:00"],
                         "end": ["2020-05-01 09:00:00", "2020-05-01 10:00:00"],
                         "activity": ["Sleep", "Sleep"], "who": ["R1", "R2"]})
    log = read_log(sensors, labels_path=acts, columns={"resident": "who"})
    # One label for two residents at once is two open activities, each with its own resident.
    assert list(log.frame["labels"]) == [("Sleep",), ("Sleep", "Sleep"), ("Sleep",)]
    assert list(log.frame["residents"]) == [("R1",), ("R1", "R2"), ("R2",)]
    with pytest.raises(UserError, match="--columns resident=nobody: no such column"):
        read_log(sensors, labels_path=acts, columns={"resident": "nobody"})
    with pytest.raises(UserError, match="--residents: the pattern"):
        read_log(sensors, residents="R_")


# --------------------------------------------------------------------------------------------- windows


def test_windows_get_a_majority_label_per_resident_next_to_the_flattened_one(tmp_path):
    log = read_log(write(tmp_path, "data", TWOR))
    ws = make_windows(log, load_home("kyoto"), WindowConfig(length=3, stride=1))
    # Windows are events 0-2, 1-3, 2-4, 3-5, 4-6 (hand-checked against TWOR above).
    assert list(ws.label_l1) == ["R2_Bed_to_Toilet"] * 3 + ["Clean"] * 2
    assert list(ws.label_l2) == ["Bed_to_toilet"] * 3 + ["Work"] * 2
    assert ws.residents == ["R1", "R2"]
    assert list(ws.label_l1_by_resident["R1"]) == ["R1_Sleep"] * 5
    assert list(ws.label_l1_by_resident["R2"]) == ["R2_Bed_to_Toilet"] * 3 + ["Other"] * 2
    assert list(ws.label_l2_by_resident["R1"]) == ["Sleep"] * 5
    assert list(ws.label_l2_by_resident["R2"]) == ["Bed_to_toilet"] * 3 + ["Other"] * 2
    assert ws.label_fractions[0] == {"R2_Bed_to_Toilet": 2 / 3, "R1_Sleep": 1 / 3}
    part = ws.subset([4, 0])
    assert list(part.label_l1_by_resident["R2"]) == ["Other", "R2_Bed_to_Toilet"]
    # L2 drops the resident even where the label map lists no resident labels (Milan's).
    milan = make_windows(log, load_home("milan"), WindowConfig(length=3, stride=1))
    assert list(milan.label_l2_by_resident["R1"]) == ["Sleep"] * 5


def test_per_resident_labels_round_trip_and_single_resident_splits_do_not_change(tmp_path):
    log = read_log(write(tmp_path, "data", TWOR))
    ws = make_windows(log, load_home("kyoto"), WindowConfig(length=3, stride=1))
    ws.split[:] = "train"
    path, _ = save_split(tmp_path / "k_train.json", ws)
    record = json.loads(path.read_text())["windows"][3]
    assert record["label_l1_by_resident"] == {"R1": "R1_Sleep", "R2": "Other"}
    assert record["label_l2_by_resident"] == {"R1": "Sleep", "R2": "Other"}
    for loaded in (load_split(path), read_split_json(path)):
        for key in ("label_l1_by_resident", "label_l2_by_resident"):
            assert {r: list(v) for r, v in getattr(loaded, key).items()} == \
                {r: list(v) for r, v in getattr(ws, key).items()}
    plain = make_windows(read_log(write(tmp_path, "p", TWOR), residents="none"), load_home("kyoto"),
                         WindowConfig(length=3, stride=1))
    plain.split[:] = "train"
    path, _ = save_split(tmp_path / "p_train.json", plain)
    assert "by_resident" not in path.read_text() and load_split(path).residents == []
    doc = json.loads((tmp_path / "k_train.json").read_text())
    doc["windows"][2]["label_l1_by_resident"] = {"R1": "R1_Sleep"}
    (tmp_path / "bad_train.json").write_text(json.dumps(doc))
    with pytest.raises(UserError, match=r"window 2: label_l1_by_resident must map the residents \['R1', 'R2'\]"):
        read_split_json(tmp_path / "bad_train.json")


# ------------------------------------------------------------------------------------------ evaluation


def two_resident_splits():
    """The synthetic train/test splits of test_evaluate with labels per resident: R1 does what the windows
    show (its labels are the flattened ones with an R1_ prefix), R2's labels are another window's (noise)."""
    from test_evaluate import split_windows

    train, test = split_windows()
    for ws in (train, test):
        n = len(ws)
        noise = np.random.default_rng(n).permutation(n)     # seeded: a shuffle unrelated to the windows
        ws.label_l1_by_resident = {"R1": np.array([f"R1_{x}" for x in ws.label_l1], dtype=object),
                                   "R2": np.array([f"R2_{ws.label_l1[j]}" for j in noise], dtype=object)}
        ws.label_l2_by_resident = {"R1": ws.label_l2.copy(), "R2": ws.label_l2[noise].copy()}
    return train, test


def evaluate(train, test, residents="flat"):
    from test_evaluate import FakeModel, synthetic_home

    from homeclip.evaluation.evaluate import EvalConfig, evaluate_model

    cfg = EvalConfig(figures=False, progress=False, free_text_queries=(), bootstrap_resamples=20,
                     residents=residents)
    return evaluate_model(FakeModel(), train, test, synthetic_home(), cfg).results


def test_flattened_scoring_is_the_default_says_so_and_keeps_the_numbers():
    from test_evaluate import split_windows

    plain = evaluate(*split_windows())
    assert plain["residents"] == {"scoring": "flattened", "residents": [],
                                  "note": "the labels name no resident: one label set (flattened)"}
    assert "resident" not in plain["headline"]
    flat = evaluate(*two_resident_splits())
    assert flat["residents"]["scoring"] == "flattened" and flat["residents"]["residents"] == ["R1", "R2"]
    assert "per_resident" not in flat["residents"]
    assert flat["levels"] == plain["levels"]
    assert flat["headline"] == plain["headline"] + " Scored on the flattened labels of residents R1, R2."


def test_per_resident_scoring_scores_each_resident_and_their_mean():
    from homeclip.evaluation.report import render_markdown

    train, test = two_resident_splits()
    r = evaluate(train, test, "per-resident")
    flat = evaluate(train, test)
    assert r["levels"] == flat["levels"]                  # the flattened scores stay beside them
    section = r["residents"]
    assert section["scoring"] == "per resident" and list(section["per_resident"]) == ["R1", "R2"]
    r1, r2 = section["per_resident"]["R1"]["l1"], section["per_resident"]["R2"]["l1"]
    assert r1["classes"] == sorted(f"R1_{c}" for c in flat["levels"]["l1"]["classes"])
    # R1's labels are the flattened ones renamed: every label-name-free method scores exactly the same.
    for method in ("linear_probe", "knn", "bag_of_sensors", "majority"):
        for key in ("accuracy", "macro_f1", "balanced_accuracy"):
            assert r1["methods"][method][key] == flat["levels"]["l1"]["methods"][method][key], (method, key)
    # ... and zero-shot reads R1_Cook through Cook's descriptions, over R1's labels only.
    assert r1["methods"]["zeroshot"]["accuracy"] > 0.6
    assert set(r1["methods"]["zeroshot"]["confusion"]["columns"]) <= set(r1["classes"])
    # R2's labels are noise for the windows: the probe cannot learn them.
    assert r2["methods"]["linear_probe"]["accuracy"] < 0.5 < r1["methods"]["linear_probe"]["accuracy"]
    for lv in ("l1", "l2"):
        for method, scores in section["mean"][lv].items():
            a = section["per_resident"]["R1"][lv]["methods"][method]["macro_f1"]
            b = section["per_resident"]["R2"][lv]["methods"][method]["macro_f1"]
            assert scores["macro_f1"] == pytest.approx((a + b) / 2)
    assert r["headline"].startswith(flat["headline"].rsplit(" Scored", 1)[0])
    assert f"Per resident (mean of R1, R2): zero-shot L1 macro-F1 {section['mean']['l1']['zeroshot']['macro_f1']:.3f}" \
        in r["headline"]
    report = render_markdown(r)
    assert "## Residents: scored per resident" in report and "L1 (fine) R2" in report
    assert f"{section['mean']['l1']['linear_probe']['macro_f1']:.3f}" in report
    json.dumps(r, allow_nan=False)


def test_per_resident_scoring_of_a_home_without_residents_is_an_error():
    from test_evaluate import split_windows

    with pytest.raises(UserError, match="the dataset has no per-resident labels"):
        evaluate(*split_windows(), residents="per-resident")
    with pytest.raises(UserError, match="expected one of flat, per-resident"):
        evaluate(*split_windows(), residents="both")


# ------------------------------------------------------------------------------------------- label maps

TWOR_2010 = ["R1_Bathing", "R1_Bed_Toilet_Transition", "R1_Eating", "R1_Enter_Home", "R1_Housekeeping",
             "R1_Leave_Home", "R1_Meal_Preparation", "R1_Personal_Hygiene", "R1_Sleep", "R1_Sleeping_Not_in_Bed",
             "R1_Wandering_in_room", "R1_Watch_TV", "R1_Work", "R2_Bathing", "R2_Bed_Toilet_Transition",
             "R2_Eating", "R2_Enter_Home", "R2_Leave_Home", "R2_Meal_Preparation", "R2_Personal_Hygiene",
             "R2_Sleep", "R2_Sleeping_Not_in_Bed", "R2_Wandering_in_room", "R2_Watch_TV", "R2_Work"]


@pytest.mark.parametrize("name, labels", [
    ("kyoto", TWOR_2010 + ["R1_Bed_to_Toilet", "R2_Bed_to_Toilet", "R1_Personal_Hygiene", "R2_Work"]),
    ("cairo", ["R1 sleep", "R1 wake", "R1 work in office", "R2 sleep", "R2 take medicine", "R2 wake"]),
])
def test_packaged_two_resident_maps_give_resident_labels_a_shared_coarse_class(name, labels):
    home = load_home(name)
    for label in labels:
        assert label in home.label_map, label
        coarse = home.l2(label)
        assert resident_rule("auto").resident(coarse) == "" and coarse in set(home.label_map.values())
        other = ("R2" if label.startswith("R1") else "R1") + label[2:]
        assert home.l2(other, ["R1", "R2"]) == coarse, (label, other)   # the same class for either resident


# ------------------------------------------------------------------------------------------- simulator


def test_resident_labels_follow_the_homes_own_convention():
    from homeclip.data.simulate.household import resident_label, resident_separator

    assert resident_label("Sleep", 1) == "R1_Sleep" and resident_label("R1_Work", 2) == "R2_Work"
    assert resident_label("R1 sleep", 2) == "R2 sleep" and resident_label("Breakfast", 2, " ") == "R2 Breakfast"
    assert resident_label(None, 2) is None
    assert [resident_separator(load_home(h)) for h in ("cairo", "kyoto", "milan")] == [" ", "_", "_"]


def annotations(lines: list[str]) -> list[tuple[str, str, str, str]]:
    """(time, sensor, label, marker) of every annotated line."""
    out = []
    for line in lines:
        words = line.split()
        if len(words) > 4 and words[-1] in ("begin", "end"):
            out.append((f"{words[0]} {words[1]}", words[2], " ".join(words[4:-1]), words[-1]))
    return out


def test_a_second_resident_lives_their_own_routine_in_their_own_bedroom():
    from homeclip.data.simulate import simulate_log

    kyoto = load_home("kyoto")
    one = simulate_log(kyoto, 2, seed=3)
    two = simulate_log(kyoto, 2, seed=3, residents=2)
    assert two == simulate_log(kyoto, 2, seed=3, residents=2)              # deterministic
    rule = resident_rule("auto")
    marks = annotations(two)
    assert {rule.resident(label) for _, _, label, _ in marks} == {"R1", "R2"}
    # Resident 1 lives exactly the single-resident days: the same annotations, relabelled R1 (never dropped).
    from homeclip.data.simulate.household import resident_label

    assert [m for m in marks if m[2].startswith("R1")] == [(t, s, resident_label(lab, 1), k)
                                                           for t, s, lab, k in annotations(one)]
    # Each sleeps in their own bedroom: where their sleep begins.
    rooms = {label: {kyoto.sensors[s].room for _, s, lab, k in marks if lab == label and k == "begin"}
             for label in ("R1_Sleep", "R2_Sleep")}
    assert rooms == {"R1_Sleep": {"bedroom_1"}, "R2_Sleep": {"bedroom_2"}}
    # A motion sensor two residents keep on reports one ON..OFF: no two plain ONs in a row.
    last: dict[str, tuple[str, bool]] = {}
    for line in two:
        words = line.split()
        if kyoto.sensors.get(words[2]) and kyoto.sensors[words[2]].type == "motion":
            plain = len(words) == 4
            if words[3] == "ON" and last.get(words[2], ("OFF", True))[0] == "ON":
                assert not (plain and last[words[2]][1]), line
            last[words[2]] = (words[3], plain)


def test_simulate_cli_residents_and_varied_homes(tmp_path, capsys):
    assert cli.main(["simulate", "--home", "cairo", "--days", "1", "--residents", "0",
                     "--out", str(tmp_path / "x.txt")]) == 2
    assert "--residents: expected a whole number of residents from 1 to 9, found 0" in capsys.readouterr().err
    assert not (tmp_path / "x.txt").exists()
    assert cli.main(["simulate", "--varied", "1", "--days", "1", "--residents", "2", "--workers", "1",
                     "--out", str(tmp_path / "v")]) == 0
    index = json.loads((tmp_path / "v" / "index.json").read_text())
    entry = index["homes"][0]
    assert entry["residents"] == 2 and len(entry["other_routines"]) == 1
    assert entry["other_routines"][0] != entry["routine"]
    labels = {label for _, _, label, _ in annotations((tmp_path / "v" / entry["log"]).read_text().splitlines())}
    assert {resident_rule("auto").resident(label) for label in labels} == {"R1", "R2"}


def test_prepare_a_simulated_two_resident_home_end_to_end(tmp_path, capsys):
    raw = tmp_path / "kyoto2.txt"
    assert cli.main(["simulate", "--home", "kyoto", "--days", "3", "--residents", "2", "--out", str(raw)]) == 0
    out = tmp_path / "prep"
    assert cli.main(["prepare", "--raw", str(raw), "--home", "kyoto", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Residents (auto: a label starting R<number> then _ or a space names that resident): R1 " in printed
    summary = json.loads((out / "kyoto_summary.json").read_text())
    record = summary["residents"]
    assert record["residents"] == ["R1", "R2"] and summary["config"]["residents"] == "auto"
    assert "R2_Sleep" in record["labels"]["R2"] and record["labels_naming_no_resident"] == []
    assert set(summary["splits"]["train"]["label_l1_by_resident"]) == {"R1", "R2"}
    test = load_split(out / "kyoto_test.json")
    assert test.residents == ["R1", "R2"]
    assert {str(x)[:3] for x in test.label_l1_by_resident["R2"]} <= {"R2_", "Oth"}
    assert set(test.label_l2_by_resident["R2"]) <= set(load_home("kyoto").label_map.values())
    plain = tmp_path / "plain"
    assert cli.main(["prepare", "--raw", str(raw), "--home", "kyoto", "--out", str(plain), "--quiet",
                     "--residents", "none"]) == 0
    assert "Residents" not in capsys.readouterr().out
    assert load_split(plain / "kyoto_test.json").residents == []
    assert list(load_split(plain / "kyoto_test.json").label_l1) == list(test.label_l1)   # flattened: the same
