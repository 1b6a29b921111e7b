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
from typing import Iterator

from ..errors import UserError
from ..io import atomic_dir, atomic_write_json
from .captions import caption_windows
from .homes import Home, load_home
from .readers import read_log
from .store import dataset_paths, default_out_dir, save_split
from .usage import replacing_used_files_warning
from .vocab import build_vocab
from .windows import SPLITS, SplitConfig, WindowConfig, WindowSet, assign_splits, make_windows

log = logging.getLogger(__name__)
SUMMARY_SCHEMA = "homeclip.summary/1"


def prepare_dataset(raw: str | Path, home: str | Home, out_dir: str | Path | None = None, *, fmt: str = "auto",
                    labels_path: str | Path | None = None, window: WindowConfig = WindowConfig(),
                    split: SplitConfig = SplitConfig(), caption_seed: int = 0, skip_bad_lines: bool = False,
                    progress: bool = True) -> dict:
    """Turn a raw log into a processed dataset (train/val/test JSON + companions, vocab, summary)."""
    window.validate()
    split.validate()
    home_obj = home if isinstance(home, Home) else load_home(home)
    out = Path(out_dir) if out_dir is not None else default_out_dir(home_obj.name, window.length)
    timings: dict[str, float] = {}
    stage = _stages(timings, progress)

    with stage("read"):
        events = read_log(raw, fmt, labels_path=labels_path, skip_bad_lines=skip_bad_lines)
    if len(events) == 0:
        raise UserError("the log holds no binary sensor events to cut into windows", path=str(raw))
    with stage("window"):
        windows = make_windows(events, home_obj, window)
    if len(windows) == 0:
        stats = windows.meta["windowing"]
        raise UserError(f"no window could be cut from {stats['n_events']} events in {stats['n_segments']} "
                        f"segment(s) (strategy {window.strategy}, {window.length} events, max gap "
                        f"{window.max_gap:g} s); use a longer log or smaller windows", path=str(raw))
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
    summary = _summary(raw, home_obj, out, files, events.report.to_dict(), windows, parts, unk, vocab.sizes,
                       config={"window": windows.meta["windowing"]["config"], "split": split.to_dict(), "caption_seed": caption_seed,
                               "format": fmt, "labels_path": None if labels_path is None else str(labels_path),
                               "skip_bad_lines": skip_bad_lines})
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


def _split_counts(part: WindowSet, n_days: int) -> dict:
    return {"windows": len(part), "days": n_days, "events": int(part.mask.sum()),
            "label_l1": dict(Counter(map(str, part.label_l1)).most_common()),
            "label_l2": dict(Counter(map(str, part.label_l2)).most_common())}


def format_summary(summary: dict) -> str:
    """The few lines `homeclip prepare` prints at the end: where the output is and what it holds."""
    report = summary["parse_report"]
    lines = [f"Prepared {summary['home']} from {summary['raw']} ({summary['format']}): "
             f"{report['n_events']} events, {report['n_numeric']} numeric readings kept apart, "
             f"{report['n_skipped']} bad lines skipped, {report['n_out_of_order']} out of order."]
    dropped = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in summary["dropped_windows"].items() if v)
    lines.append(f"{summary['n_windows']} windows ({summary['config']['window']['strategy']}, "
                 f"{summary['config']['window']['length']} events)" + (f"; dropped: {dropped}" if dropped else ""))
    for name, counts in summary["splits"].items():
        top = ", ".join(f"{k} {v}" for k, v in list(counts["label_l2"].items())[:4])
        lines.append(f"  {name:<5} {counts['windows']:>7} windows over {counts['days']:>3} days  ({top}, ...)")
    unk = "; ".join(f"{split} " + (", ".join(f"{field} {n}" for field, n in counts.items() if n) or "none")
                    for split, counts in summary["unk_counts"].items())
    lines.append(f"Events with values unseen in train (mapped to UNK): {unk}")
    lines.append(f"Output: {summary['out_dir']}/ ({', '.join(summary['files'].values())})")
    return "\n".join(lines)
