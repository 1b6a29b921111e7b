"""Applications on top of trained runs: the local web app of `homeclip serve` (web.py, pages/, templates/)."""
