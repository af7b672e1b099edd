# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Throughput of SpeakerEncoderTransformer on CPU, with and without n_jobs.

Embeds EmoDB recordings (or, without the corpus, the four test recordings)
with ``SpeakerEncoderTransformer`` and resemblyzer's weights:

- ``n_jobs=1`` with one torch thread, and with torch's default thread count;
- ``n_jobs=2``, one torch thread per worker;

checks that all give the same d-vectors, and reports files per second and
the real-time factor (RTF: seconds of wall time per second of audio). Each
configuration runs ``--repeats`` times, interleaved, and the best run
counts: on a shared machine other work only ever slows a run down.

Run from the repository root::

    .venv/bin/python benchmarks/bench_speaker.py [--corpus DIR] [--n-files 60]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import soundfile
import torch

from sklearn_prognet import SpeakerEncoderTransformer
from sklearn_prognet.datasets import load_emodb

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", default=str(ROOT.parent / "shared" / "corpora" / "emodb")
    )
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--n-files", type=int, default=60)
    args = parser.parse_args(argv)

    if Path(args.corpus, "wav").is_dir():
        files = load_emodb(args.corpus, emotions=None)["file"].to_list()
    else:
        files = sorted(str(p) for p in (ROOT / "tests" / "data").glob("*.wav"))
    # Every k-th file, so that the sample spans speakers and lengths.
    files = files[:: max(1, len(files) // args.n_files)][: args.n_files]
    duration = sum(soundfile.info(f).duration for f in files)
    default_threads = torch.get_num_threads()
    print(
        f"{len(files)} EmoDB files, {duration:.1f} s of audio, {os.cpu_count()} "
        f"CPUs, torch {torch.__version__}, best of {args.repeats} interleaved runs"
    )
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    encoder = SpeakerEncoderTransformer()
    encoder.fit_transform(files[:1])  # loads the weights: not timed

    def run(n_jobs, threads):
        def call():
            torch.set_num_threads(threads)
            try:
                return encoder.set_params(n_jobs=n_jobs).transform(files)
            finally:
                torch.set_num_threads(default_threads)

        return call

    runs = {
        "n_jobs=1, 1 torch thread": run(1, 1),
        f"n_jobs=1, {default_threads} torch threads": run(1, default_threads),
        "n_jobs=2, 1 thread each": run(2, default_threads),
    }
    times = {name: [] for name in runs}
    outputs = {}
    for _ in range(args.repeats):
        for name, call in runs.items():
            start = time.perf_counter()
            outputs[name] = call()
            times[name].append(time.perf_counter() - start)
    reference = outputs["n_jobs=1, 1 torch thread"]
    for name, values in outputs.items():
        if not np.allclose(values, reference, rtol=0, atol=1e-6):
            sys.exit(f"{name} gave other d-vectors than n_jobs=1")

    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(
        f"\n{'configuration':28s} {'best s':>8s} {'median s':>9s} "
        f"{'files/s':>8s} {'RTF':>8s}"
    )
    for name, t in times.items():
        best = min(t)
        print(
            f"{name:28s} {best:8.2f} {statistics.median(t):9.2f} "
            f"{len(files) / best:8.1f} {best / duration:8.4f}"
        )
    one = min(times["n_jobs=1, 1 torch thread"])
    two = min(times["n_jobs=2, 1 thread each"])
    print(f"\nn_jobs=2 / n_jobs=1 (1 thread) throughput: {one / two:.2f}")
    print("outputs: equal across configurations (atol 1e-6)")


if __name__ == "__main__":
    main()
