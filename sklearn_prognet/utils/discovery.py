# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Discovery of the public estimators of sklearn_prognet."""

import inspect

from sklearn.base import BaseEstimator

import sklearn_prognet

__all__ = ["all_estimators"]

#: The public modules: their ``__all__`` lists the public names. The API
#: reference (docs/conf.py) and the docstring tests read this one list.
#: ``networks`` and ``features`` are public too, but only re-export names of
#: the top level, where they are documented and checked
#: (tests/test_public_paths.py).
PUBLIC_MODULES = (
    "sklearn_prognet",
    "sklearn_prognet.datasets",
    "sklearn_prognet.experiments",
    "sklearn_prognet.metrics",
    "sklearn_prognet.model_selection",
    "sklearn_prognet.plotting",
    "sklearn_prognet.preprocessing",
    "sklearn_prognet.presets",
    "sklearn_prognet.stats",
    "sklearn_prognet.utils.discovery",
)


def all_estimators():
    """List the public estimators of sklearn_prognet.

    Used by the common tests, so that a new estimator is checked by
    :func:`sklearn.utils.estimator_checks.parametrize_with_checks` as soon as
    it is exported.

    Returns
    -------
    estimators : list of tuple
        ``(name, class)`` pairs, sorted by name.

    See Also
    --------
    sklearn.utils.discovery.all_estimators : The same for scikit-learn.

    Examples
    --------
    >>> from sklearn_prognet.utils.discovery import all_estimators
    >>> for name, _ in all_estimators():
    ...     print(name)
    DNNClassifier
    EGeMAPSTransformer
    FineTunedClassifier
    MultiCorpusClassifier
    ProgressiveNetClassifier
    ResidualAdapterClassifier
    SpeakerEncoderTransformer
    SpeakerStandardScaler
    SpeechEmbeddingTransformer
    TextEmbeddingTransformer
    """
    found = []
    for name in sklearn_prognet.__all__:
        obj = getattr(sklearn_prognet, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            found.append((name, obj))
    return sorted(found)
