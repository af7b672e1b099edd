# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Paralinguistic transfer: speaker and gender to emotion (Table 2, Figure 3)."""

import numpy as np

from sklearn_prognet.experiments._corpora import (
    PAPER_EMOTIONS,
    ExperimentInputError,
    load_corpus,
)
from sklearn_prognet.experiments._results import ResultsStore, package_versions
from sklearn_prognet.experiments._runner import (
    FitData,
    FitTask,
    check_execution,
    check_source_labels,
    derive_seed,
    execute,
    log,
    make_folds,
    network_params,
    threads_per_fit,
)

__all__ = ["run_paralinguistic"]

SOURCE_TASKS = ("speaker", "gender")
FORMAT_VERSION = 1


def arms(sources):
    """(arm id, method, source) of the paralinguistic experiment."""
    out = [("dnn", "dnn", None)]
    for source in sources:
        out += [
            (f"ptft-{source}", "ptft", source),
            (f"prognet-{source}", "prognet", source),
        ]
    return out


def run_paralinguistic(
    out,
    corpus="emodb",
    *,
    sources=SOURCE_TASKS,
    emotions=PAPER_EMOTIONS,
    protocol="speaker-stratified",
    n_splits=10,
    n_repeats=10,
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
    """Run the paralinguistic transfer experiment of Gideon et al. (2017).

    Emotion is the target task. For every step of a repeated k-fold
    cross-validation (one test fold, one validation fold for early stopping,
    the other folds for training) it fits a DNN, and for every source task
    (speaker identity, gender) a pre-trained / fine-tuned network (PT/FT) and
    a progressive network (ProgNet) whose source network is trained on the
    training folds only. Features are z-normalised on the training folds
    (a :class:`~sklearn.preprocessing.StandardScaler` in a
    :class:`~sklearn.pipeline.Pipeline`). Every fit is saved as it finishes,
    so a killed run resumes where it stopped; then the report (Table 2 and
    Figure 3 analogues) is written to ``out``.

    Parameters
    ----------
    out : str or os.PathLike
        Results folder. An existing folder is resumed if it holds a run with
        the same settings and refused otherwise.
    corpus : str or Corpus, default='emodb'
        Corpus spec (see :func:`load_corpus`): the embedded EmoDB features
        by default.
    sources : sequence of {'speaker', 'gender'}, default=('speaker', 'gender')
        Source tasks.
    emotions : sequence of str, default=('angry', 'happy', 'neutral', 'sad')
        Emotion classes (the paper's four).
    protocol : {'speaker-stratified', 'speaker-independent'}, \
default='speaker-stratified'
        Folds stratified on speaker (the paper; every speaker is in every
        fold) or made of whole speakers.
    n_splits : int, default=10
        Folds per repeat.
    n_repeats : int, default=10
        Repeats of the cross-validation.
    seed : int, default=0
        Seed of the folds and, with (repeat, fold, method), of every fit.
    network : dict, default=None
        Changes to the paper's network settings (``hidden_layer_sizes``,
        ``activation``, ``dropout``, ``lr``, ``batch_size``, ``max_epochs``,
        ``patience``).
    lateral : {'linear', 'adapter'}, default='linear'
        Lateral connections of the progressive networks.
    device : str, default='cpu'
        The torch device of the networks.
    alpha : float, default=0.05
        Significance level of the marks in the report.
    ttest_df : int or None, default=10
        Degrees of freedom of the corrected t-test (the paper's 10; None
        means the number of paired scores minus one).
    n_jobs : int, default=1
        Fits run in parallel (joblib; -1 means all cores or all dask
        workers).
    backend : {'loky', 'dask'}, default='loky'
        joblib backend. ``'dask'`` uses the scheduler at ``scheduler`` or a
        local cluster of ``n_jobs`` worker processes.
    scheduler : str, default=None
        Address of a dask scheduler (with ``backend='dask'``).
    torch_threads : int or None, default=None
        The torch threads of each fit. None divides the machine's cores among
        the ``n_jobs`` fits that run at once (one thread per fit with dask).
    cache_dir : str or None, default=None
        Feature cache of audio corpora (see :func:`load_corpus`).
    resample : int or None, default=None
        Sampling rate to convert audio corpora to before extraction (see
        :func:`load_corpus`).
    progress : bool, default=False
        Show a progress bar with an ETA on stderr.
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
    run_cross_corpus : The cross-corpus experiment (Figure 4).
    render_report : Render the report of a results folder again.

    Examples
    --------
    A tiny run (the paper's protocol takes hours on a CPU):

    >>> from sklearn_prognet.experiments import run_paralinguistic
    >>> result = run_paralinguistic(  # doctest: +SKIP
    ...     "results/tiny", n_splits=3, n_repeats=1, sources=["gender"],
    ...     network={"hidden_layer_sizes": (16,), "max_epochs": 5})
    >>> result.scores.groupby("arm")["uar"].size()  # doctest: +SKIP
    arm
    dnn               3
    prognet-gender    3
    ptft-gender       3
    Name: uar, dtype: int64
    """
    from sklearn_prognet.experiments._report import ExperimentResult, render_report

    if not sources:
        raise ExperimentInputError("sources is empty: pass 'speaker' and/or 'gender'.")
    unknown = [s for s in sources if s not in SOURCE_TASKS]
    if unknown:
        raise ExperimentInputError(
            f"Unknown source task(s) {unknown}; choose among {list(SOURCE_TASKS)}."
        )
    # One order, so that "gender,speaker" resumes a "speaker,gender" run.
    sources = [task for task in SOURCE_TASKS if task in sources]
    check_execution(n_jobs, backend, scheduler, torch_threads)
    torch_threads = threads_per_fit(torch_threads, n_jobs, backend)
    params = network_params(network, device)
    corpus = load_corpus(
        corpus,
        emotions=emotions,
        cache_dir=cache_dir,
        resample=resample,
        n_jobs=n_jobs,
        verbose=int(progress),
    )
    if verbose:
        log(_describe(corpus))
    if "gender" in sources and (corpus.gender is None):
        raise ExperimentInputError(
            f"Corpus {corpus.name!r} has no gender labels; use --sources speaker."
        )
    folds, notes = make_folds(
        corpus, protocol=protocol, n_splits=n_splits, n_repeats=n_repeats, seed=seed
    )
    source_labels = {}
    for source in sources:
        labels = corpus.speaker if source == "speaker" else corpus.gender
        check_source_labels(folds, labels, source, corpus.name)
        source_labels[source] = np.asarray(labels)
    for note in notes:
        log(f"note: {note}")

    config = {
        "experiment": "paralinguistic",
        "format_version": FORMAT_VERSION,
        "corpus": {
            "name": corpus.name,
            "fingerprint": corpus.fingerprint(),
            "n_samples": corpus.n_samples,
        },
        "emotions": sorted(set(corpus.emotion)),
        "sources": sources,
        "protocol": protocol,
        "n_splits": n_splits,
        "n_repeats": n_repeats,
        "seed": seed,
        "network": params,
        "lateral": lateral,
    }
    extra = {
        "analysis": {"alpha": alpha, "ttest_df": ttest_df},
        "corpus_info": corpus.summary(),
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
    for f in folds:
        for arm, method, source in arms(sources):
            tasks.append(
                FitTask(
                    key=f"r{f.repeat:02d}/f{f.fold:02d}/{arm}",
                    method=method,
                    source=source,
                    repeat=f.repeat,
                    fold=f.fold,
                    n_train_folds=n_splits - 2,
                    train=f.train,
                    validation=f.validation,
                    test=f.test,
                    random_state=derive_seed(seed, f.repeat, f.fold, arm),
                    source_random_state=(
                        None
                        if source is None
                        else derive_seed(seed, f.repeat, f.fold, f"source-{source}")
                    ),
                )
            )
    data = FitData(
        X=corpus.X,
        y=np.asarray(corpus.emotion),
        network=params,
        lateral=lateral,
        source_labels=source_labels,
        experiment="paralinguistic",
    )
    with ResultsStore(out, config, extra) as store:
        execute(
            store,
            tasks,
            data,
            n_jobs=n_jobs,
            backend=backend,
            scheduler=scheduler,
            progress=progress,
            torch_threads=torch_threads,
            desc="paralinguistic",
            verbose=verbose,
        )
    report = render_report(out, alpha=alpha, ttest_df=ttest_df)
    return ExperimentResult.load(out, report)


def _describe(corpus):
    info = corpus.summary()
    emotions = ", ".join(f"{e} {n}" for e, n in info["emotions"].items())
    return (
        f"Corpus {info['name']} ({info['description'] or info['spec']}): "
        f"{info['n_samples']} utterances, {info['n_speakers']} speakers, "
        f"{info['n_features']} features; {emotions}."
    )
