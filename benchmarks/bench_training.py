"""Per-epoch training time of our networks against the alternatives.

Run it with ``python benchmarks/bench_training.py`` (``make bench``). Data are
random, shaped like IEMOCAP in the paper (5531 utterances x 88 eGeMAPS
features, 4 classes); the network is the paper's (4 x 256 sigmoid, dropout
0.5, Adam, lr 0.0005). All timings of one table come from one run on one
machine, so only their ratios are meaningful. Every method trains without
early stopping, and a method's time per epoch is the difference between a
run of ``1 + epochs`` epochs and a run of one epoch, divided by ``epochs``:
the marginal cost of an epoch, without the fixed set-up of a fit.

References:

- ``torch loop``: a plain torch loop over tensors preloaded in memory, with
  ``nn.Dropout`` and ``torch.optim.Adam``;
- ``torch loop, cheap dropout``: the same loop with the dropout mask drawn as
  ``rand_like(x) >= p``, the reference of the ratios;
- ``torch loop, our module``: the same loop training DNNClassifier's own torch
  module with its optimizer (fused Adam), so that ``DNNClassifier`` against
  this row is the cost of the package's training loop (a stack of one)
  around the same arithmetic;
- ``MLPClassifier``: scikit-learn's perceptron, same architecture, Adam, no
  dropout (it has none).

A second table times the fits of the paper's protocol on a small corpus
(EmoDB-sized: 270 training and 35 validation utterances), where an epoch is
only five batches and the per-epoch work around them counts: there,
``DNNClassifier`` validates every epoch for early stopping, and its reference
is the plain loop with our module that also, after every epoch, scores the
validation UAR and copies the weights when it improves.
"""

import argparse
import copy
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from torch import nn

from sklearn_prognet import DNNClassifier, ProgressiveNetClassifier
from sklearn_prognet.metrics import uar_score
from sklearn_prognet.networks._modules import ProgressiveNet

N_SAMPLES, N_FEATURES, N_CLASSES = 5531, 88, 4
HIDDEN = (256, 256, 256, 256)
LR = 0.0005


class CheapDropout(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training:
            return x
        return x * (torch.rand_like(x) >= self.p) * (1 / (1 - self.p))


def sequential(dropout_cls):
    layers, width = [], N_FEATURES
    for size in HIDDEN:
        layers += [nn.Linear(width, size), nn.Sigmoid(), dropout_cls(0.5)]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, N_CLASSES))


def our_module():
    spec = (HIDDEN, N_CLASSES, "sigmoid", (), "linear")
    return ProgressiveNet(N_FEATURES, (spec,), n_frozen=0, dropout=0.5)


def torch_loop(X, y, batch_size, epochs, model, fused=False, valid=None):
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, fused=fused)
    loss_fn = nn.CrossEntropyLoss()
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    best_uar = -1.0
    for _ in range(epochs):
        if valid is not None:
            # what early stopping does: score the validation set in eval
            # mode, keep a copy of the best weights
            model.eval()
            with torch.no_grad():
                predicted = model(torch.as_tensor(valid[0])).argmax(1).numpy()
            uar = uar_score(valid[1], predicted)
            if uar > best_uar:
                best_uar, _ = uar, copy.deepcopy(model.state_dict())
        model.train()
        order = torch.randperm(len(Xt))
        Xs, ys = Xt[order], yt[order]
        for start in range(0, len(Xs), batch_size):
            optimizer.zero_grad()
            loss = loss_fn(
                model(Xs[start : start + batch_size]), ys[start : start + batch_size]
            )
            loss.backward()
            optimizer.step()


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def seconds_per_epoch(methods, epochs, repeats):
    """Each method's best marginal seconds per epoch over interleaved runs.

    ``methods(n)`` maps names to callables that train for ``n`` epochs.
    Interleaving the methods and keeping each one's best run means that a
    burst of load on the machine hits all of them alike; the marginal cost
    of ``epochs`` more epochs leaves out a fit's set-up (building the model,
    validating data), which is not an epoch.
    """
    best = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(repeats):
            short, long = methods(1), methods(1 + epochs)
            for name in long:
                extra = (timed(long[name]) - timed(short[name])) / epochs
                best[name] = min(best.get(name, np.inf), extra)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--batch-sizes", type=int, nargs="+", default=[32, 64, 128, 256]
    )
    args = parser.parse_args(argv)

    rng = np.random.RandomState(0)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES)).astype(np.float32)
    y = rng.randint(0, N_CLASSES, N_SAMPLES)
    speaker = rng.randint(0, 10, N_SAMPLES)
    epochs = args.epochs
    sources = [
        DNNClassifier(max_epochs=1, random_state=0).fit(X, speaker),
        DNNClassifier(max_epochs=1, random_state=0).fit(X, speaker % 2),
    ]

    def methods(bs, epochs):
        common = {"max_epochs": epochs, "early_stopping": False, "random_state": 0}
        return {
            "torch loop": lambda: torch_loop(X, y, bs, epochs, sequential(nn.Dropout)),
            "torch loop, cheap dropout": lambda: torch_loop(
                X, y, bs, epochs, sequential(CheapDropout)
            ),
            "torch loop, our module": lambda: torch_loop(
                X, y, bs, epochs, our_module(), fused=True
            ),
            "MLPClassifier (no dropout)": lambda: MLPClassifier(
                HIDDEN,
                activation="logistic",
                learning_rate_init=LR,
                batch_size=bs,
                max_iter=epochs,
                tol=0,
                n_iter_no_change=epochs + 1,
                random_state=0,
            ).fit(X, y),
            "DNNClassifier": lambda: DNNClassifier(batch_size=bs, **common).fit(X, y),
            "ProgressiveNet, 1 source": lambda: ProgressiveNetClassifier(
                sources=sources[:1], batch_size=bs, **common
            ).fit(X, y),
            "ProgressiveNet, 2 sources": lambda: ProgressiveNetClassifier(
                sources=sources, batch_size=bs, **common
            ).fit(X, y),
        }

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"{N_SAMPLES} x {N_FEATURES}, {epochs} epochs, "
        f"best of {args.repeats} interleaved runs"
    )
    print("seconds per epoch (ratio to the torch loop with cheap dropout)\n")
    names = list(methods(32, 1))
    print("| method | " + " | ".join(f"batch {bs}" for bs in args.batch_sizes) + " |")
    print("|---|" + "---|" * len(args.batch_sizes))
    results = {name: [] for name in names}
    for bs in args.batch_sizes:
        best = seconds_per_epoch(lambda n, bs=bs: methods(bs, n), epochs, args.repeats)
        for name in names:
            results[name].append(best[name])
    reference = results["torch loop, cheap dropout"]
    for name in names:
        cells = [
            f"{t:.3f} ({t / r:.2f}x)"
            for t, r in zip(results[name], reference, strict=True)
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    dnn = np.array(results["DNNClassifier"])
    print(
        "\nProgressiveNet (1 source) / DNNClassifier: "
        + ", ".join(
            f"{r:.2f}" for r in np.array(results["ProgressiveNet, 1 source"]) / dnn
        )
    )
    print(
        "DNNClassifier / MLPClassifier: "
        + ", ".join(
            f"{r:.2f}" for r in dnn / np.array(results["MLPClassifier (no dropout)"])
        )
    )
    print(
        "DNNClassifier / torch loop with its module (the loop's cost): "
        + ", ".join(
            f"{r:.2f}" for r in dnn / np.array(results["torch loop, our module"])
        )
    )

    small_corpus_table(args.repeats)


def small_corpus_table(repeats, epochs=40):
    """A fit of the paper's protocol on an EmoDB-sized corpus, with validation."""
    rng = np.random.RandomState(1)
    X = rng.standard_normal((305, N_FEATURES)).astype(np.float32)
    y = rng.randint(0, N_CLASSES, 305)
    train, valid = slice(0, 270), slice(270, 305)

    def methods(n):
        return {
            "torch loop, our module, validating": lambda: torch_loop(
                X[train],
                y[train],
                64,
                n,
                our_module(),
                fused=True,
                valid=(X[valid], y[valid]),
            ),
            # patience = max_epochs: it validates every epoch but never stops
            "DNNClassifier, early stopping": lambda: DNNClassifier(
                max_epochs=n, patience=n, random_state=0
            ).fit(X[train], y[train], X_val=X[valid], y_val=y[valid]),
        }

    best = seconds_per_epoch(methods, epochs, repeats)
    reference = best["torch loop, our module, validating"]
    print(
        "\nEmoDB-sized fit (270 training, 35 validation utterances, batch 64), "
        "validating every epoch\n"
    )
    print("| method | ms per epoch | ratio |")
    print("|---|---|---|")
    for name, t in best.items():
        print(f"| {name} | {1000 * t:.1f} | {t / reference:.2f}x |")


if __name__ == "__main__":
    main()
