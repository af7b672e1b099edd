# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Checks of a DataFrame ``X`` that carries a group column beside its features.

Some estimators take the group of each row (its speaker, its corpus) as a
column of ``X``, because scikit-learn's scorers pass only ``X`` to
``predict``. :func:`group_column` checks that column and
:func:`non_numeric_columns` finds the feature columns that are not numbers.
"""

import pandas as pd

__all__ = ["abbreviate", "group_column", "non_numeric_columns"]

# How many items a message lists before it summarizes.
_MAX_LISTED = 10


def abbreviate(items):
    """``repr`` of a list, shortened to its first ``_MAX_LISTED`` items.

    Examples
    --------
    >>> from sklearn_prognet.utils._frames import abbreviate
    >>> abbreviate(list(range(12)))
    '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...] (12 in all)'
    """
    if len(items) <= _MAX_LISTED:
        return repr(items)
    return repr(items[:_MAX_LISTED])[:-1] + f", ...] ({len(items)} in all)"


def group_column(X, column, *, owner, role, holds):
    """Return the column ``column`` of the DataFrame ``X``, or raise.

    Parameters
    ----------
    X : object
        What the estimator was given as ``X``.
    column : str or int
        The name of the group column, the value of the parameter
        ``{role}_column``.
    owner : str
        The estimator's name, for the error messages.
    role : str
        What the column holds, one word (``'speaker'``): the parameter is
        ``{role}_column``.
    holds : str
        What the column holds, as the TypeError says it, followed by the
        parameter (``'speaker ids in the column'``).

    Returns
    -------
    groups : pandas.Series
        The column.
    """
    param = f"{role}_column"
    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            f"{owner} needs X as a pandas DataFrame with the {holds} "
            f"{param}={column!r}; got {type(X).__name__}."
        )
    if column not in X.columns:
        raise ValueError(
            f"X has no {role} column {param}={column!r}; "
            f"its columns are {abbreviate(list(X.columns))}."
        )
    groups = X[column]
    if isinstance(groups, pd.DataFrame):
        raise ValueError(
            f"X has several columns named {column!r}; column names must be unique."
        )
    return groups


def non_numeric_columns(features, *, allow_bool=True):
    """The names of the columns of ``features`` that are not numeric.

    ``check_array`` would only say "could not convert string to float".
    Boolean columns count as numeric unless ``allow_bool`` is False.
    """
    return [
        column
        for column, dtype in features.dtypes.items()
        if not pd.api.types.is_numeric_dtype(dtype)
        or (not allow_bool and pd.api.types.is_bool_dtype(dtype))
    ]
