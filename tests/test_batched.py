"""The batched engine: exactness, independence of the models, extraction, errors."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_prognet import (
    DNNClassifier,
    FineTunedClassifier,
    ProgressiveNetClassifier,
)
from sklearn_prognet.datasets import load_emodb_features
from sklearn_prognet.metrics import uar_score
from sklearn_prognet.model_selection import (
    RepeatedStratifiedGroupKFold,
    cross_validate_batched,
    fit_batched,
)
from sklearn_prognet.networks._batched import stacks, trained_groups
from tests._batched_data import (
    SMALL,
    assert_same_training,
    make_data,
    make_source,
    network,
)


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def source(data):
    # fit once, never refit: shared by several tests
    return make_source(data)


@pytest.mark.parametrize("kind", ["dnn", "ptft", "prognet"])
def test_one_model_without_randomness_equals_the_reference_loop(data, source, kind):
    # No dropout and one batch per epoch: nothing random is left after the
    # initial weights, which both engines draw from the same seed, so the
    # batched engine must reproduce per-fit training to float tolerance.
    X, y = data
    est = network(kind, source, dropout=0.0, batch_size=1000, max_epochs=25)
    assert_same_training(est._prepare_fit(X, y, None, None, None, None))


@pytest.mark.parametrize("loss", ["mse", "ccc"])
def test_ratings_train_as_the_module_and_its_loss_compute_them(data, source, loss):
    # the stacked regression head and the per-model multi-task loss equal the
    # module's own head and MultiTaskLoss, missing ratings included
    X, y = data
    ratings = X[:, :2].astype(float)
    ratings[::4, 1] = np.nan
    est = network(
        "prognet",
        source,
        dropout=0.0,
        batch_size=1000,
        max_epochs=25,
        dimensional_weight=0.7,
        dimensional_loss=loss,
    )
    job = est._prepare_fit(X, y, None, None, None, None, ratings)
    _, trained = assert_same_training(job)
    assert "dimension_head.weight" in trained.module_.state_dict()


def test_adapter_laterals_train_as_the_module_computes_them(data, source):
    # Rusu et al.'s adapters (scale, projection, non-linearity, matrix) from
    # every frozen layer: the stacked laterals equal the module's
    est = ProgressiveNetClassifier(
        sources=[source],
        lateral="adapter",
        **{**SMALL, "dropout": 0.0, "batch_size": 1000, "max_epochs": 25},
    )
    X, y = data
    _, trained = assert_same_training(est._prepare_fit(X, y, None, None, None, None))
    # the laterals are adapters, whose scales (initially 1) were trained
    state = trained.module_.state_dict()
    alphas = [value for key, value in state.items() if key.endswith(".0.alpha")]
    assert alphas and all(float(alpha) != 1.0 for alpha in alphas)


def test_a_model_does_not_depend_on_its_batch_mates(data):
    # Its own stream, its own Adam steps: a model trained alone and trained
    # in a stack with models that stop earlier or later (and whose epochs
    # have more batches) ends with the same weights and curves (to the last
    # digits, which depend on the sizes of the stacked tensors).
    X, y = data
    params = {**SMALL, "batch_size": 16, "max_epochs": 60, "patience": 10}
    alone = fit_batched([DNNClassifier(**params)], [{"X": X, "y": y}])[0]
    mates = [DNNClassifier(**{**params, "random_state": seed}) for seed in (0, 1, 2)]
    # mates with fewer and with more rows: other last batches, other epochs
    fits = [{"X": X, "y": y}, {"X": X[:112], "y": y[:112]}, {"X": X, "y": y}]
    fits[2] = {"X": np.vstack([X, X[:37]]), "y": np.concatenate([y, y[:37]])}
    jobs = [_prepared(fit["X"], fit["y"], **params) for fit in fits]
    assert len(stacks(jobs)) == 1  # similar epochs: one stack
    together = fit_batched(mates, fits)
    assert len({m.n_iter_ for m in together}) > 1  # they stop at other epochs
    assert together[0].n_iter_ == alone.n_iter_
    np.testing.assert_allclose(
        together[0].history_["valid_uar"], alone.history_["valid_uar"]
    )
    np.testing.assert_allclose(
        together[0].predict_proba(X), alone.predict_proba(X), rtol=1e-5, atol=1e-6
    )


def _prepared(X, y, **params):
    """The training job of a small DNN on ``(X, y)``."""
    est = DNNClassifier(**{**SMALL, **params})
    return est._prepare_fit(X, y, None, None, None, None)


def test_stacks_keep_models_of_similar_epochs_together(data):
    # A stack computes as many batches as its longest model, so models of
    # 8 and of 1 training folds must not share one (most of the work would
    # be padding); models of one configuration and similar epochs do.
    X, y = data
    jobs = [
        _prepared(X, y, batch_size=8),  # 14 batches (108 training rows)
        _prepared(X[:15], y[:15], batch_size=8),  # 2 batches (12 rows)
        _prepared(X, y, batch_size=8, random_state=1),  # 14 batches
        _prepared(X[:110], y[:110], batch_size=8),  # 13 batches (99 rows)
        _prepared(X[:15], y[:15], batch_size=8, random_state=2),  # 2 batches
        _prepared(X, y, batch_size=8, lr=0.1),  # another configuration
    ]
    assert [len(job["train"][1]) for job in jobs] == [108, 12, 108, 99, 12, 108]
    alone = [chunk.tolist() for chunk in stacks(jobs)]
    # largest work (models x batches) first: 3 x 14, 1 x 14, 2 x 2
    assert alone == [[0, 2, 3], [5], [1, 4]]
    # two workers: every stack of several models is cut in two, largest first
    split = [chunk.tolist() for chunk in stacks(jobs, n_workers=2)]
    assert split == [[0, 2], [5], [3], [1], [4]]


def test_whole_groups_are_handed_over_so_a_resume_gets_the_same_stacks(data):
    # A model's last digits can depend on its stack-mates. The runner saves the
    # networks as they come; were a half-trained group saved, a resumed run
    # would stack its other half differently. So the engine hands over
    # whole groups, and without them the other groups are cut as before.
    X, y = data
    jobs = [
        _prepared(X, y, batch_size=8, max_epochs=2),  # 14 batches
        _prepared(X[:15], y[:15], batch_size=8, max_epochs=2),  # 2 batches
        _prepared(X, y, batch_size=8, max_epochs=2, random_state=1),  # 14
        _prepared(X[:15], y[:15], batch_size=8, max_epochs=2, random_state=2),
        _prepared(X[:110], y[:110], batch_size=8, max_epochs=2),  # 13 batches
        _prepared(X[:90], y[:90], batch_size=8, max_epochs=2),  # 11 batches
    ]
    cut = [chunk.tolist() for chunk in stacks(jobs, n_workers=2)]
    assert cut == [[0, 2], [4, 5], [1], [3]]  # two groups, each cut in two
    handed = [sorted(positions) for positions, _, _ in trained_groups(jobs, 2)]
    assert sorted(handed) == [[0, 2, 4, 5], [1, 3]]
    # a resume without the first group: the second is cut as it was
    rest = [1, 3]
    again = stacks([jobs[i] for i in rest], n_workers=2)
    assert [[rest[i] for i in chunk] for chunk in again] == [[1], [3]]
    rest = [0, 2, 4, 5]
    again = stacks([jobs[i] for i in rest], n_workers=2)
    assert [[rest[i] for i in chunk] for chunk in again] == [[0, 2], [4, 5]]


def test_worker_processes_give_the_same_models(data):
    X, y = data
    params = {**SMALL, "batch_size": 32, "max_epochs": 6}
    fits = [{"X": X[i::2], "y": y[i::2]} for i in range(4)]

    def models():
        return [DNNClassifier(**{**params, "random_state": i}) for i in range(4)]

    here = fit_batched(models(), fits)
    workers = fit_batched(models(), fits, n_jobs=2)
    for a, b in zip(here, workers, strict=True):
        np.testing.assert_allclose(
            a.predict_proba(X), b.predict_proba(X), rtol=1e-4, atol=1e-5
        )


def test_early_stopping_per_model_and_restore_best(data):
    X, y = data
    X_val, y_val = X[:30], y[:30]
    models = [
        DNNClassifier(**{**SMALL, "random_state": seed}, max_epochs=200, patience=4)
        for seed in range(4)
    ]
    fits = [{"X": X[30:], "y": y[30:], "X_val": X_val, "y_val": y_val}] * 4
    for model in fit_batched(models, fits):
        uar = model.history_["valid_uar"]
        assert model.n_iter_ < 200
        # stopped after `patience` epochs without a strictly better UAR
        assert model.n_iter_ == model.best_epoch_ + 4
        assert model.best_epoch_ == np.argmax(uar) + 1
        # the weights of the best epoch were restored
        assert uar_score(y_val, model.predict(X_val)) == pytest.approx(uar.max())


def test_each_model_of_a_stack_scores_its_own_validation_rows(data):
    # Validation sets of different sizes in one stack (the shorter ones are
    # padded to the longest): each model's recorded UAR is that of its own
    # rows, so rescoring its restored weights reproduces its best epoch's.
    X, y = data
    sizes = [40, 12, 25]
    models = [
        DNNClassifier(**{**SMALL, "random_state": seed}, max_epochs=30, patience=5)
        for seed in range(len(sizes))
    ]
    fits = [{"X": X[40:], "y": y[40:], "X_val": X[:n], "y_val": y[:n]} for n in sizes]
    jobs = [
        clone(m)._prepare_fit(f["X"], f["y"], None, None, f["X_val"], f["y_val"])
        for m, f in zip(models, fits, strict=True)
    ]
    assert len(stacks(jobs)) == 1  # one stack: the shorter sets are padded
    for model, n in zip(fit_batched(models, fits), sizes, strict=True):
        best = model.history_["valid_uar"][model.best_epoch_ - 1]
        rescored = balanced_accuracy_score(y[:n], model.predict(X[:n]))
        assert rescored == pytest.approx(best, abs=1e-12)


def test_frozen_columns_and_layers_are_untouched(data, source):
    X, y = data
    prognet, ptft = fit_batched(
        [network("prognet", source, max_epochs=5), network("ptft", source)],
        [{"X": X, "y": y}, {"X": X, "y": y}],
    )
    theirs = source.net_.module_.state_dict()
    ours = prognet.net_.module_.state_dict()
    for key, tensor in theirs.items():
        torch.testing.assert_close(ours[key], tensor, rtol=0, atol=0)
    tuned = ptft.net_.module_.state_dict()
    for key in ("columns.0.hidden.0.weight", "columns.0.hidden.0.bias"):
        torch.testing.assert_close(tuned[key], theirs[key], rtol=0, atol=0)
    assert not torch.equal(
        tuned["columns.0.hidden.1.weight"], theirs["columns.0.hidden.1.weight"]
    )


def test_extracted_models_are_ordinary_fitted_estimators(data):
    X, y = data
    (model,) = fit_batched([DNNClassifier(max_epochs=8, **SMALL)], [{"X": X, "y": y}])
    assert model.n_iter_ == len(model.history_["epoch"]) == 8
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    # usable as a source by per-fit training
    target = ProgressiveNetClassifier(sources=[model], max_epochs=3, **SMALL)
    assert target.fit(X, y).score(X, y) > 0


def test_unfitted_sources_are_trained_in_batch_and_shared(data):
    X, y = data
    source = DNNClassifier(max_epochs=4, **SMALL)
    ptft = FineTunedClassifier(source=source, max_epochs=4, **SMALL)
    prognet = ProgressiveNetClassifier(sources=[source], max_epochs=4, **SMALL)
    gender = np.arange(len(y)) % 2
    fits = [{"X": X, "y": y, "source_y": gender}] * 2
    ptft, prognet = fit_batched([ptft, prognet], fits)
    # the same source, trained once; the templates stay unfitted
    assert ptft.source_ is prognet.sources_[0]
    assert ptft.source_.n_iter_ == 4
    assert not hasattr(source, "net_") and ptft.source is source


def test_each_fold_trains_its_own_source_on_its_own_training_rows(data):
    # Folds of one estimator share class, parameters and seed: only the
    # digests of their rows and labels tell their sources apart. Plant a
    # signal: feature 0 is shifted by 10 * k in fold k (KFold(3), unshuffled,
    # so fold k is rows 40k to 40k + 39) and source_y is the fold number, so a
    # source trained on fold k's training rows has the two other folds' labels
    # and the mean of feature 0 over those rows.
    X, y = data
    X = X.copy()
    fold_of_row = np.repeat(np.arange(3), 40)
    X[:, 0] += 10.0 * fold_of_row
    source = DNNClassifier(max_epochs=2, **SMALL)
    target = FineTunedClassifier(source=source, max_epochs=2, **SMALL)
    results = cross_validate_batched(
        target,
        X,
        y,
        cv=KFold(3),
        params={"source_y": fold_of_row},
        return_estimator=True,
        return_indices=True,
    )
    sources = [fitted.source_ for fitted in results["estimator"]]
    assert len({id(s) for s in sources}) == 3
    for k, (fitted, train) in enumerate(
        zip(sources, results["indices"]["train"], strict=True)
    ):
        assert fitted.classes_.tolist() == [j for j in range(3) if j != k]
        expected = X[train].astype(np.float64).mean(axis=0)
        np.testing.assert_allclose(fitted._input_mean, expected, rtol=1e-6)
        assert fitted._input_mean[0] == pytest.approx(10.0 * (3 - k) / 2, abs=1)


def test_pipeline_steps_are_fitted_on_the_training_rows_never_on_x_val(data):
    # fit_batched with a Pipeline and explicit validation data: the scaler
    # before the network must see X only; a huge shift planted in X_val
    # would move its mean_ if X_val reached it.
    X, y = data
    X_val = X[:30] + 1000.0
    pipes = [
        make_pipeline(StandardScaler(), DNNClassifier(max_epochs=2, **SMALL))
        for _ in range(2)
    ]
    fits = [
        {"X": X[:60], "y": y[:60], "X_val": X_val, "y_val": y[:30]},
        {"X": X[60:], "y": y[60:], "X_val": X_val, "y_val": y[:30]},
    ]
    fit_batched(pipes, fits)
    for pipe, rows in zip(pipes, (X[:60], X[60:]), strict=True):
        np.testing.assert_allclose(pipe[0].mean_, rows.mean(axis=0), rtol=1e-5)
        assert np.abs(pipe[0].mean_).max() < 10


def test_cross_validate_batched_returns_what_cross_validate_returns(data):
    X, y = data
    clf = make_pipeline(StandardScaler(), DNNClassifier(max_epochs=3, **SMALL))
    options = {"return_train_score": True, "return_indices": True}
    ours = cross_validate_batched(clf, X, y, cv=3, return_estimator=True, **options)
    theirs = cross_validate(clf, X, y, cv=3, return_estimator=True, **options)
    assert ours.keys() == theirs.keys()
    assert ours["test_score"].shape == (3,)
    for fitted in ours["estimator"]:
        assert fitted[-1].n_iter_ == 3
    scoring = ["balanced_accuracy", "accuracy"]
    multi = cross_validate_batched(clf, X, y, cv=3, scoring=scoring)
    assert {"test_balanced_accuracy", "test_accuracy"} <= multi.keys()


def test_clear_errors(data):
    X, y = data
    with pytest.raises(TypeError, match="got LogisticRegression"):
        cross_validate_batched(LogisticRegression(), X, y)
    with pytest.raises(ValueError, match="dimensional_weight=0.5 needs ratings"):
        cross_validate_batched(DNNClassifier(dimensional_weight=0.5), X, y)
    with pytest.raises(TypeError, match="params has \\['sample_weight'\\]"):
        cross_validate_batched(
            DNNClassifier(), X, y, params={"sample_weight": np.ones(len(y))}
        )
    with pytest.raises(ValueError, match="params\\['groups'\\] has 3 entries"):
        cross_validate_batched(DNNClassifier(), X, y, params={"groups": [1, 2, 3]})
    with pytest.raises(ValueError, match="1 fits"):
        fit_batched([DNNClassifier(), DNNClassifier()], [{"X": X, "y": y}])
    with pytest.raises(ValueError, match="lr"):
        fit_batched([DNNClassifier(lr=-1.0)], [{"X": X, "y": y}])


def test_one_estimator_given_twice_is_refused(data):
    # fitted in place on both fits, it would keep the second only, silently
    X, y = data
    model = DNNClassifier(max_epochs=1, **SMALL)
    fits = [{"X": X[:60], "y": y[:60]}, {"X": X[60:], "y": y[60:]}]
    with pytest.raises(ValueError, match=r"estimators\[0\] and estimators\[1\]"):
        fit_batched([model] * 2, fits)
    assert not hasattr(model, "net_")
    # two Pipelines around one network object are the same mistake
    pipes = [make_pipeline(StandardScaler(), model) for _ in range(2)]
    with pytest.raises(ValueError, match="same DNNClassifier object"):
        fit_batched(pipes, fits)


def test_fits_as_tuples_get_an_error_that_says_what_a_fit_is(data):
    X, y = data
    with pytest.raises(TypeError, match=r"fits\[0\] is a tuple; each fit is a dict"):
        fit_batched([DNNClassifier(**SMALL)], [(X, y)])


@pytest.mark.slow
def test_stacked_equals_alone_on_emodb():
    # Folds x repeats on the embedded EmoDB, fewer epochs than the paper,
    # early stopping: ten models stacked end as each fitted alone (a stack of
    # one in the same loop), to the per-fold UAR.
    emodb = load_emodb_features()
    X, y = emodb.data, emodb.target
    cv = RepeatedStratifiedGroupKFold(n_splits=5, n_repeats=2, random_state=0)
    splits = list(cv.split(X, y, emodb.speaker))
    params = {"max_epochs": 60, "patience": 20, "lr": 0.002}
    scores = {"batched": [], "per-fit": []}
    models = [
        make_pipeline(StandardScaler(), DNNClassifier(**params, random_state=i))
        for i in range(len(splits))
    ]
    fits = [{"X": X[train], "y": y[train]} for train, _ in splits]
    fit_batched(models, fits)
    for i, (train, test) in enumerate(splits):
        scores["batched"].append(uar_score(y[test], models[i].predict(X[test])))
        model = make_pipeline(StandardScaler(), DNNClassifier(**params, random_state=i))
        model.fit(X[train], y[train])
        scores["per-fit"].append(uar_score(y[test], model.predict(X[test])))
    batched, per_fit = np.array(scores["batched"]), np.array(scores["per-fit"])
    np.testing.assert_allclose(batched, per_fit, atol=1e-12)
    assert batched.mean() > 0.5  # both learn (chance is 0.25)
