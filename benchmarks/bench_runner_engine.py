"""The experiment runner's engines and execution defaults, timed back to back.

Run it with ``python benchmarks/bench_runner_engine.py``. Every variant runs
one repeat of the paralinguistic experiment on the embedded EmoDB features
(10 folds, gender source: 30 fits and 10 source networks) with the paper's
network, trained for a fixed ``--epochs`` (patience as long, so every variant
does the same work), into a fresh results folder:

- ``batched, n_jobs=1, 1 thread`` and ``2 threads``: the networks of the
  repeat trained in this process;
- ``batched, n_jobs=2``: every stack cut in two, trained in two worker
  processes with one thread each;
- ``per-fit, n_jobs=2``: two fits at a time, one thread each (the per-fit
  default);
- with ``--dask``, also both engines on a local dask cluster of two
  single-threaded worker processes, started (and its workers' imports
  done) before the clock runs: ``batched, dask`` (every stack cut in two,
  one part per worker) and ``per-fit, dask`` (what ``--backend dask`` did
  before it trained stacks).

On a shared machine only the ratios of one run mean something. The script
also checks that the batched variants give the same UARs (the result of a
network does not depend on the threads or the stack it is trained in).
"""

import argparse
import contextlib
import tempfile
import time
from pathlib import Path

import numpy as np

from sklearn_prognet.experiments import run_paralinguistic

VARIANTS = {
    "batched, n_jobs=1, 1 thread": {
        "engine": "batched",
        "n_jobs": 1,
        "torch_threads": 1,
    },
    "batched, n_jobs=1, 2 threads": {
        "engine": "batched",
        "n_jobs": 1,
        "torch_threads": 2,
    },
    "batched, n_jobs=2 (1 thread each)": {"engine": "batched", "n_jobs": 2},
    "per-fit, n_jobs=2 (1 thread each)": {"engine": "per-fit", "n_jobs": 2},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--dask", action="store_true", help="add the dask variants")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        variants = dict(VARIANTS)
        if args.dask:
            from distributed import LocalCluster

            cluster = stack.enter_context(
                LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
            )
            dask = {"backend": "dask", "scheduler": cluster.scheduler_address}
            variants["batched, dask (2 workers)"] = {"engine": "batched", **dask}
            variants["per-fit, dask (2 workers)"] = {"engine": "per-fit", **dask}
        _run(args, variants)


def _run(args, variants):
    network = {"max_epochs": args.epochs, "patience": args.epochs}
    times, uars = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        # imports and worker processes started before the clock runs
        for name, options in variants.items():
            run_paralinguistic(
                Path(tmp) / ("warm-up " + name), n_splits=3, n_repeats=1,
                sources=["gender"], network={"hidden_layer_sizes": (8,),
                "max_epochs": 1}, verbose=False, **options,
            )  # fmt: skip
        for name, options in variants.items():
            start = time.perf_counter()
            result = run_paralinguistic(
                Path(tmp) / name.replace(" ", "_"), n_splits=args.splits,
                n_repeats=1, sources=["gender"], network=network,
                verbose=False, **options,
            )  # fmt: skip
            times[name] = time.perf_counter() - start
            uars[name] = result.scores.sort_values("key")["uar"].to_numpy()
            print(f"{name:36s} {times[name]:7.1f} s", flush=True)
    slowest = max(times.values())
    print(f"\n{'variant':36s} {'time (s)':>9s} {'speed-up':>9s}")
    for name, seconds in times.items():
        print(f"{name:36s} {seconds:9.1f} {slowest / seconds:8.2f}x")
    batched = [u for name, u in uars.items() if name.startswith("batched")]
    same = all(np.array_equal(batched[0], u) for u in batched[1:])
    print(f"\nbatched variants give the same UARs: {same}")
    print("mean UAR: " + ", ".join(f"{n}: {u.mean():.3f}" for n, u in uars.items()))


if __name__ == "__main__":
    main()
