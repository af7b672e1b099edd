"""Any corpus from a CSV manifest: load_manifest and the experiments' corpus spec."""

import shutil

import numpy as np
import pandas as pd
import pytest

from sklearn_prognet import EGeMAPSTransformer
from sklearn_prognet.datasets import load_manifest, load_urdu
from sklearn_prognet.experiments import load_corpus
from sklearn_prognet.experiments._errors import ExperimentInputError
from tests.conftest import ROOT

WAVS = sorted((ROOT / "tests" / "data").glob("*.wav"))


def _write(path, text):
    path.write_text(text)
    return path


@pytest.fixture
def audio_dir(tmp_path):
    folder = tmp_path / "audio"
    folder.mkdir()
    for wav in WAVS:
        shutil.copy(wav, folder / wav.name)
    return folder


def test_paths_labels_and_columns(tmp_path, audio_dir):
    names = [w.name for w in WAVS]
    absolute = audio_dir / names[3]
    manifest = _write(
        tmp_path / "mine.csv",
        "file,emotion,speaker,gender,valence,extra\n"
        f"audio/{names[0]}, Angry ,01,F,2.5,x\n"
        f"audio/{names[1]},sad,02,,,y\n"
        f"audio/{names[2]},sad,01,m,NaN,z\n"
        f"{absolute},happy,03,male,4,w\n",
    )
    with pytest.warns(UserWarning, match=r"\['extra'\] are ignored"):
        table = load_manifest(manifest)
    expected = pd.DataFrame(
        {
            "file": [str(audio_dir / n) for n in names],
            "emotion": ["angry", "sad", "sad", "happy"],
            "speaker": ["01", "02", "01", "03"],
            "gender": ["f", "", "m", "male"],
            "valence": [2.5, np.nan, np.nan, 4.0],
            "corpus": ["mine"] * 4,
        }
    )
    pd.testing.assert_frame_equal(table, expected)
    with pytest.warns(UserWarning, match="ignored"):
        only = load_manifest(manifest, emotions=["sad"])
    assert list(only["file"]) == [str(audio_dir / n) for n in names[1:3]]
    with pytest.raises(ValueError, match=r"\['fear'\] not in"):
        with pytest.warns(UserWarning, match="ignored"):
            load_manifest(manifest, emotions=["fear"])


def test_missing_files_are_one_error_listing_the_first(tmp_path, audio_dir):
    rows = [f"audio/{WAVS[0].name},sad"] + [f"gone{i}.wav,sad" for i in range(7)]
    manifest = _write(tmp_path / "m.csv", "file,emotion\n" + "\n".join(rows) + "\n")
    with pytest.raises(FileNotFoundError) as error:
        load_manifest(manifest)
    message = str(error.value)
    assert "7 of 8 file(s) do not exist" in message
    assert "gone0.wav" in message and "gone4.wav" in message
    assert "gone5.wav" not in message and "and 2 more" in message


@pytest.mark.parametrize(
    "text, match",
    [
        ("file,emotion\n", "has a header but no rows"),
        ("file,label\na.wav,sad\n", r"no \['emotion'\] column"),
        (
            "file,emotion\na.wav,sad\nb.wav,\n",
            r"'emotion' column is empty on line\(s\) 3",
        ),
        ("file,emotion\na.wav,sad\n./a.wav,sad\n", "lists 1 file"),
        ("file,emotion,arousal\na.wav,sad,1\nb.wav,sad,high\n", "non-numeric .* 3"),
        (
            "file,emotion,speaker\na.wav,sad,\nb.wav,sad,s\n",
            "'speaker' column is empty",
        ),
    ],
)
def test_bad_manifests_name_the_problem(tmp_path, text, match):
    for name in ("a.wav", "b.wav"):
        (tmp_path / name).touch()
    with pytest.raises(ValueError, match=match) as error:
        load_manifest(_write(tmp_path / "m.csv", text))
    assert "m.csv" in str(error.value)


def test_missing_manifest(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.csv"):
        load_manifest(tmp_path / "nothere.csv")


def test_experiments_read_a_manifest_as_an_audio_corpus(tmp_path, audio_dir):
    rows = [f"audio/{w.name},{e},{s}" for w, e, s in
            zip(WAVS, ["sad", "angry", "happy", "neutral"], ["a", "a", "b", "b"],
                strict=True)]  # fmt: skip
    manifest = _write(
        tmp_path / "mine.csv", "file,emotion,speaker\n" + "\n".join(rows) + "\n"
    )
    corpus = load_corpus(manifest, emotions=None, cache_dir="none")
    assert corpus.name == "mine"
    assert list(corpus.emotion) == ["sad", "angry", "happy", "neutral"]
    # the features are those of the extractor on the files, computed apart
    expected = EGeMAPSTransformer().fit_transform(
        [str(audio_dir / w.name) for w in WAVS]
    )
    np.testing.assert_allclose(corpus.X, expected, rtol=1e-6)
    assert corpus.sampling_rates == (16000,)

    no_speaker = _write(
        tmp_path / "ns.csv", "file,emotion\n" + f"audio/{WAVS[0].name},sad\n"
    )
    with pytest.raises(ExperimentInputError, match="no 'speaker' column"):
        load_corpus(no_speaker, emotions=None, cache_dir="none")
    broken = _write(tmp_path / "broken.csv", "file,emotion,speaker\nnope.wav,sad,a\n")
    with pytest.raises(ExperimentInputError, match="nope.wav"):
        load_corpus(broken, emotions=None, cache_dir="none")


def test_a_table_with_feature_columns_stays_a_feature_table(tmp_path):
    table = _write(
        tmp_path / "t.csv",
        "file,emotion,speaker,f1\nx.wav,sad,a,1.0\ny.wav,happy,b,2\n",
    )
    corpus = load_corpus(table, emotions=None)
    assert corpus.feature_names == ["f1"] and corpus.X[:, 0].tolist() == [1.0, 2.0]
    mistaken = _write(
        tmp_path / "s.csv", "file,emotion,speaker,split\nx.wav,sad,a,train\n"
    )
    with pytest.raises(ExperimentInputError, match="read as an audio manifest"):
        load_corpus(mistaken, emotions=None)


@pytest.mark.corpora
def test_a_manifest_of_urdu_lists_what_its_loader_lists(corpora_dir, tmp_path):
    urdu = corpora_dir / "urdu"
    table = load_urdu(urdu, emotions=None)
    listed = table.assign(
        file=[
            f"../{p}" for p in (pd.Series(table["file"]).str.replace(str(urdu), "urdu"))
        ]
    )
    folder = tmp_path / "lists"
    folder.mkdir()
    (tmp_path / "urdu").symlink_to(urdu)
    listed.sample(frac=1, random_state=0).to_csv(folder / "urdu.csv", index=False)
    read = load_manifest(folder / "urdu.csv")
    expected = table.assign(
        file=[p.replace(str(urdu), str(tmp_path / "urdu")) for p in table["file"]]
    )
    pd.testing.assert_frame_equal(read, expected)


def test_extract_command_takes_a_manifest(tmp_path, audio_dir, capsys):
    from sklearn_prognet.experiments.cli import main

    rows = [f"audio/{w.name},sad,s{i % 2}" for i, w in enumerate(WAVS)]
    manifest = _write(
        tmp_path / "mine.csv", "file,emotion,speaker\n" + "\n".join(rows) + "\n"
    )
    out = tmp_path / "features.csv"
    status = main(["extract", str(manifest), "-o", str(out), "--cache-dir", "none"])
    assert status in (0, None), capsys.readouterr().err
    table = pd.read_csv(out)
    assert list(table["file"]) == [str(audio_dir / w.name) for w in WAVS]
    assert list(table["speaker"]) == ["s0", "s1", "s0", "s1"]
    assert list(table.columns[:4]) == ["file", "emotion", "speaker", "corpus"]
    assert table.shape[1] == 4 + 88  # no gender column in, none out
