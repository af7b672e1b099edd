# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Draw the wiring of a fitted progressive network (the user guide's figure).

The figure is not drawn by hand: :func:`draw_prognet_wiring` reads the column
specs of a fitted :class:`~sklearn_prognet.ProgressiveNetClassifier`
(``net_.module__columns``: widths, outputs, activation, lateral inputs of every
column) and the number of frozen columns, and draws one box per layer and one
arrow per weight matrix. Frozen weights are black, trained weights blue and
trained lateral connections orange, as in Figure 2 of Gideon et al. (2017).

The documentation builds the figure with matplotlib's ``plot`` directive
(``docs/user_guide/transfer.rst``). To write it to a file::

    python scripts/draw_prognet_wiring.py --out prognet_wiring.png
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch

FROZEN = "#222222"
TRAINED = "#4477aa"
LATERAL = "#ee7733"
FROZEN_FILL = "#dddddd"
TRAINED_FILL = "#cfe0f1"

BOX_W, BOX_H = 1.8, 0.42
DX, DY = 2.6, 1.05


def _box(ax, x, y, text, *, fill, edge, dashed=False):
    ax.add_patch(
        FancyBboxPatch(
            (x - BOX_W / 2, y - BOX_H / 2),
            BOX_W,
            BOX_H,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor=fill,
            edgecolor=edge,
            linewidth=1.2,
            linestyle="--" if dashed else "-",
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _arrow(ax, start, end, color, rad=0.0, dashed=False):
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={
            "arrowstyle": "-|>",
            "color": color,
            "linewidth": 1.3,
            "shrinkA": 0,
            "shrinkB": 0,
            "mutation_scale": 9,
            "connectionstyle": f"arc3,rad={rad}",
            "linestyle": "--" if dashed else "-",
        },
    )


def wiring(estimator):
    """The column specs, number of frozen columns and inputs of a fitted net.

    Parameters
    ----------
    estimator : ProgressiveNetClassifier, FineTunedClassifier or DNNClassifier
        A fitted network of sklearn_prognet.

    Returns
    -------
    columns : tuple of ColumnSpec
        The spec of every column (widths, outputs, activation, lateral
        inputs, ...), the trained column last.
    n_frozen : int
        Number of frozen columns.
    n_features : int
        Input width.
    """
    net = estimator.net_
    return net.module__columns, net.module__n_frozen, estimator.n_features_in_


def draw_prognet_wiring(estimator, *, column_names=None, ax=None, title=None):
    """Draw the columns, frozen weights and lateral connections of a network.

    Parameters
    ----------
    estimator : ProgressiveNetClassifier, FineTunedClassifier or DNNClassifier
        A fitted network of sklearn_prognet.
    column_names : list of str, default=None
        A name per column (sources first, the trained column last).
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure if None.
    title : str, default=None
        Title of the axes.

    Returns
    -------
    ax : matplotlib Axes
        The axes with the drawing.
    """
    columns, n_frozen, n_features = wiring(estimator)
    n_columns = len(columns)
    if column_names is None:
        column_names = [f"column {i}" for i in range(n_columns)]
    if ax is None:
        _, ax = plt.subplots(figsize=(2.7 * n_columns + 1, 5.5))
    xs = np.arange(n_columns) * DX

    # the input, shared by every column
    left, right = xs[0] - BOX_W / 2, xs[-1] + BOX_W / 2
    ax.add_patch(
        FancyBboxPatch(
            (left, -BOX_H / 2),
            right - left,
            BOX_H,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor="white",
            edgecolor="#555555",
        )
    )
    ax.text(
        (left + right) / 2,
        0,
        f"input: {n_features} features",
        ha="center",
        va="center",
        fontsize=8.5,
    )

    # column names on one line above the highest output layer
    label_y = (max(len(spec[0]) for spec in columns) + 1) * DY + 0.45
    for i, spec in enumerate(columns):
        sizes, n_outputs, activation = spec[:3]
        lateral_from = spec.lateral_from
        frozen = i < n_frozen
        edge = FROZEN if frozen else TRAINED
        fill = FROZEN_FILL if frozen else TRAINED_FILL
        x = xs[i]
        ys = [(k + 1) * DY for k in range(len(sizes) + 1)]
        for k, width in enumerate(sizes):
            _box(ax, x, ys[k], f"{width} {activation}", fill=fill, edge=edge)
        # A frozen column's output layer is never computed: only its hidden
        # activations feed the laterals.
        out_text = f"{n_outputs} outputs" + (", unused" if frozen else ", softmax")
        _box(ax, x, ys[-1], out_text, fill="white" if frozen else fill, edge=edge,
             dashed=frozen)  # fmt: skip
        _arrow(ax, (x, BOX_H / 2), (x, ys[0] - BOX_H / 2), edge)
        for k in range(len(sizes)):
            _arrow(ax, (x, ys[k] + BOX_H / 2), (x, ys[k + 1] - BOX_H / 2), edge,
                   dashed=frozen and k == len(sizes) - 1)  # fmt: skip
        # laterals: hidden layer k of column j feeds layer k + 1 of column i
        for j in lateral_from:
            source_sizes = columns[j][0]
            for k in range(min(len(source_sizes), len(sizes))):
                start = (xs[j] + BOX_W / 2, (k + 1) * DY)
                end = (x - BOX_W / 2, ys[k + 1])
                rad = 0.0 if i - j == 1 else -0.12
                _arrow(ax, start, end, LATERAL if not frozen else FROZEN, rad=rad)
        label = column_names[i] + ("\n(frozen)" if frozen else "\n(trained)")
        ax.text(x, label_y, label, ha="center", va="bottom", fontsize=9.5,
                fontweight="bold", color=edge)  # fmt: skip

    module = estimator.net_.module_
    n_trained = sum(p.numel() for p in module.parameters() if p.requires_grad)
    n_buffers = sum(b.numel() for b in module.buffers())
    handles = [
        Line2D([], [], color=FROZEN, lw=1.5, label=f"frozen weights ({n_buffers:,})"),
        Line2D([], [], color=TRAINED, lw=1.5, label="trained weights"),
        Line2D([], [], color=LATERAL, lw=1.5, label="trained laterals"),
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=3,
        frameon=False,
        fontsize=8.5,
        title=f"{n_trained:,} trained parameters",
        title_fontsize=8.5,
    )
    ax.set_xlim(xs[0] - BOX_W, xs[-1] + BOX_W)
    ax.set_ylim(-0.6, label_y + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def example_networks(random_state=0):
    """Fit two tiny progressive networks to show their wiring.

    Training is one epoch on random data: only the architecture matters here.

    Returns
    -------
    paper : ProgressiveNetClassifier
        The paper's network: a speaker-identification column (4 x 256
        sigmoid, 10 speakers) and the new emotion column (4 classes).
    two_sources : ProgressiveNetClassifier
        A speaker column and a shallower gender column (2 x 64) feeding a
        new emotion column of 3 x 128 units.
    """
    from sklearn_prognet import DNNClassifier, ProgressiveNetClassifier

    rng = np.random.RandomState(random_state)
    X = rng.normal(size=(40, 88))
    emotion = np.arange(40) % 4
    speaker = np.arange(40) % 10
    gender = np.arange(40) % 2
    quick = {"max_epochs": 1, "early_stopping": False, "random_state": 0}

    paper_sizes = (256, 256, 256, 256)
    speaker_net = DNNClassifier(hidden_layer_sizes=paper_sizes, **quick)
    speaker_net.fit(X, speaker)
    paper = ProgressiveNetClassifier(
        sources=[speaker_net], hidden_layer_sizes=paper_sizes, **quick
    ).fit(X, emotion)

    gender_net = DNNClassifier(hidden_layer_sizes=(64, 64), **quick).fit(X, gender)
    two_sources = ProgressiveNetClassifier(
        sources=[speaker_net, gender_net], hidden_layer_sizes=(128, 128, 128), **quick
    ).fit(X, emotion)
    return paper, two_sources


def figure():
    """The user guide's figure: the paper's network and a two-source network."""
    paper, two_sources = example_networks()
    fig, (ax1, ax2) = plt.subplots(
        1, 2, figsize=(11.5, 5.6), gridspec_kw={"width_ratios": [2, 3]}
    )
    draw_prognet_wiring(
        paper,
        column_names=["speaker ID", "emotion"],
        ax=ax1,
        title="(a) the paper's network: one source column",
    )
    draw_prognet_wiring(
        two_sources,
        column_names=["speaker ID", "gender", "emotion"],
        ax=ax2,
        title="(b) two sources of different depths",
    )
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="image file to write (default: show)")
    args = parser.parse_args(argv)
    fig = figure()
    if args.out:
        fig.savefig(args.out, dpi=150, bbox_inches="tight")
    else:
        plt.show()


if __name__ == "__main__":
    main()
