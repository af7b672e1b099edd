"""Tests of EGeMAPSTransformer (sklearn_prognet.features._features)."""

import os
import pickle
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import soundfile
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
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

import sklearn_prognet.features._features as features_module
from sklearn_prognet import EGeMAPSTransformer
from sklearn_prognet.datasets import load_emodb

opensmile = pytest.importorskip("opensmile")

DATA = Path(__file__).resolve().parent / "data"
FILES = sorted(str(p) for p in DATA.glob("*.wav"))
SR = 16000


@pytest.fixture(scope="module")
def reference():
    """openSMILE called directly on the test files (the ground truth)."""
    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    frame = smile.process_files(FILES)
    return frame.to_numpy(dtype=np.float64), list(frame.columns)


@pytest.fixture(scope="module")
def features(reference):
    """Features of FILES with default settings (computed once, never modified)."""
    return EGeMAPSTransformer().fit_transform(FILES)


def _int16(path):
    signal, sampling_rate = soundfile.read(path, dtype="int16")
    return signal, sampling_rate


def _write(path, signal, sampling_rate=SR):
    soundfile.write(path, signal, sampling_rate, subtype="PCM_16")
    return str(path)


class _Counter:
    """Wraps _features._extract to count the real openSMILE calls."""

    def __init__(self, monkeypatch):
        self.calls = 0
        self._extract = features_module._extract
        monkeypatch.setattr(features_module, "_extract", self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self._extract(*args, **kwargs)


# -- import and API -----------------------------------------------------------


def test_import_is_lazy():
    code = (
        "import sys, sklearn_prognet, sklearn_prognet.datasets, "
        "sklearn_prognet.features._features\n"
        "from sklearn_prognet import EGeMAPSTransformer\n"
        "EGeMAPSTransformer(feature_set='ComParE_2016').get_params()\n"
        "sklearn_prognet.datasets.load_emodb_features()\n"
        "assert 'opensmile' not in sys.modules, 'opensmile imported'\n"
        "assert 'audiofile' not in sys.modules, 'audiofile imported'\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "import sklearn_prognet.plotting, sklearn_prognet.stats\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


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
    check("EGeMAPSTransformer", EGeMAPSTransformer())


def test_tags():
    tags = EGeMAPSTransformer().__sklearn_tags__()
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.one_d_array is True
    assert tags.input_tags.string is True
    assert tags.requires_fit is False
    assert tags.target_tags.required is False


def test_fit_learns_only_feature_names(reference):
    egemaps = EGeMAPSTransformer()
    assert egemaps.fit(FILES) is egemaps
    assert egemaps.n_output_features_ == 88
    assert list(egemaps.feature_names_) == reference[1]
    assert list(egemaps.get_feature_names_out()) == reference[1]
    assert not hasattr(egemaps, "n_features_in_")


def test_stateless_transform_without_fit(features):
    egemaps = EGeMAPSTransformer()
    np.testing.assert_array_equal(egemaps.transform(FILES), features)
    assert len(egemaps.get_feature_names_out()) == 88
    assert not hasattr(egemaps, "feature_names_")


def test_pickle_and_clone(features):
    egemaps = EGeMAPSTransformer(memory=None, n_jobs=1).fit(FILES)
    restored = pickle.loads(pickle.dumps(egemaps))
    np.testing.assert_array_equal(restored.transform(FILES), features)
    assert list(restored.feature_names_) == list(egemaps.feature_names_)
    cloned = clone(egemaps)
    assert not hasattr(cloned, "feature_names_")
    assert cloned.get_params() == egemaps.get_params()
    np.testing.assert_array_equal(cloned.transform(FILES), features)


@pytest.mark.parametrize(
    "params",
    [
        {"feature_set": "eGeMAPS"},
        {"feature_level": "lld"},
        {"channel": -1},
        {"channel": "left"},
        {"sampling_rate": 0},
        {"resample": 16000.5},
        {"on_error": "ignore"},
        {"memory": 3},
        {"n_jobs": 1.5},
    ],
)
def test_invalid_parameters(params):
    egemaps = EGeMAPSTransformer(**params)
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        egemaps.fit(FILES)
    with pytest.raises(InvalidParameterError):
        egemaps.transform(FILES)


@pytest.mark.parametrize(
    "feature_set, n_features",
    [("eGeMAPSv02", 88), ("GeMAPSv01b", 62), ("ComParE_2016", 6373)],
)
def test_feature_sets(feature_set, n_features):
    egemaps = EGeMAPSTransformer(feature_set=feature_set)
    assert len(egemaps.get_feature_names_out()) == n_features
    assert egemaps.fit_transform(FILES[:1]).shape == (1, n_features)


# -- equality with openSMILE ----------------------------------------------------


def test_equals_opensmile_direct(features, reference):
    assert features.dtype == np.float64
    assert features.shape == (len(FILES), 88)
    np.testing.assert_array_equal(features, reference[0])


def test_parallel_equals_sequential(features):
    files = FILES * 3
    parallel = EGeMAPSTransformer(n_jobs=2).transform(files)
    np.testing.assert_array_equal(parallel, np.vstack([features] * 3))


@pytest.mark.parametrize(
    "container",
    [list, tuple, np.array, lambda f: [Path(p) for p in f], pd.Series, pd.Index],
)
def test_path_containers(container, features):
    np.testing.assert_array_equal(
        EGeMAPSTransformer().transform(container(FILES)), features
    )


def test_single_column_dataframe_and_column_transformer(features):
    table = load_emodb(DATA)
    egemaps = EGeMAPSTransformer()
    np.testing.assert_array_equal(
        egemaps.transform(table[["file"]]), egemaps.transform(table["file"])
    )
    ct = ColumnTransformer([("egemaps", EGeMAPSTransformer(), "file")])
    out = ct.fit_transform(table)
    assert out.shape == (4, 88)
    assert ct.get_feature_names_out()[0] == "egemaps__F0semitoneFrom27.5Hz_sma3nz_amean"


def test_set_output_pandas(features, reference):
    index = pd.Index([Path(f).stem for f in FILES], name="utterance")
    X = pd.Series(FILES, index=index)
    out = EGeMAPSTransformer().set_output(transform="pandas").fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == reference[1]
    assert out.index.equals(index)
    np.testing.assert_array_equal(out.to_numpy(), features)


# -- signals ------------------------------------------------------------------


@pytest.mark.parametrize(
    "convert",
    [
        lambda x: x,  # int16
        lambda x: x.astype(np.int32) << 16,  # int32 PCM
        lambda x: x / 32768.0,  # float64
        lambda x: (x / 32768.0).astype(np.float32),
        lambda x: (x / 32768.0)[np.newaxis],  # (1, n_samples)
    ],
    ids=["int16", "int32", "float64", "float32", "2-D"],
)
def test_signals_equal_files(convert, features):
    signals = [convert(_int16(f)[0]) for f in FILES]
    egemaps = EGeMAPSTransformer(sampling_rate=SR)
    np.testing.assert_array_equal(egemaps.fit_transform(signals), features)


def test_uint8_signal_is_centered():
    rng = np.random.default_rng(0)
    x = rng.integers(-100, 100, SR).astype(np.int16) * 256  # 8-bit precision
    egemaps = EGeMAPSTransformer(sampling_rate=SR)
    from_uint8 = egemaps.transform([(x // 256 + 128).astype(np.uint8)])
    np.testing.assert_array_equal(from_uint8, egemaps.transform([x]))


def test_full_scale_float_does_not_wrap():
    t = np.arange(SR) / SR
    x = np.clip(1.3 * np.sin(2 * np.pi * 200 * t), -1, 1)  # many samples at 1.0
    assert (x == 1.0).sum() > 100
    guarded = EGeMAPSTransformer(sampling_rate=SR).transform([x])
    largest = np.minimum(x, 32767 / 32768)
    expected = EGeMAPSTransformer(sampling_rate=SR).transform([largest])
    np.testing.assert_array_equal(guarded, expected)
    # openSMILE alone turns 1.0 into -32768: the features differ.
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02)
    wrapped = smile.process_signal(x, SR).to_numpy()
    assert not np.allclose(wrapped, guarded, equal_nan=True)


def test_signal_cache_key_includes_sampling_rate(tmp_path):
    x = _int16(FILES[0])[0]
    memory = joblib.Memory(tmp_path, verbose=0)
    at_16k = EGeMAPSTransformer(sampling_rate=SR, memory=memory).transform([x])
    at_8k = EGeMAPSTransformer(sampling_rate=8000, memory=memory).transform([x])
    assert not np.allclose(at_16k, at_8k)


def test_signals_in_parallel():
    signals = [_int16(f)[0] for f in FILES]
    one = EGeMAPSTransformer(sampling_rate=SR).transform(signals)
    two = EGeMAPSTransformer(sampling_rate=SR, n_jobs=2).transform(signals)
    np.testing.assert_array_equal(one, two)


# -- channels and sampling rates ------------------------------------------------


@pytest.fixture
def stereo_file(tmp_path):
    left, _ = soundfile.read(FILES[0], dtype="float64")
    right, _ = soundfile.read(FILES[1], dtype="float64")
    n = min(len(left), len(right))
    stereo = np.stack([left[:n], right[:n]], axis=1)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, stereo, SR, subtype="PCM_16")
    return str(path), stereo


def test_channel_selection_and_mixdown(stereo_file):
    path, stereo = stereo_file
    for channel in (0, 1):
        expected = EGeMAPSTransformer(sampling_rate=SR).transform([stereo[:, channel]])
        got = EGeMAPSTransformer(channel=channel).transform([path])
        np.testing.assert_array_equal(got, expected)
    mixed = EGeMAPSTransformer(sampling_rate=SR).transform([stereo.mean(axis=1)])
    got = EGeMAPSTransformer(channel="mean").transform([path])
    np.testing.assert_array_equal(got, mixed)
    with pytest.raises(ValueError, match=r"stereo\.wav.*2 channel\(s\); channel=2"):
        EGeMAPSTransformer(channel=2).transform([path])


@pytest.mark.filterwarnings("ignore:resample=8000 keeps")  # tested below
def test_resample(tmp_path):
    import audresample

    signal, _ = soundfile.read(FILES[0], dtype="float32")
    expected = EGeMAPSTransformer(sampling_rate=8000).transform(
        [audresample.resample(signal, SR, 8000)[0]]
    )
    got = EGeMAPSTransformer(resample=8000).transform(FILES[:1])
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # the declared input rate is checked, and resample converts it
    with pytest.raises(
        ValueError, match=r"03a02Ta\.wav.*16000 Hz.*sampling_rate=44100"
    ):
        EGeMAPSTransformer(sampling_rate=44100).transform(FILES[:1])
    egemaps = EGeMAPSTransformer(sampling_rate=SR, resample=SR)
    np.testing.assert_array_equal(
        egemaps.transform(FILES[:1]), EGeMAPSTransformer().transform(FILES[:1])
    )
    egemaps = EGeMAPSTransformer(sampling_rate=44100, resample=8000)
    np.testing.assert_array_equal(egemaps.transform(FILES[:1]), got)


# -- bad inputs ---------------------------------------------------------------


@pytest.fixture
def bad_files(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.touch()
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all\n")
    short = _write(tmp_path / "short.wav", np.zeros(160, dtype=np.int16) + 100)
    no_samples = _write(tmp_path / "no_samples.wav", np.zeros(0, dtype=np.int16))
    # integer PCM values in a float WAV, as some tools write them
    unscaled = tmp_path / "unscaled.wav"
    soundfile.write(unscaled, _int16(FILES[0])[0].astype(float), SR, subtype="FLOAT")
    return {
        "missing": str(tmp_path / "missing.wav"),
        "empty": str(empty),
        "non-audio": str(text),
        "short": short,
        "no samples": no_samples,
        "unscaled float": str(unscaled),
        "folder": str(tmp_path),
    }


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize(
    "kind, error, match",
    [
        ("missing", FileNotFoundError, "does not exist"),
        ("folder", FileNotFoundError, "not a file"),
        ("empty", ValueError, "not a readable audio file"),
        ("non-audio", ValueError, "not a readable audio file"),
        ("short", ValueError, r"too short for openSMILE \(160 samples = 10.0 ms"),
        ("no samples", ValueError, "no audio samples"),
        ("unscaled float", ValueError, r"far outside \[-1, 1\]"),
    ],
)
def test_bad_file_raises_naming_it(bad_files, kind, error, match, n_jobs):
    path = bad_files[kind]
    with pytest.raises(error, match=match) as info:
        EGeMAPSTransformer(n_jobs=n_jobs).transform([FILES[0], path, FILES[1]])
    assert repr(path) in str(info.value)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_on_error_nan_warns_once(bad_files, features, n_jobs):
    bad = list(bad_files.values())
    X = [FILES[0], *bad, FILES[1]]
    egemaps = EGeMAPSTransformer(on_error="nan", n_jobs=n_jobs)
    with pytest.warns(UserWarning) as record:
        out = egemaps.transform(X)
    messages = [str(w.message) for w in record]
    assert len(messages) == 1, messages
    assert record[0].filename == __file__  # the caller's line, not sklearn's
    assert f"{len(bad)} of {len(X)} inputs failed" in messages[0]
    for path in bad:
        assert repr(path) in messages[0]
    assert np.isnan(out[1:-1]).all()
    np.testing.assert_array_equal(out[[0, -1]], features[:2])


def test_bad_signals(features):
    x = _int16(FILES[0])[0] / 32768
    with_nan = x.copy()
    with_nan[100] = np.nan
    too_loud = x * 40000
    a_bit_loud = x / np.abs(x).max() * 1.5  # clipped, not rejected
    egemaps = EGeMAPSTransformer(sampling_rate=SR)
    with pytest.raises(ValueError, match=r"X\[1\] has samples that are not finite"):
        egemaps.transform([x, with_nan])
    with pytest.raises(ValueError, match=r"X\[1\].*far outside \[-1, 1\]"):
        egemaps.transform([x, too_loud])
    with pytest.raises(ValueError, match=r"X\[0\].*too short"):
        egemaps.transform([x[:100]])
    with pytest.warns(UserWarning, match=r"X\[1\].*\n.*X\[2\]"):
        out = EGeMAPSTransformer(sampling_rate=SR, on_error="nan").transform(
            [x, with_nan, too_loud]
        )
    assert np.isnan(out[1:]).all() and not np.isnan(out[0]).any()
    clipped = np.clip(a_bit_loud, -1, 32767 / 32768)
    np.testing.assert_array_equal(
        egemaps.transform([a_bit_loud]), egemaps.transform([clipped])
    )


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.zeros((3, 16000)), ValueError, "numeric array of shape"),
        (np.zeros(16000), ValueError, "numeric array of shape"),
        ([[0.1, 0.2], [0.3, 0.4]], TypeError, "X\\[0\\] is a list"),
        ([], ValueError, "X is empty"),
        (np.array([], dtype=object), ValueError, "X is empty"),
        (FILES[0], ValueError, "single path"),
        (Path(FILES[0]), ValueError, "single path"),
        ([FILES[0], np.zeros(100)], ValueError, "mixes file paths and signals"),
        ([np.zeros(100, dtype=complex)], TypeError, "dtype complex128"),
        ([np.zeros((1, 2, 100))], ValueError, "has shape"),
        ([np.zeros((16000, 2))], ValueError, r"\(16000, 2\).*signal\.T"),
        ([b"/tmp/a.wav"], TypeError, "X\\[0\\] is a bytes"),
        (pd.DataFrame({"a": FILES, "b": FILES}), ValueError, "2 columns"),
        (42, TypeError, "got int"),
    ],
)
def test_bad_X(X, error, match):
    egemaps = EGeMAPSTransformer(sampling_rate=SR)
    with pytest.raises(error, match=match):
        egemaps.fit(X)
    with pytest.raises(error, match=match):
        egemaps.transform(X)


def test_signals_need_sampling_rate():
    with pytest.raises(ValueError, match="sampling_rate must be set"):
        EGeMAPSTransformer().fit_transform([np.zeros(SR)])


# -- cache --------------------------------------------------------------------


@pytest.mark.parametrize(
    "memory", [lambda p: str(p), lambda p: p, lambda p: joblib.Memory(p, verbose=0)]
)
def test_cache_follows_content_and_config(tmp_path, monkeypatch, features, memory):
    cache = memory(tmp_path / "cache")
    counter = _Counter(monkeypatch)
    copy = tmp_path / "audio" / "a.wav"
    copy.parent.mkdir()
    shutil.copy(FILES[0], copy)

    egemaps = EGeMAPSTransformer(memory=cache)
    np.testing.assert_array_equal(egemaps.transform([str(copy)]), features[:1])
    assert counter.calls == 1
    # second transform, and a renamed or copied file: hits
    np.testing.assert_array_equal(egemaps.transform([str(copy)]), features[:1])
    renamed = copy.with_name("renamed.wav")
    shutil.copy(copy, renamed)
    copy.unlink()
    np.testing.assert_array_equal(egemaps.transform([renamed]), features[:1])
    assert counter.calls == 1
    # a cached file is still checked against sampling_rate
    with pytest.raises(ValueError, match=r"renamed\.wav.*sampling_rate=8000"):
        EGeMAPSTransformer(memory=cache, sampling_rate=8000).transform([renamed])
    # new content under the same name: miss
    shutil.copy(FILES[1], renamed)
    np.testing.assert_array_equal(egemaps.transform([renamed]), features[1:2])
    assert counter.calls == 2
    # other configuration: miss
    EGeMAPSTransformer(memory=cache, channel="mean").transform([renamed])
    EGeMAPSTransformer(memory=cache, feature_set="GeMAPSv01b").transform([renamed])
    assert counter.calls == 4


def test_cache_filled_by_workers(tmp_path, monkeypatch, features):
    cache = str(tmp_path / "cache")
    out = EGeMAPSTransformer(memory=cache, n_jobs=2).transform(FILES)
    np.testing.assert_array_equal(out, features)

    def fail(*args, **kwargs):
        raise AssertionError("openSMILE called although the cache holds the row")

    monkeypatch.setattr(features_module, "_extract", fail)
    out = EGeMAPSTransformer(memory=cache, n_jobs=2).transform(FILES)
    np.testing.assert_array_equal(out, features)


def test_errors_are_not_cached(tmp_path, bad_files):
    egemaps = EGeMAPSTransformer(memory=str(tmp_path / "cache"))
    for _ in range(2):
        with pytest.raises(ValueError, match="too short"):
            egemaps.transform([bad_files["short"]])


# -- progress bar and pipelines ---------------------------------------------------


def test_verbose_shows_progress(capsys):
    EGeMAPSTransformer(verbose=1).transform(FILES[:2])
    assert "openSMILE" in capsys.readouterr().err
    EGeMAPSTransformer().transform(FILES[:2])
    assert capsys.readouterr().err == ""


def test_pipeline_on_test_files(reference):
    table = load_emodb(DATA)
    pipe = Pipeline(
        [
            ("egemaps", EGeMAPSTransformer()),
            ("scale", StandardScaler()),
            ("clf", LogisticRegression()),
        ]
    )
    pipe.fit(table["file"], table["emotion"])
    assert pipe.score(table["file"], table["emotion"]) == 1.0
    # openSMILE's own names, in its order
    assert list(pipe[:-1].get_feature_names_out()) == reference[1]


@pytest.fixture(scope="module")
def emodb_cache(tmp_path_factory):
    # Shared with tests/test_datasets.py through the session's base temp dir,
    # so the 339 EmoDB files are extracted once per test session.
    return str(tmp_path_factory.getbasetemp() / "emodb_egemaps_cache")


@pytest.mark.corpora
@pytest.mark.slow
def test_pipeline_on_emodb_files(corpora_dir, emodb_cache):
    table = load_emodb(corpora_dir / "emodb")
    assert len(table) == 339
    pipe = Pipeline(
        [
            ("egemaps", EGeMAPSTransformer(n_jobs=2, memory=emodb_cache)),
            ("scale", StandardScaler()),
            ("clf", LogisticRegression(max_iter=2000)),
        ]
    )
    pipe.fit(table["file"], table["emotion"])
    assert set(pipe.classes_) == {"angry", "happy", "sad", "neutral"}
    assert pipe.score(table["file"], table["emotion"]) > 0.9
    scores = cross_val_score(
        pipe, table["file"], table["emotion"], groups=table["speaker"], cv=GroupKFold(5)
    )
    assert scores.mean() > 0.6  # speaker-independent, chance is about 0.37


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork for speed")
def test_more_workers_than_inputs():
    out = EGeMAPSTransformer(n_jobs=8).transform(FILES[:1])
    assert out.shape == (1, 88)


def test_shortest_clip_is_60_ms():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(SR) * 3000).astype(np.int16)
    egemaps = EGeMAPSTransformer(sampling_rate=SR)
    assert np.isfinite(egemaps.transform([x[:960]])).all()
    with pytest.raises(ValueError, match=r"X\[0\].*too short.*959 samples"):
        egemaps.transform([x[:959]])


# -- reliability checks (issue #18) ---------------------------------------------


def _chunks(data, endian="<"):
    """(id, size, body offset) of the chunks of a RIFF/RIFX file, up to data."""
    chunks, offset = [], 12
    while offset + 8 <= len(data):
        size = int.from_bytes(
            data[offset + 4 : offset + 8], "little" if endian == "<" else "big"
        )
        chunks.append((bytes(data[offset : offset + 4]), size, offset + 8))
        if data[offset : offset + 4] == b"data":
            break
        offset += 8 + size + (size & 1)
    return chunks


def _set_u32(data, offset, value, byteorder="little"):
    data[offset : offset + 4] = value.to_bytes(4, byteorder)


def test_truncated_wav_raises_naming_it(tmp_path, features):
    data = Path(FILES[0]).read_bytes()
    (_, _, _), (_, data_size, start) = _chunks(data)
    half = tmp_path / "half.wav"
    half.write_bytes(data[: len(data) // 2])
    on_disk = len(data) // 2 - start
    for n_jobs in (1, 2):
        egemaps = EGeMAPSTransformer(n_jobs=n_jobs)
        with pytest.raises(ValueError, match="truncated") as info:
            egemaps.transform([FILES[1], str(half)])
        message = str(info.value)
        assert repr(str(half)) in message
        assert f"promises {data_size} bytes" in message
        assert f"only {on_disk} are in the file" in message
    with pytest.warns(UserWarning, match=r"half\.wav.*truncated"):
        out = EGeMAPSTransformer(on_error="nan").transform([FILES[0], str(half)])
    assert np.isnan(out[1]).all()
    np.testing.assert_array_equal(out[0], features[0])


def test_wav_header_variants(tmp_path):
    signal, _ = soundfile.read(FILES[0], dtype="float64")
    expected = EGeMAPSTransformer(sampling_rate=SR).transform([signal])

    def check(name, data, ok):
        path = tmp_path / name
        path.write_bytes(bytes(data))
        if ok:
            got = EGeMAPSTransformer().transform([str(path)])
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
        else:
            with pytest.raises(ValueError, match=rf"{name}.*(truncated|header)"):
                EGeMAPSTransformer().transform([str(path)])

    # 24-bit WAVE_FORMAT_EXTENSIBLE with fact and LIST chunks before data
    wavex = tmp_path / "wavex.wav"
    with soundfile.SoundFile(wavex, "w", SR, 1, "PCM_24", format="WAVEX") as f:
        f.title = "odd"  # a LIST chunk
        f.write(signal)
    data = bytearray(wavex.read_bytes())
    assert [c[0] for c in _chunks(data)] == [b"fmt ", b"fact", b"LIST", b"data"]
    check("wavex_ok.wav", data, ok=True)
    check("wavex_cut.wav", data[:-1000], ok=False)
    # the data size is odd: one byte less only drops the final pad byte
    check("wavex_no_pad.wav", data[:-1], ok=True)
    check("wavex_two_bytes_short.wav", data[:-2], ok=False)

    # big-endian RIFX
    rifx = tmp_path / "rifx.wav"
    soundfile.write(rifx, signal, SR, subtype="PCM_16", endian="BIG")
    data = bytearray(rifx.read_bytes())
    assert data[:4] == b"RIFX"
    check("rifx_ok.wav", data, ok=True)
    check("rifx_cut.wav", data[: len(data) // 2], ok=False)

    # RF64: the sizes are in the ds64 chunk
    rf64 = tmp_path / "rf64.wav"
    soundfile.write(rf64, signal, SR, subtype="PCM_16", format="RF64")
    data = bytearray(rf64.read_bytes())
    assert data[:4] == b"RF64" and _chunks(data)[0][0] == b"ds64"
    check("rf64_ok.wav", data, ok=True)
    check("rf64_cut.wav", data[: len(data) // 2], ok=False)

    # an odd-sized chunk (with its pad byte) before data; a LIST chunk after it
    data = bytearray(Path(FILES[0]).read_bytes())
    junk = b"junk" + (3).to_bytes(4, "little") + b"abc\x00"
    listing = b"LIST" + (4).to_bytes(4, "little") + b"INFO"
    data = data[:36] + junk + data[36:] + listing
    _set_u32(data, 4, len(data) - 8)
    assert [c[0] for c in _chunks(data)] == [b"fmt ", b"junk", b"data"]
    check("odd_chunk.wav", data, ok=True)
    # cutting the chunk after data loses no audio, but the file is damaged
    check("list_cut.wav", data[:-2], ok=False)
    # a writer that omitted the pad byte of the odd chunk: libsndfile rejects it
    unpadded = data[:36] + junk[:-1] + data[36 + len(junk) :]
    _set_u32(unpadded, 4, len(unpadded) - 8)
    (tmp_path / "unpadded.wav").write_bytes(bytes(unpadded))
    with pytest.raises(ValueError, match=r"unpadded\.wav.*not a readable audio"):
        EGeMAPSTransformer().transform([str(tmp_path / "unpadded.wav")])

    # placeholders of writers that could not seek back (ffmpeg to a pipe):
    # 0xFFFFFFFF means "until the end of the file" and is accepted
    data = bytearray(Path(FILES[0]).read_bytes())
    streamed = data.copy()
    _set_u32(streamed, 4, 0xFFFFFFFF)
    _set_u32(streamed, 40, 0xFFFFFFFF)
    check("streamed.wav", streamed, ok=True)
    # SoX's placeholder (MS_UNSPEC), for output it cannot seek back in
    sox = data.copy()
    _set_u32(sox, 4, 0x7FFFF000 + 36)
    _set_u32(sox, 40, 0x7FFFF000)
    check("sox_pipe.wav", sox, ok=True)
    # a data size of 0 with audio after it: libsndfile would read 0 samples
    unfinished = data.copy()
    _set_u32(unfinished, 40, 0)
    path = tmp_path / "unfinished.wav"
    path.write_bytes(bytes(unfinished))
    with pytest.raises(ValueError, match=r"unfinished\.wav.*header.*0 bytes"):
        EGeMAPSTransformer().transform([str(path)])


def test_non_finite_samples_are_named_as_such():
    x = np.sin(np.arange(SR) / 10) / 2
    for value, word in [(np.inf, "infinite"), (-np.inf, "infinite"), (np.nan, "NaN")]:
        bad = x.copy()
        bad[[5, 7]] = value
        with pytest.raises(ValueError, match=rf"X\[0\].*not finite.*2 {word}") as info:
            EGeMAPSTransformer(sampling_rate=SR).transform([bad])
        assert "integer PCM" not in str(info.value)
        assert "sample 5" in str(info.value)


def test_uncreatable_cache_folder():
    for memory in ("/proc/x/cache", Path("/proc/x/cache")):
        with pytest.raises(ValueError, match=r"memory=.*cannot use '/proc/x/cache'"):
            EGeMAPSTransformer(memory=memory).transform(FILES[:1])


def test_silent_clips_warn_once(tmp_path):
    x = _int16(FILES[0])[0] / 32768
    silent = np.zeros(SR)
    below_lsb = np.full(SR, 0.9 / 32768)  # rounds to 0 in 16-bit PCM
    with pytest.warns(UserWarning) as record:
        out = EGeMAPSTransformer(sampling_rate=SR).transform([x, silent, below_lsb])
    messages = [str(w.message) for w in record]
    assert len(messages) == 1, messages
    assert record[0].filename == __file__
    assert "2 of 3 inputs are silent" in messages[0]
    assert "X[1]" in messages[0] and "X[2]" in messages[0]
    assert "X[0]" not in messages[0]
    assert (out[1] == 0).sum() >= 70  # what the warning is about
    # files, also when the rows come from the cache
    path = _write(tmp_path / "silence.wav", np.zeros(SR, dtype=np.int16))
    egemaps = EGeMAPSTransformer(memory=str(tmp_path / "cache"))
    for _ in range(2):
        with pytest.warns(UserWarning, match=r"1 of 2 inputs are silent.*silence\.wav"):
            egemaps.transform([FILES[0], path])


def test_mixed_sampling_rates_warn(tmp_path):
    import audresample

    signal, _ = soundfile.read(FILES[0], dtype="float32")
    low = _write(tmp_path / "low.wav", audresample.resample(signal, SR, 8000)[0], 8000)
    X = [FILES[0], low, FILES[1]]
    with pytest.warns(UserWarning) as record:
        EGeMAPSTransformer().transform(X)
    messages = [str(w.message) for w in record]
    rates = [m for m in messages if "sampling rates" in m]
    assert len(rates) == 1, messages
    assert "8000 Hz (1 file)" in rates[0] and "16000 Hz (2 files)" in rates[0]
    assert "resample" in rates[0]
    assert record[0].filename == __file__
    # converted to one rate: no warning about rates
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        EGeMAPSTransformer(resample=SR).transform(X)
        EGeMAPSTransformer().transform(FILES)


def test_low_resample_rate_warns():
    with pytest.warns(UserWarning, match=r"resample=8000.*16000 Hz") as record:
        EGeMAPSTransformer(resample=8000).fit_transform(FILES[:1])
    assert len(record) == 1 and record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        EGeMAPSTransformer(resample=SR).transform(FILES[:1])
