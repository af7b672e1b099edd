# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The protocols and the paper's fold roles (test, validation, training)."""

import warnings

import numpy as np

from sklearn_prognet.experiments._inputs import ExperimentInputError
from sklearn_prognet.model_selection import FoldRoles, RepeatedStratifiedGroupKFold
from sklearn_prognet.utils._messages import Param

__all__ = ["PROTOCOLS", "check_source_task_labels", "make_folds"]

#: Protocol -> what it means, for reports. The names are those of
#: :class:`~sklearn_prognet.model_selection.RepeatedStratifiedGroupKFold`
#: (Python identifiers); the command line spells them with hyphens, and so did
#: results folders written before 0.1 (see :func:`canonical_protocol`).
PROTOCOLS = {
    "speaker_stratified": "speaker-stratified folds (every speaker's utterances "
    "spread over all folds, as in the paper)",
    "speaker_independent": "speaker-independent folds (whole speakers per fold)",
}
SPEAKER_STRATIFIED, SPEAKER_INDEPENDENT = PROTOCOLS


def canonical_protocol(protocol):
    """The package's spelling of a protocol name saved with hyphens.

    Results folders written before the names were unified hold
    ``'speaker-stratified'``; they still load and resume.

    Examples
    --------
    >>> from sklearn_prognet.experiments._folds import canonical_protocol
    >>> canonical_protocol("speaker-stratified")
    'speaker_stratified'
    """
    if isinstance(protocol, str) and protocol.replace("-", "_") in PROTOCOLS:
        return protocol.replace("-", "_")
    return protocol


def check_protocol(protocol):
    """Refuse an unknown protocol name."""
    if protocol not in PROTOCOLS:
        hint = ""
        if canonical_protocol(protocol) in PROTOCOLS:
            hint = f" (did you mean {canonical_protocol(protocol)!r}?)"
        raise ExperimentInputError(
            Param("protocol", protocol), f" is not one of {list(PROTOCOLS)}{hint}."
        )


def check_folds(folds, y, *, what="emotion"):
    """Every training set must hold every class that is validated or tested."""
    classes = np.unique(y)
    for f in folds:
        missing = np.setdiff1d(classes, np.unique(y[f.train]))
        if len(missing):
            raise ExperimentInputError(
                f"The training folds of repeat {f.repeat}, fold {f.fold} have no "
                f"{what} {missing.tolist()}: the corpus has too few utterances of "
                "that class for these folds. Use a smaller ",
                Param("n_splits"),
                ", more training folds, or ",
                Param("protocol", SPEAKER_STRATIFIED),
                ".",
            )


def _check_corpus(corpus, protocol, n_splits):
    if n_splits < 3:
        raise ExperimentInputError(
            Param("n_splits", n_splits),
            ": each step needs a test fold, a validation fold "
            "and at least one training fold, so at least 3 folds.",
        )
    n_speakers = len(np.unique(corpus.speaker))
    if protocol == SPEAKER_INDEPENDENT and n_speakers < n_splits:
        raise ExperimentInputError(
            f"Corpus {corpus.name!r} has {n_speakers} speaker(s), fewer than the "
            f"{n_splits} folds: the speaker-independent protocol puts whole speakers "
            "in each fold. Use ",
            Param("n_splits", n_speakers),
            " or fewer (at least 3), or ",
            Param("protocol", SPEAKER_STRATIFIED),
            ".",
        )
    classes, counts = np.unique(corpus.emotion, return_counts=True)
    if counts.min() < n_splits:
        raise ExperimentInputError(
            f"Corpus {corpus.name!r} has only {counts.min()} utterance(s) of "
            f"{classes[counts.argmin()]!r}, fewer than the {n_splits} folds; use "
            "a smaller ",
            Param("n_splits"),
            " or leave that emotion out of ",
            Param("emotions"),
            ".",
        )


def make_folds(corpus, *, protocol, n_splits, n_repeats, seed, n_train_folds=None):
    """The paper's fold roles (test, validation, training folds) of a corpus.

    Returns
    -------
    folds : list of sklearn_prognet.model_selection.Fold
        One entry per step, repeat by repeat.
    notes : list of str
        Warnings of the splitter, to show to the user.
    """
    check_protocol(protocol)
    _check_corpus(corpus, protocol, n_splits)
    cv = RepeatedStratifiedGroupKFold(
        n_splits=n_splits,
        n_repeats=n_repeats,
        protocol=protocol,
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


def check_source_task_labels(folds, labels, source_task, corpus_name):
    """Check that a source task's labels suit its source network in every step.

    A source network is trained on the training folds with its own early
    stopping split, stratified on its labels: every label needs 2 samples.
    """
    task = source_task
    for f in folds:
        values, counts = np.unique(labels[f.train], return_counts=True)
        if len(values) < 2:
            raise ExperimentInputError(
                f"The training folds of repeat {f.repeat}, fold {f.fold} of corpus "
                f"{corpus_name!r} hold a single {task} ({values[0]!r}): the {task} "
                f"source task needs at least 2. Leave {task!r} out of ",
                Param("sources"),
                ".",
            )
        if counts.min() < 2:
            raise ExperimentInputError(
                f"{task.capitalize()} {values[counts.argmin()]!r} has a single "
                f"utterance in the training folds of repeat {f.repeat}, fold "
                f"{f.fold} of corpus {corpus_name!r}; the {task} source network "
                f"needs at least 2 per class for its early stopping. Leave {task!r} "
                "out of ",
                Param("sources"),
                f", or remove such {task}s from the corpus.",
            )
