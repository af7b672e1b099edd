# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Embeddings of pre-trained speech and text encoders as scikit-learn transformers.

Built on Hugging Face ``transformers``, an optional dependency (the
``embeddings`` extra). ``transformers`` and ``torch`` are imported inside
functions only, so that importing this module stays cheap.

A model is loaded from a local folder (``save_pretrained`` or
``hf download NAME --local-dir DIR``) or from a Hub name, which
resolves to its folder in the Hugging Face cache. Every load is from a
folder, and each process keeps the last model it loaded for a folder and
device, until the files of the folder change.
"""

import contextlib
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from functools import partial
from numbers import Integral, Real

import numpy as np

from sklearn_prognet.features._audio import (
    _FIT_Y_RETURNS,
    _audio_docstrings,
    _AudioTransformer,
    _InputError,
    _load_signal,
    _only_column,
    _Row,
    _StatelessTransformer,
    share_torch_threads,
)
from sklearn_prognet.utils._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
)
from sklearn_prognet.utils._docstring import Substitution
from sklearn_prognet.utils._warnings import warn

__all__ = ["SpeechEmbeddingTransformer", "TextEmbeddingTransformer"]

# Bump when the way a row is computed changes: old cache entries then miss.
_CACHE_VERSION = 1

_INSTALL = "pip install 'sklearn-prognet[embeddings]'"

# "name" or "owner/name", as the Hugging Face Hub spells repositories.
_HUB_NAME = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")

_TRUE = {"1", "ON", "YES", "TRUE"}


# -- loading models ------------------------------------------------------------


def _import_transformers(owner):
    try:
        import transformers
    except ImportError as exc:
        raise ImportError(
            f"{owner} needs Hugging Face transformers, an optional dependency "
            f"of sklearn-prognet: {_INSTALL}"
        ) from exc
    return transformers


def _is_offline():
    """Whether the Hugging Face libraries may not download."""
    for flag in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(flag, "").strip().upper() in _TRUE:
            return True
    # huggingface_hub reads HF_HUB_OFFLINE once, when it is imported.
    constants = sys.modules.get("huggingface_hub.constants")
    return bool(getattr(constants, "HF_HUB_OFFLINE", False))


# Seconds to wait for the Hub's answer about a model before calling it offline.
_HUB_TIMEOUT = 10


def _how_to_fetch(name, why):
    return (
        f"model={name!r} is not in the local Hugging Face cache, and {why}. "
        "Fetch the weights once on a machine with network access, with "
        f"`hf download {name} --local-dir DIR` (or, in Python, "
        f"huggingface_hub.snapshot_download({name!r}, local_dir=DIR)), copy DIR "
        "here and pass model=DIR; or run this once with network access, which "
        "fills the cache (~/.cache/huggingface) for later offline runs."
    )


def _resolve_model(model, fetch):
    """The local folder of ``model``: a folder, or a Hub name.

    ``fetch(name)`` downloads what the model needs into the Hugging Face
    cache; it runs only for a Hub name that is not cached yet.
    """
    path = os.path.expanduser(os.fspath(model))
    if isinstance(model, os.PathLike) or os.path.isdir(path):
        if not os.path.isdir(path):
            raise ValueError(f"model={os.fspath(model)!r}: there is no such folder.")
        if not os.path.isfile(os.path.join(path, "config.json")):
            raise ValueError(
                f"model={os.fspath(model)!r} is a folder without config.json, so "
                "not a model saved by transformers (save one with "
                "model.save_pretrained(folder), or download one with "
                "`hf download NAME --local-dir folder`)."
            )
        return os.path.abspath(path)
    if not _HUB_NAME.fullmatch(model):
        raise ValueError(
            f"model={model!r} is neither a folder nor a Hugging Face Hub model "
            "name (such as 'facebook/wav2vec2-base')."
        )
    return _hub_folder(model, fetch)


def _hub_folder(name, fetch):
    """The folder of Hub model ``name`` in the cache, downloading it if allowed."""
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(name, local_files_only=True)
    except Exception:  # not cached (the error class varies across versions)
        pass
    if _is_offline():
        raise OSError(
            _how_to_fetch(name, "HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set")
        )
    _ask_hub(name)
    try:
        fetch(name)
    except Exception as exc:
        if _not_on_hub(exc):
            raise ValueError(_NOT_ON_HUB.format(name=name)) from exc
        raise OSError(_how_to_fetch(name, f"downloading it failed ({exc})")) from exc
    return snapshot_download(name, local_files_only=True)


_NOT_ON_HUB = (
    "model={name!r} is neither a local folder nor a model on the Hugging Face "
    "Hub (check the spelling; a private or gated model needs `hf auth login`)."
)


def _ask_hub(name):
    """Ask the Hub about ``name`` once, before anything downloads.

    The downloads retry a failed connection with back-off (10 tries and
    about a minute, through transformers); this one request does not, so
    that an unreachable Hub is an error within seconds. An unknown name
    is a ValueError; other answers of the Hub are left to the download.
    """
    from huggingface_hub import HfApi, constants

    try:
        HfApi().model_info(name, timeout=_HUB_TIMEOUT)
    except Exception as exc:
        if _not_on_hub(exc):
            raise ValueError(_NOT_ON_HUB.format(name=name)) from exc
        if getattr(exc, "response", None) is not None:
            return  # the Hub answered: the download reports what it says
        raise OSError(
            _how_to_fetch(
                name,
                f"the Hugging Face Hub at {constants.ENDPOINT} cannot be reached "
                f"({type(exc).__name__}: {exc})",
            )
        ) from exc


def _not_on_hub(exc):
    while exc is not None:
        if type(exc).__name__ in ("RepositoryNotFoundError", "GatedRepoError"):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _fingerprint(folder):
    """Names, sizes and modification times of the files of ``folder``."""
    entries = []
    for entry in os.scandir(folder):
        if entry.is_file():  # follows the links of the Hugging Face cache
            info = entry.stat()
            entries.append((entry.name, info.st_size, info.st_mtime_ns))
    return tuple(sorted(entries))


@contextlib.contextmanager
def _no_progress_bars(transformers):
    # transformers shows a progress bar for every load of the weights.
    logging = transformers.utils.logging
    enabled = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            logging.enable_progress_bar()


def _fetch(owner, preprocessor, name):
    """Download Hub model ``name`` into the Hugging Face cache.

    Its weights and its input ``preprocessor`` (the name of a transformers
    Auto class, ``'AutoFeatureExtractor'`` or ``'AutoTokenizer'``); ``owner``
    is the transformer named if transformers is missing.
    """
    transformers = _import_transformers(owner)
    with _no_progress_bars(transformers):
        getattr(transformers, preprocessor).from_pretrained(name)
        transformers.AutoModel.from_pretrained(name)


def _model_identity(config, preprocessor, model):
    """Hash of what makes a model's outputs.

    Its config, its input preprocessing and its weights (every tensor of the
    state_dict, buffers included).
    """
    digest = hashlib.sha256()
    settings = config.to_dict()
    settings.pop("transformers_version", None)
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for part in preprocessor:
        part = {k: v for k, v in part.to_dict().items() if not k.startswith("_")}
        digest.update(json.dumps(part, sort_keys=True, default=str).encode())
    import torch

    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        # Raw bytes, whatever the dtype (numpy has no bfloat16).
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def _n_states(config):
    return config.num_hidden_layers + 1


def _resolve_layers(layer, n_states, model):
    """``layer`` as a tuple of indices in [0, n_states)."""
    if isinstance(layer, str):  # "all" (the only string the constraints allow)
        return tuple(range(n_states))
    layers = [layer] if isinstance(layer, Integral) else list(layer)
    if not layers:
        raise ValueError("layer=[] selects no layer; give at least one index.")
    resolved = []
    for index in layers:
        if isinstance(index, bool) or not isinstance(index, Integral):
            raise TypeError(f"layer={layer!r}: {index!r} is not an integer index.")
        if not -n_states <= index < n_states:
            raise ValueError(
                f"layer={layer!r}: model {model!r} has {n_states} hidden states "
                f"(0: the input of its first transformer layer, 1 to "
                f"{n_states - 1}: the outputs of its {n_states - 1} layers); use "
                f"indices from {-n_states} to {n_states - 1}, or 'all'."
            )
        resolved.append(int(index) % n_states)
    if len(set(resolved)) < len(resolved):
        raise ValueError(f"layer={layer!r} names a hidden state twice.")
    return tuple(resolved)


def _feature_names(layers, stats, hidden_size):
    return np.asarray(
        [
            f"layer{layer}_{stat}_{j}"
            for layer in layers
            for stat in stats
            for j in range(hidden_size)
        ],
        dtype=object,
    )


# -- speech --------------------------------------------------------------------


def _receptive_field(config):
    """Samples that one output frame sees, and samples between frames.

    From the convolutional feature encoder that wav2vec 2.0, HuBERT, WavLM and
    data2vec-audio share (``conv_kernel``, ``conv_stride``, no padding): the
    shortest input that gives one frame.
    """
    field, jump = 1, 1
    for kernel, stride in zip(config.conv_kernel, config.conv_stride, strict=True):
        field += (kernel - 1) * jump
        jump *= stride
    return field, jump


@dataclass
class _SpeechModel:
    """A loaded speech encoder and what the extraction needs to know of it."""

    model: object
    extractor: object
    config: object
    rate: int  # of the input the model expects, in Hz
    min_samples: int  # its receptive field
    stride: int  # samples between output frames
    _identity: str | None = field(default=None, repr=False)

    @property
    def identity(self):
        if self._identity is None:  # hashing the weights takes a while
            self._identity = _model_identity(self.config, [self.extractor], self.model)
        return self._identity


# Per process: (folder, device) -> (fingerprint, _SpeechModel). Workers forked
# from a parent that loaded the model inherit it.
_SPEECH_MODELS = {}
_fetch_speech = partial(_fetch, "SpeechEmbeddingTransformer", "AutoFeatureExtractor")


def _cached_model(cache, load, model, folder, device, fingerprint=None):
    """``load(model, folder, device)``, or what this process loaded before.

    ``cache`` maps ``(folder, device)`` to ``(fingerprint, loaded)``; a
    loaded model serves while the fingerprint of its folder is unchanged.
    """
    fingerprint = fingerprint or _fingerprint(folder)
    cached = cache.get((folder, device))
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    loaded = load(model, folder, device)
    cache[(folder, device)] = (fingerprint, loaded)
    return loaded


def _get_speech_model(model, folder, device, fingerprint=None):
    return _cached_model(
        _SPEECH_MODELS, _load_speech_model, model, folder, device, fingerprint
    )


def _load_speech_model(model, folder, device):
    transformers = _import_transformers("SpeechEmbeddingTransformer")
    config = transformers.AutoConfig.from_pretrained(folder)
    if not (hasattr(config, "conv_kernel") and hasattr(config, "conv_stride")):
        raise ValueError(
            f"model={model!r} is a {config.model_type!r} model; "
            "SpeechEmbeddingTransformer takes speech encoders with a "
            "convolutional feature encoder (wav2vec 2.0, HuBERT, WavLM, "
            "data2vec-audio)."
        )
    try:
        extractor = transformers.AutoFeatureExtractor.from_pretrained(folder)
    except OSError as exc:
        raise ValueError(
            f"model={model!r}: {folder} has no preprocessor_config.json, which "
            "says how the model expects its input (sampling rate, "
            "normalisation); save the feature extractor next to the model "
            "(feature_extractor.save_pretrained(folder))."
        ) from exc
    with _no_progress_bars(transformers):
        encoder = transformers.AutoModel.from_pretrained(folder)
    import torch

    encoder = encoder.to(device=device, dtype=torch.float32).eval()
    min_samples, stride = _receptive_field(config)
    return _SpeechModel(
        encoder, extractor, config, int(extractor.sampling_rate), min_samples, stride
    )


def _chunk_bounds(n_samples, chunk_samples, min_samples):
    """(start, end) of the chunks of a signal.

    A last chunk too short for the model is joined to the one before.
    """
    bounds = [
        (start, min(start + chunk_samples, n_samples))
        for start in range(0, n_samples, chunk_samples)
    ]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < min_samples:
        bounds[-2:] = [(bounds[-2][0], n_samples)]
    return bounds


def _embed(signal, speech, config):
    """Pooled hidden states of one signal at the model's rate, chunk by chunk.

    The signal is normalised once, as a whole, by the model's feature
    extractor; the chunks then go through the model one at a time, and each
    layer's sum (and sum of squares) over frames is accumulated in float64,
    so the statistics are those of all frames of the file together: every
    chunk weighs as much as its number of frames.
    """
    import torch

    values = speech.extractor(
        signal, sampling_rate=speech.rate, return_tensors="np"
    ).input_values[0]
    hidden_size = speech.config.hidden_size
    sums = np.zeros((len(config.layers), hidden_size))
    squares = np.zeros_like(sums)
    n_frames = 0
    with torch.no_grad():
        for start, end in _chunk_bounds(
            len(values), config.chunk_samples, speech.min_samples
        ):
            chunk = torch.as_tensor(values[start:end], dtype=torch.float32)
            output = speech.model(
                chunk[None].to(config.device), output_hidden_states=True
            )
            for k, layer in enumerate(config.layers):
                states = output.hidden_states[layer][0].double()
                sums[k] += states.sum(dim=0).cpu().numpy()
                if config.pooling == "mean+std":
                    squares[k] += states.square().sum(dim=0).cpu().numpy()
            n_frames += output.hidden_states[0].shape[1]
    mean = sums / n_frames
    if config.pooling == "mean":
        return mean.reshape(-1)
    # Population standard deviation over all frames (ddof=0).
    std = np.sqrt(np.maximum(squares / n_frames - mean**2, 0.0))
    return np.concatenate([mean, std], axis=1).reshape(-1)


@dataclass(frozen=True)
class _SpeechConfig:
    """What a worker needs to turn one input into one row of embeddings."""

    model: str  # as the user gave it, for messages
    folder: str
    fingerprint: tuple
    identity: str
    device: str
    layers: tuple
    pooling: str
    sampling_rate: int | None
    resample: int  # the model's rate: every input is resampled to it
    channel: int | str
    chunk_samples: int
    min_samples: int

    # What the shared runner of _audio needs (see its docstring).
    tool = "speech embeddings"
    silent_note = "the model sees silence, and their embeddings say nothing about them"

    @property
    def start_method(self):
        # A forked process cannot use a GPU that its parent has initialised.
        return None if self.device == "cpu" else "spawn"

    def cache_key(self):
        """Everything besides the audio content that changes the embeddings."""
        import torch
        import transformers

        return (
            "sklearn_prognet.SpeechEmbeddingTransformer",
            _CACHE_VERSION,
            transformers.__version__,
            torch.__version__,
            self.identity,
            self.layers,
            self.pooling,
            self.sampling_rate,
            self.resample,
            self.channel,
            self.chunk_samples,
        )

    def compute(self, source, name):
        signal, rate, input_rate, silent = _load_signal(source, self, name)
        n_samples = signal.shape[-1]
        if n_samples < self.min_samples:
            raise _InputError(
                name,
                f"is too short for the model ({n_samples} samples = "
                f"{1000 * n_samples / rate:.1f} ms at {rate} Hz): its receptive "
                f"field needs at least {self.min_samples} samples = "
                f"{1000 * self.min_samples / rate:.1f} ms",
            )
        speech = self.speech_model()
        values = _embed(signal[0], speech, self)
        return _Row(values.astype(np.float32), input_rate, silent)

    def speech_model(self):
        return _get_speech_model(self.model, self.folder, self.device, self.fingerprint)

    def warm(self):
        self.speech_model()

    def init_worker(self, n_workers):
        share_torch_threads(n_workers)


def _check_device(device):
    from sklearn_prognet.networks._training import check_device

    return check_device(device)


def _names_out(estimator, fetch):
    """``get_feature_names_out`` of an embedding transformer.

    Reads the model's configuration only, without loading its weights
    (``fetch`` as in :func:`_resolve_model`).
    """
    estimator._validate_params()
    transformers = _import_transformers(type(estimator).__name__)
    folder = _resolve_model(estimator.model, fetch)
    model_config = transformers.AutoConfig.from_pretrained(folder)
    layers = _resolve_layers(estimator.layer, _n_states(model_config), estimator.model)
    return estimator._names(layers, model_config)


@_audio_docstrings
class SpeechEmbeddingTransformer(_AudioTransformer):
    """Embed utterances with a pre-trained self-supervised speech encoder.

    Turns each audio file (or signal) into one row: the hidden states of a
    wav2vec 2.0, HuBERT, WavLM or data2vec-audio model (Hugging Face
    ``transformers``), pooled over time. It takes the same inputs as
    :class:`EGeMAPSTransformer`, checks them the same way, and shares its
    ``n_jobs``, ``memory`` and ``on_error`` handling. The transformer learns
    nothing from the data: ``fit`` only validates the parameters and records
    the feature names.

    Read more in the :ref:`User Guide <embeddings>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    model : str or os.PathLike, default='facebook/wav2vec2-base'
        A folder holding a saved model (``config.json``, the weights and the
        feature extractor's ``preprocessor_config.json``), or the name of a
        model on the Hugging Face Hub. A Hub name is looked up in the local
        Hugging Face cache first, so it works offline once downloaded; see
        :ref:`embeddings_offline`.

    layer : int, list of int or 'all', default=-1
        Which hidden states to pool: an index into the model's
        ``hidden_states`` (0 is the input of the first transformer layer,
        i.e. the projected output of the convolutional encoder; ``i`` the
        output of layer ``i``; -1 the last layer), a list of indices, or
        'all' (``num_hidden_layers + 1`` of them).

    pooling : {'mean', 'mean+std'}, default='mean'
        Statistics over the frames of an utterance: the mean, or the mean
        followed by the standard deviation (ddof=0), for each layer.

    sampling_rate : int, default=None
        Sampling rate in Hz of the signals in X; required when X holds
        signals. Files are read at their own rate. Every input is resampled
        (with ``audresample``) to the rate the model expects (16 kHz for
        wav2vec 2.0).

    channel : int or 'mean', default=0
        Channel of multi-channel audio to analyze, or 'mean' to mix all
        channels down to mono. Mono audio is unaffected.

    chunk_length_s : float, default=20.0
        Longer inputs go through the model in chunks of this many seconds
        (rounded down to whole frames), one at a time, so that memory stays
        bounded; the pooled statistics are those of all frames of the input.

    device : str or torch.device, default='cpu'
        The torch device to run the model on, e.g. ``'cuda'``.

    n_jobs : int, default=None
        Number of worker processes, each with its own copy of the model and
        its share of the CPU cores. ``None`` means 1 unless in a
        :obj:`joblib.parallel_config` context; ``-1`` means all processors.
        See :term:`Glossary <n_jobs>`.

    memory : str, os.PathLike or object with the joblib.Memory interface, \
default=None
        Used to cache the embeddings of each input. A str or path is the
        cache folder. Entries are keyed on the bytes of each file (or
        signal), the model's identity (its configuration, its feature
        extractor and a hash of its weights), the layers, the pooling and
        the chunk length. ``None`` disables caching.

    on_error : {'raise', 'nan'}, default='raise'
        What to do with an input that cannot be analyzed (missing, empty,
        truncated or non-audio file, clip shorter than the model's receptive
        field, NaN or infinite samples...; see :ref:`audio_checks`).
        'raise' raises :class:`FileNotFoundError` (missing file) or
        :class:`ValueError` naming the input; 'nan' returns a row of NaN for
        it and emits one :class:`UserWarning` that lists all such inputs.

    verbose : int, default=0
        If positive, show a progress bar (tqdm) during extraction.

    Attributes
    ----------
    feature_names_ : ndarray of str of shape (`n_output_features_`,)
        Names of the features, ``'layer{i}_{statistic}_{j}'``.

    n_output_features_ : int
        Number of features per utterance: hidden size x number of layers
        (x 2 for 'mean+std').

    See Also
    --------
    EGeMAPSTransformer : The 88 hand-crafted eGeMAPS features.
    TextEmbeddingTransformer : Embeddings of transcripts.

    Notes
    -----
    For each input, the model's feature extractor normalises the whole
    signal (zero mean and unit variance for wav2vec 2.0), and the model runs
    in eval mode, in float32, without gradients. Each chunk of
    ``chunk_length_s`` seconds goes through the model on its own, and the
    sums over frames of all chunks make the statistics, so that every chunk
    weighs as much as its number of frames. At each chunk boundary the
    transformer layers lose the context across the boundary and the
    convolutional encoder loses about one frame, so a chunked input gives
    nearly, not exactly, the statistics of the unchunked one. A last chunk
    shorter than the receptive field is joined to the one before.

    An input shorter than the model's receptive field (400 samples, 25 ms,
    for wav2vec 2.0 at 16 kHz), computed from the kernels and strides of its
    convolutional encoder, gives no frame and is an error naming it.

    With ``n_jobs > 1`` on the CPU, worker processes are started like those of
    :class:`EGeMAPSTransformer`; on a GPU they are spawned, each loading the
    model onto the device. Results equal those of one process up to
    floating-point rounding (the number of threads changes the order of
    sums).

    References
    ----------
    .. [1] A. Baevski, H. Zhou, A. Mohamed, M. Auli, "wav2vec 2.0: A Framework
       for Self-Supervised Learning of Speech Representations", NeurIPS, 2020.
    .. [2] L. Pepino, P. Riera, L. Ferrer, "Emotion Recognition from Speech
       Using wav2vec 2.0 Embeddings", Interspeech, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_prognet import SpeechEmbeddingTransformer
    >>> embed = SpeechEmbeddingTransformer(
    ...     model="path/to/wav2vec2-base", layer=[6, 12], pooling="mean+std"
    ... )  # doctest: +SKIP
    >>> X = embed.fit_transform(["a.wav", "b.wav"])  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (2, 3072)
    """

    _parameter_constraints: dict = {
        "model": [str, os.PathLike],
        "layer": [Integral, list, tuple, StrOptions({"all"})],
        "pooling": [StrOptions({"mean", "mean+std"})],
        "sampling_rate": [None, Interval(Integral, 1, None, closed="left")],
        "channel": [Interval(Integral, 0, None, closed="left"), StrOptions({"mean"})],
        "chunk_length_s": [Interval(Real, 0, None, closed="neither")],
        "device": "no_validation",  # checked by _check_device (needs torch)
        "n_jobs": [None, Integral],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
        "on_error": [StrOptions({"raise", "nan"})],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        model="facebook/wav2vec2-base",
        layer=-1,
        pooling="mean",
        sampling_rate=None,
        channel=0,
        chunk_length_s=20.0,
        device="cpu",
        n_jobs=None,
        memory=None,
        on_error="raise",
        verbose=0,
    ):
        self.model = model
        self.layer = layer
        self.pooling = pooling
        self.sampling_rate = sampling_rate
        self.channel = channel
        self.chunk_length_s = chunk_length_s
        self.device = device
        self.n_jobs = n_jobs
        self.memory = memory
        self.on_error = on_error
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and X, load the model and record the names.

        {fit_parameters}
        """
        self._check_input(X)
        config = self._config()
        speech = config.speech_model()
        self.feature_names_ = self._names(config.layers, speech.config)
        self.n_output_features_ = len(self.feature_names_)
        return self

    def transform(self, X):
        """Embed each input as one row.

        Parameters
        ----------
        {audio_X}

        Returns
        -------
        X_new : ndarray of shape (n_utterances, `n_output_features_`)
            The pooled hidden states, float64. Rows of inputs that failed
            are NaN when ``on_error='nan'``.
        """
        items, is_file = self._check_transform_input(X)
        config = self._config()
        names = self._names(config.layers, config.speech_model().config)
        return self._extract(items, is_file, config, len(names)).X

    def get_feature_names_out(self, input_features=None):
        """Get the names of the output features.

        Parameters
        ----------
        {input_features}

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``'layer{i}_{statistic}_{j}'``: hidden state ``i`` (0 to
            ``num_hidden_layers``), statistic ``'mean'`` or ``'std'``, unit
            ``j``, ordered by layer, then statistic, then unit.
        """
        return _names_out(self, _fetch_speech)

    # -- helpers ---------------------------------------------------------------

    def _names(self, layers, model_config):
        stats = ["mean", "std"] if self.pooling == "mean+std" else ["mean"]
        return _feature_names(layers, stats, model_config.hidden_size)

    def _config(self):
        """Load the model (unless this process has it) and build the config."""
        _import_transformers(type(self).__name__)
        device = _check_device(self.device)
        folder = _resolve_model(self.model, _fetch_speech)
        fingerprint = _fingerprint(folder)
        speech = _get_speech_model(self.model, folder, device, fingerprint)
        chunk_samples = int(self.chunk_length_s * speech.rate)
        chunk_samples -= chunk_samples % speech.stride  # whole frames
        if chunk_samples < speech.min_samples:
            raise ValueError(
                f"chunk_length_s={self.chunk_length_s} is shorter than the "
                f"receptive field of the model ({speech.min_samples} samples = "
                f"{1000 * speech.min_samples / speech.rate:g} ms at "
                f"{speech.rate} Hz)."
            )
        layers = _resolve_layers(self.layer, _n_states(speech.config), self.model)
        return _SpeechConfig(
            model=os.fspath(self.model),
            folder=folder,
            fingerprint=fingerprint,
            identity=speech.identity,
            device=device,
            layers=layers,
            pooling=self.pooling,
            sampling_rate=self.sampling_rate,
            resample=speech.rate,
            channel=self.channel,
            chunk_samples=chunk_samples,
            min_samples=speech.min_samples,
        )


# -- text ----------------------------------------------------------------------


@dataclass
class _TextModel:
    model: object
    tokenizer: object
    config: object
    max_length: int  # tokens, special tokens included


# Per process: (folder, device) -> (fingerprint, _TextModel).
_TEXT_MODELS = {}
_fetch_text = partial(_fetch, "TextEmbeddingTransformer", "AutoTokenizer")


def _get_text_model(model, folder, device):
    return _cached_model(_TEXT_MODELS, _load_text_model, model, folder, device)


def _load_text_model(model, folder, device):
    transformers = _import_transformers("TextEmbeddingTransformer")
    config = transformers.AutoConfig.from_pretrained(folder)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    except (OSError, TypeError, ValueError) as exc:
        raise ValueError(
            f"model={model!r}: no tokenizer could be loaded from {folder} "
            f"({exc}); TextEmbeddingTransformer takes text encoders such as "
            "BERT, saved with their tokenizer (tokenizer.save_pretrained(folder))."
        ) from exc
    with _no_progress_bars(transformers):
        encoder = transformers.AutoModel.from_pretrained(folder)
    import torch

    encoder = encoder.to(device=device, dtype=torch.float32).eval()
    max_length = min(
        tokenizer.model_max_length, getattr(config, "max_position_embeddings", 512)
    )
    return _TextModel(encoder, tokenizer, config, int(max_length))


def _check_texts(X):
    """Return X as a list of str, or raise an error naming the bad item."""
    X = _only_column(
        X, "TextEmbeddingTransformer", "transcripts (e.g. df['transcript'])"
    )
    if isinstance(X, str):
        raise ValueError(
            f"X must be a 1-D sequence of transcripts, got a single string "
            f"{X[:40]!r}; wrap it in a list."
        )
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == 1:
        X = X[:, 0]
    if isinstance(X, np.ndarray) and X.ndim != 1:
        raise ValueError(
            f"X must be a 1-D sequence of transcripts, got an array of shape {X.shape}."
        )
    try:
        texts = list(X)
    except TypeError:
        raise TypeError(
            f"X must be a 1-D sequence of transcripts, got {type(X).__name__}."
        ) from None
    if not texts:
        raise ValueError("X is empty: TextEmbeddingTransformer needs a transcript.")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"X[{i}] is {type(text).__name__} ({text!r}), not a transcript "
                "(str). Fill in missing transcripts first (e.g. with '')."
            )
    return texts


def _embed_texts(texts, text, layers, pooling, device, batch_size):
    """Pooled hidden states of ``texts``, batch by batch, longest first."""
    import torch

    tokenizer = text.tokenizer
    lengths = [
        len(ids)
        for ids in tokenizer(texts, truncation=False, verbose=False)["input_ids"]
    ]
    order = np.argsort(lengths, kind="stable")[::-1]
    out = np.empty((len(texts), len(layers) * text.config.hidden_size))
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = order[start : start + batch_size]
            tokens = tokenizer(
                [texts[i] for i in batch],
                padding=True,
                truncation=True,
                max_length=text.max_length,
                return_tensors="pt",
            ).to(device)
            states = text.model(**tokens, output_hidden_states=True).hidden_states
            mask = tokens["attention_mask"][..., None].double()
            pooled = []
            for layer in layers:
                hidden = states[layer].double()
                if pooling == "cls":
                    pooled.append(hidden[:, 0])
                else:  # mean over the real tokens, padding left out
                    pooled.append((hidden * mask).sum(1) / mask.sum(1))
            out[batch] = torch.cat(pooled, dim=1).cpu().numpy()
    truncated = [i for i, n in enumerate(lengths) if n > text.max_length]
    return out, truncated


@Substitution(fit_y_returns=_FIT_Y_RETURNS)
class TextEmbeddingTransformer(_StatelessTransformer):
    """Embed transcripts with a pre-trained text encoder (BERT and the like).

    Turns each transcript into one row: the hidden states of a Hugging Face
    ``transformers`` encoder, averaged over its tokens (or its first token).
    Combined with :class:`SpeechEmbeddingTransformer` in a
    :class:`~sklearn.compose.ColumnTransformer`, it gives a model both what
    was said and how. The transformer learns nothing from the data.

    Read more in the :ref:`User Guide <embeddings>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    model : str or os.PathLike, default='google-bert/bert-base-multilingual-cased'
        A folder holding a saved model and its tokenizer, or the name of a
        model on the Hugging Face Hub (looked up in the local cache first;
        see :ref:`embeddings_offline`).

    layer : int, list of int or 'all', default=-1
        Which hidden states to pool: an index into the model's
        ``hidden_states`` (0 is the output of the embedding layer, ``i`` the
        output of layer ``i``, -1 the last), a list of indices, or 'all'.

    pooling : {'mean', 'cls'}, default='mean'
        'mean' averages the hidden states of the tokens of a transcript,
        special tokens included and padding left out (by the attention
        mask), so a transcript's row does not depend on the others in its
        batch; 'cls' takes the first token's.

    max_length : int, default=None
        Transcripts longer than this many tokens (special tokens included)
        are truncated, with a warning. None: the longest the model takes.

    batch_size : int, default=32
        Transcripts per forward pass, grouped by length to limit padding.

    device : str or torch.device, default='cpu'
        The torch device to run the model on, e.g. ``'cuda'``.

    Attributes
    ----------
    feature_names_ : ndarray of str of shape (`n_output_features_`,)
        Names of the features, ``'layer{i}_{pooling}_{j}'``.

    n_output_features_ : int
        Number of features per transcript: hidden size x number of layers.

    See Also
    --------
    SpeechEmbeddingTransformer : Embeddings of the audio.

    Notes
    -----
    The model runs in eval mode, in float32, without gradients. Padding
    changes nothing: the attention mask keeps padded positions out of the
    model's attention and out of the mean.

    Examples
    --------
    >>> from sklearn_prognet import TextEmbeddingTransformer
    >>> embed = TextEmbeddingTransformer(model="path/to/bert")  # doctest: +SKIP
    >>> embed.fit_transform(["I am so happy.", "Leave me alone."]).shape
    ... # doctest: +SKIP
    (2, 768)
    """

    _parameter_constraints: dict = {
        "model": [str, os.PathLike],
        "layer": [Integral, list, tuple, StrOptions({"all"})],
        "pooling": [StrOptions({"mean", "cls"})],
        "max_length": [None, Interval(Integral, 2, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": "no_validation",  # checked by _check_device (needs torch)
    }

    def __init__(
        self,
        *,
        model="google-bert/bert-base-multilingual-cased",
        layer=-1,
        pooling="mean",
        max_length=None,
        batch_size=32,
        device="cpu",
    ):
        self.model = model
        self.layer = layer
        self.pooling = pooling
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and X, load the model and record the names.

        Parameters
        ----------
        X : sequence of str
            Transcripts, one per utterance.

        {fit_y_returns}
        """
        _check_texts(X)
        text, layers, _ = self._load()
        self.feature_names_ = self._names(layers, text.config)
        self.n_output_features_ = len(self.feature_names_)
        return self

    def transform(self, X):
        """Embed each transcript as one row.

        Parameters
        ----------
        X : sequence of str
            Transcripts, one per utterance.

        Returns
        -------
        X_new : ndarray of shape (n_utterances, `n_output_features_`)
            The pooled hidden states, float64.
        """
        self._validate_params()
        texts = _check_texts(X)
        text, layers, device = self._load()
        if self.max_length is not None:
            text = _TextModel(text.model, text.tokenizer, text.config, self.max_length)
        out, truncated = _embed_texts(
            texts, text, layers, self.pooling, device, self.batch_size
        )
        if truncated:
            listed = ", ".join(f"X[{i}]" for i in truncated[:20])
            warn(
                f"{len(truncated)} of {len(texts)} transcripts are longer than "
                f"{text.max_length} tokens and were truncated: {listed}."
            )
        return out

    def get_feature_names_out(self, input_features=None):
        """Get the names of the output features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored: the output names do not depend on the input.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``'layer{i}_{pooling}_{j}'``, ordered by layer, then unit.
        """
        return _names_out(self, _fetch_text)

    # -- helpers ---------------------------------------------------------------

    def _names(self, layers, model_config):
        return _feature_names(layers, [self.pooling], model_config.hidden_size)

    def _load(self):
        _import_transformers(type(self).__name__)
        device = _check_device(self.device)
        folder = _resolve_model(self.model, _fetch_text)
        text = _get_text_model(self.model, folder, device)
        layers = _resolve_layers(self.layer, _n_states(text.config), self.model)
        return text, layers, device
