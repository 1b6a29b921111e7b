"""Per-window outputs of an evaluation, to build on: `predictions.parquet` (one row per test window: where and
when it is, its true labels, every method's prediction and the scores of the scored ones) and `embeddings.npy`
(the test windows' unit embeddings, row i = window i) with `embeddings_index.json`. Columns in
docs/evaluation.md."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.windows import WindowSet

PREDICTIONS_FILE = "predictions.parquet"
EMBEDDINGS_FILE = "embeddings.npy"
EMBEDDINGS_INDEX_FILE = "embeddings_index.json"
PREDICTIONS_SCHEMA = "homeclip.predictions/1"


def prediction_columns(test: WindowSet, predictions: dict[str, dict[str, np.ndarray]],
                       scores: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Column name -> values: the window's identity, its true labels, then per level each method's prediction
    (`<method>_<level>`) and, where the method has one, its score (`<method>_<level>_score`)."""
    n = len(test)
    columns: dict[str, np.ndarray] = {
        "window_id": np.arange(n, dtype=np.int64),          # the window's row in the test split file
        "home": np.full(n, test.home, dtype=object),
        "day": np.asarray(test.day, dtype="datetime64[D]"),
        "start": np.asarray(test.start, dtype="datetime64[us]"),
        "end": np.asarray(test.end, dtype="datetime64[us]"),
        "n_events": test.mask.sum(axis=1).astype(np.int32),
        "true_l1": np.asarray([str(x) for x in test.label_l1], dtype=object),
        "true_l2": np.asarray([str(x) for x in test.label_l2], dtype=object),
    }
    for level, by_method in predictions.items():
        for method, values in by_method.items():
            columns[f"{method}_{level}"] = np.asarray([str(v) for v in values], dtype=object)
            if method in scores.get(level, {}):
                columns[f"{method}_{level}_score"] = np.asarray(scores[level][method], dtype=np.float32)
    return columns


def write_predictions(path: Path, columns: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write the columns as one Parquet table (pyarrow), with `metadata` (checkpoint, test file) in its schema."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({name: pa.array(values.tolist() if values.dtype == object else values)
                      for name, values in columns.items()})
    table = table.replace_schema_metadata({"homeclip": json.dumps({"schema": PREDICTIONS_SCHEMA, **metadata})})
    pq.write_table(table, path)


def write_embeddings(folder: Path, embeddings: np.ndarray, index: dict) -> None:
    """embeddings.npy ([N, D] float32 unit rows, row i = window_id i) and its index (what the rows are)."""
    from ..io import atomic_write_json

    np.save(folder / EMBEDDINGS_FILE, np.asarray(embeddings, dtype=np.float32))
    atomic_write_json(folder / EMBEDDINGS_INDEX_FILE, {
        "file": EMBEDDINGS_FILE, "rows": int(len(embeddings)), "dim": int(embeddings.shape[1]) if embeddings.ndim == 2 else 0,
        "dtype": "float32", "normalised": "unit L2 rows (cosine similarity = dot product)",
        "row_order": f"row i is window_id i of {PREDICTIONS_FILE} (the window's row in the test split file)",
        **index})
