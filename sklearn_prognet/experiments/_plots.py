# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Figures of the experiment reports (Figure 3 and Figure 4 analogues).

They draw numbers computed by :mod:`._stats`; they compute nothing new.

matplotlib is imported inside the functions, and only its object-oriented
API is used (no pyplot), so plotting works without a display and never
changes the user's backend. It is an optional dependency: without it the
functions draw nothing and return None, and the report says how to get the
figures (:data:`PLOT_HINT`).
"""

import numpy as np

from sklearn_prognet.experiments._stats import curve_statistics
from sklearn_prognet.utils._docstring import Substitution

__all__ = [
    "PLOT_HINT",
    "plot_bars",
    "matplotlib_available",
    "plot_confusion_matrices",
    "plot_cross_corpus",
    "plot_learning_curves",
    "plot_uar_vs_params",
]

#: How to get the figures of a report written without matplotlib.
PLOT_HINT = "pip install 'sklearn-prognet[plot]'"

# Colour-blind friendly colours (Paul Tol's bright scheme), one per method.
COLORS = {
    "DNN": "#555555",
    "PT/FT": "#4477aa",
    "ProgNet": "#ee6677",
    "Adapters": "#aa3377",
    "Multi-corpus": "#66ccee",
}
_SOURCE_MODEL = "#228833"


def matplotlib_available():
    """Whether matplotlib can be imported (the ``plot`` extra)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(figsize):
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=150, layout="constrained")
    return fig, fig.add_subplot()


def _chance_line(ax, chance):
    """Draw the chance level as a dotted line (none if ``chance`` is None)."""
    if chance is not None:
        ax.axhline(chance, color="black", linestyle=":", linewidth=1, label="chance")


def _save(fig, ax, path):
    """Add the legend, write the figure to ``path``; return ``path``."""
    ax.legend(fontsize="small", loc="best")
    fig.savefig(path)
    return path


#: Fills ``{uar_figure_parameters}``: the parameters after the data of the
#: figures of UAR.
_uar_figure_docstring = Substitution(
    uar_figure_parameters="""
    path : str or os.PathLike
        PNG file to write.
    title : str
        Figure title.
    chance : float, default=None
        Chance level (1 / n_classes), drawn as a dotted line.
"""
)


@_uar_figure_docstring
def plot_learning_curves(curves, path, *, title, chance=None, best_epochs=None):
    """Validation UAR per epoch of each method, mean ± std across fits.

    Parameters
    ----------
    curves : dict of str to list of array-like
        Method label -> validation-UAR curve of every fit.
    {uar_figure_parameters}
    best_epochs : dict of str to array-like, default=None
        Method label -> best epoch of every fit, summarised in the legend.
    """
    if not matplotlib_available():
        return None
    fig, ax = _figure((7.0, 4.3))
    top = 0.0
    for label, runs in curves.items():
        epochs, mean, std, _ = curve_statistics(runs)
        if not len(epochs):
            continue
        color = COLORS.get(label)
        legend = f"{label} ({len(runs)} fits"
        if best_epochs and len(best_epochs.get(label, ())):
            legend += f", best epoch {np.mean(best_epochs[label]):.0f}"
        legend += ")"
        ax.plot(epochs, mean, color=color, linewidth=1.6, label=legend)
        ax.fill_between(epochs, mean - std, mean + std, color=color, alpha=0.18, lw=0)
        top = max(top, float(np.nanmax(mean + std)))
    _chance_line(ax, chance)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation UAR")
    ax.set_title(title)
    ax.set_xlim(left=0)
    bottom = 0.9 * chance if chance is not None else None
    ax.set_ylim(bottom=bottom, top=min(1.0, top + 0.05) if top else None)
    ax.grid(True, alpha=0.3)
    # lifted above the chance line, which runs along the bottom
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 0.07), fontsize="small")
    fig.savefig(path)
    return path


@_uar_figure_docstring
def plot_cross_corpus(rows, path, *, title, chance=None):
    """Test UAR against the number of training folds (Figure 4 analogue).

    Parameters
    ----------
    rows : list of dict
        One dict per (method, training folds) with keys ``label``,
        ``n_train_folds``, ``mean``, ``std`` and ``better_than_dnn`` (bool).
        The label ``'source model'`` is drawn as a dashed reference line.
    {uar_figure_parameters}
    """
    if not matplotlib_available():
        return None
    fig, ax = _figure((6.4, 4.3))
    labels = list(dict.fromkeys(row["label"] for row in rows))
    all_folds = sorted({row["n_train_folds"] for row in rows})
    offsets = dict(zip(labels, np.linspace(-0.03, 0.03, len(labels)), strict=True))
    for label in labels:
        sub = sorted(
            (r for r in rows if r["label"] == label), key=lambda r: r["n_train_folds"]
        )
        x = np.log2([r["n_train_folds"] for r in sub]) + offsets[label]
        mean = np.array([r["mean"] for r in sub])
        std = np.array([r["std"] for r in sub])
        if label == "source model":
            ax.plot(
                x,
                mean,
                color=_SOURCE_MODEL,
                linestyle="--",
                linewidth=1.2,
                marker="s",
                markersize=3,
                label="source model, not adapted",
            )
            continue
        color = COLORS.get(label)
        ax.plot(
            x, mean, color=color, linewidth=1.6, marker="o", markersize=3, label=label
        )
        ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.15, lw=0)
        significant = np.array([bool(r.get("better_than_dnn")) for r in sub])
        if significant.any():
            ax.plot(
                x[significant],
                mean[significant],
                linestyle="none",
                marker="o",
                markersize=10,
                markerfacecolor="none",
                markeredgecolor=color,
                markeredgewidth=1.8,
            )
    # one legend entry for the circles
    ax.plot([], [], linestyle="none", marker="o", markersize=10,
            markerfacecolor="none", markeredgecolor="black",
            label="significantly better than DNN")  # fmt: skip
    _chance_line(ax, chance)
    ax.set_xticks(np.log2(all_folds))
    ax.set_xticklabels([str(n) for n in all_folds])
    ax.set_xlabel("training folds of the target corpus")
    ax.set_ylabel("test UAR")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    return _save(fig, ax, path)


@_uar_figure_docstring
def plot_uar_vs_params(rows, path, *, title, chance=None):
    """Test UAR against trainable parameters (log scale), one colour per method.

    Parameters
    ----------
    rows : list of dict
        One dict per (method, training folds) with keys ``label``,
        ``n_train_folds``, ``mean``, ``std`` and ``params`` (trainable
        parameters). The points of one number of training folds share a
        marker; error bars are the standard deviations. Methods with the
        same number of parameters (DNN and PT/FT) are drawn a little apart,
        symmetrically about that number, so that neither hides the other.
    {uar_figure_parameters}
    """
    if not matplotlib_available() or not rows:
        return None
    fig, ax = _figure((6.4, 4.3))
    labels = list(dict.fromkeys(row["label"] for row in rows))
    all_folds = sorted({row["n_train_folds"] for row in rows}, reverse=True)
    markers = dict(zip(all_folds, "osD^v<>ph", strict=False))
    others = iter(["#ccbb44", "#bbbbbb", "#228833"] * len(labels))
    colors = {label: COLORS.get(label) or next(others) for label in labels}
    sharing = {}  # parameter count -> the labels with a point there
    for row in rows:
        sharing.setdefault(row["params"], {})[row["label"]] = None
    for row in rows:
        mates = list(sharing[row["params"]])
        # 0.03 decades: about two marker widths on an axis of 1-2 decades
        spread = 0.03 * (mates.index(row["label"]) - (len(mates) - 1) / 2)
        x = row["params"] * 10**spread
        ax.errorbar(x, row["mean"], yerr=row["std"], linestyle="none",
                    marker=markers.get(row["n_train_folds"], "o"), markersize=5,
                    color=colors[row["label"]], capsize=2, alpha=0.9)  # fmt: skip
    for label in labels:
        ax.plot([], [], linestyle="none", marker="s", color=colors[label], label=label)
    for n in all_folds:
        ax.plot([], [], linestyle="none", marker=markers.get(n, "o"), color="black",
                markerfacecolor="none",
                label=f"{n} training fold{'s' if n > 1 else ''}")  # fmt: skip
    _chance_line(ax, chance)
    ax.set_xscale("log")
    ax.set_xlabel("trainable parameters (n_trainable_params_)")
    ax.set_ylabel("test UAR")
    ax.set_title(title)
    ax.grid(True, alpha=0.3, which="both")
    return _save(fig, ax, path)


def plot_confusion_matrices(matrices, labels, path, *, title, n_cols=3):
    """One panel per arm: a row-normalised confusion matrix, recall on the diagonal.

    Parameters
    ----------
    matrices : dict of str to ndarray of shape (n_classes, n_classes)
        Panel title (an arm) -> shares of each true class (rows) predicted as
        each class (columns).
    labels : list of str
        The classes, in the matrices' order.
    path : str or os.PathLike
        PNG file to write.
    title : str
        Figure title.
    n_cols : int, default=3
        Panels per row (fewer if there are fewer panels).
    """
    if not matplotlib_available():
        return None
    from matplotlib.figure import Figure

    n = len(matrices)
    n_cols = min(n, n_cols)
    n_rows = -(-n // n_cols)
    fig = Figure(figsize=(3.2 * n_cols, 3.0 * n_rows + 0.4), dpi=150)
    fig.set_layout_engine("constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax, (name, shares) in zip(axes, matrices.items(), strict=False):
        image = ax.imshow(shares, vmin=0, vmax=1, cmap="Blues")
        for (i, j), value in np.ndenumerate(shares):
            if np.isfinite(value):
                color = "white" if value > 0.6 else "black"
                ax.text(j, i, f"{value:.2f}", ha="center", va="center",
                        color=color, fontsize="small")  # fmt: skip
        ax.set_xticks(range(len(labels)), labels, rotation=45, fontsize="small")
        ax.set_yticks(range(len(labels)), labels, fontsize="small")
        ax.set_title(name, fontsize="medium")
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax in axes[:n:n_cols]:
        ax.set_ylabel("true")
    for ax in axes[max(0, n - n_cols) : n]:
        ax.set_xlabel("predicted")
    # aspect (length / width) grows with the rows: a bar as thin as for one row
    fig.colorbar(image, ax=axes[:n].tolist(), shrink=0.8, aspect=20 * n_rows,
                 label="share of true class")  # fmt: skip
    fig.suptitle(title)
    fig.savefig(path)
    return path


def plot_bars(bars, path, *, title, ylabel, reference=None):
    """Mean ± std of groups of bars: one group per x label, one colour per series.

    Parameters
    ----------
    bars : list of tuple
        ``(group, series, mean, std)``: the bar of ``series`` in ``group``
        (e.g. a CCC dimension and a dimensional weight). Groups and series
        are drawn in the order they first appear; a NaN std draws no bar.
    path : str or os.PathLike
        PNG file to write.
    title, ylabel : str
        Figure title and y-axis label.
    reference : float, default=None
        A level drawn as a dotted line (chance UAR).
    """
    if not matplotlib_available() or not bars:
        return None
    groups = list(dict.fromkeys(bar[0] for bar in bars))
    series = list(dict.fromkeys(bar[1] for bar in bars))
    width = 0.8 / len(series)
    others = iter(["#ccbb44", "#4477aa", "#ee6677", "#228833", "#66ccee"] * 4)
    colors = {s: COLORS.get(s) or next(others) for s in series}
    fig, ax = _figure((max(4.0, 1.3 * len(groups) * len(series) ** 0.5 + 2), 4.0))
    for k, name in enumerate(series):
        mine = {bar[0]: bar[2:] for bar in bars if bar[1] == name}
        x = [i + (k - (len(series) - 1) / 2) * width for i, g in enumerate(groups)
             if g in mine]  # fmt: skip
        means = [mine[g][0] for g in groups if g in mine]
        stds = [mine[g][1] for g in groups if g in mine]
        ax.bar(x, means, width=width * 0.9, yerr=np.nan_to_num(stds), capsize=3,
               color=colors[name], label=name)  # fmt: skip
    _chance_line(ax, reference)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.3)
    return _save(fig, ax, path)
