"""Shared assets of the batched engine's tests (test_batched*.py).

Plain functions, not fixtures: a fixture imported into several test
modules is flagged by ruff (F811, redefinition), so each module wraps
these in its own small module-scoped fixtures.
"""

import copy
from types import SimpleNamespace

import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.metrics import balanced_accuracy_score
from skorch.history import History

from sklearn_prognet import (
    DNNClassifier,
    FineTunedClassifier,
    ProgressiveNetClassifier,
)
from sklearn_prognet.networks._batched import _initialised_net, train_nets

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


def reference_training(job):
    """Train a job with a plain torch loop over its module: the engine's check.

    Independent of the engine's stacked layouts: the module's own forward
    pass (frozen columns, laterals, adapters, heads), the net's criterion,
    :class:`torch.optim.Adam` and sklearn's balanced accuracy for the UAR,
    early stopping restoring the best epoch's weights. Deterministic
    settings only (one batch per epoch, no input noise or input dropout;
    dropout only with a fixed mask patched into the module), since the
    engine draws its randomness from its own streams.

    Returns
    -------
    trained : SimpleNamespace
        ``module_`` (trained) and ``history`` (a skorch History).
    """
    assert job["batch_size"] >= len(job["train"][1]), "one batch per epoch"
    assert not job["input_noise"] and not job["input_dropout"]
    net = _initialised_net(job)
    module, criterion = net.module_, net.criterion_
    X = torch.tensor(np.asarray(job["train"][0], dtype=np.float32))
    y = torch.tensor(np.asarray(job["train"][1], dtype=np.int64))
    target = y
    if len(job["train"]) > 2:
        ratings = torch.tensor(np.asarray(job["train"][2], dtype=np.float32))
        target = {"y": y, "dimensions": ratings}
    trained = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(
        trained,
        lr=job["lr"],
        weight_decay=job["weight_decay"],
        decoupled_weight_decay=True,
    )
    history, best, misses, best_state = History(), -np.inf, 0, None
    for epoch in range(1, job["max_epochs"] + 1):
        history.new_epoch()
        history.record("epoch", epoch)
        module.train()
        loss = criterion(module(X), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.record("train_loss", loss.item())
        if job["valid"] is None:
            continue
        X_val, y_val = (torch.tensor(np.asarray(a)) for a in job["valid"])
        module.eval()
        with torch.no_grad():
            output = module(X_val.float())
            logits = output[0] if isinstance(output, tuple) else output
            history.record("valid_loss", criterion(output, y_val.long()).item())
        uar = balanced_accuracy_score(y_val.numpy(), logits.argmax(1).numpy())
        history.record("valid_uar", uar)
        if uar > best:
            best, misses, best_state = uar, 0, copy.deepcopy(module.state_dict())
        else:
            misses += 1
        if job["patience"] is not None and misses >= job["patience"]:
            break
    if job["patience"] is not None and best_state is not None:
        module.load_state_dict(best_state)
    return SimpleNamespace(module_=module, history=history)


def assert_same_training(job):
    """The engine and :func:`reference_training` end with the same net."""
    reference = reference_training(job)
    (batched,) = train_nets([job])
    expected, got = reference.module_.state_dict(), batched.module_.state_dict()
    assert expected.keys() == got.keys()
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], atol=1e-5, rtol=1e-4)
    assert len(batched.history) == len(reference.history)
    keys = ["train_loss"] + (["valid_loss", "valid_uar"] if job["valid"] else [])
    for key in keys:
        np.testing.assert_allclose(
            batched.history[:, key], reference.history[:, key], rtol=1e-4, atol=1e-6
        )
    return reference, batched
