"""Stacks of similar epochs against one stack of every training-set size.

Run it with ``python benchmarks/bench_batched_stacks.py``. It trains what
one repeat of the Figure 4 protocol trains for one method: a DNN of the
paper's size (4 x 256 sigmoid units) on 8, 4, 2 and 1 training folds of
each of the 10 folds of nEMO (``--nemo``, an eGeMAPS table; the paper's
four emotions), a fixed ``--epochs`` without early stopping, with
:func:`~sklearn_prognet.model_selection.fit_batched` and ``n_jobs`` worker
processes. First as the engine used to stack them (every configuration's
models in one stack, cut into ``n_jobs`` parts: every model computes as
many batches as the 8-fold models), then as :func:`_batched.stacks` cuts
them now (models of similar epoch lengths together). The models are the
same either way (a model does not depend on its stack-mates); only the
time differs. On a shared machine only the ratio of one run means
something.
"""

import argparse
import time

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

import sklearn_prognet.networks._batched as batched
from sklearn_prognet import DNNClassifier
from sklearn_prognet.experiments import load_corpus
from sklearn_prognet.model_selection import fit_batched

# the sibling benchmark's nEMO location and worker warm-up (this folder is
# on the path when a benchmark is run as a script)
from bench_batched_multi_corpus import NEMO, _warm_up  # isort: skip


def one_stack_per_configuration(jobs, n_workers=1):
    """The engine's stacks before: a configuration's jobs, cut per worker."""
    groups = {}
    for i, job in enumerate(jobs):
        groups.setdefault(batched.configuration(job), []).append(i)
    return [
        chunk
        for indices in groups.values()
        for chunk in np.array_split(indices, min(n_workers, len(indices)))
    ]


def _fits(X, y, train_folds):
    """Every (fold, number of training folds) fit of one 10-fold repeat."""
    folds = [test for _, test in StratifiedKFold(10).split(X, y)]
    fits = []
    for k in range(10):
        for n in train_folds:
            rows = np.concatenate([folds[(k + 1 + j) % 10] for j in range(n)])
            fits.append({"X": X[rows], "y": y[rows]})
    return fits


def _timed(models, fits, n_jobs):
    start = time.perf_counter()
    fitted = fit_batched([clone(m) for m in models], fits, n_jobs=n_jobs)
    return time.perf_counter() - start, fitted


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--nemo", default=str(NEMO))
    args = parser.parse_args()
    corpus = load_corpus(args.nemo)
    X = StandardScaler().fit_transform(corpus.X).astype(np.float32)
    y = np.asarray(corpus.emotion)
    fits = _fits(X, y, (8, 4, 2, 1))
    template = DNNClassifier(max_epochs=args.epochs, early_stopping=False)
    models = [clone(template).set_params(random_state=i) for i in range(len(fits))]
    sizes = sorted({len(f["y"]) for f in fits}, reverse=True)
    print(f"{len(fits)} DNN fits of {sizes[0]} to {sizes[-1]} rows", end=", ")
    print(f"{args.epochs} epochs")
    joblib.Parallel(n_jobs=args.n_jobs)(
        joblib.delayed(_warm_up)() for _ in range(args.n_jobs)
    )

    similar = batched.stacks
    batched.stacks = one_stack_per_configuration
    try:
        before_s, before = _timed(models, fits, args.n_jobs)
    finally:
        batched.stacks = similar
    after_s, after = _timed(models, fits, args.n_jobs)

    print(f"one stack        : {before_s:6.1f} s")
    print(f"similar epochs   : {after_s:6.1f} s  ({before_s / after_s:.2f}x)")
    gap = max(
        np.abs(a.predict_proba(X) - b.predict_proba(X)).max()
        for a, b in zip(before, after, strict=True)
    )
    print(f"largest difference of a predicted probability: {gap:.1e}")


if __name__ == "__main__":
    main()
