# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The only module that imports private scikit-learn helpers.

scikit-learn does not promise stability for these names; keeping them in one
place means a future rename is fixed here alone.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import _check_feature_names_in


class IntervalNotBool(Interval):
    """An :class:`Interval` that refuses bools (``True`` is an Integral, 1)."""

    def is_satisfied_by(self, val):
        return not isinstance(val, bool) and super().is_satisfied_by(val)


__all__ = [
    "HasMethods",
    "Interval",
    "IntervalNotBool",
    "StrOptions",
    "_check_feature_names_in",
    "_fit_context",
    "validate_params",
]
