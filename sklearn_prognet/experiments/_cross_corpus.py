# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Cross-corpus transfer with fewer target training folds (Figure 4).

A source model (a DNN) is trained once on all of the source corpus. Arms: on
the target corpus, a DNN, the source model fine-tuned (PT/FT) and a ProgNet
with the source model as frozen column, each with 8, 4, 2 and 1 training
folds.
"""

import io
import os
from pathlib import Path

import joblib
import numpy as np

from sklearn_prognet.experiments import _format, _skeleton, _stats
from sklearn_prognet.experiments._execution import (
    log,
    parallel_context,
    threads_per_fit,
)
from sklearn_prognet.experiments._fits import (
    METHOD_LABELS,
    METHODS,
    FitData,
    derive_seed,
)
from sklearn_prognet.experiments._folds import SPEAKER_INDEPENDENT, make_folds
from sklearn_prognet.experiments._inputs import (
    ExperimentInputError,
    describe_corpus,
    load_corpus,
    parse_spec,
)
from sklearn_prognet.experiments._options import Option
from sklearn_prognet.experiments._plots import plot_cross_corpus
from sklearn_prognet.experiments._skeleton import run_experiment
from sklearn_prognet.experiments._store import write_atomic
from sklearn_prognet.experiments._transfer import (
    SOURCE_MODEL_KEY,
    TRAIN_FOLDS,
    align_features,
    check_disjoint,
    check_sampling_rates,
    check_train_folds,
    fit_source_model,
)
from sklearn_prognet.utils._messages import Param

__all__ = ["run_cross_corpus"]

SOURCE_MODEL_FILE = "source_model.joblib"
# The row of the source model applied to the target without adaptation.
_ZERO_SHOT = ("source", "Source model, not adapted")


def _source_model(store, source, params, seed, settings, execution):
    """Load the saved source model, or train it and save it."""
    path = store.folder / SOURCE_MODEL_FILE
    done = any(r["key"] == SOURCE_MODEL_KEY for r in store.records())
    if done and path.exists():
        return joblib.load(path)
    log(
        f"Training the source model on the {source.n_samples} utterances of "
        f"{source.name}."
    )

    random_state = derive_seed(seed, "source-model")
    n_jobs, backend, scheduler, threads = execution
    protocol, normalization = settings
    if backend == "dask":
        # On the cluster, like the other fits.
        with parallel_context(n_jobs, backend, scheduler) as jobs:
            ((pipe, record),) = joblib.Parallel(n_jobs=jobs)(
                [
                    joblib.delayed(fit_source_model)(
                        source, params, random_state, threads, protocol, normalization
                    )
                ]
            )
    else:
        pipe, record = fit_source_model(
            source, params, random_state, threads, protocol, normalization
        )
    # The model file first, then the record that says it is done.
    buffer = io.BytesIO()
    joblib.dump(pipe, buffer)
    write_atomic(path, buffer.getvalue())
    if not done:
        store.append(record)
    return pipe


def arm_name(method, n_train_folds):
    """The arm of a method with some training folds (the one home of arm names).

    Examples
    --------
    >>> from sklearn_prognet.experiments._cross_corpus import arm_name
    >>> arm_name("ptft", 4)
    'ptft@4'
    """
    return f"{method}@{n_train_folds}"


def _load_corpora(source, target, options):
    """The source and target corpora, checked to suit each other."""
    source_corpus = load_corpus(source, **options.corpus_options())
    target_corpus = load_corpus(target, **options.corpus_options())
    if sorted(set(source_corpus.emotion)) != sorted(set(target_corpus.emotion)):
        raise ExperimentInputError(
            f"Source and target corpora have different emotions: "
            f"{sorted(set(source_corpus.emotion))} and "
            f"{sorted(set(target_corpus.emotion))}; choose common ones (",
            Param("emotions"),
            ").",
        )
    target_corpus = align_features(source_corpus, target_corpus)
    check_disjoint(source_corpus, target_corpus)
    check_sampling_rates(source_corpus, target_corpus, options.resample)
    if options.verbose:
        log("Source: " + describe_corpus(source_corpus))
        log("Target: " + describe_corpus(target_corpus))
    if len(np.unique(source_corpus.speaker)) < 2:
        raise ExperimentInputError(
            f"Source corpus {source_corpus.name!r} has a single speaker; its model "
            "holds out whole speakers for early stopping, so it needs at least 2."
        )
    return source_corpus, target_corpus


class CrossCorpus(_skeleton.Experiment):
    """An emotion model of one corpus transferred to another."""

    name = "cross-corpus"
    format_version = 2

    def __init__(self, source=None, target=None, train_folds=None):
        self.source = source
        self.target = target
        self.train_folds = train_folds

    def arms(self, config):
        """Every method with every number of training folds."""
        return [
            _skeleton.Arm(
                arm_name(m, n), m, f"{METHOD_LABELS[m]}, {n} training folds", None, n
            )
            for n in config["train_folds"]
            for m in METHODS
        ]

    def arm_name(self, record):
        """``source`` (the source model), or ``<method>@<training folds>``."""
        if record.get("method") == "source":
            return "source"
        return arm_name(record["method"], record["n_train_folds"])

    def planned_keys(self, config):
        """The key of every fit of the run, the source model's included."""
        keys = {
            fit_key(arm.n_train_folds, repeat, fold, arm.method)
            for repeat in range(config["n_repeats"])
            for fold in range(config["n_splits"])
            for arm in self.arms(config)
        }
        return keys | {SOURCE_MODEL_KEY}

    def plan(self, options, network):
        """Load both corpora, make the nested folds, plan the target fits."""
        train_folds = check_train_folds(self.train_folds, options.n_splits)
        source, target = _load_corpora(self.source, self.target, options)
        tasks, notes = [], []
        for n in train_folds:
            folds, new = make_folds(target, **options.fold_options(), n_train_folds=n)
            notes += [note for note in new if note not in notes]
            tasks += [_task(f, n, m, source.name, options.seed)
                      for f in folds for m in METHODS]  # fmt: skip
        return _skeleton.Plan(
            settings={
                "source": _skeleton.corpus_id(source),
                "target": _skeleton.corpus_id(target),
                "train_folds": train_folds,
            },
            emotions=sorted(set(target.emotion)),
            tasks=tasks,
            info={"source_info": source.summary(), "target_info": target.summary()},
            notes=notes,
            state={"source": source, "target": target, "network": network},
        )

    def row_speakers(self, plan):
        """The target's speakers: the tasks index the target's rows."""
        return np.asarray(plan.state["target"].speaker)

    def fit_data(self, store, plan, options):
        """Train (or load) the source model, then share it with the tasks."""
        network, target = plan.state["network"], plan.state["target"]
        threads = threads_per_fit(options.torch_threads)
        execution = (options.n_jobs, options.backend, options.scheduler, threads)
        settings = (options.protocol, options.normalization)
        pipe = _source_model(store, plan.state["source"], network, options.seed,
                             settings, execution)  # fmt: skip
        return FitData(
            X=target.X,
            y=np.asarray(target.emotion),
            network=network,
            lateral=options.lateral,
            source_network=pipe[-1],
            experiment=self.name,
            normalization=options.normalization,
            speaker=np.asarray(target.speaker),
        )

    def _statistics(self, results, analysis):
        """Per number of training folds: the method comparison and zero-shot."""
        config = results.config
        frames = _skeleton.frames_by_arm(results.scores)
        out = {}
        for n in config["train_folds"]:
            comparison = _stats.compare_methods(
                {m: frames.get(arm_name(m, n)) for m in METHODS},
                n_repeats=config["n_repeats"],
                alpha=analysis.alpha,
                ttest_df=analysis.ttest_df,
            )
            comparison.summaries["source"] = _zero_shot(
                frames.get(arm_name("prognet", n)), frames.get(arm_name("ptft", n)),
                config["n_repeats"])  # fmt: skip
            out[n] = comparison
        return out

    def summary_table(self, results, analysis):
        """Mean test UAR of every method against the number of training folds.

        The last column holds each method's trainable parameters (the median
        over its fits with every number of training folds); results folders
        saved without them (an older version) show no such column.
        """
        train_folds = results.config["train_folds"]
        stats = self._statistics(results, analysis)
        frames = _skeleton.frames_by_arm(results.scores)
        params = {m: [_stats.median_params(frames.get(arm_name(m, n)))
                      for n in train_folds]
                  for m in METHOD_LABELS}  # fmt: skip
        with_params = any(p is not None for v in params.values() for p in v)
        header = ["Method"] + [
            f"{n} training fold{'s' if n > 1 else ''}" for n in train_folds
        ]
        rows = []
        for method, label in (*METHOD_LABELS.items(), _ZERO_SHOT):
            cells = [_format.score_cell(stats[n].summaries.get(method))
                     + stats[n].marks.get(method, "") for n in train_folds]  # fmt: skip
            if with_params:
                cells.append(_format.params_cell(params.get(method, [])))
            rows.append([label, *cells])
        header += [_format.PARAMS_HEADER] if with_params else []
        return _format.md_table(header, rows, [":--"] + ["--:"] * (len(header) - 1))

    def report(self, folder, results, analysis):
        """Figure 4, the table, the t-tests and the training of every arm."""
        stats = self._statistics(results, analysis)
        tests = [(str(n), label, result) for n, c in stats.items()
                 for label, result in c.tests]  # fmt: skip
        lines = _introduction(self.status(results), results)
        lines += _format.section(
            "Test UAR on the target",
            self.summary_table(results, analysis),
            _format.table_note(_TABLE_NOTE, analysis),
        )
        lines += _figure_lines(folder, results, stats)
        lines += _format.significance_section("Training folds", tests, analysis.alpha)
        return lines + _training_lines(results), _curve_rows(results)


def fit_key(n_train_folds, repeat, fold, method):
    """The key of a target fit in ``fits.jsonl`` (the one home of its format).

    Examples
    --------
    >>> from sklearn_prognet.experiments._cross_corpus import fit_key
    >>> fit_key(4, 0, 3, "dnn")
    't4/r00/f03/dnn'
    """
    return f"t{n_train_folds}/r{repeat:02d}/f{fold:02d}/{method}"


def _task(fold, n_train_folds, method, source_corpus, seed):
    key = fit_key(n_train_folds, fold.repeat, fold.fold, method)
    arm = arm_name(method, n_train_folds)
    random_state = derive_seed(seed, fold.repeat, fold.fold, arm)
    source_corpus = None if method == "dnn" else source_corpus
    return _skeleton.fold_task(
        fold, key, method, n_train_folds, random_state, source_corpus=source_corpus
    )


def _zero_shot(prognet, ptft, n_repeats):
    """The source model's test UAR on the target (saved with either fit)."""
    frame = prognet if prognet is not None else ptft
    if frame is None or "source_test_uar" not in frame:
        return None
    zero = frame[["repeat", "fold", "source_test_uar", "n_train", "n_test"]]
    zero = zero.rename(columns={"source_test_uar": "uar"}).dropna()
    return _stats.summarize(zero, n_repeats) if len(zero) else None


_TABLE_NOTE = (
    "Mean test UAR ± mean within-repeat standard deviation of the fold UARs. * "
    "significantly better than DNN with the same training folds; † also "
    "significantly better than the other transfer method. Corrected repeated "
    "cross-validation t-test, two-sided, p < {alpha}, degrees of freedom: "
    "{df}. *Source model, not adapted*: the source emotion network applied "
    "to the target's (target-normalised) test folds without any target "
    "training. " + _format.PARAMS_NOTE
)


def _names(results):
    config, saved = results.config, results.saved
    source = saved.get("source_info", {"name": config["source"]["name"]})
    target = saved.get("target_info", {"name": config["target"]["name"]})
    return source, target


def _introduction(status, results):
    config = results.config
    source, target = _names(results)
    train_folds = config["train_folds"]
    return [
        f"# Cross-corpus transfer: {source['name']} → {target['name']}",
        "",
        "Analogue of Figure 4 of Gideon et al., *Progressive Neural Networks for "
        "Transfer Learning in Emotion Recognition* (Interspeech 2017): an emotion "
        f"model trained on all of **{source['name']}** (the source) is transferred "
        f"to **{target['name']}** (the target) by pre-training / fine-tuning "
        "(PT/FT) or as the frozen column of a progressive network (ProgNet); the "
        "DNN is trained on the target alone. The target is trained on "
        + ", ".join(str(n) for n in train_folds)
        + " of its training folds.",
        "",
        f"- Status: {status}",
        f"- Source corpus: {_format.corpus_text(source)}.",
        f"- Target corpus: {_format.corpus_text(target)}.",
        "- Protocol (target): "
        + _format.protocol_text(config, "/".join(map(str, train_folds)))
        + " The kept training folds are nested (those of 1 fold are among those of "
        "2, ...), and every number of training folds uses the same test and "
        "validation folds.",
        "- Normalisation: " + _normalization_text(config),
        f"- Source model: {_source_model_text(results.scores, source, config)}",
        f"- Networks: {_format.training_text(config)}.",
        f"- Seed {config['seed']}.",
        "",
    ]


def _normalization_text(config):
    if _format.per_speaker_run(config):
        return (
            "per speaker, in both corpora: every speaker of the source and of the "
            "target is standardised with their own utterances (target test speakers "
            "with their test utterances; see the protocol)."
        )
    return (
        "each corpus is z-normalised on its own training data (dataset-specific "
        "normalisation): the source on all of its data, the target on the "
        "training folds of each step."
    )


def _source_model_text(scores, info, config):
    if scores.empty or not (scores["method"] == "source").any():
        return "not trained yet."
    row = scores[scores["method"] == "source"].iloc[0]
    trained = (
        f"a DNN trained on all {int(row['n_train'])} utterances of {info['name']}, "
        f"{_format.held_out_text(config, 'them')}"
    )
    if not _format.stops_early(config):
        return f"{trained}: {int(row['n_epochs'])} epochs."
    held_out = (
        "whole speakers"
        if config["protocol"] == SPEAKER_INDEPENDENT
        else "stratified on emotion, as the protocol's folds"
    )
    return (
        f"{trained} ({held_out}): best epoch {int(row['best_epoch'])} of "
        f"{int(row['n_epochs'])}, validation UAR {row['best_valid_uar']:.3f}."
    )


def _figure_lines(folder, results, stats):
    """Figure 4: test UAR against the number of training folds."""
    rows = []
    for n, comparison in stats.items():
        for method, label in (*METHOD_LABELS.items(), ("source", "source model")):
            summary = comparison.summaries.get(method)
            if summary is not None:
                better = bool(comparison.marks.get(method))
                rows.append({"label": label, "n_train_folds": n,
                             "mean": summary.mean, "std": summary.std,
                             "better_than_dnn": better})  # fmt: skip
    if not rows:
        return []
    source, target = _names(results)
    direction = f"{source['name']} → {target['name']}"
    chance = 1.0 / len(results.config["emotions"])
    png = "cross_corpus.png"
    drawn = plot_cross_corpus(rows, os.path.join(folder, png), chance=chance,
                              title=f"Cross-corpus transfer {direction}")  # fmt: skip
    return [
        *([f"![Cross-corpus transfer {direction}]({png})", ""] if drawn else []),
        "Lines: mean test UAR; bands: mean within-repeat standard deviation; "
        "circles: significantly better than DNN (the paper's Figure 4 marks).",
        "",
    ]


def _training_lines(results):
    frames = _skeleton.frames_by_arm(results.scores)
    rows = [
        [str(n), label,
         *_format.epoch_cells(_stats.epoch_summary(frames[arm_name(m, n)]),
                              with_std=False)]
        for n in results.config["train_folds"]
        for m, label in METHOD_LABELS.items()
        if arm_name(m, n) in frames
    ]  # fmt: skip
    if not rows:
        return []
    header = ["Training folds", "Method", "best epoch (mean)", "epochs run",
              "fit time (s)"]  # fmt: skip
    align = [":--", ":--", "--:", "--:", "--:"]
    table = _format.training_table(results.config, header, rows, align)
    return _format.section("Training", table)


def _curve_rows(results):
    scores, rows = results.scores, []
    if scores.empty:
        return rows
    for n in results.config["train_folds"]:
        arms_labels = [(arm_name(m, n), f"{label}@{n}")
                       for m, label in METHOD_LABELS.items()]  # fmt: skip
        curves, _ = _stats.learning_curves(scores, results.histories, arms_labels)
        rows += _stats.curve_rows(curves, {lab: arm for arm, lab in arms_labels})
    return rows


@_skeleton.takes_run_options
def run_cross_corpus(
    out,
    source,
    target,
    *,
    train_folds=None,
    **options,
):
    """Run the cross-corpus transfer experiment of Gideon et al. (2017).

    An emotion model (a DNN) is trained on all of the source corpus. On the
    target corpus, a repeated k-fold cross-validation (one test fold, one
    validation fold for early stopping) trains, on ``n`` of the training
    folds for every ``n`` in ``train_folds``, a DNN on the target alone, the
    source model fine-tuned (PT/FT) and a progressive network with the
    source model as frozen column (ProgNet). Each corpus is z-normalised on
    its own training data. Every fit is saved as it finishes (a killed run
    resumes), then the report (Figure 4 analogue, and a normalised confusion
    matrix per arm) is written to ``out``.

    Parameters
    ----------
    out : str or os.PathLike
        Results folder (resumed if it holds a run with the same settings).
    source : str or Corpus
        Source corpus spec (see :func:`load_corpus`), e.g. ``'emodb'``.
    target : str or Corpus
        Target corpus spec, e.g. ``'urdu:/data/urdu'``. It must share no
        utterance with the source (the same file of the same speaker, or the
        same feature row), nor, if both have the same name, any speaker: the
        source model trains on all of the source, so whatever the two share
        would leak into the target's test folds.
    train_folds : sequence of int, default=None
        Numbers of training folds to use; None means
        :func:`default_train_folds` (8, 4, 2, 1 for 10 folds).
    emotions : sequence of str, default=PAPER_EMOTIONS
        Emotion classes; both corpora must have them all.
    {run_parameters}
    seed : int, default=0
        Seed of the folds, the source model and every fit.
    {network_parameters}

    {returns}

    See Also
    --------
    run_paralinguistic : The paralinguistic experiment (Table 2).
    render_report : Render the report of a results folder again.

    Examples
    --------
    >>> from sklearn_prognet.experiments import run_cross_corpus
    >>> result = run_cross_corpus(  # doctest: +SKIP
    ...     "results/emodb-to-urdu", "emodb", "urdu:../shared/corpora/urdu",
    ...     n_splits=5, n_repeats=2)
    """
    options = _skeleton.RunOptions(**options)
    return run_experiment(CrossCorpus(source, target, train_folds), out, options)


def _default_out(args):
    source, target = parse_spec(args.source)[1], parse_spec(args.target)[1]
    return Path("results") / f"cross-corpus-{source}-to-{target}"


_skeleton.register(
    CrossCorpus,
    _skeleton.Command(
        "cross-corpus",
        help="transfer between emotion corpora with 8, 4, 2, 1 training folds "
        "(Figure 4)",
        description="Cross-corpus transfer (the paper's Figure 4): an emotion "
        "model trained on all of the SOURCE corpus is transferred to the TARGET "
        "corpus (PT/FT, ProgNet) and compared with a DNN trained on the target "
        "alone, using 8, 4, 2 and 1 of the target's training folds. Each corpus "
        "is z-normalised on its own training data.",
        options=(
            Option(
                "source",
                None,
                flag={
                    "required": True,
                    "metavar": "CORPUS",
                    "help": "the source corpus",
                },
            ),
            Option(
                "target",
                None,
                flag={
                    "required": True,
                    "metavar": "CORPUS",
                    "help": "the target corpus",
                },
            ),
            TRAIN_FOLDS,
        ),
        function="run_cross_corpus",
        default_out=_default_out,
    ),
)
