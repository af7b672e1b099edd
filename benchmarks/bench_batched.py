"""The batched engine against per-fit training of the paper's protocol.

Run it with ``python benchmarks/bench_batched.py`` (``make bench``). Both
engines fit the same tasks: the three methods of Gideon et al. (2017) (DNN,
PT/FT and ProgNet, the last two on a source network trained on the speakers'
gender inside every fit, as the paralinguistic experiment does), each in a
StandardScaler pipeline, with the paper's network and early stopping on the
validation fold of :class:`~sklearn_prognet.model_selection.FoldRoles`.

- ``per-fit``: one task per joblib (loky) job, ``n_jobs`` jobs at once, each
  with ``cores / n_jobs`` torch threads (what the experiment runner does);
- ``batched, n_jobs=2``: :func:`~sklearn_prognet.model_selection.fit_batched`
  on all tasks at once, every stack cut in two and trained in two worker
  processes with one thread each (``--in-process`` adds the same in this
  process on all of torch's threads).

The first table runs the full protocol (10 folds x ``--repeats`` repeats) on
the embedded EmoDB table, to convergence. The second times a few epochs
without early stopping on random data shaped like IEMOCAP in the paper
(5531 x 88, 4 classes) and with 1024 features, and extrapolates the time of a
full 10 x 10 protocol. The share of peak is the arithmetic of training (the
matrix products of the trained column: forward, weight and input gradients;
validation forward passes) per second, over the fp32 matrix-product rate of
this machine measured with a large matrix product.
"""

import argparse
import functools
import os
import time

import joblib
import numpy as np
import sklearn
import torch
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_prognet import DNNClassifier, FineTunedClassifier, ProgressiveNetClassifier
from sklearn_prognet.datasets import load_emodb_features
from sklearn_prognet.metrics import uar_score
from sklearn_prognet.model_selection import (
    FoldRoles,
    RepeatedStratifiedGroupKFold,
    fit_batched,
)

METHODS = ("dnn", "ptft", "prognet")


def peak_gflops(n=2048, repeats=5):
    """The best fp32 matrix-product rate of torch here, in GFLOP/s."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def make_model(method, network, seed, source_seed):
    """A task's pipeline (as the experiment runner builds it)."""
    if method == "dnn":
        net = DNNClassifier(**network, random_state=seed)
    else:
        source = DNNClassifier(**network, random_state=source_seed)
        if method == "ptft":
            net = FineTunedClassifier(source=source, **network, random_state=seed)
        else:
            net = ProgressiveNetClassifier(
                sources=[source], **network, random_state=seed
            )
    # as the runner: the validation fold goes through the scaler too
    with sklearn.config_context(enable_metadata_routing=True):
        net.set_fit_request(X_val=True, y_val=True)
        if method != "dnn":
            net.set_fit_request(source_y=True)
    return Pipeline(
        [("scale", StandardScaler()), ("net", net)], transform_input=["X_val"]
    )


def tasks(X, y, groups, n_splits, repeats, methods):
    """One (method, fold, seeds) task per method and step of the protocol."""
    roles = FoldRoles(
        RepeatedStratifiedGroupKFold(
            n_splits=n_splits, n_repeats=repeats, random_state=0
        ),
        random_state=0,
    )
    out = []
    for k, fold in enumerate(roles.split_roles(X, y, groups)):
        for m, method in enumerate(methods):
            out.append((method, fold, 1000 * k + m, 1000 * k + 99))
    return out


def _fit_args(X, y, aux, fold):
    fit = {
        "X": X[fold.train],
        "y": y[fold.train],
        "X_val": X[fold.validation],
        "y_val": y[fold.validation],
    }
    if aux is not None:
        fit["source_y"] = aux[fold.train]
    return fit


def _per_fit_one(task, X, y, aux, network, threads):
    torch.set_num_threads(threads)
    method, fold, seed, source_seed = task
    model = make_model(method, network, seed, source_seed)
    fit = _fit_args(X, y, None if method == "dnn" else aux, fold)
    X_fit, y_fit = fit.pop("X"), fit.pop("y")
    with sklearn.config_context(enable_metadata_routing=True):
        model.fit(X_fit, y_fit, **fit)
    return model


def run_per_fit(task_list, X, y, aux, network, n_jobs):
    """Fit every task on its own, ``n_jobs`` at a time; return the models."""
    threads = max(1, os.cpu_count() // n_jobs)
    return joblib.Parallel(n_jobs=n_jobs)(
        joblib.delayed(_per_fit_one)(task, X, y, aux, network, threads)
        for task in task_list
    )


def run_batched(task_list, X, y, aux, network, n_jobs=None):
    """Fit all tasks with the batched engine; return the models."""
    models, fits = [], []
    for method, fold, seed, source_seed in task_list:
        pipe = make_model(method, network, seed, source_seed)
        models.append(pipe)
        fits.append(_fit_args(X, y, None if method == "dnn" else aux, fold))
    return fit_batched(models, fits, n_jobs=n_jobs)


def _macs(network, n_features, n_classes, lateral_width):
    """Multiply-adds of one row through the trained column (and laterals)."""
    widths = (n_features, *network["hidden_layer_sizes"], n_classes)
    own = sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    if not lateral_width:
        return own
    # laterals from every frozen layer into the next layer and the output
    return own + sum(lateral_width * b for b in widths[2:])


def training_flop(models, task_list, n_features, network):
    """The arithmetic of training all models (sources included), in FLOP."""
    total = 0.0
    sources = {}
    for pipe, (_, fold, _, _) in zip(models, task_list, strict=True):
        net = pipe[-1]
        lateral = 256 if isinstance(net, ProgressiveNetClassifier) else 0
        n_classes = len(net.classes_)
        macs = _macs(network, n_features, n_classes, lateral)
        n_train, n_val = len(fold.train), len(fold.validation)
        total += net.n_iter_ * (6 * macs * n_train + 2 * macs * n_val)
        source = (
            getattr(net, "source_", None)
            or (getattr(net, "sources_", None) or [None])[0]
        )
        if source is not None:
            sources[id(source)] = (source, n_train)
    for source, n_rows in sources.values():
        macs = _macs(network, n_features, len(source.classes_), 0)
        # a source holds out a tenth of its rows for early stopping
        total += source.n_iter_ * macs * n_rows * (6 * 0.9 + 2 * 0.1)
    return total


def _uars(models, task_list, X, y):
    out = {method: [] for method in METHODS}
    for pipe, (method, fold, _, _) in zip(models, task_list, strict=True):
        out[method].append(uar_score(y[fold.test], pipe.predict(X[fold.test])))
    return {m: float(np.mean(v)) for m, v in out.items() if v}


# --in-process adds the batched engine on both cores' threads in this
# process: on a machine shared with other work, its threads wait for each
# other at every small product and it runs several times slower than two
# processes of one thread (measured, see the benchmarks page).
IN_PROCESS = False


def engines(task_list, X, y, aux, network):
    """(name, callable) of the engines compared, per-fit first."""
    args = (task_list, X, y, aux, network)
    out = [
        ("per-fit, n_jobs=2", functools.partial(run_per_fit, *args, 2)),
        ("batched, n_jobs=2", functools.partial(run_batched, *args, 2)),
    ]
    if IN_PROCESS:
        out.append(("batched, in-process", functools.partial(run_batched, *args)))
    return out


def emodb_table(args, peak, network):
    emodb = load_emodb_features()
    X, y, aux = emodb.data, emodb.target, emodb.gender
    task_list = tasks(X, y, emodb.speaker, 10, args.repeats, METHODS)
    n_features = X.shape[1]
    print(
        f"\nEmoDB ({len(y)} x {n_features}), 10 folds x {args.repeats} repeats, "
        f"{len(task_list)} tasks (DNN, PT/FT, ProgNet; gender sources), paper "
        f"network (max_epochs={network['max_epochs']}, "
        f"patience={network['patience']})\n"
    )
    print(
        "| engine | seconds | ratio | GFLOP/s | share of peak "
        "| mean UAR (DNN, PT/FT, ProgNet) |"
    )
    print("|---|---|---|---|---|---|")
    reference = None
    for name, run in engines(task_list, X, y, aux, network):
        start = time.perf_counter()
        models = run()
        seconds = time.perf_counter() - start
        reference = reference or seconds
        rate = training_flop(models, task_list, n_features, network) / seconds / 1e9
        uars = _uars(models, task_list, X, y)
        print(
            f"| {name} | {seconds:.1f} | {reference / seconds:.2f}x | {rate:.1f} | "
            f"{100 * rate / peak:.1f} % | "
            + ", ".join(f"{uars[m]:.3f}" for m in METHODS)
            + " |",
            flush=True,
        )


def shaped_table(args, peak, network):
    """A few epochs on IEMOCAP-shaped data; extrapolated to the protocol."""
    epochs = args.shaped_epochs
    fixed = {**network, "max_epochs": epochs, "early_stopping": False}
    print(
        f"\nRandom data shaped like IEMOCAP (5531 rows, 4 classes, 10 speakers), "
        f"10 folds x 1 repeat, DNN and ProgNet (gender source), {epochs} epochs "
        "without early stopping; extrapolated to 10 x 10 folds with its sources "
        f"and {args.assumed_epochs} epochs per network\n"
    )
    print(
        "| features | engine | seconds | ms per network-epoch | ratio "
        "| share of peak | 10 x 10 protocol (h) |"
    )
    print("|---|---|---|---|---|---|---|")
    for n_features in (88, 1024):
        rng = np.random.RandomState(0)
        X = rng.standard_normal((5531, n_features)).astype(np.float32)
        y = rng.randint(0, 4, 5531)
        speaker = rng.randint(0, 10, 5531)
        gender = speaker % 2
        task_list = tasks(X, y, speaker, 10, 1, ("dnn", "prognet"))
        reference = None
        for name, run in engines(task_list, X, y, gender, fixed):
            start = time.perf_counter()
            models = run()
            seconds = time.perf_counter() - start
            reference = reference or seconds
            flop = training_flop(models, task_list, n_features, network)
            # networks trained: the targets and one source per ProgNet
            n_networks = len(task_list) + len(task_list) // 2
            per_epoch = seconds / (n_networks * epochs)
            # 100 steps x (DNN, PT/FT, ProgNet and their shared source)
            hours = per_epoch * 100 * 4 * args.assumed_epochs / 3600
            print(
                f"| {n_features} | {name} | {seconds:.1f} | {1000 * per_epoch:.0f} | "
                f"{reference / seconds:.2f}x | "
                f"{100 * flop / seconds / 1e9 / peak:.1f} % | {hours:.1f} |",
                flush=True,
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--shaped-epochs", type=int, default=3)
    parser.add_argument("--assumed-epochs", type=int, default=300)
    parser.add_argument("--skip-emodb", action="store_true")
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args(argv)
    global IN_PROCESS
    IN_PROCESS = args.in_process
    network = DNNClassifier().get_params()
    network = {
        key: network[key]
        for key in (
            "hidden_layer_sizes",
            "activation",
            "dropout",
            "lr",
            "batch_size",
            "max_epochs",
            "patience",
        )
    }
    if args.max_epochs:
        network["max_epochs"] = args.max_epochs
    peak = peak_gflops()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} cores; fp32 matrix-product peak {peak:.0f} GFLOP/s "
        "(2048 x 2048)"
    )
    shaped_table(args, peak, network)
    if not args.skip_emodb:
        emodb_table(args, peak, network)


if __name__ == "__main__":
    main()
