"""The processed split on disk: JSON of record <-> fast companion round trips, staleness, bad files."""
from __future__ import annotations

import json
import logging
import os

import numpy as np
import pytest

from homeclip.data import store
from homeclip.data.store import (
    companion_path,
    dataset_paths,
    load_dataset,
    load_split,
    read_split_json,
    save_split,
)
from homeclip.data.taxonomy import OBJECT_KINDS, ROOM_TYPES
from homeclip.data.vocab import Vocab, build_vocab
from homeclip.data.semantic import SEMANTIC_CATEGORIES, SEMANTIC_FIELDS
from homeclip.data.windows import CATEGORICAL_FIELDS, SEED_FIELDS, WindowSet
from homeclip.errors import UserError
from homeclip.io import file_sha256
from homeclip.testing import random_windowset


def assert_same_windows(a: WindowSet, b: WindowSet) -> None:
    """Every field equal, dtypes included."""
    assert a.categories == b.categories and a.home == b.home and a.meta == b.meta
    for name in CATEGORICAL_FIELDS:
        assert a.codes[name].dtype == b.codes[name].dtype and np.array_equal(a.codes[name], b.codes[name]), name
    for name in ("time", "time_delta", "mask", "label_l1", "label_l2", "split", "start", "end", "day"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y), name
    assert a.xy.dtype == b.xy.dtype and np.array_equal(a.xy, b.xy, equal_nan=True)
    assert a.label_fractions == b.label_fractions and a.captions == b.captions


def odd_windowset() -> WindowSet:
    """Variable lengths, unknown positions (NaN x/y on real events), awkward floats and unicode captions."""
    ws = random_windowset(n=23, seq_len=12, seed=5, min_len=1)
    ws.xy[3, 0] = np.nan
    ws.time_delta[ws.mask] = (ws.time_delta[ws.mask] * np.float32(1.0 / 3.0)).astype(np.float32)
    ws.captions[0] = {"long_natural": ["Café at 7 — «ok»", 'quote " and \\ backslash'], "short_structured": []}
    ws.label_fractions[1] = {"Sleep": 2 / 3, "Other": 1 / 3}
    ws.meta = {"windowing": {"n_events": 7, "nested": [1, 2.5, None]}}
    return ws


@pytest.fixture(params=["random", "odd"])
def windows(request) -> WindowSet:
    return random_windowset(n=40, seq_len=16, seed=1) if request.param == "random" else odd_windowset()


def test_round_trip_through_companion_and_through_json(tmp_path, windows):
    path, comp = save_split(tmp_path / "h_train.json", windows)
    assert comp == companion_path(path) == tmp_path / "h_train.npz" and comp.is_file()
    from_companion = load_split(path)
    from_json = load_split(path, use_companion=False, refresh_companion=False)
    assert_same_windows(from_companion, windows)
    assert_same_windows(from_json, windows)


def test_uncaptioned_and_empty_sets_round_trip(tmp_path):
    ws = random_windowset(n=6, seq_len=8, seed=2)
    ws.captions = []
    save_split(tmp_path / "a.json", ws)
    assert load_split(tmp_path / "a.json").captions == []
    assert read_split_json(tmp_path / "a.json").captions == []
    empty = ws.subset([])
    save_split(tmp_path / "e.json", empty)
    for loaded in (load_split(tmp_path / "e.json"), read_split_json(tmp_path / "e.json")):
        assert len(loaded) == 0 and loaded.seq_len == 8


def test_json_is_self_contained_and_documented_keys(tmp_path):
    ws = random_windowset(n=5, seq_len=10, seed=3)
    path, _ = save_split(tmp_path / "x.json", ws)
    obj = json.loads(path.read_text(encoding="utf-8"))
    assert obj["schema"] == store.SCHEMA and obj["n_windows"] == 5 and obj["seq_len"] == 10
    assert obj["split"] is None                          # random_windowset mixes splits
    first = obj["windows"][0]
    assert set(first) == set(store.WINDOW_KEYS)
    assert set(first["events"]) == set(store.EVENT_KEYS)
    n = int(ws.mask[0].sum())
    assert first["n_events"] == n and first["events"]["sensor"] == ws.strings("sensor", 0)
    assert first["events"]["time"][0] == str(ws.time[0, 0].astype("datetime64[us]"))
    assert first["label_l1"] == ws.label_l1[0] and first["split"] == ws.split[0]
    # One window per line after the header: greppable and diffable.
    lines = path.read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith('{"split"') for line in lines) == 5


def test_stale_companion_is_never_used_and_gets_refreshed(tmp_path):
    a = random_windowset(n=10, seq_len=8, seed=1)
    b = random_windowset(n=12, seq_len=8, seed=2)
    path, comp = save_split(tmp_path / "s.json", a)
    stale = comp.read_bytes()
    save_split(tmp_path / "s.json", b)
    comp.write_bytes(stale)                           # companion of `a` next to the JSON of `b`
    assert_same_windows(load_split(path, refresh_companion=False), b)
    assert comp.read_bytes() == stale                 # not refreshed when asked not to
    assert_same_windows(load_split(path), b)          # refreshes the companion ...
    assert comp.read_bytes() != stale
    header = json.loads(np.load(comp)["header"].tobytes())
    assert header["source"]["sha256"] == file_sha256(path) and header["source"]["size"] == path.stat().st_size


def test_same_size_edit_of_the_json_invalidates_the_companion(tmp_path):
    ws = random_windowset(n=4, seq_len=8, seed=1)
    path, _ = save_split(tmp_path / "s.json", ws)
    text = path.read_text(encoding="utf-8")
    old_label = ws.label_l1[0]
    new_label = "X" * len(old_label)
    path.write_text(text.replace(f'"label_l1":"{old_label}"', f'"label_l1":"{new_label}"', 1), encoding="utf-8")
    assert load_split(path, refresh_companion=False).label_l1[0] == new_label


def test_corrupt_or_missing_companion_falls_back_to_json(tmp_path):
    ws = random_windowset(n=4, seq_len=8, seed=1)
    path, comp = save_split(tmp_path / "s.json", ws)
    comp.write_bytes(b"not a zip file")
    assert_same_windows(load_split(path, refresh_companion=False), ws)
    comp.unlink()
    assert_same_windows(load_split(path), ws)
    assert comp.is_file()                              # written again after the JSON read


@pytest.mark.parametrize("edit, words", [
    (lambda text: "{not json", "not valid JSON"),
    (lambda text: json.dumps({"schema": "other"}), "not a homeclip processed split"),
    (lambda text: text.replace('"seq_len": 8', '"seq_len": -1'), "seq_len"),
    (lambda text: text.replace('"categories": {"sensor"', '"categories": {"sensorX"'), "categories"),
    (lambda text: text.replace('{"split":"train",', '{', 1), "window 0: missing split"),
    (lambda text: text.replace('"n_events":', '"n_events":0,"was":', 1), "n_events must be"),
    (lambda text: text.replace('"sensor":["M', '"sensor":["Z', 1), "not among the file's categories"),
    (lambda text: text.replace('"time":["', '"time":["garbage', 1), "bad time or number"),
    (lambda text: '"room":["kitchen","'.join(text.rsplit('"room":["', 1)), "events room must be lists"),
    (lambda text: text.replace('"room":["', '"room":["kitchen","', 1), "repeats a value"),
])
def test_bad_split_json_is_a_user_error(tmp_path, edit, words):
    ws = random_windowset(n=3, seq_len=8, seed=0)
    ws.split[:] = "train"
    path, comp = save_split(tmp_path / "b.json", ws)
    comp.unlink()
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(UserError, match=words) as err:
        load_split(path)
    assert str(path) in str(err.value)


def test_missing_split_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_split(tmp_path / "nope.json")
    with pytest.raises(UserError, match="not found"):
        load_dataset(tmp_path / "nothing_here")


def test_load_dataset_from_folder_or_file(tmp_path):
    ws = random_windowset(n=24, seq_len=8, seed=4)
    paths = dataset_paths(tmp_path, "h")
    for name in ("train", "val", "test"):
        save_split(paths[name], ws.select_split(name))
    build_vocab(ws).save(paths["vocab"])
    paths["summary"].write_text(json.dumps({"home": "h"}), encoding="utf-8")
    for where in (tmp_path, paths["test"]):
        ds = load_dataset(where)
        assert ds.home == "h" and ds.summary == {"home": "h"} and ds.vocab.tokens == build_vocab(ws).tokens
        assert {k: len(v) for k, v in ds.splits.items()} == {k: int((ws.split == k).sum()) for k in ds.splits}
    save_split(tmp_path / "g_train.json", ws.select_split("train"))
    with pytest.raises(UserError, match="exactly one"):
        load_dataset(tmp_path)


def test_companion_is_written_atomically_next_to_json(tmp_path):
    ws = random_windowset(n=4, seq_len=8, seed=1)
    save_split(tmp_path / "s.json", ws)
    assert sorted(os.listdir(tmp_path)) == ["s.json", "s.npz"]


# ------------------------------------------------------------------ the semantic fields

def _without_semantic_fields(ws: WindowSet) -> WindowSet:
    """A WindowSet as homeclip made them before room_type / kind / state_sign existed."""
    for name in SEMANTIC_FIELDS:
        del ws.codes[name], ws.categories[name]
    return ws


def test_semantic_fields_round_trip_with_their_fixed_categories(tmp_path):
    ws = random_windowset(n=12, seq_len=10, seed=4)
    path, _ = save_split(tmp_path / "s.json", ws)
    obj = json.loads(path.read_text(encoding="utf-8"))
    assert obj["fields"] == list(store.EVENT_KEYS) and obj["categories"]["kind"] == list(OBJECT_KINDS)
    assert obj["windows"][0]["events"]["room_type"] == ws.strings("room_type", 0)
    for loaded in (load_split(path), read_split_json(path)):
        for name in SEMANTIC_FIELDS:
            assert loaded.strings(name, 3) == ws.strings(name, 3)
        assert set(loaded.strings("state_sign", 0)) <= {"on", "off"}


def test_a_split_saved_before_the_semantic_fields_still_loads(tmp_path, caplog):
    old = _without_semantic_fields(random_windowset(n=10, seq_len=8, seed=6))
    path, comp = save_split(tmp_path / "old_train.json", old)
    assert "kind" not in json.loads(path.read_text(encoding="utf-8"))["categories"]
    reference = random_windowset(n=10, seq_len=8, seed=6)
    for loader in (lambda: load_split(path), lambda: load_split(path, use_companion=False), lambda: read_split_json(path)):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            ws = loader()
        notes = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(notes) == 1 and "old_train.json was prepared before" in notes[0]
        for name in SEED_FIELDS:                          # the original fields are untouched
            assert np.array_equal(ws.codes[name], reference.codes[name])
        real = ws.mask
        assert set(np.asarray(ws.categories["kind"])[ws.codes["kind"][real]]) == {"unknown"}
        assert set(np.asarray(ws.categories["room_type"])[ws.codes["room_type"][real]]) == {"unknown"}
        assert all(ws.strings("state_sign", i) == reference.strings("state_sign", i) for i in range(len(ws)))
        assert (ws.codes["kind"][~real] == -1).all()
        ids, unk = build_vocab(reference).encode(ws)       # a current vocabulary encodes it
        assert unk["kind"] == 0 and ids["kind"].shape == ws.mask.shape


def test_semantic_vocabulary_is_fixed_and_the_same_in_every_home():
    a = build_vocab(random_windowset(n=8, seq_len=6, seed=1))
    b = build_vocab(random_windowset(n=30, seq_len=12, seed=9, n_sensors=20))
    for name, fixed in SEMANTIC_CATEGORIES.items():
        assert a.tokens[name] == b.tokens[name] == ["<pad>", "<unk>", *fixed]
    assert a.index("room_type")["bathroom"] == 2 + ROOM_TYPES.index("bathroom")
    assert Vocab.from_json(json.loads(json.dumps(a.to_json()))).tokens == a.tokens
    assert a.sizes_of(SEED_FIELDS) == {k: a.sizes[k] for k in SEED_FIELDS}
    old = Vocab({k: a.tokens[k] for k in SEED_FIELDS})                  # a vocabulary file from before
    assert old.sizes_of(SEED_FIELDS) == a.sizes_of(SEED_FIELDS)
    with pytest.raises(UserError, match="no field kind"):
        old.sizes_of(("kind",))
