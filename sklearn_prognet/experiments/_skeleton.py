# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""What every experiment shares, written once.

An experiment is a subclass of :class:`Experiment`, registered with
:func:`register`: it names its arms, plans its fit tasks and writes its
report section. This module does the rest, the same way for all:

- :class:`RunOptions`: the options every experiment takes (protocol,
  network, statistics, execution);
- :func:`run_experiment`: check the options, plan, open the results store,
  execute the fits, render the report, load the result;
- :func:`render_report`: the experiment's section, then the confusion
  matrices, the learning-curve table and the footer every report has;
- :func:`load_results` and :class:`ExperimentResult`: a results folder read
  back.
"""

import functools
import inspect
from dataclasses import dataclass, field, fields, make_dataclass
from pathlib import Path

import numpy as np

from sklearn_prognet.experiments._engine import check_engine, resolve_engine
from sklearn_prognet.experiments._execution import (
    check_backend,
    check_execution,
    execute,
    log,
    threads_per_fit,
)
from sklearn_prognet.experiments._feature_sets import parse_features
from sklearn_prognet.experiments._fits import (
    DEFAULT_NORMALIZATION,
    SPEAKER_NORMALIZATION,
    FitData,
    FitTask,
    check_normalization,
    make_scaler,
    n_global_fallback,
    network_params,
    per_speaker,
)
from sklearn_prognet.experiments._folds import SPEAKER_INDEPENDENT
from sklearn_prognet.experiments._format import (
    confusion_csv,
    confusion_section,
    curves_csv,
    engine_lines,
    fallback_note,
    footer,
    status_text,
)
from sklearn_prognet.experiments._inputs import ExperimentInputError
from sklearn_prognet.experiments._options import (
    BY_NAME,
    NETWORK_SECTION,
    RUN_SECTION,
    parameter_doc,
    register_flags,
    run_option_names,
)
from sklearn_prognet.experiments._plots import (
    PLOT_HINT,
    matplotlib_available,
    plot_confusion_matrices,
)
from sklearn_prognet.experiments._stats import confusion_by_arm, normalise_confusion
from sklearn_prognet.experiments._store import (
    FITS_FILE,
    ResultsStore,
    first_records,
    package_versions,
    read_config,
    read_record_lines,
    write_atomic,
)
from sklearn_prognet.utils._docstring import Substitution
from sklearn_prognet.utils._messages import Message, Param
from sklearn_prognet.utils._warnings import warn

__all__ = [
    "Experiment",
    "ExperimentResult",
    "Command",
    "RunOptions",
    "load_results",
    "register",
    "render_report",
    "run_experiment",
    "takes_run_options",
]

REPORT_FILE = "report.md"
SCORES_FILE = "scores.csv"
CURVES_FILE = "learning_curves.csv"
CONFUSION_CSV = "confusion_matrices.csv"
CONFUSION_PNG = "confusion_matrices.png"

#: Experiment name (``config.json``'s ``experiment``) -> its Experiment.
EXPERIMENTS = {}

#: The Returns section of every ``run_*`` docstring (its ``{returns}`` field).
_RUN_RETURNS = """\
    Returns
    -------
    result : ExperimentResult
        The results folder, the per-fit scores and the report's path.
"""


class _RunOptionsMethods:
    """The methods of :class:`RunOptions` (its fields are the declaration's)."""

    def corpus_options(self):
        """Keyword arguments of :func:`load_corpus`."""
        return {
            "emotions": self.emotions,
            "cache_dir": self.cache_dir,
            "resample": self.resample,
            "n_jobs": self.n_jobs,
            "verbose": int(self.progress),
            "features": self.features,
        }

    def parallel_options(self):
        """Keyword arguments of :func:`._execution.parallel_context` (and execute)."""
        return {
            "n_jobs": self.n_jobs,
            "backend": self.backend,
            "scheduler": self.scheduler,
        }

    def fold_options(self):
        """Keyword arguments of :func:`._folds.make_folds`."""
        return {
            "protocol": self.protocol,
            "n_splits": self.n_splits,
            "n_repeats": self.n_repeats,
            "seed": self.seed,
        }


#: The options every experiment takes (see the ``run_*`` functions): one
#: field per option of ``_options.OPTIONS``, with its default.
RunOptions = make_dataclass(
    "RunOptions",
    [
        (name, object, field(default=BY_NAME[name].default))
        for name in run_option_names()
    ],
    bases=(_RunOptionsMethods,),
    frozen=True,
    namespace={"__module__": __name__},
)
RunOptions.__doc__ = "The options every experiment takes (see the ``run_*`` functions)."


def takes_run_options(run=None, *, own=None):
    """Decorator: ``run``, written with ``**options``, takes every run option.

    The run options are declared once (``_options.py``), so a ``run_*``
    function writes only its own parameters and ``**options``, and reads
    them as ``RunOptions(**options)``. The signature that ``help()``, Sphinx
    and IPython's completion read (``inspect.signature``) lists its own
    parameters, then every run option with its default; a name that is
    neither is refused as Python refuses it, in the function's name. (A
    static type checker sees ``**options`` only.)

    The docstring's shared fields are filled in as well: ``{run_parameters}``
    and ``{network_parameters}`` with the declared options' entries (``own``
    maps an option's name to the entry the function words its own way, see
    :func:`._options.parameter_doc`), ``{returns}`` with the Returns section
    of every ``run_*`` function.
    """
    if run is None:  # @takes_run_options(own=...)
        return functools.partial(takes_run_options, own=own)
    written = inspect.signature(run)
    parameters = [p for p in written.parameters.values() if p.kind is not p.VAR_KEYWORD]
    parameters += [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default)
        for f in fields(RunOptions)
    ]
    signature = written.replace(parameters=parameters)

    @functools.wraps(run)
    def wrapper(*args, **kwargs):
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{run.__name__}() {exc}") from None
        return run(*args, **kwargs)

    wrapper.__signature__ = signature
    return Substitution(
        run_parameters=parameter_doc(RUN_SECTION, own=own),
        network_parameters=parameter_doc(NETWORK_SECTION, own=own),
        returns=_RUN_RETURNS,
    )(wrapper)


@dataclass(frozen=True)
class Arm:
    """One arm of an experiment: a method with one source and training size.

    ``name`` is the ``arm`` column of the scores; ``title`` names it in
    figures.
    """

    name: str
    method: str
    title: str
    source_task: str | None = None
    n_train_folds: int | None = None


@dataclass
class Plan:
    """What an experiment plans before anything is written.

    ``settings`` are the experiment's entries of ``config.json`` (they decide
    the results); ``info`` is saved beside them (corpus summaries); ``data``
    is shared by the tasks (None if the experiment builds it in
    :meth:`Experiment.fit_data`); ``state`` is kept for that method.
    """

    settings: dict
    emotions: list
    tasks: list
    info: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    data: object = None
    state: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Analysis:
    """The statistics settings of a report."""

    alpha: float
    ttest_df: int | None


@dataclass
class Results:
    """A results folder read back: its ``config.json`` and fit records."""

    saved: dict
    scores: object
    histories: dict
    confusions: dict

    @property
    def config(self):
        """The settings of the run (``config.json``'s ``config``)."""
        return self.saved["config"]


class Experiment:
    """An experiment: its arms, its fit tasks and its report section.

    Subclasses set :attr:`name` and :attr:`format_version` and implement
    the methods that raise NotImplementedError; :func:`register` makes them
    known to :func:`render_report` and the command line.
    """

    name = ""
    format_version = 1
    #: Its :class:`Command` (set by :func:`register`); None: no command.
    command = None
    #: Settings of ``config.json`` that older versions did not save, with the
    #: value that those runs had: a folder without them resumes as before.
    config_defaults = {"normalization": DEFAULT_NORMALIZATION}

    def check(self, options):
        """Refuse options that need no data to be judged (default: none)."""

    def chunk(self, task):
        """The chunk of a task: what the batched engine trains together.

        One repeat by default. The networks of a chunk are stacked (see
        :func:`~sklearn_prognet.networks._batched.stacks`), and the records of every
        group of similar networks are saved as soon as it is trained; the
        next chunk starts when the last group of this one ends. An
        experiment whose repeat holds very many networks cuts it finer.
        """
        return task.repeat

    def plan(self, options, network):
        """Load the corpora, make the folds and the tasks; return a :class:`Plan`."""
        raise NotImplementedError

    def row_speakers(self, plan):
        """The speaker of every row that the plan's tasks index (or None)."""
        return None if plan.data is None else plan.data.speaker

    def fit_data(self, store, plan, options):
        """The data of the tasks, once the results store is open."""
        return plan.data

    def read_files(self, folder, saved):
        """``config.json``'s content, with what the experiment keeps in files.

        An experiment that saves some of its data beside ``config.json`` (in
        :meth:`fit_data`) reads it back here; the default adds nothing.
        """
        return saved

    def arms(self, config):
        """The arms of a run, in the report's order (a list of :class:`Arm`)."""
        raise NotImplementedError

    def arm_name(self, record):
        """The arm of a fit record."""
        raise NotImplementedError

    def n_expected(self, config):
        """Number of fits of a complete run.

        Default: every arm on every step of the cross-validation (folds ×
        repeats × arms); fits outside the arms (a source model) not counted.
        """
        return config["n_repeats"] * config["n_splits"] * len(self.arms(config))

    def planned_keys(self, config):
        """The keys of the fits of a run (a set); None accepts every key."""
        return None

    def summary_table(self, results, analysis):
        """The main table of the report, in Markdown."""
        raise NotImplementedError

    def report(self, folder, results, analysis):
        """The experiment's report section: ``(lines, learning-curve rows)``."""
        raise NotImplementedError

    def status(self, results):
        """Whether the run is complete, in words."""
        scores = results.scores
        n_done = 0 if scores.empty else int((scores.get("method") != "source").sum())
        fit_time = float(scores["fit_time"].sum()) if len(scores) else 0.0
        return status_text(n_done, self.n_expected(results.config), fit_time)


def fit_key(repeat, fold, arm):
    """The key of an arm's fit on a step in ``fits.jsonl`` (the one home of its format).

    Examples
    --------
    >>> from sklearn_prognet.experiments._skeleton import fit_key
    >>> fit_key(0, 3, "ptft-gender")
    'r00/f03/ptft-gender'
    """
    return f"r{repeat:02d}/f{fold:02d}/{arm}"


def step_keys(config, arms):
    """The :func:`fit_key` of every arm on every step of a run (a set)."""
    return {
        fit_key(repeat, fold, arm.name)
        for repeat in range(config["n_repeats"])
        for fold in range(config["n_splits"])
        for arm in arms
    }


def fold_task(fold, key, method, n_train_folds, random_state, **fields):
    """The :class:`FitTask` of ``method`` on the step ``fold``.

    ``fold`` is a :class:`~sklearn_prognet.model_selection.Fold`: the task
    trains on its training folds (``n_train_folds`` of them), stops on its
    validation fold and is tested on its test fold; ``fields`` are the
    task's other fields.
    """
    return FitTask(
        key=key,
        method=method,
        repeat=fold.repeat,
        fold=fold.fold,
        n_train_folds=n_train_folds,
        train=fold.train,
        validation=fold.validation,
        test=fold.test,
        random_state=random_state,
        **fields,
    )


def step_task(fold, arm, options, random_state, **fields):
    """The :class:`FitTask` of an arm on a step, all training folds used.

    ``fields`` are the task's other fields (a source task and its seed).
    """
    key = fit_key(fold.repeat, fold.fold, arm.name)
    n_train_folds = options.n_splits - 2
    return fold_task(fold, key, arm.method, n_train_folds, random_state, **fields)


def corpus_plan(experiment, corpus, options, network, settings, tasks, notes, **fields):
    """The :class:`Plan` of an experiment on one corpus, whose emotions are learned.

    Its tasks share the corpus's features, emotions and speakers, with the
    run's ``network`` settings and normalisation (a :class:`FitData`);
    ``fields`` are that FitData's other fields.
    """
    return Plan(
        settings=settings,
        emotions=sorted(set(corpus.emotion)),
        tasks=tasks,
        info={"corpus_info": corpus.summary()},
        notes=notes,
        data=FitData(
            X=corpus.X,
            y=np.asarray(corpus.emotion),
            network=network,
            experiment=experiment.name,
            normalization=options.normalization,
            speaker=np.asarray(corpus.speaker),
            **fields,
        ),
    )


def corpus_id(corpus):
    """A corpus as ``config.json`` records it: its name, fingerprint and size.

    A results folder resumes only with the same corpus. An experiment that
    also depends on data beside the corpus adds its own entries to this dict
    (the multitask experiment: the digest of its ratings).
    """
    return {
        "name": corpus.name,
        "fingerprint": corpus.fingerprint(),
        "n_samples": corpus.n_samples,
    }


@dataclass(frozen=True)
class Command:
    """An experiment's command on the command line (``sklearn-prognet NAME``).

    The command line (``cli.py``) adds one command per registered experiment
    that has one: its own flags, then the shared ones of ``_options.py``.

    Parameters
    ----------
    name : str
        The command.
    help : str
        Its line in ``sklearn-prognet --help``.
    description : str
        The first paragraph of ``sklearn-prognet NAME --help``.
    options : tuple of Option
        The experiment's own options (``_options.Option``), flags first: the
        parameters of its ``run_*`` function that the command passes on by name
        (:meth:`arguments`).
    function : str
        The name of its ``run_*`` function in :mod:`sklearn_prognet.experiments`
        (the command line calls the public function).
    default_out : callable
        The parsed arguments -> the results folder when --out is not given.
    hidden : tuple of str, default=()
        Shared options that the experiment refuses (other than their
        default): left out of its --help.
    """

    name: str
    help: str
    description: str
    options: tuple
    function: str
    default_out: object
    hidden: tuple = ()

    def arguments(self, args):
        """The parsed arguments -> the ``run_*`` function's own arguments, by name.

        Those of its own options (positional ones too), the shared ones left
        out.
        """
        return {option.name: getattr(args, option.name) for option in self.options}


def register(cls, command=None):
    """Make an :class:`Experiment` known by its name, with its :class:`Command`.

    The command line lists the commands in the order they are registered
    (the order ``experiments/__init__.py`` imports their modules).
    """
    experiment = cls()
    experiment.command = command
    EXPERIMENTS[cls.name] = experiment
    if command is not None:
        register_flags(command.options)
    return cls


def get_experiment(name, folder=None):
    """The registered experiment called ``name``."""
    try:
        return EXPERIMENTS[name]
    except KeyError:
        where = "" if folder is None else f"{str(folder)!r} holds "
        raise ExperimentInputError(
            f"{where}an unknown experiment {name!r}; known: {sorted(EXPERIMENTS)}."
        ) from None


def run_experiment(experiment, out, options):
    """Run ``experiment`` into the results folder ``out``: the shared skeleton.

    Options are checked and the corpora loaded before anything is written;
    fits already saved in ``out`` are not run again.

    Returns
    -------
    result : ExperimentResult
        The results folder, the per-fit scores and the report's path.
    """
    experiment.check(options)
    check_normalization(options.normalization)
    feature_set = parse_features(options.features)
    check_execution(
        options.n_jobs, options.backend, options.scheduler, options.torch_threads
    )
    check_backend(options.backend, options.scheduler)
    check_engine(options.engine)
    torch_threads = threads_per_fit(options.torch_threads)
    network = network_params(options.network, options.device)
    engine = resolve_engine(
        options.engine, options.backend, options.n_jobs, options.torch_threads
    )
    plan = experiment.plan(options, network)
    for note in plan.notes:
        log(f"note: {note}")
    if per_speaker(options.normalization):
        warn_speaker_fallback(plan.tasks, experiment.row_speakers(plan), options)
    config = {
        "experiment": experiment.name,
        "format_version": experiment.format_version,
        "emotions": plan.emotions,
        **plan.settings,
        **options.fold_options(),
        "network": network,
        "lateral": options.lateral,
        "normalization": options.normalization,
    }
    if not feature_set.is_default:
        # Only then: the configuration, and so the hash, of an eGeMAPS run is
        # that of the runs before the option existed.
        config["features"] = feature_set.config()
    extra = {
        "analysis": {"alpha": options.alpha, "ttest_df": options.ttest_df},
        **plan.info,
        "notes": plan.notes,
        "runtime": {
            # not part of the configuration (nor its hash): both engines draw
            # results from the same distribution, and a run may switch engine
            # when it resumes; every record names its engine
            "engine": engine,
            **options.parallel_options(),
            "torch_threads": torch_threads,
        },
        "command": options.command,
        "versions": package_versions(),
    }
    with ResultsStore(out, config, extra, experiment.config_defaults) as store:
        data = experiment.fit_data(store, plan, options)
        execute(
            store,
            plan.tasks,
            data,
            engine=engine,
            **options.parallel_options(),
            progress=options.progress,
            torch_threads=torch_threads,
            desc=experiment.name,
            verbose=options.verbose,
            chunk=experiment.chunk,
        )
    report = render_report(out, alpha=options.alpha, ttest_df=options.ttest_df)
    return ExperimentResult.load(out, report)


def warn_speaker_fallback(tasks, speaker, options):
    """Warn, before training, when per-speaker normalisation falls back on test rows.

    A speaker with fewer than ``min_samples`` utterances in a test fold is
    standardised with the training folds' global statistics while every
    training row is standardised per speaker: the test rows then reach the
    network on another scale than its training rows. With speaker-stratified
    folds (a tenth of every speaker's utterances per test fold) that is
    most test rows, and per-speaker normalisation looks worse than it is.
    """
    if speaker is None or not tasks:
        return
    min_samples = make_scaler(SPEAKER_NORMALIZATION).min_samples
    speaker = np.asarray(speaker)
    n_fallback = sum(n_global_fallback(speaker[t.test], min_samples) for t in tasks)
    n_test = sum(len(t.test) for t in tasks)
    if not n_fallback:
        return
    hint = (
        (" ", Param("protocol", SPEAKER_INDEPENDENT), " tests whole speakers, "
         "with all their utterances.")
        if options.protocol != SPEAKER_INDEPENDENT
        else ()
    )  # fmt: skip
    warn(
        Message(
            Param("normalization", SPEAKER_NORMALIZATION),
            " with ",
            Param("protocol", options.protocol),
            " and ",
            Param("n_splits", options.n_splits),
            f": {n_fallback} of {n_test} test rows ({n_fallback / n_test:.0%}) "
            f"belong to speakers with fewer than {min_samples} utterances in "
            "their test fold, so they are standardised with the training folds' "
            "global statistics while the training rows are standardised per "
            "speaker; their scores understate per-speaker normalisation.",
            *hint,
        )
    )


def read_results(folder):
    """Configuration, scores, learning curves and confusion counts of a folder."""
    import pandas as pd  # a heavy import, needed only to read results

    saved = read_config(folder)
    experiment = get_experiment(saved["config"].get("experiment"), folder)
    saved["config"] = {**experiment.config_defaults, **saved["config"]}
    saved = experiment.read_files(Path(folder), saved)
    path = Path(folder) / FITS_FILE
    records, _ = read_record_lines(path)
    records = planned_records(records, experiment.planned_keys(saved["config"]), path)
    histories = {r["key"]: r.pop("history", {}) for r in records}
    confusions = {}
    for r in records:
        counts = r.pop("confusion", None)
        if counts is not None:
            confusions[r["key"]] = counts
    scores = pd.DataFrame.from_records(records)
    if len(scores):
        scores["arm"] = [experiment.arm_name(r) for r in records]
    return Results(saved, scores, histories, confusions)


def _some(keys, n=5):
    keys = list(dict.fromkeys(keys))
    more = f" and {len(keys) - n} more" if len(keys) > n else ""
    return ", ".join(keys[:n]) + more


def planned_records(records, planned, path):
    """The first record of every planned fit; warn about the others.

    A record whose key is not a fit of the run (a line merged by hand from
    another run) or repeats a key already read would count twice in the
    statistics: both are left out, with a warning that names them. The first
    record of a key is the one a resumed run took as done.
    """
    records, repeated = first_records(records)
    if repeated:
        warn(
            f"{str(path)!r} holds {len(repeated)} later record(s) of fits already "
            f"recorded ({_some(repeated)}); the first record of each is kept and "
            "the later ones are left out."
        )
    if planned is None:
        return records
    foreign = [r["key"] for r in records if r["key"] not in planned]
    if foreign:
        warn(
            f"{str(path)!r} holds {len(foreign)} record(s) that are not part of "
            f"this run's plan ({_some(foreign)}), e.g. lines merged from another "
            "run; they are left out of every statistic."
        )
    return [r for r in records if r["key"] in planned]


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
        One row per finished fit (learning curves and confusion counts left
        out).
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
    results = read_results(folder)
    return results.saved, results.scores, results.histories


def _analysis(saved, alpha, ttest_df):
    settings = saved.get("analysis", {})
    if alpha is None:
        alpha = settings.get("alpha", 0.05)
    if ttest_df == "saved":
        ttest_df = settings.get("ttest_df", 10)
    return Analysis(alpha, ttest_df)


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
    render_report : Render the report of a results folder again.

    Examples
    --------
    >>> from sklearn_prognet.experiments import ExperimentResult
    >>> result = ExperimentResult.load("results/demo")  # doctest: +SKIP
    >>> result.scores.groupby("arm")["uar"].mean()  # doctest: +SKIP
    >>> print(result.summary_table())  # doctest: +SKIP
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

    def summary_table(self, *, alpha=None, ttest_df="saved"):
        """The report's main table (mean test UAR per method), in Markdown.

        Parameters
        ----------
        alpha : float, default=None
            Significance level of the marks; None uses the run's.
        ttest_df : int, None or 'saved', default='saved'
            Degrees of freedom of the t-test; ``'saved'`` uses the run's.

        Returns
        -------
        table : str
            A Markdown table.
        """
        experiment = get_experiment(self.config["config"].get("experiment"))
        results = Results(self.config, self.scores, {}, {})
        analysis = _analysis(self.config, alpha, ttest_df)
        return experiment.summary_table(results, analysis)


def _confusion_lines(folder, results, experiment):
    """Write the normalised confusion matrices (CSV, PNG); return the section."""
    arms = experiment.arms(results.config)
    counts = confusion_by_arm(
        results.scores, results.confusions, [a.name for a in arms]
    )
    if not counts:
        return confusion_section(CONFUSION_PNG, CONFUSION_CSV, 0)
    labels = list(results.config["emotions"])
    matrices = {arm: (c, normalise_confusion(c)) for arm, c in counts.items()}
    write_atomic(Path(folder) / CONFUSION_CSV, confusion_csv(matrices, labels))
    titles = {a.name: a.title for a in arms}
    # A sweep over training sizes lists its methods once per size (and
    # target): one row of panels each, so that a column is one method.
    sweep = any(a.n_train_folds is not None for a in arms)
    n_methods = len({a.method for a in arms if a.name in matrices})
    drawn = plot_confusion_matrices(
        {titles[arm]: shares for arm, (_, shares) in matrices.items()},
        labels,
        Path(folder) / CONFUSION_PNG,
        title="Test-fold confusion matrices (rows: true emotion)",
        n_cols=n_methods if sweep else 3,
    )
    png = CONFUSION_PNG if drawn else None
    return confusion_section(png, CONFUSION_CSV, len(matrices))


def _no_plots_lines():
    """Without matplotlib the report is written without figures; say so."""
    if matplotlib_available():
        return []
    message = (
        f"The figures are left out: matplotlib is not installed ({PLOT_HINT}, "
        "then sklearn-prognet report FOLDER)."
    )
    warn(message)
    return [f"*{message}*", ""]


_FILES = [
    f"- `{FITS_FILE}`: one JSON line per fit (test UAR, fold sizes, epochs, "
    "learning curve, confusion counts); `scores.csv`: the same without curves "
    f"and counts; `{CURVES_FILE}`: mean learning curves; `{CONFUSION_CSV}`: "
    "normalised confusion matrices; `config.json`: settings, their hash and "
    "package versions.",
    "- Re-render this report with `sklearn-prognet report FOLDER`.",
]


def render_report(folder, *, alpha=None, ttest_df="saved"):
    """Write the report of a results folder: Markdown, CSV tables and PNG plots.

    Reads ``config.json`` and ``fits.jsonl`` (a partial run gives a partial
    report) and writes ``report.md``, ``scores.csv``,
    ``learning_curves.csv``, ``confusion_matrices.csv`` and the plots into
    the folder.

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
    results = read_results(folder)
    analysis = _analysis(results.saved, alpha, ttest_df)
    experiment = get_experiment(results.config.get("experiment"), folder)
    lines, curve_rows = experiment.report(folder, results, analysis)
    lines += _confusion_lines(folder, results, experiment)
    lines += _no_plots_lines()
    lines += engine_lines(_fit_engines(results.scores))
    lines += footer(results.saved, _FILES, _fallback_notes(results.scores))
    write_atomic(folder / CURVES_FILE, curves_csv(curve_rows))
    scores = results.scores
    if len(scores):
        write_atomic(folder / SCORES_FILE, scores.to_csv(index=False))
    path = folder / REPORT_FILE
    write_atomic(path, "\n".join(lines).rstrip() + "\n")
    return path


def _fallback_notes(scores):
    """The share of test rows normalised globally under per-speaker normalisation."""
    if scores.empty or "n_test_global" not in scores:
        return []
    fits = scores[(scores["method"] != "source") & scores["n_test_global"].notna()]
    if fits.empty:
        return []
    return [fallback_note(int(fits["n_test_global"].sum()), int(fits["n_test"].sum()))]


def _fit_engines(scores):
    """The ``engine`` of every fit record (source networks left out)."""
    if scores.empty:
        return []
    fits = scores[scores["method"] != "source"]
    return list(fits["engine"]) if "engine" in fits else [None] * len(fits)


def frames_by_arm(scores):
    """Arm -> its fits (a DataFrame); absent arms are missing."""
    if scores.empty:
        return {}
    return dict(list(scores.groupby("arm", sort=False)))
