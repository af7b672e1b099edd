"""Feature fusion (issue #30): ``--features A+B`` and FeatureUnion of extractors.

The audio are the EmoDB files of ``tests/data``, the speech model the tiny
random wav2vec 2.0 of ``conftest.tiny_wav2vec2``; nothing touches the
network. Every expected value is computed without the fusion under test: each
part by its own transformer called alone, the speech embeddings directly with
``transformers``, the per-speaker statistics with numpy.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_prognet.features._features as features_module
from sklearn_prognet import EGeMAPSTransformer
from sklearn_prognet.experiments import ExperimentInputError, load_corpus
from sklearn_prognet.experiments import _feature_sets as feature_sets
from sklearn_prognet.experiments._feature_sets import (
    FeatureSet,
    FusedFeatureSet,
    parse_features,
)
from sklearn_prognet.experiments._fits import feature_rows, make_scaler
from sklearn_prognet.experiments.cli import main

DATA = Path(__file__).resolve().parent / "data"
FILES = sorted(DATA.glob("*.wav"))
EMOTION_FILE = {"T": "03a02Ta.wav", "W": "03a02Wc.wav", "F": "09a04Fd.wav",
                "N": "14a02Nc.wav"}  # fmt: skip
FIRST_EGEMAPS = "F0semitoneFrom27.5Hz_sma3nz_amean"  # openSMILE's first column
TINY = [
    "--n-splits", "3", "--n-repeats", "1", "--hidden-layer-sizes", "8",
    "--max-epochs", "2", "--patience", "2", "--no-progress",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _run(args, capsys):
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def emodb_folder(tmp_path_factory):
    """An EmoDB-named folder: 4 speakers x 4 emotions x 2 texts, 32 files.

    Each file is a copy of the real file of its emotion, so the caches
    compute 4 rows for the 32.
    """
    wav = tmp_path_factory.mktemp("emodb") / "wav"
    wav.mkdir()
    for speaker in ("03", "08", "09", "10"):
        for text in ("a01", "a02"):
            for letter, name in EMOTION_FILE.items():
                shutil.copy(DATA / name, wav / f"{speaker}{text}{letter}a.wav")
    return wav.parent


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory):
    """An EmoDB folder of the 4 real recordings of ``tests/data``."""
    wav = tmp_path_factory.mktemp("emodb4") / "wav"
    wav.mkdir()
    for file in FILES:
        shutil.copy(file, wav)
    return wav.parent


def _direct_embeddings(folder, files, layer):
    """The mean over frames of hidden state ``layer``, computed directly."""
    import soundfile
    import torch
    import transformers

    extractor = transformers.AutoFeatureExtractor.from_pretrained(folder)
    model = transformers.AutoModel.from_pretrained(folder).eval()
    rows = []
    for file in files:
        signal, rate = soundfile.read(file, dtype="float64")
        values = extractor(signal, sampling_rate=rate, return_tensors="pt")
        with torch.no_grad():
            states = model(values.input_values, output_hidden_states=True)
        rows.append(states.hidden_states[layer][0].double().mean(0).numpy())
    return np.array(rows)


# -- parsing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, kinds, stem",
    [
        ("egemaps+ssl:org/w2v:6", ["egemaps", "ssl"], "egemaps+w2v_layer6"),
        ("ssl:org/w2v+egemaps", ["ssl", "egemaps"], "w2v+egemaps"),
        ("egemaps+ssl:a:3+text:bert", ["egemaps", "ssl", "text"],
         "egemaps+a_layer3+bert"),
        ("ssl:a:1+ssl:a:2", ["ssl", "ssl"], "a_layer1+a_layer2"),
        # a '+' that no kind follows belongs to the model's path
        ("ssl:/m/w2v+ft:6+egemaps", ["ssl", "egemaps"], "w2v+ft_layer6+egemaps"),
    ],
)  # fmt: skip
def test_fused_spec_round_trip(text, kinds, stem):
    fused = parse_features(text)
    assert isinstance(fused, FusedFeatureSet) and not fused.is_default
    assert [part.kind for part in fused.parts] == kinds
    assert fused.spec() == text
    assert parse_features(fused.spec()) == fused
    assert fused.file_stem() == stem
    config = fused.config()
    assert config["kind"] == "fused"
    assert config["parts"] == [part.config() for part in fused.parts]


def test_fused_parts_are_the_single_feature_sets():
    fused = parse_features(" EGeMAPS + ssl:org/w2v:-2 ")
    assert fused.parts == (FeatureSet(), FeatureSet("ssl", "org/w2v", -2, "mean"))
    assert fused.config() == {
        "kind": "fused",
        "parts": [
            {"kind": "egemaps"},
            {"kind": "ssl", "model": "org/w2v", "layer": -2, "pooling": "mean"},
        ],
    }
    # a single set is itself, with one part, and keeps its old configuration
    single = parse_features("ssl:org/w2v")
    assert single.parts == (single,)
    assert single.config() == {"kind": "ssl", "model": "org/w2v", "layer": -1,
                               "pooling": "mean"}  # fmt: skip
    assert parse_features("egemaps").config() == {"kind": "egemaps"}


@pytest.mark.parametrize(
    "text, match",
    [
        ("egemaps+egemaps", "'egemaps' twice"),
        ("ssl:a+egemaps+ssl:a:-1", "'ssl:a' twice"),  # -1 is the default layer
        ("egemaps+mfcc", "the part 'mfcc'"),
        ("egemaps+", "the part ''"),
        ("egemaps:x+ssl:a", "the part 'egemaps:x'"),
        ("egemaps+ssl:", "names no model for 'ssl'"),
    ],
)
def test_bad_fused_spec_names_the_part(text, match):
    with pytest.raises(ExperimentInputError, match=match):
        parse_features(text)


def test_bad_fused_flag_exits_with_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["paralinguistic", "--features", "egemaps+mfcc"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --features" in err and "'mfcc'" in err
    assert "Traceback" not in err


# -- a new kind is one entry ------------------------------------------------------


class _FileSize(TransformerMixin, BaseEstimator):
    """A stand-in audio transformer: the size of each file in bytes."""

    def __init__(self, n_jobs=None, memory=None, verbose=0):
        self.n_jobs = n_jobs
        self.memory = memory
        self.verbose = verbose

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.array([[os.path.getsize(f), 1.0] for f in X])

    def get_feature_names_out(self, input_features=None):
        return np.array(["bytes", "one"], dtype=object)


@pytest.fixture
def size_kind(monkeypatch):
    """A kind ``size`` added the way ``dvector`` is: one entry of ``_KINDS``."""
    kinds = {
        **feature_sets._KINDS,
        "size": feature_sets._Kind(
            "tests.test_fusion:_FileSize", "file sizes", usage="'size'"
        ),
    }
    monkeypatch.setattr(feature_sets, "_KINDS", kinds)


def test_a_new_kind_is_one_registry_entry(size_kind, small_folder):
    fused = parse_features("size+egemaps")
    assert fused.spec() == "size+egemaps" and fused.file_stem() == "size+egemaps"
    extractor = fused.parts[0].extractor(n_jobs=2, memory="x", on_error="nan")
    assert extractor.get_params() == {"n_jobs": 2, "memory": "x", "verbose": 0}
    corpus = load_corpus(f"emodb:{small_folder}", emotions=None, features=fused,
                         cache_dir="none")  # fmt: skip
    assert corpus.feature_names[:3] == ["size__bytes", "size__one",
                                        f"egemaps__{FIRST_EGEMAPS}"]  # fmt: skip
    sizes = [os.path.getsize(f) for f in corpus.files]
    np.testing.assert_array_equal(corpus.X[:, 0], sizes)
    assert corpus.description.endswith("file sizes + eGeMAPS v02 features (openSMILE)")


def test_missing_kind_module_is_an_error_naming_it(monkeypatch):
    kinds = {
        **feature_sets._KINDS,
        "xvector": feature_sets._Kind(
            "sklearn_prognet._no_such_module:XVector", "x", usage="'xvector'"
        ),
    }
    monkeypatch.setattr(feature_sets, "_KINDS", kinds)
    with pytest.raises(ExperimentInputError, match=r"'xvector' needs XVector"):
        parse_features("egemaps+xvector")
    # and the error of a bad spec does not offer it
    with pytest.raises(ExperimentInputError) as exc:
        parse_features("mfcc")
    assert "xvector" not in str(exc.value) and "'egemaps'" in str(exc.value)


# -- extraction -------------------------------------------------------------------


@pytest.fixture(scope="module")
def fused_corpus(small_folder, tiny_wav2vec2):
    """egemaps + layer 1 of the tiny model on the 4 recordings (no cache)."""
    return load_corpus(f"emodb:{small_folder}", emotions=None, cache_dir="none",
                       features=f"egemaps+ssl:{tiny_wav2vec2}:1")  # fmt: skip


def test_fused_columns_are_the_parts_side_by_side(fused_corpus, tiny_wav2vec2):
    files = list(fused_corpus.files)
    egemaps = EGeMAPSTransformer()
    expected_egemaps = egemaps.fit_transform(files)
    expected_ssl = _direct_embeddings(tiny_wav2vec2, files, layer=1)
    n = expected_egemaps.shape[1]
    assert fused_corpus.X.shape == (4, n + 32)
    np.testing.assert_array_equal(fused_corpus.X[:, :n], expected_egemaps)
    np.testing.assert_allclose(fused_corpus.X[:, n:], expected_ssl, rtol=1e-4,
                               atol=1e-5)  # fmt: skip
    names = fused_corpus.feature_names
    assert names[0] == f"egemaps__{FIRST_EGEMAPS}"
    assert names[:n] == [f"egemaps__{x}" for x in egemaps.get_feature_names_out()]
    assert names[n:] == [f"ssl__layer1_mean_{j}" for j in range(32)]
    assert fused_corpus.description.endswith(
        f"eGeMAPS v02 features (openSMILE) + self-supervised speech embeddings "
        f"of {tiny_wav2vec2}: layer 1, mean pooling"
    )
    # eGeMAPS depends on the rate: the cross-corpus check of rates applies
    assert fused_corpus.sampling_rates == (16000,)


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory):
    """4 speakers x 12 files, each speaker a different mix of the 4 recordings.

    The speakers' means then differ, so a per-speaker scaler that fell back
    to global statistics would be noticed; 12 rows is above
    SpeakerStandardScaler's ``min_samples``.
    """
    wav = tmp_path_factory.mktemp("mixed") / "wav"
    wav.mkdir()
    letters = list(EMOTION_FILE)
    for k, speaker in enumerate(("03", "08", "09", "10")):
        mix = [letters[(k + j) % 4] for j in range(3)]  # 3 of the 4, rotated
        for i in range(12):
            letter = mix[i % 3]
            name = f"{speaker}a{i:02d}{letter}a.wav"
            shutil.copy(DATA / EMOTION_FILE[letter], wav / name)
    return wav.parent


def test_speaker_normalisation_of_fused_features(mixed_folder, tiny_wav2vec2, tmp_path):
    corpus = load_corpus(f"emodb:{mixed_folder}", emotions=None,
                         cache_dir=tmp_path / "cache",
                         features=f"egemaps+ssl:{tiny_wav2vec2}:1")  # fmt: skip
    X, speaker = corpus.X, corpus.speaker
    assert X.shape == (48, 88 + 32)
    scaled = make_scaler("speaker").fit_transform(
        feature_rows(X, speaker, None, "speaker")
    )
    expected = np.empty_like(X)
    for who in np.unique(speaker):  # numpy, per speaker and column
        rows = speaker == who
        mean, std = X[rows].mean(0), X[rows].std(0)
        std[std == 0] = 1.0
        expected[rows] = (X[rows] - mean) / std
    np.testing.assert_allclose(scaled, expected, atol=1e-8)
    # per speaker is not global, in both blocks
    overall = StandardScaler().fit_transform(X)
    for block in (slice(0, 88), slice(88, None)):
        assert not np.allclose(scaled[:, block], overall[:, block], atol=1e-3)


class _Counter:
    def __init__(self):
        self.calls = 0

    def wrap(self, function):
        def counted(*args, **kwargs):
            self.calls += 1
            return function(*args, **kwargs)

        return counted


def test_cache_works_per_part(small_folder, tiny_wav2vec2, tmp_path, monkeypatch):
    import sklearn_prognet.features._embeddings as embeddings_module

    egemaps, ssl = _Counter(), _Counter()
    monkeypatch.setattr(features_module, "_compute",
                        egemaps.wrap(features_module._compute))  # fmt: skip
    monkeypatch.setattr(embeddings_module, "_embed",
                        ssl.wrap(embeddings_module._embed))  # fmt: skip
    cache = tmp_path / "cache"
    spec = f"emodb:{small_folder}"
    alone = load_corpus(spec, emotions=None, cache_dir=cache, features="egemaps")
    assert (egemaps.calls, ssl.calls) == (4, 0)
    # adding a part computes that part only
    fused = load_corpus(spec, emotions=None, cache_dir=cache,
                        features=f"egemaps+ssl:{tiny_wav2vec2}")  # fmt: skip
    assert (egemaps.calls, ssl.calls) == (4, 4)
    np.testing.assert_array_equal(fused.X[:, : alone.X.shape[1]], alone.X)
    # the same parts in another order: all cached
    swapped = load_corpus(spec, emotions=None, cache_dir=cache,
                          features=f"ssl:{tiny_wav2vec2}+egemaps")  # fmt: skip
    assert (egemaps.calls, ssl.calls) == (4, 4)
    np.testing.assert_array_equal(swapped.X[:, -alone.X.shape[1] :], alone.X)


def test_text_part_needs_a_transcript_column(small_folder):
    with pytest.raises(ExperimentInputError, match=r"'transcript' column.*has none"):
        load_corpus(f"emodb:{small_folder}", emotions=None, cache_dir="none",
                    features="egemaps+text:some/bert")  # fmt: skip


def test_embedded_emodb_has_no_fused_features():
    with pytest.raises(ExperimentInputError, match="egemaps\\+ssl:org/w2v"):
        load_corpus("emodb", features="egemaps+ssl:org/w2v")


# -- FeatureUnion in Python -------------------------------------------------------


def test_feature_union_of_audio_transformers(emodb_folder, tiny_wav2vec2, tmp_path):
    from sklearn_prognet import DNNClassifier, SpeechEmbeddingTransformer
    from sklearn_prognet.datasets import load_emodb

    table = load_emodb(emodb_folder)
    union = FeatureUnion([
        ("egemaps", EGeMAPSTransformer(memory=tmp_path)),
        ("ssl", SpeechEmbeddingTransformer(model=tiny_wav2vec2, layer=1,
                                           memory=tmp_path)),
    ])  # fmt: skip
    clf = make_pipeline(union, StandardScaler(),
                        DNNClassifier(max_epochs=2, random_state=0))  # fmt: skip
    clf.fit(table["file"], table["emotion"])
    assert set(clf.predict(table["file"])) <= set(table["emotion"])
    names = union.get_feature_names_out()
    assert (
        names[0] == f"egemaps__{FIRST_EGEMAPS}" and names[-1] == "ssl__layer1_mean_31"
    )
    # the same rows as each transformer alone, as a DataFrame too
    union.set_output(transform="pandas")
    frame = union.transform(table["file"][:4])
    assert list(frame.columns) == list(names)
    alone = EGeMAPSTransformer(memory=tmp_path).transform(table["file"][:4])
    np.testing.assert_array_equal(frame.iloc[:, : alone.shape[1]], alone)


# -- the command line -------------------------------------------------------------


def test_extract_writes_the_fused_table(
    small_folder, tiny_wav2vec2, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    status, out, err = _run(
        ["extract", f"emodb:{small_folder}", "--features",
         f"egemaps+ssl:{tiny_wav2vec2}:1", "--emotions", "angry,sad,happy,neutral",
         "--cache-dir", tmp_path / "cache"], capsys)  # fmt: skip
    assert status == 0, err
    path = tmp_path / f"emodb_egemaps+{Path(tiny_wav2vec2).name}_layer1.csv"
    table = pd.read_csv(path, dtype={"speaker": str})
    meta = ["file", "emotion", "speaker", "gender", "corpus"]
    assert list(table.columns[:6]) == [*meta, f"egemaps__{FIRST_EGEMAPS}"]
    assert table.columns[-1] == "ssl__layer1_mean_31"
    separate = EGeMAPSTransformer().fit_transform(table["file"])
    n = separate.shape[1]
    assert f"4 utterances x {n + 32} features" in out
    np.testing.assert_allclose(table.iloc[:, 5 : 5 + n], separate, rtol=1e-6)
    # read back as the experiments read it
    corpus = load_corpus(path, emotions=None)
    assert corpus.feature_names == list(table.columns[5:])


def test_fused_run_saves_its_features_and_resumes(
    emodb_folder, tiny_wav2vec2, tmp_path, capsys
):
    out = tmp_path / "out"
    features = f"egemaps+ssl:{tiny_wav2vec2}:1"
    args = ["paralinguistic", "--corpus", f"emodb:{emodb_folder}", "--features",
            features, "--sources", "speaker", "--normalization", "speaker",
            "--cache-dir", tmp_path / "cache", "--out", out, *TINY]  # fmt: skip
    status, _, err = _run(args, capsys)
    assert status == 0, err
    saved = json.loads((out / "config.json").read_text())
    assert saved["config"]["features"] == {
        "kind": "fused",
        "parts": [
            {"kind": "egemaps"},
            {"kind": "ssl", "model": tiny_wav2vec2, "layer": 1, "pooling": "mean"},
        ],
    }
    assert saved["config"]["normalization"] == "speaker"
    assert saved["corpus_info"]["n_features"] == 88 + 32
    scores = {p.name: p.read_bytes() for p in out.iterdir() if p.suffix == ".jsonl"}
    assert scores
    # the same command again: every fit is already saved
    status, _, err = _run(args, capsys)
    assert status == 0, err
    assert "Resuming" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()
            if p.suffix == ".jsonl"} == scores  # fmt: skip
    # the parts in another order are other features: another run
    other = [a if a != features else f"ssl:{tiny_wav2vec2}:1+egemaps" for a in args]
    status, _, err = _run(other, capsys)
    assert status == 2 and "other settings" in err and "features" in err


# -- transcripts, and the other experiments ---------------------------------------

SENTENCES = ["der hund ist weg", "ich bin froh", "nein", "das ist gut so"]


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory):
    """A tiny random BERT model and its WordPiece tokenizer in a folder."""
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    folder = tmp_path_factory.mktemp("bert")
    words = sorted({w for s in SENTENCES for w in s.split()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    transformers.BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    config = transformers.BertConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=16, max_position_embeddings=16,
    )  # fmt: skip
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        transformers.BertModel(config).save_pretrained(folder)
    return str(folder)


def test_text_part_embeds_the_transcript_column(small_folder, bert_dir, monkeypatch):
    import torch
    import transformers

    from sklearn_prognet import datasets

    load_emodb = datasets.load_emodb

    def with_transcripts(path, **kwargs):  # a loader whose corpus has them
        table = load_emodb(path, **kwargs)
        return table.assign(transcript=SENTENCES[: len(table)])

    monkeypatch.setattr(datasets, "load_emodb", with_transcripts)
    corpus = load_corpus(f"emodb:{small_folder}", emotions=None, cache_dir="none",
                         features=f"egemaps+text:{bert_dir}")  # fmt: skip
    assert corpus.feature_names[88:] == [f"text__layer1_mean_{j}" for j in range(16)]
    np.testing.assert_array_equal(
        corpus.X[:, :88], EGeMAPSTransformer().fit_transform(list(corpus.files))
    )
    tokenizer = transformers.AutoTokenizer.from_pretrained(bert_dir)
    model = transformers.AutoModel.from_pretrained(bert_dir).eval()
    for row, sentence in zip(corpus.X, SENTENCES, strict=True):
        with torch.no_grad():
            states = model(**tokenizer(sentence, return_tensors="pt"),
                           output_hidden_states=True).hidden_states  # fmt: skip
        expected = states[-1][0].double().mean(0).numpy()
        np.testing.assert_allclose(row[88:], expected, rtol=1e-4, atol=1e-5)


class _Captured(Exception):
    pass


@pytest.fixture(scope="module")
def quiet_folder(tmp_path_factory):
    """A URDU-named corpus, disjoint from ``emodb_folder``: 4 other speakers,
    the EmoDB recordings at half their amplitude."""
    import soundfile

    root = tmp_path_factory.mktemp("urdu")
    folders = {"W": ("Angry", "A"), "F": ("Happy", "H"), "N": ("Neutral", "N"),
               "T": ("Sad", "S")}  # fmt: skip
    for speaker in ("SM1", "SM2", "SF3", "SF4"):
        for letter, name in EMOTION_FILE.items():
            folder, code = folders[letter]
            (root / folder).mkdir(exist_ok=True)
            signal, rate = soundfile.read(DATA / name)
            path = root / folder / f"{speaker}_F01_{code}01.wav"
            soundfile.write(path, signal / 2, rate)
    return root


def test_cross_and_multi_corpus_take_fused_features(
    size_kind, quiet_folder, emodb_folder, tmp_path, monkeypatch
):
    from sklearn_prognet.experiments import (
        _skeleton,
        run_cross_corpus,
        run_multi_corpus,
    )

    def capture(folder, config, extra, defaults):
        raise _Captured(config, extra)

    monkeypatch.setattr(_skeleton, "ResultsStore", capture)
    corpora = [f"emodb:{emodb_folder}", f"urdu:{quiet_folder}"]
    expected = {"kind": "fused", "parts": [{"kind": "egemaps"}, {"kind": "size"}]}
    common = {"n_splits": 3, "n_repeats": 1, "verbose": False,
              "cache_dir": tmp_path / "cache", "features": "egemaps+size"}  # fmt: skip
    with pytest.raises(_Captured) as exc:
        run_cross_corpus(tmp_path / "cc", *corpora, emotions=None, **common)
    assert exc.value.args[0]["features"] == expected
    with pytest.raises(_Captured) as exc:
        run_multi_corpus(tmp_path / "mc", corpora, emotions=None, **common)
    assert exc.value.args[0]["features"] == expected


def test_dvector_part(small_folder):
    from sklearn_prognet import SpeakerEncoderTransformer

    corpus = load_corpus(
        f"emodb:{small_folder}", emotions=None, cache_dir="none",
        features="egemaps+dvector",
    )  # fmt: skip
    names = [f"dvector__dvector_{j}" for j in range(256)]
    assert corpus.feature_names[88:] == names
    alone = SpeakerEncoderTransformer().fit_transform(list(corpus.files))
    np.testing.assert_allclose(corpus.X[:, 88:], alone, rtol=1e-6)
    assert parse_features("egemaps+dvector").file_stem() == "egemaps+dvector"
    assert parse_features("dvector").config() == {"kind": "dvector"}
