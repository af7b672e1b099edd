# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""skorch glue: device checks, training and inference, callbacks, seeding.

Also the inner validation split. Nothing here knows about scikit-learn's
estimator API; ``_estimators`` calls these functions with numpy arrays and
plain values, and tensors are made here.
"""

import contextlib
import math
import warnings

import numpy as np
import torch
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping, EpochScoring, Freezer
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from skorch.utils import to_numpy

from sklearn_prognet._columns import load_state
from sklearn_prognet._modules import ProgressiveNet, SmoothedCrossEntropyLoss, keep_mask
from sklearn_prognet._multitask import MultiTaskLoss
from sklearn_prognet.metrics import uar_score

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


def _tensors(X, y):
    """Features as a float32 tensor and encoded labels as an int64 one."""
    return (
        torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32)),
        torch.as_tensor(np.asarray(y, dtype=np.int64)),
    )


class TensorBatchIterator:
    """Mini-batches sliced from tensors held in memory.

    skorch's default iterator is a :class:`torch.utils.data.DataLoader`, which
    indexes the dataset one sample at a time and collates the samples again
    for every batch. For tabular features that fit in memory, one gather per
    epoch (to shuffle) and plain slicing is several times cheaper.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset
        Holds ``X`` (a float tensor, or a dict of them that skorch passes to
        the module as keyword arguments) and ``y`` (a long tensor or None).
    batch_size : int
        Samples per batch.
    shuffle : bool, default=False
        Draw a new order every epoch, from torch's global generator (which
        the estimators seed and fork, so results are reproducible).
    input_noise : float, default=0.0
        Standard deviation of Gaussian noise added to the first ``n_inputs``
        columns of every batch. Only the training iterator gets it, so
        validation and prediction see clean inputs.
    input_dropout : float, default=0.0
        Probability of zeroing each of the first ``n_inputs`` columns of
        every batch (inverted dropout, after the noise).
    n_inputs : int or None, default=None
        Number of leading columns that are features; the columns after them
        (the corpus code of the multi-corpus net) are never corrupted. With a
        dict ``X``, only its ``"x"`` is. None means all columns.
    """

    def __init__(
        self,
        dataset,
        batch_size,
        shuffle=False,
        input_noise=0.0,
        input_dropout=0.0,
        n_inputs=None,
    ):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.input_noise = input_noise
        self.input_dropout = input_dropout
        self.n_inputs = n_inputs

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        X, y = self.dataset.X, self.dataset.y
        if self.shuffle:
            order = torch.randperm(len(self.dataset))
            X = _take(X, order)
            y = None if y is None else _take(y, order)
        corrupt = self.input_noise > 0 or self.input_dropout > 0
        for start in range(0, len(self.dataset), self.batch_size):
            batch = slice(start, start + self.batch_size)
            X_batch = _take(X, batch)
            if corrupt:
                X_batch = self._corrupt(X_batch)
            yield X_batch, None if y is None else _take(y, batch)

    def _corrupt(self, X):
        """Noise and dropout on the feature columns of a training batch."""
        if isinstance(X, dict):
            # The frozen columns' activations were computed once from clean
            # inputs; only the trained column sees the corrupted ones.
            return {**X, "x": self._corrupt(X["x"])}
        n_inputs = X.shape[1] if self.n_inputs is None else self.n_inputs
        inputs = X[:, :n_inputs]
        if self.input_noise > 0:
            inputs = inputs + self.input_noise * torch.randn_like(inputs)
        if self.input_dropout > 0:
            inputs = inputs * keep_mask(inputs, self.input_dropout)
        if n_inputs == X.shape[1]:
            return inputs
        return torch.cat([inputs, X[:, n_inputs:]], dim=1)


def _take(X, index):
    """Index a tensor, or every tensor of a dict."""
    if isinstance(X, dict):
        return {key: value[index] for key, value in X.items()}
    return X[index]


class ProgressiveNetTrainer(NeuralNetClassifier):
    """skorch's classifier, minus a per-batch walk of the module tree.

    skorch switches the module to training mode before every batch, which
    visits every submodule (a twelfth of an epoch of the paper's network at
    batch size 64). The module is private to one estimator and every switch
    of its mode goes through :meth:`ProgressiveNet.train`, which sets the
    whole tree, so the top-level flag tells the mode of the tree and a switch
    to the mode it is already in can be skipped.
    """

    def _set_training(self, training=True):
        if self.module_.training != training:
            super()._set_training(training)


class MultiTaskTrainer(ProgressiveNetTrainer):
    """The trainer of a module with a regression head (multi-task learning).

    The training targets are a dict ``{"y": labels, "dimensions": ratings}``
    that :class:`TensorBatchIterator` slices and
    :class:`~sklearn_prognet._multitask.MultiTaskLoss` reads; validation
    targets are the labels alone. skorch's classifier checks that its
    targets are labels, so it is shown the labels.
    """

    def check_data(self, X, y):
        """Check the labels, also when they come with the ratings."""
        super().check_data(X, y["y"] if isinstance(y, dict) else y)


def _valid_uar(net, X, y):
    # With skorch's caching, predict reuses the forward pass of the
    # validation step: scoring costs no extra inference.
    with warnings.catch_warnings():
        # a small validation set may lack a class the network predicts
        warnings.filterwarnings("ignore", "y_pred contains classes not in y_true")
        return uar_score(to_numpy(y), net.predict(X))


def _silent(*args, **kwargs):
    """A sink for EarlyStopping when the user asked for silence."""


def _callbacks(valid_data, patience, freeze_patterns, verbose):
    """Validation scoring, early stopping and freezing, as skorch callbacks."""
    callbacks = []
    if valid_data is not None:
        callbacks.append(
            (
                "valid_uar",
                EpochScoring(_valid_uar, lower_is_better=False, name="valid_uar"),
            )
        )
    if valid_data is not None and patience is not None:
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor="valid_uar",
                    lower_is_better=False,
                    patience=patience,
                    threshold=0.0,
                    threshold_mode="abs",
                    load_best=True,
                    sink=print if verbose else _silent,
                ),
            )
        )
    if freeze_patterns:
        callbacks.append(("freezer", Freezer(list(freeze_patterns))))
    return callbacks


def make_net(
    *,
    n_features,
    columns,
    n_frozen,
    dropout,
    lr,
    batch_size,
    max_epochs,
    valid_data,
    patience,
    device,
    verbose,
    freeze_patterns=(),
    module=ProgressiveNet,
    module_params=(),
    input_dropout=0.0,
    weight_decay=0.0,
    input_noise=0.0,
    label_smoothing=0.0,
    dimensional_loss=None,
):
    """Build the skorch net that trains a :class:`ProgressiveNet`.

    Parameters
    ----------
    n_features, columns, n_frozen, dropout
        Passed to :class:`~sklearn_prognet._modules.ProgressiveNet`.
    lr, batch_size, max_epochs, device, verbose
        skorch's training parameters.
    valid_data : tuple of (torch.Tensor, torch.Tensor) or None
        The validation set, scored after every epoch. None trains for
        ``max_epochs`` epochs without validation.
    patience : int or None
        Epochs without validation-UAR improvement before stopping. None
        scores ``valid_data`` without stopping early.
    freeze_patterns : tuple of str
        Parameter-name patterns to freeze (fine-tuning's frozen layers).
    module : type, default=ProgressiveNet
        The torch module to train.
    module_params : tuple of (str, object), default=()
        Further constructor arguments of ``module``.
    input_dropout, input_noise : float, default=0.0
        Corruption of the first ``n_features`` input columns of every
        training batch (:class:`TensorBatchIterator`).
    weight_decay : float, default=0.0
        Decoupled weight decay of Adam (AdamW, Loshchilov & Hutter 2019).
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy loss.
    dimensional_loss : tuple of (str, float) or None, default=None
        ``(kind, weight)`` of the loss on the ratings of a multi-task module
        (one with ``n_dimensions`` in ``module_params``): the net is then a
        :class:`MultiTaskTrainer`. None trains the classes alone.

    Returns
    -------
    net : ProgressiveNetTrainer
        An uninitialised net.
    """
    callbacks = _callbacks(valid_data, patience, freeze_patterns, verbose)
    use_fused = torch.device(device).type in ("cpu", "cuda")
    silent = {}
    if not verbose:
        # skorch's PrintLog formats a table every epoch even when it prints
        # nothing, a few per cent of an epoch on a corpus of EmoDB's size
        silent["callbacks__print_log"] = None
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
        optimizer__fused=use_fused,
        # Decoupled (AdamW) rather than an L2 term in the loss: with Adam, an
        # L2 gradient is divided by the adaptive scale and barely shrinks
        # weights with large gradients. With weight_decay=0 neither runs.
        optimizer__weight_decay=weight_decay,
        optimizer__decoupled_weight_decay=True,
        lr=lr,
        batch_size=batch_size,
        max_epochs=max_epochs,
        iterator_train=TensorBatchIterator,
        iterator_train__shuffle=True,
        iterator_train__input_noise=input_noise,
        iterator_train__input_dropout=input_dropout,
        iterator_train__n_inputs=n_features,
        iterator_valid=TensorBatchIterator,
        train_split=None
        if valid_data is None
        else predefined_split(Dataset(*valid_data)),
        callbacks=callbacks,
        # skorch's default accuracy scoring is replaced by valid_uar
        callbacks__valid_acc=None,
        device=device,
        verbose=verbose,
        **silent,
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


def fit_net(plan, train, valid, *, frozen_nets, seed, **params):
    """Build, initialise and train the net of a :class:`ColumnPlan`.

    Parameters
    ----------
    plan : ColumnPlan
        The columns, the weights to load and the parameters to freeze.
    train : tuple of ndarray
        ``(X, y)`` to train on, with encoded labels, or ``(X, y, ratings)``
        for a multi-task net (``dimensional_loss`` in ``params``); ratings
        are NaN where missing.
    valid : tuple of ndarray or None
        ``(X, y)`` scored after every epoch, or None.
    frozen_nets : sequence of skorch nets
        The fitted nets whose columns are the plan's frozen columns, in
        order.
    seed : int
        Seed of torch's random state, forked for the training.
    **params
        The remaining parameters of :func:`make_net`.

    Returns
    -------
    net : ProgressiveNetTrainer
        The trained net.
    """
    X_train, y_train = _tensors(*train[:2])
    if len(train) > 2:
        ratings = np.ascontiguousarray(train[2], dtype=np.float32)
        y_train = {"y": y_train, "dimensions": torch.as_tensor(ratings)}
    valid_data = None if valid is None else _tensors(*valid)
    if plan.n_frozen:
        X_train = _with_frozen(X_train, frozen_nets)
        if valid_data is not None:
            valid_data = (_with_frozen(valid_data[0], frozen_nets), valid_data[1])
    with seeded_torch(seed, params["device"]):
        net = make_net(
            columns=plan.columns,
            n_frozen=plan.n_frozen,
            valid_data=valid_data,
            freeze_patterns=plan.freeze_patterns,
            module=plan.module,
            module_params=plan.module_params,
            **params,
        )
        net.initialize()
        if plan.state:
            load_state(net.module_, plan.state)
        net.partial_fit(X_train, y_train)
    return net


def _with_frozen(X, frozen_nets):
    """Training input with the frozen columns' activations computed once.

    The frozen columns are the columns of ``frozen_nets`` in order, so their
    activations are those nets' own, concatenated. skorch passes the dict to
    the module as keyword arguments.
    """
    frozen = [
        net.module_.hidden_activations(X.to(net.device)).cpu() for net in frozen_nets
    ]
    return {"x": X, "frozen": torch.cat(frozen, dim=1)}


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


def best_epoch(net):
    """The epoch whose weights a trained net kept.

    The last epoch when training ran without early stopping.
    """
    early = dict(net.callbacks_).get("early_stopping")
    return int(early.best_epoch_) if early else len(net.history)


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
