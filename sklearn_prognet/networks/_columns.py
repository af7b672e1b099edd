# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Columns handed from fitted networks to new ones: their specs and weights.

A fitted network exports its columns (:func:`exported_columns`); the
functions ``*_columns`` assemble the columns of a new network from them, as
a :class:`ColumnPlan`; :func:`load_state` copies the exported weights into
the new module. Weights are keyed as in the module's ``state_dict``:
``columns.<i>.<name>``.
"""

import re
from typing import NamedTuple

import torch

from sklearn_prognet.networks._adapter_modules import AdaptedNet
from sklearn_prognet.networks._modules import ColumnSpec, ProgressiveNet


class ColumnPlan(NamedTuple):
    """The columns of a network to train, and what it takes from its sources.

    Attributes
    ----------
    columns : tuple of ColumnSpec
        Every column; the last one is trained.
    n_frozen : int
        Number of leading columns that are frozen.
    state : dict of torch.Tensor
        Weights to copy into the new module, keyed ``columns.<i>.<name>``.
    freeze_patterns : tuple of str
        Parameter-name patterns that stay fixed while training.
    module : type, default=ProgressiveNet
        The torch module to build.
    module_params : tuple of (str, object), default=()
        Further constructor arguments of ``module``.
    """

    columns: tuple
    n_frozen: int
    state: dict
    freeze_patterns: tuple
    module: type = ProgressiveNet
    module_params: tuple = ()


def exported_columns(module):
    """The columns of a fitted module and CPU copies of their weights.

    Parameters
    ----------
    module : ProgressiveNet
        A trained module.

    Returns
    -------
    columns : tuple of ColumnSpec
        The module's column specs.
    state : dict of torch.Tensor
        CPU copies of the module's tensors, keyed ``columns.<i>.<name>``.
    """
    # Only the columns: a multi-task module's regression head is not part
    # of what a new network takes from it.
    state = {
        name: tensor.detach().to("cpu", copy=True)
        for name, tensor in module.state_dict().items()
        if name.startswith("columns.")
    }
    return module.specs, state


def single_column(hidden_layer_sizes, n_classes, activation, inputs=None):
    """A plain network: one trainable column, nothing transferred.

    ``inputs`` are the indices of the features the column reads (None: all).
    """
    column = ColumnSpec(hidden_layer_sizes, n_classes, activation, (), "linear", inputs)
    return ColumnPlan((column,), 0, {}, ())


def progressive_columns(
    sources, hidden_layer_sizes, n_classes, activation, lateral, inputs=None
):
    """Frozen columns of every source, then a new column fed by all of them.

    Parameters
    ----------
    sources : list of tuple
        ``(columns, state)`` of every source, as :func:`exported_columns`
        returns them. Their columns are stacked in this order, so the frozen
        activations of the new network are the sources' own, concatenated.
    hidden_layer_sizes, n_classes, activation, lateral
        The new column.
    inputs : tuple of int or None, default=None
        The features the new column reads (None: all). The sources' columns
        keep the features they were trained on.

    Returns
    -------
    plan : ColumnPlan
    """
    columns, state = [], {}
    for source_columns, source_state in sources:
        offset = len(columns)
        # a source's own laterals point at its own earlier columns
        columns.extend(
            spec._replace(lateral_from=tuple(offset + j for j in spec.lateral_from))
            for spec in source_columns
        )
        state.update(_renumber(source_state, offset))
    n_frozen = len(columns)
    new = ColumnSpec(
        hidden_layer_sizes,
        n_classes,
        activation,
        tuple(range(n_frozen)),
        lateral,
        inputs,
    )
    return ColumnPlan((*columns, new), n_frozen, state, ())


def fine_tuned_columns(source_column, source_state, n_classes, n_frozen_layers):
    """A copy of a source column's hidden layers under a new output layer.

    The copy reads the features the source column reads: its first layer's
    weights are theirs.

    Parameters
    ----------
    source_column : ColumnSpec
        The source's only column.
    source_state : dict of torch.Tensor
        Its weights, keyed ``columns.0.<name>``.
    n_classes : int
        Width of the new output layer.
    n_frozen_layers : int
        Number of leading hidden layers that keep the source's weights.

    Returns
    -------
    plan : ColumnPlan
    """
    # the source's hidden layers only: the output layer is the target's own
    state = {
        key: tensor
        for key, tensor in source_state.items()
        if key.startswith("columns.0.hidden.")
    }
    freeze = tuple(f"columns.0.hidden.{k}.*" for k in range(n_frozen_layers))
    column = ColumnSpec(
        tuple(source_column.hidden_layer_sizes),
        n_classes,
        source_column.activation,
        (),
        "linear",
        source_column.inputs,
    )
    return ColumnPlan((column,), 0, state, freeze)


def adapter_columns(source_column, source_state, n_classes, adapter_rank):
    """A source column's frozen hidden layers with residual adapters.

    Parameters
    ----------
    source_column, source_state, n_classes
        As in :func:`fine_tuned_columns`.
    adapter_rank : int
        Rank of every adapter.

    Returns
    -------
    plan : ColumnPlan
        An :class:`~sklearn_prognet.networks._adapter_modules.AdaptedNet` whose trunk
        weights and biases are the source's.
    """
    state = {}
    for k in range(len(source_column.hidden_layer_sizes)):
        state[f"trunk.{k}.weight"] = source_state[f"columns.0.hidden.{k}.weight"]
        # one domain: a (1, width) bias that starts as the source's
        state[f"biases.{k}"] = source_state[f"columns.0.hidden.{k}.bias"][None, :]
    column = source_column._replace(n_outputs=n_classes, lateral_from=())
    params = (("adapter_rank", adapter_rank), ("freeze_trunk", True))
    return ColumnPlan((column,), 0, state, (), AdaptedNet, params)


def multi_domain_columns(
    hidden_layer_sizes, activation, n_classes, domain_classes, adapter_rank
):
    """A trunk trained with one set of adapters and one head per domain.

    ``domain_classes[d]`` lists the indices (among ``n_classes``) of the
    classes of domain ``d``.
    """
    column = ColumnSpec(hidden_layer_sizes, n_classes, activation, (), "linear")
    params = (
        ("adapter_rank", adapter_rank),
        ("domain_classes", domain_classes),
        ("freeze_trunk", False),
    )
    return ColumnPlan((column,), 0, {}, (), AdaptedNet, params)


_COLUMN_KEY = re.compile(r"^columns\.(\d+)\.(.*)$")


def _renumber(state, offset):
    """Shift the column index of every ``columns.<i>.<name>`` key."""
    shifted = {}
    for key, tensor in state.items():
        i, rest = _COLUMN_KEY.match(key).groups()
        shifted[f"columns.{int(i) + offset}.{rest}"] = tensor
    return shifted


def load_state(module, state):
    """Copy ``state`` into ``module`` in place, so the optimizer keeps its tensors."""
    own = module.state_dict()
    with torch.no_grad():
        for key, tensor in state.items():
            own[key].copy_(tensor)
