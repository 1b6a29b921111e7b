"""`homeclip compare`: several evaluations side by side in one table (compare.md + compare.html)."""
from __future__ import annotations

import argparse

HELP = "Put several evaluations side by side in one table (Markdown and HTML)."
DESCRIPTION = (HELP + " Each path is an evaluation directory (with evaluation_results.json), the file itself, or a "
               "run directory with evaluations below it.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Paths and the output directory."""
    parser.add_argument("paths", nargs="+", metavar="RUN_OR_EVAL_DIR",
                        help="evaluation directories, evaluation_results.json files, or run directories above them")
    parser.add_argument("--out", default="results/compare", help="output directory (default: results/compare)")


def run(args: argparse.Namespace) -> int:
    """Write the comparison and print the Markdown table."""
    from ..console import say
    from ..evaluation.compare import compare_runs, render_markdown

    table = compare_runs(args.paths, args.out)
    say(render_markdown(table))
    say(f"comparison: {args.out}/compare.html")
    return 0
