"""`homeclip label`: the windows a person is asked to label (a CSV they fill in), and their answers spread to
every window of the split (`discovery.ClusterLabeller`).

    request_labels(ckpt, split_json, "to_label.csv", budget=30)            # id, start, end, rooms, caption, label
    propagate_answers(ckpt, split_json, "to_label.csv", "labels.csv")      # id, start, end, label, source

The window embeddings and summaries come from the search index cache (keyed by checkpoint and split hashes),
so the second call does not embed the windows again, and the same clustering settings ask for the same
windows. A filled-in file is checked row by row: a bad row is a one-line `file:line` error.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..io import atomic_write_text

REQUEST_COLUMNS = ("id", "start", "end", "rooms", "caption", "label")
LABEL_COLUMNS = ("id", "start", "end", "label", "source")


def _time(text: str) -> str:
    return text.replace("T", " ")     # "2009-10-16 08:01:02": what a person reads and a spreadsheet keeps


def _csv_text(columns: Sequence[str], rows: list[list]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buf.getvalue()


def write_requests(path: str | Path, summaries: list[dict], indices: Sequence[int]) -> Path:
    """The CSV of windows to label: one row per asked window (in the order given), the label column empty."""
    rows = [[int(i), _time(summaries[i]["start"]), _time(summaries[i]["end"]), "; ".join(summaries[i]["rooms"]),
             summaries[i]["caption"], ""] for i in indices]
    return atomic_write_text(path, _csv_text(REQUEST_COLUMNS, rows))


def write_labels(path: str | Path, summaries: list[dict], labels: Sequence[str], answered: Sequence[int]) -> Path:
    """Every window with its label and where the label came from ("answer" or "propagated")."""
    given = set(int(i) for i in answered)
    rows = [[i, _time(s["start"]), _time(s["end"]), labels[i], "answer" if i in given else "propagated"]
            for i, s in enumerate(summaries)]
    return atomic_write_text(path, _csv_text(LABEL_COLUMNS, rows))


def _same_time(cell: str, expected: str) -> bool:
    """False only when `cell` is a readable ISO time that differs from `expected` (a spreadsheet may have
    rewritten it in a local format: then it cannot be checked and is let through)."""
    try:
        return _dt.datetime.fromisoformat(cell.strip()) == _dt.datetime.fromisoformat(expected)
    except ValueError:
        return True


def read_answers(path: str | Path, summaries: list[dict], data_name: str) -> tuple[dict[int, str], int]:
    """The labels a person filled in ({window id: label}; rows with an empty label are skipped) and the number of
    rows in the file. Comma, semicolon or tab separated, UTF-8 with or without a BOM."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError("answers file not found", path=str(path)) from None
    except UnicodeDecodeError:
        raise UserError("not UTF-8 text (save the CSV as UTF-8)", path=str(path)) from None
    if not text.strip():
        raise UserError("empty file: expected a header line with the columns id and label", path=str(path), line=1)
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [h.strip().lower() for h in next(reader)]
    if "id" not in header or "label" not in header:
        raise UserError(f"expected the columns id and label in the header, found {header}", path=str(path), line=1)
    answers: dict[int, str] = {}
    seen: dict[int, int] = {}
    n_rows = 0
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        n_rows += 1
        if any(cell.strip() for cell in row[len(header):]):
            raise UserError(f"expected {len(header)} columns ({', '.join(header)}), found {len(row)}",
                            path=str(path), line=line)
        cells = dict(zip(header, [c.strip() for c in row] + [""] * (len(header) - len(row))))
        raw = cells["id"]
        if not raw.isdigit():
            raise UserError(f"column id: expected a window id (a whole number), found {raw!r}", path=str(path),
                            line=line)
        i = int(raw)
        if i >= len(summaries):
            raise UserError(f"column id: no window {i} in {data_name} (it has {len(summaries)} windows, ids 0 to "
                            f"{len(summaries) - 1})", path=str(path), line=line)
        if cells.get("start") and not _same_time(cells["start"], summaries[i]["start"]):
            raise UserError(f"window {i} starts at {_time(summaries[i]['start'])} in {data_name}, but this row says "
                            f"{cells['start']!r}: was this file written for another data file?", path=str(path),
                            line=line)
        if i in seen:
            raise UserError(f"window {i} is listed twice (first on line {seen[i]})", path=str(path), line=line)
        seen[i] = line
        if cells["label"]:
            answers[i] = cells["label"]
    if not answers:
        raise UserError("no row has a label: fill in the label column of at least one window", path=str(path))
    return answers, n_rows


def _index(checkpoint: str | Path, data: str | Path, *, device: str, cache_dir: str | None, batch_size: int,
           progress: bool):
    """Unit embeddings and window summaries of the split (from the search cache when present)."""
    from ..training.checkpoint import load_model
    from .search import cached_index

    index, _ = cached_index(lambda: load_model(checkpoint, device=device), checkpoint, data, cache_dir=cache_dir,
                            batch_size=batch_size, progress=progress)
    return index.embeddings, index.summaries


def request_labels(checkpoint: str | Path, data: str | Path, out: str | Path, *, budget: int = 30,
                   clustering: str = "kmeans", seed: int = 0, device: str = "cpu", cache_dir: str | None = None,
                   batch_size: int = 256, progress: bool = True) -> dict:
    """Cluster the split's windows into `budget` clusters and write the window nearest each centre to `out`."""
    from .discovery import ClusterLabeller

    if budget < 1:
        raise UserError(f"--budget must be at least 1, got {budget}")
    emb, summaries = _index(checkpoint, data, device=device, cache_dir=cache_dir, batch_size=batch_size,
                            progress=progress)
    labeller = ClusterLabeller(budget, clustering=clustering, propagation="probe", random_state=seed).fit(emb)
    sizes = np.bincount(labeller.labels_[labeller.labels_ >= 0], minlength=len(labeller.cluster_centers_))
    write_requests(out, summaries, labeller.query_indices_)
    return {"out": str(out), "asked": len(labeller.query_indices_), "n_windows": len(summaries),
            "cluster_sizes": sorted(sizes.tolist(), reverse=True)}


def propagate_answers(checkpoint: str | Path, data: str | Path, answers_path: str | Path, out: str | Path, *,
                      budget: int | None = None, clustering: str = "kmeans", propagation: str = "probe",
                      seed: int = 0, device: str = "cpu", cache_dir: str | None = None, batch_size: int = 256,
                      progress: bool = True) -> dict:
    """Spread the answers to every window of the split (clusters rebuilt with the request's settings: by default
    as many clusters as the answers file has rows) and write `out`; agreement with the split's own labels
    on the windows not answered, when they share label names."""
    from .discovery import ClusterLabeller

    emb, summaries = _index(checkpoint, data, device=device, cache_dir=cache_dir, batch_size=batch_size,
                            progress=progress)
    answers, n_rows = read_answers(answers_path, summaries, Path(data).name)
    y = np.full(len(summaries), "", dtype=object)
    y[list(answers)] = list(answers.values())
    labeller = ClusterLabeller(budget or n_rows, clustering=clustering, propagation=propagation,
                               random_state=seed).fit(emb, y)
    labels = labeller.transduction_
    write_labels(out, summaries, labels, list(answers))
    counts = dict(zip(*np.unique(labels.astype(str), return_counts=True)))
    return {"out": str(out), "answered": len(answers), "n_windows": len(summaries),
            "labels": {str(k): int(v) for k, v in counts.items()},
            "agreement": agreement(summaries, labels, set(answers))}


def agreement(summaries: list[dict], labels: np.ndarray, answered: set[int]) -> dict | None:
    """Propagated labels scored against the split's own labels on the windows not answered, at the level (L1
    or L2) that shares the most label names with the answers; None when none is shared."""
    from .protocols import scored

    given = {str(labels[i]) for i in answered}
    best = None
    for level in ("l1", "l2"):
        truth = np.asarray([s[f"label_{level}"] for s in summaries], dtype=object)
        shared = len(given & set(truth))
        if shared and len(set(truth)) > 1 and (best is None or shared > best[1]):
            best = (level, shared, truth)
    rest = np.asarray([i for i in range(len(summaries)) if i not in answered], dtype=np.int64)
    if best is None or len(rest) == 0:
        return None
    level, shared, truth = best
    days = np.asarray([s["start"][:10] for s in summaries], dtype=object)
    return {"level": level, "labels_shared": shared, "n_windows": int(len(rest)),
            **scored(truth[rest], labels[rest], days[rest])}
