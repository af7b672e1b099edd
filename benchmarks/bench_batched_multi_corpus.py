"""Multi-corpus networks: the batched engine against per-fit training.

Run it with ``python benchmarks/bench_batched_multi_corpus.py``. It trains
``--fits`` :class:`~sklearn_prognet.MultiCorpusClassifier` networks of the
paper's size (4 x 256 sigmoid units, adapters of rank 16) on EmoDB (the
embedded features) and nEMO (``--nemo``, an eGeMAPS table), the paper's four
emotions, each corpus standardised on its own rows. Every fit leaves out its
own tenth of the EmoDB rows (as the folds of the multi-corpus experiment
do), and trains for a fixed ``--epochs`` without early stopping, so that
both engines do the same work: per fit with ``n_jobs`` processes of one
torch thread each (joblib), then batched with
:func:`~sklearn_prognet.model_selection.fit_batched` and the same
``n_jobs`` (the worker processes are started, and have imported the
package, before either is timed). On a shared machine only the ratio of one
run means something.

``--profile`` measures instead why stacking gains little here: in this
process, with one torch thread, it trains a stack of one and a stack of
``--fits`` networks, prints the time per network of each, then profiles the
stack and prints the share of its time spent in the matrix products
(``aten::bmm``), which stacking does not make cheaper, and the gain a stack
would have over a network alone if all its other work cost nothing.
"""

import argparse
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import torch
from sklearn.base import clone
from sklearn.preprocessing import StandardScaler

from sklearn_prognet import MultiCorpusClassifier
from sklearn_prognet.experiments import load_corpus
from sklearn_prognet.model_selection import fit_batched

# the development corpora beside the repository (see ../shared/corpora/README)
ROOT = Path(__file__).resolve().parents[1]
NEMO = ROOT.parent / "shared" / "corpora" / "nemo" / "nemo_egemaps.csv.gz"


def _frame(corpora):
    """The corpora as one DataFrame (each standardised on itself) and labels."""
    parts = []
    for corpus in corpora:
        part = pd.DataFrame(StandardScaler().fit_transform(corpus.X))
        part.columns = [f"x{i}" for i in range(part.shape[1])]
        part["corpus"] = corpus.name
        parts.append(part)
    X = pd.concat(parts, ignore_index=True)
    y = np.concatenate([np.asarray(c.emotion) for c in corpora])
    return X, y


def _fits(X, y, n_fits):
    """Every fit's rows: all of them but one tenth of the first corpus's."""
    first = np.flatnonzero(X["corpus"] == X["corpus"].iloc[0])
    fits = []
    for i in range(n_fits):
        keep = np.setdiff1d(np.arange(len(y)), first[i % 10 :: 10])
        fits.append({"X": X.iloc[keep], "y": y[keep]})
    return fits


def _warm_up():
    """Import what a fit needs, so that no engine pays for starting workers."""
    import sklearn_prognet.networks._batched  # noqa: F401


def _fit_one(model, fit):
    torch.set_num_threads(1)
    return model.fit(**fit)


def _profile(models, fits):
    """Time per network alone and stacked (one thread), and the products' share."""
    from torch.profiler import ProfilerActivity, profile

    torch.set_num_threads(1)
    fit_batched([clone(models[0])], fits[:1], n_jobs=1)  # warm up
    per_network = {}
    for n in (1, len(models)):
        start = time.perf_counter()
        fit_batched([clone(m) for m in models[:n]], fits[:n], n_jobs=1)
        per_network[n] = (time.perf_counter() - start) / n
        print(f"stack of {n:2d}: {per_network[n]:.2f} s per network")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fit_batched([clone(m) for m in models], fits, n_jobs=1)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    bmm = next(e for e in events if e.key == "aten::bmm")
    share = bmm.self_cpu_time_total / total
    print(f"matrix products (aten::bmm): {share:.0%} of the stack's time")
    # if the stack's other work cost nothing, a network would take its share
    # of the products only
    ceiling = per_network[1] / (share * per_network[len(models)])
    print(f"ceiling of the gain per network: {ceiling:.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--nemo", default=str(NEMO))
    parser.add_argument("--profile", action="store_true", help="see the docstring")
    args = parser.parse_args()
    corpora = [load_corpus("emodb"), load_corpus(args.nemo)]
    X, y = _frame(corpora)
    fits = _fits(X, y, args.fits)
    template = MultiCorpusClassifier(max_epochs=args.epochs, early_stopping=False)
    models = [clone(template).set_params(random_state=i) for i in range(args.fits)]
    print(f"{args.fits} fits of {len(fits[0]['y'])} rows, {args.epochs} epochs")
    if args.profile:
        return _profile(models, fits)

    joblib.Parallel(n_jobs=args.n_jobs)(
        joblib.delayed(_warm_up)() for _ in range(args.n_jobs)
    )
    start = time.perf_counter()
    per_fit = joblib.Parallel(n_jobs=args.n_jobs)(
        joblib.delayed(_fit_one)(clone(m), f) for m, f in zip(models, fits, strict=True)
    )
    per_fit_s = time.perf_counter() - start

    start = time.perf_counter()
    batched = fit_batched([clone(m) for m in models], fits, n_jobs=args.n_jobs)
    batched_s = time.perf_counter() - start

    print(f"per fit : {per_fit_s:6.1f} s")
    print(f"batched : {batched_s:6.1f} s  ({per_fit_s / batched_s:.2f}x)")
    # the same distribution: training accuracy of both engines, paired
    scores = [
        (a.score(f["X"], f["y"]), b.score(f["X"], f["y"]))
        for a, b, f in zip(per_fit, batched, fits, strict=True)
    ]
    mean = np.mean(scores, axis=0)
    print(f"training accuracy: per fit {mean[0]:.3f}, batched {mean[1]:.3f}")


if __name__ == "__main__":
    main()
