# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The eGeMAPS features and speaker d-vectors of EmoDB, shipped inside the package.

``data/emodb_egemaps.csv.gz`` is written by ``scripts/build_embedded_corpus.py``
and ``data/emodb_dvector.csv.gz`` by ``scripts/build_embedded_dvectors.py``,
with the helpers at the end of this module.
"""

import functools
import gzip
import io
import os
from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from sklearn_prognet.datasets._base import DEFAULT_EMOTIONS
from sklearn_prognet.datasets._emodb import load_emodb
from sklearn_prognet.utils._compat import StrOptions, validate_params

__all__ = ["load_emodb_features"]

DATA_FILE = "emodb_egemaps.csv.gz"
DVECTOR_FILE = "emodb_dvector.csv.gz"
META_COLUMNS = ["file", "emotion", "speaker", "gender"]
# Significant digits stored; openSMILE computes in float32 (about 7 digits).
PRECISION = 7
# Decimals stored of the d-vectors: their values lie in [0, 1], so 6 decimals
# keep them to 5e-7, below the 1e-5 that separates the encoder from
# resemblyzer's, in a file of about 0.16 MB.
DVECTOR_DECIMALS = 6
FEATURES = ("egemaps", "dvector", "egemaps+dvector")

DESCR = """\
.. _emodb_egemaps_dataset:

EmoDB eGeMAPS features
----------------------

The 88 eGeMAPS (v02) functionals of the 339 recordings of the Berlin Database
of Emotional Speech (EmoDB) that portray anger, happiness, sadness or a
neutral state: the four classes of Gideon et al. (2017).

**Data Set Characteristics:**

:Number of Instances: 339 (angry 127, happy 71, sad 62, neutral 79)
:Number of Attributes: 88 numeric acoustic features (eGeMAPSv02
    functionals: pitch, loudness, jitter, shimmer, formants, spectral
    balance, MFCC 1-4, rates of voiced segments...), named as openSMILE
    names them
:Speakers: 10 actors, 5 female (08, 09, 13, 14, 16) and 5 male (03, 10, 11,
    12, 15); 16 kHz German speech, 1.4 to 9 s per utterance
:Extraction: ``sklearn_prognet.EGeMAPSTransformer()`` (openSMILE, eGeMAPSv02,
    functionals) on the original wav files, stored with 7 significant digits
    by ``scripts/build_embedded_corpus.py``
:Licence: EmoDB is republished by audEERING under CC0-1.0; so are these
    derived features.

Group cross-validation by ``speaker`` to measure speaker-independent
performance. Standardize the features before a neural network (the paper
z-normalizes each corpus).

``load_emodb_features(features="dvector")`` gives instead the 256-d speaker
embeddings (d-vectors, ``dvector_0`` to ``dvector_255``) of the same
recordings, in the same order, computed with
``sklearn_prognet.SpeakerEncoderTransformer()`` (resemblyzer's GE2E encoder,
whose code and weights are Apache-2.0) and stored with 6 decimals;
``features="egemaps+dvector"`` gives both, side by side.

.. rubric:: References

- F. Burkhardt, A. Paeschke, M. Rolfes, W. Sendlmeier, B. Weiss (2005),
  "A Database of German Emotional Speech", Interspeech, pp. 1517-1520.
- F. Eyben et al. (2016), "The Geneva Minimalistic Acoustic Parameter Set
  (GeMAPS) for Voice Research and Affective Computing", IEEE Transactions on
  Affective Computing 7(2), pp. 190-202.
- J. Gideon, S. Khorram, Z. Aldeneh, D. Dimitriadis, E. Mower Provost (2017),
  "Progressive Neural Networks for Transfer Learning in Emotion
  Recognition", Interspeech.
"""


def _read_csv(name):
    data = resources.files("sklearn_prognet.datasets") / "data" / name
    with data.open("rb") as f:
        table = pd.read_csv(
            f, compression="gzip", dtype=dict.fromkeys(META_COLUMNS, str)
        )
    features = [c for c in table.columns if c not in META_COLUMNS]
    table[features] = table[features].astype(np.float64)
    return table


@functools.cache
def _read_table(features="egemaps"):
    """The shipped table, parsed once per process (callers copy from it)."""
    egemaps = _read_csv(DATA_FILE)
    if features == "egemaps":
        return egemaps
    dvectors = _read_csv(DVECTOR_FILE)
    # The d-vector table holds only the file names: the labels come from the
    # eGeMAPS table, so the two can never disagree on them.
    if list(dvectors["file"]) != list(egemaps["file"]):
        raise RuntimeError(f"{DVECTOR_FILE} and {DATA_FILE} list different files.")
    dvectors = dvectors.drop(columns="file")
    if features == "dvector":
        return pd.concat([egemaps[META_COLUMNS], dvectors], axis=1)
    return pd.concat([egemaps, dvectors], axis=1)


@validate_params(
    {
        "features": [StrOptions(set(FEATURES))],
        "emotions": ["array-like", str, None],
        "as_frame": ["boolean"],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_emodb_features(
    *,
    features="egemaps",
    emotions=DEFAULT_EMOTIONS,
    as_frame=False,
    return_X_y=False,
):
    """Load the eGeMAPS features or speaker d-vectors of EmoDB, shipped inside.

    The 88 eGeMAPS (v02) features of the 339 EmoDB recordings of anger,
    happiness, sadness and neutral speech, with emotion, speaker and gender;
    or their 256-d speaker embeddings (d-vectors), or both. Works offline:
    the tables are stored inside the package (about 0.14 and 0.16 MB). This
    is the default corpus of the package's examples.

    Read more in the :ref:`User Guide <emodb_egemaps_dataset>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    features : {'egemaps', 'dvector', 'egemaps+dvector'}, default='egemaps'
        Which features: the 88 eGeMAPS features, the 256 d-vector
        components of :class:`~sklearn_prognet.SpeakerEncoderTransformer`
        (``'dvector_0'`` to ``'dvector_255'``), or both, eGeMAPS first.

        .. versionadded:: 0.1

    emotions : sequence of str or None, default=DEFAULT_EMOTIONS
        Emotions to keep (by default ``('angry', 'happy', 'sad', 'neutral')``),
        among ``'angry'``, ``'happy'``, ``'sad'`` and
        ``'neutral'`` (the only ones stored). None keeps all four.

    as_frame : bool, default=False
        If True, ``data`` is a :class:`pandas.DataFrame`, ``target``,
        ``speaker``, ``gender`` and ``file`` are :class:`pandas.Series`, and
        ``frame`` holds them all in one DataFrame.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : {ndarray, DataFrame} of shape (n_utterances, n_features)
            The features (float64): 88 for eGeMAPS, 256 for the
            d-vectors, 344 for both. Columns are named as openSMILE names
            them (and ``'dvector_{j}'``) when ``as_frame=True``.
        target : {ndarray, Series} of shape (n_utterances,)
            The emotion of each utterance (str).
        speaker : {ndarray, Series} of shape (n_utterances,)
            Speaker id, ``'03'`` to ``'16'``: the groups for speaker-independent
            cross-validation.
        gender : {ndarray, Series} of shape (n_utterances,)
            ``'female'`` or ``'male'``.
        file : {ndarray, Series} of shape (n_utterances,)
            Base name of the EmoDB audio file, e.g. ``'03a01Wa.wav'``.
        feature_names : list of str
            The feature names.
        target_names : ndarray of str
            The emotions kept, in the order of ``emotions``.
        frame : DataFrame of shape (n_utterances, n_features + 4)
            Only present when ``as_frame=True``: the features followed by the
            ``emotion``, ``speaker``, ``gender`` and ``file`` columns.
        DESCR : str
            Description of the data, with references.

    (data, target) : tuple if ``return_X_y`` is True
        The ``data`` and ``target`` described above.

    Raises
    ------
    ValueError
        If an emotion is not one of the four stored.

    See Also
    --------
    load_emodb : The table of EmoDB audio files, to extract other features.
    sklearn_prognet.EGeMAPSTransformer : The transformer that computed the
        eGeMAPS features.
    sklearn_prognet.SpeakerEncoderTransformer : The transformer that computed
        the d-vectors.

    Notes
    -----
    Rows are sorted by file name. Each call returns new arrays: modifying
    them does not affect later calls.

    Examples
    --------
    >>> from sklearn_prognet.datasets import load_emodb_features
    >>> emodb = load_emodb_features()
    >>> emodb.data.shape
    (339, 88)
    >>> emodb.target[:3]
    array(['happy', 'neutral', 'angry'], dtype=object)
    >>> sorted(set(emodb.speaker))
    ['03', '08', '09', '10', '11', '12', '13', '14', '15', '16']
    >>> X, y = load_emodb_features(emotions=["angry", "sad"], return_X_y=True)
    >>> X.shape, sorted(set(y))
    ((189, 88), ['angry', 'sad'])
    >>> fused = load_emodb_features(features="egemaps+dvector")
    >>> fused.data.shape, fused.feature_names[88]
    ((339, 344), 'dvector_0')
    """
    if emotions is None:
        emotions = DEFAULT_EMOTIONS
    if isinstance(emotions, str):
        emotions = (emotions,)
    emotions = tuple(emotions)
    unknown = [e for e in emotions if e not in DEFAULT_EMOTIONS]
    if unknown or not emotions or len(set(emotions)) != len(emotions):
        raise ValueError(
            f"emotions={list(emotions)}: the embedded EmoDB table holds each of "
            f"{list(DEFAULT_EMOTIONS)} once; for other emotions use "
            "load_emodb(path) on the corpus and EGeMAPSTransformer."
        )

    table = _read_table(features)
    table = table[table["emotion"].isin(emotions)].reset_index(drop=True)
    feature_names = [c for c in table.columns if c not in META_COLUMNS]
    data = table[feature_names]
    target = table["emotion"]

    if as_frame:
        bunch = Bunch(
            data=data.copy(),
            target=target.copy(),
            speaker=table["speaker"].copy(),
            gender=table["gender"].copy(),
            file=table["file"].copy(),
            frame=table[[*feature_names, "emotion", "speaker", "gender", "file"]],
        )
    else:
        bunch = Bunch(
            data=data.to_numpy(dtype=np.float64, copy=True),
            target=target.to_numpy(dtype=object, copy=True),
            speaker=table["speaker"].to_numpy(dtype=object, copy=True),
            gender=table["gender"].to_numpy(dtype=object, copy=True),
            file=table["file"].to_numpy(dtype=object, copy=True),
        )
    if return_X_y:
        return bunch.data, bunch.target
    bunch.feature_names = feature_names
    bunch.target_names = np.asarray(emotions, dtype=object)
    bunch.DESCR = DESCR
    return bunch


# -- building the shipped table (scripts/build_embedded_corpus.py) ------------


def build_emodb_table(corpus_dir, *, n_jobs=None, memory=None, verbose=0):
    """Extract the table to ship from an EmoDB folder with the package's own code.

    Returns a DataFrame with ``META_COLUMNS`` (``file`` as base name) and the
    eGeMAPSv02 features, one row per four-class file, sorted by file.
    """
    from sklearn_prognet.features._features import EGeMAPSTransformer

    files = load_emodb(corpus_dir, emotions=DEFAULT_EMOTIONS)
    egemaps = EGeMAPSTransformer(n_jobs=n_jobs, memory=memory, verbose=verbose)
    features = egemaps.fit_transform(files["file"])
    table = files[["file", "emotion", "speaker", "gender"]].copy()
    table["file"] = [os.path.basename(name) for name in table["file"]]
    features = pd.DataFrame(features, columns=egemaps.get_feature_names_out())
    return pd.concat([table, features], axis=1)


def write_table(table, path):
    """Write ``table`` as gzip CSV, byte-for-byte reproducible (no timestamp)."""
    text = table.to_csv(
        index=False, float_format=f"%.{PRECISION}g", lineterminator="\n"
    )
    _write_gzip(text, path)


def _write_gzip(text, path):
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(text.encode("utf-8"))
    with open(path, "wb") as f:
        f.write(buffer.getvalue())


def build_emodb_dvector_table(corpus_dir, *, n_jobs=None, memory=None, verbose=0):
    """Extract the d-vector table to ship from an EmoDB folder.

    Returns a DataFrame with ``file`` (base name) and the 256 d-vector
    components of :class:`~sklearn_prognet.SpeakerEncoderTransformer`, one row
    per four-class file, sorted by file as the eGeMAPS table.
    """
    from sklearn_prognet.features._speaker import SpeakerEncoderTransformer

    files = load_emodb(corpus_dir, emotions=DEFAULT_EMOTIONS)
    encoder = SpeakerEncoderTransformer(n_jobs=n_jobs, memory=memory, verbose=verbose)
    dvectors = encoder.fit_transform(files["file"])
    table = pd.DataFrame({"file": [os.path.basename(name) for name in files["file"]]})
    dvectors = pd.DataFrame(dvectors, columns=encoder.get_feature_names_out())
    return pd.concat([table, dvectors], axis=1)


def write_dvector_table(table, path):
    """Write the d-vectors with 6 decimals, byte-for-byte reproducible."""
    _write_gzip(
        table.to_csv(
            index=False, float_format=f"%.{DVECTOR_DECIMALS}f", lineterminator="\n"
        ),
        path,
    )
