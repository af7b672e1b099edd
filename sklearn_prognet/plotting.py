# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Plots of cross-validation folds and scores.

matplotlib is an optional dependency (``pip install sklearn-prognet[plot]``):
it is imported inside each function, never at module level, so that importing
this module is cheap and works without it.
"""

from numbers import Integral

import numpy as np

from sklearn_prognet.utils._compat import HasMethods, Interval, validate_params

__all__ = ["plot_cv_folds"]

# Colours of the roles of a sample in one split (colour-blind friendly).
_ROLE_COLORS = {
    "train": "#4477aa",
    "test": "#ee6677",
    "validation": "#228833",
    "unused": "#dddddd",
}


def _import_pyplot():
    """Import matplotlib.pyplot, with a clear error when it is missing."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Plotting needs matplotlib: pip install 'sklearn-prognet[plot]'."
        ) from exc
    return plt


def _split_roles_matrix(cv, X, y, groups):
    """Role of every sample (0 train, 1 test, 2 validation, 3 unused) per split."""
    n_samples = len(X)
    rows = []
    if hasattr(cv, "split_roles"):
        for fold in cv.split_roles(X, y, groups):
            row = np.full(n_samples, 3, dtype=np.int8)
            row[fold.train] = 0
            row[fold.test] = 1
            row[fold.validation] = 2
            rows.append(row)
    else:
        for train, test in cv.split(X, y, groups):
            row = np.full(n_samples, 3, dtype=np.int8)
            row[train] = 0
            row[test] = 1
            rows.append(row)
    return np.array(rows).reshape(-1, n_samples)


@validate_params(
    {
        "cv": [HasMethods(["split", "get_n_splits"])],
        "X": ["array-like"],
        "y": ["array-like"],
        "groups": ["array-like", None],
        "ax": [HasMethods(["imshow"]), None],
        "max_repeats": [Interval(Integral, 1, None, closed="left"), None],
        "sort": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def plot_cv_folds(cv, X, y, groups=None, *, ax=None, max_repeats=2, sort=True):
    """Draw the folds of a cross-validation splitter.

    One row per split shows the role of every sample (training, test, and
    for :class:`~sklearn_prognet.model_selection.FoldRoles` validation and
    unused training folds); two strips below show the class and the group
    (speaker) of every sample, as in scikit-learn's "Visualizing
    cross-validation behavior" example. Samples are sorted by group, then by
    class, then test fold of the first repeat, so that one can see which
    speaker is tested in which fold: with
    the speaker-independent protocol every speaker block is tested in one
    fold per repeat; with the speaker-stratified protocol every fold cuts
    through every speaker.

    Read more in the :ref:`User Guide <plotting>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    cv : cross-validation splitter
        Splitter with ``split`` and ``get_n_splits`` methods, for example
        :class:`~sklearn_prognet.model_selection.RepeatedStratifiedGroupKFold`
        or :class:`~sklearn_prognet.model_selection.FoldRoles`.
    X : array-like of shape (n_samples, n_features)
        Data passed to ``cv.split``.
    y : array-like of shape (n_samples,)
        Class labels, passed to ``cv.split`` and drawn as a strip.
    groups : array-like of shape (n_samples,), default=None
        Group (speaker) of every sample, passed to ``cv.split`` and drawn as
        a strip.
    ax : matplotlib Axes, default=None
        Axes to draw on. ``None`` creates a new figure sized for the number
        of splits drawn.
    max_repeats : int or None, default=2
        Number of repeats drawn (the rows of the first ``max_repeats *
        n_splits`` splits); ``None`` draws all splits. The number of splits
        per repeat is ``cv.get_n_splits() / cv.n_repeats`` (``n_repeats`` is
        1 when ``cv`` has no such attribute).
    sort : bool, default=True
        Whether to sort the samples by group, then class, then test fold in
        the first repeat before drawing them. ``False`` keeps their order in
        ``X``.

    Returns
    -------
    ax : matplotlib Axes
        The Axes with the plot.

    See Also
    --------
    sklearn_prognet.model_selection.RepeatedStratifiedGroupKFold : The
        speaker-aware splitter.
    sklearn_prognet.model_selection.FoldRoles : Test, validation and training
        folds of the paper.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_prognet.model_selection import RepeatedStratifiedGroupKFold
    >>> from sklearn_prognet.plotting import plot_cv_folds
    >>> rng = np.random.RandomState(0)
    >>> groups = np.repeat(np.arange(10), 20)
    >>> y = rng.randint(4, size=200)
    >>> cv = RepeatedStratifiedGroupKFold(n_splits=5, n_repeats=2, random_state=0)
    >>> ax = plot_cv_folds(cv, np.zeros((200, 1)), y, groups)
    >>> ax.get_title()
    'RepeatedStratifiedGroupKFold'
    >>> len(ax.get_yticklabels())
    12
    """
    plt = _import_pyplot()

    y_arr = np.asarray(y)
    class_names, class_ids = np.unique(y_arr, return_inverse=True)
    group_names, group_ids = _group_codes(groups, len(y_arr))

    roles = _split_roles_matrix(cv, X, y, groups)
    n_repeats = getattr(cv, "n_repeats", 1)
    n_splits = max(len(roles) // n_repeats, 1)
    if max_repeats is not None:
        roles = roles[: max_repeats * n_splits]
    n_rows = len(roles)

    if sort:
        # The test fold of each sample in the first repeat drawn, so that the
        # samples of every group x class stratum form a staircase.
        first_test_fold = np.argmax(roles[:n_splits] == 1, axis=0)
        order = np.lexsort((first_test_fold, class_ids, group_ids))
    else:
        order = np.arange(len(y_arr))
    roles, class_ids, group_ids = roles[:, order], class_ids[order], group_ids[order]

    if ax is None:
        _, ax = plt.subplots(
            figsize=(9, 1.2 + 0.25 * (n_rows + 2)), layout="constrained"
        )
    class_cmap = _draw_strips(ax, plt, roles, class_ids, group_ids, len(class_names))
    _label_rows(ax, n_rows, n_splits, n_repeats)
    _label_samples(ax, group_names, group_ids, sort)
    _add_legend(ax, roles, class_names, class_cmap)
    ax.set_title(type(cv).__name__)
    return ax


def _group_codes(groups, n_samples):
    """Group names and the group index of every sample ("all" without groups)."""
    if groups is None:
        return np.array(["all"]), np.zeros(n_samples, dtype=int)
    return np.unique(np.asarray(groups), return_inverse=True)


def _draw_strips(ax, plt, roles, class_ids, group_ids, n_classes):
    """Draw the role of every sample per split, then the class and group strips.

    Returns the class colormap, which the legend reuses.
    """
    from matplotlib.colors import ListedColormap

    n_rows, n_samples = roles.shape
    role_cmap = ListedColormap(list(_ROLE_COLORS.values()))
    imshow_kw = {"aspect": "auto", "interpolation": "nearest"}
    ax.imshow(
        roles, cmap=role_cmap, vmin=-0.5, vmax=3.5,
        extent=(0, n_samples, n_rows, 0), **imshow_kw,
    )  # fmt: skip
    class_cmap = plt.get_cmap("Set2" if n_classes <= 8 else "tab20")
    ax.imshow(
        class_ids[None], cmap=class_cmap, vmin=-0.5, vmax=class_cmap.N - 0.5,
        extent=(0, n_samples, n_rows + 1.25, n_rows + 0.25), **imshow_kw,
    )  # fmt: skip
    group_cmap = plt.get_cmap("tab20")
    ax.imshow(
        (group_ids % group_cmap.N)[None], cmap=group_cmap, vmin=-0.5,
        vmax=group_cmap.N - 0.5,
        extent=(0, n_samples, n_rows + 2.5, n_rows + 1.5), **imshow_kw,
    )  # fmt: skip
    ax.set_xlim(0, n_samples)
    ax.set_ylim(n_rows + 2.5, 0)
    return class_cmap


def _label_rows(ax, n_rows, n_splits, n_repeats):
    """Label the rows and draw a line between the repeats.

    One label per split when they fit, otherwise one per repeat.
    """
    if n_rows <= 40:
        ticks = np.arange(n_rows) + 0.5
        labels = [
            f"repeat {i // n_splits}, fold {i % n_splits}" if n_repeats > 1
            else f"fold {i}"
            for i in range(n_rows)
        ]  # fmt: skip
    else:
        ticks = np.arange(0, n_rows, n_splits) + 0.5
        labels = [f"repeat {i // n_splits}" for i in range(0, n_rows, n_splits)]
    ax.set_yticks([*ticks, n_rows + 0.75, n_rows + 2.0])
    ax.set_yticklabels([*labels, "class", "group"])
    ax.tick_params(axis="y", labelsize="small")
    for boundary in range(n_splits, n_rows, n_splits):
        ax.axhline(boundary, color="black", linewidth=1.0)


def _label_samples(ax, group_names, group_ids, sort):
    """Label the x axis.

    When sorted by group: thin white lines between the group blocks and the
    group names under their blocks.
    """
    n_samples = len(group_ids)
    if sort and len(group_names) <= 60:
        edges = np.flatnonzero(np.diff(group_ids)) + 1
        for edge in edges:
            ax.axvline(edge, color="white", linewidth=0.8)
        bounds = np.concatenate([[0], edges, [n_samples]])
        ax.set_xticks((bounds[:-1] + bounds[1:]) / 2)
        ax.set_xticklabels(
            [str(name) for name in group_names[group_ids[bounds[:-1]]]],
            fontsize="small",
            rotation=90 if len(group_names) > 15 else 0,
        )
        ax.set_xlabel("samples, sorted by group (speaker), class and test fold")
    else:
        ax.set_xlabel(
            "sample index" + (" (sorted by group, then class)" if sort else "")
        )


def _add_legend(ax, roles, class_names, class_cmap):
    """A legend of the roles drawn and, when there are few, of the classes."""
    from matplotlib.patches import Patch

    handles = [
        Patch(color=color, label=role)
        for r, (role, color) in enumerate(_ROLE_COLORS.items())
        if np.any(roles == r)
    ]
    if len(class_names) <= 20:
        handles += [
            Patch(color=class_cmap(i % class_cmap.N), label=f"class {name}")
            for i, name in enumerate(class_names)
        ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
        frameon=False,
    )
