# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tables, significance tests, plots and the Markdown report of a results folder."""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sklearn_prognet.experiments._corpora import ExperimentInputError
from sklearn_prognet.experiments._results import (
    FITS_FILE,
    read_config,
    read_records,
    write_atomic,
)
from sklearn_prognet.experiments._runner import METHOD_LABELS

__all__ = ["ExperimentResult", "load_results", "render_report"]

REPORT_FILE = "report.md"
SCORES_FILE = "scores.csv"
CURVES_FILE = "learning_curves.csv"
SOURCE_LABELS = {"speaker": "Speaker", "gender": "Gender"}


def load_results(folder):
    """Configuration and fit records of a results folder.

    Parameters
    ----------
    folder : str or os.PathLike
        A results folder written by :func:`run_paralinguistic` or
        :func:`run_cross_corpus`.

    Returns
    -------
    saved : dict
        The content of ``config.json``.
    scores : pandas.DataFrame
        One row per finished fit (learning curves left out).
    histories : dict of str to dict
        Fit key -> learning curves (``valid_uar``, ``train_loss``,
        ``valid_loss``).

    See Also
    --------
    render_report : Renders the report of a results folder.

    Examples
    --------
    >>> from sklearn_prognet.experiments import load_results
    >>> saved, scores, histories = load_results("results/demo")  # doctest: +SKIP
    >>> scores.groupby("arm")["uar"].mean()  # doctest: +SKIP
    """
    import pandas as pd

    saved = read_config(folder)
    records, _ = read_records(Path(folder) / FITS_FILE)
    histories = {r["key"]: r.pop("history", {}) for r in records}
    scores = pd.DataFrame.from_records(records)
    if len(scores):
        scores["arm"] = [_arm(r) for r in records]
    return saved, scores, histories


def _arm(record):
    if record.get("method") == "source":
        return "source"
    arm = record["method"]
    if record.get("experiment") == "paralinguistic" and record.get("source"):
        arm = f"{arm}-{record['source']}"
    if record.get("experiment") == "cross-corpus":
        arm = f"{arm}@{record['n_train_folds']}"
    return arm


@dataclass
class ExperimentResult:
    """What a run returns: its folder, per-fit scores and report.

    Parameters
    ----------
    folder : pathlib.Path
        The results folder.
    report : pathlib.Path
        The Markdown report.
    scores : pandas.DataFrame
        One row per fit: ``key``, ``arm``, ``method``, ``source``, ``repeat``,
        ``fold``, ``n_train_folds``, ``uar`` (test UAR), fold sizes, epochs...
    config : dict
        The content of ``config.json``.

    See Also
    --------
    load_results : Read the records of a results folder.

    Examples
    --------
    >>> from sklearn_prognet.experiments import ExperimentResult
    >>> result = ExperimentResult.load("results/demo")  # doctest: +SKIP
    >>> result.scores.groupby("arm")["uar"].mean()  # doctest: +SKIP
    """

    folder: Path
    report: Path
    scores: object
    config: dict

    @classmethod
    def load(cls, folder, report=None):
        """Read a results folder.

        Parameters
        ----------
        folder : str or os.PathLike
            The results folder.
        report : str or os.PathLike, default=None
            The report's path; None means ``folder / 'report.md'``.

        Returns
        -------
        result : ExperimentResult
            The folder's scores and configuration.
        """
        saved, scores, _ = load_results(folder)
        folder = Path(folder)
        return cls(folder, Path(report or folder / REPORT_FILE), scores, saved)


# -- statistics ----------------------------------------------------------------


def _summary(frame, n_repeats):
    """Mean UAR and mean within-repeat std (the paper's Table 2 numbers)."""
    from sklearn_prognet.stats import summarize_repeated_cv

    if frame.empty:
        return None
    pivot = frame.pivot_table(index="repeat", columns="fold", values="uar")
    complete = pivot.notna().all().all() and len(pivot) == n_repeats
    if complete and pivot.shape[1] >= 2:
        s = summarize_repeated_cv(pivot.to_numpy())
        return {"mean": s.mean, "std": s.std, "n": int(pivot.size)}
    values = pivot.to_numpy()
    stds = [
        np.std(row[np.isfinite(row)], ddof=1)
        for row in values
        if np.isfinite(row).sum() >= 2
    ]
    return {
        "mean": float(np.nanmean(values)),
        "std": float(np.mean(stds)) if stds else float("nan"),
        "n": int(np.isfinite(values).sum()),
    }


def _ttest(frame_a, frame_b, ttest_df):
    """Corrected repeated-CV t-test of a - b on their common (repeat, fold)."""
    from sklearn_prognet.stats import corrected_repeated_cv_ttest

    on = ["repeat", "fold"]
    pairs = frame_a.merge(frame_b, on=on, suffixes=("_a", "_b"))
    if len(pairs) < 2:
        return None
    df = ttest_df
    if df is not None and df >= len(pairs):
        df = None  # fewer pairs than the requested degrees of freedom
    result = corrected_repeated_cv_ttest(
        pairs["uar_a"].to_numpy(),
        pairs["uar_b"].to_numpy(),
        n_train=pairs["n_train_a"].to_numpy(),
        n_test=pairs["n_test_a"].to_numpy(),
        df=df,
    )
    return result


def _better(result, alpha):
    return result is not None and result.pvalue < alpha and result.mean_difference > 0


def _fmt_p(p):
    if p is None or not math.isfinite(p):
        return "–"
    return f"{p:.1e}" if p < 0.001 else f"{p:.3f}"


def _fmt_score(summary):
    if summary is None:
        return "–"
    if not math.isfinite(summary["std"]):
        return f"{summary['mean']:.3f}"
    return f"{summary['mean']:.3f}±{summary['std']:.3f}"


def _df_text(ttest_df):
    if ttest_df is None:
        return "the number of paired scores − 1"
    return f"{ttest_df} (the paper's; the number of paired scores − 1 if smaller)"


def _md_table(header, rows, align=None):
    align = align or ["---"] * len(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _stat_row(label, comparison, result, alpha):
    if result is None:
        return [label, comparison, "–", "–", "–", "–", ""]
    mark = "yes" if result.pvalue < alpha else ""
    return [
        label,
        comparison,
        f"{result.mean_difference:+.3f}",
        f"{result.statistic:.2f}",
        f"{result.df:g}",
        _fmt_p(result.pvalue),
        mark,
    ]


def _network_text(net, lateral=None):
    sizes = net["hidden_layer_sizes"]
    if len(set(sizes)) == 1:
        layers = f"{len(sizes)} × {sizes[0]}"
    else:
        layers = "-".join(str(s) for s in sizes)
    text = (
        f"{layers} {net['activation']} hidden units, dropout {net['dropout']}, Adam "
        f"lr {net['lr']}, batch {net['batch_size']}, at most {net['max_epochs']} "
        f"epochs, early stopping on the validation UAR with patience "
        f"{net['patience']}"
    )
    if lateral:
        text += f"; ProgNet lateral connections: {lateral}"
    return text + f"; device {net.get('device', 'cpu')}"


def _corpus_text(info):
    emotions = ", ".join(f"{e} {n}" for e, n in info.get("emotions", {}).items())
    text = (
        f"**{info['name']}** ({info.get('description') or info.get('spec')}): "
        f"{info['n_samples']} utterances, {info['n_speakers']} speakers; {emotions}"
    )
    if info.get("genders"):
        text += "; " + ", ".join(f"{g} {n}" for g, n in info["genders"].items())
    return text


def _protocol_text(config, n_train_folds=None):
    n = config["n_splits"]
    kind = {
        "speaker-stratified": "speaker-stratified folds (every speaker's utterances "
        "spread over all folds, as in the paper)",
        "speaker-independent": "speaker-independent folds (whole speakers per fold)",
    }[config["protocol"]]
    train = f"{n - 2}" if n_train_folds is None else n_train_folds
    repeats = config["n_repeats"]
    return (
        f"{n} folds × {repeats} repeat{'s' if repeats > 1 else ''}, {kind}; in every "
        f"step one test fold, one validation fold (early stopping) and {train} "
        f"training fold{'s' if str(train) != '1' else ''}. "
        "Features are z-normalised with a StandardScaler fitted on the training "
        "folds (a Pipeline)."
    )


def _versions_text(saved):
    versions = saved.get("versions", {})
    return ", ".join(f"{k} {v}" for k, v in versions.items())


def _status(scores, n_expected, fit_time):
    n = 0 if scores.empty else int((scores.get("method") != "source").sum())
    hours = fit_time / 3600
    timing = f"{hours:.2f} h" if hours >= 1 else f"{fit_time / 60:.1f} min"
    if n >= n_expected:
        return f"**complete**: {n} of {n_expected} fits (total fit time {timing})."
    return (
        f"**partial**: {n} of {n_expected} fits finished (total fit time {timing}); "
        "rerun the same command to finish the run. Statistics below use the "
        "finished fits only."
    )


def _learning_curves(scores, histories, arms_labels):
    curves, best = {}, {}
    for arm, label in arms_labels:
        sub = scores[scores["arm"] == arm]
        curves[label] = [histories[k].get("valid_uar", []) for k in sub["key"]]
        curves[label] = [[np.nan if v is None else v for v in c] for c in curves[label]]
        best[label] = sub["best_epoch"].to_numpy()
    return curves, best


def _curve_rows(curves, arm_of_label):
    from sklearn_prognet.experiments._plots import curve_statistics

    rows = []
    for label, runs in curves.items():
        epochs, mean, std, n = curve_statistics(runs, min_fraction=0.0)
        for e, m, s, k in zip(epochs, mean, std, n, strict=True):
            rows.append((arm_of_label[label], int(e), m, s, int(k)))
    return rows


# -- paralinguistic ---------------------------------------------------------------


def _render_paralinguistic(folder, saved, scores, histories, alpha, ttest_df):
    from sklearn_prognet.experiments._plots import plot_learning_curves

    config = saved["config"]
    info = saved.get("corpus_info", {"name": config["corpus"]["name"]})
    sources = config["sources"]
    n_repeats, n_splits = config["n_repeats"], config["n_splits"]
    n_expected = n_repeats * n_splits * (1 + 2 * len(sources))
    corpus = info["name"]
    arms_present = scores["arm"].unique() if len(scores) else []
    by_arm = {arm: scores[scores["arm"] == arm] for arm in arms_present}
    empty = scores.iloc[0:0] if len(scores) else None

    def arm_frame(arm):
        return by_arm.get(arm, empty)

    summary = {}
    for arm in ["dnn"] + [f"{m}-{s}" for s in sources for m in ("ptft", "prognet")]:
        frame = arm_frame(arm)
        summary[arm] = None if frame is None else _summary(frame, n_repeats)

    tests = []  # (source, comparison, arm_a, arm_b, result)
    marks = {}
    for s in sources:
        ptft, prognet = f"ptft-{s}", f"prognet-{s}"
        results = {}
        for a, b in ((prognet, "dnn"), (ptft, "dnn"), (prognet, ptft), (ptft, prognet)):
            fa, fb = arm_frame(a), arm_frame(b)
            results[a, b] = (
                None if fa is None or fb is None else _ttest(fa, fb, ttest_df)
            )
        for arm, other in ((ptft, prognet), (prognet, ptft)):
            vs_dnn, vs_other = results[arm, "dnn"], results[arm, other]
            if _better(vs_dnn, alpha) and _better(vs_other, alpha):
                marks[arm] = "†"
            elif _better(vs_dnn, alpha):
                marks[arm] = "*"
        label = SOURCE_LABELS.get(s, s)
        tests += [
            (label, "ProgNet vs DNN", results[prognet, "dnn"]),
            (label, "PT/FT vs DNN", results[ptft, "dnn"]),
            (label, "ProgNet vs PT/FT", results[prognet, ptft]),
        ]

    finite = {a: v["mean"] for a, v in summary.items() if v is not None}
    best_arm = max(finite, key=finite.get) if finite else None
    rows = []
    for arm, value in summary.items():
        method, _, source = arm.partition("-")
        cell = _fmt_score(value)
        if arm == best_arm:
            cell = f"**{cell}**"
        cell += marks.get(arm, "")
        rows.append([SOURCE_LABELS.get(source, "N/A"), METHOD_LABELS[method], cell])

    df_text = _df_text(ttest_df)
    fit_time = float(scores["fit_time"].sum()) if len(scores) else 0.0
    lines = [
        "# Paralinguistic transfer: speaker and gender to emotion",
        "",
        "Analogue of Table 2 and Figure 3 of Gideon et al., *Progressive Neural "
        "Networks for Transfer Learning in Emotion Recognition* (Interspeech 2017): "
        "emotion is the target task; speaker identity and gender are the source tasks "
        "of pre-training / fine-tuning (PT/FT) and of progressive networks (ProgNet); "
        "the DNN uses no source.",
        "",
        f"- Status: {_status(scores, n_expected, fit_time)}",
        f"- Corpus: {_corpus_text(info)}.",
        f"- Protocol: {_protocol_text(config)}",
        f"- Networks (the paper's Table 1 unless changed): "
        f"{_network_text(config['network'], config.get('lateral'))}. The source "
        "networks have the same architecture; in every step they are trained on the "
        "training folds only (on speaker or gender labels, with 10% of the training "
        "folds held out for their own early stopping), so the test fold never "
        "reaches them.",
        f"- Seed {config['seed']}: the folds and, with (repeat, fold, method), every "
        "fit's random state derive from it.",
        "",
        "## Table 2 analogue: test UAR",
        "",
        _md_table(["Source", "Method", corpus], rows, [":--", ":--", "--:"]),
        "",
        "Mean test UAR over all folds and repeats ± the mean over repeats of the "
        "standard deviation of the fold UARs within a repeat (the paper's mean "
        "within-fold standard deviation). † significantly better than both other "
        "methods of the same source (DNN and the other transfer method); * "
        "significantly better than DNN. Corrected repeated cross-validation t-test "
        f"(Nadeau & Bengio 2003; Bouckaert & Frank 2004), two-sided, p < {alpha}, "
        f"degrees of freedom: {df_text}. Bold: best mean.",
        "",
        "## Significance tests",
        "",
        _md_table(
            ["Source", "Comparison", "mean ΔUAR", "t", "df", "p", f"p < {alpha}"],
            [_stat_row(s, c, r, alpha) for s, c, r in tests],
            [":--", ":--", "--:", "--:", "--:", "--:", ":-:"],
        ),
        "",
    ]

    # source tasks: PT/FT and ProgNet of one step train the same source network
    src_rows = []
    for s in sources:
        frames = [arm_frame(f"{m}-{s}") for m in ("prognet", "ptft")]
        frame = next((f for f in frames if f is not None and not f.empty), None)
        if frame is None:
            continue
        uar = frame.get("source_test_uar")
        uar = uar.dropna() if uar is not None else []
        src_rows.append(
            [
                SOURCE_LABELS.get(s, s),
                f"{uar.mean():.3f}" if len(uar) else "– (unseen labels)",
                f"{frame['source_best_epoch'].mean():.0f}",
                f"{frame['source_n_epochs'].mean():.0f}",
            ]
        )
    if src_rows:
        lines += [
            "## Source networks",
            "",
            _md_table(
                ["Source task", "test UAR", "best epoch (mean)", "epochs run (mean)"],
                src_rows,
                [":--", "--:", "--:", "--:"],
            ),
            "",
            "UAR of the source network on its own task (speaker identification or "
            "gender) on the test fold of each step. PT/FT and ProgNet of one step "
            "train the same source network (same data and random state). With "
            "speaker-independent folds the test speakers are unseen, so no speaker "
            "UAR is given.",
            "",
        ]

    # learning curves
    lines += ["## Learning curves (Figure 3 analogue)", ""]
    chance = 1.0 / len(config["emotions"])
    curve_rows = []
    epoch_rows = []
    for s in sources:
        arms_labels = [
            ("dnn", "DNN"),
            (f"ptft-{s}", "PT/FT"),
            (f"prognet-{s}", "ProgNet"),
        ]
        if scores.empty:
            break
        curves, best = _learning_curves(scores, histories, arms_labels)
        name = f"learning_curves_{s}.png"
        plot_learning_curves(
            curves,
            Path(folder) / name,
            title=f"{SOURCE_LABELS.get(s, s)} → emotion ({corpus})",
            chance=chance,
            best_epochs=best,
        )
        lines += [
            f"![{SOURCE_LABELS.get(s, s)} to emotion learning curves]({name})",
            "",
        ]
        arm_of_label = {label: arm for arm, label in arms_labels}
        curve_rows += [
            r
            for r in _curve_rows(curves, arm_of_label)
            if r[0] != "dnn" or s == sources[0]
        ]
        for arm, label in arms_labels[(0 if s == sources[0] else 1) :]:
            frame = arm_frame(arm)
            if frame is None or frame.empty:
                continue
            epoch_rows.append(
                [
                    SOURCE_LABELS.get(s, "N/A") if arm != "dnn" else "N/A",
                    label,
                    f"{frame['best_epoch'].mean():.0f}±{frame['best_epoch'].std(ddof=0):.0f}",
                    f"{frame['n_epochs'].mean():.0f}",
                    f"{frame['fit_time'].mean():.1f}",
                ]
            )
    lines += [
        "Validation-fold UAR after every epoch: mean (line) ± standard deviation "
        "(band) across all fits (folds × repeats) of each method. Fits stop early "
        "at different epochs; each curve averages the fits still training and ends "
        "when fewer than half of them are. Dotted: chance.",
        "",
    ]
    if epoch_rows:
        lines += [
            _md_table(
                ["Source", "Method", "best epoch", "epochs run (mean)", "fit time (s)"],
                epoch_rows,
                [":--", ":--", "--:", "--:", "--:"],
            ),
            "",
        ]
    _write_curves_csv(folder, curve_rows)
    lines += _footer(saved)
    return lines


def _write_curves_csv(folder, rows):
    text = "arm,epoch,mean_valid_uar,std_valid_uar,n_fits\n" + "".join(
        f"{a},{e},{m:.5f},{s:.5f},{n}\n" for a, e, m, s, n in rows
    )
    write_atomic(Path(folder) / CURVES_FILE, text)


def _footer(saved):
    lines = []
    notes = list(saved.get("notes") or [])
    config = saved["config"]
    if config.get("protocol") == "speaker-stratified":
        notes.append(
            "Speaker-stratified folds put every speaker in the training and the test "
            "folds (the paper's protocol, needed to evaluate a speaker-identity "
            "model); emotion UARs are therefore optimistic compared with unseen "
            "speakers (--protocol speaker-independent)."
        )
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    lines += [
        "## Files",
        "",
        f"- `{FITS_FILE}`: one JSON line per fit (test UAR, fold sizes, epochs, "
        "learning curve); `scores.csv`: the same without curves; "
        f"`{CURVES_FILE}`: mean learning curves; `config.json`: settings, their hash "
        "and package versions.",
        "- Re-render this report with `sklearn-prognet report FOLDER`.",
        "",
        "## Versions",
        "",
        _versions_text(saved),
        "",
    ]
    command = saved.get("command")
    if command:
        lines[-1:-1] = ["", "Command: `" + " ".join(command) + "`"]
    return lines


# -- cross-corpus --------------------------------------------------------------


def _render_cross_corpus(folder, saved, scores, histories, alpha, ttest_df):
    from sklearn_prognet.experiments._plots import plot_cross_corpus

    config = saved["config"]
    src_info = saved.get("source_info", {"name": config["source"]["name"]})
    tgt_info = saved.get("target_info", {"name": config["target"]["name"]})
    train_folds = config["train_folds"]
    n_repeats, n_splits = config["n_repeats"], config["n_splits"]
    n_expected = len(train_folds) * n_repeats * n_splits * 3
    direction = f"{src_info['name']} → {tgt_info['name']}"
    fits = scores[scores["method"] != "source"] if len(scores) else scores

    def arm_frame(method, n):
        if fits.empty:
            return None
        frame = fits[(fits["method"] == method) & (fits["n_train_folds"] == n)]
        return None if frame.empty else frame

    table, plot_rows, tests = {}, [], []
    for n in train_folds:
        results = {}
        for a, b in (
            ("prognet", "dnn"),
            ("ptft", "dnn"),
            ("prognet", "ptft"),
            ("ptft", "prognet"),
        ):
            fa, fb = arm_frame(a, n), arm_frame(b, n)
            results[a, b] = (
                None if fa is None or fb is None else _ttest(fa, fb, ttest_df)
            )
        for method in ("dnn", "ptft", "prognet"):
            frame = arm_frame(method, n)
            value = None if frame is None else _summary(frame, n_repeats)
            mark = ""
            if method != "dnn":
                other = "ptft" if method == "prognet" else "prognet"
                if _better(results[method, "dnn"], alpha):
                    mark = "†" if _better(results[method, other], alpha) else "*"
            table[method, n] = (value, mark)
            if value is not None:
                plot_rows.append(
                    {
                        "label": METHOD_LABELS[method],
                        "n_train_folds": n,
                        "mean": value["mean"],
                        "std": value["std"],
                        "better_than_dnn": bool(mark),
                    }
                )
        frame = arm_frame("prognet", n)
        if frame is None:
            frame = arm_frame("ptft", n)
        if frame is not None and "source_test_uar" in frame:
            zero = frame[["repeat", "fold", "source_test_uar", "n_train", "n_test"]]
            zero = zero.rename(columns={"source_test_uar": "uar"}).dropna()
            value = _summary(zero, n_repeats) if len(zero) else None
            table["source", n] = (value, "")
            if value is not None:
                plot_rows.append({"label": "source model", "n_train_folds": n, **value})
        tests += [
            (str(n), "ProgNet vs DNN", results["prognet", "dnn"]),
            (str(n), "PT/FT vs DNN", results["ptft", "dnn"]),
            (str(n), "ProgNet vs PT/FT", results["prognet", "ptft"]),
        ]

    header = ["Method"] + [
        f"{n} training fold{'s' if n > 1 else ''}" for n in train_folds
    ]
    rows = []
    for method, label in (
        *METHOD_LABELS.items(),
        ("source", "Source model, not adapted"),
    ):
        cells = []
        for n in train_folds:
            value, mark = table.get((method, n), (None, ""))
            cells.append(_fmt_score(value) + mark)
        rows.append([label, *cells])

    chance = 1.0 / len(config["emotions"])
    plot_name = "cross_corpus.png"
    if plot_rows:
        plot_cross_corpus(
            plot_rows,
            Path(folder) / plot_name,
            title=f"Cross-corpus transfer {direction}",
            chance=chance,
        )
    df_text = _df_text(ttest_df)
    fit_time = float(scores["fit_time"].sum()) if len(scores) else 0.0
    source_line = _source_model_text(scores, src_info, config["protocol"])
    lines = [
        f"# Cross-corpus transfer: {direction}",
        "",
        "Analogue of Figure 4 of Gideon et al., *Progressive Neural Networks for "
        "Transfer Learning in Emotion Recognition* (Interspeech 2017): an emotion "
        f"model trained on all of **{src_info['name']}** (the source) is transferred "
        f"to **{tgt_info['name']}** (the target) by pre-training / fine-tuning "
        "(PT/FT) or as the frozen column of a progressive network (ProgNet); the "
        "DNN is trained on the target alone. The target is trained on "
        + ", ".join(str(n) for n in train_folds)
        + " of its training folds.",
        "",
        f"- Status: {_status(scores, n_expected, fit_time)}",
        f"- Source corpus: {_corpus_text(src_info)}.",
        f"- Target corpus: {_corpus_text(tgt_info)}.",
        "- Protocol (target): "
        + _protocol_text(config, "/".join(map(str, train_folds)))
        + " The kept training folds are nested (those of 1 fold are among those of "
        "2, ...), and every number of training folds uses the same test and "
        "validation folds.",
        "- Normalisation: each corpus is z-normalised on its own training data "
        "(dataset-specific normalisation): the source on all of its data, the "
        "target on the training folds of each step.",
        f"- Source model: {source_line}",
        f"- Networks: {_network_text(config['network'], config.get('lateral'))}.",
        f"- Seed {config['seed']}.",
        "",
        "## Test UAR on the target",
        "",
        _md_table(header, rows, [":--"] + ["--:"] * len(train_folds)),
        "",
        "Mean test UAR ± mean within-repeat standard deviation of the fold UARs. * "
        "significantly better than DNN with the same training folds; † also "
        "significantly better than the other transfer method. Corrected repeated "
        f"cross-validation t-test, two-sided, p < {alpha}, degrees of freedom: "
        f"{df_text}. *Source model, not adapted*: the source emotion network applied "
        "to the target's (target-normalised) test folds without any target "
        "training.",
        "",
    ]
    if plot_rows:
        lines += [
            f"![Cross-corpus transfer {direction}]({plot_name})",
            "",
            "Lines: mean test UAR; bands: mean within-repeat standard deviation; "
            "circles: significantly better than DNN (the paper's Figure 4 marks).",
            "",
        ]
    lines += [
        "## Significance tests",
        "",
        _md_table(
            [
                "Training folds",
                "Comparison",
                "mean ΔUAR",
                "t",
                "df",
                "p",
                f"p < {alpha}",
            ],
            [_stat_row(n, c, r, alpha) for n, c, r in tests],
            [":--", ":--", "--:", "--:", "--:", "--:", ":-:"],
        ),
        "",
    ]
    epoch_rows = []
    for n in train_folds:
        for method in METHOD_LABELS:
            frame = arm_frame(method, n)
            if frame is None:
                continue
            epoch_rows.append(
                [
                    str(n),
                    METHOD_LABELS[method],
                    f"{frame['best_epoch'].mean():.0f}",
                    f"{frame['n_epochs'].mean():.0f}",
                    f"{frame['fit_time'].mean():.1f}",
                ]
            )
    if epoch_rows:
        lines += [
            "## Training",
            "",
            _md_table(
                [
                    "Training folds",
                    "Method",
                    "best epoch (mean)",
                    "epochs run",
                    "fit time (s)",
                ],
                epoch_rows,
                [":--", ":--", "--:", "--:", "--:"],
            ),
            "",
        ]
    curve_rows = []
    if not fits.empty:
        for n in train_folds:
            arms_labels = [
                (f"{m}@{n}", f"{METHOD_LABELS[m]}@{n}") for m in METHOD_LABELS
            ]
            curves, _ = _learning_curves(fits, histories, arms_labels)
            curve_rows += _curve_rows(curves, {lab: arm for arm, lab in arms_labels})
    _write_curves_csv(folder, curve_rows)
    lines += _footer(saved)
    return lines


def _source_model_text(scores, info, protocol):
    if scores.empty or not (scores["method"] == "source").any():
        return "not trained yet."
    row = scores[scores["method"] == "source"].iloc[0]
    held_out = (
        "whole speakers"
        if protocol == "speaker-independent"
        else "stratified on emotion, as the protocol's folds"
    )
    return (
        f"a DNN trained on all {int(row['n_train'])} utterances of {info['name']}, "
        f"with 10% of them ({held_out}) held out for early stopping: best epoch "
        f"{int(row['best_epoch'])} of {int(row['n_epochs'])}, validation UAR "
        f"{row['best_valid_uar']:.3f}."
    )


# -- entry point ------------------------------------------------------------------


def render_report(folder, *, alpha=None, ttest_df="saved"):
    """Write the report of a results folder: Markdown, CSV tables and PNG plots.

    Reads ``config.json`` and ``fits.jsonl`` (a partial run gives a partial
    report) and writes ``report.md``, ``scores.csv``,
    ``learning_curves.csv`` and the plots into the folder.

    Parameters
    ----------
    folder : str or os.PathLike
        The results folder.
    alpha : float, default=None
        Significance level; None uses the level the run was started with.
    ttest_df : int, None or 'saved', default='saved'
        Degrees of freedom of the corrected t-test; ``'saved'`` uses those of
        the run, None means the number of paired scores minus one.

    Returns
    -------
    report : pathlib.Path
        Path of ``report.md``.

    See Also
    --------
    run_paralinguistic : Runs the paralinguistic experiment.
    run_cross_corpus : Runs the cross-corpus experiment.

    Examples
    --------
    >>> from sklearn_prognet.experiments import render_report
    >>> render_report("results/demo")  # doctest: +SKIP
    PosixPath('results/demo/report.md')
    """
    folder = Path(folder)
    saved, scores, histories = load_results(folder)
    analysis = saved.get("analysis", {})
    if alpha is None:
        alpha = analysis.get("alpha", 0.05)
    if ttest_df == "saved":
        ttest_df = analysis.get("ttest_df", 10)
    experiment = saved["config"].get("experiment")
    if experiment == "paralinguistic":
        lines = _render_paralinguistic(
            folder, saved, scores, histories, alpha, ttest_df
        )
    elif experiment == "cross-corpus":
        lines = _render_cross_corpus(folder, saved, scores, histories, alpha, ttest_df)
    else:
        raise ExperimentInputError(
            f"{str(folder)!r} holds an unknown experiment {experiment!r}."
        )
    if len(scores):
        columns = [c for c in scores.columns if c != "history"]
        write_atomic(folder / SCORES_FILE, scores[columns].to_csv(index=False))
    path = folder / REPORT_FILE
    write_atomic(path, "\n".join(lines).rstrip() + "\n")
    return path
