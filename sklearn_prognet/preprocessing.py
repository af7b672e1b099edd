# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Preprocessing of acoustic features.

- :class:`SpeakerStandardScaler`: per-speaker standardisation, each speaker's
  features centred and scaled with that speaker's own mean and standard
  deviation.
"""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from sklearn_prognet.utils._compat import (
    Interval,
    _check_feature_names_in,
    _fit_context,
)
from sklearn_prognet.utils._frames import abbreviate, group_column, non_numeric_columns
from sklearn_prognet.utils._warnings import warn

__all__ = ["SpeakerStandardScaler"]


class SpeakerStandardScaler(TransformerMixin, BaseEstimator):
    """Standardise each speaker's features with that speaker's own statistics.

    Per-speaker normalisation removes much of what distinguishes one voice
    from another (pitch range, loudness, voice quality), so that a classifier
    sees how a speaker deviates from their own habits. The speaker ids travel
    with the features as a column of a :class:`pandas.DataFrame`, because
    scikit-learn's scorers pass only ``X`` to ``predict``; that column is
    dropped from the output.

    ``transform`` standardises each speaker in the data it is given with the
    mean and standard deviation of **that speaker's rows in that data**. It is
    transductive and unsupervised: no labels are used, but the statistics of a
    test speaker come from the test data. A speaker with fewer than
    ``min_samples`` rows is standardised with the training data's global
    statistics instead, with a warning. ``fit`` learns only those global
    statistics.

    Read more in the :ref:`User Guide <preprocessing>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    speaker_column : str or int, default='speaker'
        Name of the column of ``X`` that holds the speaker ids. It must not
        contain missing values; it is not part of the output.

    with_mean : bool, default=True
        If True, centre each speaker's features on the speaker's mean.

    with_std : bool, default=True
        If True, scale each speaker's features to unit variance (population
        standard deviation, ``ddof=0``, as
        :class:`~sklearn.preprocessing.StandardScaler`). A feature that is
        constant within a speaker is left unscaled (scale 1).

    min_samples : int, default=10
        Smallest number of rows a speaker needs in the data being transformed
        to be standardised with their own statistics. Speakers with fewer rows
        fall back to the global mean and standard deviation of the training
        data, with a :class:`UserWarning`. With ``n`` rows the relative
        standard error of a standard deviation is about
        ``1 / sqrt(2 (n - 1))``: 71 % for 2 rows, 24 % for 10.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features_out,) or None
        Global mean of each feature in the training data, used for speakers
        with too few rows. None when ``with_mean=False``.

    scale_ : ndarray of shape (n_features_out,) or None
        Global standard deviation of each feature in the training data (1
        where it is zero), used for speakers with too few rows. None when
        ``with_std=False``.

    n_features_in_ : int
        Number of columns seen during :term:`fit`, the speaker column
        included.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the columns seen during :term:`fit`, the speaker column
        included.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : Standardisation with the statistics
        of the training data, for all speakers alike.
    sklearn_prognet.model_selection.RepeatedStratifiedGroupKFold : Splits that
        keep each speaker's rows together, so that a test speaker's statistics
        come from all of their test rows.

    Notes
    -----
    Per-speaker statistics are computed on every call to ``transform`` and are
    not stored: a fitted scaler applied to new speakers standardises them with
    their own rows. Each output value is ``(x - m) / s``, with ``m`` and ``s``
    the mean and standard deviation of the feature over the rows of the same
    speaker in ``X``. Rows keep their order.

    Every column but the speaker column is scaled. A column that must stay as
    it is, such as the corpus column of
    :class:`~sklearn_prognet.MultiCorpusClassifier`, goes beside the scaler:
    ``ColumnTransformer([("scale", SpeakerStandardScaler(), features +
    ["speaker"]), ("corpus", "passthrough", ["corpus"])],
    verbose_feature_names_out=False).set_output(transform="pandas")``.

    This is legitimate when the unlabelled speech of every test speaker is
    available before their emotions are predicted (enrolment, a whole session
    processed at once). It is optimistic when each speaker's emotions are
    balanced, as in acted corpora: a speaker's mean then sits in the middle of
    their emotions, so the normalised features encode an emotion's deviation
    from a mean that real, mostly neutral, speech would not have.

    References
    ----------
    .. [1] C. Busso, A. Metallinou and S. S. Narayanan, "Iterative feature
       normalization for emotional speech detection", Proc. ICASSP, 2011.
    .. [2] B. Schuller, B. Vlasenko, F. Eyben, G. Rigoll and A. Wendemuth,
       "Acoustic emotion recognition: A benchmark comparison of performances",
       Proc. ASRU, 2009.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_prognet.preprocessing import SpeakerStandardScaler
    >>> X = pd.DataFrame({"pitch": [100., 110., 120., 200., 220., 240.],
    ...                   "speaker": ["m", "m", "m", "f", "f", "f"]})
    >>> scaler = SpeakerStandardScaler(min_samples=2).fit(X)
    >>> scaler.transform(X).round(3).ravel()
    array([-1.225,  0.   ,  1.225, -1.225,  0.   ,  1.225])
    >>> scaler.get_feature_names_out()
    array(['pitch'], dtype=object)
    """

    _parameter_constraints: dict = {
        "speaker_column": [str, Integral],
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
        "min_samples": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(
        self, *, speaker_column="speaker", with_mean=True, with_std=True, min_samples=10
    ):
        self.speaker_column = speaker_column
        self.with_mean = with_mean
        self.with_std = with_std
        self.min_samples = min_samples

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the global mean and standard deviation of the training data.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Numeric feature columns and the speaker column
            ``speaker_column``.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted scaler.
        """
        features, _ = self._split(X, reset=True)
        self.mean_, self.scale_ = self._statistics(features)
        self._speaker_index = X.columns.get_loc(self.speaker_column)
        return self

    def transform(self, X):
        """Standardise each speaker with the statistics of their rows in X.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Numeric feature columns and the speaker column, with the columns
            seen in :meth:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features - 1)
            The standardised features, in the rows' order, without the speaker
            column.
        """
        check_is_fitted(self)
        features, speakers = self._split(X, reset=False)
        out = np.empty_like(features)
        codes, uniques = pd.factorize(speakers)
        counts = np.bincount(codes, minlength=len(uniques))
        for code, count in enumerate(counts):
            rows = codes == code
            if count < self.min_samples:
                out[rows] = _standardise(features[rows], self.mean_, self.scale_)
            else:
                mean, scale = self._statistics(features[rows])
                out[rows] = _standardise(features[rows], mean, scale)
        small = counts < self.min_samples
        if small.any():
            listed = [
                f"{speaker!r} ({count} rows)"
                for speaker, count in zip(uniques[small], counts[small], strict=True)
            ]
            warn(
                f"{small.sum()} speaker(s) have fewer than min_samples="
                f"{self.min_samples} rows in X: {abbreviate(listed)}. They are "
                "standardised with the training data's global mean and standard "
                "deviation instead of their own."
            )
        return out

    def get_feature_names_out(self, input_features=None):
        """Get the output feature names: the input columns but the speakers'.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names, the speaker column included. If None,
            `feature_names_in_` is used (``x0``, ``x1``, ... when the columns
            were not named).

        Returns
        -------
        feature_names_out : ndarray of str objects
            The names of the feature columns, in their input order.
        """
        check_is_fitted(self, "n_features_in_")
        names = _check_feature_names_in(self, input_features)
        return np.delete(np.asarray(names, dtype=object), self._speaker_index)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # X must be a DataFrame with a speaker column: sklearn's common checks,
        # which pass plain arrays, skip the estimator (tests/test_common.py);
        # tests/test_preprocessing.py checks its API by hand.
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    # -- helpers ---------------------------------------------------------------

    def _statistics(self, features):
        """Mean and scale of ``features`` (None where not used), as StandardScaler.

        StandardScaler's scale is 1 for constant features, including features
        whose variance is only rounding error.
        """
        scaler = StandardScaler(with_mean=self.with_mean, with_std=self.with_std)
        scaler.fit(features)
        return (scaler.mean_ if self.with_mean else None), scaler.scale_

    def _split(self, X, *, reset):
        """Validate X; return its features (float ndarray) and speaker ids."""
        speakers = group_column(
            X,
            self.speaker_column,
            owner="SpeakerStandardScaler",
            role="speaker",
            holds="speaker ids in the column",
        )
        missing = speakers.isna().to_numpy()
        if missing.any():
            raise ValueError(
                f"The speaker column {self.speaker_column!r} holds "
                f"{missing.sum()} missing speaker id(s) (NaN or None), at rows "
                f"{abbreviate(np.flatnonzero(missing).tolist())}."
            )
        features = X.drop(columns=self.speaker_column)
        bad = non_numeric_columns(features, allow_bool=False)
        if bad:
            raise ValueError(
                f"All columns of X but the speaker column must be numeric; "
                f"these are not: {abbreviate(bad)}."
            )
        if features.shape[1] == 0:
            raise ValueError(
                f"X has no feature column besides the speaker column "
                f"{self.speaker_column!r}: there is nothing to standardise."
            )
        # Names and count of all columns, speaker column included, as sklearn
        # defines n_features_in_ (ColumnTransformer counts dropped columns too).
        validate_data(self, X, reset=reset, skip_check_array=True)
        features = check_array(
            features, dtype=(np.float64, np.float32), ensure_min_features=0
        )
        return features, speakers.to_numpy()


def _standardise(features, mean, scale):
    """``(features - mean) / scale``, skipping a step whose statistic is None."""
    out = features.copy()
    if mean is not None:
        out -= mean
    if scale is not None:
        out /= scale
    return out
