"""One training loop: a network trained alone equals the same network in a stack.

Every estimator's ``fit`` trains its net as a stack of one in the loop that
:func:`~sklearn_prognet.model_selection.cross_validate_batched` uses for many
(issue #31). So ``clone(est).fit(X_train, y_train)`` and the same fold's model
of ``cross_validate_batched(est, ..., return_estimator=True)`` must predict the
same probabilities, for every kind of network, with every source of
randomness on: dropout, input noise, input dropout, several batches per
epoch, early stopping, and unfitted sources trained inside the fit.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GroupKFold
from skorch import NeuralNet

from sklearn_prognet import (
    DNNClassifier,
    FineTunedClassifier,
    MultiCorpusClassifier,
    ProgressiveNetClassifier,
    ResidualAdapterClassifier,
)
from sklearn_prognet.model_selection import cross_validate_batched
from sklearn_prognet.networks import _batched

# every random part of training on, several batches per epoch, early stopping
RANDOM = {
    "hidden_layer_sizes": (16, 8),
    "lr": 0.01,
    "dropout": 0.3,
    "input_noise": 0.2,
    "input_dropout": 0.1,
    "batch_size": 16,
    "max_epochs": 12,
    "patience": 4,
    "random_state": 0,
}
KINDS = [
    "dnn",
    "finetuned",
    "prognet",
    "prognet-adapter",
    "residual-adapter",
    "multitask",
    "multicorpus",
]


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 6)).astype(np.float32)
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=150) > 0, "angry", "sad")
    y[X[:, 1] > 0.8] = "happy"
    groups = np.repeat(np.arange(10), 15)
    # a rating for every row, missing for a fifth of them
    ratings = (X[:, :2] + rng.normal(scale=0.3, size=(150, 2))).astype(float)
    ratings[rng.rand(150) < 0.2, 1] = np.nan
    return X, y, groups, ratings


def _unfitted_source():
    return DNNClassifier(**{**RANDOM, "max_epochs": 6, "random_state": None})


def _case(kind, data):
    """The estimator, its X and its fit parameters (one entry per row)."""
    X, y, groups, ratings = data
    source_y = {"source_y": (np.arange(len(y)) % 2)[:, None]}
    if kind == "dnn":
        return DNNClassifier(**RANDOM), X, {}
    if kind == "finetuned":
        est = FineTunedClassifier(source=_unfitted_source(), **RANDOM)
        return est, X, source_y
    if kind in ("prognet", "prognet-adapter"):
        lateral = "adapter" if kind == "prognet-adapter" else "linear"
        est = ProgressiveNetClassifier(
            sources=[_unfitted_source()], lateral=lateral, **RANDOM
        )
        return est, X, source_y
    if kind == "residual-adapter":
        params = {k: v for k, v in RANDOM.items() if k != "hidden_layer_sizes"}
        est = ResidualAdapterClassifier(
            source=_unfitted_source(), adapter_rank=2, **params
        )
        return est, X, source_y
    if kind == "multitask":
        est = DNNClassifier(**RANDOM, dimensional_weight=0.5, dimensional_loss="ccc")
        return est, X, {"dimensions": ratings}
    frame = pd.DataFrame(X, columns=list("abcdef"))
    frame["corpus"] = np.where(groups < 5, "p", "q")
    return MultiCorpusClassifier(**RANDOM, adapter_rank=2), frame, {}


def _rows(value, index):
    return value.iloc[index] if isinstance(value, pd.DataFrame) else value[index]


@pytest.mark.parametrize("kind", KINDS)
def test_alone_equals_stacked(data, kind):
    _, y, groups, _ = data
    est, X, params = _case(kind, data)
    cv = GroupKFold(n_splits=3)
    splits = list(cv.split(X, y, groups))
    stacked = cross_validate_batched(
        est, X, y, groups=groups, cv=cv, params=params, return_estimator=True
    )
    probabilities = []
    for (train, test), fold_model in zip(splits, stacked["estimator"], strict=True):
        fold_params = {name: _rows(value, train) for name, value in params.items()}
        alone = clone(est).fit(_rows(X, train), y[train], **fold_params)
        expected = alone.predict_proba(_rows(X, test))
        np.testing.assert_allclose(
            fold_model.predict_proba(_rows(X, test)), expected, rtol=1e-4, atol=1e-5
        )
        assert fold_model.n_iter_ == alone.n_iter_
        assert fold_model.best_epoch_ == alone.best_epoch_
        probabilities.append(expected)
    # the folds' models differ: the equality above is not that of constants
    assert not np.allclose(probabilities[0][:5], probabilities[1][:5], atol=1e-3)


@pytest.mark.parametrize("kind", ["finetuned", "prognet"])
def test_each_fold_trains_its_own_source_on_its_own_rows(data, kind):
    # an unfitted source is trained inside every fold, on that fold's
    # training rows only: no source (and no test row) is shared across folds
    X, y, groups, _ = data
    est, X, params = _case(kind, data)
    cv = GroupKFold(n_splits=3)
    result = cross_validate_batched(
        est, X, y, groups=groups, cv=cv, params=params, return_estimator=True
    )
    sources = []
    splits = cv.split(X, y, groups)
    for (train, _), model in zip(splits, result["estimator"], strict=True):
        (source,) = model.sources_ if kind == "prognet" else [model.source_]
        # the statistics the source saw are those of its fold's rows
        np.testing.assert_allclose(
            source._input_mean, X[train].astype(np.float64).mean(axis=0), rtol=1e-6
        )
        assert source.n_features_in_ == X.shape[1]
        sources.append(source)
    assert len({id(source) for source in sources}) == len(sources)


def test_the_stack_trains_in_skorchs_fit_loop(data, monkeypatch):
    # skorch's NeuralNet.fit runs the epochs of the stack: its history has a
    # row for every epoch until the last model stops, and every row counts
    # the batches of the longest epoch still in training
    X, y, groups, _ = data
    trainers = []
    fit = _batched.StackTrainer.fit

    def kept(self, *args, **kwargs):
        trainers.append(self)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(_batched.StackTrainer, "fit", kept)
    cv = GroupKFold(n_splits=3)
    result = cross_validate_batched(
        DNNClassifier(**RANDOM), X, y, groups=groups, cv=cv, return_estimator=True
    )
    (trainer,) = trainers
    assert isinstance(trainer, NeuralNet)
    n_iter = [model.n_iter_ for model in result["estimator"]]
    assert len(set(n_iter)) > 1  # the models stopped at different epochs
    assert len(trainer.history) == max(n_iter)
    # early stopping holds out a tenth of each fold's 100 training rows
    assert trainer.history[0, "train_batch_count"] == -(-90 // RANDOM["batch_size"])
    assert trainer.history[-1, "epoch"] == max(n_iter)


def test_an_interruption_is_not_taken_for_the_end_of_training(data, monkeypatch):
    # skorch's fit loop ends on a KeyboardInterrupt (as its EarlyStopping
    # does): a user's Ctrl-C in the middle of training must still stop the
    # fit, not hand over half-trained nets as fitted
    X, y, _, _ = data
    step, calls = _batched._adam_step, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return step(*args, **kwargs)

    monkeypatch.setattr(_batched, "_adam_step", interrupted)
    est = DNNClassifier(**RANDOM)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    assert not hasattr(est, "net_")
    assert len(calls) == 3
