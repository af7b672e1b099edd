# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Speaker embeddings (GE2E d-vectors of resemblyzer) as a scikit-learn transformer.

The encoder, its preprocessing and its features are in :mod:`._ge2e`; this
module plugs them into the audio machinery of :mod:`._audio` (input checks,
cache, worker processes), as :mod:`._features` does for openSMILE.
"""

import os
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from sklearn_prognet.features import _ge2e
from sklearn_prognet.features._audio import (
    _audio_docstrings,
    _AudioTransformer,
    _InputError,
    _load_signal,
    _Row,
    share_torch_threads,
)
from sklearn_prognet.utils._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
)

__all__ = ["SpeakerEncoderTransformer"]

# Bump when the way a row is computed (or what is cached with it) changes:
# old cache entries then miss.
_CACHE_VERSION = 1

N_FEATURES = _ge2e.HIDDEN_SIZE
FEATURE_NAMES = np.asarray([f"dvector_{j}" for j in range(N_FEATURES)], dtype=object)

# Shortest signal, after the preprocessing, that the encoder embeds: one VAD
# window (30 ms). resemblyzer would zero-pad anything shorter, down to nothing
# at all, into a 1.6 s partial utterance and embed that.
_MIN_SAMPLES = _ge2e.VAD_WINDOW

# The digest of a weights file, per (path, size, mtime): hashing 17 MB on
# every transform would cost more than a short file's embedding.
_DIGESTS = {}


def _weights_digest(path):
    info = os.stat(path)
    key = (path, info.st_size, info.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = _ge2e.file_digest(path)
    return _DIGESTS[key]


@dataclass(frozen=True)
class _Config:
    """What a worker needs to turn one input into one d-vector."""

    weights: str
    digest: str
    sampling_rate: int | None
    channel: int | str
    normalize_volume: bool
    trim_silence: bool
    rate: float
    min_coverage: float

    # _load_signal resamples with audresample when this is set; the encoder
    # resamples itself, with soxr, as resemblyzer does.
    resample = None

    # What the shared runner of _audio needs (see its docstring).
    tool = "speaker encoder"
    silent_note = "they have no voice to embed"
    start_method = None  # the encoder runs on the CPU: forking is safe

    def cache_key(self):
        """Everything besides the audio content that changes a d-vector."""
        import soxr
        import torch

        return (
            "sklearn_prognet.SpeakerEncoderTransformer",
            _CACHE_VERSION,
            self.digest,
            torch.__version__,
            soxr.__version__,
            self.sampling_rate,
            self.channel,
            self.normalize_volume,
            self.trim_silence,
            self.rate,
            self.min_coverage,
        )

    def compute(self, source, name):
        signal, rate, input_rate, silent = _load_signal(source, self, name)
        if silent:
            # resemblyzer would divide by a zero RMS and return NaN.
            raise _InputError(
                name,
                "is silent (every sample is 0 in 16-bit PCM): there is no "
                "voice to embed",
            )
        wav = _ge2e.preprocess(
            signal[0].astype(np.float32),
            rate,
            normalize=self.normalize_volume,
            trim=self.trim_silence,
        )
        if len(wav) < _MIN_SAMPLES:
            raise _InputError(name, _too_short(signal.shape[-1], rate, len(wav), self))
        values = _ge2e.embed(
            wav, self.encoder(), rate=self.rate, min_coverage=self.min_coverage
        )
        return _Row(values, input_rate, silent)

    def encoder(self):
        return _ge2e.get_encoder(self.weights)

    def warm(self):
        self.encoder()

    def init_worker(self, n_workers):
        share_torch_threads(n_workers)


def _too_short(n_samples, rate, n_left, config):
    what = f"{n_samples} samples = {1000 * n_samples / rate:.1f} ms at {rate} Hz"
    if config.trim_silence:
        return (
            f"has too little voice for the speaker encoder ({what}; "
            f"{1000 * n_left / _ge2e.SAMPLING_RATE:.0f} ms left once the VAD "
            f"trimmed the silences): it needs at least {_MIN_SAMPLES} samples "
            f"= 30 ms of voice at 16 kHz (trim_silence=False keeps the silences)"
        )
    return (
        f"is too short for the speaker encoder ({what}): it needs at least "
        f"{_MIN_SAMPLES} samples = 30 ms at 16 kHz"
    )


@_audio_docstrings
class SpeakerEncoderTransformer(_AudioTransformer):
    """Embed utterances with resemblyzer's pre-trained GE2E speaker encoder.

    Turns each audio file (or signal) into one row: the 256-d "d-vector" of
    the speaker encoder of Resemblyzer (a 3-layer LSTM over 40 mel bands
    trained for speaker verification with the GE2E loss). Fused with
    eGeMAPS, d-vectors describe the voice of the speaker, which helps to
    normalize out who is speaking. The output equals that of
    ``resemblyzer.VoiceEncoder().embed_utterance(preprocess_wav(path))``, but
    resemblyzer is never imported: only its weights file is read, and its
    preprocessing is reimplemented. The transformer learns nothing from the
    data: ``fit`` only validates the parameters and records the feature
    names.

    Read more in the :ref:`User Guide <speaker_embeddings>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    normalize_volume : bool, default=True
        Raise the level of quiet inputs to -30 dBFS (RMS) before the silence
        trimming; louder inputs are left as they are. resemblyzer's
        preprocessing.

    trim_silence : bool, default=True
        Shorten the silences with the WebRTC voice activity detector (mode 3,
        30 ms windows, smoothed over 8 windows), keeping at most about 90 ms
        of silence on each side of the voice. resemblyzer's preprocessing.

    rate : float, default=1.3
        Partial utterances of 1.6 s per second of speech, whose embeddings
        are averaged. Values from 0.625 (partials back to back) to 100 (one
        every frame).

    min_coverage : float, default=0.75
        The last partial utterance is kept, zero-padded, if the signal covers
        at least this fraction of it (a signal shorter than one partial
        always gives one).

    sampling_rate : int, default=None
        Sampling rate in Hz of the signals in X; required when X holds
        signals. Files are read at their own rate. Every input is resampled
        to 16 kHz, the encoder's rate.

    channel : int or 'mean', default=0
        Channel of multi-channel audio to analyze, or 'mean' to mix all
        channels down to mono (as resemblyzer's ``librosa.load`` does). Mono
        audio is unaffected.

    n_jobs : int, default=None
        Number of worker processes, each with its own copy of the encoder
        and its share of the CPU cores. ``None`` means 1 unless in a
        :obj:`joblib.parallel_config` context; ``-1`` means all processors.
        See :term:`Glossary <n_jobs>`.

    memory : str, os.PathLike or object with the joblib.Memory interface, \
default=None
        Used to cache the d-vector of each input. A str or path is the cache
        folder. Entries are keyed on the bytes of each file (or signal), a
        hash of the weights file and the parameters. ``None`` disables
        caching.

    on_error : {'raise', 'nan'}, default='raise'
        What to do with an input that cannot be analyzed (missing, empty,
        truncated or non-audio file, silent input, too little voice left
        after the silence trimming, NaN or infinite samples...; see
        :ref:`audio_checks`). 'raise' raises :class:`FileNotFoundError`
        (missing file) or :class:`ValueError` naming the input; 'nan' returns
        a row of NaN for it and emits one :class:`UserWarning` that lists all
        such inputs.

    verbose : int, default=0
        If positive, show a progress bar (tqdm) during extraction.

    Attributes
    ----------
    feature_names_ : ndarray of str of shape (256,)
        ``'dvector_0'`` to ``'dvector_255'``.

    n_output_features_ : int
        Number of features per utterance (256).

    See Also
    --------
    EGeMAPSTransformer : The 88 hand-crafted eGeMAPS features.
    SpeechEmbeddingTransformer : Embeddings of self-supervised speech models.

    Notes
    -----
    For each input: the selected channel is resampled to 16 kHz (soxr,
    'soxr_hq'), its volume raised to -30 dBFS and its silences trimmed
    (``normalize_volume``, ``trim_silence``); the mel spectrogram (40 bands,
    25 ms windows every 10 ms) is cut into partial utterances of 1.6 s
    (``rate``, ``min_coverage``), each goes through the LSTM, and the
    d-vector is the L2-normalized mean of their L2-normalized embeddings.
    All in float32 on the CPU, as resemblyzer 0.1.4, whose output this
    equals to float rounding (``tests/test_speaker.py`` checks it on EmoDB,
    URDU and nEMO recordings at 16, 44.1 and 24 kHz). Every value is in
    [0, 1] (the last layer is a ReLU) and every row has unit norm.

    A silent input, or one with less than 30 ms of voice left after the
    silence trimming, is an error naming it, where resemblyzer would
    return NaN or embed zero padding.

    The weights are those of the ``resemblyzer`` package, located without
    importing it (``pip install "sklearn-prognet[speaker]"``). Resemblyzer's
    code and weights are licensed Apache-2.0 by Resemble AI.

    References
    ----------
    .. [1] L. Wan, Q. Wang, A. Papir, I. Lopez Moreno, "Generalized
       End-to-End Loss for Speaker Verification", ICASSP, 2018.
    .. [2] Resemble AI, "Resemblyzer", https://github.com/resemble-ai/Resemblyzer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_prognet import SpeakerEncoderTransformer
    >>> t = np.arange(32000) / 16000
    >>> signals = [0.1 * np.sin(2 * np.pi * f0 * t) for f0 in (120, 220)]
    >>> encoder = SpeakerEncoderTransformer(sampling_rate=16000, trim_silence=False)
    >>> X = encoder.fit_transform(signals)
    >>> X.shape
    (2, 256)
    >>> encoder.get_feature_names_out()[:2]
    array(['dvector_0', 'dvector_1'], dtype=object)
    >>> np.linalg.norm(X, axis=1).round(4)
    array([1., 1.])
    """

    _parameter_constraints: dict = {
        "normalize_volume": ["boolean"],
        "trim_silence": ["boolean"],
        "rate": [Interval(Real, 0.625, 100, closed="both")],
        "min_coverage": [Interval(Real, 0, 1, closed="right")],
        "sampling_rate": [None, Interval(Integral, 1, None, closed="left")],
        "channel": [Interval(Integral, 0, None, closed="left"), StrOptions({"mean"})],
        "n_jobs": [None, Integral],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
        "on_error": [StrOptions({"raise", "nan"})],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        normalize_volume=True,
        trim_silence=True,
        rate=1.3,
        min_coverage=0.75,
        sampling_rate=None,
        channel=0,
        n_jobs=None,
        memory=None,
        on_error="raise",
        verbose=0,
    ):
        self.normalize_volume = normalize_volume
        self.trim_silence = trim_silence
        self.rate = rate
        self.min_coverage = min_coverage
        self.sampling_rate = sampling_rate
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
        self._config()  # a missing extra is an error here already
        self.feature_names_ = FEATURE_NAMES.copy()
        self.n_output_features_ = N_FEATURES
        return self

    def transform(self, X):
        """Embed each input as one d-vector.

        Parameters
        ----------
        {audio_X}

        Returns
        -------
        X_new : ndarray of shape (n_utterances, 256)
            The d-vectors, float64 (computed in float32). Rows of inputs that
            failed are NaN when ``on_error='nan'``.
        """
        items, is_file = self._check_transform_input(X)
        return self._extract(items, is_file, self._config(), N_FEATURES).X

    def get_feature_names_out(self, input_features=None):
        """Get the names of the output features.

        Parameters
        ----------
        {input_features}

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``'dvector_0'`` to ``'dvector_255'``.
        """
        return FEATURE_NAMES.copy()

    def _config(self):
        owner = type(self).__name__
        _ge2e.check_dependencies(owner)
        weights = _ge2e.weights_path(owner)
        return _Config(
            weights=weights,
            digest=_weights_digest(weights),
            sampling_rate=self.sampling_rate,
            channel=self.channel,
            normalize_volume=bool(self.normalize_volume),
            trim_silence=bool(self.trim_silence),
            rate=float(self.rate),
            min_coverage=float(self.min_coverage),
        )
