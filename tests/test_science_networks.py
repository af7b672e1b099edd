"""The networks' central mechanisms, tested so that breaking one fails a test.

Each test states a behaviour the estimators promise and checks it against an
independent computation (never against the code under test). ``make mutants``
(scripts/mutants.py) breaks each mechanism on purpose and checks that these
tests notice.
"""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from sklearn_prognet import DNNClassifier, ProgressiveNetClassifier
from sklearn_prognet.networks import _batched
from sklearn_prognet.networks._modules import FastDropout

FAST = {"hidden_layer_sizes": (16, 16), "lr": 0.01, "max_epochs": 8, "random_state": 0}


def _uar(y_true, y_pred):
    """Unweighted average recall, by hand: the mean of the per-class recalls."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return np.mean([np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)])


def _rows_of(X, rows):
    """Indices in X of each of ``rows`` (rows of X are unique)."""
    index = {row.tobytes(): i for i, row in enumerate(np.asarray(X))}
    return np.array([index[row.tobytes()] for row in np.asarray(rows)])


def _trained_jobs(monkeypatch):
    """Record the jobs that the training loop trains (see ``_batched``)."""
    jobs = []
    stack = _batched._Stack.__init__

    def record(self, layout, stacked, nets):
        jobs.extend(stacked)
        stack(self, layout, stacked, nets)

    monkeypatch.setattr(_batched._Stack, "__init__", record)
    return jobs


@pytest.fixture(scope="module")
def noisy_split():
    """A noisy 3-class problem, split into training and validation parts."""
    X, y = make_classification(
        n_samples=120,
        n_features=8,
        n_informative=3,
        flip_y=0.3,
        n_classes=3,
        random_state=0,
    )
    X = X.astype(np.float32)
    return X[:80], y[:80], X[80:], y[80:]


# -- lateral connections ------------------------------------------------------


def test_a_task_solvable_only_through_the_source_is_solved_by_its_laterals():
    # XOR of two signs. A one-unit hidden layer cannot represent it, so the
    # new column alone fails; a source that learned the four quadrants holds
    # the answer in its hidden layer, which reaches the output only through
    # the lateral connection.
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(400, 2)).astype(np.float32)
    quadrant = 2 * (X[:, 0] > 0) + (X[:, 1] > 0)
    xor = (X[:, 0] > 0) ^ (X[:, 1] > 0)
    common = {
        "activation": "relu",
        "dropout": 0.0,
        "lr": 0.03,
        "max_epochs": 60,
        "early_stopping": False,
        "random_state": 0,
    }
    source = DNNClassifier(hidden_layer_sizes=(16,), **common).fit(X, quadrant)
    narrow = {**common, "hidden_layer_sizes": (1,)}
    alone = DNNClassifier(**narrow).fit(X, xor)
    prognet = ProgressiveNetClassifier(sources=[source], **narrow).fit(X, xor)
    assert np.mean(alone.predict(X) == xor) < 0.8
    assert np.mean(prognet.predict(X) == xor) > 0.95
    # the same network with its laterals zeroed predicts differently
    proba = prognet.predict_proba(X)
    with torch.no_grad():
        for laterals in prognet.net_.module_.columns[-1].laterals:
            for lateral in laterals:
                lateral.weight.zero_()
    assert np.abs(prognet.predict_proba(X) - proba).max() > 0.1


# -- early stopping and validation data ---------------------------------------


def test_restored_weights_reproduce_the_best_epochs_validation_score(noisy_split):
    X, y, X_val, y_val = noisy_split
    clf = DNNClassifier(
        hidden_layer_sizes=(32,),
        lr=0.05,
        max_epochs=60,
        patience=10,
        dropout=0.0,
        random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val)
    curve = clf.history_["valid_uar"]
    best = curve[clf.best_epoch_ - 1]
    # meaningful only if the last epoch scored worse than the best one
    assert curve[-1] < best
    assert _uar(y_val, clf.predict(X_val)) == pytest.approx(best, abs=1e-12)


def test_explicit_validation_data_is_what_early_stopping_scores(
    noisy_split, monkeypatch
):
    X, y, X_val, y_val = noisy_split
    # labels unrelated to X_val: the recorded scores must be those of this
    # set, not of an informative inner split of X
    y_noise = np.random.RandomState(1).permutation(y_val)
    jobs = _trained_jobs(monkeypatch)
    clf = DNNClassifier(**{**FAST, "patience": 100}).fit(
        X, y, X_val=X_val, y_val=y_noise
    )
    ((train_X, *_),) = [job["train"] for job in jobs]
    ((valid_X, valid_y),) = [job["valid"] for job in jobs]
    # all of X trains, X_val alone validates
    np.testing.assert_array_equal(train_X, X)
    np.testing.assert_array_equal(valid_X, X_val)
    assert (clf.classes_[valid_y] == y_noise).all()
    best = clf.history_["valid_uar"][clf.best_epoch_ - 1]
    assert _uar(y_noise, clf.predict(X_val)) == pytest.approx(best, abs=1e-12)


def test_inner_validation_split_holds_out_whole_groups(small_data, monkeypatch):
    X, y, groups = small_data
    jobs = _trained_jobs(monkeypatch)
    DNNClassifier(**{**FAST, "max_epochs": 2}).fit(X, y, groups=groups)
    ((valid_X, _),) = [job["valid"] for job in jobs]
    held_out = _rows_of(X, valid_X)
    assert 0 < len(held_out) < len(X)
    for g in np.unique(groups[held_out]):
        # every sample of a held-out group is held out
        assert np.sum(groups[held_out] == g) == np.sum(groups == g)


# -- dropout and batches ------------------------------------------------------


@pytest.mark.parametrize("p", [0.2, 0.7])
def test_dropout_drops_a_share_p_of_units_and_rescales_the_rest(p):
    dropout = FastDropout(p).train()
    x = torch.rand(200, 100) + 1.0  # no zeros of its own
    torch.manual_seed(0)
    out = dropout(x)
    dropped = out == 0
    assert dropped.float().mean().item() == pytest.approx(p, abs=0.02)
    torch.testing.assert_close(out[~dropped], x[~dropped] / (1 - p))
    assert not torch.equal(dropout(x), out)  # a new mask every call
    assert dropout.eval()(x) is x


def test_the_trained_column_uses_dropout_while_training_only(small_data):
    X, y, _ = small_data
    clf = DNNClassifier(
        **{**FAST, "hidden_layer_sizes": (64,), "dropout": 0.3, "max_epochs": 2}
    ).fit(X, y)
    column = clf.net_.module_.columns[-1]
    x = torch.as_tensor(X)
    with torch.no_grad():
        column.train()
        (hidden,), _ = column(x)
        (again,), _ = column(x)
        column.eval()
        (plain,), _ = column(x)
    # sigmoid units are never exactly 0: the zeros are dropped units
    assert (hidden == 0).float().mean().item() == pytest.approx(0.3, abs=0.03)
    assert not torch.equal(hidden, again)
    assert not (plain == 0).any()


def test_training_drops_a_share_p_of_hidden_units_and_validation_none(
    small_data, monkeypatch
):
    # What the training loop hands the column's forward pass: a dropout
    # mask per hidden layer in every training step, none when it scores
    # the validation data (the loop's eval mode, without gradients).
    X, y, _ = small_data
    seen = {"train": [], "valid": []}
    forward = _batched._Layout.forward

    def record(self, params, rows, masks=None):
        part = "train" if torch.is_grad_enabled() else "valid"
        seen[part].append(masks)
        return forward(self, params, rows, masks)

    monkeypatch.setattr(_batched._Layout, "forward", record)
    DNNClassifier(
        **{**FAST, "hidden_layer_sizes": (64, 32), "dropout": 0.3, "max_epochs": 3}
    ).fit(X, y)
    assert len(seen["train"]) > 0 and len(seen["valid"]) == 3
    assert all(masks is None for masks in seen["valid"])
    for masks in seen["train"]:
        assert [m.shape[-1] for m in masks] == [64, 32]
        values = torch.cat([m.flatten() for m in masks])
        # inverted dropout: a share p of zeros, the rest scaled by 1 / (1 - p)
        assert (values == 0).float().mean().item() == pytest.approx(0.3, abs=0.06)
        kept = values[values != 0]
        torch.testing.assert_close(kept, torch.full_like(kept, 1 / 0.7))
    # a new mask every step
    assert not torch.equal(seen["train"][0][0], seen["train"][1][0])


def test_every_epoch_sees_the_rows_in_a_new_random_order(small_data, monkeypatch):
    X, y, _ = small_data
    X = X.copy()
    X[:, 0] = np.arange(len(X))  # the row number, readable from a batch
    seen = []
    corrupt = _batched._corrupt_inputs

    def record(x, n_features, job, gens, active):
        # every training batch passes here first (x: models, rows, features)
        seen.append(x[0, :, 0].numpy().astype(int))
        corrupt(x, n_features, job, gens, active)

    monkeypatch.setattr(_batched, "_corrupt_inputs", record)
    DNNClassifier(
        **{**FAST, "batch_size": 30, "max_epochs": 2, "early_stopping": False}
    ).fit(X, y)
    first, second = np.concatenate(seen[:3]), np.concatenate(seen[3:])
    assert len(seen) == 6
    for order in (first, second):
        np.testing.assert_array_equal(np.sort(order), np.arange(len(X)))
    assert not np.array_equal(seen[0], np.arange(30))
    assert not np.array_equal(first, second)


# -- frozen columns and reproducibility ---------------------------------------


def test_no_optimizer_can_change_a_frozen_column(small_data):
    X, y, groups = small_data
    source = DNNClassifier(**FAST).fit(X, groups % 2)
    clf = ProgressiveNetClassifier(sources=[source], **FAST).fit(X, y)
    module = clf.net_.module_
    frozen = {k: v.clone() for k, v in module.columns[0].state_dict().items()}
    # a gradient that flows through the frozen column itself, and an
    # optimizer over everything the module calls parameters
    x = torch.as_tensor(X)
    _, source_logits = module.columns[0](x)
    loss = source_logits.pow(2).sum() + module(x).pow(2).sum()
    loss.backward()
    torch.optim.SGD(module.parameters(), lr=1.0).step()
    after = module.columns[0].state_dict()
    assert all(torch.equal(after[k], frozen[k]) for k in frozen)


def test_same_random_state_same_model_whatever_torchs_global_state(small_data):
    X, y, _ = small_data
    torch.manual_seed(1)
    first = DNNClassifier(**FAST).fit(X, y).predict_proba(X)
    torch.manual_seed(2)
    second = DNNClassifier(**FAST).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
