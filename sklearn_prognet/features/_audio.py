# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Audio input handling shared by the transformers that take audio.

:class:`~sklearn_prognet.EGeMAPSTransformer` and
:class:`~sklearn_prognet.SpeechEmbeddingTransformer` accept the same inputs
(file paths or signals), check them the same way, cache features by content
and run in worker processes the same way: all of that lives here, once. What
differs, turning one prepared signal into one row, is a *config* object:

- ``config.compute(source, name)`` returns the :class:`_Row` of one input
  (it runs in worker processes, so the config must pickle);
- ``config.cache_key()`` is everything besides the audio content that
  changes a row;
- ``config.warm()`` builds per-process state in the parent before workers
  fork; ``config.init_worker(n_workers)`` runs once in each worker;
  ``config.start_method`` is the multiprocessing start method (None: the
  default);
- ``config.tool`` names the extractor in progress bars and warnings, and
  ``config.silent_note`` says what a silent input gives.

Nothing here imports openSMILE, torch or transformers.
"""

import hashlib
import multiprocessing
import os
import struct
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import NamedTuple

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_memory

from sklearn_prognet.utils._docstring import Substitution
from sklearn_prognet.utils._messages import Message, Param
from sklearn_prognet.utils._process import exit_with_parent
from sklearn_prognet.utils._warnings import warn

# openSMILE converts float signals with ``(x * 32768).astype(np.int16)``, so a
# sample of exactly 1.0 would wrap around to -32768. Clip to the largest value
# that still fits.
_MAX_SAMPLE = 32767 / 32768
# Float signals peaking above this are rejected rather than clipped.
_MAX_FLOAT_PEAK = 2.0

# How many failed inputs one warning or error message lists before it
# summarizes the rest.
_MAX_LISTED = 20

# What WAV writers that cannot seek back to fill in the header leave as its
# sizes, meaning "until the end of the file": 0xFFFFFFFF (ffmpeg writing to a
# pipe; RF64 files, whose real sizes are in their ds64 chunk) and 0x7FFFF000
# (SoX's MS_UNSPEC, also written for lengths beyond 32 bits). libsndfile then
# reads all the bytes there are. Such a header promises nothing that could be
# missing, so these files are accepted: refusing them would refuse every WAV
# file streamed through a pipe. A data size of 0 is not accepted: libsndfile
# reads 0 samples from it, whatever follows.
_UNKNOWN_SIZES = (0xFFFFFFFF, 0x7FFFF000)


class _Row(NamedTuple):
    """The features of one input, and what the checks after extraction need."""

    values: np.ndarray  # float32 of shape (n_features,)
    sampling_rate: int  # of the input, before any resampling
    silent: bool  # every sample is 0 once converted to 16-bit PCM


class _InputError(Exception):
    """One input could not be turned into features; ``kind`` picks the error."""

    def __init__(self, name, reason, kind="invalid"):
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason
        self.kind = kind  # "missing" -> FileNotFoundError, else ValueError

    def __reduce__(self):  # travels back from worker processes
        return type(self), (self.name, self.reason, self.kind)


# One opensmile.Smile per process and configuration. Workers forked from a
# parent that already built one inherit it for free.


def _read_audio(path):
    """Read a file as float64 of shape (n_channels, n_samples) and its rate."""
    import soundfile

    try:
        signal, sampling_rate = soundfile.read(path, dtype="float64", always_2d=True)
    except Exception as sf_error:
        # libsndfile recognizes WAV, FLAC, OGG, MP3 and more by content.
        # audiofile converts the rest (m4a, ...) with ffmpeg when installed.
        extension = os.path.splitext(path)[1].lstrip(".").upper()
        if extension in soundfile.available_formats() or not extension:
            raise _InputError(
                repr(path), f"is not a readable audio file ({sf_error})"
            ) from None
        try:
            import audiofile

            signal, sampling_rate = audiofile.read(path, always_2d=True)
        except Exception:
            raise _InputError(
                repr(path), f"is not a readable audio file ({sf_error})"
            ) from None
        return np.asarray(signal, dtype=np.float64), int(sampling_rate)
    return signal.T, int(sampling_rate)


def _check_file(path, name):
    """Raise _InputError for a missing file or a WAV file cut short."""
    if not os.path.isfile(path):
        raise _InputError(name, "does not exist or is not a file", kind="missing")
    try:
        _check_wav_header(path, name)
    except OSError as exc:
        raise _InputError(name, f"cannot be read ({exc})") from None


def _check_wav_header(path, name):
    """Raise _InputError if a WAV file holds fewer bytes than its header says.

    libsndfile reads a truncated WAV file without complaint, up to the last
    whole frame on disk, so a file cut short in a copy would give the
    features of its first part. Other formats are left to their readers.
    """
    file_size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] not in (b"RIFF", b"RIFX", b"RF64") or head[8:12] != b"WAVE":
            return
        endian = ">" if head[:4] == b"RIFX" else "<"
        riff_size = struct.unpack(endian + "I", head[4:8])[0]
        data_size = data_start = None
        for chunk_id, size, start in _riff_chunks(f, endian, file_size):
            if chunk_id == b"ds64" and size >= 16:  # RF64: the 64-bit sizes
                f.seek(start)
                riff_size, data_size = struct.unpack("<QQ", f.read(16))
            elif chunk_id == b"data":
                data_start = start
                if head[:4] != b"RF64" or data_size is None:
                    data_size = size
                break
    if data_start is None:
        return  # no data chunk: the reader reports that
    available = file_size - data_start
    if data_size == 0 and available > 0:
        raise _InputError(
            name,
            f"has a WAV header that gives its audio data as 0 bytes, but "
            f"{available} bytes follow: the header was never finished (the "
            "writer stopped or wrote to a pipe); rewrite the file with its length",
        )
    if data_size in _UNKNOWN_SIZES:
        return
    if data_size > available:
        raise _InputError(
            name,
            f"is truncated: its WAV header promises {data_size} bytes of audio "
            f"data, but only {available} are in the file (it was probably cut "
            "short while being copied, downloaded or written)",
        )
    # One byte short is a missing final pad byte, which loses nothing.
    if riff_size not in (0, *_UNKNOWN_SIZES) and riff_size + 8 > file_size + 1:
        raise _InputError(
            name,
            f"is truncated: its RIFF header gives a size of {riff_size + 8} "
            f"bytes, but the file has {file_size} (the chunks after the audio "
            "data are cut short)",
        )


def _riff_chunks(f, endian, file_size):
    """Yield (id, size, offset of the body) of each chunk of a RIFF file."""
    offset = 12
    while offset + 8 <= file_size:
        f.seek(offset)
        chunk_id, size = struct.unpack(endian + "4sI", f.read(8))
        yield chunk_id, size, offset + 8
        # Chunks of odd size are followed by a pad byte. (libsndfile rejects
        # files whose writer left it out, so there is no need to guess.)
        offset += 8 + size + size % 2


def _as_float_signal(signal, name):
    """Scale integer PCM to [-1, 1]; reject float signals that are not scaled."""
    kind = signal.dtype.kind
    if kind == "f":
        signal = signal.astype(np.float64, copy=False)
        # Peaks a little above full scale (after resampling or filtering) are
        # clipped later, as a sound card would. Far above, the signal is most
        # likely integer PCM stored as float, which openSMILE would wrap around.
        # NaN and infinity are reported later, once the analyzed channel is
        # known.
        peak = np.max(np.abs(signal), initial=0.0, where=np.isfinite(signal))
        if peak > _MAX_FLOAT_PEAK:
            raise _InputError(
                name,
                f"has float samples far outside [-1, 1] (max |x| = {peak:.6g}), "
                "most likely integer PCM stored as float; scale it to [-1, 1]",
            )
        return signal
    # Integer PCM: int16 is divided by 2**15, int32 by 2**31, unsigned types
    # (8-bit WAV) are centered first, as soundfile does.
    half = 2.0 ** (signal.dtype.itemsize * 8 - 1)
    signal = signal.astype(np.float64)
    if kind == "u":
        signal -= half
    return signal / half


def _prepare(signal, sampling_rate, config, name):
    """Select/mix channels, check, resample and clip one (channels, samples)."""
    n_channels, n_samples = signal.shape
    if n_samples == 0:
        raise _InputError(name, "contains no audio samples")
    if (
        config.sampling_rate is not None
        and config.resample is None
        and sampling_rate != config.sampling_rate
    ):
        raise _InputError(
            name,
            f"has a sampling rate of {sampling_rate} Hz, but "
            f"sampling_rate={config.sampling_rate}; set resample to convert it",
        )
    if config.channel == "mean":
        signal = signal.mean(axis=0, keepdims=True)
    elif config.channel >= n_channels:
        raise _InputError(
            name,
            f"has {n_channels} channel(s); channel={config.channel} does not exist",
        )
    else:
        signal = signal[config.channel : config.channel + 1]
    _check_finite(signal, name)
    if config.resample is not None and sampling_rate != config.resample:
        import audresample

        signal = audresample.resample(
            signal.astype(np.float32), sampling_rate, config.resample
        ).astype(np.float64)
        sampling_rate = config.resample
    # Clipping also removes resampling overshoot above full scale.
    return np.clip(signal, -1.0, _MAX_SAMPLE), sampling_rate


def _check_finite(signal, name):
    finite = np.isfinite(signal)
    if finite.all():
        return
    n_nan = int(np.isnan(signal).sum())
    counts = [f"{n_nan} NaN"] if n_nan else []
    if finite.size - finite.sum() > n_nan:
        counts.append(f"{finite.size - finite.sum() - n_nan} infinite")
    first = np.flatnonzero(~finite.all(axis=0))[0]
    raise _InputError(
        name,
        f"has samples that are not finite ({', '.join(counts)}, the first at "
        f"sample {first}); remove or interpolate them",
    )


def _load_signal(source, config, name):
    """Read (or take) one input and prepare it for analysis.

    Returns the signal, float64 of shape (1, n_samples) in [-1, 1], its
    sampling rate, the rate of the input before any resampling, and whether
    it is silent (every sample is 0 once converted to 16-bit PCM).
    """
    if isinstance(source, str):
        if not os.path.isfile(source):
            raise _InputError(name, "does not exist or is not a file", kind="missing")
        signal, sampling_rate = _read_audio(source)
    else:
        signal, sampling_rate = np.atleast_2d(source), config.sampling_rate
    # Float WAV files can hold unscaled samples too, so files are checked.
    signal = _as_float_signal(signal, name)
    input_rate = sampling_rate
    signal, sampling_rate = _prepare(signal, sampling_rate, config, name)
    # openSMILE converts to int16 by truncation, so |x| < 1 / 32768 becomes 0.
    silent = not (np.abs(signal) >= 1 / 32768).any()
    return signal, sampling_rate, int(input_rate), bool(silent)


def _cached_compute(content_key, config_key, source, config, name):
    # joblib.Memory hashes only content_key and config_key (see ``ignore``):
    # the cache follows the audio content, not the path it was read from.
    return config.compute(source, name)


class _Results:
    """The rows of one transform call, and what its warnings need."""

    def __init__(self, n_items, n_features, is_file):
        self.X = np.full((n_items, n_features), np.nan)
        self.rates = np.zeros(n_items, dtype=np.int64)  # 0: no row
        self.silent = np.zeros(n_items, dtype=bool)
        self.errors = []  # (index, _InputError)
        self.is_file = is_file

    def add(self, index, row):
        self.X[index] = row.values
        self.rates[index] = row.sampling_rate
        self.silent[index] = row.silent

    def warn_silent(self, items, note):
        # Digital silence gives a row that looks valid and is meaningless
        # (``note`` says how, for the extractor at hand).
        (silent,) = np.nonzero(self.silent)
        if not len(silent):
            return
        names = [repr(items[i]) if self.is_file else f"X[{i}]" for i in silent]
        listed = ", ".join(names[:_MAX_LISTED])
        if len(names) > _MAX_LISTED:
            listed += f" and {len(names) - _MAX_LISTED} more"
        warn(
            f"{len(silent)} of {len(self.X)} inputs are silent (every sample is "
            f"0 in 16-bit PCM), so {note}: {listed}. Check the recordings or "
            "the channel."
        )

    def warn_mixed_rates(self):
        rates, counts = np.unique(self.rates[self.rates > 0], return_counts=True)
        if len(rates) < 2:
            return
        found = ", ".join(
            f"{rate} Hz ({count} file{'s' if count > 1 else ''})"
            for rate, count in zip(rates, counts, strict=True)
        )
        warn(
            Message(
                f"The files have different sampling rates: {found}. Each is analyzed "
                "at its own rate, so their spectral features (loudness, MFCCs, "
                "formants) are not comparable. Set resample (e.g. ",
                Param("resample", max(rates)),
                ") to convert them to one rate, or sampling_rate to require one.",
            )
        )


def _run_chunk(chunk, config, memory):
    """Worker task: features for a list of (index, source, name, content_key)."""
    func = _compute_func(memory)
    config_key = config.cache_key() if memory is not None else None
    results = []
    for index, source, name, content_key in chunk:
        try:
            if memory is None:
                row = config.compute(source, name)
            else:
                row = func(content_key, config_key, source, config, name)
            results.append((index, row, None))
        except _InputError as error:
            results.append((index, None, error))
    return results


def _compute_func(memory):
    if memory is None:
        return None
    return memory.cache(_cached_compute, ignore=["source", "config", "name"])


def _file_key(path):
    """Hash of the bytes of a file (the cache key of its content)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "file:" + digest.hexdigest()


def _signal_key(signal, sampling_rate):
    signal = np.ascontiguousarray(signal)
    digest = hashlib.sha256(signal.view(np.uint8).reshape(-1))
    header = f"{signal.dtype.str}:{signal.shape}:{sampling_rate}"
    return "signal:" + header + ":" + digest.hexdigest()


def _only_column(X, owner, what):
    """X's one column if X is a DataFrame (else X), or a ValueError.

    ``what`` says what the column holds, for the error (a transformer's input
    is one column of a table: paths, signals or transcripts).
    """
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(
                f"X is a DataFrame with {X.shape[1]} columns; {owner} "
                f"takes one column of {what}."
            )
        X = X.iloc[:, 0]
    return X


def _check_X(X, owner):
    """Return (items, is_file): a list of path strings or of numpy signals."""
    X = _only_column(X, owner, "audio file paths or signals (e.g. df['file'])")
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(X, (pd.Series, pd.Index)):
        X = X.to_list()
    if isinstance(X, (str, bytes, os.PathLike)):
        raise ValueError(
            f"X must be a 1-D sequence of audio file paths or signals, got a "
            f"single path {X!r}; wrap it in a list."
        )
    if isinstance(X, np.ndarray):
        if X.dtype.kind in "biufc":
            raise ValueError(
                f"X is a numeric array of shape {X.shape}; {owner} takes "
                "audio, not a feature matrix: pass a list of file paths, or a list "
                "of 1-D signals (e.g. list(X) or [signal]) with sampling_rate set."
            )
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        elif X.ndim != 1:
            raise ValueError(
                f"X must be a 1-D sequence of audio file paths or signals, got an "
                f"array of shape {X.shape}."
            )
    try:
        items = list(X)
    except TypeError:
        raise TypeError(
            "X must be a 1-D sequence of audio file paths or signals, got "
            f"{type(X).__name__}."
        ) from None
    if not items:
        raise ValueError(
            f"X is empty: {owner} needs at least one audio file path or signal."
        )

    kinds = []
    for i, item in enumerate(items):
        kind, items[i] = _item_kind(i, item, owner)
        kinds.append(kind)
        if kinds[-1] != kinds[0]:
            raise ValueError(
                f"X mixes file paths and signals (X[0] is a {kinds[0]}, X[{i}] is a "
                f"{kinds[-1]}); pass one kind only."
            )
    return items, kinds[0] == "path"


def _item_kind(i, item, owner):
    """``('path', str)`` or ``('signal', array)`` for ``X[i]``, or an error."""
    if isinstance(item, (str, os.PathLike)) and not isinstance(item, bytes):
        path = os.fspath(item)
        if not isinstance(path, str):
            raise TypeError(f"X[{i}] is a bytes path; use str or pathlib.Path.")
        return "path", path
    elif isinstance(item, np.ndarray):
        if item.dtype.kind not in "iuf":
            raise TypeError(
                f"X[{i}] is an array of dtype {item.dtype}; signals must be "
                "integer PCM or float arrays."
            )
        if item.ndim not in (1, 2):
            raise ValueError(
                f"X[{i}] has shape {item.shape}; a signal must be 1-D, or 2-D "
                "of shape (n_channels, n_samples)."
            )
        if item.ndim == 2 and item.shape[0] > item.shape[1]:
            # soundfile and scipy.io.wavfile return (n_samples, n_channels).
            raise ValueError(
                f"X[{i}] has shape {item.shape}, more channels than samples; "
                "a 2-D signal must be (n_channels, n_samples): pass its "
                "transpose (signal.T)."
            )
        return "signal", item
    else:
        raise TypeError(
            f"X[{i}] is a {type(item).__name__}; expected an audio file path "
            "(str or os.PathLike) or a signal (numpy array). If X is a feature "
            f"matrix, {owner} is not the step to apply to it."
        )


def _summarize(errors, n_total):
    lines = [f"  {error.name}: {error.reason}" for error in errors[:_MAX_LISTED]]
    if len(errors) > _MAX_LISTED:
        lines.append(f"  ... and {len(errors) - _MAX_LISTED} more")
    return f"{len(errors)} of {n_total} inputs failed:\n" + "\n".join(lines)


def _raise(errors, n_total):
    errors = sorted(errors, key=lambda e: e[0])
    first = errors[0][1]
    message = first.name + " " + first.reason
    if len(errors) > 1:
        message += "\n" + _summarize([e for _, e in errors], n_total)
    message += Message(
        "\n(set ",
        Param("on_error", "nan"),
        " to get rows of NaN for such inputs instead)",
    )
    if first.kind == "missing":
        raise FileNotFoundError(message)
    raise ValueError(message)


# Docstring text shared by the audio transformers' methods (Substitution).
_AUDIO_X = """
        X : sequence of str or os.PathLike, or sequence of ndarray
            Audio file paths, or signals of shape (n_samples,) or
            (n_channels, n_samples) recorded at ``sampling_rate``.
"""

# fit's ``y`` and Returns, in the stateless transformers, audio or text.
_FIT_Y_RETURNS = """
        y : None
            Ignored.

        Returns
        -------
        self : object
            The transformer.
"""

_FIT_PARAMETERS = f"""
        No audio is analyzed: the transformer is stateless.

        Parameters
        ----------
        {_AUDIO_X.strip()}

        {_FIT_Y_RETURNS.strip()}
"""

_INPUT_FEATURES = """
        input_features : array-like of str or None, default=None
            Ignored: the output names do not depend on the input. Accepted so
            that the transformer composes with
            :class:`~sklearn.compose.ColumnTransformer` and
            :class:`~sklearn.pipeline.Pipeline`.
"""

#: Fills ``{audio_X}``, ``{fit_parameters}`` and ``{input_features}`` in the
#: docstrings of an audio transformer and its methods.
_audio_docstrings = Substitution(
    audio_X=_AUDIO_X, fit_parameters=_FIT_PARAMETERS, input_features=_INPUT_FEATURES
)


class _StatelessTransformer(TransformerMixin, BaseEstimator):
    """Base of the transformers that take a 1-D sequence and learn nothing.

    The audio transformers (files or signals) and the text one (transcripts).
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = []
        return tags

    def __sklearn_is_fitted__(self):
        # Stateless: transform works without fit (like FunctionTransformer).
        return True


class _AudioTransformer(_StatelessTransformer):
    """Base of the transformers that take audio.

    What they share: input checks, the cache, worker processes, error
    handling and the warnings about the inputs.

    Subclasses have the parameters ``sampling_rate``, ``n_jobs``, ``memory``,
    ``on_error`` and ``verbose``, and build a config (see the module
    docstring) for :meth:`_extract`.
    """

    def _check_input(self, X):
        items, is_file = _check_X(X, type(self).__name__)
        if not is_file and self.sampling_rate is None:
            raise ValueError(
                "X holds signals, so sampling_rate must be set to their "
                "sampling rate in Hz (it is None)."
            )
        return items, is_file

    def _check_transform_input(self, X):
        """Validate the parameters, then X, as :meth:`_check_input`."""
        # Stateless (requires_fit=False), so transform may be called unfitted
        # and must check the parameters itself.
        self._validate_params()
        return self._check_input(X)

    def _extract(self, items, is_file, config, n_features):
        """Rows of ``items`` (checked by :meth:`_check_input`) as _Results."""
        results = _Results(len(items), n_features, is_file)
        tasks = []  # (index, source, name, content_key)
        for i, source in enumerate(items):
            name = repr(source) if is_file else f"X[{i}]"
            try:
                if is_file:
                    # Before the cache, whose entries skip the reading.
                    _check_file(source, name)
            except _InputError as error:
                results.errors.append((i, error))
                continue
            tasks.append((i, source, name, None))
        if results.errors and self.on_error == "raise":
            _raise(results.errors, len(items))

        memory = self._get_memory()
        if memory is not None:
            tasks = self._load_cached(tasks, memory, config, results)
        self._run(tasks, config, memory, results)

        if results.errors:
            if self.on_error == "raise":
                _raise(results.errors, len(items))
            results.errors.sort(key=lambda e: e[0])
            warn(
                f"{type(self).__name__} returned rows of NaN for inputs it could "
                "not analyze. "
                + _summarize([e for _, e in results.errors], len(items)),
            )
        results.warn_silent(items, config.silent_note)
        return results

    def _get_memory(self):
        memory = self.memory
        if isinstance(memory, os.PathLike):
            memory = os.fspath(memory)
        if isinstance(memory, str):
            # joblib.Memory creates the folder, with a bare OSError on failure.
            try:
                os.makedirs(memory, exist_ok=True)
                if not os.access(memory, os.W_OK | os.X_OK):
                    raise PermissionError("not writable")
            except OSError as exc:
                raise ValueError(
                    f"memory={self.memory!r}: cannot use {memory!r} as the cache "
                    f"folder ({exc.strerror or exc}). Pass a writable folder, or "
                    "memory=None to disable caching."
                ) from exc
        memory = check_memory(memory)
        if getattr(memory, "location", "") is None:  # joblib.Memory(None)
            return None
        return memory

    def _load_cached(self, tasks, memory, config, results):
        """Fill ``results`` from the cache; return the tasks still to compute."""
        func = _compute_func(memory)
        config_key = config.cache_key()
        check = getattr(func, "check_call_in_cache", None)
        todo = []
        for i, source, name, _ in tasks:
            try:
                key = (
                    _file_key(source)
                    if results.is_file
                    else _signal_key(source, self.sampling_rate)
                )
            except OSError as exc:
                results.errors.append((i, _InputError(name, f"cannot be read ({exc})")))
                continue
            if check is not None and check(key, config_key, source, config, name):
                results.add(i, func(key, config_key, source, config, name))
            else:
                todo.append((i, source, name, key))
        return todo

    def _run(self, tasks, config, memory, results):
        """Compute the features of ``tasks`` into ``results``."""
        if not tasks:
            return
        n_workers = min(effective_n_jobs(self.n_jobs), len(tasks))
        progress = self._progress_bar(len(tasks), config)
        try:
            if n_workers <= 1:
                for task in tasks:
                    (result,) = _run_chunk([task], config, memory)
                    self._store(result, results)
                    progress.update(1)
            else:
                self._run_parallel(tasks, config, memory, results, progress)
        finally:
            progress.close()

    def _run_parallel(self, tasks, config, memory, results, progress):
        n_workers = min(effective_n_jobs(self.n_jobs), len(tasks))
        # Longest inputs first, in small chunks: the pool then ends with short
        # tasks and the workers finish together.
        if results.is_file:
            size = {i: os.path.getsize(src) for i, src, _, _ in tasks}
        else:
            size = {i: src.size for i, src, _, _ in tasks}
        tasks = sorted(tasks, key=lambda task: -size[task[0]])
        chunksize = max(1, min(8, len(tasks) // (16 * n_workers)))
        chunks = [tasks[k : k + chunksize] for k in range(0, len(tasks), chunksize)]
        # Build per-process state (the openSMILE object, the model) here, so
        # that forked workers inherit it.
        config.warm()
        executor = ProcessPoolExecutor(
            max_workers=n_workers,
            mp_context=multiprocessing.get_context(config.start_method),
            initializer=_init_worker,
            initargs=(config, n_workers),
        )
        try:
            pending = {
                executor.submit(_run_chunk, chunk, config, memory) for chunk in chunks
            }
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    chunk_results = future.result()
                    for result in chunk_results:
                        self._store(result, results)
                    progress.update(len(chunk_results))
                if results.errors and self.on_error == "raise":
                    break
        finally:
            executor.shutdown(wait=True, cancel_futures=True)

    def _store(self, result, results):
        index, row, error = result
        if error is not None:
            results.errors.append((index, error))
            if self.on_error == "raise":
                _raise(results.errors, len(results.X))
        else:
            results.add(index, row)

    def _progress_bar(self, total, config):
        if not self.verbose:
            return _NoProgress()
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=config.tool, unit="file")


class _NoProgress:
    def update(self, n):
        pass

    def close(self):
        pass


def share_torch_threads(n_workers):
    """Give each of ``n_workers`` worker processes its share of torch's threads."""
    import torch

    # Share the cores among the workers rather than oversubscribe them.
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // n_workers))


def _init_worker(config, n_workers):
    # A worker must not outlive a parent killed by SIGKILL (it would hold a
    # model and its memory): see utils._process.
    exit_with_parent()
    config.init_worker(n_workers)
