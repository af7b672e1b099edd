"""Tests of ResidualAdapterClassifier, MultiCorpusClassifier and n_trainable_params_."""

import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import (
    GroupKFold,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_estimator_repr,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from sklearn_prognet import (
    DNNClassifier,
    FineTunedClassifier,
    MultiCorpusClassifier,
    ProgressiveNetClassifier,
    ResidualAdapterClassifier,
)
from sklearn_prognet.networks._adapter_modules import AdaptedNet
from sklearn_prognet.networks._columns import adapter_columns, load_state
from sklearn_prognet.networks._modules import ColumnSpec, ProgressiveNet
from sklearn_prognet.preprocessing import SpeakerStandardScaler

FAST = {"lr": 0.01, "max_epochs": 40, "early_stopping": False, "random_state": 0}


def n_trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# -- parameter counts ---------------------------------------------------------


def test_default_rank_trains_at_most_a_fifth_of_a_prognet_column():
    # The paper's network: 4 x 256 sigmoid units on 88 eGeMAPS features,
    # 4 classes. Hand counts:
    # adapters, per layer V (in x r) + U (r x 256) + bias 256, then the head
    r = ResidualAdapterClassifier().adapter_rank
    adapters = (88 + 256) * r + 256 + 3 * ((256 + 256) * r + 256) + 256 * 4 + 4
    # a ProgNet column: its own layers, plus linear laterals from one source
    # column into its layers 2 to 4 and its output layer
    column = 88 * 256 + 256 + 3 * (256 * 256 + 256) + 256 * 4 + 4
    laterals = 3 * 256 * 256 + 256 * 4
    assert (r, adapters, column, laterals) == (16, 32132, 221188, 197632)
    assert adapters <= column / 5  # even against the column without laterals

    spec = ColumnSpec((256,) * 4, 4, "sigmoid", (), "linear")
    assert n_trainable(AdaptedNet(88, [spec], adapter_rank=r)) == adapters
    prognet = ProgressiveNet(88, [spec, spec._replace(lateral_from=(0,))], 1)
    assert n_trainable(prognet) == column + laterals


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    return X, y


def test_n_trainable_params_hand_counts(tiny):
    # 3 features, hidden layers (4, 2), 2 classes
    X, y = tiny
    params = {**FAST, "hidden_layer_sizes": (4, 2), "max_epochs": 2}
    source = DNNClassifier(**params).fit(X, y)
    assert source.n_trainable_params_ == (3 * 4 + 4) + (4 * 2 + 2) + (2 * 2 + 2)
    fine = FineTunedClassifier(source=source, n_frozen_layers=1, **params).fit(X, y)
    assert fine.n_trainable_params_ == (4 * 2 + 2) + (2 * 2 + 2)
    prog = ProgressiveNetClassifier(sources=[source], **params).fit(X, y)
    # the new column, plus laterals 4 -> 2 (layer 2) and 2 -> 2 (output)
    assert prog.n_trainable_params_ == 32 + 4 * 2 + 2 * 2
    adapted = ResidualAdapterClassifier(source=source, adapter_rank=1, **params)
    # per layer V (in x 1), U (1 x out), bias (out); then the head
    expected = (3 + 4 + 4) + (4 + 2 + 2) + (2 * 2 + 2)
    assert adapted.fit(X, y).n_trainable_params_ == expected
    # and it is what the optimizer holds
    optimized = sum(
        p.numel()
        for group in adapted.net_.optimizer_.param_groups
        for p in group["params"]
    )
    assert optimized == expected


# -- the adapted network ------------------------------------------------------


@pytest.fixture(scope="module")
def shifted_task():
    """A source blind to feature 1, and a target that needs feature 1.

    The source's first layer ignores feature 1 (its weights are set to zero
    by hand), so its hidden layers carry no information about it: a new
    head on the frozen source is at chance, and only an adapter, which reads
    the input, can solve the target.
    """
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 6)).astype(np.float32)
    source_y = (X[:, 0] + X[:, 2] > 0).astype(int)
    y = np.where(X[:, 1] > 0, "up", "down")
    params = {**FAST, "hidden_layer_sizes": (16, 16)}
    source = DNNClassifier(**params).fit(X, source_y)
    with torch.no_grad():
        source.net_.module_.columns[0].hidden[0].weight[:, 1] = 0.0
    return X, y, source_y, source, params


@pytest.fixture(scope="module")
def adapted(shifted_task):
    # Fitted once, never refitted: tests that need another fit clone it.
    X, y, _, source, params = shifted_task
    return ResidualAdapterClassifier(source=source, adapter_rank=2, **params).fit(X, y)


def _fresh_module(source, n_classes, rank):
    (column,), state = source._transfer_columns()
    plan = adapter_columns(column, state, n_classes, rank)
    params = dict(plan.module_params)
    module = plan.module(source.n_features_in_, plan.columns, **params)
    load_state(module, plan.state)
    return module


def test_untrained_adapters_compute_the_source_bit_for_bit(shifted_task):
    X, _, _, source, _ = shifted_task
    module = _fresh_module(source, 2, 4)
    x = torch.as_tensor(X)
    source_module = source.net_.module_.eval()
    expected, _ = source_module.columns[0](x, need_output=False)
    for mode in (True, False):  # no dropout in the trunk, even when training
        module.train(mode)
        with torch.no_grad():
            hidden = module.hidden(x)
        for got, want in zip(hidden, expected, strict=True):
            assert torch.equal(got, want)
    # with a non-zero U, they differ: the comparison is not vacuous
    with torch.no_grad():
        module.up[0].weight.fill_(0.1)
        assert not torch.equal(module.hidden(x)[0], expected[0])


def test_frozen_weights_stay_bit_identical_and_in_eval_mode(shifted_task, adapted):
    source = shifted_task[3]
    module = adapted.net_.module_
    state = source.net_.module_.state_dict()
    assert not list(module.trunk.parameters())  # buffers: no optimizer sees them
    for k, layer in enumerate(module.trunk):
        assert torch.equal(layer.weight, state[f"columns.0.hidden.{k}.weight"])
    # the source's bias is copied, and trained in the adapted network only
    assert not torch.equal(module.biases[0][0], state["columns.0.hidden.0.bias"])
    module.train()
    assert module.training and not module.trunk.training
    module.eval()


def test_adapters_solve_what_a_head_on_the_frozen_source_cannot(shifted_task, adapted):
    X, y, _, source, _ = shifted_task
    rng = np.random.RandomState(1)
    X_test = rng.normal(size=(400, 6)).astype(np.float32)
    y_test = np.where(X_test[:, 1] > 0, "up", "down")
    # the frozen source with a new head: a logistic regression on its last
    # hidden layer, trained to convergence
    hidden = source.net_.module_.hidden_activations(torch.as_tensor(X))[:, -16:]
    hidden_test = source.net_.module_.hidden_activations(torch.as_tensor(X_test))
    head = LogisticRegression(max_iter=1000).fit(hidden.numpy(), y)
    head_score = balanced_accuracy_score(
        y_test, head.predict(hidden_test[:, -16:].numpy())
    )
    adapted_score = balanced_accuracy_score(y_test, adapted.predict(X_test))
    assert head_score < 0.6
    assert adapted_score > 0.85


def test_zeroing_the_adapters_changes_predictions(shifted_task, adapted):
    X, y = shifted_task[:2]
    before = adapted.predict_proba(X)
    zeroed = pickle.loads(pickle.dumps(adapted))
    with torch.no_grad():
        for layer in zeroed.net_.module_.up:
            layer.weight.zero_()
    after = zeroed.predict_proba(X)
    assert np.abs(before - after).max() > 0.1
    assert zeroed.score(X, y) < adapted.score(X, y) - 0.2


def test_same_random_state_same_predictions_and_pickle(shifted_task, adapted):
    X, y = shifted_task[:2]
    again = clone(adapted).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), adapted.predict_proba(X))
    other = clone(adapted).set_params(random_state=1).fit(X, y)
    assert not np.array_equal(other.predict_proba(X), adapted.predict_proba(X))
    restored = pickle.loads(pickle.dumps(adapted))
    np.testing.assert_array_equal(restored.predict_proba(X), adapted.predict_proba(X))
    assert restored.n_trainable_params_ == adapted.n_trainable_params_


def test_clone_shares_the_fitted_source(shifted_task, adapted):
    X, y, _, source, _ = shifted_task
    assert clone(adapted).source is source
    weights = source.net_.module_.state_dict()["columns.0.hidden.1.weight"].clone()
    scores = cross_val_score(clone(adapted), X, y, cv=2)
    assert scores.mean() > 0.7
    assert torch.equal(
        source.net_.module_.state_dict()["columns.0.hidden.1.weight"], weights
    )
    with pytest.raises(ValueError, match="fitted network"):
        clone(adapted).set_params(source__lr=0.1)


def test_unfitted_source_trained_from_routed_source_y(shifted_task):
    X, y, source_y, _, params = shifted_task
    clf = ResidualAdapterClassifier(
        source=DNNClassifier(**params), adapter_rank=2, **params
    )
    clf.fit(X, y, source_y=source_y)
    assert clf.source_.classes_.tolist() == [0, 1]
    assert clf.source.__sklearn_is_fitted__() is False  # the user's is untouched
    with sklearn.config_context(enable_metadata_routing=True):
        routed = clone(clf).set_fit_request(source_y=True, groups=False)
        result = cross_validate(
            routed,
            X,
            y,
            cv=GroupKFold(2),
            params={"source_y": source_y, "groups": np.arange(len(y)) % 4},
            return_estimator=True,
        )
    for estimator in result["estimator"]:
        assert estimator.source_.n_features_in_ == X.shape[1]
        assert len(estimator.source_.history_["epoch"]) == params["max_epochs"]


def test_an_adapted_network_is_a_source_for_others(shifted_task, adapted):
    X, y, _, _, params = shifted_task
    columns, state = adapted._transfer_columns()
    folded = ProgressiveNet(X.shape[1], columns).eval()
    load_state(folded, state)
    x = torch.as_tensor(X)
    with torch.no_grad():
        got, logits = folded.columns[0](x)
        want = adapted.net_.module_.hidden(x)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        logits.numpy(), adapted.net_.module_.eval()(x).detach().numpy(), atol=1e-4
    )
    chained = ProgressiveNetClassifier(sources=[adapted], **params).fit(X, y)
    assert chained.score(X, y) > 0.8


def test_early_stopping_and_groups(shifted_task):
    X, y, _, source, params = shifted_task
    clf = ResidualAdapterClassifier(
        source=source, **{**params, "early_stopping": True, "patience": 3}
    )
    clf.fit(X, y, groups=np.arange(len(y)) % 5)
    assert clf.best_epoch_ <= clf.n_iter_ < params["max_epochs"] + 1
    assert np.isfinite(clf.history_["valid_uar"]).all()


def test_without_source_it_is_a_dnn(tiny):
    X, y = tiny
    params = {**FAST, "hidden_layer_sizes": (4,), "max_epochs": 2}
    clf = ResidualAdapterClassifier(**params).fit(X, y)
    dnn = DNNClassifier(**params).fit(X, y)
    assert clf.source_ is None
    np.testing.assert_array_equal(clf.predict_proba(X), dnn.predict_proba(X))


def test_errors(shifted_task, tiny):
    X, y, _, source, params = shifted_task
    with pytest.raises(ValueError, match="fitted on 6 features, but X has 3"):
        ResidualAdapterClassifier(source=source, **params).fit(*tiny)
    with pytest.raises(TypeError, match="a source must be"):
        ResidualAdapterClassifier(source=LogisticRegression(), **params).fit(X, y)
    with pytest.raises(ValueError, match="pass source_y to fit"):
        ResidualAdapterClassifier(source=DNNClassifier(), **params).fit(X, y)
    with pytest.raises(InvalidParameterError, match="adapter_rank"):
        ResidualAdapterClassifier(source=source, adapter_rank=0).fit(X, y)
    two_columns = ProgressiveNetClassifier(
        sources=[source], **{**params, "max_epochs": 1}
    ).fit(X, y)
    with pytest.raises(ValueError, match="single-column network"):
        ResidualAdapterClassifier(source=two_columns, **params).fit(X, y)
    with pytest.warns(UserWarning, match="keeps the source's architecture"):
        ResidualAdapterClassifier(
            source=source, **{**params, "hidden_layer_sizes": (3,), "max_epochs": 1}
        ).fit(X, y)


def test_a_wrong_source_type_names_every_accepted_network(shifted_task):
    X, y, _, _, params = shifted_task
    for estimator in (ResidualAdapterClassifier, FineTunedClassifier):
        with pytest.raises(TypeError, match="a source must be") as error:
            estimator(source=LogisticRegression(), **params).fit(X, y)
        for name in (
            "DNNClassifier",
            "FineTunedClassifier",
            "ProgressiveNetClassifier",
            "ResidualAdapterClassifier",
        ):
            assert name in str(error.value)  # fmt: skip
    with pytest.raises(TypeError, match="ResidualAdapterClassifier"):
        ProgressiveNetClassifier(sources=[LogisticRegression()], **params).fit(X, y)


def test_adapter_rank_above_the_layer_width_or_a_bool_is_refused(shifted_task):
    # rank 1000 on 16-unit layers would train far more than the source has
    X, y, _, source, params = shifted_task
    with pytest.raises(ValueError, match=r"adapter_rank=1000 .*\(16, 16\)"):
        ResidualAdapterClassifier(source=source, adapter_rank=1000, **params).fit(X, y)
    with pytest.raises(ValueError, match=r"adapter_rank=17 .*\(16, 16\)"):
        ResidualAdapterClassifier(source=source, adapter_rank=17, **params).fit(X, y)
    with pytest.raises(InvalidParameterError, match="adapter_rank"):
        ResidualAdapterClassifier(source=source, adapter_rank=True, **params).fit(X, y)
    Xm, ym = two_corpora(n=30)
    with pytest.raises(ValueError, match=r"adapter_rank=9 .*\(8, 4\)"):
        MultiCorpusClassifier(hidden_layer_sizes=(8, 4), adapter_rank=9).fit(Xm, ym)
    with pytest.raises(InvalidParameterError, match="adapter_rank"):
        MultiCorpusClassifier(adapter_rank=True).fit(Xm, ym)


# -- MultiCorpusClassifier ----------------------------------------------------


def two_corpora(n=300, seed=0):
    """Two corpora whose classes depend on the same feature, shifted.

    In corpus 'a', 'angry' is x0 > 0; in corpus 'b', x0 > 1, and 'b' also
    has a third class, 'happy' (x1 > 1). The same features can thus belong to
    different classes in the two corpora.
    """
    rng = np.random.RandomState(seed)
    X = pd.DataFrame(rng.normal(size=(2 * n, 4)), columns=["x0", "x1", "x2", "x3"])
    X["corpus"] = np.repeat(["a", "b"], n)
    threshold = np.where(X["corpus"] == "a", 0.0, 1.0)
    y = np.where(X["x0"] > threshold, "angry", "sad").astype(object)
    y[(X["corpus"] == "b") & (X["x1"] > 1) & (y == "sad")] = "happy"
    return X, y


MULTI = {"hidden_layer_sizes": (16,), "lr": 0.01, "max_epochs": 60}


@pytest.fixture(scope="module")
def multi():
    # Fitted once, never refitted.
    X, y = two_corpora()
    return MultiCorpusClassifier(**MULTI, random_state=0).fit(X, y)


def test_multi_corpus_uses_each_rows_corpus(multi):
    X, y = two_corpora(seed=1)
    assert multi.score(X, y) > 0.85
    assert multi.classes_.tolist() == ["angry", "happy", "sad"]
    assert multi.corpus_classes_["a"].tolist() == ["angry", "sad"]
    assert multi.corpora_.tolist() == ["a", "b"]
    proba = multi.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba[X["corpus"] == "a", 1] == 0).all()  # no 'happy' in corpus a
    # the same features, read as corpus a and as corpus b: for 0 < x0 < 1
    # the corpora disagree, and so must the predictions
    middle = X[(X["x0"] > 0.2) & (X["x0"] < 0.8) & (X["x1"] < 0.5)]
    as_a = multi.predict(middle.assign(corpus="a"))
    as_b = multi.predict(middle.assign(corpus="b"))
    assert (as_a == "angry").mean() > 0.8 and (as_b == "sad").mean() > 0.8


def test_each_corpus_has_its_own_adapters(multi):
    X, _ = two_corpora(seed=2)
    before = multi.predict_proba(X)
    zeroed = pickle.loads(pickle.dumps(multi))
    rank = zeroed.adapter_rank
    with torch.no_grad():
        for up in zeroed.net_.module_.up:  # corpus 'a' owns the first block
            up.weight[:, :rank] = 0.0
    after = zeroed.predict_proba(X)
    in_a = (X["corpus"] == "a").to_numpy()
    np.testing.assert_array_equal(after[~in_a], before[~in_a])
    assert np.abs(after[in_a] - before[in_a]).max() > 1e-3


def test_multi_corpus_parameters_hand_count():
    X, y = two_corpora(n=30)
    clf = MultiCorpusClassifier(
        hidden_layer_sizes=(5, 3), adapter_rank=2, max_epochs=1, early_stopping=False
    ).fit(X, y)
    trunk = 4 * 5 + 5 * 3  # shared weights, no shared bias
    per_corpus = (4 + 5) * 2 + 5 + (5 + 3) * 2 + 3  # adapters and biases
    heads = (3 * 2 + 2) + (3 * 3 + 3)  # 'a' has 2 classes, 'b' 3
    assert clf.n_trainable_params_ == trunk + 2 * per_corpus + heads


def test_multi_corpus_reproducible_pickle_and_cv(multi):
    X, y = two_corpora()
    np.testing.assert_array_equal(
        clone(multi).fit(X, y).predict_proba(X), multi.predict_proba(X)
    )
    restored = pickle.loads(pickle.dumps(multi))
    np.testing.assert_array_equal(restored.predict_proba(X), multi.predict_proba(X))
    small = {**MULTI, "max_epochs": 5}
    # shuffled: unshuffled, one training fold holds only 'angry' rows of 'a'
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    scores = cross_val_score(MultiCorpusClassifier(**small), X, y, cv=cv)
    assert scores.shape == (2,)


# few rows of the rare class 'happy' per group: the inner split says so
@pytest.mark.filterwarnings("ignore:The least populated class:UserWarning")
def test_multi_corpus_groups_are_routed():
    X, y = two_corpora(n=60)
    groups = np.arange(len(y)) % 6
    with sklearn.config_context(enable_metadata_routing=True):
        clf = MultiCorpusClassifier(**{**MULTI, "max_epochs": 3}).set_fit_request(
            groups=True
        )
        scores = cross_val_score(clf, X, y, cv=GroupKFold(3), params={"groups": groups})
    assert scores.shape == (3,)


def test_multi_corpus_errors(multi):
    X, y = two_corpora(n=30)
    with pytest.raises(ValueError, match=r"not seen in fit: \['c'\]"):
        multi.predict(X.assign(corpus="c"))
    with pytest.raises(TypeError, match="pandas DataFrame"):
        MultiCorpusClassifier().fit(X.drop(columns="corpus").to_numpy(), y)
    with pytest.raises(ValueError, match="no corpus column corpus_column='db'"):
        MultiCorpusClassifier(corpus_column="db").fit(X, y)
    with pytest.raises(ValueError, match="missing values"):
        MultiCorpusClassifier().fit(X.assign(corpus=None), y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        MultiCorpusClassifier().fit(X, np.full(len(y), "sad"))
    with pytest.raises(InvalidParameterError, match="adapter_rank"):
        MultiCorpusClassifier(adapter_rank=0).fit(X, y)
    rare = y.copy()
    rare[np.flatnonzero(X["corpus"] == "b")[0]] = "fear"
    with pytest.raises(ValueError, match="corpus 'b' has 1 sample of class 'fear'"):
        MultiCorpusClassifier().fit(X, rare)
    with pytest.raises(ValueError, match="feature names should match"):
        multi.predict(X.drop(columns="x3"))


def test_multi_corpus_names_a_feature_column_that_is_not_numeric():
    X, y = two_corpora(n=30)
    with pytest.raises(ValueError, match=r"must be numeric.*\['speaker'\]"):
        MultiCorpusClassifier().fit(X.assign(speaker="s1"), y)


def test_multi_corpus_ids_stay_distinct_and_are_never_merged():
    X, y = two_corpora(n=30)
    params = {"hidden_layer_sizes": (4,), "adapter_rank": 2, "max_epochs": 1}
    # integer ids stay integers: 1 and "1" are two corpora, not one
    numeric = X.assign(corpus=np.where(X["corpus"] == "a", 1, 2))
    clf = MultiCorpusClassifier(**params).fit(numeric, y)
    assert clf.corpora_.tolist() == [1, 2]
    assert clf.corpus_classes_[1].tolist() == ["angry", "sad"]
    with pytest.raises(ValueError, match=r"not seen in fit: \['1'\]"):
        clf.predict(numeric.assign(corpus="1"))
    with pytest.raises(ValueError, match=r"corpora that are not in X: \['2'\]"):
        MultiCorpusClassifier(**params).fit(
            numeric, y, X_val=numeric.assign(corpus="2"), y_val=y
        )
    # one column holding both 1 and "1" is refused, not read as one corpus
    mixed = X.assign(corpus=[1 if c == "a" else "1" for c in X["corpus"]])
    with pytest.raises(ValueError, match="mixes corpus ids of types int and str"):
        MultiCorpusClassifier(**params).fit(mixed, y)
    # a corpus column of floats is what a scaler makes of numeric ids (all
    # 0.0 within each speaker): refused, naming where it comes from
    with pytest.raises(ValueError, match="holds floats.*never scale it"):
        MultiCorpusClassifier(**params).fit(X.assign(corpus=0.0), y)


def test_multi_corpus_warns_of_one_corpus_and_refuses_a_one_class_corpus():
    X, y = two_corpora(n=30)
    params = {"hidden_layer_sizes": (4,), "adapter_rank": 2, "max_epochs": 1}
    with pytest.warns(UserWarning, match="X holds one corpus, 'a'"):
        MultiCorpusClassifier(**params).fit(X.assign(corpus="a"), y)
    # a corpus with one class: its output layer has nothing to choose from,
    # so its rows add nothing to the loss and its predictions are constant
    one_class = np.where(X["corpus"] == "a", "sad", y)
    with pytest.raises(ValueError, match="corpus 'a' has one class, 'sad'"):
        MultiCorpusClassifier(**params).fit(X, one_class)


def test_the_corpus_column_passes_through_a_speaker_scaler_unscaled():
    # The corpus column must never be scaled: a ColumnTransformer standardises
    # the features per speaker and passes the corpus column through as it is,
    # with pandas output so that the ids keep their type.
    X, y = two_corpora(n=30)
    X["speaker"] = np.arange(len(X)) % 6
    X["corpus"] = np.where(X["corpus"] == "a", 10, 20)
    features = ["x0", "x1", "x2", "x3"]
    prepare = ColumnTransformer(
        [
            ("scale", SpeakerStandardScaler(), [*features, "speaker"]),
            ("corpus", "passthrough", ["corpus"]),
        ],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    out = prepare.fit_transform(X)
    np.testing.assert_array_equal(out["corpus"].to_numpy(), X["corpus"].to_numpy())
    assert out["corpus"].dtype == X["corpus"].dtype
    rows = (X["speaker"] == 3).to_numpy()  # a speaker's features: mean 0, sd 1
    np.testing.assert_allclose(out.loc[rows, features].mean(), 0, atol=1e-6)
    np.testing.assert_allclose(out.loc[rows, features].std(ddof=0), 1, rtol=1e-6)
    params = {"hidden_layer_sizes": (4,), "adapter_rank": 2, "max_epochs": 1}
    pipe = make_pipeline(prepare, MultiCorpusClassifier(**params)).fit(X, y)
    assert pipe[-1].corpora_.tolist() == [10, 20]
    # the corpus column given to the scaler itself would be standardised
    # (0.0 within every speaker): the classifier refuses it
    scaled = SpeakerStandardScaler().set_output(transform="pandas")
    with pytest.raises(ValueError, match="holds floats"):
        make_pipeline(scaled, MultiCorpusClassifier(**params)).fit(X, y)


def test_multi_corpus_stops_on_x_val_and_trains_on_all_of_x():
    X, y = two_corpora(n=100)
    X_val, y_val = two_corpora(n=40, seed=3)
    b = (X_val["corpus"] == "b").to_numpy()
    X_val, y_val = X_val[b], y_val[b]  # the rows of one corpus: its best epoch
    params = {**MULTI, "max_epochs": 30, "patience": 30, "random_state": 0}
    clf = MultiCorpusClassifier(**params).fit(X, y, X_val=X_val, y_val=y_val)
    # the restored epoch is the best on X_val, scored on exactly those rows
    best = list(clf.history_["epoch"]).index(clf.best_epoch_)
    assert clf.history_["valid_uar"][best] == max(clf.history_["valid_uar"])
    assert clf.history_["valid_uar"][best] == pytest.approx(
        balanced_accuracy_score(y_val, clf.predict(X_val)), abs=1e-4
    )
    # nothing of X is held out: it trains as without early stopping (which
    # trains on all of X), not as with the held-out 10%
    scored = MultiCorpusClassifier(**{**params, "early_stopping": False}).fit(
        X, y, X_val=X_val, y_val=y_val
    )
    held_out = MultiCorpusClassifier(**params).fit(X, y)
    assert clf.n_iter_ == scored.n_iter_ == 30
    np.testing.assert_array_equal(
        clf.history_["train_loss"], scored.history_["train_loss"]
    )
    np.testing.assert_array_equal(
        clf.history_["valid_uar"], scored.history_["valid_uar"]
    )
    assert not np.allclose(clf.history_["train_loss"], held_out.history_["train_loss"])


def test_multi_corpus_x_val_errors():
    X, y = two_corpora(n=30)
    clf = MultiCorpusClassifier(max_epochs=1)
    with pytest.raises(ValueError, match="both X_val and y_val"):
        clf.fit(X, y, X_val=X)
    with pytest.raises(ValueError, match=r"corpora that are not in X: \['c'\]"):
        clf.fit(X, y, X_val=X.assign(corpus="c"), y_val=y)
    a = (X["corpus"] == "a").to_numpy()
    with pytest.raises(ValueError, match="label 'happy' for corpus 'a'"):
        clf.fit(X, y, X_val=X[a], y_val=np.full(a.sum(), "happy"))
    with pytest.raises(ValueError, match="X_val has 60 samples but y_val has 3"):
        clf.fit(X, y, X_val=X, y_val=y[:3])
    with pytest.raises(TypeError, match="pandas DataFrame"):
        clf.fit(X, y, X_val=X.to_numpy(), y_val=y)
    with pytest.raises(ValueError, match="feature names should match"):
        clf.fit(X, y, X_val=X.drop(columns="x3"), y_val=y)
    # with X_val nothing is held out, so a class too rare to stratify is fine
    rare = y.copy()
    rare[np.flatnonzero(~a)[0]] = "fear"
    assert "fear" in clf.fit(X, rare, X_val=X, y_val=y).corpus_classes_["b"]


@pytest.mark.parametrize(
    "check",
    [
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
        check_estimator_cloneable,
        check_estimator_repr,
    ],
)
def test_multi_corpus_sklearn_api_checks(check):
    # sklearn's common checks pass plain arrays, so they skip this estimator.
    check("MultiCorpusClassifier", MultiCorpusClassifier())


def test_multi_corpus_tags():
    tags = MultiCorpusClassifier().__sklearn_tags__()
    assert tags.input_tags.two_d_array is False
    assert tags.estimator_type == "classifier"
