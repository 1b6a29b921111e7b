"""The original training command, kept working:

    python src/training/train_chronos_clip.py --config configs/training/milan/chronos_clip.json

It is `homeclip train` with the same options (see `homeclip train --help`)."""
from __future__ import annotations

import sys
from pathlib import Path

try:
    import homeclip  # noqa: F401  (installed package)
except ImportError:  # a checkout without `pip install -e .`: use the sources next to this script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homeclip.cli import script_main  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Parse the `homeclip train` options and run it; user errors are one line, no traceback."""
    return script_main("train", "train_chronos_clip.py", argv)


if __name__ == "__main__":
    sys.exit(main())
