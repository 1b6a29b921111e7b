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

from homeclip.cli import script_main  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Parse the original flags and run `homeclip evaluate`; user errors print one line (exit 2)."""
    return script_main("evaluate", "evaluate_embeddings.py", argv)


if __name__ == "__main__":
    sys.exit(main())
