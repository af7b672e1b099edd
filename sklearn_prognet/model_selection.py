# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Speaker-aware repeated cross-validation and the fold roles of the paper.

Gideon et al. (2017) evaluate with ten-fold cross-validation repeated ten
times: in each step one fold is the test set, another one is used for early
stopping and the remaining eight are used for training. This module provides

- :class:`RepeatedStratifiedGroupKFold`, a repeated k-fold splitter that keeps
  speakers apart (``protocol="speaker_independent"``) or spreads every
  speaker over all folds (``protocol="speaker_stratified"``, the paper's
  protocol), with a genuinely different partition in every repeat;
- :class:`FoldRoles`, which turns any k-fold splitter into the paper's
  test / validation / training fold roles (optionally keeping only some of
  the training folds, as in the paper's Figure 4);
- :func:`cv_fold_sizes`, the per-split training and test set sizes that the
  corrected t-test (:func:`sklearn_prognet.stats.corrected_repeated_cv_ttest`)
  needs;
- :func:`cross_validate_batched` and :func:`fit_batched`, which train the
  networks of all folds at once (imported with torch on first use).

This module never imports torch.
"""

import numbers
from typing import NamedTuple

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state, indexable
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d

from sklearn_prognet.utils._docstring import REFERENCES, Substitution
from sklearn_prognet.utils._warnings import warn

__all__ = [
    "Fold",
    "FoldRoles",
    "RepeatedStratifiedGroupKFold",
    "cross_validate_batched",  # noqa: F822 (module __getattr__)
    "cv_fold_sizes",
    "fit_batched",  # noqa: F822 (module __getattr__)
]

# Cross-validation with the batched engine trains networks: it is defined
# with the engine and imported on first use (PEP 562), so that importing
# this module still never imports torch.
_BATCHED = ("cross_validate_batched", "fit_batched")


def __getattr__(name):
    if name in _BATCHED:
        from sklearn_prognet.networks._batched_fit import (  # imports torch
            cross_validate_batched,
            fit_batched,
        )

        # later look-ups skip __getattr__
        globals().update(
            cross_validate_batched=cross_validate_batched, fit_batched=fit_batched
        )
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_PROTOCOLS = ("speaker_independent", "speaker_stratified")
_VALIDATION_OPTIONS = ("next", "random", None)
# How many times a speaker-independent repeat is redrawn when it reproduces the
# partition of an earlier repeat, before the duplicate is accepted with a warning.
_MAX_REDRAWS = 25

# The parameters of FoldRoles.split and FoldRoles.split_roles, a field of
# FoldRoles's docstrings.
_SPLIT_PARAMETERS = """
        X : array-like of shape (n_samples, n_features)
            Training data, passed to the wrapped splitter.
        y : array-like of shape (n_samples,), default=None
            Target, passed to the wrapped splitter.
        groups : array-like of shape (n_samples,), default=None
            Speaker (group) of each sample, passed to the wrapped splitter.
"""


def _check_integer(name, value, minimum):
    """Raise a ValueError unless ``value`` is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{name} must be an integer >= {minimum}; got {name}={value!r} "
            f"of type {type(value).__name__}."
        )
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {name}={value}.")


@Substitution(**REFERENCES)
class RepeatedStratifiedGroupKFold(BaseCrossValidator):
    """Repeated stratified k-fold cross-validator that is aware of speakers.

    Splits the data into ``n_splits`` folds ``n_repeats`` times, with a
    different random partition in each repeat, and yields one (train, test)
    split per fold and repeat. Two protocols are supported:

    - ``"speaker_independent"`` (default): the folds are made of whole groups
      (speakers), so no group is ever in both the training and the test set.
      Groups are assigned to folds so that the class proportions of every fold
      stay as close to those of the whole data set as the groups allow. This
      estimates how a model generalises to **new** speakers.
    - ``"speaker_stratified"``: the folds are stratified on speaker x class,
      so every fold holds a share of every speaker's samples (when the speaker
      has at least ``n_splits`` samples) and of every class. This is the
      protocol of Gideon et al. (2017), whose folds "are stratified based on
      speaker ID"; it is required when the source task is speaker
      identification (a speaker-ID model cannot be evaluated on unseen
      speakers), but it is optimistic for emotion recognition because the
      test speakers were seen during training.

    Read more in the :ref:`User Guide <model_selection>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    n_splits : int, default=10
        Number of folds per repeat. Must be at least 2. The paper uses 10.

    n_repeats : int, default=10
        Number of times the k-fold partition is redrawn. The paper uses 10.

    protocol : {'speaker_independent', 'speaker_stratified'}, \
            default='speaker_independent'
        How the groups passed to :meth:`split` are used: kept apart
        (``'speaker_independent'``) or spread over all folds
        (``'speaker_stratified'``). See above.

    random_state : int, RandomState instance or None, default=None
        Controls the randomness of every repeat. One random number generator
        drives all repeats, so the repeats differ from each other. Pass an int
        for reproducible output across multiple function calls, which the
        paired t-test needs: both models must be evaluated on the same splits.
        See :term:`Glossary <random_state>`.

    See Also
    --------
    FoldRoles : Test, validation and training folds of the paper from a splitter.
    cv_fold_sizes : Training and test set sizes of every split.
    sklearn.model_selection.StratifiedGroupKFold : The single-repeat splitter;
        its ``shuffle`` only breaks ties, see Notes.
    sklearn.model_selection.RepeatedStratifiedKFold : Repeated stratified
        k-fold without groups.
    sklearn_prognet.stats.corrected_repeated_cv_ttest : The significance test
        for two models evaluated with this splitter.

    Notes
    -----
    **Splits are yielded repeat by repeat**: split ``i`` belongs to repeat
    ``i // n_splits`` and fold ``i % n_splits``. Scores from
    :func:`~sklearn.model_selection.cross_val_score` can therefore be
    reshaped to ``(n_repeats, n_splits)``.

    **Why not loop over StratifiedGroupKFold?** scikit-learn's
    :class:`~sklearn.model_selection.StratifiedGroupKFold` assigns groups in
    decreasing order of the spread of their class distribution; ``shuffle=True``
    only reorders groups whose spread is tied. When speakers have different
    label mixes there are no ties, so every seed returns the same partition and
    repeating it gives identical repeats, which silently invalidates a
    repeated cross-validation t-test.

    **Speaker-independent algorithm.** In each repeat, the groups are ordered
    by the spread of their class counts multiplied by a uniform random number
    (so large, unbalanced groups tend to come first, but the order is random),
    then each group is placed in the fold that minimises the mean over classes
    of the standard deviation over folds of the fraction of the class held by
    each fold (the criterion of ``StratifiedGroupKFold``), with ties broken by
    fold size and then at random; no fold is left empty. A repeat that
    reproduces the partition of an earlier repeat is redrawn. When
    ``n_splits`` equals the number of groups, every repeat is the same
    leave-one-group-out partition with the folds in a different order; a
    :class:`UserWarning` says so, because repeating it adds nothing but model
    randomness (use ``n_repeats=1`` then).

    **Speaker-stratified algorithm.** In each repeat, every speaker x class
    stratum is shuffled and dealt over the folds, so each fold gets either
    ``floor`` or ``ceil`` of ``n / n_splits`` of the stratum's ``n`` samples.
    The folds that receive the remainders are those holding the fewest samples
    of the speaker, then of the class, then in total, with random tie-breaking.
    Every speaker is thus spread evenly (to within one sample) over the folds.

    References
    ----------
    .. [1] {gideon_2017}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_prognet.model_selection import RepeatedStratifiedGroupKFold
    >>> X = np.zeros((12, 2))
    >>> y = np.array([0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1])
    >>> groups = np.repeat(["a", "b", "c", "d", "e", "f"], 2)
    >>> cv = RepeatedStratifiedGroupKFold(n_splits=3, n_repeats=2, random_state=0)
    >>> cv.get_n_splits()
    6
    >>> for i, (train, test) in enumerate(cv.split(X, y, groups)):
    ...     print(f"repeat {i // 3}, fold {i % 3}, test speakers:",
    ...           *np.unique(groups[test]))
    repeat 0, fold 0, test speakers: a f
    repeat 0, fold 1, test speakers: c d
    repeat 0, fold 2, test speakers: b e
    repeat 1, fold 0, test speakers: a c
    repeat 1, fold 1, test speakers: b f
    repeat 1, fold 2, test speakers: d e

    The paper's speaker-stratified protocol puts every speaker in every fold:

    >>> cv = RepeatedStratifiedGroupKFold(
    ...     n_splits=2, n_repeats=1, protocol="speaker_stratified", random_state=0)
    >>> for train, test in cv.split(X, y, groups):
    ...     print("test speakers:", *np.unique(groups[test]))
    test speakers: a b c d e f
    test speakers: a b c d e f
    """

    # Request groups through metadata routing by default, like scikit-learn's
    # group splitters (what the private GroupsConsumerMixin does).
    __metadata_request__split = {"groups": True}

    def __init__(
        self,
        *,
        n_splits=10,
        n_repeats=10,
        protocol="speaker_independent",
        random_state=None,
    ):
        # Like scikit-learn's splitters (KFold, _RepeatedSplits), and unlike
        # estimators, a splitter checks its parameters when it is created.
        _check_integer("n_splits", n_splits, 2)
        _check_integer("n_repeats", n_repeats, 1)
        if protocol not in _PROTOCOLS:
            raise ValueError(
                f"protocol must be one of {_PROTOCOLS}; got protocol={protocol!r}."
            )
        self.n_splits = n_splits
        self.n_repeats = n_repeats
        self.protocol = protocol
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splits, ``n_splits * n_repeats``.

        The number does not depend on the data; the arguments exist for
        compatibility with scikit-learn's splitter API.

        Parameters
        ----------
        X : object, default=None
            Always ignored, exists for API compatibility.
        y : object, default=None
            Always ignored, exists for API compatibility.
        groups : object, default=None
            Always ignored, exists for API compatibility.

        Returns
        -------
        n_splits : int
            The number of (train, test) splits yielded by :meth:`split`.

        See Also
        --------
        split : Generate the splits.

        Examples
        --------
        >>> from sklearn_prognet.model_selection import RepeatedStratifiedGroupKFold
        >>> RepeatedStratifiedGroupKFold(n_splits=5, n_repeats=3).get_n_splits()
        15
        """
        return self.n_splits * self.n_repeats

    def split(self, X, y, groups=None):
        """Generate indices to split data into training and test sets.

        Yields the ``n_splits`` splits of the first repeat, then those of the
        second repeat, and so on.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; only its length is used.
        y : array-like of shape (n_samples,)
            Class labels (binary or multiclass), used for stratification.
        groups : array-like of shape (n_samples,)
            Speaker (group) of each sample. Required by both protocols.

        Yields
        ------
        train : ndarray of int
            The training set indices for that split.
        test : ndarray of int
            The test set indices for that split.

        See Also
        --------
        get_n_splits : The number of splits.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_prognet.model_selection import RepeatedStratifiedGroupKFold
        >>> y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
        >>> groups = np.array([0, 0, 1, 1, 2, 2, 3, 3])
        >>> cv = RepeatedStratifiedGroupKFold(n_splits=2, n_repeats=1, random_state=0)
        >>> for train, test in cv.split(y, y, groups):
        ...     print(train, test)
        [2 3 6 7] [0 1 4 5]
        [0 1 4 5] [2 3 6 7]
        """
        for fold_of_sample in self._iter_fold_ids(X, y, groups):
            for fold in range(self.n_splits):
                is_test = fold_of_sample == fold
                yield np.flatnonzero(~is_test), np.flatnonzero(is_test)

    def _iter_fold_ids(self, X, y, groups):
        """Yield, for each repeat, the test fold of every sample."""
        if groups is None:
            raise ValueError(
                "The 'groups' parameter should not be None: pass the speaker "
                "(group) of each sample. In cross_validate or cross_val_score, "
                "pass groups=... when metadata routing is off; params={'groups': "
                "...} reaches the splitter only with "
                "sklearn.set_config(enable_metadata_routing=True)."
            )
        X, y, groups = indexable(X, y, groups)
        y = column_or_1d(y)
        groups = column_or_1d(groups)
        target_type = type_of_target(y)
        if target_type not in ("binary", "multiclass"):
            raise ValueError(
                "Supported target types are ('binary', 'multiclass'); got "
                f"{target_type!r} instead."
            )
        _, y_ids = np.unique(y, return_inverse=True)
        group_names, group_ids = np.unique(groups, return_inverse=True)
        n_groups = len(group_names)
        n_classes = int(y_ids.max()) + 1
        rng = check_random_state(self.random_state)

        if self.protocol == "speaker_stratified":
            yield from self._stratified_fold_ids(y_ids, group_ids, group_names, rng)
            return

        if n_groups < self.n_splits:
            raise ValueError(
                f"n_splits={self.n_splits} cannot be greater than the number of "
                f"groups ({n_groups}): with protocol='speaker_independent' every "
                f"fold needs at least one whole group. Use n_splits <= {n_groups}, "
                "or protocol='speaker_stratified'."
            )
        _warn_small_classes(y_ids, self.n_splits)
        if n_groups == self.n_splits and self.n_repeats > 1:
            warn(
                f"n_splits={self.n_splits} equals the number of groups: every "
                "repeat is the same leave-one-group-out partition, only the fold "
                "order changes, so the repeats are not new resamples for the "
                "corrected t-test. Use n_repeats=1, fewer splits or "
                "protocol='speaker_stratified'.",
            )
        y_counts_per_group = np.zeros((n_groups, n_classes))
        np.add.at(y_counts_per_group, (group_ids, y_ids), 1)
        seen = set()
        warned = n_groups == self.n_splits
        # with as many groups as folds, every draw is the same partition
        max_draws = 1 if n_groups == self.n_splits else _MAX_REDRAWS
        for repeat in range(self.n_repeats):
            for _ in range(max_draws):
                fold_of_group = _assign_groups(y_counts_per_group, self.n_splits, rng)
                key = _partition_key(fold_of_group, self.n_splits)
                if key not in seen:
                    break
            else:
                if not warned:
                    warn(
                        f"Repeat {repeat} reproduces the partition of an earlier "
                        f"repeat: the {n_groups} groups allow few distinct "
                        f"partitions into n_splits={self.n_splits} folds.",
                    )
                    warned = True
            seen.add(key)
            yield fold_of_group[group_ids]

    def _stratified_fold_ids(self, y_ids, group_ids, group_names, rng):
        """The speaker-stratified protocol's fold ids, one array per repeat."""
        n_classes = int(y_ids.max()) + 1
        if len(y_ids) < self.n_splits:
            raise ValueError(
                f"n_splits={self.n_splits} cannot be greater than the number "
                f"of samples ({len(y_ids)})."
            )
        _warn_small_classes(y_ids, self.n_splits)
        group_sizes = np.bincount(group_ids, minlength=len(group_names))
        if group_sizes.min() < self.n_splits:
            smallest = group_names.tolist()[group_sizes.argmin()]
            warn(
                f"The least populated group ({smallest!r})"
                f" has only {group_sizes.min()} samples, fewer than "
                f"n_splits={self.n_splits}: with protocol='speaker_stratified' "
                "it cannot appear in every fold.",
            )
        for _ in range(self.n_repeats):
            yield _deal_strata(group_ids, y_ids, n_classes, self.n_splits, rng)


def _warn_small_classes(y_ids, n_splits):
    """Warn as sklearn's StratifiedKFold does about classes smaller than n_splits.

    Same words and condition as StratifiedKFold and StratifiedGroupKFold, so
    that a search for the message finds both. Such a class is missing from
    some test folds, where its recall (and so UAR) is undefined.
    """
    n_least = np.bincount(y_ids).min()
    if n_least < n_splits:
        warn(
            f"The least populated class in y has only {n_least} members, which "
            f"is less than n_splits={n_splits}."
        )


def _partition_key(fold_of_group, n_splits):
    """Hashable key of a partition that ignores the order of the folds."""
    return frozenset(
        tuple(np.flatnonzero(fold_of_group == fold)) for fold in range(n_splits)
    )


def _assign_groups(y_counts_per_group, n_splits, rng):
    """Assign groups to folds by a randomised greedy stratification.

    Returns the fold of each group. See the Notes of
    RepeatedStratifiedGroupKFold for the algorithm; the criterion is that of
    scikit-learn's ``StratifiedGroupKFold._find_best_fold``, updated
    incrementally (sums and sums of squares of the fold fractions).
    """
    n_groups, n_classes = y_counts_per_group.shape
    # fraction of each class held by each group
    fractions = y_counts_per_group / y_counts_per_group.sum(axis=0)
    # Sorting by the spread of the class counts (as StratifiedGroupKFold does)
    # places hard groups first; the random factor makes the order, and thus
    # the partition, differ between repeats. The permutation breaks exact ties.
    perm = rng.permutation(n_groups)
    noisy_spread = np.std(y_counts_per_group[perm], axis=1) * rng.uniform(size=n_groups)
    order = perm[np.argsort(-noisy_spread, kind="stable")]

    fold_fractions = np.zeros((n_splits, n_classes))
    sum_fractions = np.zeros(n_classes)
    sum_squares = np.zeros(n_classes)
    fold_sizes = np.zeros(n_splits)
    fold_of_group = np.empty(n_groups, dtype=np.intp)
    for position, group in enumerate(order):
        w = fractions[group]
        # variance over folds of each class fraction, for each candidate fold
        squares = sum_squares + (fold_fractions + w) ** 2 - fold_fractions**2
        variance = squares / n_splits - ((sum_fractions + w) / n_splits) ** 2
        cost = np.sqrt(np.maximum(variance, 0.0)).mean(axis=1)
        empty = fold_sizes == 0
        if n_groups - position <= empty.sum():
            # as many groups left as empty folds: fill the empty folds
            cost = np.where(empty, cost, np.inf)
        best = np.flatnonzero(cost <= cost.min() + 1e-12)
        best = best[fold_sizes[best] == fold_sizes[best].min()]
        fold = best[rng.randint(len(best))]
        sum_squares += (fold_fractions[fold] + w) ** 2 - fold_fractions[fold] ** 2
        sum_fractions += w
        fold_fractions[fold] += w
        fold_sizes[fold] += y_counts_per_group[group].sum()
        fold_of_group[group] = fold
    return fold_of_group


def _deal_strata(group_ids, y_ids, n_classes, n_splits, rng):
    """Deal every group x class stratum evenly over the folds.

    Returns the fold of each sample. See the Notes of
    RepeatedStratifiedGroupKFold.
    """
    n_groups = int(group_ids.max()) + 1
    stratum = group_ids * n_classes + y_ids
    by_stratum = np.argsort(stratum, kind="stable")
    strata, starts = np.unique(stratum[by_stratum], return_index=True)
    members = np.split(by_stratum, starts[1:])

    group_counts = np.zeros((n_groups, n_splits))
    class_counts = np.zeros((n_classes, n_splits))
    fold_sizes = np.zeros(n_splits)
    fold_of_sample = np.empty(len(y_ids), dtype=np.intp)
    for i in rng.permutation(len(strata)):
        group, cls = divmod(int(strata[i]), n_classes)
        samples = rng.permutation(members[i])
        n_full, n_left = divmod(len(samples), n_splits)
        folds = np.tile(np.arange(n_splits), n_full)
        if n_left:
            # Water-filling: the remainders go to the folds with the fewest
            # samples of this speaker, so every speaker stays balanced to
            # within one sample; then to the folds with the fewest of this
            # class, then the smallest folds; random among equals.
            priority = np.lexsort(
                (
                    rng.uniform(size=n_splits),
                    fold_sizes,
                    class_counts[cls],
                    group_counts[group],
                )
            )
            folds = np.concatenate([folds, priority[:n_left]])
        fold_of_sample[samples] = folds
        added = np.bincount(folds, minlength=n_splits)
        group_counts[group] += added
        class_counts[cls] += added
        fold_sizes += added
    return fold_of_sample


class Fold(NamedTuple):
    """The roles of the folds in one step of the paper's cross-validation.

    Yielded by :meth:`FoldRoles.split_roles`. All index arrays are sorted and
    disjoint.

    .. versionadded:: 0.1

    Parameters
    ----------
    repeat : int
        Index of the repeat (iteration) of the k-fold partition.
    fold : int
        Index of the test fold within the repeat.
    train : ndarray of int
        Indices of the samples of the kept training folds.
    validation : ndarray of int
        Indices of the samples of the validation (early stopping) fold; empty
        when the roles have no validation fold.
    test : ndarray of int
        Indices of the samples of the test fold.

    See Also
    --------
    FoldRoles : Yields these tuples.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_prognet.model_selection import Fold
    >>> f = Fold(0, 1, np.array([0, 1]), np.array([2]), np.array([3]))
    >>> f.test
    array([3])
    """

    repeat: int
    fold: int
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


@Substitution(**REFERENCES, split_parameters=_SPLIT_PARAMETERS)
class FoldRoles(BaseCrossValidator):
    """Test, validation and training folds of the paper's cross-validation.

    Wraps a k-fold splitter: in each step of each repeat, one fold is the test
    set, another one is the validation set (for early stopping), and the
    remaining folds, or ``n_train_folds`` of them, are the training set. With
    ten folds this is the protocol of Gideon et al. (2017): one fold for
    testing, one for early stopping and eight for training; their Figure 4
    keeps 8, 4, 2 and 1 of the eight training folds.

    Use :meth:`split_roles` to get the three index arrays of every step and
    pass the validation fold to an estimator explicitly
    (``est.fit(X[f.train], y[f.train], X_val=X[f.validation],
    y_val=y[f.validation])``). :meth:`split` makes this object an ordinary
    scikit-learn splitter that yields (train, test) with the validation fold
    left out of ``train``, for use with
    :func:`~sklearn.model_selection.cross_validate`.

    Read more in the :ref:`User Guide <model_selection>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    cv : cross-validation splitter, default=None
        The k-fold splitter that defines the folds, for example
        :class:`RepeatedStratifiedGroupKFold`. Its test folds must partition
        the samples in every repeat. The number of repeats is read from its
        ``n_repeats`` attribute (1 when it has none). ``None`` means
        ``RepeatedStratifiedGroupKFold(n_splits=10, n_repeats=10)``, unseeded.

    validation : {'next', 'random'} or None, default='next'
        Which fold is the validation fold of the step whose test fold is ``k``:
        ``'next'`` is fold ``(k + 1) % n_splits`` of the same repeat, so every
        fold is the validation fold exactly once per repeat; ``'random'`` is a
        fold drawn at random among the other folds; ``None`` means no
        validation fold (all other folds are training folds).

    n_train_folds : int, default=None
        Number of training folds kept, chosen at random among the folds that
        are neither the test nor the validation fold. ``None`` keeps all of
        them (``n_splits - 2``, or ``n_splits - 1`` without validation fold).
        For a given ``random_state`` the kept folds are nested: the folds kept
        with ``n_train_folds=1`` are among those kept with 2, which are among
        those kept with 4, and so on.

    random_state : int, RandomState instance or None, default=None
        Controls the choice of the kept training folds and of the random
        validation fold (it does not affect the folds themselves, which are
        controlled by ``cv``). Pass an int for reproducible output across
        multiple function calls. See :term:`Glossary <random_state>`.

    See Also
    --------
    RepeatedStratifiedGroupKFold : The splitter that defines the folds.
    Fold : The named tuple yielded by :meth:`split_roles`.
    cv_fold_sizes : Training and test set sizes of every split.

    Notes
    -----
    The training set of the corrected t-test
    (:func:`sklearn_prognet.stats.corrected_repeated_cv_ttest`) is the data
    the model was trained on, that is the kept training folds; the validation
    fold is not counted. :func:`cv_fold_sizes` applied to this object returns
    exactly these sizes.

    References
    ----------
    .. [1] {gideon_2017}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_prognet.model_selection import (
    ...     FoldRoles, RepeatedStratifiedGroupKFold)
    >>> X = np.zeros((8, 1))
    >>> y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    >>> groups = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    >>> base = RepeatedStratifiedGroupKFold(n_splits=4, n_repeats=1, random_state=0)
    >>> roles = FoldRoles(base)
    >>> for f in roles.split_roles(X, y, groups):
    ...     print(f.repeat, f.fold, "train", f.train, "val", f.validation,
    ...           "test", f.test)
    0 0 train [0 1 6 7] val [2 3] test [4 5]
    0 1 train [4 5 6 7] val [0 1] test [2 3]
    0 2 train [2 3 4 5] val [6 7] test [0 1]
    0 3 train [0 1 2 3] val [4 5] test [6 7]

    Keep a single training fold, as in the paper's Figure 4:

    >>> roles = FoldRoles(base, n_train_folds=1, random_state=0)
    >>> [len(f.train) for f in roles.split_roles(X, y, groups)]
    [2, 2, 2, 2]
    """

    __metadata_request__split = {"groups": True}

    def __init__(
        self, cv=None, *, validation="next", n_train_folds=None, random_state=None
    ):
        if cv is not None and not (
            hasattr(cv, "split") and hasattr(cv, "get_n_splits")
        ):
            raise ValueError(
                "cv must be None or a cross-validation splitter with split and "
                f"get_n_splits methods; got cv={cv!r}."
            )
        if validation not in _VALIDATION_OPTIONS:
            raise ValueError(
                "validation must be 'next', 'random' or None; got "
                f"validation={validation!r}."
            )
        if n_train_folds is not None:
            _check_integer("n_train_folds", n_train_folds, 1)
        self.cv = cv
        self.validation = validation
        self.n_train_folds = n_train_folds
        self.random_state = random_state

    def _base_cv(self):
        if self.cv is None:
            return RepeatedStratifiedGroupKFold()
        return self.cv

    @property
    def n_repeats(self):
        """Number of repeats of the wrapped splitter (1 if it has none)."""
        return getattr(self._base_cv(), "n_repeats", 1)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splits, that of the wrapped splitter.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), default=None
            Passed to the wrapped splitter's ``get_n_splits``.
        y : array-like of shape (n_samples,), default=None
            Passed to the wrapped splitter's ``get_n_splits``.
        groups : array-like of shape (n_samples,), default=None
            Passed to the wrapped splitter's ``get_n_splits``.

        Returns
        -------
        n_splits : int
            The number of steps yielded by :meth:`split` and
            :meth:`split_roles`.

        See Also
        --------
        split_roles : Generate the fold roles.

        Examples
        --------
        >>> from sklearn_prognet.model_selection import (
        ...     FoldRoles, RepeatedStratifiedGroupKFold)
        >>> FoldRoles(RepeatedStratifiedGroupKFold(n_splits=10, n_repeats=10)
        ...           ).get_n_splits()
        100
        """
        return self._base_cv().get_n_splits(X, y, groups)

    def split_roles(self, X, y=None, groups=None):
        """Generate the test, validation and training indices of every step.

        Parameters
        ----------
        {split_parameters}

        Yields
        ------
        fold : Fold
            Named tuple ``(repeat, fold, train, validation, test)``.

        See Also
        --------
        split : The same steps as (train, test) pairs.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.model_selection import KFold
        >>> from sklearn_prognet.model_selection import FoldRoles
        >>> X = np.arange(6).reshape(-1, 1)
        >>> for f in FoldRoles(KFold(3)).split_roles(X):
        ...     print(f.train, f.validation, f.test)
        [4 5] [2 3] [0 1]
        [0 1] [4 5] [2 3]
        [2 3] [0 1] [4 5]
        """
        cv = self._base_cv()
        n_total = cv.get_n_splits(X, y, groups)
        n_repeats = self.n_repeats
        if n_total % n_repeats:
            raise ValueError(
                f"cv yields {n_total} splits, not a multiple of its "
                f"n_repeats={n_repeats}."
            )
        n_splits = n_total // n_repeats
        n_other = n_splits - (1 if self.validation is None else 2)
        n_keep = n_other if self.n_train_folds is None else self.n_train_folds
        if n_keep > n_other or n_other < 1:
            raise ValueError(
                f"n_train_folds={self.n_train_folds} is more than the "
                f"{n_other} training folds left by n_splits={n_splits} with "
                f"validation={self.validation!r}."
            )
        rng = check_random_state(self.random_state)
        tests = []
        repeat = 0
        for train, test in cv.split(X, y, groups):
            tests.append(np.sort(np.asarray(test)))
            if len(tests) == 1:
                n_samples = len(train) + len(test)
            if len(tests) < n_splits:
                continue
            yield from self._roles_of_repeat(repeat, tests, n_samples, n_keep, rng)
            tests = []
            repeat += 1

    def _roles_of_repeat(self, repeat, tests, n_samples, n_keep, rng):
        """Yield the Fold tuples of one repeat, given its test folds."""
        n_splits = len(tests)
        if not np.array_equal(
            np.bincount(np.concatenate(tests), minlength=n_samples),
            np.ones(n_samples, dtype=np.intp),
        ):
            raise ValueError(
                f"The test folds of repeat {repeat} of cv do not partition the "
                "samples: FoldRoles needs a k-fold splitter in which every "
                "sample is tested exactly once per repeat."
            )
        empty = np.array([], dtype=np.intp)
        for fold in range(n_splits):
            others = [k for k in range(n_splits) if k != fold]
            if self.validation == "next":
                val_fold = (fold + 1) % n_splits
            elif self.validation == "random":
                val_fold = others[rng.randint(len(others))]
            else:
                val_fold = None
            candidates = np.array([k for k in others if k != val_fold])
            # Always draw a full permutation, whatever n_train_folds is, so
            # that the kept folds are nested across values of n_train_folds.
            kept = candidates[rng.permutation(len(candidates))][:n_keep]
            train = np.sort(np.concatenate([tests[k] for k in kept]))
            validation = empty if val_fold is None else tests[val_fold]
            yield Fold(repeat, fold, train, validation, tests[fold])

    def split(self, X, y=None, groups=None):
        """Generate (train, test) indices, leaving the validation fold out.

        Parameters
        ----------
        {split_parameters}

        Yields
        ------
        train : ndarray of int
            The indices of the kept training folds (without the validation
            fold).
        test : ndarray of int
            The indices of the test fold.

        See Also
        --------
        split_roles : The same steps with the validation fold.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.model_selection import KFold
        >>> from sklearn_prognet.model_selection import FoldRoles
        >>> X = np.arange(6).reshape(-1, 1)
        >>> for train, test in FoldRoles(KFold(3)).split(X):
        ...     print(train, test)
        [4 5] [0 1]
        [0 1] [2 3]
        [2 3] [4 5]
        """
        for fold in self.split_roles(X, y, groups):
            yield fold.train, fold.test


def _is_unseeded(cv):
    """Whether calling ``cv.split`` twice may give different splits."""
    if isinstance(cv, FoldRoles):
        uses_rng = cv.validation == "random" or cv.n_train_folds is not None
        own = uses_rng and not isinstance(cv.random_state, numbers.Integral)
        return own or _is_unseeded(cv._base_cv())
    random_state = getattr(cv, "random_state", 0)
    shuffles = getattr(cv, "shuffle", True)
    return bool(shuffles) and not isinstance(random_state, numbers.Integral)


def cv_fold_sizes(cv, X, y=None, groups=None):
    """Return the training and test set sizes of every split of a splitter.

    The corrected repeated cross-validation t-test needs the sizes of the
    training and test sets; with grouped folds they differ from split to
    split. This function regenerates the splits and counts them, so that
    they never have to be counted by hand.

    Read more in the :ref:`User Guide <model_selection>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    cv : cross-validation splitter
        The splitter that produced the scores, with the same parameters and
        the same (integer) ``random_state``.
    X : array-like of shape (n_samples, n_features)
        The data the scores were computed on.
    y : array-like of shape (n_samples,), default=None
        The target the scores were computed with.
    groups : array-like of shape (n_samples,), default=None
        The groups (speakers) the scores were computed with.

    Returns
    -------
    n_train : ndarray of shape (n_splits,)
        Number of training samples of each split.
    n_test : ndarray of shape (n_splits,)
        Number of test samples of each split.

    Warns
    -----
    UserWarning
        If the splitter is randomised without an integer ``random_state``:
        its splits cannot be regenerated, so the sizes may not be those of
        the splits that produced the scores.

    See Also
    --------
    sklearn_prognet.stats.corrected_repeated_cv_ttest : Uses these sizes.
    sklearn_prognet.stats.compare_cv_results : Reads the sizes from
        ``cross_validate(..., return_indices=True)`` results instead.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_prognet.model_selection import (
    ...     RepeatedStratifiedGroupKFold, cv_fold_sizes)
    >>> y = np.array([0, 1] * 5)
    >>> groups = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3, 3])
    >>> cv = RepeatedStratifiedGroupKFold(n_splits=2, n_repeats=2, random_state=0)
    >>> n_train, n_test = cv_fold_sizes(cv, y, y, groups)
    >>> n_train, n_test
    (array([5, 5, 5, 5]), array([5, 5, 5, 5]))
    """
    if _is_unseeded(cv):
        warn(
            f"{cv!r} is randomised but has no integer random_state: the splits "
            "counted here may differ from those that produced the scores.",
        )
    sizes = [(len(train), len(test)) for train, test in cv.split(X, y, groups)]
    n_train, n_test = np.array(sizes, dtype=np.intp).reshape(-1, 2).T
    return n_train, n_test
