"""Vocabularies of the categorical event fields. PAD=0, UNK=1.

Home-specific fields (sensor, room, state, ...) are built on the train split only. The semantic fields
(room_type, kind, state_sign) have a FIXED token list, the taxonomy's order after PAD and UNK, whatever the data
holds: their ids mean the same thing in every home and every dataset."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..io import atomic_write_json, read_json
from .semantic import SEMANTIC_CATEGORIES
from .windows import CATEGORICAL_FIELDS, WindowSet

PAD, UNK = 0, 1
SPECIALS = ("<pad>", "<unk>")


@dataclass
class Vocab:
    """field -> ordered tokens; the id of a token is its index (0 and 1 are PAD and UNK)."""

    tokens: dict[str, list[str]]

    @property
    def sizes(self) -> dict[str, int]:
        """Vocabulary size per field (including PAD and UNK): the fixed normalisation constants of encoders."""
        return {k: len(v) for k, v in self.tokens.items()}

    def sizes_of(self, fields: tuple[str, ...]) -> dict[str, int]:
        """Vocabulary sizes of `fields` only, e.g. `sizes_of(SEED_FIELDS)`: what an encoder reading those fields
        is built with (an encoder given every field would also embed fields it was not designed for)."""
        missing = [f for f in fields if f not in self.tokens]
        if missing:
            raise UserError(f"the vocabulary has no field {', '.join(missing)} (it has {', '.join(self.tokens)}); "
                            "prepare the dataset again with this version of homeclip")
        return {f: len(self.tokens[f]) for f in fields}

    def index(self, field_name: str) -> dict[str, int]:
        """token -> id for one field."""
        return {t: i for i, t in enumerate(self.tokens[field_name])}

    def encode(self, windows: WindowSet) -> tuple[dict[str, np.ndarray], dict[str, int]]:
        """Map a WindowSet's codes to vocabulary ids (int64 [N, T], PAD at padding, UNK for unseen values).

        Returns the ids and, per field, how many real events fell on UNK."""
        ids: dict[str, np.ndarray] = {}
        unk: dict[str, int] = {}
        for name in self.tokens:
            lookup = self.index(name)
            cats = windows.categories[name]
            # Map each raw category once, then index: O(categories + events).
            table = np.array([lookup.get(c, UNK) for c in cats] + [PAD], dtype=np.int64)
            codes = windows.codes[name]
            out = table[np.where(codes < 0, len(cats), codes)]
            ids[name] = out
            unk[name] = int(((out == UNK) & windows.mask).sum())
        return ids, unk

    def to_json(self) -> dict:
        """The JSON form written as `<home>_vocab.json`."""
        return {"schema": "homeclip.vocab/1", "pad_id": PAD, "unk_id": UNK,
                "fields": {k: self.index(k) for k in self.tokens}}

    def save(self, path: str | Path) -> None:
        """Write the vocabulary atomically."""
        atomic_write_json(path, self.to_json())

    @classmethod
    def from_json(cls, obj: dict, *, source: str = "<vocab>") -> "Vocab":
        """Rebuild from `to_json()` output, validating it."""
        if not isinstance(obj, dict) or "fields" not in obj:
            raise UserError("not a homeclip vocabulary (expected an object with 'fields')", path=source)
        tokens: dict[str, list[str]] = {}
        for name, mapping in obj["fields"].items():
            ordered = sorted(mapping.items(), key=lambda kv: kv[1])
            if [i for _, i in ordered] != list(range(len(ordered))) or [t for t, _ in ordered[:2]] != list(SPECIALS):
                raise UserError(f"vocabulary field '{name}' must have ids 0..n-1 with {SPECIALS} first", path=source)
            tokens[name] = [t for t, _ in ordered]
        return cls(tokens)

    @classmethod
    def load(cls, path: str | Path) -> "Vocab":
        """Read a vocabulary file."""
        path = Path(path)
        obj = read_json(path, "vocabulary file")
        return cls.from_json(obj, source=str(path))


def merge_vocabs(vocabs: list[Vocab]) -> Vocab:
    """One vocabulary for several datasets: per field the union of their tokens, sorted after PAD and UNK (what
    `build_vocab` gives on their train splits together); the semantic fields keep their fixed lists."""
    fields = list(vocabs[0].tokens)
    for other in vocabs[1:]:
        if set(other.tokens) != set(fields):
            raise UserError(f"vocabularies with different fields cannot be merged ({', '.join(fields)} vs "
                            f"{', '.join(other.tokens)}); prepare the datasets with the same homeclip version")
    tokens: dict[str, list[str]] = {}
    for name in fields:
        if name in SEMANTIC_CATEGORIES:
            fixed = list(SPECIALS) + SEMANTIC_CATEGORIES[name]
            if any(v.tokens[name] != fixed for v in vocabs):
                raise UserError(f"a vocabulary's '{name}' is not the fixed taxonomy list; prepare the dataset "
                                "again with this version of homeclip")
            tokens[name] = fixed
        else:
            tokens[name] = list(SPECIALS) + sorted(set().union(*(v.tokens[name][len(SPECIALS):] for v in vocabs)))
    return Vocab(tokens)


def build_vocab(windows: WindowSet, split: str = "train", fields: tuple[str, ...] = CATEGORICAL_FIELDS) -> Vocab:
    """Build the vocabulary from the real events of one split only (never from val/test); the semantic fields
    get their fixed taxonomy token lists."""
    rows = windows.split == split
    tokens: dict[str, list[str]] = {}
    for name in fields:
        if name in SEMANTIC_CATEGORIES:
            tokens[name] = list(SPECIALS) + SEMANTIC_CATEGORIES[name]
            continue
        codes = windows.codes[name][rows]
        used = np.unique(codes[windows.mask[rows]])
        cats = windows.categories[name]
        tokens[name] = list(SPECIALS) + sorted(cats[c] for c in used if c >= 0)
    return Vocab(tokens)
