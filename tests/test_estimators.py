"""Behaviour of DNNClassifier, FineTunedClassifier and ProgressiveNetClassifier."""

import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_prognet import (
    DNNClassifier,
    FineTunedClassifier,
    ProgressiveNetClassifier,
)
from sklearn_prognet.metrics import uar_score
from sklearn_prognet.networks._training import inner_validation_split

FAST = {"hidden_layer_sizes": (16, 16), "lr": 0.01, "max_epochs": 8, "random_state": 0}
NETWORKS = [DNNClassifier, FineTunedClassifier, ProgressiveNetClassifier]


def _state(estimator):
    return {k: v.clone() for k, v in estimator.net_.module_.state_dict().items()}


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.fixture(scope="module")
def source(small_data):
    """A fitted gender-like source. Fit once, never refit: tests share it."""
    X, _, groups = small_data
    return DNNClassifier(**FAST).fit(X, groups % 2)


# -- common behaviour ---------------------------------------------------------


@pytest.mark.parametrize("cls", NETWORKS)
def test_same_random_state_same_result_and_global_rng_untouched(cls, small_data):
    X, y, _ = small_data
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = cls(**FAST).fit(X, y).predict_proba(X)
    assert torch.equal(before, torch.get_rng_state())
    second = cls(**FAST).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    other = cls(**{**FAST, "random_state": 1}).fit(X, y).predict_proba(X)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("cls", NETWORKS)
def test_pickle_and_joblib_round_trips_predict_identically(cls, small_data, tmp_path):
    X, y, _ = small_data
    clf = cls(**FAST).fit(X, y)
    expected = clf.predict_proba(X)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(clf)).predict_proba(X), expected
    )
    joblib.dump(clf, tmp_path / "model.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "model.joblib").predict_proba(X), expected
    )


def test_string_labels_feature_names_and_fitted_attributes(small_data):
    X, y, _ = small_data
    labels = np.array(["angry", "happy", "sad"])[y]
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = DNNClassifier(**FAST).fit(frame, labels)
    assert list(clf.classes_) == ["angry", "happy", "sad"]
    # the same fit as on the integer labels, predicting the names
    by_index = DNNClassifier(**FAST).fit(X, y).predict(X)
    np.testing.assert_array_equal(clf.predict(frame), clf.classes_[by_index])
    assert clf.n_features_in_ == X.shape[1]
    assert list(clf.feature_names_in_) == list(frame.columns)
    assert clf.n_iter_ == len(clf.history_["epoch"]) <= FAST["max_epochs"]
    assert 1 <= clf.best_epoch_ <= clf.n_iter_
    assert np.all(np.isfinite(clf.history_["valid_uar"]))
    assert clf.history_["valid_uar"][clf.best_epoch_ - 1] == np.max(
        clf.history_["valid_uar"]
    )


def test_early_stopping_stops_and_restores_the_best_epoch(small_data):
    X, y, _ = small_data
    clf = DNNClassifier(**{**FAST, "max_epochs": 200, "patience": 3})
    clf.fit(X[:60], y[:60], X_val=X[60:], y_val=y[60:])
    assert clf.n_iter_ < 200
    assert clf.n_iter_ - clf.best_epoch_ == 3
    # the kept weights are those of the best epoch: rescoring the
    # validation set reproduces its best UAR
    rescored = uar_score(y[60:], clf.predict(X[60:]))
    assert rescored == clf.history_["valid_uar"].max()
    assert rescored == clf.history_["valid_uar"][clf.best_epoch_ - 1]


def test_without_early_stopping_runs_all_epochs(small_data):
    X, y, _ = small_data
    clf = DNNClassifier(**{**FAST, "early_stopping": False}).fit(X, y)
    assert clf.n_iter_ == clf.best_epoch_ == FAST["max_epochs"]
    assert np.all(np.isnan(clf.history_["valid_uar"]))


def test_without_early_stopping_explicit_validation_data_is_only_scored(small_data):
    X, y, _ = small_data
    clf = DNNClassifier(**{**FAST, "max_epochs": 30, "patience": 2})
    clf.set_params(early_stopping=False).fit(X[:60], y[:60], X_val=X[60:], y_val=y[60:])
    assert clf.n_iter_ == clf.best_epoch_ == 30
    # the last weights are kept, and the last score is theirs on X_val
    last = clf.history_["valid_uar"][-1]
    assert uar_score(y[60:], clf.predict(X[60:])) == pytest.approx(last, abs=1e-12)


def test_a_failed_refit_leaves_the_estimator_unfitted(small_data):
    X, y, _ = small_data
    clf = DNNClassifier(**FAST).fit(X, y)
    letters = np.array(list("abcdefghi"))[np.arange(len(X)) % 9]
    with pytest.raises(ValueError, match="not in y"):
        clf.fit(X, letters, X_val=X[:3], y_val=["zz", "a", "b"])
    with pytest.raises(NotFittedError):
        clf.predict(X)
    with pytest.raises(ValueError, match="2 classes"):
        clf.fit(X, np.zeros(len(X)))  # fails after classes_ is set
    with pytest.raises(NotFittedError):
        clf.predict(X)
    with pytest.raises(ValueError, match=r"sources\[0\] is not fitted"):
        ProgressiveNetClassifier(sources=[clf], **FAST).fit(X, y)


def test_verbose_prints_the_epoch_table_and_silent_prints_nothing(small_data, capsys):
    X, y, _ = small_data
    DNNClassifier(**FAST).fit(X, y)
    assert capsys.readouterr().out == ""
    DNNClassifier(**{**FAST, "verbose": 1}).fit(X, y)
    out = capsys.readouterr().out
    assert "valid_uar" in out
    assert len(out.splitlines()) >= FAST["max_epochs"]


def test_explicit_validation_data_is_used(small_data):
    X, y, _ = small_data
    clf = DNNClassifier(**FAST).fit(X[:60], y[:60], X_val=X[60:], y_val=y[60:])
    best = clf.history_["valid_uar"][clf.best_epoch_ - 1]
    assert uar_score(y[60:], clf.predict(X[60:])) == pytest.approx(best, abs=1e-12)
    with pytest.raises(ValueError, match="both X_val and y_val"):
        DNNClassifier(**FAST).fit(X, y, X_val=X)
    with pytest.raises(ValueError, match="not in y"):
        DNNClassifier(**FAST).fit(X, y, X_val=X[:3], y_val=[0, 1, 7])
    with pytest.raises(ValueError, match="features"):
        DNNClassifier(**FAST).fit(X, y, X_val=X[:3, :2], y_val=[0, 1, 2])


@pytest.mark.parametrize("seed", range(5))
def test_inner_split_keeps_speakers_apart_or_stratifies(seed):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 3, size=200)
    groups = rng.randint(0, 12, size=200)
    train, valid = inner_validation_split(y, groups, 0.1, np.random.RandomState(seed))
    assert not set(groups[train]) & set(groups[valid])
    assert len(train) + len(valid) == 200
    train, valid = inner_validation_split(y, None, 0.1, np.random.RandomState(seed))
    assert len(valid) == 20
    assert set(y[valid]) == {0, 1, 2}


def test_groups_are_routed_to_the_inner_split(small_data):
    X, y, groups = small_data
    with sklearn.config_context(enable_metadata_routing=True):
        clf = DNNClassifier(**FAST).set_fit_request(groups=True)
        scores = cross_val_score(
            make_pipeline(StandardScaler(), clf),
            X,
            y,
            cv=GroupKFold(3),
            params={"groups": groups},
        )
    assert scores.shape == (3,)


def test_clear_errors_for_bad_input(small_data):
    X, y, _ = small_data
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        DNNClassifier(**FAST).fit(X_nan, y)
    with pytest.raises(ValueError, match="2 classes"):
        DNNClassifier(**FAST).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        DNNClassifier(hidden_layer_sizes=(16, 0)).fit(X, y)
    with pytest.raises(ValueError, match="at least 2 samples of every class"):
        DNNClassifier(**FAST).fit(X[:4], [0, 0, 0, 1])
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        DNNClassifier(hidden_layer_sizes=(True,)).fit(X, y)
    huge = X.astype(np.float64) * 1e39  # beyond float32, the network's dtype
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(ValueError, match="too large for dtype\\('float32'\\)"):
            DNNClassifier(**FAST).fit(huge, y)
    for device, match in [("gpu", "not a torch device"), ("meta", "not supported")]:
        with pytest.raises(ValueError, match=f"device={device!r} is {match}"):
            DNNClassifier(**FAST, device=device).fit(X, y)
    clf = DNNClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(ValueError, match="too large"):
            clf.predict(huge)


@pytest.mark.parametrize("cls", NETWORKS)
def test_an_unknown_parameter_is_named_with_the_public_class(cls):
    message = f"{cls.__name__}.__init__() got an unexpected keyword argument 'foo'"
    with pytest.raises(TypeError) as error:
        cls(foo=1)
    assert str(error.value) == message
    with pytest.raises(TypeError, match="positional"):
        cls((16,))


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available")
def test_cuda_without_cuda_is_a_clear_error(small_data):
    X, y, _ = small_data
    with pytest.raises(ValueError, match="CUDA is not available"):
        DNNClassifier(device="cuda").fit(X, y)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_model_predicts_after_unpickling_on_cpu(small_data):
    X, y, _ = small_data
    clf = DNNClassifier(**FAST, device="cuda").fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.predict_proba(X).shape == (len(X), 3)


# -- progressive networks -----------------------------------------------------


def test_frozen_columns_stay_bit_identical_and_out_of_the_optimizer(small_data, source):
    X, y, _ = small_data
    before = _state(source)
    clf = ProgressiveNetClassifier(sources=[source], **FAST).fit(X, y)
    _assert_same_state(_state(source), before)  # the user's source is untouched
    module = clf.net_.module_
    frozen = {k: v for k, v in module.state_dict().items() if k.startswith("columns.0")}
    _assert_same_state(frozen, before)  # the frozen column equals the source
    trainable = {id(p) for p in module.parameters()}
    optimised = {id(p) for g in clf.net_.optimizer_.param_groups for p in g["params"]}
    assert optimised == trainable
    assert not any(
        name.startswith("columns.0") for name, _ in module.named_parameters()
    )
    # frozen columns stay in eval mode when skorch switches to training
    module.train()
    assert not module.columns[0].training and module.columns[1].training


def test_lateral_connections_feed_every_layer_including_output(source, small_data):
    X, y, _ = small_data
    clf = ProgressiveNetClassifier(sources=[source], **FAST).fit(X, y)
    new = clf.net_.module_.columns[1]
    # layer k of the source feeds layer k + 1: hidden layer 1 and the output
    assert [len(lats) for lats in new.laterals] == [1, 1]
    assert new.laterals[1][0].weight.shape == (3, 16)
    # and they are used: zeroing them changes the predictions
    proba = clf.predict_proba(X)
    with torch.no_grad():
        for lats in new.laterals:
            lats[0].weight.zero_()
    assert not np.allclose(clf.predict_proba(X), proba)


def test_sources_of_other_widths_several_sources_and_chains(small_data, source):
    X, y, groups = small_data
    wide = DNNClassifier(**{**FAST, "hidden_layer_sizes": (24, 8, 8)}).fit(X, groups)
    clf = ProgressiveNetClassifier(sources=[source, wide], **FAST).fit(X, y)
    assert len(clf.net_.module_.columns) == 3
    chain = ProgressiveNetClassifier(sources=[clf], lateral="adapter", **FAST)
    chain.fit(X, y)
    columns = chain.net_.module__columns
    assert len(columns) == 4
    assert columns[2].lateral_from == (0, 1)  # clf's own column keeps its laterals
    assert columns[3].lateral_from == (0, 1, 2)
    sizes = [(16, 16), (24, 8, 8), (16, 16), (16, 16)]
    assert [c.hidden_layer_sizes for c in columns] == sizes
    assert [c.lateral for c in columns] == ["linear", "linear", "linear", "adapter"]
    _assert_same_state(
        {k: v for k, v in _state(chain).items() if not k.startswith("columns.3")},
        _state(clf),
    )


def test_unfitted_sources_are_trained_on_source_y(small_data):
    X, y, groups = small_data
    clf = ProgressiveNetClassifier(
        sources=[DNNClassifier(**FAST), DNNClassifier(**FAST)], **FAST
    )
    clf.fit(X, y, source_y=np.column_stack([groups % 2, groups]))
    assert list(clf.sources_[0].classes_) == [0, 1]
    assert len(clf.sources_[1].classes_) == 9
    assert not hasattr(clf.sources[0], "net_")  # the user's estimator is untouched


def test_fitted_source_survives_clone_and_cross_validation(small_data, source):
    X, y, groups = small_data
    clf = ProgressiveNetClassifier(sources=[source], **FAST)
    assert clone(clf).sources[0] is source
    assert (
        clone(ProgressiveNetClassifier(sources=[FrozenEstimator(source)]))
        .sources[0]
        .estimator
        is source
    )
    result = cross_validate(
        make_pipeline(StandardScaler(), clf),
        X,
        y,
        groups=groups,
        cv=GroupKFold(3),
        return_estimator=True,
    )
    for pipe in result["estimator"]:
        assert pipe[-1].sources_[0] is source
    assert not hasattr(clone(clf.fit(X, y)), "net_")


def test_per_fold_sources_never_see_the_test_fold(small_data):
    """The speaker->emotion experiment as one cross_validate call."""
    X, y, groups = small_data
    speakers = np.array([f"spk{g}" for g in groups])
    clf = ProgressiveNetClassifier(sources=[DNNClassifier(**FAST)], **FAST)
    cv = GroupKFold(3)
    with sklearn.config_context(enable_metadata_routing=True):
        clf.set_fit_request(groups=True, source_y=True)
        result = cross_validate(
            make_pipeline(StandardScaler(), clf),
            X,
            y,
            cv=cv,
            params={"groups": speakers, "source_y": speakers},
            return_estimator=True,
            return_indices=True,
        )
    for pipe, test in zip(result["estimator"], result["indices"]["test"], strict=True):
        seen = set(pipe[-1].sources_[0].classes_)
        assert seen.isdisjoint(speakers[test])
        assert seen == set(speakers) - set(speakers[test])


def test_bad_sources_get_clear_errors(small_data, source):
    X, y, _ = small_data
    with pytest.raises(TypeError, match=r"sources\[0\] is a LogisticRegression"):
        ProgressiveNetClassifier(sources=[LogisticRegression()]).fit(X, y)
    narrow = DNNClassifier(**FAST).fit(X[:, :4], y)
    with pytest.raises(ValueError, match=r"sources\[1\].*4 features, but X has 8"):
        ProgressiveNetClassifier(sources=[source, narrow], **FAST).fit(X, y)
    with pytest.raises(ValueError, match="not fitted.*source_y"):
        ProgressiveNetClassifier(sources=[DNNClassifier()], **FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"source_y must have shape \(90, 1\)"):
        ProgressiveNetClassifier(sources=[DNNClassifier()], **FAST).fit(
            X, y, source_y=y[:10]
        )
    with pytest.warns(UserWarning, match="source_y is not used") as record:
        ProgressiveNetClassifier(sources=[source], **FAST).fit(X, y, source_y=y)
    assert record[0].filename == __file__  # the caller's line, not ours
    with pytest.raises(ValueError, match=r"unfitted sources\[0\] on column 0.*2 cl"):
        ProgressiveNetClassifier(sources=[DNNClassifier(**FAST)], **FAST).fit(
            X, y, source_y=np.zeros(len(X))
        )


def test_a_source_trained_on_other_scales_is_warned_about(small_data, source):
    X, y, groups = small_data
    raw = DNNClassifier(**FAST).fit(X * 100 + 50, groups % 2)
    with pytest.warns(UserWarning, match=r"sources\[0\] was trained on inputs sc"):
        ProgressiveNetClassifier(sources=[raw], **FAST).fit(X, y)
    with pytest.warns(UserWarning, match="^source was trained on inputs scaled"):
        FineTunedClassifier(source=raw, **FAST).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ProgressiveNetClassifier(sources=[source], **FAST).fit(X[:60], y[:60])


def test_sources_must_have_the_same_feature_names(small_data):
    X, y, groups = small_data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    named = DNNClassifier(**FAST).fit(frame, groups % 2)
    permuted = frame[frame.columns[::-1]]
    with pytest.raises(ValueError, match=r"sources\[0\] was fitted on features named"):
        ProgressiveNetClassifier(sources=[named], **FAST).fit(permuted, y)
    with pytest.raises(ValueError, match="source was fitted on features named"):
        FineTunedClassifier(source=named, **FAST).fit(permuted, y)
    # arrays have no names to compare
    ProgressiveNetClassifier(sources=[named], **FAST).fit(X, y)


# -- fine-tuning --------------------------------------------------------------


def test_fine_tuning_copies_hidden_layers_and_leaves_the_source(small_data, source):
    X, y, _ = small_data
    before = _state(source)
    clf = FineTunedClassifier(source=source, n_frozen_layers=2, **FAST).fit(X, y)
    _assert_same_state(_state(source), before)
    after = _state(clf)
    for key in ("columns.0.hidden.0.weight", "columns.0.hidden.1.bias"):
        assert torch.equal(after[key], before[key])  # frozen layers kept
    assert after["columns.0.output.weight"].shape == (3, 16)  # a new output layer
    tuned = FineTunedClassifier(source=source, **FAST).fit(X, y)
    assert not torch.equal(
        _state(tuned)["columns.0.hidden.0.weight"], before["columns.0.hidden.0.weight"]
    )


def test_fine_tuning_errors_and_warnings(small_data, source):
    X, y, groups = small_data
    with pytest.warns(UserWarning, match="keeps the source's architecture"):
        FineTunedClassifier(source=source, **{**FAST, "hidden_layer_sizes": (8,)}).fit(
            X, y
        )
    # the default architecture is no choice of the user's: no warning
    defaults = {k: v for k, v in FAST.items() if k != "hidden_layer_sizes"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FineTunedClassifier(source=source, **defaults).fit(X, y)
    with pytest.raises(TypeError, match="^source is a type"):
        FineTunedClassifier(source=DNNClassifier, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="n_frozen_layers=3 exceeds"):
        FineTunedClassifier(source=source, n_frozen_layers=3, **FAST).fit(X, y)
    prognet = ProgressiveNetClassifier(sources=[source], **FAST).fit(X, y)
    with pytest.raises(ValueError, match="single-column"):
        FineTunedClassifier(source=prognet, **FAST).fit(X, y)
    unfitted = FineTunedClassifier(source=DNNClassifier(**FAST), **FAST)
    assert list(unfitted.fit(X, y, source_y=groups).source_.classes_) == list(range(9))


def test_parameters_of_a_fitted_source_cannot_be_set(small_data, source):
    X, y, groups = small_data
    clf = FineTunedClassifier(source=source, **FAST)
    with pytest.raises(ValueError, match="Cannot set source__lr: source is a fitted"):
        clf.set_params(source__lr=0.5)
    assert source.lr == FAST["lr"]
    # an unfitted source is tuned as usual, and a new one can replace it
    unfitted = FineTunedClassifier(source=DNNClassifier(**FAST), **FAST)
    search = GridSearchCV(unfitted, {"source__lr": [0.01, 0.02]}, cv=2)
    search.fit(X, y, source_y=groups % 2)
    assert search.best_estimator_.source_.lr in (0.01, 0.02)
    clf.set_params(source=DNNClassifier(), source__lr=0.5)
    assert clf.source.lr == 0.5


# -- real data ----------------------------------------------------------------


@pytest.mark.slow
def test_paper_dnn_learns_emotion_on_real_emodb_features():
    """The paper's 4x256 sigmoid DNN must beat chance (0.25) by far on EmoDB.

    sklearn's MLPClassifier with the same architecture stays at chance here.
    """
    from sklearn_prognet.datasets import load_emodb_features

    data = load_emodb_features()
    X, y, speakers = np.asarray(data.data), np.asarray(data.target), data.speaker
    cv = GroupKFold(2)
    pipe = make_pipeline(StandardScaler(), DNNClassifier(random_state=0))
    scores = cross_val_score(
        pipe, X, y, groups=speakers, cv=cv, scoring="balanced_accuracy"
    )
    assert scores.mean() > 0.55


def test_precomputed_frozen_activations_match_the_columns(small_data, source):
    """Training reads the frozen columns' activations computed once per fit."""
    X, y, _ = small_data
    clf = ProgressiveNetClassifier(sources=[source], **FAST).fit(X, y)
    module = clf.net_.module_.eval()
    x = torch.as_tensor(X)
    frozen = source.net_.module_.hidden_activations(x)
    assert frozen.shape == (len(X), 32)
    with torch.no_grad():
        torch.testing.assert_close(module(x, frozen=frozen), module(x))


def test_layers_import_only_downward():
    """_estimators -> _training -> _columns -> _modules; the top needs no torch."""
    import ast
    import importlib

    layers = ["_estimators", "_training", "_columns", "_modules"]

    def imports(name):
        module = importlib.import_module(f"sklearn_prognet.{name}")
        tree = ast.parse(open(module.__file__).read())
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        return found

    for i, name in enumerate(layers):
        above = {f"sklearn_prognet.{layer}" for layer in layers[: i + 1]}
        assert not imports(name) & above, name
    top = {name.split(".")[0] for name in imports("_estimators")}
    assert not top & {"torch", "skorch"}
