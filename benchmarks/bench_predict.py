# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Throughput of predicting new recordings with a trained eGeMAPS model.

Trains one small DNN from audio (a manifest of the EmoDB files, features
cached), then labels every EmoDB file with ``predict_files`` -- what
``sklearn-prognet predict`` runs -- with ``n_jobs=1`` and ``n_jobs=2``. The
model holds no feature cache, so every file is read and analysed, as new
recordings are. Reports files per second and the real-time factor (wall time
/ audio duration; below 1 is faster than real time). Each configuration runs
``--repeats`` times, interleaved; the best run counts, since other work on a
shared machine only slows a run down.

Run from the repository root::

    .venv/bin/python benchmarks/bench_predict.py [--corpus ../shared/corpora/emodb]
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import soundfile

from sklearn_prognet.datasets import load_emodb
from sklearn_prognet.experiments import predict_files, train_model

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", default=str(ROOT.parent / "shared" / "corpora" / "emodb")
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    table = load_emodb(args.corpus)
    files = table["file"].to_list()
    duration = sum(soundfile.info(f).duration for f in files)
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "emodb.csv"
        table[["file", "emotion", "speaker", "gender"]].to_csv(manifest, index=False)
        network = {"hidden_layer_sizes": (64, 64), "max_epochs": 50}
        model = train_model(
            manifest, network=network, cache_dir=Path(tmp) / "cache", n_jobs=2
        ).model
    print(
        f"{len(files)} EmoDB files, {duration:.1f} s of audio, {os.cpu_count()} "
        f"CPUs, best of {args.repeats} interleaved runs; load average before: "
        "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    )
    times = {1: [], 2: []}
    for _ in range(args.repeats):
        for n_jobs in times:
            start = time.perf_counter()
            out = predict_files(model, files, n_jobs=n_jobs)
            times[n_jobs].append(time.perf_counter() - start)
            assert (out["status"] == "ok").all()
    print("| n_jobs | files/s | real-time factor |")
    print("|--:|--:|--:|")
    for n_jobs, runs in times.items():
        best = min(runs)
        print(f"| {n_jobs} | {len(files) / best:.1f} | {best / duration:.4f} |")
    print(f"n_jobs=2 / n_jobs=1 speed: {min(times[1]) / min(times[2]):.2f}x")


if __name__ == "__main__":
    main()
