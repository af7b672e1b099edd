"""Shared assets of the batched engine's tests (test_batched*.py).

Plain functions, not fixtures: a fixture imported into several test
modules is flagged by ruff (F811, redefinition), so each module wraps
these in its own small module-scoped fixtures.
"""

import numpy as np
import torch
from sklearn.datasets import make_classification

from sklearn_prognet import (
    DNNClassifier,
    FineTunedClassifier,
    ProgressiveNetClassifier,
)
from sklearn_prognet._batched import train_nets
from sklearn_prognet._training import fit_net

SMALL = {"hidden_layer_sizes": (16, 16), "lr": 0.01, "random_state": 0}


def make_data():
    """A 3-class problem as float32 (120 x 8)."""
    X, y = make_classification(
        n_samples=120, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y


def make_source(data):
    """A small DNN fitted on ``data``'s features with other (2-class) labels."""
    X, y = data
    return DNNClassifier(max_epochs=10, **SMALL).fit(X, np.arange(len(y)) % 2)


def network(kind, source, **params):
    """An unfitted 'dnn', 'ptft' or 'prognet' of SMALL's size over ``source``."""
    params = {**SMALL, **params}
    if kind == "dnn":
        return DNNClassifier(**params)
    if kind == "ptft":
        return FineTunedClassifier(source=source, n_frozen_layers=1, **params)
    return ProgressiveNetClassifier(sources=[source], **params)


def assert_same_training(job):
    """Per-fit and batched training of one job end with the same net."""
    reference = fit_net(**job)
    (batched,) = train_nets([job])
    expected, got = reference.module_.state_dict(), batched.module_.state_dict()
    assert expected.keys() == got.keys()
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], atol=1e-5, rtol=1e-4)
    assert len(batched.history) == len(reference.history)
    for key in ("train_loss", "valid_loss", "valid_uar"):
        np.testing.assert_allclose(
            batched.history[:, key], reference.history[:, key], rtol=1e-4, atol=1e-6
        )
    return reference, batched
