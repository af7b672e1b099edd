"""``--features egemaps|ssl:MODEL[:LAYER]``: the experiments on speech embeddings.

The model is the tiny random wav2vec 2.0 of ``conftest.tiny_wav2vec2``, the
audio the EmoDB files of ``tests/data``; nothing touches the network. The
expected embeddings are computed directly with ``transformers``.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sklearn_prognet.experiments import ExperimentInputError, _skeleton, load_corpus
from sklearn_prognet.experiments._feature_sets import FeatureSet, parse_features
from sklearn_prognet.experiments._inputs import corpus_to_frame, read_feature_table
from sklearn_prognet.experiments.cli import build_parser, main

DATA = Path(__file__).resolve().parent / "data"
FILES = sorted(DATA.glob("*.wav"))
EMOTION_FILE = {"T": "03a02Ta.wav", "W": "03a02Wc.wav", "F": "09a04Fd.wav",
                "N": "14a02Nc.wav"}  # fmt: skip
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

    Each file is a copy of the real file of its emotion, so that the feature
    cache computes 4 embeddings for the 32.
    """
    wav = tmp_path_factory.mktemp("emodb") / "wav"
    wav.mkdir()
    for speaker in ("03", "08", "09", "10"):
        for text in ("a01", "a02"):
            for letter, name in EMOTION_FILE.items():
                shutil.copy(DATA / name, wav / f"{speaker}{text}{letter}a.wav")
    return wav.parent


# -- the flag ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, model, layer",
    [
        ("ssl:facebook/wav2vec2-base", "facebook/wav2vec2-base", -1),
        ("ssl:microsoft/wavlm-base-plus:6", "microsoft/wavlm-base-plus", 6),
        ("ssl:models/w2v", "models/w2v", -1),
        ("ssl:/data/models/w2v:12", "/data/models/w2v", 12),
        ("ssl:/data/models/w2v:-2", "/data/models/w2v", -2),
        ("ssl:/data/models/w2v:ALL", "/data/models/w2v", "all"),
        # a Windows path: the layer is read after the last ':' only
        ("ssl:C:\\models\\w2v", "C:\\models\\w2v", -1),
        ("ssl:C:\\models\\w2v:all", "C:\\models\\w2v", "all"),
        ("ssl:/data/v1:2024/w2v", "/data/v1:2024/w2v", -1),
    ],
)
def test_ssl_flag_parses(text, model, layer):
    args = build_parser().parse_args(["extract", "emodb:x", "--features", text])
    feature_set = parse_features(args.features)
    assert feature_set == FeatureSet("ssl", model, layer, "mean")
    assert parse_features(feature_set.spec()) == feature_set
    assert feature_set.config() == {
        "kind": "ssl", "model": model, "layer": layer, "pooling": "mean",
    }  # fmt: skip


def test_default_flag_is_egemaps():
    args = build_parser().parse_args(["paralinguistic"])
    assert parse_features(args.features).is_default
    assert parse_features("EGeMAPS") == FeatureSet()


@pytest.mark.parametrize("text", ["mfcc", "ssl", "ssl:", "ssl: :3", "egemaps:x"])
def test_bad_flag_exits_with_usage(text, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["paralinguistic", "--features", text])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "argument --features" in err
    assert "Traceback" not in err


# -- extract ----------------------------------------------------------------------


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


def test_extract_writes_the_embeddings_table(tmp_path, tiny_wav2vec2, capsys):
    wav = tmp_path / "emodb" / "wav"
    wav.mkdir(parents=True)
    for file in FILES:
        shutil.copy(file, wav)
    out = tmp_path / "tables" / "emodb_ssl.csv"
    status, stdout, err = _run(
        ["extract", f"emodb:{wav.parent}", "--features", f"ssl:{tiny_wav2vec2}:1",
         "-o", out, "--cache-dir", "none"], capsys)  # fmt: skip
    assert status == 0, err
    assert "4 utterances x 32 features" in stdout
    table = pd.read_csv(out, dtype={"speaker": str})
    names = [f"layer1_mean_{j}" for j in range(32)]
    assert list(table.columns) == ["file", "emotion", "speaker", "gender", "corpus",
                                   *names]  # fmt: skip
    assert [Path(f).name for f in table["file"]] == [f.name for f in FILES]
    assert table["speaker"].tolist() == ["03", "03", "09", "14"]
    expected = _direct_embeddings(tiny_wav2vec2, table["file"], layer=1)
    np.testing.assert_allclose(table[names], expected, rtol=1e-4, atol=1e-5)
    # read back as the experiments read it
    corpus = load_corpus(out, emotions=None)
    assert corpus.feature_names == names
    np.testing.assert_array_equal(corpus.X, table[names].to_numpy())


def test_extract_default_name_names_the_model(
    tmp_path, emodb_folder, tiny_wav2vec2, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = ["extract", f"emodb:{emodb_folder}", "--features", f"ssl:{tiny_wav2vec2}:0",
            "--emotions", "angry,sad", "--cache-dir", tmp_path / "cache"]  # fmt: skip
    status, _, err = _run(args, capsys)
    assert status == 0, err
    name = Path(tiny_wav2vec2).name
    table = pd.read_csv(tmp_path / f"emodb_{name}_layer0.csv")
    assert sorted(set(table["emotion"])) == ["angry", "sad"]
    assert table.shape == (16, 5 + 32)


# -- experiments ------------------------------------------------------------------


def test_paralinguistic_on_embeddings_end_to_end(
    tmp_path, emodb_folder, tiny_wav2vec2, capsys
):
    out = tmp_path / "out"
    args = ["paralinguistic", "--corpus", f"emodb:{emodb_folder}", "--features",
            f"ssl:{tiny_wav2vec2}:1", "--sources", "speaker", "--cache-dir",
            tmp_path / "cache", "--out", out, *TINY]  # fmt: skip
    status, _, err = _run(args, capsys)
    assert status == 0, err
    saved = json.loads((out / "config.json").read_text())
    assert saved["config"]["features"] == {
        "kind": "ssl", "model": tiny_wav2vec2, "layer": 1, "pooling": "mean",
    }  # fmt: skip
    assert saved["corpus_info"]["n_features"] == 32
    described = f"self-supervised speech embeddings of {tiny_wav2vec2}: layer 1"
    assert described in (out / "report.md").read_text()
    assert described in err  # the progress message
    # another layer is another run: refused in the same folder
    other = [a if a != f"ssl:{tiny_wav2vec2}:1" else f"ssl:{tiny_wav2vec2}:2"
             for a in args]  # fmt: skip
    status, _, err = _run(other, capsys)
    assert status == 2 and "other settings" in err and "features" in err


def test_embedded_emodb_has_no_embeddings(tmp_path, capsys):
    status, _, err = _run(
        ["paralinguistic", "--features", "ssl:facebook/wav2vec2-base", "--out",
         tmp_path / "out", *TINY], capsys)  # fmt: skip
    assert status == 2
    assert "eGeMAPS features only" in err and "emodb:/path/to/emodb" in err
    assert "--features 'ssl:facebook/wav2vec2-base'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "config.json").exists()
    with pytest.raises(ExperimentInputError, match="needs the audio"):
        load_corpus("emodb", features="ssl:facebook/wav2vec2-base:6")


def test_feature_table_is_used_as_it_is(tmp_path):
    path = tmp_path / "emodb.csv"
    corpus_to_frame(load_corpus("emodb")).to_csv(path, index=False)
    with pytest.warns(UserWarning, match="does not apply to the feature table"):
        corpus = load_corpus(path, features="ssl:facebook/wav2vec2-base")
    np.testing.assert_array_equal(corpus.X, read_feature_table(path).X)


@pytest.mark.parametrize(
    "model, message",
    [
        ("sklearn-prognet-tests/no-such-model", "HF_HUB_OFFLINE"),
        ("not a model!", "neither a folder nor a Hugging Face Hub model"),
    ],
)
def test_model_errors_are_one_line(tmp_path, emodb_folder, model, message, capsys):
    status, _, err = _run(
        ["extract", f"emodb:{emodb_folder}", "--features", f"ssl:{model}",
         "-o", tmp_path / "x.csv", "--cache-dir", "none"], capsys)  # fmt: skip
    assert status == 2
    assert err.startswith("sklearn-prognet: error: Feature extraction failed")
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_transformers_is_one_line(tmp_path, emodb_folder, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "transformers", None)  # import fails
    status, _, err = _run(
        ["extract", f"emodb:{emodb_folder}", "--features", "ssl:facebook/x",
         "-o", tmp_path / "x.csv", "--cache-dir", "none"], capsys)  # fmt: skip
    assert status == 2
    assert "pip install 'sklearn-prognet[embeddings]'" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


class _Captured(Exception):
    pass


def _config_of(monkeypatch, tmp_path, **kwargs):
    """The configuration a run would save (stopped before anything is written)."""
    from sklearn_prognet.experiments import run_paralinguistic

    def capture(folder, config, extra, defaults):
        raise _Captured(config)

    monkeypatch.setattr(_skeleton, "ResultsStore", capture)
    with pytest.raises(_Captured) as exc:
        run_paralinguistic(tmp_path, n_splits=3, n_repeats=1, verbose=False,
                           **kwargs)  # fmt: skip
    return exc.value.args[0]


def test_default_features_keep_the_configuration(tmp_path, monkeypatch):
    from sklearn_prognet.experiments._store import config_hash

    before = _config_of(monkeypatch, tmp_path)  # as before the option existed
    explicit = _config_of(monkeypatch, tmp_path, features="egemaps")
    assert "features" not in before
    assert explicit == before and config_hash(explicit) == config_hash(before)
