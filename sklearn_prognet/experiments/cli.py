# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The ``sklearn-prognet`` command: experiments, feature extraction, reports.

Run ``sklearn-prognet --help``, or ``sklearn-prognet COMMAND --help``.
"""

import argparse
import os
import re
import sys
import tempfile
import warnings
from pathlib import Path

from sklearn_prognet import presets
from sklearn_prognet._knobs import FLAG, KNOBS, names
from sklearn_prognet.experiments._deploy import FINAL_METHODS
from sklearn_prognet.experiments._engine import ENGINES
from sklearn_prognet.experiments._feature_sets import DEFAULT_FEATURES, parse_features
from sklearn_prognet.experiments._fits import (
    BASELINE_LABELS,
    NORMALIZATIONS,
)
from sklearn_prognet.experiments._folds import PROTOCOLS
from sklearn_prognet.experiments._inputs import (
    PAPER_EMOTIONS,
    ExperimentInputError,
    corpus_to_frame,
    load_corpus,
    parse_spec,
)
from sklearn_prognet.experiments._multi_corpus import JOINT_VALIDATIONS
from sklearn_prognet.experiments._skeleton import EXPERIMENTS
from sklearn_prognet.experiments._store import write_atomic

__all__ = ["main"]

# The command line spells the protocols with hyphens (its convention); the
# library with underscores. They are converted here and nowhere else.
_PROTOCOL_FLAGS = {name.replace("_", "-"): name for name in PROTOCOLS}

#: What ``--quick`` changes (the network keeps the paper's architecture).
QUICK = {"n_splits": 5, "n_repeats": 2, "max_epochs": 150, "patience": 30}

#: ``--preset`` value -> the dict of :mod:`sklearn_prognet.presets` it names.
PRESET_NAMES = {"paper": "PAPER", "small-corpus": "SMALL_CORPUS"}
#: The network options a user may give explicitly, over a preset: the knobs
#: with the flag role (sklearn_prognet/_knobs.py), one flag each.
NETWORK_FLAGS = names(FLAG)

# Python parameters that the library's messages name -> the flags they are
# given with here (``device`` is left alone: its message is the estimators').
_TRANSLATED = ("sources", "corpora", "emotions", "protocol", "n_splits", "n_repeats",
               "backend", "scheduler", "out", "n_jobs", "torch_threads",
               "train_folds", "on_error", "baselines", "features",
               "resample", "engine", "dimensions", "dimensional_weights",
               "dimensional_loss", "normalization")  # fmt: skip

_PAPER = (
    "Gideon et al., 'Progressive Neural Networks for Transfer Learning in "
    "Emotion Recognition', Interspeech 2017"
)

_CORPUS_HELP = (
    "A corpus is 'emodb' (the EmoDB eGeMAPS features shipped with the package), "
    "NAME:PATH for an audio corpus read by sklearn_prognet.datasets (NAME one of "
    "emodb, urdu, ravdess, iemocap, msp-improv, nemo; the features of --features, "
    "openSMILE eGeMAPS v02 by default, are extracted and cached, see --cache-dir), "
    "or the path of a feature "
    "table (.csv: numeric feature columns plus emotion, speaker and gender "
    "columns, as written by 'sklearn-prognet extract'), or the path of an audio "
    "manifest (.csv with file and emotion columns, optionally speaker, gender, "
    "corpus, session, transcript and ratings, and no feature columns; relative "
    "paths are read from the manifest's folder)."
)

_EPILOG_RUN = (
    "Every finished fit is saved at once to OUT/fits.jsonl (with the batched "
    "engine, when its group of networks is trained): a run that is "
    "interrupted (Ctrl-C, kill -9, a crash) resumes when started again with the "
    "same arguments, without recomputing any saved fit. Another run with "
    "different settings in the same OUT folder is refused. When the run "
    "finishes, OUT/report.md holds the tables and OUT/*.png the plots. " + _CORPUS_HELP
)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _int_list(text):
    try:
        values = [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of integers"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give positive integers")
    return values


def _hidden_sizes(text):
    """'256,256,256,256' or '256x4'."""
    text = text.replace(" ", "").lower()
    try:
        if "x" in text:
            width, depth = text.split("x")
            sizes = [int(width)] * int(depth)
        else:
            sizes = [int(v) for v in text.split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: use widths separated by commas (256,256) or WIDTHxDEPTH (256x4)"
        ) from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give at least one positive width")
    return tuple(sizes)


def _name_list(text):
    values = [v.strip().lower() for v in text.split(",") if v.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"{text!r} is an empty list")
    return values


def _float_in(low, high=None, *, low_closed=False, message):
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


_fraction = _float_in(0, 1, message="must be between 0 and 1")


def _ttest_df(text):
    if text.lower() in ("n-1", "auto", "none"):
        return None
    if text == "saved":  # the report command's default: the run's setting
        return text
    return _positive_int(text)


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not valid: use 1, N, or -1 (all cores)")
    return value


def _features(text):
    """An argparse type: a ``--features`` value, checked and kept as given."""
    try:
        parse_features(text)
    except ExperimentInputError as exc:
        raise argparse.ArgumentTypeError(_in_flags(str(exc))) from None
    return text


def _knob_value(knob):
    """An argparse type: a value of ``knob``, checked against its constraints.

    The flags accept what the estimators accept; the message says it in words.
    """
    (interval,) = knob.constraints  # a number's one constraint: its Interval
    kind = "an integer" if knob.type is int else "a number"
    if interval.right is not None:
        low = "[" if interval.closed in ("left", "both") else "("
        high = "]" if interval.closed in ("right", "both") else ")"
        words = f"must be in {low}{interval.left}, {interval.right}{high}"
    elif interval.closed in ("left", "both"):
        words = f"must be at least {interval.left}"
    else:
        words = (
            "must be positive" if interval.left == 0 else f"must exceed {interval.left}"
        )

    def parse(text):
        try:
            value = knob.type(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if not interval.is_satisfied_by(value):
            raise argparse.ArgumentTypeError(f"{text!r} {words}")
        return value

    return parse


def _shown(value):
    """A knob's default as the flag is written: 256x4 for four layers of 256."""
    if isinstance(value, tuple):
        if len(set(value)) == 1:
            return f"{value[0]}x{len(value)}"
        return ",".join(str(v) for v in value)
    return str(value)


def _flag(knob):
    """The keyword arguments of ``add_argument`` for a knob's network flag.

    The flag's default is None, so that a flag given explicitly wins over a
    preset (:func:`_network_settings`); its help shows the knob's default.
    """
    default = f"default: {_shown(knob.default)}"
    if knob.name in QUICK:
        default += f"; --quick: {QUICK[knob.name]}"
    flag = {"help": f"{knob.help} ({default})"}
    if knob.type is tuple:  # layer widths, the one tuple knob
        flag.update(type=_hidden_sizes, metavar="SIZES")
    elif knob.type is bool:  # --name or --no-name
        flag["action"] = argparse.BooleanOptionalAction
    elif knob.type is str:
        (options,) = knob.constraints
        flag["choices"] = tuple(sorted(options.options))
    else:
        flag["type"] = _knob_value(knob)
    return flag


def _add_run_options(parser, lateral=True):
    _add_protocol_options(parser)
    _add_network_options(parser, lateral)
    _add_statistics_options(parser)
    _add_execution_options(parser)


def _add_protocol_options(parser):
    emotions = ",".join(PAPER_EMOTIONS)
    protocol = parser.add_argument_group(
        "protocol (defaults: the paper's 10 folds x 10 repeats)"
    )
    protocol.add_argument(
        "--emotions",
        type=_name_list,
        default=list(PAPER_EMOTIONS),
        metavar="LIST",
        help="comma-separated emotion classes; the corpus must have each one "
        f"(default: {emotions}, the paper's four)",
    )
    protocol.add_argument(
        "--protocol",
        choices=tuple(_PROTOCOL_FLAGS),
        default="speaker-stratified",
        help="speaker-stratified: every speaker's utterances are spread over all "
        "folds, as in the paper ('folds stratified based on speaker ID'; needed to "
        "evaluate a speaker-ID model; optimistic for emotion). speaker-independent: "
        "whole speakers per fold, so test speakers are unseen (a speaker source is "
        "then still trained on the training speakers, as a representation). "
        "(default: %(default)s)",
    )
    protocol.add_argument(
        "--normalization",
        choices=tuple(NORMALIZATIONS),
        default="global",
        help="global: one StandardScaler fitted on the training folds (the "
        "paper's z-normalisation). speaker: every speaker standardised with their "
        "own utterances, test speakers with their test utterances (transductive: "
        "it assumes unlabelled speech of each test speaker is available; use "
        "--protocol speaker-independent) (default: %(default)s)",
    )
    protocol.add_argument(
        "--n-splits",
        type=_positive_int,
        metavar="K",
        help="folds per repeat; each step uses 1 test fold, 1 validation fold for "
        f"early stopping and K-2 training folds (default: 10; --quick: "
        f"{QUICK['n_splits']})",
    )
    protocol.add_argument(
        "--n-repeats",
        type=_positive_int,
        metavar="R",
        help=f"repeats of the K-fold cross-validation (default: 10; --quick: "
        f"{QUICK['n_repeats']})",
    )
    protocol.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the folds; each fit's random state derives from (seed, "
        "repeat, fold, method) (default: %(default)s)",
    )


def _add_network_options(parser, lateral=True):
    network = parser.add_argument_group("networks (defaults: the paper's Table 1)")
    for knob in KNOBS:
        if knob.name in NETWORK_FLAGS:
            network.add_argument(f"--{knob.name.replace('_', '-')}", **_flag(knob))
    network.add_argument(
        "--preset",
        choices=tuple(PRESET_NAMES),
        default="paper",
        help="network settings to start from: the paper's Table 1, or "
        "sklearn_prognet.presets.SMALL_CORPUS, tuned on small corpora; the "
        "network options given explicitly win (default: %(default)s)",
    )
    network.add_argument(
        "--lateral",
        choices=("linear", "adapter"),
        default="linear",
        # Hidden where no ProgNet is trained (that experiment refuses a
        # value other than linear): a silently ignored option misleads.
        help="ProgNet lateral connections: linear as in the paper, or the "
        "non-linear adapters of Rusu et al. (default: %(default)s)"
        if lateral
        else argparse.SUPPRESS,
    )
    network.add_argument(
        "--device", default="cpu", help="torch device (default: %(default)s)"
    )


def _add_statistics_options(parser):
    analysis = parser.add_argument_group("statistics")
    analysis.add_argument(
        "--alpha",
        type=_fraction,
        default=0.05,
        help="significance level of the marks (default: %(default)s)",
    )
    analysis.add_argument(
        "--ttest-df",
        type=_ttest_df,
        default=10,
        metavar="DF",
        help="degrees of freedom of the corrected repeated cross-validation t-test: "
        "the paper's 10, or 'n-1' for the number of paired scores minus one "
        "(Bouckaert & Frank) (default: %(default)s)",
    )


def _add_execution_options(parser):
    run = parser.add_argument_group("execution")
    run.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="results folder; rerun with the same arguments to resume an interrupted "
        "run (default: results/<experiment>)",
    )
    run.add_argument(
        "--quick",
        action="store_true",
        help=f"a quick demonstration instead of the paper's protocol: "
        f"{QUICK['n_splits']} folds x {QUICK['n_repeats']} repeats, at most "
        f"{QUICK['max_epochs']} epochs, patience {QUICK['patience']}, all cores "
        "(options given explicitly win)",
    )
    run.add_argument(
        "--n-jobs",
        type=_n_jobs,
        metavar="N",
        help="worker processes: with --engine batched, every stack of networks "
        "is cut into N parts trained side by side; with per-fit, N fits run at "
        "a time through joblib; -1: all cores (or all dask workers) "
        "(default: 1; --quick: -1)",
    )
    run.add_argument(
        "--backend",
        choices=("loky", "dask"),
        default="loky",
        help="joblib backend: loky processes on this machine, or a dask cluster "
        "(--scheduler ADDRESS, or a local cluster of --n-jobs workers), whose "
        "workers then train one part of every stack of networks each (--engine "
        "batched) or single fits (per-fit) (default: %(default)s)",
    )
    run.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running dask scheduler, e.g. tcp://10.0.0.1:8786 "
        "(with --backend dask)",
    )
    run.add_argument(
        "--engine",
        choices=ENGINES,
        default=ENGINES[0],
        help="batched: train the networks of one repeat together, stacked along "
        "a model axis (--n-jobs worker processes share every stack), saving "
        "each repeat's fits when it is trained; networks it cannot train "
        "(--lateral adapter, the linear baseline of --baselines, multitask "
        "networks) are trained per fit. per-fit: every fit on its own, --n-jobs "
        "at a time. Both train on the cluster with --backend dask, and give "
        "results from the same distribution, not the same digits "
        "(default: %(default)s)",
    )
    run.add_argument(
        "--torch-threads",
        type=_positive_int,
        default=None,
        metavar="N",
        help="torch threads per fit, or of the batched engine when it trains in "
        "this process (--n-jobs 1; its workers share the cores) (default: 1, "
        "whatever --n-jobs is, so that the same seed gives the same results with "
        "any number of workers; with N threads, results match only runs with "
        "the same N)",
    )
    _add_audio_options(run)
    run.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="do not show the progress bar",
    )


def _add_audio_options(group):
    group.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="cache of features extracted from audio ('none' to disable) (default: "
        "$SKLEARN_PROGNET_CACHE or ~/.cache/sklearn_prognet)",
    )
    group.add_argument(
        "--resample",
        type=_positive_int,
        metavar="HZ",
        help="convert audio corpora to this sampling rate before extraction; "
        "features depend on the rate, so compare corpora recorded at different "
        "rates at a common one (default: each file's own rate)",
    )
    group.add_argument(
        "--features",
        type=_features,
        default=DEFAULT_FEATURES,
        metavar="FEATURES",
        help="features of audio corpora: egemaps (openSMILE eGeMAPS v02, the "
        "paper's), or ssl:MODEL[:LAYER], the time-averaged hidden states of a "
        "self-supervised speech encoder (needs the embeddings extra): MODEL a "
        "Hugging Face Hub name or a folder, LAYER an index or 'all' (default: the "
        "last), read after the last ':' only if it is one; text:MODEL[:LAYER], "
        "the same of a text encoder over a 'transcript' column; dvector, the "
        "256 speaker embeddings of a pretrained speaker encoder (needs the "
        "speaker extra); or several "
        "joined by '+' (egemaps+dvector, egemaps+ssl:MODEL:6), side by side, "
        "their columns named "
        "PART__FEATURE (egemaps__..., ssl__...) and each part cached on its own. "
        "The embedded 'emodb' has eGeMAPS only: give its audio (emodb:PATH) "
        "(default: %(default)s)",
    )


def build_parser():
    """The argument parser of ``sklearn-prognet``."""
    from sklearn_prognet import __version__

    parser = argparse.ArgumentParser(
        prog="sklearn-prognet",
        description=f"Reproduce the experiments of {_PAPER}: DNN, pre-training/"
        "fine-tuning (PT/FT) and progressive networks (ProgNet) for speech "
        "emotion recognition.",
        epilog="Run 'sklearn-prognet COMMAND --help' for the options of a command.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    # one command per registered experiment that has flags here
    for name, add_command in _EXPERIMENT_COMMANDS.items():
        if name in EXPERIMENTS:
            add_command(sub)
    _add_extract_command(sub)
    _add_train_command(sub)
    _add_predict_command(sub)
    _add_report_command(sub)
    return parser


def _add_paralinguistic_command(sub):
    para = sub.add_parser(
        "paralinguistic",
        help="speaker and gender as source tasks for emotion (Table 2, Figure 3)",
        description="Paralinguistic transfer (the paper's Table 2 and Figure 3): "
        "emotion is the target task; DNN, PT/FT and ProgNet, with speaker "
        "identity and gender as source tasks whose networks are trained on the "
        "training folds of each step only. Reports mean UAR, mean within-repeat "
        "standard deviation, corrected repeated-CV t-tests against DNN and PT/FT, "
        "and learning curves.",
        epilog=_EPILOG_RUN,
    )
    para.add_argument(
        "--corpus",
        default="emodb",
        metavar="CORPUS",
        help="the corpus (default: %(default)s, the embedded EmoDB features)",
    )
    para.add_argument(
        "--sources",
        type=_name_list,
        default=["speaker", "gender"],
        metavar="LIST",
        help="source tasks, comma-separated: speaker, gender (default: speaker,gender)",
    )
    para.add_argument(
        "--baselines",
        type=_name_list,
        default=[],
        metavar="LIST",
        help="linear baselines to fit on the same folds, with the same "
        f"normalisation, and compare with every network: {', '.join(BASELINE_LABELS)}"
        " (a logistic regression) (default: none)",
    )
    _add_run_options(para)
    para.set_defaults(func=_cmd_paralinguistic)


def _add_cross_corpus_command(sub):
    cross = sub.add_parser(
        "cross-corpus",
        help="transfer between emotion corpora with 8, 4, 2, 1 training folds "
        "(Figure 4)",
        description="Cross-corpus transfer (the paper's Figure 4): an emotion "
        "model trained on all of the SOURCE corpus is transferred to the TARGET "
        "corpus (PT/FT, ProgNet) and compared with a DNN trained on the target "
        "alone, using 8, 4, 2 and 1 of the target's training folds. Each corpus "
        "is z-normalised on its own training data.",
        epilog=_EPILOG_RUN,
    )
    cross.add_argument(
        "--source", required=True, metavar="CORPUS", help="the source corpus"
    )
    cross.add_argument(
        "--target", required=True, metavar="CORPUS", help="the target corpus"
    )
    cross.add_argument(
        "--train-folds",
        type=_int_list,
        metavar="LIST",
        help="numbers of target training folds (default: 8,4,2,1 with 10 folds; "
        "in general K-2 and the powers of 2 below it)",
    )
    _add_run_options(cross)
    cross.set_defaults(func=_cmd_cross_corpus)


def _add_multi_corpus_command(sub):
    multi = sub.add_parser(
        "multi-corpus",
        help="each corpus the target of the others pooled: PT/FT, ProgNet, "
        "residual adapters and a jointly trained multi-corpus network",
        description="Multi-corpus transfer: each corpus of --corpora in turn is "
        "the target. A source network trained on the other corpora pooled is "
        "transferred to it (PT/FT, ProgNet, residual adapters on the frozen "
        "source); a multi-corpus network (shared trunk, adapters and an output "
        "layer per corpus) is trained on the other corpora and the target's "
        "training folds; a DNN on the target alone. With 8, 4, 2 and 1 target "
        "training folds (as Figure 4). Reports UAR, trainable parameters, "
        "corrected t-tests and McNemar's tests.",
        epilog=_EPILOG_RUN,
    )
    multi.add_argument(
        "--corpora",
        required=True,
        type=lambda text: [v.strip() for v in text.split(",") if v.strip()],
        metavar="A,B,C",
        help="comma-separated corpora, at least 2 (e.g. emodb,urdu:/data/urdu,"
        "nemo_egemaps.csv.gz)",
    )
    multi.add_argument(
        "--train-folds",
        type=_int_list,
        metavar="LIST",
        help="numbers of target training folds (default: 8,4,2,1 with 10 folds; "
        "in general K-2 and the powers of 2 below it)",
    )
    multi.add_argument(
        "--joint-validation",
        choices=JOINT_VALIDATIONS,
        default="pooled",
        help="what the multi-corpus network's early stopping scores. pooled: 10%% "
        "of its training rows, held out stratified by corpus and emotion (the "
        "larger corpora decide its best epoch). target: the target's validation "
        "fold, as for the other methods (default: %(default)s)",
    )
    _add_run_options(multi)
    multi.set_defaults(func=_cmd_multi_corpus)


def _float_list(text):
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of numbers, e.g. 0.3,1"
        )
    return values


def _add_multitask_command(sub):
    mtl = sub.add_parser(
        "multitask",
        help="do dimensional ratings (arousal, valence, dominance) help emotion "
        "classification? single-task vs multi-task DNNs",
        description="Multi-task learning: a single-task DNN against the same DNN "
        "trained on the emotions plus the corpus's dimensional ratings (arousal, "
        "valence, dominance; RAVDESS: intensity), with cross-entropy + w x the "
        "dimensional loss for every weight w of --dimensional-weights, on the same "
        "folds and random states. Only the training folds' ratings reach the "
        "networks. Reports test UAR per arm, corrected repeated-CV t-tests "
        "against the single-task DNN, and the test CCC of every dimension.",
        epilog=_EPILOG_RUN,
    )
    mtl.add_argument(
        "--corpus",
        required=True,
        metavar="CORPUS",
        help="a corpus with ratings: iemocap:PATH, msp-improv:PATH, ravdess:PATH, "
        "or a feature table with arousal, valence, dominance or intensity columns "
        "(empty cells: missing ratings)",
    )
    mtl.add_argument(
        "--dimensions",
        type=_name_list,
        metavar="LIST",
        help="rating columns to learn, comma-separated (default: all the corpus has)",
    )
    mtl.add_argument(
        "--dimensional-weights",
        type=_float_list,
        default=[0.3, 1.0],
        metavar="LIST",
        help="weights of the dimensional loss, one multi-task arm each, "
        "comma-separated, each > 0 (default: 0.3,1)",
    )
    mtl.add_argument(
        "--dimensional-loss",
        choices=("mse", "ccc"),
        default="mse",
        help="loss on the standardised ratings: mean squared error or 1 - CCC "
        "(default: %(default)s)",
    )
    _add_run_options(mtl, lateral=False)
    mtl.set_defaults(func=_cmd_multitask)


def _add_extract_command(sub):
    extract = sub.add_parser(
        "extract",
        help="write the features of a corpus to a CSV table",
        description="Extract the features of an audio corpus (--features: the "
        "eGeMAPS v02 features of openSMILE, the embeddings of a speech "
        "encoder, or several side by side) and write them as a feature table: "
        "columns file, emotion, speaker, gender, corpus, then the features. "
        "The table can be given "
        "as CORPUS to the other commands. " + _CORPUS_HELP,
    )
    extract.add_argument("corpus", metavar="CORPUS", help="the corpus")
    extract.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="CSV file to write (default: <corpus name>_egemaps.csv, "
        "<corpus name>_<model>[_layer<LAYER>].csv, or for several features "
        "their names joined by '+': <corpus name>_egemaps+<model>.csv)",
    )
    extract.add_argument(
        "--emotions",
        type=_name_list,
        metavar="LIST",
        help="keep only these emotions (default: all)",
    )
    extract.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=1,
        metavar="N",
        help="processes for the extraction; -1: all cores (default: %(default)s)",
    )
    extract.add_argument(
        "--on-error",
        choices=("raise", "nan"),
        default="raise",
        help="a file that cannot be analysed stops the extraction (raise), or gets "
        "a row of NaN features, with a warning listing such files (nan); the "
        "experiments refuse a table with NaN rows (default: %(default)s)",
    )
    _add_audio_options(extract)
    extract.set_defaults(func=_cmd_extract)


def _add_train_command(sub):
    train = sub.add_parser(
        "train",
        help="fit one final model on a whole corpus and save it",
        description="Fit one model on the whole corpus, with the settings the "
        "experiments use, and save it with skops (a format whose loading runs "
        "no code) and a model card (MODEL's name with .md) beside it. From "
        "audio, the model is the whole way from audio to label (feature "
        "extractor, scaler, network): 'sklearn-prognet predict' labels new "
        "recordings with it. --cv N first estimates its UAR with N "
        "speaker-independent folds. " + _CORPUS_HELP,
    )
    train.add_argument("corpus", metavar="CORPUS", help="the corpus")
    train.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="MODEL",
        help="the model file to write, e.g. model.skops",
    )
    train.add_argument(
        "--method",
        choices=tuple(FINAL_METHODS),
        default="dnn",
        help="the network (default: %(default)s)",
    )
    train.add_argument(
        "--sources",
        type=_name_list,
        default=None,
        metavar="LIST",
        help="source tasks of ptft, prognet and adapters, trained on the "
        "corpus's own labels: speaker, gender (default: speaker)",
    )
    train.add_argument(
        "--emotions",
        type=_name_list,
        default=list(PAPER_EMOTIONS),
        metavar="LIST",
        help="the classes (default: %(default)s)",
    )
    train.add_argument(
        "--normalization",
        choices=tuple(NORMALIZATIONS),
        default="global",
        help="global: one StandardScaler; speaker: every speaker standardised with "
        "their own recordings, so predicting needs the speaker of every file "
        "(default: %(default)s)",
    )
    train.add_argument(
        "--cv",
        type=_positive_int,
        metavar="N",
        help="first estimate the UAR with N speaker-independent folds, stored in "
        "the model card",
    )
    train.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    train.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=1,
        metavar="N",
        help="processes for the extraction (default: %(default)s)",
    )
    _add_network_options(train)
    _add_audio_options(train)
    train.set_defaults(func=_cmd_train)


def _add_predict_command(sub):
    predict = sub.add_parser(
        "predict",
        help="label new recordings with a trained model",
        description="Predict the emotion of audio files with a model written by "
        "'sklearn-prognet train': one row per file with the predicted emotion, "
        "one probability column per class, the predicted ratings of a "
        "multi-task model, and the file's status. A model trained with "
        "per-speaker normalisation needs the speaker of every file (--list with "
        "a speaker column). Audio at another sampling rate is converted as in "
        "training.",
    )
    predict.add_argument("model", type=Path, metavar="MODEL", help="the model file")
    predict.add_argument(
        "audio", nargs="*", metavar="AUDIO", help="audio files to label"
    )
    predict.add_argument(
        "--list",
        type=Path,
        metavar="CSV",
        dest="file_list",
        help="a CSV with a 'file' column (paths relative to its folder) and, "
        "for per-speaker models, a 'speaker' column",
    )
    predict.add_argument(
        "--folder",
        type=Path,
        metavar="DIR",
        help="label every audio file in DIR and its subfolders",
    )
    predict.add_argument(
        "--out", type=Path, required=True, metavar="CSV", help="the table to write"
    )
    predict.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=1,
        metavar="N",
        help="processes for the extraction (default: %(default)s)",
    )
    predict.add_argument(
        "--on-error",
        choices=("raise", "nan"),
        default="raise",
        help="a file that cannot be analysed stops the command (raise), or gets "
        "a row with its error in 'status' while the others are predicted (nan) "
        "(default: %(default)s)",
    )
    predict.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="do not show the progress bar",
    )
    predict.set_defaults(func=_cmd_predict)


def _add_report_command(sub):
    report = sub.add_parser(
        "report",
        help="render the report of a results folder again",
        description="Render report.md, scores.csv, learning_curves.csv and the PNG "
        "plots of a results folder, finished or not.",
    )
    report.add_argument("folder", type=Path, metavar="FOLDER", help="results folder")
    report.add_argument(
        "--alpha", type=_fraction, help="significance level (default: the run's)"
    )
    report.add_argument(
        "--ttest-df",
        type=_ttest_df,
        default="saved",
        metavar="DF",
        help="t-test degrees of freedom, or 'n-1' (default: the run's)",
    )
    report.set_defaults(func=_cmd_report)


# Experiment name -> the function that adds its command (in --help's order).
_EXPERIMENT_COMMANDS = {
    "paralinguistic": _add_paralinguistic_command,
    "cross-corpus": _add_cross_corpus_command,
    "multi-corpus": _add_multi_corpus_command,
    "multitask": _add_multitask_command,
}


def _pick(args, name, paper):
    """An option's value: as given, else --quick's (if any), else the paper's."""
    value = getattr(args, name)
    if value is not None:
        return value
    return QUICK.get(name, paper) if getattr(args, "quick", False) else paper


def _network_settings(args):
    """The network settings of the options: a preset, then explicit flags."""
    network = {}
    for name in NETWORK_FLAGS:
        value = _pick(args, name, None)
        if value is not None:
            network[name] = value
    if args.preset != "paper":
        explicit = {k: v for k, v in vars(args).items() if k in NETWORK_FLAGS}
        explicit = {k: v for k, v in explicit.items() if v is not None}
        network = {**getattr(presets, PRESET_NAMES[args.preset]), **explicit}
    return network


def _run_settings(args):
    """Keyword arguments shared by the experiments, with --quick applied."""

    def pick(name, paper):
        return _pick(args, name, paper)

    network = _network_settings(args)
    n_jobs = args.n_jobs if args.n_jobs is not None else (-1 if args.quick else 1)
    return {
        "emotions": args.emotions,
        "protocol": _PROTOCOL_FLAGS[args.protocol],
        "normalization": args.normalization,
        "n_splits": pick("n_splits", 10),
        "n_repeats": pick("n_repeats", 10),
        "seed": args.seed,
        "network": network,
        "lateral": args.lateral,
        "device": args.device,
        "alpha": args.alpha,
        "ttest_df": args.ttest_df,
        "n_jobs": n_jobs,
        "backend": args.backend,
        "scheduler": args.scheduler,
        "torch_threads": args.torch_threads,
        "engine": args.engine,
        "cache_dir": args.cache_dir,
        "resample": args.resample,
        "features": args.features,
        "progress": args.progress,
        "command": ["sklearn-prognet", *sys.argv[1:]],
    }


def _print_result(result):
    print(result.summary_table())
    print(f"\nReport: {result.report}")


def _cmd_paralinguistic(args):
    from sklearn_prognet.experiments import run_paralinguistic

    out = args.out or Path("results") / "paralinguistic"
    result = run_paralinguistic(
        out,
        args.corpus,
        sources=args.sources,
        baselines=args.baselines,
        **_run_settings(args),
    )
    _print_result(result)
    return 0


def _cmd_cross_corpus(args):
    from sklearn_prognet.experiments import run_cross_corpus

    out = args.out
    if out is None:
        source, target = parse_spec(args.source)[1], parse_spec(args.target)[1]
        out = Path("results") / f"cross-corpus-{source}-to-{target}"
    result = run_cross_corpus(
        out,
        args.source,
        args.target,
        train_folds=args.train_folds,
        **_run_settings(args),
    )
    _print_result(result)
    return 0


def _cmd_multi_corpus(args):
    from sklearn_prognet.experiments import run_multi_corpus

    out = args.out
    if out is None:
        names = [parse_spec(spec)[1] for spec in args.corpora]
        out = Path("results") / ("multi-corpus-" + "-".join(names))
    result = run_multi_corpus(
        out,
        args.corpora,
        train_folds=args.train_folds,
        joint_validation=args.joint_validation,
        **_run_settings(args),
    )
    _print_result(result)
    return 0


def _cmd_multitask(args):
    from sklearn_prognet.experiments import run_multitask

    out = args.out or Path("results") / f"multitask-{parse_spec(args.corpus)[1]}"
    result = run_multitask(
        out,
        args.corpus,
        dimensions=args.dimensions,
        dimensional_weights=args.dimensional_weights,
        dimensional_loss=args.dimensional_loss,
        **_run_settings(args),
    )
    _print_result(result)
    return 0


def _check_output(output):
    """Refuse an output file that cannot be written, before any work is done."""
    if output.is_dir():
        raise ExperimentInputError(
            f"--output {str(output)!r} is a folder; give the path of a CSV file."
        )
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        # write_atomic writes a temporary file beside the output: try one
        fd, probe = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ExperimentInputError(
            f"Cannot write --output {str(output)!r}: {exc.strerror or exc}."
        ) from None


def _cmd_extract(args):
    stem = parse_features(args.features).file_stem()
    output = args.output or Path(f"{parse_spec(args.corpus)[1]}_{stem}.csv")
    _check_output(output)
    corpus = load_corpus(
        args.corpus,
        emotions=args.emotions,
        cache_dir=args.cache_dir,
        resample=args.resample,
        n_jobs=args.n_jobs,
        on_error=args.on_error,
        verbose=1,
        features=args.features,
    )
    frame = corpus_to_frame(corpus)
    write_atomic(output, frame.to_csv(index=False))
    print(
        f"Wrote {len(frame)} utterances x {len(corpus.feature_names)} features of "
        f"{corpus.name} to {output}"
    )
    return 0


def _cmd_train(args):
    from sklearn_prognet.experiments._deploy import train_model

    _check_output(args.out)
    sources = args.sources
    if sources is None:
        sources = [] if args.method == "dnn" else ["speaker"]
    trained = train_model(
        args.corpus,
        method=args.method,
        sources=sources,
        network=_network_settings(args),
        lateral=args.lateral,
        normalization=args.normalization,
        features=args.features,
        emotions=args.emotions,
        resample=args.resample,
        cache_dir=args.cache_dir,
        n_jobs=args.n_jobs,
        cv=args.cv,
        seed=args.seed,
        device=args.device,
        verbose=1,
    )
    card = {**trained.card, "command": " ".join(["sklearn-prognet", *sys.argv[1:]])}
    from sklearn_prognet import save_model

    card_path = save_model(trained.model, args.out, card=card)
    if "cv_uar" in card:
        print(f"Cross-validated UAR: {card['cv_uar']}")
    print(f"Model: {args.out}\nModel card: {card_path}")
    return 0


def _cmd_predict(args):
    from sklearn_prognet import load_model
    from sklearn_prognet.experiments._deploy import predict_files, read_file_list

    _check_output(args.out)
    files, speakers = read_file_list(args.audio, args.file_list, args.folder)
    try:
        model = load_model(args.model)
    except (ValueError, OSError, ImportError) as exc:
        raise ExperimentInputError(
            f"Cannot load model {str(args.model)!r}: {exc}"
        ) from None
    table = predict_files(
        model,
        files,
        speakers=speakers,
        on_error=args.on_error,
        n_jobs=args.n_jobs,
        verbose=int(args.progress),
    )
    write_atomic(args.out, table.to_csv(index=False))
    failed = int((table["status"] != "ok").sum())
    note = f"; {failed} could not be analysed (see 'status')" if failed else ""
    print(
        f"Predicted {len(table) - failed} of {len(table)} file(s) to {args.out}{note}"
    )
    return 0


def _cmd_report(args):
    from sklearn_prognet.experiments import render_report

    path = render_report(args.folder, alpha=args.alpha, ttest_df=args.ttest_df)
    print(f"Report: {path}")
    return 0


def _in_flags(message):
    """The library's message with its Python parameters named as flags.

    ``scheduler='x'`` becomes ``--scheduler 'x'``, and a bare ``sources=``
    becomes ``--sources``.
    """
    for name in _TRANSLATED:
        flag = "--" + name.replace("_", "-")
        message = re.sub(rf"\b{name}=(?=[\s.,;:)]|$)", flag, message)
        message = re.sub(rf"\b{name}=", flag + " ", message)
    for flag_value, value in _PROTOCOL_FLAGS.items():
        message = message.replace(repr(value), repr(flag_value))
    return message


def main(argv=None):
    """Run the ``sklearn-prognet`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments, without the program name; None means ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 for bad input (the message is printed on stderr, no
        traceback), 1 when a file cannot be written during the work (a full
        disk), 130 when interrupted.

    See Also
    --------
    sklearn_prognet.experiments.run_paralinguistic : The paralinguistic
        experiment as a function.
    sklearn_prognet.experiments.run_cross_corpus : The cross-corpus
        experiment as a function.

    Examples
    --------
    >>> from sklearn_prognet.experiments.cli import main
    >>> main(["--version"])  # doctest: +SKIP
    sklearn-prognet 0.2.0.dev0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        # loky replaces a worker whose memory grew (torch's allocator caches);
        # no task is lost, so its warning would only alarm the user.
        warnings.filterwarnings(
            "ignore", message="A worker stopped while some jobs", category=UserWarning
        )
        warnings.showwarning = _show_warning
        return _run_command(args)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """A warning as one line, like the errors: no source line of ours.

    Like the errors, it names the flags, not the Python parameters.
    """
    print(
        f"sklearn-prognet: warning: {_in_flags(str(message))}", file=file or sys.stderr
    )


def _run_command(args):
    try:
        return args.func(args)
    except ExperimentInputError as exc:
        print(f"sklearn-prognet: error: {_in_flags(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "\nsklearn-prognet: interrupted; the finished fits are saved. Run the "
            "same command again to resume.",
            file=sys.stderr,
        )
        return 130
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:
        # A file that cannot be written while the work is done (a full disk,
        # a folder made read-only); the paths are checked before it starts.
        print(f"sklearn-prognet: error: {exc}", file=sys.stderr)
        return 1
