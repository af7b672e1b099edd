# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""torch modules: network columns, lateral connections and the progressive net.

A plain DNN is a progressive net with a single column and no frozen column, so
one module class serves all three estimators. Constructor arguments are ints,
floats, strings and tuples only: skorch rebuilds modules from them.
"""

import itertools
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
}


class ColumnSpec(NamedTuple):
    """The architecture of one column of a :class:`ProgressiveNet`.

    A tuple of plain values, so that skorch can rebuild the module from it.

    Attributes
    ----------
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers.
    n_outputs : int
        Width of the output layer (logits).
    activation : str
        Hidden non-linearity, a key of ``ACTIVATIONS``.
    lateral_from : tuple of int
        Indices of the earlier columns that feed this one laterally.
    lateral : {"linear", "adapter"}
        Kind of lateral connection.
    inputs : tuple of int or None, default=None
        Indices of the input features the column reads, in order; None
        reads them all. Columns of one network may read different features
        of the same input (a frozen column on a speaker embedding, the
        trained one on acoustic features).
    """

    hidden_layer_sizes: tuple
    n_outputs: int
    activation: str
    lateral_from: tuple
    lateral: str
    inputs: tuple | None = None


def as_spec(spec):
    """A :class:`ColumnSpec` from a spec or a plain tuple of 5 or 6 values.

    Specs saved before ``inputs`` existed have five values: they read every
    feature.
    """
    return ColumnSpec(*spec)


def input_width(spec, n_features):
    """The number of features a column reads out of ``n_features``."""
    return n_features if spec.inputs is None else len(spec.inputs)


class FastDropout(nn.Module):
    """Inverted dropout with a cheaply drawn mask.

    Statistically the same as :class:`torch.nn.Dropout`: every unit is kept,
    independently, with probability ``1 - p`` and scaled by ``1 / (1 - p)``.
    Only the random numbers are drawn differently, because on CPU drawing them
    dominates the cost of dropout for small networks: ``bernoulli_`` took 44 %
    of an epoch of the paper's network. For ``p = 0.5`` (the paper's) every
    unit needs one fair random bit, so one 32-bit random integer serves 32
    units (:func:`keep_mask`); other probabilities compare ``rand_like(x)``
    with ``p``, which is still about three times cheaper than ``bernoulli_``.
    """

    def __init__(self, p=0.5):
        super().__init__()
        self.p = float(p)

    def forward(self, x):
        """Drop units in training mode; the identity in eval mode."""
        if not self.training or self.p == 0.0:
            return x
        return x * keep_mask(x, self.p)


def keep_mask(x, p):
    """Draw an inverted-dropout mask shaped like ``x``.

    Parameters
    ----------
    x : torch.Tensor
        The activations to drop; gives the mask's shape, dtype and device.
    p : float
        Probability of dropping a unit, in [0, 1).

    Returns
    -------
    mask : torch.Tensor
        ``1 / (1 - p)`` where a unit is kept and 0 where it is dropped.
    """
    (mask,) = keep_masks(x.numel(), p, [None], x.device)
    return mask.view(x.shape).to(x.dtype)


def keep_masks(n_units, p, generators, device, drawing=None):
    """Inverted-dropout masks of several streams, one row each.

    The one place where dropout masks are drawn: :func:`keep_mask` (one
    stream, torch's own generator) and the training loop (one stream per
    model, :mod:`sklearn_prognet.networks._batched`) call it.

    Parameters
    ----------
    n_units : int
        Units per mask.
    p : float
        Probability of dropping a unit, in [0, 1).
    generators : list of torch.Generator or None
        The stream of every row (None: torch's global generator).
    device : torch.device
        Where the masks are made (the generators' device).
    drawing : list of bool or None, default=None
        Which rows draw; the others draw nothing from their stream and are
        all zero. None: all draw.

    Returns
    -------
    masks : torch.Tensor of shape (len(generators), n_units)
        ``1 / (1 - p)`` where a unit is kept and 0 where it is dropped.
    """
    n_rows = len(generators)
    drawing = [True] * n_rows if drawing is None else drawing
    if p != 0.5:
        flat = torch.zeros((n_rows, n_units), device=device)
        for i, gen in enumerate(generators):
            if drawing[i]:
                flat[i].uniform_(generator=gen)
        return flat.ge_(p).float().mul_(1.0 / (1.0 - p))
    # One fair bit per unit: bit k of a uniform 32-bit integer is a fair coin,
    # independent of its other bits, so 32 units share one draw.
    n_words = -(-n_units // 32)
    words = torch.zeros((n_rows, n_words), dtype=torch.int32, device=device)
    for i, gen in enumerate(generators):
        if drawing[i]:
            torch.randint(-(2**31), 2**31, (n_words,), generator=gen, out=words[i])
    shifts = torch.arange(32, dtype=torch.int32, device=device)
    bits = (words.unsqueeze(-1) >> shifts).bitwise_and_(1).view(n_rows, -1)
    return bits[:, :n_units].float().mul_(2.0)


class Scale(nn.Module):
    """A learned scalar, the first step of a Rusu et al. (2016) adapter."""

    def __init__(self):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(()))

    def forward(self, x):
        """Multiply by the learned scalar."""
        return self.alpha * x


def make_lateral(kind, in_width, out_width, activation):
    """Build one lateral connection from a column's layer to the next layer.

    ``"linear"`` is the paper's connection (a dense matrix, the bias is the
    receiving layer's own); ``"adapter"`` is the non-linear adapter of Rusu et
    al. (2016): a learned scale, a projection to a smaller width, the
    non-linearity, then the dense matrix.
    """
    if kind == "linear":
        return nn.Linear(in_width, out_width, bias=False)
    projected = max(1, min(in_width, out_width) // 4)
    return nn.Sequential(
        Scale(),
        nn.Linear(in_width, projected),
        _Activation(activation),
        nn.Linear(projected, out_width, bias=False),
    )


class _Activation(nn.Module):
    def __init__(self, name):
        super().__init__()
        self.name = name

    def forward(self, x):
        return ACTIVATIONS[self.name](x)


class Column(nn.Module):
    """One column: dense hidden layers and an output layer.

    Layer ``k + 1`` of the column (the output layer included) receives, on
    top of its own input, the activations of hidden layer ``k`` of every
    column it is laterally connected to (Rusu et al. 2016; Gideon et al.
    2017, Figure 2).

    Parameters
    ----------
    n_features : int
        Input width.
    hidden_layer_sizes, n_outputs, activation
        As in :class:`ColumnSpec`.
    dropout : float
        Dropout probability after every hidden layer while training.
    lateral_widths : tuple of tuple of int
        ``lateral_widths[k]`` lists the widths of the lateral inputs of layer
        ``k + 1`` (``k`` from 0 to ``len(hidden_layer_sizes) - 1``).
    lateral : {"linear", "adapter"}
        Kind of lateral connection.
    inputs : tuple of int or None, default=None
        Indices of the features of ``x`` the column reads (then
        ``n_features`` is their number); None reads all of ``x``.
    """

    def __init__(
        self,
        n_features,
        hidden_layer_sizes,
        n_outputs,
        activation,
        dropout,
        lateral_widths,
        lateral,
        inputs=None,
    ):
        super().__init__()
        self.activation = activation
        # not persistent: the selection is part of the column's spec, not of
        # its weights (exported and loaded state dicts stay as they were)
        self.register_buffer("input_index", index_tensor(inputs), persistent=False)
        widths = (n_features, *hidden_layer_sizes)
        self.hidden = nn.ModuleList(
            nn.Linear(widths[i], widths[i + 1]) for i in range(len(hidden_layer_sizes))
        )
        self.output = nn.Linear(widths[-1], n_outputs)
        receivers = (*hidden_layer_sizes[1:], n_outputs)
        self.laterals = nn.ModuleList(
            nn.ModuleList(
                make_lateral(lateral, width, receivers[k], activation)
                for width in lateral_widths[k]
            )
            for k in range(len(hidden_layer_sizes))
        )
        self.dropout = FastDropout(dropout)
        self.reset_parameters()

    def reset_parameters(self):
        """Glorot-uniform weights and zero biases.

        Glorot initialisation keeps the variance of a deep sigmoid stack
        stable; with torch's default (Kaiming-uniform with a = sqrt(5)) the
        paper's four sigmoid layers learn much more slowly.
        """
        for layer in self.modules():
            if isinstance(layer, nn.Linear):
                nn.init.xavier_uniform_(layer.weight)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)

    def forward(self, x, lateral_inputs=(), need_output=True):
        """Compute the hidden activations and, if needed, the logits.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Input.
        lateral_inputs : sequence of list of torch.Tensor
            For each laterally connected column, its hidden activations.
        need_output : bool
            Whether to compute the output layer.

        Returns
        -------
        hidden : list of torch.Tensor
            The activations of every hidden layer (after dropout).
        logits : torch.Tensor or None
            The output layer, or None when ``need_output`` is False.
        """
        act = ACTIVATIONS[self.activation]
        hidden = []
        h = select_inputs(x, self.input_index)
        for k, layer in enumerate(self.hidden):
            z = layer(h)
            if k > 0:
                z = self._add_laterals(z, k - 1, lateral_inputs)
            h = self.dropout(act(z))
            hidden.append(h)
        if not need_output:
            return hidden, None
        logits = self._add_laterals(
            self.output(h), len(self.hidden) - 1, lateral_inputs
        )
        return hidden, logits

    def __setstate__(self, state):
        # columns pickled before input selection read every feature
        state.setdefault("_buffers", {}).setdefault("input_index", None)
        super().__setstate__(state)

    def _add_laterals(self, z, k, lateral_inputs):
        sources = _sources_at(lateral_inputs, k)
        for lateral, source in zip(self.laterals[k], sources, strict=True):
            z = z + lateral(source)
        return z


def index_tensor(inputs):
    """The index tensor of a column's input features, or None for all."""
    return None if inputs is None else torch.tensor(inputs, dtype=torch.long)


def select_inputs(x, index):
    """The features of ``x`` at ``index`` (a long tensor), or ``x`` for None."""
    return x if index is None else x.index_select(-1, index)


def _sources_at(lateral_inputs, k):
    """The layer-k activations of the connected columns that have a layer k."""
    return [acts[k] for acts in lateral_inputs if k < len(acts)]


class ProgressiveNet(nn.Module):
    """A progressive neural network: frozen columns and one trainable column.

    Every column is described by a :class:`ColumnSpec`. The first
    ``n_frozen`` columns are frozen: their weights are registered as buffers,
    not parameters, so no optimizer can ever see them, and they always run in
    eval mode (no dropout), even while the last column trains.

    Parameters
    ----------
    n_features : int
        Input width, shared by all columns; a column whose spec has
        ``inputs`` reads those features only.
    columns : sequence of ColumnSpec
        One spec per column (plain 5- or 6-tuples in the same order are
        accepted);
        the last column is the one that is trained.
    n_frozen : int
        Number of leading frozen columns.
    dropout : float
        Dropout probability of the trainable column.
    n_dimensions : int, default=0
        Number of continuous ratings (multi-task learning) predicted by a
        linear regression head on the last hidden layer of the trainable
        column. 0 builds no head; :meth:`forward` then returns the logits
        alone.
    """

    def __init__(self, n_features, columns, n_frozen=0, dropout=0.5, n_dimensions=0):
        super().__init__()
        self.n_frozen = n_frozen
        self.specs = tuple(as_spec(spec) for spec in columns)
        self.lateral_from = tuple(tuple(spec.lateral_from) for spec in self.specs)
        sizes = [spec.hidden_layer_sizes for spec in self.specs]
        modules = []
        for i, spec in enumerate(self.specs):
            lateral_widths = tuple(
                tuple(sizes[j][k] for j in spec.lateral_from if k < len(sizes[j]))
                for k in range(len(sizes[i]))
            )
            column = Column(
                input_width(spec, n_features),
                tuple(spec.hidden_layer_sizes),
                spec.n_outputs,
                spec.activation,
                dropout if i >= n_frozen else 0.0,
                lateral_widths,
                spec.lateral,
                spec.inputs,
            )
            if i < n_frozen:
                _parameters_to_buffers(column)
            modules.append(column)
        self.columns = nn.ModuleList(modules)
        # Built after the columns, so that their initial weights are the same
        # with and without the head.
        self.n_dimensions = n_dimensions
        if n_dimensions:
            self.dimension_head = regression_head(
                self.specs[-1].hidden_layer_sizes[-1], n_dimensions
            )
        # A new module is in training mode: put the frozen columns in eval
        # mode from the start, not only from the first mode switch.
        self.train()

    def __setstate__(self, state):
        # Modules pickled before ColumnSpec existed hold plain tuples.
        state["specs"] = tuple(as_spec(spec) for spec in state["specs"])
        # ... and modules pickled before multi-task learning have no head.
        state.setdefault("n_dimensions", 0)
        super().__setstate__(state)

    def train(self, mode=True):
        """Set the trainable column's mode; frozen columns stay in eval mode."""
        super().train(mode)
        # not self.columns[:n]: slicing a ModuleList builds a new module
        for column in itertools.islice(self.columns, self.n_frozen):
            column.eval()
        return self

    def hidden_activations(self, x):
        """The hidden activations of every column, concatenated, in eval mode.

        This is what a network that takes this one as its source reads
        through its lateral connections (``frozen`` in :meth:`forward`).
        """
        was_training = self.training
        self.eval()
        with torch.no_grad():
            hidden = self._columns_hidden(x, len(self.columns))
        self.train(was_training)
        return torch.cat([h for acts in hidden for h in acts], dim=1)

    def forward(self, x, frozen=None):
        """Return the logits of the last column (and its predicted ratings).

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Input.
        frozen : torch.Tensor of shape (n_samples, n_frozen_units), default=None
            The frozen columns' activations for ``x``, concatenated in column
            order. Frozen columns never change, so training computes them once
            for the whole training set instead of once per batch and epoch;
            without it they are computed here.

        Returns
        -------
        logits : torch.Tensor of shape (n_samples, n_outputs)
            Without a regression head (``n_dimensions=0``).
        (logits, ratings) : tuple of torch.Tensor
            With one; ``ratings`` has shape (n_samples, n_dimensions).
        """
        if frozen is None:
            with torch.no_grad():
                hidden = self._columns_hidden(x, self.n_frozen)
        else:
            frozen_specs = self.specs[: self.n_frozen]
            widths = [w for spec in frozen_specs for w in spec.hidden_layer_sizes]
            flat = iter(torch.split(frozen, widths, dim=1))
            hidden = [
                [next(flat) for _ in spec.hidden_layer_sizes] for spec in frozen_specs
            ]
        last = len(self.columns) - 1
        own, logits = self.columns[last](
            x, [hidden[j] for j in self.lateral_from[last]]
        )
        if not self.n_dimensions:
            return logits
        return logits, self.dimension_head(own[-1])

    def _columns_hidden(self, x, n_columns):
        """Hidden activations of the first ``n_columns`` columns."""
        hidden = []
        for i in range(n_columns):
            acts, _ = self.columns[i](
                x, [hidden[j] for j in self.lateral_from[i]], need_output=False
            )
            hidden.append(acts)
        return hidden


def regression_head(in_width, n_dimensions):
    """A linear head predicting ``n_dimensions`` ratings, initialised as columns.

    Glorot-uniform weights and zero biases, as :meth:`Column.reset_parameters`;
    with standardised ratings a zero bias starts every prediction at the mean.
    """
    head = nn.Linear(in_width, n_dimensions)
    nn.init.xavier_uniform_(head.weight)
    nn.init.zeros_(head.bias)
    return head


def _parameters_to_buffers(module):
    """Turn every parameter of ``module`` into a buffer of the same name."""
    for sub in module.modules():
        for name, param in list(sub.named_parameters(recurse=False)):
            delattr(sub, name)
            sub.register_buffer(name, param.detach())


def smoothed_cross_entropy(logits, target, label_smoothing=0.0, reduction="mean"):
    """Cross-entropy with label smoothing over each row's own classes.

    A row's own classes are those with a finite logit: a multi-corpus network
    gives -inf to the classes outside a row's corpus. The target puts
    ``1 - label_smoothing`` on the true class and ``label_smoothing / K_row``
    on each of the row's ``K_row`` own classes, so that the loss stays finite;
    :func:`torch.nn.functional.cross_entropy` spreads it over all classes,
    -inf ones included, and returns inf. With finite logits the two agree.

    Parameters
    ----------
    logits : torch.Tensor of shape (n_samples, n_classes)
        The scores; -inf marks a class outside the row's classes.
    target : torch.Tensor of shape (n_samples,)
        The class indices, each one of its row's own classes.
    label_smoothing : float, default=0.0
        The mass spread evenly over the row's own classes.
    reduction : {"mean", "none"}, default="mean"
        Average over the rows, or the loss of every row.

    Returns
    -------
    torch.Tensor
        The mean loss, or the losses of shape ``(n_samples,)``.
    """
    if not label_smoothing:  # the -inf logits then only enter log-sum-exp
        return F.cross_entropy(logits, target, reduction=reduction)
    log_p = F.log_softmax(logits, dim=-1)
    nll = -log_p.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    own = torch.isfinite(logits)
    # masked_fill, not multiplying by the mask: 0 * -inf would be nan
    spread = -log_p.masked_fill(~own, 0.0).sum(-1) / own.sum(-1)
    loss = (1 - label_smoothing) * nll + label_smoothing * spread
    return loss.mean() if reduction == "mean" else loss


class SmoothedCrossEntropyLoss(nn.CrossEntropyLoss):
    """The criterion of :func:`smoothed_cross_entropy`, mean over the batch.

    A :class:`torch.nn.CrossEntropyLoss`, so that skorch still applies the
    softmax in ``predict_proba``; only the smoothing target differs.

    Parameters
    ----------
    label_smoothing : float, default=0.0
        The mass spread evenly over each row's own (finite-logit) classes.
    """

    def __init__(self, label_smoothing=0.0):
        super().__init__(label_smoothing=label_smoothing)

    def forward(self, input, target):
        """The mean loss of a batch.

        Parameters
        ----------
        input : torch.Tensor of shape (n_samples, n_classes)
            The logits.
        target : torch.Tensor of shape (n_samples,)
            The class indices.

        Returns
        -------
        torch.Tensor
            The scalar loss.
        """
        return smoothed_cross_entropy(input, target, self.label_smoothing)
