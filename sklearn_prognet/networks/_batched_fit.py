# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Fitting many estimators at once: the sklearn layer of the batched engine.

:func:`fit_batched` prepares every estimator exactly as its ``fit`` does
(validation, label encoding, the inner validation split, the columns taken
from its sources, the seed), trains all of their nets with
:func:`sklearn_prognet.networks._batched.trained_groups`, and sets the fitted
attributes as ``fit`` does, so that every estimator is an ordinary fitted one
(:func:`fit_batched_as_trained` hands them over group by group).
:func:`cross_validate_batched` is :func:`sklearn.model_selection.cross_validate`
on top of it. Both are public through :mod:`sklearn_prognet.model_selection`.
"""

import hashlib
import pickle
import time
from collections.abc import Mapping

import numpy as np
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import indexable

from sklearn_prognet.networks._adapters import MultiCorpusClassifier
from sklearn_prognet.networks._batched import trained_groups
from sklearn_prognet.networks._estimators import (
    _BaseNetwork,
    _check_source_y,
    _is_fitted,
    _unwrap,
    source_seed,
)
from sklearn_prognet.utils._compat import _num_samples, _safe_indexing

# The networks of the package: every one is trained by the engine, whose
# fit (the _prepare_fit -> train -> _set_fitted of its class) is the one
# fit_batched runs.
_NETWORKS = (_BaseNetwork, MultiCorpusClassifier)

# What a wrapper of a network provides, for the engine to train the network
# (see _delegated).
_WRAPPER_METHODS = ("inner_estimator", "inner_fit_arguments", "set_inner_fitted")

# The arguments of the networks' fit that fit_batched passes on.
_FIT_ARGUMENTS = ("groups", "source_y", "X_val", "y_val", "dimensions")


def _split_network(estimator):
    """``(preprocessing steps or None, network)`` of a network or a Pipeline.

    The network may be a wrapper of one (see :func:`_delegated`); it is the
    wrapped network that must be one the engine trains.
    """
    steps = None
    network = estimator
    if isinstance(estimator, Pipeline):
        steps, network = estimator[:-1], estimator[-1]
    inner = network.inner_estimator() if _is_wrapper(network) else network
    _check_network(inner)
    return steps, network


def _is_wrapper(network):
    """Whether ``network`` declares the network it trains (see :func:`_delegated`)."""
    return all(hasattr(network, name) for name in _WRAPPER_METHODS)


def _delegated(network, fit):
    """The network to train for ``network`` and its fit arguments.

    A wrapper (an estimator whose ``fit`` builds and fits one network of
    the engine's, such as the multi-corpus experiment's ``JointNetwork``)
    declares it with three methods: ``inner_estimator()`` returns the
    unfitted network it would fit, ``inner_fit_arguments(**fit)`` the
    arguments of that network's ``fit`` for the wrapper's own ``fit``
    arguments, and ``set_inner_fitted(network, arguments)`` makes the
    wrapper fitted from the fitted network. Its own ``fit`` is these three
    in a row, so that it cannot drift from the engine's.
    """
    if not _is_wrapper(network):
        return network, fit
    return network.inner_estimator(), network.inner_fit_arguments(**fit)


def _check_network(network):
    """Raise for an estimator that is not a network of the package."""
    if not isinstance(network, _NETWORKS):
        raise TypeError(
            "The batched engine trains the networks of sklearn_prognet "
            "(DNNClassifier, FineTunedClassifier, ProgressiveNetClassifier, "
            "ResidualAdapterClassifier, MultiCorpusClassifier), or a Pipeline "
            f"ending in one; got {type(network).__name__}. Use "
            "sklearn.model_selection.cross_validate (or fit) for it."
        )


def batch_refusal(estimator):
    """Why :func:`fit_batched` would refuse ``estimator``, or None if it would not.

    Asks the engine's own rule (that of :func:`_split_network`: a network of
    the package, or a Pipeline ending in one) without fitting anything, so
    that a caller can fit other estimators (a linear baseline) one by one.

    Returns
    -------
    reason : str or None
        The message of the error ``fit_batched`` would raise.
    """
    try:
        _split_network(estimator)
    except TypeError as error:
        return str(error)
    return None


def _transformed(steps, fit):
    """The fit arguments after fitting the preprocessing steps on ``X``."""
    fit = dict(fit)
    if steps is None:
        return fit
    fit["X"] = steps.fit_transform(fit["X"], fit["y"])
    if fit.get("X_val") is not None:
        fit["X_val"] = steps.transform(fit["X_val"])
    return fit


def _checked_fits(fits, n_estimators):
    if len(fits) != n_estimators:
        raise ValueError(
            f"Got {n_estimators} estimators but {len(fits)} fits: pass one "
            "dict of fit arguments per estimator."
        )
    for i, fit in enumerate(fits):
        if not isinstance(fit, Mapping):
            # a tuple (X, y) would fail below on set(fit), with numpy's
            # "unhashable type" naming neither fits nor what it should hold
            raise TypeError(
                f"fits[{i}] is a {type(fit).__name__}; each fit is a dict of "
                "the arguments of the estimator's fit, such as "
                "{'X': X, 'y': y}."
            )
        unknown = set(fit) - {"X", "y", *_FIT_ARGUMENTS}
        if unknown or "X" not in fit or "y" not in fit:
            raise TypeError(
                f"fits[{i}] has keys {sorted(fit)}; each fit holds 'X' and 'y' "
                f"and optionally {', '.join(map(repr, _FIT_ARGUMENTS))}."
            )
    return fits


def _check_distinct(estimators, networks):
    """Raise if one object is given twice: it would keep only its last fit."""
    for objects in (estimators, networks):
        first = {}
        for i, obj in enumerate(objects):
            j = first.setdefault(id(obj), i)
            if j != i:
                raise ValueError(
                    f"estimators[{j}] and estimators[{i}] hold the same "
                    f"{type(obj).__name__} object: fitted in place on both fits, "
                    "it would keep only the last one. Pass a distinct estimator "
                    "per fit, e.g. [clone(estimator) for _ in fits]."
                )


def fit_batched(estimators, fits, *, n_jobs=None):
    """Fit many networks at once, each on its own data.

    The engine of :func:`cross_validate_batched`, for callers that build
    the estimators and their data themselves (one estimator per fold, with
    its own validation fold). Each estimator is fitted in place, as
    ``estimator.fit(**fit)`` would fit it (the same loop, the same random
    streams; equal to float tolerance, see :func:`cross_validate_batched`).
    Networks of one configuration (class, architecture, training
    parameters, number of classes) are trained as one stack; different
    configurations are trained one stack after the other. Unfitted sources
    are trained first,
    batched too, and a source that two estimators would train identically
    (same class, parameters, random state, rows and labels, as PT/FT and
    ProgNet of one fold in the paralinguistic experiment) is trained once
    and shared.

    .. versionadded:: 0.1

    Parameters
    ----------
    estimators : list of estimators
        :class:`~sklearn_prognet.DNNClassifier`,
        :class:`~sklearn_prognet.FineTunedClassifier`,
        :class:`~sklearn_prognet.ProgressiveNetClassifier`,
        :class:`~sklearn_prognet.ResidualAdapterClassifier` or
        :class:`~sklearn_prognet.MultiCorpusClassifier` instances, or
        :class:`~sklearn.pipeline.Pipeline` objects ending in one, or in a
        wrapper of one: an estimator with the methods ``inner_estimator()``
        (the unfitted network its ``fit`` trains),
        ``inner_fit_arguments(**fit)`` (that network's fit arguments) and
        ``set_inner_fitted(network, arguments)`` (the wrapper made fitted
        from the fitted network). Other estimators raise a TypeError. Each
        is fitted in place, so the same object given twice (directly or as
        a Pipeline's network) raises a ValueError: it would keep only its
        last fit.

    fits : list of dict
        The arguments of each estimator's ``fit``: ``'X'`` and ``'y'``, and
        optionally ``'groups'``, ``'source_y'``, ``'X_val'``, ``'y_val'`` and
        ``'dimensions'`` (a :class:`~sklearn_prognet.MultiCorpusClassifier`
        takes no ``'source_y'`` nor ``'dimensions'``, and ``'X'`` and
        ``'X_val'`` as DataFrames with the
        corpus column). A Pipeline's steps before the network are fitted on
        ``X`` and transform ``X_val``. A fit that is not a dict (a tuple
        ``(X, y)``) raises a TypeError.

    n_jobs : int, default=None
        Worker processes: the networks of one configuration and similar
        epoch lengths form a stack, cut into ``n_jobs`` stacks trained side
        by side, each with its share of the cores as torch threads. None
        trains in this process on all of torch's threads. Processes scale
        better than threads on a busy machine.

    Returns
    -------
    estimators : list of estimators
        The same estimators, fitted.

    See Also
    --------
    cross_validate_batched : Cross-validation with this engine.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_prognet import DNNClassifier
    >>> from sklearn_prognet.model_selection import fit_batched
    >>> X, y = make_classification(n_samples=100, n_features=5, random_state=0)
    >>> models = [DNNClassifier(hidden_layer_sizes=(16,), max_epochs=5,
    ...                         random_state=seed) for seed in range(3)]
    >>> models = fit_batched(models, [{"X": X[i::3], "y": y[i::3]}
    ...                               for i in range(3)])
    >>> [model.n_iter_ for model in models]
    [5, 5, 5]
    """
    for _ in fit_batched_as_trained(estimators, fits, n_jobs=n_jobs):
        pass
    return estimators


def fit_batched_as_trained(estimators, fits, *, n_jobs=None):
    """:func:`fit_batched`, yielding the estimators as their stacks are trained.

    A generator: the estimators are checked, their pipelines' first steps
    and unfitted sources fitted, then their networks trained; as each group
    of similar networks is trained (all its workers' stacks, see
    :func:`~sklearn_prognet.networks._batched.trained_groups`), its estimators are
    made fitted and their positions in ``estimators`` and training times
    are yielded, so that a caller can save them before the others end.

    Yields
    ------
    positions : list of int
        The positions in ``estimators`` of the estimators now fitted.
    seconds : list of float
        Each one's training time: its share of its stack's, plus an equal
        share of the preparation (the pipelines' first steps and the
        sources trained inside the fits).
    """
    if not estimators:
        return
    start = time.perf_counter()
    fits = _checked_fits(fits, len(estimators))
    parts = [_split_network(estimator) for estimator in estimators]
    outer = [network for _, network in parts]
    _check_distinct(estimators, outer)
    fits = [
        _transformed(steps, fit) for (steps, _), fit in zip(parts, fits, strict=True)
    ]
    delegated = [_delegated(*pair) for pair in zip(outer, fits, strict=True)]
    networks = [network for network, _ in delegated]
    fits = [fit for _, fit in delegated]
    for network in networks:
        network._validate_params()
    sources = _fit_sources(networks, fits, n_jobs)
    jobs = [
        _prepared(network, fit, fitted)
        for network, fit, fitted in zip(networks, fits, sources, strict=True)
    ]
    prepared = (time.perf_counter() - start) / len(estimators)
    for positions, nets, seconds in trained_groups(jobs, n_jobs):
        for i, net in zip(positions, nets, strict=True):
            networks[i]._set_fitted(net)
            if outer[i] is not networks[i]:
                outer[i].set_inner_fitted(networks[i], fits[i])
        yield positions, [prepared + share for share in seconds]


def _listed(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _digest(array):
    """A fingerprint of an array's values (labels may be strings)."""
    return hashlib.sha1(pickle.dumps(np.asarray(array))).hexdigest()


def _fit_sources(networks, fits, n_jobs):
    """Fit every network's unfitted sources, batched; equal fits run once.

    Two targets of one fold often train the very same source network (same
    class, parameters, seed, rows and labels, as PT/FT and ProgNet do in the
    paralinguistic experiment): it is trained once and shared, which is safe
    because fitting never modifies a source.

    Returns
    -------
    sources : list of dict
        For every network, the value of each source parameter with its
        unfitted sources replaced by fitted ones.
    """
    requests = {}  # key -> (source, X, labels, [(network, name, position)])
    for i, (network, fit) in enumerate(zip(networks, fits, strict=True)):
        for name in getattr(network, "_source_params", ()):
            listed = [_unwrap(source) for source in _listed(getattr(network, name))]
            unfitted = [p for p, s in enumerate(listed) if not _is_fitted(s)]
            if not unfitted:
                continue
            labels = _check_source_y(fit.get("source_y"), name, unfitted, len(fit["y"]))
            for column, position in enumerate(unfitted):
                source = clone(listed[position])
                if source.random_state is None:
                    source.set_params(random_state=source_seed(network, position))
                key = (
                    type(source).__name__,
                    repr(source.get_params(deep=False)),
                    _digest(fit["X"]),
                    _digest(labels[:, column]),
                )
                entry = requests.setdefault(
                    key, (source, fit["X"], labels[:, column], [])
                )
                entry[3].append((i, name, position))
    batch = list(requests.values())
    fitted = fit_batched(
        [source for source, *_ in batch],
        [{"X": X, "y": labels} for _, X, labels, _ in batch],
        n_jobs=n_jobs,
    )
    resolved = [{} for _ in networks]
    for source, (*_, users) in zip(fitted, batch, strict=True):
        for i, name, position in users:
            value = resolved[i].setdefault(name, _listed(getattr(networks[i], name)))
            value[position] = source
    for network, own in zip(networks, resolved, strict=True):
        for name, value in own.items():
            if not isinstance(getattr(network, name), (list, tuple)):
                own[name] = value[0]
    return resolved


def _prepared(network, fit, fitted_sources):
    """The training job of a network, its sources replaced by fitted ones.

    The fitted sources are set only while ``fit`` is prepared: the
    network's parameters stay what the user gave (unfitted templates), and
    ``sources_`` / ``source_`` hold the fitted ones, as after ``fit``.
    """
    if isinstance(network, MultiCorpusClassifier):
        # it trains no source and no ratings: refused, as fit would refuse them
        extra = sorted({"source_y", "dimensions"} & fit.keys())
        if extra:
            raise TypeError(
                "MultiCorpusClassifier.fit takes X, y, groups, X_val and y_val; "
                f"got {extra}."
            )
        return network._prepare_fit(
            fit["X"], fit["y"], fit.get("groups"), fit.get("X_val"), fit.get("y_val")
        )
    originals = {name: getattr(network, name) for name in fitted_sources}
    try:
        for name, value in fitted_sources.items():
            setattr(network, name, value)
        return network._prepare_fit(
            fit["X"],
            fit["y"],
            fit.get("groups"),
            None if fitted_sources else fit.get("source_y"),
            fit.get("X_val"),
            fit.get("y_val"),
            fit.get("dimensions"),
        )
    finally:
        for name, value in originals.items():
            setattr(network, name, value)


# fit arguments with one entry per sample, split with X; the others are
# passed to every fold as they are
_SAMPLE_ALIGNED = ("groups", "source_y", "dimensions")


def _fold_fits(X, y, splits, params):
    """The fit arguments of every fold's estimator."""
    params = dict(params or {})
    unknown = sorted(set(params) - set(_FIT_ARGUMENTS))
    if unknown:
        raise TypeError(
            f"params has {unknown}; the networks' fit takes "
            f"{', '.join(map(repr, _FIT_ARGUMENTS))}."
        )
    n_samples = _num_samples(X)
    for name in _SAMPLE_ALIGNED:
        if params.get(name) is not None and _num_samples(params[name]) != n_samples:
            raise ValueError(
                f"params[{name!r}] has {_num_samples(params[name])} entries but X "
                f"has {n_samples} samples: it is split with X, one entry per sample."
            )
    fits = []
    for train, _ in splits:
        fit = {"X": _safe_indexing(X, train), "y": _safe_indexing(y, train)}
        for name, value in params.items():
            aligned = name in _SAMPLE_ALIGNED and value is not None
            fit[name] = _safe_indexing(value, train) if aligned else value
        fits.append(fit)
    return fits


def _scores(scorer, estimator, X, y):
    scores = scorer(estimator, X, y)
    return scores if isinstance(scores, dict) else {"score": scores}


def cross_validate_batched(
    estimator,
    X,
    y,
    *,
    groups=None,
    scoring=None,
    cv=None,
    params=None,
    return_train_score=False,
    return_estimator=False,
    return_indices=False,
    n_jobs=None,
):
    """Evaluate a network by cross-validation, training all folds at once.

    The same as :func:`sklearn.model_selection.cross_validate`, but the
    networks of all folds are trained together by the batched engine: their
    trainable layers are stacked along a model axis, so that one step of
    training is a few batched matrix products for all folds, large enough to
    keep the CPU busy where one small network cannot. Every fold's network
    keeps its own training rows, initial weights, batch order, dropout
    masks (hidden and input), input noise, Adam state with decoupled weight
    decay, validation set, early stopping and best weights; the source
    networks trained inside ``fit`` (unfitted sources with ``source_y``) are
    batched too. Residual adapters keep their source's trunk frozen (bit
    for bit); a multi-corpus network's rows each use their corpus's biases,
    adapters and output layer, as in its own ``fit``. Each returned
    estimator is an ordinary fitted one.

    Read more in the :ref:`User Guide <batched>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    estimator : estimator
        A :class:`~sklearn_prognet.DNNClassifier`,
        :class:`~sklearn_prognet.FineTunedClassifier`,
        :class:`~sklearn_prognet.ProgressiveNetClassifier`,
        :class:`~sklearn_prognet.ResidualAdapterClassifier` or
        :class:`~sklearn_prognet.MultiCorpusClassifier`, or a
        :class:`~sklearn.pipeline.Pipeline` ending in one (its other steps
        are fitted per fold, as usual). Anything else raises a TypeError.

    X : array-like of shape (n_samples, n_features)
        The data to fit (a DataFrame with the corpus column for a
        :class:`~sklearn_prognet.MultiCorpusClassifier`).

    y : array-like of shape (n_samples,)
        The target labels.

    groups : array-like of shape (n_samples,), default=None
        Group labels for the splitter only, as in ``cross_validate``. To
        hold out whole groups in the networks' own early-stopping split,
        pass ``params={"groups": groups}``.

    scoring : str, callable, list, tuple or dict, default=None
        As in :func:`~sklearn.model_selection.cross_validate`; None uses the
        estimator's ``score`` (accuracy). ``"balanced_accuracy"`` is the UAR.

    cv : int, cross-validation generator or an iterable, default=None
        As in :func:`~sklearn.model_selection.cross_validate`, e.g. a
        :class:`RepeatedStratifiedGroupKFold`.

    params : dict, default=None
        Arguments of the network's ``fit``: ``'groups'``, ``'source_y'`` and
        ``'dimensions'`` have one entry per sample and are split with ``X``
        (the ratings of a multi-task network); ``'X_val'`` and
        ``'y_val'`` are passed to every fold as they are. Other keys raise a
        TypeError.

    return_train_score : bool, default=False
        Whether to include the scores on the training sets.

    return_estimator : bool, default=False
        Whether to return the fitted estimators.

    return_indices : bool, default=False
        Whether to return the train and test indices of every split.

    n_jobs : int, default=None
        Worker processes that share the folds, each with its share of the
        cores as torch threads; None trains in this process. See
        :func:`fit_batched`.

    Returns
    -------
    scores : dict of ndarray
        The keys of ``cross_validate``: ``'test_score'`` (or
        ``'test_<name>'`` for several metrics), ``'fit_time'``,
        ``'score_time'``, and if asked for ``'train_*'``, ``'estimator'``
        and ``'indices'``. ``fit_time`` is the batched training time shared
        out equally among the folds.

    See Also
    --------
    sklearn.model_selection.cross_validate : The per-fit original.
    fit_batched : The engine, for estimators and data built by the caller.

    Notes
    -----
    The results are those of ``cross_validate`` to float tolerance: each
    fold's network is trained in the same loop as its own ``fit`` (which
    trains it as a stack of one), from the same seed, with its own random
    stream for the batch order, the dropout masks and the input noise, so
    it does not depend on the other folds it is trained with, except
    perhaps in the last digits (the sizes of the stacked tensors can change
    the order of some floating-point sums; ``tests/test_one_loop.py``
    checks this for every kind of network). The models train in the calling
    process on all of torch's threads.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_prognet import DNNClassifier
    >>> from sklearn_prognet.model_selection import cross_validate_batched
    >>> X, y = make_classification(n_samples=120, n_features=8, random_state=0)
    >>> clf = DNNClassifier(hidden_layer_sizes=(32,), lr=0.01, max_epochs=20,
    ...                     random_state=0)
    >>> results = cross_validate_batched(clf, X, y, cv=3, return_estimator=True)
    >>> results["test_score"].shape
    (3,)
    >>> [est.n_iter_ for est in results["estimator"]]
    [20, 20, 20]
    """
    X, y, groups = indexable(X, y, groups)
    _split_network(estimator)
    cv = check_cv(cv, y, classifier=True)
    splits = list(cv.split(X, y, groups))
    fits = _fold_fits(X, y, splits, params)
    estimators = [clone(estimator) for _ in splits]
    start = time.perf_counter()
    fit_batched(estimators, fits, n_jobs=n_jobs)
    fit_time = (time.perf_counter() - start) / len(splits)
    scorer = check_scoring(estimator, scoring)
    results = {"fit_time": [fit_time] * len(splits), "score_time": []}
    for fitted, (train, test) in zip(estimators, splits, strict=True):
        start = time.perf_counter()
        sets = {"test": test, "train": train} if return_train_score else {"test": test}
        for prefix, rows in sets.items():
            X_rows, y_rows = _safe_indexing(X, rows), _safe_indexing(y, rows)
            for name, value in _scores(scorer, fitted, X_rows, y_rows).items():
                results.setdefault(f"{prefix}_{name}", []).append(value)
        results["score_time"].append(time.perf_counter() - start)
    results = {key: np.asarray(value) for key, value in results.items()}
    if return_estimator:
        results["estimator"] = estimators
    if return_indices:
        results["indices"] = {
            "train": [train for train, _ in splits],
            "test": [test for _, test in splits],
        }
    return results
