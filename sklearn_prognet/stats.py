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
  deviation, as reported in the paper's Table 2;
- :func:`bayesian_correlated_ttest`: the Bayesian correlated t-test (Corani
  and Benavoli 2015), the probabilities that one model is better or that the
  two are practically equivalent;
- :func:`mcnemar_test`: McNemar's test of two models on one test set.

This module only needs numpy and scipy.
"""

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy import stats as _scipy_stats

from sklearn_prognet.utils._compat import Interval, StrOptions, validate_params
from sklearn_prognet.utils._docstring import REFERENCES, Substitution
from sklearn_prognet.utils._warnings import warn

__all__ = [
    "BayesianTTestResult",
    "CorrectedTTestResult",
    "McNemarResult",
    "RepeatedCVSummary",
    "bayesian_correlated_ttest",
    "compare_cv_results",
    "corrected_repeated_cv_ttest",
    "mcnemar_test",
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
    correction = _variance_correction(n, test_train_ratio)
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
@Substitution(**REFERENCES)
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
    .. [1] {nadeau_2003}
    .. [2] {bouckaert_2004}
    .. [3] {gideon_2017}

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
    differences, test_train_ratio = _paired_differences(
        scores_a, scores_b, n_train, n_test
    )
    return _corrected_ttest(
        differences, test_train_ratio, alternative=alternative, df=df
    )


def _paired_differences(scores_a, scores_b, n_train, n_test):
    """Validated score differences a - b and the ratio n_test / n_train."""
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
    return scores_a - scores_b, n_test.sum() / n_train.sum()


def _variance_correction(n_differences, test_train_ratio):
    """Nadeau and Bengio's factor on the variance: ``1 / J + n_test / n_train``."""
    return 1.0 / n_differences + float(test_train_ratio)


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
@Substitution(**REFERENCES)
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
    .. [1] {nadeau_2003}
    .. [2] {bouckaert_2004}

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
@Substitution(**REFERENCES)
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
    .. [1] {gideon_2017}

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


# -- Bayesian correlated t-test and McNemar's test -----------------------------


@dataclass(frozen=True)
class BayesianTTestResult:
    """Result of :func:`bayesian_correlated_ttest`.

    The posterior of the mean score difference ``scores_a - scores_b`` is a
    Student t distribution with ``df`` degrees of freedom, location ``mean``
    and scale ``scale``.

    .. versionadded:: 0.1

    Parameters
    ----------
    mean : float
        Location of the posterior: the mean of the differences.
    scale : float
        Scale of the posterior, ``sqrt(correction * var(differences,
        ddof=1))``. Zero when all differences are equal.
    df : float
        Degrees of freedom of the posterior, ``n_differences - 1``.
    rope : float
        Half-width of the region of practical equivalence ``[-rope, rope]``.
    p_a_better : float
        Posterior probability that the mean difference exceeds ``rope``.
    p_rope : float
        Posterior probability that it lies within ``[-rope, rope]``.
    p_b_better : float
        Posterior probability that it is below ``-rope``.
    correction : float
        The variance factor ``1 / n_differences + n_test / n_train``.
    n_differences : int
        Number of paired differences.

    See Also
    --------
    bayesian_correlated_ttest : Computes this result.

    Examples
    --------
    >>> from sklearn_prognet.stats import bayesian_correlated_ttest
    >>> res = bayesian_correlated_ttest(
    ...     [0.80, 0.82, 0.79, 0.85], [0.78, 0.80, 0.79, 0.81], n_train=75, n_test=25)
    >>> round(res.p_a_better, 3), round(res.p_rope, 3), round(res.p_b_better, 3)
    (0.759, 0.193, 0.048)
    """

    mean: float
    scale: float
    df: float
    rope: float
    p_a_better: float
    p_rope: float
    p_b_better: float
    correction: float
    n_differences: int

    def credible_interval(self, credibility=0.95):
        """Central credible interval of the mean score difference.

        Parameters
        ----------
        credibility : float, default=0.95
            Posterior probability of the interval, in (0, 1).

        Returns
        -------
        low : float
            Lower bound.
        high : float
            Upper bound (equal to ``low`` when ``scale`` is zero).

        See Also
        --------
        bayesian_correlated_ttest : Computes the result.

        Examples
        --------
        >>> from sklearn_prognet.stats import bayesian_correlated_ttest
        >>> res = bayesian_correlated_ttest(
        ...     [0.80, 0.82, 0.79, 0.85], [0.78, 0.80, 0.79, 0.81],
        ...     n_train=75, n_test=25)
        >>> low, high = res.credible_interval(0.95)
        >>> round(low, 3), round(high, 3)
        (-0.02, 0.06)
        """
        if not 0 < credibility < 1:
            raise ValueError(
                f"credibility must be in (0, 1); got credibility={credibility!r}."
            )
        q = _scipy_stats.t.ppf(0.5 + credibility / 2, self.df)
        return float(self.mean - q * self.scale), float(self.mean + q * self.scale)


def _bayesian_ttest(differences, test_train_ratio, rope):
    """Core of the Bayesian correlated t-test on validated 1-D differences."""
    n = len(differences)
    correction = _variance_correction(n, test_train_ratio)
    mean = float(np.mean(differences))
    scale = 0.0
    if not np.all(differences == differences[0]):
        scale = float(np.sqrt(correction * np.var(differences, ddof=1)))
    if scale == 0:
        # All differences equal: the posterior is a point mass at their mean
        # (the limit of the Student posterior as the scale goes to 0), as in
        # baycomp. The ROPE is closed, so mean == rope counts as equivalent.
        p_a, p_b = float(mean > rope), float(mean < -rope)
    else:
        posterior = _scipy_stats.t(df=n - 1, loc=mean, scale=scale)
        p_a, p_b = float(posterior.sf(rope)), float(posterior.cdf(-rope))
    return BayesianTTestResult(
        mean=mean,
        scale=scale,
        df=float(n - 1),
        rope=float(rope),
        p_a_better=p_a,
        p_rope=float(np.clip(1.0 - p_a - p_b, 0.0, 1.0)),
        p_b_better=p_b,
        correction=correction,
        n_differences=n,
    )


@validate_params(
    {
        "scores_a": ["array-like"],
        "scores_b": ["array-like"],
        "n_train": [Interval(Real, 0, None, closed="neither"), "array-like"],
        "n_test": [Interval(Real, 0, None, closed="neither"), "array-like"],
        "rope": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
@Substitution(**REFERENCES)
def bayesian_correlated_ttest(scores_a, scores_b, *, n_train, n_test, rope=0.01):
    r"""Bayesian correlated t-test of two models evaluated by repeated CV.

    The Bayesian counterpart of :func:`corrected_repeated_cv_ttest` (Corani
    and Benavoli 2015). Instead of a p-value, it gives the posterior
    distribution of the mean score difference ``scores_a - scores_b`` and the
    probabilities that model a is better, that the two are practically
    equivalent (the difference lies in the region of practical equivalence,
    ROPE, ``[-rope, rope]``), and that model b is better. Unlike a p-value,
    these answer "how probable is it that a is better by more than ``rope``?",
    and a large ``p_rope`` is evidence **for** equivalence.

    Read more in the :ref:`User Guide <bayesian_ttest>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    scores_a : array-like of shape (n_splits * n_repeats,)
        Score of the first model on every split, e.g. the UAR. A 2-D array of
        shape ``(n_repeats, n_splits)`` is flattened.
    scores_b : array-like of the same shape as ``scores_a``
        Score of the second model on the **same** splits, in the same order.
    n_train : float or array-like of shape (n_splits * n_repeats,)
        Number of training samples, one number or one per split.
    n_test : float or array-like of shape (n_splits * n_repeats,)
        Number of test samples, one number or one per split.
    rope : float, default=0.01
        Half-width of the region of practical equivalence, in the units of the
        scores: with the default, differences of less than one point of UAR
        count as no difference. ``0`` gives only ``p_a_better`` and
        ``p_b_better`` (``p_rope`` is then 0 unless the scale is zero).

    Returns
    -------
    result : BayesianTTestResult
        Frozen dataclass with the posterior's ``mean``, ``scale`` and ``df``,
        ``rope``, ``p_a_better``, ``p_rope``, ``p_b_better``, ``correction``
        and ``n_differences``, and a ``credible_interval(credibility)``
        method.

    See Also
    --------
    corrected_repeated_cv_ttest : The frequentist test with the same
        correlation correction.
    mcnemar_test : Paired test of two models on one test set.

    Notes
    -----
    The ``J`` differences ``d`` are correlated because the training sets
    overlap; Corani and Benavoli (2015) model their correlation as
    :math:`\rho = n_{test} / (n_{test} + n_{train})` (Nadeau and Bengio 2003)
    and, with a non-informative prior, obtain a Student posterior for the mean
    difference :math:`\mu`:

    .. math::

        \mu \sim \mathrm{St}\left(J - 1,\ \bar d,\
            \left(\frac{1}{J} + \frac{n_{test}}{n_{train}}\right)
            \hat\sigma^2_d\right)

    (degrees of freedom, location, squared scale), with
    :math:`\hat\sigma^2_d` the sample variance of the differences. Then
    ``p_a_better`` :math:`= P(\mu > r)`, ``p_b_better`` :math:`= P(\mu < -r)`
    and ``p_rope`` :math:`= P(-r \le \mu \le r)`. The location and scale are
    those of :func:`corrected_repeated_cv_ttest` (its ``mean_difference`` and
    ``standard_error``).

    The reference implementation, ``baycomp.two_on_single(a, b, rope, runs)``
    (Benavoli et al. 2017), takes ``n_test / n_train = 1 / (n_splits - 1)``,
    as for equal folds, and returns ``(p_a_better, p_rope, p_b_better)``;
    this function takes the actual fold sizes, which differ with grouped
    folds.

    If all differences are equal, the sample variance is zero and the
    posterior is a point mass at their mean: each probability is 0 or 1
    (the ROPE is closed). baycomp does the same when ``rope > 0``.

    References
    ----------
    .. [1] G. Corani and A. Benavoli, "A Bayesian approach for comparing
       cross-validated algorithms on multiple data sets", Machine Learning,
       100(2):285-304, 2015.
    .. [2] A. Benavoli, G. Corani, J. Demšar and M. Zaffalon, "Time for a
       Change: a Tutorial for Comparing Multiple Classifiers Through Bayesian
       Analysis", Journal of Machine Learning Research, 18(77):1-36, 2017.
    .. [3] {nadeau_2003}

    Examples
    --------
    Score differences of two models on 5 folds x 2 repeats, with 80 training
    and 20 test samples per split:

    >>> import numpy as np
    >>> from sklearn_prognet.stats import bayesian_correlated_ttest
    >>> d = np.array([.021, .035, -.004, .018, .027, .012, .030, .009, .024, .016])
    >>> scores_b = np.full(10, 0.6)
    >>> res = bayesian_correlated_ttest(scores_b + d, scores_b, n_train=80, n_test=20)
    >>> print(f"P(a better) = {res.p_a_better:.3f}, P(equivalent) = "
    ...       f"{res.p_rope:.3f}, P(b better) = {res.p_b_better:.3f}")
    P(a better) = 0.889, P(equivalent) = 0.110, P(b better) = 0.001
    >>> print(f"mean = {res.mean:.4f}, scale = {res.scale:.4f}, df = {res.df:g}")
    mean = 0.0188, scale = 0.0067, df = 9

    The same splits give a p-value of 0.0206 with
    :func:`corrected_repeated_cv_ttest`; the posterior adds that model a is
    very unlikely to be worse, but that a gain below one point (``rope``) has
    an 11 % probability.
    """
    differences, test_train_ratio = _paired_differences(
        scores_a, scores_b, n_train, n_test
    )
    return _bayesian_ttest(differences, test_train_ratio, rope)


@dataclass(frozen=True)
class McNemarResult:
    """Result of :func:`mcnemar_test`.

    .. versionadded:: 0.1

    Parameters
    ----------
    statistic : float
        With ``exact=True``, ``min(n_a_only, n_b_only)``, the binomial count
        (as in statsmodels); otherwise the chi-square statistic with
        continuity correction.
    pvalue : float
        Two-sided p-value.
    n_a_only : int
        Number of samples that model a classifies correctly and model b
        wrongly.
    n_b_only : int
        Number of samples that model b classifies correctly and model a
        wrongly.
    exact : bool
        Whether the exact binomial test was used.

    See Also
    --------
    mcnemar_test : Computes this result.

    Examples
    --------
    >>> from sklearn_prognet.stats import mcnemar_test
    >>> res = mcnemar_test([0, 1, 1, 0, 1], [0, 1, 1, 1, 1], [1, 0, 1, 0, 0])
    >>> res.n_a_only, res.n_b_only, res.exact, res.pvalue
    (3, 1, True, 0.625)
    """

    statistic: float
    pvalue: float
    n_a_only: int
    n_b_only: int
    exact: bool


# Below this many discordant pairs, exact=None uses the binomial test.
_MCNEMAR_EXACT_BELOW = 25


def _mcnemar(n_a_only, n_b_only, exact):
    """Core of McNemar's test on the two discordant counts."""
    n = n_a_only + n_b_only
    if exact is None:
        exact = n < _MCNEMAR_EXACT_BELOW
    common = {"n_a_only": int(n_a_only), "n_b_only": int(n_b_only), "exact": exact}
    if n == 0:
        # The models agree on every sample: no evidence of a difference.
        return McNemarResult(statistic=0.0, pvalue=1.0, **common)
    if exact:
        low = min(n_a_only, n_b_only)
        pvalue = min(1.0, 2 * _scipy_stats.binom.cdf(low, n, 0.5))
        return McNemarResult(statistic=float(low), pvalue=float(pvalue), **common)
    # Edwards' continuity correction, capped so that it never pushes the
    # difference past zero (|b - c| = 0 gives 0, not 1 / n as uncapped).
    statistic = max(abs(n_a_only - n_b_only) - 1, 0) ** 2 / n
    pvalue = _scipy_stats.chi2.sf(statistic, df=1)
    return McNemarResult(statistic=float(statistic), pvalue=float(pvalue), **common)


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred_a": ["array-like"],
        "y_pred_b": ["array-like"],
        "exact": ["boolean", None],
    },
    prefer_skip_nested_validation=True,
)
def mcnemar_test(y_true, y_pred_a, y_pred_b, *, exact=None):
    r"""Compare two classifiers on the same test samples with McNemar's test.

    Tests whether two models, evaluated on the same test set, have the same
    error rate, using only the samples on which they disagree about
    correctness: ``n_a_only`` that only model a gets right and ``n_b_only``
    that only model b gets right. Under the null hypothesis each such sample
    is equally likely to favour either model. Dietterich (1998) recommends it
    when the models can be trained only once (one train/test split); for
    repeated cross-validation, use :func:`corrected_repeated_cv_ttest` or
    :func:`bayesian_correlated_ttest`.

    Read more in the :ref:`User Guide <mcnemar>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred_a : array-like of shape (n_samples,)
        Predictions of the first model.
    y_pred_b : array-like of shape (n_samples,)
        Predictions of the second model, on the same samples.
    exact : bool, default=None
        If True, the exact binomial test; if False, the chi-square test with
        Edwards' continuity correction. None uses the exact test when there
        are fewer than 25 discordant samples (``n_a_only + n_b_only < 25``),
        where the chi-square approximation is poor.

    Returns
    -------
    result : McNemarResult
        Frozen dataclass with ``statistic``, ``pvalue``, ``n_a_only``,
        ``n_b_only`` and ``exact``.

    See Also
    --------
    bayesian_correlated_ttest : Comparison on repeated cross-validation.
    corrected_repeated_cv_ttest : Frequentist comparison on repeated
        cross-validation.

    Notes
    -----
    With :math:`b` = ``n_a_only`` and :math:`c` = ``n_b_only``, the exact
    test's two-sided p-value is :math:`\min(1, 2 F(\min(b, c)))`, with
    :math:`F` the distribution function of the binomial distribution with
    :math:`b + c` trials and probability 1/2 (McNemar 1947). The chi-square
    test compares

    .. math::

        \chi^2 = \frac{\left(\max(|b - c| - 1, 0)\right)^2}{b + c}

    with a chi-square distribution with one degree of freedom (Edwards 1948).
    The formula without ``max`` (statsmodels' and R's) gives
    :math:`1 / (b + c)` instead of 0 when :math:`b = c`; otherwise the two
    agree. The threshold of 25 discordant samples is the usual rule of thumb
    for the exact test (Raschka 2018). When the models agree on every sample
    (:math:`b + c = 0`), the statistic is 0 and the p-value 1.

    McNemar's test compares accuracies, not UARs: on unbalanced test sets a
    difference in the rare classes weighs little.

    References
    ----------
    .. [1] Q. McNemar, "Note on the sampling error of the difference between
       correlated proportions or percentages", Psychometrika, 12(2):153-157,
       1947.
    .. [2] A. L. Edwards, "Note on the 'correction for continuity' in testing
       the significance of the difference between correlated proportions",
       Psychometrika, 13(3):185-187, 1948.
    .. [3] T. G. Dietterich, "Approximate Statistical Tests for Comparing
       Supervised Classification Learning Algorithms", Neural Computation,
       10(7):1895-1923, 1998.
    .. [4] S. Raschka, "Model Evaluation, Model Selection, and Algorithm
       Selection in Machine Learning", arXiv:1811.12808, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_prognet.stats import mcnemar_test
    >>> y_true = np.array([0] * 60 + [1] * 60)
    >>> y_pred_a = y_true.copy()
    >>> y_pred_a[:10] = 1                      # a misses 10 samples
    >>> y_pred_b = y_true.copy()
    >>> y_pred_b[50:80] = 1 - y_pred_b[50:80]  # b misses 30 others
    >>> res = mcnemar_test(y_true, y_pred_a, y_pred_b)
    >>> res.n_a_only, res.n_b_only, res.exact
    (30, 10, False)
    >>> print(f"chi2 = {res.statistic:.3f}, p = {res.pvalue:.4f}")
    chi2 = 9.025, p = 0.0027
    """
    y_true, y_pred_a, y_pred_b = map(np.asarray, (y_true, y_pred_a, y_pred_b))
    for name, y in (("y_true", y_true), ("y_pred_a", y_pred_a), ("y_pred_b", y_pred_b)):
        if y.ndim != 1:
            raise ValueError(f"{name} must be 1-D; got shape {y.shape}.")
    if not len(y_true) == len(y_pred_a) == len(y_pred_b):
        raise ValueError(
            "y_true, y_pred_a and y_pred_b must have the same length; got "
            f"{len(y_true)}, {len(y_pred_a)} and {len(y_pred_b)}."
        )
    correct_a = y_pred_a == y_true
    correct_b = y_pred_b == y_true
    return _mcnemar(
        int(np.sum(correct_a & ~correct_b)), int(np.sum(correct_b & ~correct_a)), exact
    )
