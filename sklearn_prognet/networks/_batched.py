# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The training loop of every network: N >= 1 models of one architecture at once.

Every estimator's ``fit`` trains its net here as a stack of one
(``train_nets([job])``); :func:`~sklearn_prognet.model_selection.fit_batched`
and :func:`~sklearn_prognet.model_selection.cross_validate_batched` train
many, and the jobs that share a configuration, and have epochs of similar
length, share one loop (:func:`stacks`). A *job* is a dict: ``plan`` (a
:class:`~sklearn_prognet.networks._columns.ColumnPlan`), ``train`` (``(X, y)`` with
encoded labels, or ``(X, y, ratings)`` for a multi-task net, ratings NaN
where missing), ``valid`` (``(X, y)`` or None), ``frozen_nets`` (the fitted
nets of the plan's frozen columns), ``seed``, ``n_features``, ``device``,
the training options (``dropout``, ``lr``, ``batch_size``, ``max_epochs``,
``patience`` (None: no early stopping), ``verbose``, ``input_dropout``,
``weight_decay``, ``input_noise``, ``label_smoothing``) and, for a
multi-task net, ``dimensional_loss`` (``(kind, weight)``).

The trainable column of every model is stacked along a leading model axis:
a layer is one weight tensor of shape ``(n_models, in, out)`` and one
batched matrix product (:func:`torch.bmm`) computes it for all models.
Every model keeps what makes it independent, so that its result does not
depend on the other models of its stack:

- its own initial weights, drawn from torch's generator seeded with its
  job's seed (the skorch net of every job is built and initialised first,
  and its weights are copied into the stack);
- its own training and validation rows (padded to the longest, with a mask),
  its own frozen-column activations (computed once), and its own random
  stream (a :class:`torch.Generator` per model) for the batch order, the
  input noise and the input and hidden dropout masks, in that order within
  a step. A model draws full-batch masks, and only in the steps it takes,
  so that its draws never depend on its stack-mates;
- its own Adam state and step count: the fused Adam kernel gets one tensor
  per (model, parameter), so a model whose epoch has fewer batches than the
  others skips the extra steps entirely, momentum and decoupled weight decay
  included (the AdamW kernel, when ``weight_decay``);
- its own loss: cross-entropy with the job's ``label_smoothing`` spread over
  each row's own classes
  (:func:`~sklearn_prognet.networks._modules.smoothed_cross_entropy`), plus, for a
  multi-task net, the weighted loss on its ratings
  (:mod:`sklearn_prognet.networks._multitask`), over its own rows of each batch;
- its own early stopping on the validation UAR, with its own patience
  counter and best-weights snapshot. A model that stops is taken out of the
  stack (its tensors are no longer computed nor changed) and its best
  weights are restored, as skorch's ``EarlyStopping(load_best=True)`` does.

The layouts say what is stacked: :class:`_Layout` the trainable column of a
:class:`~sklearn_prognet.networks._modules.ProgressiveNet` (DNN, fine-tuning,
progressive networks with linear or adapter laterals, a regression head),
:class:`_AdapterLayout` an
:class:`~sklearn_prognet.networks._adapter_modules.AdaptedNet` (residual
adapters on a frozen trunk; the multi-corpus network, each row using its
own domain's biases, adapters and output layer, selected by a one-hot of
its domain, so that a row of one corpus gives the other corpora's
parameters no gradient). The layouts share everything else: the stack, the
batches, Adam, validation and early stopping.

The loop is skorch's own fit loop (:class:`StackTrainer`, a
:class:`skorch.NeuralNet` whose module is the stack): its ``train_step`` is
one step of every model, and a callback (:class:`_ModelEpochs`) does each
model's work at the end of an epoch. Every model that stops is written into
its own skorch net (weights and learning curves), which then holds and
predicts with the trained module. Nothing here knows scikit-learn's
estimator API.
"""

import fnmatch
import time
from typing import NamedTuple

import joblib
import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.helper import predefined_split
from torch.nn import functional as F

from sklearn_prognet.networks._adapter_modules import AdaptedNet
from sklearn_prognet.networks._columns import load_state
from sklearn_prognet.networks._knobs import STACK, names
from sklearn_prognet.networks._modules import (
    ACTIVATIONS,
    index_tensor,
    keep_masks,
    select_inputs,
    smoothed_cross_entropy,
)
from sklearn_prognet.networks._multitask import DIMENSIONAL_LOSSES
from sklearn_prognet.networks._training import make_net, seeded_torch
from sklearn_prognet.utils._compat import _foreach_add_, _fused_adam_, _fused_adamw_
from sklearn_prognet.utils._parallel import (
    cluster_client,
    one_at_a_time,
    stack_threads,
    stack_workers,
)

# The fused Adam kernels' arguments that never change here: torch.optim.Adam's
# defaults (betas, eps), without AMSGrad, maximisation or gradient scaling.
_ADAM_CONSTANTS = {
    "beta1": 0.9,
    "beta2": 0.999,
    "eps": 1e-8,
    "amsgrad": False,
    "maximize": False,
    "grad_scale": None,
    "found_inf": None,
}

# A stack pads every model's epoch to the batches of its longest model:
# models with fewer than this fraction of them are stacked apart.
_SIMILAR_EPOCHS = 0.75

# The options of a job that must be equal for jobs to share a stack: the
# width of the input and the knobs with the stack role (_knobs.py).
_SHARED = ("n_features", *names(STACK))


def configuration(job):
    """What jobs must share to be trained in one stack (a hashable key).

    Parameters
    ----------
    job : dict
        The jobs (see the module's docstring).

    Returns
    -------
    key : tuple
    """
    plan = job["plan"]
    return (
        plan.module,
        tuple(plan.module_params),
        tuple(plan.columns),
        plan.n_frozen,
        tuple(plan.freeze_patterns),
        job["valid"] is None,
        job.get("dimensional_loss"),
        *(job[name] for name in _SHARED),
    )


def train_nets(jobs, n_jobs=None):
    """Train the nets of many jobs, batching equal configurations.

    Parameters
    ----------
    jobs : list of dict
        The jobs (see the module's docstring).
    n_jobs : int or None
        Worker processes (joblib), each with its share of the cores as
        torch threads, that train the :func:`stacks` (cut for ``n_jobs``
        workers). None or 1 trains in this process on torch's threads.
        A model's result does not depend on the stack it is trained in,
        except perhaps in the last digits: its stack-mates change the sizes
        of the tensors, which can change the order of some floating-point
        sums and which elements vectorised kernels compute in their scalar
        tails (weights then differ by about 1e-7 relative). The same jobs
        and ``n_jobs`` give the same stacks, and the same bits.

    Returns
    -------
    nets : list of ProgressiveNetTrainer
        The trained nets, in the order of ``jobs``.
    """
    nets = [None] * len(jobs)
    for positions, trained, _ in trained_groups(jobs, n_jobs):
        for i, net in zip(positions, trained, strict=True):
            nets[i] = net
    return nets


def trained_groups(jobs, n_jobs=None):
    """Train the nets of :func:`train_nets`; yield them a group at a time.

    So that a caller can save what is trained before the last stack ends.
    The nets come a group of :func:`similar_groups` at a time, when every
    worker's part of the group is trained: a run resumed after an
    interruption then trains whole groups, cut into the same stacks as
    the first run would have (with the same ``n_jobs``), which gives the
    same results to the last bit (a model's last digits can depend on its
    stack-mates through the sizes of the tensors). The jobs are checked
    before the first stack is trained. When joblib runs on a dask cluster
    (``joblib.parallel_config(backend="dask")``), the stacks are cut for
    the cluster's workers, whatever ``n_jobs`` is, and trained there (see
    :mod:`sklearn_prognet.utils._parallel`).

    Yields
    ------
    positions : list of int
        The positions in ``jobs`` of the group's jobs.
    nets : list of ProgressiveNetTrainer
        Their trained nets, in the same order.
    seconds : list of float
        Each net's share of its stack's training time.
    """
    n_workers = stack_workers(n_jobs)
    groups = similar_groups(jobs)
    group_of = {int(i): g for g, members in enumerate(groups) for i in members}
    waiting = {}  # group -> its trained (position, net, seconds)
    for positions, nets, seconds in _trained_parts(jobs, n_workers):
        group = group_of[int(positions[0])]
        done = waiting.setdefault(group, [])
        share = seconds / len(nets)
        done += [(int(i), net, share) for i, net in zip(positions, nets, strict=True)]
        if len(done) == len(groups[group]):
            yield tuple(map(list, zip(*waiting.pop(group), strict=True)))


def _trained_parts(jobs, n_workers):
    """The :func:`stacks` of ``jobs`` as each is trained: positions, nets, seconds."""
    cut = stacks(jobs, n_workers)
    cluster = cluster_client()
    # joblib runs tasks in this process when it has one worker thread, on a
    # dask cluster too (its dask backend counts threads, not workers)
    if n_workers == 1 and (cluster is None or joblib.effective_n_jobs(-1) == 1):
        for positions in cut:
            yield positions, *_timed_group([jobs[i] for i in positions])
        return
    threads = stack_threads(n_workers)
    # A dask worker's threads share its process: one stack at a time there.
    # Unordered: each stack is handed over as soon as it is trained (joblib's
    # dask backend supports it too: checked with joblib 1.6).
    train = _train_in_worker if cluster is None else one_at_a_time(_train_in_worker)
    parallel = joblib.Parallel(n_jobs=n_workers, return_as="generator_unordered")
    yield from parallel(
        joblib.delayed(train)(positions, [jobs[i] for i in positions], threads)
        for positions in cut
    )


def similar_groups(jobs):
    """Jobs of one :func:`configuration` and epochs of similar length.

    A model whose epoch has fewer than three quarters (``_SIMILAR_EPOCHS``)
    of the batches of its group's longest starts a new group. Each group
    starts at its own longest model, so removing whole groups from ``jobs``
    (those a resumed run has saved) leaves the others as they were.

    Returns
    -------
    groups : list of list of int
        The positions in ``jobs`` of every group's jobs, longest first.
    """
    batches = _batches(jobs)
    groups = {}
    # longest epochs first (a stable sort keeps the jobs' order among equals)
    for i in sorted(range(len(jobs)), key=lambda i: -batches[i]):
        similar = groups.setdefault(configuration(jobs[i]), [[]])
        if similar[-1] and batches[i] < _SIMILAR_EPOCHS * batches[similar[-1][0]]:
            similar.append([])
        similar[-1].append(i)
    return [indices for similar in groups.values() for indices in similar]


def _batches(jobs):
    """The number of batches of every job's epoch."""
    return [-(-len(job["train"][1]) // job["batch_size"]) for job in jobs]


def stacks(jobs, n_workers=1):
    """Cut jobs into the stacks that are trained together, largest first.

    A stack holds jobs of one of the :func:`similar_groups`: every model of a
    stack computes as many batches as its longest model (the others' padded
    rows are wasted work). This matters when one call trains the models of
    8, 4, 2 and 1 training folds: in one stack, more than half of the work
    would be padding. Each group is cut into ``n_workers`` stacks, one per
    worker, and the stacks are ordered by their work (models times
    batches), largest first, so that the workers finish together.

    Parameters
    ----------
    jobs : list of dict
        The jobs (see the module's docstring).
    n_workers : int, default=1
        The worker processes that will train the stacks.

    Returns
    -------
    stacks : list of ndarray of int
        The positions in ``jobs`` of every stack's jobs.
    """
    batches = _batches(jobs)
    cut = [
        chunk
        for indices in similar_groups(jobs)
        for chunk in np.array_split(indices, min(n_workers, len(indices)))
    ]
    return sorted(cut, key=lambda chunk: -len(chunk) * batches[chunk[0]])


def _train_in_worker(positions, jobs, threads):
    """Train one stack in a worker process with ``threads`` torch threads."""
    torch.set_num_threads(threads)
    return positions, *_timed_group(jobs)


def _timed_group(jobs):
    """The nets of :func:`_train_group` and its training time in seconds."""
    start = time.perf_counter()
    nets = _train_group(jobs)
    return nets, time.perf_counter() - start


def _initialised_net(job):
    """The skorch net of a job, its module initialised from the job's seed.

    The initial weights are drawn from torch's generator seeded with the
    job's seed (inside a fork, so that the global state is untouched), the
    source weights of the plan loaded, and the frozen parameters (the
    plan's ``freeze_patterns``) marked as not trainable, as the layouts'
    ``trainable`` reads them.
    """
    plan = job["plan"]
    with seeded_torch(job["seed"], job["device"]):
        net = make_net(
            n_features=job["n_features"],
            columns=plan.columns,
            n_frozen=plan.n_frozen,
            dropout=job["dropout"],
            lr=job["lr"],
            batch_size=job["batch_size"],
            max_epochs=job["max_epochs"],
            device=job["device"],
            module=plan.module,
            module_params=plan.module_params,
            weight_decay=job["weight_decay"],
            label_smoothing=job["label_smoothing"],
            dimensional_loss=job.get("dimensional_loss"),
        )
        net.initialize()
        if plan.state:
            load_state(net.module_, plan.state)
    for name, param in net.module_.named_parameters():
        if any(fnmatch.fnmatch(name, pattern) for pattern in plan.freeze_patterns):
            param.requires_grad_(False)
    return net


def _tensors(X, y):
    # copies: in a worker process the arrays may be read-only memory maps
    return (
        torch.tensor(np.asarray(X, dtype=np.float32)),
        torch.tensor(np.asarray(y, dtype=np.int64)),
    )


def _frozen(X, job):
    """The frozen columns' activations for ``X``, computed once per fit."""
    return torch.cat(
        [
            net.module_.hidden_activations(X.to(net.device)).cpu()
            for net in job["frozen_nets"]
        ],
        dim=1,
    )


class _Slot(NamedTuple):
    """One stacked tensor: its name, the ``state_dict`` keys it holds, and how.

    ``kind`` says how a key's tensor is stacked: ``"weight"`` transposed to
    ``(in, out)`` (several keys are concatenated along the input axis, in
    pieces of ``chunks`` rows), ``"bias"`` as a row ``(1, out)``,
    ``"scalar"`` as ``(1, 1)``, ``"raw"`` as it is.
    """

    name: str
    keys: tuple
    kind: str
    chunks: tuple = ()


def _stacked(state, slot):
    """A model's tensor of ``slot``, from its ``state_dict``."""
    parts = [state[key] for key in slot.keys]
    if slot.kind == "weight":
        return torch.cat([part.T for part in parts], dim=0)
    if slot.kind == "bias":
        return parts[0][None]
    if slot.kind == "scalar":
        return parts[0].reshape(1, 1)
    return parts[0]


def _unstacked(tensor, slot):
    """The ``state_dict`` entries of a model's tensor of ``slot``."""
    if slot.kind == "weight":
        parts = torch.split(tensor, list(slot.chunks) or [tensor.shape[0]])
        return {
            key: part.T.contiguous() for key, part in zip(slot.keys, parts, strict=True)
        }
    if slot.kind == "bias":
        return {slot.keys[0]: tensor[0].clone()}
    if slot.kind == "scalar":
        return {slot.keys[0]: tensor.reshape(()).clone()}
    return {slot.keys[0]: tensor.clone()}


class _Slots:
    """What both layouts share: stacking the modules' tensors and back.

    A layout provides ``rows``, ``forward``, ``slots`` (a list of
    :class:`_Slot`), ``n_features`` and ``dropout_widths``; ``forward``
    returns every model's logits and, with a regression head, its predicted
    ratings (else None).
    """

    def stack(self, modules):
        """The stacked parameters, taken from every model's module."""
        states = [module.state_dict() for module in modules]
        return {
            slot.name: torch.stack(
                [_stacked(state, slot) for state in states]
            ).contiguous()
            for slot in self.slots
        }

    def unstack(self, tensors):
        """One model's ``state_dict`` entries, from its slices of the stack."""
        state = {}
        for slot in self.slots:
            state.update(_unstacked(tensors[slot.name], slot))
        return state

    def _head_slots(self, n_dimensions):
        """The slots of a regression head (multi-task learning), if any."""
        if not n_dimensions:
            return []
        return [
            _Slot("Wdim", ("dimension_head.weight",), "weight"),
            _Slot("bdim", ("dimension_head.bias",), "bias"),
        ]

    def _ratings(self, params, h):
        """The regression head's ratings from the last hidden layer, or None."""
        if "Wdim" not in params:
            return None
        return torch.bmm(h, params["Wdim"]).add_(params["bdim"])


class _Layout(_Slots):
    """Where the stacked tensors of the trainable column come from.

    The layout of a :class:`~sklearn_prognet.networks._modules.ProgressiveNet` (DNN,
    fine-tuning, progressive networks); :class:`_AdapterLayout` is the one
    of an ``AdaptedNet``.

    The rows of a model are stored as ``[x | lateral input of layer 1 | ...
    | lateral input of the output layer]``: the lateral input of a layer is
    the frozen activations of every connected column, concatenated, so that
    all linear laterals into one layer are one matrix product (their
    weights, one per source, are one slot of several keys). Adapter
    laterals (Rusu et al. 2016: scale, projection, non-linearity, matrix)
    have four slots per source.
    """

    def __init__(self, plan, n_features):
        specs = plan.columns
        last = len(specs) - 1
        trained = specs[last]
        sizes = [tuple(spec.hidden_layer_sizes) for spec in specs]
        self.n_features = n_features
        # the features of the rows' x that the trained column reads
        self.input_index = index_tensor(trained.inputs)
        self.activation = trained.activation
        self.lateral = trained.lateral
        self.n_layers = len(sizes[last])
        # the hidden layers that dropout follows: every layer of the column
        self.dropout_widths = sizes[last]
        # offset of column j, layer k in the concatenated frozen activations
        offsets, at = {}, 0
        for j in range(plan.n_frozen):
            for k, width in enumerate(sizes[j]):
                offsets[j, k] = (at, width)
                at += width
        self.frozen_pieces = []  # per layer k: the (offset, width) of its inputs
        self.source_slices = []  # per layer k: each source's slice of the rows
        start = n_features
        for k in range(self.n_layers):
            pieces = [offsets[j, k] for j in trained.lateral_from if k < len(sizes[j])]
            self.frozen_pieces.append(pieces)
            slices = []
            for _, width in pieces:
                slices.append(slice(start, start + width))
                start += width
            self.source_slices.append(slices)
        self.row_width = start
        prefix = f"columns.{last}."
        self.slots = []
        for k in range(self.n_layers):
            self.slots.append(_Slot(f"W{k}", (f"{prefix}hidden.{k}.weight",), "weight"))
            self.slots.append(_Slot(f"b{k}", (f"{prefix}hidden.{k}.bias",), "bias"))
        self.slots.append(_Slot("Wout", (f"{prefix}output.weight",), "weight"))
        self.slots.append(_Slot("bout", (f"{prefix}output.bias",), "bias"))
        for k, pieces in enumerate(self.frozen_pieces):
            keys = [f"{prefix}laterals.{k}.{i}" for i in range(len(pieces))]
            if pieces and self.lateral == "linear":
                widths = tuple(w for _, w in pieces)
                weights = tuple(f"{key}.weight" for key in keys)
                self.slots.append(_Slot(f"L{k}", weights, "weight", widths))
            elif pieces:
                for i, key in enumerate(keys):
                    self.slots += [
                        _Slot(f"La{k}_{i}", (f"{key}.0.alpha",), "scalar"),
                        _Slot(f"Lv{k}_{i}", (f"{key}.1.weight",), "weight"),
                        _Slot(f"Lc{k}_{i}", (f"{key}.1.bias",), "bias"),
                        _Slot(f"Lu{k}_{i}", (f"{key}.3.weight",), "weight"),
                    ]
        self.slots += self._head_slots(dict(plan.module_params).get("n_dimensions"))

    def rows(self, X, frozen):
        """A model's rows: its inputs, then the lateral inputs layer by layer."""
        parts = [X]
        for pieces in self.frozen_pieces:
            parts += [frozen[:, at : at + width] for at, width in pieces]
        return torch.cat(parts, dim=1)

    def forward(self, params, rows, masks=None):
        """Every model's logits ``(n_models, n, n_out)`` and ratings (or None).

        ``masks`` holds one dropout mask per hidden layer (None in eval mode).
        """
        act = ACTIVATIONS[self.activation]
        h = _inputs(rows[..., : self.n_features], self.input_index)
        for k in range(self.n_layers):
            # bmm then an in-place bias: baddbmm would first copy the bias
            # into a full-size output (a tenth of a training step)
            z = torch.bmm(h, params[f"W{k}"]).add_(params[f"b{k}"])
            if k > 0:
                z = self._add_laterals(z, rows, params, k - 1)
            h = act(z)
            if masks is not None:
                h = h * masks[k]
        logits = torch.bmm(h, params["Wout"]).add_(params["bout"])
        logits = self._add_laterals(logits, rows, params, self.n_layers - 1)
        return logits, self._ratings(params, h)

    def _add_laterals(self, z, rows, params, k):
        """Add the laterals from the frozen columns' layer ``k``, if any."""
        slices = self.source_slices[k]
        if not slices:
            return z
        if self.lateral == "linear":
            lateral = slice(slices[0].start, slices[-1].stop)
            return torch.baddbmm(z, rows[..., lateral], params[f"L{k}"])
        act = ACTIVATIONS[self.activation]
        for i, piece in enumerate(slices):
            scaled = rows[..., piece] * params[f"La{k}_{i}"]
            inner = act(
                torch.baddbmm(params[f"Lc{k}_{i}"], scaled, params[f"Lv{k}_{i}"])
            )
            z = z + torch.bmm(inner, params[f"Lu{k}_{i}"])
        return z


def _layout(plan, n_features):
    """The layout of a plan's module: a progressive column, or adapters."""
    if plan.module is AdaptedNet:
        return _AdapterLayout(plan, n_features)
    return _Layout(plan, n_features)


class _AdapterLayout(_Slots):
    """The stacked tensors of an :class:`AdaptedNet`, and its forward pass.

    With several domains (a multi-corpus network), a model's rows are
    ``[x | domain code | one-hot domain]``: the one-hot columns select each
    row's domain bias (a matrix product with the stacked biases), mask the
    adapters' inner units of the other domains, and pick the row's output
    layer, exactly as :meth:`AdaptedNet.forward` does per row. Padded rows
    have no domain at all. With one domain (residual adapters on a frozen
    source), the rows are ``x``. The per-domain hidden biases are stacked
    as they are, ``(n_domains, out)``.
    """

    def __init__(self, plan, n_features):
        (spec,) = plan.columns
        params = dict(plan.module_params)
        widths = tuple(spec.hidden_layer_sizes)
        classes = params.get("domain_classes")
        self.with_domains = classes is not None
        self.domain_classes = [
            torch.tensor(c, dtype=torch.long)
            for c in (classes or (tuple(range(spec.n_outputs)),))
        ]
        self.n_domains = len(self.domain_classes)
        self.rank = params["adapter_rank"]
        self.n_outputs = spec.n_outputs
        self.n_features = n_features
        self.input_index = index_tensor(spec.inputs)
        self.activation = spec.activation
        self.n_layers = len(widths)
        self.frozen_trunk = params["freeze_trunk"]
        # AdaptedNet: dropout after every hidden layer of a trained trunk;
        # with a frozen trunk only on the input of the output layers
        self.dropout_widths = widths[-1:] if self.frozen_trunk else widths
        self.slots = []
        for k in range(self.n_layers):
            self.slots += [
                _Slot(f"W{k}", (f"trunk.{k}.weight",), "weight"),
                _Slot(f"b{k}", (f"biases.{k}",), "raw"),
                _Slot(f"D{k}", (f"down.{k}.weight",), "weight"),
                _Slot(f"U{k}", (f"up.{k}.weight",), "weight"),
            ]
        for d in range(self.n_domains):
            self.slots.append(_Slot(f"H{d}", (f"heads.{d}.weight",), "weight"))
            self.slots.append(_Slot(f"c{d}", (f"heads.{d}.bias",), "bias"))
        self.slots += self._head_slots(params.get("n_dimensions"))

    def rows(self, X, frozen):
        """A model's rows: its inputs, then its rows' one-hot domains."""
        if not self.with_domains:
            return X
        domain = F.one_hot(X[:, -1].long(), self.n_domains).to(X.dtype)
        return torch.cat([X, domain], dim=1)

    def forward(self, params, rows, masks=None):
        """Every model's logits ``(n_models, n, n_out)`` and ratings (or None).

        ``masks`` holds the dropout masks of :attr:`dropout_widths` (None in
        eval mode).
        """
        act = ACTIVATIONS[self.activation]
        h = _inputs(rows[..., : self.n_features], self.input_index)
        own = rows[..., self.n_features + 1 :] if self.with_domains else None
        for k in range(self.n_layers):
            z = torch.bmm(h, params[f"W{k}"])
            if own is None:
                z = z.add_(params[f"b{k}"])
            else:
                z = z + torch.bmm(own, params[f"b{k}"])
            inner = self._own_ranks(torch.bmm(h, params[f"D{k}"]), own)
            z = z + torch.bmm(inner, params[f"U{k}"])
            h = act(z)
            if masks is not None and not self.frozen_trunk:
                h = h * masks[k]
        if masks is not None and self.frozen_trunk:
            h = h * masks[0]
        return self._heads(params, h, own), self._ratings(params, h)

    def _own_ranks(self, a, own):
        """Zero every domain's block of the adapters' inner units but the row's."""
        if own is None:
            return a
        n_models, n = a.shape[:2]
        blocks = a.view(n_models, n, self.n_domains, self.rank) * own.unsqueeze(-1)
        return blocks.flatten(2)

    def _heads(self, params, h, own):
        """Every row's logits from its domain's output layer; -inf elsewhere."""
        if own is None:
            return torch.bmm(h, params["H0"]).add_(params["c0"])
        logits = h.new_full((*h.shape[:2], self.n_outputs), float("-inf"))
        for d, classes in enumerate(self.domain_classes):
            head = torch.bmm(h, params[f"H{d}"]).add_(params[f"c{d}"])
            full = h.new_full(logits.shape, float("-inf"))
            full[..., classes.to(h.device)] = head
            # where, not a product: a row of another domain neither reads
            # this head nor sends it a gradient
            logits = torch.where(own[..., d : d + 1].bool(), full, logits)
        return logits


def _stream_seed(seed):
    """The seed of a model's batch-order and dropout stream, from its job's."""
    return int(np.random.SeedSequence([int(seed), 0xBA7C]).generate_state(1)[0])


def _padded(tensors, length, fill=0):
    """Stack tensors of different lengths along a new model axis, padded."""
    out = tensors[0].new_full((len(tensors), length, *tensors[0].shape[1:]), fill)
    for i, tensor in enumerate(tensors):
        out[i, : len(tensor)] = tensor
    return out


class _Stack:
    """The per-model tensors of the models still in training, stacked.

    Every tensor in ``per_model`` has the model axis first, so that the
    models that stop are dropped from all of them at once (:meth:`keep`).
    ``ids`` maps a position in the stack to the model's index in the group.
    """

    def __init__(self, layout, jobs, nets):
        device = torch.device(jobs[0]["device"])
        with_frozen = jobs[0]["plan"].n_frozen > 0
        self.ids = list(range(len(jobs)))
        self.gens = [
            torch.Generator(device).manual_seed(_stream_seed(job["seed"]))
            for job in jobs
        ]
        data = {"train": [], "valid": []}
        for job in jobs:
            for part in ("train", "valid"):
                if job[part] is None:
                    continue
                X, y = _tensors(*job[part][:2])
                frozen = _frozen(X, job) if with_frozen else None
                data[part].append((layout.rows(X, frozen), y, *job[part][2:]))
        per_model = {}
        for part, entries in data.items():
            if not entries:
                continue
            length = max(len(y) for _, y, *_ in entries)
            per_model[f"{part}_rows"] = _padded([e[0] for e in entries], length)
            per_model[f"{part}_y"] = _padded([e[1] for e in entries], length)
            per_model[f"{part}_n"] = torch.tensor([len(e[1]) for e in entries])
            if len(entries[0]) > 2:
                # the ratings of a multi-task net: NaN (no rating) on padding
                ratings = [torch.tensor(np.asarray(e[2], np.float32)) for e in entries]
                per_model[f"{part}_ratings"] = _padded(ratings, length, np.nan)
        for name, tensor in layout.stack([net.module_ for net in nets]).items():
            per_model[f"param_{name}"] = tensor
        # what the optimizer trains is what the module trains: a frozen
        # column's or trunk's weights are buffers, frozen layers do not
        # require gradients (see _initialised_net)
        learnable = {
            key for key, p in nets[0].module_.named_parameters() if p.requires_grad
        }
        self.names = [slot.name for slot in layout.slots]
        self.trainable = [
            slot.name for slot in layout.slots if slot.keys[0] in learnable
        ]
        for name in self.trainable:
            per_model[f"exp_avg_{name}"] = torch.zeros_like(per_model[f"param_{name}"])
            per_model[f"exp_avg_sq_{name}"] = torch.zeros_like(
                per_model[f"param_{name}"]
            )
        n_models = len(jobs)
        per_model["steps"] = torch.zeros(n_models)
        per_model["best_uar"] = torch.full((n_models,), -np.inf, dtype=torch.float64)
        per_model["misses"] = torch.zeros(n_models, dtype=torch.long)
        per_model["best_epoch"] = torch.zeros(n_models, dtype=torch.long)
        self.snapshots = jobs[0]["patience"] is not None and "valid_y" in per_model
        if self.snapshots:
            for name in self.names:
                per_model[f"best_{name}"] = per_model[f"param_{name}"].clone()
        self.per_model = {key: t.to(device) for key, t in per_model.items()}
        self._set_params()

    def _set_params(self):
        self.params = {name: self.per_model[f"param_{name}"] for name in self.names}
        steps = self.per_model["steps"]
        self.same_steps = bool(steps.numel() == 0 or (steps == steps[0]).all())
        for name in self.trainable:
            self.params[name].requires_grad_(True)
        self.adam_views = {}

    def __len__(self):
        return len(self.ids)

    def keep(self, positions):
        """Keep only the models at ``positions`` (a list of ints)."""
        index = torch.tensor(positions, dtype=torch.long)
        self.ids = [self.ids[p] for p in positions]
        self.gens = [self.gens[p] for p in positions]
        self.per_model = {
            key: t.detach()[index.to(t.device)] for key, t in self.per_model.items()
        }
        self._set_params()

    def weights(self, position, best):
        """One model's stacked weights (its best epoch's, if ``best``)."""
        prefix = "best_" if best else "param_"
        return {
            name: self.per_model[f"{prefix}{name}"][position].detach().cpu()
            for name in self.names
        }


def _inputs(x, index):
    """The features of ``x`` that a column reads (``index``; None: all).

    The rows hold every feature, as a module's input does: input noise and
    input dropout are drawn for every feature, whichever a column reads.
    """
    return x if index is None else select_inputs(x, index.to(x.device))


def _dropout_masks(batch_size, n_rows, widths, p, gens, active):
    """Inverted-dropout masks of every hidden layer, each model from its stream.

    Drawn by :func:`~sklearn_prognet.networks._modules.keep_masks`, the dropout of
    the modules too; one draw per model covers all layers of a step. A
    model draws a full batch's masks, and only in the
    steps it takes, so that its stream never depends on the other models
    (how many rows their last batch has, how many batches their epoch has).
    """
    n_models = len(gens)
    sizes = [batch_size * width for width in widths]
    flat = keep_masks(sum(sizes), p, gens, gens[0].device, drawing=active)
    parts = torch.split(flat, sizes, dim=1)
    return [
        part.view(n_models, batch_size, width)[:, :n_rows]
        for part, width in zip(parts, widths, strict=True)
    ]


def _orders(stack, n_rows):
    """Every model's batch order for one epoch: a permutation of its rows."""
    orders = torch.zeros((len(stack), n_rows), dtype=torch.long)
    for i, (gen, n) in enumerate(
        zip(stack.gens, stack.per_model["train_n"].tolist(), strict=True)
    ):
        orders[i, :n] = torch.randperm(n, generator=gen, device=gen.device).cpu()
    return orders.to(stack.per_model["train_n"].device)


class _StackRows(torch.utils.data.Dataset):
    """One part (``"train"`` or ``"valid"``) of every model's rows of a stack.

    skorch's fit loop takes it as its dataset and only asks its length (the
    longest model's rows); the iterators read the stack a batch at a time.
    """

    def __init__(self, stack, part):
        self.stack = stack
        self.part = part

    def __len__(self):
        n = self.stack.per_model[f"{self.part}_n"]
        return int(n.max()) if len(n) else 0

    def __getitem__(self, i):
        raise TypeError("A stack's rows are read a batch of every model at a time.")


class _Batch(NamedTuple):
    """Batch ``s`` of every model, each with its own rows.

    Rows, labels and ratings (None without) of shape ``(n_models, n, ...)``;
    ``mask`` tells a model's own rows from padding.
    """

    x: torch.Tensor
    y: torch.Tensor
    ratings: torch.Tensor | None
    mask: torch.Tensor


class _TrainBatches:
    """skorch's training iterator: batch ``s`` of every model at once.

    Batch ``s`` of a model is rows ``s * batch_size`` to ``(s + 1) *
    batch_size`` of its own order, drawn from its stream when the epoch
    starts; a model whose epoch has fewer batches has no rows (an all-False
    mask) in the extra ones, and does not step in them.
    """

    def __init__(self, dataset, batch_size, **_):
        self.stack = dataset.stack
        self.batch_size = batch_size

    def __iter__(self):
        stack, batch_size = self.stack, self.batch_size
        rows, labels = stack.per_model["train_rows"], stack.per_model["train_y"]
        ratings = stack.per_model.get("train_ratings")
        n = stack.per_model["train_n"]
        orders = _orders(stack, rows.shape[1])
        models = torch.arange(len(stack), device=rows.device).unsqueeze(1)
        for start in range(0, int(n.max()), batch_size):
            index = orders[:, start : start + batch_size]
            positions = torch.arange(start, start + index.shape[1], device=rows.device)
            yield _Batch(
                rows[models, index],
                labels[models, index],
                None if ratings is None else ratings[models, index],
                positions.unsqueeze(0) < n.unsqueeze(1),
            )


class _ValidBatch:
    """skorch's validation iterator: every model's validation rows, once."""

    def __init__(self, dataset, **_):
        self.stack = dataset.stack

    def __iter__(self):
        yield self.stack.per_model["valid_rows"], self.stack.per_model["valid_y"]


class _StackModule(torch.nn.Module):
    """The module of a :class:`StackTrainer`: the stack's models, one forward.

    The weights are the stack's tensors (its ``params``, which change when
    models stop), so the module registers none of its own.
    """

    def __init__(self, layout, stack):
        super().__init__()
        self.layout = layout
        self.stack = stack

    def forward(self, rows, masks=None):
        return self.layout.forward(self.stack.params, rows, masks)


class _StackLoss(torch.nn.Module):
    """Every model's training loss over its own rows of a batch, ``(n_models,)``.

    The cross-entropy with ``label_smoothing``, meaned over the model's rows
    (the padded ones left out), plus, for a multi-task net, the weighted
    loss on its ratings (``dimensional_loss``: ``(kind, weight)``).
    """

    def __init__(self, label_smoothing=0.0, dimensional_loss=None):
        super().__init__()
        self.label_smoothing = label_smoothing
        self.dimensional_loss = dimensional_loss

    def forward(self, output, batch):
        logits, predicted = output
        count = batch.mask.sum(1)
        # where, not a product: a padded row of a multi-domain model may
        # have an infinite loss (its label outside its domain's classes)
        losses = _losses(logits, batch.y, self.label_smoothing)
        per_model = torch.where(batch.mask, losses, 0.0).sum(1) / count.clamp(min=1)
        if predicted is not None:
            kind, weight = self.dimensional_loss
            per_model = per_model + weight * _dimensional_losses(
                predicted, batch.ratings, count.tolist(), kind
            )
        return per_model


class _AllStopped(KeyboardInterrupt):
    """Every model of the stack has stopped: ends skorch's fit loop.

    skorch's own ``EarlyStopping`` ends the loop in the same way (its
    ``partial_fit`` catches the interrupt); :func:`_train_group` tells it
    from a user's interruption by the models still in the stack.
    """


class StackTrainer(NeuralNet):
    """skorch's fit loop around a stack of N >= 1 models: every net's training.

    The module is the stack (:class:`_StackModule`), the dataset its
    training rows and, with validation data, ``train_split`` its validation
    rows. ``train_step`` is one step of every model: input noise and
    dropout, the hidden dropout masks, the forward pass, each model's loss
    (the criterion, :class:`_StackLoss`) and each model's own Adam step
    (:func:`_adam_step`; it replaces skorch's optimizer, because a model
    that takes no step in a batch must keep its moments, which one torch
    optimizer over the stacked tensors cannot do). The per-model work of an
    epoch's end (histories, early stopping, restore-best, taking the
    stopped models out of the stack) is the callback :class:`_ModelEpochs`.

    Parameters
    ----------
    module : _StackModule
        The stack.
    job : dict
        The options of the stack's jobs (those of :data:`_SHARED` are equal).
    **kwargs
        skorch's parameters.
    """

    def __init__(self, module, *, job, **kwargs):
        super().__init__(module, **kwargs)
        self.job = job

    def initialize_optimizer(self, *args, **kwargs):
        self.optimizer_ = None  # each model's own Adam: _adam_step
        return self

    def train_step(self, batch, **fit_params):
        job, stack = self.job, self.module_.stack
        count = batch.mask.sum(1)
        active = (count > 0).tolist()
        _corrupt_inputs(
            batch.x, self.module_.layout.n_features, job, stack.gens, active
        )
        masks = None
        if job["dropout"]:
            masks = _dropout_masks(
                job["batch_size"],
                batch.x.shape[1],
                self.module_.layout.dropout_widths,
                job["dropout"],
                stack.gens,
                active,
            )
        per_model = self.criterion_(self.module_(batch.x, masks), batch)
        params = [stack.params[name] for name in stack.trainable]
        grads = torch.autograd.grad(per_model.sum(), params)
        _adam_step(stack, grads, active, job["lr"], job["weight_decay"])
        per_model = per_model.detach()
        return {"loss": per_model.sum(), "model_losses": (per_model * count).double()}

    def validation_step(self, batch, **fit_params):
        # the batch is every model's validation rows: _validate reads them
        # from the stack, with how many of them are each model's own
        stack, layout = self.module_.stack, self.module_.layout
        losses, uar = _validate(stack, layout, self.job["label_smoothing"])
        return {"loss": torch.tensor(sum(losses)), "valid_losses": losses, "uar": uar}


class _ModelEpochs(Callback):
    """What every model does at the end of an epoch of a :class:`StackTrainer`.

    Records its history row (skorch's: ``train_loss`` and, with validation
    data, ``valid_loss``, ``valid_uar`` and ``valid_uar_best``, then
    ``dur``), updates its early stopping, and writes each model that stops
    (or reaches ``max_epochs``) into its net, with its best weights, and
    takes it out of the stack; when none is left, ends the loop.
    """

    def __init__(self, jobs, nets):
        self.jobs = jobs
        self.nets = nets

    def initialize(self):
        self.histories_ = [[] for _ in self.jobs]
        return self

    def on_epoch_begin(self, net, **kwargs):
        stack = net.module_.stack
        self.train_total_ = torch.zeros(len(stack), dtype=torch.float64)
        self.valid_ = None

    def on_batch_end(self, net, training, **step):
        if training:
            self.train_total_ += step["model_losses"].cpu()
        else:
            self.valid_ = step["valid_losses"], step["uar"]

    def on_epoch_end(self, net, **kwargs):
        stack, layout, job = net.module_.stack, net.module_.layout, net.job
        epoch = len(net.history)
        n = stack.per_model["train_n"].cpu()
        row = {"train_loss": (self.train_total_ / n).tolist()}
        stop = torch.zeros(len(stack), dtype=torch.bool)
        if self.valid_ is not None:
            row["valid_loss"], uar = self.valid_
            row["valid_uar"] = uar.tolist()
            improved, stop = _early_stopping(stack, uar, epoch, job["patience"])
            row["valid_uar_best"] = improved.tolist()
            stop = stop.cpu()
        duration = net.history[-1, "dur"]
        for position, i in enumerate(stack.ids):
            self.histories_[i].append(
                {"epoch": epoch, **{k: v[position] for k, v in row.items()}}
            )
            self.histories_[i][-1]["dur"] = duration
            if self.jobs[i]["verbose"]:
                _print_epoch(self.histories_[i][-1], i, len(self.jobs))
        if epoch == net.max_epochs:
            stop[:] = True
        if bool(stop.any()):
            _finish(stack, layout, self.nets, self.histories_, stop.tolist(), epoch)
        if not len(stack):
            raise _AllStopped


def _losses(logits, y, label_smoothing):
    """Every row's cross-entropy, shape ``(n_models, n)``.

    :func:`~sklearn_prognet.networks._modules.smoothed_cross_entropy` with the
    estimator's ``label_smoothing``, in training and validation alike.
    """
    return smoothed_cross_entropy(
        logits.flatten(0, 1), y.flatten(), label_smoothing, reduction="none"
    ).view_as(y)


def _dimensional_losses(predicted, targets, counts, kind):
    """Every model's loss on the ratings of its rows of a batch, ``(n_models,)``.

    The multi-task loss of :mod:`sklearn_prognet.networks._multitask` over a model's
    own rows (the first ``count`` of the batch; missing ratings are NaN). A
    batch-level loss (the CCC's moments are the batch's), so it is computed
    model by model; a model without rows in the batch gets 0.
    """
    loss = DIMENSIONAL_LOSSES[kind]
    return torch.stack(
        [
            loss(predicted[m, :c], targets[m, :c]) if c else predicted[m].sum() * 0.0
            for m, c in enumerate(counts)
        ]
    )


def _corrupt_inputs(x, n_features, job, gens, active):
    """Input noise, then input dropout, on the features of a batch, in place.

    Gaussian noise of standard deviation ``input_noise``, then an
    inverted-dropout mask of rate ``input_dropout``, on the first
    ``n_features`` columns only: the frozen columns' activations were
    computed from clean inputs, and a multi-corpus row's corpus code and
    one-hot domain are not features. Each
    model draws a full batch from its own stream, and only in the steps it
    takes, so that its stream never depends on the other models.
    """
    noise, p = job["input_noise"], job["input_dropout"]
    if not noise and not p:
        return
    n_models, n_rows = x.shape[:2]
    shape = (job["batch_size"], n_features)
    features = x[..., :n_features]
    if noise:
        draws = x.new_zeros((n_models, *shape))
        for i, gen in enumerate(gens):
            if active[i]:
                draws[i].normal_(generator=gen)
        features.add_(draws[:, :n_rows].mul_(noise))
    if p:
        flat = x.new_zeros((n_models, *shape))
        for i, gen in enumerate(gens):
            if active[i]:
                flat[i].uniform_(generator=gen)
        features.mul_(flat[:, :n_rows].ge_(p).float().mul_(1.0 / (1.0 - p)))


def _adam_step(stack, grads, active, lr, weight_decay=0.0):
    """One Adam step of the models flagged ``active``, the others untouched.

    Adam is elementwise, so one fused call over every (model, parameter)
    slice is the same as an independent Adam per model; leaving a model's
    slices out of the call leaves its weights, moments and step count as
    they are (a zero gradient would still move it through its momentum).
    With ``weight_decay``, the kernel is torch's for
    ``Adam(decoupled_weight_decay=True)`` (AdamW): each stepping model's
    trained weights are first multiplied by ``1 - lr * weight_decay``, then
    take the Adam step; a model that does not step is not decayed either.
    """
    if all(active) and stack.same_steps:
        # the usual case: every model steps and all have taken as many
        # steps, so whole stacked tensors share one step count (fewer,
        # larger tensors for the kernel)
        views = _whole_adam_views(stack)
        grad_slices = list(grads)
    else:
        stack.same_steps = False
        key = tuple(active)
        views = stack.adam_views.get(key)
        if views is None:
            views = _adam_views(stack, [i for i, flag in enumerate(active) if flag])
            stack.adam_views[key] = views
        grad_slices = [
            parts[i] for parts in (g.unbind(0) for g in grads) for i in views[0]
        ]
    _, params, exp_avgs, exp_avg_sqs, model_steps, steps = views
    # Adam(decoupled_weight_decay=True) is the AdamW kernel
    adam = _fused_adamw_ if weight_decay else _fused_adam_
    with torch.no_grad():
        _foreach_add_(model_steps, 1)
        adam(
            params,
            grad_slices,
            exp_avgs,
            exp_avg_sqs,
            [],
            steps,
            lr=lr,
            weight_decay=weight_decay,
            **_ADAM_CONSTANTS,
        )


def _whole_adam_views(stack):
    """Whole stacked tensors for the fused Adam kernel, one shared step."""
    views = stack.adam_views.get("whole")
    if views is None:
        state = stack.per_model
        with torch.no_grad():
            steps = state["steps"]
            shared = steps[:1].clone().squeeze(0)
            views = (
                None,
                [stack.params[name] for name in stack.trainable],
                [state[f"exp_avg_{name}"] for name in stack.trainable],
                [state[f"exp_avg_sq_{name}"] for name in stack.trainable],
                [steps],
                [shared] * len(stack.trainable),
            )
        stack.adam_views["whole"] = views
    # the shared step follows the per-model counts (all equal here)
    views[5][0].fill_(views[4][0][0] + 1)
    return views


def _adam_views(stack, positions):
    """Per-(parameter, model) slices for the fused Adam kernel."""
    with torch.no_grad():

        def slices(prefix):
            return [
                parts[i]
                for parts in (
                    stack.per_model[f"{prefix}{name}"].unbind(0)
                    for name in stack.trainable
                )
                for i in positions
            ]

        model_steps = [stack.per_model["steps"].unbind(0)[i] for i in positions]
        steps = model_steps * len(stack.trainable)
        return (
            positions,
            slices("param_"),
            slices("exp_avg_"),
            slices("exp_avg_sq_"),
            model_steps,
            steps,
        )


def _validate(stack, layout, label_smoothing):
    """Every model's validation loss and UAR (lists), in eval mode."""
    rows, y = stack.per_model["valid_rows"], stack.per_model["valid_y"]
    n = stack.per_model["valid_n"]
    mask = torch.arange(rows.shape[1], device=rows.device).unsqueeze(0) < n.unsqueeze(1)
    with torch.no_grad():
        logits, _ = layout.forward(stack.params, rows)
        losses = _losses(logits, y, label_smoothing)
        loss = torch.where(mask, losses, 0.0).sum(1).double() / n
        return loss.tolist(), _uar(logits.argmax(-1), y, mask, logits.shape[-1])


def _uar(predicted, y, mask, n_classes):
    """Unweighted average recall of every model over the classes in its ``y``.

    The same as :func:`sklearn_prognet.metrics.uar_score` (balanced accuracy).
    """
    true = F.one_hot(y, n_classes).double() * mask.unsqueeze(-1)
    support = true.sum(1)
    correct = (true * (predicted == y).unsqueeze(-1)).sum(1)
    present = support > 0
    recall = torch.where(present, correct / support.clamp(min=1), 0.0)
    return recall.sum(1) / present.sum(1)


def _early_stopping(stack, uar, epoch, patience):
    """Update every model's best score; return which models improved and stop.

    As skorch's ``EarlyStopping(threshold=0)`` on a higher-is-better score:
    an epoch improves on a strictly higher UAR, and a model stops after
    ``patience`` epochs in a row without improvement.
    """
    state = stack.per_model
    improved = uar > state["best_uar"]
    state["best_uar"] = torch.where(improved, uar, state["best_uar"])
    state["misses"] = torch.where(improved, 0, state["misses"] + 1)
    state["best_epoch"] = torch.where(improved, epoch, state["best_epoch"])
    if stack.snapshots and bool(improved.any()):
        index = improved.nonzero().flatten()
        with torch.no_grad():
            for name in stack.names:
                best, current = state[f"best_{name}"], state[f"param_{name}"]
                best.index_copy_(0, index, current.index_select(0, index))
    if patience is None:
        return improved, torch.zeros_like(improved)
    return improved, state["misses"] >= patience


def _train_group(jobs):
    """Train jobs of one configuration in one stack; return their nets.

    skorch's fit loop (:class:`StackTrainer`) trains the stack; every model
    is written into its own net (:func:`_initialised_net`) when it stops.
    """
    nets = [_initialised_net(job) for job in jobs]
    job = jobs[0]
    layout = _layout(job["plan"], job["n_features"])
    stack = _Stack(layout, jobs, nets)
    validating = "valid_y" in stack.per_model
    trainer = StackTrainer(
        _StackModule(layout, stack),
        job=job,
        criterion=_StackLoss,
        criterion__label_smoothing=job["label_smoothing"],
        criterion__dimensional_loss=job.get("dimensional_loss"),
        # what skorch's loop itself uses; the step reads the other knobs
        # (lr included: _adam_step replaces skorch's optimizer) from the job
        batch_size=job["batch_size"],
        max_epochs=job["max_epochs"],
        iterator_train=_TrainBatches,
        iterator_valid=_ValidBatch,
        train_split=predefined_split(_StackRows(stack, "valid"))
        if validating
        else None,
        callbacks=[("model_epochs", _ModelEpochs(jobs, nets))],
        # skorch's default scores and table are of one model: the callback
        # above keeps every model's
        callbacks__train_loss=None,
        callbacks__valid_loss=None,
        callbacks__print_log=None,
        device=job["device"],
    )
    trainer.fit(_StackRows(stack, "train"), None)
    if len(stack):
        # skorch's partial_fit takes a KeyboardInterrupt for the end of
        # training: a user's interruption must not hand over untrained nets
        raise KeyboardInterrupt
    return nets


def _print_epoch(row, i, n_models):
    """One line of a model's epoch, as skorch's ``PrintLog`` table has them."""
    model = f"model {i:>3}  " if n_models > 1 else ""
    cells = [f"{row['epoch']:>5}", f"train_loss {row['train_loss']:.4f}"]
    if "valid_uar" in row:
        best = " +" if row["valid_uar_best"] else "  "
        cells += [
            f"valid_loss {row['valid_loss']:.4f}",
            f"valid_uar {row['valid_uar']:.4f}{best}",
        ]
    cells.append(f"dur {row['dur']:.3f}")
    print(model + "  ".join(cells), flush=True)


def _finish(stack, layout, nets, histories, stop, epoch):
    """Write the stopped models into their nets and drop them from the stack."""
    best_epochs = stack.per_model["best_epoch"].tolist()
    for position, stopped in enumerate(stop):
        if not stopped:
            continue
        i = stack.ids[position]
        # skorch's EarlyStopping(load_best=True): the best epoch's weights
        # unless the last epoch was the best
        restore = stack.snapshots and best_epochs[position] != epoch
        _write_net(
            nets[i],
            layout.unstack(stack.weights(position, best=restore)),
            histories[i],
        )
    stack.keep([p for p, stopped in enumerate(stop) if not stopped])


def _write_net(net, state, history):
    """Make an initialised net the trained one: its weights and history."""
    load_state(net.module_, state)
    for row in history:
        net.history.new_epoch()
        for key, value in row.items():
            net.history.record(key, value)
