# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""torch module of residual adapters: a shared trunk, small per-domain parts.

One :class:`AdaptedNet` serves :class:`~sklearn_prognet.ResidualAdapterClassifier`
(one domain, the trunk frozen and copied from a source network) and
:class:`~sklearn_prognet.MultiCorpusClassifier` (one domain per corpus, the
trunk trained with them). Constructor arguments are plain values: skorch
rebuilds modules from them.
"""

import torch
from torch import nn
from torch.nn import functional as F

from sklearn_prognet.networks._modules import (
    ACTIVATIONS,
    FastDropout,
    _parameters_to_buffers,
    as_spec,
    index_tensor,
    input_width,
    regression_head,
    select_inputs,
)


class AdaptedNet(nn.Module):
    r"""Dense trunk with per-domain residual adapters, biases and output layers.

    Hidden layer ``l`` of domain ``d`` computes

    .. math::

        h_l = \mathrm{act}(W_l h_{l-1} + b_{l,d} + U_{l,d} V_{l,d} h_{l-1})

    where ``W_l`` is the shared trunk's weight matrix, ``b_{l,d}`` the domain's
    own bias and ``U_{l,d} V_{l,d}`` a rank-``adapter_rank`` residual adapter
    parallel to the dense layer (the parallel adapters of Rebuffi et al.,
    2018, on the pre-activation). ``U`` starts at zero, so a new network
    computes exactly the trunk's function: the adapter adds an exact zero.
    Each domain has its own output layer over its own classes.

    Parameters
    ----------
    n_features : int
        Input width. With ``domain_classes``, the input has one more column,
        the last: the domain of each row as a float (0., 1., ...), so that
        skorch's tensors and iterators serve unchanged.
    columns : sequence of one ColumnSpec
        The trunk's hidden layer sizes and activation, and ``n_outputs``, the
        number of classes of all domains together.
    n_frozen : int, default=0
        Must be 0; accepted because the trainer passes it to every module.
    dropout : float, default=0.5
        Dropout probability. With a frozen trunk, only on the input of the
        output layers: the trunk computes the source's function in training
        as in eval mode. With a trained trunk, after every hidden layer.
    adapter_rank : int, default=16
        Rank of every adapter.
    domain_classes : tuple of tuple of int or None, default=None
        For each domain, the indices (among ``n_outputs``) of its classes.
        None is one domain with every class, and no domain column.
    freeze_trunk : bool, default=True
        Register the trunk's weights as buffers, so no optimizer sees them.
    n_dimensions : int, default=0
        Number of continuous ratings predicted by a regression head on the
        last hidden layer (multi-task learning; one domain only). 0 builds
        no head.
    """

    def __init__(
        self,
        n_features,
        columns,
        n_frozen=0,
        dropout=0.5,
        adapter_rank=16,
        domain_classes=None,
        freeze_trunk=True,
        n_dimensions=0,
    ):
        super().__init__()
        if n_frozen:
            raise ValueError("AdaptedNet has no frozen columns; its trunk is frozen.")
        (spec,) = (as_spec(spec) for spec in columns)
        self.specs = (spec,)
        self.activation = spec.activation
        self.freeze_trunk = freeze_trunk
        self.with_domains = domain_classes is not None
        if domain_classes is None:
            domain_classes = (tuple(range(spec.n_outputs)),)
        self.n_domains = len(domain_classes)
        self.rank = adapter_rank
        widths = (input_width(spec, n_features), *spec.hidden_layer_sizes)
        pairs = list(zip(widths[:-1], widths[1:], strict=True))
        self.trunk = nn.ModuleList(nn.Linear(i, o, bias=False) for i, o in pairs)
        self.biases = nn.ParameterList(
            nn.Parameter(torch.zeros(self.n_domains, o)) for _, o in pairs
        )
        ranks = self.n_domains * adapter_rank
        self.down = nn.ModuleList(nn.Linear(i, ranks, bias=False) for i, _ in pairs)
        self.up = nn.ModuleList(nn.Linear(ranks, o, bias=False) for _, o in pairs)
        self.heads = nn.ModuleList(
            nn.Linear(widths[-1], len(c)) for c in domain_classes
        )
        for d, classes in enumerate(domain_classes):
            self.register_buffer(f"classes_{d}", torch.tensor(classes).long())
        self.dropout = FastDropout(dropout)
        # not persistent, as a Column's: the selection is part of the spec
        self.register_buffer("input_index", index_tensor(spec.inputs), persistent=False)
        self.reset_parameters()
        if freeze_trunk:
            _parameters_to_buffers(self.trunk)
        # after every other weight: their initial values do not depend on it
        self.n_dimensions = n_dimensions
        if n_dimensions:
            if self.with_domains:
                raise ValueError("A regression head needs a single domain.")
            self.dimension_head = regression_head(widths[-1], n_dimensions)
        self.train()

    def reset_parameters(self):
        """Glorot-uniform weights, zero biases, and zero up-projections."""
        for layer in self.modules():
            if isinstance(layer, nn.Linear):
                nn.init.xavier_uniform_(layer.weight)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)
        for layer in self.up:
            nn.init.zeros_(layer.weight)
        for bias in self.biases:
            nn.init.zeros_(bias)

    def train(self, mode=True):
        """Set the mode; a frozen trunk holds no dropout, so it is always eval."""
        super().train(mode)
        if self.freeze_trunk:
            self.trunk.eval()
        return self

    def hidden(self, x, domain=None):
        """The hidden activations of every layer, as a list.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Input, without the domain column.
        domain : torch.Tensor of shape (n_samples,) or None, default=None
            Domain of every row (long); None with a single domain.

        Returns
        -------
        hidden : list of torch.Tensor
        """
        act = ACTIVATIONS[self.activation]
        # the domain mask of the adapters' inner units, built once for all
        # layers rather than per layer (cProfile: one_hot took ~2% of a
        # multi-corpus epoch; an A/B timing showed no measurable change)
        own = None if domain is None else self._domain_mask(domain, x.dtype)
        hidden, h = [], select_inputs(x, self.input_index)
        for k, layer in enumerate(self.trunk):
            if domain is None:
                # F.linear with the bias, exactly as nn.Linear: at
                # initialisation the trunk reproduces its source bit for bit.
                z = F.linear(h, layer.weight, self.biases[k][0])
            else:
                z = F.linear(h, layer.weight) + self.biases[k][domain]
            z = z + self.up[k](self._own_ranks(self.down[k](h), own))
            h = act(z)
            if not self.freeze_trunk:
                h = self.dropout(h)
            hidden.append(h)
        return hidden

    def hidden_activations(self, x):
        """The hidden activations, concatenated, in eval mode (one domain).

        What a network that takes this one as its source reads through its
        lateral connections, as :meth:`ProgressiveNet.hidden_activations`.
        """
        was_training = self.training
        self.eval()
        with torch.no_grad():
            hidden = self.hidden(x)
        self.train(was_training)
        return torch.cat(hidden, dim=1)

    def _domain_mask(self, domain, dtype):
        """One-hot domain of every row, shaped to mask the adapters' blocks."""
        return F.one_hot(domain, self.n_domains).to(dtype)[:, :, None]

    def _own_ranks(self, a, own):
        """Zero every domain's block of the adapter's inner units but the row's."""
        if own is None:
            return a
        return (a.view(len(a), self.n_domains, self.rank) * own).flatten(1)

    def __setstate__(self, state):
        # modules pickled before multi-task learning have no head
        state.setdefault("n_dimensions", 0)
        # ... and before input selection they read every feature
        state.setdefault("_buffers", {}).setdefault("input_index", None)
        super().__setstate__(state)

    def forward(self, x):
        """Return the logits; a class outside the row's domain gets -inf.

        With a regression head, return ``(logits, ratings)``.
        """
        domain = None
        if self.with_domains:
            x, domain = x[:, :-1], x[:, -1].long()
        h = self.hidden(x, domain)[-1]
        if self.freeze_trunk:
            h = self.dropout(h)
        if domain is None and self.n_dimensions:
            return self.heads[0](h), self.dimension_head(h)
        if domain is None:
            return self.heads[0](h)
        logits = h.new_full((len(h), self.specs[0].n_outputs), float("-inf"))
        for d, head in enumerate(self.heads):
            rows = torch.nonzero(domain == d).squeeze(1)
            classes = getattr(self, f"classes_{d}")
            logits = logits.index_put((rows[:, None], classes[None, :]), head(h[rows]))
        return logits


def folded_columns(module):
    """A one-domain :class:`AdaptedNet` as one plain column, adapters folded in.

    ``W + U V`` is the adapted layer's weight matrix, so the column computes
    the adapted network's function (up to rounding) and can serve as the
    source of any network of the package.

    Returns
    -------
    columns : tuple of ColumnSpec
    state : dict of torch.Tensor
        CPU tensors keyed as a
        :class:`~sklearn_prognet.networks._modules.ProgressiveNet` keys them:
        ``columns.0.<name>``.
    """
    if module.with_domains:
        raise ValueError("Only a one-domain AdaptedNet folds into one column.")
    state = {}
    with torch.no_grad():
        for k, layer in enumerate(module.trunk):
            weight = layer.weight + module.up[k].weight @ module.down[k].weight
            state[f"columns.0.hidden.{k}.weight"] = weight
            state[f"columns.0.hidden.{k}.bias"] = module.biases[k][0]
        state["columns.0.output.weight"] = module.heads[0].weight
        state["columns.0.output.bias"] = module.heads[0].bias
    state = {key: t.detach().to("cpu", copy=True) for key, t in state.items()}
    return module.specs, state
