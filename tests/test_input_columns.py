"""input_columns: each column of a network reads its own features of X (#30)."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from sklearn_prognet import (
    DNNClassifier,
    FineTunedClassifier,
    ProgressiveNetClassifier,
    ResidualAdapterClassifier,
)
from sklearn_prognet.model_selection import cross_validate_batched, fit_batched
from sklearn_prognet.networks._modules import ProgressiveNet
from tests._batched_data import assert_same_training

# Three blocks of features: "acoustic" (0-5), "embedding" (6-9), unused (10-11).
ACOUSTIC = [0, 1, 2, 3, 4, 5]
EMBEDDING = [6, 7, 8, 9]
SMALL = {"hidden_layer_sizes": (16, 16), "lr": 0.01, "random_state": 0}
# nothing random after the initial weights: both engines must agree (see
# test_batched.py::test_one_model_without_randomness_equals_the_reference_loop)
EXACT = {**SMALL, "dropout": 0.0, "batch_size": 1000, "max_epochs": 25}


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 12)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    speaker = np.arange(120) % 4
    return X, y, speaker


@pytest.fixture(scope="module")
def embedding_source(data):
    # fit once, never refit: shared by several tests
    X, _, speaker = data
    return DNNClassifier(input_columns=EMBEDDING, max_epochs=10, **SMALL).fit(
        X, speaker
    )


def _with_other_columns_changed(X, kept):
    """X where every column outside ``kept`` is replaced by large noise."""
    other = np.setdiff1d(np.arange(X.shape[1]), kept)
    changed = X.copy()
    changed[:, other] = 1000 + 50 * np.random.RandomState(1).normal(
        size=(len(X), len(other))
    )
    return changed


def test_dnn_ignores_the_other_columns_in_fit_and_predict(data):
    X, y, _ = data
    params = {**SMALL, "max_epochs": 10, "input_noise": 0.2, "input_dropout": 0.1}
    clf = DNNClassifier(input_columns=ACOUSTIC, **params).fit(X, y)
    changed = _with_other_columns_changed(X, ACOUSTIC)
    # predicting: the other columns are never read
    np.testing.assert_array_equal(clf.predict_proba(changed), clf.predict_proba(X))
    # training: the same weights, whatever the other columns hold
    refit = DNNClassifier(input_columns=ACOUSTIC, **params).fit(changed, y)
    np.testing.assert_array_equal(refit.predict_proba(X), clf.predict_proba(X))
    # and the selected columns do matter
    moved = X.copy()
    moved[:, 0] += 3
    assert not np.allclose(clf.predict_proba(moved), clf.predict_proba(X))


def test_dnn_equals_a_dnn_fitted_on_the_sliced_x(data):
    # Without input noise or input dropout (drawn over every feature of X),
    # selecting the columns inside the network is slicing X beforehand.
    X, y, _ = data
    params = {**SMALL, "max_epochs": 15}
    selected = DNNClassifier(input_columns=[5, 1, 3], **params).fit(X, y)
    sliced = DNNClassifier(**params).fit(X[:, [5, 1, 3]], y)
    np.testing.assert_array_equal(
        selected.predict_proba(X), sliced.predict_proba(X[:, [5, 1, 3]])
    )
    assert selected.best_epoch_ == sliced.best_epoch_


def test_indices_mask_and_names_select_the_same_columns(data):
    X, y, _ = data
    names = [f"f{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=names)
    mask = np.isin(np.arange(X.shape[1]), EMBEDDING)
    params = {**SMALL, "max_epochs": 3}
    specs = [
        DNNClassifier(input_columns=selection, **params).fit(X_, y).net_.module_.specs
        for X_, selection in [
            (X, EMBEDDING),
            (X, mask),
            (frame, [names[i] for i in EMBEDDING]),
        ]
    ]
    assert specs[0][0].inputs == tuple(EMBEDDING)
    assert specs[0] == specs[1] == specs[2]


def test_selecting_every_column_in_order_is_no_selection(data):
    X, y, _ = data
    params = {**SMALL, "max_epochs": 3}
    every = DNNClassifier(input_columns=list(range(12)), **params).fit(X, y)
    plain = DNNClassifier(**params).fit(X, y)
    assert every.net_.module_.specs == plain.net_.module_.specs
    assert every.net_.module_.specs[0].inputs is None


@pytest.mark.parametrize(
    "selection, message",
    [
        ([0, 12], r"out of range for X with 12 features: \[12\]"),
        ([-1], r"out of range"),
        ([], "at least one feature"),
        (np.zeros(12, dtype=bool), "selects no feature"),
        (np.ones(5, dtype=bool), "boolean mask of length 5, but X has 12"),
        (["f0", "f1"], "X has no feature names"),
        ([1, 1], "selects a feature twice"),
        ([[0, 1]], "at least one feature"),
        ([0.5], "dtype float64"),
    ],
)
def test_bad_selections_are_refused(data, selection, message):
    X, y, _ = data
    with pytest.raises(ValueError, match=message):
        DNNClassifier(input_columns=selection, max_epochs=1).fit(X, y)


def test_unknown_names_are_refused(data):
    X, y, _ = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(12)])
    with pytest.raises(ValueError, match=r"does not have: \['dvector_0'\]"):
        DNNClassifier(input_columns=["f0", "dvector_0"], max_epochs=1).fit(frame, y)


def test_a_string_is_not_a_selection():
    with pytest.raises(ValueError, match="input_columns"):
        DNNClassifier(input_columns="f0").fit(np.eye(4), [0, 1, 0, 1])


def test_progressive_columns_read_their_own_features(data, embedding_source):
    X, y, _ = data
    before = {
        k: v.clone() for k, v in embedding_source.net_.module_.state_dict().items()
    }
    clf = ProgressiveNetClassifier(
        sources=[embedding_source], input_columns=ACOUSTIC, max_epochs=10, **SMALL
    ).fit(X, y)
    module = clf.net_.module_
    assert [spec.inputs for spec in module.specs] == [tuple(EMBEDDING), tuple(ACOUSTIC)]
    # the frozen column: bit-identical to the source, buffers, in eval mode
    frozen = {
        k.removeprefix("columns.0."): v
        for k, v in module.state_dict().items()
        if k.startswith("columns.0.")
    }
    own = embedding_source.net_.module_.state_dict()
    assert frozen.keys() == {k.removeprefix("columns.0.") for k in own}
    for key, tensor in frozen.items():
        assert torch.equal(tensor, own[f"columns.0.{key}"])
        assert torch.equal(tensor, before[f"columns.0.{key}"])
    assert not any(p.requires_grad for p in module.columns[0].parameters())
    assert not module.columns[0].training
    # columns 10 and 11 are read by no column
    unused = _with_other_columns_changed(X, ACOUSTIC + EMBEDDING)
    np.testing.assert_array_equal(clf.predict_proba(unused), clf.predict_proba(X))
    # the embedding reaches the prediction through the laterals only
    moved = X.copy()
    moved[:, EMBEDDING] += 3
    assert not np.allclose(clf.predict_proba(moved), clf.predict_proba(X))


def test_a_task_solvable_only_through_the_source_column_is_solved():
    # The label lives in the embedding block only; the trained column reads
    # the acoustic block (pure noise). Alone it is at chance; through the
    # laterals from a source column that reads the embedding, it is not.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 10)).astype(np.float32)
    y = (X[:, 6] - X[:, 7] > 0).astype(int)
    train, test = slice(0, 300), slice(300, None)
    params = {**SMALL, "activation": "tanh", "max_epochs": 60}
    params["early_stopping"] = False
    alone = DNNClassifier(input_columns=ACOUSTIC, **params).fit(X[train], y[train])
    prognet = ProgressiveNetClassifier(
        sources=[DNNClassifier(input_columns=EMBEDDING, **params)],
        input_columns=ACOUSTIC,
        **params,
    ).fit(X[train], y[train], source_y=y[train])
    assert alone.score(X[test], y[test]) < 0.65
    assert prognet.score(X[test], y[test]) > 0.9


def test_the_loop_equals_the_reference_with_an_embedding_source(data, embedding_source):
    X, y, _ = data
    for target in (ACOUSTIC, None):
        clf = ProgressiveNetClassifier(
            sources=[embedding_source], input_columns=target, **EXACT
        )
        job = clf._prepare_fit(X, y, None, None, None, None)
        assert job["plan"].columns[-1].inputs == (
            None if target is None else (0, 1, 2, 3, 4, 5)
        )
        assert_same_training(job)


def test_the_loop_equals_the_reference_dnn_with_a_selection(data):
    X, y, _ = data
    clf = DNNClassifier(input_columns=EMBEDDING, **EXACT)
    assert_same_training(clf._prepare_fit(X, y, None, None, None, None))


def test_batched_engine_trains_the_unfitted_embedding_source(data):
    # fit_batched trains the unfitted source on source_y, reading its own
    # columns, and the progressive network on top of it, like fit.
    X, y, speaker = data
    params = {**EXACT, "max_epochs": 10}

    def make():
        return ProgressiveNetClassifier(
            sources=[DNNClassifier(input_columns=EMBEDDING, **params)],
            input_columns=ACOUSTIC,
            **params,
        )

    (batched,) = fit_batched([make()], [{"X": X, "y": y, "source_y": speaker}])
    per_fit = make().fit(X, y, source_y=speaker)
    assert batched.sources_[0].net_.module_.specs[0].inputs == tuple(EMBEDDING)
    np.testing.assert_allclose(
        batched.predict_proba(X), per_fit.predict_proba(X), atol=1e-5
    )
    unused = _with_other_columns_changed(X, ACOUSTIC + EMBEDDING)
    np.testing.assert_array_equal(
        batched.predict_proba(unused), batched.predict_proba(X)
    )


def test_cross_validate_batched_with_an_embedding_source(data):
    X, y, speaker = data
    clf = ProgressiveNetClassifier(
        sources=[DNNClassifier(input_columns=EMBEDDING, **SMALL, max_epochs=5)],
        input_columns=ACOUSTIC,
        max_epochs=5,
        **SMALL,
    )
    result = cross_validate_batched(
        clf, X, y, cv=3, params={"source_y": speaker}, return_estimator=True
    )
    for fitted in result["estimator"]:
        specs = fitted.net_.module_.specs
        assert [spec.inputs for spec in specs] == [tuple(EMBEDDING), tuple(ACOUSTIC)]


@pytest.mark.parametrize("cls", [FineTunedClassifier, ResidualAdapterClassifier])
def test_networks_on_a_source_read_the_sources_features(data, embedding_source, cls):
    X, y, _ = data
    clf = cls(source=embedding_source, max_epochs=3, **SMALL).fit(X, y)
    assert clf.net_.module_.specs[0].inputs == tuple(EMBEDDING)
    changed = _with_other_columns_changed(X, EMBEDDING)
    np.testing.assert_array_equal(clf.predict_proba(changed), clf.predict_proba(X))
    # the same selection again is accepted; another one is refused
    cls(source=embedding_source, input_columns=EMBEDDING, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"other features than the source reads"):
        cls(source=embedding_source, input_columns=ACOUSTIC, max_epochs=1).fit(X, y)


def test_residual_adapter_batched_keeps_the_sources_features(data, embedding_source):
    X, y, _ = data
    params = {**EXACT, "max_epochs": 10}
    clf = ResidualAdapterClassifier(source=embedding_source, **params)
    assert_same_training(clf._prepare_fit(X, y, None, None, None, None))


def test_pickled_selection_round_trips(data, embedding_source):
    X, _, _ = data
    restored = pickle.loads(pickle.dumps(embedding_source))
    np.testing.assert_array_equal(
        restored.predict_proba(X), embedding_source.predict_proba(X)
    )


def test_modules_saved_before_the_selection_read_every_feature():
    # A column pickled by an earlier version has no input index; its spec
    # has five values. Unpickled, it reads every feature, as it did.
    net = ProgressiveNet(4, [((3,), 2, "tanh", (), "linear")], dropout=0.0)
    x = torch.randn(5, 4)
    expected = net(x)
    del net.columns[0]._buffers["input_index"]
    net.specs = tuple(tuple(spec)[:5] for spec in net.specs)
    restored = pickle.loads(pickle.dumps(net))
    assert restored.specs[0].inputs is None
    assert restored.columns[0].input_index is None
    torch.testing.assert_close(restored(x), expected)


def test_an_unfitted_source_selects_by_name_in_both_engines(data):
    # fit trains the source on X with its feature names, as fit_batched
    # does, so a source can name its columns.
    X, y, speaker = data
    names = [f"egemaps_{i}" for i in range(8)] + [f"dvector_{i}" for i in range(4)]
    frame = pd.DataFrame(X, columns=names)
    params = {**EXACT, "max_epochs": 5}

    def make():
        return ProgressiveNetClassifier(
            sources=[DNNClassifier(input_columns=names[8:], **params)],
            input_columns=names[:6],
            **params,
        )

    per_fit = make().fit(frame, y, source_y=speaker)
    (batched,) = fit_batched([make()], [{"X": frame, "y": y, "source_y": speaker}])
    for fitted in (per_fit, batched):
        specs = fitted.net_.module_.specs
        assert [spec.inputs for spec in specs] == [(8, 9, 10, 11), tuple(range(6))]
        assert list(fitted.sources_[0].feature_names_in_) == names
    np.testing.assert_allclose(
        batched.predict_proba(frame), per_fit.predict_proba(frame), atol=1e-5
    )
