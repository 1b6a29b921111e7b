"""Free-text search over windows with a trained checkpoint.

Window embeddings and the short window summaries shown to the user are cached on disk, keyed by the SHA-256 of
the checkpoint file and of the split file; query embeddings are cached per checkpoint and text. A new query
loads the model only to embed its text; a repeated one loads nothing but the caches.
"""
from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.windows import WindowSet
from ..errors import UserError
from ..io import atomic_path, atomic_write_json, file_sha256
from ..paths import CACHE_ENV
from ..terminal import printable
from .methodology import check_homes, is_semantic
CAPTION_STYLE_ORDER = ("long_natural", "short_natural", "long_structured", "short_structured")


def default_cache_dir() -> Path:
    """$HOMECLIP_CACHE_DIR, else ~/.cache/homeclip."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "homeclip")


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (first 16 hex digits)."""
    try:
        return file_sha256(path)[:16]
    except FileNotFoundError:
        raise UserError("file not found", path=str(path)) from None


def display_caption(captions: dict[str, list[str]]) -> str:
    """The caption shown for a window: the first natural-language one when there is one."""
    for style in CAPTION_STYLE_ORDER + tuple(sorted(captions)):
        if captions.get(style):
            return captions[style][0]
    return ""


def window_summary(windows: WindowSet, i: int, max_rooms: int = 3) -> dict:
    """What a person needs to recognise window i: time range, busiest rooms, a caption, its labels."""
    rooms = Counter(windows.strings("room", i)) if "room" in windows.codes else Counter()
    return {
        "index": int(i),
        "start": str(np.datetime_as_string(windows.start[i], unit="s")),
        "end": str(np.datetime_as_string(windows.end[i], unit="s")),
        "rooms": [r for r, _ in rooms.most_common(max_rooms)],
        "caption": display_caption(windows.captions[i]) if windows.captions else "",
        "label_l1": str(windows.label_l1[i]),
        "label_l2": str(windows.label_l2[i]),
    }


def top_windows(window_emb: np.ndarray, query_emb: np.ndarray, k: int,
                keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosine scores of the k windows most similar to one unit query vector (best first); with
    `keep` (bool [N]) only among the windows it marks."""
    scores = np.asarray(window_emb, dtype=np.float32) @ np.asarray(query_emb, dtype=np.float32).reshape(-1)
    candidates = np.arange(len(scores)) if keep is None else np.flatnonzero(keep)
    k = max(0, min(int(k), len(candidates)))
    idx = candidates[np.argsort(-scores[candidates], kind="stable")[:k]]
    return idx, scores[idx]


@dataclass
class SearchIndex:
    """Unit window embeddings plus their summaries; `query` ranks them for a text."""

    embeddings: np.ndarray        # [N, D]
    summaries: list[dict]         # [N] window_summary dicts

    def query(self, query_emb: np.ndarray, k: int = 10, keep: np.ndarray | None = None) -> list[dict]:
        """The top-k windows for one unit query embedding (among `keep` when given), each summary with rank
        and score."""
        idx, scores = top_windows(self.embeddings, query_emb, k, keep)
        return [{"rank": r + 1, "score": float(s), **self.summaries[i]} for r, (i, s) in enumerate(zip(idx, scores))]


def build_index(model, windows: WindowSet, *, batch_size: int = 256, progress: bool = True) -> SearchIndex:
    """Embed every window with the model and summarise it."""
    emb = np.asarray(model.embed_windows(windows, batch_size=batch_size, progress=progress), dtype=np.float32)
    return SearchIndex(emb, [window_summary(windows, i) for i in range(len(windows))])


def cached_index(model_fn: Callable[[], object], checkpoint: str | Path, data: str | Path, *,
                 cache_dir: str | Path | None = None, batch_size: int = 256, progress: bool = True,
                 windows: WindowSet | None = None, checkpoint_digest: str | None = None,
                 data_digest: str | None = None) -> tuple[SearchIndex, bool]:
    """The search index of a split for a checkpoint, from the on-disk cache when present; (index, cache_hit).

    On a miss the model comes from `model_fn()` (loaded only then) and the split from `data` (or `windows`,
    when the caller already holds it)."""
    folder = _cache_folder(cache_dir)
    key = f"{checkpoint_digest or file_digest(checkpoint)}-{data_digest or file_digest(data)}"
    emb_path, info_path = folder / f"{key}.npy", folder / f"{key}.json"
    if emb_path.exists() and info_path.exists():
        return SearchIndex(np.load(emb_path), json.loads(info_path.read_text(encoding="utf-8"))), True
    if windows is None:
        from ..data.store import load_split

        windows = load_split(data)
    index = build_index(model_fn(), windows, batch_size=batch_size, progress=progress)
    with atomic_path(emb_path) as tmp:
        np.save(tmp, index.embeddings)
    atomic_write_json(info_path, index.summaries, indent=None)
    return index, False


def cached_query_embeddings(model_fn: Callable[[], object], checkpoint: str | Path, queries: Sequence[str], *,
                            cache_dir: str | Path | None = None,
                            checkpoint_digest: str | None = None) -> tuple[np.ndarray, int]:
    """Unit embeddings of query texts through the checkpoint's text side; texts seen before come from disk
    (keyed by checkpoint hash + text), so a repeated query needs no model at all. Returns (embeddings, n_cached)."""
    path = _cache_folder(cache_dir) / f"{checkpoint_digest or file_digest(checkpoint)}-queries.json"
    known: dict[str, list[float]] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    missing = list(dict.fromkeys(q for q in queries if q not in known))
    if missing:
        fresh = np.asarray(model_fn().embed_texts(missing), dtype=np.float32)
        known.update({q: row.tolist() for q, row in zip(missing, fresh)})
        atomic_write_json(path, known, indent=None)
    return np.asarray([known[q] for q in queries], dtype=np.float32), len(queries) - len(missing)


def search(checkpoint: str | Path, data: str | Path, queries: str | Sequence[str], k: int = 10, *,
           cache_dir: str | Path | None = None, batch_size: int = 256, device: str = "cpu",
           progress: bool = True, text_encoder=None, allow_cross_home: bool = False,
           text_backend: str | None = None) -> dict:
    """Rank the windows of a split for each free-text query: {"queries": [{"query", "hits"}], "cache_hit", "timings"}.

    The model is loaded only when something is not cached. `text_encoder`: an already-loaded frozen text
    encoder to reuse (it must be the checkpoint's own). Searching another home's windows than the checkpoint
    was trained on is a UserError unless `allow_cross_home` (or the checkpoint has semantic inputs)."""
    if isinstance(queries, str):
        queries = [queries]
    if not queries or not all(q.strip() for q in queries):
        raise UserError("give at least one non-empty query text")
    if k < 1:
        raise UserError(f"-k must be at least 1, got {k}")
    loaded: list = []
    load_s = 0.0

    def model_fn():
        nonlocal load_s
        if not loaded:
            from ..training.checkpoint import load_model

            t = time.perf_counter()
            loaded.append(load_model(checkpoint, device=device, text_backend=text_backend))
            if text_encoder is not None:
                loaded[0].set_text_encoder(text_encoder)
            _ = loaded[0].text_encoder          # load the frozen text model now, so load_model_s says what it cost
            load_s = time.perf_counter() - t
        return loaded[0]

    t0 = time.perf_counter()
    digest = file_digest(checkpoint)      # both caches are keyed by it: read the checkpoint once
    data_digest = file_digest(data)
    homes, windows = _homes(checkpoint, data, f"{digest}-{data_digest}", cache_dir)
    check_homes(homes["trained_on"], homes["tested_on"], semantic=homes["semantic"],
                allow_cross_home=allow_cross_home, what="search")
    index, hit = cached_index(model_fn, checkpoint, data, cache_dir=cache_dir, batch_size=batch_size,
                              progress=progress, checkpoint_digest=digest, data_digest=data_digest,
                              windows=windows)
    t1 = time.perf_counter()
    query_emb, n_cached = cached_query_embeddings(model_fn, checkpoint, list(queries), cache_dir=cache_dir,
                                                  checkpoint_digest=digest)
    results = [{"query": q, "hits": index.query(e, k)} for q, e in zip(queries, query_emb)]
    t2 = time.perf_counter()
    return {"checkpoint": str(checkpoint), "data": str(data), "n_windows": len(index.summaries), "cache_hit": hit,
            "homes": homes,
            "queries_cached": n_cached, "model_loaded": bool(loaded), "queries": results,
            "timings": {"load_model_s": load_s, "index_s": t1 - t0, "query_s": t2 - t1, "total_s": t2 - t0}}


def format_hits(result: dict) -> str:
    """Plain-text rendering of `search` output for the terminal."""
    lines = []
    for q in result["queries"]:
        lines.append(f'query: "{q["query"]}"  ({result["n_windows"]} windows)')
        for h in q["hits"]:
            rooms = ", ".join(h["rooms"]) or "-"
            lines.append(f'{h["rank"]:>3}. {h["score"]:.3f}  {h["start"]} .. {h["end"][11:]}  [{rooms}]  '
                         f'({h["label_l1"]})  {h["caption"]}')
    t = result["timings"]
    lines.append(f'window index {"from cache" if result["cache_hit"] else "built"}, '
                 f'{result["queries_cached"]}/{len(result["queries"])} queries from cache; '
                 f'total {t["total_s"]:.2f}s (model load {t["load_model_s"]:.2f}s)')
    return "\n".join(printable(line) for line in lines)     # rooms, labels and captions come from the log


def _homes(checkpoint: str | Path, data: str | Path, key: str,
           cache_dir: str | Path | None) -> tuple[dict, WindowSet | None]:
    """The checkpoint's training home, the split's home and whether the inputs are semantic (cached by key, so a
    repeated search reads neither file again); also the split when it had to be read."""
    path = _cache_folder(cache_dir) / f"{key}-homes.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8")), None
    from ..data.store import load_split
    from ..training.checkpoint import load_checkpoint

    ckpt = load_checkpoint(checkpoint)
    windows = load_split(data)
    homes = {"trained_on": (ckpt.get("meta") or {}).get("home") or None, "tested_on": windows.home or None,
             "semantic": is_semantic(ckpt.get("config"))}
    atomic_write_json(path, homes, indent=None)
    return homes, windows


def _cache_folder(cache_dir: str | Path | None) -> Path:
    return Path(cache_dir or default_cache_dir()) / "search"
