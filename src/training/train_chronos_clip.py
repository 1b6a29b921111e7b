"""The original training command, kept working:

    python src/training/train_chronos_clip.py --config configs/training/milan/chronos_clip.json

It is `homeclip train` with the same options (see `homeclip train --help`)."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

try:
    import homeclip  # noqa: F401  (installed package)
except ImportError:  # a checkout without `pip install -e .`: use the sources next to this script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homeclip.commands import train
from homeclip.errors import UserError


def main(argv: list[str] | None = None) -> int:
    """Parse the `homeclip train` options and run it; user errors are one line, no traceback."""
    parser = argparse.ArgumentParser(prog="train_chronos_clip.py", description=train.DESCRIPTION)
    train.add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return train.run(args)
    except UserError as err:
        print(f"train_chronos_clip.py: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("train_chronos_clip.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
