# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of sklearn_prognet.preprocessing.SpeakerStandardScaler."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
)

from sklearn_prognet import SpeakerStandardScaler
from sklearn_prognet.datasets import load_emodb_features
from sklearn_prognet.model_selection import RepeatedStratifiedGroupKFold

FEATURES = ["f0", "loudness", "jitter"]


def _frame(n_per_speaker, seed=0, offset=0.0):
    """Features with a speaker-specific location and spread, speakers interleaved."""
    rng = np.random.RandomState(seed)
    speakers = np.repeat([f"s{i}" for i in range(len(n_per_speaker))], n_per_speaker)
    location = {s: rng.uniform(-5, 5, size=3) + offset for s in np.unique(speakers)}
    spread = {s: rng.uniform(0.5, 3, size=3) for s in np.unique(speakers)}
    values = np.array([location[s] + spread[s] * rng.normal(size=3) for s in speakers])
    order = rng.permutation(len(speakers))  # rows of a speaker are not contiguous
    frame = pd.DataFrame(values[order], columns=FEATURES)
    frame.insert(1, "speaker", speakers[order])  # speaker column in the middle
    frame.index = 100 + np.arange(len(frame))
    return frame


def _by_hand(frame, rows):
    """(x - mean) / std of the given rows, computed with numpy alone."""
    x = frame.loc[rows, FEATURES].to_numpy(dtype=float)
    return (x - x.mean(axis=0)) / x.std(axis=0)


@pytest.fixture(scope="module")
def train():
    return _frame([12, 15, 10], seed=0)


@pytest.fixture(scope="module")
def test():
    # Other speakers, at other locations: a leak of training statistics shows.
    return _frame([11, 13], seed=1, offset=50.0).replace(
        {"speaker": {"s0": "t0", "s1": "t1"}}
    )


# -- API ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "check",
    [
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
        check_estimator_cloneable,
        check_estimator_repr,
        check_estimator_tags_renamed,
        check_valid_tag_types,
    ],
)
def test_sklearn_api_checks(check):
    # sklearn's common checks pass plain arrays, so they skip this estimator.
    check("SpeakerStandardScaler", SpeakerStandardScaler())


def test_tags():
    tags = SpeakerStandardScaler().__sklearn_tags__()
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.string is True
    assert tags.requires_fit is True


def test_fitted_attributes(train):
    scaler = SpeakerStandardScaler()
    assert scaler.fit(train) is scaler
    assert scaler.n_features_in_ == 4
    assert list(scaler.feature_names_in_) == ["f0", "speaker", "loudness", "jitter"]
    x = train[FEATURES].to_numpy()
    np.testing.assert_allclose(scaler.mean_, x.mean(axis=0))
    np.testing.assert_allclose(scaler.scale_, x.std(axis=0))
    assert list(scaler.get_feature_names_out()) == FEATURES


def test_unfitted_raises(train):
    with pytest.raises(NotFittedError):
        SpeakerStandardScaler().transform(train)
    with pytest.raises(NotFittedError):
        SpeakerStandardScaler().get_feature_names_out()


def test_pickle_clone_and_refit(train, test):
    scaler = SpeakerStandardScaler().fit(train)
    expected = scaler.transform(test)
    restored = pickle.loads(pickle.dumps(scaler))
    np.testing.assert_array_equal(restored.transform(test), expected)
    cloned = clone(scaler)
    assert not hasattr(cloned, "mean_")
    assert cloned.get_params() == scaler.get_params()
    np.testing.assert_array_equal(cloned.fit(train).transform(test), expected)
    np.testing.assert_array_equal(scaler.fit(train).transform(test), expected)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"min_samples": 1}, "min_samples"),
        ({"min_samples": 2.5}, "min_samples"),
        ({"with_mean": "yes"}, "with_mean"),
        ({"with_std": None}, "with_std"),
        ({"speaker_column": None}, "speaker_column"),
    ],
)
def test_invalid_parameters(train, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        SpeakerStandardScaler(**params).fit(train)


# -- what it computes ---------------------------------------------------------


def test_each_speaker_uses_only_its_own_rows(train, test):
    scaler = SpeakerStandardScaler().fit(train)
    out = scaler.transform(test)
    for speaker in ("t0", "t1"):
        rows = (test["speaker"] == speaker).to_numpy()
        np.testing.assert_allclose(out[rows], _by_hand(test, test.index[rows]))


def test_no_leak_from_training_or_other_test_rows(train, test):
    # The output for a test speaker depends neither on the training data nor
    # on the other speakers transformed with it.
    out = SpeakerStandardScaler().fit(train).transform(test)
    other_train = _frame([20, 20], seed=7, offset=-30.0)
    out_other = SpeakerStandardScaler().fit(other_train).transform(test)
    np.testing.assert_allclose(out, out_other)
    rows = (test["speaker"] == "t1").to_numpy()
    alone = SpeakerStandardScaler().fit(train).transform(test[rows])
    np.testing.assert_allclose(alone, out[rows])


def test_fallback_uses_training_statistics_only(train, test):
    small = pd.concat([test, test.iloc[:3].assign(speaker="few")])
    few = (small["speaker"] == "few").to_numpy()
    scaler = SpeakerStandardScaler(min_samples=5).fit(train)
    with pytest.warns(UserWarning, match=r"1 speaker\(s\).*'few' \(3 rows\)"):
        out = scaler.transform(small)
    x_train = train[FEATURES].to_numpy()
    x_few = small.loc[few, FEATURES].to_numpy()
    expected = (x_few - x_train.mean(axis=0)) / x_train.std(axis=0)
    np.testing.assert_allclose(out[few], expected)
    # The other speakers are unaffected by the small one.
    np.testing.assert_allclose(out[~few], scaler.transform(test))


def test_min_samples_boundary(train):
    scaler = SpeakerStandardScaler(min_samples=10).fit(train)
    ten = (train["speaker"] == "s2").to_numpy()  # exactly 10 rows
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = scaler.transform(train)
    np.testing.assert_allclose(out[ten], _by_hand(train, train.index[ten]))
    with pytest.warns(UserWarning, match="min_samples=11"):
        scaler.set_params(min_samples=11).fit(train).transform(train)


def test_one_row_prediction_falls_back(train):
    scaler = SpeakerStandardScaler().fit(train)
    with pytest.warns(UserWarning, match="fewer than min_samples=10"):
        out = scaler.transform(train.iloc[:1])
    x = train[FEATURES].to_numpy()
    np.testing.assert_allclose(out, (x[:1] - x.mean(axis=0)) / x.std(axis=0))


@pytest.mark.parametrize("with_mean", [True, False])
@pytest.mark.parametrize("with_std", [True, False])
def test_with_mean_with_std(train, with_mean, with_std):
    out = (
        SpeakerStandardScaler(with_mean=with_mean, with_std=with_std)
        .fit(train)
        .transform(train)
    )
    for speaker in ("s0", "s1", "s2"):
        rows = (train["speaker"] == speaker).to_numpy()
        x = train.loc[rows, FEATURES].to_numpy()
        expected = x - x.mean(axis=0) if with_mean else x.copy()
        if with_std:
            expected /= x.std(axis=0)
        np.testing.assert_allclose(out[rows], expected)


def test_constant_feature_within_a_speaker_is_not_scaled(train):
    frame = train.copy()
    rows = (frame["speaker"] == "s1").to_numpy()
    frame.loc[rows, "jitter"] = 0.3
    out = SpeakerStandardScaler().fit(frame).transform(frame)
    # Centred to 0 and scaled by 1, like StandardScaler: no NaN or inf, and
    # the rounding error of the mean is not blown up by a tiny scale.
    np.testing.assert_allclose(out[rows, 2], 0.0, atol=1e-12)
    assert np.isfinite(out).all()


def test_output_keeps_row_order_and_set_output(train):
    scaler = SpeakerStandardScaler().set_output(transform="pandas").fit(train)
    out = scaler.transform(train)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == FEATURES
    pd.testing.assert_index_equal(out.index, train.index)
    plain = SpeakerStandardScaler().fit(train).transform(train)
    np.testing.assert_array_equal(out.to_numpy(), plain)
    # Row i of the output belongs to row i of the input.
    rows = (train["speaker"] == "s0").to_numpy()
    np.testing.assert_allclose(plain[rows], _by_hand(train, train.index[rows]))


def test_get_feature_names_out_input_features(train):
    scaler = SpeakerStandardScaler().fit(train)
    names = scaler.get_feature_names_out(["f0", "speaker", "loudness", "jitter"])
    assert list(names) == FEATURES
    with pytest.raises(ValueError, match="input_features"):
        scaler.get_feature_names_out(["a", "b", "c", "d"])


def test_unnamed_columns():
    frame = pd.DataFrame(np.arange(24.0).reshape(8, 3))
    frame[3] = ["a"] * 4 + ["b"] * 4
    scaler = SpeakerStandardScaler(speaker_column=3, min_samples=2).fit(frame)
    assert list(scaler.get_feature_names_out()) == ["x0", "x1", "x2"]
    out = scaler.transform(frame)
    np.testing.assert_allclose(out[:, 0], np.tile((np.arange(4) - 1.5), 2) / 1.118034)


def test_float32_is_preserved(train):
    frame = train.astype(dict.fromkeys(FEATURES, np.float32))
    out = SpeakerStandardScaler().fit(frame).transform(frame)
    assert out.dtype == np.float32


# -- bad inputs ---------------------------------------------------------------


def test_plain_array_is_rejected(train):
    with pytest.raises(TypeError, match="pandas DataFrame.*speaker_column='speaker'"):
        SpeakerStandardScaler().fit(train[FEATURES].to_numpy())


def test_missing_speaker_column(train):
    with pytest.raises(ValueError, match="no speaker column speaker_column='spk'"):
        SpeakerStandardScaler(speaker_column="spk").fit(train)
    scaler = SpeakerStandardScaler().fit(train)
    with pytest.raises(ValueError, match="no speaker column"):
        scaler.transform(train.drop(columns="speaker"))


@pytest.mark.parametrize("missing", [np.nan, None])
def test_nan_speaker_ids(train, missing):
    frame = train.copy()
    frame["speaker"] = frame["speaker"].astype(object)
    frame.iloc[[2, 5], 1] = missing
    with pytest.raises(ValueError, match=r"2 missing speaker id.*\[2, 5\]"):
        SpeakerStandardScaler().fit(frame)
    scaler = SpeakerStandardScaler().fit(train)
    with pytest.raises(ValueError, match="missing speaker id"):
        scaler.transform(frame)


@pytest.mark.parametrize(
    "column, values",
    [("gender", "female"), ("is_male", True)],
)
def test_non_numeric_feature_columns(train, column, values):
    frame = train.assign(**{column: values})
    with pytest.raises(ValueError, match=f"must be numeric.*'{column}'"):
        SpeakerStandardScaler().fit(frame)


def test_no_feature_column_is_named_as_such(train):
    # not numpy's "at least one array or dtype is required"
    with pytest.raises(ValueError, match="no feature column besides the speaker"):
        SpeakerStandardScaler().fit(train[["speaker"]])


def test_nan_features_are_rejected(train):
    frame = train.copy()
    frame.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SpeakerStandardScaler().fit(frame)


def test_column_mismatch_at_transform(train):
    scaler = SpeakerStandardScaler().fit(train)
    with pytest.raises(ValueError, match="feature names"):
        scaler.transform(train.rename(columns={"jitter": "shimmer"}))
    with pytest.raises(ValueError, match="missing:\n- jitter"):
        scaler.transform(train.drop(columns="jitter"))


def test_duplicate_speaker_columns(train):
    frame = pd.concat([train, train[["speaker"]]], axis=1)
    with pytest.raises(ValueError, match="several columns named 'speaker'"):
        SpeakerStandardScaler().fit(frame)


# -- inside scikit-learn's model selection --------------------------------------


@pytest.fixture(scope="module")
def emodb():
    data = load_emodb_features(as_frame=True)
    X = data.data.assign(speaker=data.speaker.to_numpy())
    return X, data.target, data.speaker


@pytest.mark.slow
def test_pipeline_cross_validation_and_grid_search(emodb):
    X, y, speakers = emodb
    cv = RepeatedStratifiedGroupKFold(n_splits=5, n_repeats=1, random_state=0)
    model = make_pipeline(SpeakerStandardScaler(), LogisticRegression(max_iter=300))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every test speaker has enough rows
        scores = cross_val_score(
            model, X, y, groups=speakers, cv=cv, scoring="balanced_accuracy"
        )
        results = cross_validate(
            model, X, y, groups=speakers, cv=cv, scoring="balanced_accuracy"
        )
        search = GridSearchCV(model, {"logisticregression__C": [0.1, 1.0]}, cv=cv).fit(
            X, y, groups=speakers
        )
    np.testing.assert_allclose(results["test_score"], scores)
    assert scores.mean() > 0.7  # chance is 0.25
    # By hand: fold 0, each speaker standardised with numpy, then the model.
    train, test = next(cv.split(X, y, speakers))
    Z = np.empty((len(X), X.shape[1] - 1))
    features = X.drop(columns="speaker").to_numpy()
    for speaker in speakers.unique():
        rows = (speakers == speaker).to_numpy()
        Z[rows] = (features[rows] - features[rows].mean(0)) / features[rows].std(0)
    clf = LogisticRegression(max_iter=300).fit(Z[train], y.iloc[train])
    expected = balanced_accuracy_score(y.iloc[test], clf.predict(Z[test]))
    assert scores[0] == pytest.approx(expected)
    assert search.best_estimator_.predict(X.iloc[:20]).shape == (20,)
