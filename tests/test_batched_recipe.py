"""The batched engine's training options: the small-corpus recipe (#20, #21).

Weight decay, label smoothing and every activation must train exactly as
per-fit training where nothing random is left; input noise and input
dropout come from each model's own stream and must have the right
statistics; without early stopping every epoch runs and the last weights
are kept; and SMALL_CORPUS batched must give per-fit's distribution.
"""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.model_selection import RepeatedStratifiedKFold

from sklearn_prognet import DNNClassifier
from sklearn_prognet.metrics import uar_score
from sklearn_prognet.model_selection import fit_batched
from sklearn_prognet.networks._batched import _corrupt_inputs, _stream_seed
from sklearn_prognet.presets import SMALL_CORPUS
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


OPTIONS = {
    "weight_decay": {"weight_decay": 0.3},
    "label_smoothing": {"label_smoothing": 0.2},
    "sigmoid": {"activation": "sigmoid"},
    "tanh": {"activation": "tanh"},
    "relu": {"activation": "relu"},
    "recipe": {
        **{k: v for k, v in SMALL_CORPUS.items() if k != "patience"},
        "dropout": 0.0,
        "batch_size": 1000,
        "max_epochs": 20,
        "early_stopping": True,
    },
}


# fine-tuning keeps its source's architecture and activation
CASES = [
    (kind, option)
    for option in OPTIONS
    for kind in ("dnn", "ptft", "prognet")
    if kind != "ptft" or option in ("weight_decay", "label_smoothing")
]


@pytest.mark.parametrize(("kind", "option"), CASES)
def test_option_without_randomness_equals_the_reference_loop(
    data, source, kind, option
):
    # No dropout, no noise and one batch per epoch: nothing random is left
    # after the initial weights. Weight decay must be AdamW's (decoupled,
    # trained weights only: PT/FT's frozen layer must not decay), label
    # smoothing the criterion's in training and in the validation loss.
    X, y = data
    params = {"dropout": 0.0, "batch_size": 1000, "max_epochs": 25}
    est = network(kind, source, **{**params, **OPTIONS[option]})
    job = est._prepare_fit(X, y, None, None, None, None)
    assert_same_training(job)


def test_options_change_training(data):
    # the exactness test must not pass because an option is a no-op there
    X, y = data
    params = {"dropout": 0.0, "batch_size": 1000, "max_epochs": 25}
    plain = DNNClassifier(**SMALL, **params).fit(X, y).predict_proba(X)
    for option in ({"weight_decay": 0.3}, {"label_smoothing": 0.2}):
        other = DNNClassifier(**SMALL, **params, **option).fit(X, y)
        assert np.abs(other.predict_proba(X) - plain).max() > 1e-3


def test_weight_decay_is_decoupled(data):
    # lr * weight_decay = 1: AdamW's decay zeroes the weights before every
    # step, so after training each weight is one Adam step (about lr). An
    # L2 term in the loss instead would be rescaled by Adam and move a
    # weight by about lr per step, leaving most of the initial weights.
    X, y = data
    params = {**SMALL, "dropout": 0.0, "batch_size": 1000, "max_epochs": 5}
    plain, decayed = fit_batched(
        [DNNClassifier(**params), DNNClassifier(**params, weight_decay=100.0)],
        [{"X": X, "y": y}] * 2,
    )
    key = "columns.0.hidden.0.weight"
    assert decayed.net_.module_.state_dict()[key].abs().max() < 0.02
    assert plain.net_.module_.state_dict()[key].abs().max() > 0.2


def test_without_early_stopping_every_epoch_runs_and_the_last_weights_stay(data):
    # With X_val and early_stopping=False, per-fit training scores X_val
    # into the history and keeps the last epoch's weights, whatever the
    # best epoch was: the batched engine must do the same.
    X, y = data
    est = DNNClassifier(
        **SMALL, dropout=0.0, batch_size=1000, max_epochs=40, early_stopping=False
    )
    job = est._prepare_fit(X[30:], y[30:], None, None, X[:30], y[:30])
    _, batched = assert_same_training(job)
    assert len(batched.history) == 40
    models = [
        DNNClassifier(
            **{**SMALL, "random_state": seed}, max_epochs=40, patience=2
        ).set_params(early_stopping=False)
        for seed in range(3)
    ]
    fits = [{"X": X[30:], "y": y[30:], "X_val": X[:30], "y_val": y[:30]}] * 3
    for model in fit_batched(models, fits):
        assert model.n_iter_ == model.best_epoch_ == 40
        assert np.isfinite(model.history_["valid_uar"]).all()
    (model,) = fit_batched(
        [DNNClassifier(**SMALL, max_epochs=7, early_stopping=False)],
        [{"X": X, "y": y}],
    )
    assert model.n_iter_ == model.best_epoch_ == 7
    assert np.isnan(model.history_["valid_uar"]).all()


def _streams(seeds):
    return [torch.Generator().manual_seed(_stream_seed(s)) for s in seeds]


def test_input_noise_and_dropout_statistics_per_model():
    # Corrupt constant batches of 3 models (features = 1, two lateral
    # columns = 5) and measure each model's noise and mask.
    n_models, batch, n_features = 3, 256, 40
    job = {"input_noise": 0.3, "input_dropout": 0.0, "batch_size": batch}
    x = torch.ones((n_models, batch, n_features + 2))
    x[..., n_features:] = 5.0
    _corrupt_inputs(x, n_features, job, _streams([0, 1, 2]), [True] * n_models)
    noise = x[..., :n_features] - 1.0
    for i in range(n_models):
        assert noise[i].std().item() == pytest.approx(0.3, rel=0.05)
        assert abs(noise[i].mean().item()) < 0.01
    # the models' noises are independent
    flat = noise.flatten(1)
    assert abs(torch.corrcoef(flat)[0, 1].item()) < 0.05
    # the lateral inputs (frozen activations) stay clean
    assert torch.equal(x[..., n_features:], torch.full((3, batch, 2), 5.0))

    job = {"input_noise": 0.0, "input_dropout": 0.2, "batch_size": batch}
    x = torch.ones((n_models, batch, n_features + 2))
    _corrupt_inputs(x, n_features, job, _streams([0, 1, 2]), [True] * n_models)
    features = x[..., :n_features]
    for i in range(n_models):
        values = features[i].unique().tolist()
        assert values == [0.0, pytest.approx(1 / 0.8)]  # inverted dropout
        assert (features[i] == 0).float().mean().item() == pytest.approx(0.2, abs=0.02)
    assert torch.equal(x[..., n_features:], torch.ones((3, batch, 2)))
    dropped = (features == 0).flatten(1).float()
    assert abs(torch.corrcoef(dropped)[0, 1].item()) < 0.05


def test_corruption_streams_are_per_model_and_reproducible():
    job = {"input_noise": 0.5, "input_dropout": 0.1, "batch_size": 8}

    def corrupted(seeds, active, n_rows=8):
        x = torch.ones((len(seeds), n_rows, 4))
        _corrupt_inputs(x, 4, job, _streams(seeds), active)
        return x

    first = corrupted([7, 8], [True, True])
    torch.testing.assert_close(corrupted([7, 8], [True, True]), first, rtol=0, atol=0)
    # a model's draws do not depend on its mates: alone, beside another
    # seed, beside a model that does not step, or in a shorter last batch
    torch.testing.assert_close(corrupted([7], [True])[0], first[0], rtol=0, atol=0)
    torch.testing.assert_close(corrupted([9, 7], [True, True])[1], first[0])
    torch.testing.assert_close(corrupted([7, 8], [True, False])[0], first[0])
    torch.testing.assert_close(corrupted([7], [True], n_rows=5)[0], first[0, :5])
    assert not torch.equal(first[0], first[1])
    # an inactive model draws nothing: its stream is where it was
    gens = _streams([7])
    _corrupt_inputs(torch.ones((1, 8, 4)), 4, job, gens, [False])
    assert torch.equal(gens[0].get_state(), _streams([7])[0].get_state())


def test_noisy_training_is_reproducible_and_independent_of_mates(data):
    X, y = data
    params = {**SMALL, "batch_size": 16, "max_epochs": 8, "early_stopping": False}
    params.update(input_noise=0.3, input_dropout=0.2)
    alone = fit_batched([DNNClassifier(**params)], [{"X": X, "y": y}])[0]
    again = fit_batched([DNNClassifier(**params)], [{"X": X, "y": y}])[0]
    np.testing.assert_array_equal(alone.predict_proba(X), again.predict_proba(X))
    mates = [DNNClassifier(**{**params, "random_state": s}) for s in (0, 1)]
    together = fit_batched(mates, [{"X": X, "y": y}, {"X": X[:50], "y": y[:50]}])
    np.testing.assert_allclose(
        together[0].predict_proba(X), alone.predict_proba(X), rtol=1e-5, atol=1e-6
    )
    # the corruption is applied in training: without it, another model
    clean = {**params, "input_noise": 0.0, "input_dropout": 0.0}
    (plain,) = fit_batched([DNNClassifier(**clean)], [{"X": X, "y": y}])
    assert np.abs(plain.predict_proba(X) - alone.predict_proba(X)).max() > 1e-3


@pytest.mark.slow
def test_small_corpus_preset_stacked_equals_alone():
    # SMALL_CORPUS with all its randomness (dropout, label smoothing, weight
    # decay, no early stopping) on an easy 4-class problem, 5 folds x 2
    # repeats: a fit alone is a stack of one in the same loop, so the
    # per-fold UARs of ten models stacked equal those of each fitted alone.
    X, y = make_classification(
        n_samples=300,
        n_features=20,
        n_informative=8,
        n_classes=4,
        class_sep=1.5,
        random_state=1,
    )
    X = X.astype(np.float32)
    splits = list(
        RepeatedStratifiedKFold(n_splits=5, n_repeats=2, random_state=0).split(X, y)
    )
    batched = fit_batched(
        [DNNClassifier(**SMALL_CORPUS, random_state=i) for i in range(len(splits))],
        [{"X": X[train], "y": y[train]} for train, _ in splits],
    )
    scores = {"batched": [], "per-fit": []}
    for i, (train, test) in enumerate(splits):
        assert batched[i].n_iter_ == SMALL_CORPUS["max_epochs"]
        scores["batched"].append(uar_score(y[test], batched[i].predict(X[test])))
        model = DNNClassifier(**SMALL_CORPUS, random_state=i).fit(X[train], y[train])
        scores["per-fit"].append(uar_score(y[test], model.predict(X[test])))
    ours, theirs = np.array(scores["batched"]), np.array(scores["per-fit"])
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    assert ours.mean() > 0.6  # both learn (chance is 0.25)
