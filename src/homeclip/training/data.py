"""What a training run reads: the prepared train/val splits of one or several datasets (homes), the vocabulary,
and the table of caption texts the windows offer.

Several datasets (`train_data_path` / `val_data_path` given as lists) are joined into one WindowSet per role
with `concat_windows`, each window keeping its home (`WindowSet.homes`). The vocabulary is `vocab_path`: one
file, or a list with one vocabulary per training dataset, merged (`merge_vocabs`). Semantic models read only
fields with fixed vocabularies, so any home's windows fit them; original models trained on several homes share
one sensor vocabulary across homes, which works but does not transfer (a warning says so).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..data.batches import select_captions
from ..data.vocab import Vocab, merge_vocabs
from ..data.windows import WindowSet, concat_windows
from ..errors import UserError
from ..io import file_sha256
from .config import TrainConfig

log = logging.getLogger(__name__)

# role -> (config key, command-line flag)
ROLES = {"train": ("train_data_path", "--train_data"), "val": ("val_data_path", "--val_data"),
         "vocab": ("vocab_path", "--vocab")}


@dataclass
class TrainData:
    """What a run trains and validates on."""

    train: WindowSet
    val: WindowSet | None
    vocab: Vocab
    files: dict = field(default_factory=dict)   # role -> {"path", "sha256"[, "home"]} (a list of them for a list)


def data_label(cfg: TrainConfig, key: str) -> str:
    """A data key's value as one string for messages (several paths joined by ', ')."""
    return ", ".join(cfg.data_paths(key))


def validation_is_test_split(val: WindowSet | None) -> bool:
    """True when the validation windows are a test split (the original config validates on milan_test.json)."""
    return val is not None and len(val) > 0 and {str(s) for s in val.split} == {"test"}


def load_training_data(cfg: TrainConfig) -> TrainData:
    """Read the processed train/val splits (one dataset or several) and the vocabulary the config names."""
    from ..data.store import load_split

    paths = {role: cfg.data_paths(key) for role, (key, _) in ROLES.items()}
    records: dict[str, list[dict]] = {}
    for role, (key, flag) in ROLES.items():
        for path in paths[role]:
            if not Path(path).is_file():
                raise UserError(f"{role} file not found (set '{key}' or pass {flag})", path=str(path))
        records[role] = [{"path": str(p), "sha256": file_sha256(p)} for p in paths[role]]
    sets: dict[str, list[WindowSet]] = {role: [load_split(p) for p in paths[role]] for role in ("train", "val")}
    for role, parts in sets.items():
        for record, ws in zip(records[role], parts):
            record.update(home=ws.home, n_windows=len(ws))
    vocabs = [Vocab.load(p) for p in paths["vocab"]]
    vocab = vocabs[0] if len(vocabs) == 1 else merge_vocabs(vocabs)
    train = _joined(sets["train"])
    val = _joined(sets["val"]) if sets["val"] else None
    homes = list(dict.fromkeys(str(h) for h in train.homes))
    if len(homes) > 1 and cfg.event_fields == "original":
        log.warning("training an original-fields model on several homes (%s): their sensor ids share one "
                    "vocabulary, so the model is tied to these homes; set event_fields to 'semantic' for a model "
                    "that applies to a new home", ", ".join(homes))
    # A key given as one string keeps its one-record form; a list of paths gets a list of records.
    files = {role: recs if isinstance(getattr(cfg, ROLES[role][0]), list) else recs[0]
             for role, recs in records.items() if recs}
    return TrainData(train, val, vocab, files)


def _joined(parts: list[WindowSet]) -> WindowSet:
    return parts[0] if len(parts) == 1 else concat_windows(parts)


def windows_per_home(ws: WindowSet | None) -> dict[str, int]:
    """Number of windows of each home, in order of appearance."""
    if ws is None:
        return {}
    counts: dict[str, int] = {}
    for home in ws.homes:
        counts[str(home)] = counts.get(str(home), 0) + 1
    return counts


@dataclass
class Captions:
    """The distinct caption texts of a run and, per window, the ids of the captions it offers."""

    texts: list[str]
    ids: list[torch.Tensor]      # per WindowSet: LongTensor [N, max_captions], -1 where a window has fewer
    counts: list[torch.Tensor]   # per WindowSet: LongTensor [N] captions offered (>= 1 after filtering)


def build_captions(sets: list[WindowSet], caption_types: str, max_captions: int) -> Captions:
    """Index the captions of several WindowSets into one table of distinct texts."""
    table: dict[str, int] = {}
    ids, counts = [], []
    for ws in sets:
        m = torch.full((len(ws), max_captions), -1, dtype=torch.long)
        c = torch.zeros(len(ws), dtype=torch.long)
        for i, caps in enumerate(ws.captions or [{}] * len(ws)):
            chosen = select_captions(caps, caption_types, max_captions)
            for j, text in enumerate(chosen):
                m[i, j] = table.setdefault(text, len(table))
            c[i] = len(chosen)
        ids.append(m)
        counts.append(c)
    return Captions(list(table), ids, counts)


def with_captions(ws: WindowSet, caption_types: str, max_captions: int) -> tuple[WindowSet, int]:
    """The windows that offer at least one caption, and how many were skipped."""
    keep = [i for i, caps in enumerate(ws.captions or [{}] * len(ws))
            if select_captions(caps, caption_types, max_captions)]
    skipped = len(ws) - len(keep)
    return (ws if not skipped else ws.subset(keep)), skipped
