# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of sklearn_prognet.stats and sklearn_prognet.metrics."""

import dataclasses
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats
from sklearn.dummy import DummyClassifier
from sklearn.metrics import balanced_accuracy_score, recall_score
from sklearn.model_selection import cross_val_score, cross_validate
from sklearn.neighbors import NearestCentroid
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_prognet.metrics import uar_score, uar_scorer
from sklearn_prognet.model_selection import RepeatedStratifiedGroupKFold, cv_fold_sizes
from sklearn_prognet.stats import (
    CorrectedTTestResult,
    _corrected_ttest,
    compare_cv_results,
    corrected_repeated_cv_ttest,
    summarize_repeated_cv,
)

SETTINGS = settings(max_examples=40, deadline=None)
ALTERNATIVES = ["two-sided", "greater", "less"]

# Worked example: 5 folds x 2 repeats, n_train=80, n_test=20.
DIFFS = np.array(
    [0.021, 0.035, -0.004, 0.018, 0.027, 0.012, 0.030, 0.009, 0.024, 0.016]
)

scores_strategy = st.integers(2, 30).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(0, 1), min_size=n, max_size=n),
        st.lists(st.floats(0, 1), min_size=n, max_size=n),
    )
)


# -- worked example and reference implementations -----------------------------


def test_worked_example():
    b = np.full(10, 0.6)
    res = corrected_repeated_cv_ttest(b + DIFFS, b, n_train=80, n_test=20)
    assert isinstance(res, CorrectedTTestResult)
    assert res.statistic == pytest.approx(2.802, abs=5e-4)
    assert res.pvalue == pytest.approx(0.0206, abs=5e-5)
    assert res.df == 9 and res.n_differences == 10
    assert res.correction == pytest.approx(0.1 + 0.25)
    assert res.mean_difference == pytest.approx(0.0188)
    # uncorrected: the ordinary paired t-test
    uncorrected = _corrected_ttest(DIFFS, 0.0)
    assert uncorrected.statistic == pytest.approx(5.242, abs=5e-4)
    # one-sided p-values are halves of the two-sided one
    for alternative, p in (("greater", res.pvalue / 2), ("less", 1 - res.pvalue / 2)):
        one_sided = corrected_repeated_cv_ttest(
            b + DIFFS, b, n_train=80, n_test=20, alternative=alternative
        )
        assert one_sided.pvalue == pytest.approx(p)


@SETTINGS
@given(
    d=st.lists(st.floats(-1, 1), min_size=2, max_size=40),
    alternative=st.sampled_from(ALTERNATIVES),
)
def test_zero_correction_equals_ttest_1samp(d, alternative):
    d = np.array(d)
    res = _corrected_ttest(d, 0.0, alternative=alternative)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        # scipy warns about precision loss for nearly identical values
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = scipy_stats.ttest_1samp(d, 0.0, alternative=alternative)
    if np.all(d == d[0]) or not np.isfinite(ref.statistic):
        # zero variance: scipy divides by zero; our edge case is tested below
        assert res.standard_error == 0.0 or np.all(d == d[0])
        return
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-9, abs=1e-12)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)
    assert res.df == ref.df


def test_zero_correction_confidence_interval_matches_scipy():
    for alternative in ALTERNATIVES:
        res = _corrected_ttest(DIFFS, 0.0, alternative=alternative)
        ref = scipy_stats.ttest_1samp(DIFFS, 0.0, alternative=alternative)
        ci = ref.confidence_interval(0.9)
        np.testing.assert_allclose(res.confidence_interval(0.9), (ci.low, ci.high))


# -- properties ---------------------------------------------------------------


# the properties hold for any sizes; n_train < n_test warns (tested below)
@pytest.mark.filterwarnings("ignore:n_train is smaller than n_test")
@SETTINGS
@given(
    scores=scores_strategy,
    n_train=st.integers(1, 1000),
    n_test=st.integers(1, 1000),
)
def test_swapping_models(scores, n_train, n_test):
    a, b = map(np.array, scores)
    kw = {"n_train": n_train, "n_test": n_test}
    ab = {
        alt: corrected_repeated_cv_ttest(a, b, alternative=alt, **kw)
        for alt in ALTERNATIVES
    }
    ba = {
        alt: corrected_repeated_cv_ttest(b, a, alternative=alt, **kw)
        for alt in ALTERNATIVES
    }
    for alt in ALTERNATIVES:
        assert 0.0 <= ab[alt].pvalue <= 1.0
        assert ab[alt].statistic == pytest.approx(-ba[alt].statistic)
    assert ab["two-sided"].pvalue == pytest.approx(ba["two-sided"].pvalue)
    assert ab["greater"].pvalue == pytest.approx(ba["less"].pvalue)
    assert ab["less"].pvalue == pytest.approx(ba["greater"].pvalue)
    # the corrected test is never more significant than the uncorrected one
    d = a - b
    uncorrected = _corrected_ttest(d, 0.0)
    assert ab["two-sided"].pvalue >= uncorrected.pvalue - 1e-12
    # two-sided p = 2 * smaller one-sided p (except with zero variance)
    if not np.all(d == d[0]):
        smaller = min(ab["greater"].pvalue, ab["less"].pvalue)
        assert ab["two-sided"].pvalue == pytest.approx(min(1.0, 2 * smaller))


@pytest.mark.parametrize("value", [0.0, 0.03, -0.03])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_all_equal_differences(value, alternative):
    b = np.linspace(0.5, 0.7, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division warnings
        res = _corrected_ttest(np.full(10, value), 0.25, alternative=alternative)
        via_api = corrected_repeated_cv_ttest(
            np.full(10, 0.6), np.full(10, 0.6), n_train=8, n_test=2
        )
    assert res.standard_error == 0.0
    assert via_api.pvalue == 1.0 and via_api.statistic == 0.0
    if value == 0:
        assert res.statistic == 0.0 and res.pvalue == 1.0
        return
    assert res.statistic == np.copysign(np.inf, value)
    expected = {
        "two-sided": 0.0,
        "greater": 0.0 if value > 0 else 1.0,
        "less": 0.0 if value < 0 else 1.0,
    }[alternative]
    assert res.pvalue == expected
    assert np.isfinite(b).all()


def test_per_fold_sizes_use_ratio_of_sums():
    b = np.full(10, 0.6)
    n_train = np.array([80, 78, 82, 79, 81] * 2)
    n_test = 100 - n_train
    res = corrected_repeated_cv_ttest(b + DIFFS, b, n_train=n_train, n_test=n_test)
    ref = corrected_repeated_cv_ttest(
        b + DIFFS, b, n_train=n_train.sum(), n_test=n_test.sum()
    )
    assert res.statistic == pytest.approx(ref.statistic)
    # a scalar and a constant array agree; 2-D scores are flattened
    res2 = corrected_repeated_cv_ttest(
        (b + DIFFS).reshape(2, 5), b.reshape(2, 5), n_train=[80] * 10, n_test=20
    )
    assert res2.statistic == pytest.approx(2.802, abs=5e-4)


def test_df_override_reproduces_paper_setting():
    b = np.full(10, 0.6)
    res = corrected_repeated_cv_ttest(b + DIFFS, b, n_train=80, n_test=20, df=10)
    assert res.df == 10
    assert res.pvalue == pytest.approx(2 * scipy_stats.t.sf(res.statistic, 10))
    assert res.pvalue < 0.0206


def test_result_is_frozen_and_interval_is_consistent():
    b = np.full(10, 0.6)
    res = corrected_repeated_cv_ttest(b + DIFFS, b, n_train=80, n_test=20)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.pvalue = 0.5
    low, high = res.confidence_interval(1 - res.pvalue)
    # the (1 - p) interval just touches zero
    assert low == pytest.approx(0.0, abs=1e-12)
    assert high > res.mean_difference
    greater = corrected_repeated_cv_ttest(
        b + DIFFS, b, n_train=80, n_test=20, alternative="greater"
    )
    assert greater.confidence_interval()[1] == np.inf
    with pytest.raises(ValueError, match="confidence_level must be in"):
        res.confidence_interval(1.5)


# -- bad parameters -----------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"alternative": "bigger"}, InvalidParameterError, "'alternative' parameter"),
        ({"n_train": 0}, InvalidParameterError, "'n_train' parameter"),
        ({"n_test": -5}, InvalidParameterError, "'n_test' parameter"),
        ({"n_train": "80"}, InvalidParameterError, "'n_train' parameter"),
        ({"df": 0}, InvalidParameterError, "'df' parameter"),
        ({"n_train": [80, 80]}, ValueError, r"one value per score \(3\)"),
        ({"n_test": [1, 0, 1]}, ValueError, "n_test must be positive"),
        ({"scores_b": [0.1, 0.2]}, ValueError, r"got shapes \(3,\) and \(2,\)"),
        (
            {"scores_a": np.ones((2, 3)), "scores_b": np.ones((3, 2))},
            ValueError,
            r"same layout; got shapes \(2, 3\) and \(3, 2\)",
        ),
        ({"scores_a": [0.1, np.nan, 0.3]}, ValueError, "scores_a must be finite"),
        ({"scores_a": [0.1], "scores_b": [0.2]}, ValueError, "At least 2"),
    ],
)
def test_bad_parameters_rejected(kwargs, error, match):
    params = {
        "scores_a": [0.1, 0.2, 0.3],
        "scores_b": [0.1, 0.3, 0.2],
        "n_train": 80,
        "n_test": 20,
        **kwargs,
    }
    with pytest.raises(error, match=match):
        corrected_repeated_cv_ttest(
            params.pop("scores_a"), params.pop("scores_b"), **params
        )


# -- compare_cv_results and the splitter --------------------------------------


@pytest.fixture(scope="module")
def two_cv_results(small_data):
    X, y, groups = small_data
    cv = RepeatedStratifiedGroupKFold(n_splits=3, n_repeats=3, random_state=0)
    kw = {"cv": cv, "groups": groups, "scoring": "balanced_accuracy"}
    res_a = cross_validate(NearestCentroid(), X, y, return_indices=True, **kw)
    res_b = cross_validate(DummyClassifier(), X, y, return_indices=True, **kw)
    return res_a, res_b, cv


def test_compare_cv_results(small_data, two_cv_results):
    X, y, groups = small_data
    res_a, res_b, cv = two_cv_results
    res = compare_cv_results(res_a, res_b, alternative="greater")
    n_train, n_test = cv_fold_sizes(cv, X, y, groups)
    ref = corrected_repeated_cv_ttest(
        res_a["test_score"],
        res_b["test_score"],
        n_train=n_train,
        n_test=n_test,
        alternative="greater",
    )
    assert res == ref
    assert res.n_differences == 9 and res.pvalue < 0.01
    # by hand: the sizes are read from the indices, n_test over n_train
    d = res_a["test_score"] - res_b["test_score"]
    ratio = sum(map(len, res_a["indices"]["test"])) / sum(
        map(len, res_a["indices"]["train"])
    )
    assert ratio == pytest.approx(1 / 2, abs=0.1)  # 3 folds: a third tests
    t = d.mean() / np.sqrt((1 / 9 + ratio) * d.var(ddof=1))
    assert res.statistic == pytest.approx(t)
    assert res.pvalue == pytest.approx(scipy_stats.t.sf(t, 8))


def test_compare_cv_results_errors(small_data, two_cv_results):
    X, y, groups = small_data
    res_a, res_b, _ = two_cv_results
    other_cv = RepeatedStratifiedGroupKFold(n_splits=3, n_repeats=3, random_state=1)
    res_c = cross_validate(
        DummyClassifier(), X, y, cv=other_cv, groups=groups, return_indices=True
    )
    with pytest.raises(ValueError, match="different splits"):
        compare_cv_results(res_a, res_c)
    no_indices = {k: v for k, v in res_b.items() if k != "indices"}
    with pytest.raises(ValueError, match="return_indices=True"):
        compare_cv_results(res_a, no_indices)
    with pytest.raises(ValueError, match="has no 'test_uar'"):
        compare_cv_results(res_a, res_b, score_key="test_uar")
    with pytest.raises(InvalidParameterError, match="'cv_results_a' parameter"):
        compare_cv_results([0.1, 0.2], res_b)


# -- summarize_repeated_cv ----------------------------------------------------


def test_summarize_repeated_cv():
    rng = np.random.RandomState(0)
    scores = rng.uniform(0.5, 0.7, size=(10, 10))
    summary = summarize_repeated_cv(scores.ravel(), n_repeats=10)
    assert summary.mean == pytest.approx(scores.mean())
    assert summary.std == pytest.approx(scores.std(axis=1, ddof=1).mean())
    assert (summary.n_repeats, summary.n_splits) == (10, 10)
    np.testing.assert_allclose(summary.repeat_means, scores.mean(axis=1))
    from_2d = summarize_repeated_cv(scores)
    assert (from_2d.mean, from_2d.std) == (summary.mean, summary.std)
    pop = summarize_repeated_cv(scores, ddof=0)
    assert pop.std == pytest.approx(scores.std(axis=1).mean())
    assert str(summarize_repeated_cv([0.6, 0.7, 0.6, 0.8], 2)) == "0.675±0.106"


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        (([0.1, 0.2, 0.3],), {}, ValueError, "n_repeats is required"),
        (([0.1, 0.2, 0.3], 2), {}, ValueError, "not a multiple of n_repeats=2"),
        (([[0.1, 0.2], [0.3, 0.4]], 3), {}, ValueError, "does not match the 2 rows"),
        (([0.1, 0.2], 2), {}, ValueError, "more than ddof=1"),
        (([0.1, np.inf], 1), {}, ValueError, "must be finite"),
        ((np.zeros((2, 2, 2)),), {}, ValueError, "1-D or 2-D"),
        (([0.1, 0.2], 0), {}, InvalidParameterError, "'n_repeats' parameter"),
        (([0.1, 0.2], 1), {"ddof": -1}, InvalidParameterError, "'ddof' parameter"),
    ],
)
def test_summarize_bad_parameters(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        summarize_repeated_cv(*args, **kwargs)


# -- UAR ----------------------------------------------------------------------


def test_uar_is_balanced_accuracy_and_macro_recall(small_data):
    X, y, groups = small_data
    rng = np.random.RandomState(0)
    y_pred = np.where(rng.uniform(size=len(y)) < 0.3, (y + 1) % 3, y)
    uar = uar_score(y, y_pred)
    assert uar == pytest.approx(balanced_accuracy_score(y, y_pred))
    assert uar == pytest.approx(recall_score(y, y_pred, average="macro"))
    # imbalanced labels, where UAR and accuracy differ: recalls 3/4 and 1/2
    assert uar_score([0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 0]) == pytest.approx(0.625)
    cv = RepeatedStratifiedGroupKFold(n_splits=3, n_repeats=1, random_state=0)
    kw = {"cv": cv, "groups": groups}
    np.testing.assert_allclose(
        cross_val_score(NearestCentroid(), X, y, scoring=uar_scorer, **kw),
        cross_val_score(NearestCentroid(), X, y, scoring="balanced_accuracy", **kw),
    )


def test_swapped_sizes_warn():
    a, b = np.linspace(0.6, 0.8, 10), np.linspace(0.5, 0.75, 10)
    expected = r"n_train is smaller than n_test \(20 vs 80 .*look swapped"
    with pytest.warns(UserWarning, match=expected) as rec:
        swapped = corrected_repeated_cv_ttest(a, b, n_train=20, n_test=80)
    assert rec[0].filename == __file__
    # per-split sizes are compared by their sums
    with pytest.warns(UserWarning, match="swapped"):
        corrected_repeated_cv_ttest(a, b, n_train=[20] * 10, n_test=[80] * 10)
    # the usual k-fold setting (and 2-fold, n_train == n_test) is quiet
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        usual = corrected_repeated_cv_ttest(a, b, n_train=80, n_test=20)
        corrected_repeated_cv_ttest(a, b, n_train=50, n_test=50)
    # the warning changes nothing in the result
    assert swapped.pvalue > usual.pvalue
