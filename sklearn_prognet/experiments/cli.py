# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The ``sklearn-prognet`` command: experiments, feature extraction, reports.

Run ``sklearn-prognet --help``, or ``sklearn-prognet COMMAND --help``.
"""

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

from sklearn_prognet import presets
from sklearn_prognet.experiments import _options
from sklearn_prognet.experiments._deploy import FINAL_METHODS
from sklearn_prognet.experiments._errors import ExperimentInputError
from sklearn_prognet.experiments._feature_sets import parse_features
from sklearn_prognet.experiments._fits import DEFAULT_NORMALIZATION, NORMALIZATIONS
from sklearn_prognet.experiments._inputs import (
    PAPER_EMOTIONS,
    corpus_to_frame,
    load_corpus,
    parse_spec,
)
from sklearn_prognet.experiments._skeleton import EXPERIMENTS
from sklearn_prognet.experiments._store import write_atomic
from sklearn_prognet.networks._knobs import FLAG, KNOBS, names

__all__ = ["main"]

#: ``--preset`` value -> the dict of :mod:`sklearn_prognet.presets` it names.
PRESET_NAMES = {"paper": "PAPER", "small-corpus": "SMALL_CORPUS"}
#: The network options a user may give explicitly, over a preset: the knobs
#: with the flag role (sklearn_prognet/networks/_knobs.py), one flag each.
NETWORK_FLAGS = names(FLAG)
# The flags of the other commands that the library's messages name.
_options.register_flags([_options.Option("on_error", "raise")])

_EXTRACTION_JOBS = "processes for the extraction (default: %(default)s)"

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


def _widths(text):
    """The layer widths of '256,256,256,256' or '256x4' (ValueError if neither)."""
    if "x" in text:
        width, depth = text.split("x")
        return [int(width)] * int(depth)
    return [int(v) for v in text.split(",") if v]


def _hidden_sizes(text):
    """An argparse type: '256,256,256,256' or '256x4'."""
    sizes = _options.positive_integers(
        text.replace(" ", "").lower(),
        _widths,
        unreadable=": use widths separated by commas (256,256) or WIDTHxDEPTH (256x4)",
        not_positive=": give at least one positive width",
    )
    return tuple(sizes)


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
    if knob.name in _options.QUICK:
        default += f"; --quick: {_options.QUICK[knob.name]}"
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


def _add_network_options(parser, hidden=()):
    """The network flags: the knobs', then --preset, --lateral and --device."""

    def knob_flags(group):
        for knob in KNOBS:
            if knob.name in NETWORK_FLAGS:
                group.add_argument(f"--{knob.name.replace('_', '-')}", **_flag(knob))

    return _options.add_flags(
        parser, _options.NETWORK, hidden=hidden, network_flags=knob_flags
    )


def _add_experiment_command(sub, command):
    """The command of an experiment: its own flags, then the shared ones."""
    parser = sub.add_parser(
        command.name,
        help=command.help,
        description=command.description,
        epilog=_EPILOG_RUN,
    )
    for option in command.options:
        _options.add_flag(parser, option)
    _options.add_flags(parser, _options.PROTOCOL)
    _add_network_options(parser, hidden=command.hidden)
    _options.add_flags(parser, _options.STATISTICS)
    _options.add_flags(parser, _options.EXECUTION)
    parser.set_defaults(func=_cmd_experiment, experiment_command=command)


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
    # one command per registered experiment, in the order they are registered
    for experiment in EXPERIMENTS.values():
        if experiment.command is not None:
            _add_experiment_command(sub, experiment.command)
    _add_extract_command(sub)
    _add_train_command(sub)
    _add_predict_command(sub)
    _add_report_command(sub)
    return parser


def _add_n_jobs(parser, text=_EXTRACTION_JOBS):
    """The --n-jobs flag of a command that extracts features; ``text``: its help."""
    parser.add_argument(
        "--n-jobs", type=_options.n_jobs, default=1, metavar="N", help=text
    )


def _add_on_error(parser, text):
    """The --on-error flag: a file that cannot be analysed stops the command, or not.

    ``text``, its help, says what ``nan`` does in that command.
    """
    parser.add_argument(
        "--on-error", choices=("raise", "nan"), default="raise", help=text
    )


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
        type=_options.name_list,
        metavar="LIST",
        help="keep only these emotions (default: all)",
    )
    _add_n_jobs(
        extract,
        "processes for the extraction; -1: all cores (default: %(default)s)",
    )
    _add_on_error(
        extract,
        "a file that cannot be analysed stops the extraction (raise), or gets "
        "a row of NaN features, with a warning listing such files (nan); the "
        "experiments refuse a table with NaN rows (default: %(default)s)",
    )
    _options.add_audio_flags(extract)
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
        type=_options.name_list,
        default=None,
        metavar="LIST",
        help="source tasks of ptft, prognet and adapters, trained on the "
        "corpus's own labels: speaker, gender (default: speaker)",
    )
    train.add_argument(
        "--emotions",
        type=_options.name_list,
        default=list(PAPER_EMOTIONS),
        metavar="LIST",
        help="the classes (default: %(default)s)",
    )
    train.add_argument(
        "--normalization",
        choices=tuple(NORMALIZATIONS),
        default=DEFAULT_NORMALIZATION,
        help="global: one StandardScaler; speaker: every speaker standardised with "
        "their own recordings, so predicting needs the speaker of every file "
        "(default: %(default)s)",
    )
    train.add_argument(
        "--cv",
        type=_options.positive_int,
        metavar="N",
        help="first estimate the UAR with N speaker-independent folds, stored in "
        "the model card",
    )
    train.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    _add_n_jobs(train)
    _add_network_options(train)
    _options.add_audio_flags(train)
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
    _add_n_jobs(predict)
    _add_on_error(
        predict,
        "a file that cannot be analysed stops the command (raise), or gets "
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
        "--alpha",
        type=_options.fraction,
        help="significance level (default: the run's)",
    )
    report.add_argument(
        "--ttest-df",
        type=_options.ttest_df,
        default="saved",
        metavar="DF",
        help="t-test degrees of freedom, or 'n-1' (default: the run's)",
    )
    report.set_defaults(func=_cmd_report)


def _network_settings(args):
    """The network settings of the options: a preset, then explicit flags."""
    network = {}
    for name in NETWORK_FLAGS:
        value = _options.pick(args, name, None)
        if value is not None:
            network[name] = value
    if args.preset != "paper":
        explicit = {k: v for k, v in vars(args).items() if k in NETWORK_FLAGS}
        explicit = {k: v for k, v in explicit.items() if v is not None}
        network = {**getattr(presets, PRESET_NAMES[args.preset]), **explicit}
    return network


def _run_settings(args):
    """Keyword arguments shared by the experiments, with --quick applied."""
    return {
        **_options.run_settings(args, _network_settings(args)),
        "command": ["sklearn-prognet", *sys.argv[1:]],
    }


def _cmd_experiment(args):
    """Run the experiment of the command, then print its summary table."""
    import sklearn_prognet.experiments as experiments  # the public functions

    command = args.experiment_command
    out = args.out or command.default_out(args)
    run = getattr(experiments, command.function)
    result = run(out, **command.arguments(args), **_run_settings(args))
    print(result.summary_table())
    print(f"\nReport: {result.report}")
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
        f"sklearn-prognet: warning: {_options.in_flags(message)}",
        file=file or sys.stderr,
    )


def _run_command(args):
    try:
        return args.func(args)
    except ExperimentInputError as exc:
        print(f"sklearn-prognet: error: {_options.in_flags(exc)}", file=sys.stderr)
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
