"""`homeclip train`: CLIP-style training of a sensor encoder against a frozen text encoder."""
from __future__ import annotations

import argparse

from ..console import add_quiet_option

HELP = "Train a sensor encoder CLIP-style against a frozen text encoder."
DESCRIPTION = (
    "Train the Chronos encoder (frozen backbone + MLP head) or the standard Transformer encoder so that a window "
    "and its captions are close (bidirectional InfoNCE). Writes best_model.pt, final_model.pt, "
    "checkpoint_step_<N>.pt, hyperparameters.json, run_summary.txt, metrics.jsonl and TensorBoard events to the "
    "config's output_dir. Runs unchanged under `torchrun --nproc_per_node=N` (see docs/training.md)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `homeclip train` (the original script's options too)."""
    parser.add_argument("--config", required=True, help="training config JSON (e.g. configs/training/milan/chronos_clip.json)")
    parser.add_argument("--train_data", "--train-data", action="append", default=None,
                        help="override train_data_path; repeat for several datasets (homes)")
    parser.add_argument("--val_data", "--val-data", action="append", default=None,
                        help="override val_data_path; repeat for several datasets")
    parser.add_argument("--vocab", action="append", default=None,
                        help="override vocab_path; repeat to merge one vocabulary per training dataset")
    parser.add_argument("--output_dir", "--output-dir", default=None, help="override output_dir")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override any config key; VALUE is parsed as JSON, else taken as a string (repeatable)")
    parser.add_argument("--resume", default=None, metavar="PATH|auto",
                        help="continue from a checkpoint_step_<N>.pt, or 'auto' for the latest one in output_dir")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the outputs of an earlier run in output_dir (without it, such a folder is refused)")
    parser.add_argument("--device", default=None, help="override device: auto, cpu, cuda, cuda:N")
    parser.add_argument("--text-backend", default=None, metavar="BACKEND",
                        help="override text_backend: auto, fp32, bf16, openvino-fp32, openvino-bf16")
    add_quiet_option(parser, "--no-progress")


def overrides_from_args(args: argparse.Namespace) -> dict:
    """Config overrides from the command line (--set first, then the named flags)."""
    from ..training.config import parse_set

    overrides = parse_set(args.set)
    # A flag given once is a path, as it always was; given several times, a list of paths.
    paths = {key: None if value is None else value[0] if len(value) == 1 else list(value)
             for key, value in (("train_data_path", args.train_data), ("val_data_path", args.val_data),
                                ("vocab_path", args.vocab))}
    named = {**paths, "output_dir": args.output_dir, "device": args.device,
             "text_backend": args.text_backend}
    overrides.update({k: v for k, v in named.items() if v is not None})
    return overrides


def run(args: argparse.Namespace) -> int:
    """Load and validate the config, train, print where the outputs are."""
    from ..console import progress_enabled, say
    from ..training.config import load_config
    from ..training.trainer import train

    cfg = load_config(args.config, overrides_from_args(args))
    result = train(cfg, resume=args.resume, overwrite=args.overwrite, progress=progress_enabled(args.quiet))
    best = "n/a" if result.best_val_loss is None else f"{result.best_val_loss:.4f} (step {result.best_step})"
    say(f"trained {result.steps} steps in {result.seconds:.1f} s; best val loss {best}; outputs in {result.output_dir}")
    return 0
