"""Frozen-feature cache: backbone features of a dataset computed once, then memory-mapped by every later run.

The key hashes the window contents, the vocabulary, the backbone identity (model id, config hash, family,
dtype, pooling version) and the channel configuration, so a change to any of them means a new entry. Extraction
writes fixed-size chunks atomically into `<key>.partial/`; an interrupted run resumes at the first missing
chunk. The finished array is written atomically as `<key>.npy`, then `<key>.json` (the done-marker) with its key,
shape, dtype and the SHA-256 of the array file. A read checks all four; an entry that does not match (damaged,
truncated, swapped, or from an older homeclip) is recomputed with a warning, so wrong features are never used.
"""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..io import atomic_path, atomic_write_json, file_sha256

if TYPE_CHECKING:
    from ..data.batches import WindowDataset
    from .chronos import ChronosEncoder

CHUNK_WINDOWS = 1024
DTYPE = "float32"
log = logging.getLogger(__name__)


def feature_cache_key(encoder: "ChronosEncoder", dataset: "WindowDataset") -> str:
    """The cache key of `dataset`'s features under `encoder`'s frozen backbone and channel configuration."""
    parts = {"windows": dataset.windows.content_hash(),
             "vocab": hashlib.sha256(json.dumps(dataset.vocab.tokens, sort_keys=True).encode()).hexdigest(),
             "encoder": encoder.feature_identity()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def feature_cache_path(encoder: "ChronosEncoder", dataset: "WindowDataset", cache_dir: str | Path) -> Path:
    """Where the finished feature array of `dataset` lives (it may not exist yet)."""
    return Path(cache_dir) / f"{feature_cache_key(encoder, dataset)}.npy"


def cached_features(encoder: "ChronosEncoder", dataset: "WindowDataset", cache_dir: str | Path, *,
                    batch_size: int = 64, progress: bool = True,
                    chunk_windows: int = CHUNK_WINDOWS) -> np.ndarray:
    """Features [N, F] of every window of `dataset` (read-only memmap), extracted once and cached on disk."""
    final = feature_cache_path(encoder, dataset, cache_dir)
    shape = (len(dataset), encoder.feature_dim)
    if final.exists():
        problem = _entry_problem(final, final.stem, shape)
        if problem is None:
            log.info("feature cache hit: %s", final)
            return np.load(final, mmap_mode="r")
        log.warning("feature cache entry %s is not usable (%s): recomputing it", final, problem)
    partial = final.with_name(f"{final.stem}.partial-c{chunk_windows}")
    partial.mkdir(parents=True, exist_ok=True)
    n = len(dataset)
    starts = list(range(0, n, chunk_windows))
    todo = [s for s in starts if not _chunk_ok(partial / f"{s:010d}.npy", (min(chunk_windows, n - s), shape[1]))]
    if len(todo) < len(starts):
        log.info("resuming feature extraction: %d of %d chunks already done", len(starts) - len(todo), len(starts))
    from tqdm.auto import tqdm

    with tqdm(total=n, initial=n - sum(min(chunk_windows, n - s) for s in todo), unit="win",
              desc="frozen features", disable=not progress) as bar:
        for start in todo:
            chunk = _extract(encoder, dataset, range(start, min(start + chunk_windows, n)), batch_size, bar)
            with atomic_path(partial / f"{start:010d}.npy") as tmp:
                np.save(tmp, chunk)
    with atomic_path(final) as tmp:
        # Assembled through a memmap: one chunk in memory at a time, whatever the dataset size.
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=DTYPE, shape=shape)
        for s in starts:
            out[s:s + chunk_windows] = np.load(partial / f"{s:010d}.npy")
        if n:
            out.flush()
        del out
    atomic_write_json(final.with_suffix(".json"), {
        "key": final.stem, "shape": list(shape), "dtype": DTYPE, "sha256": file_sha256(final),
        "n_windows": n, "feature_dim": encoder.feature_dim, "windows_hash": dataset.windows.content_hash(),
        "backbone": encoder.backbone_info(), "identity": encoder.feature_identity()})
    shutil.rmtree(partial, ignore_errors=True)
    return np.load(final, mmap_mode="r")


def _chunk_ok(path: Path, shape: tuple[int, int]) -> bool:
    """Whether a finished chunk of an interrupted extraction has the expected shape and dtype (else redone)."""
    if not path.exists():
        return False
    try:
        chunk = np.load(path, mmap_mode="r")
    except (OSError, ValueError, EOFError) as err:
        log.warning("feature cache chunk %s is unreadable (%s): recomputing it", path, err)
        return False
    if tuple(chunk.shape) != shape or chunk.dtype != np.dtype(DTYPE):
        log.warning("feature cache chunk %s has shape %s %s, expected %s %s: recomputing it", path,
                    tuple(chunk.shape), chunk.dtype, shape, DTYPE)
        return False
    return True


def _entry_problem(final: Path, key: str, shape: tuple[int, int]) -> str | None:
    """Why a finished cache entry cannot be used (None when its record, shape, dtype and digest all match)."""
    try:
        record = json.loads(final.with_suffix(".json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "no record of its key and digest"
    except (OSError, ValueError) as err:
        return f"unreadable record ({err})"
    if not isinstance(record, dict) or record.get("key") != key or "sha256" not in record:
        return "its record is for another key or has no digest"
    try:
        array = np.load(final, mmap_mode="r")
    except (OSError, ValueError, EOFError) as err:
        return f"unreadable array ({err})"
    if tuple(array.shape) != shape or array.dtype != np.dtype(DTYPE):
        return f"shape {tuple(array.shape)} {array.dtype}, expected {shape} {DTYPE}"
    del array
    if file_sha256(final) != record["sha256"]:
        return "its content does not match the stored digest"
    return None


def _extract(encoder: "ChronosEncoder", dataset: "WindowDataset", rows: range, batch_size: int, bar) -> np.ndarray:
    parts = []
    for i in range(rows.start, rows.stop, batch_size):
        batch = dataset.get_batch(np.arange(i, min(i + batch_size, rows.stop)))
        feats = encoder.extract_features(batch["categorical_features"], batch["coordinates"],
                                         batch["time_deltas"], batch["mask"], batch["time_of_day"])
        parts.append(feats.numpy().astype(np.float32, copy=False))
        bar.update(len(feats))
    return np.concatenate(parts) if parts else np.zeros((0, encoder.feature_dim), dtype=np.float32)
