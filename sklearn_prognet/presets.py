# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Named sets of training parameters for every network estimator.

Each preset is a plain dict that every network estimator accepts as keyword
arguments (:class:`~sklearn_prognet.DNNClassifier`,
:class:`~sklearn_prognet.FineTunedClassifier`,
:class:`~sklearn_prognet.ProgressiveNetClassifier`,
:class:`~sklearn_prognet.ResidualAdapterClassifier` and
:class:`~sklearn_prognet.MultiCorpusClassifier`)::

    from sklearn_prognet import DNNClassifier
    from sklearn_prognet.presets import SMALL_CORPUS

    clf = DNNClassifier(**SMALL_CORPUS, random_state=0)

Parameters given next to a preset override it only if the dict is unpacked
first into a new one, ``DNNClassifier(**{**SMALL_CORPUS, "lr": 0.01})``;
Python refuses the same keyword twice.

:func:`search_recipe` searches :data:`SMALL_CORPUS_SEARCH_SPACE` (or a space
of your own) for the settings of your corpus, holding out whole speakers;
:func:`nested_search_recipe` also measures, on held-out speakers, what that
search is worth.

Importing this module never imports torch: the presets are plain dicts,
and the command line reads them before any network is trained (the searches
train their networks with the batched engine, imported on first use).

Read more in the :ref:`User Guide <small_corpus>`.
"""

import numpy as np
from sklearn.utils import check_random_state

from sklearn_prognet import _recipe_search
from sklearn_prognet._recipe_search import RecipeSearchResult
from sklearn_prognet.networks._knobs import PRESET, defaults, names
from sklearn_prognet.utils._docstring import Substitution

__all__ = [
    "PAPER",
    "SMALL_CORPUS",
    "SMALL_CORPUS_SEARCH_SPACE",
    "RecipeSearchResult",
    "draw_candidates",
    "nested_search_recipe",
    "search_recipe",
]

# The training parameters a preset sets: the architecture, the optimisation
# and the regularisation, not the device, the validation split or seeds (the
# knobs with the preset role, declared in networks/_knobs.py).
_PRESET_KEYS = names(PRESET)

#: The paper's Table 1 (Gideon et al. 2017) and our choices where it is
#: silent: the defaults of every network estimator, declared once in
#: ``networks/_knobs.py`` (the tests check that the estimators' signatures agree).
PAPER = defaults(_PRESET_KEYS)

#: Settings for corpora of a few hundred to a few thousand utterances of
#: eGeMAPS functionals, chosen by the nested, speaker-independent study of
#: ``benchmarks/study_small_corpus.py`` (the User Guide has the rule and the
#: results): two tanh layers of 128, dropout 0.5, decoupled weight decay
#: 0.1 and label smoothing 0.1, trained for 50 epochs of 128-utterance
#: batches *without* early stopping. Holding out a tenth of 4 to 8 training
#: speakers to stop on is holding out one speaker, too noisy a signal.
SMALL_CORPUS = {
    "hidden_layer_sizes": (128, 128),
    "activation": "tanh",
    "dropout": 0.5,
    "lr": 0.001,
    "batch_size": 128,
    "max_epochs": 50,
    # unused without early stopping; the values the search drew with it
    "patience": 50,
    "early_stopping": False,
    "validation_fraction": 0.3,
    "input_dropout": 0.0,
    "weight_decay": 0.1,
    "input_noise": 0.0,
    "label_smoothing": 0.1,
}

#: The space that :data:`SMALL_CORPUS` was searched from (the study's default
#: space): every value of each network parameter that the search draws from,
#: uniformly and independently. A dict of lists, so it is also a
#: ``param_distributions`` of :class:`~sklearn.model_selection.RandomizedSearchCV`
#: and :class:`~sklearn.model_selection.HalvingRandomSearchCV` (a ``param_grid``
#: of :class:`~sklearn.model_selection.GridSearchCV` too, of 209,952 points).
SMALL_CORPUS_SEARCH_SPACE = {
    "hidden_layer_sizes": [(64,), (128,), (256,), (128, 128), (256, 256)],
    "activation": ["relu", "tanh"],
    "dropout": [0.1, 0.3, 0.5],
    "input_dropout": [0.0, 0.1, 0.2],
    "weight_decay": [0.0, 0.01, 0.1],
    "input_noise": [0.0, 0.1, 0.3],
    "label_smoothing": [0.0, 0.1],
    "lr": [0.0003, 0.001, 0.003],
    "batch_size": [32, 64, 128],
    # with early stopping, the cap on the epochs; without, their number
    "max_epochs": [50, 100, 200],
    "early_stopping": [True, False],
    "patience": [20, 50],
    # A tenth of 4 to 8 training speakers is one speaker: a noisy stopping
    # signal (EmoDB, one outer fold: UAR .67 against .92 with 0.3).
    "validation_fraction": [0.1, 0.3],
}


def draw_candidates(search_space=None, n_candidates=8, *, random_state=None):
    """Draw the candidate settings that :func:`search_recipe` would train.

    Each candidate takes one value of every parameter of ``search_space``,
    drawn uniformly and independently, the parameters in the order of the
    dict (so that a seed always gives the same candidates: seed 0 gives the
    candidates of the study behind :data:`SMALL_CORPUS`).

    Read more in the :ref:`User Guide <small_corpus>`.

    .. versionadded:: 0.2

    Parameters
    ----------
    search_space : dict of list, default=None
        Each network parameter's values; None is
        :data:`SMALL_CORPUS_SEARCH_SPACE`.

    n_candidates : int, default=8
        How many candidates to draw.

    random_state : int, RandomState instance or None, default=None
        Pass an int for reproducible output across multiple function calls.
        See :term:`Glossary <random_state>`.

    Returns
    -------
    candidates : list of dict
        ``n_candidates`` dicts of network parameters.

    See Also
    --------
    search_recipe : Trains and scores candidates drawn this way.
    sklearn.model_selection.ParameterSampler : The sampler of scikit-learn (other
        draws from the same space).

    Examples
    --------
    >>> from sklearn_prognet.presets import draw_candidates
    >>> space = {"lr": [0.001, 0.01], "dropout": [0.1, 0.5]}
    >>> candidates = draw_candidates(space, 3, random_state=0)
    >>> len(candidates), sorted(candidates[0])
    (3, ['dropout', 'lr'])
    >>> candidates == draw_candidates(space, 3, random_state=0)
    True
    """
    search_space = SMALL_CORPUS_SEARCH_SPACE if search_space is None else search_space
    if not isinstance(search_space, dict) or not search_space:
        raise ValueError(
            f"search_space={search_space!r} must be a non-empty dict of lists."
        )
    _recipe_search.check_count("n_candidates", n_candidates)
    return _recipe_search.draw_candidates(
        search_space, n_candidates, check_random_state(random_state)
    )


_SEARCH_PARAMETERS = """
    estimator : estimator
        The network to search for (a :class:`~sklearn_prognet.DNNClassifier`
        or another network of the package), or a
        :class:`~sklearn.pipeline.Pipeline` ending in one (a scaler first,
        fitted on each fold's training rows). Its settings outside the
        search space are kept; the space's settings and ``random_state``
        are set on the network (a Pipeline's last step).

    X : array-like of shape (n_samples, n_features)
        The features of the corpus.

    y : array-like of shape (n_samples,)
        The emotion labels.

    groups : array-like of shape (n_samples,)
        The speaker of every sample. The folds hold out whole speakers, and
        the networks' own early-stopping split holds out whole speakers of
        their training rows.
"""

_SEARCH_OPTIONS = """
    search_space : dict of list or list of dict, default=None
        A dict: each network parameter's values (a list), drawn uniformly
        and independently (see :func:`draw_candidates`); None is
        :data:`SMALL_CORPUS_SEARCH_SPACE`. A list of dicts: the candidates
        themselves, tried as given (``[PAPER, SMALL_CORPUS]`` compares the
        presets). An empty space or list, an empty list of values or a
        parameter the network does not take raises a ValueError that
        names it.

    n_candidates : int, default=None
        How many settings to draw from a dict ``search_space``; None draws 8.
        Must be None with a list of candidates.

    ensemble_size : int, default=1
        Seeds of the seed ensemble tried for the best candidate: it is kept
        (its averaged probabilities) if its mean UAR over the folds is
        higher than one seed's. 1 tries no ensemble.

    random_state : int, RandomState instance or None, default=None
        Draws the candidates, the folds of an int ``cv`` and, unless the
        network has an int ``random_state``, the networks' first seed (seed
        ``s`` of the ensemble is that seed plus ``s``). Pass an int for
        reproducible output across multiple function calls.
        See :term:`Glossary <random_state>`.

    engine : {'batched', 'per-fit'}, default='batched'
        ``'batched'`` trains each stage's networks in one call of
        :func:`~sklearn_prognet.model_selection.fit_batched` (one stack per
        candidate); ``'per-fit'`` fits them one at a time, in ``n_jobs``
        processes of one torch thread each.

    n_jobs : int, default=None
        Worker processes (those of ``fit_batched``, or of the per-fit fits).
        None trains in this process.
"""


def _start_search(estimator, X, y, groups, options):
    """Check the arguments of a search; return the data, the rng and the trainer.

    ``options`` holds the public functions' ``(search_space, n_candidates,
    ensemble_size, random_state, engine, n_jobs)``, in their signatures'
    order. The data come back as arrays (``X`` may stay a DataFrame). The
    trainer, ``train_searches(searches)``, trains a list of
    :class:`~sklearn_prognet._recipe_search.Search` and returns one
    :class:`RecipeSearchResult` each.
    """
    search_space, n_candidates, ensemble_size, random_state, engine, n_jobs = options
    search_space = SMALL_CORPUS_SEARCH_SPACE if search_space is None else search_space
    X, y, groups, candidates, rng = _recipe_search.prepare(
        estimator,
        X,
        y,
        groups,
        search_space=search_space,
        n_candidates=n_candidates,
        ensemble_size=ensemble_size,
        engine=engine,
        random_state=random_state,
    )

    def train_searches(searches):
        # The networks' seed is drawn only now, after the caller has drawn
        # the folds' seeds from rng: a seeded search keeps its networks.
        return _recipe_search.search_many(
            estimator,
            searches,
            candidates,
            ensemble_size=ensemble_size,
            seed=_recipe_search.base_seed(estimator, rng),
            engine=engine,
            n_jobs=n_jobs,
        )

    return X, y, groups, rng, train_searches


@Substitution(search_parameters=_SEARCH_PARAMETERS, search_options=_SEARCH_OPTIONS)
def search_recipe(
    estimator,
    X,
    y,
    *,
    groups,
    cv=3,
    search_space=None,
    n_candidates=None,
    ensemble_size=1,
    random_state=None,
    engine="batched",
    n_jobs=None,
):
    """Search training settings for a network on your corpus, speaker-independently.

    The search that chose :data:`SMALL_CORPUS`, for your own data: draws
    ``n_candidates`` settings from ``search_space``, trains each on every
    fold of ``cv`` (folds that hold out whole speakers) and keeps the one
    with the best mean UAR on the held-out speakers. Optionally it then
    tries a seed ensemble of that candidate on the same folds. The winner is
    refitted on all the rows. All candidates' networks are trained in one
    call of the batched engine, then the ensemble and the refit in a second.

    Read more in the :ref:`User Guide <small_corpus>`.

    .. versionadded:: 0.2

    Parameters
    ----------
    {search_parameters}

    cv : int or cross-validation generator, default=3
        The folds: an int is that many speaker-independent, class-stratified
        folds (:class:`~sklearn_prognet.model_selection.RepeatedStratifiedGroupKFold`,
        one repeat); a splitter is called as ``cv.split(X, y, groups)``, so
        it must hold out groups to keep speakers apart.

    {search_options}

    Returns
    -------
    result : RecipeSearchResult
        The best settings, every candidate's fold scores (``cv_results``,
        in the form of ``GridSearchCV.cv_results_``) and the refitted
        networks.

    See Also
    --------
    nested_search_recipe : The search, measured on held-out speakers.
    sklearn.model_selection.HalvingRandomSearchCV : A per-fit search that
        accepts :data:`SMALL_CORPUS_SEARCH_SPACE` too.

    Notes
    -----
    The best score is optimistic: it is the maximum over the candidates of
    scores on the same folds. :func:`nested_search_recipe` measures the
    search on speakers that it never saw.

    Examples
    --------
    >>> from sklearn_prognet import DNNClassifier
    >>> from sklearn_prognet.datasets import load_emodb_features
    >>> from sklearn_prognet.presets import search_recipe
    >>> emodb = load_emodb_features()
    >>> space = {"hidden_layer_sizes": [(16,), (32,)], "lr": [0.003, 0.01]}
    >>> result = search_recipe(
    ...     DNNClassifier(max_epochs=5, early_stopping=False), emodb.data,
    ...     emodb.target, groups=emodb.speaker, cv=2, search_space=space,
    ...     n_candidates=3, random_state=0)
    >>> sorted(result.best_params)
    ['hidden_layer_sizes', 'lr']
    >>> result.cv_results["mean_test_score"].shape
    (3,)
    >>> result.predict(emodb.data[:2]).shape
    (2,)
    """
    options = (search_space, n_candidates, ensemble_size, random_state, engine, n_jobs)
    X, y, groups, rng, train_searches = _start_search(estimator, X, y, groups, options)
    splitter = _recipe_search.splitter(cv, rng)
    splits = list(splitter.split(X, y, groups))
    (result,) = train_searches([_recipe_search.Search(X, y, groups, splits)])
    return result


@Substitution(search_parameters=_SEARCH_PARAMETERS, search_options=_SEARCH_OPTIONS)
def nested_search_recipe(
    estimator,
    X,
    y,
    *,
    groups,
    outer_cv,
    cv=3,
    search_space=None,
    n_candidates=None,
    ensemble_size=1,
    random_state=None,
    engine="batched",
    n_jobs=None,
):
    """Measure :func:`search_recipe` on speakers it never saw (nested CV).

    For every outer fold of ``outer_cv``, searches the settings on that
    fold's training speakers only (inner folds of ``cv``, the same
    candidates for every outer fold), refits the winner on them and scores
    it once on the fold's held-out speakers. The mean of these scores is an
    honest estimate of what the search gives on new speakers, unlike the
    best inner score. The searches of all outer folds are trained together,
    in two calls of the batched engine.

    Read more in the :ref:`User Guide <small_corpus>`.

    .. versionadded:: 0.2

    Parameters
    ----------
    {search_parameters}

    outer_cv : int, cross-validation generator or iterable
        The outer folds: an int or a splitter as ``cv``, or an iterable of
        ``(train, test)`` index arrays.

    cv : int or cross-validation generator, default=3
        The inner folds, split from each outer fold's training rows: an int
        is that many speaker-independent, class-stratified folds; a splitter
        is called as ``cv.split(X_train, y_train, groups_train)``.

    {search_options}

    Returns
    -------
    results : dict
        ``'test_score'``: ndarray of the outer folds' UAR;
        ``'search'``: the :class:`RecipeSearchResult` of each outer fold
        (its inner scores, choice and refitted networks); ``'indices'``:
        ``{'train': [...], 'test': [...]}``, the rows of each outer fold.

    See Also
    --------
    search_recipe : The search on all the rows.
    sklearn_prognet.model_selection.cross_validate_batched : The same outer
        loop for fixed settings.

    Examples
    --------
    >>> from sklearn_prognet import DNNClassifier
    >>> from sklearn_prognet.datasets import load_emodb_features
    >>> from sklearn_prognet.presets import nested_search_recipe
    >>> emodb = load_emodb_features()
    >>> results = nested_search_recipe(
    ...     DNNClassifier(max_epochs=5, early_stopping=False), emodb.data,
    ...     emodb.target, groups=emodb.speaker, outer_cv=2, cv=2,
    ...     search_space={"lr": [0.003, 0.01]}, n_candidates=2, random_state=0)
    >>> results["test_score"].shape
    (2,)
    >>> [search.best_params["lr"] in (0.003, 0.01) for search in results["search"]]
    [True, True]
    """
    options = (search_space, n_candidates, ensemble_size, random_state, engine, n_jobs)
    X, y, groups, rng, train_searches = _start_search(estimator, X, y, groups, options)
    if hasattr(outer_cv, "split") or isinstance(outer_cv, int):
        outer_cv = _recipe_search.splitter(outer_cv, rng).split(X, y, groups)
    outer = [(np.asarray(train), np.asarray(test)) for train, test in outer_cv]
    inner = _recipe_search.splitter(cv, rng)
    searches = []
    for train, _ in outer:
        sub = (_recipe_search.take(X, train), y[train], groups[train])
        searches.append(_recipe_search.Search(*sub, list(inner.split(*sub))))
    results = train_searches(searches)
    scores = [
        _recipe_search.ensemble_uar(
            result.best_estimators, _recipe_search.take(X, test), y[test]
        )
        for result, (_, test) in zip(results, outer, strict=True)
    ]
    return {
        "test_score": np.asarray(scores),
        "search": results,
        "indices": {"train": [t for t, _ in outer], "test": [t for _, t in outer]},
    }
