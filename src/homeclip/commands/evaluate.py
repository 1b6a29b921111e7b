"""`homeclip evaluate`: evaluate any checkpoint (Chronos with any backbone, statistics, Transformer) the same way."""
from __future__ import annotations

import argparse

from ..console import add_quiet_option

HELP = "Evaluate any checkpoint: zero-shot, probe, k-NN, retrieval, baselines, HTML report."
DESCRIPTION = (HELP + " Writes evaluation_results.json, report.md, report.html and figures/ into --output_dir. "
               "Every checkpoint type evaluates with this one command.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the original evaluate_embeddings.py (underscore spellings kept) plus ours."""
    parser.add_argument("--checkpoint", required=True, help="a best_model.pt / final_model.pt / checkpoint_step_N.pt")
    parser.add_argument("--train_data", "--train-data", dest="train_data", required=True,
                        help="processed train split JSON (probes and baselines are fit on it)")
    parser.add_argument("--test_data", "--test-data", dest="test_data", required=True,
                        help="processed test split JSON (everything is scored on it)")
    parser.add_argument("--vocab", default=None,
                        help="vocabulary JSON (checked against the checkpoint's own vocabulary, which is used)")
    parser.add_argument("--output_dir", "--output-dir", dest="output_dir", required=True,
                        help="where the report is written")
    parser.add_argument("--home", default=None,
                        help="home layout name or JSON path for label descriptions (default: the dataset's home)")
    parser.add_argument("--batch-size", "--batch_size", dest="batch_size", type=int, default=256,
                        help="windows per forward pass (default 256; results do not depend on it)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:0 ... (default cpu)")
    parser.add_argument("--cache-dir", default=None,
                        help="frozen-backbone feature cache (Chronos encoders); default $HOMECLIP_CACHE_DIR/features, "
                             "else .cache/homeclip/features (where training puts it by default)")
    parser.add_argument("--text-backend", default=None, metavar="BACKEND",
                        help="how the frozen text model computes: auto, fp32, bf16, openvino-fp32, openvino-bf16 "
                             "(default: the training config's)")
    parser.add_argument("--no-figures", dest="figures", action="store_false",
                        help="skip the figures (t-SNE takes tens of seconds on large test sets)")
    parser.add_argument("--allow-cross-home", action="store_true",
                        help="allow a checkpoint trained on one home to be scored on another home's data (the "
                             "report then says 'trained on X, tested on Y'); without it that is an error")
    parser.add_argument("--residents", default="flat", choices=["flat", "per-resident"],
                        help="multi-resident homes: flat scores the flattened labels (one label per window over "
                             "all residents; the default, as before), per-resident also scores each resident's own "
                             "labels and their mean; the results say which (docs/evaluation.md)")
    add_quiet_option(parser)


def run(args: argparse.Namespace) -> int:
    """Evaluate, write the report and print where it is."""
    from ..console import progress_enabled, say
    from ..errors import UserError
    from ..evaluation.evaluate import EvalConfig, evaluate_checkpoint
    from ..terminal import printable

    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {args.batch_size}")
    results = evaluate_checkpoint(args.checkpoint, args.train_data, args.test_data, args.vocab, args.output_dir,
                                  home=args.home, device=args.device, allow_cross_home=args.allow_cross_home,
                                  cfg=EvalConfig(batch_size=args.batch_size, figures=args.figures,
                                                 feature_cache_dir=args.cache_dir, residents=args.residents,
                                                 text_backend=args.text_backend,
                                                 progress=progress_enabled(args.quiet)))
    say(results["headline"])
    for warning in results["warnings"]:
        say(f"WARNING: {printable(warning)}")     # may quote labels from the log
    say(f"report: {args.output_dir}/report.html (per-window predictions: {args.output_dir}/predictions.parquet)")
    return 0
