"""Tests of SpeakerEncoderTransformer (resemblyzer's GE2E d-vectors).

The ground truth is resemblyzer itself, run in the tests behind two shims
(a stub ``pkg_resources`` and scipy's deprecation warning silenced), never
the transformer under test.
"""

import importlib.util
import pickle
import subprocess
import sys
import textwrap
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
)

# The speaker extra. find_spec, as the transformer: importing resemblyzer
# needs the shims of the ``upstream`` fixture.
for _module in ("resemblyzer", "_webrtcvad", "soxr"):
    if importlib.util.find_spec(_module) is None:
        pytest.skip(f"needs {_module} (the speaker extra)", allow_module_level=True)
torch = pytest.importorskip("torch")

import sklearn_prognet.features._ge2e as ge2e  # noqa: E402
from sklearn_prognet import SpeakerEncoderTransformer  # noqa: E402
from tests.conftest import CORPORA  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
FILES = sorted(str(p) for p in DATA.glob("*.wav"))
SR = 16000


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # Keeps one process's results comparable with its workers' (one thread
    # each on this 2-core machine) and the tests quick.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _read(path):
    signal, rate = soundfile.read(path, dtype="float32")
    return signal, rate


def _cosine(a, b):
    return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))


# -- resemblyzer, the reference ---------------------------------------------------


@pytest.fixture(scope="module")
def upstream():
    """resemblyzer's preprocess_wav, VoiceEncoder and audio module.

    resemblyzer imports ``webrtcvad.py``, which calls
    ``pkg_resources.get_distribution`` (setuptools removed pkg_resources in
    81), and ``scipy.ndimage.morphology``, deprecated: a stub stands in for
    the first, the warning of the second is ignored here only.
    """
    with pytest.MonkeyPatch.context() as mp:
        if "webrtcvad" not in sys.modules:
            # The stub even where setuptools still has pkg_resources: importing
            # it warns there (deprecated since setuptools 67.5), and the stub
            # is all that webrtcvad.py asks of it.
            stub = types.ModuleType("pkg_resources")
            stub.get_distribution = lambda name: types.SimpleNamespace(version="0")
            mp.setitem(sys.modules, "pkg_resources", stub)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=FutureWarning)
            import resemblyzer
            from resemblyzer import audio

            encoder = resemblyzer.VoiceEncoder("cpu", verbose=False)
        yield types.SimpleNamespace(
            preprocess_wav=resemblyzer.preprocess_wav,
            encoder=encoder,
            audio=audio,
        )


def _reference(upstream, source, source_sr=None):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        wav = upstream.preprocess_wav(source, source_sr=source_sr)
        return upstream.encoder.embed_utterance(wav)


def _corpus_files():
    emodb = sorted((CORPORA / "emodb" / "wav").glob("*.wav"))[::60][:4]
    urdu = [sorted((CORPORA / "urdu" / e).glob("*.wav"))[7] for e in ("Angry", "Sad")]
    urdu += sorted((CORPORA / "urdu" / "Happy").glob("*.wav"))[-1:]
    nemo = sorted((CORPORA / "nemo" / "samples").glob("*.wav"))[::9]
    return [str(p) for p in [*emodb, *urdu, *nemo]]


@pytest.mark.slow
@pytest.mark.corpora
def test_equals_resemblyzer_on_real_corpora(upstream):
    # EmoDB at 16 kHz, URDU at 44.1 kHz, nEMO at 24 kHz: the resampling, the
    # volume normalization, the VAD trimming, the mel spectrogram and the
    # network must all match resemblyzer's.
    files = _corpus_files()
    rates = {soundfile.info(f).samplerate for f in files}
    assert rates == {16000, 24000, 44100}
    X = SpeakerEncoderTransformer().fit_transform(files)
    expected = np.array([_reference(upstream, f) for f in files])
    np.testing.assert_allclose(X, expected, rtol=0, atol=1e-5)
    # the rows differ from one another: a constant output would not pass
    assert np.abs(X[0] - X[-1]).max() > 0.05


@pytest.mark.slow
@pytest.mark.corpora
def test_signal_at_44k_equals_resemblyzer(upstream):
    path = str(sorted((CORPORA / "urdu" / "Neutral").glob("*.wav"))[3])
    signal, rate = _read(path)
    assert rate == 44100
    X = SpeakerEncoderTransformer(sampling_rate=rate).fit_transform([signal])
    expected = _reference(upstream, signal, source_sr=rate)
    np.testing.assert_allclose(X[0], expected, rtol=0, atol=1e-5)
    # ... and as a file
    from_file = SpeakerEncoderTransformer().fit_transform([path])
    np.testing.assert_allclose(from_file, X, rtol=0, atol=1e-6)


@pytest.mark.slow
def test_steps_equal_resemblyzer_steps(upstream):
    # Each step on its own, on a test file, so that a failure says which.
    signal, rate = _read(FILES[0])
    quiet = 0.01 * signal
    for wav in (signal, quiet):
        expected = upstream.preprocess_wav(wav, source_sr=rate)
        np.testing.assert_array_equal(ge2e.preprocess(wav, rate), expected)
    wav = upstream.preprocess_wav(signal, source_sr=rate)
    np.testing.assert_allclose(
        ge2e.mel_spectrogram(wav),
        upstream.audio.wav_to_mel_spectrogram(wav),
        rtol=1e-5,
        atol=1e-7,
    )
    for n_samples in (1, 479, 16000, 25599, 25600, 31000, 48000, 100001):
        for rate_, coverage in ((1.3, 0.75), (0.625, 1.0), (4.0, 0.1)):
            _, mel_slices = upstream.encoder.compute_partial_slices(
                n_samples, rate_, coverage
            )
            assert ge2e.partial_slices(n_samples, rate_, coverage) == [
                (s.start, s.stop) for s in mel_slices
            ]


@pytest.mark.slow
def test_mel_filters_equal_librosa():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        import librosa

    expected = librosa.filters.mel(sr=SR, n_fft=400, n_mels=40)
    np.testing.assert_array_equal(ge2e.mel_filters(), expected)


def test_dilation_equals_scipy():
    from scipy.ndimage import binary_dilation

    rng = np.random.default_rng(0)
    for n in (1, 3, 7, 50):
        mask = rng.random(n) < 0.15
        np.testing.assert_array_equal(
            ge2e._dilate(mask, 3), binary_dilation(mask, np.ones(7))
        )


# -- the preprocessing switches -----------------------------------------------------


@pytest.fixture(scope="module")
def padded_file(tmp_path_factory):
    """A test recording with 2 s of digital silence before and after it."""
    signal, rate = _read(FILES[0])
    zeros = np.zeros(2 * rate, dtype=signal.dtype)
    path = tmp_path_factory.mktemp("padded") / "padded.wav"
    soundfile.write(path, np.concatenate([zeros, signal, zeros]), rate)
    return str(path)


def test_trimming_removes_long_silences(padded_file):
    original = SpeakerEncoderTransformer().fit_transform(FILES[:1])[0]
    trimmed = SpeakerEncoderTransformer().fit_transform([padded_file])[0]
    kept = SpeakerEncoderTransformer(trim_silence=False).fit_transform([padded_file])
    kept = kept[0]
    # 4 s of silence around 1.7 s of speech change the d-vector; trimmed
    # away, they hardly do.
    assert 1 - _cosine(kept, original) > 5 * (1 - _cosine(trimmed, original))
    assert np.abs(kept - trimmed).max() > 0.02


def test_trimming_shortens_silences_to_a_few_windows():
    signal, rate = _read(FILES[0])
    zeros = np.zeros(2 * rate, dtype=np.float32)
    padded = np.concatenate([zeros, signal, zeros])
    trimmed = ge2e.preprocess(padded, rate, normalize=False)
    alone = ge2e.preprocess(signal, rate, normalize=False)
    # at most 2 x 3 windows of 30 ms of the padding are kept
    assert len(trimmed) % 480 == 0
    assert len(trimmed) <= len(alone) + 2 * 3 * 480 + 480
    # and the speech itself is kept: its loudest sample is there
    assert np.max(np.abs(trimmed)) == np.max(np.abs(signal))


def test_volume_normalization_only_increases():
    signal, rate = _read(FILES[1])
    signal = signal.astype(np.float64)

    def dbfs(x):
        return 20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)))

    assert dbfs(signal) > -30  # the recording is louder than the target
    loud = [signal]
    on = SpeakerEncoderTransformer(sampling_rate=rate).fit_transform(loud)
    off = SpeakerEncoderTransformer(sampling_rate=rate, normalize_volume=False)
    np.testing.assert_array_equal(on, off.fit_transform(loud))
    # A quiet copy is raised to -30 dBFS: as if given at that level.
    quiet = 0.003 * signal
    assert dbfs(quiet) < -30
    raised = quiet * 10 ** ((-30 - dbfs(quiet)) / 20)
    np.testing.assert_allclose(
        SpeakerEncoderTransformer(sampling_rate=rate).fit_transform([quiet]),
        off.fit_transform([raised]),
        rtol=0,
        atol=1e-5,
    )
    # Without it, the encoder sees another level (the mel spectrogram is not
    # logarithmic), and the VAD hears no voice at -70 dBFS.
    untrimmed = clone(off).set_params(trim_silence=False)
    assert not np.allclose(
        untrimmed.fit_transform([quiet]), untrimmed.fit_transform([raised]), atol=1e-3
    )
    with pytest.raises(ValueError, match="too little voice"):
        off.fit_transform([quiet])


def test_rate_and_min_coverage_change_the_partials():
    signal, rate = _read(FILES[0])  # 1.74 s: one partial of 1.6 s, or two
    X = SpeakerEncoderTransformer(sampling_rate=rate, trim_silence=False)
    one = X.fit_transform([signal])
    two = X.set_params(min_coverage=0.05).fit_transform([signal])
    assert len(ge2e.partial_slices(len(signal), 1.3, 0.05)) == 2
    assert not np.allclose(one, two, atol=1e-4)


# -- inputs, cache, workers ----------------------------------------------------------


class _Counter:
    """Wraps _ge2e.embed to count the real encoder runs."""

    def __init__(self, monkeypatch):
        self.calls = 0
        self._embed = ge2e.embed
        monkeypatch.setattr(ge2e, "embed", self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self._embed(*args, **kwargs)


def test_cache_hits_without_recomputing(tmp_path, monkeypatch):
    counter = _Counter(monkeypatch)
    encoder = SpeakerEncoderTransformer(memory=tmp_path / "cache")
    first = encoder.fit_transform(FILES)
    assert counter.calls == len(FILES)
    np.testing.assert_array_equal(encoder.transform(FILES), first)
    assert counter.calls == len(FILES)
    # a copy of a file hits (the key is the content) ...
    copy = tmp_path / "copy.wav"
    copy.write_bytes(Path(FILES[2]).read_bytes())
    np.testing.assert_array_equal(encoder.transform([str(copy)])[0], first[2])
    assert counter.calls == len(FILES)
    # ... a parameter of the preprocessing misses
    encoder.set_params(trim_silence=False).transform(FILES[:1])
    assert counter.calls == len(FILES) + 1


def test_cache_key_holds_version_and_weights_digest():
    config = SpeakerEncoderTransformer()._config()
    key = config.cache_key()
    assert ge2e.file_digest(ge2e.weights_path("test")) in key
    from sklearn_prognet.features import _speaker

    assert _speaker._CACHE_VERSION in key


def test_parallel_equals_sequential():
    encoder = SpeakerEncoderTransformer()
    sequential = encoder.fit_transform(FILES)
    parallel = encoder.set_params(n_jobs=2).transform(FILES)
    np.testing.assert_allclose(parallel, sequential, rtol=0, atol=1e-6)


def test_signal_at_44k_is_resampled():
    signal, rate = _read(FILES[3])
    import soxr

    high = soxr.resample(signal, rate, 44100)
    X = SpeakerEncoderTransformer(sampling_rate=44100).fit_transform([high])
    at_16k = SpeakerEncoderTransformer(sampling_rate=rate).fit_transform([signal])
    # the same speech after a round trip through 44.1 kHz
    assert _cosine(X[0], at_16k[0]) > 0.99
    assert np.abs(X - at_16k).max() > 0  # but it was resampled, not ignored


def test_errors_name_the_file(tmp_path):
    encoder = SpeakerEncoderTransformer()
    missing = tmp_path / "missing.wav"
    with pytest.raises(FileNotFoundError, match=r"missing\.wav"):
        encoder.fit_transform([str(missing)])
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.wav.*not a readable audio file"):
        encoder.fit_transform([str(empty)])
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    with pytest.raises(ValueError, match=r"notes\.wav.*not a readable audio file"):
        encoder.fit_transform([str(text)])
    no_samples = tmp_path / "no_samples.wav"
    soundfile.write(no_samples, np.zeros(0), SR)
    with pytest.raises(ValueError, match=r"no_samples\.wav.*no audio samples"):
        encoder.fit_transform([str(no_samples)])
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(SR), SR)
    with pytest.raises(ValueError, match=r"silent\.wav.*is silent"):
        encoder.fit_transform([FILES[0], str(silent)])


def test_too_little_voice_is_an_error_not_nan(tmp_path):
    short = tmp_path / "short.wav"
    signal, rate = _read(FILES[0])
    soundfile.write(short, signal[8000:8300], rate)  # 19 ms
    with pytest.raises(ValueError, match=r"short\.wav.*too little voice.*30 ms"):
        SpeakerEncoderTransformer().fit_transform([str(short)])
    with pytest.raises(ValueError, match=r"short\.wav.*too short.*480 samples"):
        SpeakerEncoderTransformer(trim_silence=False).fit_transform([str(short)])
    with pytest.warns(UserWarning, match=r"short\.wav"):
        X = SpeakerEncoderTransformer(on_error="nan").fit_transform(
            [FILES[0], str(short)]
        )
    assert np.isnan(X[1]).all() and np.isfinite(X[0]).all()
    # 31 ms, kept untrimmed, is embedded (zero-padded to one partial)
    ok = SpeakerEncoderTransformer(sampling_rate=rate, trim_silence=False)
    assert np.isfinite(ok.fit_transform([signal[8000:8500]])).all()


def test_signals_need_sampling_rate():
    with pytest.raises(ValueError, match="sampling_rate must be set"):
        SpeakerEncoderTransformer().fit([np.zeros(SR)])
    with pytest.raises(ValueError, match="SpeakerEncoderTransformer takes audio"):
        SpeakerEncoderTransformer().fit(np.zeros((3, 100)))


def test_output_is_unit_norm_and_nonnegative():
    X = SpeakerEncoderTransformer().fit_transform(FILES)
    assert X.shape == (len(FILES), 256) and X.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1, atol=1e-6)
    assert X.min() >= 0
    # two recordings of speaker 03 are closer than speakers 03 and 09
    names = [Path(f).name[:2] for f in FILES]
    assert names[:3] == ["03", "03", "09"]
    assert _cosine(X[0], X[1]) > _cosine(X[0], X[2])


# -- API ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "check",
    [
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
        check_estimator_cloneable,
        check_estimator_repr,
        check_estimator_tags_renamed,
        check_valid_tag_types,
    ],
)
def test_sklearn_api_checks(check):
    # sklearn's common checks skip a transformer whose input is not 2-D.
    check("SpeakerEncoderTransformer", SpeakerEncoderTransformer())


def test_tags():
    tags = SpeakerEncoderTransformer().__sklearn_tags__()
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.one_d_array is True
    assert tags.input_tags.string is True
    assert tags.requires_fit is False


def test_pickle_clone_and_fit_attributes():
    encoder = SpeakerEncoderTransformer(trim_silence=False).fit(FILES)
    assert encoder.n_output_features_ == 256
    names = encoder.get_feature_names_out()
    assert names[0] == "dvector_0" and names[-1] == "dvector_255"
    np.testing.assert_array_equal(encoder.feature_names_, names)
    assert not hasattr(clone(encoder), "feature_names_")
    restored = pickle.loads(pickle.dumps(encoder))
    assert restored.get_params() == encoder.get_params()
    np.testing.assert_array_equal(
        restored.transform(FILES[:1]), encoder.transform(FILES[:1])
    )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"rate": 0.5}, "rate"),
        ({"min_coverage": 0}, "min_coverage"),
        ({"trim_silence": "yes"}, "trim_silence"),
        ({"channel": -1}, "channel"),
        ({"on_error": "skip"}, "on_error"),
    ],
)
def test_invalid_parameters(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        SpeakerEncoderTransformer(**params).fit(FILES)


@pytest.mark.parametrize("missing", ["resemblyzer", "_webrtcvad", "soxr"])
def test_missing_extra_says_how_to_install(monkeypatch, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # find_spec gives None
    with pytest.raises(ImportError, match=r'pip install "sklearn-prognet\[speaker\]"'):
        SpeakerEncoderTransformer().fit(FILES)


def test_import_is_lazy_and_resemblyzer_never_imported():
    # resemblyzer's package breaks on current setuptools and scipy, and
    # librosa imports numba (seconds): the transformer needs neither.
    code = (
        "import sys, sklearn_prognet.features._speaker\n"
        "from sklearn_prognet import SpeakerEncoderTransformer\n"
        "SpeakerEncoderTransformer().get_feature_names_out()\n"
        "for name in ('torch', 'resemblyzer', 'librosa', 'soxr', '_webrtcvad'):\n"
        "    assert name not in sys.modules, name\n"
        f"SpeakerEncoderTransformer().fit_transform([{FILES[0]!r}])\n"
        "for name in ('resemblyzer', 'librosa', 'webrtcvad', 'pkg_resources'):\n"
        "    assert name not in sys.modules, name\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the shipped EmoDB d-vectors --------------------------------------------------


def _shipped_rows(names):
    from sklearn_prognet.datasets import load_emodb_features

    emodb = load_emodb_features(features="dvector", as_frame=True)
    return emodb.frame.set_index("file").loc[names, emodb.feature_names].to_numpy()


def test_shipped_dvectors_equal_extraction_of_test_files():
    # tests/data holds EmoDB recordings, copied unchanged
    X = SpeakerEncoderTransformer().fit_transform(FILES)
    expected = _shipped_rows([Path(f).name for f in FILES])
    np.testing.assert_allclose(X, expected, rtol=0, atol=1e-6)


@pytest.mark.corpora
def test_shipped_dvectors_equal_extraction_of_corpus_files():
    from sklearn_prognet.datasets import load_emodb_features

    names = list(load_emodb_features(features="dvector").file[::85])
    files = [str(CORPORA / "emodb" / "wav" / name) for name in names]
    X = SpeakerEncoderTransformer().fit_transform(files)
    np.testing.assert_allclose(X, _shipped_rows(names), rtol=0, atol=1e-6)


# -- the user guide --------------------------------------------------------------


@pytest.mark.slow
def test_user_guide_code_blocks_run_as_written(capsys):
    import re

    from tests.conftest import ROOT

    text = (ROOT / "docs" / "user_guide" / "datasets.rst").read_text()
    section = text.split(".. _speaker_embeddings:")[1].split("\n.. _")[0]
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", section)
    assert len(blocks) == 2
    for block in blocks:
        exec(textwrap.dedent(block), {})
    out = capsys.readouterr().out
    assert "(1, 256)" in out and "['dvector_0' 'dvector_1']" in out
    assert re.search(r"egemaps\+dvector +344 features +UAR 0\.\d+", out)
