# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The search for a training recipe: random candidates, speaker-independent folds.

The engine behind :func:`sklearn_prognet.presets.search_recipe` and
:func:`sklearn_prognet.presets.nested_search_recipe` (and so behind
``benchmarks/study_small_corpus.py``, the study that chose ``SMALL_CORPUS``).
Many searches (one per outer fold of a nested search) are trained together:
stage 1 fits every candidate on every fold of every search in one call of the
batched engine, stage 2 fits the seed ensemble and the refits in a second.

Importing this module never imports torch: the engine is reached through
:mod:`sklearn_prognet.model_selection`, which imports it on first use.
"""

import numbers
from dataclasses import dataclass

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_consistent_length

from sklearn_prognet import model_selection
from sklearn_prognet.metrics import uar_score

_ENGINES = ("batched", "per-fit")


@dataclass(frozen=True)
class RecipeSearchResult:
    """The outcome of :func:`~sklearn_prognet.presets.search_recipe`.

    Read more in the :ref:`User Guide <small_corpus>`.

    .. versionadded:: 0.2

    Parameters
    ----------
    best_params : dict
        The settings of the candidate with the best mean UAR over the folds
        (ties go to the first candidate).
    best_index : int
        Its index in ``cv_results['params']``.
    best_score : float
        Its mean UAR over the folds (one seed).
    ensemble_score : float
        The mean UAR over the folds of the best candidate's seed ensemble
        (averaged probabilities of ``ensemble_size`` seeds); equal to
        ``best_score`` with one seed.
    n_seeds : int
        The seeds kept: ``ensemble_size`` if the ensemble scored higher than
        one seed, else 1.
    cv_results : dict of list or ndarray
        One entry per candidate, with the keys of
        :attr:`sklearn.model_selection.GridSearchCV.cv_results_`:
        ``'params'``, ``'param_<name>'``, ``'split<j>_test_score'``,
        ``'mean_test_score'``, ``'std_test_score'`` and
        ``'rank_test_score'`` (the scores are UARs).
    best_estimators : list of estimators
        The best candidate refitted on all the rows with each kept seed
        (``n_seeds`` of them); their mean probabilities are the ensemble's.

    See Also
    --------
    sklearn_prognet.presets.search_recipe : The search that returns it.
    """

    best_params: dict
    best_index: int
    best_score: float
    ensemble_score: float
    n_seeds: int
    cv_results: dict
    best_estimators: list

    def predict_proba(self, X):
        """Return the mean class probabilities of the refitted seed ensemble.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The mean of the ``best_estimators``' probabilities.
        """
        return _mean_proba(self.best_estimators, X)

    def predict(self, X):
        """Predict classes with the refitted seed ensemble (mean probabilities).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples, as for :meth:`predict_proba`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The class with the highest mean probability.
        """
        classes = self.best_estimators[0].classes_
        return classes[self.predict_proba(X).argmax(axis=1)]


def _mean_proba(estimators, X):
    return np.mean([estimator.predict_proba(X) for estimator in estimators], axis=0)


def ensemble_uar(estimators, X, y):
    """The UAR of a seed ensemble (mean probabilities) of fitted estimators."""
    classes = estimators[0].classes_
    return uar_score(y, classes[_mean_proba(estimators, X).argmax(axis=1)])


# -- checks and candidates ----------------------------------------------------


def _network(estimator):
    """The network that a candidate's settings apply to (a Pipeline's last step)."""
    return estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator


def _check_names(names, estimator, where):
    known = _network(estimator).get_params(deep=False)
    for name in names:
        if name not in known:
            raise ValueError(
                f"{where} has the parameter {name!r}, which "
                f"{type(_network(estimator)).__name__} does not take."
            )


def check_candidates(search_space, estimator):
    """Raise a ValueError unless ``search_space`` suits ``estimator``.

    A dict of non-empty lists (a space to draw from), or a non-empty list of
    dicts (the candidates themselves).
    """
    if isinstance(search_space, list) and search_space:
        for i, candidate in enumerate(search_space):
            if not isinstance(candidate, dict) or not candidate:
                raise ValueError(
                    f"search_space[{i}]={candidate!r}: each candidate of a list "
                    "is a non-empty dict of network parameters."
                )
            _check_names(candidate, estimator, f"search_space[{i}]")
        return
    if not isinstance(search_space, dict) or not search_space:
        raise ValueError(
            f"search_space={search_space!r} is empty or neither a dict nor a "
            "list: give a dict mapping each network parameter to a list of "
            "values, or a list of candidate dicts."
        )
    _check_names(search_space, estimator, "search_space")
    for name, values in search_space.items():
        if isinstance(values, str) or not hasattr(values, "__len__") or not values:
            raise ValueError(
                f"search_space[{name!r}]={values!r}: give a non-empty list of values."
            )


def check_count(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}={value!r} must be an integer >= 1.")


def draw_candidates(search_space, n_candidates, rng):
    """``n_candidates`` settings, each value drawn uniformly and independently.

    Dimensions are drawn in the order of ``search_space``, one ``randint`` each:
    the draws of ``benchmarks/study_small_corpus.py`` (seed 0) stay the same.
    """
    return [
        {
            name: values[rng.randint(len(values))]
            for name, values in search_space.items()
        }
        for _ in range(n_candidates)
    ]


def splitter(cv, rng):
    """A splitter from ``cv``: an int is speaker-independent stratified folds.

    Their seed is drawn from ``rng``.
    """
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        return model_selection.RepeatedStratifiedGroupKFold(
            n_splits=cv, n_repeats=1, random_state=int(rng.randint(2**31 - 1))
        )
    if not hasattr(cv, "split"):
        raise ValueError(
            f"cv={cv!r}: give an int or a splitter with split(X, y, groups), such "
            "as RepeatedStratifiedGroupKFold, so that speakers stay apart."
        )
    return cv


def take(array, rows):
    return array.iloc[rows] if hasattr(array, "iloc") else array[rows]


# -- training -----------------------------------------------------------------


def _fit_one(model, fit, one_thread):
    if one_thread:
        import torch  # in a worker process only: small networks, threads contend

        torch.set_num_threads(1)
    if isinstance(model, Pipeline):
        # a Pipeline takes its network's fit arguments by step name
        step = model.steps[-1][0]
        fit = {k if k in ("X", "y") else f"{step}__{k}": v for k, v in fit.items()}
    return model.fit(**fit)


def fit_all(models, fits, *, engine="batched", n_jobs=None):
    """Fit ``models[i]`` on ``fits[i]``; return them, fitted.

    With ``engine='batched'`` the networks go to one call of
    :func:`~sklearn_prognet.model_selection.fit_batched` (one stack per
    configuration); ``'per-fit'`` fits them one at a time, in ``n_jobs``
    processes of one torch thread each.
    """
    if engine == "batched":
        return model_selection.fit_batched(models, fits, n_jobs=n_jobs)
    one_thread = n_jobs not in (None, 1)
    return joblib.Parallel(n_jobs=n_jobs)(
        joblib.delayed(_fit_one)(model, fit, one_thread)
        for model, fit in zip(models, fits, strict=True)
    )


def _configured(estimator, params, seed):
    model = clone(estimator)
    _network(model).set_params(**params, random_state=seed)
    return model


class Search:
    """One training set's search: its rows, folds and fitted networks."""

    def __init__(self, X, y, groups, splits):
        self.X, self.y, self.groups, self.splits = X, y, groups, splits

    def fit_arguments(self, rows=None):
        if rows is None:
            return {"X": self.X, "y": self.y, "groups": self.groups}
        return {
            "X": take(self.X, rows),
            "y": self.y[rows],
            "groups": self.groups[rows],
        }

    def test_part(self, j):
        test = self.splits[j][1]
        return take(self.X, test), self.y[test]


def _cv_results(candidates, scores):
    """``GridSearchCV.cv_results_``'s keys for a (candidate x fold) UAR table."""
    results = {"params": [dict(c) for c in candidates]}
    for name in candidates[0]:
        results[f"param_{name}"] = [c[name] for c in candidates]
    for j in range(scores.shape[1]):
        results[f"split{j}_test_score"] = scores[:, j]
    means = scores.mean(axis=1)
    results["mean_test_score"] = means
    results["std_test_score"] = scores.std(axis=1)
    # rank 1 = best; ties share the lowest rank, as in GridSearchCV
    order = np.unique(-means, return_inverse=True)[1]
    counts = np.bincount(order)
    results["rank_test_score"] = (np.cumsum(counts) - counts + 1)[order]
    return results


def search_many(
    estimator, searches, candidates, *, ensemble_size, seed, engine, n_jobs
):
    """Search every ``Search`` at once; one :class:`RecipeSearchResult` each.

    Stage 1: every candidate with ``seed`` on every fold of every search, one
    fitting call. Stage 2, one more call: for each search, its best
    candidate's other seeds on its folds (whether a seed ensemble beats one
    seed) and all its seeds on all its rows (the refit).
    """
    keys = [
        (c, t, j)
        for c in range(len(candidates))
        for t, search in enumerate(searches)
        for j in range(len(search.splits))
    ]
    models = fit_all(
        [_configured(estimator, candidates[c], seed) for c, _, _ in keys],
        [searches[t].fit_arguments(searches[t].splits[j][0]) for _, t, j in keys],
        engine=engine,
        n_jobs=n_jobs,
    )
    fitted = dict(zip(keys, models, strict=True))
    tables = [np.zeros((len(candidates), len(s.splits))) for s in searches]
    for (c, t, j), model in fitted.items():
        tables[t][c, j] = ensemble_uar([model], *searches[t].test_part(j))
    best = [int(np.argmax(table.mean(axis=1))) for table in tables]

    seeds = [seed + s for s in range(ensemble_size)]
    keys = [
        (t, j, s)
        for t, search in enumerate(searches)
        for j in range(len(search.splits))
        for s in seeds[1:]
    ]
    keys += [(t, None, s) for t in range(len(searches)) for s in seeds]
    models = fit_all(
        [_configured(estimator, candidates[best[t]], s) for t, _, s in keys],
        [
            searches[t].fit_arguments(None if j is None else searches[t].splits[j][0])
            for t, j, _ in keys
        ],
        engine=engine,
        n_jobs=n_jobs,
    )
    nets = dict(zip(keys, models, strict=True))
    results = []
    for t, search in enumerate(searches):
        b, means = best[t], tables[t].mean(axis=1)
        ensemble = np.mean(
            [
                ensemble_uar(
                    [fitted[b, t, j]] + [nets[t, j, s] for s in seeds[1:]],
                    *search.test_part(j),
                )
                for j in range(len(search.splits))
            ]
        )
        n_seeds = ensemble_size if ensemble > means[b] else 1
        results.append(
            RecipeSearchResult(
                best_params=dict(candidates[b]),
                best_index=b,
                best_score=float(means[b]),
                ensemble_score=float(ensemble),
                n_seeds=n_seeds,
                cv_results=_cv_results(candidates, tables[t]),
                best_estimators=[nets[t, None, s] for s in seeds[:n_seeds]],
            )
        )
    return results


def base_seed(estimator, rng):
    """The networks' first seed: the estimator's own int, else drawn from ``rng``."""
    seed = _network(estimator).get_params(deep=False).get("random_state")
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return int(seed)
    return int(rng.randint(np.iinfo(np.int32).max - 1000))


def prepare(
    estimator,
    X,
    y,
    groups,
    *,
    search_space,
    n_candidates,
    ensemble_size,
    engine,
    random_state,
):
    """Check the arguments; return the data as arrays, the candidates and the seed."""
    check_candidates(search_space, estimator)
    if isinstance(search_space, list):
        if n_candidates is not None:
            raise ValueError(
                f"n_candidates={n_candidates!r} with a list of candidates: the "
                "list is searched as given; leave n_candidates=None."
            )
    else:
        n_candidates = 8 if n_candidates is None else n_candidates
        check_count("n_candidates", n_candidates)
    check_count("ensemble_size", ensemble_size)
    if engine not in _ENGINES:
        raise ValueError(f"engine={engine!r} must be one of {_ENGINES}.")
    if groups is None:
        raise ValueError(
            "groups=None: give the speaker of every sample, so that the folds "
            "hold out whole speakers."
        )
    y, groups = np.asarray(y), np.asarray(groups)
    X = X if hasattr(X, "iloc") else np.asarray(X)
    check_consistent_length(X, y, groups)
    rng = check_random_state(random_state)
    if isinstance(search_space, list):
        candidates = [dict(candidate) for candidate in search_space]
    else:
        candidates = draw_candidates(search_space, n_candidates, rng)
    return X, y, groups, candidates, rng
