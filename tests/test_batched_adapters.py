"""The batched engine trains residual adapters and multi-corpus networks.

Exactness against per-fit training where nothing random is left, the frozen
trunk, the independence of the models, the per-corpus masking, and the
estimators it returns.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.model_selection import cross_validate

from sklearn_prognet import (
    DNNClassifier,
    MultiCorpusClassifier,
    ResidualAdapterClassifier,
    _batched,
    _modules,
)
from sklearn_prognet.model_selection import cross_validate_batched, fit_batched
from sklearn_prognet.networks._batched import _initialised_net, train_nets
from tests._batched_data import assert_same_training

SMALL = {"hidden_layer_sizes": (16, 8), "lr": 0.01, "adapter_rank": 2}
# nothing random after the initial weights: no dropout, one batch per epoch
EXACT = {"dropout": 0.0, "batch_size": 1000, "max_epochs": 25}


@pytest.fixture(scope="module")
def data():
    """Three corpora, each with its own classes (p: 2, q: 3, r: 3 of 4)."""
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(150, 5)), columns=list("abcde"))
    X["corpus"] = np.repeat(["p", "q", "r"], 50)
    y = np.where(X["a"] > 0, "angry", "sad").astype(object)
    y[50:100][X["b"][50:100] > 0.5] = "happy"
    y[100:][X["c"][100:] > 0.7] = "fear"
    return X, y


@pytest.fixture(scope="module")
def source(data):
    # fit once, never refit: shared by several tests
    X, y = data
    features = X.drop(columns="corpus").to_numpy(np.float32)
    return DNNClassifier(
        hidden_layer_sizes=(16, 8), lr=0.01, max_epochs=10, random_state=0
    ).fit(features, np.arange(len(y)) % 2)


def _features(X):
    return X.drop(columns="corpus").to_numpy(np.float32)


def _network(kind, source, **params):
    params = {**SMALL, "random_state": 0, **params}
    if kind == "adapter":
        params.pop("hidden_layer_sizes")
        return ResidualAdapterClassifier(source=source, **params)
    return MultiCorpusClassifier(**params)


def _job(kind, network, data):
    X, y = data
    if kind == "adapter":
        return network._prepare_fit(_features(X), y, None, None, None, None)
    return network._prepare_fit(X, y)


def _fit_args(kind, data):
    X, y = data
    return {"X": _features(X) if kind == "adapter" else X, "y": y}


def _assert_trunk_is_the_source(ours, theirs):
    """The adapters' trunk equals the source's hidden layers, bit for bit."""
    for k in range(len(SMALL["hidden_layer_sizes"])):
        torch.testing.assert_close(
            ours[f"trunk.{k}.weight"],
            theirs[f"columns.0.hidden.{k}.weight"],
            rtol=0,
            atol=0,
        )


@pytest.mark.parametrize("kind", ["adapter", "multicorpus"])
def test_one_model_without_randomness_equals_the_reference_loop(data, source, kind):
    # The initial weights are drawn from the same seed by both engines; with
    # no dropout and one batch per epoch nothing else is random, so the
    # batched engine must reproduce per-fit training to float tolerance,
    # every corpus's bias, adapters and head included.
    job = _job(kind, _network(kind, source, **EXACT), data)
    _, batched = assert_same_training(job)
    assert len(batched.history) == 25


def _unit_masks(width):
    """A dropout mask that keeps (and doubles) every other unit, for every row."""
    return (torch.arange(width) % 2).float() * 2.0


@pytest.mark.parametrize("kind", ["adapter", "multicorpus"])
def test_dropout_is_where_the_module_puts_it(data, source, kind, monkeypatch):
    # The same mask in both engines (one pattern of units, for every row, so
    # that it does not matter which row is where in a batch): per-fit and
    # batched training then agree only if the engine drops the same units,
    # after every hidden layer of a trained trunk, only before the output
    # layers of a frozen one.
    monkeypatch.setattr(_modules, "keep_mask", lambda x, p: _unit_masks(x.shape[-1]))

    def masks(batch_size, n_rows, widths, p, gens, active):
        return [_unit_masks(w).expand(len(gens), n_rows, w) for w in widths]

    monkeypatch.setattr(_batched, "_dropout_masks", masks)
    job = _job(kind, _network(kind, source, **{**EXACT, "dropout": 0.5}), data)
    _, batched = assert_same_training(job)
    # and dropout did change the training
    (plain,) = train_nets([{**job, "dropout": 0.0}])
    assert not torch.allclose(
        plain.module_.state_dict()["heads.0.weight"],
        batched.module_.state_dict()["heads.0.weight"],
    )


def test_the_frozen_trunk_stays_bit_identical(data, source):
    X, y = data
    models = [
        _network("adapter", source, max_epochs=15, batch_size=16, random_state=seed)
        for seed in range(3)
    ]
    fitted = fit_batched(models, [_fit_args("adapter", data)] * 3)
    theirs = source.net_.module_.state_dict()
    for model in fitted:
        ours = model.net_.module_.state_dict()
        _assert_trunk_is_the_source(ours, theirs)
        # what was trained did move: the biases start as the source's
        assert not torch.equal(ours["biases.0"][0], theirs["columns.0.hidden.0.bias"])
    per_fit = _network("adapter", source, max_epochs=2).fit(_features(X), y)
    assert fitted[0].n_trainable_params_ == per_fit.n_trainable_params_


def test_a_corpus_rows_never_move_another_corpus_parameters(data, source):
    # A model trained on rows of corpus p alone: the biases, adapter blocks
    # and output layer of q and r get no gradient, so Adam leaves them
    # exactly as initialised, while p's and the shared trunk move.
    X, y = data
    job = _job("multicorpus", _network("multicorpus", source, **EXACT), data)
    train_X, train_y = job["train"]
    p_rows = train_X[:, -1] == 0
    job = {**job, "train": (train_X[p_rows], train_y[p_rows]), "valid": None}
    initial = _initialised_net(job).module_.state_dict()
    (trained,) = train_nets([job])
    state = trained.module_.state_dict()
    rank = SMALL["adapter_rank"]
    for k in range(2):
        for d in (1, 2):
            block = slice(d * rank, (d + 1) * rank)
            for key, part in (
                (f"biases.{k}", (d,)),
                (f"down.{k}.weight", (block,)),
                (f"up.{k}.weight", (slice(None), block)),
            ):
                torch.testing.assert_close(
                    state[key][part], initial[key][part], rtol=0, atol=0
                )
        own = slice(0, rank)
        assert not torch.equal(
            state[f"down.{k}.weight"][own], initial[f"down.{k}.weight"][own]
        )
        assert not torch.equal(state[f"trunk.{k}.weight"], initial[f"trunk.{k}.weight"])
    for d in (1, 2):
        for name in ("weight", "bias"):
            key = f"heads.{d}.{name}"
            torch.testing.assert_close(state[key], initial[key], rtol=0, atol=0)
    assert not torch.equal(state["heads.0.weight"], initial["heads.0.weight"])


def test_a_multi_corpus_model_does_not_depend_on_its_batch_mates(data, source):
    # Its own stream, Adam steps and early stopping: alone, or in a stack
    # with models on fewer or more rows (other batch counts, other stops).
    X, y = data
    params = {"batch_size": 16, "max_epochs": 40, "patience": 5}
    alone = fit_batched(
        [_network("multicorpus", source, **params)], [{"X": X, "y": y}]
    )[0]
    mates = [
        _network("multicorpus", source, **params, random_state=seed)
        for seed in (0, 1, 2)
    ]
    keep = np.r_[0:40, 50:90, 100:140]
    fits = [
        {"X": X, "y": y},
        {"X": X.iloc[keep], "y": y[keep]},
        {"X": pd.concat([X, X.iloc[:30]]), "y": np.r_[y, y[:30]]},
    ]
    together = fit_batched(mates, fits)
    assert len({m.n_iter_ for m in together}) > 1
    assert together[0].n_iter_ == alone.n_iter_
    np.testing.assert_allclose(
        together[0].history_["valid_uar"], alone.history_["valid_uar"]
    )
    np.testing.assert_allclose(
        together[0].predict_proba(X), alone.predict_proba(X), rtol=1e-5, atol=1e-6
    )


def test_fitted_estimators_are_ordinary_ones(data, source):
    X, y = data
    groups = np.arange(len(y)) // 5
    params = {**EXACT, "max_epochs": 30, "patience": 5}
    ours = fit_batched(
        [_network("multicorpus", source, **params)],
        [{"X": X, "y": y, "groups": groups}],
    )[0]
    theirs = _network("multicorpus", source, **params).fit(X, y, groups=groups)
    for name in ("classes_", "corpora_", "feature_names_in_"):
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name))
    assert ours.corpus_classes_.keys() == theirs.corpus_classes_.keys()
    for corpus, classes in theirs.corpus_classes_.items():
        np.testing.assert_array_equal(ours.corpus_classes_[corpus], classes)
    for name in ("n_iter_", "best_epoch_", "n_trainable_params_", "n_features_in_"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.n_iter_ < 30  # it stopped early, on its groups' split
    for key, values in theirs.history_.items():
        np.testing.assert_allclose(ours.history_[key], values, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-4, atol=1e-5
    )
    restored = pickle.loads(pickle.dumps(ours))
    np.testing.assert_array_equal(restored.predict(X), ours.predict(X))
    # a row is predicted among its corpus's classes only
    assert set(ours.predict(X[X["corpus"] == "p"])) <= set(ours.corpus_classes_["p"])


def test_multi_corpus_x_val_is_batched_as_per_fit(data, source):
    # validation rows of two of the three corpora, given as X_val
    X, y = data
    val = np.r_[0:10, 50:60]
    train = np.setdiff1d(np.arange(len(y)), val)
    fit = {"X": X.iloc[train], "y": y[train], "X_val": X.iloc[val], "y_val": y[val]}
    params = {**EXACT, "max_epochs": 40, "patience": 5}
    ours = fit_batched([_network("multicorpus", source, **params)], [fit])[0]
    theirs = _network("multicorpus", source, **params).fit(**fit)
    assert ours.n_iter_ == theirs.n_iter_ < 40
    assert ours.best_epoch_ == theirs.best_epoch_
    for key, values in theirs.history_.items():
        np.testing.assert_allclose(ours.history_[key], values, rtol=1e-4, atol=1e-6)


def test_cross_validate_batched_takes_a_frame(data, source):
    # the same folds and scores as sklearn's cross_validate, where nothing
    # random is left after the initial weights
    X, y = data
    clf = _network("multicorpus", source, **{**EXACT, "max_epochs": 60})
    cv = [
        (np.r_[10:50, 60:100, 110:150], np.r_[0:10, 50:60, 100:110]),
        (np.r_[0:40, 50:90, 100:140], np.r_[40:50, 90:100, 140:150]),
    ]
    options = {"cv": cv, "scoring": "balanced_accuracy", "return_estimator": True}
    ours = cross_validate_batched(clf, X, y, **options)
    theirs = cross_validate(clf, X, y, **options)
    np.testing.assert_allclose(ours["test_score"], theirs["test_score"])
    assert ours["test_score"].mean() > 0.5  # chance: 0.25 to 0.5 per corpus
    assert [est.n_iter_ for est in ours["estimator"]] == [
        est.n_iter_ for est in theirs["estimator"]
    ]


def test_multi_corpus_refuses_what_its_fit_refuses(data, source):
    X, y = data
    with pytest.raises(TypeError, match=r"y_val; got \['source_y'\]"):
        fit_batched(
            [_network("multicorpus", source)], [{"X": X, "y": y, "source_y": y}]
        )
    with pytest.raises(TypeError, match="DataFrame"):
        fit_batched([_network("multicorpus", source)], [{"X": _features(X), "y": y}])
    with pytest.raises(TypeError, match=r"y_val; got \['dimensions'\]"):
        fit_batched(
            [_network("multicorpus", source)],
            [{"X": X, "y": y, "dimensions": np.ones((len(y), 1))}],
        )


def test_residual_adapters_learn_ratings_as_their_module_computes_them(data, source):
    # the regression head on the adapted trunk: the loop's stacked head and
    # loss equal the module's own forward pass and MultiTaskLoss
    X, y = data
    ratings = X[["a", "b"]].to_numpy() + np.where(X["c"] > 1, np.nan, 0.0)[:, None]
    network = _network("adapter", source, **EXACT, dimensional_weight=0.5)
    job = network._prepare_fit(_features(X), y, None, None, None, None, ratings)
    _, trained = assert_same_training(job)
    assert "dimension_head.weight" in trained.module_.state_dict()


def test_an_unfitted_source_is_trained_batched_then_frozen(data):
    X, y = data
    template = DNNClassifier(hidden_layer_sizes=(16, 8), max_epochs=4, random_state=3)
    adapter = ResidualAdapterClassifier(
        source=template, adapter_rank=2, max_epochs=4, random_state=0
    )
    fit = {**_fit_args("adapter", data), "source_y": np.arange(len(y)) % 2}
    (adapter,) = fit_batched([adapter], [fit])
    assert not hasattr(template, "net_") and adapter.source is template
    assert adapter.source_.n_iter_ == 4
    theirs = adapter.source_.net_.module_.state_dict()
    _assert_trunk_is_the_source(adapter.net_.module_.state_dict(), theirs)


def test_label_smoothing_over_each_corpus_own_classes(data, source):
    # The corpora have 2, 3 and 3 of 4 classes: smoothing spread over all 4
    # puts mass on -inf logits and makes the loss infinite. Both engines must
    # report finite losses, and the same ones.
    network = _network("multicorpus", source, **EXACT, label_smoothing=0.1)
    job = _job("multicorpus", network, data)
    reference, _ = assert_same_training(job)  # the batched losses equal these
    for key in ("train_loss", "valid_loss"):
        assert np.isfinite(np.asarray(reference.history[:, key])).all()
    X, y = data
    assert np.isfinite(network.fit(X, y).net_.history[:, "train_loss"]).all()
