# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Throughput of EGeMAPSTransformer against calling openSMILE directly.

Extracts eGeMAPSv02 functionals from every EmoDB file, in one run, with:

- openSMILE directly, one process (``Smile.process_files``);
- openSMILE directly, 2 worker processes (``num_workers=2,
  multiprocessing=True``);
- ``EGeMAPSTransformer(n_jobs=1)`` and ``EGeMAPSTransformer(n_jobs=2)``.

Throughput is audio duration / wall time ("x real time"). Each configuration
runs ``--repeats`` times, interleaved, and the best run counts: on a shared
machine other work only ever slows a run down. Targets:
``n_jobs=2 >= 1.7 x n_jobs=1`` and ``n_jobs=1 >= 0.95 x openSMILE direct``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_extraction.py [--corpus ../shared/corpora/emodb]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import soundfile

from sklearn_prognet import EGeMAPSTransformer
from sklearn_prognet.datasets import load_emodb

ROOT = Path(__file__).resolve().parents[1]
TARGET_PARALLEL = 1.7
TARGET_OVERHEAD = 0.95


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", default=str(ROOT.parent / "shared" / "corpora" / "emodb")
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-files", type=int, default=None, help="default: all")
    args = parser.parse_args(argv)

    import opensmile

    files = load_emodb(args.corpus, emotions=None)["file"].to_list()[: args.n_files]
    duration = sum(soundfile.info(f).duration for f in files)
    print(
        f"{len(files)} EmoDB files, {duration:.1f} s of audio, "
        f"{os.cpu_count()} CPUs, opensmile {opensmile.__version__}, "
        f"best of {args.repeats} interleaved runs"
    )
    # Other work on the machine slows the parallel runs most: report it.
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    def smile(**kwargs):
        return opensmile.Smile(
            feature_set=opensmile.FeatureSet.eGeMAPSv02,
            feature_level=opensmile.FeatureLevel.Functionals,
            **kwargs,
        )

    # Built before timing, on both sides: only the extraction is measured.
    direct_1 = smile()
    direct_2 = smile(num_workers=2, multiprocessing=True)
    ours_1 = EGeMAPSTransformer(n_jobs=1).fit(files)
    ours_2 = EGeMAPSTransformer(n_jobs=2).fit(files)
    runs = {
        "opensmile direct, 1 process": lambda: direct_1.process_files(files).values,
        "opensmile direct, 2 workers": lambda: direct_2.process_files(files).values,
        "EGeMAPSTransformer n_jobs=1": lambda: ours_1.transform(files),
        "EGeMAPSTransformer n_jobs=2": lambda: ours_2.transform(files),
    }
    times = {name: [] for name in runs}
    outputs = {}
    for _ in range(args.repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            outputs[name] = np.asarray(run(), dtype=np.float64)
            times[name].append(time.perf_counter() - start)

    reference = outputs["opensmile direct, 1 process"]
    for name, values in outputs.items():
        if not np.array_equal(values, reference, equal_nan=True):
            sys.exit(f"{name} gave other features than openSMILE direct")

    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    speed = {name: duration / min(t) for name, t in times.items()}
    print(
        f"\n{'configuration':30s} {'best s':>8s} {'median s':>9s} {'x real time':>12s}"
    )
    for name, t in times.items():
        print(
            f"{name:30s} {min(t):8.2f} {statistics.median(t):9.2f} {speed[name]:11.1f}x"
        )

    parallel = (
        speed["EGeMAPSTransformer n_jobs=2"] / speed["EGeMAPSTransformer n_jobs=1"]
    )
    overhead = (
        speed["EGeMAPSTransformer n_jobs=1"] / speed["opensmile direct, 1 process"]
    )
    direct = speed["opensmile direct, 2 workers"] / speed["opensmile direct, 1 process"]
    versus = speed["EGeMAPSTransformer n_jobs=2"] / speed["opensmile direct, 2 workers"]
    print("\nratios of throughput")
    for label, value, target in [
        ("n_jobs=2 / n_jobs=1           ", parallel, TARGET_PARALLEL),
        ("n_jobs=1 / opensmile 1 process", overhead, TARGET_OVERHEAD),
    ]:
        verdict = "ok" if value >= target else "MISSED"
        print(f"  {label} {value:5.2f}  (target >= {target}: {verdict})")
    print(f"  opensmile 2 workers / 1 process {direct:4.2f}")
    print(f"  n_jobs=2 / opensmile 2 workers {versus:5.2f}")
    print("  outputs: identical to openSMILE direct")


if __name__ == "__main__":
    main()
