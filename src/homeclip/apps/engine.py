"""The search engine behind the web app: every model of a run loaded once, each with the search index of the
served windows (`evaluation.search.cached_index`, the same on-disk cache as `homeclip search`), so a query
costs one text embedding and one matrix-vector product.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..evaluation.search import SearchIndex, cached_index, file_digest
from ..evaluation.search_filters import TimeFilter, summary_minutes
from .catalog import RunCatalog

log = logging.getLogger(__name__)
MAX_K = 200


@dataclass
class ModelEntry:
    """One servable model: its name, the model (anything with embed_texts), its index and a description."""

    name: str
    model: object
    index: SearchIndex
    info: dict


class SearchEngine:
    """Models loaded once and their indices over the same windows; `search` ranks them for a text."""

    def __init__(self, entries: list[ModelEntry], sources: list[str] | None = None):
        if not entries:
            raise UserError("no model to search with")
        sizes = {len(e.index.summaries) for e in entries}
        if len(sizes) != 1:
            raise UserError(f"the models index different numbers of windows ({sorted(sizes)})")
        self.entries = {e.name: e for e in entries}
        self.default = entries[0].name
        self.sources = list(sources or [])
        self.summaries = entries[0].index.summaries
        self.start_min, self.end_min = summary_minutes(self.summaries)
        self.days = sorted({s["start"][:10] for s in self.summaries} | {s["end"][:10] for s in self.summaries})
        self._lock = threading.Lock()         # one query embedding at a time: the CPU has few cores to share

    @classmethod
    def load(cls, catalog: RunCatalog, *, device: str = "cpu", cache_dir: str | Path | None = None,
             batch_size: int = 256, text_encoder=None, progress: bool = True) -> "SearchEngine":
        """Load every model of the catalog and the index of the served windows (built once, then cached)."""
        from ..training.checkpoint import load_model

        entries, shared_text = [], text_encoder
        for name, checkpoint in catalog.models.items():
            t0 = time.perf_counter()
            model = load_model(checkpoint, device=device)
            # Queries are free text: keep them out of the caption-embedding cache on disk (a shard write per new
            # query, and its compaction, would be paid by the person waiting).
            model.config = {**model.config, "text_cache_dir": None}
            if shared_text is not None and shared_text.model_used == model.meta.get("text_encoder", {}).get("used"):
                model.set_text_encoder(shared_text)
            shared_text = model.text_encoder              # loads the frozen text model now, not at the first query
            digest = file_digest(checkpoint)
            parts = [(split, cached_index(lambda: model, checkpoint, split, cache_dir=cache_dir,
                                          batch_size=batch_size, progress=progress, checkpoint_digest=digest)[0])
                     for split in catalog.data]
            model.embed_texts(["warm-up"])                # first-call costs (allocations, lazy init) paid now
            info = _model_info(name, checkpoint, model, time.perf_counter() - t0)
            entries.append(ModelEntry(name, model, _concatenate(parts), info))
        return cls(entries, [str(p) for p in catalog.data])

    def search(self, text: str, *, model: str | None = None, k: int = 10,
               time_filter: TimeFilter = TimeFilter()) -> dict:
        """The top-k windows for a free text (among the filter's windows) with timings in milliseconds."""
        text = (text or "").strip()
        if not text:
            raise UserError("give a query text (q)")
        if not 1 <= k <= MAX_K:
            raise UserError(f"k must be between 1 and {MAX_K}, got {k}")
        entry = self.entry(model)
        t0 = time.perf_counter()
        with self._lock:
            query_emb = np.asarray(entry.model.embed_texts([text]), dtype=np.float32)[0]
        t1 = time.perf_counter()
        keep = time_filter.keep(self.start_min, self.end_min) if time_filter.active else None
        hits = entry.index.query(query_emb, k, keep)
        t2 = time.perf_counter()
        return {"query": text, "model": entry.name, "k": k, "filters": time_filter.to_dict(),
                "n_windows": len(self.summaries),
                "n_matching": len(self.summaries) if keep is None else int(keep.sum()),
                "hits": hits, "timings_ms": {"embed_query": 1e3 * (t1 - t0), "rank": 1e3 * (t2 - t1),
                                             "total": 1e3 * (t2 - t0)}}

    def entry(self, name: str | None) -> ModelEntry:
        """The named model (the first one when None or empty); UserError naming the choices otherwise."""
        if not name:
            return self.entries[self.default]
        if name not in self.entries:
            raise UserError(f"unknown model {name!r}; choose from {sorted(self.entries)}")
        return self.entries[name]

    def describe(self) -> dict:
        """Models, window count, days and sources (the /api/models answer)."""
        return {"models": [e.info for e in self.entries.values()], "default_model": self.default,
                "n_windows": len(self.summaries), "days": self.days, "sources": self.sources}


def _concatenate(parts: list[tuple[Path, SearchIndex]]) -> SearchIndex:
    """One index over several splits; each summary says which split file it came from."""
    if len(parts) == 1:
        return parts[0][1]
    summaries = [{**s, "source": Path(split).name} for split, index in parts for s in index.summaries]
    return SearchIndex(np.concatenate([index.embeddings for _, index in parts]), summaries)


def _model_info(name: str, checkpoint: Path, model, load_s: float) -> dict:
    meta = model.meta
    backbone = meta.get("backbone_info") or {}
    return {"name": name, "checkpoint": str(checkpoint), "encoder": meta.get("encoder"),
            "backbone": backbone.get("used") or "none (trained end to end)",
            "time_of_day": "time_of_day" in (meta.get("encoder_config") or {}).get("extra_channels", [])
            or meta.get("encoder") == "transformer",
            "text_encoder": (meta.get("text_encoder") or {}).get("used"), "load_s": round(load_s, 2)}
