# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Paralinguistic transfer: speaker and gender to emotion (Table 2, Figure 3).

Arms: a DNN, and for every source task a PT/FT network and a ProgNet whose
source network is trained on that task's labels, on the training folds of
each step only; opt-in baselines (a logistic regression) on the same folds.
"""

from pathlib import Path

import numpy as np

from sklearn_prognet.experiments import _format, _skeleton, _stats
from sklearn_prognet.experiments._errors import ExperimentInputError
from sklearn_prognet.experiments._execution import log
from sklearn_prognet.experiments._fits import (
    BASELINE_LABELS,
    METHOD_LABELS,
    derive_seed,
)
from sklearn_prognet.experiments._folds import check_source_task_labels, make_folds
from sklearn_prognet.experiments._inputs import describe_corpus, load_corpus
from sklearn_prognet.experiments._options import Option, name_list
from sklearn_prognet.experiments._plots import plot_learning_curves
from sklearn_prognet.experiments._skeleton import run_experiment
from sklearn_prognet.utils._messages import Param

__all__ = ["run_paralinguistic"]

#: Source task -> its name in reports.
SOURCE_TASKS = {"speaker": "Speaker", "gender": "Gender"}


class Paralinguistic(_skeleton.Experiment):
    """Speaker identity and gender as source tasks for emotion."""

    name = "paralinguistic"
    format_version = 1
    config_defaults = {**_skeleton.Experiment.config_defaults, "baselines": []}

    def __init__(self, corpus="emodb", source_tasks=tuple(SOURCE_TASKS), baselines=()):
        self.corpus = corpus
        self.source_tasks = source_tasks
        self.baselines = baselines

    def check(self, options):
        """Refuse unknown or no source tasks, and unknown baselines."""
        unknown = [b for b in self.baselines if b not in BASELINE_LABELS]
        if unknown:
            raise ExperimentInputError(
                Param("baselines", unknown),
                f": unknown; choose among {list(BASELINE_LABELS)}.",
            )
        if not self.source_tasks:
            raise ExperimentInputError(
                "sources is empty: pass 'speaker' and/or 'gender'."
            )
        unknown = [s for s in self.source_tasks if s not in SOURCE_TASKS]
        if unknown:
            raise ExperimentInputError(
                f"Unknown source task(s) {unknown}; choose among {list(SOURCE_TASKS)}."
            )

    def arms(self, config):
        """DNN, then PT/FT and ProgNet of every source task, then the baselines."""
        arms = [_skeleton.Arm("dnn", "dnn", "DNN")]
        for task in config["sources"]:
            for method in ("ptft", "prognet"):
                title = f"{METHOD_LABELS[method]} ({task})"
                arms.append(_skeleton.Arm(arm_name(method, task), method, title, task))
        arms += [
            _skeleton.Arm(b, b, BASELINE_LABELS[b]) for b in config.get("baselines", [])
        ]
        return arms

    def arm_name(self, record):
        """``dnn``, or ``<method>-<source task>``."""
        return arm_name(record["method"], record.get("source"))

    def planned_keys(self, config):
        """The key of every fit of the run."""
        return _skeleton.step_keys(config, self.arms(config))

    def plan(self, options, network):
        """Load the corpus, make the folds, check the source labels, plan fits."""
        # One order, so that "gender,speaker" resumes a "speaker,gender" run.
        tasks = [task for task in SOURCE_TASKS if task in self.source_tasks]
        corpus = load_corpus(self.corpus, **options.corpus_options())
        if options.verbose:
            log(describe_corpus(corpus))
        if "gender" in tasks:
            _check_genders(corpus)
        folds, notes = make_folds(corpus, **options.fold_options())
        labels = {}
        for task in tasks:
            values = corpus.speaker if task == "speaker" else corpus.gender
            check_source_task_labels(folds, values, task, corpus.name)
            labels[task] = np.asarray(values)
        baselines = [b for b in BASELINE_LABELS if b in self.baselines]
        settings = {"corpus": _skeleton.corpus_id(corpus), "sources": tasks,
                    "baselines": baselines}  # fmt: skip
        arms = self.arms(settings)
        tasks = [_task(f, arm, options) for f in folds for arm in arms]
        fields = {"lateral": options.lateral, "source_task_labels": labels}
        return _skeleton.corpus_plan(
            self, corpus, options, network, settings, tasks, notes, **fields
        )

    def _comparisons(self, results, analysis):
        config = results.config
        frames = _skeleton.frames_by_arm(results.scores)
        comparisons = {
            task: _stats.compare_methods(
                {m: frames.get(_arm_of(m, task)) for m in METHOD_LABELS},
                n_repeats=config["n_repeats"],
                alpha=analysis.alpha,
                ttest_df=analysis.ttest_df,
            )
            for task in config["sources"]
        }
        for baseline in config["baselines"]:
            summary = _stats.summarize(frames.get(baseline), config["n_repeats"])
            for comparison in comparisons.values():
                comparison.summaries[baseline] = summary
        return comparisons

    def _baseline_tests(self, results, analysis):
        """Every network against every baseline: (source, label, PairedTest)."""
        config = results.config
        frames = _skeleton.frames_by_arm(results.scores)
        tests = []
        for baseline in config["baselines"]:
            groups = [(None, "dnn")] + [(task, method) for task in config["sources"]
                                        for method in ("ptft", "prognet")]  # fmt: skip
            for task, method in groups:
                label = f"{METHOD_LABELS[method]} vs {BASELINE_LABELS[baseline]}"
                network = frames.get(_arm_of(method, task))
                result = _stats.paired_test(
                    network, frames.get(baseline), analysis.ttest_df
                )
                tests.append((SOURCE_TASKS.get(task, "N/A"), label, result))
        return tests

    def summary_table(self, results, analysis):
        """Table 2: mean test UAR of every arm, marks and the best in bold.

        The last column holds the trainable parameters of each arm; results
        folders saved without them (an older version) show no such column.
        """
        config = results.config
        info = results.saved.get("corpus_info", {"name": config["corpus"]["name"]})
        comparisons = self._comparisons(results, analysis)
        frames = _skeleton.frames_by_arm(results.scores)
        cells = {}  # (source task label, method) -> (summary, mark, parameters)
        for arm in self.arms(config):
            comparison = comparisons[arm.source_task or config["sources"][0]]
            label = SOURCE_TASKS.get(arm.source_task, "N/A")
            summary = comparison.summaries[arm.method]
            mark = comparison.marks.get(arm.method, "")
            params = _stats.median_params(frames.get(arm.name))
            cells[label, arm.method] = (summary, mark, params)
        labels = {**METHOD_LABELS, **BASELINE_LABELS}
        means = {k: s.mean for k, (s, _, _) in cells.items() if s is not None}
        best = max(means, key=means.get) if means else None
        with_params = any(p is not None for _, _, p in cells.values())
        rows = []
        for (label, method), (summary, mark, params) in cells.items():
            cell = _format.score_cell(summary)
            cell = f"**{cell}**" if (label, method) == best else cell
            extra = [_format.params_cell([params])] if with_params else []
            rows.append([label, labels[method], cell + mark, *extra])
        header = ["Source", "Method", info["name"]]
        header += [_format.PARAMS_HEADER] if with_params else []
        return _format.md_table(
            header, rows, [":--", ":--", "--:", "--:"][: len(header)]
        )

    def report(self, folder, results, analysis):
        """Table 2, the t-tests, the source networks and the learning curves."""
        comparisons = self._comparisons(results, analysis)
        tests = [
            (SOURCE_TASKS.get(task, task), label, result)
            for task, comparison in comparisons.items()
            for label, result in comparison.tests
        ] + self._baseline_tests(results, analysis)
        lines = _introduction(self.status(results), results.saved)
        lines += _format.section(
            "Table 2 analogue: test UAR",
            self.summary_table(results, analysis),
            _format.table_note(_TABLE_NOTE, analysis),
        )
        lines += _format.significance_section("Source", tests, analysis.alpha)
        lines += _source_network_lines(results)
        curve_lines, rows = _learning_curve_lines(folder, results)
        return lines + curve_lines, rows


def _check_genders(corpus):
    """The gender source task needs the gender of every utterance."""
    if corpus.gender is None:
        raise ExperimentInputError(
            f"Corpus {corpus.name!r} has no gender labels; use ",
            Param("sources", ["speaker"]),
            ".",
        )
    missing = corpus.gender == ""
    if missing.any():
        # Dropping them would change the emotion task's data for one source
        # task only, so the user decides.
        where = (
            ""
            if corpus.files is None
            else f" (e.g. {corpus.files[missing][:3].tolist()})"
        )
        raise ExperimentInputError(
            f"Corpus {corpus.name!r}: {int(missing.sum())} of {corpus.n_samples} "
            f"utterances have no gender{where}, and the gender source task needs "
            "every utterance labelled. Fill in their gender, remove them from the "
            "corpus, or use ",
            Param("sources", ["speaker"]),
            ".",
        )


def arm_name(method, source_task):
    """The arm of a method and its source task (the one home of arm names).

    Examples
    --------
    >>> from sklearn_prognet.experiments._paralinguistic import arm_name
    >>> arm_name("dnn", None), arm_name("ptft", "gender")
    ('dnn', 'ptft-gender')
    """
    return method if source_task is None else f"{method}-{source_task}"


def _arm_of(method, source_task):
    """The arm of a method in the group of a source task (the DNN is shared)."""
    return arm_name(method, None if method == "dnn" else source_task)


def _task(fold, arm, options):
    seed, repeat, index = options.seed, fold.repeat, fold.fold
    source_seed = None
    if arm.source_task is not None:
        source_seed = derive_seed(seed, repeat, index, f"source-{arm.source_task}")
    return _skeleton.step_task(
        fold,
        arm,
        options,
        derive_seed(seed, repeat, index, arm.name),
        source_task=arm.source_task,
        source_random_state=source_seed,
    )


_TABLE_NOTE = (
    "Mean test UAR over all folds and repeats ± the mean over repeats of the "
    "standard deviation of the fold UARs within a repeat (the paper's mean "
    "within-fold standard deviation). † significantly better than both other "
    "methods of the same source (DNN and the other transfer method); * "
    "significantly better than DNN. Corrected repeated cross-validation t-test "
    "(Nadeau & Bengio 2003; Bouckaert & Frank 2004), two-sided, p < {alpha}, "
    "degrees of freedom: {df}. Bold: best mean. " + _format.PARAMS_NOTE
)


def _introduction(status, saved):
    config = saved["config"]
    info = saved.get("corpus_info", {"name": config["corpus"]["name"]})
    return [
        "# Paralinguistic transfer: speaker and gender to emotion",
        "",
        "Analogue of Table 2 and Figure 3 of Gideon et al., *Progressive Neural "
        "Networks for Transfer Learning in Emotion Recognition* (Interspeech 2017): "
        "emotion is the target task; speaker identity and gender are the source tasks "
        "of pre-training / fine-tuning (PT/FT) and of progressive networks (ProgNet); "
        "the DNN uses no source.",
        "",
        f"- Status: {status}",
        f"- Corpus: {_format.corpus_text(info)}.",
        f"- Protocol: {_format.protocol_text(config)}",
        f"- Networks (the paper's Table 1 unless changed): "
        f"{_format.training_text(config)}. The source "
        "networks have the same architecture and training; in every step they are "
        "trained on the training folds only (on speaker or gender labels, "
        f"{_format.held_out_text(config, 'the training folds')}), so the test fold "
        "never reaches them.",
        f"- Seed {config['seed']}: the folds and, with (repeat, fold, method), every "
        "fit's random state derive from it.",
        *_baseline_lines(config),
        "",
    ]


def _baseline_lines(config):
    if not config["baselines"]:
        return []
    return [
        "- Baseline: LogReg, a logistic regression (scikit-learn's defaults, L2 "
        "with C = 1, lbfgs) in the same Pipeline after the same normaliser, "
        "fitted on the training folds of every step (the validation fold is not "
        "used)."
    ]


def _source_network_lines(results):
    """PT/FT and ProgNet of one step train the same source network."""
    frames = _skeleton.frames_by_arm(results.scores)
    rows = []
    for task in results.config["sources"]:
        candidates = [frames.get(arm_name(m, task)) for m in ("prognet", "ptft")]
        frame = next((f for f in candidates if f is not None and not f.empty), None)
        if frame is None:
            continue
        uar = frame.get("source_test_uar")
        uar = uar.dropna() if uar is not None else []
        rows.append(
            [
                SOURCE_TASKS.get(task, task),
                f"{uar.mean():.3f}" if len(uar) else "– (unseen labels)",
                f"{frame['source_best_epoch'].mean():.0f}",
                f"{frame['source_n_epochs'].mean():.0f}",
            ]
        )
    if not rows:
        return []
    header = ["Source task", "test UAR", "best epoch (mean)", "epochs run (mean)"]
    return [
        "## Source networks",
        "",
        _format.training_table(
            results.config, header, rows, [":--", "--:", "--:", "--:"]
        ),
        "",
        "UAR of the source network on its own task (speaker identification or "
        "gender) on the test fold of each step. PT/FT and ProgNet of one step "
        "train the same source network (same data and random state). With "
        "speaker-independent folds the test speakers are unseen, so no speaker "
        "UAR is given.",
        "",
    ]


def _learning_curve_lines(folder, results):
    """Figure 3 (one plot per source task), the training table, curve rows."""
    config, scores = results.config, results.scores
    tasks = config["sources"]
    frames = _skeleton.frames_by_arm(scores)
    chance = 1.0 / len(config["emotions"])
    name = results.saved.get("corpus_info", {"name": config["corpus"]["name"]})
    lines = ["## Learning curves (Figure 3 analogue)", ""]
    rows, epoch_rows = [], []
    for task in tasks if not scores.empty else []:
        label = SOURCE_TASKS.get(task, task)
        arms_labels = [(_arm_of(m, task), METHOD_LABELS[m]) for m in METHOD_LABELS]
        curves, best = _stats.learning_curves(scores, results.histories, arms_labels)
        best = best if _format.stops_early(results.config) else None  # no best epoch
        png = f"learning_curves_{task}.png"
        if plot_learning_curves(curves, Path(folder) / png, chance=chance,
                                title=f"{label} → emotion ({name['name']})",
                                best_epochs=best):  # fmt: skip
            lines += [f"![{label} to emotion learning curves]({png})", ""]
        first = task == tasks[0]  # the DNN is shared: listed once
        arm_of = {lab: arm for arm, lab in arms_labels}
        rows += [r for r in _stats.curve_rows(curves, arm_of) if r[0] != "dnn" or first]
        for arm, method_label in arms_labels[(0 if first else 1) :]:
            if arm in frames:
                source = label if arm != "dnn" else "N/A"
                cells = _format.epoch_cells(
                    _stats.epoch_summary(frames[arm]), with_std=True
                )
                epoch_rows.append([source, method_label, *cells])
    note = (
        _CURVES_NOTE if _format.stops_early(results.config) else _CURVES_NOTE_ALL_EPOCHS
    )
    lines += [note, ""]
    if epoch_rows:
        header = ["Source", "Method", "best epoch", "epochs run (mean)", "fit time (s)"]
        align = [":--", ":--", "--:", "--:", "--:"]
        lines += [_format.training_table(results.config, header, epoch_rows, align), ""]
    return lines, rows


_CURVES_NOTE = (
    "Validation-fold UAR after every epoch: mean (line) ± standard deviation "
    "(band) across all fits (folds × repeats) of each method. Fits stop early "
    "at different epochs; each curve averages the fits still training and ends "
    "when fewer than half of them are. Dotted: chance."
)
_CURVES_NOTE_ALL_EPOCHS = (
    "Validation-fold UAR after every epoch: mean (line) ± standard deviation "
    "(band) across all fits (folds × repeats) of each method. Without early "
    "stopping every fit trains for all its epochs. Dotted: chance."
)


@_skeleton.takes_run_options
def run_paralinguistic(
    out,
    corpus="emodb",
    *,
    sources=tuple(SOURCE_TASKS),
    baselines=(),
    **options,
):
    """Run the paralinguistic transfer experiment of Gideon et al. (2017).

    Emotion is the target task. For every step of a repeated k-fold
    cross-validation (one test fold, one validation fold for early stopping,
    the other folds for training) it fits a DNN, and for every source task
    (speaker identity, gender) a pre-trained / fine-tuned network (PT/FT) and
    a progressive network (ProgNet) whose source network is trained on the
    training folds only. Features are z-normalised on the training folds
    (a :class:`~sklearn.preprocessing.StandardScaler` in a
    :class:`~sklearn.pipeline.Pipeline`), or per speaker
    (``normalization='speaker'``). Every fit is saved as it finishes,
    so a killed run resumes where it stopped; then the report (Table 2 and
    Figure 3 analogues, and a normalised confusion matrix per arm) is
    written to ``out``.

    Parameters
    ----------
    out : str or os.PathLike
        Results folder. An existing folder is resumed if it holds a run with
        the same settings and refused otherwise.
    corpus : str or Corpus, default='emodb'
        Corpus spec (see :func:`load_corpus`): the embedded EmoDB features
        by default.
    sources : sequence of {'speaker', 'gender'}, default=('speaker', 'gender')
        Source tasks.
    baselines : sequence of {'logreg'}, default=()
        Linear baselines fitted on the same training folds, with the same
        normalisation, and compared with every network: ``'logreg'`` is a
        :class:`~sklearn.linear_model.LogisticRegression` (default
        regularisation; the validation fold is not used).

        .. versionadded:: 0.1
    emotions : sequence of str, default=PAPER_EMOTIONS
        Emotion classes (the paper's four: angry, happy, sad, neutral).
    {run_parameters}
    seed : int, default=0
        Seed of the folds and, with (repeat, fold, method), of every fit.
    {network_parameters}

    {returns}

    See Also
    --------
    run_cross_corpus : The cross-corpus experiment (Figure 4).
    render_report : Render the report of a results folder again.

    Examples
    --------
    A tiny run (the paper's protocol takes hours on a CPU):

    >>> from sklearn_prognet.experiments import run_paralinguistic
    >>> result = run_paralinguistic(  # doctest: +SKIP
    ...     "results/tiny", n_splits=3, n_repeats=1, sources=["gender"],
    ...     network={"hidden_layer_sizes": (16,), "max_epochs": 5})
    >>> result.scores.groupby("arm")["uar"].size()  # doctest: +SKIP
    arm
    dnn               3
    prognet-gender    3
    ptft-gender       3
    Name: uar, dtype: int64
    """
    options = _skeleton.RunOptions(**options)
    return run_experiment(Paralinguistic(corpus, sources, baselines), out, options)


_skeleton.register(
    Paralinguistic,
    _skeleton.Command(
        "paralinguistic",
        help="speaker and gender as source tasks for emotion (Table 2, Figure 3)",
        description="Paralinguistic transfer (the paper's Table 2 and Figure 3): "
        "emotion is the target task; DNN, PT/FT and ProgNet, with speaker "
        "identity and gender as source tasks whose networks are trained on the "
        "training folds of each step only. Reports mean UAR, mean within-repeat "
        "standard deviation, corrected repeated-CV t-tests against DNN and PT/FT, "
        "and learning curves.",
        options=(
            Option(
                "corpus",
                "emodb",
                flag={
                    "metavar": "CORPUS",
                    "help": "the corpus (default: %(default)s, the embedded "
                    "EmoDB features)",
                },
            ),
            Option(
                "sources",
                tuple(SOURCE_TASKS),
                flag={
                    "type": name_list,
                    "default": list(SOURCE_TASKS),
                    "metavar": "LIST",
                    "help": "source tasks, comma-separated: speaker, gender "
                    "(default: speaker,gender)",
                },
            ),
            Option(
                "baselines",
                (),
                flag={
                    "type": name_list,
                    "default": [],
                    "metavar": "LIST",
                    "help": "linear baselines to fit on the same folds, with the "
                    "same normalisation, and compare with every network: "
                    f"{', '.join(BASELINE_LABELS)} (a logistic regression) "
                    "(default: none)",
                },
            ),
        ),
        function="run_paralinguistic",
        default_out=lambda args: Path("results") / "paralinguistic",
    ),
)
