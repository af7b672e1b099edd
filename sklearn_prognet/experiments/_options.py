# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The options every experiment takes, declared once.

:data:`OPTIONS` declares each shared option of the ``run_*`` functions
once: its name, its default, its numpydoc text and, for those the command
line gives, its flag (group, ``add_argument`` arguments, the spelling of its
values). The places that used to list them by hand read them from here:

- ``RunOptions`` of ``_skeleton.py``: one field per option with its default;
- the ``{run_parameters}`` and ``{network_parameters}`` of the ``run_*``
  docstrings (:func:`parameter_doc`);
- the command line's protocol, network, statistics and execution flags
  (:func:`add_flags`, read by ``cli.py``) and the keyword arguments it
  passes to a ``run_*`` function (:func:`run_settings`);
- the flag that the command line names for a parameter of a message
  (:func:`in_flags`; see ``utils/_messages.py``);
- the signatures of the ``run_*`` functions, which write only their own
  parameters and ``**options`` (``_skeleton.takes_run_options``).

This module never imports torch.
"""

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from sklearn_prognet.experiments._engine import ENGINES
from sklearn_prognet.experiments._errors import ExperimentInputError
from sklearn_prognet.experiments._feature_sets import DEFAULT_FEATURES, parse_features
from sklearn_prognet.experiments._fits import DEFAULT_NORMALIZATION, NORMALIZATIONS
from sklearn_prognet.experiments._folds import PROTOCOLS, SPEAKER_STRATIFIED
from sklearn_prognet.experiments._inputs import PAPER_EMOTIONS
from sklearn_prognet.utils._messages import spelled

__all__ = [
    "OPTIONS",
    "QUICK",
    "Option",
    "add_flags",
    "in_flags",
    "parameter_doc",
    "run_option_names",
    "run_settings",
]

# The command line's groups of flags (in --help's order), and the sections
# of the run_* docstrings.
PROTOCOL = "protocol (defaults: the paper's 10 folds x 10 repeats)"
NETWORK = "networks (defaults: the paper's Table 1)"
STATISTICS = "statistics"
EXECUTION = "execution"
RUN_SECTION = "run_parameters"
NETWORK_SECTION = "network_parameters"

#: What ``--quick`` changes (the network keeps the paper's architecture).
QUICK = {"n_splits": 5, "n_repeats": 2, "n_jobs": -1, "max_epochs": 150,
         "patience": 30}  # fmt: skip


# -- argparse types: the values a flag accepts, said in words --------------------


def positive_int(text):
    """An argparse type: an integer, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def positive_integers(text, read, *, unreadable, not_positive):
    """The integers that ``read(text)`` gives, if there are some and all are positive.

    Else an argparse error: ``text`` followed by ``unreadable`` when ``read``
    raises ValueError, by ``not_positive`` otherwise.
    """
    try:
        values = read(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}{unreadable}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}{not_positive}")
    return values


def int_list(text):
    """An argparse type: comma-separated positive integers."""
    return positive_integers(
        text,
        lambda t: [int(v) for v in t.replace(" ", "").split(",") if v],
        unreadable=" is not a comma-separated list of integers",
        not_positive=": give positive integers",
    )


def float_list(text):
    """An argparse type: comma-separated numbers."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of numbers, e.g. 0.3,1"
        )
    return values


def name_list(text):
    """An argparse type: comma-separated names, lower-cased."""
    values = [v.strip().lower() for v in text.split(",") if v.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"{text!r} is an empty list")
    return values


def float_in(low, high=None, *, low_closed=False, message):
    """An argparse type: a float in an interval, else ``message``."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        above = value >= low if low_closed else value > low
        if not above or (high is not None and not value < high):
            raise argparse.ArgumentTypeError(f"{text!r} {message}")
        return value

    return parse


fraction = float_in(0, 1, message="must be between 0 and 1")


def ttest_df(text):
    """An argparse type: the t-test's degrees of freedom, or 'n-1'."""
    if text.lower() in ("n-1", "auto", "none"):
        return None
    if text == "saved":  # the report command's default: the run's setting
        return text
    return positive_int(text)


def n_jobs(text):
    """An argparse type: 1, N or -1, not 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not valid: use 1, N, or -1 (all cores)")
    return value


def features(text):
    """An argparse type: a ``--features`` value, checked and kept as given."""
    try:
        parse_features(text)
    except ExperimentInputError as exc:
        raise argparse.ArgumentTypeError(in_flags(exc)) from None
    return text


# -- the declaration ---------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One option: its Python parameter and, if the command line has it, its flag.

    Parameters
    ----------
    name : str
        The parameter's name in the ``run_*`` functions (and the flag's
        ``dest``).
    default : object
        The default of every ``run_*`` function.
    type_doc : str
        The numpydoc type of the parameter (before ``, default=``).
    doc : str
        Its numpydoc description, indented by four spaces; empty where every
        ``run_*`` function writes its own (``section`` None).
    section : str or None, default=None
        The docstring field that holds it (:data:`RUN_SECTION`,
        :data:`NETWORK_SECTION`), or None.
    group : str or None, default=None
        The command line's group of its flag; None: no flag.
    flag : dict, default={}
        ``add_argument``'s keyword arguments (help, type, choices, metavar;
        a ``default`` where the command line's differs from ``default``).
    values : dict, default={}
        Python value -> its spelling on the command line, where they differ.
    run_option : bool, default=True
        False for a flag that is no field of ``RunOptions`` (``--out``,
        ``--quick``, ``--preset``).
    """

    name: str
    default: object
    type_doc: str = ""
    doc: str = ""
    section: str | None = None
    group: str | None = None
    flag: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    run_option: bool = True

    @property
    def flag_name(self):
        """The flag, e.g. ``--n-splits`` (``--no-progress`` for ``progress``)."""
        if self.flag.get("action") == "store_false":
            return "--no-" + self.name.replace("_", "-")
        return "--" + self.name.replace("_", "-")

    def documentation(self):
        """The numpydoc entry of the parameter."""
        return (
            f"    {self.name} : {self.type_doc}, default={self.default!r}\n{self.doc}"
        )

    def from_flag(self, value):
        """A value as the command line spells it -> the Python value."""
        python = {flag: value for value, flag in self.values.items()}
        return python.get(value, value) if isinstance(value, str) else value

    def to_flag(self, value):
        """A Python value -> the command line's spelling."""
        return self.values.get(value, value) if isinstance(value, str) else value


_PROTOCOL_VALUES = {name: name.replace("_", "-") for name in PROTOCOLS}

#: The options every experiment takes, in the order of the command line's
#: --help (the flag-less ones where they belong).
OPTIONS = (
    Option(
        "emotions",
        PAPER_EMOTIONS,
        "sequence of str",
        group=PROTOCOL,
        flag={
            "type": name_list,
            "default": list(PAPER_EMOTIONS),
            "metavar": "LIST",
            "help": "comma-separated emotion classes; the corpus must have each "
            f"one (default: {','.join(PAPER_EMOTIONS)}, the paper's four)",
        },
    ),
    Option(
        "protocol",
        SPEAKER_STRATIFIED,
        "{'speaker_stratified', 'speaker_independent'}",
        """\
        Folds stratified on speaker (the paper; every speaker is in every
        fold) or made of whole speakers.
""",
        RUN_SECTION,
        PROTOCOL,
        {
            "choices": tuple(_PROTOCOL_VALUES.values()),
            "help": "speaker-stratified: every speaker's utterances are spread "
            "over all folds, as in the paper ('folds stratified based on speaker "
            "ID'; needed to evaluate a speaker-ID model; optimistic for emotion). "
            "speaker-independent: whole speakers per fold, so test speakers are "
            "unseen (a speaker source is then still trained on the training "
            "speakers, as a representation). (default: %(default)s)",
        },
        values=_PROTOCOL_VALUES,
    ),
    Option(
        "normalization",
        DEFAULT_NORMALIZATION,
        "{'global', 'speaker'}",
        """\
        The z-normalisation of every fit's pipeline: one
        :class:`~sklearn.preprocessing.StandardScaler` fitted on the training
        folds (the paper's global normalisation), or a
        :class:`~sklearn_prognet.preprocessing.SpeakerStandardScaler`, which
        standardises every speaker with the statistics of their own rows,
        test speakers with their test utterances (transductive: see
        :ref:`preprocessing`).

        .. versionadded:: 0.1
""",
        RUN_SECTION,
        PROTOCOL,
        {
            "choices": tuple(NORMALIZATIONS),
            "help": "global: one StandardScaler fitted on the training folds (the "
            "paper's z-normalisation). speaker: every speaker standardised with "
            "their own utterances, test speakers with their test utterances "
            "(transductive: it assumes unlabelled speech of each test speaker is "
            "available; use --protocol speaker-independent) (default: "
            "%(default)s)",
        },
    ),
    Option(
        "n_splits",
        10,
        "int",
        "        Folds per repeat.\n",
        RUN_SECTION,
        PROTOCOL,
        {
            "type": positive_int,
            "default": None,
            "metavar": "K",
            "help": "folds per repeat; each step uses 1 test fold, 1 validation "
            "fold for early stopping and K-2 training folds (default: 10; "
            f"--quick: {QUICK['n_splits']})",
        },
    ),
    Option(
        "n_repeats",
        10,
        "int",
        "        Repeats of the cross-validation.\n",
        RUN_SECTION,
        PROTOCOL,
        {
            "type": positive_int,
            "default": None,
            "metavar": "R",
            "help": "repeats of the K-fold cross-validation (default: 10; --quick: "
            f"{QUICK['n_repeats']})",
        },
    ),
    Option(
        "seed",
        0,
        "int",
        group=PROTOCOL,
        flag={
            "type": int,
            "help": "seed of the folds; each fit's random state derives from "
            "(seed, repeat, fold, method) (default: %(default)s)",
        },
    ),
    Option(
        "network",
        None,
        "dict",
        """\
        Changes to the paper's network settings (``hidden_layer_sizes``,
        ``activation``, ``dropout``, ``lr``, ``batch_size``, ``max_epochs``,
        ``patience``), whose defaults are those of
        :class:`~sklearn_prognet.DNNClassifier`.
""",
        NETWORK_SECTION,
    ),  # on the command line: the network flags of networks/_knobs.py and --preset
    Option(
        "preset",
        "paper",
        group=NETWORK,
        flag={
            "choices": ("paper", "small-corpus"),
            "help": "network settings to start from: the paper's Table 1, or "
            "sklearn_prognet.presets.SMALL_CORPUS, tuned on small corpora; the "
            "network options given explicitly win (default: %(default)s)",
        },
        run_option=False,
    ),
    Option(
        "lateral",
        "linear",
        "{'linear', 'adapter'}",
        "        Lateral connections of the progressive networks.\n",
        NETWORK_SECTION,
        NETWORK,
        {
            "choices": ("linear", "adapter"),
            "help": "ProgNet lateral connections: linear as in the paper, or the "
            "non-linear adapters of Rusu et al. (default: %(default)s)",
        },
    ),
    Option(
        "device",
        "cpu",
        "str",
        "        The torch device of the networks.\n",
        NETWORK_SECTION,
        NETWORK,
        {"help": "torch device (default: %(default)s)"},
    ),
    Option(
        "alpha",
        0.05,
        "float",
        "        Significance level of the marks in the report.\n",
        NETWORK_SECTION,
        STATISTICS,
        {
            "type": fraction,
            "help": "significance level of the marks (default: %(default)s)",
        },
    ),
    Option(
        "ttest_df",
        10,
        "int or None",
        """\
        Degrees of freedom of the corrected t-test (the paper's 10; None
        means the number of paired scores minus one).
""",
        NETWORK_SECTION,
        STATISTICS,
        {
            "type": ttest_df,
            "metavar": "DF",
            "help": "degrees of freedom of the corrected repeated cross-validation "
            "t-test: the paper's 10, or 'n-1' for the number of paired scores "
            "minus one (Bouckaert & Frank) (default: %(default)s)",
        },
    ),
    Option(
        "out",
        None,
        group=EXECUTION,
        flag={
            "type": Path,
            "metavar": "DIR",
            "help": "results folder; rerun with the same arguments to resume an "
            "interrupted run (default: results/<experiment>)",
        },
        run_option=False,
    ),
    Option(
        "quick",
        False,
        group=EXECUTION,
        flag={
            "action": "store_true",
            "help": "a quick demonstration instead of the paper's protocol: "
            f"{QUICK['n_splits']} folds x {QUICK['n_repeats']} repeats, at most "
            f"{QUICK['max_epochs']} epochs, patience {QUICK['patience']}, all "
            "cores (options given explicitly win)",
        },
        run_option=False,
    ),
    Option(
        "n_jobs",
        1,
        "int",
        """\
        Worker processes (-1 means all cores or all dask workers): with
        ``engine='batched'`` every stack of networks is cut into ``n_jobs``
        parts trained side by side, each with its share of the cores as
        torch threads; with ``engine='per-fit'``, fits run in parallel
        (joblib).
""",
        NETWORK_SECTION,
        EXECUTION,
        {
            "type": n_jobs,
            "default": None,
            "metavar": "N",
            "help": "worker processes: with --engine batched, every stack of "
            "networks is cut into N parts trained side by side; with per-fit, N "
            "fits run at a time through joblib; -1: all cores (or all dask "
            f"workers) (default: 1; --quick: {QUICK['n_jobs']})",
        },
    ),
    Option(
        "backend",
        "loky",
        "{'loky', 'dask'}",
        """\
        joblib backend. ``'dask'`` uses the scheduler at ``scheduler`` or a
        local cluster of ``n_jobs`` worker processes: with
        ``engine='batched'`` every stack of networks is cut into one part
        per worker of the cluster (whatever ``n_jobs`` is), trained by that
        worker with its share of its machine's cores as torch threads.
""",
        NETWORK_SECTION,
        EXECUTION,
        {
            "choices": ("loky", "dask"),
            "help": "joblib backend: loky processes on this machine, or a dask "
            "cluster (--scheduler ADDRESS, or a local cluster of --n-jobs "
            "workers), whose workers then train one part of every stack of "
            "networks each (--engine batched) or single fits (per-fit) "
            "(default: %(default)s)",
        },
    ),
    Option(
        "scheduler",
        None,
        "str",
        "        Address of a dask scheduler (with ``backend='dask'``).\n",
        NETWORK_SECTION,
        EXECUTION,
        {
            "metavar": "ADDRESS",
            "help": "address of a running dask scheduler, e.g. tcp://10.0.0.1:8786 "
            "(with --backend dask)",
        },
    ),
    Option(
        "engine",
        ENGINES[0],
        "{'batched', 'per-fit'}",
        """\
        How the fits are grouped for the one training loop: the networks of
        one repeat of the cross-validation together, stacked along a model
        axis (:func:`~sklearn_prognet.model_selection.fit_batched`), or every
        fit on its own (a stack of one). Both give the same results, to float
        tolerance; ``'batched'`` is faster. The linear baseline, not a
        network, is fitted on its own; each record says which engine trained
        it. Both engines train on the dask cluster with ``backend='dask'``.
        See :ref:`training_engine`.

        .. versionadded:: 0.1
""",
        NETWORK_SECTION,
        EXECUTION,
        {
            "choices": ENGINES,
            "help": "batched: train the networks of one repeat together, stacked "
            "along a model axis (--n-jobs worker processes share every stack), "
            "saving each group of fits when it is trained; the linear baseline "
            "of --baselines is fitted on its own. per-fit: every fit on its own "
            "(a stack of one), --n-jobs at a time. Both train on the cluster "
            "with --backend dask, and give the same results to float tolerance "
            "(default: %(default)s)",
        },
    ),
    Option(
        "torch_threads",
        None,
        "int or None",
        """\
        The torch threads of each fit, or of the batched engine when it
        trains in the main process (``n_jobs=1``). None means one, whatever
        ``n_jobs`` is: then the same seed gives the same results with any
        number of workers (on a CPU), and a busy machine does not slow the
        run down as much (see :ref:`training_engine`). With N threads,
        results match only those of runs with the same N, as the thread
        count changes the order of float summations.
""",
        NETWORK_SECTION,
        EXECUTION,
        {
            "type": positive_int,
            "metavar": "N",
            "help": "torch threads per fit, or of the batched engine when it "
            "trains in this process (--n-jobs 1; its workers share the cores) "
            "(default: 1, whatever --n-jobs is, so that the same seed gives the "
            "same results with any number of workers; with N threads, results "
            "match only runs with the same N)",
        },
    ),
    Option(
        "cache_dir",
        None,
        "str or None",
        "        Feature cache of audio corpora (see :func:`load_corpus`).\n",
        NETWORK_SECTION,
        EXECUTION,
        {
            "metavar": "DIR",
            "help": "cache of features extracted from audio ('none' to disable) "
            "(default: $SKLEARN_PROGNET_CACHE or ~/.cache/sklearn_prognet)",
        },
    ),
    Option(
        "resample",
        None,
        "int or None",
        """\
        Sampling rate to convert audio corpora to before extraction (see
        :func:`load_corpus`); corpora recorded at different rates should be
        compared at a common one.
""",
        NETWORK_SECTION,
        EXECUTION,
        {
            "type": positive_int,
            "metavar": "HZ",
            "help": "convert audio corpora to this sampling rate before "
            "extraction; features depend on the rate, so compare corpora "
            "recorded at different rates at a common one (default: each file's "
            "own rate)",
        },
    ),
    Option(
        "features",
        DEFAULT_FEATURES,
        "str",
        """\
        The features of audio corpora: ``'egemaps'`` (the paper's),
        ``'ssl:MODEL[:LAYER]'`` for the embeddings of a self-supervised speech
        encoder, or several joined by ``'+'`` side by side
        (``'egemaps+ssl:MODEL'``; see :func:`load_corpus`). ``config.json``
        records them when they are not the default.

        .. versionadded:: 0.1
""",
        NETWORK_SECTION,
        EXECUTION,
        {
            "type": features,
            "metavar": "FEATURES",
            "help": "features of audio corpora: egemaps (openSMILE eGeMAPS v02, "
            "the paper's), or ssl:MODEL[:LAYER], the time-averaged hidden states "
            "of a self-supervised speech encoder (needs the embeddings extra): "
            "MODEL a Hugging Face Hub name or a folder, LAYER an index or 'all' "
            "(default: the last), read after the last ':' only if it is one; "
            "text:MODEL[:LAYER], the same of a text encoder over a 'transcript' "
            "column; dvector, the 256 speaker embeddings of a pretrained speaker "
            "encoder (needs the speaker extra); or several joined by '+' "
            "(egemaps+dvector, egemaps+ssl:MODEL:6), side by side, their columns "
            "named PART__FEATURE (egemaps__..., ssl__...) and each part cached "
            "on its own. The embedded 'emodb' has eGeMAPS only: give its audio "
            "(emodb:PATH) (default: %(default)s)",
        },
    ),
    Option(
        "progress",
        False,
        "bool",
        "        Show a progress bar with an ETA on stderr.\n",
        NETWORK_SECTION,
        EXECUTION,
        # shown unless --no-progress: a person at the command line sees it
        {"action": "store_false", "help": "do not show the progress bar"},
    ),
    Option(
        "verbose",
        True,
        "bool",
        "        Print what is done on stderr.\n",
        NETWORK_SECTION,
    ),
    Option(
        "command",
        None,
        "list of str",
        "        Command line saved in ``config.json``.\n",
        NETWORK_SECTION,
    ),
)

#: Option name -> its :class:`Option`.
BY_NAME = {option.name: option for option in OPTIONS}
#: The audio options, which the extract and train commands take too.
AUDIO = ("cache_dir", "resample", "features")


def run_option_names():
    """The names of the fields of ``RunOptions``, in the declaration's order."""
    return [option.name for option in OPTIONS if option.run_option]


def parameter_doc(section, *, own=None):
    """The numpydoc text of a docstring section's options (for Substitution).

    ``own`` maps an option's name to the entry that a ``run_*`` function
    writes instead of the shared one (the same parameter, said for it).
    """
    own = own or {}
    return "\n" + "".join(
        own[option.name] if option.name in own else option.documentation()
        for option in OPTIONS
        if option.section == section
    )


def add_flag(group, option, *, hidden=False):
    """Add ``option``'s flag to an argparse group (``hidden``: help suppressed)."""
    kwargs = {"default": option.to_flag(option.default), **option.flag}
    if option.flag.get("action") in ("store_true", "store_false"):
        kwargs.pop("default")
        kwargs["dest"] = option.name
    if hidden:
        # A silently ignored option misleads: an experiment that refuses it
        # (a value other than its default) hides it from its --help.
        kwargs["help"] = argparse.SUPPRESS
    group.add_argument(option.flag_name, **kwargs)


def add_flags(parser, group, *, hidden=(), network_flags=None):
    """Add the flags of the options of ``group``; return the argparse group.

    ``network_flags(group)``, if given, adds the flags that come first (the
    knobs', before --preset).
    """
    title = group
    group = parser.add_argument_group(title)
    if network_flags is not None:
        network_flags(group)
    for option in OPTIONS:
        if option.group == title:
            add_flag(group, option, hidden=option.name in hidden)
    return group


def add_audio_flags(group):
    """Add the flags of the audio options (the extract and train commands)."""
    for name in AUDIO:
        add_flag(group, BY_NAME[name])


def pick(args, name, paper):
    """An option's value: as given, else --quick's (if any), else the paper's."""
    value = getattr(args, name)
    if value is not None:
        return value
    return QUICK.get(name, paper) if getattr(args, "quick", False) else paper


def run_settings(args, network):
    """The keyword arguments of a ``run_*`` function from its flags.

    ``network`` is the ``network`` argument, built by the caller from the
    network flags and the preset. --quick applies where an option was not
    given; ``command`` is the command line.
    """
    settings = {}
    for option in OPTIONS:
        if not option.run_option or option.group is None:
            continue
        settings[option.name] = option.from_flag(
            pick(args, option.name, option.default)
        )
    return {**settings, "network": network}


def _spell(param):
    """A parameter of a message as the command line gives it."""
    option = FLAGS.get(param.name)
    if option is None:
        return param.python()
    if not param.has_value:
        return option.flag_name
    return f"{option.flag_name} {option.to_flag(param.value)!r}"


#: Parameter name -> the Option whose flag names it in messages: the shared
#: options, and those the command line adds (each experiment's, the other
#: commands'), see :func:`register_flags`.
FLAGS = {option.name: option for option in OPTIONS if option.group is not None}


def register_flags(options):
    """Name these options' flags in messages too (an experiment's own options)."""
    for option in options:
        FLAGS.setdefault(option.name, option)


def in_flags(message):
    """A message (an error, a warning) with its parameters named as flags.

    ``Param('scheduler', 'x')`` becomes ``--scheduler 'x'``, a bare
    ``Param('sources')`` ``--sources``; a value is spelled as the flag takes
    it (``'speaker-independent'``). A message without parameters is left as
    it is.
    """
    return spelled(message, _spell)
