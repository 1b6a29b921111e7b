"""`homeclip label`: label a home from a few answers (choose the windows to ask about, then spread the answers)."""
from __future__ import annotations

import argparse

HELP = "Label a home from a few answers: pick the windows worth labelling, then spread a person's labels."
DESCRIPTION = (
    "Without --answers: cluster the windows of a split by their embeddings (k-means or SCAN) and write the window "
    "nearest each cluster centre to --out, a CSV (id, start, end, rooms, caption, label) whose label column a "
    "person fills in. With --answers FILE (that CSV filled in): spread the answers to every window, by cluster or "
    "by a probe, and write --out (id, start, end, label, source); when the split has labels of its own, report "
    "the agreement on the windows that were not answered. Use the same --clustering and --seed for both steps. "
    "See docs/evaluation.md."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Checkpoint, split, output CSV, budget or answers, clustering and propagation."""
    parser.add_argument("--checkpoint", required=True, help="a trained checkpoint (best_model.pt, ...)")
    parser.add_argument("--data", required=True, help="processed split JSON whose windows are labelled")
    parser.add_argument("--out", required=True, help="CSV to write: the windows to label, or (with --answers) "
                                                     "every window's label")
    parser.add_argument("--budget", type=int, default=None,
                        help="how many windows to ask about (default 30; with --answers: the rows of that file)")
    parser.add_argument("--answers", default=None, help="the filled-in CSV: spread its labels to every window")
    parser.add_argument("--clustering", choices=("kmeans", "scan"), default="kmeans",
                        help="how windows are grouped (default kmeans)")
    # probe by default: on the benchmark's homes it matched or beat spreading by cluster at every budget
    parser.add_argument("--propagation", choices=("cluster", "probe"), default="probe",
                        help="with --answers: a linear probe fit on the answers, or each cluster takes its answer "
                             "(default probe)")
    parser.add_argument("--seed", type=int, default=0, help="clustering seed (default 0)")
    parser.add_argument("--cache-dir", default=None,
                        help="embedding cache (default $HOMECLIP_CACHE_DIR or ~/.cache/homeclip, as for search)")
    parser.add_argument("--batch-size", "--batch_size", dest="batch_size", type=int, default=256,
                        help="windows embedded per batch (default: 256)")
    parser.add_argument("--device", default="cpu", help="device the models run on: cpu or cuda (default: cpu)")


def run(args: argparse.Namespace) -> int:
    """Write the windows to label, or spread the answers and report agreement."""
    from ..evaluation.bootstrap import format_interval
    from ..evaluation.labelling import propagate_answers, request_labels

    common = dict(clustering=args.clustering, seed=args.seed, device=args.device, cache_dir=args.cache_dir,
                  batch_size=args.batch_size)
    if args.answers is None:
        r = request_labels(args.checkpoint, args.data, args.out, budget=30 if args.budget is None else args.budget,
                           **common)
        print(f"wrote {r['asked']} of {r['n_windows']} windows to label to {r['out']} (each stands for its cluster: "
              f"{r['cluster_sizes'][0]} windows in the largest, {r['cluster_sizes'][-1]} in the smallest)")
        print(f"fill in the label column, then: homeclip label --checkpoint {args.checkpoint} --data {args.data} "
              f"--answers {r['out']} --out labels.csv --clustering {args.clustering} --seed {args.seed}")
        return 0
    r = propagate_answers(args.checkpoint, args.data, args.answers, args.out, budget=args.budget,
                          propagation=args.propagation, **common)
    print(f"{r['answered']} answers spread to {r['n_windows']} windows: "
          + ", ".join(f"{k} {v}" for k, v in sorted(r["labels"].items(), key=lambda kv: -kv[1])))
    a = r["agreement"]
    if a is None:
        print("agreement: not computed (the split's labels share no name with the answers)")
    else:
        print(f"agreement with the split's {a['level'].upper()} labels on the {a['n_windows']} windows not answered: "
              f"macro-F1 {format_interval(a['macro_f1'])}, accuracy {format_interval(a['accuracy'])} "
              f"(95 % interval over {a['macro_f1']['n_days']} days)")
    print(f"wrote {r['out']}")
    return 0
