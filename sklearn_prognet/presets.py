# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Named sets of network parameters (placeholder, filled in from the study)."""

import inspect

from sklearn_prognet._estimators import DNNClassifier

__all__ = ["PAPER", "SMALL_CORPUS"]

_TRAINING_KEYS = (
    "hidden_layer_sizes",
    "activation",
    "dropout",
    "lr",
    "batch_size",
    "max_epochs",
    "patience",
    "input_dropout",
    "weight_decay",
    "input_noise",
    "label_smoothing",
)

PAPER = {
    name: inspect.signature(DNNClassifier).parameters[name].default
    for name in _TRAINING_KEYS
}

SMALL_CORPUS = dict(PAPER)
