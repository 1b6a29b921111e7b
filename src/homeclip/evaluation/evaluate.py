"""Evaluate any checkpoint: zero-shot, linear probe, k-NN, retrieval and baselines on one split, then report.

`evaluate_model` works on an in-memory model (anything with embed_windows / embed_texts / text_encoder / meta /
config, e.g. `TrainedModel`) and returns the results dict, figures, per-window predictions and the test
embeddings; `evaluate_checkpoint` loads files, calls it and writes evaluation_results.json, report.md,
report.html, figures/, predictions.parquet and embeddings.npy atomically. Before anything is computed the
methodology guards run (methodology.py: cross-home is an error without --allow-cross-home; a test file that
is the run's validation file is flagged). The results schema is documented in docs/evaluation.md.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..data.batches import select_captions
from ..data.homes import Home
from ..data.windows import WindowSet
from ..errors import UserError
from ..paths import cache_dir
from . import baselines, metrics, zeroshot
from .bootstrap import day_bootstrap_classification
from .methodology import assess, methodology_warnings
from .predictions import prediction_columns
from .probe import ProbeConfig, knn_classify, linear_probe_scored
from .residents import check_scoring, resident_headline, resident_scores, with_resident_descriptions
from .retrieval import caption_gallery, caption_retrieval
from .search import file_digest, top_windows, window_summary
from .summary import INTERVAL_METRICS, LEVELS, METHODS, OPTIONAL_METHODS, headline, run_label, text_encoder_used

log = logging.getLogger(__name__)

SCHEMA = "homeclip.evaluation/2"
# Keys every evaluation_results.json carries (docs/evaluation.md describes each); per level and method too.
REQUIRED_KEYS = ("schema", "created", "headline", "sources", "methodology", "model", "data", "label_descriptions",
                 "levels", "retrieval", "retrieval_examples", "baselines", "warnings", "config", "timings")
MODEL_KEYS = ("label", "encoder_kind", "backbone", "text_encoder_training", "text_encoder_evaluation", "fallbacks")
LEVEL_KEYS = ("classes", "train_counts", "test_counts", "classes_not_in_test", "classes_not_in_train", "methods",
              "label_precision", "zeroshot_knn_k")
METHOD_KEYS = ("kind", "title", "n", "accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "classes_scored",
               "classes_not_scored", "per_class", "confusion", "intervals")
# Methods whose predictions carry a score in predictions.parquet (cosine similarity or probability).
SCORED_METHODS = ("zeroshot", "linear_probe", "caption_only", "bag_of_sensors")
STATISTICS_EXPLAINED = ("The statistics backbone is no learned model: per input channel it computes the mean, "
                        "standard deviation, maximum, minimum and a few bin means of the window's values, and the "
                        "MLP head is trained on those.")
FREE_TEXT_QUERIES = ("someone cooking late at night", "nobody is at home", "a person asleep in bed",
                     "taking a shower in the morning")


@dataclass(frozen=True)
class EvalConfig:
    """Evaluation settings (all fixed in advance; nothing is tuned on the test split)."""

    batch_size: int = 256
    feature_cache_dir: str | None = None  # frozen-backbone feature cache (Chronos encoders) and caption-embedding
    text_cache_dir: str | None = None     # cache; None: paths.cache_dir's default, the one training uses by
                                          # default. Never the checkpoint's config: it does not decide writes.
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    zeroshot_knn_k: int = 5              # capped per level at the fewest descriptions any label has
    retrieval_ks: tuple[int, ...] = (1, 5, 10)
    label_precision_ks: tuple[int, ...] = (5, 10, 50)
    caption_types: str | None = None     # None: the checkpoint's training caption_types ("all" if unknown)
    text_backend: str | None = None      # None: the checkpoint's training text_backend (auto if unknown)
    tsne_max_points: int = 2000
    seed: int = 0
    free_text_queries: tuple[str, ...] = FREE_TEXT_QUERIES
    label_queries: int = 4               # how many label descriptions become example queries
    examples_per_query: int = 3
    bootstrap_resamples: int = 1000      # resamples of the test days behind every 95 % interval
    residents: str = "flat"              # multi-resident homes: "flat" (flattened labels) or "per-resident"
    figures: bool = True
    progress: bool = True


@dataclass
class Evaluation:
    """The results dict (what evaluation_results.json holds), the report figures (PNG + SVG), the per-window
    prediction columns (predictions.parquet) and the test windows' unit embeddings."""

    results: dict
    figures: dict = field(default_factory=dict)          # name -> plots.FigureFiles
    predictions: dict[str, np.ndarray] = field(default_factory=dict)
    embeddings: np.ndarray | None = None


def evaluate_model(model, train: WindowSet, test: WindowSet, home: Home, cfg: EvalConfig = EvalConfig(), *,
                   sources: dict | None = None, training_metrics: list[dict] | None = None,
                   allow_cross_home: bool = False, test_sha256: str | None = None) -> Evaluation:
    """Score one model on a train/test split against its baselines (see docs/evaluation.md).

    Cross-home use is a UserError unless `allow_cross_home` (or the model's inputs are semantic);
    `test_sha256` (of the test file) lets the results flag a test split the model was selected on."""
    if len(train) == 0 or len(test) == 0:
        raise UserError(f"need windows in both splits (train: {len(train)}, test: {len(test)})")
    method_record = assess(getattr(model, "meta", None), getattr(model, "config", None), train_home=train.home,
                           test_home=test.home, allow_cross_home=allow_cross_home, test_sha256=test_sha256)
    scored_residents = check_scoring(cfg.residents, train, test)
    home = with_resident_descriptions(home, [train, test])
    timings: dict[str, float] = {}
    t = time.perf_counter()
    log.info("embedding %d train and %d test windows", len(train), len(test))
    train_emb, test_emb = (zeroshot.unit_rows(model.embed_windows(w, batch_size=cfg.batch_size, progress=cfg.progress,
                                                                  cache_dir=cache_dir("features",
                                                                                      cfg.feature_cache_dir)))
                           for w in (train, test))
    timings["embed_windows_s"] = time.perf_counter() - t

    t = time.perf_counter()
    caption_types = cfg.caption_types or (getattr(model, "config", None) or {}).get("caption_types") or "all"
    test_captions = [select_captions(c, caption_types, 10**6) for c in test.captions] if test.captions else \
        [[] for _ in range(len(test))]
    texts, owners = caption_gallery(test_captions)
    log.info("embedding %d distinct test captions", len(texts))
    raw_text = dict(zip(texts, _raw_encode(model, texts, progress=cfg.progress)))
    caption_emb, n_uncaptioned = baselines.caption_embeddings(test_captions, raw_text)
    timings["embed_captions_s"] = time.perf_counter() - t

    t = time.perf_counter()
    bag = baselines.bag_of_sensors_features(train, test)
    inputs = {"train_emb": train_emb, "test_emb": test_emb, "caption_emb": caption_emb, "bag": bag}
    scored = {level: _score_level(level, model, train, test, home, inputs, cfg) for level in LEVELS}
    residents = resident_scores(cfg.residents, scored_residents, train, test, lambda lv, tr, te: _score_level(
        lv, model, tr, te, home, inputs, cfg)["scores"])
    timings["classify_s"] = time.perf_counter() - t

    t = time.perf_counter()
    warnings = [w for level in LEVELS for w in scored[level]["warnings"]]
    retrieval = {"caption_types": caption_types, "windows_without_captions": n_uncaptioned,
                 "duplicates": "distinct caption strings form the text gallery; a string shared by several "
                               "windows is relevant to all of them"}
    if texts:
        text_emb = zeroshot.unit_rows(model.embed_texts(texts))
        retrieval.update(caption_retrieval(test_emb, text_emb, owners, cfg.retrieval_ks, test.day, seed=cfg.seed))
    else:
        warnings.append("the test windows have no captions: caption retrieval and the caption-only baseline "
                        "are not meaningful")
    examples = _retrieval_examples(model, test, test_emb, scored["l1"]["descriptions"]["descriptions"], cfg)
    timings["retrieval_s"] = time.perf_counter() - t

    info = model_info(model)
    results = {
        "schema": SCHEMA,
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "headline": "",
        "sources": dict(sources or {}),
        "methodology": method_record,
        "model": {k: v for k, v in info.items() if k != "warnings"},
        "data": {"home": home.name, "n_train": len(train), "n_test": len(test),
                 "train_home": train.home, "test_home": test.home},
        "label_descriptions": {"source": home.descriptions_source or "not stated by the home layout",
                               **{lv: scored[lv]["descriptions"] for lv in LEVELS}},
        "levels": {lv: scored[lv]["scores"] for lv in LEVELS},
        "residents": residents,
        "retrieval": retrieval,
        "retrieval_examples": examples,
        "baselines": {"bag_of_sensors": bag[2], "caption_only": {"windows_without_captions": n_uncaptioned,
                                                                   "caption_types": caption_types}},
        "warnings": methodology_warnings(method_record) + info["warnings"] + warnings,
        "config": _plain(asdict(cfg)),
        "timings": timings,
    }
    results["headline"] = headline(results) + resident_headline(residents)
    predictions = {lv: scored[lv]["predictions"] for lv in LEVELS}
    columns = prediction_columns(test, predictions, {lv: scored[lv]["scores_of_predictions"] for lv in LEVELS})
    figures = {}
    if cfg.figures:
        from .figures import evaluation_figures

        t = time.perf_counter()
        figures = evaluation_figures(results, test_emb, {lv: _labels(test, lv) for lv in LEVELS}, predictions,
                                     training_metrics, cfg.tsne_max_points, cfg.seed)
        results["timings"]["figures_s"] = time.perf_counter() - t
        results["figures"] = {name: fig.caption for name, fig in figures.items()}
    return Evaluation(results=results, figures=figures, predictions=columns, embeddings=test_emb)


def _score_level(level: str, model, train: WindowSet, test: WindowSet, home: Home, inputs: dict,
                 cfg: EvalConfig) -> dict:
    """Every method and baseline at one label level: scores, predictions, descriptions used, warnings."""
    y_train, y_test = _labels(train, level), _labels(test, level)
    classes = sorted(set(y_train) | set(y_test))
    desc, fallback = zeroshot.label_descriptions(classes, home.descriptions)
    warnings = [f"{level.upper()}: {len(fallback)} label(s) had no description and used their humanised name "
                f"instead: {', '.join(fallback)}"] if fallback else []
    protos = zeroshot.build_prototypes(desc, lambda x: model.embed_texts(list(x)))
    raw_protos = zeroshot.build_prototypes(desc, lambda x: _raw_encode(model, list(x)))
    # A label with few descriptions must not be outvoted by count alone: k <= its number of descriptions.
    knn_k = min(cfg.zeroshot_knn_k, min(len(texts) for texts in desc.values()))
    train_emb, test_emb = inputs["train_emb"], inputs["test_emb"]
    bag_train, bag_test, _ = inputs["bag"]
    scored = {
        "zeroshot": zeroshot.predict_nearest_scored(test_emb, protos),
        "linear_probe": linear_probe_scored(train_emb, y_train, test_emb, cfg.probe),
        "caption_only": zeroshot.predict_nearest_scored(inputs["caption_emb"], raw_protos),
        "bag_of_sensors": linear_probe_scored(bag_train, y_train, bag_test, cfg.probe),
    }
    preds = {
        "zeroshot": scored["zeroshot"][0],
        "zeroshot_knn": zeroshot.predict_knn_vote(test_emb, protos, knn_k),
        "linear_probe": scored["linear_probe"][0],
        "knn": knn_classify(train_emb, y_train, test_emb, cfg.probe),
        "caption_only": scored["caption_only"][0],
        "bag_of_sensors": scored["bag_of_sensors"][0],
        "majority": baselines.majority_class(y_train, len(test)),
    }
    days = np.asarray(test.day).astype(str)
    classifier = getattr(model, "classifier", None)
    if classifier is not None and level in classifier.classes:
        preds["supervised"] = classifier.predict(test_emb, level)
    scores = {
        "classes": classes,
        "train_counts": _counts(y_train),
        "test_counts": _counts(y_test),
        "classes_not_in_test": sorted(set(classes) - set(y_test)),
        "classes_not_in_train": sorted(set(classes) - set(y_train)),
        "methods": {m: {"kind": kind, "title": title, **metrics.classification_metrics(y_test, preds[m], classes),
                        "intervals": day_bootstrap_classification(y_test, preds[m], days, metrics=INTERVAL_METRICS,
                                                                  n_boot=cfg.bootstrap_resamples, seed=cfg.seed)}
                    for m, (kind, title) in {**METHODS, **OPTIONAL_METHODS}.items() if m in preds},
        "label_precision": _label_precision(test_emb, protos, y_test, cfg.label_precision_ks),
        "zeroshot_knn_k": knn_k,
    }
    return {"scores": scores, "predictions": preds, "warnings": warnings,
            "scores_of_predictions": {m: scored[m][1] for m in SCORED_METHODS},
            "descriptions": {"descriptions": desc, "fallback_labels": fallback}}


def missing_keys(results: dict) -> list[str]:
    """Dotted paths of the documented keys that `results` lacks (empty when it follows the schema)."""
    missing = [k for k in REQUIRED_KEYS if k not in results]
    missing += [f"model.{k}" for k in MODEL_KEYS if k not in results.get("model", {})]
    for level in LEVELS:
        entry = results.get("levels", {}).get(level)
        if entry is None:
            missing.append(f"levels.{level}")
            continue
        missing += [f"levels.{level}.{k}" for k in LEVEL_KEYS if k not in entry]
        for method in METHODS:
            scores = entry.get("methods", {}).get(method)
            if scores is None:
                missing.append(f"levels.{level}.methods.{method}")
            else:
                missing += [f"levels.{level}.methods.{method}.{k}" for k in METHOD_KEYS if k not in scores]
    return missing


def evaluate_checkpoint(checkpoint: str | Path, train_data: str | Path, test_data: str | Path,
                        vocab: str | Path | None, output_dir: str | Path, *, home: str | None = None,
                        device: str = "cpu", cfg: EvalConfig = EvalConfig(), text_encoder=None,
                        allow_cross_home: bool = False) -> dict:
    """Load a checkpoint of any encoder type and a split, evaluate, write the report; returns the results dict.

    `text_encoder`: an already-loaded frozen text encoder to reuse (it must be the one the model was trained
    with); by default the checkpoint's own is loaded. `allow_cross_home`: see `evaluate_model`."""
    from ..data.store import load_split
    from ..data.vocab import Vocab
    from ..io import file_sha256
    from ..training.checkpoint import load_model

    checkpoint = Path(checkpoint)
    model = load_model(checkpoint, device=device, text_cache_dir=cfg.text_cache_dir,
                       text_backend=cfg.text_backend)   # missing: a UserError
    if text_encoder is not None:
        model.set_text_encoder(text_encoder)
    train, test = load_split(train_data), load_split(test_data)
    home_obj, extra_warnings = resolve_home(home, test.home or (model.meta or {}).get("home"))
    if vocab is not None and getattr(model, "vocab", None) is not None:
        if Vocab.load(vocab).tokens != model.vocab.tokens:
            extra_warnings.append(f"the vocabulary file {vocab} differs from the one stored in the checkpoint; "
                                  "the checkpoint's vocabulary was used")
    records, bad = read_training_metrics(checkpoint.parent / "metrics.jsonl")
    test_sha256 = file_sha256(test_data)
    sources = {"checkpoint": str(checkpoint), "checkpoint_sha256": file_digest(checkpoint),
               "train_data": str(train_data), "train_data_sha256": file_sha256(train_data),
               "test_data": str(test_data), "test_data_sha256": test_sha256,
               "vocab": None if vocab is None else str(vocab),
               "training_metrics": str(checkpoint.parent / "metrics.jsonl") if records else None,
               "training_metrics_bad_lines": bad}
    evaluation = evaluate_model(model, train, test, home_obj, cfg, sources=sources, training_metrics=records,
                                allow_cross_home=allow_cross_home, test_sha256=test_sha256)
    evaluation.results["warnings"] += extra_warnings
    write_evaluation(evaluation, output_dir)
    return evaluation.results


def resolve_home(requested: str | None, recorded: str | None) -> tuple[Home, list[str]]:
    """The home whose label descriptions are used: --home if given (errors are the user's), else the one
    recorded in the dataset; an unknown recorded home falls back to the no-layout home, with a warning."""
    from ..data.homes import load_home, no_layout_home

    if requested:
        return load_home(requested), []
    if not recorded:
        return no_layout_home(), ["no home recorded in the dataset and no --home given: labels have no "
                                  "descriptions, zero-shot uses humanised label names"]
    try:
        return load_home(recorded), []
    except UserError as err:
        return no_layout_home(recorded), [f"home {recorded!r} recorded in the dataset could not be loaded ({err}); "
                                          "zero-shot uses humanised label names (pass --home)"]


def write_evaluation(evaluation: Evaluation, output_dir: str | Path) -> Path:
    """Write evaluation_results.json, report.md, report.html, figures/ (PNG + SVG), predictions.parquet and
    embeddings.npy (+ index) into output_dir, all at once."""
    from ..io import atomic_dir, atomic_write_json
    from .predictions import write_embeddings, write_predictions
    from .report import render_html, render_markdown

    output_dir = Path(output_dir)
    results = evaluation.results
    if evaluation.figures:   # the figures written, also when a caller added one after evaluate_model
        results["figures"] = {name: fig.caption for name, fig in evaluation.figures.items()}
    src = results.get("sources", {})
    provenance = {"checkpoint": src.get("checkpoint"), "checkpoint_sha256": src.get("checkpoint_sha256"),
                  "test_data": src.get("test_data"), "test_data_sha256": src.get("test_data_sha256")}
    with atomic_dir(output_dir) as tmp:
        (tmp / "figures").mkdir()
        for name, fig in evaluation.figures.items():
            (tmp / "figures" / f"{name}.png").write_bytes(fig.png)
            (tmp / "figures" / f"{name}.svg").write_bytes(fig.svg)
        if evaluation.predictions:
            write_predictions(tmp / "predictions.parquet", evaluation.predictions,
                              {k: str(v) for k, v in provenance.items()})
        if evaluation.embeddings is not None:
            write_embeddings(tmp, evaluation.embeddings, provenance)
        atomic_write_json(tmp / "evaluation_results.json", _plain(results))
        (tmp / "report.md").write_text(render_markdown(results, list(evaluation.figures)), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(results, evaluation.figures), encoding="utf-8")
    return output_dir


def read_training_metrics(path: Path) -> tuple[list[dict], int]:
    """The records of a run's metrics.jsonl (empty when absent) and the number of unreadable lines skipped."""
    if not path.is_file():
        return [], 0
    records, bad = [], 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            bad += 1
            continue
        if isinstance(rec, dict):
            records.append(rec)
        else:
            bad += 1
    return records, bad


def model_info(model) -> dict:
    """Encoder kind, backbone and text encoder actually used (training and now), plus fallback warnings."""
    meta = dict(getattr(model, "meta", None) or {})
    config = dict(getattr(model, "config", None) or {})
    backbone = dict(meta.get("backbone_info") or {})
    train_text = dict(meta.get("text_encoder") or {})
    encoder = getattr(model, "text_encoder", None)
    eval_text = dict(encoder.info()) if encoder is not None and hasattr(encoder, "info") else {}
    warnings = []
    used = backbone.get("used") or backbone.get("family")
    if backbone.get("fallback_reason"):
        warnings.append(f"Sensor backbone FALLBACK: requested {backbone.get('requested')!r}, used {used!r} "
                        f"({backbone['fallback_reason']}). {STATISTICS_EXPLAINED} These numbers say nothing "
                        "about Chronos.")
    elif used == "statistics":
        warnings.append(f"The sensor encoder used the hand-made STATISTICS backbone, not a Chronos model. "
                        f"{STATISTICS_EXPLAINED}")
    for when, info in (("training", train_text), ("evaluation", eval_text)):
        if info.get("fallback_reason"):
            warnings.append(f"Text encoder FALLBACK at {when}: requested {info.get('requested')!r}, used "
                            f"{text_encoder_used(info)!r} ({info['fallback_reason']})")
    train_used, eval_used = text_encoder_used(train_text), text_encoder_used(eval_text)
    fell_back = bool(train_text.get("fallback_reason") or eval_text.get("fallback_reason"))
    if not fell_back and str(train_used or "").startswith("offline:"):
        warnings.append(f"The text encoder is the offline {train_used!r}, not the original "
                        "design's thenlper/gte-base.")
    if train_used and eval_used and train_used != eval_used:
        warnings.append(f"The text encoder now ({eval_used!r}) differs from the one used in "
                        f"training ({train_used!r}): text-side scores are not meaningful")
    kind = meta.get("encoder") or meta.get("encoder_kind") or config.get("encoder_type") or "unknown"
    return {
        "label": run_label({"encoder_kind": kind, "backbone": backbone}),
        "encoder_kind": kind,
        "backbone": backbone,
        "text_encoder_training": train_text,
        "text_encoder_evaluation": eval_text,
        "fallbacks": list(meta.get("fallbacks") or []),
        "checkpoint_meta": _plain(meta),
        "warnings": warnings,
    }


def _raw_encode(model, texts: list[str], progress: bool = False) -> np.ndarray:
    # The frozen text encoder alone (no trained projection): the caption-only baseline's space.
    if not texts:
        return np.zeros((0, 1), dtype=np.float32)
    return zeroshot.unit_rows(model.text_encoder.encode(list(texts), progress=progress))


def _labels(windows: WindowSet, level: str) -> list[str]:
    return [str(x) for x in (windows.label_l1 if level == "l1" else windows.label_l2)]


def _counts(labels: list[str]) -> dict[str, int]:
    values, counts = np.unique(np.asarray(labels, dtype=object), return_counts=True)
    return {str(v): int(c) for v, c in zip(values, counts)}


def _label_precision(test_emb: np.ndarray, protos: zeroshot.Prototypes, y_test: list[str], ks) -> dict:
    # Queries: the prototypes of labels that have test windows (others have nothing to retrieve).
    in_test = set(y_test)
    present = [i for i, label in enumerate(protos.labels) if label in in_test]
    sims = protos.matrix[present] @ test_emb.T
    return metrics.label_precision_at_k(sims, [protos.labels[i] for i in present], y_test, ks)


def _retrieval_examples(model, test: WindowSet, test_emb: np.ndarray, descriptions: dict[str, list[str]],
                        cfg: EvalConfig) -> list[dict]:
    present = [label for label in sorted(set(_labels(test, "l1"))) if label in descriptions]
    queries = [(descriptions[label][0], label) for label in present[: cfg.label_queries]]
    queries += [(q, None) for q in cfg.free_text_queries]
    if not queries:
        return []
    query_emb = zeroshot.unit_rows(model.embed_texts([q for q, _ in queries]))
    out = []
    for (text, label), emb in zip(queries, query_emb):
        idx, scores = top_windows(test_emb, emb, cfg.examples_per_query)
        out.append({"query": text, "label": label,
                     "hits": [{"score": float(s), **window_summary(test, int(i))} for i, s in zip(idx, scores)]})
    return out


def _plain(obj):
    """JSON-safe copy: tuples to lists, numpy scalars to Python, unknown objects to their repr."""
    return json.loads(json.dumps(obj, default=_json_default))


def _json_default(obj):
    from ..io import _json_default as numpy_aware

    try:
        return numpy_aware(obj)
    except TypeError:
        return str(obj)
