# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Checks and scaling of the dimensional ratings of multi-task learning.

The sklearn side of ``fit(X, y, dimensions=...)``: what ``dimensions`` may
be, the names of its columns, and the standardisation that ``fit`` applies
and ``predict_dimensions`` undoes. numpy and pandas only.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd

from sklearn_prognet.utils._warnings import warn

__all__ = ["Ratings", "check_dimensions", "check_rated", "standardise"]


class Ratings(NamedTuple):
    """Checked ratings: a float array with NaN where missing, and names."""

    values: np.ndarray
    names: np.ndarray


def check_dimensions(dimensions, n_samples, weight):
    """Check the ``dimensions`` passed to ``fit``.

    Parameters
    ----------
    dimensions : array-like of shape (n_samples,) or (n_samples, n_dims) or None
        Continuous ratings, NaN where missing; a DataFrame names them.
    n_samples : int
        Number of rows of ``X``.
    weight : float
        The estimator's ``dimensional_weight``.

    Returns
    -------
    ratings : Ratings or None
        None when the ratings are not learned (``weight`` is 0).
    """
    if dimensions is None:
        if weight > 0:
            raise ValueError(
                f"dimensional_weight={weight} needs ratings to learn: pass "
                "dimensions to fit, an array of shape (n_samples, n_dimensions) "
                "with NaN for a missing rating, or set dimensional_weight=0."
            )
        return None
    if weight == 0:
        warn(
            "dimensions is not used: dimensional_weight=0 trains the classes "
            "alone. Set dimensional_weight > 0 to learn the ratings too."
        )
        return None
    values, names = _as_float(dimensions)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] != n_samples or values.shape[1] == 0:
        raise ValueError(
            "dimensions must have shape (n_samples, n_dimensions) with one row "
            f"per sample of X ({n_samples}) and at least one column; got shape "
            f"{np.shape(dimensions)}."
        )
    if np.isinf(values).any():
        raise ValueError(
            "dimensions has infinite values; use NaN for a missing rating."
        )
    if names is None:
        names = [f"dimensions_{j}" for j in range(values.shape[1])]
    ratings = Ratings(values, np.asarray(names, dtype=object))
    check_rated(ratings, "dimensions")
    return ratings


def _as_float(dimensions):
    """The ratings as a float64 array, and the column names if it has any."""
    if isinstance(dimensions, pd.Series):
        dimensions = dimensions.to_frame()
    if isinstance(dimensions, pd.DataFrame):
        for name, dtype in dimensions.dtypes.items():
            if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(
                dtype
            ):
                raise ValueError(
                    f"dimensions must hold numeric ratings; column {name!r} has "
                    f"dtype {dtype}."
                )
        names = [str(name) for name in dimensions.columns]
        return dimensions.to_numpy(dtype=np.float64, na_value=np.nan), names
    values = np.asarray(dimensions)
    if values.dtype.kind not in "iufO":
        raise ValueError(
            "dimensions must hold numeric ratings (NaN where missing); got an "
            f"array of dtype {values.dtype}."
        )
    if values.dtype.kind == "O":
        # astype would parse "1.0" silently: text is not a rating, even
        # when it reads as a number
        text = [v for v in values.ravel() if isinstance(v, (str, bytes))]
        if text:
            raise ValueError(
                "dimensions must hold numeric ratings (NaN where missing); "
                f"{len(text)} value(s) are text, not numbers, e.g. {text[0]!r}."
            )
    try:
        return values.astype(np.float64), None
    except (TypeError, ValueError):
        raise ValueError(
            "dimensions must hold numeric ratings (NaN where missing); some "
            "values are not numbers."
        ) from None


def check_rated(ratings, where):
    """Raise if a dimension has no rating at all in ``ratings``.

    ``where`` names the data in the message, e.g. ``'dimensions'`` or
    ``'the training part of dimensions'``.
    """
    unrated = np.isnan(ratings.values).all(axis=0)
    if unrated.any():
        missing = ratings.names[unrated].tolist()
        raise ValueError(
            f"{where} has no rating (only NaN) for {missing}: the regression "
            "head cannot learn a dimension without ratings. Drop that column."
        )


def standardise(values):
    """Ratings scaled to zero mean and unit variance, ignoring NaN.

    Returns
    -------
    scaled : ndarray
        The standardised ratings, NaN kept.
    mean, scale : ndarray of shape (n_dims,)
        What was removed; ``scale`` is 1 for a constant dimension, as in
        :class:`~sklearn.preprocessing.StandardScaler`.
    """
    mean = np.nanmean(values, axis=0)
    scale = np.nanstd(values, axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    return (values - mean) / scale, mean, scale
