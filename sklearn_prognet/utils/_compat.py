# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The only module that imports private scikit-learn, skorch and torch helpers.

None of these libraries promises stability for its private names; keeping
them in one place means a future rename is fixed here alone
(``tests/test_import_rules.py`` checks that no other module imports one).

Importing this module never imports torch: the torch-free modules
(:mod:`sklearn_prognet.model_selection`, :mod:`sklearn_prognet.stats`) use
it too. torch's private kernels are looked up when first asked for (a
module ``__getattr__``, PEP 562), by modules that import torch anyway.
"""

# The estimators' parameter validation: sklearn's own machinery (STYLE.md §2).
# _fit_context runs it once per fit and sets up nested validation.
from sklearn.base import _fit_context

# Index and count the rows of any array-like (list, ndarray, DataFrame,
# sparse) the way sklearn.model_selection.cross_validate does, so that the
# batched cross-validation (networks/_batched_fit.py) accepts exactly what it accepts.
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)

# get_feature_names_out of our transformers checks input_features the way
# sklearn's transformers do.
from sklearn.utils.validation import _check_feature_names_in, _num_samples

# torch's private kernels. The batched engine (networks._batched._adam_step) steps
# many stacked models at once with one call of the fused Adam kernel over
# every (model, parameter) slice, so that a model that does not step keeps
# its weights, moments and step count: torch.optim's public optimizers keep
# one state per parameter tensor and cannot leave some models' slices out.
_TORCH_PRIVATE = (
    "_fused_adam_",  # Adam's fused kernel
    "_fused_adamw_",  # AdamW's (Adam with decoupled weight decay, per-fit)
    "_foreach_add_",  # the in-place step-count increment of those optimizers
)


def __getattr__(name):
    # PEP 562: torch is imported only when one of its private kernels is asked for.
    if name in _TORCH_PRIVATE:
        import torch

        return getattr(torch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    "_num_samples",
    "_safe_indexing",
    "validate_params",
    *_TORCH_PRIVATE,
]
