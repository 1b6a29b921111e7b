"""`homeclip download casas HOME`: fetch an official CASAS archive, verify it and extract it safely."""
from __future__ import annotations

import argparse

HELP = "Download and safely extract an official CASAS archive (needs internet)."
DESCRIPTION = (
    "Download the official CASAS archive of a home (milan, aruba, cairo, kyoto), check that it is a valid zip "
    "(and matches --sha256 when given; the digest is always printed and recorded), and extract it without "
    "path traversal, symlinks or overwriting existing files. Sizes are capped (download, extracted total, "
    "expansion ratio: a zip bomb is refused before anything is written). Offline? Fetch the archive another "
    "way and pass --url file:///path/to/archive.zip."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `homeclip download`."""
    parser.add_argument("source", choices=["casas"], help="dataset family (only CASAS for now)")
    parser.add_argument("home", help="CASAS home: milan, aruba, cairo or kyoto (kyoto = twor.2009)")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="folder to extract into (default: data/raw/casas/HOME)")
    parser.add_argument("--url", default=None, help="download from this URL instead of the official one")
    parser.add_argument("--sha256", metavar="HEX", default=None, help="expected SHA-256 of the archive")
    parser.add_argument("--force", action="store_true",
                        help="replace --out as a whole, atomically (only an empty folder or an earlier download's)")
    parser.add_argument("--timeout", type=float, default=15.0, metavar="SECONDS",
                        help="network timeout (default 15 s)")
    from ..data.download import MIB, Limits   # standard library only: cheap at parser build

    parser.add_argument("--max-download-mb", type=float, default=Limits.max_download / MIB, metavar="MB",
                        help=f"refuse a larger download (default {Limits.max_download // MIB} MiB)")
    parser.add_argument("--max-extracted-mb", type=float, default=Limits.max_extracted / MIB, metavar="MB",
                        help=f"refuse an archive that extracts to more (default {Limits.max_extracted // MIB} MiB)")
    parser.add_argument("--max-ratio", type=float, default=Limits.max_ratio, metavar="R",
                        help=f"refuse a member that expands more than R-fold (default {Limits.max_ratio:g})")


def run(args: argparse.Namespace) -> int:
    """Download, verify and extract; print the digest and where the log is."""
    from ..data.download import MIB, Limits, download_casas

    limits = Limits(max_download=int(args.max_download_mb * MIB), max_extracted=int(args.max_extracted_mb * MIB),
                    max_ratio=args.max_ratio)
    result = download_casas(args.home, args.out, url=args.url, sha256=args.sha256, force=args.force,
                            timeout=args.timeout, limits=limits)
    print(f"sha256 {result.sha256}  {result.url} ({result.n_bytes} bytes)")
    print(f"extracted {len(result.files)} files into {result.out_dir} (record: {result.record})")
    if result.log_file is not None:
        print(f"next: homeclip prepare --raw {result.log_file} --home {args.home}")
    return 0
