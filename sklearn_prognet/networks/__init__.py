# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The networks: torch modules, the training loop and the estimators.

- :class:`~sklearn_prognet.DNNClassifier`,
  :class:`~sklearn_prognet.FineTunedClassifier` and
  :class:`~sklearn_prognet.ProgressiveNetClassifier`: the three methods of
  Gideon et al. (2017);
- :class:`~sklearn_prognet.ResidualAdapterClassifier` and
  :class:`~sklearn_prognet.MultiCorpusClassifier`: residual adapters, for one
  target corpus or for several at once.

The package root re-exports them (``from sklearn_prognet import
DNNClassifier``); ``from sklearn_prognet.networks import DNNClassifier``
works too. They are imported lazily (PEP 562): importing this package
imports neither torch nor skorch, so that the torch-free modules that read
the declaration of the training knobs (``_knobs.py``) stay torch-free.

Inside, three layers import downwards only: the estimators (``_estimators``,
``_adapters``, ``_ratings``, ``_batched_fit``), the training loop
(``_knobs``, ``_training``, ``_batched``) and the torch modules
(``_modules``, ``_adapter_modules``, ``_multitask``, ``_columns``).
"""

from sklearn_prognet.utils import _lazy

# public name -> module that defines it
_LAZY_NAMES = {
    # the three methods of Gideon et al. (2017)
    "DNNClassifier": "sklearn_prognet.networks._estimators",
    "FineTunedClassifier": "sklearn_prognet.networks._estimators",
    "ProgressiveNetClassifier": "sklearn_prognet.networks._estimators",
    # residual adapters
    "ResidualAdapterClassifier": "sklearn_prognet.networks._adapters",
    "MultiCorpusClassifier": "sklearn_prognet.networks._adapters",
}

__getattr__, __dir__, __all__ = _lazy.lazy_attributes(__name__, _LAZY_NAMES)
