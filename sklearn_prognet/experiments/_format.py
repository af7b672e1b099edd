# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Markdown of the reports: tables, numbers and the sentences around them.

Everything here turns data (from :mod:`._stats` and ``config.json``) into
text; nothing computes statistics or writes files.
"""

import math
import statistics

from sklearn_prognet.experiments._fits import (
    DEFAULT_NORMALIZATION,
    per_speaker,
    training_settings,
)
from sklearn_prognet.experiments._folds import (
    PROTOCOLS,
    SPEAKER_INDEPENDENT,
    SPEAKER_STRATIFIED,
)

__all__ = ["md_table", "score_cell", "significance_table"]

_STAT_HEADER = ["Comparison", "mean ΔUAR", "t", "df", "p",
                "P(A better)", "P(rope)", "P(B better)"]  # fmt: skip
_STAT_ALIGN = [":--", ":--", "--:", "--:", "--:", "--:", "--:", "--:", "--:", ":-:"]


def md_table(header, rows, align=None):
    """A Markdown table.

    Examples
    --------
    >>> from sklearn_prognet.experiments._format import md_table
    >>> print(md_table(["a", "b"], [[1, 2]], [":--", "--:"]))
    | a | b |
    |:--|--:|
    | 1 | 2 |
    """
    align = align or ["---"] * len(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def p_value(p):
    """A p-value with 3 decimals, or in scientific notation below 0.001."""
    if p is None or not math.isfinite(p):
        return "–"
    return f"{p:.1e}" if p < 0.001 else f"{p:.3f}"


def score_cell(summary):
    """``mean±std`` of a :class:`~._stats.Summary`, or a dash."""
    if summary is None:
        return "–"
    if not math.isfinite(summary.std):
        return f"{summary.mean:.3f}"
    return f"{summary.mean:.3f}±{summary.std:.3f}"


#: The header of the trainable-parameter column of every report's table.
PARAMS_HEADER = "trainable params"
#: What that column holds, for the tables' notes.
PARAMS_NOTE = (
    "*trainable params*: parameters the optimizer updated "
    "(`n_trainable_params_`, median over the fits)."
)


def params_cell(values):
    """The median of trainable-parameter counts, or a dash when there are none.

    ``None`` values (arms without counts, as a baseline) are left out.

    Examples
    --------
    >>> from sklearn_prognet.experiments._format import params_cell
    >>> params_cell([90_000.0, 91_000.0, None]), params_cell([None])
    ('90,500', '–')
    """
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    return f"{int(round(statistics.median(values))):,}"


def df_text(ttest_df):
    """The degrees of freedom of the t-test, in words."""
    if ttest_df is None:
        return "the number of paired scores − 1"
    return f"{ttest_df} (the paper's; the number of paired scores − 1 if smaller)"


def table_note(note, analysis):
    """A table's note, its ``{alpha}`` and ``{df}`` those of the report's t-tests."""
    return note.format(alpha=analysis.alpha, df=df_text(analysis.ttest_df))


def probability(p):
    """A posterior probability with 3 decimals (``>0.999``, ``<0.001`` at the ends)."""
    if p is None or not math.isfinite(p):
        return "–"
    if 0 < p < 0.001:
        return "<0.001"
    if 0.999 < p < 1:
        return ">0.999"
    return f"{p:.3f}"


def _stat_row(group, comparison, result, alpha):
    if result is None:
        return [group, comparison, *["–"] * 7, ""]
    ttest, bayes = result.ttest, result.bayes
    return [
        group,
        comparison,
        f"{ttest.mean_difference:+.3f}",
        f"{ttest.statistic:.2f}",
        f"{ttest.df:g}",
        p_value(ttest.pvalue),
        probability(bayes.p_a_better),
        probability(bayes.p_rope),
        probability(bayes.p_b_better),
        "yes" if ttest.pvalue < alpha else "",
    ]


def significance_table(group_header, tests, alpha):
    """The tests and their note: ``tests`` holds (group, comparison, PairedTest)."""
    rope = next((r.bayes.rope for _, _, r in tests if r is not None), None)
    table = md_table(
        [group_header, *_STAT_HEADER, f"p < {alpha}"],
        [_stat_row(g, c, r, alpha) for g, c, r in tests],
        _STAT_ALIGN,
    )
    if rope is None:
        return table
    return table + "\n\n" + _BAYES_NOTE.format(rope=rope)


def section(heading, *blocks):
    """A report section: its ``## heading``, then the blocks, each with a blank line."""
    lines = [f"## {heading}", ""]
    for block in blocks:
        lines += [block, ""]
    return lines


def significance_section(group_header, tests, alpha):
    """The report's section of the tests (see :func:`significance_table`)."""
    return section("Significance tests", significance_table(group_header, tests, alpha))


_BAYES_NOTE = (
    "A vs B: mean ΔUAR = A − B. t, df, p: corrected repeated cross-validation "
    "t-test (two-sided). P(A better), P(rope), P(B better): Bayesian correlated "
    "t-test (Corani & Benavoli 2015), the posterior probabilities that A is "
    "better by more than {rope:g} UAR, that the two are within ±{rope:g} "
    "(region of practical equivalence) and that B is better by more than "
    "{rope:g}; its posterior has the number of paired scores − 1 degrees of "
    "freedom."
)


def per_speaker_run(config):
    """Whether a run normalised every speaker on their own rows (``config.json``)."""
    return per_speaker(config.get("normalization", DEFAULT_NORMALIZATION))


def normalization_text(config):
    """The z-normalisation of a run's pipelines, in words."""
    if per_speaker_run(config):
        return (
            "Features are normalised per speaker (SpeakerStandardScaler in a "
            "Pipeline): every speaker with the mean and standard deviation of their "
            "own utterances in the data at hand, training speakers with their "
            "training utterances and **test speakers with their test utterances** "
            "(no labels). This assumes that unlabelled speech of every test speaker "
            "is available before their emotions are predicted (transductive); "
            "speakers with fewer than 10 utterances in a fold use the training "
            "folds' global statistics instead."
        )
    return (
        "Features are z-normalised with a StandardScaler fitted on the training "
        "folds (a Pipeline; global normalisation)."
    )


def training_text(config, *, lateral=True):
    """The networks of a run and how they were trained, in words.

    Every report describes its networks with this one function, from the
    settings its ``config.json`` recorded (the estimators' defaults for the
    training options it did not record): a setting that a run did not use
    is never stated. Without early stopping there is no patience and no
    best epoch: every fit trains for ``max_epochs`` epochs and keeps the
    last weights. ``lateral=False`` leaves out the ProgNet lateral
    connections (for an experiment without ProgNet).

    Examples
    --------
    >>> from sklearn_prognet.experiments._format import training_text
    >>> network = {"hidden_layer_sizes": (128, 128), "activation": "tanh",
    ...            "dropout": 0.5, "lr": 0.001, "batch_size": 128,
    ...            "max_epochs": 50, "patience": 50, "early_stopping": False,
    ...            "weight_decay": 0.1, "label_smoothing": 0.1}
    >>> print(training_text({"network": network}))  # doctest: +NORMALIZE_WHITESPACE
    2 × 128 tanh hidden units, dropout 0.5, Adam lr 0.001 with decoupled
    weight decay 0.1 (AdamW), label smoothing 0.1, batch 128, 50 epochs
    without early stopping (the last epoch's weights are kept; validation
    data is only scored); device cpu
    """
    net = training_settings(config["network"])
    sizes = net["hidden_layer_sizes"]
    if len(set(sizes)) == 1:
        layers = f"{len(sizes)} × {sizes[0]}"
    else:
        layers = "-".join(str(s) for s in sizes)
    parts = [f"{layers} {net['activation']} hidden units", f"dropout {net['dropout']}"]
    if net["input_dropout"]:
        parts.append(f"input dropout {net['input_dropout']}")
    if net["input_noise"]:
        parts.append(f"Gaussian input noise (standard deviation {net['input_noise']})")
    optimiser = f"Adam lr {net['lr']}"
    if net["weight_decay"]:
        optimiser += f" with decoupled weight decay {net['weight_decay']} (AdamW)"
    parts.append(optimiser)
    if net["label_smoothing"]:
        parts.append(f"label smoothing {net['label_smoothing']}")
    parts.append(f"batch {net['batch_size']}")
    if net["early_stopping"]:
        parts.append(
            f"at most {net['max_epochs']} epochs, early stopping on the validation "
            f"UAR with patience {net['patience']} (the best epoch's weights are kept)"
        )
    else:
        parts.append(
            f"{net['max_epochs']} epochs without early stopping (the last epoch's "
            "weights are kept; validation data is only scored)"
        )
    text = ", ".join(parts)
    if lateral and config.get("lateral"):
        text += f"; ProgNet lateral connections: {config['lateral']}"
    return text + f"; device {net.get('device', 'cpu')}"


def held_out_text(config, rows):
    """How a network without a validation fold uses ``rows`` (e.g. 'them'), in words.

    Examples
    --------
    >>> from sklearn_prognet.experiments._format import held_out_text
    >>> held_out_text({"network": {"validation_fraction": 0.3}}, "them")
    'with 30% of them held out for early stopping'
    >>> held_out_text({"network": {"early_stopping": False}}, "them")
    'on all of them, without early stopping'
    """
    net = training_settings(config["network"])
    if not net["early_stopping"]:
        return f"on all of {rows}, without early stopping"
    share = f"{100 * net['validation_fraction']:g}%"
    return f"with {share} of {rows} held out for early stopping"


def stops_early(config):
    """Whether the networks of a run stopped early (``config.json``'s settings)."""
    return bool(training_settings(config["network"])["early_stopping"])


def corpus_text(info):
    """A corpus summary (see :meth:`Corpus.summary`), in words."""
    emotions = ", ".join(f"{e} {n}" for e, n in info.get("emotions", {}).items())
    text = (
        f"**{info['name']}** ({info.get('description') or info.get('spec')}): "
        f"{info['n_samples']} utterances, {info['n_speakers']} speakers; {emotions}"
    )
    if info.get("genders"):
        text += "; " + ", ".join(f"{g} {n}" for g, n in info["genders"].items())
    return text


def protocol_text(config, n_train_folds=None):
    """The folds of a run, in words."""
    n = config["n_splits"]
    kind = PROTOCOLS[config["protocol"]]
    train = f"{n - 2}" if n_train_folds is None else n_train_folds
    repeats = config["n_repeats"]
    role = "early stopping" if stops_early(config) else "scored only"
    return (
        f"{n} folds × {repeats} repeat{'s' if repeats > 1 else ''}, {kind}; in every "
        f"step one test fold, one validation fold ({role}) and {train} "
        f"training fold{'s' if str(train) != '1' else ''}. "
        + normalization_text(config)
    )


def status_text(n_done, n_expected, fit_time):
    """Whether the run is complete, and its total fit time."""
    hours = fit_time / 3600
    timing = f"{hours:.2f} h" if hours >= 1 else f"{fit_time / 60:.1f} min"
    if n_done >= n_expected:
        return f"**complete**: {n_done} of {n_expected} fits (total fit time {timing})."
    return (
        f"**partial**: {n_done} of {n_expected} fits finished (total fit time "
        f"{timing}); rerun the same command to finish the run. Statistics below "
        "use the finished fits only."
    )


def epoch_cells(summary, *, with_std):
    """Cells of a training table from :func:`~._stats.epoch_summary`."""
    best = f"{summary['best_epoch']:.0f}"
    if with_std:
        best += f"±{summary['best_epoch_std']:.0f}"
    return [best, f"{summary['n_epochs']:.0f}", f"{summary['fit_time']:.1f}"]


def training_table(config, header, rows, align):
    """A table of the networks' training, with a best-epoch column if there is one.

    Without early stopping every fit trains for ``max_epochs`` epochs and
    keeps its last weights: there is no best epoch, so the column whose
    header starts with "best epoch" is left out and one sentence says why.

    Examples
    --------
    >>> from sklearn_prognet.experiments._format import training_table
    >>> config = {"network": {"early_stopping": False, "max_epochs": 50}}
    >>> text = training_table(config, ["Method", "best epoch", "epochs run"],
    ...                       [["DNN", "50", "50"]], [":--", "--:", "--:"])
    >>> print(text.splitlines()[2])
    | DNN | 50 |
    """
    if stops_early(config):
        return md_table(header, rows, align)
    column = next(i for i, name in enumerate(header) if name.startswith("best epoch"))

    def drop(cells):
        return [c for i, c in enumerate(cells) if i != column]

    table = md_table(drop(header), [drop(r) for r in rows], drop(align))
    epochs = training_settings(config["network"])["max_epochs"]
    return (
        f"{table}\n\nNo early stopping: every fit trained for {epochs} epochs and "
        "kept its last weights, so there is no best epoch."
    )


def curves_csv(rows):
    """``learning_curves.csv`` from :func:`~._stats.curve_rows`."""
    return "arm,epoch,mean_valid_uar,std_valid_uar,n_fits\n" + "".join(
        f"{a},{e},{m:.5f},{s:.5f},{n}\n" for a, e, m, s, n in rows
    )


def confusion_csv(matrices, labels):
    """One row per (arm, true emotion): utterances, then the predicted shares."""
    lines = [",".join(["arm", "true", "n", *labels])]
    for arm, (counts, shares) in matrices.items():
        for label, row_counts, row in zip(labels, counts, shares, strict=True):
            cells = [f"{v:.5f}" for v in row]
            lines.append(",".join([arm, label, str(int(row_counts.sum())), *cells]))
    return "\n".join(lines) + "\n"


def confusion_section(figure, csv_name, n_arms):
    """The report's paragraph on the confusion matrices (``figure`` None: none)."""
    if not n_arms:
        return [
            "## Confusion matrices",
            "",
            "Not available: the fits of this results folder were saved without "
            "their confusion counts (a results folder of an older version).",
            "",
        ]
    image = [f"![Normalised confusion matrices]({figure})", ""] if figure else []
    return [
        "## Confusion matrices",
        "",
        *image,
        "Test-fold predictions of each method, summed over all folds and "
        "repeats, divided by the number of utterances of each true emotion: "
        "rows are the true emotions, columns the predicted ones, and the "
        f"diagonal holds each emotion's recall (UAR is its mean). `{csv_name}` "
        "holds the same numbers.",
        "",
    ]


def engine_lines(engines):
    """Which engine trained how many fits, from the records' ``engine`` field.

    A record without one (None or NaN) predates the field: it was trained
    per fit.

    Examples
    --------
    >>> from sklearn_prognet.experiments._format import engine_lines
    >>> print(engine_lines(["batched", "batched", None])[0])
    Fits by training engine: 2 batched, 1 per-fit (results from the same distribution).
    """
    counts = {}
    for engine in engines:
        engine = engine if isinstance(engine, str) else "per-fit"
        counts[engine] = counts.get(engine, 0) + 1
    if not counts:
        return []
    parts = ", ".join(f"{n} {engine}" for engine, n in counts.items())
    same = " (results from the same distribution)" if len(counts) > 1 else ""
    return [f"Fits by training engine: {parts}{same}.", ""]


def fallback_note(n_fallback, n_test):
    """The test rows that per-speaker normalisation standardised globally, in words.

    Examples
    --------
    >>> from sklearn_prognet.experiments._format import fallback_note
    >>> fallback_note(81, 90)[:60]
    'Per-speaker normalisation fell back to global statistics for'
    """
    text = (
        "Per-speaker normalisation fell back to global statistics for "
        f"**{n_fallback / n_test:.1%} of the test rows** ({n_fallback} of {n_test}, "
        "over all fits): their speakers had fewer than 10 utterances in the "
        "test fold, so those rows were standardised with the training folds' "
        "global statistics while the training rows were standardised per speaker."
    )
    if n_fallback:
        text += (
            " Their scores understate per-speaker normalisation; "
            f"protocol={SPEAKER_INDEPENDENT!r} tests whole speakers."
        )
    return text


def footer(saved, files, notes=()):
    """Notes, the folder's files and the versions, closing every report.

    ``notes`` are added to those of ``config.json``.
    """
    lines = []
    notes = list(saved.get("notes") or []) + list(notes)
    if saved["config"].get("protocol") == SPEAKER_STRATIFIED:
        notes.append(
            "Speaker-stratified folds put every speaker in the training and the test "
            "folds (the paper's protocol, needed to evaluate a speaker-identity "
            "model); emotion UARs are therefore optimistic compared with unseen "
            f"speakers (protocol={SPEAKER_INDEPENDENT!r}; on the command line, "
            f"--protocol {SPEAKER_INDEPENDENT.replace('_', '-')})."
        )
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    versions = ", ".join(f"{k} {v}" for k, v in saved.get("versions", {}).items())
    lines += ["## Files", "", *files, "", "## Versions", "", versions, ""]
    command = saved.get("command")
    if command:
        lines[-1:-1] = ["", "Command: `" + " ".join(command) + "`"]
    return lines
