# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The GE2E speaker encoder of resemblyzer, reimplemented without importing it.

resemblyzer (Apache-2.0, https://github.com/resemble-ai/Resemblyzer) ships a
speaker encoder trained with the generalized end-to-end loss (Wan et al.,
2018): a 3-layer LSTM over 40 mel bands that maps an utterance to a 256-d,
L2-normalized "d-vector". Its package cannot be imported on current Python
stacks: ``resemblyzer/__init__`` imports ``webrtcvad.py``, which needs
``pkg_resources`` (removed in setuptools 81), and ``scipy.ndimage.morphology``
(deprecated). So this module takes only its weights file (located with
:func:`importlib.util.find_spec`, which does not run the package) and redoes
the rest, step for step, from resemblyzer 0.1.4 (``audio.py``,
``voice_encoder.py``, ``hparams.py``):

- ``preprocess``: resample to 16 kHz with soxr ('soxr_hq', then cut or
  zero-padded to ``ceil(n * 16000 / sr)`` samples, as ``librosa.resample``),
  raise the volume to -30 dBFS (never lower it), and shorten silences with
  the WebRTC VAD (mode 3, 30 ms windows, moving average over 8 windows,
  voiced regions dilated by 3 windows each side);
- ``mel_spectrogram``: ``librosa.feature.melspectrogram`` with librosa
  0.11's defaults (n_fft 400, hop 160, periodic Hann window, centered frames
  with zero padding, power 2, 40 Slaney mel bands normalized by area),
  written here in numpy. librosa imports numba, which takes seconds per
  process; the numpy version matches librosa's to float32 rounding
  (``tests/test_speaker.py`` compares both, and the final embeddings to
  resemblyzer's to 1e-5);
- ``embed``: partial utterances of 160 frames (1.6 s), 1.3 per second, the
  last kept if it covers 75 % of its frames, through the network; the
  utterance's d-vector is the L2-normalized mean of theirs.

Everything runs in float32, as in resemblyzer. torch, soxr and the VAD are
imported inside functions, so importing this module is cheap.
"""

import hashlib
import importlib.util
import os

import numpy as np

# resemblyzer's hparams.py
SAMPLING_RATE = 16000
N_FFT = 400  # 25 ms windows
HOP_LENGTH = 160  # 10 ms steps
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s per partial utterance
VAD_WINDOW = 480  # 30 ms at 16 kHz
VAD_MOVING_AVERAGE = 8
VAD_MAX_SILENCE = 6  # windows of silence kept on each side of speech, in all
TARGET_DBFS = -30
HIDDEN_SIZE = 256
N_LAYERS = 3

INT16_MAX = 2**15 - 1
INSTALL = 'pip install "sklearn-prognet[speaker]"'


# -- the weights ---------------------------------------------------------------


def weights_path(owner):
    """Path of resemblyzer's ``pretrained.pt``, without importing resemblyzer."""
    spec = importlib.util.find_spec("resemblyzer")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = os.path.join(folder, "pretrained.pt")
        if os.path.isfile(path):
            return path
    raise ImportError(
        f"{owner} needs the weights of resemblyzer's speaker encoder (the "
        f"resemblyzer package, which is never imported): {INSTALL}"
    )


def check_dependencies(owner):
    """Raise ImportError, saying how to install them, if a dependency is missing."""
    for module in ("_webrtcvad", "soxr", "torch"):
        if importlib.util.find_spec(module) is None:
            raise ImportError(
                f"{owner} needs {module.lstrip('_')} (the speaker extra): {INSTALL}"
            )


def file_digest(path):
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Per process: path -> ((size, mtime), encoder). Workers forked from a parent
# that loaded the encoder inherit it.
_ENCODERS = {}


def get_encoder(path):
    """The encoder of weights file ``path``, loaded once per process."""
    info = os.stat(path)
    stamp = (info.st_size, info.st_mtime_ns)
    cached = _ENCODERS.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    encoder = _load_encoder(path)
    _ENCODERS[path] = (stamp, encoder)
    return encoder


def _load_encoder(path):
    import torch
    from torch import nn

    # A ModuleDict names its parameters as resemblyzer's VoiceEncoder does
    # ("lstm.weight_ih_l0", "linear.bias"), so the state dict loads as is.
    encoder = nn.ModuleDict(
        {
            "lstm": nn.LSTM(N_MELS, HIDDEN_SIZE, N_LAYERS, batch_first=True),
            "linear": nn.Linear(HIDDEN_SIZE, HIDDEN_SIZE),
        }
    )
    # weights_only: the file is unpickled without running code from it.
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    # The checkpoint also holds the GE2E loss's similarity weight and bias,
    # which the encoder does not use (resemblyzer loads with strict=False).
    state = {
        k: v
        for k, v in checkpoint["model_state"].items()
        if k.startswith(("lstm.", "linear."))
    }
    encoder.load_state_dict(state, strict=True)
    return encoder.eval()


def forward(encoder, mels):
    """d-vectors (n, 256) of partial utterances ``mels`` (n, frames, 40)."""
    import torch

    with torch.no_grad():
        _, (hidden, _) = encoder["lstm"](torch.from_numpy(mels))
        embeds = torch.relu(encoder["linear"](hidden[-1]))
        embeds = embeds / torch.norm(embeds, dim=1, keepdim=True)
    return embeds.numpy()


# -- preprocessing ---------------------------------------------------------------


def resample(wav, rate):
    """``librosa.resample(wav, orig_sr=rate, target_sr=16000)``, float32."""
    if rate == SAMPLING_RATE:
        return wav
    import soxr

    n_samples = int(np.ceil(len(wav) * float(SAMPLING_RATE) / rate))
    out = soxr.resample(wav, rate, SAMPLING_RATE, quality="soxr_hq")
    # librosa.util.fix_length: cut, or pad with zeros, to the exact length.
    out = out[:n_samples]
    if len(out) < n_samples:
        out = np.pad(out, (0, n_samples - len(out)))
    return out.astype(np.float32, copy=False)


def normalize_volume(wav):
    """Raise the RMS level of ``wav`` to -30 dBFS; louder signals are kept.

    The same float32 operations as resemblyzer's ``normalize_volume(wav, -30,
    increase_only=True)``. ``wav`` must not be all zeros.
    """
    rms = np.sqrt(np.mean((wav * INT16_MAX) ** 2))
    wave_dbfs = 20 * np.log10(rms / INT16_MAX)
    change = TARGET_DBFS - wave_dbfs
    if change < 0:
        return wav
    return wav * (10 ** (change / 20))


def voice_flags(wav):
    """WebRTC VAD decision (mode 3) for each whole 30 ms window of ``wav``."""
    import _webrtcvad  # the C extension; webrtcvad.py needs pkg_resources

    n_windows = len(wav) // VAD_WINDOW
    # resemblyzer rounds to int16 without clipping; samples raised past full
    # scale by the volume normalization would wrap around (the cast is
    # undefined there), so they are clipped instead.
    pcm = np.clip(np.round(wav[: n_windows * VAD_WINDOW] * INT16_MAX), -32768, 32767)
    pcm = pcm.astype("<i2")
    vad = _webrtcvad.create()
    _webrtcvad.init(vad)
    _webrtcvad.set_mode(vad, 3)
    flags = np.zeros(n_windows, dtype=bool)
    for k in range(n_windows):
        window = pcm[k * VAD_WINDOW : (k + 1) * VAD_WINDOW].tobytes()
        flags[k] = _webrtcvad.process(vad, SAMPLING_RATE, window, VAD_WINDOW)
    return flags


def _moving_average(array, width):
    # resemblyzer's moving_average, as written there.
    padded = np.concatenate((np.zeros((width - 1) // 2), array, np.zeros(width // 2)))
    total = np.cumsum(padded, dtype=float)
    total[width:] = total[width:] - total[:-width]
    return total[width - 1 :] / width


def _dilate(mask, half_width):
    """Binary dilation of a 1-D mask by ``half_width`` on each side.

    scipy's ``binary_dilation(mask, np.ones(2 * half_width + 1))``, whose
    border is False.
    """
    padded = np.pad(mask.astype(np.int64), half_width)
    window = np.ones(2 * half_width + 1, dtype=np.int64)
    return np.convolve(padded, window, mode="valid") > 0


def trim_long_silences(wav):
    """Keep the voiced parts of ``wav`` with at most 6 windows of silence around.

    As resemblyzer's ``trim_long_silences``: the signal is first cut to
    whole 30 ms windows, so the result is a multiple of 480 samples long
    (0 when the VAD hears no voice at all).
    """
    flags = voice_flags(wav)
    if not len(flags):  # shorter than one window
        return wav[:0]
    mask = np.round(_moving_average(flags, VAD_MOVING_AVERAGE)).astype(bool)
    mask = _dilate(mask, (VAD_MAX_SILENCE + 1) // 2)
    return wav[: len(flags) * VAD_WINDOW][np.repeat(mask, VAD_WINDOW)]


def preprocess(wav, rate, *, normalize=True, trim=True):
    """Resample, normalize the volume and trim, as resemblyzer's ``preprocess_wav``."""
    wav = resample(np.asarray(wav, dtype=np.float32), rate)
    if normalize:
        wav = normalize_volume(wav)
    if trim:
        wav = trim_long_silences(wav)
    return wav


# -- features --------------------------------------------------------------------


def _hz_to_mel(hz):
    # Slaney's auditory toolbox scale (librosa's default, htk=False): linear
    # below 1 kHz, logarithmic above.
    hz = np.asarray(hz, dtype=np.float64)
    mels = hz / (200.0 / 3)
    log = hz >= 1000.0
    mels[log] = 15.0 + np.log(hz[log] / 1000.0) / (np.log(6.4) / 27.0)
    return mels


def _mel_to_hz(mels):
    hz = mels * (200.0 / 3)
    log = mels >= 15.0
    hz[log] = 1000.0 * np.exp(np.log(6.4) / 27.0 * (mels[log] - 15.0))
    return hz


def mel_filters():
    """``librosa.filters.mel(sr=16000, n_fft=400, n_mels=40)``, float32."""
    fft_freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLING_RATE)
    edges = _hz_to_mel(np.array([0.0, SAMPLING_RATE / 2]))
    mel_f = _mel_to_hz(np.linspace(edges[0], edges[1], N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    weights = np.zeros((N_MELS, len(fft_freqs)), dtype=np.float32)
    for i in range(N_MELS):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    # Slaney normalization: each triangle has unit area.
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return weights


def _hann():
    # scipy.signal.get_window("hann", 400, fftbins=True), the periodic
    # window, computed as scipy does (a cosine over linspace(-pi, pi)).
    fac = np.linspace(-np.pi, np.pi, N_FFT + 1)[:-1]
    return 0.5 + 0.5 * np.cos(fac)


_MEL_FILTERS = None


def mel_spectrogram(wav):
    """Mel power spectrogram of ``wav``, float32 of shape (n_frames, 40).

    ``librosa.feature.melspectrogram(y=wav, sr=16000, n_fft=400,
    hop_length=160, n_mels=40).T``: frame ``t`` is centered on sample
    ``160 t`` of the signal padded with 200 zeros on each side.
    """
    global _MEL_FILTERS
    if _MEL_FILTERS is None:
        _MEL_FILTERS = mel_filters()
    padded = np.pad(wav, N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_LENGTH]
    # As librosa: the float64 window makes the FFT float64, stored as complex64.
    spectrum = np.fft.rfft(frames * _hann(), axis=-1).astype(np.complex64)
    power = np.abs(spectrum) ** 2
    return (power @ _MEL_FILTERS.T).astype(np.float32)


def partial_slices(n_samples, rate, min_coverage):
    """Frame ranges of the partial utterances of a signal of ``n_samples``.

    resemblyzer's ``VoiceEncoder.compute_partial_slices``: windows of 160
    frames every ``round(100 / rate)`` frames; the last one is dropped if it
    covers less than ``min_coverage`` of its frames, unless it is the only
    one. Returns a list of (start, stop) in frames.
    """
    n_frames = int(np.ceil((n_samples + 1) / HOP_LENGTH))
    step = int(np.round((SAMPLING_RATE / rate) / HOP_LENGTH))
    n_steps = max(1, n_frames - PARTIAL_FRAMES + step + 1)
    slices = [(i, i + PARTIAL_FRAMES) for i in range(0, n_steps, step)]
    start, stop = slices[-1]
    coverage = (n_samples - start * HOP_LENGTH) / ((stop - start) * HOP_LENGTH)
    if coverage < min_coverage and len(slices) > 1:
        slices = slices[:-1]
    return slices


def embed(wav, encoder, *, rate=1.3, min_coverage=0.75):
    """The d-vector of ``wav``, as resemblyzer's ``VoiceEncoder.embed_utterance``."""
    slices = partial_slices(len(wav), rate, min_coverage)
    end = slices[-1][1] * HOP_LENGTH
    if end >= len(wav):
        wav = np.pad(wav, (0, end - len(wav)))
    mel = mel_spectrogram(wav)
    mels = np.array([mel[start:stop] for start, stop in slices])
    partials = forward(encoder, mels)
    raw = np.mean(partials, axis=0)
    return raw / np.linalg.norm(raw, 2)
