# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Transfer from one corpus to another: what the transfer experiments share.

The cross-corpus and multi-corpus experiments both train a source emotion
model on other corpora and adapt it to a target corpus. Their common ground
lives here, not in either experiment: the numbers of target training folds
(:func:`default_train_folds`, :func:`check_train_folds`), the checks that
two corpora suit each other (the same features in the same order, no shared
utterances or speakers, common sampling rates), and the source model trained
on all of a corpus (:func:`fit_source_model`).
"""

import math
import os
import time

import numpy as np
from sklearn.pipeline import Pipeline

from sklearn_prognet.experiments._fits import (
    DEFAULT_NORMALIZATION,
    feature_rows,
    make_scaler,
    torch_thread_limit,
    training_record,
)
from sklearn_prognet.experiments._folds import SPEAKER_INDEPENDENT, SPEAKER_STRATIFIED
from sklearn_prognet.experiments._inputs import Corpus, ExperimentInputError
from sklearn_prognet.experiments._options import Option, int_list
from sklearn_prognet.utils._messages import Message, Param
from sklearn_prognet.utils._warnings import warn

__all__ = [
    "align_features",
    "check_disjoint",
    "check_sampling_rates",
    "check_train_folds",
    "default_train_folds",
    "fit_source_model",
]

# The key of the source model's record in fits.jsonl.
SOURCE_MODEL_KEY = "source"


#: The ``train_folds`` option of the experiments that sweep training sizes.
TRAIN_FOLDS = Option(
    "train_folds",
    None,
    flag={
        "type": int_list,
        "metavar": "LIST",
        "help": "numbers of target training folds (default: 8,4,2,1 with 10 "
        "folds; in general K-2 and the powers of 2 below it)",
    },
)


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


def check_train_folds(train_folds, n_splits):
    """The numbers of target training folds, checked, largest first."""
    if train_folds is None:
        train_folds = default_train_folds(n_splits)
    train_folds = sorted({int(n) for n in train_folds}, reverse=True)
    if not train_folds or train_folds[-1] < 1 or train_folds[0] > n_splits - 2:
        raise ExperimentInputError(
            Param("train_folds", train_folds),
            f": each must be between 1 and n_splits - 2 = {n_splits - 2} (one "
            "fold is for testing, one for validation).",
        )
    return train_folds


def align_features(source, target):
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
        sampling_rates=target.sampling_rates,
    )


def check_disjoint(source, target):
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


def check_sampling_rates(source, target, resample):
    """Warn when the corpora come from audio at different sampling rates.

    The spectral features (MFCCs, band energies, formants) depend on the
    rate, so a source model would meet target features on another scale.
    Feature tables do not know their rate: nothing is said then.
    """
    rates = (source.sampling_rates, target.sampling_rates)
    if resample is not None or None in rates or set(rates[0]) == set(rates[1]):
        return
    common = min(min(r) for r in rates)
    warn(
        Message(
            f"The source corpus {source.name!r} was recorded at "
            f"{_hz(rates[0])} and the target corpus {target.name!r} at "
            f"{_hz(rates[1])}; eGeMAPS features depend on the sampling rate, so "
            "extract both at a common one (",
            Param("resample", common),
            ").",
        )
    )


def _hz(rates):
    return "/".join(str(rate) for rate in rates) + " Hz"


def _utterances(corpus):
    names = [os.path.basename(str(file)) for file in corpus.files]
    return set(zip(names, corpus.speaker, strict=True))


def fit_source_model(
    corpus,
    network,
    random_state,
    torch_threads=1,
    protocol=SPEAKER_STRATIFIED,
    normalization=DEFAULT_NORMALIZATION,
):
    """Train the source emotion model on all of a corpus.

    A :class:`~sklearn.pipeline.Pipeline` of a scaler (the corpus's own
    z-normalisation, global or per speaker: see ``_fits.make_scaler``) and
    a DNN with early stopping on 10% of the utterances, held out as the
    protocol's folds are: stratified on emotion (``'speaker_stratified'``),
    or whole speakers (``'speaker_independent'``).

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        The fitted pipeline; its last step is the source network.
    record : dict
        The fit's record for ``fits.jsonl``.
    """
    import sklearn

    # torch is imported when a network is first needed, not with the package
    from sklearn_prognet.networks._estimators import DNNClassifier

    start = time.perf_counter()
    with torch_thread_limit(torch_threads):
        with sklearn.config_context(enable_metadata_routing=True):
            net = DNNClassifier(**network, random_state=random_state)
            net.set_fit_request(groups=True)
            pipe = Pipeline([("scale", make_scaler(normalization)), ("net", net)])
            groups = corpus.speaker if protocol == SPEAKER_INDEPENDENT else None
            X = feature_rows(corpus.X, corpus.speaker, None, normalization)
            pipe.fit(X, np.asarray(corpus.emotion), groups=groups)
    record = {
        "key": SOURCE_MODEL_KEY,
        "experiment": "cross-corpus",
        "method": "source",
        "source": corpus.name,  # the source corpus
        "n_train": corpus.n_samples,
        "random_state": random_state,
        **training_record(pipe[-1]),
        "fit_time": round(time.perf_counter() - start, 3),
    }
    return pipe, record
