"""The processed dataset on disk: one JSON of record per split, plus a fast `.npz` companion.

The JSON (schema in docs/dataset-format.md) is self-contained and human-readable: one window per line with
every event field as strings/numbers, its labels, split and captions. The companion next to it
(`<stem>.npz`) holds the same WindowSet as arrays and records the size and sha256 of the JSON it was made
from; it is used only while it still matches that JSON, so a stale companion is never read.

Per-resident labels (`label_l1_by_resident`, `label_l2_by_resident`) are written only for a set whose labels
name residents, so a single-resident split is byte for byte what it was before they existed, and a split
without them loads with none.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import UserError
from ..io import atomic_path, parse_json
from .vocab import Vocab
from .semantic import add_missing_semantic_fields
from .windows import CATEGORICAL_FIELDS, SEED_FIELDS, SPLITS, WindowSet

log = logging.getLogger(__name__)

SCHEMA = "homeclip.windows/1"
COMPANION_SCHEMA = "homeclip.windows-companion/1"


def event_keys(fields) -> tuple[str, ...]:
    """The per-event keys of a split holding these categorical `fields`, in file order."""
    return ("time", *fields, "time_delta", "x", "y")


EVENT_KEYS = event_keys(CATEGORICAL_FIELDS)
WINDOW_KEYS = ("split", "day", "start", "end", "n_events", "label_l1", "label_l2", "label_fractions", "captions",
               "events")
RESIDENT_KEYS = ("label_l1_by_resident", "label_l2_by_resident")   # optional: multi-resident sets only
_CHUNK = 2048  # windows converted to JSON per vectorised batch (bounds memory on Milan-scale sets)


def companion_path(json_path: str | Path) -> Path:
    """Where the fast companion of a split JSON lives."""
    return Path(json_path).with_suffix(".npz")


def default_out_dir(home: str, length: int) -> Path:
    """data/processed/casas/<home>/seq<N>: where `prepare` writes by default (the original config's paths)."""
    return Path("data") / "processed" / "casas" / home / f"seq{length}"


def dataset_paths(out_dir: str | Path, home: str) -> dict[str, Path]:
    """The files of a prepared dataset: train/val/test JSON, vocab and summary."""
    out = Path(out_dir)
    paths = {name: out / f"{home}_{name}.json" for name in SPLITS}
    paths["vocab"] = out / f"{home}_vocab.json"
    paths["summary"] = out / f"{home}_summary.json"
    return paths


# ----------------------------------------------------------------------------------------------- write


def save_split(path_json: str | Path, windows: WindowSet) -> tuple[Path, Path]:
    """Write the JSON of record and its fresh companion atomically; returns both paths."""
    if len(set(windows.homes)) > 1:   # a split file holds one home; per-window homes would be lost
        raise ValueError(f"windows of several homes ({windows.home}) cannot be saved as one split; save each "
                         "home's windows separately")
    path_json = Path(path_json)
    digest = hashlib.sha256()
    size = 0
    with atomic_path(path_json) as tmp, open(tmp, "wb") as fh:
        for piece in _json_pieces(windows):
            data = piece.encode("utf-8")
            digest.update(data)
            size += len(data)
            fh.write(data)
    return path_json, _write_companion(path_json, windows, _source(path_json, size, digest.hexdigest()))


def _source(path_json: Path, size: int, sha256: str) -> dict:
    """What a companion records of its JSON (size and sha256 decide freshness)."""
    return {"name": path_json.name, "size": size, "sha256": sha256, "mtime_ns": path_json.stat().st_mtime_ns}


def _fields_of(windows: WindowSet) -> tuple[str, ...]:
    """The categorical fields a WindowSet holds, in CATEGORICAL_FIELDS order (older sets lack the semantic ones)."""
    return tuple(name for name in CATEGORICAL_FIELDS if name in windows.codes and name in windows.categories)


def _json_pieces(windows: WindowSet) -> Iterator[str]:
    """The split JSON as text pieces: a header, then one window per line."""
    splits = sorted({str(s) for s in windows.split})
    fields = _fields_of(windows)
    keys = event_keys(fields)
    header = {
        "schema": SCHEMA, "home": windows.home, "split": splits[0] if len(splits) == 1 else None,
        "n_windows": len(windows), "seq_len": windows.seq_len, "captioned": bool(windows.captions),
        "fields": list(keys), "categories": {k: windows.categories[k] for k in fields}, "meta": windows.meta,
    }
    yield "{\n" + "".join(f"{json.dumps(k)}: {_dumps(v)},\n" for k, v in header.items()) + '"windows": [\n'
    quoted = {name: np.array([_dumps(c) for c in windows.categories[name]] + ["null"], dtype=object)
              for name in fields}
    for lo in range(0, len(windows), _CHUNK):
        lines = _window_lines(windows, lo, min(lo + _CHUNK, len(windows)), quoted, keys)
        yield (",\n" if lo else "") + ",\n".join(lines)
    yield "\n]}\n"


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _window_lines(w: WindowSet, lo: int, hi: int, quoted: dict[str, np.ndarray], keys: tuple[str, ...]) -> list[str]:
    """JSON lines of windows lo..hi-1. The event columns (the bulk of the file) are turned into JSON text in
    one vectorised pass per chunk and joined per window; the json module does the small per-window part."""
    mask = w.mask[lo:hi]
    counts = mask.sum(axis=1)
    bounds = np.concatenate([[0], np.cumsum(counts)]).tolist()
    columns = {name: quoted[name][w.codes[name][lo:hi][mask]].tolist() for name in quoted}
    times = np.datetime_as_string(w.time[lo:hi][mask].astype("datetime64[us]"), unit="us").astype(object)
    columns["time"] = ('"' + times + '"').tolist()
    columns["time_delta"] = _json_floats(w.time_delta[lo:hi][mask])
    columns["x"] = _json_floats(w.xy[lo:hi, :, 0][mask])
    columns["y"] = _json_floats(w.xy[lo:hi, :, 1][mask])
    start = np.datetime_as_string(w.start[lo:hi].astype("datetime64[us]"), unit="us")
    end = np.datetime_as_string(w.end[lo:hi].astype("datetime64[us]"), unit="us")
    day = np.datetime_as_string(w.day[lo:hi].astype("datetime64[D]"))
    lines = []
    for j, i in enumerate(range(lo, hi)):
        a, b = bounds[j], bounds[j + 1]
        record = {
            "split": str(w.split[i]), "day": str(day[j]), "start": str(start[j]), "end": str(end[j]),
            "n_events": int(counts[j]), "label_l1": str(w.label_l1[i]), "label_l2": str(w.label_l2[i]),
            "label_fractions": w.label_fractions[i], "captions": w.captions[i] if w.captions else {},
        }
        if w.residents:
            record.update(_resident_labels_of(w, i))
        head = _dumps(record)
        events = ",".join(f'"{k}":[{",".join(columns[k][a:b])}]' for k in keys)
        lines.append(f'{head[:-1]},"events":{{{events}}}}}')
    return lines


def _resident_labels_of(w: WindowSet, i: int) -> dict[str, dict[str, str]]:
    """Window i's per-resident labels, as its JSON record holds them."""
    return {"label_l1_by_resident": {r: str(v[i]) for r, v in w.label_l1_by_resident.items()},
            "label_l2_by_resident": {r: str(v[i]) for r, v in w.label_l2_by_resident.items()}}


def _json_floats(values: np.ndarray) -> list[str]:
    """float32 values as JSON number texts that read back (as float32) exactly; NaN -> null.

    Columns with few distinct values (x/y come from sensor positions) get the shortest float32 digits;
    converting every value that way is too slow, so the others keep float64's longer exact digits."""
    if np.isinf(values).any():
        raise ValueError("infinite values cannot be written to JSON")
    uniq, inverse = np.unique(values, return_inverse=True)
    if uniq.size * 8 <= values.size:
        texts = uniq.astype(str).tolist()
    else:
        texts = [repr(v) for v in uniq.astype(np.float64).tolist()]
    table = np.array(["null" if t == "nan" else t for t in texts], dtype=object)
    return table[inverse.reshape(-1)].tolist()


def _write_companion(path_json: Path, w: WindowSet, source: dict) -> Path:
    header = {"schema": COMPANION_SCHEMA, "source": source, "home": w.home,
              "categories": {k: w.categories[k] for k in _fields_of(w)},
              "meta": w.meta, "captioned": bool(w.captions)}
    objects = {"label_l1": [str(x) for x in w.label_l1], "label_l2": [str(x) for x in w.label_l2],
               "label_fractions": w.label_fractions, "split": [str(x) for x in w.split], "captions": w.captions}
    if w.residents:
        objects.update({key: {r: [str(x) for x in v] for r, v in getattr(w, key).items()} for key in RESIDENT_KEYS})
    arrays = {f"codes.{k}": w.codes[k].astype(np.int32) for k in header["categories"]}
    arrays.update(
        time=w.time.astype(np.int64), time_delta=w.time_delta.astype(np.float32), xy=w.xy.astype(np.float32),
        mask=w.mask.astype(bool), start=w.start.astype("datetime64[us]").astype(np.int64),
        end=w.end.astype("datetime64[us]").astype(np.int64), day=w.day.astype("datetime64[D]").astype(np.int64),
        header=_json_bytes(header), objects=_json_bytes(objects),
    )
    target = companion_path(path_json)
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    return target


def _json_bytes(obj) -> np.ndarray:
    return np.frombuffer(_dumps(obj).encode("utf-8"), dtype=np.uint8)


# ------------------------------------------------------------------------------------------------ read


def load_split(path_json: str | Path, *, use_companion: bool = True, refresh_companion: bool = True) -> WindowSet:
    """Read one split: from its companion when that still matches the JSON, otherwise from the JSON itself.

    After a JSON read the companion is (re)written when `refresh_companion` and the folder is writable."""
    path = Path(path_json)
    if not path.is_file():
        raise UserError("processed split not found (run `homeclip prepare` first)", path=str(path))
    data = path.read_bytes()   # read once: hashed for the freshness check, parsed when the companion is stale
    sha256 = hashlib.sha256(data).hexdigest()
    if use_companion:
        windows = _read_companion_if_fresh(path, len(data), sha256)
        if windows is not None:
            return _with_semantic_fields(windows, path)
    windows = _parse_split_json(data, str(path))
    if refresh_companion:
        try:
            _write_companion(path, windows, _source(path, len(data), sha256))
        except OSError as err:  # a read-only dataset folder is fine: the JSON stays the record
            log.info("could not write the companion of %s (%s); reading the JSON each time", path, err)
    return _with_semantic_fields(windows, path)


def _with_semantic_fields(windows: WindowSet, path: Path) -> WindowSet:
    """A split prepared before the semantic fields existed, given them (room type and kind "unknown"), with a note."""
    added = add_missing_semantic_fields(windows)
    if added:
        log.warning("%s was prepared before the %s fields existed: room types and kinds are 'unknown' "
                    "(run `homeclip prepare` again to fill them)", path.name, "/".join(added))
    return windows


def _read_companion_if_fresh(path_json: Path, size: int, sha256: str) -> WindowSet | None:
    """The companion's WindowSet, or None when it is missing, unreadable or made from another JSON
    (`size` and `sha256` are the JSON's)."""
    comp = companion_path(path_json)
    if not comp.is_file():
        return None
    try:
        with np.load(comp, allow_pickle=False) as z:
            header = json.loads(z["header"].tobytes())
            source = header.get("source", {})
            if header.get("schema") != COMPANION_SCHEMA or source.get("size") != size \
                    or source.get("sha256") != sha256:
                log.info("companion %s does not match %s; reading the JSON", comp, path_json.name)
                return None
            arrays = {k: z[k] for k in z.files if k not in ("header", "objects")}
            objects = json.loads(z["objects"].tobytes())
    except (OSError, ValueError, KeyError) as err:
        log.warning("ignoring unreadable companion %s (%s)", comp, err)
        return None
    return WindowSet(
        codes={k: arrays[f"codes.{k}"] for k in header["categories"]}, categories=header["categories"],
        time=arrays["time"], time_delta=arrays["time_delta"], xy=arrays["xy"], mask=arrays["mask"],
        label_l1=np.array(objects["label_l1"], dtype=object), label_l2=np.array(objects["label_l2"], dtype=object),
        label_fractions=objects["label_fractions"], split=np.array(objects["split"], dtype=object),
        start=arrays["start"].astype("datetime64[us]"), end=arrays["end"].astype("datetime64[us]"),
        day=arrays["day"].astype("datetime64[D]"), captions=objects["captions"], home=header["home"],
        meta=header["meta"],
        **{key: {r: np.array(v, dtype=object) for r, v in objects.get(key, {}).items()} for key in RESIDENT_KEYS},
    )


def read_split_header(path: str | Path) -> dict:
    """A split JSON's header (schema, home, seq_len, categories, meta...) without reading its windows."""
    head: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith('"windows": ['):
                return json.loads("".join(head) + '"windows": []}')
            head.append(line)
    raise UserError("not a split JSON written by homeclip prepare (no windows list)", path=str(path))


def read_split_json(path: str | Path) -> WindowSet:
    """Parse and validate a split JSON of record (the slow, authoritative path)."""
    return _with_semantic_fields(_parse_split_json(Path(path).read_bytes(), str(path)), Path(path))


def _parse_split_json(data: bytes, path: str) -> WindowSet:
    obj = parse_json(data, path)
    records, categories, seq_len = _validate(obj, path)
    n = len(records)
    lengths = np.array([r["n_events"] for r in records], dtype=np.int64).reshape(n)
    mask = np.arange(seq_len)[None, :] < lengths[:, None]

    def column(key: str) -> list:
        return list(chain.from_iterable(r["events"][key] for r in records))

    def scatter(flat: np.ndarray, fill, dtype) -> np.ndarray:
        out = np.full((n, seq_len) + flat.shape[1:], fill, dtype=dtype)
        out[mask] = flat
        return out

    codes = {name: scatter(_codes_of(column(name), categories[name], name, str(path)), -1, np.int32)
             for name in categories}
    try:
        time = np.array(column("time"), dtype="datetime64[us]").astype(np.int64)
        floats = {k: np.array(column(k), dtype=np.float64).astype(np.float32) for k in ("time_delta", "x", "y")}
        start, end, day = (np.array([r[k] for r in records], dtype=f"datetime64[{u}]").reshape(n)
                           for k, u in (("start", "us"), ("end", "us"), ("day", "D")))
    except (TypeError, ValueError) as err:
        raise UserError(f"bad time or number in a window ({err})", path=str(path)) from None
    return WindowSet(
        codes=codes, categories=categories, time=scatter(time, 0, np.int64),
        time_delta=scatter(floats["time_delta"], 0.0, np.float32),
        xy=scatter(np.stack([floats["x"], floats["y"]], axis=1), np.nan, np.float32), mask=mask,
        label_l1=np.array([r["label_l1"] for r in records], dtype=object).reshape(n),
        label_l2=np.array([r["label_l2"] for r in records], dtype=object).reshape(n),
        label_fractions=[r["label_fractions"] for r in records],
        split=np.array([r["split"] for r in records], dtype=object).reshape(n), start=start, end=end, day=day,
        captions=[r["captions"] for r in records] if obj.get("captioned") else [],
        home=str(obj.get("home", "")), meta=obj.get("meta", {}), **_resident_columns(records, str(path)),
    )


def _resident_columns(records: list[dict], source: str) -> dict[str, dict[str, np.ndarray]]:
    """The per-resident label columns of a split's windows (none when the split has none); every window must
    map the same residents to labels."""
    if not any(key in rec for rec in records for key in RESIDENT_KEYS):
        return {}
    residents = list(records[0].get(RESIDENT_KEYS[0]) or {})
    out: dict[str, dict[str, np.ndarray]] = {}
    for key in RESIDENT_KEYS:
        columns: dict[str, list[str]] = {r: [] for r in residents}
        for i, rec in enumerate(records):
            value = rec.get(key)
            if not isinstance(value, dict) or not residents or list(value) != residents \
                    or not all(isinstance(v, str) for v in value.values()):
                raise UserError(f"window {i}: {key} must map the residents {residents} to labels, found "
                                f"{value!r}", path=source)
            for r in residents:
                columns[r].append(value[r])
        out[key] = {r: np.array(v, dtype=object).reshape(len(records)) for r, v in columns.items()}
    return out


def _validate(obj, source: str) -> tuple[list[dict], dict[str, list[str]], int]:
    """Check the structure of a split JSON; UserError names the first window and key that is wrong."""
    if not isinstance(obj, dict) or obj.get("schema") != SCHEMA:
        raise UserError(f"not a homeclip processed split (expected \"schema\": \"{SCHEMA}\")", path=source)
    records, categories, seq_len = obj.get("windows"), obj.get("categories"), obj.get("seq_len")
    if not isinstance(records, list) or not isinstance(seq_len, int) or seq_len < 1:
        raise UserError("a processed split needs a 'windows' list and a positive integer 'seq_len'", path=source)
    if not isinstance(categories, dict) or any(not isinstance(categories.get(k), list) for k in SEED_FIELDS):
        raise UserError(f"'categories' must list the values of every field {SEED_FIELDS}", path=source)
    categories = {k: categories[k] for k in CATEGORICAL_FIELDS if isinstance(categories.get(k), list)}
    for name in categories:
        if len(set(categories[name])) != len(categories[name]):
            raise UserError(f"'categories' of {name} repeats a value", path=source)
    keys = event_keys(categories)
    for i, rec in enumerate(records):
        missing = [k for k in WINDOW_KEYS if not isinstance(rec, dict) or k not in rec]
        if missing:
            raise UserError(f"window {i}: missing {', '.join(missing)}", path=source)
        n, events = rec["n_events"], rec["events"]
        if not isinstance(n, int) or not 1 <= n <= seq_len:
            raise UserError(f"window {i}: n_events must be 1..{seq_len}, found {n!r}", path=source)
        bad = [k for k in keys if not isinstance(events, dict) or not isinstance(events.get(k), list)
               or len(events[k]) != n]
        if bad:
            raise UserError(f"window {i}: events {', '.join(bad)} must be lists of n_events={n} values", path=source)
    return records, categories, seq_len


def _codes_of(values: list, categories: list[str], name: str, source: str) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(categories)}
    try:
        return np.fromiter(map(lookup.__getitem__, values), dtype=np.int32, count=len(values))
    except (KeyError, TypeError) as err:
        bad = err.args[0] if isinstance(err, KeyError) else "an unhashable value"
        raise UserError(f"event {name} {bad!r} is not among the file's categories for {name}", path=source) from None


# --------------------------------------------------------------------------------------- whole dataset


@dataclass
class PreparedDataset:
    """A prepared dataset loaded from disk: its splits, vocabulary and summary."""

    directory: Path
    home: str
    splits: dict[str, WindowSet]
    vocab: Vocab | None
    summary: dict | None


def find_home(directory: Path) -> str:
    """The home name of a prepared dataset folder (from its single `<home>_train.json`)."""
    homes = sorted(p.name[: -len("_train.json")] for p in directory.glob("*_train.json"))
    if len(homes) != 1:
        found = ", ".join(homes) if homes else "none"
        raise UserError(f"expected exactly one <home>_train.json in the folder, found {found}", path=str(directory))
    return homes[0]


def load_dataset(path: str | Path, *, splits: tuple[str, ...] = SPLITS) -> PreparedDataset:
    """Load a prepared dataset from its folder or from any of its `<home>_<split>.json` files."""
    path = Path(path)
    if path.is_file():
        directory, home = path.parent, path.stem.rsplit("_", 1)[0]
    elif path.is_dir():
        directory, home = path, find_home(path)
    else:
        raise UserError("prepared dataset not found (run `homeclip prepare` first)", path=str(path))
    files = dataset_paths(directory, home)
    summary = json.loads(files["summary"].read_text(encoding="utf-8")) if files["summary"].is_file() else None
    return PreparedDataset(
        directory=directory, home=home, splits={name: load_split(files[name]) for name in splits},
        vocab=Vocab.load(files["vocab"]) if files["vocab"].is_file() else None, summary=summary,
    )
