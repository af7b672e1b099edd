# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of the Bayesian correlated t-test and McNemar's test (stats.py)."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_prognet.stats import (
    BayesianTTestResult,
    McNemarResult,
    bayesian_correlated_ttest,
    corrected_repeated_cv_ttest,
    mcnemar_test,
)

SETTINGS = settings(max_examples=40, deadline=None)


def _scores(n_splits, n_repeats, seed, shift=0.01):
    rng = np.random.RandomState(seed)
    b = rng.uniform(0.5, 0.7, size=n_splits * n_repeats)
    a = b + shift + rng.normal(scale=0.02, size=b.shape)
    return a, b


# -- Bayesian correlated t-test -----------------------------------------------


@pytest.mark.parametrize("n_splits, n_repeats", [(10, 1), (5, 2), (10, 10), (3, 4)])
@pytest.mark.parametrize("rope", [0.005, 0.01, 0.05])
@pytest.mark.parametrize("seed", [0, 1])
def test_bayesian_equals_baycomp(n_splits, n_repeats, rope, seed):
    baycomp = pytest.importorskip("baycomp")
    a, b = _scores(n_splits, n_repeats, seed)
    # baycomp assumes equal folds: n_test / n_train = 1 / (n_splits - 1).
    res = bayesian_correlated_ttest(a, b, n_train=n_splits - 1, n_test=1, rope=rope)
    p_left, p_rope, p_right = baycomp.two_on_single(a, b, rope, runs=n_repeats)
    # baycomp's differences are b - a: its "left" is model a being better.
    assert res.p_a_better == pytest.approx(p_left, abs=1e-12)
    assert res.p_rope == pytest.approx(p_rope, abs=1e-12)
    assert res.p_b_better == pytest.approx(p_right, abs=1e-12)
    mean, var, df = baycomp.CorrelatedTTest.compute_statistics(a, b, n_repeats)
    assert res.mean == pytest.approx(-mean)
    assert res.scale == pytest.approx(np.sqrt(var))
    assert res.df == df


def test_bayesian_equals_baycomp_without_rope():
    baycomp = pytest.importorskip("baycomp")
    a, b = _scores(10, 3, seed=3, shift=0.003)
    res = bayesian_correlated_ttest(a, b, n_train=9, n_test=1, rope=0)
    p_left, p_right = baycomp.two_on_single(a, b, 0, runs=3)
    assert (res.p_a_better, res.p_b_better) == pytest.approx((p_left, p_right))
    assert res.p_rope == pytest.approx(0.0, abs=1e-12)


def test_bayesian_by_hand():
    # Independent computation: Student posterior from numpy and scipy.
    d = np.array([0.021, 0.035, -0.004, 0.018, 0.027, 0.012, 0.030, 0.009])
    n_train = np.array([80, 82, 78, 80, 81, 79, 80, 80])
    n_test = 100 - n_train
    res = bayesian_correlated_ttest(0.6 + d, np.full(8, 0.6), n_train=n_train,
                                    n_test=n_test, rope=0.02)  # fmt: skip
    scale = np.sqrt((1 / 8 + 160 / 640) * d.var(ddof=1))
    t = scipy_stats.t(7, loc=d.mean(), scale=scale)
    assert res.mean == pytest.approx(d.mean())
    assert res.scale == pytest.approx(scale)
    assert res.df == 7
    assert res.p_a_better == pytest.approx(t.sf(0.02))
    assert res.p_b_better == pytest.approx(t.cdf(-0.02))
    assert res.p_rope == pytest.approx(t.cdf(0.02) - t.cdf(-0.02))
    assert res.correction == pytest.approx(1 / 8 + 0.25)
    assert res.n_differences == 8
    assert res.credible_interval(0.9) == pytest.approx(t.interval(0.9))


def test_bayesian_shares_location_and_scale_with_corrected_ttest():
    a, b = _scores(5, 4, seed=5)
    bayes = bayesian_correlated_ttest(a, b, n_train=80, n_test=20, rope=0)
    freq = corrected_repeated_cv_ttest(
        a, b, n_train=80, n_test=20, alternative="greater"
    )
    assert bayes.mean == pytest.approx(freq.mean_difference)
    assert bayes.scale == pytest.approx(freq.standard_error)
    # With a flat prior, P(mu < 0) is the one-sided p-value of "a is better".
    assert bayes.p_b_better == pytest.approx(freq.pvalue)


@SETTINGS
@given(
    st.integers(2, 25).flatmap(
        lambda n: st.tuples(
            st.lists(st.floats(0, 1), min_size=n, max_size=n),
            st.lists(st.floats(0, 1), min_size=n, max_size=n),
        )
    ),
    st.floats(0, 0.1),
)
def test_bayesian_properties(scores, rope):
    a, b = scores
    res = bayesian_correlated_ttest(a, b, n_train=9, n_test=1, rope=rope)
    swapped = bayesian_correlated_ttest(b, a, n_train=9, n_test=1, rope=rope)
    probs = np.array([res.p_a_better, res.p_rope, res.p_b_better])
    assert np.all((probs >= 0) & (probs <= 1))
    assert probs.sum() == pytest.approx(1.0)
    assert swapped.mean == pytest.approx(-res.mean)
    assert swapped.p_a_better == pytest.approx(res.p_b_better, abs=1e-12)
    assert swapped.p_rope == pytest.approx(res.p_rope, abs=1e-12)


@pytest.mark.parametrize(
    "difference, expected",
    [
        (0.25, (0.0, 1.0, 0.0)),  # exactly on the ROPE's edge: equivalent
        (0.375, (1.0, 0.0, 0.0)),
        (-0.375, (0.0, 0.0, 1.0)),
        (0.0, (0.0, 1.0, 0.0)),
    ],
)
def test_bayesian_all_differences_equal(difference, expected):
    # Exactly representable numbers, so the differences are exactly equal.
    b = np.array([0.25, 0.5, 0.125, 0.375])
    res = bayesian_correlated_ttest(b + difference, b, n_train=3, n_test=1, rope=0.25)
    assert (res.p_a_better, res.p_rope, res.p_b_better) == expected
    assert res.scale == 0.0
    assert res.mean == difference
    assert res.credible_interval() == (difference, difference)


def test_bayesian_zero_variance_matches_baycomp():
    baycomp = pytest.importorskip("baycomp")
    b = np.array([0.25, 0.5, 0.125, 0.375])
    for difference in (0.375, -0.375, 0.125):
        res = bayesian_correlated_ttest(
            b + difference, b, n_train=3, n_test=1, rope=0.25
        )
        probs = baycomp.two_on_single(b + difference, b, 0.25)
        assert (res.p_a_better, res.p_rope, res.p_b_better) == pytest.approx(probs)


def test_bayesian_result_is_frozen_and_2d_scores_flatten():
    a, b = _scores(5, 2, seed=0)
    res = bayesian_correlated_ttest(
        a.reshape(2, 5), b.reshape(2, 5), n_train=4, n_test=1
    )
    assert isinstance(res, BayesianTTestResult)
    assert res == bayesian_correlated_ttest(a, b, n_train=4, n_test=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.mean = 0.0


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"scores_b": np.zeros(5)}, ValueError, "same splits"),
        ({"scores_a": np.zeros(4).reshape(2, 2)}, ValueError, "same layout"),
        ({"scores_a": [np.nan, 0.1, 0.2, 0.3]}, ValueError, "finite"),
        ({"scores_a": [0.5], "scores_b": [0.4]}, ValueError, "At least 2"),
        ({"rope": -0.01}, InvalidParameterError, "rope"),
        ({"n_train": 0}, InvalidParameterError, "n_train"),
        ({"n_test": [1, 2]}, ValueError, "one value per score"),
    ],
)
def test_bayesian_bad_inputs(kwargs, error, match):
    params = {
        "scores_a": [0.6, 0.7, 0.65, 0.62],
        "scores_b": [0.5, 0.6, 0.66, 0.6],
        "n_train": 9,
        "n_test": 1,
        **kwargs,
    }
    with pytest.raises(error, match=match):
        bayesian_correlated_ttest(**params)


@pytest.mark.parametrize("credibility", [0, 1, 1.5])
def test_credible_interval_bad_level(credibility):
    res = bayesian_correlated_ttest(
        [0.6, 0.7, 0.65], [0.5, 0.6, 0.7], n_train=9, n_test=1
    )
    with pytest.raises(ValueError, match="credibility"):
        res.credible_interval(credibility)


# -- McNemar's test -------------------------------------------------------------


def _predictions(n_a_only, n_b_only, n_both=30, n_neither=10, labels=(0, 1)):
    """Labels and two models' predictions with the given discordant counts."""
    right, wrong = labels
    blocks = [
        (n_both, right, right),
        (n_a_only, right, wrong),
        (n_b_only, wrong, right),
        (n_neither, wrong, wrong),
    ]
    y_pred_a = np.concatenate([np.full(n, a, dtype=object) for n, a, _ in blocks])
    y_pred_b = np.concatenate([np.full(n, b, dtype=object) for n, _, b in blocks])
    y_true = np.full(len(y_pred_a), right, dtype=object)
    return y_true, y_pred_a, y_pred_b


def test_mcnemar_textbook_chi2():
    # Agresti (2007), "An Introduction to Categorical Data Analysis", Table 8.1:
    # approval of the Prime Minister in two surveys of the same 1600 people,
    # 150 approve -> disapprove and 86 disapprove -> approve. Uncorrected
    # z^2 = 64^2 / 236 = 17.36; corrected (63)^2 / 236 = 16.82.
    res = mcnemar_test(*_predictions(150, 86, n_both=794, n_neither=570))
    assert (res.n_a_only, res.n_b_only, res.exact) == (150, 86, False)
    assert res.statistic == pytest.approx(3969 / 236)
    assert res.statistic == pytest.approx(16.82, abs=0.005)
    assert res.pvalue == pytest.approx(scipy_stats.chi2.sf(3969 / 236, 1))
    assert 4.0e-5 < res.pvalue < 4.2e-5


def test_mcnemar_textbook_exact():
    # b = 10, c = 2: P(X <= 2) for X ~ Bin(12, 1/2) is (1 + 12 + 66) / 4096.
    res = mcnemar_test(*_predictions(10, 2))
    assert res.exact is True
    assert res.statistic == 2
    assert res.pvalue == pytest.approx(2 * 79 / 4096)


@pytest.mark.parametrize("n_a_only, n_b_only", [(0, 5), (3, 9), (12, 12), (7, 1)])
def test_mcnemar_exact_equals_binomtest(n_a_only, n_b_only):
    res = mcnemar_test(*_predictions(n_a_only, n_b_only))
    expected = scipy_stats.binomtest(n_a_only, n_a_only + n_b_only, 0.5).pvalue
    assert res.exact is True
    assert res.pvalue == pytest.approx(expected)


@pytest.mark.parametrize("n_a_only, n_b_only", [(20, 5), (13, 40), (100, 91)])
def test_mcnemar_chi2_equals_statsmodels_formula(n_a_only, n_b_only):
    # statsmodels.stats.contingency_tables.mcnemar(exact=False, correction=True)
    res = mcnemar_test(*_predictions(n_a_only, n_b_only))
    statistic = (abs(n_a_only - n_b_only) - 1) ** 2 / (n_a_only + n_b_only)
    assert res.exact is False
    assert res.statistic == pytest.approx(statistic)
    assert res.pvalue == pytest.approx(scipy_stats.chi2.sf(statistic, 1))


def test_mcnemar_rule_of_25_and_override():
    assert mcnemar_test(*_predictions(16, 8)).exact is True  # 24 discordant
    assert mcnemar_test(*_predictions(17, 8)).exact is False  # 25
    res = mcnemar_test(*_predictions(17, 8), exact=True)
    assert res.exact is True
    assert res.pvalue == pytest.approx(scipy_stats.binomtest(8, 25).pvalue)
    res = mcnemar_test(*_predictions(16, 8), exact=False)
    assert res.statistic == pytest.approx(49 / 24)


def test_mcnemar_equal_counts_and_no_disagreement():
    res = mcnemar_test(*_predictions(20, 20))
    assert (res.statistic, res.pvalue, res.exact) == (0.0, 1.0, False)
    res = mcnemar_test(*_predictions(0, 0))
    assert (res.statistic, res.pvalue, res.n_a_only, res.n_b_only) == (0.0, 1.0, 0, 0)
    assert mcnemar_test(*_predictions(0, 0), exact=False).pvalue == 1.0


def test_mcnemar_multiclass_string_labels_and_symmetry():
    y_true = np.array(["angry", "sad", "happy", "neutral", "sad", "angry", "happy"])
    y_pred_a = np.array(["angry", "sad", "sad", "neutral", "sad", "happy", "happy"])
    y_pred_b = np.array(["sad", "sad", "happy", "angry", "happy", "happy", "happy"])
    # a right, b wrong: 0, 3, 4; b right, a wrong: 2.
    res = mcnemar_test(y_true, y_pred_a, y_pred_b)
    assert (res.n_a_only, res.n_b_only) == (3, 1)
    assert res.pvalue == pytest.approx(2 * 5 / 16)
    swapped = mcnemar_test(list(y_true), list(y_pred_b), list(y_pred_a))
    assert (swapped.n_a_only, swapped.n_b_only) == (1, 3)
    assert swapped.pvalue == res.pvalue
    assert isinstance(res, McNemarResult)


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        (([0, 1, 1], [0, 1], [0, 1, 1]), {}, ValueError, "same length"),
        (([[0, 1]], [[0, 1]], [[0, 1]]), {}, ValueError, "1-D"),
        (([0, 1], [0, 1], [1, 1]), {"exact": "yes"}, InvalidParameterError, "exact"),
        ((3, [0], [1]), {}, InvalidParameterError, "y_true"),
    ],
)
def test_mcnemar_bad_inputs(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        mcnemar_test(*args, **kwargs)
