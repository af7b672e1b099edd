"""Multi-task learning: dimensional ratings beside the classes (issue #17)."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import NotFittedError, UndefinedMetricWarning
from sklearn.model_selection import KFold, cross_validate
from sklearn.preprocessing import LabelEncoder

from sklearn_prognet import (
    DNNClassifier,
    FineTunedClassifier,
    ProgressiveNetClassifier,
    ResidualAdapterClassifier,
)
from sklearn_prognet.metrics import ccc_score
from sklearn_prognet.networks._multitask import (
    MultiTaskLoss,
    masked_ccc_loss,
    masked_mse,
)
from sklearn_prognet.networks._training import (
    MultiTaskTrainer,
    ProgressiveNetTrainer,
    inner_validation_split,
)

# Without early stopping: it monitors the validation UAR, which on these
# easy classes peaks within a few epochs, long before the head has learned.
CHEAP = {
    "hidden_layer_sizes": (16,),
    "lr": 0.01,
    "max_epochs": 40,
    "dropout": 0.1,
    "early_stopping": False,
    "random_state": 0,
}


def lin_ccc(t, p):
    """Lin (1989) by hand, population (ddof=0) moments."""
    t, p = np.asarray(t, float), np.asarray(p, float)
    cov = np.mean((t - t.mean()) * (p - p.mean()))
    return 2 * cov / (t.var() + p.var() + (t.mean() - p.mean()) ** 2)


@pytest.fixture(scope="module")
def data():
    """Classes from feature 0; two ratings linear in features 1 to 3.

    The first rating is on a scale far from 0 (around 50, spread 10), so a
    prediction on the standardised scale would be far off.
    """
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    y = np.where(X[:, 0] > 0, "high", "low")
    D = np.c_[50 + 10 * X[:, 1], X[:, 2] - X[:, 3]].astype(np.float64)
    return X[:200], y[:200], D[:200], X[200:], y[200:], D[200:]


@pytest.fixture(scope="module")
def fitted(data):
    # Fit once, never refit: several tests read this estimator.
    X, y, D, *_ = data
    frame = pd.DataFrame(D, columns=["arousal", "valence"])
    return DNNClassifier(dimensional_weight=1.0, **CHEAP).fit(X, y, dimensions=frame)


# -- ccc_score ----------------------------------------------------------------


def test_ccc_score_matches_lin_formula():
    rng = np.random.RandomState(1)
    t = rng.normal(3, 1, size=(40, 3))
    p = 0.5 * t + rng.normal(0.4, 0.7, size=(40, 3))
    expected = np.array([lin_ccc(t[:, j], p[:, j]) for j in range(3)])
    np.testing.assert_allclose(ccc_score(t, p, multioutput="raw_values"), expected)
    assert ccc_score(t, p) == pytest.approx(expected.mean())
    weights = [1, 2, 3]
    assert ccc_score(t, p, multioutput=weights) == pytest.approx(
        np.average(expected, weights=weights)
    )
    assert ccc_score(t[:, 0], p[:, 0]) == pytest.approx(expected[0])
    # population moments: the sample (ddof=1) version differs
    cov1 = np.cov(t[:, 0], p[:, 0])[0, 1]
    ddof1 = 2 * cov1 / (t[:, 0].var(ddof=1) + p[:, 0].var(ddof=1) + 0)
    assert ccc_score(t[:, 0], p[:, 0]) != pytest.approx(ddof1)


def test_ccc_score_of_huge_ratings_does_not_overflow():
    # squares of 1e200 overflow to inf (NaN, with numpy warnings); the CCC
    # does not depend on the unit of the ratings
    t = np.array([1.0, 2.0, 4.0, 3.0])
    p = np.array([1.5, 2.0, 3.0, 3.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ccc_score(1e200 * t, 1e200 * t) == 1.0
        assert ccc_score(1e200 * t, 1e200 * p) == pytest.approx(lin_ccc(t, p))
        assert ccc_score(1e-200 * t, 1e-200 * p) == pytest.approx(lin_ccc(t, p))


def test_ccc_score_agreement_not_correlation():
    t = np.arange(10.0)
    assert ccc_score(t, t) == 1.0
    assert ccc_score(t, t + 3) < 1  # shifted: Pearson's r is still 1
    assert ccc_score(t, 2 * t) < 1  # rescaled
    assert ccc_score(t, -t + 9) == pytest.approx(-1.0)
    assert ccc_score([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]) == 1.0
    assert ccc_score([2.0, 2.0, 2.0], [3.0, 3.0, 3.0]) == 0.0


def test_ccc_score_bad_inputs():
    with pytest.raises(ValueError, match="different numbers of outputs"):
        ccc_score(np.ones((4, 2)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ccc_score([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="3 weights but there are 2"):
        ccc_score(np.eye(3)[:, :2], np.eye(3)[:, :2], multioutput=[1, 2, 3])
    with pytest.raises(ValueError, match="multioutput"):
        ccc_score([1.0, 2.0], [1.0, 2.0], multioutput="variance_weighted")
    with pytest.raises(ValueError, match="NaN"):
        ccc_score([1.0, np.nan], [1.0, 2.0])
    with pytest.warns(UndefinedMetricWarning, match="two samples"):
        assert np.isnan(ccc_score([1.0], [1.0]))


# -- the losses ---------------------------------------------------------------


@pytest.mark.parametrize("loss", [masked_mse, masked_ccc_loss])
def test_nan_rating_is_the_same_as_leaving_it_out(loss):
    torch.manual_seed(0)
    pred = torch.randn(12, 3, requires_grad=True)
    target = torch.randn(12, 3)
    target[[2, 7]] = float("nan")  # two unrated rows
    target[4, 1] = float("nan")  # one missing rating
    value = loss(pred, target)
    value.backward()
    kept = [i for i in range(12) if i not in (2, 7)]
    pred_kept = pred.detach()[kept].requires_grad_()
    same = loss(pred_kept, target[kept])
    same.backward()
    assert value.item() == pytest.approx(same.item(), rel=1e-6)
    assert torch.isfinite(pred.grad).all()
    assert (pred.grad[[2, 7]] == 0).all() and pred.grad[4, 1] == 0
    torch.testing.assert_close(pred.grad[kept], pred_kept.grad)


@pytest.mark.parametrize("loss", [masked_mse, masked_ccc_loss])
def test_unrated_batch_contributes_nothing(loss):
    pred = torch.randn(5, 2, requires_grad=True)
    value = loss(pred, torch.full((5, 2), float("nan")))
    value.backward()
    assert value.item() == 0.0 and (pred.grad == 0).all()


def test_losses_against_formulas():
    rng = np.random.RandomState(2)
    t, p = rng.normal(size=(30, 2)), rng.normal(size=(30, 2))
    tt, pp = torch.tensor(t), torch.tensor(p)
    assert masked_mse(pp, tt).item() == pytest.approx(np.mean((t - p) ** 2))
    expected = 1 - np.mean([lin_ccc(t[:, j], p[:, j]) for j in range(2)])
    assert masked_ccc_loss(pp, tt).item() == pytest.approx(expected, rel=1e-6)


def test_multitask_loss_weights_the_ratings():
    torch.manual_seed(0)
    logits, ratings = torch.randn(8, 3), torch.randn(8, 2)
    labels, target = torch.randint(3, (8,)), torch.randn(8, 2)
    ce = torch.nn.functional.cross_entropy(logits, labels)
    loss = MultiTaskLoss(weight=0.3, kind="mse")
    total = loss((logits, ratings), {"y": labels, "dimensions": target})
    assert total.item() == pytest.approx(
        (ce + 0.3 * masked_mse(ratings, target)).item()
    )
    # validation targets are the labels alone: cross-entropy only
    assert loss((logits, ratings), labels).item() == pytest.approx(ce.item())


# -- the estimators -----------------------------------------------------------


def test_default_builds_no_head(data):
    X, y, D, *_ = data
    params = dict(CHEAP, max_epochs=5, early_stopping=True)
    clf = DNNClassifier(**params).fit(X, y)
    assert type(clf.net_) is ProgressiveNetTrainer
    assert isinstance(clf.net_.criterion_, torch.nn.CrossEntropyLoss)
    assert not hasattr(clf.net_.module_, "dimension_head")
    assert not any("dimension" in key for key in clf.net_.module_.state_dict())
    assert not hasattr(clf, "dimension_names_")
    # dimensions with weight 0: a warning, and the very same network
    with pytest.warns(UserWarning, match="dimensions is not used"):
        same = DNNClassifier(**params).fit(X, y, dimensions=D)
    np.testing.assert_array_equal(same.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("loss", ["mse", "ccc"])
def test_head_learns_a_linear_rating(data, loss):
    X, y, D, X_test, y_test, D_test = data
    clf = DNNClassifier(dimensional_weight=1.0, dimensional_loss=loss, **CHEAP)
    clf.fit(X, y, dimensions=D)
    assert type(clf.net_) is MultiTaskTrainer
    pred = clf.predict_dimensions(X_test)
    assert pred.shape == (100, 2)
    scores = ccc_score(D_test, pred, multioutput="raw_values")
    assert (scores > 0.5).all(), scores
    assert clf.score(X_test, y_test) > 0.8


def test_predictions_on_the_ratings_scale(fitted, data):
    X, _, D, X_test, _, D_test = data
    assert fitted.dimension_names_.tolist() == ["arousal", "valence"]
    np.testing.assert_allclose(fitted.dimension_mean_, D.mean(axis=0))
    np.testing.assert_allclose(fitted.dimension_scale_, D.std(axis=0))
    pred = fitted.predict_dimensions(X_test)
    # the arousal scale is about 50 +- 10: not the standardised one
    assert abs(pred[:, 0].mean() - 50) < 3
    assert ccc_score(D_test, pred) > 0.5


def test_head_trains_the_trunk(data):
    # Same random draws in both fits (the head is built either way); with a
    # negligible weight the ratings' gradient cannot move the trunk, so any
    # difference in the trunk comes from the ratings.
    X, y, D, *_ = data
    params = dict(CHEAP, max_epochs=5, dropout=0.0)
    fits = [
        DNNClassifier(dimensional_weight=w, **params).fit(X, y, dimensions=D)
        for w in (1e-30, 1.0)
    ]
    negligible, weighted = (f.net_.module_.columns[0] for f in fits)
    change = (negligible.hidden[0].weight - weighted.hidden[0].weight).abs().max()
    assert change > 1e-3


def test_nan_ratings_handled_in_fit(data):
    X, y, D, X_test, _, D_test = data
    D = D.copy()
    D[::3, 0] = np.nan  # a third of the arousal ratings missing
    D[1::5] = np.nan  # and a fifth of the rows unrated
    clf = DNNClassifier(dimensional_weight=1.0, **CHEAP).fit(X, y, dimensions=D)
    assert np.isfinite(clf.history_["train_loss"]).all()
    # the standardisation ignores missing ratings
    assert np.isfinite(clf.dimension_mean_).all()
    assert ccc_score(D_test, clf.predict_dimensions(X_test)) > 0.5


def test_default_names_and_one_dimension(data):
    X, y, D, X_test, *_ = data
    clf = DNNClassifier(dimensional_weight=0.5, **dict(CHEAP, max_epochs=2))
    clf.fit(X, y, dimensions=D)
    assert clf.dimension_names_.tolist() == ["dimensions_0", "dimensions_1"]
    one = DNNClassifier(dimensional_weight=0.5, **dict(CHEAP, max_epochs=2))
    one.fit(X, y, dimensions=pd.Series(D[:, 0], name="arousal"))
    assert one.dimension_names_.tolist() == ["arousal"]
    assert one.predict_dimensions(X_test).shape == (100, 1)


@pytest.mark.parametrize(
    "dimensions, match",
    [
        (np.ones((199, 2)), r"shape \(n_samples, n_dimensions\)"),
        (np.ones((200, 2, 1)), r"shape \(n_samples, n_dimensions\)"),
        (np.ones((200, 0)), "at least one column"),
        (
            np.c_[np.ones(200), np.full(200, np.nan)],
            r"only NaN\) for \['dimensions_1'\]",
        ),
        (pd.DataFrame({"a": np.ones(200), "b": ["x"] * 200}), "column 'b' has dtype"),
        (np.array([["1.0", "high"]] * 200), "numeric ratings"),
        (np.array([[1.0, "high"]] * 200, dtype=object), "not numbers"),
        (np.full((200, 1), True), "numeric ratings"),
        (np.c_[np.ones(199).tolist() + [np.inf]], "infinite"),
    ],
)
def test_bad_dimensions(data, dimensions, match):
    X, y, *_ = data
    clf = DNNClassifier(dimensional_weight=1.0, **CHEAP)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y, dimensions=dimensions)


def test_unrated_training_part(data):
    # rated only in the rows that early stopping holds out: the same split
    # as fit's, from the same random state
    X, y, D, *_ = data
    encoded = LabelEncoder().fit_transform(y)
    _, valid = inner_validation_split(encoded, None, 0.1, np.random.RandomState(0))
    ratings = np.full(len(X), np.nan)
    ratings[valid] = D[valid, 0]
    clf = DNNClassifier(dimensional_weight=1.0, **dict(CHEAP, early_stopping=True))
    with pytest.raises(ValueError, match=r"training part of dimensions.*dimensions_0"):
        clf.fit(X, y, dimensions=ratings)


def test_weight_without_dimensions(data):
    X, y, *_ = data
    with pytest.raises(ValueError, match=r"dimensional_weight=0.5 needs ratings"):
        DNNClassifier(dimensional_weight=0.5, **CHEAP).fit(X, y)


def test_bad_parameters(data):
    X, y, D, *_ = data
    with pytest.raises(ValueError, match="dimensional_weight"):
        DNNClassifier(dimensional_weight=-1.0, **CHEAP).fit(X, y, dimensions=D)
    with pytest.raises(ValueError, match="dimensional_loss"):
        DNNClassifier(dimensional_loss="mae", dimensional_weight=1.0).fit(
            X, y, dimensions=D
        )


def test_predict_dimensions_availability(data):
    X, y, *_ = data
    assert not hasattr(DNNClassifier(), "predict_dimensions")
    with pytest.raises(NotFittedError):
        DNNClassifier(dimensional_weight=1.0).predict_dimensions(X)
    alone = DNNClassifier(**dict(CHEAP, max_epochs=2)).fit(X, y)
    assert not hasattr(alone, "predict_dimensions")
    with pytest.raises(AttributeError, match="predict_dimensions") as info:
        alone.predict_dimensions(X)
    assert "fitted with dimensional_weight=0" in str(info.value.__cause__)


def test_pickle_and_clone(fitted, data):
    X_test = data[3]
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(
        restored.predict_dimensions(X_test), fitted.predict_dimensions(X_test)
    )
    np.testing.assert_array_equal(
        restored.predict_proba(X_test), fitted.predict_proba(X_test)
    )
    fresh = clone(fitted)
    assert fresh.get_params() == fitted.get_params()
    assert not hasattr(fresh, "dimension_names_")
    with pytest.raises(NotFittedError):
        fresh.predict_dimensions(X_test)


def test_same_random_state_same_result(data):
    X, y, D, X_test, *_ = data
    params = dict(CHEAP, dimensional_weight=1.0, dimensional_loss="ccc", max_epochs=5)
    a = DNNClassifier(**params).fit(X, y, dimensions=D)
    b = DNNClassifier(**params).fit(X, y, dimensions=D)
    np.testing.assert_array_equal(
        a.predict_dimensions(X_test), b.predict_dimensions(X_test)
    )


def test_metadata_routing_in_cross_validate(data):
    X, y, D, *_ = data
    clf = DNNClassifier(dimensional_weight=1.0, **dict(CHEAP, max_epochs=2))
    with config_context(enable_metadata_routing=True):
        clf.set_fit_request(dimensions=True)
        result = cross_validate(
            clf,
            X,
            y,
            cv=KFold(2),
            params={"dimensions": D},
            return_estimator=True,
            return_indices=True,
        )
    for estimator, train in zip(
        result["estimator"], result["indices"]["train"], strict=True
    ):
        # each fold learned the ratings of its own training rows
        np.testing.assert_allclose(estimator.dimension_mean_, D[train].mean(axis=0))


# -- transfer and multi-task learning compose --------------------------------


def test_progressive_net_with_multitask_column(fitted, data):
    X, y, D, X_test, _, D_test = data
    source = DNNClassifier(**dict(CHEAP, max_epochs=5)).fit(X, y)
    before = {k: v.clone() for k, v in source.net_.module_.state_dict().items()}
    clf = ProgressiveNetClassifier(sources=[source], dimensional_weight=1.0, **CHEAP)
    clf.fit(X, y, dimensions=D)
    assert len(clf.net_.module_.columns) == 2
    assert ccc_score(D_test, clf.predict_dimensions(X_test)) > 0.5
    frozen = clf.net_.module_.columns[0].state_dict()
    for key, tensor in frozen.items():
        torch.testing.assert_close(tensor, before[f"columns.0.{key}"])
    # a multi-task network is a source like any other: its head stays behind
    chained = ProgressiveNetClassifier(sources=[clf], **dict(CHEAP, max_epochs=2))
    chained.fit(X, y)
    assert len(chained.net_.module_.columns) == 3
    assert not hasattr(chained.net_.module_, "dimension_head")
    tuned = FineTunedClassifier(source=fitted, **dict(CHEAP, max_epochs=2))
    tuned.fit(X, y)
    assert not hasattr(tuned, "predict_dimensions")


def test_fine_tuned_and_adapters_multitask(fitted, data):
    X, y, D, X_test, _, D_test = data
    for cls, extra in [
        (FineTunedClassifier, {}),
        (ResidualAdapterClassifier, {"adapter_rank": 4}),
    ]:
        clf = cls(source=fitted, dimensional_weight=1.0, **extra, **CHEAP)
        clf.fit(X, y, dimensions=D)
        assert ccc_score(D_test, clf.predict_dimensions(X_test)) > 0.5, cls


def test_old_module_pickles_keep_working(data):
    # a module pickled before multi-task learning has no n_dimensions
    module = DNNClassifier(**dict(CHEAP, max_epochs=1)).fit(data[0], data[1])
    del module.net_.module_.__dict__["n_dimensions"]
    restored = pickle.loads(pickle.dumps(module))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert restored.predict_proba(data[3]).shape == (100, 2)
