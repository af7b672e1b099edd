# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""What both experiments share: fits as tasks, seeds, parallel execution.

One task is one fit of one method on the training folds of one step of the
cross-validation (repeat, fold). It is evaluated on the step's test fold and
becomes one record (one line of ``fits.jsonl``). Tasks run through joblib,
locally (loky processes) or on a dask cluster (joblib's dask backend); only
the main process writes records, as results arrive, so a dask cluster needs
no shared file system.
"""

import contextlib
import os
import platform
import sys
import time
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np

from sklearn_prognet.experiments._corpora import ExperimentInputError
from sklearn_prognet.metrics import uar_score

__all__ = ["FitTask", "derive_seed", "execute", "run_fit"]

METHOD_LABELS = {"dnn": "DNN", "ptft": "PT/FT", "prognet": "ProgNet"}
METHODS = tuple(METHOD_LABELS)

#: Table 1 of Gideon et al. (2017), and the estimators' early stopping.
PAPER_NETWORK = {
    "hidden_layer_sizes": (256, 256, 256, 256),
    "activation": "sigmoid",
    "dropout": 0.5,
    "lr": 0.0005,
    "batch_size": 64,
    "max_epochs": 600,
    "patience": 100,
}

#: What ``--quick`` changes (the network keeps the paper's architecture).
QUICK = {"n_splits": 5, "n_repeats": 2, "max_epochs": 150, "patience": 30}

# Decimals kept in the saved learning curves.
_CURVE_DECIMALS = 5


def network_params(network=None, device="cpu"):
    """The paper's network settings, updated with ``network``."""
    params = dict(PAPER_NETWORK)
    if network:
        unknown = set(network) - set(PAPER_NETWORK)
        if unknown:
            raise ExperimentInputError(
                f"Unknown network setting(s) {sorted(unknown)}; known: "
                f"{sorted(PAPER_NETWORK)}."
            )
        params.update(network)
    params["hidden_layer_sizes"] = tuple(int(s) for s in params["hidden_layer_sizes"])
    # Checked before the results folder records it, not in the first fit.
    from sklearn_prognet._estimators import _check_device

    try:
        params["device"] = _check_device(device)
    except ValueError as error:
        raise ExperimentInputError(str(error)) from None
    return params


def derive_seed(seed, *parts):
    """A 31-bit random state derived from ``seed`` and any labels.

    The same arguments always give the same value (no use of Python's
    salted ``hash``), and different labels give independent streams.

    Examples
    --------
    >>> from sklearn_prognet.experiments._runner import derive_seed
    >>> derive_seed(0, 1, 2, "dnn") == derive_seed(0, 1, 2, "dnn")
    True
    >>> derive_seed(0, 1, 2, "dnn") == derive_seed(0, 1, 2, "prognet")
    False
    """
    entropy = [int(seed)] + [zlib.crc32(str(part).encode()) for part in parts]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0] % (2**31 - 1))


@dataclass(frozen=True, eq=False)
class FitTask:
    """One fit: a method on the training folds of one cross-validation step."""

    key: str
    method: str
    source: str | None
    repeat: int
    fold: int
    n_train_folds: int
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    random_state: int
    source_random_state: int | None = None


@dataclass(eq=False)
class FitData:
    """Data shared by all tasks of a run (shipped once per task)."""

    X: np.ndarray
    y: np.ndarray
    network: dict
    lateral: str = "linear"
    source_labels: dict = field(default_factory=dict)
    fitted_source: object = None
    experiment: str = ""


def make_estimator(task, data):
    """The Pipeline (StandardScaler + network) of a task, and its fit params.

    The scaler is fitted on the training folds only; ``transform_input``
    passes the validation fold through it before it reaches the network,
    which uses it for early stopping.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_prognet import (
        DNNClassifier,
        FineTunedClassifier,
        ProgressiveNetClassifier,
    )

    params = dict(data.network)
    fit_params = {}
    source = None
    if task.method != "dnn":
        if data.fitted_source is not None:
            source = data.fitted_source
        else:
            # Trained inside fit, on the training folds only, from source_y.
            source = DNNClassifier(**params, random_state=task.source_random_state)
            fit_params["source_y"] = data.source_labels[task.source][task.train]
    if task.method == "dnn":
        net = DNNClassifier(**params, random_state=task.random_state)
    elif task.method == "ptft":
        net = FineTunedClassifier(
            source=source, **params, random_state=task.random_state
        )
    elif task.method == "prognet":
        net = ProgressiveNetClassifier(
            sources=[source],
            lateral=data.lateral,
            **params,
            random_state=task.random_state,
        )
    else:  # pragma: no cover - tasks are built by this package
        raise ValueError(f"Unknown method {task.method!r}.")
    request = {"X_val": True, "y_val": True}
    if "source_y" in fit_params:
        request["source_y"] = True
    net.set_fit_request(**request)
    pipe = Pipeline(
        [("scale", StandardScaler()), ("net", net)], transform_input=["X_val"]
    )
    return pipe, fit_params


def _curve(values):
    values = np.asarray(values, dtype=float)
    return [
        None if not np.isfinite(v) else round(float(v), _CURVE_DECIMALS) for v in values
    ]


@contextlib.contextmanager
def torch_thread_limit(n_threads):
    """Run torch with ``n_threads`` intra-op threads, then restore the count.

    None or 0 leaves torch's setting alone.
    """
    import torch

    threads = torch.get_num_threads()
    if n_threads:
        torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def training_record(net):
    """The fields of a fit's record that describe the network's training."""
    return {
        "best_epoch": int(net.best_epoch_),
        "n_epochs": int(net.n_iter_),
        "best_valid_uar": float(np.nanmax(net.history_["valid_uar"])),
        "history": {
            key: _curve(net.history_[key])
            for key in ("valid_uar", "train_loss", "valid_loss")
        },
    }


def threads_per_fit(torch_threads, n_jobs, backend):
    """The torch threads of each fit: the given count, or the cores shared out.

    By default (None) the machine's cores are divided among the fits that run
    at once: running fits side by side scales better than torch's intra-op
    threads for these small networks (two threads make one fit of the paper's
    network only about 1.4 times as fast as one thread), but a core left idle
    is wasted. A dask worker gets one thread, as the cluster's workers do.
    """
    if torch_threads is not None:
        return torch_threads
    if backend == "dask":
        return 1
    import joblib

    return max(1, joblib.cpu_count() // joblib.effective_n_jobs(n_jobs))


def run_fit(task, data, torch_threads=1):
    """Fit and evaluate one task; return its record (a JSON-able dict)."""
    import sklearn

    start = time.perf_counter()
    with torch_thread_limit(torch_threads):
        X, y = data.X, data.y
        with sklearn.config_context(enable_metadata_routing=True):
            pipe, fit_params = make_estimator(task, data)
            pipe.fit(
                X[task.train],
                y[task.train],
                X_val=X[task.validation],
                y_val=y[task.validation],
                **fit_params,
            )
        X_test = X[task.test]
        uar = uar_score(y[task.test], pipe.predict(X_test))
        net = pipe[-1]
        record = {
            "key": task.key,
            "experiment": data.experiment,
            "method": task.method,
            "source": task.source,
            "repeat": task.repeat,
            "fold": task.fold,
            "n_train_folds": task.n_train_folds,
            "uar": uar,
            "n_train": len(task.train),
            "n_val": len(task.validation),
            "n_test": len(task.test),
            "random_state": task.random_state,
        }
        source = _fitted_source(net)
        if source is not None:
            record.update(_source_scores(task, data, pipe, source))
        record.update(training_record(net))
        record["fit_time"] = round(time.perf_counter() - start, 3)
        record["worker"] = f"{platform.node()}:{os.getpid()}"
        return record


def _fitted_source(net):
    if hasattr(net, "sources_"):
        return net.sources_[0] if net.sources_ else None
    return getattr(net, "source_", None)


def _source_scores(task, data, pipe, source):
    """How well the source network does its own task on the test fold.

    Paralinguistic: speaker or gender UAR (skipped when the test fold has
    labels the source never saw, as with unseen speakers, or one class
    only). Cross-corpus: the source emotion model applied to the target's
    test fold without any adaptation (a zero-shot cross-corpus score).
    """
    scores = {
        "source_n_epochs": int(source.n_iter_),
        "source_best_epoch": int(source.best_epoch_),
    }
    if data.fitted_source is not None:
        labels = data.y
    else:
        labels = data.source_labels[task.source]
    y_test = labels[task.test]
    # A UAR over one class (a single-gender test fold) is that class's recall,
    # not comparable with the others: no score then.
    if np.isin(y_test, source.classes_).all() and len(np.unique(y_test)) > 1:
        X_test = pipe[:-1].transform(data.X[task.test])
        with warnings.catch_warnings():
            # predicted speakers that are absent from this fold
            warnings.filterwarnings("ignore", "y_pred contains classes not in y_true")
            scores["source_test_uar"] = uar_score(y_test, source.predict(X_test))
    return scores


@contextlib.contextmanager
def parallel_context(n_jobs=1, backend="loky", scheduler=None, scatter=None):
    """Configure joblib for the run; yield the n_jobs to pass to Parallel.

    ``backend='dask'`` connects to ``scheduler`` (an address), or starts a
    :class:`distributed.LocalCluster` with ``n_jobs`` single-threaded worker
    processes.
    """
    import joblib

    if backend != "dask":
        if scheduler is not None:
            raise ExperimentInputError("--scheduler is only used with --backend dask.")
        with joblib.parallel_config(backend=backend):
            yield n_jobs
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the environment
        raise ExperimentInputError(
            "--backend dask needs dask.distributed: "
            "pip install 'sklearn-prognet[dask]'."
        ) from None
    with contextlib.ExitStack() as stack:
        if scheduler is not None:
            try:
                client = Client(scheduler, timeout="10s", set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ExperimentInputError(
                    f"Cannot connect to the dask scheduler {scheduler!r}: {exc}"
                ) from None
        else:
            n_workers = joblib.effective_n_jobs(n_jobs)
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=n_workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            )
            client = Client(cluster, set_as_default=False)
        stack.enter_context(client)
        stack.enter_context(client.as_current())
        config = {"backend": "dask", "wait_for_workers_timeout": 60}
        if scatter:
            config["scatter"] = scatter
        with joblib.parallel_config(**config):
            yield -1


def check_execution(n_jobs, backend, scheduler, torch_threads):
    """Check the execution options before anything is loaded or written."""
    if backend not in ("loky", "dask"):
        raise ExperimentInputError(
            f"backend={backend!r} is not one of ['loky', 'dask']."
        )
    if scheduler is not None and backend != "dask":
        raise ExperimentInputError("--scheduler is only used with --backend dask.")
    if not isinstance(n_jobs, int) or n_jobs == 0:
        raise ExperimentInputError(f"n_jobs={n_jobs!r}: use 1, N or -1 (all cores).")
    if torch_threads is not None and (
        not isinstance(torch_threads, int) or torch_threads < 1
    ):
        raise ExperimentInputError(
            f"torch_threads={torch_threads!r} must be None or a positive integer."
        )


def _progress_bar(total, initial, desc, enabled):
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="fit",
        file=sys.stderr,
        disable=not enabled,
        dynamic_ncols=True,
        smoothing=0.05,
    )


def log(message):
    """Print a progress message on stderr."""
    print(message, file=sys.stderr, flush=True)


def execute(
    store,
    tasks,
    data,
    *,
    n_jobs=1,
    backend="loky",
    scheduler=None,
    progress=False,
    torch_threads=1,
    desc="fits",
    verbose=True,
):
    """Run the tasks not yet in ``store``, appending each record as it arrives.

    Returns
    -------
    n_run : int
        Number of fits run (and saved) by this call.
    """
    import joblib

    done = {record["key"] for record in store.records()}
    todo = [task for task in tasks if task.key not in done]
    n_done = len(tasks) - len(todo)
    if verbose:
        if n_done:
            log(
                f"Resuming: {n_done} of {len(tasks)} fits are already saved in "
                f"{store.fits_path}; {len(todo)} to run."
            )
        else:
            log(f"{len(todo)} fits to run; results go to {store.folder}.")
    if not todo:
        return 0
    n_run = 0
    bar = _progress_bar(len(tasks), n_done, desc, progress)
    try:
        with parallel_context(n_jobs, backend, scheduler, scatter=[data]) as jobs:
            parallel = joblib.Parallel(n_jobs=jobs, return_as="generator_unordered")
            results = parallel(
                joblib.delayed(run_fit)(task, data, torch_threads) for task in todo
            )
            for record in results:
                store.append(record)
                n_run += 1
                bar.update(1)
    finally:
        bar.close()
    return n_run


def check_folds(folds, y, *, what="emotion"):
    """Every training set must hold every class that is validated or tested."""
    classes = np.unique(y)
    for f in folds:
        missing = np.setdiff1d(classes, np.unique(y[f.train]))
        if len(missing):
            raise ExperimentInputError(
                f"The training folds of repeat {f.repeat}, fold {f.fold} have no "
                f"{what} {missing.tolist()}: the corpus has too few utterances of "
                "that class for these folds. Use fewer --n-splits, more training "
                "folds, or --protocol speaker-stratified."
            )


PROTOCOLS = ("speaker-stratified", "speaker-independent")


def make_folds(corpus, *, protocol, n_splits, n_repeats, seed, n_train_folds=None):
    """The paper's fold roles (test, validation, training folds) of a corpus.

    Returns
    -------
    folds : list of sklearn_prognet.model_selection.Fold
        One entry per step, repeat by repeat.
    notes : list of str
        Warnings of the splitter, to show to the user.
    """
    from sklearn_prognet.model_selection import FoldRoles, RepeatedStratifiedGroupKFold

    if protocol not in PROTOCOLS:
        raise ExperimentInputError(
            f"protocol={protocol!r} is not one of {list(PROTOCOLS)}."
        )
    if n_splits < 3:
        raise ExperimentInputError(
            f"n_splits={n_splits}: each step needs a test fold, a validation fold "
            "and at least one training fold, so at least 3 folds."
        )
    n_speakers = len(np.unique(corpus.speaker))
    if protocol == "speaker-independent" and n_speakers < n_splits:
        raise ExperimentInputError(
            f"Corpus {corpus.name!r} has {n_speakers} speaker(s), fewer than the "
            f"{n_splits} folds: the speaker-independent protocol puts whole speakers "
            f"in each fold. Use --n-splits {n_speakers} or fewer (at least 3), or "
            "--protocol speaker-stratified."
        )
    classes, counts = np.unique(corpus.emotion, return_counts=True)
    if counts.min() < n_splits:
        raise ExperimentInputError(
            f"Corpus {corpus.name!r} has only {counts.min()} utterance(s) of "
            f"{classes[counts.argmin()]!r}, fewer than the {n_splits} folds; use "
            "fewer --n-splits or drop that emotion with --emotions."
        )
    cv = RepeatedStratifiedGroupKFold(
        n_splits=n_splits,
        n_repeats=n_repeats,
        protocol=protocol.replace("-", "_"),
        random_state=seed,
    )
    roles = FoldRoles(
        cv, validation="next", n_train_folds=n_train_folds, random_state=seed
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            folds = list(roles.split_roles(corpus.X, corpus.emotion, corpus.speaker))
        except ValueError as exc:
            raise ExperimentInputError(
                f"Cannot split corpus {corpus.name!r} into folds: {exc}"
            ) from None
    notes = list(dict.fromkeys(str(w.message) for w in caught))
    check_folds(folds, corpus.emotion)
    return folds, notes


def check_source_labels(folds, labels, task, corpus_name):
    """Check that source labels suit the source networks of every step.

    A source network is trained on the training folds with its own early
    stopping split, stratified on its labels: every label needs 2 samples.
    """
    for f in folds:
        values, counts = np.unique(labels[f.train], return_counts=True)
        if len(values) < 2:
            raise ExperimentInputError(
                f"The training folds of repeat {f.repeat}, fold {f.fold} of corpus "
                f"{corpus_name!r} hold a single {task} ({values[0]!r}): the {task} "
                f"source task needs at least 2. Drop it from --sources."
            )
        if counts.min() < 2:
            raise ExperimentInputError(
                f"{task.capitalize()} {values[counts.argmin()]!r} has a single "
                f"utterance in the training folds of repeat {f.repeat}, fold "
                f"{f.fold} of corpus {corpus_name!r}; the {task} source network "
                "needs at least 2 per class for its early stopping. Drop the "
                f"{task} source (--sources), or remove such {task}s from the corpus."
            )
