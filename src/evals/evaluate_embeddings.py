"""The original evaluation command, unchanged for users; the work is `homeclip evaluate`.

    python src/evals/evaluate_embeddings.py --checkpoint trained_models/milan/chronos_clip/best_model.pt \
        --train_data data/processed/casas/milan/seq50/milan_train.json \
        --test_data data/processed/casas/milan/seq50/milan_test.json \
        --vocab data/processed/casas/milan/seq50/milan_vocab.json --output_dir results/evals/milan/chronos_clip
"""
from __future__ import annotations

import sys
from pathlib import Path

try:
    import homeclip  # noqa: F401
except ImportError:   # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402

from homeclip.commands import evaluate  # noqa: E402
from homeclip.errors import UserError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Parse the original flags and run `homeclip evaluate`; user errors print one line (exit 2)."""
    parser = argparse.ArgumentParser(prog="evaluate_embeddings.py", description=evaluate.DESCRIPTION)
    evaluate.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return evaluate.run(args)
    except UserError as err:
        print(f"evaluate_embeddings.py: error: {err}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    sys.exit(main())
