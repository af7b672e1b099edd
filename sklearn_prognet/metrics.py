# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The evaluation measure of the paper: unweighted average recall (UAR).

UAR, the mean over classes of the recall of each class, is the usual measure
of emotion recognition on unbalanced corpora. It is what scikit-learn calls
balanced accuracy (:func:`~sklearn.metrics.balanced_accuracy_score`, with
``adjusted=False``): macro-averaged recall over the classes of ``y_true``.
With scikit-learn's model selection tools, pass
``scoring="balanced_accuracy"`` or :data:`uar_scorer`.
"""

from sklearn.metrics import balanced_accuracy_score, make_scorer

__all__ = ["uar_score", "uar_scorer"]


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
