# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The numbers of the reports, as plain data: no formatting, no files.

Summaries (mean UAR and mean within-repeat standard deviation), corrected
repeated cross-validation t-tests and Bayesian correlated t-tests between
methods, the significance marks they give, learning-curve statistics and
normalised confusion matrices.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np

from sklearn_prognet.stats import (
    BayesianTTestResult,
    CorrectedTTestResult,
    bayesian_correlated_ttest,
    corrected_repeated_cv_ttest,
    mcnemar_test,
    summarize_repeated_cv,
)

__all__ = [
    "ROPE",
    "MethodComparison",
    "PairedTest",
    "Summary",
    "compare_methods",
    "confusion_by_arm",
    "curve_statistics",
    "mcnemar_by_repeat",
    "normalise_confusion",
    "summarize",
]

# The comparisons of every group of arms, in the reports' order:
# (method a, method b, label of "a vs b").
COMPARISONS = (
    ("prognet", "dnn", "ProgNet vs DNN"),
    ("ptft", "dnn", "PT/FT vs DNN"),
    ("prognet", "ptft", "ProgNet vs PT/FT"),
)
# A transfer method and the other one, for the dagger mark.
_OTHER_TRANSFER = {"ptft": "prognet", "prognet": "ptft"}
#: Half-width of the region of practical equivalence of the Bayesian
#: correlated t-test in the reports: one point of UAR.
ROPE = 0.01


@dataclass(frozen=True)
class Summary:
    """Mean test UAR, mean within-repeat standard deviation, number of fits."""

    mean: float
    std: float
    n: int


def median_params(frame):
    """Median trainable parameters of an arm's fits (None without counts).

    Records saved before ``n_trainable_params`` was recorded have none.
    """
    if frame is None or "n_trainable_params" not in frame:
        return None
    values = frame["n_trainable_params"].dropna()
    return float(values.median()) if len(values) else None


def summarize(frame, n_repeats):
    """The paper's Table 2 numbers of one arm's fits (None without fits)."""
    if frame is None or frame.empty:
        return None
    pivot = frame.pivot_table(index="repeat", columns="fold", values="uar")
    complete = pivot.notna().all().all() and len(pivot) == n_repeats
    if complete and pivot.shape[1] >= 2:
        s = summarize_repeated_cv(pivot.to_numpy())
        return Summary(s.mean, s.std, int(pivot.size))
    values = pivot.to_numpy()
    stds = [
        np.std(row[np.isfinite(row)], ddof=1)
        for row in values
        if np.isfinite(row).sum() >= 2
    ]
    return Summary(
        float(np.nanmean(values)),
        float(np.mean(stds)) if stds else float("nan"),
        int(np.isfinite(values).sum()),
    )


@dataclass(frozen=True)
class PairedTest:
    """Both tests of the UAR differences a - b of two arms on their common steps.

    ``ttest`` is the corrected repeated cross-validation t-test (with the
    report's degrees of freedom), ``bayes`` the Bayesian correlated t-test
    (its posterior has the number of pairs minus one degrees of freedom).
    """

    ttest: CorrectedTTestResult
    bayes: BayesianTTestResult


def paired_test(frame_a, frame_b, ttest_df, rope=ROPE):
    """Both tests of a - b on their common (repeat, fold); None under 2 pairs."""
    if frame_a is None or frame_b is None:
        return None
    pairs = frame_a.merge(frame_b, on=["repeat", "fold"], suffixes=("_a", "_b"))
    if len(pairs) < 2:
        return None
    df = ttest_df
    if df is not None and df >= len(pairs):
        df = None  # fewer pairs than the requested degrees of freedom
    scores = pairs["uar_a"].to_numpy(), pairs["uar_b"].to_numpy()
    sizes = {"n_train": pairs["n_train_a"].to_numpy(),
             "n_test": pairs["n_test_a"].to_numpy()}  # fmt: skip
    with warnings.catch_warnings():
        # The sizes are the recorded ones, not arguments a user may swap: with
        # one training fold (cross-corpus) n_train is about n_test, and can be
        # a little smaller.
        warnings.filterwarnings("ignore", "n_train is smaller than n_test")
        return PairedTest(
            corrected_repeated_cv_ttest(*scores, **sizes, df=df),
            bayesian_correlated_ttest(*scores, **sizes, rope=rope),
        )


def _correct_by_utterance(frame):
    """Utterance -> 1 if classified correctly, 0 if not, over a repeat's folds."""
    out = {}
    for index, correct in zip(frame["test_index"], frame["test_correct"], strict=True):
        out.update(zip(index, map(int, correct), strict=True))
    return out


def mcnemar_by_repeat(frame_a, frame_b):
    """McNemar's test of two arms on each repeat's pooled test predictions.

    The test folds of one repeat hold every utterance once: the utterances
    that both arms predicted in that repeat (matched by ``test_index``) form
    one test set. Fits saved without predictions (``test_index``,
    ``test_correct``) are left out.

    Returns
    -------
    results : list of McNemarResult
        One per repeat that both arms have, in repeat order (empty without
        predictions).
    """
    columns = {"repeat", "test_index", "test_correct"}
    if frame_a is None or frame_b is None:
        return []
    if not columns <= set(frame_a) or not columns <= set(frame_b):
        return []
    results = []
    frame_a = frame_a.dropna(subset=["test_correct"])
    frame_b = frame_b.dropna(subset=["test_correct"])
    for repeat in sorted(set(frame_a["repeat"]) & set(frame_b["repeat"])):
        a = _correct_by_utterance(frame_a[frame_a["repeat"] == repeat])
        b = _correct_by_utterance(frame_b[frame_b["repeat"] == repeat])
        common = sorted(set(a) & set(b))
        if not common:
            continue
        correct_a = np.array([a[i] for i in common])
        correct_b = np.array([b[i] for i in common])
        # "predictions" of correctness against an all-correct truth
        results.append(mcnemar_test(np.ones(len(common), int), correct_a, correct_b))
    return results


def is_better(result, alpha):
    """Whether the t-test of a :class:`PairedTest` says a is significantly better."""
    return (
        result is not None
        and result.ttest.pvalue < alpha
        and result.ttest.mean_difference > 0
    )


@dataclass
class MethodComparison:
    """The three methods of one group of arms, compared with each other.

    ``summaries`` maps a method to its :class:`Summary` (or None); ``tests``
    lists ``(label, PairedTest or None)`` in :data:`COMPARISONS` order;
    ``marks`` maps a transfer method to ``'*'`` (significantly better than
    the DNN), ``'†'`` (also better than the other transfer method) or ``''``.
    """

    summaries: dict = field(default_factory=dict)
    tests: list = field(default_factory=list)
    marks: dict = field(default_factory=dict)


def compare_methods(frames, *, n_repeats, alpha, ttest_df):
    """Summaries, t-tests and marks of ``frames`` (method -> fits or None)."""
    out = MethodComparison()
    out.summaries = {m: summarize(f, n_repeats) for m, f in frames.items()}
    results = {}
    for a, b in [(a, b) for a, b, _ in COMPARISONS] + [("ptft", "prognet")]:
        results[a, b] = paired_test(frames.get(a), frames.get(b), ttest_df)
    out.tests = [(label, results[a, b]) for a, b, label in COMPARISONS]
    for method, other in _OTHER_TRANSFER.items():
        mark = ""
        if is_better(results[method, "dnn"], alpha):
            mark = "†" if is_better(results[method, other], alpha) else "*"
        out.marks[method] = mark
    return out


def epoch_summary(frame):
    """Mean and std of the best epoch, mean epochs run and mean fit time."""
    return {
        "best_epoch": float(frame["best_epoch"].mean()),
        "best_epoch_std": float(frame["best_epoch"].std(ddof=0)),
        "n_epochs": float(frame["n_epochs"].mean()),
        "fit_time": float(frame["fit_time"].mean()),
    }


def curve_statistics(curves, min_fraction=0.5):
    """Mean and standard deviation per epoch of learning curves of any length.

    Parameters
    ----------
    curves : list of array-like
        One curve per fit; fits that stopped early have shorter curves.
    min_fraction : float, default=0.5
        The statistics end at the last epoch that at least this fraction of
        the fits reached.

    Returns
    -------
    epochs, mean, std, n_fits : ndarray
        Epoch numbers (from 1), mean and standard deviation over the fits
        still training, and how many fits that is.

    Examples
    --------
    >>> from sklearn_prognet.experiments._stats import curve_statistics
    >>> epochs, mean, std, n = curve_statistics([[0.2, 0.4], [0.4]], 0.0)
    >>> mean.round(2).tolist(), n.tolist()
    ([0.3, 0.4], [2, 1])
    """
    curves = [np.asarray(c, dtype=float) for c in curves if len(c)]
    if not curves:
        empty = np.array([])
        return empty, empty, empty, empty.astype(int)
    length = max(len(c) for c in curves)
    matrix = np.full((len(curves), length), np.nan)
    for i, c in enumerate(curves):
        matrix[i, : len(c)] = c
    n_fits = np.sum(np.isfinite(matrix), axis=0)
    keep = n_fits >= max(1, int(np.ceil(min_fraction * len(curves))))
    last = np.flatnonzero(keep).max() + 1 if keep.any() else 0
    matrix, n_fits = matrix[:, :last], n_fits[:last]
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(matrix, axis=0)
        std = np.nanstd(matrix, axis=0)
    return np.arange(1, last + 1), mean, std, n_fits


def learning_curves(scores, histories, arms_labels):
    """Validation-UAR curves and best epochs of each (arm, label)."""
    curves, best = {}, {}
    for arm, label in arms_labels:
        sub = scores[scores["arm"] == arm]
        runs = [histories[k].get("valid_uar", []) for k in sub["key"]]
        curves[label] = [[np.nan if v is None else v for v in c] for c in runs]
        best[label] = sub["best_epoch"].to_numpy()
    return curves, best


def curve_rows(curves, arm_of_label):
    """Rows ``(arm, epoch, mean, std, n_fits)`` of the mean learning curves."""
    rows = []
    for label, runs in curves.items():
        epochs, mean, std, n = curve_statistics(runs, min_fraction=0.0)
        for e, m, s, k in zip(epochs, mean, std, n, strict=True):
            rows.append((arm_of_label[label], int(e), m, s, int(k)))
    return rows


def confusion_by_arm(scores, confusions, arms):
    """Confusion counts of each arm, summed over its folds and repeats.

    Parameters
    ----------
    scores : pandas.DataFrame
        The fits (``key`` and ``arm`` columns).
    confusions : dict of str to array-like
        Fit key -> the test fold's confusion counts (fits without them are
        left out).
    arms : list of str
        The arms, in the report's order.

    Returns
    -------
    counts : dict of str to ndarray of shape (n_classes, n_classes)
        Arm -> summed counts (rows: true class); arms without counts are
        left out.
    """
    counts = {}
    for arm in arms:
        keys = scores.loc[scores["arm"] == arm, "key"] if len(scores) else []
        matrices = [np.asarray(confusions[k]) for k in keys if k in confusions]
        if matrices:
            counts[arm] = np.sum(matrices, axis=0)
    return counts


def normalise_confusion(counts):
    """Divide each row by its total: recall of each true class on the diagonal.

    Examples
    --------
    >>> from sklearn_prognet.experiments._stats import normalise_confusion
    >>> normalise_confusion([[3, 1], [0, 2]]).tolist()
    [[0.75, 0.25], [0.0, 1.0]]
    """
    counts = np.asarray(counts, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / totals, np.nan)
