"""`prepare`: raw log -> EventLog -> windows -> day split -> captions -> vocabulary -> processed dataset on disk.

Everything is written into a temporary folder first and moved into place only when every step succeeded, so a
failed run leaves no partial dataset behind. The returned summary is also written as `<home>_summary.json`.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping

from ..errors import UserError
from ..io import atomic_dir, atomic_write_json, file_sha256
from ..terminal import printable
from .captions import caption_windows
from .events import EventLog, format_unknown_states
from .coverage import coverage_report, taxonomy_report
from .homes import Home, load_home
from .readers import read_log
from .readers.sources import describe_raw
from .store import dataset_paths, default_out_dir, save_split
from .usage import replacing_used_files_warning
from .vocab import build_vocab
from .windows import SPLITS, SplitConfig, WindowConfig, WindowSet, assign_splits, make_windows

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
SUMMARY_SCHEMA = "homeclip.summary/1"
RawInput = "str | Path | Iterable[str | Path] | pd.DataFrame"


def prepare_dataset(raw: RawInput, home: str | Home | None = None, out_dir: str | Path | None = None, *,
                    fmt: str = "auto", labels_path: "str | Path | pd.DataFrame | None" = None,
                    window: WindowConfig = WindowConfig(), split: SplitConfig = SplitConfig(), caption_seed: int = 0,
                    skip_bad_lines: bool = False, keep_unknown_states: bool = False,
                    columns: Mapping[str, str] | None = None, time_format: str = "auto", timezone: str | None = None,
                    residents: str = "auto", label_entity: str | None = None, progress: bool = True) -> dict:
    """Turn raw logs (a file, several files, a folder, a glob or an event-table DataFrame) into a processed
    dataset (train/val/test JSON + companions, vocab, summary). `home` None or "none": no layout.
    `residents`: the label-resident rule (auto, none or a regular expression; data/residents.py)."""
    window.validate()
    split.validate()
    no_layout = home is None or (isinstance(home, str) and home.lower() == "none")
    home_obj = home if isinstance(home, Home) else load_home(None if no_layout else home)
    out = Path(out_dir) if out_dir is not None else default_out_dir(home_obj.name, window.length)
    timings: dict[str, float] = {}
    stage = _stages(timings, progress)

    with stage("read"):
        events = read_log(raw, fmt, labels_path=labels_path, skip_bad_lines=skip_bad_lines,
                          keep_unknown_states=keep_unknown_states, columns=columns, time_format=time_format,
                          timezone=timezone, residents=residents, label_entity=label_entity)
    raw_text = describe_raw(raw)
    if len(events) == 0:
        raise UserError("the log holds no binary sensor events to cut into windows", path=raw_text)
    counts = {str(k): int(v) for k, v in events.frame["sensor"].value_counts().items()}
    coverage = coverage_report(home_obj, counts)
    if coverage["warning"]:
        log.warning("%s", coverage["warning"])
    taxonomy = taxonomy_report(home_obj, sorted(counts))
    with stage("window"):
        windows = make_windows(events, home_obj, window)
    if len(windows) == 0:
        stats = windows.meta["windowing"]
        raise UserError(f"no window could be cut from {stats['n_events']} events in {stats['n_segments']} "
                        f"segment(s) (strategy {window.strategy}, {window.length} events, max gap "
                        f"{window.max_gap:g} s); use a longer log or smaller windows", path=raw_text)
    with stage("split"):
        windows = assign_splits(windows, split)
    with stage("caption"):
        windows.captions = caption_windows(windows, home_obj, seed=caption_seed)
        if len(windows.captions) != len(windows):
            raise RuntimeError(f"captioner returned {len(windows.captions)} captions for {len(windows)} windows")
    with stage("vocab"):
        vocab = build_vocab(windows, "train")
        parts = {name: windows.select_split(name) for name in SPLITS}
        unk = {name: vocab.encode(parts[name])[1] for name in SPLITS if name != "train"}
    files = dataset_paths(out, home_obj.name)
    summary = _summary(raw_text, home_obj, out, files, events.report.to_dict(), windows, parts, unk, vocab.sizes,
                       config={"window": windows.meta["windowing"]["config"], "split": split.to_dict(),
                               "caption_seed": caption_seed, "format": fmt,
                               "labels_path": None if labels_path is None or not isinstance(labels_path, (str, Path))
                               else str(labels_path),
                               "skip_bad_lines": skip_bad_lines, "keep_unknown_states": keep_unknown_states,
                               "columns": dict(columns) if columns else None, "time_format": time_format,
                               "timezone": timezone, "residents": residents, "label_entity": label_entity})
    summary["sources"] = source_records(events)
    summary["residents"] = resident_record(events, residents)
    summary["coverage"], summary["taxonomy"] = coverage, taxonomy
    replacing = replacing_used_files_warning(out, [p.name for p in files.values()])
    if replacing:
        log.warning(replacing)
    with stage("write"), atomic_dir(out) as tmp:
        for name in SPLITS:
            save_split(tmp / files[name].name, parts[name])
        vocab.save(tmp / files["vocab"].name)
        summary["timings_s"] = dict(timings)
        atomic_write_json(tmp / files["summary"].name, summary)
    summary["timings_s"] = dict(timings)
    return summary


def _stages(timings: dict[str, float], progress: bool):
    """A context manager per pipeline step that times it and advances one progress bar."""
    from tqdm.auto import tqdm

    bar = tqdm(total=6, desc="prepare", unit="step", disable=not progress, leave=False)

    @contextmanager
    def stage(name: str) -> Iterator[None]:
        bar.set_postfix_str(name)
        t0 = time.perf_counter()
        try:
            yield
        except BaseException:
            bar.close()  # before the error is printed, so the message is not glued to a half-drawn bar
            raise
        timings[name] = round(time.perf_counter() - t0, 3)
        log.debug("prepare: %s took %.2f s", name, timings[name])
        bar.update(1)
        if bar.n >= bar.total:
            bar.close()

    return stage


def _summary(raw, home: Home, out: Path, files: dict[str, Path], parse_report: dict, windows: WindowSet,
             parts: dict[str, WindowSet], unk: dict, vocab_sizes: dict, config: dict) -> dict:
    """Counts per split and label, dropped windows with reasons, parse report, UNK counts and the config."""
    windowing = windows.meta["windowing"]
    split_meta = windows.meta["split"]
    styles = sorted({style for caps in windows.captions for style in caps})
    return {
        "schema": SUMMARY_SCHEMA,
        "home": home.name, "home_has_layout": home.has_layout, "raw": str(raw), "format": parse_report["format"],
        "out_dir": str(out), "files": {k: p.name for k, p in files.items()},
        "config": config,
        "parse_report": parse_report,
        "windowing": {k: v for k, v in windowing.items() if k != "config"},
        "dropped_windows": {**windowing["dropped_windows"], **split_meta["dropped_windows"]},
        "n_windows": len(windows),
        "splits": {name: _split_counts(parts[name], len(split_meta["days"][name])) for name in SPLITS},
        "days": split_meta["days"],
        "unk_counts": unk,
        "vocab_sizes": vocab_sizes,
        "caption_styles": styles,
        "captions_per_window": round(sum(len(c) for caps in windows.captions for c in caps.values())
                                     / max(len(windows), 1), 2),
    }


def resident_record(events: EventLog, rule: str) -> dict:
    """Who the labels name: the rule, the residents, each resident's labels and events, and the labels that
    name nobody (they count in the flattened labels only)."""
    from .residents import natural_key, resident_rule

    owners: dict[str, set[str]] = {}
    events_of: Counter = Counter()
    for (labels, residents), n in Counter(zip(events.frame["labels"], events.frame["residents"])).items():
        for label, resident in zip(labels, residents):
            owners.setdefault(resident, set()).add(label)
        for resident in set(residents) - {""}:
            events_of[resident] += n
    names = sorted((r for r in owners if r), key=natural_key)
    return {"rule": resident_rule(rule).describe(), "residents": names,
            "labels": {r: sorted(owners[r]) for r in names}, "events": {r: events_of[r] for r in names},
            "labels_naming_no_resident": sorted(owners.get("", set())) if names else []}


def source_records(events: EventLog) -> list[dict]:
    """One record per file read (the event files, then their activity files): path, role, size, SHA-256 and,
    for event files, format, event count and first/last event time."""
    reports = events.report.files or [events.report]
    # One pass over the events (not one per file): count, first and last time in file order per source.
    per_source = events.frame.groupby("source", sort=False)["time"].agg(["size", "first", "last"])
    records = []
    for index, (path, report) in enumerate(zip(events.sources, reports)):
        seen = index in per_source.index
        records.append({**_file_identity(path), "role": "events", "format": report.format,
                        "n_events": int(per_source.at[index, "size"]) if seen else 0,
                        "first_event": str(per_source.at[index, "first"]) if seen else None,
                        "last_event": str(per_source.at[index, "last"]) if seen else None})
    for labels in dict.fromkeys(r.labels_from for r in reports if r.labels_from):
        records.append({**_file_identity(labels), "role": "labels"})
    return records


def _file_identity(path: str) -> dict:
    file = Path(path)
    if not file.is_file():                     # a DataFrame given in memory
        return {"path": path, "bytes": None, "sha256": None}
    return {"path": path, "bytes": file.stat().st_size, "sha256": file_sha256(file)}


def _coverage_lines(coverage: dict | None, taxonomy: dict | None) -> list[str]:
    """How much of the log the layout knows, and which sensors' room type / kind were inferred or unknown."""
    lines = []
    if coverage:
        lines.append(f"Layout coverage: {100 * coverage['events']:.1f}% of events, {coverage['n_known_sensors']} of "
                     f"{coverage['n_sensors']} sensors known to {coverage['layout']}")
        if coverage.get("warning"):
            lines.append(f"WARNING: {coverage['warning']}")
    if taxonomy:
        parts = []
        for key, word in (("room_type", "room type"), ("kind", "kind")):
            inferred, unknown = taxonomy["inferred"][key], taxonomy["unknown"][key]
            parts.append(f"{word}: {taxonomy['given'][key]} given, {len(inferred)} inferred, {len(unknown)} unknown"
                         + (f" ({_few(unknown)})" if unknown else ""))
        lines.append("Taxonomy: " + "; ".join(parts))
    return lines


def _resident_lines(record: dict | None) -> list[str]:
    """Which residents the labels name and how many labels each has (nothing for a single-resident log)."""
    if not record or not record["residents"]:
        return []
    each = ", ".join(f"{r} {len(record['labels'][r])} labels over {record['events'][r]} events"
                     for r in record["residents"])
    lines = [f"Residents ({record['rule']}): {each}; each window has a label per resident "
             "(label_l1_by_resident) next to the flattened label_l1"]
    nobody = record["labels_naming_no_resident"]
    if nobody:
        lines.append(f"{len(nobody)} labels name no resident and count in the flattened labels only: {_few(nobody)}")
    return lines


def _few(names: list[str], n: int = 6) -> str:
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def _split_counts(part: WindowSet, n_days: int) -> dict:
    counts = {"windows": len(part), "days": n_days, "events": int(part.mask.sum()),
              "label_l1": dict(Counter(map(str, part.label_l1)).most_common()),
              "label_l2": dict(Counter(map(str, part.label_l2)).most_common())}
    if part.residents:
        counts["label_l1_by_resident"] = {r: dict(Counter(map(str, v)).most_common())
                                          for r, v in part.label_l1_by_resident.items()}
    return counts


def format_summary(summary: dict) -> str:
    """The few lines `homeclip prepare` prints at the end: where the output is and what it holds."""
    report = summary["parse_report"]
    n_files = sum(1 for s in summary.get("sources", []) if s["role"] == "events")
    lines = [f"Prepared {summary['home']} from {summary['raw']} ({summary['format']}"
             f"{f', {n_files} files' if n_files > 1 else ''}): "
             f"{report['n_events']} events, {report['n_numeric']} numeric readings kept apart, "
             f"{report['n_skipped']} bad lines skipped, {report['n_out_of_order']} out of order."]
    if report.get("n_unknown_states"):
        kept = "kept" if report["unknown_states_kept"] else "left out (--keep-unknown-states keeps them)"
        lines.append(f"{report['n_unknown_states']} events with states outside their sensor's set, {kept}: "
                     + format_unknown_states(report["unknown_states"]))
    if report.get("unmatched_begin"):
        lines.append(f"{len(report['unmatched_begin'])} activities begun and never ended in their file "
                     f"(each labels only its begin line), e.g. {report['unmatched_begin'][0]}")
    if report.get("n_clock_steps_back"):
        lines.append(f"The clock goes back 30 min or more {report['n_clock_steps_back']} times, e.g. "
                     f"{report['clock_steps_back'][0]}")
    if report.get("skipped_files"):
        lines.append(f"{len(report['skipped_files'])} files skipped (not sensor logs): "
                     + "; ".join(report["skipped_files"][:3]))
    dropped = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in summary["dropped_windows"].items() if v)
    lines.append(f"{summary['n_windows']} windows ({summary['config']['window']['strategy']}, "
                 f"{summary['config']['window']['length']} events)" + (f"; dropped: {dropped}" if dropped else ""))
    for name, counts in summary["splits"].items():
        top = ", ".join(f"{k} {v}" for k, v in list(counts["label_l2"].items())[:4])
        lines.append(f"  {name:<5} {counts['windows']:>7} windows over {counts['days']:>3} days  ({top}, ...)")
    lines.extend(_resident_lines(summary.get("residents")))
    unk = "; ".join(f"{split} " + (", ".join(f"{field} {n}" for field, n in counts.items() if n) or "none")
                    for split, counts in summary["unk_counts"].items())
    lines.append(f"Events with values unseen in train (mapped to UNK): {unk}")
    lines.extend(_coverage_lines(summary.get("coverage"), summary.get("taxonomy")))
    lines.append(f"Output: {summary['out_dir']}/ ({', '.join(summary['files'].values())})")
    return "\n".join(printable(line) for line in lines)     # labels and names come from the log
