"""The recipe search as library code (#34): presets.search_recipe and friends."""

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GroupKFold, ParameterSampler
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_prognet import DNNClassifier, model_selection
from sklearn_prognet.model_selection import RepeatedStratifiedGroupKFold
from sklearn_prognet.presets import (
    PAPER,
    SMALL_CORPUS,
    SMALL_CORPUS_SEARCH_SPACE,
    draw_candidates,
    nested_search_recipe,
    search_recipe,
)

FAST = {"hidden_layer_sizes": (8,), "max_epochs": 2, "early_stopping": False}
SPACE = {"lr": [0.003, 0.01], "dropout": [0.0, 0.3]}


@pytest.fixture(scope="module")
def corpus():
    """Two classes, 8 speakers of 20 rows each; the last column is the row id."""
    rng = np.random.RandomState(0)
    n = 160
    y = np.tile([0, 1], n // 2)
    groups = np.repeat([f"s{i}" for i in range(8)], n // 8)
    X = rng.normal(size=(n, 4)) + y[:, None]
    X = np.column_stack([X, np.arange(n)]).astype(np.float32)
    return X, y, groups


@pytest.fixture
def recorded(monkeypatch):
    """The fits of every call of the batched engine, in order."""
    calls = []
    real = model_selection.fit_batched

    def spy(models, fits, **kwargs):
        calls.append([dict(fit) for fit in fits])
        return real(models, fits, **kwargs)

    monkeypatch.setattr(model_selection, "fit_batched", spy)
    return calls


def _rows(fit):
    return set(np.asarray(fit["X"])[:, -1].astype(int))


# -- speakers stay apart ------------------------------------------------------


def test_search_trains_each_candidate_on_its_folds_training_speakers_only(
    corpus, recorded
):
    X, y, groups = corpus
    cv = RepeatedStratifiedGroupKFold(n_splits=4, n_repeats=1, random_state=0)
    splits = list(cv.split(X, y, groups))
    search_recipe(
        DNNClassifier(**FAST),
        X,
        y,
        groups=groups,
        cv=cv,
        search_space=SPACE,
        n_candidates=3,
        ensemble_size=2,
        random_state=0,
    )
    stage1, stage2 = recorded
    assert len(stage1) == 3 * 4  # candidates x folds, one call
    for i, fit in enumerate(stage1):
        train, test = splits[i % 4]
        assert _rows(fit) == set(train)
        assert not set(fit["groups"]) & set(groups[test])
        # the networks' own early-stopping split gets the rows' speakers
        np.testing.assert_array_equal(fit["groups"], groups[train])
    # the other seed on each fold (4 fits), then both seeds on every row
    assert [_rows(fit) for fit in stage2[:4]] == [set(t) for t, _ in splits]
    assert [len(_rows(fit)) for fit in stage2[4:]] == [len(y)] * 2


def test_nested_search_never_sees_an_outer_test_speaker(corpus, recorded):
    X, y, groups = corpus
    outer = list(GroupKFold(n_splits=2).split(X, y, groups))
    results = nested_search_recipe(
        DNNClassifier(**FAST),
        X,
        y,
        groups=groups,
        outer_cv=outer,
        cv=2,
        search_space=SPACE,
        n_candidates=2,
        random_state=0,
    )
    fits = [fit for call in recorded for fit in call]
    assert len(fits) == 2 * 2 * 2 + 2  # candidates x outer x inner, refits
    for fit in fits:
        # each fit lies within one outer fold's training rows
        assert any(
            _rows(fit) <= set(train) and not set(fit["groups"]) & set(groups[test])
            for train, test in outer
        )
    for t, (_, test) in enumerate(outer):
        np.testing.assert_array_equal(results["indices"]["test"][t], test)
        (refit,) = results["search"][t].best_estimators
        # the outer score, computed independently of the search
        expected = balanced_accuracy_score(y[test], refit.predict(X[test]))
        assert results["test_score"][t] == pytest.approx(expected)


# -- reproducible, and right --------------------------------------------------


def test_same_random_state_same_search(corpus):
    X, y, groups = corpus
    kwargs = {"groups": groups, "search_space": SPACE, "n_candidates": 3, "cv": 2}
    a = search_recipe(DNNClassifier(**FAST), X, y, random_state=3, **kwargs)
    b = search_recipe(DNNClassifier(**FAST), X, y, random_state=3, **kwargs)
    assert a.best_params == b.best_params
    assert a.cv_results["params"] == b.cv_results["params"]
    np.testing.assert_array_equal(
        a.cv_results["mean_test_score"], b.cv_results["mean_test_score"]
    )
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_random_state_draws_the_candidates():
    space = SMALL_CORPUS_SEARCH_SPACE
    assert draw_candidates(space, 8, random_state=0) == draw_candidates(
        space, 8, random_state=0
    )
    assert draw_candidates(space, 8, random_state=0) != draw_candidates(
        space, 8, random_state=1
    )


def test_search_finds_the_candidate_that_can_learn(corpus):
    # A learning rate of 1e-7 leaves the network at its initial weights
    # (chance); the other learns the shifted classes. The useless candidate
    # comes first, so a search that ignored the scores (or kept the first)
    # would fail.
    X, y, groups = corpus
    X = X[:, :-1]
    candidates = [{"lr": 1e-7}, {"lr": 0.03}]
    params = {**FAST, "max_epochs": 30, "hidden_layer_sizes": (16,)}
    result = search_recipe(
        DNNClassifier(**params),
        X,
        y,
        groups=groups,
        cv=4,
        search_space=candidates,
        random_state=0,
    )
    assert result.best_params == {"lr": 0.03}
    assert result.best_index == 1
    assert result.cv_results["rank_test_score"].tolist() == [2, 1]
    assert result.best_score > 0.8
    assert result.best_score == pytest.approx(result.cv_results["mean_test_score"][1])
    assert result.best_estimators[0].lr == 0.03
    assert balanced_accuracy_score(y, result.predict(X)) > 0.8


def test_ensemble_is_kept_only_when_it_scores_higher(corpus):
    X, y, groups = corpus
    result = search_recipe(
        DNNClassifier(**FAST),
        X,
        y,
        groups=groups,
        cv=2,
        search_space=SPACE,
        n_candidates=2,
        ensemble_size=3,
        random_state=0,
    )
    better = result.ensemble_score > result.best_score
    assert result.n_seeds == (3 if better else 1)
    assert len(result.best_estimators) == result.n_seeds
    seeds = [est.random_state for est in result.best_estimators]
    # seed s of the ensemble is the first seed plus s
    assert seeds == list(range(seeds[0], seeds[0] + result.n_seeds))


def test_per_fit_engine_with_a_scaling_pipeline(corpus):
    # A Pipeline's network takes the space's settings and the groups (by
    # step name when fitted one at a time).
    X, y, groups = corpus
    estimator = make_pipeline(StandardScaler(), DNNClassifier(**FAST))
    result = search_recipe(
        estimator,
        X,
        y,
        groups=groups,
        cv=2,
        search_space=[{"lr": 0.01}],
        engine="per-fit",
        random_state=0,
    )
    (refit,) = result.best_estimators
    assert refit[-1].lr == 0.01 and refit[-1].random_state is not None
    assert estimator[-1].lr != 0.01  # the given estimator is left unfitted
    assert result.predict(X).shape == y.shape


# -- the space ----------------------------------------------------------------


def test_small_corpus_was_drawn_from_its_search_space():
    # SMALL_CORPUS is the third draw of the study (seed 0) from this space
    assert draw_candidates(SMALL_CORPUS_SEARCH_SPACE, 8, random_state=0)[2] == (
        SMALL_CORPUS
    )
    assert set(SMALL_CORPUS_SEARCH_SPACE) == set(PAPER)


def test_search_space_is_a_param_distributions_for_sklearn():
    for params in ParameterSampler(SMALL_CORPUS_SEARCH_SPACE, 5, random_state=0):
        DNNClassifier(**params)._validate_params()


# -- bad inputs ---------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"search_space": {}}, "search_space={} is empty"),
        ({"search_space": []}, "search_space=\\[\\] is empty"),
        ({"search_space": {"lr": []}}, "search_space\\['lr'\\]=\\[\\]"),
        ({"search_space": {"lr": 0.01}}, "search_space\\['lr'\\]=0.01"),
        ({"search_space": {"learning_rate": [0.1]}}, "'learning_rate'.*DNNClassifier"),
        ({"search_space": [{"lr": 0.1}, {"momentum": 0.9}]}, "search_space\\[1\\]"),
        ({"search_space": [{}]}, "search_space\\[0\\]"),
        ({"search_space": [{"lr": 0.1}], "n_candidates": 2}, "n_candidates=2"),
        ({"n_candidates": 0}, "n_candidates=0"),
        ({"ensemble_size": 0}, "ensemble_size=0"),
        ({"engine": "gpu"}, "engine='gpu'"),
        ({"groups": None}, "groups=None"),
        ({"cv": [(np.arange(10), np.arange(10, 20))]}, "cv=\\["),
    ],
)
def test_bad_inputs_are_named(corpus, kwargs, match):
    X, y, groups = corpus
    kwargs = {"groups": groups, **kwargs}
    with pytest.raises(ValueError, match=match):
        search_recipe(DNNClassifier(**FAST), X, y, **kwargs)


def test_draw_candidates_rejects_a_list():
    with pytest.raises(ValueError, match="non-empty dict"):
        draw_candidates([{"lr": 0.1}])
