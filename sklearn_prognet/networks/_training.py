# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""skorch glue: device checks, the nets that hold trained modules, inference.

Also seeding and the inner validation split. Training itself is
:mod:`sklearn_prognet.networks._batched`'s, for a net alone as for many. Nothing here
knows about scikit-learn's estimator API; ``_estimators`` calls these
functions with numpy arrays and plain values, and tensors are made here.
"""

import contextlib
import math

import numpy as np
import torch
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit
from skorch import NeuralNetClassifier

from sklearn_prognet.networks._modules import ProgressiveNet, SmoothedCrossEntropyLoss
from sklearn_prognet.networks._multitask import MultiTaskLoss

# The types a ``device`` parameter may have, for parameter constraints.
DEVICE_TYPES = (str, torch.device)


def check_device(device):
    """Check that ``device`` names a torch device available here.

    Parameters
    ----------
    device : str or torch.device
        For example ``'cpu'``, ``'cuda'``, ``'cuda:1'`` or ``'mps'``.

    Returns
    -------
    device : str
        The device, as torch spells it.
    """
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device={device!r} is not a torch device; use 'cpu', 'cuda' "
            "(or 'cuda:1', ...) or 'mps'."
        ) from None
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
    }
    if device.type not in available:
        raise ValueError(
            f"device={str(device)!r} is not supported; use 'cpu', 'cuda' or 'mps'."
        )
    if not available[device.type]:
        raise ValueError(
            f"device={str(device)!r}, but {device.type.upper()} is not available here."
        )
    return str(device)


class TensorBatchIterator:
    """Mini-batches sliced, in order, from tensors held in memory.

    The skorch nets of the package predict through it (their
    ``iterator_valid``): skorch's default :class:`torch.utils.data.DataLoader`
    indexes the dataset one sample at a time and collates the samples again
    for every batch, which plain slicing avoids. Training does not use it
    (:mod:`sklearn_prognet.networks._batched` trains every net).

    Parameters
    ----------
    dataset : skorch.dataset.Dataset
        Holds ``X`` (a float tensor) and ``y`` (a long tensor or None).
    batch_size : int
        Samples per batch.
    """

    def __init__(self, dataset, batch_size):
        self.dataset = dataset
        self.batch_size = batch_size

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        X, y = self.dataset.X, self.dataset.y
        for start in range(0, len(self.dataset), self.batch_size):
            batch = slice(start, start + self.batch_size)
            yield X[batch], None if y is None else y[batch]


class ProgressiveNetTrainer(NeuralNetClassifier):
    """The skorch classifier that holds a trained module and predicts with it.

    skorch sets the module's mode at every forward pass, which visits every
    submodule. The module is private to one estimator and every switch of
    its mode goes through the module's ``train``, which sets the whole
    tree, so the top-level flag tells the mode of the tree and a switch to
    the mode it is already in can be skipped.
    """

    def _set_training(self, training=True):
        if self.module_.training != training:
            super()._set_training(training)


class MultiTaskTrainer(ProgressiveNetTrainer):
    """The net of a module with a regression head (multi-task learning).

    Its criterion is :class:`~sklearn_prognet.networks._multitask.MultiTaskLoss`; the
    module returns ``(logits, ratings)``. Like every net of the package it
    only predicts: :mod:`sklearn_prognet.networks._batched` trains it.
    """


# Nets pickled before the one training loop (0.1.0, commit d04aef0) name
# these two functions in their skorch callbacks; pickle looks them up by name.
# A loaded net only predicts, so neither is ever called by this release.
def _valid_uar(net, X, y):
    """Retired: the validation score of nets trained by skorch's own loop."""
    raise RuntimeError(
        "This net was trained by sklearn_prognet 0.1.0 (before its one "
        "training loop) and can only predict: refit the estimator to train."
    )


def _silent(*args, **kwargs):
    """Retired: the silent sink of the early stopping of nets before 0.1.0's loop."""


def make_net(
    *,
    n_features,
    columns,
    n_frozen,
    dropout,
    lr,
    batch_size,
    max_epochs,
    device,
    module=ProgressiveNet,
    module_params=(),
    weight_decay=0.0,
    label_smoothing=0.0,
    dimensional_loss=None,
):
    """Build the skorch net that holds a trained module.

    The net is what an estimator keeps (``net_``) and predicts with; it
    records the training parameters it was trained with (``lr``,
    ``batch_size``, ``max_epochs``, the optimizer's weight decay and the
    criterion), but :mod:`sklearn_prognet.networks._batched` trains it, as a stack
    of one or with others, and writes its weights and history into it.

    Parameters
    ----------
    n_features, columns, n_frozen, dropout
        Passed to the module (:class:`~sklearn_prognet.networks._modules.ProgressiveNet`
        by default).
    lr, batch_size, max_epochs, device
        skorch's training parameters (``batch_size`` also batches prediction).
    module : type, default=ProgressiveNet
        The torch module.
    module_params : tuple of (str, object), default=()
        Further constructor arguments of ``module``.
    weight_decay : float, default=0.0
        Decoupled weight decay of Adam (AdamW, Loshchilov & Hutter 2019).
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy loss.
    dimensional_loss : tuple of (str, float) or None, default=None
        ``(kind, weight)`` of the loss on the ratings of a multi-task module
        (one with ``n_dimensions`` in ``module_params``): the net is then a
        :class:`MultiTaskTrainer`. None: classes alone.

    Returns
    -------
    net : ProgressiveNetTrainer
        An uninitialised net.
    """
    module_kwargs = {f"module__{name}": value for name, value in module_params}
    trainer, criterion = _trainer_and_criterion(dimensional_loss, label_smoothing)
    return trainer(
        module=module,
        module__n_features=n_features,
        module__columns=columns,
        module__n_frozen=n_frozen,
        module__dropout=dropout,
        **criterion,
        optimizer=torch.optim.Adam,
        optimizer__weight_decay=weight_decay,
        optimizer__decoupled_weight_decay=True,
        lr=lr,
        batch_size=batch_size,
        max_epochs=max_epochs,
        iterator_valid=TensorBatchIterator,
        train_split=None,
        callbacks__valid_acc=None,
        callbacks__print_log=None,
        device=device,
        verbose=0,
        **module_kwargs,
    )


def _trainer_and_criterion(dimensional_loss, label_smoothing):
    """The net's class and criterion parameters, with or without ratings."""
    if dimensional_loss is None:
        return ProgressiveNetTrainer, {
            "criterion": SmoothedCrossEntropyLoss,
            "criterion__label_smoothing": label_smoothing,
        }
    kind, weight = dimensional_loss
    return MultiTaskTrainer, {
        "criterion": MultiTaskLoss,
        "criterion__kind": kind,
        "criterion__weight": weight,
        "criterion__label_smoothing": label_smoothing,
    }


def n_trainable_params(net):
    """Number of parameters the optimizer updates.

    Frozen columns are buffers, and a :class:`~skorch.callbacks.Freezer`
    leaves ``requires_grad`` off after training, so both are left out.
    """
    return sum(p.numel() for p in net.module_.parameters() if p.requires_grad)


def predict_logits(net, X):
    """The logits of a trained net for ``X``, as a numpy array."""
    X = torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32))
    output = net.forward(X, training=False)
    # a multi-task module returns (logits, ratings)
    return (output[0] if isinstance(output, tuple) else output).numpy()


def predict_ratings(net, X):
    """The ratings a trained multi-task net predicts for ``X`` (numpy)."""
    X = torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32))
    return net.forward(X, training=False)[1].numpy()


def fitted_attributes(net, early_stopping):
    """The fitted attributes of a network estimator from its trained net.

    ``history_``, ``n_iter_``, ``best_epoch_``, ``n_trainable_params_`` and,
    set last so that a fit that failed half-way is not fitted, ``net_``.
    """
    return {
        "history_": history_arrays(net),
        "n_iter_": len(net.history),
        "best_epoch_": best_epoch(net, early_stopping),
        "n_trainable_params_": n_trainable_params(net),
        "net_": net,
    }


def best_epoch(net, early_stopping):
    """The epoch whose weights a trained net kept.

    With early stopping, the last epoch that improved on the best
    validation UAR (``valid_uar_best`` in the history), whose weights were
    restored; without, the last epoch.
    """
    if not early_stopping:
        return len(net.history)
    improved = [i for i, row in enumerate(net.history, 1) if row["valid_uar_best"]]
    return improved[-1]


def history_arrays(net):
    """Per-epoch learning curves from a skorch history, as numpy arrays."""
    history = net.history

    def column(key):
        return np.array([row.get(key, np.nan) for row in history], dtype=float)

    return {
        "epoch": np.array([row["epoch"] for row in history], dtype=int),
        "train_loss": column("train_loss"),
        "valid_loss": column("valid_loss"),
        "valid_uar": column("valid_uar"),
    }


@contextlib.contextmanager
def seeded_torch(seed, device):
    """Seed torch inside a forked RNG so that the global state is untouched."""
    device = torch.device(device)
    devices = []
    if device.type == "cuda":
        devices = [device.index if device.index is not None else 0]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def inner_validation_split(y, groups, validation_fraction, rng):
    """Split training data into a training part and an early-stopping part.

    With ``groups`` (speakers) no group is on both sides, and classes are
    balanced as well as the groups allow; without, the split is stratified.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Encoded labels.
    groups : array-like of shape (n_samples,) or None
        Group (speaker) of every sample.
    validation_fraction : float
        Share of the samples to hold out.
    rng : numpy.random.RandomState
        Source of randomness.

    Returns
    -------
    train, valid : ndarray of int
        Indices of both parts.
    """
    seed = rng.randint(np.iinfo(np.int32).max)
    if groups is None:
        classes, counts = np.unique(y, return_counts=True)
        if counts.min() < 2:
            raise ValueError(
                "early_stopping holds out a stratified validation set, which "
                "needs at least 2 samples of every class; class "
                f"{classes[counts.argmin()]!r} has {counts.min()}. Pass more data, "
                "set early_stopping=False, or pass X_val and y_val to fit."
            )
        n_valid = max(len(classes), round(validation_fraction * len(y)))
        if len(y) - n_valid < len(classes):
            raise ValueError(
                f"Too few samples ({len(y)}) to hold out a validation set of "
                f"{n_valid} and keep every class for training. Set "
                "early_stopping=False, or pass X_val and y_val to fit."
            )
        splitter = StratifiedShuffleSplit(
            n_splits=1, test_size=n_valid, random_state=seed
        )
        return next(splitter.split(np.zeros((len(y), 1)), y))
    groups = np.asarray(groups)
    if len(groups) != len(y):
        raise ValueError(
            f"groups has {len(groups)} entries but X has {len(y)} samples."
        )
    unique_groups = np.unique(groups)
    if len(unique_groups) < 2:
        raise ValueError(
            "early_stopping with groups needs at least 2 groups to hold out "
            f"a validation group; got {len(unique_groups)}. Pass X_val and y_val."
        )
    n_splits = min(len(unique_groups), max(2, round(1 / validation_fraction)))
    # Relabel the groups in a random order: StratifiedGroupKFold's own shuffle
    # only breaks ties, so this is what makes the held-out groups random.
    relabel = dict(zip(unique_groups, rng.permutation(len(unique_groups)), strict=True))
    shuffled = np.array([relabel[g] for g in groups])
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return next(splitter.split(np.zeros((len(y), 1)), y, shuffled))
