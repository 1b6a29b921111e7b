"""`homeclip label`: the CSV round trip (windows to label out, a person's answers in, every window labelled) and
file:line errors for bad answer rows."""
from __future__ import annotations

import csv

import pytest
from test_evaluate import tiny_run

from homeclip.cli import main
from homeclip.data.store import load_split
from homeclip.errors import UserError
from homeclip.evaluation.labelling import LABEL_COLUMNS, REQUEST_COLUMNS, read_answers


def rows(path, delimiter=","):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh, delimiter=delimiter))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A seconds-long trained checkpoint and its train split (72 windows of random_windowset)."""
    return tiny_run(tmp_path_factory.mktemp("label"), "chronos")


def test_round_trip_asks_fills_in_and_spreads_to_every_window(run, tmp_path, capsys):
    ask, filled, out = tmp_path / "to_label.csv", tmp_path / "filled.csv", tmp_path / "labels.csv"
    common = ["--checkpoint", str(run["checkpoint"]), "--data", str(run["train"]), "--cache-dir", str(tmp_path)]
    assert main(["label", *common, "--budget", "8", "--out", str(ask)]) == 0
    assert "wrote 8 of 48 windows to label" in capsys.readouterr().out
    table = rows(ask)
    assert tuple(table[0]) == REQUEST_COLUMNS and len(table) == 9
    windows = load_split(run["train"])
    ids = [int(r[0]) for r in table[1:]]
    assert len(set(ids)) == 8 and all(r[-1] == "" for r in table[1:])
    first = table[1]
    assert first[1] == str(windows.start[ids[0]].astype("datetime64[s]")).replace("T", " ")
    assert first[4] and first[3]            # a caption and the busiest rooms for the person to read
    # The person answers in a spreadsheet that saves with semicolons and a BOM, leaving one row unanswered.
    with open(filled, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(table[0])
        for r in table[1:]:
            i = int(r[0])
            writer.writerow(r[:-1] + ["" if i == ids[-1] else str(windows.label_l1[i])])
    assert main(["label", *common, "--answers", str(filled), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "7 answers spread to 48 windows" in printed
    assert "agreement with the split's L1 labels on the 41 windows" in printed
    labelled = rows(out)
    assert tuple(labelled[0]) == LABEL_COLUMNS and len(labelled) == 49
    by_id = {int(r[0]): r for r in labelled[1:]}
    for i in ids[:-1]:
        assert by_id[i][3] == windows.label_l1[i] and by_id[i][4] == "answer"
    assert by_id[ids[-1]][4] == "propagated" and by_id[ids[-1]][3]
    assert sum(r[4] == "propagated" for r in labelled[1:]) == 41
    # spreading by cluster instead of the probe: the same answers kept, every window labelled
    assert main(["label", *common, "--answers", str(filled), "--out", str(out), "--propagation", "cluster"]) == 0
    by_cluster = {int(r[0]): r for r in rows(out)[1:]}
    assert len(by_cluster) == 48 and all(by_cluster[i][3] == windows.label_l1[i] for i in ids[:-1])


def _summaries(n=5):
    return [{"start": f"2024-01-0{1 + i // 2}T0{i}:00:00"} for i in range(n)]


@pytest.mark.parametrize("body, line, message", [
    ("id,label\nabc,Cook\n", 2, "column id: expected a window id (a whole number), found 'abc'"),
    ("id,label\n1,Cook\n\n7,Sleep\n", 4, "no window 7 in split.json (it has 5 windows, ids 0 to 4)"),
    ("id,label\n1,Cook\n1,Sleep\n", 3, "window 1 is listed twice (first on line 2)"),
    ("id,start,label\n2,2024-01-02 02:00:00,Cook\n3,2024-01-05 03:00:00,Cook\n", 3,
     "window 3 starts at 2024-01-02 03:00:00 in split.json, but this row says '2024-01-05 03:00:00'"),
    ("id,label\n1,Cook,extra\n", 2, "expected 2 columns (id, label), found 3"),
    ("window,label\n1,Cook\n", 1, "expected the columns id and label in the header"),
])
def test_bad_answer_rows_are_file_line_errors(tmp_path, body, line, message):
    path = tmp_path / "filled.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(UserError) as err:
        read_answers(path, _summaries(), "split.json")
    assert str(err.value).startswith(f"{path}:{line}: ") and message in str(err.value)


def test_answers_that_are_read(tmp_path):
    path = tmp_path / "filled.csv"
    # a spreadsheet rewrote one time in its own format (not checkable, accepted); blank label = not answered
    path.write_text("ID,Start,Label\n0,01/01/2024 00:00,Cook\n1,,\n4, 2024-01-03 04:00:00 , Sleep \n", encoding="utf-8")
    assert read_answers(path, _summaries(), "split.json") == ({0: "Cook", 4: "Sleep"}, 3)
    path.write_text("id,label\n0,\n", encoding="utf-8")
    with pytest.raises(UserError, match="no row has a label"):
        read_answers(path, _summaries(), "split.json")
    with pytest.raises(UserError, match="not found"):
        read_answers(tmp_path / "missing.csv", _summaries(), "split.json")


def test_cli_bad_answers_exit_2_with_one_line(run, tmp_path, capsys):
    path = tmp_path / "filled.csv"
    path.write_text("id,label\nx,Cook\n", encoding="utf-8")
    code = main(["label", "--checkpoint", str(run["checkpoint"]), "--data", str(run["train"]), "--answers", str(path),
                 "--out", str(tmp_path / "labels.csv"), "--cache-dir", str(tmp_path)])
    last = capsys.readouterr().err.strip().splitlines()[-1]   # (after the embedding progress bar)
    assert code == 2 and last.startswith(f"homeclip label: error: {path}:2: column id")
    assert not (tmp_path / "labels.csv").exists()
