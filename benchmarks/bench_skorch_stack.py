"""Can skorch's own fit loop train a stack of networks as fast as the engine?

Run it with ``python benchmarks/bench_skorch_stack.py`` (``make bench``); it
writes its output to ``docs/benchmarks_skorch_stack.txt`` as well. Issue #31
asks for one training loop for N >= 1 networks, preferably skorch's own fit
loop around a module that is the stack. This measures the price of that on
the embedded EmoDB table (the paper's DNN: 4 x 256 sigmoid units, dropout
0.5, Adam, lr 0.0005, batch 64; the training and validation folds of
:class:`~sklearn_prognet.model_selection.FoldRoles`, one per model, each
standardised on its training rows): seconds per epoch of N models, for

- ``engine``: :func:`sklearn_prognet.networks._batched.train_nets` on the N jobs that
  ``DNNClassifier._prepare_fit`` gives (as ``fit_batched`` builds them),
  validating every epoch with a patience it never reaches (the package's
  loop; since the measurement below decided it, the loop runs inside
  skorch's fit loop, so this row is now skorch's loop around the engine's
  step and stack);
- ``skorch loop``: a :class:`skorch.NeuralNet` (with the package's
  ``_set_training`` short cut and without PrintLog, as ``make_net``) whose
  module is a stack of N MLPs of the same maths (weights of shape
  ``(N, in, out)``, :func:`torch.bmm`, the engine's dropout masks from one
  :class:`torch.Generator` per model, fused ``torch.optim.Adam`` over the
  stacked parameters), fed by an iterator that gives every model its own
  row order, with a callback that scores every model's validation loss and
  UAR, keeps its best weights and patience count, and records them in the
  history, every epoch;
- ``skorch loop, lean step``: the same net, whose ``train_step`` takes the
  engine's step instead of ``torch.optim.Adam`` with a closure
  (:func:`torch.autograd.grad`, then Adam's fused kernel on lists built
  once);
- ``torch loop``: the module, iterator and validation of ``skorch loop`` in
  a plain torch loop (``backward``, ``torch.optim.Adam``): the floor of
  ``skorch loop``, so that their difference is skorch's own loop;
- ``DNNClassifier`` (N = 1 only): one network's own ``fit`` (a stack of
  one).

An epoch is the marginal cost of ``--epochs`` more epochs (a run of
``1 + epochs`` epochs minus a run of one, divided by ``epochs``), so that
building the nets is left out; the methods are interleaved and each value is
the median over ``--repeats`` runs, in CPU time of this process (one torch
thread), which other jobs on a shared machine stretch far less than the wall
clock; the wall-clock ratios are printed too. A cProfile of the skorch loop's
epochs shows where its time goes. Only the ratios within one run mean
something.
"""

import argparse
import cProfile
import io
import math
import os
import pstats
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import skorch
import torch
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback
from torch import nn
from torch.nn import functional as F

from sklearn_prognet import DNNClassifier
from sklearn_prognet.datasets import load_emodb_features
from sklearn_prognet.model_selection import FoldRoles, RepeatedStratifiedGroupKFold
from sklearn_prognet.networks._batched import _dropout_masks, _uar, train_nets
from sklearn_prognet.utils._compat import _fused_adam_

OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks_skorch_stack.txt"
NETWORK = {
    key: DNNClassifier().get_params()[key]
    for key in ("hidden_layer_sizes", "dropout", "lr", "batch_size")
}


# -- data ---------------------------------------------------------------------


def model_data(n_models, batch_size):
    """``(X_train, y_train, X_val, y_val)`` of each model: one fold each.

    The folds of the paper's protocol (10 per repeat), standardised on their
    training rows as the runner's pipeline does; labels encoded. Only folds
    whose epoch has as many batches as the first one's are kept: then every
    model steps in every batch, the engine takes its whole-tensor Adam path,
    and one ``torch.optim.Adam`` over the stacked tensors is the same maths.
    """
    emodb = load_emodb_features()
    classes, y = np.unique(emodb.target, return_inverse=True)
    roles = FoldRoles(
        RepeatedStratifiedGroupKFold(
            n_splits=10, n_repeats=2 + n_models // 5, random_state=0
        ),
        random_state=0,
    )
    out = []
    with warnings.catch_warnings():
        # EmoDB has 10 speakers: the repeats reuse the same folds (with other
        # validation folds), which matters to the t-test, not to a timing
        warnings.simplefilter("ignore", UserWarning)
        folds = list(roles.split_roles(emodb.data, y, emodb.speaker))
    for fold in folds:
        if _n_batches(fold.train, batch_size) != _n_batches(folds[0].train, batch_size):
            continue
        scaler = StandardScaler().fit(emodb.data[fold.train])
        X_train = scaler.transform(emodb.data[fold.train]).astype(np.float32)
        X_val = scaler.transform(emodb.data[fold.validation]).astype(np.float32)
        out.append((X_train, y[fold.train], X_val, y[fold.validation]))
        if len(out) == n_models:
            return out, len(classes)
    raise ValueError(f"EmoDB has fewer than {n_models} folds of equal epochs.")


def _n_batches(rows, batch_size):
    return -(-len(rows) // batch_size)


def _padded(arrays, dtype):
    """Stack arrays of different lengths on a new model axis, zero-padded."""
    out = torch.zeros((len(arrays), max(map(len, arrays)), *arrays[0].shape[1:]))
    out = out.to(dtype)
    for i, array in enumerate(arrays):
        out[i, : len(array)] = torch.as_tensor(array)
    return out


class StackedData(torch.utils.data.Dataset):
    """Every model's rows ``(N, n, F)`` and labels ``(N, n)``, padded.

    ``n`` holds each model's number of rows; ``gens`` its random stream
    (batch order and dropout masks, drawn in that order as the engine does).
    skorch takes it as ``X`` and only asks its length.
    """

    def __init__(self, pairs, seeds):
        self.rows = _padded([X for X, _ in pairs], torch.float32)
        self.y = _padded([y for _, y in pairs], torch.long)
        self.n = torch.tensor([len(y) for _, y in pairs])
        self.gens = [torch.Generator().manual_seed(int(s)) for s in seeds]

    def __len__(self):
        return int(self.n.max())

    def __getitem__(self, i):
        raise TypeError("StackedData is read by StackedBatches, a batch at a time.")


class StackedBatches:
    """skorch's iterator_train: every model's batches from its own row order.

    Batch ``s`` of a model is rows ``s * batch_size`` to ``(s + 1) *
    batch_size`` of its order; a model with fewer rows gets label -1 (no
    loss) past its end.
    """

    def __init__(self, dataset, batch_size, **_):
        self.dataset = dataset
        self.batch_size = batch_size

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        data = self.dataset
        n_rows = data.rows.shape[1]
        orders = torch.zeros((len(data.gens), n_rows), dtype=torch.long)
        for i, (gen, n) in enumerate(zip(data.gens, data.n.tolist(), strict=True)):
            orders[i, :n] = torch.randperm(n, generator=gen)
        models = torch.arange(len(data.gens)).unsqueeze(1)
        for start in range(0, n_rows, self.batch_size):
            index = orders[:, start : start + self.batch_size]
            positions = torch.arange(start, start + index.shape[1])
            padding = positions.unsqueeze(0) >= data.n.unsqueeze(1)
            y = data.y[models, index].masked_fill_(padding, -1)
            yield data.rows[models, index], y


# -- the stacked network --------------------------------------------------------


class StackedMLP(nn.Module):
    """N MLPs of one architecture as stacked tensors, ``torch.bmm`` per layer.

    Initialised as the package's columns are; dropout masks from the engine's
    ``_dropout_masks`` with every model's own generator (``gens``, shared
    with the data so that the draws interleave as in the engine).
    """

    def __init__(self, n_models, n_features, hidden, n_classes, dropout, batch_size):
        super().__init__()
        widths = (n_features, *hidden, n_classes)
        self.n_layers = len(widths) - 1
        for k, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            # as Column.reset_parameters: Glorot-uniform weights, zero biases
            bound = math.sqrt(6 / (a + b))
            weight = torch.empty(n_models, a, b).uniform_(-bound, bound)
            bias = torch.zeros(n_models, 1, b)
            self.register_parameter(f"W{k}", nn.Parameter(weight))
            self.register_parameter(f"b{k}", nn.Parameter(bias))
        self.hidden = tuple(hidden)
        self.dropout = dropout
        self.batch_size = batch_size
        self.gens = None  # set from the data

    def forward(self, x):
        masks = None
        if self.training and self.dropout:
            active = [True] * len(self.gens)
            masks = _dropout_masks(
                self.batch_size,
                x.shape[1],
                self.hidden,
                self.dropout,
                self.gens,
                active,
            )
        params = self._parameters
        h = x
        for k in range(self.n_layers - 1):
            h = torch.sigmoid(torch.bmm(h, params[f"W{k}"]).add_(params[f"b{k}"]))
            if masks is not None:
                h = h * masks[k]
        k = self.n_layers - 1
        return torch.bmm(h, params[f"W{k}"]).add_(params[f"b{k}"])


def stacked_loss(logits, y):
    """The sum over models of each model's mean cross-entropy (label -1: none)."""
    losses = F.cross_entropy(
        logits.flatten(0, 1), y.flatten(), ignore_index=-1, reduction="none"
    ).view_as(y)
    return (losses.sum(1) / (y >= 0).sum(1).clamp(min=1)).sum()


class StackedLoss(nn.Module):
    """:func:`stacked_loss` as skorch's criterion."""

    def forward(self, logits, y):
        return stacked_loss(logits, y)


class StackedValidation:
    """Every model's validation loss and UAR, best weights and patience count.

    As the engine's ``_validate`` and ``_early_stopping`` (with snapshots):
    an epoch improves on a strictly higher UAR; a model's best weights are
    copied when it does.
    """

    def __init__(self, pairs, patience):
        self.rows = _padded([X for X, _ in pairs], torch.float32)
        self.y = _padded([y for _, y in pairs], torch.long)
        n = torch.tensor([len(y) for _, y in pairs])
        self.n = n
        self.mask = torch.arange(self.rows.shape[1]).unsqueeze(0) < n.unsqueeze(1)
        self.patience = patience
        self.best_uar = torch.full((len(pairs),), -np.inf, dtype=torch.float64)
        self.misses = torch.zeros(len(pairs), dtype=torch.long)
        self.best = None

    def __call__(self, module):
        """Score one epoch; return (losses, uars, which models stop)."""
        was_training = module.training
        module.train(False)
        with torch.no_grad():
            logits = module(self.rows)
            losses = F.cross_entropy(
                logits.flatten(0, 1), self.y.flatten(), reduction="none"
            ).view_as(self.y)
            loss = torch.where(self.mask, losses, 0.0).sum(1).double() / self.n
            uar = _uar(logits.argmax(-1), self.y, self.mask, logits.shape[-1])
            improved = uar > self.best_uar
            self.best_uar = torch.where(improved, uar, self.best_uar)
            self.misses = torch.where(improved, 0, self.misses + 1)
            params = dict(module.named_parameters())
            if self.best is None:
                self.best = {k: p.detach().clone() for k, p in params.items()}
            elif bool(improved.any()):
                index = improved.nonzero().flatten()
                for name, best in self.best.items():
                    best.index_copy_(0, index, params[name].index_select(0, index))
        module.train(was_training)
        return loss.tolist(), uar.tolist(), (self.misses >= self.patience).tolist()


class StackedScoring(Callback):
    """skorch callback: :class:`StackedValidation` every epoch, into history.

    A model that stops would only be recorded here: skorch's loop cannot
    take it out of the module's stacked tensors (see the benchmarks page).
    """

    def __init__(self, pairs, patience):
        self.pairs = pairs
        self.patience = patience

    def initialize(self):
        self.validation_ = StackedValidation(self.pairs, self.patience)
        return self

    def on_epoch_end(self, net, **kwargs):
        loss, uar, stop = self.validation_(net.module_)
        net.history.record("valid_loss", loss)
        net.history.record("valid_uar", uar)
        net.history.record("stopped", stop)


class StackTrainer(skorch.NeuralNet):
    """skorch's NeuralNet with the package's ``_set_training`` short cut."""

    def _set_training(self, training=True):
        if self.module_.training != training:
            super()._set_training(training)


class LeanStepTrainer(StackTrainer):
    """skorch's loop around the engine's step: ``autograd.grad``, fused Adam.

    ``train_step`` (a documented hook) computes the gradients with
    :func:`torch.autograd.grad` (no ``.grad`` buffers to zero and fill) and
    calls Adam's fused kernel on lists built once, as the engine's
    ``_adam_step`` does, instead of ``torch.optim.Adam.step`` with its
    closure; skorch's optimizer is built but never stepped. It skips
    skorch's ``on_grad_computed`` notification, which no callback here uses.
    """

    def initialize_optimizer(self, *args, **kwargs):
        super().initialize_optimizer(*args, **kwargs)
        params = [p for p in self.module_.parameters() if p.requires_grad]
        self.lean_ = {
            "params": params,
            "exp_avgs": [torch.zeros_like(p) for p in params],
            "exp_avg_sqs": [torch.zeros_like(p) for p in params],
            "step": torch.zeros(()),
        }
        return self

    def train_step(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = skorch.dataset.unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        state = self.lean_
        grads = torch.autograd.grad(loss, state["params"])
        with torch.no_grad():
            state["step"] += 1
            _fused_adam_(
                state["params"],
                list(grads),
                state["exp_avgs"],
                state["exp_avg_sqs"],
                [],
                [state["step"]] * len(grads),
                amsgrad=False,
                lr=self.lr,
                beta1=0.9,
                beta2=0.999,
                weight_decay=0.0,
                eps=1e-8,
                maximize=False,
                grad_scale=None,
                found_inf=None,
            )
        return {"loss": loss.detach(), "y_pred": y_pred}


# -- the loops ------------------------------------------------------------------


def _stacked_module(data, n_classes, seeds):
    """A seeded StackedMLP of the paper's network for ``data`` (model pairs)."""
    torch.manual_seed(int(seeds[0]))
    return StackedMLP(
        len(data),
        data[0][0].shape[1],
        NETWORK["hidden_layer_sizes"],
        n_classes,
        NETWORK["dropout"],
        NETWORK["batch_size"],
    )


def skorch_net(data, n_classes, epochs, patience, trainer=StackTrainer):
    """The skorch net that trains the stack, and its training dataset."""
    seeds = np.arange(len(data))
    dataset = StackedData([(X, y) for X, y, _, _ in data], seeds)
    module = _stacked_module(data, n_classes, seeds)
    module.gens = dataset.gens
    net = trainer(
        module=module,
        criterion=StackedLoss,
        optimizer=torch.optim.Adam,
        optimizer__fused=True,
        lr=NETWORK["lr"],
        batch_size=NETWORK["batch_size"],
        max_epochs=epochs,
        iterator_train=StackedBatches,
        train_split=None,
        callbacks=[
            (
                "stacked_scoring",
                StackedScoring([(X, y) for _, _, X, y in data], patience),
            )
        ],
        # as make_net: PrintLog formats a table every epoch even when silent
        callbacks__print_log=None,
        device="cpu",
        verbose=0,
    )
    return net, dataset


def run_skorch(data, n_classes, epochs):
    net, dataset = skorch_net(data, n_classes, epochs, patience=epochs + 1)
    net.fit(dataset, None)
    return net


def run_skorch_lean(data, n_classes, epochs):
    net, dataset = skorch_net(
        data, n_classes, epochs, patience=epochs + 1, trainer=LeanStepTrainer
    )
    net.fit(dataset, None)
    return net


def run_torch(data, n_classes, epochs):
    seeds = np.arange(len(data))
    dataset = StackedData([(X, y) for X, y, _, _ in data], seeds)
    module = _stacked_module(data, n_classes, seeds)
    module.gens = dataset.gens
    validation = StackedValidation([(X, y) for _, _, X, y in data], epochs + 1)
    optimizer = torch.optim.Adam(module.parameters(), lr=NETWORK["lr"], fused=True)
    batches = StackedBatches(dataset, NETWORK["batch_size"])
    for _ in range(epochs):
        module.train()
        for x, y in batches:
            optimizer.zero_grad()
            stacked_loss(module(x), y).backward()
            optimizer.step()
        validation(module)
    return module


def engine_jobs(data, epochs):
    """The ``fit_net`` jobs of N DNNClassifiers, as ``fit_batched`` prepares them."""
    jobs = []
    for seed, (X, y, X_val, y_val) in enumerate(data):
        # patience past the last epoch: it validates and keeps the best
        # weights every epoch but never stops
        net = DNNClassifier(max_epochs=epochs, patience=epochs + 1, random_state=seed)
        net._validate_params()
        jobs.append(net._prepare_fit(X, y, None, None, X_val, y_val))
    return jobs


def run_engine(data, n_classes, epochs):
    return train_nets(engine_jobs(data, epochs))


def run_dnn(data, n_classes, epochs):
    ((X, y, X_val, y_val),) = data
    return DNNClassifier(max_epochs=epochs, patience=epochs + 1, random_state=0).fit(
        X, y, X_val=X_val, y_val=y_val
    )


METHODS = {
    "engine": run_engine,
    "skorch loop": run_skorch,
    "skorch loop, lean step": run_skorch_lean,
    "torch loop": run_torch,
    "DNNClassifier": run_dnn,
}


# -- measuring ------------------------------------------------------------------


def stopping_epochs(data, n_classes):
    """Each model's epochs with the paper's early stopping, trained by the engine."""
    jobs = []
    for seed, (X, y, X_val, y_val) in enumerate(data):
        net = DNNClassifier(random_state=seed)
        net._validate_params()
        jobs.append(net._prepare_fit(X, y, None, None, X_val, y_val))
    return [len(net.history) for net in train_nets(jobs)]


def _timed(fn, *args):
    """Wall-clock and CPU seconds of ``fn(*args)`` (CPU: this process's)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args)
    return np.array([time.perf_counter() - wall, time.process_time() - cpu])


def seconds_per_epoch(sizes, n_classes, data, epochs, repeats, loads, methods):
    """Each (N, method)'s median marginal seconds per epoch, interleaved.

    Appends the 1-minute load average after every repeat to ``loads``.
    Returns ``{(N, method): array([wall, cpu])}``. With one torch thread the
    process's CPU time is the work itself: other jobs on a shared machine
    stretch the wall clock far more than they stretch it.
    """
    for name in methods:
        METHODS[name](data[:1], n_classes, 1)  # warm-up: imports, first calls
    runs = {}
    for _ in range(repeats):
        for n in sizes:
            for name in methods:
                fn = METHODS[name]
                if name == "DNNClassifier" and n != 1:
                    continue
                short = _timed(fn, data[:n], n_classes, 1)
                long = _timed(fn, data[:n], n_classes, 1 + epochs)
                runs.setdefault((n, name), []).append((long - short) / epochs)
        loads.append(os.getloadavg()[0])
    return {key: np.median(values, axis=0) for key, values in runs.items()}


def _here(fn):
    """How pstats names a function of this file."""
    return (fn.__code__.co_filename, fn.__code__.co_firstlineno, fn.__name__)


# (label, how pstats names it: (file name, function) or a function of this
# file): the costs of skorch's loop around the step; indented rows are inside
# the row above them
PROFILED = (
    ("fit_loop (the whole epoch)", ("net.py", "fit_loop")),
    ("train_step (zero_grad, the closure, Adam)", ("net.py", "train_step")),
    ("  train_step_single (forward, loss, backward)", ("net.py", "train_step_single")),
    ("    module forward", _here(StackedMLP.forward)),
    ("    get_loss (criterion)", ("net.py", "get_loss")),
    ("    backward", ("_tensor.py", "backward")),
    ("  fused Adam (_fused_adam)", ("adam.py", "_fused_adam")),
    ("StackedBatches (every model's batch)", _here(StackedBatches.__iter__)),
    ("notify (all callbacks)", ("net.py", "notify")),
    ("  stacked validation callback", _here(StackedScoring.on_epoch_end)),
    ("history record, record_batch", ("history.py", "record")),
    ("history record, record_batch", ("history.py", "record_batch")),
    (
        "loss.item() (per batch)",
        ("~", "<method 'item' of 'torch._C.TensorBase' objects>"),
    ),
    ("_set_training", _here(StackTrainer._set_training)),
    ("get_len (the batch size record)", ("dataset.py", "get_len")),
    ("to_tensor (the targets)", ("utils.py", "to_tensor")),
)


def _label(key):
    """The PROFILED label of a pstats key, or None."""
    path, line, name = key
    for label, where in PROFILED:
        if len(where) == 3:
            if (os.path.realpath(path), line, name) == (
                os.path.realpath(where[0]),
                where[1],
                where[2],
            ):
                return label
        elif name == where[1] and os.path.basename(path) == where[0]:
            return label
    return None


def profile_skorch(data, n_classes, epochs):
    """Calls and cumulative seconds per epoch of skorch's loop, by function."""
    net, dataset = skorch_net(data, n_classes, 1, patience=epochs + 2)
    net.fit(dataset, None)  # warm-up, and initialises the net
    net.max_epochs = epochs
    profiler = cProfile.Profile()
    profiler.enable()
    net.partial_fit(dataset, None)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO()).stats
    found = {}
    for key, (_, calls, _, cumulative, _) in stats.items():
        label = _label(key)
        if label is not None:
            old = found.get(label, (0, 0.0))
            found[label] = (old[0] + calls, old[1] + cumulative)
    n_batches = len(StackedBatches(dataset, NETWORK["batch_size"]))
    return {k: (c / epochs, t / epochs) for k, (c, t) in found.items()}, n_batches


# -- the report -----------------------------------------------------------------


WALL, CPU = 0, 1


def format_times(results, sizes, n_batches):
    """The table of ms per epoch (CPU time) and ratios to the engine."""
    lines = [
        "| N | method | ms per epoch | / engine | / engine, wall clock |",
        "|---|---|---|---|---|",
    ]
    for n in sizes:
        engine = results[n, "engine"]
        for name in METHODS:
            if (n, name) not in results:
                continue
            t = results[n, name]
            lines.append(
                f"| {n} | {name} | {1000 * t[CPU]:.1f} | {t[CPU] / engine[CPU]:.2f} "
                f"| {t[WALL] / engine[WALL]:.2f} |"
            )
    if not all((sizes[0], m) in results for m in ("skorch loop", "torch loop")):
        return lines
    lines += ["", "| N | (b) / (a) | (a) / (c) | (b) / (c) | (b) - (c) per batch |"]
    lines.append("|---|---|---|---|---|")
    for n in sizes:
        a, b, c = (results[n, m][CPU] for m in ("engine", "skorch loop", "torch loop"))
        lines.append(
            f"| {n} | {b / a:.2f} | {a / c:.2f} | {b / c:.2f} "
            f"| {1000 * (b - c) / n_batches:+.2f} ms |"
        )
    return lines


def format_profile(profile, n_batches, n):
    """The table of where one epoch of the skorch loop goes."""
    lines = [
        f"cProfile of the skorch loop, N = {n}, {n_batches} batches per epoch "
        "(cumulative times; an indented row is part of the row above it; the "
        "profiler inflates Python-heavy rows)",
        "",
        "| function | calls per epoch | ms per epoch | share of fit_loop |",
        "|---|---|---|---|",
    ]
    total = profile["fit_loop (the whole epoch)"][1]
    for label in dict.fromkeys(label for label, _ in PROFILED):
        if label not in profile:
            continue
        calls, seconds = profile[label]
        lines.append(
            f"| {label} | {calls:.3g} | {1000 * seconds:.2f} "
            f"| {100 * seconds / total:.1f} % |"
        )
    return lines


def format_stopping(epochs):
    """What a stack that cannot drop its stopped models would compute more."""
    kept = len(epochs) * max(epochs)
    return [
        f"Early stopping as the paper (patience {DNNClassifier().patience}, "
        f"max_epochs {DNNClassifier().max_epochs}), N = {len(epochs)}: the "
        f"models stopped after {', '.join(map(str, sorted(epochs)))} epochs; "
        f"the engine drops a model when it stops ({sum(epochs)} model-epochs), "
        f"a stack that keeps its stopped models computes {kept} "
        f"({100 * (kept / sum(epochs) - 1):.0f} % more)",
    ]


def header(args, argv, data, loads, seconds):
    """Command, versions, machine load and settings of the run."""
    n_train = sorted({len(d[1]) for d in data})
    return [
        "$ python benchmarks/bench_skorch_stack.py " + " ".join(argv),
        "",
        f"torch {torch.__version__}, skorch {skorch.__version__}, "
        f"{args.threads} torch thread(s), {os.cpu_count()} cores; 1-minute load "
        f"average {min(loads):.2f} to {max(loads):.2f} during the run "
        f"({seconds:.0f} s)",
        f"EmoDB eGeMAPS, one protocol fold per model ({n_train[0]} to "
        f"{n_train[-1]} training rows, batch {NETWORK['batch_size']}), the "
        f"paper's DNN {NETWORK['hidden_layer_sizes']}, dropout "
        f"{NETWORK['dropout']}, lr {NETWORK['lr']}; every epoch every model's "
        "validation loss, UAR and best weights, no stopping",
        f"ms per epoch of all N models: CPU time of this process, marginal cost "
        f"of {args.epochs} epochs, median of {args.repeats} interleaved runs; "
        "(a) engine, (b) skorch loop, (c) torch loop",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 5, 10, 50])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--profile-epochs", type=int, default=20)
    parser.add_argument(
        "--stopping",
        type=int,
        default=10,
        help="models trained with early stopping, to count their epochs (0: none)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=list(METHODS),
        default=list(METHODS),
        help="the methods to time (the engine is always one)",
    )
    parser.add_argument("--output", default=str(OUTPUT))
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning, module="skorch")
    started = time.perf_counter()
    data, n_classes = model_data(max(*args.sizes, args.stopping), NETWORK["batch_size"])
    loads = [os.getloadavg()[0]]
    methods = list(dict.fromkeys(["engine", *args.methods]))
    results = seconds_per_epoch(
        args.sizes, n_classes, data, args.epochs, args.repeats, loads, methods
    )
    epochs = stopping_epochs(data[: args.stopping], n_classes) if args.stopping else []
    n_batches = _n_batches(data[0][0], NETWORK["batch_size"])
    profile_lines = []
    if "skorch loop" in methods and args.profile_epochs:
        profiled_n = 10 if 10 in args.sizes else max(args.sizes)
        profile, n_batches = profile_skorch(
            data[:profiled_n], n_classes, args.profile_epochs
        )
        profile_lines = ["", *format_profile(profile, n_batches, profiled_n)]
    loads.append(os.getloadavg()[0])
    lines = [
        *header(args, argv, data, loads, time.perf_counter() - started),
        "",
        *format_times(results, args.sizes, n_batches),
        *profile_lines,
    ]
    if epochs:
        lines += ["", *format_stopping(epochs)]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.output).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
