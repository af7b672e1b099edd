# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Corpora of the experiments: embedded features, audio corpora, feature tables.

A corpus is named by a *spec* string:

- ``emodb`` (or ``emodb-embedded``): the eGeMAPS features of the 339 EmoDB
  files shipped with the package (the default);
- ``NAME:PATH``: the audio corpus at ``PATH`` read by the loader ``NAME``
  (``emodb``, ``urdu``, ``ravdess``, ``iemocap``, ``msp-improv``,
  ``nemo``), with
  eGeMAPS features extracted by :class:`~sklearn_prognet.EGeMAPSTransformer`
  and cached on disk;
- ``PATH.csv`` (or ``.csv.gz``, ``.tsv``): a feature table with one row per
  utterance, numeric feature columns and ``emotion``, ``speaker`` and
  (optionally) ``gender`` columns, such as ``sklearn-prognet extract`` writes;
  or an audio manifest, a table with a ``file`` column and no feature columns
  (:func:`~sklearn_prognet.datasets.load_manifest`), whose files are read
  and analysed like those of a named corpus.
"""

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sklearn_prognet.datasets import DEFAULT_EMOTIONS, DIMENSIONS
from sklearn_prognet.experiments._errors import ExperimentInputError
from sklearn_prognet.experiments._feature_sets import DEFAULT_FEATURES, parse_features
from sklearn_prognet.utils._messages import Message, Param
from sklearn_prognet.utils._warnings import warn

__all__ = [
    "PAPER_EMOTIONS",
    "Corpus",
    "ExperimentInputError",
    "describe_corpus",
    "load_corpus",
]

#: The four classes of Gideon et al. (2017): the datasets' default emotions.
PAPER_EMOTIONS = DEFAULT_EMOTIONS

# loader name -> function of sklearn_prognet.datasets
_LOADERS = {
    "emodb": "load_emodb",
    "urdu": "load_urdu",
    "ravdess": "load_ravdess",
    "iemocap": "load_iemocap",
    "msp-improv": "load_msp_improv",
    "nemo": "load_nemo",
}
_ALIASES = {"msp_improv": "msp-improv", "mspimprov": "msp-improv"}
_EMBEDDED = ("emodb", "emodb-embedded")
EMBEDDED_SAMPLING_RATE = 16000  # EmoDB's own rate
_TABLE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")
#: Columns of continuous or ordinal ratings: the dimensions of IEMOCAP and
#: MSP-IMPROV, and RAVDESS's intensity. They are labels, never features.
RATING_COLUMNS = (*DIMENSIONS, "intensity")
# Columns of a feature table that are not features.
METADATA_COLUMNS = (
    "file", "emotion", "speaker", "gender", "corpus", "session", *RATING_COLUMNS
)  # fmt: skip


@dataclass(eq=False)
class Corpus:
    """Features and labels of one corpus, as the experiments use them.

    Parameters
    ----------
    name : str
        Short name used in reports, e.g. ``'emodb'``.
    X : ndarray of shape (n_samples, n_features)
        Acoustic features (float64), not normalised.
    emotion : ndarray of shape (n_samples,)
        Emotion label of every utterance (str).
    speaker : ndarray of shape (n_samples,)
        Speaker id of every utterance (str).
    gender : ndarray of shape (n_samples,) or None
        Gender of every utterance (str; ``''`` where a table leaves it
        empty), or None when unknown.
    feature_names : list of str
        Names of the columns of ``X``.
    spec : str
        How the corpus was named (see :func:`load_corpus`).
    files : ndarray of shape (n_samples,) or None
        Audio file of every utterance, when known.
    description : str
        Where the features come from, for reports.
    sampling_rates : tuple of int or None, default=None
        Sampling rates (Hz) of the audio the features were extracted from,
        after any resampling; None when unknown (a feature table) or when
        the extractor resamples every file itself (speech embeddings).

        .. versionadded:: 0.1
    ratings : dict of str to ndarray of shape (n_samples,) or None, default=None
        Rating column (``arousal``, ``valence``, ``dominance``,
        ``intensity``) -> its values as read, NaN where missing; None when the
        corpus has none. Only the multitask experiment uses them; they do not
        enter :meth:`fingerprint`.

        .. versionadded:: 0.1

    See Also
    --------
    load_corpus : Load a corpus by name, path or feature table.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_prognet.experiments import Corpus
    >>> corpus = Corpus(
    ...     name="toy", X=np.zeros((4, 2)), emotion=np.array(["angry", "sad"] * 2),
    ...     speaker=np.array(["a", "a", "b", "b"]), gender=None,
    ...     feature_names=["f0", "f1"])
    >>> corpus.summary()["emotions"]
    {'angry': 2, 'sad': 2}
    """

    name: str
    X: np.ndarray
    emotion: np.ndarray
    speaker: np.ndarray
    gender: np.ndarray | None
    feature_names: list
    spec: str = ""
    files: np.ndarray | None = None
    description: str = field(default="")
    sampling_rates: tuple | None = None
    ratings: dict | None = None

    @property
    def n_samples(self):
        """Number of utterances."""
        return len(self.emotion)

    def fingerprint(self):
        """Return a SHA-256 digest of the features and labels.

        Results folders store it: other data means other results.

        Returns
        -------
        digest : str
            Hexadecimal SHA-256 of features, labels and feature names.
        """
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(self.X, dtype=np.float64).tobytes())
        for labels in (self.emotion, self.speaker, self.gender):
            text = "" if labels is None else "\x1f".join(map(str, labels))
            digest.update(text.encode() + b"\x1e")
        digest.update("\x1f".join(self.feature_names).encode())
        return digest.hexdigest()

    def summary(self):
        """Count utterances, speakers, emotions and genders, for reports.

        Returns
        -------
        info : dict
            ``name``, ``spec``, ``description``, ``n_samples``,
            ``n_features``, ``n_speakers``, ``emotions`` (counts) and, when
            known, ``genders`` (counts).
        """
        emotions, counts = np.unique(self.emotion, return_counts=True)
        info = {
            "name": self.name,
            "spec": self.spec,
            "description": self.description,
            "n_samples": int(self.n_samples),
            "n_features": int(self.X.shape[1]),
            "n_speakers": int(len(np.unique(self.speaker))),
            "emotions": {str(e): int(c) for e, c in zip(emotions, counts, strict=True)},
        }
        if self.gender is not None:
            genders, g_counts = np.unique(self.gender, return_counts=True)
            info["genders"] = {
                str(g): int(c) for g, c in zip(genders, g_counts, strict=True) if g
            }
        return info

    def select(self, mask):
        """Restrict the corpus to some utterances.

        Parameters
        ----------
        mask : ndarray of bool of shape (n_samples,)
            The utterances to keep.

        Returns
        -------
        corpus : Corpus
            A new corpus with the selected utterances.
        """
        return Corpus(
            name=self.name,
            X=self.X[mask],
            emotion=self.emotion[mask],
            speaker=self.speaker[mask],
            gender=None if self.gender is None else self.gender[mask],
            feature_names=list(self.feature_names),
            spec=self.spec,
            files=None if self.files is None else self.files[mask],
            description=self.description,
            sampling_rates=self.sampling_rates,
            ratings=None
            if self.ratings is None
            else {name: values[mask] for name, values in self.ratings.items()},
        )


def default_cache_dir():
    """Folder of the feature cache: ``$SKLEARN_PROGNET_CACHE`` or the user cache."""
    env = os.environ.get("SKLEARN_PROGNET_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sklearn_prognet"


def parse_spec(spec):
    """Split a corpus spec into ``(kind, name, path)``.

    ``kind`` is ``'embedded'``, ``'audio'`` or ``'table'``.
    """
    spec = str(spec).strip()
    if not spec:
        raise ExperimentInputError("The corpus is empty; try 'emodb'.")
    lower = spec.lower()
    if lower.endswith(_TABLE_SUFFIXES) or (
        os.path.isfile(spec) and ":" not in os.path.basename(spec)
    ):
        return "table", Path(spec).name.split(".")[0], Path(spec)
    name, sep, path = spec.partition(":")
    name = _ALIASES.get(name.lower(), name.lower())
    if not sep:
        if name in _EMBEDDED:
            return "embedded", "emodb", None
        if name in _LOADERS:
            raise ExperimentInputError(
                f"Corpus {spec!r} needs the path of its audio: use "
                f"'{name}:/path/to/{name}'. Only 'emodb' is embedded (as features)."
            )
        raise ExperimentInputError(_unknown_message(spec))
    if name not in _LOADERS:
        raise ExperimentInputError(_unknown_message(name))
    if not path:
        raise ExperimentInputError(f"Corpus {spec!r} has an empty path.")
    return "audio", name, Path(path).expanduser()


def _unknown_message(name):
    known = ", ".join(sorted(_LOADERS))
    return (
        f"Unknown corpus {name!r}. Use 'emodb' (embedded features), NAME:PATH "
        f"with NAME one of {known} (audio corpora read by sklearn_prognet.datasets)"
        ", or the path of a feature table (.csv) with emotion, speaker and gender "
        "columns."
    )


def load_corpus(
    spec="emodb",
    *,
    emotions=PAPER_EMOTIONS,
    cache_dir=None,
    resample=None,
    n_jobs=None,
    on_error="raise",
    verbose=0,
    features=DEFAULT_FEATURES,
):
    """Load the features and labels of a corpus.

    Parameters
    ----------
    spec : str or Corpus, default='emodb'
        ``'emodb'`` for the embedded EmoDB features, ``'NAME:PATH'`` for an
        audio corpus read by the loader ``NAME`` of
        :mod:`sklearn_prognet.datasets` (``emodb``, ``urdu``, ``ravdess``,
        ``iemocap``, ``msp-improv``, ``nemo``), or the path of a feature table (CSV
        with numeric feature columns and ``emotion``, ``speaker`` and
        optionally ``gender`` columns). A :class:`Corpus` is returned as it
        is, after the emotion selection.
    emotions : sequence of str or None, default=PAPER_EMOTIONS
        Emotions to keep (by default the paper's four: angry, happy, sad,
        neutral); every one must be present in the corpus. None
        keeps all.
    cache_dir : str, os.PathLike or None, default=None
        Folder of the feature cache of audio corpora (``joblib.Memory``).
        None means :func:`default_cache_dir`; ``'none'`` disables caching.
    resample : int or None, default=None
        Sampling rate in Hz to convert audio to before extraction (the
        ``resample`` of :class:`~sklearn_prognet.EGeMAPSTransformer`). The
        features depend on the rate, so corpora recorded at different rates
        (EmoDB 16 kHz, URDU 44.1 kHz) are compared at a common one. Feature
        tables are used as they are; the embedded EmoDB features are at
        16 kHz.
    n_jobs : int or None, default=None
        Processes used to extract features from audio.
    on_error : {'raise', 'nan'}, default='raise'
        What a file that cannot be analysed does (the ``on_error`` of
        :class:`~sklearn_prognet.EGeMAPSTransformer`): stop the extraction,
        or give it a row of NaN features, with a warning that lists such
        files. The experiments need every row, so they refuse NaN rows.

        .. versionadded:: 0.1
    verbose : int, default=0
        Show a progress bar while features are extracted from audio.
    features : str, default='egemaps'
        The features extracted from an audio corpus: ``'egemaps'`` (the 88
        eGeMAPS v02 features of openSMILE, the paper's), or
        ``'ssl:MODEL[:LAYER]'``, the hidden states of a self-supervised speech
        encoder averaged over time
        (:class:`~sklearn_prognet.SpeechEmbeddingTransformer`): ``MODEL`` is
        a Hugging Face Hub name or a folder, ``LAYER`` an index into its hidden
        states or ``'all'`` (default: the last). ``LAYER`` is
        the text after the last ``:`` when it is an integer or ``'all'``;
        otherwise the whole text is the model, so a path with ``:`` (on
        Windows) works. ``'text:MODEL[:LAYER]'`` embeds the ``transcript``
        column of corpora that have one
        (:class:`~sklearn_prognet.TextEmbeddingTransformer`). Several joined
        by ``'+'`` (``'egemaps+ssl:MODEL:6'``) are put side by side, their
        columns named ``PART__FEATURE`` (``egemaps__F0semitoneFrom27.5Hz_sma3nz_amean``,
        ``ssl__layer6_mean_0``), each part cached on its own; ``resample``
        applies to the eGeMAPS part. The embedded EmoDB corpus has eGeMAPS
        features only; a feature table is used as it is, with a warning.

        .. versionadded:: 0.1

    Returns
    -------
    corpus : Corpus
        The corpus.

    Raises
    ------
    ExperimentInputError
        For an unknown corpus name, a missing path, an unreadable table, or a
        requested emotion the corpus lacks.

    See Also
    --------
    sklearn_prognet.datasets.load_emodb_features : The embedded features.
    sklearn_prognet.EGeMAPSTransformer : The feature extractor.

    Examples
    --------
    >>> from sklearn_prognet.experiments import load_corpus
    >>> corpus = load_corpus("emodb")
    >>> corpus.X.shape, sorted(set(corpus.emotion))
    ((339, 88), ['angry', 'happy', 'neutral', 'sad'])
    """
    feature_set = parse_features(features)
    if isinstance(spec, Corpus):
        corpus = spec
    else:
        kind, name, path = parse_spec(spec)
        if kind == "embedded":
            _check_embedded_features(spec, feature_set)
            if resample not in (None, EMBEDDED_SAMPLING_RATE):
                raise ExperimentInputError(
                    f"The embedded EmoDB features were extracted at "
                    f"{EMBEDDED_SAMPLING_RATE} Hz, so ",
                    Param("resample", resample),
                    " cannot apply to them; extract the audio instead (emodb:PATH).",
                )
            corpus = _load_embedded()
        elif kind == "table" and not is_manifest(path):
            corpus = read_feature_table(path)
            if not feature_set.is_default:
                warn(
                    Message(
                        Param("features", feature_set.spec()),
                        f" does not apply to the feature table {str(spec)!r}: its "
                        "features were chosen when it was written, and it is used "
                        "as it is.",
                    )
                )
        else:  # a named audio corpus, or a manifest of audio files
            corpus = _load_audio(
                name,
                path,
                cache_dir=cache_dir,
                resample=resample,
                n_jobs=n_jobs,
                on_error=on_error,
                verbose=verbose,
                feature_set=feature_set,
                manifest=kind == "table",
            )
        corpus.spec = str(spec)
    return select_emotions(corpus, emotions)


def _check_embedded_features(spec, feature_set):
    if not feature_set.is_default:
        raise ExperimentInputError(
            f"The embedded EmoDB corpus ({str(spec)!r}) holds eGeMAPS features only; ",
            Param("features", feature_set.spec()),
            " needs the audio: use "
            "'emodb:/path/to/emodb' (the folder of the EmoDB wav files).",
        )


def select_emotions(corpus, emotions):
    """Keep the utterances of ``emotions``; each must be present."""
    if emotions is None:
        return corpus
    emotions = [str(e).strip().lower() for e in emotions]
    if not emotions or len(set(emotions)) != len(emotions) or "" in emotions:
        raise ExperimentInputError(
            Param("emotions", emotions), " must be distinct, non-empty names."
        )
    present = sorted(set(corpus.emotion))
    missing = [e for e in emotions if e not in present]
    if missing:
        raise ExperimentInputError(
            f"Corpus {corpus.name!r} ({corpus.spec}) has no utterance with emotion(s)"
            f" {missing}; its emotions are {present}. Choose others (",
            Param("emotions"),
            ").",
        )
    if len(emotions) < 2:
        raise ExperimentInputError(
            Param("emotions", emotions),
            ": emotion recognition needs at least 2 emotions.",
        )
    return corpus.select(np.isin(corpus.emotion, emotions))


def describe_corpus(corpus):
    """One line on a corpus (size, speakers, emotions), for progress messages."""
    info = corpus.summary()
    emotions = ", ".join(f"{e} {n}" for e, n in info["emotions"].items())
    return (
        f"Corpus {info['name']} ({info['description'] or info['spec']}): "
        f"{info['n_samples']} utterances, {info['n_speakers']} speakers, "
        f"{info['n_features']} features; {emotions}."
    )


def _as_str_array(values):
    return np.asarray([str(v) for v in values], dtype=object)


def _load_embedded():
    from sklearn_prognet.datasets import load_emodb_features

    bunch = load_emodb_features()
    X = np.asarray(bunch.data, dtype=np.float64)
    names = getattr(bunch, "feature_names", None)
    if names is None and hasattr(bunch.data, "columns"):
        names = bunch.data.columns
    if names is None:
        names = [f"x{i}" for i in range(X.shape[1])]
    files = getattr(bunch, "file", None)
    if files is None:
        files = getattr(bunch, "files", None)
    return Corpus(
        name="emodb",
        X=X,
        emotion=_as_str_array(bunch.target),
        speaker=_as_str_array(bunch.speaker),
        gender=_as_str_array(bunch.gender),
        feature_names=[str(n) for n in names],
        files=None if files is None else _as_str_array(files),
        description="EmoDB, eGeMAPS v02 features embedded in sklearn_prognet",
        sampling_rates=(EMBEDDED_SAMPLING_RATE,),
    )


def read_feature_table(path):
    """Read a feature table (CSV/TSV) into a :class:`Corpus`."""
    import pandas as pd

    path = Path(path).expanduser()
    if not path.is_file():
        raise ExperimentInputError(f"Feature table {str(path)!r} does not exist.")
    sep = _separator(path)
    text_columns = {
        c: str for c in METADATA_COLUMNS if c != "session" and c not in RATING_COLUMNS
    }
    try:
        table = pd.read_csv(path, sep=sep, dtype=text_columns)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise ExperimentInputError(
            f"Cannot read feature table {str(path)!r}: {exc}"
        ) from None
    for column in ("emotion", "speaker"):
        if column not in table.columns:
            raise ExperimentInputError(
                f"Feature table {str(path)!r} has no {column!r} column; it needs "
                "emotion and speaker columns (and gender for the gender source "
                f"task). Its columns: {list(table.columns)[:12]}..."
            )
    if table.empty:
        # read_csv gives the columns of a header without rows the dtype
        # object: say what is wrong rather than "not numeric"
        raise ExperimentInputError(
            f"Feature table {str(path)!r} has no rows (a header only): it needs "
            "one row per utterance."
        )
    features, X = _feature_matrix(table, path)
    for column in ("emotion", "speaker"):
        if table[column].isna().any():
            raise ExperimentInputError(
                f"Feature table {str(path)!r}: the {column!r} column has empty cells."
            )
    gender = None
    if "gender" in table.columns and table["gender"].notna().any():
        # Empty cells stay empty (''): the gender source task refuses them,
        # the others do not need gender.
        gender = _as_str_array(table["gender"].fillna("").str.strip().str.lower())
    name = path.name.split(".")[0]
    if "corpus" in table.columns and table["corpus"].nunique() == 1:
        name = str(table["corpus"].iloc[0])
    return Corpus(
        name=name,
        X=X,
        emotion=_as_str_array(table["emotion"].str.strip().str.lower()),
        speaker=_as_str_array(table["speaker"].str.strip()),
        gender=gender,
        feature_names=[str(c) for c in features],
        files=_as_str_array(table["file"]) if "file" in table.columns else None,
        description=f"feature table {path.name}",
        ratings=_ratings_of(table),
    )


def _feature_matrix(table, path):
    """The feature columns of a feature table and their values, all finite."""
    import pandas as pd

    features = [c for c in table.columns if c not in METADATA_COLUMNS]
    not_numeric = [
        c for c in features if not pd.api.types.is_numeric_dtype(table[c].dtype)
    ]
    if not_numeric:
        raise ExperimentInputError(
            f"Feature table {str(path)!r}: column(s) {not_numeric[:5]} are not "
            f"numeric; every column other than {list(METADATA_COLUMNS)} must be a "
            "feature."
            + (
                " (A table with a 'file' column and no feature columns is read "
                "as an audio manifest; its other columns must be manifest "
                "columns: see sklearn_prognet.datasets.load_manifest.)"
                if "file" in table.columns
                else ""
            )
        )
    if not features:
        raise ExperimentInputError(
            f"Feature table {str(path)!r} has no feature column."
        )
    X = table[features].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(X).all(axis=1)
    if bad.any():
        raise ExperimentInputError(
            f"Feature table {str(path)!r}: {int(bad.sum())} row(s) have missing or "
            f"infinite features (first: row {int(np.argmax(bad))})."
        )
    return features, X


def _separator(path):
    """The column separator of a table file: a tab for .tsv, else a comma."""
    return "\t" if ".tsv" in Path(path).name.lower() else ","


def _ratings_of(table):
    """The rating columns of a table, as read (checked by the experiment using them)."""
    ratings = {c: table[c].to_numpy() for c in RATING_COLUMNS if c in table.columns}
    return ratings or None


def is_manifest(path):
    """Whether the table at ``path`` is an audio manifest, not a feature table.

    A manifest has a ``file`` column and no column other than those of
    :data:`~sklearn_prognet.datasets.MANIFEST_COLUMNS`; a feature table has
    feature columns besides.
    """
    import pandas as pd

    from sklearn_prognet.datasets import MANIFEST_COLUMNS

    sep = _separator(path)
    try:
        columns = list(pd.read_csv(path, sep=sep, nrows=0).columns)
    except (ValueError, OSError, UnicodeDecodeError):
        return False  # read_feature_table says why
    return "file" in columns and set(columns) <= set(MANIFEST_COLUMNS)


def _audio_table(name, path, manifest):
    """The utterance table of an audio corpus: its loader's, or a manifest's."""
    from sklearn_prognet import datasets

    if manifest:
        loader, what = datasets.load_manifest, "the manifest"
    else:
        if not path.exists():
            raise ExperimentInputError(f"Corpus folder {str(path)!r} does not exist.")
        if not path.is_dir():
            raise ExperimentInputError(f"Corpus path {str(path)!r} is not a folder.")
        loader, what = getattr(datasets, _LOADERS[name]), name
    try:
        table = loader(path, emotions=None)
    except (ValueError, OSError) as exc:
        raise ExperimentInputError(
            f"Cannot load {what} from {str(path)!r}: {exc}"
        ) from None
    if "speaker" not in table.columns:
        raise ExperimentInputError(
            f"The manifest {str(path)!r} has no 'speaker' column: the "
            "experiments keep speakers apart across folds, so they need one."
        )
    return table


def _load_audio(
    name, path, *, cache_dir=None, resample=None, n_jobs=None, on_error="raise",
    verbose=0, feature_set=None, manifest=False,
):  # fmt: skip
    table = _audio_table(name, path, manifest)
    if cache_dir is None:
        cache_dir = default_cache_dir()
    memory = None if str(cache_dir).lower() == "none" else os.fspath(cache_dir)
    feature_set = parse_features(feature_set or DEFAULT_FEATURES)
    if resample is not None and not feature_set.resampled:
        warn(
            Message(
                Param("resample", resample),
                " does not apply to ",
                Param("features", feature_set.spec()),
                ": the model resamples every file to the rate it was trained at.",
            )
        )
        resample = None
    extractor = feature_set.extractor(
        resample=resample, n_jobs=n_jobs, memory=memory, on_error=on_error,
        verbose=verbose,
    )  # fmt: skip
    inputs = feature_set.inputs(table, corpus=f"{name} at {str(path)!r}")
    try:
        X = extractor.fit_transform(inputs)
    except (ValueError, OSError, ImportError) as exc:
        # exc.args[0]: the extractor's message, with its parameters (on_error)
        message = exc.args[0] if len(exc.args) == 1 else str(exc)
        raise ExperimentInputError(
            f"Feature extraction failed for {name} at {str(path)!r}: ", message
        ) from None
    feature_names = [str(n) for n in extractor.get_feature_names_out()]
    if not feature_set.resampled:
        # The model resamples every file to its own rate: the cross-corpus
        # check of the files' rates does not apply.
        rates = None
    else:
        rates = (resample,) if resample else _sampling_rates(table["file"])
    return Corpus(
        name=name,
        X=np.asarray(X, dtype=np.float64),
        emotion=_as_str_array(table["emotion"]),
        speaker=_as_str_array(table["speaker"]),
        gender=_as_str_array(table["gender"]) if "gender" in table else None,
        feature_names=feature_names,
        files=_as_str_array(table["file"]),
        description=f"{name} audio {'listed in' if manifest else 'at'} {path}, "
        f"{feature_set.describe(feature_names)}"
        + ("" if resample is None else f", resampled to {resample} Hz"),
        sampling_rates=rates,
        ratings=_ratings_of(table),
    )


def _sampling_rates(files):
    """The sampling rates of audio files, read from their headers."""
    import soundfile  # openSMILE's audio reader, installed with it

    rates = set()
    for file in files:
        try:
            rates.add(int(soundfile.info(file).samplerate))
        except Exception:  # noqa: BLE001 - a format it cannot read: rate unknown
            continue
    return tuple(sorted(rates)) or None


def corpus_to_frame(corpus):
    """The corpus as a feature table (metadata columns first)."""
    import pandas as pd

    meta = {}
    if corpus.files is not None:
        meta["file"] = corpus.files
    meta["emotion"] = corpus.emotion
    meta["speaker"] = corpus.speaker
    if corpus.gender is not None:
        meta["gender"] = corpus.gender
    meta["corpus"] = np.full(corpus.n_samples, corpus.name, dtype=object)
    meta.update(corpus.ratings or {})
    frame = pd.DataFrame(meta)
    features = pd.DataFrame(corpus.X, columns=corpus.feature_names)
    return pd.concat([frame, features], axis=1)
