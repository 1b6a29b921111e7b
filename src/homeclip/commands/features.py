"""`homeclip features`: extract and cache frozen-backbone features of processed splits (e.g. on a GPU machine
before training elsewhere; training and evaluation then read the cache)."""
from __future__ import annotations

import argparse

HELP = "Extract and cache frozen-backbone features for a processed dataset."
DESCRIPTION = (
    "Run the frozen Chronos (or statistics) backbone over every window of one or more processed splits and store "
    "the pooled features in the content-hashed feature cache that `homeclip train` and `homeclip evaluate` read. "
    "The cache key covers the windows, the vocabulary, the backbone identity and the channel configuration "
    "(taken from --config when given). An interrupted run resumes where it stopped."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `homeclip features`."""
    parser.add_argument("--data", metavar="SPLIT_JSON", action="append", required=True,
                        help="processed split (<home>_train.json, ...); repeat for several")
    parser.add_argument("--vocab", metavar="VOCAB_JSON", required=True, help="the dataset's <home>_vocab.json")
    parser.add_argument("--backbone", metavar="ID_OR_DIR", default=None,
                        help="Chronos hub id or local model directory, or 'statistics' "
                             "(default: chronos_model_name of --config)")
    parser.add_argument("--config", metavar="TRAIN_CONFIG", default=None,
                        help="training config: channels (extra_channels, covariates), allow_fallback, cache dir")
    parser.add_argument("--cache-dir", metavar="DIR", default=None,
                        help="feature cache folder (default: feature_cache_dir of --config, else "
                             "$HOMECLIP_CACHE_DIR/features, else .cache/homeclip/features)")
    parser.add_argument("--batch-size", type=int, default=64, help="windows per backbone call (default 64)")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N (default cpu)")


def run(args: argparse.Namespace) -> int:
    """Extract (or find) the features of each split and print where they are."""
    from dataclasses import replace

    from .. import paths
    from ..data.batches import WindowDataset
    from ..data.store import load_split
    from ..data.vocab import Vocab
    from ..encoders.cache import cached_features, feature_cache_path
    from ..errors import UserError
    from ..training.config import TrainConfig, load_config
    from ..training.model import build_sensor_encoder

    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, found {args.batch_size}")
    if args.config is None and not args.backbone:
        raise UserError("give --backbone ID_OR_DIR (or --config with a chronos_model_name)")
    cfg = load_config(args.config) if args.config is not None else TrainConfig()
    if cfg.encoder != "chronos":
        raise UserError(f"the '{cfg.encoder}' encoder is trained end to end: it has no frozen features",
                        path=args.config)
    if args.backbone == "statistics":
        cfg = replace(cfg, backbone="statistics")
    elif args.backbone:
        cfg = replace(cfg, backbone="chronos", chronos_model_name=args.backbone)
    vocab = Vocab.load(args.vocab)
    # The same construction as training, so the cache entries written here are the ones training reads.
    encoder = build_sensor_encoder(cfg, vocab, args.device)
    cache_dir = paths.cache_dir("features", args.cache_dir or cfg.feature_cache_dir)
    info = encoder.backbone_info()
    used = info["used"] + (f" (FALLBACK: {info['fallback_reason']})" if info["fallback_reason"] else "")
    print(f"backbone {used}, family {info['family']}, {encoder.feature_dim} features per window")
    for path in args.data:
        dataset = WindowDataset(load_split(path), vocab)
        target = feature_cache_path(encoder, dataset, cache_dir)
        hit = target.exists()
        feats = cached_features(encoder, dataset, cache_dir, batch_size=args.batch_size, progress=True)
        print(f"{path}: {feats.shape[0]} windows x {feats.shape[1]} -> {target} ({'cached' if hit else 'extracted'})")
    return 0
