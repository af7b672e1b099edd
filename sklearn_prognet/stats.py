# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Statistics for comparing models evaluated by repeated cross-validation.

- :func:`corrected_repeated_cv_ttest`: the corrected repeated
  cross-validation paired t-test (Nadeau and Bengio 2003; Bouckaert and
  Frank 2004), used by Gideon et al. (2017) to compare models;
- :func:`compare_cv_results`: the same test on two
  :func:`~sklearn.model_selection.cross_validate` results, with the fold sizes
  read from them;
- :func:`summarize_repeated_cv`: mean score and mean within-repeat standard
  deviation, as reported in the paper's Table 2.

This module only needs numpy and scipy.
"""

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy import stats as _scipy_stats

from sklearn_prognet.utils._compat import Interval, StrOptions, validate_params
from sklearn_prognet.utils._warnings import warn

__all__ = [
    "CorrectedTTestResult",
    "RepeatedCVSummary",
    "compare_cv_results",
    "corrected_repeated_cv_ttest",
    "summarize_repeated_cv",
]

_ALTERNATIVES = {"two-sided", "greater", "less"}


@dataclass(frozen=True)
class CorrectedTTestResult:
    """Result of :func:`corrected_repeated_cv_ttest`.

    The field names ``statistic``, ``pvalue`` and ``df`` are those of
    :func:`scipy.stats.ttest_1samp`'s result.

    .. versionadded:: 0.1

    Parameters
    ----------
    statistic : float
        The corrected t statistic. Positive when the first model scores
        higher on average. ``+inf`` or ``-inf`` when all differences are equal
        and non-zero, ``0.0`` when they are all zero.
    pvalue : float
        The p-value for the chosen alternative hypothesis.
    df : float
        Degrees of freedom of the t distribution used for the p-value.
    mean_difference : float
        Mean of the paired score differences ``scores_a - scores_b``.
    standard_error : float
        Corrected standard error of the mean difference,
        ``sqrt(correction * var(differences, ddof=1))``.
    correction : float
        The variance factor ``1 / n_differences + n_test / n_train``; the
        uncorrected paired t-test uses ``1 / n_differences`` alone.
    n_differences : int
        Number of paired differences (``n_splits * n_repeats``).
    alternative : {'two-sided', 'greater', 'less'}
        The alternative hypothesis that was tested.

    See Also
    --------
    corrected_repeated_cv_ttest : Computes this result.

    Examples
    --------
    >>> from sklearn_prognet.stats import corrected_repeated_cv_ttest
    >>> res = corrected_repeated_cv_ttest(
    ...     [0.80, 0.82, 0.79, 0.85], [0.78, 0.80, 0.79, 0.81], n_train=75, n_test=25)
    >>> round(res.statistic, 3), round(res.pvalue, 3), res.df
    (1.604, 0.207, 3.0)
    """

    statistic: float
    pvalue: float
    df: float
    mean_difference: float
    standard_error: float
    correction: float
    n_differences: int
    alternative: str

    def confidence_interval(self, confidence_level=0.95):
        """Confidence interval for the mean score difference.

        The interval uses the corrected standard error and is one-sided when
        the test was, like the confidence interval of
        :func:`scipy.stats.ttest_1samp`'s result.

        Parameters
        ----------
        confidence_level : float, default=0.95
            Confidence level, in (0, 1).

        Returns
        -------
        low : float
            Lower bound (``-inf`` for ``alternative='less'``).
        high : float
            Upper bound (``inf`` for ``alternative='greater'``).

        See Also
        --------
        corrected_repeated_cv_ttest : Computes the result.

        Examples
        --------
        >>> from sklearn_prognet.stats import corrected_repeated_cv_ttest
        >>> res = corrected_repeated_cv_ttest(
        ...     [0.80, 0.82, 0.79, 0.85], [0.78, 0.80, 0.79, 0.81],
        ...     n_train=75, n_test=25)
        >>> low, high = res.confidence_interval(0.95)
        >>> round(low, 3), round(high, 3)
        (-0.02, 0.06)
        """
        if not 0 < confidence_level < 1:
            raise ValueError(
                "confidence_level must be in (0, 1); got "
                f"confidence_level={confidence_level!r}."
            )
        m, se = self.mean_difference, self.standard_error
        if self.alternative == "two-sided":
            q = _scipy_stats.t.ppf(0.5 + confidence_level / 2, self.df)
            return float(m - q * se), float(m + q * se)
        q = _scipy_stats.t.ppf(confidence_level, self.df)
        if self.alternative == "greater":
            return float(m - q * se), float(np.inf)
        return float(-np.inf), float(m + q * se)


def _corrected_ttest(
    differences, test_train_ratio, *, alternative="two-sided", df=None
):
    """Core of the corrected t-test on validated 1-D differences.

    With ``test_train_ratio=0`` this is the ordinary one-sample t-test of the
    differences against zero (:func:`scipy.stats.ttest_1samp`).
    """
    n = len(differences)
    df = float(n - 1 if df is None else df)
    correction = 1.0 / n + float(test_train_ratio)
    mean = float(np.mean(differences))
    common = {
        "df": df,
        "mean_difference": mean,
        "correction": correction,
        "n_differences": n,
        "alternative": alternative,
    }
    variance = float(np.var(differences, ddof=1))
    if np.all(differences == differences[0]) or variance == 0:
        # Zero variance (all differences equal, or a variance that underflows):
        # the t statistic is 0/0 or +-x/0. Decide by the sign of the mean,
        # without dividing (no RuntimeWarning).
        if mean == 0:
            return CorrectedTTestResult(
                statistic=0.0, pvalue=1.0, standard_error=0.0, **common
            )
        statistic = float(np.copysign(np.inf, mean))
        if alternative == "two-sided":
            pvalue = 0.0
        elif alternative == "greater":
            pvalue = 0.0 if mean > 0 else 1.0
        else:
            pvalue = 0.0 if mean < 0 else 1.0
        return CorrectedTTestResult(
            statistic=statistic, pvalue=pvalue, standard_error=0.0, **common
        )

    standard_error = float(np.sqrt(correction * variance))
    statistic = mean / standard_error
    if alternative == "two-sided":
        pvalue = 2 * _scipy_stats.t.sf(abs(statistic), df)
    elif alternative == "greater":
        pvalue = _scipy_stats.t.sf(statistic, df)
    else:
        pvalue = _scipy_stats.t.cdf(statistic, df)
    return CorrectedTTestResult(
        statistic=float(statistic),
        pvalue=float(np.clip(pvalue, 0.0, 1.0)),
        standard_error=standard_error,
        **common,
    )


def _as_scores(scores, name):
    """Validate scores as a finite 1-D float array."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{name} must be finite; got NaN or infinite values.")
    return scores


def _as_sizes(sizes, name, n):
    """Validate fold sizes (a positive number or one per difference)."""
    sizes = np.asarray(sizes, dtype=np.float64)
    if sizes.ndim > 1 or (sizes.ndim == 1 and len(sizes) != n):
        raise ValueError(
            f"{name} must be a number or have one value per score ({n}); got "
            f"shape {sizes.shape}."
        )
    if not np.all(np.isfinite(sizes)) or np.any(sizes <= 0):
        raise ValueError(f"{name} must be positive; got {name}={sizes!r}.")
    return np.broadcast_to(sizes, (n,))


@validate_params(
    {
        "scores_a": ["array-like"],
        "scores_b": ["array-like"],
        "n_train": [Interval(Real, 0, None, closed="neither"), "array-like"],
        "n_test": [Interval(Real, 0, None, closed="neither"), "array-like"],
        "alternative": [StrOptions(_ALTERNATIVES)],
        "df": [Interval(Real, 0, None, closed="neither"), None],
    },
    prefer_skip_nested_validation=True,
)
def corrected_repeated_cv_ttest(
    scores_a, scores_b, *, n_train, n_test, alternative="two-sided", df=None
):
    r"""Corrected repeated cross-validation paired t-test of two models.

    Tests whether two models evaluated on the same repeated k-fold splits
    have the same expected score. The scores of the splits are not
    independent (the training sets overlap), so the ordinary paired t-test
    underestimates the variance and finds too many significant differences.
    Nadeau and Bengio (2003) correct the variance of the mean difference by
    the factor ``1 / J + n_test / n_train``, where ``J`` is the number of
    differences; Bouckaert and Frank (2004) showed that this corrected test,
    applied to all ``J = n_splits * n_repeats`` scores of a repeated k-fold
    cross-validation, has good replicability. Gideon et al. (2017) use it to
    compare their models (UAR, ten times repeated ten-fold cross-validation).

    Read more in the :ref:`User Guide <stats>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    scores_a : array-like of shape (n_splits * n_repeats,)
        Score of the first model on every split (for example UAR, that is
        ``scoring="balanced_accuracy"``). A 2-D array of shape
        ``(n_repeats, n_splits)`` is flattened.
    scores_b : array-like of the same shape as ``scores_a``
        Score of the second model on the **same** splits, in the same order.
    n_train : float or array-like of shape (n_splits * n_repeats,)
        Number of training samples: one number, or the size of every split
        (grouped folds differ in size); the ratio of the sums of ``n_test``
        and ``n_train`` is used. See
        :func:`sklearn_prognet.model_selection.cv_fold_sizes`.
    n_test : float or array-like of shape (n_splits * n_repeats,)
        Number of test samples, one number or one per split.
    alternative : {'two-sided', 'greater', 'less'}, default='two-sided'
        The alternative hypothesis: the mean difference ``scores_a -
        scores_b`` is non-zero (``'two-sided'``), positive (``'greater'``,
        model a is better) or negative (``'less'``).
    df : float, default=None
        Degrees of freedom of the t distribution. ``None`` means
        ``n_splits * n_repeats - 1`` (Bouckaert and Frank 2004). Gideon et al.
        (2017) report "ten degrees of freedom": pass ``df=10`` to reproduce
        their p-values.

    Returns
    -------
    result : CorrectedTTestResult
        Frozen dataclass with ``statistic``, ``pvalue``, ``df``,
        ``mean_difference``, ``standard_error``, ``correction``,
        ``n_differences`` and ``alternative``, and a
        ``confidence_interval(confidence_level)`` method.

    See Also
    --------
    compare_cv_results : The test on two ``cross_validate`` results.
    sklearn_prognet.model_selection.cv_fold_sizes : The fold sizes of a splitter.
    sklearn_prognet.model_selection.RepeatedStratifiedGroupKFold : A splitter
        that gives different partitions in every repeat.
    scipy.stats.ttest_rel : The uncorrected paired t-test.

    Notes
    -----
    With ``d`` the ``J`` differences ``scores_a - scores_b``, the statistic is

    .. math::

        t = \frac{\bar d}{\sqrt{\left(\frac{1}{J} +
            \frac{n_{test}}{n_{train}}\right) \hat\sigma^2_d}}

    with :math:`\hat\sigma^2_d` the sample variance (``ddof=1``) of the
    differences, compared with a t distribution with ``df`` degrees of
    freedom. One-sided tests use the sign of ``t``. If all differences are
    equal, the variance is zero: the p-value is 1 when they are all zero, and
    otherwise 0 (or 1 for a one-sided alternative in the wrong direction),
    with an infinite statistic of the sign of the mean.

    The splits must be the same for both models (same splitter, same integer
    ``random_state``), and the repeats must be genuinely different
    partitions; otherwise the correction is meaningless.

    References
    ----------
    .. [1] C. Nadeau and Y. Bengio, "Inference for the Generalization Error",
       Machine Learning, 52(3):239-281, 2003.
    .. [2] R. R. Bouckaert and E. Frank, "Evaluating the Replicability of
       Significance Tests for Comparing Learning Algorithms", Advances in
       Knowledge Discovery and Data Mining (PAKDD), LNCS 3056, pp. 3-12, 2004.
    .. [3] J. Gideon, S. Khorram, Z. Aldeneh, D. Dimitriadis and E. M. Provost,
       "Progressive Neural Networks for Transfer Learning in Emotion
       Recognition", Proc. Interspeech, 2017.

    Examples
    --------
    Score differences of two models on 5 folds x 2 repeats, with 80 training
    and 20 test samples per split:

    >>> import numpy as np
    >>> from sklearn_prognet.stats import corrected_repeated_cv_ttest
    >>> d = np.array([.021, .035, -.004, .018, .027, .012, .030, .009, .024, .016])
    >>> scores_b = np.full(10, 0.6)
    >>> res = corrected_repeated_cv_ttest(scores_b + d, scores_b, n_train=80, n_test=20)
    >>> print(f"t = {res.statistic:.3f}, p = {res.pvalue:.4f}, df = {res.df:g}")
    t = 2.802, p = 0.0206, df = 9

    The uncorrected paired t-test is far more confident:

    >>> from scipy.stats import ttest_rel
    >>> print(f"t = {ttest_rel(scores_b + d, scores_b).statistic:.3f}")
    t = 5.242

    One-sided test that model a is better, with the paper's ten degrees of
    freedom:

    >>> res = corrected_repeated_cv_ttest(
    ...     scores_b + d, scores_b, n_train=80, n_test=20, alternative="greater",
    ...     df=10)
    >>> print(f"p = {res.pvalue:.4f}")
    p = 0.0094
    """
    # Compared before flattening: (n_repeats, n_splits) against its transpose
    # has as many scores but pairs the wrong ones.
    if np.shape(scores_a) != np.shape(scores_b):
        raise ValueError(
            "scores_a and scores_b must hold the scores of the same splits, in "
            f"the same layout; got shapes {np.shape(scores_a)} and "
            f"{np.shape(scores_b)}."
        )
    scores_a = _as_scores(scores_a, "scores_a")
    scores_b = _as_scores(scores_b, "scores_b")
    n = len(scores_a)
    if n < 2:
        raise ValueError(f"At least 2 paired scores are needed; got {n}.")
    n_train = _as_sizes(n_train, "n_train", n)
    n_test = _as_sizes(n_test, "n_test", n)
    if n_train.sum() < n_test.sum():
        # k-fold CV trains on (k - 1) / k of the data and tests on 1 / k, so
        # n_train >= n_test (equal for k = 2). The reverse inflates the
        # correction and is almost always a swap of the two arguments.
        warn(
            f"n_train is smaller than n_test ({n_train.mean():g} vs "
            f"{n_test.mean():g} samples per split): the correction n_test / n_train "
            "assumes the usual k-fold setting, where each model trains on more "
            "samples than it is tested on. The arguments look swapped."
        )
    return _corrected_ttest(
        scores_a - scores_b,
        n_test.sum() / n_train.sum(),
        alternative=alternative,
        df=df,
    )


@validate_params(
    {
        "cv_results_a": [dict],
        "cv_results_b": [dict],
        "score_key": [str],
        "alternative": [StrOptions(_ALTERNATIVES)],
        "df": [Interval(Real, 0, None, closed="neither"), None],
    },
    prefer_skip_nested_validation=True,
)
def compare_cv_results(
    cv_results_a,
    cv_results_b,
    *,
    score_key="test_score",
    alternative="two-sided",
    df=None,
):
    """Corrected repeated cross-validation t-test on two ``cross_validate`` results.

    Runs :func:`corrected_repeated_cv_ttest` on the per-split scores of two
    :func:`~sklearn.model_selection.cross_validate` results, taking the
    training and test set sizes from their ``indices`` entry, and checks that
    both models were evaluated on exactly the same splits.

    Read more in the :ref:`User Guide <stats>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    cv_results_a : dict
        Result of ``cross_validate(model_a, ..., return_indices=True)``.
    cv_results_b : dict
        Result of ``cross_validate(model_b, ..., return_indices=True)`` with
        the same splitter (same integer ``random_state``) and data.
    score_key : str, default='test_score'
        Key of the scores to compare, e.g. ``'test_uar'`` when
        ``scoring={'uar': 'balanced_accuracy'}``.
    alternative : {'two-sided', 'greater', 'less'}, default='two-sided'
        The alternative hypothesis about the mean of ``a - b``.
    df : float, default=None
        Degrees of freedom; ``None`` means the number of splits minus one.

    Returns
    -------
    result : CorrectedTTestResult
        See :func:`corrected_repeated_cv_ttest`.

    See Also
    --------
    corrected_repeated_cv_ttest : The test on arrays of scores.

    Notes
    -----
    ``cross_validate`` only returns the split indices when called with
    ``return_indices=True``. Without them, compute the sizes with
    :func:`sklearn_prognet.model_selection.cv_fold_sizes` and call
    :func:`corrected_repeated_cv_ttest`.

    References
    ----------
    .. [1] C. Nadeau and Y. Bengio, "Inference for the Generalization Error",
       Machine Learning, 52(3):239-281, 2003.
    .. [2] R. R. Bouckaert and E. Frank, "Evaluating the Replicability of
       Significance Tests for Comparing Learning Algorithms", PAKDD, 2004.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import RepeatedStratifiedKFold, cross_validate
    >>> from sklearn_prognet.stats import compare_cv_results
    >>> X, y = make_classification(n_samples=100, random_state=0)
    >>> cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=2, random_state=0)
    >>> res_a = cross_validate(LogisticRegression(), X, y, cv=cv,
    ...                        scoring="balanced_accuracy", return_indices=True)
    >>> res_b = cross_validate(DummyClassifier(), X, y, cv=cv,
    ...                        scoring="balanced_accuracy", return_indices=True)
    >>> res = compare_cv_results(res_a, res_b, alternative="greater")
    >>> res.pvalue < 0.001, res.n_differences
    (True, 10)
    """
    for name, results in (
        ("cv_results_a", cv_results_a),
        ("cv_results_b", cv_results_b),
    ):
        if "indices" not in results:
            raise ValueError(
                f"{name} has no 'indices': call cross_validate(..., "
                "return_indices=True), or use corrected_repeated_cv_ttest with "
                "sizes from sklearn_prognet.model_selection.cv_fold_sizes."
            )
        if score_key not in results:
            raise ValueError(
                f"{name} has no {score_key!r}; its keys are {sorted(results)}."
            )
    ind_a, ind_b = cv_results_a["indices"], cv_results_b["indices"]
    same = len(ind_a["test"]) == len(ind_b["test"]) and all(
        np.array_equal(p, q)
        for role in ("train", "test")
        for p, q in zip(ind_a[role], ind_b[role], strict=True)
    )
    if not same:
        raise ValueError(
            "cv_results_a and cv_results_b were computed on different splits; "
            "the paired test needs the same splits (use the same splitter with "
            "an integer random_state)."
        )
    return corrected_repeated_cv_ttest(
        cv_results_a[score_key],
        cv_results_b[score_key],
        n_train=[len(train) for train in ind_a["train"]],
        n_test=[len(test) for test in ind_a["test"]],
        alternative=alternative,
        df=df,
    )


# eq=False: the array fields make field-wise == ambiguous
@dataclass(frozen=True, eq=False)
class RepeatedCVSummary:
    """Summary of repeated cross-validation scores (the paper's Table 2).

    Returned by :func:`summarize_repeated_cv`. ``str(summary)`` gives
    ``'mean±std'`` with three decimals, as in the paper.

    .. versionadded:: 0.1

    Parameters
    ----------
    mean : float
        Mean score over all splits (equal to the mean of ``repeat_means``).
    std : float
        Mean over repeats of the within-repeat standard deviation of the
        scores of the folds.
    repeat_means : ndarray of shape (n_repeats,)
        Mean score of each repeat.
    repeat_stds : ndarray of shape (n_repeats,)
        Standard deviation of the fold scores of each repeat.
    n_repeats : int
        Number of repeats.
    n_splits : int
        Number of folds per repeat.

    See Also
    --------
    summarize_repeated_cv : Computes this summary.

    Examples
    --------
    >>> from sklearn_prognet.stats import summarize_repeated_cv
    >>> print(summarize_repeated_cv([0.6, 0.7, 0.6, 0.8], n_repeats=2))
    0.675±0.106
    """

    mean: float
    std: float
    repeat_means: np.ndarray
    repeat_stds: np.ndarray
    n_repeats: int
    n_splits: int

    def __str__(self):
        return f"{self.mean:.3f}±{self.std:.3f}"


@validate_params(
    {
        "scores": ["array-like"],
        "n_repeats": [Interval(Integral, 1, None, closed="left"), None],
        "ddof": [Interval(Integral, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def summarize_repeated_cv(scores, n_repeats=None, *, ddof=1):
    """Mean score and mean within-repeat standard deviation of repeated CV.

    Gideon et al. (2017) "calculate the mean and standard deviation UAR within
    folds and report the mean of these statistics over all iterations": for
    each repeat (iteration) the mean and the standard deviation of the scores
    of its folds are computed, then both are averaged over the repeats. This
    standard deviation describes the spread between folds, not the
    uncertainty of the mean; use :func:`corrected_repeated_cv_ttest` to
    compare models.

    Read more in the :ref:`User Guide <stats>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    scores : array-like of shape (n_repeats * n_splits,) or (n_repeats, n_splits)
        Scores of all splits, repeat by repeat (the order of
        :class:`~sklearn_prognet.model_selection.RepeatedStratifiedGroupKFold`
        and of scikit-learn's repeated splitters), or already arranged with
        one row per repeat.
    n_repeats : int, default=None
        Number of repeats. Required for 1-D ``scores``; for 2-D scores it
        must be ``None`` or the number of rows.
    ddof : int, default=1
        Delta degrees of freedom of the within-repeat standard deviation
        (1: sample standard deviation; 0: numpy's default).

    Returns
    -------
    summary : RepeatedCVSummary
        Frozen dataclass with ``mean``, ``std``, ``repeat_means``,
        ``repeat_stds``, ``n_repeats`` and ``n_splits``.

    See Also
    --------
    corrected_repeated_cv_ttest : Significance test between two models.
    sklearn_prognet.metrics.uar_score : The paper's score.

    References
    ----------
    .. [1] J. Gideon, S. Khorram, Z. Aldeneh, D. Dimitriadis and E. M. Provost,
       "Progressive Neural Networks for Transfer Learning in Emotion
       Recognition", Proc. Interspeech, 2017.

    Examples
    --------
    >>> from sklearn_prognet.stats import summarize_repeated_cv
    >>> scores = [0.60, 0.64, 0.62, 0.66,   # repeat 0
    ...           0.63, 0.65, 0.61, 0.67]   # repeat 1
    >>> summary = summarize_repeated_cv(scores, n_repeats=2)
    >>> print(summary)
    0.635±0.026
    >>> summary.repeat_means.round(3)
    array([0.63, 0.64])
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 2:
        if n_repeats is not None and n_repeats != scores.shape[0]:
            raise ValueError(
                f"n_repeats={n_repeats} does not match the {scores.shape[0]} "
                "rows of the 2-D scores."
            )
    elif scores.ndim == 1:
        if n_repeats is None:
            raise ValueError("n_repeats is required when scores is 1-D.")
        if len(scores) % n_repeats:
            raise ValueError(
                f"The number of scores ({len(scores)}) is not a multiple of "
                f"n_repeats={n_repeats}."
            )
        scores = scores.reshape(n_repeats, -1)
    else:
        raise ValueError(f"scores must be 1-D or 2-D; got {scores.ndim} dimensions.")
    n_repeats, n_splits = scores.shape
    if n_splits <= ddof:
        raise ValueError(
            f"Each repeat needs more than ddof={ddof} scores; got {n_splits}."
        )
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite; got NaN or infinite values.")
    repeat_means = scores.mean(axis=1)
    repeat_stds = scores.std(axis=1, ddof=ddof)
    return RepeatedCVSummary(
        mean=float(repeat_means.mean()),
        std=float(repeat_stds.mean()),
        repeat_means=repeat_means,
        repeat_stds=repeat_stds,
        n_repeats=n_repeats,
        n_splits=n_splits,
    )
