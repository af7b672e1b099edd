# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Cross-corpus transfer with fewer target training folds (Figure 4)."""

import io
import math
import os
import time

import numpy as np

from sklearn_prognet.experiments._corpora import (
    PAPER_EMOTIONS,
    Corpus,
    ExperimentInputError,
    load_corpus,
)
from sklearn_prognet.experiments._results import (
    ResultsStore,
    package_versions,
    write_atomic,
)
from sklearn_prognet.experiments._runner import (
    METHODS,
    FitData,
    FitTask,
    check_execution,
    derive_seed,
    execute,
    log,
    make_folds,
    network_params,
    parallel_context,
    threads_per_fit,
    torch_thread_limit,
    training_record,
)

__all__ = ["default_train_folds", "run_cross_corpus"]

FORMAT_VERSION = 2
SOURCE_MODEL_FILE = "source_model.joblib"


def default_train_folds(n_splits):
    """Return the numbers of training folds of the paper's Figure 4: 8, 4, 2, 1.

    All training folds (``n_splits - 2``), then the powers of two below.

    Parameters
    ----------
    n_splits : int
        Folds per repeat.

    Returns
    -------
    train_folds : list of int
        Decreasing numbers of training folds.

    See Also
    --------
    run_cross_corpus : Uses them by default.

    Examples
    --------
    >>> from sklearn_prognet.experiments import default_train_folds
    >>> default_train_folds(10), default_train_folds(5)
    ([8, 4, 2, 1], [3, 2, 1])
    """
    n = n_splits - 2
    if n < 1:
        return []
    powers = [2**k for k in range(int(math.log2(n)), -1, -1) if 2**k < n]
    return [n, *powers]


def _align_features(source, target):
    """Give the target the source's feature columns, in the same order."""
    if list(source.feature_names) == list(target.feature_names):
        return target
    missing = [f for f in source.feature_names if f not in target.feature_names]
    if missing or len(source.feature_names) != len(target.feature_names):
        raise ExperimentInputError(
            f"Source corpus {source.name!r} and target corpus {target.name!r} have "
            f"different features ({len(source.feature_names)} and "
            f"{len(target.feature_names)} columns; e.g. {missing[:3]} missing from "
            "the target): both need the same feature set."
        )
    order = [target.feature_names.index(f) for f in source.feature_names]
    return Corpus(
        name=target.name,
        X=target.X[:, order],
        emotion=target.emotion,
        speaker=target.speaker,
        gender=target.gender,
        feature_names=list(source.feature_names),
        spec=target.spec,
        files=target.files,
        description=target.description,
    )


def _check_disjoint(source, target):
    """Refuse a source corpus that holds target utterances or speakers.

    The source model trains on all of the source, so anything it shares with
    the target is in the target's test folds too.
    """
    shared = []
    if source.files is not None and target.files is not None:
        # the same file of the same speaker: the same utterance
        shared = sorted(name for name, _ in _utterances(source) & _utterances(target))
    if not shared:
        rows = {row.tobytes() for row in np.ascontiguousarray(source.X)}
        shared = [
            f"row {i}"
            for i, row in enumerate(np.ascontiguousarray(target.X))
            if row.tobytes() in rows
        ]
    if shared:
        raise ExperimentInputError(
            f"The source corpus {source.name!r} holds {len(shared)} utterances of "
            f"the target corpus {target.name!r} (e.g. {shared[:3]}): the source "
            "model would train on the target's test folds. Use disjoint corpora."
        )
    if source.name == target.name:
        speakers = sorted(set(source.speaker) & set(target.speaker))
        if speakers:
            raise ExperimentInputError(
                f"Source and target are both {source.name!r} and share speakers "
                f"{speakers[:5]}: the source model would train on speakers of the "
                "target's test folds. Use another corpus, or disjoint speakers."
            )


def _utterances(corpus):
    names = [os.path.basename(str(file)) for file in corpus.files]
    return set(zip(names, corpus.speaker, strict=True))


def fit_source_model(
    corpus, network, random_state, torch_threads=1, protocol="speaker-stratified"
):
    """Train the source emotion model on all of a corpus.

    A :class:`~sklearn.pipeline.Pipeline` of a StandardScaler (the corpus's
    own z-normalisation) and a DNN with early stopping on 10% of the
    utterances, held out as the protocol's folds are: stratified on emotion
    (``'speaker-stratified'``), or whole speakers (``'speaker-independent'``).

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        The fitted pipeline; its last step is the source network.
    record : dict
        The fit's record for ``fits.jsonl``.
    """
    import sklearn
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_prognet import DNNClassifier

    start = time.perf_counter()
    with torch_thread_limit(torch_threads):
        with sklearn.config_context(enable_metadata_routing=True):
            net = DNNClassifier(**network, random_state=random_state)
            net.set_fit_request(groups=True)
            pipe = Pipeline([("scale", StandardScaler()), ("net", net)])
            groups = corpus.speaker if protocol == "speaker-independent" else None
            pipe.fit(corpus.X, np.asarray(corpus.emotion), groups=groups)
    record = {
        "key": "source",
        "experiment": "cross-corpus",
        "method": "source",
        "source": corpus.name,
        "n_train": corpus.n_samples,
        "random_state": random_state,
        **training_record(pipe[-1]),
        "fit_time": round(time.perf_counter() - start, 3),
    }
    return pipe, record


def _source_model(store, source, params, seed, protocol, execution):
    """Load the saved source model, or train it and save it."""
    import joblib

    path = store.folder / SOURCE_MODEL_FILE
    done = any(r["key"] == "source" for r in store.records())
    if done and path.exists():
        return joblib.load(path)
    log(
        f"Training the source model on the {source.n_samples} utterances of "
        f"{source.name}."
    )

    random_state = derive_seed(seed, "source-model")
    n_jobs, backend, scheduler, threads = execution
    if backend == "dask":
        # On the cluster, like the other fits.
        with parallel_context(n_jobs, backend, scheduler) as jobs:
            ((pipe, record),) = joblib.Parallel(n_jobs=jobs)(
                [
                    joblib.delayed(fit_source_model)(
                        source, params, random_state, threads, protocol
                    )
                ]
            )
    else:
        pipe, record = fit_source_model(source, params, random_state, threads, protocol)
    # The model file first, then the record that says it is done.
    buffer = io.BytesIO()
    joblib.dump(pipe, buffer)
    write_atomic(path, buffer.getvalue())
    if not done:
        store.append(record)
    return pipe


def run_cross_corpus(
    out,
    source,
    target,
    *,
    emotions=PAPER_EMOTIONS,
    protocol="speaker-stratified",
    n_splits=10,
    n_repeats=10,
    train_folds=None,
    seed=0,
    network=None,
    lateral="linear",
    device="cpu",
    alpha=0.05,
    ttest_df=10,
    n_jobs=1,
    backend="loky",
    scheduler=None,
    torch_threads=None,
    cache_dir=None,
    resample=None,
    progress=False,
    verbose=True,
    command=None,
):
    """Run the cross-corpus transfer experiment of Gideon et al. (2017).

    An emotion model (a DNN) is trained on all of the source corpus. On the
    target corpus, a repeated k-fold cross-validation (one test fold, one
    validation fold for early stopping) trains, on ``n`` of the training
    folds for every ``n`` in ``train_folds``, a DNN on the target alone, the
    source model fine-tuned (PT/FT) and a progressive network with the
    source model as frozen column (ProgNet). Each corpus is z-normalised on
    its own training data. Every fit is saved as it finishes (a killed run
    resumes), then the report (Figure 4 analogue) is written to ``out``.

    Parameters
    ----------
    out : str or os.PathLike
        Results folder (resumed if it holds a run with the same settings).
    source : str or Corpus
        Source corpus spec (see :func:`load_corpus`), e.g. ``'emodb'``.
    target : str or Corpus
        Target corpus spec, e.g. ``'urdu:/data/urdu'``. It must share no
        utterance with the source (the same file of the same speaker, or the
        same feature row), nor, if both have the same name, any speaker: the
        source model trains on all of the source, so whatever the two share
        would leak into the target's test folds.
    emotions : sequence of str, default=('angry', 'happy', 'neutral', 'sad')
        Emotion classes; both corpora must have them all.
    protocol : {'speaker-stratified', 'speaker-independent'}, \
default='speaker-stratified'
        Folds of the target corpus.
    n_splits : int, default=10
        Folds per repeat.
    n_repeats : int, default=10
        Repeats.
    train_folds : sequence of int, default=None
        Numbers of training folds to use; None means
        :func:`default_train_folds` (8, 4, 2, 1 for 10 folds).
    seed : int, default=0
        Seed of the folds, the source model and every fit.
    network : dict, default=None
        Changes to the paper's network settings.
    lateral : {'linear', 'adapter'}, default='linear'
        Lateral connections of the progressive networks.
    device : str, default='cpu'
        The torch device of the networks.
    alpha : float, default=0.05
        Significance level of the marks in the report.
    ttest_df : int or None, default=10
        Degrees of freedom of the corrected t-test.
    n_jobs : int, default=1
        Fits run in parallel.
    backend : {'loky', 'dask'}, default='loky'
        joblib backend.
    scheduler : str, default=None
        Address of a dask scheduler.
    torch_threads : int or None, default=None
        The torch threads of each fit. None divides the machine's cores among
        the ``n_jobs`` fits that run at once (one thread per fit with dask).
    cache_dir : str or None, default=None
        Feature cache of audio corpora.
    resample : int or None, default=None
        Sampling rate to convert audio corpora to before extraction (see
        :func:`load_corpus`); corpora recorded at different rates should be
        compared at a common one.
    progress : bool, default=False
        Show a progress bar on stderr.
    verbose : bool, default=True
        Print what is done on stderr.
    command : list of str, default=None
        Command line saved in ``config.json``.

    Returns
    -------
    result : ExperimentResult
        The results folder, the per-fit scores and the report's path.

    See Also
    --------
    run_paralinguistic : The paralinguistic experiment (Table 2).
    render_report : Render the report of a results folder again.

    Examples
    --------
    >>> from sklearn_prognet.experiments import run_cross_corpus
    >>> result = run_cross_corpus(  # doctest: +SKIP
    ...     "results/emodb-to-urdu", "emodb", "urdu:../shared/corpora/urdu",
    ...     n_splits=5, n_repeats=2)
    """
    from sklearn_prognet.experiments._paralinguistic import _describe
    from sklearn_prognet.experiments._report import ExperimentResult, render_report

    check_execution(n_jobs, backend, scheduler, torch_threads)
    # the source model trains alone, the target fits n_jobs at a time
    source_threads = threads_per_fit(torch_threads, 1, backend)
    torch_threads = threads_per_fit(torch_threads, n_jobs, backend)
    params = network_params(network, device)
    if train_folds is None:
        train_folds = default_train_folds(n_splits)
    train_folds = sorted({int(n) for n in train_folds}, reverse=True)
    if not train_folds or train_folds[-1] < 1 or train_folds[0] > n_splits - 2:
        raise ExperimentInputError(
            f"train_folds={train_folds}: each must be between 1 and n_splits - 2 = "
            f"{n_splits - 2} (one fold is for testing, one for validation)."
        )
    options = {
        "emotions": emotions,
        "cache_dir": cache_dir,
        "resample": resample,
        "n_jobs": n_jobs,
        "verbose": int(progress),
    }
    source_corpus = load_corpus(source, **options)
    target_corpus = load_corpus(target, **options)
    if sorted(set(source_corpus.emotion)) != sorted(set(target_corpus.emotion)):
        raise ExperimentInputError(
            f"Source and target corpora have different emotions: "
            f"{sorted(set(source_corpus.emotion))} and "
            f"{sorted(set(target_corpus.emotion))}; choose common ones with --emotions."
        )
    target_corpus = _align_features(source_corpus, target_corpus)
    _check_disjoint(source_corpus, target_corpus)
    if verbose:
        log("Source: " + _describe(source_corpus))
        log("Target: " + _describe(target_corpus))
    if len(np.unique(source_corpus.speaker)) < 2:
        raise ExperimentInputError(
            f"Source corpus {source_corpus.name!r} has a single speaker; its model "
            "holds out whole speakers for early stopping, so it needs at least 2."
        )
    folds_by_n, notes = {}, []
    for n in train_folds:
        folds, new = make_folds(
            target_corpus,
            protocol=protocol,
            n_splits=n_splits,
            n_repeats=n_repeats,
            seed=seed,
            n_train_folds=n,
        )
        folds_by_n[n] = folds
        notes += [note for note in new if note not in notes]
    for note in notes:
        log(f"note: {note}")

    def corpus_id(corpus):
        return {
            "name": corpus.name,
            "fingerprint": corpus.fingerprint(),
            "n_samples": corpus.n_samples,
        }

    config = {
        "experiment": "cross-corpus",
        "format_version": FORMAT_VERSION,
        "source": corpus_id(source_corpus),
        "target": corpus_id(target_corpus),
        "emotions": sorted(set(target_corpus.emotion)),
        "protocol": protocol,
        "n_splits": n_splits,
        "n_repeats": n_repeats,
        "train_folds": train_folds,
        "seed": seed,
        "network": params,
        "lateral": lateral,
    }
    extra = {
        "analysis": {"alpha": alpha, "ttest_df": ttest_df},
        "source_info": source_corpus.summary(),
        "target_info": target_corpus.summary(),
        "notes": notes,
        "runtime": {
            "n_jobs": n_jobs,
            "backend": backend,
            "scheduler": scheduler,
            "torch_threads": torch_threads,
        },
        "command": command,
        "versions": package_versions(),
    }
    tasks = []
    for n in train_folds:
        for f in folds_by_n[n]:
            for method in METHODS:
                arm = f"{method}@{n}"
                tasks.append(
                    FitTask(
                        key=f"t{n}/r{f.repeat:02d}/f{f.fold:02d}/{method}",
                        method=method,
                        source=None if method == "dnn" else source_corpus.name,
                        repeat=f.repeat,
                        fold=f.fold,
                        n_train_folds=n,
                        train=f.train,
                        validation=f.validation,
                        test=f.test,
                        random_state=derive_seed(seed, f.repeat, f.fold, arm),
                    )
                )
    with ResultsStore(out, config, extra) as store:
        pipe = _source_model(
            store,
            source_corpus,
            params,
            seed,
            protocol,
            (n_jobs, backend, scheduler, source_threads),
        )
        data = FitData(
            X=target_corpus.X,
            y=np.asarray(target_corpus.emotion),
            network=params,
            lateral=lateral,
            fitted_source=pipe[-1],
            experiment="cross-corpus",
        )
        execute(
            store,
            tasks,
            data,
            n_jobs=n_jobs,
            backend=backend,
            scheduler=scheduler,
            progress=progress,
            torch_threads=torch_threads,
            desc="cross-corpus",
            verbose=verbose,
        )
    report = render_report(out, alpha=alpha, ttest_df=ttest_df)
    return ExperimentResult.load(out, report)
