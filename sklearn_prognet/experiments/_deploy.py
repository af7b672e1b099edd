# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""From a corpus to a final model, and from a model to labels of new audio.

:func:`train_model` fits one model on a whole corpus with the settings the
experiments use, and returns it as the whole way from audio to label: the
feature extractor, the scaler (per speaker or global) and the network, in one
fitted :class:`~sklearn.pipeline.Pipeline`. :func:`predict_files` labels new
recordings with such a model, one row per file, a damaged file included.

A model with per-speaker normalisation needs the speaker of every file: its
pipeline takes a DataFrame with ``file`` and ``speaker`` columns, the others
a list of files.
"""

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import cross_validate
from sklearn.pipeline import Pipeline

from sklearn_prognet.experiments._feature_sets import FusedFeatureSet, parse_features
from sklearn_prognet.experiments._fits import (
    DEFAULT_NORMALIZATION,
    SPEAKER_COLUMN,
    derive_seed,
    make_scaler,
    network_params,
    per_speaker,
)
from sklearn_prognet.experiments._inputs import (
    PAPER_EMOTIONS,
    ExperimentInputError,
    is_manifest,
    load_corpus,
    parse_spec,
)
from sklearn_prognet.utils._messages import Param

__all__ = ["FINAL_METHODS", "TrainedModel", "predict_files", "train_model"]

#: Method of ``train`` -> its name in the model card.
FINAL_METHODS = {
    "dnn": "DNN",
    "ptft": "PT/FT",
    "prognet": "ProgNet",
    "adapters": "Residual adapters",
}
#: Source tasks a transfer method's source networks are trained on.
SOURCE_TASKS = ("speaker", "gender")
# The first column of a model's input DataFrame: the audio files.
FILE_COLUMN = "file"


@dataclass
class TrainedModel:
    """A model fitted on a whole corpus, and the facts of its model card.

    Parameters
    ----------
    model : sklearn.pipeline.Pipeline
        The fitted model. It takes audio (a list of files, or a DataFrame
        with ``file`` and ``speaker`` columns with per-speaker
        normalisation), or feature rows when the corpus was a feature table.
    card : dict
        What the model card states: corpus, classes and their counts,
        features, method, settings, the cross-validated UAR if measured.

    See Also
    --------
    train_model : Fit a final model on a whole corpus.
    """

    model: Pipeline
    card: dict = field(default_factory=dict)


def _source_labels(corpus, sources):
    """The labels of each source task, one column per source (``source_y``)."""
    columns = []
    for task in sources:
        labels = corpus.speaker if task == "speaker" else corpus.gender
        if labels is None or any(str(g) == "" for g in labels):
            raise ExperimentInputError(
                Param("sources", list(sources)),
                f": the corpus {corpus.name!r} has no {task} for every utterance.",
            )
        columns.append(np.asarray(labels, dtype=object))
    return np.column_stack(columns)


def _network(method, sources, params, lateral, seed):
    """The network of ``method``, with unfitted source networks."""
    from sklearn_prognet.networks._adapters import ResidualAdapterClassifier
    from sklearn_prognet.networks._estimators import (
        DNNClassifier,
        FineTunedClassifier,
        ProgressiveNetClassifier,
    )

    random_state = derive_seed(seed, "final", method)
    if method == "dnn":
        return DNNClassifier(**params, random_state=random_state)
    nets = [
        DNNClassifier(**params, random_state=derive_seed(seed, "final", "source", s))
        for s in sources
    ]
    if method == "prognet":
        return ProgressiveNetClassifier(
            sources=nets, lateral=lateral, **params, random_state=random_state
        )
    if len(nets) != 1:
        raise ExperimentInputError(
            f"method={method!r} transfers one source network; ",
            Param("sources", list(sources)),
            f" names {len(nets)}.",
        )
    kind = FineTunedClassifier if method == "ptft" else ResidualAdapterClassifier
    return kind(source=nets[0], **params, random_state=random_state)


def _check_method(method, sources):
    if method not in FINAL_METHODS:
        raise ExperimentInputError(
            f"method={method!r}: choose among {list(FINAL_METHODS)}."
        )
    unknown = [s for s in sources if s not in SOURCE_TASKS]
    if unknown:
        raise ExperimentInputError(
            Param("sources", list(sources)),
            f": {unknown} unknown; choose among {list(SOURCE_TASKS)}.",
        )
    if method == "dnn" and sources:
        raise ExperimentInputError(
            Param("sources"),
            " are for the transfer methods (ptft, prognet, adapters); a DNN has none.",
        )
    if method != "dnn" and not sources:
        raise ExperimentInputError(
            f"method={method!r} needs ", Param("sources"), " (speaker, gender)."
        )


def _feature_pipeline(corpus, method, sources, params, lateral, normalization, seed):
    """Scaler and network on the corpus's features, and its fit parameters."""
    net = _network(method, sources, params, lateral, seed)
    fit_params = {"groups": np.asarray(corpus.speaker)}
    request = {"groups": True}
    if sources:
        fit_params["source_y"] = _source_labels(corpus, sources)
        request["source_y"] = True
    net.set_fit_request(**request)
    pipe = Pipeline([("scale", make_scaler(normalization)), ("net", net)])
    return pipe, fit_params


def _cross_validated_uar(pipe, X, y, fit_params, n_splits, seed):
    """Speaker-independent UAR of ``pipe`` over ``n_splits`` folds."""
    from sklearn_prognet.model_selection import RepeatedStratifiedGroupKFold

    cv = RepeatedStratifiedGroupKFold(
        n_splits=n_splits,
        n_repeats=1,
        protocol="speaker_independent",
        random_state=seed,
    )
    scores = cross_validate(
        pipe, X, y, cv=cv, scoring="balanced_accuracy", params=fit_params
    )["test_score"]
    return [float(s) for s in scores]


def _audio_front(feature_set, extractor, normalization):
    """The step that turns a model's input into features (and speakers).

    One feature set with global normalisation takes a list of files; the
    others a DataFrame with the columns the features read (``file``, and
    ``transcript`` for a text encoder) and, per speaker, ``speaker``.
    """
    fused = isinstance(feature_set, FusedFeatureSet)
    if not per_speaker(normalization):
        return extractor
    columns = list(feature_set.columns) if fused else feature_set.columns[0]
    return ColumnTransformer(
        [
            ("features", extractor, columns),
            ("speaker", "passthrough", [SPEAKER_COLUMN]),
        ],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")


def _front_input(front, files, speakers=None, first=None):
    """What ``front`` takes: the files, or a DataFrame of its columns.

    ``first`` keeps the first rows only.
    """
    files = list(files)[:first]
    names = _input_columns(front)
    if names is None:
        return files
    frame = pd.DataFrame({FILE_COLUMN: files})
    if SPEAKER_COLUMN in names:
        frame[SPEAKER_COLUMN] = list(speakers)[:first]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ExperimentInputError(
            f"This model also reads the column(s) {missing} of its input (a "
            "text encoder reads transcripts); predict it in Python with a "
            f"DataFrame of the columns {list(names)}."
        )
    return frame[list(names)]


def _input_columns(front):
    """The columns of the DataFrame ``front`` takes, or None for a file list."""
    if not isinstance(front, ColumnTransformer):
        return None
    columns = []
    for _, _, selected in front.transformers:
        for name in [selected] if isinstance(selected, str) else selected:
            if name not in columns:
                columns.append(name)
    return columns


def train_model(
    corpus,
    *,
    method="dnn",
    sources=(),
    network=None,
    lateral="linear",
    normalization=DEFAULT_NORMALIZATION,
    features="egemaps",
    emotions=PAPER_EMOTIONS,
    resample=None,
    cache_dir=None,
    n_jobs=None,
    cv=None,
    seed=0,
    device="cpu",
    verbose=0,
):
    """Fit one model on a whole corpus, from audio (or features) to label.

    The model is what ``sklearn-prognet train`` saves: from an audio corpus
    (a named loader or a manifest), a :class:`~sklearn.pipeline.Pipeline` of
    the feature extractor, the scaler and the network, which takes audio
    files; from a feature table, the scaler and the network. Every
    utterance trains it; the network's early stopping holds out some of the
    speakers (``validation_fraction``) as in every fit of the package.

    Read more in the :ref:`User Guide <use_a_trained_model>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    corpus : str or Corpus
        The corpus, as the experiments name it: ``'NAME:PATH'``, a manifest,
        a feature table, or ``'emodb'`` (the embedded features).
    method : {'dnn', 'ptft', 'prognet', 'adapters'}, default='dnn'
        The network.
    sources : sequence of {'speaker', 'gender'}, default=()
        Source tasks of a transfer method, each trained on the corpus's own
        labels (PT/FT and adapters take one).
    network : dict or None, default=None
        Network settings over the paper's (a preset, explicit options).
    lateral : {'linear', 'adapter'}, default='linear'
        ProgNet's lateral connections.
    normalization : {'global', 'speaker'}, default='global'
        The scaler before the network.
    features : str, default='egemaps'
        The features of an audio corpus (see ``--features``).
    emotions : sequence of str or None, default=PAPER_EMOTIONS
        The classes.
    resample : int or None, default=None
        Sampling rate the audio is converted to before eGeMAPS extraction.
    cache_dir : str or None, default=None
        The feature cache of the extraction from the corpus.
    n_jobs : int or None, default=None
        Extraction processes.
    cv : int or None, default=None
        If given, a speaker-independent ``cv``-fold estimate of the UAR is
        run first, with the same settings.
    seed : int, default=0
        Seed of every random state.
    device : str, default='cpu'
        Torch device.
    verbose : int, default=0
        Progress bars of the extraction.

    Returns
    -------
    trained : TrainedModel
        The fitted model and the facts of its card.

    See Also
    --------
    predict_files : Label new recordings with the model.
    sklearn_prognet.save_model : Save it, with its card, safely.

    Examples
    --------
    >>> from sklearn_prognet.experiments import train_model
    >>> trained = train_model(
    ...     "emodb", network={"hidden_layer_sizes": (16,), "max_epochs": 5})
    >>> [name for name, _ in trained.model.steps]
    ['scale', 'net']
    >>> trained.card["class_counts"]
    {'angry': 127, 'happy': 71, 'neutral': 79, 'sad': 62}
    """
    sources = tuple(sources)
    _check_method(method, sources)
    params = network_params(network, device=device)
    from_audio = _is_audio(corpus)
    corpus = load_corpus(
        corpus,
        emotions=emotions,
        cache_dir=cache_dir,
        resample=resample,
        n_jobs=n_jobs,
        verbose=verbose,
        features=features,
    )
    X = _feature_rows(corpus, normalization)
    cv_scores = None
    with sklearn.config_context(enable_metadata_routing=True):
        pipe, fit_params = _feature_pipeline(
            corpus, method, sources, params, lateral, normalization, seed
        )
        if cv is not None:
            cv_scores = _cross_validated_uar(
                sklearn.clone(pipe), X, corpus.emotion, fit_params, cv, seed
            )
        pipe.fit(X, corpus.emotion, **fit_params)
    steps = list(pipe.steps)
    if from_audio:
        # No cache and one process inside the model: predict chooses its own.
        feature_set = parse_features(features)
        extractor = feature_set.extractor(
            resample=resample, n_jobs=None, memory=None, on_error="raise", verbose=0
        )
        front = _audio_front(feature_set, extractor, normalization)
        # The corpus's features were extracted (and cached) by load_corpus;
        # the extractors learn nothing in fit, so the front is fitted on one
        # file rather than analysing the corpus again.
        front.fit(_front_input(front, corpus.files, corpus.speaker, first=1))
        steps.insert(0, ("features", front))
    model = Pipeline(steps)
    settings = dict(params, normalization=normalization, lateral=lateral, seed=seed)
    card = _card(corpus, from_audio, method, sources, settings, cv_scores)
    card["features"] = features + (f", resampled to {resample} Hz" if resample else "")
    return TrainedModel(model=model, card=card)


def _feature_rows(corpus, normalization):
    """The corpus's features as the scaler takes them.

    With per-speaker normalisation, a DataFrame of the features, named as the
    extractor names them (so that the audio front's output matches), and the
    speakers.
    """
    if not per_speaker(normalization):
        return corpus.X
    frame = pd.DataFrame(corpus.X, columns=list(corpus.feature_names))
    frame[SPEAKER_COLUMN] = np.asarray(corpus.speaker)
    return frame


def _is_audio(spec):
    """Whether the corpus ``spec`` names audio (its features are extracted)."""
    if not isinstance(spec, (str, os.PathLike)):
        return False  # a Corpus: its features are given
    kind, _, path = parse_spec(spec)
    return kind == "audio" or (kind == "table" and is_manifest(path))


def _card(corpus, from_audio, method, sources, settings, cv_scores):
    """The facts of the model card (the keys of :func:`~sklearn_prognet.save_model`)."""
    info = corpus.summary()
    card = {
        "corpus": f"{info['name']} ({info['description'] or info['spec']}), "
        f"{info['n_samples']} utterances of {info['n_speakers']} speakers",
        "class_counts": info["emotions"],
        "method": FINAL_METHODS[method]
        + (f" with source networks trained on {', '.join(sources)}" if sources else ""),
        "settings": settings,
        "licence": _licence(corpus),
        "input": _input_text(corpus, from_audio, settings["normalization"]),
    }
    if cv_scores is not None:
        card["cv_uar"] = (
            f"{np.mean(cv_scores):.3f} +/- {np.std(cv_scores):.3f} (mean +/- SD over "
            f"{len(cv_scores)} speaker-independent folds: "
            + ", ".join(f"{s:.3f}" for s in cv_scores)
            + ")"
        )
        card["cv_uar_per_fold"] = [round(float(s), 4) for s in cv_scores]
    return card


#: The licence of each corpus a named loader reads, for model cards.
CORPUS_LICENCES = {
    "emodb": "CC0-1.0 (EmoDB, Burkhardt et al. 2005, republished by audEERING)",
    "urdu": "research use only (URDU, Latif et al. 2018)",
    "ravdess": "CC BY-NC-SA 4.0 (RAVDESS, Livingstone and Russo 2018)",
    "iemocap": "licensed by its owners (IEMOCAP, USC SAIL lab)",
    "msp-improv": "licensed by its owners (MSP-IMPROV, UT Dallas MSP lab)",
    "nemo": "CC BY-NC-SA 4.0 (nEMO, Christop 2024)",
}


def _licence(corpus):
    """The licence of a corpus read by a named loader (or embedded).

    Only a loader's name says which corpus it is: a manifest or a feature
    table may carry any name.
    """
    kind, name, _ = parse_spec(corpus.spec) if corpus.spec else ("", "", None)
    known = kind in ("audio", "embedded")
    return CORPUS_LICENCES.get(
        name if known else None,
        "as stated by the owners of the training data (not known to "
        "sklearn_prognet: check it before you share this model)",
    )


def _input_text(corpus, from_audio, normalization):
    if not from_audio:
        return f"feature rows ({corpus.X.shape[1]} columns, as in the corpus's table)"
    if per_speaker(normalization):
        return "a DataFrame with 'file' and 'speaker' columns"
    return "a list of audio files"


def needs_speakers(model):
    """Whether ``model`` standardises per speaker, and so needs speaker ids."""
    return takes_audio(model) and SPEAKER_COLUMN in (
        _input_columns(model.steps[0][1]) or ()
    )


def takes_audio(model):
    """Whether ``model`` starts with a feature extractor (takes audio)."""
    return isinstance(model, Pipeline) and model.steps[0][0] == "features"


def predict_files(
    model, files, *, speakers=None, on_error="raise", n_jobs=None, verbose=0
):
    """Label audio files with a trained model: one row per file.

    A file that cannot be analysed is reported in its row (``status``) with
    ``on_error='nan'``, and the other files are still predicted.

    Read more in the :ref:`User Guide <use_a_trained_model>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    model : Pipeline
        A model of :func:`train_model` that takes audio.
    files : sequence of str
        The audio files.
    speakers : sequence of str or None, default=None
        The speaker of every file; required by a model with per-speaker
        normalisation, which standardises each speaker with their files here.
    on_error : {'raise', 'nan'}, default='raise'
        What a file that cannot be analysed does: stop, or get a row whose
        ``status`` holds its error, the other files still predicted.
    n_jobs : int or None, default=None
        Extraction processes.
    verbose : int, default=0
        Show a progress bar.

    Returns
    -------
    table : pandas.DataFrame
        ``file``, ``emotion`` (the predicted class; empty for a failed file),
        one ``p_<class>`` column per class (summing to 1), ``<dimension>``
        columns for a multi-task model, and ``status`` (``'ok'`` or the
        error).

    See Also
    --------
    train_model : Fit a model that takes audio.
    """
    if not takes_audio(model):
        raise ExperimentInputError(
            "This model was trained on a feature table and takes feature rows, "
            "not audio; train it from the corpus's audio (or a manifest) to "
            "predict recordings."
        )
    files = [str(f) for f in files]
    if not files:
        raise ExperimentInputError("No audio file to predict.")
    if needs_speakers(model) and speakers is None:
        raise ExperimentInputError(
            "This model standardises every speaker with their own recordings "
            "(per-speaker normalisation), so it needs the speaker of every file: "
            "give a list (CSV) with 'file' and 'speaker' columns."
        )
    front, rest = model.steps[0][1], Pipeline(model.steps[1:])
    X_input = _front_input(front, files, speakers)
    leaves = list(_extractors(front))
    saved = [leaf.get_params() for leaf in leaves]
    try:
        for leaf in leaves:
            _set_options(leaf, on_error="nan", n_jobs=n_jobs, verbose=verbose)
        with warnings.catch_warnings():
            # the failed files are reported in the table's status column
            warnings.filterwarnings("ignore", message=".*returned rows of NaN")
            features = front.transform(X_input)
        status = _failures(front, leaves, X_input, files, features)
    finally:
        for leaf, params in zip(leaves, saved, strict=True):
            leaf.set_params(**params)
    if status and on_error == "raise":
        reason = next(iter(status.values()))
        raise ExperimentInputError(
            f"{len(status)} of {len(files)} file(s) cannot be analysed, e.g. "
            f"{reason} (on_error='nan' predicts the others)."
        )
    ok = np.array([f not in status for f in files])
    classes = list(rest.classes_)
    proba = np.full((len(files), len(classes)), np.nan)
    labels = np.full(len(files), "", dtype=object)
    rows = features[ok]
    if ok.any():
        proba[ok] = rest.predict_proba(rows)
        labels[ok] = np.asarray(classes, dtype=object)[proba[ok].argmax(axis=1)]
    table = pd.DataFrame({"file": files, "emotion": labels})
    for i, label in enumerate(classes):
        table[f"p_{label}"] = proba[:, i]
    net = rest.steps[-1][1]
    if hasattr(net, "predict_ratings"):
        ratings = np.full((len(files), len(net.dimension_names_)), np.nan)
        if ok.any():
            ratings[ok] = net.predict_ratings(Pipeline(rest.steps[:-1]).transform(rows))
        for i, name in enumerate(net.dimension_names_):
            table[name] = ratings[:, i]
    table["status"] = [status.get(f, "ok") for f in files]
    return table


def _extractors(step):
    """The feature extractors of a model's front, inside column transformers."""
    if isinstance(step, ColumnTransformer):
        fitted = getattr(step, "transformers_", step.transformers)
        for _, transformer, _ in fitted:
            if not isinstance(transformer, str):  # 'passthrough', 'drop'
                yield from _extractors(transformer)
    else:
        yield step


def _set_options(extractor, **options):
    """Set those of ``options`` that ``extractor`` has (a text encoder has fewer)."""
    accepted = extractor.get_params()
    extractor.set_params(**{k: v for k, v in options.items() if k in accepted})


def _failures(front, leaves, X_input, files, features):
    """File -> why it could not be analysed, for the files with NaN features.

    The extraction gave those files rows of NaN; each is analysed again on
    its own, so that the extractor's own error says why.
    """
    values = features
    if hasattr(features, "columns") and SPEAKER_COLUMN in features.columns:
        values = features.drop(columns=SPEAKER_COLUMN)
    failed = ~np.isfinite(np.asarray(values, dtype=np.float64)).all(axis=1)
    for leaf in leaves:
        _set_options(leaf, on_error="raise", n_jobs=None, verbose=0)
    status = {}
    for i in np.flatnonzero(failed):
        row = X_input.iloc[i : i + 1] if hasattr(X_input, "iloc") else [X_input[i]]
        try:
            front.transform(row)
            status[files[i]] = "no finite features"
        except (ValueError, OSError) as exc:
            status[files[i]] = str(exc).split("\n")[0]
    return status


# Extensions of the audio files that --folder collects (libsndfile's formats).
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".opus", ".aiff", ".aif")


def read_file_list(files=(), file_list=None, folder=None):
    """The files to predict, from arguments, a CSV list and a folder.

    Parameters
    ----------
    files : sequence of str, default=()
        Audio files.
    file_list : path or None, default=None
        A CSV with a ``file`` column (relative paths are read from its
        folder) and optionally a ``speaker`` column.
    folder : path or None, default=None
        A folder whose audio files (any depth) are added, sorted.

    Returns
    -------
    files : list of str
        Every file, in the order given.
    speakers : list of str or None
        The speaker of every file, when the list gives one for each; None
        when no file has one.
    """
    paths = [str(f) for f in files]
    speakers = [None] * len(paths)
    if file_list is not None:
        listed, listed_speakers = _read_list(Path(file_list))
        paths += listed
        speakers += listed_speakers
    if folder is not None:
        folder = Path(folder)
        if not folder.is_dir():
            raise ExperimentInputError(f"--folder {str(folder)!r} is not a folder.")
        found = sorted(
            str(p)
            for p in folder.rglob("*")
            if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
        )
        if not found:
            raise ExperimentInputError(
                f"--folder {str(folder)!r} holds no audio file "
                f"({', '.join(AUDIO_SUFFIXES)})."
            )
        paths += found
        speakers += [None] * len(found)
    if not paths:
        raise ExperimentInputError(
            "No audio to predict: give files, --list CSV or --folder DIR."
        )
    if all(s is None for s in speakers):
        return paths, None
    missing = [p for p, s in zip(paths, speakers, strict=True) if s is None]
    if missing:
        raise ExperimentInputError(
            f"{len(missing)} file(s) have no speaker, e.g. {missing[0]!r}: give "
            "every file in the --list with its speaker, or none."
        )
    return paths, speakers


def _read_list(path):
    if not path.is_file():
        raise ExperimentInputError(f"--list {str(path)!r} does not exist.")
    sep = "\t" if ".tsv" in path.name.lower() else ","
    try:
        table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise ExperimentInputError(f"Cannot read --list {str(path)!r}: {exc}") from None
    if "file" not in table.columns:
        raise ExperimentInputError(
            f"--list {str(path)!r} has no 'file' column; its columns: "
            f"{list(table.columns)}."
        )
    if table.empty:
        raise ExperimentInputError(f"--list {str(path)!r} has a header but no rows.")
    # relative paths are relative to the list's folder, as in a manifest
    files = [os.path.abspath(path.parent / f.strip()) for f in table["file"]]
    if "speaker" not in table.columns:
        return files, [None] * len(files)
    speakers = [s.strip() or None for s in table["speaker"]]
    return files, speakers
