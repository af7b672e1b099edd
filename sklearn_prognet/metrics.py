# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The evaluation measures: UAR for classes, CCC for continuous ratings.

UAR, the mean over classes of the recall of each class, is the usual measure
of emotion recognition on unbalanced corpora. It is what scikit-learn calls
balanced accuracy (:func:`~sklearn.metrics.balanced_accuracy_score`, with
``adjusted=False``): macro-averaged recall over the classes of ``y_true``.
With scikit-learn's model selection tools, pass
``scoring="balanced_accuracy"`` or :data:`uar_scorer`.

The concordance correlation coefficient (:func:`ccc_score`) is the usual
measure of dimensional emotion recognition (arousal, valence, dominance).
"""

import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import balanced_accuracy_score, make_scorer
from sklearn.utils.validation import check_array, check_consistent_length

from sklearn_prognet.utils._compat import StrOptions, validate_params

__all__ = ["ccc_score", "uar_score", "uar_scorer"]


def uar_score(y_true, y_pred, *, sample_weight=None):
    """Unweighted average recall (UAR), the paper's measure.

    The mean over the classes of ``y_true`` of the recall of each class, so
    that every class counts the same whatever its size. Chance level is
    ``1 / n_classes``. This is scikit-learn's balanced accuracy (not
    adjusted for chance).

    Read more in the :ref:`User Guide <model_selection>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth (correct) labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    uar : float
        Unweighted average recall, in [0, 1].

    See Also
    --------
    sklearn.metrics.balanced_accuracy_score : The same measure.
    sklearn.metrics.recall_score : ``average="macro"`` gives the same value
        when every predicted label is also a true label.

    Notes
    -----
    ``uar_score(y_true, y_pred) == balanced_accuracy_score(y_true, y_pred)``;
    this function exists so that code and reports can use the paper's name.
    A predicted label that is not among the true labels lowers the recall of
    the true class but adds no class of its own (``recall_score`` with
    ``average="macro"`` would average in a recall of 0 for it, and
    scikit-learn warns).

    References
    ----------
    .. [1] B. Schuller, S. Steidl and A. Batliner, "The INTERSPEECH 2009
       Emotion Challenge", Proc. Interspeech, 2009.

    Examples
    --------
    >>> from sklearn_prognet.metrics import uar_score
    >>> y_true = ["ang", "ang", "ang", "ang", "sad", "sad"]
    >>> y_pred = ["ang", "ang", "ang", "ang", "ang", "sad"]
    >>> uar_score(y_true, y_pred)  # accuracy would be 5/6
    0.75
    """
    return float(balanced_accuracy_score(y_true, y_pred, sample_weight=sample_weight))


#: Scorer for UAR, usable as ``scoring=uar_scorer`` (same as
#: ``scoring="balanced_accuracy"``).
uar_scorer = make_scorer(uar_score)


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "multioutput": [StrOptions({"raw_values", "uniform_average"}), "array-like"],
    },
    prefer_skip_nested_validation=True,
)
def ccc_score(y_true, y_pred, *, multioutput="uniform_average"):
    r"""Concordance correlation coefficient (CCC) of continuous ratings.

    Lin's (1989) agreement between predicted and true ratings:

    .. math::

        \rho_c = \frac{2 \sigma_{tp}}
                       {\sigma_t^2 + \sigma_p^2 + (\mu_t - \mu_p)^2}

    with the means :math:`\mu`, variances :math:`\sigma^2` and covariance
    :math:`\sigma_{tp}` of the true (:math:`t`) and predicted (:math:`p`)
    ratings, all population moments (divided by ``n_samples``, ``ddof=0``).
    Unlike Pearson's correlation, CCC also penalises a shift or a rescaling
    of the predictions: it is 1 only for ``y_pred == y_true``. It ranges
    from -1 to 1; 0 means no agreement beyond a constant.

    Read more in the :ref:`User Guide <multitask>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True ratings, e.g. arousal, valence and dominance. Must be finite:
        drop the rows of a missing rating first.

    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Predicted ratings.

    multioutput : str or array-like of shape (n_outputs,), default='uniform_average'
        How to combine the CCCs of several outputs, as in
        :func:`~sklearn.metrics.r2_score`: ``'raw_values'`` returns each,
        ``'uniform_average'`` their mean, an array of weights their
        weighted mean.

    Returns
    -------
    ccc : float or ndarray of shape (n_outputs,)
        The CCC, or one per output with ``multioutput='raw_values'``.

    See Also
    --------
    sklearn.metrics.r2_score : The coefficient of determination.
    scipy.stats.pearsonr : Correlation, blind to shifts and scales.

    Notes
    -----
    An output whose true and predicted ratings are constant and equal has a
    CCC of 1 (a perfect agreement, though 0 / 0 by the formula); constant
    but different ratings give 0. With fewer than two samples the CCC is
    undefined: NaN, with an :class:`~sklearn.exceptions.UndefinedMetricWarning`.

    References
    ----------
    .. [1] L. I.-K. Lin, "A concordance correlation coefficient to evaluate
       reproducibility", Biometrics 45(1), 1989.

    Examples
    --------
    >>> from sklearn_prognet.metrics import ccc_score
    >>> y_true = [1.0, 2.0, 3.0, 4.0]
    >>> ccc_score(y_true, [1.0, 2.0, 3.0, 4.0])
    1.0
    >>> ccc_score(y_true, [2.0, 3.0, 4.0, 5.0])  # Pearson's r would be 1
    0.714...
    >>> ccc_score([[1, 2], [2, 1], [3, 3]], [[1, 2], [3, 1], [2, 3]],
    ...           multioutput="raw_values")
    array([0.5, 1. ])
    """
    y_true = check_array(y_true, ensure_2d=False, dtype=np.float64)
    y_pred = check_array(y_pred, ensure_2d=False, dtype=np.float64)
    check_consistent_length(y_true, y_pred)
    if y_true.ndim == 1:
        y_true = y_true.reshape(-1, 1)
    if y_pred.ndim == 1:
        y_pred = y_pred.reshape(-1, 1)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred have different numbers of outputs "
            f"({y_true.shape[1]} != {y_pred.shape[1]})."
        )
    n_outputs = y_true.shape[1]
    if len(y_true) < 2:
        warnings.warn(
            "The CCC is not well-defined with less than two samples.",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        scores = np.full(n_outputs, np.nan)
    else:
        scores = _ccc(y_true, y_pred)
    if isinstance(multioutput, str):
        return scores if multioutput == "raw_values" else float(np.mean(scores))
    weights = np.asarray(multioutput, dtype=np.float64)
    if weights.shape != (n_outputs,):
        raise ValueError(
            f"multioutput has {weights.size} weights but there are {n_outputs} outputs."
        )
    return float(np.average(scores, weights=weights))


def _ccc(y_true, y_pred):
    """Per-column CCC of two 2-D arrays, population moments."""
    # The CCC does not depend on the unit of the ratings: divided by their
    # largest magnitude, ratings near 1e200 (whose squares overflow to inf)
    # or 1e-200 (whose squares underflow to 0) give the CCC of ordinary ones.
    scale = np.maximum(np.abs(y_true).max(axis=0), np.abs(y_pred).max(axis=0))
    scale = np.where(scale > 0, scale, 1.0)
    y_true, y_pred = y_true / scale, y_pred / scale
    mean_t, mean_p = y_true.mean(axis=0), y_pred.mean(axis=0)
    var_t, var_p = y_true.var(axis=0), y_pred.var(axis=0)
    cov = ((y_true - mean_t) * (y_pred - mean_p)).mean(axis=0)
    denominator = var_t + var_p + (mean_t - mean_p) ** 2
    # 0 / 0 only when both are constant and equal: a perfect agreement
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, 2 * cov / safe, 1.0)
