"""`homeclip evaluate`: evaluate any checkpoint (Chronos with any backbone, statistics, Transformer) the same way."""
from __future__ import annotations

import argparse

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
    parser.add_argument("--batch-size", "--batch_size", dest="batch_size", type=int, default=256)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:0 ...")
    parser.add_argument("--cache-dir", default=None,
                        help="frozen-backbone feature cache (Chronos encoders); default: the one the checkpoint's training used")
    parser.add_argument("--text-backend", default=None, metavar="BACKEND",
                        help="how the frozen text model computes: auto, fp32, bf16, openvino-fp32, openvino-bf16 "
                             "(default: the training config's)")
    parser.add_argument("--no-figures", dest="figures", action="store_false",
                        help="skip the figures (t-SNE takes tens of seconds on large test sets)")


def run(args: argparse.Namespace) -> int:
    """Evaluate, write the report and print where it is."""
    from ..errors import UserError
    from ..evaluation.evaluate import EvalConfig, evaluate_checkpoint

    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {args.batch_size}")
    results = evaluate_checkpoint(args.checkpoint, args.train_data, args.test_data, args.vocab, args.output_dir,
                                  home=args.home, device=args.device,
                                  cfg=EvalConfig(batch_size=args.batch_size, figures=args.figures,
                                                feature_cache_dir=args.cache_dir, text_backend=args.text_backend))
    for warning in results["warnings"]:
        print(f"WARNING: {warning}")
    for level in ("l1", "l2"):
        methods = results["levels"][level]["methods"]
        print(f"{level.upper()}: " + ", ".join(f"{name} macro-F1 {methods[name]['macro_f1']:.3f}"
                                               for name in ("zeroshot", "linear_probe", "bag_of_sensors", "majority")))
    print(f"report: {args.output_dir}/report.html")
    return 0
