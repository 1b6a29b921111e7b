"""`homeclip search`: rank the windows of a split for a free-text query with a trained checkpoint."""
from __future__ import annotations

import argparse

from ..console import add_quiet_option

HELP = "Search windows with free text using a trained checkpoint."
DESCRIPTION = (HELP + " Window embeddings are cached on disk (key: checkpoint and data file hashes; folder: "
               "$HOMECLIP_CACHE_DIR or ~/.cache/homeclip), so repeated searches only embed the query.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Checkpoint, split, query text(s), -k, --json."""
    parser.add_argument("--checkpoint", required=True, help="a trained best_model.pt / final_model.pt")
    parser.add_argument("--data", required=True, help="processed split JSON to search in")
    parser.add_argument("query", nargs="+", help='query text, e.g. "someone cooking late at night" (several allowed)')
    parser.add_argument("-k", type=int, default=10, help="how many windows to show (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--cache-dir", default=None, help="cache folder (default $HOMECLIP_CACHE_DIR or ~/.cache/homeclip)")
    parser.add_argument("--batch-size", "--batch_size", dest="batch_size", type=int, default=256,
                        help="windows per forward pass when the index is built (default 256)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:0 ... (default cpu)")
    parser.add_argument("--allow-cross-home", action="store_true",
                        help="allow searching another home's windows with this checkpoint (otherwise an error)")
    parser.add_argument("--text-backend", default=None, metavar="BACKEND",
                        help="how the frozen text model computes: auto, fp32, bf16, openvino-fp32, openvino-bf16 "
                             "(default: the training config's)")
    add_quiet_option(parser)


def run(args: argparse.Namespace) -> int:
    """Search and print the hits."""
    import json

    from ..console import progress_enabled, say
    from ..evaluation.search import format_hits, search

    result = search(args.checkpoint, args.data, args.query, args.k, cache_dir=args.cache_dir,
                    batch_size=args.batch_size, device=args.device,
                    progress=progress_enabled(args.quiet or args.json), allow_cross_home=args.allow_cross_home,
                    text_backend=args.text_backend)
    if args.json:   # JSON escapes control characters itself
        print(json.dumps(result, indent=2))
    else:
        say(format_hits(result))
    return 0
