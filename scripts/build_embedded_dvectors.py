# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Rebuild sklearn_prognet/datasets/data/emodb_dvector.csv.gz from EmoDB.

Extracts the d-vectors of the four-class EmoDB files with the package's own
SpeakerEncoderTransformer (the speaker extra) and writes them with 6
decimals, one row per file in the order of the eGeMAPS table (gzip without
timestamp, so an unchanged table gives identical bytes).

Run from the repository root::

    .venv/bin/python scripts/build_embedded_dvectors.py [--corpus DIR]
"""

import argparse
import time
from pathlib import Path

from sklearn_prognet.datasets._embedded import (
    DVECTOR_FILE,
    build_emodb_dvector_table,
    write_dvector_table,
)

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus",
        default=str(ROOT.parent / "shared" / "corpora" / "emodb"),
        help="EmoDB folder holding wav/ (default: %(default)s)",
    )
    parser.add_argument(
        "--output",
        default=str(ROOT / "sklearn_prognet" / "datasets" / "data" / DVECTOR_FILE),
        help="default: %(default)s",
    )
    parser.add_argument("--n-jobs", type=int, default=-1)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    table = build_emodb_dvector_table(args.corpus, n_jobs=args.n_jobs, verbose=1)
    write_dvector_table(table, args.output)
    print(
        f"wrote {args.output}: {len(table)} utterances x {table.shape[1] - 1} "
        f"d-vector components ({Path(args.output).stat().st_size / 1024:.0f} KiB, "
        f"{time.perf_counter() - start:.0f} s)"
    )


if __name__ == "__main__":
    main()
