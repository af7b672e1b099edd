# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Acoustic feature extraction with openSMILE as a scikit-learn transformer.

openSMILE (and the audio readers it brings) is imported inside functions only,
so that importing this module stays cheap.
"""

import os
import warnings
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from sklearn_prognet.features._audio import (
    _audio_docstrings,
    _AudioTransformer,
    _InputError,
    _load_signal,
    _Row,
)
from sklearn_prognet.utils._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
)
from sklearn_prognet.utils._messages import Message, Param
from sklearn_prognet.utils._warnings import warn

__all__ = ["EGeMAPSTransformer"]

# Names of ``opensmile.FeatureSet`` members. Written out rather than read from
# the enum so that the parameter constraints do not import openSMILE. The
# legacy aliases "GeMAPS" and "eGeMAPS" are left out on purpose: they silently
# mean the v01a sets.
_FEATURE_SETS = (
    "ComParE_2016",
    "GeMAPSv01a",
    "GeMAPSv01b",
    "eGeMAPSv01a",
    "eGeMAPSv01b",
    "eGeMAPSv02",
    "emobase",
    "IS09",
    "IS10",
    "IS11",
    "IS12",
    "IS13",
)
_FEATURE_LEVELS = {"functionals": "Functionals"}

# Bump when the way a row is computed (or what is cached with it) changes:
# old cache entries then miss. 2: entries are _Row records, not bare rows.
_CACHE_VERSION = 2

# Every feature set offered analyzes frequencies up to 8 kHz: the Mel or
# auditory band filters of loudness and MFCCs end at 8000 Hz (``hifreq = 8000``
# in openSMILE's eGeMAPSv02, GeMAPS, ComParE_2016, emobase and IS09-13
# configs). eGeMAPS also estimates formants by LPC on a spectrum resampled to
# 11 kHz (``targetFs = 11000``, formants up to ``maxF = 5450`` Hz) and the
# alpha ratio, Hammarberg index and spectral flux up to 5000 Hz
# (``freqRange = 0-5000``). Below 2 * 8 kHz some bands are empty, so the
# features differ from those of the same speech at 16 kHz or more.
_MIN_RESAMPLE = 16000


@dataclass(frozen=True)
class _Config:
    """What a worker needs to turn one input into one row of features."""

    feature_set: str
    feature_level: str
    sampling_rate: int | None
    resample: int | None
    channel: int | str

    def cache_key(self):
        """Everything that changes the features of given audio content.

        For files ``sampling_rate`` only checks the input, but it is part of
        the key all the same: a cached entry skips that check.
        """
        import opensmile

        return (
            "sklearn_prognet.EGeMAPSTransformer",
            _CACHE_VERSION,
            opensmile.__version__,
            self.feature_set,
            self.feature_level,
            self.sampling_rate,
            self.resample,
            self.channel,
        )

    # What the shared runner of _audio needs (see its docstring).
    tool = "openSMILE"
    silent_note = "openSMILE returns 0 for most of their features"
    start_method = None  # multiprocessing's default, as openSMILE's own

    def compute(self, source, name):
        return _compute(source, self, name)

    def warm(self):
        _get_smile(self.feature_set, self.feature_level)

    def init_worker(self, n_workers):
        pass


_SMILES = {}


def _get_smile(feature_set, feature_level):
    key = (feature_set, feature_level)
    smile = _SMILES.get(key)
    if smile is None:
        import opensmile

        smile = opensmile.Smile(
            feature_set=opensmile.FeatureSet[feature_set],
            feature_level=opensmile.FeatureLevel[_FEATURE_LEVELS[feature_level]],
        )
        _SMILES[key] = smile
    return smile


def _feature_names(feature_set, feature_level):
    return list(_get_smile(feature_set, feature_level).feature_names)


def _extract(signal, sampling_rate, config, name):
    smile = _get_smile(config.feature_set, config.feature_level)
    with warnings.catch_warnings():
        # Too short clips come back as NaN with this warning; we raise instead.
        warnings.filterwarnings("ignore", message="Segment too short")
        row = smile(signal, sampling_rate)
    row = np.asarray(row, dtype=np.float32).reshape(-1)
    if np.isnan(row).all():
        n_samples = signal.shape[-1]
        raise _InputError(
            name,
            f"is too short for openSMILE ({n_samples} samples = "
            f"{1000 * n_samples / sampling_rate:.1f} ms at {sampling_rate} Hz)",
        )
    return row


def _compute(source, config, name):
    """Features of one file path or one signal, as a _Row."""
    signal, sampling_rate, input_rate, silent = _load_signal(source, config, name)
    row = _extract(signal, sampling_rate, config, name)
    return _Row(row, input_rate, silent)


@_audio_docstrings
class EGeMAPSTransformer(_AudioTransformer):
    """Extract utterance-level acoustic features with openSMILE.

    Turns each audio file (or signal) into one row of openSMILE functionals,
    by default the 88 features of the extended Geneva Minimalistic Acoustic
    Parameter Set (eGeMAPS v02) used by Gideon et al. (2017). The transformer
    learns nothing from the data: ``fit`` only validates the parameters and
    records the feature names.

    Read more in the :ref:`User Guide <features>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    feature_set : {'eGeMAPSv02', 'eGeMAPSv01b', 'eGeMAPSv01a', 'GeMAPSv01b', \
'GeMAPSv01a', 'ComParE_2016', 'emobase', 'IS09', 'IS10', 'IS11', 'IS12', \
'IS13'}, default='eGeMAPSv02'
        Name of the ``opensmile.FeatureSet`` to extract. eGeMAPSv02 gives 88
        features, ComParE_2016 6373. openSMILE itself warns that the older
        (e)GeMAPS versions are deprecated.

    feature_level : {'functionals'}, default='functionals'
        openSMILE's feature level. Only the functionals (statistics over the
        whole utterance) give one row per utterance, as a transformer must;
        low-level descriptors are one row per 10 ms frame and are not offered.

    sampling_rate : int, default=None
        Sampling rate in Hz of the input. Required when X holds signals. With
        file paths, None accepts each file's own rate and an int makes a file
        with another rate an error (unless ``resample`` converts it).

    resample : int, default=None
        If an int, every input is resampled to this rate in Hz (with
        ``audresample``) before extraction, e.g. to compare corpora recorded
        at different rates. None extracts at each input's own rate.

    channel : int or 'mean', default=0
        Channel of multi-channel audio to analyze, or 'mean' to mix all
        channels down to mono. Mono audio is unaffected.

    n_jobs : int, default=None
        Number of worker processes. ``None`` means 1 unless in a
        :obj:`joblib.parallel_config` context; ``-1`` means all processors.
        See :term:`Glossary <n_jobs>`.

    memory : str, os.PathLike or object with the joblib.Memory interface, \
default=None
        Used to cache the features of each input, as in
        :class:`~sklearn.pipeline.Pipeline`. A str or path is the cache
        folder. Entries are keyed on the bytes of each file (or signal) and on
        the configuration, so a renamed or copied file hits the cache and an
        edited one does not. ``None`` disables caching.

    on_error : {'raise', 'nan'}, default='raise'
        What to do with an input that cannot be analyzed (missing, empty,
        truncated or non-audio file, clip too short for openSMILE, NaN or
        infinite samples...; see :ref:`audio_checks`).
        'raise' raises :class:`FileNotFoundError` (missing file) or
        :class:`ValueError` naming the input; 'nan' returns a row of NaN for
        it and emits one :class:`UserWarning` that lists all such inputs.

    verbose : int, default=0
        If positive, show a progress bar (tqdm) during extraction.

    Attributes
    ----------
    feature_names_ : ndarray of str of shape (`n_output_features_`,)
        Names of the features, as openSMILE names them.

    n_output_features_ : int
        Number of features per utterance (88 for eGeMAPSv02).

    See Also
    --------
    sklearn_prognet.datasets.load_emodb : Table of EmoDB file paths and labels.
    sklearn_prognet.datasets.load_emodb_features : The eGeMAPS features of
        EmoDB, precomputed with this transformer.

    Notes
    -----
    ``transform`` accepts a 1-D sequence (list, tuple, array or
    :class:`pandas.Series`) of either file paths or signals. A signal is a
    numpy array of shape (n_samples,) or (n_channels, n_samples); integer
    signals are scaled to [-1, 1] (int16 divided by 32768, int32 by 2**31,
    uint8 centered at 128); float signals should lie in [-1, 1]. Samples
    beyond full scale are clipped to [-1, 32767/32768] (openSMILE converts to
    int16 with ``x * 32768``, so 1.0 would otherwise wrap around to -1);
    float signals peaking above 2 are rejected as unscaled. Files are
    read with ``soundfile`` (WAV, FLAC, OGG, MP3, ...), other formats with
    ``audiofile`` if ffmpeg is installed. openSMILE returns no
    functionals for clips shorter than its longest analysis window (60 ms for
    eGeMAPSv02, measured at 8, 16 and 44.1 kHz); such clips are errors.

    WAV files shorter than their header says (cut short in a copy) are
    errors, where libsndfile would read the part that is there. A
    :class:`UserWarning` reports digitally silent inputs (most features are
    0), files at several sampling rates when neither ``sampling_rate`` nor
    ``resample`` is set, and ``resample`` below 16 kHz, the rate that the
    8 kHz filter banks of every offered feature set need. The
    :ref:`User Guide <audio_checks>` lists every check.

    With ``n_jobs > 1`` the inputs are split into small chunks, longest
    first, and analyzed by a :class:`concurrent.futures.ProcessPoolExecutor`
    that uses multiprocessing's default start method (as openSMILE's own
    ``multiprocessing=True`` does). Results equal those of one process.

    Output values equal those of ``opensmile.Smile(...).process_files`` on the
    same files, cast from float32 to float64.

    References
    ----------
    .. [1] F. Eyben et al., "The Geneva Minimalistic Acoustic Parameter Set
       (GeMAPS) for Voice Research and Affective Computing", IEEE Transactions
       on Affective Computing, 7(2), 2016.
    .. [2] F. Eyben, M. Wöllmer, B. Schuller, "openSMILE - The Munich Versatile
       and Fast Open-Source Audio Feature Extractor", ACM Multimedia, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_prognet import EGeMAPSTransformer
    >>> t = np.arange(16000) / 16000
    >>> signals = [0.5 * np.sin(2 * np.pi * f0 * t) for f0 in (120, 220)]
    >>> egemaps = EGeMAPSTransformer(sampling_rate=16000)
    >>> X = egemaps.fit_transform(signals)
    >>> X.shape
    (2, 88)
    >>> egemaps.get_feature_names_out()[:2]
    array(['F0semitoneFrom27.5Hz_sma3nz_amean',
           'F0semitoneFrom27.5Hz_sma3nz_stddevNorm'], dtype=object)
    >>> bool(X[1, 0] > X[0, 0])  # mean pitch in semitones
    True
    """

    _parameter_constraints: dict = {
        "feature_set": [StrOptions(set(_FEATURE_SETS))],
        "feature_level": [StrOptions(set(_FEATURE_LEVELS))],
        "sampling_rate": [None, Interval(Integral, 1, None, closed="left")],
        "resample": [None, Interval(Integral, 1, None, closed="left")],
        "channel": [Interval(Integral, 0, None, closed="left"), StrOptions({"mean"})],
        "n_jobs": [None, Integral],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
        "on_error": [StrOptions({"raise", "nan"})],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        feature_set="eGeMAPSv02",
        feature_level="functionals",
        sampling_rate=None,
        resample=None,
        channel=0,
        n_jobs=None,
        memory=None,
        on_error="raise",
        verbose=0,
    ):
        self.feature_set = feature_set
        self.feature_level = feature_level
        self.sampling_rate = sampling_rate
        self.resample = resample
        self.channel = channel
        self.n_jobs = n_jobs
        self.memory = memory
        self.on_error = on_error
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and X, and record the feature names.

        {fit_parameters}
        """
        self._check_input(X)
        names = _feature_names(self.feature_set, self.feature_level)
        self.feature_names_ = np.asarray(names, dtype=object)
        self.n_output_features_ = len(names)
        return self

    def transform(self, X):
        """Extract one row of features per input.

        Parameters
        ----------
        {audio_X}

        Returns
        -------
        X_new : ndarray of shape (n_utterances, `n_output_features_`)
            The features, float64. Rows of inputs that failed are NaN when
            ``on_error='nan'``.
        """
        items, is_file = self._check_transform_input(X)
        self._check_resample()
        config = _Config(
            feature_set=self.feature_set,
            feature_level=self.feature_level,
            sampling_rate=self.sampling_rate,
            resample=self.resample,
            channel=self.channel,
        )
        names = _feature_names(self.feature_set, self.feature_level)
        results = self._extract(items, is_file, config, len(names))
        if is_file and self.resample is None and self.sampling_rate is None:
            results.warn_mixed_rates()
        return results.X

    def get_feature_names_out(self, input_features=None):
        """Get the names of the output features, as openSMILE names them.

        Parameters
        ----------
        {input_features}

        Returns
        -------
        feature_names_out : ndarray of str objects
            The feature names, e.g. ``'F0semitoneFrom27.5Hz_sma3nz_amean'``.
        """
        self._validate_params()
        names = _feature_names(self.feature_set, self.feature_level)
        return np.asarray(names, dtype=object)

    # -- helpers ---------------------------------------------------------------

    def _check_resample(self):
        if self.resample is not None and self.resample < _MIN_RESAMPLE:
            warn(
                Message(
                    Param("resample", self.resample),
                    f" keeps frequencies up to "
                    f"{self.resample / 2:g} Hz, but {self.feature_set} analyzes up to "
                    f"8000 Hz (loudness and MFCC bands; eGeMAPS formants up to 5450 "
                    f"Hz, alpha ratio and Hammarberg index up to 5000 Hz), which needs "
                    f"a rate of at least {_MIN_RESAMPLE} Hz: the empty bands change "
                    "the features. Use it only to match audio that is band-limited "
                    "anyway, such as telephone speech.",
                )
            )
